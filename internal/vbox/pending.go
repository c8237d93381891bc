package vbox

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"strings"
	"sync"
	"time"

	"libvirt.org/go/libvirtxml"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
	"github.com/virtvboxd/virtvboxd/internal/vbox/domxml"
)

// Pending definitions (docs/domain-xml.md). VirtualBox changes a machine's
// settings only while it is powered off, and has no "next boot" settings.
// libvirt's define (and a device change with AFFECT_CONFIG) on a running
// domain changes the persistent definition only, which the next boot uses.
// The daemon keeps such a definition in the machine's extradata (pendingKey,
// which VirtualBox lets change on a running machine), validated against the
// machine's settings when stored, and applies it with the in-place define
// (applyUpdate, with its rollback) as soon as the machine is powered off:
//
//   - when the daemon's own command on the machine ends (the machine lock's
//     release, before the next holder gets it), so that `virsh destroy` or a
//     shutdown returns with the definition applied;
//   - when a listing of the inventory's watcher shows it powered off by
//     someone else (the guest, VBoxManage by hand);
//   - before any start the daemon makes (DomainCreate).
//
// A failed application leaves the old settings (applyUpdate restores them)
// and the pending definition in place; it is logged, and the next start
// tries again and fails with the reason.
const pendingKey = "virtvboxd/pending-xml"

// pendingB64 prefixes a pending definition stored base64-encoded: one whose
// single-line form still holds a line break (raw metadata elements).
const pendingB64 = "base64:"

// pendingApplyTimeout bounds one application started by the watcher or a
// lock's release, which no caller can cancel.
const pendingApplyTimeout = 5 * time.Minute

// pendingSet is what the daemon knows of machines with a pending definition:
// true to apply at the next power-off seen, false after an application
// failed (the next start retries). A machine stored by an earlier daemon
// joins when one of its reads (dumpxml, IsUpdated) sees the key.
type pendingSet struct {
	mu      sync.Mutex
	m       map[string]bool
	running bool // the follower of the watcher's listings runs
}

func (p *pendingSet) add(u string) (startFollower bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]bool{}
	}
	p.m[u] = true
	if !p.running {
		p.running = true
		return true
	}
	return false
}

func (p *pendingSet) forget(u string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.m, u)
}

func (p *pendingSet) failed(u string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.m[u]; ok {
		p.m[u] = false
	}
}

func (p *pendingSet) armed(u string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m[u]
}

// armedList returns the machines to apply at power-off, or stops the
// follower (returns ok false) when none is left.
func (p *pendingSet) armedList() (us []string, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for u, a := range p.m {
		if a {
			us = append(us, u)
		}
	}
	if len(us) == 0 {
		p.running = false
		return nil, false
	}
	return us, true
}

// encodePending is dom's stored form: single-line XML (line breaks in text
// and attributes are character references), or base64 when raw content
// keeps a line break (extradata values are single lines).
func encodePending(dom *libvirtxml.Domain) (string, error) {
	b, err := xml.Marshal(dom)
	if err != nil {
		return "", errdefs.Wrap(errdefs.ErrInternal, err, "cannot format the pending definition: "+err.Error())
	}
	s := string(b)
	if strings.ContainsAny(s, "\r\n") {
		return pendingB64 + base64.StdEncoding.EncodeToString(b), nil
	}
	return s, nil
}

// decodePending reads a stored pending definition.
func decodePending(v string) (*libvirtxml.Domain, error) {
	if rest, ok := strings.CutPrefix(v, pendingB64); ok {
		b, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return nil, errdefs.Wrap(errdefs.ErrInternal, err, "the pending definition in extradata "+pendingKey+" is damaged: "+err.Error())
		}
		v = string(b)
	}
	dom := &libvirtxml.Domain{}
	if err := dom.Unmarshal(v); err != nil {
		return nil, errdefs.Wrap(errdefs.ErrInternal, err, "the pending definition in extradata "+pendingKey+" is damaged: "+err.Error())
	}
	return dom, nil
}

// planOptions are the options of a define's plan.
func (d *Driver) planOptions(ctx context.Context) (domxml.PlanOptions, error) {
	v, err := d.Version(ctx)
	if err != nil {
		return domxml.PlanOptions{}, err
	}
	return domxml.PlanOptions{Version: v.Raw, FileExists: fileExists, Limits: d.guestLimits(ctx), IsNATNetwork: d.natNetworkLookup(ctx)}, nil
}

// storePending makes next the pending definition of running machine m (the
// caller holds its lock; cur is its settings, read under the lock), or
// drops the pending definition when next asks for nothing but the machine's
// settings. next is checked as a define would check it: a document the
// machine could not take changes nothing.
func (d *Driver) storePending(ctx context.Context, m Machine, cur domxml.Info, next *libvirtxml.Domain, opts domxml.PlanOptions) error {
	plan, err := domxml.PlanDefine(next, &cur, opts)
	if err != nil {
		return err
	}
	d.logNotes(ctx, m.Name, plan)
	_, had := cur.ExtraData[pendingKey]
	if plan.Empty() {
		if had {
			return d.clearPending(ctx, m)
		}
		return nil
	}
	keep := *next
	keep.ID = nil
	if keep.UUID == "" {
		keep.UUID = m.UUID
	}
	v, err := encodePending(&keep)
	if err != nil {
		return err
	}
	if err := d.vmCmd(ctx, m, "cannot store the pending definition of domain '"+m.Name+"'", "setextradata", m.UUID, pendingKey, v); err != nil {
		return err
	}
	d.inv.MarkDirty(m.UUID)
	d.notePending(m.UUID)
	d.logFor(ctx).WithFields(map[string]any{"vm": m.Name, "steps": len(plan.Steps)}).Info("definition pending until the machine is powered off")
	return nil
}

// clearPending drops m's pending definition.
func (d *Driver) clearPending(ctx context.Context, m Machine) error {
	d.pend.forget(m.UUID)
	if err := d.vmCmd(ctx, m, "cannot drop the pending definition of domain '"+m.Name+"'", "setextradata", m.UUID, pendingKey); err != nil {
		return err
	}
	d.inv.MarkDirty(m.UUID)
	return nil
}

// notePending arms the application of u's pending definition at its next
// power-off, and follows the watcher's listings while any is armed.
func (d *Driver) notePending(u string) {
	if d.pend.add(u) {
		go d.followPending()
	}
}

// persistentDomain is m's persistent definition: the pending one if any,
// else its settings.
func (d *Driver) persistentDomain(cur domxml.Info) (*libvirtxml.Domain, bool, error) {
	if v, ok := cur.ExtraData[pendingKey]; ok && v != "" {
		dom, err := decodePending(v)
		return dom, true, err
	}
	dom, err := domxml.ToDomain(cur, domxml.Runtime{ID: -1})
	return dom, false, err
}

// applyPending applies machine u's pending definition if it has one and is
// powered off (a saved machine keeps it: VirtualBox changes nothing of a
// saved machine, and its restore must find the settings it was saved with).
// The caller holds u's lock. A failure is logged and returned; the pending
// definition stays and the old settings are restored.
func (d *Driver) applyPending(ctx context.Context, u string) error {
	info, err := d.inv.Reload(ctx, u)
	if err != nil {
		return vboxError("cannot read machine "+u, err)
	}
	state := MachineFromInfo(info).State
	if !offline(state) {
		return nil
	}
	extra, err := d.inv.ExtraData(ctx, u, true)
	if err != nil {
		return vboxError("cannot read the extradata of machine "+u, err)
	}
	v, ok := extra[pendingKey]
	if !ok {
		d.pend.forget(u)
		return nil
	}
	m, err := d.inv.Get(ctx, u)
	if err != nil {
		return vboxError("cannot read machine "+u, err)
	}
	m.State = state
	defer d.stor.media.invalidate()
	err = d.applyPendingDoc(ctx, m, info, extra, v)
	if err != nil {
		d.pend.failed(u)
		d.logFor(ctx).WithError(err).WithField("vm", m.Name).Warn("the pending definition could not be applied; it is kept and the next start tries again")
		return errdefs.Wrap(errdefs.ClassOf(err), err, fmt.Sprintf("the pending definition of domain '%s' could not be applied: %s", m.Name, errdefs.Detail(err)))
	}
	return nil
}

func (d *Driver) applyPendingDoc(ctx context.Context, m Machine, info *Info, extra map[string]string, v string) error {
	dom, err := decodePending(v)
	if err != nil {
		return err
	}
	opts, err := d.planOptions(ctx)
	if err != nil {
		return err
	}
	cur := domxmlInfoWith(m, info, extra)
	plan, err := domxml.PlanDefine(dom, &cur, opts)
	if err != nil {
		return err
	}
	if !plan.Empty() {
		if _, err := d.applyUpdate(ctx, m, cur, plan, opts); err != nil {
			return err
		}
	}
	if err := d.clearPending(ctx, m); err != nil {
		return err
	}
	d.logFor(ctx).WithField("vm", m.Name).Info("pending definition applied")
	return nil
}

// pendingReleased runs when the daemon's command on key releases the
// machine's lock (before the next holder gets it): an armed machine that
// command powered off gets its pending definition now.
func (d *Driver) pendingReleased(key string) {
	if strings.HasPrefix(key, "name:") {
		return
	}
	u := strings.ToLower(key)
	if !d.pend.armed(u) {
		return
	}
	// applyPending reads the machine's state: the cached one may not
	// know yet that a shutdown's guest has powered off.
	ctx, cancel := context.WithTimeout(d.life, pendingApplyTimeout)
	defer cancel()
	_ = d.applyPending(ctx, u) // logged
}

// cachedMachine is u's machine in the inventory's snapshot, without reading.
func (d *Driver) cachedMachine(u string) (Machine, bool) {
	snap := d.inv.current0()
	if snap == nil {
		return Machine{}, false
	}
	m, ok := snap.byUUID[u]
	return m, ok
}

// followPending applies armed pending definitions of machines the
// watcher's listings show powered off by someone else; it ends when none
// is armed or the driver closes.
func (d *Driver) followPending() {
	for {
		next := d.inv.Refreshed()
		us, ok := d.pend.armedList()
		if !ok {
			return
		}
		for _, u := range us {
			m, ok := d.cachedMachine(u)
			if !ok || !offline(m.State) || d.locks.busy(u) {
				continue
			}
			ctx, cancel := context.WithTimeout(d.life, pendingApplyTimeout)
			unlock, err := d.locks.lock(ctx, u)
			if err == nil {
				_ = d.applyPending(ctx, u) // logged
				unlock()
			}
			cancel()
		}
		select {
		case <-d.life.Done():
			d.pend.mu.Lock()
			d.pend.running = false
			d.pend.mu.Unlock()
			return
		case <-next:
		}
	}
}
