// Package e2e drives the built binaries the way users do: the stock virsh,
// virt-admin and python3-libvirt talk to bin/virtvboxd over its real sockets,
// and the daemon drives bin/vboxsim standing in for VBoxManage.
//
// Under `make check` VIRTVBOXD_E2E_REQUIRE=1 is set, and a missing client tool
// fails the suite instead of skipping it.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/virtvboxd/virtvboxd/internal/daemontest"
)

// binDir holds virtvboxd and vboxsim for the whole test binary.
var binDir string

func TestMain(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	d, err := daemontest.Locate()
	if err != nil {
		return 0, err
	}
	defer daemontest.Cleanup()
	binDir = d
	return m.Run(), nil
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// requireTool returns the path of a client tool, failing under make check and
// skipping elsewhere when it is missing.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("VIRTVBOXD_E2E_REQUIRE") == "1" {
		t.Fatalf("%s is required by the end-to-end tests (apt-get install libvirt-clients python3-libvirt): %v", name, err)
	}
	t.Skipf("%s not installed", name)
	return ""
}

// requirePythonLibvirt returns Debian's python3 when it can import libvirt.
func requirePythonLibvirt(t testing.TB) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import libvirt").Run(); err == nil {
		return py
	}
	if os.Getenv("VIRTVBOXD_E2E_REQUIRE") == "1" {
		t.Fatalf("%s cannot import libvirt (apt-get install python3-libvirt)", py)
	}
	t.Skip("python3-libvirt not installed")
	return ""
}

// sim is one simulated VirtualBox installation: a state directory and the
// environment that selects it (daemontest.Sim under the names the tests use).
type sim struct {
	Home    string // VBOXSIM_HOME
	Version string // VBOXSIM_VERSION
	BinDir  string // holds VBoxManage -> vboxsim
}

func newSim(t testing.TB, dir, version string) *sim {
	t.Helper()
	s := daemontest.NewSim(t, dir, version, filepath.Join(binDir, "vboxsim"))
	return &sim{Home: s.Home, Version: s.Version, BinDir: s.BinDir}
}

func (s *sim) ds() *daemontest.Sim {
	return &daemontest.Sim{Home: s.Home, Version: s.Version, BinDir: s.BinDir, VBoxSim: filepath.Join(binDir, "vboxsim")}
}

// Env is the environment the simulator reads.
func (s *sim) Env() []string { return s.ds().Env() }

// VBoxManage runs the simulator as a user would run VBoxManage by hand.
func (s *sim) VBoxManage(t testing.TB, args ...string) (string, string, error) {
	t.Helper()
	return s.ds().VBoxManage(t, args...)
}

// mustVBoxManage is VBoxManage that fails the test on error.
func (s *sim) mustVBoxManage(t testing.TB, args ...string) string {
	t.Helper()
	return s.ds().MustVBoxManage(t, args...)
}

// Seed creates n varied VMs, k of them running.
func (s *sim) Seed(t testing.TB, n, k int) {
	t.Helper()
	s.ds().Seed(t, n, k)
}

// invocations counts the VBoxManage calls in the simulator's log.
func (s *sim) invocations(t testing.TB) int {
	t.Helper()
	return s.ds().Invocations(t)
}

// daemon is a running bin/virtvboxd with its own sockets, config and pid file.
type daemon struct {
	Dir     string
	Config  string
	PidFile string
	RW      string
	RO      string // empty when not served
	Admin   string
	Log     string
	Sim     *sim

	proc *daemontest.Process
	cmd  *exec.Cmd  // nil once stopped
	done chan error // the daemon's exit
	env  []string   // extra environment of the daemon alone (withDaemonEnv)
}

type daemonOpt func(*daemonSettings)

type daemonSettings struct {
	simVersion string
	extraConf  string
	faults     bool     // VBoxManage is a wrapper taking VBOXSIM_FAULTS from a file (withFaults)
	env        []string // extra environment of the daemon alone
}

func withSimVersion(v string) daemonOpt { return func(s *daemonSettings) { s.simVersion = v } }
func withConfig(lines string) daemonOpt {
	return func(s *daemonSettings) { s.extraConf += lines + "\n" }
}

// withDaemonEnv adds environment entries (simulator knobs such as
// VBOXSIM_FAULTS) to the daemon alone, and so to the VBoxManage it runs; the
// test's own d.Sim.VBoxManage calls do not see them.
func withDaemonEnv(kv ...string) daemonOpt {
	return func(s *daemonSettings) { s.env = append(s.env, kv...) }
}

// startDaemon starts bin/virtvboxd in the foreground against a fresh simulator.
func startDaemon(t testing.TB, opts ...daemonOpt) *daemon {
	t.Helper()
	var set daemonSettings
	for _, o := range opts {
		o(&set)
	}
	dir, err := os.MkdirTemp("", "vvd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	d := &daemon{Dir: dir, Sim: newSim(t, dir, set.simVersion), env: set.env}
	d.restartSetup(t, set)
	d.start(t)
	return d
}

func (d *daemon) restartSetup(t testing.TB, set daemonSettings) {
	t.Helper()
	sock := filepath.Join(d.Dir, "s")
	if err := os.MkdirAll(sock, 0o755); err != nil {
		t.Fatal(err)
	}
	d.Config = filepath.Join(d.Dir, "virtvboxd.conf")
	d.PidFile = filepath.Join(d.Dir, "virtvboxd.pid")
	d.Log = filepath.Join(d.Dir, "virtvboxd.log")
	d.RW = filepath.Join(sock, "virtvboxd-sock")
	d.RO = filepath.Join(sock, "virtvboxd-sock-ro")
	d.Admin = filepath.Join(sock, "virtvboxd-admin-sock")
	vboxManage := filepath.Join(d.Sim.BinDir, "VBoxManage")
	if set.faults {
		vboxManage = d.writeFaultWrapper(t)
	}
	conf := fmt.Sprintf("unix_sock_dir = %q\nvboxmanage_path = %q\nlog_outputs = %q\n%s",
		sock, vboxManage, "1:file:"+d.Log, set.extraConf)
	if err := os.WriteFile(d.Config, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (d *daemon) start(t testing.TB) {
	t.Helper()
	env := append(d.Sim.Env(), "XDG_RUNTIME_DIR="+filepath.Join(d.Dir, "xdg-run"), "XDG_CONFIG_HOME="+filepath.Join(d.Dir, "xdg-conf"))
	env = append(env, d.env...)
	p := daemontest.Launch(t, filepath.Join(binDir, "virtvboxd"), env, "-f", d.Config, "-p", d.PidFile)
	d.use(t, p)
	p.WaitReady(t, 10*time.Second)
}

// use makes p the daemon's process, stopped at cleanup.
func (d *daemon) use(t testing.TB, p *daemontest.Process) {
	done := make(chan error, 1)
	d.proc, d.cmd, d.done = p, p.Cmd, done
	go func() { done <- p.Err() }()
	t.Cleanup(func() { d.stop(t) })
}

// stop sends SIGTERM and waits for a clean exit.
func (d *daemon) stop(t testing.TB) {
	t.Helper()
	if d.cmd == nil {
		return
	}
	d.proc.Stop(t, 15*time.Second)
	d.cmd = nil
}

// restart stops the daemon and starts a new one on the same sockets and simulator.
func (d *daemon) restart(t testing.TB) {
	t.Helper()
	d.stop(t)
	d.start(t)
}

// URI is the connection URI for the stock clients.
func (d *daemon) URI() string { return "vbox:///session?socket=" + d.RW }

// virsh runs virsh against the daemon and returns stdout, stderr and the error.
func (d *daemon) virsh(t testing.TB, args ...string) (string, string, error) {
	t.Helper()
	virsh := requireTool(t, "virsh")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, virsh, append([]string{"-c", d.URI()}, args...)...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LIBVIRT_AUTOSTART=0")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// mustVirsh runs virsh and fails the test if it fails.
func (d *daemon) mustVirsh(t testing.TB, args ...string) string {
	t.Helper()
	out, errs, err := d.virsh(t, args...)
	if err != nil {
		t.Fatalf("virsh %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, out, errs)
	}
	return out
}

// virshFails runs virsh, requires it to fail, and returns its stderr.
func (d *daemon) virshFails(t testing.TB, args ...string) string {
	t.Helper()
	out, errs, err := d.virsh(t, args...)
	if err == nil {
		t.Fatalf("virsh %s succeeded, want failure\nstdout: %s", strings.Join(args, " "), out)
	}
	return errs
}

// python runs a python3-libvirt script from testdata with the URI as argv[1].
func (d *daemon) python(t testing.TB, script string, args ...string) string {
	t.Helper()
	py := requirePythonLibvirt(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, append([]string{filepath.Join("testdata", script), d.URI()}, args...)...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LIBVIRT_AUTOSTART=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3 %s: %v\n%s", script, err, out)
	}
	return string(out)
}

// contains fails the test unless s contains every want.
func contains(t testing.TB, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s: missing %q in:\n%s", what, w, s)
		}
	}
}

// restartSetupConfig replaces the daemon's config file (for SIGHUP tests).
func (d *daemon) restartSetupConfig(t testing.TB, conf string) {
	t.Helper()
	if err := os.WriteFile(d.Config, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
}
