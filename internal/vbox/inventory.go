package vbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// DefaultMaxAge is how long a snapshot of the machine list is served without
// asking VBoxManage again. Changes made behind the daemon's back (the GUI,
// VBoxManage by hand) therefore show within MaxAge plus one call.
const DefaultMaxAge = time.Second

// DefaultWatchInterval is how often the watcher re-reads the listing while
// clients are connected; DefaultWatchLinger how long it keeps watching after
// the last one left (VBoxSVC itself lingers 5 s after its last client,
// reference §6, so a shell loop of virsh calls finds a warm cache and a warm
// VBoxSVC); DefaultParallel bounds the per-machine reads run in the
// background.
const (
	DefaultWatchInterval = time.Second
	DefaultWatchLinger   = 5 * time.Second
	DefaultParallel      = 32
)

// errNotFound is returned by Inventory lookups for an unknown UUID.
var errNotFound = errors.New("machine not found")

// runFunc runs one VBoxManage command with a retry policy.
type runFunc func(ctx context.Context, policy RetryPolicy, args ...string) (stdout, stderr []byte, err error)

// Inventory caches what VBoxManage says about the registered machines.
//
// One `list --multiple vms --long vms` (the compact list and a human
// showvminfo block for every machine, in one process; see ParseListing)
// refreshes a snapshot of all machines, with one `showvminfo <uuid>
// --machinereadable` for each machine whose block the listing cannot prove
// (a name with a newline, a crafted description...); concurrent refreshes
// share one process (single flight). While clients are connected (Watch) a
// watcher refreshes the snapshot every interval and readers never wait for
// VBoxManage; otherwise a snapshot younger than MaxAge is served as is. The
// daemon's own changes mark the machine dirty: the next lookup of that
// machine alone re-reads it with `showvminfo --machinereadable`, the next
// listing refreshes everything. Per-machine details (the full
// machine-readable settings and the extradata, for dumpxml) are kept until a
// listing shows the machine changed (its block or its settings file, see
// compareLocked) and read once for concurrent readers.
//
// Inventory also observes state changes, which feed the domain ID table and
// the state reasons (see States). All methods are safe for concurrent use.
type Inventory struct {
	run    runFunc
	log    *logrus.Entry
	maxAge time.Duration
	now    func() time.Time
	states *States

	interval time.Duration // watcher period; <= 0: no watcher
	linger   time.Duration // watching goes on this long after the last client
	sem      chan struct{} // bounds the background per-machine reads

	mu      sync.Mutex
	missAt  time.Time // start of the last refresh a miss caused
	snap    *snapshot
	flight  *flight
	seq     uint64             // incremented by every MarkDirty and Apply
	dirty   map[string]uint64  // uuid -> seq of the mark
	applied map[string]applied // uuid -> the daemon's last certain change
	details map[string]detail  // uuid -> machine-readable settings
	extras  map[string]extra   // uuid -> extradata (getextradata enumerate)

	own      map[string][2]time.Time // uuid -> the daemon's last command on it (start, end)
	dflights map[string]*dflight     // uuid -> settings read in flight
	xflights map[string]*xflight     // uuid -> extradata read in flight

	watchers  int           // open client connections
	watchStop chan struct{} // non-nil while the watcher runs
	watchOK   bool          // the watcher runs and the last refresh succeeded
	lingerT   *time.Timer
	misses    int // settings misses while watched (the second starts a prefetch)
	// extraReads counts extradata reads by machine, whatever they read (the
	// settings file or VBoxManage): what "read once" means in the tests.
	extraReads map[string]int
	fetching   bool // a background prefetch runs
	closed     bool
	events     chan struct{} // closed (and replaced) after every refresh
	bg         sync.WaitGroup
}

type dflight struct {
	done chan struct{}
	info *Info
	err  error
}

type xflight struct {
	done chan struct{}
	kv   map[string]string
	err  error
}

// applied is a change the daemon made (Apply) that a read started before it
// must not undo.
type applied struct {
	seq uint64
	m   Machine
}

type snapshot struct {
	start  time.Time // when its listing started
	at     time.Time // when it was read
	sigs   map[string]BlockSig
	order  []string // UUIDs in VirtualBox's order
	byUUID map[string]Machine
	// Machines that are registered but not listed: inaccessible ones (the
	// settings file cannot be read) and ones whose output could not be
	// read. Their own calls fail with the reason; others never see them.
	inaccessible map[string]Machine
	broken       map[string]error
	// list is byUUID in order, made once when the snapshot is published
	// (publishLocked) and shared by every listing until the next one.
	list []Machine
}

type flight struct {
	done chan struct{}
	snap *snapshot
	err  error
}

type detail struct {
	at    time.Time // when the read started
	since string    // VMStateChangeTime
	m     Machine
	info  *Info
}

type extra struct {
	at  time.Time
	seq uint64 // inv.seq when the read started
	kv  map[string]string
}

// NewInventory returns an empty inventory that runs commands through run.
// It has no watcher until SetWatch.
func NewInventory(run runFunc, states *States, maxAge time.Duration) *Inventory {
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	return &Inventory{run: run, maxAge: maxAge, now: time.Now, states: states, log: logrus.NewEntry(discardLogger),
		dirty: map[string]uint64{}, applied: map[string]applied{}, details: map[string]detail{},
		extras: map[string]extra{}, own: map[string][2]time.Time{}, dflights: map[string]*dflight{}, xflights: map[string]*xflight{},
		sem: make(chan struct{}, DefaultParallel), events: make(chan struct{})}
}

// SetWatch configures the watcher (before first use): the listing is
// re-read every interval while clients are connected and for linger after
// the last one left (interval <= 0: never), and at most parallel
// per-machine reads run in the background.
func (inv *Inventory) SetWatch(interval, linger time.Duration, parallel int) {
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	inv.mu.Lock()
	inv.interval, inv.linger, inv.sem = interval, linger, make(chan struct{}, parallel)
	inv.mu.Unlock()
}

var discardLogger = func() *logrus.Logger {
	l := logrus.New()
	l.SetLevel(logrus.PanicLevel)
	return l
}()

// SetLog sets where the inventory warns about machines it leaves out.
func (inv *Inventory) SetLog(log *logrus.Entry) {
	if log != nil {
		inv.log = log
	}
}

// unlisted returns the error of a registered machine that the snapshot
// leaves out (inaccessible or unreadable), or nil.
func (s *snapshot) unlisted(uuid string) error {
	if m, ok := s.inaccessible[uuid]; ok {
		return inaccessibleError(m)
	}
	if err, ok := s.broken[uuid]; ok {
		return errdefs.Wrap(errdefs.ErrOperationFailed, err,
			fmt.Sprintf("machine '%s' cannot be read: %s", uuid, strings.TrimPrefix(errdefs.Detail(err), "VBoxManage: error: ")))
	}
	return nil
}

func inaccessibleError(m Machine) error {
	return errdefs.Newf(errdefs.ErrOperationFailed, "machine '%s' is inaccessible: VirtualBox cannot read its settings file '%s'",
		m.UUID, m.ConfigFile)
}

// List returns every accessible machine in VirtualBox's order, refreshing the
// snapshot when it is older than MaxAge or a machine is dirty. The slice is
// shared by every caller until the next change: callers must not modify it.
func (inv *Inventory) List(ctx context.Context) ([]Machine, error) {
	s, _, err := inv.current(ctx)
	if err != nil {
		return nil, err
	}
	return inv.ordered(s), nil
}

// freshLocked reports whether s may be served as is: it is younger than
// MaxAge, or the watcher keeps it current (it runs, and the last refresh
// succeeded). The caller holds inv.mu.
func (inv *Inventory) freshLocked(s *snapshot) bool {
	if s == nil || s.at.IsZero() {
		return false
	}
	return inv.watchOK || inv.now().Sub(s.at) < inv.maxAge
}

// current returns a snapshot no older than MaxAge without dirty machines,
// and whether this call had to refresh it.
func (inv *Inventory) current(ctx context.Context) (*snapshot, bool, error) {
	inv.mu.Lock()
	s := inv.snap
	ok := inv.freshLocked(s) && len(inv.dirty) == 0
	inv.mu.Unlock()
	if ok {
		return s, false, nil
	}
	if driver.MustNotWait(ctx) {
		return nil, false, driver.ErrWouldBlock
	}
	s, err := inv.refresh(ctx)
	return s, true, err
}

// Get returns the machine with uuid. A stale snapshot is refreshed as a
// whole (one process for all machines); a machine marked dirty by the
// daemon's own change is re-read alone. A UUID missing from a snapshot this
// call did not load triggers one refresh, so "not found" is always a fresh
// answer (a machine registered a moment ago behind the daemon's back is
// found).
func (inv *Inventory) Get(ctx context.Context, uuid string) (Machine, error) {
	inv.mu.Lock()
	s := inv.snap
	fresh := inv.freshLocked(s)
	_, isDirty := inv.dirty[uuid]
	inv.mu.Unlock()
	if driver.MustNotWait(ctx) && (!fresh || isDirty) {
		return Machine{}, driver.ErrWouldBlock
	}
	refreshed := false
	if !fresh {
		var err error
		if s, err = inv.refresh(ctx); err != nil {
			return Machine{}, err
		}
		refreshed = true
		inv.mu.Lock()
		_, isDirty = inv.dirty[uuid]
		inv.mu.Unlock()
	}
	if isDirty {
		if _, err := inv.Detail(ctx, uuid); err != nil {
			return Machine{}, err
		}
		inv.mu.Lock()
		s = inv.snap
		inv.mu.Unlock()
	}
	m, ok := s.byUUID[uuid]
	if !ok && driver.MustNotWait(ctx) {
		// A miss may refresh (mayRefreshOnMiss): the worker decides.
		return Machine{}, driver.ErrWouldBlock
	}
	if !ok && !refreshed && inv.mayRefreshOnMiss(s) {
		var err error
		if s, err = inv.refresh(ctx); err != nil {
			return Machine{}, err
		}
		m, ok = s.byUUID[uuid]
	}
	if !ok {
		if err := s.unlisted(uuid); err != nil {
			return Machine{}, err
		}
		return Machine{}, errNotFound
	}
	return m, nil
}

// Find returns the first accessible machine for which match is true. Like
// Get, a miss in a snapshot this call did not load triggers one refresh.
func (inv *Inventory) Find(ctx context.Context, match func(Machine) bool) (Machine, error) {
	s, refreshed, err := inv.current(ctx)
	if err != nil {
		return Machine{}, err
	}
	for {
		for _, u := range s.order {
			if m := s.byUUID[u]; match(m) {
				return m, nil
			}
		}
		if !refreshed && driver.MustNotWait(ctx) {
			return Machine{}, driver.ErrWouldBlock
		}
		if refreshed || !inv.mayRefreshOnMiss(s) {
			return Machine{}, errNotFound
		}
		if s, err = inv.refresh(ctx); err != nil {
			return Machine{}, err
		}
		refreshed = true
	}
}

// mayRefreshOnMiss reports whether a lookup that missed in s may refresh:
// at most one such refresh per MaxAge, shared by all callers, so that
// lookups of names that do not exist (a client probing, a script) cost no
// VBoxManage each while a machine registered behind the daemon's back is
// still found within MaxAge. It records the refresh it allows.
func (inv *Inventory) mayRefreshOnMiss(s *snapshot) bool {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	now := inv.now()
	if !inv.missAt.IsZero() && now.Sub(inv.missAt) < inv.maxAge && !s.at.Before(inv.missAt) {
		return false
	}
	inv.missAt = now
	return true
}

// Detail returns the machine-readable settings of uuid. They are kept until
// a listing shows the machine changed (see refresh) or the daemon changes it
// (MarkDirty, Apply); concurrent readers of a machine share one read. Reading
// them also updates the machine's entry in the snapshot. While watched, the
// second miss starts reading every machine not read yet in the background
// (a client reading one machine's XML usually reads them all).
func (inv *Inventory) Detail(ctx context.Context, uuid string) (*Info, error) {
	inv.mu.Lock()
	d, ok := inv.details[uuid]
	_, isDirty := inv.dirty[uuid]
	if ok && !isDirty {
		inv.mu.Unlock()
		return d.info, nil
	}
	if driver.MustNotWait(ctx) {
		inv.mu.Unlock()
		return nil, driver.ErrWouldBlock
	}
	if isDirty {
		inv.mu.Unlock()
		return inv.Reload(ctx, uuid)
	}
	if f := inv.dflights[uuid]; f != nil {
		inv.mu.Unlock()
		select {
		case <-f.done:
			return f.info, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f := &dflight{done: make(chan struct{})}
	inv.dflights[uuid] = f
	inv.misses++
	prefetch := inv.watchStop != nil && inv.misses >= 2 && !inv.fetching
	if prefetch {
		inv.fetching = true
	}
	inv.mu.Unlock()
	if prefetch {
		inv.prefetchMissing()
	}
	f.info, f.err = inv.Reload(context.WithoutCancel(ctx), uuid)
	inv.mu.Lock()
	delete(inv.dflights, uuid)
	inv.mu.Unlock()
	close(f.done)
	return f.info, f.err
}

// ExtraData returns uuid's extradata (`getextradata <uuid> enumerate`),
// kept under the same rule as Detail (concurrent readers share one read),
// unless fresh asks for a read now (define plans its diff on it). The
// returned map is shared: callers must not change it.
func (inv *Inventory) ExtraData(ctx context.Context, uuid string, fresh bool) (map[string]string, error) {
	inv.mu.Lock()
	e, ok := inv.extras[uuid]
	_, isDirty := inv.dirty[uuid]
	if ok && !fresh && !isDirty {
		inv.mu.Unlock()
		return e.kv, nil
	}
	if driver.MustNotWait(ctx) {
		inv.mu.Unlock()
		return nil, driver.ErrWouldBlock
	}
	if fresh || isDirty {
		inv.mu.Unlock()
		return inv.readExtraData(ctx, uuid)
	}
	if f := inv.xflights[uuid]; f != nil {
		inv.mu.Unlock()
		select {
		case <-f.done:
			return f.kv, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f := &xflight{done: make(chan struct{})}
	inv.xflights[uuid] = f
	inv.mu.Unlock()
	f.kv, f.err = inv.readExtraData(context.WithoutCancel(ctx), uuid)
	inv.mu.Lock()
	delete(inv.xflights, uuid)
	inv.mu.Unlock()
	close(f.done)
	return f.kv, f.err
}

// ExtraDataReads is how many times uuid's extradata was read.
func (inv *Inventory) ExtraDataReads(uuid string) int {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.extraReads[uuid]
}

func (inv *Inventory) readExtraData(ctx context.Context, uuid string) (map[string]string, error) {
	inv.mu.Lock()
	startSeq := inv.seq
	cfg := ""
	if inv.snap != nil {
		cfg = inv.snap.byUUID[uuid].ConfigFile
	}
	inv.mu.Unlock()
	readAt := inv.now()
	// The settings file first: it holds the same extradata and costs no
	// process; VBoxManage when it cannot be read (settingsfile.go).
	kv, ok := settingsExtraData(cfg, uuid)
	inv.log.WithFields(logrus.Fields{"uuid": uuid, "settings_file": ok}).Debug("extradata read")
	if !ok {
		out, _, err := inv.run(ctx, RetryTransient, "getextradata", uuid, "enumerate")
		if err != nil {
			return nil, err
		}
		kv = ParseExtraData(out)
	}
	inv.mu.Lock()
	if inv.extraReads == nil {
		inv.extraReads = map[string]int{}
	}
	inv.extraReads[uuid]++
	if cur, ok := inv.extras[uuid]; !ok || cur.seq <= startSeq {
		inv.extras[uuid] = extra{at: readAt, seq: startSeq, kv: kv}
	}
	inv.mu.Unlock()
	return kv, nil
}

// Reload reads uuid's settings now (`showvminfo <uuid> --machinereadable`)
// and updates the caches. The caller usually holds the machine's lock.
func (inv *Inventory) Reload(ctx context.Context, uuid string) (*Info, error) {
	inv.mu.Lock()
	startSeq := inv.seq
	inv.mu.Unlock()
	readAt := inv.now()
	out, _, err := inv.run(ctx, RetryTransient, "showvminfo", uuid, "--machinereadable")
	if err != nil {
		if KindOf(err) == KindNotFound {
			inv.Forget(uuid)
			return nil, errNotFound
		}
		return nil, err
	}
	info := ParseMachineReadable(out)
	m := MachineFromInfo(info)
	if m.UUID != uuid {
		return nil, &CmdError{Args: []string{"showvminfo", uuid, "--machinereadable"}, Kind: KindGarbage,
			Stderr: fmt.Sprintf("VBoxManage: error: output names machine %q, not %s", truncate(m.UUID, 40), uuid)}
	}
	if m.Inaccessible {
		if m.ConfigFile == "" {
			if c, ok := inv.cachedInaccessible(uuid); ok {
				m.ConfigFile = c.ConfigFile
			}
		}
		return nil, inaccessibleError(m)
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if a, ok := inv.applied[uuid]; ok && a.seq > startSeq {
		// The daemon changed the machine while this read ran: the read is
		// older than the cache.
		return info, nil
	}
	delete(inv.applied, uuid)
	inv.details[uuid] = detail{at: readAt, since: info.Str("VMStateChangeTime"), m: m, info: info}
	if seq, ok := inv.dirty[uuid]; ok && seq <= startSeq {
		delete(inv.dirty, uuid)
	}
	if inv.snap != nil && !m.Inaccessible {
		// Copy on write: readers hold the old snapshot without a lock.
		ns := &snapshot{start: inv.snap.start, at: inv.snap.at, sigs: inv.snap.sigs, order: inv.snap.order,
			byUUID: make(map[string]Machine, len(inv.snap.byUUID)+1), inaccessible: inv.snap.inaccessible, broken: inv.snap.broken}
		for k, v := range inv.snap.byUUID {
			ns.byUUID[k] = v
		}
		if old, known := ns.byUUID[uuid]; !known {
			ns.order = append(append([]string(nil), ns.order...), uuid)
		} else {
			if m.AudioController == "" {
				// Only the human listing prints it.
				m.AudioController = old.AudioController
			}
			// Likewise the shared folders' read-only flags.
			m.ReadOnlyFolders, m.FoldersKnown = old.ReadOnlyFolders, old.FoldersKnown
		}
		ns.byUUID[uuid] = m
		inv.publishLocked(ns)
	}
	if inv.states != nil {
		inv.states.Observe([]Machine{m}, false)
	}
	return info, nil
}

func (inv *Inventory) cachedInaccessible(uuid string) (Machine, bool) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.snap == nil {
		return Machine{}, false
	}
	m, ok := inv.snap.inaccessible[uuid]
	return m, ok
}

// Apply records the certain result of the daemon's own command on uuid:
// change is applied to the cached machine, whose detail cache is dropped
// (dumpxml re-reads it). It reports false when uuid is not in the snapshot.
func (inv *Inventory) Apply(uuid string, change func(*Machine)) bool {
	return inv.apply(uuid, change, false)
}

// Settled records that the daemon's command on uuid left the machine as
// its re-read (Reload) just found it: like Apply with no change, so that a
// listing started before the command cannot undo the read, but the settings
// that read cached are kept.
func (inv *Inventory) Settled(uuid string) bool {
	return inv.apply(uuid, func(*Machine) {}, true)
}

func (inv *Inventory) apply(uuid string, change func(*Machine), keepDetail bool) bool {
	inv.mu.Lock()
	if inv.snap == nil {
		inv.mu.Unlock()
		return false
	}
	m, ok := inv.snap.byUUID[uuid]
	if !ok {
		inv.mu.Unlock()
		return false
	}
	change(&m)
	ns := &snapshot{start: inv.snap.start, at: inv.snap.at, sigs: inv.snap.sigs, order: inv.snap.order,
		byUUID: make(map[string]Machine, len(inv.snap.byUUID)), inaccessible: inv.snap.inaccessible, broken: inv.snap.broken}
	for k, v := range inv.snap.byUUID {
		ns.byUUID[k] = v
	}
	ns.byUUID[uuid] = m
	inv.publishLocked(ns)
	inv.seq++
	inv.applied[uuid] = applied{seq: inv.seq, m: m}
	if !keepDetail {
		delete(inv.details, uuid)
	}
	inv.mu.Unlock()
	if inv.states != nil {
		inv.states.Observe([]Machine{m}, false)
	}
	return true
}

// Own records that the daemon's command on uuid ran from start to end
// (under the machine's lock; a zero end while it runs), so that the
// settings file written then is known as its own write.
func (inv *Inventory) Own(uuid string, start, end time.Time) {
	inv.mu.Lock()
	inv.own[uuid] = [2]time.Time{start, end}
	inv.mu.Unlock()
}

// MarkDirty records that the daemon changed uuid: its next lookup re-reads it.
func (inv *Inventory) MarkDirty(uuid string) {
	inv.mu.Lock()
	inv.seq++
	inv.dirty[uuid] = inv.seq
	delete(inv.details, uuid)
	delete(inv.extras, uuid)
	inv.mu.Unlock()
}

// Forget drops uuid (after it was unregistered).
func (inv *Inventory) Forget(uuid string) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	delete(inv.dirty, uuid)
	delete(inv.applied, uuid)
	delete(inv.own, uuid)
	delete(inv.details, uuid)
	delete(inv.extras, uuid)
	if inv.snap == nil {
		return
	}
	if _, ok := inv.snap.byUUID[uuid]; !ok {
		return
	}
	ns := &snapshot{start: inv.snap.start, at: inv.snap.at, sigs: inv.snap.sigs, byUUID: make(map[string]Machine, len(inv.snap.byUUID)),
		inaccessible: inv.snap.inaccessible, broken: inv.snap.broken}
	for _, u := range inv.snap.order {
		if u != uuid {
			ns.order = append(ns.order, u)
			ns.byUUID[u] = inv.snap.byUUID[u]
		}
	}
	inv.publishLocked(ns)
	if inv.states != nil {
		inv.states.Release(uuid)
	}
}

// Invalidate makes the next read refresh the whole snapshot and every
// machine's extradata.
func (inv *Inventory) Invalidate() {
	inv.mu.Lock()
	clear(inv.extras)
	if inv.snap != nil {
		ns := *inv.snap
		ns.at = time.Time{}
		inv.snap = &ns
	}
	inv.mu.Unlock()
}

// Cached returns the current snapshot's machines without running anything
// (nil before the first refresh).
func (inv *Inventory) Cached() []Machine {
	inv.mu.Lock()
	s := inv.snap
	inv.mu.Unlock()
	if s == nil {
		return nil
	}
	out := make([]Machine, 0, len(s.order))
	for _, u := range s.order {
		out = append(out, s.byUUID[u])
	}
	return out
}

// refresh runs `list -l vms` once for all concurrent callers.
func (inv *Inventory) refresh(ctx context.Context) (*snapshot, error) {
	inv.mu.Lock()
	if f := inv.flight; f != nil {
		inv.mu.Unlock()
		select {
		case <-f.done:
			return f.snap, f.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f := &flight{done: make(chan struct{})}
	inv.flight = f
	startSeq := inv.seq
	inv.mu.Unlock()

	f.snap, f.err = inv.load(context.WithoutCancel(ctx))

	inv.mu.Lock()
	var changed []string
	if f.err == nil {
		changed = inv.compareLocked(inv.snap, f.snap)
		for u, a := range inv.applied {
			if a.seq <= startSeq {
				delete(inv.applied, u)
			} else if _, ok := f.snap.byUUID[u]; ok {
				// Changed by the daemon after this listing started.
				f.snap.byUUID[u] = a.m
			}
		}
		inv.warnUnlisted(inv.snap, f.snap)
		inv.publishLocked(f.snap)
		for u, seq := range inv.dirty {
			if seq <= startSeq {
				delete(inv.dirty, u)
			}
		}
	}
	inv.flight = nil
	if inv.watchStop != nil {
		inv.watchOK = f.err == nil
	}
	events := inv.events
	inv.events = make(chan struct{})
	refetch := len(changed) > 0 && inv.watchStop != nil
	inv.mu.Unlock()
	close(f.done)
	if f.err == nil && inv.states != nil {
		inv.states.Observe(inv.ordered(f.snap), true)
	}
	if refetch {
		inv.prefetch(changed)
	}
	close(events)
	return f.snap, f.err
}

// compareLocked drops the settings and extradata of every machine that the
// new listing shows changed since the old one, and returns those that were
// cached (the watcher reads them again at once). A machine changed when its
// block signature differs (any line of its human block, which includes its
// state and `(since <time>)`, or its settings file's size and time), except
// when the daemon read it after the old listing started and that read
// agrees with the new block (its own change, already read: no second read).
// The caller holds inv.mu.
func (inv *Inventory) compareLocked(old, s *snapshot) []string {
	var changed []string
	for u := range inv.details {
		if _, ok := s.byUUID[u]; !ok {
			if _, ok := s.inaccessible[u]; !ok {
				delete(inv.details, u) // unregistered
				delete(inv.extras, u)
			}
		}
	}
	if old == nil || old.sigs == nil {
		return nil
	}
	for u, sig := range s.sigs {
		was, ok := old.sigs[u]
		if ok && was == sig {
			continue
		}
		d, hasD := inv.details[u]
		e, hasX := inv.extras[u]
		// A read is newer than the change when it started after the
		// settings file was last written (allowing for coarse file
		// times), or, without the file, after the old listing started.
		after := func(t time.Time) bool { return ok && !t.Before(old.start) }
		ownWrite := false
		if sig.SettingsNano != 0 {
			after = func(t time.Time) bool { return t.UnixNano() > sig.SettingsNano+int64(mtimeSlack) }
			// The file was last written during the daemon's own
			// command, which held the machine's write lock (no other
			// writer, reference §6): its re-read is current, and its
			// extradata unchanged (commands that set extradata drop
			// it themselves).
			if w, own := inv.own[u]; own && sig.SettingsNano >= w[0].Add(-mtimeSlack).UnixNano() &&
				(w[1].IsZero() || sig.SettingsNano <= w[1].Add(mtimeSlack).UnixNano()) {
				ownWrite = true
				after = func(t time.Time) bool { return !t.Before(w[0]) }
			}
		}
		keepD := hasD && after(d.at) && d.since == sig.Since && agrees(d.m, s.byUUID[u])
		keepX := hasX && (after(e.at) || ownWrite) && (keepD || !hasD)
		if !keepD {
			delete(inv.details, u)
		}
		if !keepX {
			delete(inv.extras, u)
		}
		if w, own := inv.own[u]; own && w[1].IsZero() {
			continue // the running command re-reads it
		}
		if hasD && !keepD || hasX && !keepX {
			changed = append(changed, u)
		}
	}
	sort.Strings(changed)
	return changed
}

// mtimeSlack allows for file systems that stamp times at a coarse clock (a
// few ms): a read must start this much after the settings file's time to
// count as newer than the write.
const mtimeSlack = 20 * time.Millisecond

// agrees reports whether a machine read alone and its listing entry say the
// same of what both print.
func agrees(a, b Machine) bool {
	return a.UUID == b.UUID && a.Name == b.Name && a.State == b.State && a.MemoryMB == b.MemoryMB && a.CPUs == b.CPUs &&
		a.Autostart == b.Autostart && a.Snapshots == b.Snapshots
}

// Refreshed returns a channel closed when the next refresh of the listing
// ends (for tests and tools that wait for the watcher).
func (inv *Inventory) Refreshed() <-chan struct{} {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.events
}

func (inv *Inventory) ordered(s *snapshot) []Machine {
	if s.list != nil || len(s.order) == 0 {
		return s.list
	}
	out := make([]Machine, 0, len(s.order))
	for _, u := range s.order {
		out = append(out, s.byUUID[u])
	}
	return out
}

// publishLocked makes s the current snapshot, with its ordered list made
// once for every listing that reads it. s must not change afterwards
// (copy on write). The caller holds inv.mu.
func (inv *Inventory) publishLocked(s *snapshot) {
	s.list = nil
	s.list = inv.ordered(s)
	inv.snap = s
}

// listArgs is the one command that reads every machine (ParseListing).
var listArgs = []string{"list", "--multiple", "vms", "--long", "vms"}

func (inv *Inventory) load(ctx context.Context) (*snapshot, error) {
	start := inv.now()
	out, _, err := inv.run(ctx, RetryTransient, listArgs...)
	if err != nil {
		return nil, err
	}
	l := ParseListing(out)
	if !l.Complete {
		return nil, &CmdError{Args: listArgs, Kind: KindGarbage,
			Stderr: "VBoxManage: error: unexpected output from list --multiple vms --long vms (no \"[vms]\" headers)"}
	}
	known := map[string]Known{}
	// Each round reads at least one more machine alone, from the finite
	// set of UUIDs the output names; normally there is no round at all.
	for round := 0; round < 1000; round++ {
		sus := l.Suspects(known)
		if len(sus) == 0 {
			break
		}
		sort.Strings(sus)
		for _, u := range sus {
			known[u] = inv.readAlone(ctx, u)
		}
	}
	ms, dropped, broken := l.Machines(known)
	for _, d := range dropped {
		inv.log.WithField("block", d).Warn("list --long vms: a block that is not a registered machine was left out")
	}
	s := &snapshot{start: start, at: inv.now(), sigs: l.Sigs(), byUUID: make(map[string]Machine, len(ms)),
		inaccessible: map[string]Machine{}, broken: broken}
	for _, b := range l.blocks {
		if sig, ok := s.sigs[b.m.UUID]; ok && sig.Settings == "" {
			sig.Settings, sig.SettingsNano = settingsStamp(b.m.ConfigFile)
			s.sigs[b.m.UUID] = sig
		}
	}
	for _, m := range ms {
		if m.Inaccessible {
			s.inaccessible[m.UUID] = m
			continue
		}
		if _, dup := s.byUUID[m.UUID]; dup {
			continue
		}
		s.order = append(s.order, m.UUID)
		s.byUUID[m.UUID] = m
	}
	return s, nil
}

// readAlone reads one machine with `showvminfo <uuid> --machinereadable`,
// whose strings are escaped, for a block the listing cannot prove.
func (inv *Inventory) readAlone(ctx context.Context, uuid string) Known {
	args := []string{"showvminfo", uuid, "--machinereadable"}
	out, _, err := inv.run(ctx, RetryTransient, args...)
	if err != nil {
		if KindOf(err) == KindNotFound {
			return Known{}
		}
		return Known{Err: err}
	}
	m := MachineFromInfo(ParseMachineReadable(out))
	if m.UUID != uuid {
		return Known{Err: &CmdError{Args: args, Kind: KindGarbage,
			Stderr: fmt.Sprintf("VBoxManage: error: output names machine %q, not %s", truncate(m.UUID, 40), uuid)}}
	}
	return Known{Machine: m, Found: true}
}

// warnUnlisted logs each machine that a refresh leaves out of the listing
// when it first is: inaccessible or unreadable. The caller holds inv.mu.
func (inv *Inventory) warnUnlisted(old, s *snapshot) {
	for u, m := range s.inaccessible {
		if old == nil || old.inaccessible[u].UUID == "" {
			inv.log.WithFields(logrus.Fields{"uuid": u, "config": m.ConfigFile}).
				Warn("machine is inaccessible (its settings file cannot be read); it is not listed")
		}
	}
	for u, err := range s.broken {
		if old == nil || old.broken[u] == nil {
			inv.log.WithField("uuid", u).WithError(err).Warn("machine cannot be read; it is not listed")
		}
	}
}

// settingsStamp is the size and modification time of a machine's settings
// file, which VirtualBox rewrites on every settings change (extradata
// included, which the listing does not print); "" when the daemon cannot
// see the file (another user's, a remote path).
func settingsStamp(path string) (string, int64) {
	if path == "" {
		return "", 0
	}
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return "", 0
	}
	return fmt.Sprintf("%d@%d", fi.Size(), fi.ModTime().UnixNano()), fi.ModTime().UnixNano()
}

// Watch records an open client connection and returns its release. While
// at least one is open, and for the linger after the last one closed, a
// watcher re-reads the listing every interval (one process for all
// machines), so readers are served from memory and changes made outside
// the daemon show within the interval plus one listing. Nothing runs when
// no client is connected.
func (inv *Inventory) Watch() (release func()) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.interval <= 0 || inv.closed {
		return func() {}
	}
	inv.watchers++
	if inv.lingerT != nil {
		inv.lingerT.Stop()
		inv.lingerT = nil
	}
	if inv.watchStop == nil {
		inv.watchStop = make(chan struct{})
		inv.bg.Add(1)
		go inv.watchLoop(inv.watchStop)
	}
	var once sync.Once
	return func() { once.Do(inv.unwatch) }
}

func (inv *Inventory) unwatch() {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.watchers--; inv.watchers > 0 || inv.watchStop == nil {
		return
	}
	if inv.linger <= 0 {
		inv.stopWatchLocked()
		return
	}
	inv.lingerT = time.AfterFunc(inv.linger, func() {
		inv.mu.Lock()
		defer inv.mu.Unlock()
		if inv.watchers == 0 {
			inv.stopWatchLocked()
		}
	})
}

// stopWatchLocked ends the watcher; the snapshot is then fresh only by its
// age again. The caller holds inv.mu.
func (inv *Inventory) stopWatchLocked() {
	if inv.lingerT != nil {
		inv.lingerT.Stop()
		inv.lingerT = nil
	}
	if inv.watchStop != nil {
		close(inv.watchStop)
		inv.watchStop = nil
	}
	inv.watchOK = false
	inv.misses = 0
}

// Watching reports whether the watcher runs.
func (inv *Inventory) Watching() bool {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.watchStop != nil
}

// Close stops the watcher and waits for the background reads (whose
// processes the driver kills at its close).
func (inv *Inventory) Close() {
	inv.mu.Lock()
	inv.closed = true
	inv.stopWatchLocked()
	inv.mu.Unlock()
	inv.bg.Wait()
}

// watchLoop refreshes the listing whenever the snapshot (or its own last
// attempt) is interval old, until stop is closed.
func (inv *Inventory) watchLoop(stop chan struct{}) {
	defer inv.bg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	last := inv.now()
	for {
		inv.mu.Lock()
		ref := last
		if s := inv.snap; s != nil && s.at.After(ref) {
			ref = s.at
		}
		inv.mu.Unlock()
		if wait := inv.interval - inv.now().Sub(ref); wait > 0 {
			timer.Reset(wait)
			select {
			case <-stop:
				return
			case <-timer.C:
			}
			continue
		}
		select {
		case <-stop:
			return
		default:
		}
		last = inv.now()
		if _, err := inv.refresh(context.Background()); err != nil {
			inv.log.WithError(err).Warn("watcher: listing the machines failed; readers refresh themselves until it works again")
		}
	}
}

// prefetchMissing reads, in the background, the settings and extradata of
// every listed machine that has none cached.
func (inv *Inventory) prefetchMissing() {
	inv.mu.Lock()
	var missing []string
	if s := inv.snap; s != nil {
		for _, u := range s.order {
			if _, ok := inv.details[u]; !ok {
				missing = append(missing, u)
			}
		}
	}
	inv.mu.Unlock()
	inv.prefetch(missing)
}

// prefetch reads the settings and extradata of uuids in the background, at
// most cap(sem) processes at a time, sharing reads with concurrent readers.
func (inv *Inventory) prefetch(uuids []string) {
	inv.mu.Lock()
	if inv.closed || len(uuids) == 0 {
		inv.fetching = false
		inv.mu.Unlock()
		return
	}
	inv.fetching = true
	sem, stop := inv.sem, inv.watchStop
	inv.bg.Add(1)
	inv.mu.Unlock()
	go func() {
		defer inv.bg.Done()
		var wg sync.WaitGroup
	loop:
		for _, u := range uuids {
			select {
			case sem <- struct{}{}:
			case <-stop:
				break loop
			}
			wg.Add(1)
			go func(u string) {
				defer func() { <-sem; wg.Done() }()
				ctx := context.Background()
				if _, err := inv.Detail(ctx, u); err != nil {
					return
				}
				inv.ExtraData(ctx, u, false)
			}(u)
		}
		wg.Wait()
		inv.mu.Lock()
		inv.fetching = false
		inv.mu.Unlock()
	}()
}
