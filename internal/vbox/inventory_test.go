package vbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// TestInventoryDirtyDuringRefresh: a change the daemon makes while a list
// refresh is in flight must not be hidden by that (older) refresh.
func TestInventoryDirtyDuringRefresh(t *testing.T) {
	const u = "00000000-0000-4000-8000-000000000001"
	var mu sync.Mutex
	state := "poweroff"
	calls := map[string]int{}
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	run := func(ctx context.Context, _ RetryPolicy, args ...string) ([]byte, []byte, error) {
		mu.Lock()
		calls[args[0]]++
		st := state
		mu.Unlock()
		switch args[0] {
		case "list":
			started <- struct{}{}
			<-release
			return []byte(testListing([]Machine{{Name: "vm", UUID: u, State: st}})), nil, nil
		case "showvminfo":
			return []byte(fmt.Sprintf("name=\"vm\"\nUUID=\"%s\"\nVMState=\"%s\"\n", u, st)), nil, nil
		}
		return nil, nil, fmt.Errorf("unexpected %v", args)
	}
	states, _ := LoadStates("")
	inv := NewInventory(run, states, time.Hour)
	done := make(chan error)
	go func() {
		_, err := inv.List(context.Background())
		done <- err
	}()
	<-started
	// The daemon starts the machine while the listing is in flight.
	mu.Lock()
	state = "running"
	mu.Unlock()
	inv.MarkDirty(u)
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	m, err := inv.Get(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	if m.State != "running" {
		t.Errorf("state %q: the stale refresh won", m.State)
	}
	if calls["showvminfo"] != 1 {
		t.Errorf("showvminfo ran %d times, want 1", calls["showvminfo"])
	}
	if id := states.ID(u); id != 1 {
		t.Errorf("running machine has id %d", id)
	}
	// Now clean: no more processes while fresh.
	before := calls["list"] + calls["showvminfo"]
	inv.Get(context.Background(), u)
	inv.List(context.Background())
	if after := calls["list"] + calls["showvminfo"]; after != before {
		t.Errorf("%d processes from a fresh cache", after-before)
	}
}

func TestStatesPersistence(t *testing.T) {
	path := t.TempDir() + "/ids.json"
	s, err := LoadStates(path)
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := "a", "b", "c"
	s.Observe([]Machine{{UUID: a, State: "running"}, {UUID: b, State: "paused"}, {UUID: c, State: "poweroff"}}, true)
	s.SetCause(b, "paused", PausedUser)
	s.Observe([]Machine{{UUID: a, State: "poweroff"}, {UUID: b, State: "paused"}, {UUID: c, State: "running"}}, true)
	if s.ID(a) != -1 || s.ID(b) != 2 || s.ID(c) != 3 {
		t.Fatalf("ids a=%d b=%d c=%d", s.ID(a), s.ID(b), s.ID(c))
	}
	if st, r := s.State(Machine{UUID: a, State: "poweroff"}); st != 5 || r != ShutoffShutdown {
		t.Errorf("a went off by itself: %d/%d", st, r)
	}
	s2, err := LoadStates(path)
	if err != nil {
		t.Fatal(err)
	}
	if s2.ID(b) != 2 || s2.ID(c) != 3 || s2.ID(a) != -1 {
		t.Errorf("reloaded ids b=%d c=%d a=%d", s2.ID(b), s2.ID(c), s2.ID(a))
	}
	if _, r := s2.State(Machine{UUID: b, State: "paused"}); r != PausedUser {
		t.Errorf("reloaded cause %d", r)
	}
	if _, err := LoadStates(t.TempDir() + "/missing.json"); err != nil {
		t.Errorf("missing file: %v", err)
	}
}

// TestInventoryApplyDuringRefresh: a certain change the daemon applied while
// an older listing was in flight survives that listing.
func TestInventoryApplyDuringRefresh(t *testing.T) {
	const u = "00000000-0000-4000-8000-000000000001"
	var block bool
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	run := func(ctx context.Context, _ RetryPolicy, args ...string) ([]byte, []byte, error) {
		if block {
			started <- struct{}{}
			<-release
		}
		// VirtualBox still reports the old state to the old listing.
		return []byte(testListing([]Machine{{Name: "vm", UUID: u, State: "poweroff"}})), nil, nil
	}
	states, _ := LoadStates("")
	inv := NewInventory(run, states, time.Hour)
	if _, err := inv.List(context.Background()); err != nil {
		t.Fatal(err)
	}
	block = true
	inv.Invalidate()
	done := make(chan error)
	go func() {
		_, err := inv.List(context.Background())
		done <- err
	}()
	<-started
	if !inv.Apply(u, func(m *Machine) { m.State = "running" }) {
		t.Fatal("Apply on a known machine failed")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	block = false
	m, err := inv.Get(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	if m.State != "running" {
		t.Errorf("state %q: the older listing undid the daemon's change", m.State)
	}
	if inv.Apply("unknown", func(*Machine) {}) {
		t.Error("Apply on an unknown machine succeeded")
	}
}

// TestInventoryMissesShareOneRefresh: lookups of names and UUIDs that do not
// exist refresh the listing at most once per MaxAge, whoever asks; a machine
// registered behind the daemon's back is still found by the first miss.
func TestInventoryMissesShareOneRefresh(t *testing.T) {
	var mu sync.Mutex
	lists := 0
	machines := []Machine{{Name: "a", UUID: "00000000-0000-4000-8000-00000000000a", State: "poweroff"}}
	run := func(ctx context.Context, _ RetryPolicy, args ...string) ([]byte, []byte, error) {
		mu.Lock()
		defer mu.Unlock()
		if args[0] != "list" {
			return nil, nil, fmt.Errorf("unexpected %v", args)
		}
		lists++
		return []byte(testListing(machines)), nil, nil
	}
	states, _ := LoadStates("")
	inv := NewInventory(run, states, time.Second)
	clock := time.Unix(1700000000, 0)
	inv.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	ctx := context.Background()
	byName := func(n string) func(Machine) bool { return func(m Machine) bool { return m.Name == n } }
	if _, err := inv.List(ctx); err != nil {
		t.Fatal(err)
	}
	// Registered behind our back: the first miss refreshes and finds it.
	mu.Lock()
	machines = append(machines, Machine{Name: "b", UUID: "00000000-0000-4000-8000-00000000000b", State: "poweroff"})
	mu.Unlock()
	if _, err := inv.Find(ctx, byName("b")); err != nil {
		t.Fatalf("b not found: %v", err)
	}
	if lists != 2 {
		t.Fatalf("%d listings, want 2", lists)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 20; j++ {
				if _, err := inv.Find(ctx, byName(fmt.Sprintf("nope-%d-%d", i, j))); !errors.Is(err, errNotFound) {
					t.Errorf("miss: %v", err)
				}
				if _, err := inv.Get(ctx, fmt.Sprintf("00000000-0000-4000-8000-%012d", 100+j)); !errors.Is(err, errNotFound) {
					t.Errorf("miss: %v", err)
				}
			}
		}(i)
	}
	wg.Wait()
	if lists != 2 {
		t.Errorf("320 misses within MaxAge ran %d more listings, want 0", lists-2)
	}
	// A cache age later, one miss may refresh again.
	mu.Lock()
	clock = clock.Add(1500 * time.Millisecond)
	mu.Unlock()
	for j := 0; j < 10; j++ {
		inv.Find(ctx, byName("nope"))
	}
	if lists > 4 {
		t.Errorf("%d listings after a cache age, want at most 4", lists)
	}
}

// TestInventoryUnreadableMachine: a machine whose block is cut and whose own
// read fails is left out of the listing; the others are listed, and only its
// own lookups fail, classed.
func TestInventoryUnreadableMachine(t *testing.T) {
	fs := fakeTrio("d")
	full := renderFake(fs, false)
	charlie := fs[2].m.UUID
	reads := 0
	run := func(ctx context.Context, _ RetryPolicy, args ...string) ([]byte, []byte, error) {
		switch args[0] {
		case "list":
			return []byte(full[:len(full)-300]), nil, nil
		case "showvminfo":
			reads++
			if args[1] == charlie {
				return nil, nil, &CmdError{Args: args, Kind: KindCrashed, Stderr: "VBoxManage: error: killed by signal"}
			}
		}
		return nil, nil, fmt.Errorf("unexpected %v", args)
	}
	states, _ := LoadStates("")
	inv := NewInventory(run, states, time.Hour)
	ms, err := inv.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Name != "alpha" || ms[1].Name != "bravo" || reads != 1 {
		t.Fatalf("listed %+v after %d reads", ms, reads)
	}
	_, err = inv.Get(context.Background(), charlie)
	if !errors.Is(err, errdefs.ErrOperationFailed) || !strings.Contains(errdefs.Detail(err), charlie) {
		t.Errorf("lookup of the unreadable machine: %v", err)
	}
	if _, err := inv.Get(context.Background(), fs[0].m.UUID); err != nil {
		t.Errorf("alpha: %v", err)
	}
}
