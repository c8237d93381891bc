package rpctest_test

import (
	"context"
	"github.com/virtvboxd/virtvboxd/internal/driver"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/virtvboxd/virtvboxd/internal/rpc/rpctest"
)

// tool returns the path of an external client, skipping (or failing under
// VIRTVBOXD_E2E_REQUIRE=1) when it is missing.
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("VIRTVBOXD_E2E_REQUIRE") == "1" {
			t.Fatalf("%s is required: %v", name, err)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// run runs a client with a clean environment and a timeout; it returns
// stdout, stderr and whether it exited 0.
func run(t *testing.T, name string, args ...string) (string, string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LC_ALL=C",
		"LIBVIRT_AUTOSTART=0"}
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %v timed out", name, args)
	}
	return stdout.String(), stderr.String(), err == nil
}

func mustRun(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, errOut, ok := run(t, name, args...)
	if !ok {
		t.Fatalf("%s %s failed:\nstdout: %s\nstderr: %s", name, strings.Join(args, " "), out, errOut)
	}
	return out
}

func uri(path string) string { return "vbox:///session?socket=" + path }

func TestVirshConnection(t *testing.T) {
	virsh := tool(t, "virsh")
	h := rpctest.NewServer(t)

	out := mustRun(t, virsh, "-c", uri(h.Socket), "version")
	for _, want := range []string{"Using library: libvirt 9.0.0", "Using API: VBOX 9.0.0",
		"Running hypervisor: VBOX 7.0.14"} {
		if !strings.Contains(out, want) {
			t.Errorf("virsh version: missing %q in:\n%s", want, out)
		}
	}
	// The remote driver answers virConnectGetURI itself, with the URI it was
	// given.
	if out := mustRun(t, virsh, "-c", uri(h.Socket), "uri"); strings.TrimSpace(out) != uri(h.Socket) {
		t.Errorf("virsh uri = %q", out)
	}
	if out := mustRun(t, virsh, "-c", uri(h.Socket), "hostname"); strings.TrimSpace(out) != "fakehost.example" {
		t.Errorf("virsh hostname = %q", out)
	}
}

func TestVirshList(t *testing.T) {
	virsh := tool(t, "virsh")
	empty := rpctest.NewServer(t)
	out := mustRun(t, virsh, "-c", uri(empty.Socket), "list", "--all")
	if strings.Contains(out, "running") || strings.Contains(out, "shut off") ||
		!strings.Contains(out, " Id   Name   State") {
		t.Errorf("list --all on an empty host:\n%s", out)
	}

	h := rpctest.NewServer(t, rpctest.WithDomains(
		rpctest.FakeDomain{Name: "alpine", State: driver.StateRunning, UUID: [16]byte{1}},
		rpctest.FakeDomain{Name: "debian", UUID: [16]byte{2}},
	))
	out = mustRun(t, virsh, "-c", uri(h.Socket), "list", "--all")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("list --all:\n%s", out)
	}
	if f := strings.Fields(lines[2]); strings.Join(f, " ") != "1 alpine running" {
		t.Errorf("row 1 = %q", lines[2])
	}
	if f := strings.Fields(lines[3]); strings.Join(f, " ") != "- debian shut off" {
		t.Errorf("row 2 = %q", lines[3])
	}
	// The same through the read-only socket, and with -r on the rw socket.
	if ro := mustRun(t, virsh, "-c", uri(h.ROSocket), "list", "--all"); ro != out {
		t.Errorf("ro socket list differs:\n%s", ro)
	}
	if ro := mustRun(t, virsh, "-r", "-c", uri(h.Socket), "list", "--all"); ro != out {
		t.Errorf("virsh -r list differs:\n%s", ro)
	}
}

func TestVirshReadOnlyDenied(t *testing.T) {
	virsh := tool(t, "virsh")
	h := rpctest.NewServer(t, rpctest.WithDomains(rpctest.FakeDomain{Name: "alpine", State: driver.StateRunning}))
	for _, c := range []struct {
		name string
		args []string
	}{
		{"ro socket", []string{"-c", uri(h.ROSocket), "destroy", "alpine"}},
		{"virsh -r", []string{"-r", "-c", uri(h.Socket), "destroy", "alpine"}},
		{"ro socket shutdown", []string{"-c", uri(h.ROSocket), "shutdown", "alpine"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, ok := run(t, virsh, c.args...)
			if ok {
				t.Fatalf("succeeded: %s", out)
			}
			if !strings.Contains(errOut, "operation forbidden: read only access prevents virDomain") {
				t.Errorf("stderr: %s", errOut)
			}
		})
	}
	// The domain is still running.
	out := mustRun(t, virsh, "-c", uri(h.Socket), "domstate", "alpine")
	if strings.TrimSpace(out) != "running" {
		t.Errorf("domstate = %q", out)
	}
}
