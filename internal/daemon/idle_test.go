package daemon

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock replaces time.AfterFunc: timers fire only when the test says.
type fakeClock struct {
	mu     sync.Mutex
	timers []*fakeTimer
}

type fakeTimer struct {
	d       time.Duration
	f       func()
	stopped bool
}

func (t *fakeTimer) Stop() bool { was := !t.stopped; t.stopped = true; return was }

func (c *fakeClock) after(d time.Duration, f func()) stopper {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{d: d, f: f}
	c.timers = append(c.timers, t)
	return t
}

// pending returns the armed timers.
func (c *fakeClock) pending() []*fakeTimer {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*fakeTimer
	for _, t := range c.timers {
		if !t.stopped {
			out = append(out, t)
		}
	}
	return out
}

// fire runs the one armed timer, as the runtime would when it expires.
func (c *fakeClock) fire(t *testing.T) {
	t.Helper()
	p := c.pending()
	if len(p) != 1 {
		t.Fatalf("%d timers armed, want 1", len(p))
	}
	p[0].stopped = true
	p[0].f()
}

type idleFixture struct {
	clock   *fakeClock
	clients atomic.Int32
	busy    atomic.Int32
	expired atomic.Int32
	timer   *IdleTimer
}

func newIdleFixture(timeout time.Duration) *idleFixture {
	f := &idleFixture{clock: &fakeClock{}}
	f.timer = NewIdleTimer(timeout,
		func() int { return int(f.clients.Load()) },
		func() int { return int(f.busy.Load()) },
		func() { f.expired.Add(1) })
	f.timer.after = f.clock.after
	return f
}

func TestIdleTimerExpiresWithoutClients(t *testing.T) {
	f := newIdleFixture(3 * time.Second)
	f.timer.Update()
	p := f.clock.pending()
	if len(p) != 1 || p[0].d != 3*time.Second {
		t.Fatalf("want one 3s timer armed at start, got %+v", p)
	}
	f.clock.fire(t)
	if f.expired.Load() != 1 {
		t.Fatal("timer fired without clients but the daemon was not told to exit")
	}
	f.timer.Update()
	if len(f.clock.pending()) != 0 {
		t.Error("timer re-armed after expiring")
	}
}

func TestIdleTimerNeverRunsWhileAClientIsConnected(t *testing.T) {
	f := newIdleFixture(time.Second)
	f.timer.Update()
	f.clients.Store(1)
	f.timer.Update() // a client connected
	if n := len(f.clock.pending()); n != 0 {
		t.Fatalf("%d timers armed while a client is connected", n)
	}
	f.clients.Store(0)
	f.timer.Update() // it left: a fresh countdown
	if n := len(f.clock.pending()); n != 1 {
		t.Fatalf("%d timers armed after the last client left, want 1", n)
	}
	f.clock.fire(t)
	if f.expired.Load() != 1 {
		t.Fatal("did not expire after the last client left")
	}
}

func TestIdleTimerIgnoresAFiringRacingAClient(t *testing.T) {
	f := newIdleFixture(time.Second)
	f.timer.Update()
	p := f.clock.pending()[0]
	f.clients.Store(1) // connected, but Update not yet called
	p.f()
	if f.expired.Load() != 0 {
		t.Fatal("expired while a client was connected")
	}
}

func TestIdleTimerRunningDomainsKeepDaemonAlive(t *testing.T) {
	f := newIdleFixture(time.Second)
	f.busy.Store(2)
	f.timer.Update()
	f.clock.fire(t)
	if f.expired.Load() != 0 {
		t.Fatal("expired while domains run")
	}
	if n := len(f.clock.pending()); n != 1 {
		t.Fatalf("want the timer re-armed while domains run, %d armed", n)
	}
	f.busy.Store(0)
	f.clock.fire(t)
	if f.expired.Load() != 1 {
		t.Fatal("did not expire once the domains stopped")
	}
}

func TestIdleTimerSetTimeout(t *testing.T) {
	f := newIdleFixture(0)
	f.timer.Update()
	if n := len(f.clock.pending()); n != 0 {
		t.Fatalf("timeout 0 armed %d timers", n)
	}
	f.timer.SetTimeout(5 * time.Second)
	p := f.clock.pending()
	if len(p) != 1 || p[0].d != 5*time.Second {
		t.Fatalf("SetTimeout(5s) while idle: %+v", p)
	}
	f.timer.SetTimeout(0)
	if n := len(f.clock.pending()); n != 0 {
		t.Fatalf("SetTimeout(0) left %d timers armed", n)
	}
	// A stale firing of the cancelled timer must not end the daemon.
	p[0].f()
	if f.expired.Load() != 0 {
		t.Fatal("a cancelled timer ended the daemon")
	}
	if f.timer.Timeout() != 0 {
		t.Errorf("Timeout() = %v", f.timer.Timeout())
	}
}

func TestIdleTimerStop(t *testing.T) {
	f := newIdleFixture(time.Second)
	f.timer.Update()
	p := f.clock.pending()[0]
	f.timer.Stop()
	p.f()
	f.timer.Update()
	if f.expired.Load() != 0 || len(f.clock.pending()) != 0 {
		t.Fatal("timer active after Stop")
	}
}

// TestIdleTimerRealClock checks the production clock end to end with a tiny
// timeout; the wait only guards against a hang.
func TestIdleTimerRealClock(t *testing.T) {
	done := make(chan struct{})
	tm := NewIdleTimer(10*time.Millisecond, func() int { return 0 }, nil, func() { close(done) })
	tm.Update()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("idle timer never fired")
	}
}
