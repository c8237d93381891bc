package daemontest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Sim is one simulated VirtualBox installation: a state directory, the
// environment that selects it, and a VBoxManage link to vboxsim.
type Sim struct {
	Home    string // VBOXSIM_HOME
	Version string // VBOXSIM_VERSION; "" is the simulator's default
	BinDir  string // holds VBoxManage -> vboxsim
	VBoxSim string // the vboxsim binary
}

// NewSim makes a simulator under dir (dir/vbox, dir/vbin) running vboxsim.
func NewSim(t testing.TB, dir, version, vboxsim string) *Sim {
	t.Helper()
	s := &Sim{Home: filepath.Join(dir, "vbox"), Version: version, BinDir: filepath.Join(dir, "vbin"), VBoxSim: vboxsim}
	for _, d := range []string{s.Home, s.BinDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(vboxsim, s.VBoxManagePath()); err != nil {
		t.Fatal(err)
	}
	return s
}

// VBoxManagePath is the VBoxManage the daemon is configured with.
func (s *Sim) VBoxManagePath() string { return filepath.Join(s.BinDir, "VBoxManage") }

// Env is the environment the simulator reads: no latency, no VBoxSVC cold
// start, a quick guest.
func (s *Sim) Env() []string {
	env := []string{"VBOXSIM_HOME=" + s.Home, "VBOXSIM_LATENCY=0", "VBOXSIM_COLD_START=0", "VBOXSIM_ACPI_DELAY=200ms"}
	if s.Version != "" {
		env = append(env, "VBOXSIM_VERSION="+s.Version)
	}
	return env
}

// VBoxManage runs the simulator as a user would run VBoxManage by hand.
func (s *Sim) VBoxManage(t testing.TB, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(s.VBoxManagePath(), args...)
	cmd.Env = append(os.Environ(), s.Env()...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// MustVBoxManage is VBoxManage that fails the test on error.
func (s *Sim) MustVBoxManage(t testing.TB, args ...string) string {
	t.Helper()
	out, errs, err := s.VBoxManage(t, args...)
	if err != nil {
		t.Fatalf("VBoxManage %q: %v\n%s", args, err, errs)
	}
	return out
}

// Seed creates n varied VMs, k of them running.
func (s *Sim) Seed(t testing.TB, n, k int) {
	t.Helper()
	cmd := exec.Command(s.VBoxSim, "seed", "--count", fmt.Sprint(n), "--running", fmt.Sprint(k))
	cmd.Env = append(os.Environ(), s.Env()...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("vboxsim seed: %v\n%s", err, out)
	}
}

// Invocations counts the VBoxManage calls in the simulator's log.
func (s *Sim) Invocations(t testing.TB) int {
	t.Helper()
	cmd := exec.Command(s.VBoxSim, "log", "--count")
	cmd.Env = append(os.Environ(), s.Env()...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("vboxsim log --count: %v", err)
	}
	var n int
	if _, err := fmt.Sscan(strings.TrimSpace(string(out)), &n); err != nil {
		t.Fatalf("vboxsim log --count printed %q", out)
	}
	return n
}
