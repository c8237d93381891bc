package vbox

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// atomicXML is a domain whose creation takes several VBoxManage steps:
// createvm, modifyvm, storagectl, storageattach.
func atomicXML(name string, memMiB int, desc string) string {
	return `<domain type='vbox'><name>` + escapeXML(name) + `</name><memory unit='MiB'>` + itoa(memMiB) +
		`</memory><vcpu>1</vcpu><os><type>hvm</type></os><description>` + escapeXML(desc) + `</description>` +
		`<devices><disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk></devices></domain>`
}

// nth returns a fault injector that breaks only the n-th call (from 1)
// whose command word is cmd.
func nth(cmd string, n int32, spec string) func([]string) string {
	var seen atomic.Int32
	return func(args []string) string {
		if len(args) == 0 || args[0] != cmd || seen.Add(1) != n {
			return ""
		}
		if spec == lostAnswer {
			return spec
		}
		return cmd + "=" + spec
	}
}

// firstAfter returns a fault injector that breaks the first call with
// command word cmd that comes after a call with command word after.
func firstAfter(after, cmd, kind string) func([]string) string {
	var armed, done atomic.Bool
	return func(args []string) string {
		switch {
		case len(args) == 0:
		case args[0] == after:
			armed.Store(true)
		case args[0] == cmd && armed.Load() && done.CompareAndSwap(false, true):
			return cmd + "=" + kind
		}
		return ""
	}
}

// cancelling wraps a fault injector: when it injects a fault (a hang), the
// caller's context is cancelled a moment later, while that call runs.
func cancelling(f func([]string) string, cancel context.CancelFunc) func([]string) string {
	return func(args []string) string {
		spec := f(args)
		if spec != "" {
			time.AfterFunc(50*time.Millisecond, cancel)
		}
		return spec
	}
}

// noMachineLeft fails the test unless VirtualBox lists exactly the machines
// of before and name has no machine folder.
func (s *simEnv) noMachineLeft(t *testing.T, before, name string) {
	t.Helper()
	s.injectFaults(nil)
	if after := s.vbm("list", "vms"); after != before {
		t.Errorf("the failed define left a machine behind:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if _, err := os.Stat(filepath.Join(s.home, "VirtualBox VMs", name)); !os.IsNotExist(err) {
		t.Errorf("the machine folder of %s remains (%v)", name, err)
	}
}

// A define that fails at any step after createvm, in reading the new
// machine back, or because its context ends, leaves no machine behind; the
// error is the original failure with the rollback's outcome appended, and
// the name can be defined at once.
func TestSimDefineCreateIsAtomic(t *testing.T) {
	s := newSim(t)
	short := newSim(t, withTimeout(time.Second))
	for _, tc := range []struct {
		name   string
		s      *simEnv
		fault  func([]string) string
		cancel bool // the fault (a hang) cancels the define's context instead
		class  error
		detail string // in the error, before the rollback's outcome
	}{
		{"modifyvm fails", s, nth("modifyvm", 1, "error"), false, errdefs.ErrInternal, "Unspecified error (extended info not available) (step 2 of 4, `modifyvm`)"},
		{"storagectl crashes", s, nth("storagectl", 1, "crash"), false, errdefs.ErrInternal, "terminated abnormally: signal: killed (step 3 of 4, `storagectl`)"},
		{"last step fails", s, nth("storageattach", 1, "svcdown"), false, errdefs.ErrInternal, "VirtualBox service unavailable"},
		{"read-back garbled", s, nth("showvminfo", 1, "garbage"), false, errdefs.ErrInternal, "cannot read the new machine"},
		{"listing broken", s, firstAfter("createvm", "list", "error"), false, errdefs.ErrInternal, "cannot read the new machine"},
		{"context cancelled", s, nth("storagectl", 1, "hang"), true, errdefs.ErrOperationTimeout, "step 3 of 4"},
		{"vboxmanage_timeout", short, nth("modifyvm", 1, "hang"), false, errdefs.ErrOperationTimeout, "gave no answer within 1s"},
		{"createvm answer lost", s, nth("createvm", 1, lostAnswer), false, errdefs.ErrInternal, "terminated abnormally: signal: killed (step 1 of 4, `createvm`)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			before := tc.s.vbm("list", "vms")
			name := "atomic-" + strings.ReplaceAll(tc.name, " ", "-")
			if tc.cancel {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				defer cancel()
				tc.fault = cancelling(tc.fault, cancel)
			}
			tc.s.injectFaults(tc.fault)
			_, err := tc.s.conn.DomainDefineXML(ctx, atomicXML(name, 256, "x"), 0)
			wantClass(t, err, tc.class, tc.detail)
			const want = "the new machine was removed again"
			if !strings.HasSuffix(errdefs.Detail(err), "; "+want) {
				t.Errorf("error %q does not end with the rollback's outcome %q", errdefs.Detail(err), want)
			}
			tc.s.noMachineLeft(t, before, name)
			// The name is free: a define without faults works.
			d, err := tc.s.conn.DomainDefineXML(context.Background(), atomicXML(name, 256, "x"), 0)
			if err != nil {
				t.Fatalf("define after the rollback: %v", err)
			}
			if err := tc.s.conn.DomainUndefine(context.Background(), d, 0); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A createvm that failed before doing anything leaves nothing to remove,
// and says so.
func TestSimDefineCreatevmCrashBeforeActing(t *testing.T) {
	s := newSim(t)
	before := s.vbm("list", "vms")
	s.injectFaults(nth("createvm", 1, "crash"))
	_, err := s.conn.DomainDefineXML(context.Background(), atomicXML("never", 256, "x"), 0)
	wantClass(t, err, errdefs.ErrInternal, "terminated abnormally: signal: killed (step 1 of 4, `createvm`); no machine was left behind")
	s.noMachineLeft(t, before, "never")
}

// When the rollback itself fails, the error says what is left and how to
// remove it.
func TestSimDefineRollbackFailureIsReported(t *testing.T) {
	s := newSim(t)
	s.injectFaults(func(args []string) string {
		switch args[0] {
		case "modifyvm":
			return "modifyvm=error"
		case "unregistervm":
			return "unregistervm=error"
		}
		return ""
	})
	_, err := s.conn.DomainDefineXML(context.Background(), atomicXML("stuck", 256, "x"), 0)
	s.injectFaults(nil)
	wantClass(t, err, errdefs.ErrInternal, "(step 2 of 4, `modifyvm`); rollback failed: the new machine ")
	if !strings.Contains(errdefs.Detail(err), "is still registered") || !strings.Contains(errdefs.Detail(err), "VBoxManage unregistervm ") {
		t.Errorf("the error does not say what is left and how to remove it: %q", errdefs.Detail(err))
	}
	if !strings.Contains(s.vbm("list", "vms"), `"stuck"`) {
		t.Errorf("the test's premise failed: the machine is not registered")
	}
}

// Names VirtualBox shows for an inaccessible machine are refused before
// anything runs.
func TestSimDefineInaccessibleMarkerNames(t *testing.T) {
	s := newSim(t)
	for _, name := range []string{"<inaccessible>", "<inaccessible!>"} {
		s.runner.reset()
		_, err := s.conn.DomainDefineXML(context.Background(), minimalXML(name, 262144), 0)
		wantClass(t, err, errdefs.ErrConfigUnsupported, "is what VirtualBox shows for a machine whose settings it cannot read")
		if n := s.runner.reset(); n != 0 {
			t.Errorf("refusing %q ran %d VBoxManage commands", name, n)
		}
	}
	if out := s.vbm("list", "vms"); out != "" {
		t.Errorf("machines after refused defines:\n%s", out)
	}
}

// A USB <hostdev> is a usbfilter step: whatever the listing makes of the
// machine, the define either succeeds with the machine visible or leaves
// nothing behind.
func TestSimDefineUSBHostdevNoOrphan(t *testing.T) {
	s := newSim(t)
	ctx := context.Background()
	before := s.vbm("list", "vms")
	doc := `<domain type='vbox'><name>usb</name><memory unit='MiB'>256</memory><vcpu>1</vcpu><os><type>hvm</type></os>` +
		`<devices><hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/><product id='0x5678'/></source></hostdev></devices></domain>`
	d, err := s.conn.DomainDefineXML(ctx, doc, 0)
	if err != nil {
		if !strings.HasSuffix(errdefs.Detail(err), "; the new machine was removed again") {
			t.Errorf("failed define without a clean rollback: %v", err)
		}
		s.noMachineLeft(t, before, "usb")
		return
	}
	if got, err := s.conn.LookupByName(ctx, "usb"); err != nil || got.UUID != d.UUID {
		t.Fatalf("defined, but lookup gives %+v %v", got, err)
	}
	if err := s.conn.DomainUndefine(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
}

// An in-place update that fails part-way gets the old settings back: the
// reverse change is planned from the settings read before the update and
// applied by UUID; the error is the original failure plus the outcome.
func TestSimDefineUpdateRestores(t *testing.T) {
	s := newSim(t)
	ctx := context.Background()
	d := s.create("upd")
	orig, err := s.conn.DomainGetXMLDesc(ctx, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	origVBox := s.vbm("showvminfo", uuidString(d.UUID), "--machinereadable")
	// Memory, description and a new IDE controller with a DVD drive: the
	// update is modifyvm, storagectl, storageattach.
	edited := strings.Replace(replaceMemory(t, orig, 1048576), "</devices>",
		"<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk></devices>", 1)
	edited = strings.Replace(edited, "</name>", "</name><description>edited</description>", 1)

	for _, tc := range []struct {
		name, cmd, kind string
		cancel          bool // the fault (a hang) cancels the define's context instead
		class           error
		want            string
	}{
		{"last step fails", "storageattach", "error", false, errdefs.ErrInternal,
			"Unspecified error (extended info not available) (step 3 of 3, `storageattach`); the old settings were restored"},
		{"first step fails", "modifyvm", "error", false, errdefs.ErrInternal,
			"Unspecified error (extended info not available) (step 1 of 3, `modifyvm`); the old settings are unchanged"},
		{"context cancelled", "storageattach", "hang", true, errdefs.ErrOperationTimeout,
			"(step 3 of 3, `storageattach`); the old settings were restored"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dctx, fault := ctx, nth(tc.cmd, 1, tc.kind)
			if tc.cancel {
				var cancel context.CancelFunc
				dctx, cancel = context.WithCancel(ctx)
				defer cancel()
				fault = cancelling(fault, cancel)
			}
			s.injectFaults(fault)
			_, err := s.conn.DomainDefineXML(dctx, edited, 0)
			s.injectFaults(nil)
			wantClass(t, err, tc.class, tc.want)
			if now := s.vbm("showvminfo", uuidString(d.UUID), "--machinereadable"); now != origVBox {
				t.Errorf("settings after the failed update differ:\nbefore:\n%s\nafter:\n%s", origVBox, now)
			}
			s.drv.inv.Invalidate()
			if now, _ := s.conn.DomainGetXMLDesc(ctx, d, 0); now != orig {
				t.Errorf("dumpxml after the failed update differs:\n%s\n---\n%s", orig, now)
			}
		})
	}

	t.Run("restore fails", func(t *testing.T) {
		// The update's storageattach fails, and so does the restore's
		// modifyvm (the second modifyvm).
		storage, modify := nth("storageattach", 1, "error"), nth("modifyvm", 2, "error")
		s.injectFaults(func(args []string) string {
			if f := storage(args); f != "" {
				return f
			}
			return modify(args)
		})
		_, err := s.conn.DomainDefineXML(ctx, edited, 0)
		s.injectFaults(nil)
		wantClass(t, err, errdefs.ErrInternal, "(step 3 of 3, `storageattach`); restoring the old settings failed at `modifyvm`")
		detail := errdefs.Detail(err)
		// The error spells the commands that would restore the rest.
		if !strings.Contains(detail, "to restore them run: `VBoxManage modifyvm "+uuidString(d.UUID)) || !strings.Contains(detail, "--memory 512") {
			t.Errorf("the error does not say how the machine differs: %q", detail)
		}
		if !strings.Contains(s.vbm("showvminfo", uuidString(d.UUID), "--machinereadable"), "\nmemory=1024\n") {
			t.Errorf("the test's premise failed: the update's modifyvm did not stay applied")
		}
		// The machine is usable: the same update without faults works.
		if _, err := s.conn.DomainDefineXML(ctx, edited, 0); err != nil {
			t.Fatalf("update after a failed restore: %v", err)
		}
		info, err := s.conn.DomainGetInfo(ctx, d)
		if err != nil || info.MemoryKiB != 1048576 {
			t.Errorf("after the update: %+v %v", info, err)
		}
	})
}
