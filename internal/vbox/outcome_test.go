package vbox

import (
	"context"
	"github.com/virtvboxd/virtvboxd/internal/driver"
	"strings"
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// vmState is the machine's VMState as VirtualBox (the simulator) has it,
// read behind the driver's back.
func (s *simEnv) vmState(d driver.Domain) string {
	s.t.Helper()
	for _, l := range strings.Split(s.vbm("showvminfo", uuidString(d.UUID), "--machinereadable"), "\n") {
		if v, ok := strings.CutPrefix(l, "VMState="); ok {
			return strings.Trim(v, `"`)
		}
	}
	s.t.Fatalf("no VMState for %s", d.Name)
	return ""
}

// onlyCommand returns a fault injector that breaks the calls whose command
// word is cmd with kind.
func onlyCommand(cmd, kind string) func([]string) string {
	return func(args []string) string {
		if len(args) > 0 && args[0] == cmd {
			return cmd + "=" + kind
		}
		return ""
	}
}

// A lifecycle command whose VBoxManage exits 0 without doing anything
// (silently, with garbage on stdout, or with an error line on stderr) is a
// failure naming the state found; the domain keeps its state, its reason
// and its ID, and the ID table changes only when a machine really starts.
func TestSimLifecycleOutcomeChecked(t *testing.T) {
	s := newSim(t)
	ctx := context.Background()
	d := s.create("outcome")

	type transition struct {
		name  string
		pre   string // the state to start from: poweroff, running, paused
		cmd   string // VBoxManage command word to break
		op    func() error
		class error // for the silent faults (noop, garbage)
	}
	transitions := []transition{
		{"start", "poweroff", "startvm", func() error { _, err := s.conn.DomainCreate(ctx, d, 0); return err }, errdefs.ErrOperationFailed},
		{"suspend", "running", "controlvm", func() error { return s.conn.DomainSuspend(ctx, d) }, errdefs.ErrOperationFailed},
		{"resume", "paused", "controlvm", func() error { return s.conn.DomainResume(ctx, d) }, errdefs.ErrOperationFailed},
		{"destroy", "running", "controlvm", func() error { return s.conn.DomainDestroy(ctx, d, 0) }, errdefs.ErrOperationFailed},
		{"managedsave", "running", "controlvm", func() error { return s.conn.DomainManagedSave(ctx, d, 0) }, errdefs.ErrOperationFailed},
	}
	// reach puts the machine into state through the driver, without faults.
	reach := func(t *testing.T, state string) {
		t.Helper()
		s.injectFaults(nil)
		cur := s.vmState(d)
		if cur == state {
			return
		}
		if cur != "poweroff" {
			if err := s.conn.DomainDestroy(ctx, d, 0); err != nil {
				t.Fatal(err)
			}
		}
		switch state {
		case "running":
			if _, err := s.conn.DomainCreate(ctx, d, 0); err != nil {
				t.Fatal(err)
			}
		case "paused":
			if _, err := s.conn.DomainCreate(ctx, d, startPaused); err != nil {
				t.Fatal(err)
			}
		}
		if got := s.vmState(d); got != state {
			t.Fatalf("could not bring the machine to %s: %s", state, got)
		}
	}
	for _, tr := range transitions {
		for _, kind := range []string{"noop", "garbage", "error0"} {
			t.Run(tr.name+"/"+kind, func(t *testing.T) {
				reach(t, tr.pre)
				before, err := s.conn.LookupByUUID(ctx, d.UUID)
				if err != nil {
					t.Fatal(err)
				}
				stBefore, reasonBefore := s.state(d)
				s.injectFaults(onlyCommand(tr.cmd, kind))
				err = tr.op()
				s.injectFaults(nil)
				if err == nil {
					t.Fatalf("%s reported success though VBoxManage did nothing", tr.name)
				}
				if kind == "error0" {
					// The error line on stderr is VBoxManage's own report.
					if !strings.Contains(errdefs.Detail(err), "Unspecified error") {
						t.Errorf("error0: detail %q does not carry VBoxManage's message", errdefs.Detail(err))
					}
				} else {
					wantClass(t, err, tr.class, "exited 0, but the machine is "+stateName(tr.pre))
				}
				if got := s.vmState(d); got != tr.pre {
					t.Fatalf("VirtualBox state %s, want %s unchanged", got, tr.pre)
				}
				st, reason := s.state(d)
				if st != stBefore || reason != reasonBefore {
					t.Errorf("state/reason %d/%d after the failed %s, want %d/%d", st, reason, tr.name, stBefore, reasonBefore)
				}
				// A full refresh agrees, and the ID did not move.
				s.drv.inv.Invalidate()
				after, err := s.conn.LookupByUUID(ctx, d.UUID)
				if err != nil {
					t.Fatal(err)
				}
				if after.ID != before.ID {
					t.Errorf("the failed %s changed the domain ID from %d to %d", tr.name, before.ID, after.ID)
				}
				if tr.pre == "poweroff" && s.drv.ActiveDomains() != 0 {
					t.Errorf("a start that did nothing left %d active domains", s.drv.ActiveDomains())
				}
			})
		}
	}
}

// Shutdown is asynchronous: only the exit status and error lines count.
// An error line with exit 0 still fails it.
func TestSimShutdownErrorLineExitZero(t *testing.T) {
	s := newSim(t)
	ctx := context.Background()
	d := s.create("acpi")
	if _, err := s.conn.DomainCreate(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	s.injectFaults(onlyCommand("controlvm", "error0"))
	err := s.conn.DomainShutdown(ctx, d, 0)
	s.injectFaults(nil)
	wantClass(t, err, errdefs.ErrInternal, "Unspecified error")
	if got := s.vmState(d); got != "running" {
		t.Errorf("state %s", got)
	}
}
