// Package vboxsim is a stand-in for VirtualBox's VBoxManage command: the same
// command syntax, output text, streams and exit codes, backed by a state
// directory instead of VBoxSVC. See docs/simulator.md.
package vboxsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Env is the simulator's configuration, read from VBOXSIM_* variables.
type Env struct {
	Home          string        // VBOXSIM_HOME
	Personality   Personality   // VBOXSIM_VERSION
	Latency       time.Duration // VBOXSIM_LATENCY: added to every call
	ColdStart     time.Duration // VBOXSIM_COLD_START: VBoxSVC start-up after 5 s idle
	ColdStartVM   time.Duration // VBOXSIM_COLD_START_PER_VM: added per registered VM (loading .vbox files)
	ACPIDelay     time.Duration // VBOXSIM_ACPI_DELAY: guest reaction to the power button
	LockLinger    time.Duration // VBOXSIM_LOCK_LINGER: session lock held after poweroff
	Flaky         float64       // VBOXSIM_FLAKY: probability of "The object is not ready" on overlap
	Faults        map[string]string
	MachineFolder string // VBOXSIM_MACHINE_FOLDER
	// RequireDisplay (VBOXSIM_REQUIRE_DISPLAY=1) makes startvm of a GUI
	// session fail without DISPLAY, as on a headless host.
	RequireDisplay bool
	HostName       string
}

// Defaults for the knobs.
const (
	DefaultLatency     = 60 * time.Millisecond
	DefaultColdStart   = 400 * time.Millisecond
	DefaultColdStartVM = 2 * time.Millisecond
	DefaultACPIDelay   = 3 * time.Second
	DefaultLockLinger  = 1500 * time.Millisecond
	svcIdleShutdown    = 5 * time.Second
)

// EnvFromOS reads the VBOXSIM_* variables through getenv.
func EnvFromOS(getenv func(string) string) (Env, error) {
	e := Env{
		Latency: DefaultLatency, ColdStart: DefaultColdStart, ColdStartVM: DefaultColdStartVM,
		ACPIDelay: DefaultACPIDelay, LockLinger: DefaultLockLinger,
	}
	e.Home = getenv("VBOXSIM_HOME")
	if e.Home == "" {
		home := getenv("HOME")
		if home == "" {
			home = "/root"
		}
		e.Home = filepath.Join(home, ".vboxsim")
	}
	var err error
	if e.Personality, err = ParsePersonality(getenv("VBOXSIM_VERSION")); err != nil {
		return e, err
	}
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{
		{"VBOXSIM_LATENCY", &e.Latency}, {"VBOXSIM_COLD_START", &e.ColdStart}, {"VBOXSIM_COLD_START_PER_VM", &e.ColdStartVM},
		{"VBOXSIM_ACPI_DELAY", &e.ACPIDelay}, {"VBOXSIM_LOCK_LINGER", &e.LockLinger},
	} {
		if v := getenv(d.name); v != "" {
			if *d.dst, err = parseDuration(v); err != nil {
				return e, fmt.Errorf("%s: %w", d.name, err)
			}
		}
	}
	if v := getenv("VBOXSIM_FLAKY"); v != "" {
		switch v {
		case "on", "true", "yes":
			e.Flaky = 1
		case "off", "false", "no":
		default:
			if e.Flaky, err = strconv.ParseFloat(v, 64); err != nil || e.Flaky < 0 || e.Flaky > 1 {
				return e, fmt.Errorf("VBOXSIM_FLAKY %q: want on, off or a probability 0..1", v)
			}
		}
	}
	if e.Faults, err = parseFaults(getenv("VBOXSIM_FAULTS")); err != nil {
		return e, err
	}
	e.MachineFolder = getenv("VBOXSIM_MACHINE_FOLDER")
	if e.MachineFolder == "" {
		e.MachineFolder = filepath.Join(e.Home, "VirtualBox VMs")
	}
	if v := getenv("VBOXSIM_REQUIRE_DISPLAY"); v != "" {
		e.RequireDisplay, _ = parseBool(v)
	}
	e.HostName, _ = os.Hostname()
	return e, nil
}

// parseDuration accepts Go durations ("60ms", "2s") and bare milliseconds ("60").
func parseDuration(v string) (time.Duration, error) {
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Millisecond, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad duration %q", v)
	}
	return d, nil
}

// Sim runs one VBoxManage invocation.
type Sim struct {
	env    Env
	p      Personality
	st     *Store
	stdout io.Writer
	stderr io.Writer
	now    func() time.Time
	rng    *rand.Rand
	slept  bool
	extra  time.Duration // long-operation time, slept after the state lock is released
}

// newSim returns a Sim on the state directory st that writes to stdout and
// stderr and draws its random numbers (UUIDs, MACs, faults) from rng.
func newSim(env Env, st *Store, stdout, stderr io.Writer, rng *rand.Rand) *Sim {
	return &Sim{env: env, p: env.Personality, st: st, stdout: stdout, stderr: stderr, now: nowFunc, rng: rng}
}

// Main is the program entry: argv[0]'s base name decides between the
// VBoxManage personality and the vboxsim admin commands. It returns the exit
// status.
func Main(argv []string, stdout, stderr io.Writer) int {
	env, err := EnvFromOS(os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "vboxsim: %v\n", err)
		return 1
	}
	if spec := os.Getenv(uartEnv); spec != "" {
		return serveUART(spec, stdout)
	}
	if exe, err := os.Executable(); err == nil {
		executable = exe
	}
	args := argv[1:]
	if len(argv) > 0 && strings.HasPrefix(filepath.Base(argv[0]), "vboxsim") && len(args) > 0 {
		switch args[0] {
		case "seed", "log", "reset", "set-state":
			return Admin(env, args, stdout, stderr)
		}
	}
	return Run(env, args, stdout, stderr)
}

// Run executes one VBoxManage command line (without the program name) and
// returns its exit status. It sleeps for the configured latency, applies
// injected faults and appends to the invocation log.
func Run(env Env, args []string, stdout, stderr io.Writer) int {
	start := time.Now()
	st, err := OpenStore(env.Home)
	if err != nil {
		fmt.Fprintf(stderr, "VBoxManage: error: Failed to create the VirtualBox object!\nVBoxManage: error: %v\n", err)
		return 1
	}
	s := newSim(env, st, stdout, stderr, rand.New(rand.NewPCG(uint64(start.UnixNano()), uint64(os.Getpid()))))
	s.coldStart()
	if !sessionCommands[commandName(args)] {
		// Commands outside the session-lock model pay their latency before
		// taking the state lock, so they never hold it while "working".
		s.work()
	}
	code := s.withFaults(args)
	if !s.slept {
		s.work()
	}
	st.Unlock()
	if s.extra > 0 {
		time.Sleep(s.extra)
	}
	s.touchLastCall()
	s.logInvocation(start, args, code)
	return code
}

// work sleeps for the per-call latency once; commands call it at the point
// where the real work happens (for example while holding a session lock).
func (s *Sim) work() {
	if s.slept {
		return
	}
	s.slept = true
	if s.env.Latency > 0 {
		time.Sleep(s.env.Latency)
	}
}

// slow adds n latencies to the call (long operations: startvm, clone...).
// They are slept once the state lock is released, so a long operation on one
// VM never blocks calls on other VMs.
func (s *Sim) slow(n int) {
	if s.env.Latency > 0 && n > 0 {
		s.extra += time.Duration(n) * s.env.Latency
	}
}

// lockRegistry takes the state lock (exclusive for commands that write) and
// reads the registry, then sleeps the call's latency unless it was already
// paid (Run pays it before the lock for commands outside sessionCommands).
func (s *Sim) lockRegistry(exclusive bool) (*Registry, error) {
	if err := s.st.Lock(exclusive); err != nil {
		return nil, err
	}
	reg, err := s.st.Registry()
	if err != nil {
		return nil, err
	}
	s.work()
	return reg, nil
}

// coldStart models VBoxSVC starting: the first call after more than 5 s
// without any call (and no VM process keeping VBoxSVC alive) pays ColdStart
// plus ColdStartVM per registered VM. VBOXSIM_COLD_START=0 turns the whole
// model off.
func (s *Sim) coldStart() {
	if d := s.coldStartDelay(); d > 0 {
		time.Sleep(d)
	}
}

// coldStartDelay is how long VBoxSVC would take to start for this call (0
// when it is still up).
func (s *Sim) coldStartDelay() time.Duration {
	if s.env.ColdStart <= 0 {
		return 0
	}
	fi, err := os.Stat(filepath.Join(s.env.Home, "lastcall"))
	if err == nil && time.Since(fi.ModTime()) <= svcIdleShutdown {
		return 0
	}
	vms, online := s.inventorySize()
	if online {
		return 0
	}
	return s.env.ColdStart + time.Duration(vms)*s.env.ColdStartVM
}

// inventorySize counts registered VMs and reports whether any VM process runs.
func (s *Sim) inventorySize() (n int, online bool) {
	if err := s.st.Lock(false); err != nil {
		return 0, false
	}
	defer s.st.Unlock()
	reg, err := s.st.Registry()
	if err != nil {
		return 0, false
	}
	for _, e := range reg.VMs {
		if isOnline(e.State) {
			online = true
		}
	}
	return len(reg.VMs), online
}

func (s *Sim) touchLastCall() {
	p := filepath.Join(s.env.Home, "lastcall")
	now := time.Now()
	if err := os.Chtimes(p, now, now); err != nil {
		if f, err := os.Create(p); err == nil {
			f.Close()
		}
	}
}

// logInvocation appends one line: time, pid, argv (JSON), exit code, duration.
// A single O_APPEND write of a short line is atomic among processes.
func (s *Sim) logInvocation(start time.Time, args []string, code int) {
	if args == nil {
		args = []string{}
	}
	a, _ := json.Marshal(args)
	line := fmt.Sprintf("%s pid=%d argv=%s exit=%d dur=%.1fms\n", start.UTC().Format("2006-01-02T15:04:05.000000Z"),
		os.Getpid(), a, code, float64(time.Since(start).Microseconds())/1000)
	f, err := os.OpenFile(filepath.Join(s.env.Home, "invocations.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return
	}
	f.WriteString(line)
	f.Close()
}

// dispatch runs the command itself.
func (s *Sim) dispatch(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(s.stdout, s.p.Logo())
		fmt.Fprint(s.stdout, "Usage:\n\n")
		for _, name := range commandOrder {
			for _, l := range usages[name].synopsis {
				fmt.Fprintf(s.stdout, "  %s\n", l)
			}
		}
		return 0
	}
	// Global options before the command.
	for len(args) > 0 {
		switch args[0] {
		case "-q", "--nologo":
			args = args[1:]
			continue
		case "--version", "-v", "-V":
			fmt.Fprintln(s.stdout, s.p.Full)
			return 0
		case "help", "-h", "--help", "-?":
			fmt.Fprint(s.stdout, s.p.Logo())
			return 0
		}
		break
	}
	if len(args) == 0 {
		return 0
	}
	cmd := args[0]
	h, ok := commands[cmd]
	if !ok {
		if alias, ok := aliases[cmd]; ok {
			cmd, h = alias, commands[alias]
		} else {
			fmt.Fprint(s.stderr, s.p.Logo())
			fmt.Fprintf(s.stderr, "VBoxManage: error: Invalid command '%s'\n", cmd)
			return 2
		}
	}
	if len(args) == 1 && cmd != "list" {
		// A known command without any argument prints its usage to stdout
		// and fails (reference §0), so the handlers (but list's) always get
		// at least one argument.
		fmt.Fprint(s.stdout, s.usageText(cmd))
		return 1
	}
	return h(s, args[1:])
}

// commands maps a command word to its handler.
var commands = map[string]func(*Sim, []string) int{
	"list":           (*Sim).cmdList,
	"showvminfo":     (*Sim).cmdShowVMInfo,
	"createvm":       (*Sim).cmdCreateVM,
	"registervm":     (*Sim).cmdRegisterVM,
	"modifyvm":       (*Sim).cmdModifyVM,
	"clonevm":        (*Sim).cmdCloneVM,
	"startvm":        (*Sim).cmdStartVM,
	"controlvm":      (*Sim).cmdControlVM,
	"discardstate":   (*Sim).cmdDiscardState,
	"unregistervm":   (*Sim).cmdUnregisterVM,
	"storagectl":     (*Sim).cmdStorageCtl,
	"storageattach":  (*Sim).cmdStorageAttach,
	"createmedium":   (*Sim).cmdCreateMedium,
	"closemedium":    (*Sim).cmdCloseMedium,
	"showmediuminfo": (*Sim).cmdShowMediumInfo,
	"modifymedium":   (*Sim).cmdModifyMedium,
	"clonemedium":    (*Sim).cmdCloneMedium,
	"snapshot":       (*Sim).cmdSnapshot,
	"hostonlyif":     (*Sim).cmdHostOnlyIf,
	"natnetwork":     (*Sim).cmdNATNetwork,
	"dhcpserver":     (*Sim).cmdDHCPServer,
	"setextradata":   (*Sim).cmdSetExtraData,
	"getextradata":   (*Sim).cmdGetExtraData,
	"sharedfolder":   (*Sim).cmdSharedFolder,
	"usbfilter":      (*Sim).cmdUSBFilter,
	"guestproperty":  (*Sim).cmdGuestProperty,
	"metrics":        (*Sim).cmdMetrics,
	"debugvm":        (*Sim).cmdDebugVM,
}

// sessionCommands place their latency themselves, inside the window where
// they hold a session lease (so concurrent writers on one VM really conflict).
var sessionCommands = map[string]bool{"showvminfo": true, "modifyvm": true, "startvm": true, "controlvm": true,
	"discardstate": true, "unregistervm": true, "storagectl": true, "storageattach": true, "sharedfolder": true,
	"usbfilter": true, "debugvm": true}

var aliases = map[string]string{"createhd": "createmedium", "createvdi": "createmedium",
	"showhdinfo": "showmediuminfo", "modifyhd": "modifymedium", "clonehd": "clonemedium"}

var commandOrder = []string{"list", "showvminfo", "createvm", "modifyvm", "clonevm", "startvm", "controlvm",
	"discardstate", "unregistervm", "storagectl", "storageattach", "createmedium", "closemedium", "showmediuminfo",
	"snapshot", "hostonlyif", "natnetwork", "dhcpserver", "setextradata", "getextradata", "sharedfolder", "debugvm"}

// progress writes VBoxManage's progress bar to stderr.
func (s *Sim) progress() {
	fmt.Fprint(s.stderr, "0%...10%...20%...30%...40%...50%...60%...70%...80%...90%...100%\n")
}

// RunCapture is a convenience for tests and tools: Run with buffered output.
func RunCapture(env Env, args ...string) (stdout, stderr string, code int) {
	var o, e bytes.Buffer
	code = Run(env, args, &o, &e)
	return o.String(), e.String(), code
}
