package rpctest_test

import (
	"github.com/virtvboxd/virtvboxd/internal/driver"
	"os"
	"strings"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"github.com/digitalocean/go-libvirt/socket/dialers"

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
		rpctest.FakeDomain{Name: "alpine", State: driver.StateRunning},
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
	h := rpctest.NewServer(t, rpctest.WithDomains(rpctest.FakeDomain{Name: "alpine", State: driver.StateRunning,
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
	if err != nil || state != uint8(driver.StateRunning) || maxMem != 1<<20 || mem != 1<<20 || ncpu != 2 {
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

// TestGoLibvirtDomainProcedures drives the domain and host procedures the
// fake driver implements through go-libvirt.
func TestGoLibvirtDomainProcedures(t *testing.T) {
	h := rpctest.NewServer(t, rpctest.WithDomains(
		rpctest.FakeDomain{Name: "alpine", State: driver.StateRunning, UUID: [16]byte{1}, MemoryKiB: 1 << 20, VCPUs: 2},
		rpctest.FakeDomain{Name: "debian", UUID: [16]byte{2}},
	))
	dialRW := func(path string) *libvirt.Libvirt {
		l := libvirt.NewWithDialer(dialers.NewLocal(dialers.WithSocket(path), dialers.WithLocalTimeout(5*time.Second)))
		if err := l.ConnectToURI("vbox:///session"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Disconnect() })
		return l
	}
	l := dialRW(h.Socket)

	if typ, err := l.ConnectGetType(); err != nil || typ != "VBOX" {
		t.Errorf("type %q %v", typ, err)
	}
	if v, err := l.ConnectGetVersion(); err != nil || v != 7000014 {
		t.Errorf("version %d %v", v, err)
	}
	if model, mem, cpus, _, _, _, _, _, err := l.NodeGetInfo(); err != nil || mem != 8<<20 || cpus != 4 ||
		string(int8sToBytes(model[:6])) != "x86_64" {
		t.Errorf("node info %v %d %d %v", model, mem, cpus, err)
	}
	if n, err := l.ConnectNumOfDomains(); err != nil || n != 1 {
		t.Errorf("num of domains %d %v", n, err)
	}
	if ids, err := l.ConnectListDomains(10); err != nil || len(ids) != 1 || ids[0] != 1 {
		t.Errorf("list domains %v %v", ids, err)
	}
	if n, err := l.ConnectNumOfDefinedDomains(); err != nil || n != 1 {
		t.Errorf("num of defined %d %v", n, err)
	}
	if names, err := l.ConnectListDefinedDomains(10); err != nil || len(names) != 1 || names[0] != "debian" {
		t.Errorf("list defined %v %v", names, err)
	}
	debian, err := l.DomainLookupByUUID(libvirt.UUID{2})
	if err != nil || debian.Name != "debian" || debian.ID != -1 {
		t.Fatalf("lookup by uuid %+v %v", debian, err)
	}
	alpine, err := l.DomainLookupByID(1)
	if err != nil || alpine.Name != "alpine" {
		t.Fatalf("lookup by id %+v %v", alpine, err)
	}
	if x, err := l.DomainGetXMLDesc(alpine, 0); err != nil || !strings.Contains(x, "<name>alpine</name>") {
		t.Errorf("xml %q %v", x, err)
	}
	if err := l.DomainCreate(debian); err != nil {
		t.Fatal(err)
	}
	if st, _, err := l.DomainGetState(debian, 0); err != nil || st != int32(driver.StateRunning) {
		t.Errorf("state after create %d %v", st, err)
	}
	if active, err := l.DomainIsActive(debian); err != nil || active != 1 {
		t.Errorf("is active %d %v", active, err)
	}
	if err := l.DomainDestroy(debian); err != nil {
		t.Fatal(err)
	}
	err = l.DomainDestroy(debian)
	if err == nil || !strings.Contains(err.Error(), "Requested operation is not valid: domain is not running") {
		t.Errorf("destroy twice: %v", err)
	}
	if model, doi, err := l.NodeGetSecurityModel(); err != nil || len(model) != 0 || len(doi) != 0 {
		t.Errorf("security model %v %v %v", model, doi, err)
	}

	// Read-only: the secure XML flag is refused, plain XML is not.
	ro := dialRW(h.ROSocket)
	if _, err := ro.DomainGetXMLDesc(alpine, libvirt.DomainXMLSecure); err == nil ||
		!strings.Contains(err.Error(), "operation forbidden: virDomainGetXMLDesc with secure flag") {
		t.Errorf("secure xml on ro: %v", err)
	}
	if _, err := ro.DomainGetXMLDesc(alpine, 0); err != nil {
		t.Errorf("xml on ro: %v", err)
	}
	if err := ro.DomainSetAutostart(alpine, 1); err == nil ||
		!strings.Contains(err.Error(), "operation forbidden: read only access prevents virDomainSetAutostart") {
		t.Errorf("set autostart on ro: %v", err)
	}
}

func int8sToBytes(v []int8) []byte {
	b := make([]byte, len(v))
	for i, c := range v {
		b[i] = byte(c)
	}
	return b
}
