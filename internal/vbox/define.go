package vbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
	"github.com/virtvboxd/virtvboxd/internal/rpc"
	"github.com/virtvboxd/virtvboxd/internal/vbox/domxml"
)

// DomainDefineXML implements rpc.Conn. The XML is parsed and validated
// completely and turned into a plan before anything runs, so a bad document
// changes nothing. A domain whose UUID (or, without a UUID, whose name)
// matches a registered machine updates that machine in place — libvirt's own
// driver cannot, so `virsh edit` works here; an unchanged document changes
// nothing. As in libvirt, a registered UUID under another name is refused
// (define never renames), as is a registered name under another UUID. A
// failed creation is rolled back.
func (c *conn) DomainDefineXML(ctx context.Context, doc string, flags uint32) (rpc.Domain, error) {
	if flags&^defineValidate != 0 {
		return rpc.Domain{}, unsupportedFlags(flags, "virDomainDefineXMLFlags")
	}
	m, err := c.d.define(ctx, doc)
	if err != nil {
		return rpc.Domain{}, err
	}
	return c.d.domainOf(m), nil
}

func (d *Driver) define(ctx context.Context, doc string) (Machine, error) {
	dom, err := domxml.ParseDomain(doc)
	if err != nil {
		return Machine{}, err
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
	err = d.withVM(ctx, rpc.Domain{Name: existing.Name, UUID: mustUUID(existing.UUID)}, func(m Machine, op *vmOp) error {
		info, err := d.inv.Reload(ctx, m.UUID)
		if err != nil {
			return vboxError("cannot read machine "+m.Name, err)
		}
		cur, err := d.domxmlInfo(ctx, m, info)
		if err != nil {
			return vboxError("cannot read the extradata of machine "+m.Name, err)
		}
		plan, err := domxml.PlanDefine(dom, &cur, opts)
		if err != nil {
			return err
		}
		d.logNotes(m.Name, plan)
		if plan.Empty() {
			op.known(func(*Machine) {})
			return nil
		}
		if !offline(m.State) {
			return errdefs.Newf(errdefs.ErrOperationInvalid,
				"cannot change the configuration of domain '%s' while it is %s: VirtualBox only accepts changes to a powered-off machine",
				m.Name, stateWord(m.State))
		}
		for i, st := range plan.Steps {
			if _, _, err := d.runPolicy(ctx, policyFor(m), st.Args...); err != nil {
				e := vboxError("cannot update domain '"+m.Name+"'", err)
				return errdefs.Wrap(errdefs.ClassOf(e), err, fmt.Sprintf("%s (step %d of %d, `%s`; the %d earlier steps stay applied)",
					errdefs.Detail(e), i+1, len(plan.Steps), st.Args[0], i))
			}
		}
		d.log.WithFields(map[string]any{"vm": m.Name, "steps": len(plan.Steps)}).Info("domain updated in place")
		// Some settings (the audio controller) are only in the full listing.
		d.inv.Invalidate()
		return nil
	})
	if err != nil {
		return Machine{}, err
	}
	out, err = d.inv.Get(ctx, existing.UUID)
	if err != nil {
		return Machine{}, vboxError("cannot read machine "+existing.Name, err)
	}
	return out, nil
}

// create runs a creation plan under the new machine's lock, rolling it back
// when a step fails.
func (d *Driver) create(ctx context.Context, name string, mkPlan func() (*domxml.Plan, error)) (Machine, error) {
	plan, err := mkPlan()
	if err != nil {
		return Machine{}, err
	}
	d.logNotes(name, plan)
	unlock, err := d.locks.lock(ctx, plan.UUID)
	if err != nil {
		return Machine{}, errdefs.Wrap(errdefs.ErrOperationTimeout, err, "cannot acquire the machine's lock: "+err.Error())
	}
	defer unlock()
	for i, st := range plan.Steps {
		policy := RetryTransient
		if i == 0 && plan.Create {
			policy = NoRetry // createvm is not safe to repeat
		}
		if _, _, err := d.runPolicy(ctx, policy, st.Args...); err != nil {
			e := vboxError("cannot define domain '"+name+"'", err)
			if i == 0 && strings.Contains(errdefs.Detail(e), "already exists") {
				e = errdefs.Wrap(errdefs.ErrOperationFailed, err, errdefs.Detail(e))
			}
			rolled := ""
			if i > 0 {
				rolled = "; " + d.rollback(ctx, plan)
			}
			return Machine{}, errdefs.Wrap(errdefs.ClassOf(e), err, fmt.Sprintf("%s (step %d of %d, `%s`)%s",
				errdefs.Detail(e), i+1, len(plan.Steps), st.Args[0], rolled))
		}
	}
	d.inv.MarkDirty(plan.UUID)
	if _, err := d.inv.Reload(ctx, plan.UUID); err != nil {
		return Machine{}, vboxError("cannot read the new machine "+name, err)
	}
	d.inv.Invalidate()
	m, err := d.inv.Get(ctx, plan.UUID)
	if err != nil {
		return Machine{}, vboxError("cannot read the new machine "+name, err)
	}
	d.log.WithFields(map[string]any{"vm": name, "uuid": plan.UUID, "steps": len(plan.Steps)}).Info("domain defined")
	return m, nil
}

// rollback undoes a failed creation and says how it went.
func (d *Driver) rollback(ctx context.Context, plan *domxml.Plan) string {
	var failed []string
	for _, st := range plan.Rollback {
		if _, _, err := d.runPolicy(ctx, RetryTransient, st.Args...); err != nil {
			failed = append(failed, fmt.Sprintf("`%s`: %s", st.Args[0], errdefs.Detail(vboxError("", err))))
		}
	}
	d.inv.Forget(plan.UUID)
	if len(failed) > 0 {
		return "rollback incomplete: " + strings.Join(failed, "; ")
	}
	return "the new machine was removed again"
}

// DomainCreateXML implements rpc.Conn (virsh create): define, then start.
// VirtualBox has no transient machines, so the machine stays defined, as
// with libvirt's driver; if the start fails, a machine this call created is
// removed again.
func (c *conn) DomainCreateXML(ctx context.Context, doc string, flags uint32) (rpc.Domain, error) {
	if flags&^(startPaused|startValidate) != 0 {
		return rpc.Domain{}, unsupportedFlags(flags, "virDomainCreateXML")
	}
	dom, err := domxml.ParseDomain(doc)
	if err != nil {
		return rpc.Domain{}, err
	}
	existed := false
	if _, err := c.LookupByName(ctx, dom.Name); err == nil {
		existed = true
	}
	m, err := c.d.define(ctx, doc)
	if err != nil {
		return rpc.Domain{}, err
	}
	dd := c.d.domainOf(m)
	if err := c.d.withVM(ctx, dd, func(m Machine, op *vmOp) error { return c.d.start(ctx, m, op, flags&startPaused) }); err != nil {
		if !existed {
			if uerr := c.d.undefine(ctx, dd, undefineManagedSave); uerr != nil {
				c.d.log.WithError(uerr).WithField("vm", m.Name).Warn("removing a domain whose start failed")
			}
		}
		return rpc.Domain{}, err
	}
	m, err = c.d.machine(ctx, dd)
	if err != nil {
		return rpc.Domain{}, err
	}
	return c.d.domainOf(m), nil
}

// DomainUndefine implements rpc.Conn: `unregistervm` (never --delete, which
// would delete the disks), then the machine's own settings file and logs
// are removed, as libvirt's driver does, so that the name can be defined
// again. A running machine is refused; a saved state needs
// VIR_DOMAIN_UNDEFINE_MANAGED_SAVE; snapshots need
// VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA, and then the settings file is
// kept (it holds the snapshot tree).
func (c *conn) DomainUndefine(ctx context.Context, dom rpc.Domain, flags uint32) error {
	if flags&^(undefineManagedSave|undefineSnapshotsMetadata|undefineNVRAM|undefineKeepNVRAM|undefineCheckpoints) != 0 {
		return unsupportedFlags(flags, "virDomainUndefineFlags")
	}
	return c.d.undefine(ctx, dom, flags)
}

func (d *Driver) undefine(ctx context.Context, dom rpc.Domain, flags uint32) error {
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
	if cfg != "" {
		removeMachineFiles(cfg, logs, d)
	}
	return nil
}

// removeMachineFiles deletes an unregistered machine's settings file (and
// its -prev backup) and its log folder, then the machine folder if that left
// it empty. Disk images are never touched.
func removeMachineFiles(cfg, logs string, d *Driver) {
	dir := filepath.Dir(cfg)
	for _, f := range []string{cfg, cfg + "-prev"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			d.log.WithError(err).Warn("cannot remove an undefined machine's settings file")
		}
	}
	if logs != "" && filepath.Dir(filepath.Clean(logs)) == filepath.Clean(dir) {
		if err := os.RemoveAll(logs); err != nil {
			d.log.WithError(err).Warn("cannot remove an undefined machine's logs")
		}
	}
	os.Remove(dir) // only succeeds when empty
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
		d.log.WithError(err).Debug("defining without the host's guest limits")
		return nil
	}
	return &domxml.Limits{
		MaxCPUs:   uint(max(sp.LeadingInt("Maximum guest CPU count", 0), 0)),
		MinRAMMiB: uint(max(sp.LeadingInt("Minimum guest RAM size", 0), 0)),
		MaxRAMMiB: uint(max(sp.LeadingInt("Maximum guest RAM size", 0), 0)),
	}
}
