package vbox

import (
	"context"
	"errors"
	"fmt"
	"github.com/virtvboxd/virtvboxd/internal/driver"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"libvirt.org/go/libvirtxml"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
	"github.com/virtvboxd/virtvboxd/internal/vbox/domxml"
)

// DomainDefineXML implements driver.Conn. The XML is parsed and validated
// completely and turned into a plan before anything runs, so a bad document
// changes nothing. A domain whose UUID (or, without a UUID, whose name)
// matches a registered machine updates that machine in place — libvirt's own
// driver cannot, so `virsh edit` works here; an unchanged document changes
// nothing. On a running (or paused) machine the document becomes the
// machine's pending definition, applied when it is next powered off
// (pending.go); the running machine is left alone. As in libvirt, a registered UUID under another name is refused
// (define never renames), as is a registered name under another UUID.
// Define is atomic: a failed creation removes the new machine again and a
// failed update restores the old settings (see create and restore).
func (c *conn) DomainDefineXML(ctx context.Context, doc string, flags uint32) (driver.Domain, error) {
	if flags&^defineValidate != 0 {
		return driver.Domain{}, unsupportedFlags(flags, "virDomainDefineXMLFlags")
	}
	m, err := c.d.define(ctx, doc)
	if err != nil {
		return driver.Domain{}, err
	}
	return c.d.domainOf(m), nil
}

func (d *Driver) define(ctx context.Context, doc string) (Machine, error) {
	// A define may attach (and so register) media or detach them.
	defer d.stor.media.invalidate()
	dom, err := domxml.ParseDomain(doc)
	if err != nil {
		return Machine{}, err
	}
	if slices.Contains(inaccessibleMarkers, dom.Name) {
		return Machine{}, errdefs.Newf(errdefs.ErrConfigUnsupported,
			"domain name '%s' is what VirtualBox shows for a machine whose settings it cannot read; choose another name", dom.Name)
	}
	// Defines of one name are serialised, so that of two concurrent defines
	// of a new machine the second sees the first's machine and updates it,
	// as in libvirt, instead of racing it to createvm ("already exists").
	unlockName, err := d.locks.lock(ctx, "name:"+dom.Name)
	if err != nil {
		return Machine{}, errdefs.Wrap(errdefs.ErrOperationTimeout, err, "cannot acquire the domain name's lock: "+err.Error())
	}
	defer unlockName()
	ms, err := d.inv.List(ctx)
	if err != nil {
		return Machine{}, vboxError("cannot list machines", err)
	}
	var existing *Machine
	want := strings.ToLower(strings.TrimSpace(dom.UUID))
	for i := range ms {
		if want != "" && ms[i].UUID == want {
			if ms[i].Name != dom.Name {
				// As libvirt: define never renames (virDomainRename does).
				return Machine{}, errdefs.Newf(errdefs.ErrOperationFailed,
					"domain '%s' is already defined with uuid %s", ms[i].Name, ms[i].UUID)
			}
			existing = &ms[i]
			break
		}
	}
	if existing == nil {
		for i := range ms {
			if ms[i].Name == dom.Name {
				if want != "" {
					return Machine{}, errdefs.Newf(errdefs.ErrOperationFailed,
						"domain '%s' already exists with uuid %s", ms[i].Name, ms[i].UUID)
				}
				existing = &ms[i]
				break
			}
		}
	}
	v, err := d.Version(ctx)
	if err != nil {
		return Machine{}, err
	}
	opts := domxml.PlanOptions{Version: v.Raw, FileExists: fileExists, Limits: d.guestLimits(ctx), IsNATNetwork: d.natNetworkLookup(ctx)}
	if existing == nil {
		return d.create(ctx, dom.Name, func() (*domxml.Plan, error) { return domxml.PlanDefine(dom, nil, opts) })
	}
	var out Machine
	err = d.withVM(ctx, driver.Domain{Name: existing.Name, UUID: mustUUID(existing.UUID)}, func(m Machine, op *vmOp) error {
		info, err := d.inv.Reload(ctx, m.UUID)
		if err != nil {
			return vboxError("cannot read machine "+m.Name, err)
		}
		cur, err := d.domxmlInfo(ctx, m, info, true)
		if err != nil {
			return vboxError("cannot read the extradata of machine "+m.Name, err)
		}
		m.State = MachineFromInfo(info).State
		if IsOnline(m.State) {
			// The next boot's definition (pending.go): the running
			// machine is left alone.
			out = m
			return d.storePending(ctx, m, cur, dom, opts)
		}
		plan, err := domxml.PlanDefine(dom, &cur, opts)
		if err != nil {
			return err
		}
		d.logNotes(ctx, m.Name, plan)
		_, pending := cur.ExtraData[pendingKey]
		if plan.Empty() {
			out = m
			if pending {
				// This define replaces the pending one.
				return d.clearPending(ctx, m)
			}
			op.known(func(*Machine) {})
			return nil
		}
		if !offline(m.State) {
			return errdefs.Newf(errdefs.ErrOperationInvalid,
				"cannot change the configuration of domain '%s' while it is %s: VirtualBox only accepts changes to a powered-off machine",
				m.Name, stateWord(m.State))
		}
		out, err = d.applyUpdate(ctx, m, cur, plan, opts)
		if err != nil {
			return err
		}
		if pending {
			return d.clearPending(ctx, m)
		}
		op.known(func(*Machine) {})
		return nil
	})
	if err != nil {
		return Machine{}, err
	}
	d.events.defined(out)
	return out, nil
}

// applyUpdate runs the in-place update plan of machine m (powered off, locked
// by the caller with withVM; cur is its settings as read under that lock)
// and reads the machine back. A failed step, or a machine that cannot be
// read back, gets the old settings again (restore), and the error says how
// that went.
func (d *Driver) applyUpdate(ctx context.Context, m Machine, cur domxml.Info, plan *domxml.Plan, opts domxml.PlanOptions) (Machine, error) {
	var out Machine
	for i, st := range plan.Steps {
		if _, _, err := d.runPolicy(ctx, policyFor(m), st.Args...); err != nil {
			applied := plan.Steps[:i]
			if uncertain(err) {
				applied = plan.Steps[:i+1] // it may have acted
			}
			e := vboxError("cannot update domain '"+m.Name+"'", err)
			return Machine{}, errdefs.Wrap(errdefs.ClassOf(e), err, fmt.Sprintf("%s (step %d of %d, `%s`); %s",
				errdefs.Detail(e), i+1, len(plan.Steps), st.Args[0], d.restore(ctx, m, cur, applied, opts)))
		}
	}
	// Read the machine back under its lock; a machine that cannot be
	// read back gets its old settings again. Some settings (the audio
	// controller) are only in the full listing.
	d.inv.MarkDirty(m.UUID)
	_, err := d.inv.Reload(ctx, m.UUID)
	if err == nil {
		d.inv.Invalidate()
		out, err = d.inv.Get(ctx, m.UUID)
	}
	if err != nil {
		e := vboxError("cannot read machine "+m.Name+" back after updating it", err)
		return Machine{}, errdefs.Wrap(errdefs.ClassOf(e), err, errdefs.Detail(e)+"; "+d.restore(ctx, m, cur, plan.Steps, opts))
	}
	d.logFor(ctx).WithFields(map[string]any{"vm": m.Name, "steps": len(plan.Steps)}).Info("domain updated in place")
	return out, nil
}

// create runs a creation plan under the new machine's lock. A define that
// fails at any step after createvm, including reading the new machine back
// or a cancelled context, removes the new machine again (removeNew); a
// createvm whose outcome is unknown (killed, timed out, garbled) is checked
// for a machine it may have left.
func (d *Driver) create(ctx context.Context, name string, mkPlan func() (*domxml.Plan, error)) (Machine, error) {
	plan, err := mkPlan()
	if err != nil {
		return Machine{}, err
	}
	d.logNotes(ctx, name, plan)
	unlock, err := d.locks.lock(ctx, plan.UUID)
	if err != nil {
		return Machine{}, errdefs.Wrap(errdefs.ErrOperationTimeout, err, "cannot acquire the machine's lock: "+err.Error())
	}
	defer unlock()
	cfg := "" // the new settings file, from createvm's output
	for i, st := range plan.Steps {
		policy := RetryTransient
		if i == 0 && plan.Create {
			policy = NoRetry // createvm is not safe to repeat
		}
		out, _, err := d.runPolicy(ctx, policy, st.Args...)
		if err == nil {
			if i == 0 {
				cfg = createdSettingsFile(out)
			}
			continue
		}
		e := vboxError("cannot define domain '"+name+"'", err)
		if i == 0 && strings.Contains(errdefs.Detail(e), "already exists") {
			e = errdefs.Wrap(errdefs.ErrOperationFailed, err, errdefs.Detail(e))
		}
		rolled := ""
		switch {
		case i > 0:
			rolled = "; " + d.removeNew(ctx, plan.UUID, cfg)
		case uncertain(err):
			rolled = "; " + d.removeIfCreated(ctx, plan)
		}
		return Machine{}, errdefs.Wrap(errdefs.ClassOf(e), err, fmt.Sprintf("%s (step %d of %d, `%s`)%s",
			errdefs.Detail(e), i+1, len(plan.Steps), st.Args[0], rolled))
	}
	d.inv.MarkDirty(plan.UUID)
	_, err = d.inv.Reload(ctx, plan.UUID)
	var m Machine
	if err == nil {
		d.inv.Invalidate()
		m, err = d.inv.Get(ctx, plan.UUID)
	}
	if err != nil {
		e := vboxError("cannot read the new machine "+name, err)
		return Machine{}, errdefs.Wrap(errdefs.ClassOf(e), err, errdefs.Detail(e)+"; "+d.removeNew(ctx, plan.UUID, cfg))
	}
	d.logFor(ctx).WithFields(map[string]any{"vm": name, "uuid": plan.UUID, "steps": len(plan.Steps)}).Info("domain defined")
	return m, nil
}

// inaccessibleMarkers are the names VirtualBox shows for a machine whose
// settings it cannot read (`list vms`, and the human showvminfo): a
// machine really named so could not be told from one.
var inaccessibleMarkers = []string{"<inaccessible>", "<inaccessible!>"}

// rollbackTimeout bounds a rollback or restore as a whole. It runs even
// when the caller's context is cancelled: a define that gave up half-way
// must still not leave a half-made machine.
const rollbackTimeout = 2 * time.Minute

// uncertain reports whether a failed command may nevertheless have acted:
// it was killed (our timeout, the caller's cancel, a signal) or its output
// made no sense.
func uncertain(err error) bool {
	switch KindOf(err) {
	case KindTimeout, KindCrashed, KindGarbage:
		return true
	}
	return false
}

// createdSettingsFile reads the settings file from createvm's output
// (`Settings file: '/path/x.vbox'`, reference §4.1), or "".
func createdSettingsFile(out []byte) string {
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "Settings file: '"); ok {
			return strings.TrimSuffix(v, "'")
		}
	}
	return ""
}

// removeIfCreated looks for the machine a createvm of uncertain outcome may
// have registered (by the plan's UUID, and only if it also has the plan's
// name, so that nobody else's machine is touched) and removes it.
func (d *Driver) removeIfCreated(ctx context.Context, plan *domxml.Plan) string {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	out, _, err := d.runPolicy(rctx, RetryTransient, "showvminfo", plan.UUID, "--machinereadable")
	switch {
	case KindOf(err) == KindNotFound:
		return "no machine was left behind"
	case err != nil:
		return fmt.Sprintf("createvm may have registered machine %s: VBoxManage cannot say (%s); if it is listed, remove it with `VBoxManage unregistervm %s --delete`",
			plan.UUID, cmdMessage(err), plan.UUID)
	}
	info := ParseMachineReadable(out)
	if got := MachineFromInfo(info).Name; got != plan.Name {
		return fmt.Sprintf("machine %s is registered under the name '%s', not by this define: left alone", plan.UUID, got)
	}
	return d.removeNew(ctx, plan.UUID, info.Str("CfgFile"))
}

// removeNew removes a machine this define created, by UUID: `unregistervm`
// (never --delete, which would delete attached disk images), then its
// settings file, the -prev backup and the log folder, as undefine does. It
// then verifies that VirtualBox no longer knows the machine and that the
// settings file is gone, and says how it went. cfg is the settings file
// createvm reported ("" if unknown: it is read from the machine).
func (d *Driver) removeNew(ctx context.Context, uuid, cfg string) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	defer func() {
		d.inv.Forget(uuid)
		d.inv.Invalidate()
	}()
	logs := ""
	registered := true
	out, _, err := d.runPolicy(ctx, RetryTransient, "showvminfo", uuid, "--machinereadable")
	switch {
	case err == nil:
		info := ParseMachineReadable(out)
		if c := info.Str("CfgFile"); c != "" {
			cfg = c
		}
		logs = info.Str("LogFldr")
	case KindOf(err) == KindNotFound:
		registered = false
	}
	if registered {
		if _, _, err := d.runPolicy(ctx, RetryTransientOrLock, "unregistervm", uuid); err != nil && KindOf(err) != KindNotFound {
			return fmt.Sprintf("rollback failed: the new machine %s is still registered (`unregistervm`: %s); remove it with `VBoxManage unregistervm %s --delete`",
				uuid, cmdMessage(err), uuid)
		}
	}
	if cfg != "" && logs == "" {
		logs = filepath.Join(filepath.Dir(cfg), "Logs")
	}
	var left []string
	if cfg != "" {
		for _, err := range removeMachineFiles(cfg, logs) {
			left = append(left, err.Error())
		}
	}
	// Verify: VirtualBox must not know the machine any more.
	switch _, _, err := d.runPolicy(ctx, RetryTransient, "showvminfo", uuid, "--machinereadable"); {
	case err == nil:
		return fmt.Sprintf("rollback failed: the new machine %s is still registered after `unregistervm`; remove it with `VBoxManage unregistervm %s --delete`", uuid, uuid)
	case KindOf(err) != KindNotFound:
		return fmt.Sprintf("rollback unverified: the new machine %s was unregistered, but VBoxManage cannot confirm it is gone (%s)", uuid, cmdMessage(err))
	}
	if cfg != "" && fileExists(cfg) {
		left = append(left, "its settings file "+cfg+" remains")
	}
	if len(left) > 0 {
		return "rollback incomplete: the new machine was unregistered, but " + strings.Join(left, "; ")
	}
	return "the new machine was removed again"
}

// restore gives machine m the settings it had before a failed in-place
// update (before, as read under m's lock before the update; applied are the
// update's steps that ran). The reverse change is planned from a fresh read
// of the machine, by UUID, run, and verified by reading the machine again.
// It says how it went; when the restore fails, it says exactly how the
// machine differs from its old settings, as the VBoxManage commands that
// would undo the difference.
func (d *Driver) restore(ctx context.Context, m Machine, before domxml.Info, applied []domxml.Step, opts domxml.PlanOptions) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	defer d.inv.MarkDirty(m.UUID)
	old, err := domxml.ToDomain(before, domxml.Runtime{ID: -1})
	if err != nil {
		return fmt.Sprintf("the old settings cannot be restored (%s); applied: %s", errdefs.Detail(err), stepList(applied))
	}
	audio := audioAfter(applied, before.AudioController)
	rev, err := d.diffFrom(ctx, m.UUID, old, audio, opts)
	if err != nil {
		return fmt.Sprintf("the old settings were not restored: %s; these changes may stay applied: %s", errdefs.Detail(err), stepList(applied))
	}
	if rev.Empty() {
		return "the old settings are unchanged"
	}
	for j, st := range rev.Steps {
		if _, _, err := d.runPolicy(ctx, policyFor(m), st.Args...); err != nil {
			return fmt.Sprintf("restoring the old settings failed at `%s` (%s); %s", st.Args[0], cmdMessage(err),
				d.leftOver(ctx, m.UUID, old, audioAfter(rev.Steps[:j], audio), opts))
		}
	}
	d.logFor(ctx).WithFields(map[string]any{"vm": m.Name, "steps": len(rev.Steps)}).Warn("a failed update was undone")
	if left, err := d.diffFrom(ctx, m.UUID, old, audioAfter(rev.Steps, audio), opts); err != nil || !left.Empty() {
		return "the old settings were restored, but " + d.leftOver(ctx, m.UUID, old, audioAfter(rev.Steps, audio), opts)
	}
	return "the old settings were restored"
}

// leftOver describes how machine uuid now differs from old.
func (d *Driver) leftOver(ctx context.Context, uuid string, old *libvirtxml.Domain, audio string, opts domxml.PlanOptions) string {
	left, err := d.diffFrom(ctx, uuid, old, audio, opts)
	switch {
	case err != nil:
		return "the machine's settings are unknown: " + errdefs.Detail(err)
	case left.Empty():
		return "the machine has its old settings nonetheless"
	}
	return "the machine differs from its old settings; to restore them run: " + stepList(left.Steps)
}

// diffFrom reads machine uuid and plans the change back to old. audio is the
// audio controller the machine has now (only the full listing prints it).
func (d *Driver) diffFrom(ctx context.Context, uuid string, old *libvirtxml.Domain, audio string, opts domxml.PlanOptions) (*domxml.Plan, error) {
	out, _, err := d.runPolicy(ctx, RetryTransient, "showvminfo", uuid, "--machinereadable")
	if err != nil {
		return nil, vboxError("cannot read the machine back", err)
	}
	now := toDomxmlInfo(ParseMachineReadable(out))
	now.AudioController = audio
	return domxml.PlanDefine(old, &now, opts)
}

// audioAfter is the audio controller after steps ran on a machine that had
// start: the last --audiocontroller (6.1) or --audio-controller (7.x) value.
func audioAfter(steps []domxml.Step, start string) string {
	for _, st := range steps {
		for i := 0; i+1 < len(st.Args); i++ {
			if st.Args[i] == "--audiocontroller" || st.Args[i] == "--audio-controller" {
				start = st.Args[i+1]
			}
		}
	}
	return start
}

// stepList spells steps as command lines.
func stepList(steps []domxml.Step) string {
	if len(steps) == 0 {
		return "none"
	}
	q := make([]string, len(steps))
	for i, st := range steps {
		q[i] = "`" + st.String() + "`"
	}
	return strings.Join(q, "; ")
}

// DomainCreateXML implements driver.Conn (virsh create): define, then start.
// VirtualBox has no transient machines, so the machine stays defined, as
// with libvirt's driver; if the start fails, a machine this call created is
// removed again.
func (c *conn) DomainCreateXML(ctx context.Context, doc string, flags uint32) (driver.Domain, error) {
	if flags&^(startPaused|startValidate) != 0 {
		return driver.Domain{}, unsupportedFlags(flags, "virDomainCreateXML")
	}
	dom, err := domxml.ParseDomain(doc)
	if err != nil {
		return driver.Domain{}, err
	}
	existed := false
	if _, err := c.LookupByName(ctx, dom.Name); err == nil {
		existed = true
	}
	m, err := c.d.define(ctx, doc)
	if err != nil {
		return driver.Domain{}, err
	}
	dd := c.d.domainOf(m)
	if err := c.d.withVM(ctx, dd, func(m Machine, op *vmOp) error { return c.d.start(ctx, m, op, flags&startPaused) }); err != nil {
		if !existed {
			if uerr := c.d.undefine(ctx, dd, undefineManagedSave); uerr != nil {
				c.d.logFor(ctx).WithError(uerr).WithField("vm", m.Name).Warn("removing a domain whose start failed")
			}
		}
		return driver.Domain{}, err
	}
	m, err = c.d.machine(ctx, dd)
	if err != nil {
		return driver.Domain{}, err
	}
	return c.d.domainOf(m), nil
}

// DomainUndefine implements driver.Conn: `unregistervm` (never --delete, which
// would delete the disks), then the machine's own settings file and logs
// are removed, as libvirt's driver does, so that the name can be defined
// again. A running machine is refused; a saved state needs
// VIR_DOMAIN_UNDEFINE_MANAGED_SAVE; snapshots need
// VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA, and then the settings file is
// kept (it holds the snapshot tree).
func (c *conn) DomainUndefine(ctx context.Context, dom driver.Domain, flags uint32) error {
	if flags&^(undefineManagedSave|undefineSnapshotsMetadata|undefineNVRAM|undefineKeepNVRAM|undefineCheckpoints) != 0 {
		return unsupportedFlags(flags, "virDomainUndefineFlags")
	}
	return c.d.undefine(ctx, dom, flags)
}

func (d *Driver) undefine(ctx context.Context, dom driver.Domain, flags uint32) error {
	var cfg, logs string
	err := d.withVM(ctx, dom, func(m Machine, op *vmOp) error {
		if IsOnline(m.State) {
			return errdefs.New(errdefs.ErrOperationInvalid, "cannot undefine a running domain: VirtualBox machines are always persistent")
		}
		if HasSavedState(m.State) && flags&undefineManagedSave == 0 {
			return errdefs.New(errdefs.ErrOperationInvalid, "Refusing to undefine while domain managed save image exists")
		}
		if m.Snapshots > 0 && flags&undefineSnapshotsMetadata == 0 {
			return errdefs.Newf(errdefs.ErrOperationInvalid, "cannot delete inactive domain with %d snapshots", m.Snapshots)
		}
		info, err := d.inv.Reload(ctx, m.UUID)
		if err != nil {
			return vboxError("cannot read machine "+m.Name, err)
		}
		// A pending definition (pending.go) goes with the machine: also
		// from a settings file kept for its snapshots.
		if extra, err := d.inv.ExtraData(ctx, m.UUID, false); err == nil {
			if _, ok := extra[pendingKey]; ok {
				if err := d.clearPending(ctx, m); err != nil {
					return err
				}
			}
		}
		d.pend.forget(m.UUID)
		if HasSavedState(m.State) {
			if err := d.vmCmd(ctx, m, "cannot remove managed save image", "discardstate", m.UUID); err != nil {
				return err
			}
		}
		if err := d.vmCmd(ctx, m, "cannot undefine domain", "unregistervm", m.UUID); err != nil {
			return err
		}
		if m.Snapshots == 0 {
			cfg, logs = info.Str("CfgFile"), info.Str("LogFldr")
		}
		d.inv.Forget(m.UUID)
		op.known(func(*Machine) {}) // gone: nothing to re-read
		return nil
	})
	if err != nil {
		return err
	}
	d.inv.Forget(uuidString(dom.UUID))
	d.inv.Invalidate()
	d.stor.media.invalidate() // its disks are no longer in use
	if cfg != "" {
		for _, err := range removeMachineFiles(cfg, logs) {
			d.log.WithError(err).Warn("cannot remove an undefined machine's files")
		}
	}
	return nil
}

// removeMachineFiles deletes an unregistered machine's settings file (and
// its -prev backup) and its log folder, then the machine folder if that left
// it empty. Disk images are never touched. It returns what it could not
// remove (a missing file is no error).
func removeMachineFiles(cfg, logs string) []error {
	var errs []error
	dir := filepath.Dir(cfg)
	for _, f := range []string{cfg, cfg + "-prev"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if logs != "" && filepath.Dir(filepath.Clean(logs)) == filepath.Clean(dir) {
		if err := os.RemoveAll(logs); err != nil {
			errs = append(errs, err)
		}
	}
	os.Remove(dir) // only succeeds when empty
	return errs
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func mustUUID(s string) [16]byte {
	u, _ := parseUUID(s)
	return u
}

func stateWord(state string) string {
	switch state {
	case "saved", "aborted-saved":
		return "saved"
	case "paused":
		return "paused"
	}
	return "running"
}

// guestLimits returns the host's vCPU and RAM bounds for PlanDefine, or nil
// (no check, VBoxManage then refuses) when they cannot be read.
func (d *Driver) guestLimits(ctx context.Context) *domxml.Limits {
	sp, err := d.systemProperties(ctx)
	if err != nil {
		d.logFor(ctx).WithError(err).Debug("defining without the host's guest limits")
		return nil
	}
	return &domxml.Limits{
		MaxCPUs:   uint(max(sp.LeadingInt("Maximum guest CPU count", 0), 0)),
		MinRAMMiB: uint(max(sp.LeadingInt("Minimum guest RAM size", 0), 0)),
		MaxRAMMiB: uint(max(sp.LeadingInt("Maximum guest RAM size", 0), 0)),
	}
}
