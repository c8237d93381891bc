package vbox

import (
	"context"
	"errors"
	"fmt"
	"github.com/virtvboxd/virtvboxd/internal/driver"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// simBin is the simulator executable, named VBoxManage; vboxsimBin is the
// same program under the name that enables its admin commands (seed, log).
var simBin, vboxsimBin string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "vboxdrv")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	simBin = filepath.Join(dir, "VBoxManage")
	if bin := os.Getenv("VIRTVBOXD_BIN_DIR"); bin != "" {
		if _, err := os.Stat(filepath.Join(bin, "vboxsim")); err == nil {
			if err := os.Symlink(filepath.Join(bin, "vboxsim"), simBin); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
	}
	if _, err := os.Stat(simBin); err != nil {
		// The simulator tests are most of this package's driver tests: a
		// simulator that does not build fails the package, never skips.
		root, err := moduleRoot()
		if err != nil {
			fmt.Fprintln(os.Stderr, "cannot build the simulator:", err)
			return 1
		}
		cmd := exec.Command("go", "build", "-o", simBin, "./cmd/vboxsim")
		cmd.Dir = root
		if out, berr := cmd.CombinedOutput(); berr != nil {
			fmt.Fprintf(os.Stderr, "building the simulator failed: %v\n%s", berr, out)
			return 1
		}
	}
	vboxsimBin = filepath.Join(dir, "vboxsim")
	if err := os.Symlink(simBin, vboxsimBin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found")
		}
		dir = parent
	}
}

// countingRunner counts the VBoxManage processes started through it. When
// fault is set, a call for which it returns a VBOXSIM_FAULTS spec runs with
// that fault injected.
type countingRunner struct {
	r     Runner
	n     atomic.Int64
	fault atomic.Pointer[func(args []string) string]

	mu   sync.Mutex
	cmds []string
}

func (c *countingRunner) Run(ctx context.Context, args ...string) ([]byte, []byte, error) {
	c.n.Add(1)
	c.mu.Lock()
	c.cmds = append(c.cmds, strings.Join(args, " "))
	c.mu.Unlock()
	if f := c.fault.Load(); f != nil {
		if spec := (*f)(args); spec == lostAnswer {
			// The command ran, but its caller never learnt how it went.
			out, errOut, _ := c.r.Run(ctx, args...)
			return out, errOut, &CmdError{Args: args, ExitCode: -1, Kind: KindCrashed, Err: errors.New("signal: killed")}
		} else if spec != "" {
			if er, ok := c.r.(*ExecRunner); ok {
				faulty := *er
				faulty.Env = append(append([]string(nil), er.Env...), "VBOXSIM_FAULTS="+spec)
				return faulty.Run(ctx, args...)
			}
		}
	}
	return c.r.Run(ctx, args...)
}

// lostAnswer, returned by an injectFaults function, runs the command and
// then reports it killed: a VBoxManage that acted but whose answer was lost.
const lostAnswer = "lost-answer"

// injectFaults makes the driver's calls for which f returns a fault spec
// (`kind` or `cmd=kind`, VBOXSIM_FAULTS syntax) fail that way; nil mends.
func (s *simEnv) injectFaults(f func(args []string) string) {
	if f == nil {
		s.runner.fault.Store(nil)
		return
	}
	s.runner.fault.Store(&f)
}

func (c *countingRunner) reset() int64 { return c.n.Swap(0) }

// simEnv is one simulated VirtualBox installation.
type simEnv struct {
	t      testing.TB
	home   string
	env    []string
	runner *countingRunner
	drv    *Driver
	conn   driver.Conn
}

type simOpt func(*simConfig)

type simConfig struct {
	version  string
	env      []string
	timeout  time.Duration
	stateDir string
	maxAge   time.Duration
	watch    time.Duration // watcher interval; 0: no watcher
	linger   time.Duration
}

func withEnv(kv ...string) simOpt        { return func(c *simConfig) { c.env = append(c.env, kv...) } }
func withTimeout(d time.Duration) simOpt { return func(c *simConfig) { c.timeout = d } }
func withStateDir(dir string) simOpt     { return func(c *simConfig) { c.stateDir = dir } }
func withVersion(v string) simOpt        { return func(c *simConfig) { c.version = v } }
func withMaxAge(d time.Duration) simOpt  { return func(c *simConfig) { c.maxAge = d } }

// withWatch runs the inventory's watcher every interval (newSim's driver
// has none by default, so that process counts are the readers' alone).
func withWatch(interval, linger time.Duration) simOpt {
	return func(c *simConfig) { c.watch, c.linger = interval, linger }
}
func withHome(home string) simOpt {
	return func(c *simConfig) { c.env = append(c.env, "VBOXSIM_HOME="+home) }
}

// newSim starts a driver against a fresh simulator home and opens a
// vbox:///session connection.
func newSim(t testing.TB, opts ...simOpt) *simEnv {
	t.Helper()
	if simBin == "" {
		t.Fatal("no simulator: TestMain did not build it")
	}
	cfg := simConfig{version: "7.0", timeout: 30 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	home := t.TempDir()
	env := []string{"VBOXSIM_HOME=" + home, "VBOXSIM_LATENCY=0", "VBOXSIM_COLD_START=0",
		"VBOXSIM_VERSION=" + cfg.version, "VBOXSIM_ACPI_DELAY=0", "VBOXSIM_LOCK_LINGER=0"}
	env = append(env, cfg.env...)
	for _, kv := range cfg.env {
		if h, ok := strings.CutPrefix(kv, "VBOXSIM_HOME="); ok {
			home = h
		}
	}
	cr := &countingRunner{r: &ExecRunner{Path: simBin, Timeout: cfg.timeout, Env: env}}
	watch, linger := cfg.watch, cfg.linger
	if watch == 0 {
		watch = -1
	}
	if linger == 0 {
		linger = -1
	}
	log := logrus.New()
	log.SetOutput(testWriter{t})
	log.SetLevel(logrus.DebugLevel)
	drv, err := NewDriver(Options{VBoxManagePath: simBin, Timeout: cfg.timeout, StateDir: cfg.stateDir,
		Log: logrus.NewEntry(log), Runner: cr, MaxAge: cfg.maxAge, WatchInterval: watch, WatchLinger: linger})
	if err != nil {
		t.Fatal(err)
	}
	s := &simEnv{t: t, home: home, env: env, runner: cr, drv: drv}
	c, err := drv.Open(context.Background(), driver.OpenRequest{URI: "vbox:///session"})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	s.conn = c
	t.Cleanup(func() { c.Close(); drv.Close() })
	return s
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// vbm runs the simulator directly (behind the daemon's back).
func (s *simEnv) vbm(args ...string) string {
	s.t.Helper()
	cmd := exec.Command(simBin, args...)
	cmd.Env = append(os.Environ(), s.env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("VBoxManage %q: %v\n%s", args, err, out)
	}
	return string(out)
}

// seed registers n machines, running of them started.
func (s *simEnv) seed(n, running int) {
	s.t.Helper()
	cmd := exec.Command(vboxsimBin, "seed", "--count", fmt.Sprint(n), "--running", fmt.Sprint(running))
	cmd.Env = append(os.Environ(), s.env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("seed: %v\n%s", err, out)
	}
	s.drv.inv.Invalidate()
}

// create registers a powered-off machine behind the daemon's back.
func (s *simEnv) create(name string) driver.Domain {
	s.t.Helper()
	out := s.vbm("createvm", "--name", name, "--ostype", "Ubuntu_64", "--register")
	var uuid string
	for _, l := range strings.Split(out, "\n") {
		if u, ok := strings.CutPrefix(l, "UUID: "); ok {
			uuid = strings.TrimSpace(u)
		}
	}
	s.vbm("modifyvm", uuid, "--memory", "512", "--cpus", "1")
	s.drv.inv.Invalidate()
	d, err := s.conn.LookupByName(context.Background(), name)
	if err != nil {
		s.t.Fatalf("lookup %q after createvm: %v", name, err)
	}
	return d
}

func (s *simEnv) state(d driver.Domain) (driver.DomainState, int32) {
	s.t.Helper()
	st, r, err := s.conn.DomainGetState(context.Background(), d, 0)
	if err != nil {
		s.t.Fatalf("domstate %s: %v", d.Name, err)
	}
	return st, r
}

func wantClass(t testing.TB, err error, class error, detail string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v %q", class, detail)
	}
	if !errors.Is(err, class) {
		t.Fatalf("error %v: class %v, want %v", err, errdefs.ClassOf(err), class)
	}
	if detail != "" && !strings.Contains(errdefs.Detail(err), detail) {
		t.Fatalf("error detail %q does not contain %q", errdefs.Detail(err), detail)
	}
}

func TestSimListSpawnCounts(t *testing.T) {
	s := newSim(t)
	s.seed(50, 7)
	ctx := context.Background()
	s.drv.inv.Invalidate()
	s.runner.reset()
	all, err := s.conn.ListAllDomains(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.runner.reset(); n > 1 {
		t.Errorf("cold list --all started %d VBoxManage processes, want at most 1", n)
	}
	if len(all) != 50 {
		t.Fatalf("listed %d domains, want 50", len(all))
	}
	active, err := s.conn.ListAllDomains(ctx, listActive)
	if err != nil {
		t.Fatal(err)
	}
	inactive, _ := s.conn.ListAllDomains(ctx, listInactive)
	running, err := ParseListVMs([]byte(s.vbm("list", "runningvms")))
	if err != nil {
		t.Fatal(err)
	}
	if len(active) != len(running) || len(active)+len(inactive) != 50 || len(active) < 7 {
		t.Errorf("active %d inactive %d, want %d and %d", len(active), len(inactive), len(running), 50-len(running))
	}
	for _, d := range active {
		if d.ID <= 0 {
			t.Errorf("active %s has id %d", d.Name, d.ID)
		}
	}
	// dominfo on every machine: no process while the snapshot is fresh.
	for _, d := range all {
		if _, err := s.conn.DomainGetInfo(ctx, d); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.conn.DomainGetState(ctx, d, 0); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.runner.reset(); n > 1 {
		t.Errorf("warm list/dominfo started %d processes, want at most 1 (a refresh if the snapshot aged)", n)
	}
	// Everything at once from a fresh snapshot: zero.
	s.drv.inv.Invalidate()
	if _, err := s.conn.ListAllDomains(ctx, 0); err != nil {
		t.Fatal(err)
	}
	s.runner.reset()
	if _, err := s.conn.ListAllDomains(ctx, listActive|listRunning); err != nil {
		t.Fatal(err)
	}
	if n := s.runner.reset(); n != 0 {
		t.Errorf("warm list started %d processes, want 0", n)
	}
	// Concurrent cold listings share one process.
	s.drv.inv.Invalidate()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.conn.ListAllDomains(ctx, 0); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := s.runner.reset(); n != 1 {
		t.Errorf("8 concurrent cold listings started %d processes, want 1", n)
	}
}

func TestSimDominfoCold(t *testing.T) {
	s := newSim(t)
	s.seed(5, 1)
	ctx := context.Background()
	all, err := s.conn.ListAllDomains(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	d := all[2]
	s.drv.inv.Invalidate()
	s.runner.reset()
	// What virsh dominfo calls.
	if _, err := s.conn.LookupByName(ctx, d.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := s.conn.DomainGetInfo(ctx, d); err != nil {
		t.Fatal(err)
	}
	s.conn.DomainGetOSType(ctx, d)
	s.conn.DomainIsPersistent(ctx, d)
	s.conn.DomainGetAutostart(ctx, d)
	s.conn.DomainHasManagedSaveImage(ctx, d, 0)
	if n := s.runner.reset(); n > 2 {
		t.Errorf("dominfo started %d processes, want at most 2", n)
	}
}

func TestSimBehindOurBack(t *testing.T) {
	s := newSim(t, withMaxAge(200*time.Millisecond))
	ctx := context.Background()
	d := s.create("outside")
	if st, _ := s.state(d); st != driver.StateShutoff {
		t.Fatalf("state %d", st)
	}
	s.vbm("startvm", uuidString(d.UUID), "--type", "headless")
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, _ := s.state(d)
		if st == driver.StateRunning {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a start made behind the daemon's back never showed")
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.vbm("controlvm", uuidString(d.UUID), "poweroff")
	s.vbm("unregistervm", uuidString(d.UUID))
	for {
		_, err := s.conn.LookupByName(ctx, "outside")
		if errors.Is(err, errdefs.ErrNoDomain) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("an unregistration behind the daemon's back never showed")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestSimLookupErrors(t *testing.T) {
	s := newSim(t)
	ctx := context.Background()
	_, err := s.conn.LookupByName(ctx, "nosuchvm")
	wantClass(t, err, errdefs.ErrNoDomain, "no domain with matching name 'nosuchvm'")
	_, err = s.conn.LookupByUUID(ctx, [16]byte{1, 2, 3})
	wantClass(t, err, errdefs.ErrNoDomain, "no domain with matching uuid '01020300-0000-0000-0000-000000000000'")
	_, err = s.conn.LookupByID(ctx, 42)
	wantClass(t, err, errdefs.ErrNoDomain, "no domain with matching id 42")
	_, err = s.conn.LookupByID(ctx, 0)
	wantClass(t, err, errdefs.ErrNoDomain, "no domain with matching id 0")
	_, err = s.conn.DomainGetInfo(ctx, driver.Domain{Name: "ghost", UUID: [16]byte{9}})
	wantClass(t, err, errdefs.ErrNoDomain, "(ghost)")
	_, err = s.conn.ListAllDomains(ctx, 1<<20)
	wantClass(t, err, errdefs.ErrInvalidArg, "unsupported flags")
}

func TestSimLifecycleAndReasons(t *testing.T) {
	for _, ver := range []string{"6.1", "7.0", "7.1"} {
		t.Run(ver, func(t *testing.T) {
			s := newSim(t, withVersion(ver))
			ctx := context.Background()
			d := s.create("web01")
			if st, r := s.state(d); st != driver.StateShutoff || r != reasonUnknown {
				t.Fatalf("new VM: state %d/%d", st, r)
			}
			wantClass(t, s.conn.DomainSuspend(ctx, d), errdefs.ErrOperationFailed, "machine not in running state to suspend it")
			wantClass(t, s.conn.DomainShutdown(ctx, d, 0), errdefs.ErrOperationFailed, "machine already powered down")
			wantClass(t, s.conn.DomainDestroy(ctx, d, 0), errdefs.ErrOperationFailed, "machine already powered down")
			wantClass(t, s.conn.DomainReboot(ctx, d, 0), errdefs.ErrOperationFailed, "machine not running, so can't reboot it")

			nd, err := s.conn.DomainCreate(ctx, d, 0)
			if err != nil {
				t.Fatal(err)
			}
			if nd.ID <= 0 {
				t.Fatalf("started domain has id %d", nd.ID)
			}
			if st, r := s.state(d); st != driver.StateRunning || r != RunningBooted {
				t.Fatalf("after start: %d/%d", st, r)
			}
			_, err = s.conn.DomainCreate(ctx, d, 0)
			wantClass(t, err, errdefs.ErrOperationInvalid, "domain is already running")
			wantClass(t, s.conn.DomainResume(ctx, d), errdefs.ErrOperationFailed, "machine not paused, so can't resume it")
			wantClass(t, s.conn.DomainSetMemory(ctx, d, 1<<20, 0), errdefs.ErrOperationFailed, "memory size can't be changed unless domain is powered down")
			wantClass(t, s.conn.DomainSetVcpus(ctx, d, 2, 0), errdefs.ErrOperationFailed, "powered down")

			if err := s.conn.DomainSuspend(ctx, d); err != nil {
				t.Fatal(err)
			}
			if st, r := s.state(d); st != driver.StatePaused || r != PausedUser {
				t.Fatalf("after suspend: %d/%d", st, r)
			}
			wantClass(t, s.conn.DomainShutdown(ctx, d, 0), errdefs.ErrOperationFailed, "machine paused, so can't power it down")
			if err := s.conn.DomainResume(ctx, d); err != nil {
				t.Fatal(err)
			}
			if st, r := s.state(d); st != driver.StateRunning || r != RunningUnpaused {
				t.Fatalf("after resume: %d/%d", st, r)
			}
			if err := s.conn.DomainReboot(ctx, d, 0); err != nil {
				t.Fatal(err)
			}
			if err := s.conn.DomainReset(ctx, d, 0); err != nil {
				t.Fatal(err)
			}
			id, err := s.conn.LookupByID(ctx, nd.ID)
			if err != nil || id.Name != "web01" {
				t.Fatalf("lookup by id %d: %+v %v", nd.ID, id, err)
			}

			// Managed save, then start restores it.
			if err := s.conn.DomainManagedSave(ctx, d, 0); err != nil {
				t.Fatal(err)
			}
			if st, r := s.state(d); st != driver.StateShutoff || r != ShutoffSaved {
				t.Fatalf("after managedsave: %d/%d", st, r)
			}
			if ok, _ := s.conn.DomainHasManagedSaveImage(ctx, d, 0); !ok {
				t.Error("no managed save image after managedsave")
			}
			if l, _ := s.conn.ListAllDomains(ctx, listManagedSave); len(l) != 1 {
				t.Errorf("managedsave filter listed %d", len(l))
			}
			if _, err := s.conn.DomainCreate(ctx, d, 0); err != nil {
				t.Fatal(err)
			}
			if st, r := s.state(d); st != driver.StateRunning || r != RunningRestored {
				t.Fatalf("after restore: %d/%d", st, r)
			}

			// Destroy, then immediately change settings: the lock linger
			// after poweroff must be waited out, not reported.
			if err := s.conn.DomainDestroy(ctx, d, 0); err != nil {
				t.Fatal(err)
			}
			if st, r := s.state(d); st != driver.StateShutoff || r != ShutoffDestroyed {
				t.Fatalf("after destroy: %d/%d", st, r)
			}
			if err := s.conn.DomainSetMemory(ctx, d, 1024*1024, 0); err != nil {
				t.Fatal(err)
			}
			if err := s.conn.DomainSetVcpus(ctx, d, 2, 0); err != nil {
				t.Fatal(err)
			}
			info, err := s.conn.DomainGetInfo(ctx, d)
			if err != nil || info.MemoryKiB != 1024*1024 || info.MaxMemKiB != 1024*1024 || info.NrVirtCPU != 2 {
				t.Fatalf("after setmem/setvcpus: %+v %v", info, err)
			}
			if n, _ := s.conn.DomainGetVcpusFlags(ctx, d, affectConfig|vcpuMaximum); n != 2 {
				t.Errorf("vcpucount --maximum --config = %d", n)
			}
			_, err = s.conn.DomainGetVcpusFlags(ctx, d, affectLive)
			wantClass(t, err, errdefs.ErrOperationInvalid, "domain is not running")

			// Autostart.
			if err := s.conn.DomainSetAutostart(ctx, d, true); err != nil {
				t.Fatal(err)
			}
			if on, _ := s.conn.DomainGetAutostart(ctx, d); !on {
				t.Error("autostart not reported after enabling it")
			}
			if l, _ := s.conn.ListAllDomains(ctx, listAutostart); len(l) != 1 {
				t.Errorf("autostart filter listed %d", len(l))
			}

			// Shutdown through ACPI: the simulator's guest reacts at once.
			if _, err := s.conn.DomainCreate(ctx, d, startPaused); err != nil {
				t.Fatal(err)
			}
			if st, _ := s.state(d); st != driver.StatePaused {
				t.Fatalf("start --paused: state %d", st)
			}
			if err := s.conn.DomainResume(ctx, d); err != nil {
				t.Fatal(err)
			}
			if err := s.conn.DomainShutdown(ctx, d, 0); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for {
				s.drv.inv.MarkDirty(uuidString(d.UUID))
				st, r := s.state(d)
				if st == driver.StateShutoff {
					if r != ShutoffShutdown {
						t.Errorf("after shutdown: reason %d", r)
					}
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("guest never powered off after ACPI shutdown (state %d)", st)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if a := s.drv.ActiveDomains(); a != 0 {
				t.Errorf("ActiveDomains = %d after everything stopped", a)
			}
		})
	}
}

func TestSimFaults(t *testing.T) {
	ctx := context.Background()
	t.Run("hang", func(t *testing.T) {
		s := newSim(t, withTimeout(time.Second), withEnv("VBOXSIM_FAULTS=list=hang"))
		done := make(chan error, 1)
		go func() {
			_, err := s.conn.ListAllDomains(ctx, 0)
			done <- err
		}()
		select {
		case err := <-done:
			wantClass(t, err, errdefs.ErrOperationTimeout, "")
			if KindOf(err) != KindTimeout {
				t.Errorf("kind %v", KindOf(err))
			}
		case <-time.After(20 * time.Second):
			t.Fatal("a hanging VBoxManage blocked the driver")
		}
		// The daemon is not stuck: other commands still work.
		if _, err := s.conn.Version(ctx); err != nil {
			t.Errorf("version after a hang: %v", err)
		}
	})
	t.Run("crash", func(t *testing.T) {
		s := newSim(t, withEnv("VBOXSIM_FAULTS=list=crash"))
		_, err := s.conn.ListAllDomains(ctx, 0)
		wantClass(t, err, errdefs.ErrInternal, "terminated abnormally")
		if KindOf(err) != KindCrashed {
			t.Errorf("kind %v", KindOf(err))
		}
	})
	t.Run("garbage", func(t *testing.T) {
		s := newSim(t, withEnv("VBOXSIM_FAULTS=list=garbage,showvminfo=garbage"))
		_, err := s.conn.ListAllDomains(ctx, 0)
		wantClass(t, err, errdefs.ErrInternal, "")
		if KindOf(err) != KindGarbage {
			t.Errorf("kind %v (%v)", KindOf(err), err)
		}
	})
	t.Run("svcdown", func(t *testing.T) {
		s := newSim(t, withEnv("VBOXSIM_FAULTS=list=svcdown"))
		_, err := s.conn.ListAllDomains(ctx, 0)
		wantClass(t, err, errdefs.ErrInternal, "VirtualBox service unavailable")
		if strings.Contains(errdefs.Detail(err), "VBoxManage: error:") {
			t.Errorf("raw stderr in detail: %q", errdefs.Detail(err))
		}
	})
	t.Run("version with VBoxSVC down", func(t *testing.T) {
		s := newSim(t, withEnv("VBOXSIM_FAULTS=*=svcdown"))
		_, err := s.conn.Version(ctx)
		wantClass(t, err, errdefs.ErrInternal, "VirtualBox service unavailable")
	})
}

func TestSimRestartKeepsIDs(t *testing.T) {
	stateDir := t.TempDir()
	s := newSim(t, withStateDir(stateDir))
	s.seed(6, 0)
	ctx := context.Background()
	all, err := s.conn.ListAllDomains(ctx, listInactive)
	if err != nil {
		t.Fatal(err)
	}
	// Start three in an order unlike the list order.
	ids := map[string]int32{}
	for _, i := range []int{4, 1, 2} {
		if all[i].ID != -1 {
			continue
		}
		d, err := s.conn.DomainCreate(ctx, all[i], 0)
		if err != nil {
			t.Fatal(err)
		}
		ids[d.Name] = d.ID
	}
	// Stop the middle one: the others keep their IDs.
	if err := s.conn.DomainDestroy(ctx, all[1], 0); err != nil {
		t.Fatal(err)
	}
	delete(ids, all[1].Name)

	// A new driver (daemon restart) on the same simulator and state dir.
	s2 := newSim(t, withStateDir(stateDir), withHome(s.home))
	for name, id := range ids {
		d, err := s2.conn.LookupByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if d.ID != id {
			t.Errorf("%s: id %d after restart, want %d", name, d.ID, id)
		}
		byID, err := s2.conn.LookupByID(ctx, id)
		if err != nil || byID.Name != name {
			t.Errorf("lookup by id %d after restart: %+v %v", id, byID, err)
		}
	}
	if n, want := s2.drv.ActiveDomains(), s.drv.ActiveDomains(); n != want {
		t.Errorf("ActiveDomains after restart = %d, want %d", n, want)
	}
}

func TestSimLockLinger(t *testing.T) {
	s := newSim(t, withEnv("VBOXSIM_LOCK_LINGER=1500ms"))
	ctx := context.Background()
	d := s.create("linger")
	if _, err := s.conn.DomainCreate(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.conn.DomainDestroy(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.conn.DomainSetVcpus(ctx, d, 2, 0); err != nil {
		t.Fatalf("setvcpus right after destroy: %v", err)
	}
	if _, err := s.conn.DomainCreate(ctx, d, 0); err != nil {
		t.Fatalf("start after setvcpus: %v", err)
	}
}

func TestSimStartFrontend(t *testing.T) {
	s := newSim(t)
	ctx := context.Background()
	startType := func(d driver.Domain) string {
		t.Helper()
		s.runner.mu.Lock()
		s.runner.cmds = nil
		s.runner.mu.Unlock()
		if _, err := s.conn.DomainCreate(ctx, d, 0); err != nil {
			t.Fatal(err)
		}
		defer s.conn.DomainDestroy(ctx, d, 0)
		s.runner.mu.Lock()
		defer s.runner.mu.Unlock()
		for _, c := range s.runner.cmds {
			if strings.HasPrefix(c, "startvm ") {
				return c
			}
		}
		t.Fatal("no startvm")
		return ""
	}
	plain := s.create("plain")
	u := uuidString(plain.UUID)
	if c := startType(plain); c != "startvm "+u+" --type headless" {
		t.Errorf("no front end: %q", c)
	}
	// libvirt's driver writes FRONTEND/Type (and FRONTEND/Display).
	s.vbm("setextradata", u, "FRONTEND/Type", "sdl")
	s.vbm("setextradata", u, "FRONTEND/Display", ":7")
	if c := startType(plain); c != "startvm "+u+" --type sdl --putenv DISPLAY=:7" {
		t.Errorf("FRONTEND/Type sdl: %q", c)
	}
	s.vbm("setextradata", u, "FRONTEND/Type", "vrdp")
	if c := startType(plain); c != "startvm "+u+" --type headless" {
		t.Errorf("FRONTEND/Type vrdp: %q", c)
	}
}

func TestSimStartDefaultFrontend(t *testing.T) {
	s := newSim(t)
	ctx := context.Background()
	d := s.create("withfe")
	u := uuidString(d.UUID)
	s.vbm("modifyvm", u, "--defaultfrontend", "headless")
	s.vbm("setextradata", u, "FRONTEND/Type", "gui")
	s.drv.inv.Invalidate()
	s.runner.mu.Lock()
	s.runner.cmds = nil
	s.runner.mu.Unlock()
	if _, err := s.conn.DomainCreate(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	s.runner.mu.Lock()
	defer s.runner.mu.Unlock()
	found := false
	for _, c := range s.runner.cmds {
		// (The enumeration is the pending definition's check, pending.go.)
		if strings.HasPrefix(c, "getextradata") && c != "getextradata "+u+" enumerate" {
			t.Errorf("extradata read although the machine has a default front end: %q", c)
		}
		if c == "startvm "+u+" --type headless" {
			found = true
		}
	}
	if !found {
		t.Errorf("commands: %q", s.runner.cmds)
	}
}

func (s *simEnv) setState(vm, state string) {
	s.t.Helper()
	cmd := exec.Command(vboxsimBin, "set-state", vm, state)
	cmd.Env = append(os.Environ(), s.env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("set-state %s %s: %v\n%s", vm, state, err, out)
	}
}

func TestSimForcedStates(t *testing.T) {
	s := newSim(t, withMaxAge(time.Hour)) // only misses and dirty marks refresh
	ctx := context.Background()
	for _, tc := range []struct {
		state   string
		want    driver.DomainState
		reason  int32
		active  bool
		managed bool
	}{
		{"aborted", driver.StateCrashed, reasonUnknown, false, false},
		{"aborted-saved", driver.StateShutoff, ShutoffCrashed, false, true},
		{"gurumeditation", driver.StateBlocked, reasonUnknown, true, false},
		{"saved", driver.StateShutoff, ShutoffSaved, false, true},
		{"paused", driver.StatePaused, PausedUser, true, false},
	} {
		t.Run(tc.state, func(t *testing.T) {
			d := s.create("forced-" + tc.state)
			s.setState(uuidString(d.UUID), tc.state)
			s.drv.inv.MarkDirty(uuidString(d.UUID))
			st, r := s.state(d)
			if st != tc.want || r != tc.reason {
				t.Errorf("state %d/%d, want %d/%d", st, r, tc.want, tc.reason)
			}
			if a, _ := s.conn.DomainIsActive(ctx, d); a != tc.active {
				t.Errorf("active %v", a)
			}
			if m, _ := s.conn.DomainHasManagedSaveImage(ctx, d, 0); m != tc.managed {
				t.Errorf("managed save %v", m)
			}
		})
	}
	// An inaccessible machine is not a domain.
	d := s.create("broken")
	s.setState(uuidString(d.UUID), "inaccessible")
	s.drv.inv.Invalidate()
	all, err := s.conn.ListAllDomains(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range all {
		if x.UUID == d.UUID || strings.HasPrefix(x.Name, "<inaccessible") {
			t.Errorf("inaccessible machine listed as %q", x.Name)
		}
	}
	// A machine registered behind the daemon's back is found at once,
	// even within the snapshot's freshness period.
	out := s.vbm("createvm", "--name", "just now", "--register")
	if _, err := s.conn.LookupByName(ctx, "just now"); err != nil {
		t.Errorf("lookup right after an outside createvm: %v\n%s", err, out)
	}
}

func TestSimSnapshotsFilterAndUndefine(t *testing.T) {
	for _, ver := range []string{"6.1", "7.1"} {
		t.Run(ver, func(t *testing.T) {
			s := newSim(t, withVersion(ver))
			ctx := context.Background()
			d := s.create("snappy")
			other := s.create("plain")
			s.vbm("snapshot", uuidString(d.UUID), "take", "base")
			s.vbm("snapshot", uuidString(d.UUID), "take", "child")
			s.drv.inv.Invalidate()
			has, err := s.conn.ListAllDomains(ctx, listHasSnapshot)
			if err != nil {
				t.Fatal(err)
			}
			if len(has) != 1 || has[0].UUID != d.UUID {
				t.Errorf("has-snapshot lists %+v", has)
			}
			none, _ := s.conn.ListAllDomains(ctx, listNoSnapshot)
			if len(none) != 1 || none[0].UUID != other.UUID {
				t.Errorf("no-snapshot lists %+v", none)
			}
			wantClass(t, s.conn.DomainUndefine(ctx, d, 0), errdefs.ErrOperationInvalid, "with 2 snapshots")
			if err := s.conn.DomainUndefine(ctx, d, undefineSnapshotsMetadata); err != nil {
				t.Fatal(err)
			}
			if _, err := s.conn.LookupByName(ctx, "snappy"); !errors.Is(err, errdefs.ErrNoDomain) {
				t.Errorf("still there after undefine: %v", err)
			}
		})
	}
}

// TestSimDumpXMLSpawnCounts: a second dumpxml of a machine within the cache
// age reads nothing (settings and extradata are both cached); the daemon's
// own change to the machine makes the next one read both again.
func TestSimDumpXMLSpawnCounts(t *testing.T) {
	s := newSim(t)
	s.seed(3, 0)
	ctx := context.Background()
	now := time.Now()
	s.drv.inv.now = func() time.Time { return now } // the caches never age
	all, err := s.conn.ListAllDomains(ctx, 0)
	if err != nil || len(all) == 0 {
		t.Fatalf("list: %v, %d domains", err, len(all))
	}
	dom := all[0]
	first, err := s.conn.DomainGetXMLDesc(ctx, dom, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.runner.reset()
	for i := 0; i < 5; i++ {
		again, err := s.conn.DomainGetXMLDesc(ctx, dom, 0)
		if err != nil {
			t.Fatal(err)
		}
		if again != first {
			t.Fatalf("dumpxml changed without a change:\n%s\n%s", first, again)
		}
	}
	if n := s.runner.reset(); n != 0 {
		t.Errorf("5 warm dumpxml started %d VBoxManage processes, want 0", n)
	}
	s.drv.inv.MarkDirty(uuidString(dom.UUID))
	if _, err := s.conn.DomainGetXMLDesc(ctx, dom, 0); err != nil {
		t.Fatal(err)
	}
	if n := s.runner.reset(); n != 1 {
		t.Errorf("dumpxml of a dirty machine started %d processes, want 1 (showvminfo; the extradata is read from the settings file)", n)
	}
}
