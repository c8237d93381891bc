package rpctest_test

import (
	"os"
	"strings"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"github.com/digitalocean/go-libvirt/socket/dialers"

	"github.com/virtvboxd/virtvboxd/internal/rpc"
	"github.com/virtvboxd/virtvboxd/internal/rpc/rpctest"
)

// python returns Debian's python3, the one with the libvirt module.
func python(t *testing.T) string {
	t.Helper()
	const p = "/usr/bin/python3"
	if _, _, ok := run(t, p, "-c", "import libvirt"); !ok {
		if os.Getenv("VIRTVBOXD_E2E_REQUIRE") == "1" {
			t.Fatalf("%s with the libvirt module is required", p)
		}
		t.Skipf("%s has no libvirt module", p)
	}
	return p
}

const pyScript = `
import sys, libvirt
rw, ro = sys.argv[1], sys.argv[2]
c = libvirt.open(rw)
print("libversion", c.getLibVersion())
print("hostname", c.getHostname())
print("type", c.getType())
print("domains", sorted(d.name() for d in c.listAllDomains()))
c.close()
r = libvirt.openReadOnly(ro)
print("ro domains", sorted(d.name() for d in r.listAllDomains()))
d = r.lookupByName("alpine")
try:
    d.destroy()
    print("destroy allowed")
except libvirt.libvirtError as e:
    print("denied", e.get_error_code(), e.get_error_domain(), e.get_error_message())
r.close()
`

func TestPythonLibvirt(t *testing.T) {
	py := python(t)
	h := rpctest.NewServer(t, rpctest.WithDomains(
		rpctest.FakeDomain{Name: "alpine", State: rpc.StateRunning},
		rpctest.FakeDomain{Name: "debian"},
	))
	out := mustRun(t, py, "-c", pyScript, uri(h.Socket), uri(h.ROSocket))
	want := []string{
		"libversion 9000000",
		"hostname fakehost.example",
		"type VBOX",
		"domains ['alpine', 'debian']",
		"ro domains ['alpine', 'debian']",
		"denied 29 20 operation forbidden: read only access prevents virDomainDestroy",
	}
	if got := strings.Split(strings.TrimSpace(out), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("python output:\n%s\nwant:\n%s", out, strings.Join(want, "\n"))
	}
	// Both connections were closed and released.
	waitFor(t, func() bool { o, c, _ := h.Driver.Stats(); return o == 2 && c == 2 })
}

func TestGoLibvirt(t *testing.T) {
	h := rpctest.NewServer(t, rpctest.WithDomains(rpctest.FakeDomain{Name: "alpine", State: rpc.StateRunning,
		MemoryKiB: 1 << 20, VCPUs: 2}))
	l := libvirt.NewWithDialer(dialers.NewLocal(dialers.WithSocket(h.Socket), dialers.WithLocalTimeout(5*time.Second)))
	if err := l.ConnectToURI("vbox:///session"); err != nil {
		t.Fatal(err)
	}
	defer l.Disconnect()

	if v, err := l.ConnectGetLibVersion(); err != nil || v != 9000000 {
		t.Errorf("lib version = %d, %v", v, err)
	}
	if name, err := l.ConnectGetHostname(); err != nil || name != "fakehost.example" {
		t.Errorf("hostname = %q, %v", name, err)
	}
	dom, err := l.DomainLookupByName("alpine")
	if err != nil {
		t.Fatal(err)
	}
	state, maxMem, mem, ncpu, _, err := l.DomainGetInfo(dom)
	if err != nil || state != uint8(rpc.StateRunning) || maxMem != 1<<20 || mem != 1<<20 || ncpu != 2 {
		t.Errorf("info = %d %d %d %d, %v", state, maxMem, mem, ncpu, err)
	}
	_, err = l.DomainLookupByName("nosuch")
	var lerr libvirt.Error
	if !asLibvirtError(err, &lerr) || lerr.Code != uint32(libvirt.ErrNoDomain) ||
		lerr.Message != "Domain not found: no domain with matching name 'nosuch'" {
		t.Errorf("lookup nosuch: %#v", err)
	}
	// A procedure the driver lacks.
	if err := l.DomainReboot(dom, 0); err == nil ||
		!strings.Contains(err.Error(), "this function is not supported by the connection driver: virDomainReboot") {
		t.Errorf("reboot: %v", err)
	}
}

func asLibvirtError(err error, target *libvirt.Error) bool {
	e, ok := err.(libvirt.Error)
	if ok {
		*target = e
	}
	return ok
}
