// Package vbox is virtvboxd's VirtualBox driver: it implements driver.Driver
// and driver.Conn by running VBoxManage. It owns the runner (timeouts, error
// classification, retries), the output parsers for VirtualBox 6.1, 7.0 and
// 7.1, an inventory cache that keeps `virsh list --all` at one VBoxManage
// process, stable domain IDs and state reasons, and per-machine ordering of
// the daemon's own commands. Domain XML is produced and planned by
// internal/vbox/domxml. See docs/vbox-driver.md.
package vbox

import (
	"context"
	"errors"
	"fmt"
	"github.com/virtvboxd/virtvboxd/internal/callctx"
	"github.com/virtvboxd/virtvboxd/internal/driver"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// Options configure a Driver.
type Options struct {
	VBoxManagePath string        // program to run; a bare name is looked up in PATH at Open
	Timeout        time.Duration // per VBoxManage call (vboxmanage_timeout); 0 = none
	Privileged     bool          // the daemon runs as root: vbox:///system is accepted
	StateDir       string        // where domain IDs persist; "" keeps them in memory
	Log            *logrus.Entry
	Runner         Runner        // optional: replaces the exec runner (tests)
	MaxAge         time.Duration // optional: inventory freshness (default DefaultMaxAge)
	// WatchInterval is how often the listing is re-read while clients are
	// connected (default DefaultWatchInterval; negative: never, readers
	// refresh by MaxAge); WatchLinger how long after the last client left
	// (default DefaultWatchLinger; negative: none); Parallel bounds the
	// background per-machine reads (default DefaultParallel).
	WatchInterval time.Duration
	WatchLinger   time.Duration
	Parallel      int
	// HostRoot is where the host's /sys is found for the huge page pools
	// (default "/"; tests use a directory of their own: EnvHostRoot).
	HostRoot string
}

// Test knobs: environment variables that override the defaults of MaxAge,
// WatchInterval and WatchLinger (Go durations), so that end-to-end tests
// can wait for the watcher instead of sleeping out a cache age. They are
// not configuration: see docs/vbox-driver.md.
const (
	EnvMaxAge        = "VIRTVBOXD_TEST_MAX_AGE"
	EnvWatchInterval = "VIRTVBOXD_TEST_WATCH_INTERVAL"
	EnvWatchLinger   = "VIRTVBOXD_TEST_WATCH_LINGER"
	EnvHostRoot      = "VIRTVBOXD_TEST_HOST_ROOT"
)

func envDuration(name string, def time.Duration, log *logrus.Entry) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		log.WithError(err).Warnf("ignoring %s", name)
		return def
	}
	return d
}

// stateFileName is the domain ID table inside Options.StateDir.
const stateFileName = "domain-ids.json"

// lockBackoff waits out that linger: about 3 s over 8 tries.
var lockBackoff = Backoff{Tries: 8, Min: 50 * time.Millisecond, Max: 800 * time.Millisecond}

// Driver is the VirtualBox driver. It is safe for concurrent use; all
// connections share its caches.
type Driver struct {
	opts   Options
	log    *logrus.Entry
	states *States
	inv    *Inventory
	locks  vmLocks
	events eventHub   // domain events (events.go)
	pend   pendingSet // machines with a pending definition (pending.go)

	xmlCache  xmlCache       // each machine's last XML (DomainGetXMLDesc)
	blockInfo blockInfoCache // image figures (DomainGetBlockInfo)
	stats     statsCache     // the last round of statistics (stats.go)
	consoles  consoles       // open serial console sessions (DomainOpenConsole)
	snaps     snapCache      // each snapshot's facts, by snapshot UUID (snapshot.go)
	nets      netCache       // the networks (network.go)
	leases    leaseCache     // recent DHCP leases and guest addresses (network_leases.go)
	stor      storage        // storage pools and the media picture (storage.go)

	backoff, lockBackoff Backoff // retry schedules (tests shorten them)

	runMu  sync.Mutex
	runner Runner // set at the first Open (path lookup), or opts.Runner

	verMu   sync.Mutex
	version *Version

	hostMu   sync.Mutex
	hostInfo Record
	hostAt   time.Time
	sysProps *Record

	// life ends at Close: every VBoxManage still running is then killed,
	// including the shared inventory refresh, which no caller can cancel.
	life    context.Context
	endLife context.CancelFunc
	liveMu  sync.Mutex
	live    int           // runPolicy calls in progress
	closed  bool          // Close was called: no new call starts
	idle    chan struct{} // closed when live drops to 0 after Close
}

// closeWait bounds how long Close waits for the VBoxManage processes it
// killed to be reaped.
const closeWait = 5 * time.Second

// NewDriver returns a driver. It runs nothing: VBoxManage is first started
// by the first connection, so daemon start-up stays fast.
func NewDriver(opts Options) (*Driver, error) {
	if opts.Log == nil {
		l := logrus.New()
		l.SetOutput(os.Stderr)
		opts.Log = logrus.NewEntry(l)
	}
	if opts.VBoxManagePath == "" {
		opts.VBoxManagePath = "VBoxManage"
	}
	path := ""
	if opts.StateDir != "" {
		path = filepath.Join(opts.StateDir, stateFileName)
	}
	states, err := LoadStates(path)
	if err != nil {
		// A damaged table only costs ID stability; keep going.
		opts.Log.WithError(err).Warn("starting with an empty domain ID table")
	}
	d := &Driver{opts: opts, log: opts.Log, states: states, runner: opts.Runner,
		backoff: DefaultBackoff, lockBackoff: lockBackoff}
	d.life, d.endLife = context.WithCancel(context.Background())
	d.events.d = d
	d.locks.released = func(key string) {
		d.pendingReleased(key) // first: the events then see the result
		d.events.released(key)
	}
	if opts.MaxAge == 0 {
		opts.MaxAge = envDuration(EnvMaxAge, DefaultMaxAge, opts.Log)
	}
	if opts.WatchInterval == 0 {
		opts.WatchInterval = envDuration(EnvWatchInterval, DefaultWatchInterval, opts.Log)
	}
	if opts.WatchLinger == 0 {
		opts.WatchLinger = envDuration(EnvWatchLinger, DefaultWatchLinger, opts.Log)
	}
	if opts.HostRoot == "" {
		opts.HostRoot = os.Getenv(EnvHostRoot)
	}
	if opts.HostRoot == "" {
		opts.HostRoot = "/"
	}
	d.opts = opts
	d.inv = NewInventory(d.runPolicy, states, opts.MaxAge)
	d.inv.SetWatch(opts.WatchInterval, opts.WatchLinger, opts.Parallel)
	d.inv.SetLog(d.log)
	return d, nil
}

// ActiveDomains returns the number of active domains as last seen, without
// running anything (the daemon's idle timer asks often).
func (d *Driver) ActiveDomains() int { return d.states.ActiveCount() }

// Close releases the driver. Running guests are left alone, but the
// VBoxManage processes still running (a call cut short by a forced shutdown,
// a hanging one without vboxmanage_timeout) are killed and reaped, so that
// none outlives the daemon.
func (d *Driver) Close() error {
	d.endLife()
	d.inv.Close()
	d.liveMu.Lock()
	d.closed = true
	if d.live > 0 && d.idle == nil {
		d.idle = make(chan struct{})
	}
	idle := d.idle
	d.liveMu.Unlock()
	if idle != nil {
		select {
		case <-idle:
		case <-time.After(closeWait):
			d.log.Warn("VBoxManage processes still running at exit")
		}
	}
	if err := d.states.PersistError(); err != nil {
		return fmt.Errorf("domain ID table: %w", err)
	}
	return nil
}

// Open implements driver.Driver with libvirt's vbox URI rules: vbox:///session
// for everyone, vbox:///system too when privileged, an empty URI meaning
// the default for the daemon's user; URIs with a host or another scheme are
// not ours. Opening runs nothing (see ensureWorking).
func (d *Driver) Open(ctx context.Context, req driver.OpenRequest) (driver.Conn, error) {
	uri, err := d.checkURI(req.URI)
	if err != nil {
		return nil, err
	}
	if err := d.ensureWorking(ctx); err != nil {
		return nil, err
	}
	return &conn{d: d, uri: uri, unwatch: d.inv.Watch()}, nil
}

func (d *Driver) checkURI(raw string) (string, error) {
	if raw == "" {
		if d.opts.Privileged {
			return "vbox:///system", nil
		}
		return "vbox:///session", nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "vbox" || u.Host != "" || u.Opaque != "" {
		return "", errdefs.New(errdefs.ErrNoConnect, raw)
	}
	switch {
	case u.Path == "":
		return "", errdefs.New(errdefs.ErrInternal, "no VirtualBox driver path specified (try vbox:///session)")
	case u.Path == "/session", u.Path == "/system" && d.opts.Privileged:
		return "vbox://" + u.Path, nil
	case d.opts.Privileged:
		return "", errdefs.Newf(errdefs.ErrInternal, "unexpected vbox URI path '%s', try vbox:///system", u.Path)
	}
	return "", errdefs.Newf(errdefs.ErrInternal, "unexpected vbox URI path '%s', try vbox:///session", u.Path)
}

// ensureWorking resolves VBoxManage (a path lookup and an executable check,
// no process): opening a connection starts nothing, so `virsh list --all`
// costs one VBoxManage in all even on a daemon that was just started. A
// VBoxManage that is present but broken is reported by the first call that
// needs it, with VBoxManage's own message.
func (d *Driver) ensureWorking(ctx context.Context) error {
	d.runMu.Lock()
	defer d.runMu.Unlock()
	if d.runner != nil {
		return nil
	}
	path, err := exec.LookPath(d.opts.VBoxManagePath)
	if err != nil {
		return errdefs.Wrap(errdefs.ErrInternal, err,
			fmt.Sprintf("unable to initialize VirtualBox driver API: %s not found or not executable", d.opts.VBoxManagePath))
	}
	d.runner = &ExecRunner{Path: path, Timeout: d.opts.Timeout}
	return nil
}

// Reconfigure applies a new VBoxManage path and timeout (SIGHUP). Calls
// already running finish with the old settings; the next call uses the new
// ones. A path that cannot be resolved leaves everything as it was. The
// VirtualBox version is read again, since the new path may be another
// installation.
func (d *Driver) Reconfigure(path string, timeout time.Duration) error {
	if path == "" {
		path = "VBoxManage"
	}
	d.runMu.Lock()
	defer d.runMu.Unlock()
	if d.opts.Runner != nil {
		return nil // a runner given by the caller stays
	}
	if d.runner != nil {
		resolved, err := exec.LookPath(path)
		if err != nil {
			return fmt.Errorf("VBoxManage %q: %w", path, err)
		}
		d.runner = &ExecRunner{Path: resolved, Timeout: timeout}
	}
	d.opts.VBoxManagePath, d.opts.Timeout = path, timeout
	d.verMu.Lock()
	d.version = nil
	d.verMu.Unlock()
	return nil
}

// Version returns the VirtualBox version, read once.
func (d *Driver) Version(ctx context.Context) (Version, error) {
	d.verMu.Lock()
	defer d.verMu.Unlock()
	if d.version != nil {
		return *d.version, nil
	}
	out, _, err := d.runPolicy(ctx, RetryTransient, "--version")
	if err != nil {
		return Version{}, vboxError("VBoxManage --version", err)
	}
	v, err := ParseVersion(out)
	if err != nil {
		return Version{}, errdefs.Wrap(errdefs.ErrInternal, err, err.Error())
	}
	d.version = &v
	d.log.WithField("version", v.Raw).Debug("VirtualBox found")
	return v, nil
}

func (d *Driver) getRunner() Runner {
	d.runMu.Lock()
	defer d.runMu.Unlock()
	return d.runner
}

// runPolicy runs one VBoxManage command with retries per policy and logs it.
func (d *Driver) runPolicy(ctx context.Context, policy RetryPolicy, args ...string) ([]byte, []byte, error) {
	if driver.MustNotWait(ctx) {
		// Never on a client's connection goroutine (driver.NoWait): the
		// inventory answers from memory or says so before getting here.
		return nil, nil, driver.ErrWouldBlock
	}
	r := d.getRunner()
	if r == nil {
		return nil, nil, errdefs.New(errdefs.ErrInternal, "VirtualBox driver used before a connection was opened")
	}
	b := d.backoff
	if policy == RetryTransientOrLock {
		b = d.lockBackoff
	}
	d.liveMu.Lock()
	if d.closed {
		d.liveMu.Unlock()
		return nil, nil, errdefs.New(errdefs.ErrInternal, "the VirtualBox driver is closed")
	}
	d.live++
	d.liveMu.Unlock()
	defer func() {
		d.liveMu.Lock()
		if d.live--; d.live == 0 && d.idle != nil {
			close(d.idle)
			d.idle = nil
		}
		d.liveMu.Unlock()
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(d.life, cancel)()
	start := time.Now()
	out, errOut, err := runRetry(ctx, r, b, policy, args...)
	if d.log.Logger.IsLevelEnabled(logrus.DebugLevel) {
		e := d.logFor(ctx).WithFields(logrus.Fields{"args": args, "elapsed": time.Since(start).Round(time.Millisecond)})
		if err != nil {
			e = e.WithError(err)
		}
		e.Debug("VBoxManage")
	}
	return out, errOut, err
}

// policyFor is the retry policy for a command changing m. On a machine that
// is not online a held session lock is the VM process still exiting (after
// poweroff or savestate, by us or anyone else, reference §6) or a short
// settings edit elsewhere: it is waited out (about 3 s). On an online
// machine a held lock is reported at once.
func policyFor(m Machine) RetryPolicy {
	if IsOnline(m.State) {
		return RetryTransient
	}
	return RetryTransientOrLock
}

// vboxError turns a VBoxManage failure into a libvirt-classed error whose
// detail is VBoxManage's own message (never the whole stderr dump).
func vboxError(op string, err error) error {
	if err == nil {
		return nil
	}
	var classed *errdefs.Error
	if errors.As(err, &classed) || errors.Is(err, driver.ErrWouldBlock) {
		return err
	}
	var ce *CmdError
	msg := err.Error()
	kind := KindOf(err)
	if asCmd(err, &ce) {
		msg = ce.Message()
	}
	switch kind {
	case KindTimeout:
		return errdefs.Wrap(errdefs.ErrOperationTimeout, err, fmt.Sprintf("%s: %s", op, msg))
	case KindInvalidState:
		return errdefs.Wrap(errdefs.ErrOperationInvalid, err, fmt.Sprintf("%s: %s", op, msg))
	case KindLockHeld:
		return errdefs.Wrap(errdefs.ErrOperationFailed, err, fmt.Sprintf("%s: machine is locked by another session: %s", op, msg))
	case KindServiceDown:
		return errdefs.Wrap(errdefs.ErrInternal, err, fmt.Sprintf("%s: VirtualBox service unavailable: %s", op, msg))
	}
	return errdefs.Wrap(errdefs.ErrInternal, err, fmt.Sprintf("%s: %s", op, msg))
}

// logFor returns the driver's log entry with the fields of the RPC call ctx
// belongs to (client, pid, uid, proc, serial), so that each line, VBoxManage
// runs included, can be tied to the call that caused it.
func (d *Driver) logFor(ctx context.Context) *logrus.Entry {
	if f := callctx.Fields(ctx); f != nil {
		return d.log.WithFields(f)
	}
	return d.log
}
