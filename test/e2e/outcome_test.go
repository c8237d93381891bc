package e2e

// A VBoxManage that exits 0 without doing what it was asked, and defines
// that fail half-way: virsh gets an error naming what happened, the domain
// keeps its state and ID, and no machine is left behind.

import (
	"strings"
	"testing"
)

func TestOutcomeCheckedAndDefineAtomic(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, withFaults())
	const u = "33333333-0000-4000-8000-00000000000b"
	d.mustVirsh(t, "define", d.writeFile(t, "o.xml", minimalXML("outcome", u)))
	d.mustVirsh(t, "start", u)
	id := strings.TrimSpace(d.mustVirsh(t, "domid", u))

	// Lifecycle calls whose VBoxManage exits 0 without acting.
	for _, tc := range []struct {
		fault string   // VBOXSIM_FAULTS
		args  []string // virsh command
		want  []string // in virsh's stderr
		state string   // VirtualBox's state afterwards (unchanged)
	}{
		{"controlvm=noop", []string{"suspend", u}, []string{"operation failed", "controlvm pause exited 0, but the machine is running, not paused"}, "running"},
		{"controlvm=garbage", []string{"destroy", u}, []string{"operation failed", "controlvm poweroff exited 0, but the machine is running, not powered off or aborted"}, "running"},
		{"controlvm=error0", []string{"managedsave", u}, []string{"cannot save domain state", "Unspecified error"}, "running"},
	} {
		d.setFaults(t, tc.fault)
		errs := d.virshFails(t, tc.args...)
		d.setFaults(t, "")
		contains(t, "virsh "+strings.Join(tc.args, " ")+" with "+tc.fault, errs, tc.want...)
		if got := vmState(t, d.Sim, u); got != tc.state {
			t.Errorf("after %s: VirtualBox state %s, want %s", tc.fault, got, tc.state)
		}
		contains(t, "domstate after "+tc.fault, d.mustVirsh(t, "domstate", u), tc.state)
		if got := strings.TrimSpace(d.mustVirsh(t, "domid", u)); got != id {
			t.Errorf("after %s the domain ID is %s, was %s", tc.fault, got, id)
		}
	}
	d.mustVirsh(t, "destroy", u)
	d.setFaults(t, "startvm=noop")
	contains(t, "start with startvm=noop", d.virshFails(t, "start", u), "startvm --type headless exited 0, but the machine is powered off")
	d.setFaults(t, "")
	contains(t, "domid after a start that did nothing", d.mustVirsh(t, "domid", u), "-")
	if out := d.mustVirsh(t, "list", "--name"); strings.Contains(out, "outcome") {
		t.Errorf("a start that did nothing lists the domain as active:\n%s", out)
	}

	// Defines that fail half-way leave nothing behind.
	before := d.Sim.mustVBoxManage(t, "list", "vms")
	for _, tc := range []struct {
		fault, name string
		want        []string
	}{
		{"modifyvm=error", "half", []string{"step 2 of 2, `modifyvm`", "the new machine was removed again"}},
		{"modifyvm=crash", "half", []string{"terminated abnormally", "the new machine was removed again"}},
	} {
		d.setFaults(t, tc.fault)
		errs := d.virshFails(t, "define", d.writeFile(t, "half.xml", minimalXML(tc.name, "")))
		d.setFaults(t, "")
		contains(t, "define with "+tc.fault, errs, tc.want...)
		if after := d.Sim.mustVBoxManage(t, "list", "vms"); after != before {
			t.Errorf("define with %s left a machine:\n%s", tc.fault, after)
		}
	}
	contains(t, "define once mended", d.mustVirsh(t, "define", d.writeFile(t, "half.xml", minimalXML("half", ""))), "defined")
	contains(t, "define of an inaccessible marker", d.virshFails(t, "define", d.writeFile(t, "marker.xml", minimalXML("<inaccessible>", ""))),
		"unsupported configuration", "choose another name")
	d.noLeftovers(t)
	d.alive(t)
}
