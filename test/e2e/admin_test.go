package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// virtAdmin runs the stock virt-admin against the daemon's admin socket.
func (d *daemon) virtAdmin(t testing.TB, args ...string) (string, error) {
	t.Helper()
	va := requireTool(t, "virt-admin")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, va, append([]string{"-q", "-c", "virtvboxd:///system?socket=" + d.Admin}, args...)...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (d *daemon) mustVirtAdmin(t testing.TB, args ...string) string {
	t.Helper()
	out, err := d.virtAdmin(t, args...)
	if err != nil {
		t.Fatalf("virt-admin %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// The built daemon serves both its servers to virt-admin, and the ro socket
// to virsh -r, with the configuration it was given.
func TestDaemonAdminAndReadOnly(t *testing.T) {
	d := startDaemon(t, withConfig("max_workers = 7\nmax_clients = 321"))
	if os.Geteuid() != 0 {
		t.Skip("the ro socket and unix_sock_dir admin socket exist only for root daemons")
	}
	contains(t, "srv-list", d.mustVirtAdmin(t, "srv-list"), "virtvboxd", "admin")
	contains(t, "srv-threadpool-info", d.mustVirtAdmin(t, "srv-threadpool-info", "virtvboxd"), "maxWorkers", "7")
	contains(t, "srv-clients-info", d.mustVirtAdmin(t, "srv-clients-info", "virtvboxd"), "nclients_max", "321")
	d.mustVirtAdmin(t, "srv-threadpool-set", "virtvboxd", "--max-workers", "9")
	contains(t, "srv-threadpool-info after set", d.mustVirtAdmin(t, "srv-threadpool-info", "virtvboxd"), "9")
	contains(t, "daemon-log-outputs", d.mustVirtAdmin(t, "daemon-log-outputs"), "file:"+d.Log)

	d.mustVirsh(t, "define", "testdata/web01.xml")
	ro := requireTool(t, "virsh")
	out, err := exec.Command(ro, "-q", "-r", "-c", "vbox:///system?socket="+d.RO, "list", "--all").CombinedOutput()
	if err != nil {
		t.Fatalf("virsh -r list --all on the ro socket: %v\n%s", err, out)
	}
	contains(t, "virsh -r list", string(out), "web01")
	out, err = exec.Command(ro, "-q", "-c", "vbox:///system?socket="+d.RO, "start", "web01").CombinedOutput()
	if err == nil {
		t.Fatalf("start through the ro socket succeeded:\n%s", out)
	}
	contains(t, "start on ro socket", string(out), "operation forbidden: read only access prevents virDomainCreate")
}
