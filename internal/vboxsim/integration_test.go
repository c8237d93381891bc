package vboxsim_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	virtualbox "github.com/terra-farm/go-virtualbox"

	"github.com/virtvboxd/virtvboxd/internal/vboxsim"
)

// simBin is the built simulator; vboxManageDir holds a VBoxManage symlink to
// it. Both are made on first use (buildSim), so fuzz workers and unit tests
// do not pay for a build.
var (
	simBin, vboxManageDir string
	buildOnce             sync.Once
	buildErr              error
	tmpDir                string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if tmpDir != "" {
		os.RemoveAll(tmpDir)
	}
	os.Exit(code)
}

// buildSim builds the simulator (or takes $VIRTVBOXD_BIN_DIR/vboxsim) once.
func buildSim(t *testing.T) {
	t.Helper()
	buildOnce.Do(func() { buildErr = doBuild() })
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

func doBuild() error {
	dir, err := os.MkdirTemp("", "vboxsim-bin")
	if err != nil {
		return err
	}
	tmpDir = dir
	simBin = filepath.Join(dir, "vboxsim")
	if bd := os.Getenv("VIRTVBOXD_BIN_DIR"); bd != "" {
		if _, err := os.Stat(filepath.Join(bd, "vboxsim")); err == nil {
			simBin = filepath.Join(bd, "vboxsim")
		}
	}
	if simBin == filepath.Join(dir, "vboxsim") {
		out, err := exec.Command("go", "build", "-o", simBin, "../../cmd/vboxsim").CombinedOutput()
		if err != nil {
			return fmt.Errorf("build simulator: %v\n%s", err, out)
		}
	}
	vboxManageDir = filepath.Join(dir, "path")
	if err := os.MkdirAll(vboxManageDir, 0o755); err != nil {
		return err
	}
	return os.Symlink(simBin, filepath.Join(vboxManageDir, "VBoxManage"))
}

// simEnv returns the environment for simulator processes with a fresh state dir.
func simEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	buildSim(t)
	home := t.TempDir()
	env := []string{"VBOXSIM_HOME=" + home, "VBOXSIM_LATENCY=0", "VBOXSIM_COLD_START=0", "VBOXSIM_LOCK_LINGER=0",
		"VBOXSIM_VERSION=7.0", "HOME=" + home, "PATH=" + os.Getenv("PATH")}
	return append(env, extra...)
}

type result struct {
	stdout, stderr string
	code           int
	signaled       bool
}

// vbm runs the simulator as VBoxManage.
func vbm(ctx context.Context, env []string, args ...string) result {
	return runSim(exec.CommandContext(ctx, filepath.Join(vboxManageDir, "VBoxManage"), args...), env)
}

// runSim runs a simulator process in env and collects its output and exit
// status (-1 when it could not run).
func runSim(cmd *exec.Cmd, env []string) result {
	cmd.Env = env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	r := result{stdout: o.String(), stderr: e.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.signaled = true
		}
	} else if err != nil {
		r.code = -1
		r.stderr += err.Error()
	}
	return r
}

func mustVBM(t *testing.T, env []string, args ...string) string {
	t.Helper()
	r := vbm(context.Background(), env, args...)
	if r.code != 0 {
		t.Fatalf("VBoxManage %q: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

func homeOf(env []string) string {
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "VBOXSIM_HOME="); ok {
			return v
		}
	}
	return ""
}

// TestGoVirtualBox drives the simulator with go-virtualbox v0.0.4 and shows
// that Modify() fails as reference §7 says it does against real VirtualBox.
func TestGoVirtualBox(t *testing.T) {
	env := simEnv(t, "VBOXSIM_ACPI_DELAY=300ms")
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		if k == "PATH" {
			v = vboxManageDir + string(os.PathListSeparator) + v
		}
		t.Setenv(k, v) // go-virtualbox runs VBoxManage with the process environment
	}
	// go-virtualbox caches the VBoxManage path on first use: PATH is set above.
	m, err := virtualbox.CreateMachine("gv one", "")
	if err != nil {
		t.Fatalf("CreateMachine: %v", err)
	}
	if m.State != virtualbox.Poweroff || m.Memory != 128 || m.CPUs != 1 || len(m.NICs) != 1 || m.NICs[0].Network != virtualbox.NICNetNAT {
		t.Fatalf("created machine: %+v", m)
	}
	if _, err := virtualbox.CreateMachine("gv one", ""); err != virtualbox.ErrMachineExist {
		t.Fatalf("second CreateMachine: %v, want ErrMachineExist", err)
	}
	if _, err := virtualbox.CreateMachine("gv two", ""); err != nil {
		t.Fatal(err)
	}
	ms, err := virtualbox.ListMachines()
	if err != nil || len(ms) != 2 || ms[0].Name != "gv one" || ms[1].Name != "gv two" {
		t.Fatalf("ListMachines: %v %+v", err, ms)
	}
	if _, err := virtualbox.GetMachine("nosuch"); err != virtualbox.ErrMachineNotExist {
		t.Fatalf("GetMachine(nosuch): %v, want ErrMachineNotExist", err)
	}

	// Lifecycle.
	if err := m.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := m.Refresh(); err != nil || m.State != virtualbox.Running {
		t.Fatalf("after Start: %v %s", err, m.State)
	}
	if err := m.Pause(); err != nil {
		t.Fatal(err)
	}
	m.Refresh()
	if m.State != virtualbox.Paused {
		t.Fatalf("after Pause: %s", m.State)
	}
	if err := m.Start(); err != nil { // resume
		t.Fatal(err)
	}
	m.Refresh()
	if err := m.Save(); err != nil {
		t.Fatal(err)
	}
	m.Refresh()
	if m.State != virtualbox.Saved {
		t.Fatalf("after Save: %s", m.State)
	}
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	m.Refresh()
	if err := m.Stop(); err != nil { // acpipowerbutton until poweroff
		t.Fatalf("Stop: %v", err)
	}
	if m.State != virtualbox.Poweroff {
		t.Fatalf("after Stop: %s", m.State)
	}
	if err := m.SetExtraData("FRONTEND/Type", "vrdp"); err != nil {
		t.Fatal(err)
	}
	if v, err := m.GetExtraData("FRONTEND/Type"); err != nil || v == nil || *v != "vrdp" {
		t.Fatalf("GetExtraData: %v %v", err, v)
	}

	// Modify(): always passes --synthcpu, which VirtualBox 6.1/7.x do not know:
	// exit 1 and nothing is saved.
	m.OSType = "Ubuntu_64"
	m.Memory = 4096
	err = m.Modify()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("Modify: %v, want exit status 1", err)
	}
	entries, err := vboxsim.ReadLog(homeOf(env))
	if err != nil || len(entries) == 0 {
		t.Fatalf("log: %v", err)
	}
	last := entries[len(entries)-1]
	if last.Argv[0] != "modifyvm" || last.Exit != 1 || !contains(last.Argv, "--synthcpu") {
		t.Fatalf("last call: %+v", last)
	}
	r := vbm(context.Background(), env, last.Argv...) // the same argv, to read the message
	if r.code != 1 || !strings.Contains(r.stderr, "VBoxManage: error: Unknown option: --synthcpu\n") {
		t.Fatalf("modifyvm with --synthcpu: exit %d\n%s", r.code, r.stderr)
	}
	fresh, err := virtualbox.GetMachine("gv one")
	if err != nil || fresh.Memory != 128 {
		t.Fatalf("Modify saved something: %v memory=%d", err, fresh.Memory)
	}
	// With OSType empty (GetMachine never sets it) the call stops earlier, at --ostype "".
	fresh.Memory = 4096
	if err := fresh.Modify(); !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("Modify with empty OSType: %v", err)
	}
	if again, _ := virtualbox.GetMachine("gv one"); again.Memory != 128 {
		t.Fatalf("memory changed to %d", again.Memory)
	}

	// Delete() = Poweroff() then unregistervm --delete at once: fine with no lock linger.
	m.Refresh()
	if err := m.Start(); err != nil {
		t.Fatal(err)
	}
	m.Refresh()
	if err := m.Delete(); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if ms, _ := virtualbox.ListMachines(); len(ms) != 1 {
		t.Fatalf("after Delete: %+v", ms)
	}
	// With the post-poweroff lock linger of real VirtualBox, the same Delete()
	// fails at unregistervm (reference §4.6/§6).
	t.Setenv("VBOXSIM_LOCK_LINGER", "1h")
	two, err := virtualbox.GetMachine("gv two")
	if err != nil {
		t.Fatal(err)
	}
	if err := two.Start(); err != nil {
		t.Fatal(err)
	}
	two.Refresh()
	if err := two.Delete(); !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("Delete during lock linger: %v, want exit status 1", err)
	}
	entries, _ = vboxsim.ReadLog(homeOf(env))
	if last := entries[len(entries)-1]; last.Argv[0] != "unregistervm" || last.Exit != 1 {
		t.Fatalf("last call: %+v", last)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestConcurrency runs 32 simulator processes at once against one state
// dir: writers and readers on one hot VM, writers on distinct VMs, creators
// and listers. Distinct VMs never see lock errors; on the hot VM a writer may
// only fail with VirtualBox's write-lock error; the final state is consistent.
func TestConcurrency(t *testing.T) {
	env := simEnv(t, "VBOXSIM_LATENCY=15ms")
	mustVBM(t, env, "createvm", "--name", "hot", "--register")
	for i := 0; i < 8; i++ {
		mustVBM(t, env, "createvm", "--name", fmt.Sprintf("own-%d", i), "--register")
	}
	type call struct {
		kind string
		i    int
		args []string
	}
	var calls []call
	for i := 0; i < 8; i++ {
		calls = append(calls, call{"hotwrite", i, []string{"modifyvm", "hot", "--description", fmt.Sprintf("writer %d", i)}})
		calls = append(calls, call{"hotread", i, []string{"showvminfo", "hot", "--machinereadable"}})
		calls = append(calls, call{"ownwrite", i, []string{"modifyvm", fmt.Sprintf("own-%d", i), "--cpus", fmt.Sprint(i + 2), "--memory", fmt.Sprint(256 * (i + 1))}})
	}
	for i := 0; i < 4; i++ {
		calls = append(calls, call{"create", i, []string{"createvm", "--name", fmt.Sprintf("new-%d", i), "--register"}})
		calls = append(calls, call{"list", i, []string{"list", "vms"}})
	}
	if len(calls) != 32 {
		t.Fatalf("%d calls", len(calls))
	}
	results := make([]result, len(calls))
	var wg sync.WaitGroup
	start := make(chan struct{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = vbm(ctx, env, c.args...)
		}()
	}
	close(start)
	wg.Wait()

	lockErr := "VBoxManage: error: The machine 'hot' is already locked for a session (or being unlocked)\n"
	var hotWinners []string
	for i, c := range calls {
		r := results[i]
		switch c.kind {
		case "hotwrite":
			if r.code == 0 {
				hotWinners = append(hotWinners, fmt.Sprintf("writer %d", c.i))
			} else if r.code != 1 || !strings.HasPrefix(r.stderr, lockErr) {
				t.Errorf("%q: exit %d, want 0 or the write-lock error:\n%s", c.args, r.code, r.stderr)
			}
		case "hotread":
			if r.code != 0 || !strings.HasPrefix(r.stdout, "name=\"hot\"\n") || !strings.Contains(r.stdout, "\nVMState=\"poweroff\"\n") {
				t.Errorf("%q: exit %d\n%s%s", c.args, r.code, r.stdout, r.stderr)
			}
		default:
			if r.code != 0 {
				t.Errorf("%q: exit %d\n%s", c.args, r.code, r.stderr)
			}
			if c.kind == "list" {
				for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
					if !strings.HasPrefix(l, "\"") || !strings.HasSuffix(l, "}") {
						t.Errorf("list vms line %q", l)
					}
				}
			}
		}
	}
	if len(hotWinners) == 0 {
		t.Fatal("no writer of the hot VM succeeded")
	}
	out := mustVBM(t, env, "showvminfo", "hot", "--machinereadable")
	desc := ""
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, "description="); ok {
			desc = strings.Trim(v, "\"")
		}
	}
	if !contains(hotWinners, desc) {
		t.Errorf("hot description %q is not from a successful writer %q", desc, hotWinners)
	}
	for i := 0; i < 8; i++ {
		out := mustVBM(t, env, "showvminfo", fmt.Sprintf("own-%d", i), "--machinereadable")
		if !strings.Contains(out, fmt.Sprintf("\ncpus=%d\n", i+2)) || !strings.Contains(out, fmt.Sprintf("\nmemory=%d\n", 256*(i+1))) {
			t.Errorf("own-%d lost its update:\n%s", i, out)
		}
	}
	list := mustVBM(t, env, "list", "vms")
	if n := strings.Count(list, "\n"); n != 13 {
		t.Errorf("list vms has %d VMs, want 13:\n%s", n, list)
	}
	leases, _ := filepath.Glob(filepath.Join(homeOf(env), "sessions", "*"))
	if len(leases) != 0 {
		t.Errorf("session leases left behind: %v", leases)
	}
	if entries, _ := vboxsim.ReadLog(homeOf(env)); len(entries) != 9+32+10 {
		t.Errorf("invocation log has %d entries, want %d", len(entries), 9+32+10)
	}
}

// TestFaults checks each injected fault kind on a real process.
func TestFaults(t *testing.T) {
	env := simEnv(t, "VBOXSIM_FAULTS=showvminfo=hang,startvm=crash,list=garbage,modifyvm=error,getextradata=svcdown")
	mustVBM(t, env, "createvm", "--name", "f", "--register")

	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if r := vbm(ctx, env, "showvminfo", "f"); !r.signaled || ctx.Err() == nil {
		t.Errorf("hang: %+v (the call must be killed by the caller's timeout)", r)
	}
	if r := vbm(context.Background(), env, "startvm", "f"); !r.signaled || r.stdout != "" {
		t.Errorf("crash: %+v", r)
	}
	if r := vbm(context.Background(), env, "list", "vms"); r.code != 0 || len(r.stdout) < 64 || strings.Contains(r.stdout, "\"f\"") {
		t.Errorf("garbage: exit %d, %d bytes", r.code, len(r.stdout))
	}
	if r := vbm(context.Background(), env, "modifyvm", "f", "--memory", "512"); r.code != 1 || !strings.HasPrefix(r.stderr, "VBoxManage: error: ") {
		t.Errorf("error: %+v", r)
	}
	if r := vbm(context.Background(), env, "getextradata", "f", "k"); r.code != 1 || !strings.Contains(r.stderr, "Failed to create the VirtualBox object!") {
		t.Errorf("svcdown: %+v", r)
	}
	// The state is untouched by faults.
	clean := env[:len(env)-1]
	if out := mustVBM(t, clean, "showvminfo", "f", "--machinereadable"); !strings.Contains(out, "\nmemory=128\n") || !strings.Contains(out, "VMState=\"poweroff\"") {
		t.Errorf("state after faults:\n%s", out)
	}
	entries, _ := vboxsim.ReadLog(homeOf(env))
	var crashed int
	for _, e := range entries {
		if e.Exit == -9 {
			crashed++
		}
	}
	if crashed != 1 {
		t.Errorf("crash entries in the log: %d", crashed)
	}
}

// TestFaultsExitZero checks the two faults that exit 0 without doing
// anything: noop (silent) and error0 (an error block on stderr, as some
// Windows builds of VBoxManage do after a failed power-up).
func TestFaultsExitZero(t *testing.T) {
	env := simEnv(t, "VBOXSIM_FAULTS=startvm=noop,controlvm=error0")
	mustVBM(t, env, "createvm", "--name", "z", "--register")
	if r := vbm(context.Background(), env, "startvm", "z", "--type", "headless"); r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Errorf("noop: %+v", r)
	}
	clean := env[:len(env)-1]
	if out := mustVBM(t, clean, "showvminfo", "z", "--machinereadable"); !strings.Contains(out, "VMState=\"poweroff\"") {
		t.Fatalf("noop started the machine:\n%s", out)
	}
	mustVBM(t, clean, "startvm", "z", "--type", "headless")
	if r := vbm(context.Background(), env, "controlvm", "z", "pause"); r.code != 0 || !strings.HasPrefix(r.stderr, "VBoxManage: error: ") {
		t.Errorf("error0: %+v", r)
	}
	if out := mustVBM(t, clean, "showvminfo", "z", "--machinereadable"); !strings.Contains(out, "VMState=\"running\"") {
		t.Errorf("error0 paused the machine:\n%s", out)
	}
	mustVBM(t, clean, "controlvm", "z", "poweroff")
}

// TestAdminCommands covers vboxsim seed/log/reset through the binary name.
func TestAdminCommands(t *testing.T) {
	env := simEnv(t)
	admin := func(args ...string) result { return runSim(exec.Command(simBin, args...), env) }
	if r := admin("seed", "--count", "30", "--running", "4", "--seed", "3"); r.code != 0 {
		t.Fatalf("seed: %+v", r)
	}
	vms := mustVBM(t, env, "list", "vms")
	if strings.Count(vms, "\n") != 30 {
		t.Fatalf("seeded list:\n%s", vms)
	}
	running := mustVBM(t, env, "list", "runningvms")
	if n := strings.Count(running, "\n"); n < 4 {
		t.Errorf("runningvms: %d lines, want at least 4 (paused VMs count too)", n)
	}
	long := mustVBM(t, env, "list", "-l", "vms")
	for _, want := range []string{"State:                       saved", "NIC 2:", "Storage Controllers:", "* Snapshots:"} {
		if !strings.Contains(long, want) {
			t.Errorf("seeded inventory lacks %q", want)
		}
	}
	if r := admin("--version"); r.code != 0 || r.stdout != "7.0.20r163906\n" {
		t.Errorf("vboxsim --version: %+v", r)
	}
	r := admin("log", "--count")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "4" { // list vms, list runningvms, list -l vms, --version; seed is not logged
		t.Errorf("log --count: %+v", r)
	}
	if r := admin("log", "--count", "--command", "list"); strings.TrimSpace(r.stdout) != "3" {
		t.Errorf("log --count --command list: %+v", r)
	}
	if r := admin("reset"); r.code != 0 {
		t.Fatalf("reset: %+v", r)
	}
	if out := mustVBM(t, env, "list", "vms"); out != "" {
		t.Errorf("after reset: %q", out)
	}
}
