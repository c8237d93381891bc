package vbox

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// count returns how many recorded commands start with prefix.
func (c *countingRunner) count(prefix string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, cmd := range c.cmds {
		if strings.HasPrefix(cmd, prefix) {
			n++
		}
	}
	return n
}

// N concurrent dumpxml of one machine start one showvminfo and read its
// extradata once (from its settings file: no getextradata); later ones
// start nothing.
func TestSimConcurrentDumpXMLReadsOnce(t *testing.T) {
	s := newSim(t)
	d := s.create("web")
	u := uuidString(d.UUID)
	s.drv.inv.Invalidate()
	before := s.runner.count("showvminfo " + u)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.conn.DomainGetXMLDesc(context.Background(), d, 0); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := s.runner.count("showvminfo "+u) - before; n != 1 {
		t.Errorf("16 concurrent dumpxml started %d showvminfo, want 1", n)
	}
	if n := s.drv.inv.ExtraDataReads(u); n != 1 {
		t.Errorf("16 concurrent dumpxml read the extradata %d times, want 1", n)
	}
	if n := s.runner.count("getextradata " + u); n != 0 {
		t.Errorf("16 concurrent dumpxml started %d getextradata, want 0 (the settings file has it)", n)
	}
	s.runner.reset()
	for i := 0; i < 5; i++ {
		if _, err := s.conn.DomainGetXMLDesc(context.Background(), d, 0); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.runner.reset(); n != 0 {
		t.Errorf("5 more dumpxml started %d VBoxManage, want 0", n)
	}
}

// waitRefresh waits for the next listing the watcher reads, or fails at
// deadline.
func waitRefresh(t *testing.T, inv *Inventory, deadline time.Time) {
	t.Helper()
	ch := inv.Refreshed()
	select {
	case <-ch:
	case <-time.After(time.Until(deadline)):
		t.Fatal("no listing refresh before the deadline")
	}
}

// A change made outside the daemon shows within 2 s while a client is
// connected, though nobody reads: the watcher's listing sees it, re-reads
// that machine once, and the next reads start nothing.
func TestSimOutsideChangeShowsWithoutReaders(t *testing.T) {
	s := newSim(t, withWatch(100*time.Millisecond, -1))
	a := s.create("a")
	b := s.create("b")
	ua, ub := uuidString(a.UUID), uuidString(b.UUID)
	ctx := context.Background()
	if _, err := s.conn.DomainGetXMLDesc(ctx, a, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.conn.DomainGetXMLDesc(ctx, b, 0); err != nil {
		t.Fatal(err)
	}
	beforeA, beforeB := s.runner.count("showvminfo "+ua), s.runner.count("showvminfo "+ub)

	s.vbm("modifyvm", ua, "--memory", "1536")
	changed := time.Now()
	deadline := changed.Add(2 * time.Second)
	for {
		waitRefresh(t, s.drv.inv, deadline)
		if m := findCached(s.drv.inv, ua); m.MemoryMB == 1536 {
			break
		}
	}
	// The re-read of the changed machine (settings, then extradata) runs
	// in the background; wait for it on the next refreshes (each is one
	// listing, no reader involved).
	xBefore := s.drv.inv.ExtraDataReads(ua)
	for s.runner.count("showvminfo "+ua) == beforeA || s.drv.inv.ExtraDataReads(ua) == xBefore {
		waitRefresh(t, s.drv.inv, deadline)
	}
	t.Logf("outside change seen after %v", time.Since(changed).Round(time.Millisecond))
	// Once, or twice when the first re-read started within mtimeSlack of
	// the settings file's write (it cannot be told from a read that
	// preceded a write stamped by a coarse clock, so it is repeated once).
	if n := s.runner.count("showvminfo "+ua) - beforeA; n != 1 && n != 2 {
		t.Errorf("the changed machine was read %d times, want 1 (2 when the first read raced the write)", n)
	}
	if n := s.runner.count("showvminfo "+ub) - beforeB; n != 0 {
		t.Errorf("the unchanged machine was read %d times, want 0", n)
	}
	nonList := func() int { return int(s.runner.n.Load()) - s.runner.count("list ") }
	others := nonList()
	x, err := s.conn.DomainGetXMLDesc(ctx, a, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(x, "<memory unit='KiB'>1572864</memory>") {
		t.Errorf("dumpxml after the outside change:\n%s", x)
	}
	if info, err := s.conn.DomainGetInfo(ctx, a); err != nil || info.MemoryKiB != 1536*1024 {
		t.Errorf("dominfo after the outside change: %+v %v", info, err)
	}
	if n := nonList() - others; n != 0 {
		t.Errorf("reads after the watcher saw the change started %d VBoxManage besides listings, want 0", n)
	}
}

func findCached(inv *Inventory, uuid string) Machine {
	for _, m := range inv.Cached() {
		if m.UUID == uuid {
			return m
		}
	}
	return Machine{}
}

// With no client connected the watcher stops and nothing runs; with one it
// lists (so the quiet is not vacuous).
func TestSimIdleRunsNothing(t *testing.T) {
	const interval = 50 * time.Millisecond
	s := newSim(t, withWatch(interval, -1))
	s.create("a")
	start := time.Now()
	waitRefresh(t, s.drv.inv, start.Add(2*time.Second))
	waitRefresh(t, s.drv.inv, start.Add(2*time.Second))
	if !s.drv.inv.Watching() {
		t.Fatal("no watcher with a client connected")
	}
	s.conn.Close()
	if s.drv.inv.Watching() {
		t.Fatal("the watcher runs after the last client left")
	}
	n := s.runner.n.Load()
	// An observation window of 10 intervals: nothing may start in it.
	ch := s.drv.inv.Refreshed()
	select {
	case <-ch:
		t.Error("the listing was refreshed with no client connected")
	case <-time.After(10 * interval):
	}
	if m := s.runner.n.Load() - n; m != 0 {
		t.Errorf("%d VBoxManage started with no client connected, want 0", m)
	}
}

// An extradata change made outside (which the listing does not print) shows
// too: VirtualBox rewrites the settings file, whose size and time are part of
// the machine's signature.
func TestSimOutsideExtraDataShows(t *testing.T) {
	s := newSim(t, withWatch(100*time.Millisecond, -1))
	a := s.create("a")
	ua := uuidString(a.UUID)
	ctx := context.Background()
	if _, err := s.conn.DomainGetXMLDesc(ctx, a, 0); err != nil {
		t.Fatal(err)
	}
	before := s.drv.inv.ExtraDataReads(ua)
	spawned := s.runner.count("getextradata " + ua)
	s.vbm("setextradata", ua, "virtvboxd/title", "set by hand")
	deadline := time.Now().Add(2 * time.Second)
	for s.drv.inv.ExtraDataReads(ua) == before {
		waitRefresh(t, s.drv.inv, deadline)
	}
	x, err := s.conn.DomainGetXMLDesc(ctx, a, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(x, "<title>set by hand</title>") {
		t.Errorf("dumpxml after setextradata by hand has no title:\n%s", x)
	}
	if n := s.drv.inv.ExtraDataReads(ua) - before; n != 1 {
		t.Errorf("extradata read %d times after one change, want 1", n)
	}
	if n := s.runner.count("getextradata "+ua) - spawned; n != 0 {
		t.Errorf("%d getextradata after one change, want 0 (the settings file has it)", n)
	}
}

// The daemon's own change costs the one read that checks its outcome: the
// watcher's next listings see the machine changed, but that read already
// saw it.
func TestSimOwnChangeReadOnce(t *testing.T) {
	s := newSim(t, withWatch(50*time.Millisecond, -1))
	a := s.create("a")
	ua := uuidString(a.UUID)
	ctx := context.Background()
	if _, err := s.conn.DomainGetXMLDesc(ctx, a, 0); err != nil {
		t.Fatal(err)
	}
	before := s.runner.count("showvminfo " + ua)
	if _, err := s.conn.DomainCreate(ctx, a, 0); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for i := 0; i < 3; i++ {
		waitRefresh(t, s.drv.inv, deadline)
	}
	if n := s.runner.count("showvminfo "+ua) - before; n != 1 {
		t.Errorf("start and three listings read the machine %d times, want 1 (the outcome check)", n)
	}
	x, err := s.conn.DomainGetXMLDesc(ctx, a, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(x, "<domain type='vbox' id=") {
		t.Errorf("dumpxml of the started machine has no id:\n%.200s", x)
	}
	if n := s.runner.count("showvminfo "+ua) - before; n != 1 {
		t.Errorf("dumpxml after the start read the machine again (%d reads)", n)
	}
}
