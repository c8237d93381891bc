package daemon

import (
	"sync"
	"time"
)

// IdleTimer implements --timeout: it calls its expire function once the
// daemon has had no client on any server for the timeout, provided nothing
// else keeps it busy (running domains). While busy it looks again every
// timeout, as libvirt's repeating auto-shutdown timer does.
//
// The timer never runs while a client is connected: Update, called after
// every connect and disconnect, stops it as soon as the client count is
// non-zero and arms it afresh when the count falls back to zero. A timeout
// of zero disables it.
type IdleTimer struct {
	clients func() int // connected clients over every server
	busy    func() int // reasons to stay up without clients; may be nil
	expire  func()
	after   func(d time.Duration, f func()) stopper // time.AfterFunc; replaced in tests

	mu      sync.Mutex // guards the fields that follow
	timeout time.Duration
	timer   stopper
	gen     uint64 // bumped on every (re)arm and stop; a firing of an older timer is ignored
	expired bool
}

type stopper interface{ Stop() bool }

// NewIdleTimer returns a stopped timer. clients counts the connected clients
// of every server (the admin server included); busy, if not nil, returns how
// many running domains keep the daemon alive; expire is called at most once,
// from the timer's goroutine. Call Update once the servers listen to start
// counting.
func NewIdleTimer(timeout time.Duration, clients, busy func() int, expire func()) *IdleTimer {
	return &IdleTimer{
		clients: clients,
		busy:    busy,
		expire:  expire,
		timeout: timeout,
		after: func(d time.Duration, f func()) stopper {
			return time.AfterFunc(d, f)
		},
	}
}

// Update re-evaluates the timer after the client count may have changed. It
// is safe to call from any goroutine.
func (t *IdleTimer) Update() {
	n := t.clients()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.expired {
		return
	}
	if t.timeout <= 0 || n > 0 {
		t.stopLocked()
		return
	}
	if t.timer == nil {
		t.armLocked()
	}
}

// SetTimeout changes the timeout (virt-admin daemon-timeout). A running
// countdown restarts with the new value; zero disables the timer.
func (t *IdleTimer) SetTimeout(d time.Duration) {
	t.mu.Lock()
	t.timeout = d
	t.stopLocked()
	t.mu.Unlock()
	t.Update()
}

// Timeout returns the current timeout.
func (t *IdleTimer) Timeout() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.timeout
}

// Stop disarms the timer for good; expire will not be called afterwards.
func (t *IdleTimer) Stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopLocked()
	t.expired = true
}

func (t *IdleTimer) stopLocked() {
	if t.timer != nil {
		t.timer.Stop()
		t.timer = nil
	}
	t.gen++
}

func (t *IdleTimer) armLocked() {
	t.gen++
	gen := t.gen
	t.timer = t.after(t.timeout, func() { t.fire(gen) })
}

func (t *IdleTimer) fire(gen uint64) {
	t.mu.Lock()
	if gen != t.gen || t.expired {
		t.mu.Unlock()
		return
	}
	t.timer = nil
	t.mu.Unlock()

	// Ask outside the lock: counting domains may take a while.
	if t.clients() > 0 {
		return // a client came in; its disconnect re-arms through Update
	}
	if t.busy != nil && t.busy() > 0 {
		t.mu.Lock()
		if gen == t.gen && !t.expired && t.timer == nil {
			t.armLocked()
		}
		t.mu.Unlock()
		return
	}

	t.mu.Lock()
	if gen != t.gen || t.expired {
		t.mu.Unlock()
		return
	}
	t.expired = true
	t.mu.Unlock()
	t.expire()
}
