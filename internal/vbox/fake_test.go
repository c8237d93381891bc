package vbox

import (
	"context"
	"fmt"
	"github.com/virtvboxd/virtvboxd/internal/driver"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// fakeVBox is a stateful in-process VBoxManage for driver logic: a handful
// of machines, the commands the driver runs, and knobs to inject the
// failures VirtualBox produces (a lock held after poweroff, transient "not
// ready" errors). It also detects two commands overlapping on one machine.
type fakeVBox struct {
	mu       sync.Mutex
	vms      map[string]*fakeVM
	order    []string
	version  string
	calls    []string
	busy     map[string]bool // uuid -> a command is running on it
	overlaps atomic.Int64
	delay    time.Duration

	lockAfterPoweroff int // fail this many mutating calls after a poweroff with a held lock
	lockLeft          map[string]int
	transientLeft     int // fail this many calls with "The object is not ready"
}

type fakeVM struct {
	name, uuid, state string
	mem, cpus         int
	autostart         bool
}

func newFakeVBox(vms ...*fakeVM) *fakeVBox {
	f := &fakeVBox{vms: map[string]*fakeVM{}, version: "7.0.14r161095", busy: map[string]bool{}, lockLeft: map[string]int{}}
	for _, vm := range vms {
		f.vms[vm.uuid] = vm
		f.order = append(f.order, vm.uuid)
	}
	return f
}

func fakeUUID(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

func vmErr(args []string, kind Kind, msg string) error {
	return &CmdError{Args: args, ExitCode: 1, Kind: kind, Stderr: "VBoxManage: error: " + msg + "\n"}
}

func (f *fakeVBox) Run(ctx context.Context, args ...string) ([]byte, []byte, error) {
	f.mu.Lock()
	f.calls = append(f.calls, strings.Join(args, " "))
	if f.transientLeft > 0 {
		f.transientLeft--
		f.mu.Unlock()
		return nil, nil, vmErr(args, KindTransient, "The object is not ready")
	}
	var target string
	if len(args) > 1 {
		if _, ok := f.vms[args[1]]; ok {
			target = args[1]
		}
	}
	if target != "" && args[0] != "showvminfo" {
		if f.busy[target] {
			f.overlaps.Add(1)
		}
		f.busy[target] = true
	}
	delay := f.delay
	f.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if target != "" && args[0] != "showvminfo" {
		defer delete(f.busy, target)
	}
	out, err := f.run(args)
	return []byte(out), nil, err
}

func (f *fakeVBox) run(args []string) (string, error) {
	switch {
	case args[0] == "--version":
		return f.version + "\n", nil
	case len(args) > 2 && args[0] == "list" && args[len(args)-1] == "vms":
		var ms []Machine
		for _, u := range f.order {
			vm := f.vms[u]
			ms = append(ms, Machine{Name: vm.name, UUID: vm.uuid, MemoryMB: vm.mem, CPUs: vm.cpus, State: vm.state, Autostart: vm.autostart})
		}
		return testListing(ms), nil
	case len(args) == 2 && args[0] == "list" && args[1] == "hostinfo":
		return "Host Information:\n\nProcessor online count: 8\nProcessor count: 8\nProcessor online core count: 4\n" +
			"Processor core count: 4\nProcessor#0 speed: 3600 MHz\nProcessor#0 description: Test CPU\n" +
			"Memory size: 32014 MByte\nMemory available: 20113 MByte\n", nil
	case len(args) == 2 && args[0] == "list" && args[1] == "systemproperties":
		return "API version:                     7_0\nMaximum guest CPU count:         64\n", nil
	}
	if len(args) < 2 {
		return "", vmErr(args, KindSyntax, "syntax")
	}
	vm, ok := f.vms[args[1]]
	if !ok {
		return "", vmErr(args, KindNotFound, fmt.Sprintf("Could not find a registered machine named '%s'", args[1]))
	}
	mutating := args[0] == "modifyvm" || args[0] == "startvm" || args[0] == "unregistervm" || args[0] == "discardstate"
	if mutating && f.lockLeft[vm.uuid] > 0 {
		f.lockLeft[vm.uuid]--
		return "", vmErr(args, KindLockHeld, fmt.Sprintf("The machine '%s' is already locked for a session (or being unlocked)", vm.name))
	}
	switch args[0] {
	case "showvminfo":
		return fmt.Sprintf("name=%q\nUUID=%q\nmemory=%d\ncpus=%d\nVMState=%q\nautostart-enabled=%q\n", vm.name, vm.uuid,
			vm.mem, vm.cpus, vm.state, map[bool]string{true: "on", false: "off"}[vm.autostart]), nil
	case "startvm":
		if IsOnline(vm.state) {
			return "", vmErr(args, KindLockHeld, "already locked by a session")
		}
		vm.state = "running"
	case "getextradata":
		return "No value set!\n", nil
	case "controlvm":
		if !IsOnline(vm.state) {
			return "", vmErr(args, KindInvalidState, fmt.Sprintf("Machine '%s' is not currently running.", vm.name))
		}
		switch args[2] {
		case "pause":
			vm.state = "paused"
		case "resume":
			vm.state = "running"
		case "poweroff":
			vm.state = "poweroff"
			f.lockLeft[vm.uuid] = f.lockAfterPoweroff
		case "savestate":
			vm.state = "saved"
		case "acpipowerbutton", "reset":
		}
	case "discardstate":
		vm.state = "poweroff"
	case "modifyvm":
		for i := 2; i+1 < len(args); i += 2 {
			switch args[i] {
			case "--memory":
				fmt.Sscan(args[i+1], &vm.mem)
			case "--cpus":
				fmt.Sscan(args[i+1], &vm.cpus)
			case "--autostart-enabled":
				vm.autostart = args[i+1] == "on"
			}
		}
	default:
		return "", vmErr(args, KindSyntax, "unknown command "+args[0])
	}
	return "", nil
}

func humanOf(state string) string {
	for h, tok := range humanStateNames {
		if tok == state && h != "aborted (saved)" {
			return h
		}
	}
	return state
}

func (f *fakeVBox) count(prefix string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

func newFakeDriver(t *testing.T, f *fakeVBox, opts ...func(*Options)) (*Driver, driver.Conn) {
	t.Helper()
	o := Options{Runner: f, VBoxManagePath: "/nonexistent/VBoxManage"}
	for _, fn := range opts {
		fn(&o)
	}
	d, err := NewDriver(o)
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.Open(context.Background(), driver.OpenRequest{URI: "vbox:///session"})
	if err != nil {
		t.Fatal(err)
	}
	return d, c
}

func TestNewDriverRunsNothing(t *testing.T) {
	f := newFakeVBox()
	if _, err := NewDriver(Options{Runner: f}); err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 0 {
		t.Errorf("NewDriver ran %v", f.calls)
	}
}

func TestOpenURIRules(t *testing.T) {
	for _, tc := range []struct {
		priv      bool
		uri, want string
		err       string
	}{
		{false, "", "vbox:///session", ""},
		{true, "", "vbox:///system", ""},
		{false, "vbox:///session", "vbox:///session", ""},
		{true, "vbox:///session", "vbox:///session", ""},
		{true, "vbox:///system", "vbox:///system", ""},
		{false, "vbox:///system", "", "unexpected vbox URI path '/system', try vbox:///session"},
		{true, "vbox:///foo", "", "unexpected vbox URI path '/foo', try vbox:///system"},
		{false, "vbox://", "", "no VirtualBox driver path specified (try vbox:///session)"},
		{false, "vbox://host/session", "", "no connection driver: vbox://host/session"},
		{false, "qemu:///system", "", "no connection driver: qemu:///system"},
	} {
		f := newFakeVBox()
		d, err := NewDriver(Options{Runner: f, Privileged: tc.priv})
		if err != nil {
			t.Fatal(err)
		}
		c, err := d.Open(context.Background(), driver.OpenRequest{URI: tc.uri})
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Open(%q, priv=%v) = %v, want %q", tc.uri, tc.priv, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Open(%q, priv=%v): %v", tc.uri, tc.priv, err)
			continue
		}
		if c.URI() != tc.want || c.Type() != "VBOX" {
			t.Errorf("Open(%q) URI %q type %q", tc.uri, c.URI(), c.Type())
		}
	}
}

func TestOpenVBoxManageMissingOrBroken(t *testing.T) {
	d, err := NewDriver(Options{VBoxManagePath: "/nonexistent/VBoxManage"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Open(context.Background(), driver.OpenRequest{URI: "vbox:///session"})
	wantClass(t, err, errdefs.ErrInternal, "unable to initialize VirtualBox driver API")

	// Present but not executable.
	p := filepath.Join(t.TempDir(), "VBoxManage")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, _ = NewDriver(Options{VBoxManagePath: p})
	_, err = d.Open(context.Background(), driver.OpenRequest{URI: "vbox:///session"})
	wantClass(t, err, errdefs.ErrInternal, "unable to initialize VirtualBox driver API")

	// Working binary, broken output: the open runs nothing and succeeds;
	// the first call that needs the version says what is wrong.
	f := newFakeVBox()
	f.version = "garbage output"
	d, _ = NewDriver(Options{Runner: f})
	c, err := d.Open(context.Background(), driver.OpenRequest{URI: "vbox:///session"})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.calls) != 0 {
		t.Errorf("Open ran %v", f.calls)
	}
	_, err = c.Version(context.Background())
	wantClass(t, err, errdefs.ErrInternal, "unrecognised VBoxManage version")
}

func TestFakeHostCalls(t *testing.T) {
	f := newFakeVBox()
	_, c := newFakeDriver(t, f)
	ctx := context.Background()
	if v, err := c.Version(ctx); err != nil || v != 7000014 {
		t.Errorf("Version = %d, %v", v, err)
	}
	ni, err := c.NodeInfo(ctx)
	if err != nil || ni.CPUs != 8 || ni.Cores*ni.Threads*ni.Sockets*ni.Nodes != 8 || ni.MHz != 3600 || ni.MemoryKiB != 32014*1024 {
		t.Errorf("NodeInfo = %+v, %v", ni, err)
	}
	if free, _ := c.NodeFreeMemory(ctx); free != 20113*1024*1024 {
		t.Errorf("NodeFreeMemory = %d", free)
	}
	if st, err := c.NodeMemoryStats(ctx, -1, 0); err != nil || len(st) != 2 || st[0].Field != "total" {
		t.Errorf("NodeMemoryStats = %+v %v", st, err)
	}
	_, err = c.NodeMemoryStats(ctx, 3, 0)
	wantClass(t, err, errdefs.ErrInvalidArg, "cell")
	if n, err := c.MaxVcpus(ctx, ""); err != nil || n != 64 {
		t.Errorf("MaxVcpus = %d %v", n, err)
	}
	caps, err := c.Capabilities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkCaps(t, parseCaps(t, caps), hostArch())
	si, err := c.Sysinfo(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if v := sysinfoEntries(t, si)["processor/version"]; !strings.Contains(v, "Test CPU") {
		t.Errorf("Sysinfo processor/version = %q:\n%s", v, si)
	}
	if h, err := c.Hostname(ctx); err != nil || h == "" {
		t.Errorf("Hostname = %q %v", h, err)
	}
}

func TestFakeListFilters(t *testing.T) {
	f := newFakeVBox(
		&fakeVM{name: "run", uuid: fakeUUID(1), state: "running", mem: 1024, cpus: 1},
		&fakeVM{name: "pause", uuid: fakeUUID(2), state: "paused", mem: 1024, cpus: 1},
		&fakeVM{name: "off", uuid: fakeUUID(3), state: "poweroff", mem: 1024, cpus: 1, autostart: true},
		&fakeVM{name: "saved", uuid: fakeUUID(4), state: "saved", mem: 1024, cpus: 1},
		&fakeVM{name: "crashed", uuid: fakeUUID(5), state: "aborted", mem: 1024, cpus: 1},
		&fakeVM{name: "stuck", uuid: fakeUUID(6), state: "gurumeditation", mem: 1024, cpus: 1},
	)
	_, c := newFakeDriver(t, f)
	ctx := context.Background()
	names := func(flags uint32) string {
		ds, err := c.ListAllDomains(ctx, flags)
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, d := range ds {
			n = append(n, d.Name)
		}
		sort.Strings(n)
		return strings.Join(n, ",")
	}
	for flags, want := range map[uint32]string{
		0:                                "crashed,off,pause,run,saved,stuck",
		listActive:                       "pause,run,stuck",
		listInactive:                     "crashed,off,saved",
		listRunning:                      "run",
		listPaused:                       "pause",
		listShutoff:                      "off,saved",
		listOther:                        "crashed,stuck",
		listRunning | listPaused:         "pause,run",
		listManagedSave:                  "saved",
		listNoManagedSave | listInactive: "crashed,off",
		listAutostart:                    "off",
		listTransient:                    "",
		listPersistent | listActive:      "pause,run,stuck",
		listHasSnapshot:                  "",
		listNoSnapshot | listRunning:     "run",
		listActive | listInactive:        "crashed,off,pause,run,saved,stuck",
		listHasCheckpoint:                "",
		listNoCheckpoint | listShutoff:   "off,saved",
	} {
		if got := names(flags); got != want {
			t.Errorf("flags 0x%x: %q, want %q", flags, got, want)
		}
	}
	// IDs are stable: 1..3 in list order for the active machines, and a
	// machine started later gets max+1 even after others stop.
	ids := map[string]int32{}
	ds, _ := c.ListAllDomains(ctx, listActive)
	for _, d := range ds {
		ids[d.Name] = d.ID
	}
	if ids["run"] != 1 || ids["pause"] != 2 || ids["stuck"] != 3 {
		t.Fatalf("ids %v", ids)
	}
	off, _ := c.LookupByName(ctx, "off")
	if off.ID != -1 {
		t.Errorf("inactive domain id %d", off.ID)
	}
	run, _ := c.LookupByName(ctx, "run")
	if err := c.DomainDestroy(ctx, run, 0); err != nil {
		t.Fatal(err)
	}
	off, err := c.DomainCreate(ctx, off, 0)
	if err != nil {
		t.Fatal(err)
	}
	if off.ID != 4 {
		t.Errorf("newly started domain id %d, want 4", off.ID)
	}
	if p, _ := c.LookupByName(ctx, "pause"); p.ID != 2 {
		t.Errorf("pause id changed to %d", p.ID)
	}
	if st, r, _ := c.DomainGetState(ctx, mustDom(c, "crashed"), 0); st != driver.StateCrashed || r != 0 {
		t.Errorf("aborted: %d/%d", st, r)
	}
	if st, _, _ := c.DomainGetState(ctx, mustDom(c, "stuck"), 0); st != driver.StateBlocked {
		t.Errorf("gurumeditation: %d", st)
	}
}

func mustDom(c driver.Conn, name string) driver.Domain {
	d, _ := c.LookupByName(context.Background(), name)
	return d
}

func TestFakeLockLingerAfterPoweroffIsWaitedOut(t *testing.T) {
	f := newFakeVBox(&fakeVM{name: "vm", uuid: fakeUUID(1), state: "running", mem: 1024, cpus: 1})
	f.lockAfterPoweroff = 3
	drv, c := newFakeDriver(t, f)
	drv.lockBackoff = Backoff{Tries: 8, Min: time.Millisecond, Max: 4 * time.Millisecond}
	ctx := context.Background()
	d := mustDom(c, "vm")
	if err := c.DomainDestroy(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.DomainSetMemory(ctx, d, 2048*1024, 0); err != nil {
		t.Fatalf("setmem right after destroy: %v", err)
	}
	if n := f.count("modifyvm"); n != 4 {
		t.Errorf("modifyvm ran %d times, want 4 (3 lock failures, then success)", n)
	}
	// A lock that stays held (a settings editor elsewhere) is reported after
	// the retries, classed and without VBoxManage's Details/Context lines.
	f.mu.Lock()
	f.lockLeft[fakeUUID(1)] = 100
	f.mu.Unlock()
	err := c.DomainSetVcpus(ctx, d, 2, 0)
	wantClass(t, err, errdefs.ErrOperationFailed, "locked")
	if strings.Contains(errdefs.Detail(err), "Details:") || strings.Contains(errdefs.Detail(err), "VBoxManage: error") {
		t.Errorf("raw VBoxManage dump in the error: %q", errdefs.Detail(err))
	}
	// On a running machine a held lock is not retried.
	f.mu.Lock()
	f.vms[fakeUUID(1)].state = "running"
	f.lockLeft[fakeUUID(1)] = 0
	f.mu.Unlock()
	drv.inv.MarkDirty(fakeUUID(1)) // changed behind the driver's back
	before := f.count("controlvm")
	f.mu.Lock()
	f.transientLeft = 0
	f.mu.Unlock()
	c.DomainSuspend(ctx, d)
	if n := f.count("controlvm") - before; n != 1 {
		t.Errorf("controlvm ran %d times on a running machine, want 1", n)
	}
}

func TestFakeTransientRetried(t *testing.T) {
	f := newFakeVBox(&fakeVM{name: "vm", uuid: fakeUUID(1), state: "running", mem: 1024, cpus: 1})
	_, c := newFakeDriver(t, f)
	f.mu.Lock()
	f.transientLeft = 2
	f.mu.Unlock()
	if _, err := c.ListAllDomains(context.Background(), 0); err != nil {
		t.Fatalf("two transient failures were not retried: %v", err)
	}
	f.mu.Lock()
	f.transientLeft = 10
	f.mu.Unlock()
	_, err := c.DomainGetXMLDesc(context.Background(), mustDom(c, "vm"), 0)
	if err == nil {
		t.Fatal("persistent transient failure not reported")
	}
}

func TestFakePerVMOrdering(t *testing.T) {
	var vms []*fakeVM
	for i := 1; i <= 4; i++ {
		vms = append(vms, &fakeVM{name: fmt.Sprintf("vm%d", i), uuid: fakeUUID(i), state: "running", mem: 1024, cpus: 1})
	}
	f := newFakeVBox(vms...)
	f.delay = 2 * time.Millisecond
	_, c := newFakeDriver(t, f)
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			d := mustDom(c, fmt.Sprintf("vm%d", w%4+1))
			for i := 0; i < 10; i++ {
				// Errors are expected (the other worker may have paused it).
				c.DomainSuspend(ctx, d)
				c.DomainResume(ctx, d)
				c.DomainGetInfo(ctx, d)
			}
		}(w)
	}
	wg.Wait()
	if n := f.overlaps.Load(); n != 0 {
		t.Errorf("%d commands overlapped on one machine", n)
	}
}
