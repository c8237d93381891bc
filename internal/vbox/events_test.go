package vbox

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/virtvboxd/virtvboxd/internal/driver"
)

// evString spells an event for comparisons: "lifecycle NAME EVENT/DETAIL"
// or "reboot NAME".
func evString(ev driver.DomainEvent) string {
	if ev.ID == driver.DomainEventIDReboot {
		return "reboot " + ev.Domain.Name
	}
	return fmt.Sprintf("lifecycle %s %d/%d", ev.Domain.Name, ev.Event, ev.Detail)
}

func lc(name string, ev, detail int32) string {
	return fmt.Sprintf("lifecycle %s %d/%d", name, ev, detail)
}

type eventLog struct {
	t  *testing.T
	s  *simEnv
	ch chan driver.DomainEvent
}

func (s *simEnv) listen(t *testing.T) (*eventLog, func()) {
	l := &eventLog{t: t, s: s, ch: make(chan driver.DomainEvent, 1024)}
	cancel, err := s.conn.DomainEventSubscribe(context.Background(), func(ev driver.DomainEvent) { l.ch <- ev })
	if err != nil {
		t.Fatal(err)
	}
	return l, cancel
}

// expect reads the next len(want) events (waiting for the watcher at most
// 5 s), then waits for two more listings and checks that nothing else came:
// a change is published once.
func (l *eventLog) expect(step string, want ...string) {
	l.t.Helper()
	var got []string
	timeout := time.After(5 * time.Second)
	for len(got) < len(want) {
		select {
		case ev := <-l.ch:
			got = append(got, evString(ev))
		case <-timeout:
			l.t.Fatalf("%s: got %q within 5 s, want %q", step, got, want)
		}
	}
	for i := 0; i < 2; i++ {
		<-l.s.drv.inv.Refreshed()
	}
	for len(l.ch) > 0 {
		got = append(got, evString(<-l.ch))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		l.t.Errorf("%s:\n got %q\nwant %q", step, got, want)
	}
}

// TestEventsOnce: the daemon's own lifecycle commands publish one event
// each with libvirt's detail (destroyed, saved, restored...), not a second
// one when the watcher's next listing sees the same change; changes made
// with VBoxManage behind the daemon's back are published by the watcher;
// the daemon's own settings changes publish nothing, its define DEFINED
// UPDATED; a cancelled subscription gets nothing more.
func TestEventsOnce(t *testing.T) {
	s := newSim(t, withWatch(30*time.Millisecond, -1))
	ctx := context.Background()
	dom := s.create("ev")
	l, cancel := s.listen(t)
	u := uuidString(dom.UUID)
	do := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	create := func() error { _, err := s.conn.DomainCreate(ctx, dom, 0); return err }
	steps := []struct {
		name string
		do   func()
		want []string
	}{
		{"start", func() { do("start", create()) }, []string{lc("ev", driver.EventStarted, driver.DetailStartedBooted)}},
		{"suspend", func() { do("suspend", s.conn.DomainSuspend(ctx, dom)) }, []string{lc("ev", driver.EventSuspended, driver.DetailSuspendedPaused)}},
		{"resume", func() { do("resume", s.conn.DomainResume(ctx, dom)) }, []string{lc("ev", driver.EventResumed, driver.DetailResumedUnpaused)}},
		{"reboot", func() { do("reboot", s.conn.DomainReboot(ctx, dom, 0)) }, []string{"reboot ev"}},
		{"destroy", func() { do("destroy", s.conn.DomainDestroy(ctx, dom, 0)) }, []string{lc("ev", driver.EventStopped, driver.DetailStoppedDestroyed)}},
		{"start paused", func() { _, err := s.conn.DomainCreate(ctx, dom, startPaused); do("start --paused", err) },
			[]string{lc("ev", driver.EventStarted, driver.DetailStartedBooted), lc("ev", driver.EventSuspended, driver.DetailSuspendedPaused)}},
		{"managedsave", func() { do("managedsave", s.conn.DomainManagedSave(ctx, dom, 0)) }, []string{lc("ev", driver.EventStopped, driver.DetailStoppedSaved)}},
		{"start from saved", func() { do("start", create()) }, []string{lc("ev", driver.EventStarted, driver.DetailStartedRestored)}},
		{"shutdown (ACPI: the guest powers off)", func() { do("shutdown", s.conn.DomainShutdown(ctx, dom, 0)) },
			[]string{lc("ev", driver.EventShutdown, driver.DetailShutdownFinished), lc("ev", driver.EventStopped, driver.DetailStoppedShutdown)}},
		{"setmem (the daemon's settings change)", func() { do("setmem", s.conn.DomainSetMemory(ctx, dom, 1024*1024, affectConfig)) }, nil},
		{"define (update)", func() {
			x, err := s.conn.DomainGetXMLDesc(ctx, dom, xmlInactive)
			do("dumpxml", err)
			_, err = s.conn.DomainDefineXML(ctx, x, 0)
			do("define", err)
		}, []string{lc("ev", driver.EventDefined, driver.DetailDefinedUpdated)}},
		// Behind the daemon's back: the watcher's listings.
		{"startvm by hand", func() { s.vbm("startvm", u, "--type", "headless") }, []string{lc("ev", driver.EventStarted, driver.DetailStartedBooted)}},
		{"pause by hand", func() { s.vbm("controlvm", u, "pause") }, []string{lc("ev", driver.EventSuspended, driver.DetailSuspendedPaused)}},
		{"resume by hand", func() { s.vbm("controlvm", u, "resume") }, []string{lc("ev", driver.EventResumed, driver.DetailResumedUnpaused)}},
		{"poweroff by hand", func() { s.vbm("controlvm", u, "poweroff") },
			[]string{lc("ev", driver.EventShutdown, driver.DetailShutdownFinished), lc("ev", driver.EventStopped, driver.DetailStoppedShutdown)}},
		{"modifyvm by hand", func() { s.vbm("modifyvm", u, "--cpus", "2") }, []string{lc("ev", driver.EventDefined, driver.DetailDefinedUpdated)}},
		{"rename by hand", func() { s.vbm("modifyvm", u, "--name", "ev2") },
			[]string{lc("ev", driver.EventUndefined, driver.DetailUndefinedRenamed), lc("ev2", driver.EventDefined, driver.DetailDefinedRenamed)}},
		{"createvm by hand", func() { s.vbm("createvm", "--name", "other", "--register") }, []string{lc("other", driver.EventDefined, driver.DetailDefinedAdded)}},
		{"unregistervm by hand", func() { s.vbm("unregistervm", "other", "--delete") }, []string{lc("other", driver.EventUndefined, driver.DetailUndefinedRemoved)}},
		{"undefine", func() {
			dom.Name = "ev2"
			do("undefine", s.conn.DomainUndefine(ctx, dom, 0))
		}, []string{lc("ev2", driver.EventUndefined, driver.DetailUndefinedRemoved)}},
	}
	for _, st := range steps {
		st.do()
		l.expect(st.name, st.want...)
	}
	cancel()
	s.create("after")
	for i := 0; i < 2; i++ {
		<-s.drv.inv.Refreshed()
	}
	if len(l.ch) != 0 {
		t.Errorf("%d events after the subscription was cancelled", len(l.ch))
	}
}

// TestEventTransitions: the lifecycle events of each state change the
// watcher can see, with the reason States gives.
func TestEventTransitions(t *testing.T) {
	E := func(ev, detail int32) [2]int32 { return [2]int32{ev, detail} }
	cases := []struct {
		was, now string
		reason   int32
		want     [][2]int32
	}{
		{"poweroff", "running", RunningBooted, [][2]int32{E(driver.EventStarted, driver.DetailStartedBooted)}},
		{"saved", "running", RunningBooted, [][2]int32{E(driver.EventStarted, driver.DetailStartedRestored)}},
		{"poweroff", "paused", PausedUser, [][2]int32{E(driver.EventStarted, driver.DetailStartedBooted), E(driver.EventSuspended, driver.DetailSuspendedPaused)}},
		{"running", "paused", PausedUser, [][2]int32{E(driver.EventSuspended, driver.DetailSuspendedPaused)}},
		{"paused", "running", RunningUnpaused, [][2]int32{E(driver.EventResumed, driver.DetailResumedUnpaused)}},
		{"running", "poweroff", ShutoffDestroyed, [][2]int32{E(driver.EventStopped, driver.DetailStoppedDestroyed)}},
		{"running", "poweroff", ShutoffShutdown, [][2]int32{E(driver.EventShutdown, driver.DetailShutdownFinished), E(driver.EventStopped, driver.DetailStoppedShutdown)}},
		{"paused", "saved", ShutoffSaved, [][2]int32{E(driver.EventStopped, driver.DetailStoppedSaved)}},
		{"running", "aborted", reasonUnknown, [][2]int32{E(driver.EventStopped, driver.DetailStoppedFailed)}},
		{"running", "teleported", ShutoffMigrated, [][2]int32{E(driver.EventStopped, driver.DetailStoppedMigrated)}},
		{"running", "gurumeditation", reasonUnknown, [][2]int32{E(driver.EventCrashed, driver.DetailCrashedPanicked)}},
		{"running", "poweroff", ShutoffFromSnapshot, [][2]int32{E(driver.EventStopped, driver.DetailStoppedFromSnapshot)}},
		{"saved", "poweroff", reasonUnknown, nil},
		{"starting", "running", RunningBooted, [][2]int32{E(driver.EventStarted, driver.DetailStartedBooted)}},
		{"restoring", "running", RunningBooted, [][2]int32{E(driver.EventStarted, driver.DetailStartedRestored)}},
		{"stopping", "poweroff", ShutoffShutdown, [][2]int32{E(driver.EventShutdown, driver.DetailShutdownFinished), E(driver.EventStopped, driver.DetailStoppedShutdown)}},
	}
	for _, c := range cases {
		got := transition(c.was, c.now, c.reason)
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s -> %s (reason %d): %v, want %v", c.was, c.now, c.reason, got, c.want)
		}
	}
}
