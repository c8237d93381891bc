package vbox

import (
	"context"
	"strings"
	"sync"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// Domain events (docs/events.md). VirtualBox tells nobody what changed, so
// events are differences: the hub keeps the picture it last published of
// every machine (name, state, a few settings) and compares it with the
// inventory's snapshot
//
//   - after every listing the inventory's watcher makes (Inventory.Refreshed):
//     changes made outside the daemon (the GUI, VBoxManage by hand) show
//     within the watch interval plus one listing, and cost nothing beyond
//     the watcher's one `list --long vms` per interval for all machines;
//   - when the daemon's own command on a machine releases the machine's lock
//     (vmLocks.released): the caches then hold the command's result and
//     States the reason it knows (destroyed, saved, restored...), so the
//     event carries the right detail. While the daemon's command holds a
//     machine, listings leave that machine alone, so a change is published
//     once, not by both paths.
//
// Nothing runs while nobody listens: the picture is dropped with the last
// subscription and taken again (from the inventory) by the next one.
type eventHub struct {
	d *Driver

	mu   sync.Mutex
	subs map[*eventSub]struct{}
	// view is the picture last published, by UUID; nil while nobody listens.
	view map[string]seenMachine
	stop chan struct{} // ends the follower of the watcher's listings
}

type eventSub struct {
	owner *conn
	f     func(driver.DomainEvent)
}

// seenMachine is what events are made of.
type seenMachine struct {
	name  string
	state string // VMState token, stable states only
	mem   int
	cpus  int
	auto  bool
}

func seen(m Machine) seenMachine {
	return seenMachine{name: m.Name, state: m.State, mem: m.MemoryMB, cpus: m.CPUs, auto: m.Autostart}
}

// sameSettings compares what both the listing and a single machine's read
// print alike (see agrees), so that a re-read is no change.
func (a seenMachine) sameSettings(b seenMachine) bool {
	return a.mem == b.mem && a.cpus == b.cpus && a.auto == b.auto
}

// DomainEventSubscribe implements driver.Conn. The first subscription takes
// the picture events are compared with (a listing unless the inventory is
// fresh) and starts following the watcher, which runs while any connection
// is open.
func (c *conn) DomainEventSubscribe(ctx context.Context, f func(driver.DomainEvent)) (func(), error) {
	if f == nil {
		return func() {}, errdefs.New(errdefs.ErrInvalidArg, "no event callback")
	}
	h := &c.d.events
	h.mu.Lock()
	listening := h.view != nil
	h.mu.Unlock()
	if !listening {
		if _, err := c.d.inv.List(ctx); err != nil {
			return func() {}, vboxError("cannot list machines", err)
		}
	}
	s := &eventSub{owner: c, f: f}
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[*eventSub]struct{}{}
	}
	h.subs[s] = struct{}{}
	if h.view == nil {
		h.view = map[string]seenMachine{}
		snap := h.d.inv.current0()
		if snap != nil {
			for _, u := range snap.order {
				h.view[u] = seen(snap.byUUID[u])
			}
		}
		h.stop = make(chan struct{})
		go h.follow(h.stop)
	}
	h.mu.Unlock()
	var once sync.Once
	return func() { once.Do(func() { h.drop(s) }) }, nil
}

// drop ends one subscription; the last one stops the hub.
func (h *eventHub) drop(s *eventSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs, s)
	h.idleLocked()
}

// dropConn ends every subscription of c (its connection closed).
func (h *eventHub) dropConn(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if s.owner == c {
			delete(h.subs, s)
		}
	}
	h.idleLocked()
}

func (h *eventHub) idleLocked() {
	if len(h.subs) > 0 || h.view == nil {
		return
	}
	h.view = nil
	close(h.stop)
	h.stop = nil
}

// follow compares the picture with every listing the inventory makes until
// stop is closed or the driver closes.
func (h *eventHub) follow(stop chan struct{}) {
	for {
		next := h.d.inv.Refreshed()
		select {
		case <-stop:
			return
		case <-h.d.life.Done(): // the driver closed
			return
		case <-next:
		}
		h.compareAll()
	}
}

// current0 returns the inventory's snapshot without refreshing it.
func (inv *Inventory) current0() *snapshot {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.snap
}

// compareAll publishes what changed in the inventory's snapshot, leaving
// out the machines a command of the daemon holds (released publishes them).
func (h *eventHub) compareAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	snap := h.d.inv.current0()
	if h.view == nil || snap == nil {
		return
	}
	for _, u := range snap.order {
		if h.d.locks.busy(u) {
			continue
		}
		h.compareLocked(u, snap.byUUID[u], true)
	}
	for u, was := range h.view {
		if _, ok := snap.byUUID[u]; ok || h.d.locks.busy(u) {
			continue
		}
		if _, ok := snap.inaccessible[u]; ok {
			continue // still registered; its own calls report why
		}
		if _, ok := snap.broken[u]; ok {
			continue
		}
		h.goneLocked(u, was)
	}
}

// released runs when the daemon's command on key (a machine's UUID)
// releases the machine's lock: the caches hold its result.
func (h *eventHub) released(key string) {
	if strings.HasPrefix(key, "name:") {
		return
	}
	u := strings.ToLower(key)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.view == nil {
		return
	}
	snap := h.d.inv.current0()
	if snap == nil {
		return
	}
	if m, ok := snap.byUUID[u]; ok {
		h.compareLocked(u, m, false)
		return
	}
	if was, ok := h.view[u]; ok {
		if _, ok := snap.inaccessible[u]; !ok {
			h.goneLocked(u, was)
		}
	}
}

// defined publishes DEFINED UPDATED for m: libvirt sends it for every
// define of an existing domain, changed or not.
func (h *eventHub) defined(m Machine) {
	h.emitFor(m, driver.DomainEventIDLifecycle, driver.EventDefined, driver.DetailDefinedUpdated)
}

// reboot publishes DOMAIN_EVENT_ID_REBOOT: the guest was reset (virsh reboot
// and reset both reset a VirtualBox machine).
func (h *eventHub) reboot(m Machine) {
	h.emitFor(m, driver.DomainEventIDReboot, 0, 0)
}

func (h *eventHub) emitFor(m Machine, id driver.DomainEventID, ev, detail int32) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.view == nil {
		return
	}
	h.emitLocked(driver.DomainEvent{ID: id, Domain: h.d.domainOf(m), Event: ev, Detail: detail})
}

func (h *eventHub) emitLocked(ev driver.DomainEvent) {
	for s := range h.subs {
		s.f(ev)
	}
}

func (h *eventHub) lifecycleLocked(dom driver.Domain, ev, detail int32) {
	h.emitLocked(driver.DomainEvent{ID: driver.DomainEventIDLifecycle, Domain: dom, Event: ev, Detail: detail})
}

// goneLocked publishes UNDEFINED REMOVED for a machine no longer registered.
func (h *eventHub) goneLocked(u string, was seenMachine) {
	delete(h.view, u)
	id, _ := parseUUID(u)
	h.lifecycleLocked(driver.Domain{Name: was.name, UUID: id, ID: -1}, driver.EventUndefined, driver.DetailUndefinedRemoved)
}

// compareLocked publishes how m differs from its picture and records it.
// foreign says the change was made outside the daemon: a settings change
// is then DEFINED UPDATED (the daemon's own setmem, setvcpus, autostart
// send none, as libvirt's drivers; its define sends one itself).
func (h *eventHub) compareLocked(u string, m Machine, foreign bool) {
	was, known := h.view[u]
	cur := seen(m)
	dom := h.d.domainOf(m)
	if !known {
		h.view[u] = cur
		h.lifecycleLocked(dom, driver.EventDefined, driver.DetailDefinedAdded)
		if IsOnline(m.State) {
			// Registered while running (another VirtualBox client).
			h.lifecycleLocked(dom, driver.EventStarted, driver.DetailStartedBooted)
		}
		return
	}
	if was.name != cur.name {
		id, _ := parseUUID(u)
		h.lifecycleLocked(driver.Domain{Name: was.name, UUID: id, ID: dom.ID}, driver.EventUndefined, driver.DetailUndefinedRenamed)
		h.lifecycleLocked(dom, driver.EventDefined, driver.DetailDefinedRenamed)
	} else if foreign && !was.sameSettings(cur) {
		h.lifecycleLocked(dom, driver.EventDefined, driver.DetailDefinedUpdated)
	}
	if !stableState(cur.state) {
		cur.state = was.state // wait for where the transition ends
	} else if cur.state != was.state {
		_, reason := h.d.states.State(m)
		for _, e := range transition(was.state, cur.state, reason) {
			h.lifecycleLocked(dom, e[0], e[1])
		}
	}
	h.view[u] = cur
}

// stableState reports whether a machine may stay in state: transitional
// states (starting, stopping, saving, restoring, snapshotting...) produce
// no event; the state they lead to does.
func stableState(state string) bool {
	switch state {
	case "running", "paused", "poweroff", "saved", "aborted", "aborted-saved", "gurumeditation", "teleported":
		return true
	}
	return false
}

// transition gives the lifecycle events (event, detail) of a machine going
// from state was to state now, reason being libvirt's state reason for now
// (States: the daemon's cause when it caused it).
func transition(was, now string, reason int32) [][2]int32 {
	// A picture taken during a transition (the first subscription's) is
	// where the transition started.
	switch was {
	case "starting":
		was = "poweroff"
	case "restoring":
		was = "saved"
	}
	on, wasOn := IsOnline(now), IsOnline(was)
	var out [][2]int32
	add := func(ev, detail int32) { out = append(out, [2]int32{ev, detail}) }
	switch {
	case !wasOn && on:
		switch {
		case reason == RunningRestored || HasSavedState(was):
			add(driver.EventStarted, driver.DetailStartedRestored)
		case reason == runningFromSnapshot:
			add(driver.EventStarted, driver.DetailStartedFromSnapshot)
		default:
			add(driver.EventStarted, driver.DetailStartedBooted)
		}
		switch now {
		case "paused":
			add(driver.EventSuspended, driver.DetailSuspendedPaused)
		case "gurumeditation":
			add(driver.EventCrashed, driver.DetailCrashedPanicked)
		}
	case wasOn && on:
		switch now {
		case "paused":
			add(driver.EventSuspended, suspendedDetail(reason))
		case "running":
			if reason == runningFromSnapshot {
				add(driver.EventResumed, driver.DetailResumedFromSnapshot)
			} else {
				add(driver.EventResumed, driver.DetailResumedUnpaused)
			}
		case "gurumeditation":
			add(driver.EventCrashed, driver.DetailCrashedPanicked)
		}
	case wasOn && !on:
		switch {
		case now == "saved":
			add(driver.EventStopped, driver.DetailStoppedSaved)
		case now == "aborted" || now == "aborted-saved":
			// The VM process ended unexpectedly (libvirt: the emulator failed).
			add(driver.EventStopped, driver.DetailStoppedFailed)
		case now == "teleported":
			add(driver.EventStopped, driver.DetailStoppedMigrated)
		case reason == ShutoffDestroyed:
			add(driver.EventStopped, driver.DetailStoppedDestroyed)
		case reason == ShutoffFromSnapshot:
			add(driver.EventStopped, driver.DetailStoppedFromSnapshot)
		case reason == ShutoffCrashed:
			add(driver.EventStopped, driver.DetailStoppedCrashed)
		default:
			// Powered off without the daemon's destroy: the guest shut
			// down (States records the reason SHUTDOWN), as after an ACPI
			// shutdown; libvirt first reports the guest's shutdown.
			add(driver.EventShutdown, driver.DetailShutdownFinished)
			add(driver.EventStopped, driver.DetailStoppedShutdown)
		}
	}
	return out
}

// runningFromSnapshot is VIR_DOMAIN_RUNNING_FROM_SNAPSHOT.
const runningFromSnapshot = 4

func suspendedDetail(reason int32) int32 {
	switch reason {
	case PausedMigration:
		return driver.DetailSuspendedMigrated
	case PausedSnapshot:
		return driver.DetailSuspendedFromSnapshot
	}
	return driver.DetailSuspendedPaused
}

// busy reports whether a command of the daemon holds (or waits for) key.
func (l *vmLocks) busy(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m[key] != nil
}
