package vbox

import (
	"context"
	"errors"
	"fmt"
	"github.com/virtvboxd/virtvboxd/internal/driver"
	"math"
	"reflect"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
	"github.com/virtvboxd/virtvboxd/internal/vbox/domxml"
)

// vmOp collects what a command under withVM knows about its result.
type vmOp struct {
	change  func(*Machine) // the machine's new facts, when the command's result is certain
	settled bool           // the machine was re-read after the command (settle)
}

// known records that the command succeeded with a certain result: change
// is applied to the cached machine and no re-read is needed.
func (op *vmOp) known(change func(*Machine)) { op.change = change }

// withVM runs fn with dom's machine locked against the daemon's other
// commands on it. fn receives the machine as last seen (re-read after the
// lock was taken). Afterwards the caches show the result at once: a certain
// result recorded with op.known is applied to the cached machine (no
// process); a success without one re-reads the machine; a failed command
// marks it dirty, so its next lookup re-reads it.
func (d *Driver) withVM(ctx context.Context, dom driver.Domain, fn func(m Machine, op *vmOp) error) error {
	m, err := d.machine(ctx, dom)
	if err != nil {
		return err
	}
	unlock, err := d.locks.lock(ctx, m.UUID)
	if err != nil {
		return errdefs.Wrap(errdefs.ErrOperationTimeout, err, "cannot acquire the machine's lock: "+err.Error())
	}
	defer unlock()
	// Another command may have changed the machine while we waited.
	if m, err = d.machine(ctx, dom); err != nil {
		return err
	}
	op := &vmOp{}
	start := d.inv.now()
	d.inv.Own(m.UUID, start, time.Time{})
	err = fn(m, op)
	d.inv.Own(m.UUID, start, d.inv.now())
	switch {
	case err != nil:
		var ce *CmdError
		if errors.As(err, &ce) {
			d.inv.MarkDirty(m.UUID)
		}
	case op.settled:
		if !d.inv.Settled(m.UUID) {
			d.inv.MarkDirty(m.UUID)
		}
	case op.change != nil:
		if !d.inv.Apply(m.UUID, op.change) {
			d.inv.MarkDirty(m.UUID)
		}
	default:
		d.inv.MarkDirty(m.UUID)
		if _, rerr := d.inv.Reload(ctx, m.UUID); rerr != nil && !errors.Is(rerr, errNotFound) {
			d.logFor(ctx).WithError(rerr).WithField("vm", m.Name).Debug("re-reading the machine after a change failed")
		}
	}
	return err
}

// vmCmd runs a command changing machine m and classifies its failure.
func (d *Driver) vmCmd(ctx context.Context, m Machine, op string, args ...string) error {
	_, _, err := d.runPolicy(ctx, policyFor(m), args...)
	if err == nil {
		return nil
	}
	if KindOf(err) == KindNotFound {
		return errdefs.Wrap(errdefs.ErrNoDomain, err, fmt.Sprintf("no domain with matching uuid '%s' (%s)", m.UUID, m.Name))
	}
	return vboxError(op, err)
}

// settle checks the outcome of a lifecycle command that exited 0 (and
// printed no error line): it re-reads the machine (one `showvminfo`, which
// also refreshes the caches and the ID table with what VirtualBox really
// says) and fails unless the machine is in one of want. A VBoxManage that
// reports success without acting (some builds exit 0 after a failed
// power-up, reference §6) is so reported as VIR_ERR_OPERATION_FAILED naming
// the state found, and the domain keeps its ID and state. On success the
// caches already hold the new state: op records that no re-read is needed.
func (d *Driver) settle(ctx context.Context, m Machine, op *vmOp, what string, cmd []string, want ...string) error {
	info, err := d.inv.Reload(ctx, m.UUID)
	if errors.Is(err, errNotFound) {
		return errdefs.Newf(errdefs.ErrNoDomain, "no domain with matching uuid '%s' (%s)", m.UUID, m.Name)
	}
	if err != nil {
		return errdefs.Wrap(errdefs.ErrOperationFailed, err, fmt.Sprintf("%s: VBoxManage %s exited 0, but the machine's state cannot be read back: %s",
			what, strings.Join(cmd, " "), cmdMessage(err)))
	}
	got := MachineFromInfo(info).State
	for _, w := range want {
		if got == w {
			op.settled = true
			return nil
		}
	}
	return errdefs.Newf(errdefs.ErrOperationFailed, "%s: VBoxManage %s exited 0, but the machine is %s, not %s",
		what, strings.Join(cmd, " "), stateName(got), strings.Join(mapStrings(want, stateName), " or "))
}

// cmdMessage is VBoxManage's message in err, or err's text.
func cmdMessage(err error) string {
	var ce *CmdError
	if errors.As(err, &ce) {
		return ce.Message()
	}
	return err.Error()
}

// stateName spells a VMState token as VirtualBox's human format does
// ("powered off", "paused").
func stateName(state string) string {
	switch state {
	case "poweroff":
		return "powered off"
	case "":
		return "in no state VirtualBox reported"
	}
	return state
}

func mapStrings(in []string, f func(string) string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = f(s)
	}
	return out
}

// DomainCreate implements driver.Conn (virsh start): `startvm --type headless`
// unless the machine asks for a GUI front end. START_PAUSED starts and
// pauses at once; FORCE_BOOT discards a saved state first. A pending
// definition of a powered-off machine is applied first (pending.go).
func (c *conn) DomainCreate(ctx context.Context, dom driver.Domain, flags uint32) (driver.Domain, error) {
	if flags&^(startPaused|startForceBoot) != 0 {
		return driver.Domain{}, unsupportedFlags(flags, "virDomainCreateWithFlags")
	}
	err := c.d.withVM(ctx, dom, func(m Machine, op *vmOp) error {
		// A pending definition first (pending.go): a failure to apply it
		// is this start's failure, and the machine keeps its settings.
		if offline(m.State) {
			if extra, err := c.d.inv.ExtraData(ctx, m.UUID, false); err != nil || extra[pendingKey] != "" {
				if err := c.d.applyPending(ctx, m.UUID); err != nil {
					return err
				}
				if m, err = c.d.machine(ctx, dom); err != nil {
					return err
				}
			}
		}
		return c.d.start(ctx, m, op, flags)
	})
	if err != nil {
		return driver.Domain{}, err
	}
	m, err := c.d.machine(ctx, dom)
	if err != nil {
		return driver.Domain{}, err
	}
	return c.d.domainOf(m), nil
}

// start boots m; the caller holds m's lock.
func (d *Driver) start(ctx context.Context, m Machine, op *vmOp, flags uint32) error {
	if IsOnline(m.State) {
		return errdefs.New(errdefs.ErrOperationInvalid, "domain is already running")
	}
	switch m.State {
	case "poweroff", "saved", "aborted", "aborted-saved", "teleported":
	default:
		return errdefs.Newf(errdefs.ErrOperationFailed,
			"machine is not in poweroff|saved|aborted state, so couldn't start it (state: %s)", m.State)
	}
	reason := int32(RunningBooted)
	if HasSavedState(m.State) {
		if flags&startForceBoot != 0 {
			if err := d.vmCmd(ctx, m, "cannot discard the saved state", "discardstate", m.UUID); err != nil {
				return err
			}
		} else {
			reason = RunningRestored
		}
	}
	typ, env := d.frontend(ctx, m)
	args := []string{"startvm", m.UUID, "--type", typ}
	if env != "" {
		args = append(args, "--putenv", env)
	}
	if err := d.vmCmd(ctx, m, "cannot start domain", args...); err != nil {
		if errdefs.ClassOf(err) == errdefs.ErrInternal {
			return errdefs.Wrap(errdefs.ErrOperationFailed, err, "domain can't be started: "+errdefs.Detail(err))
		}
		return err
	}
	if err := d.settle(ctx, m, op, "domain can't be started", []string{"startvm", "--type", typ}, "running", "paused"); err != nil {
		return err
	}
	d.states.SetCause(m.UUID, "running", reason)
	if flags&startPaused != 0 {
		m.State = "running"
		if err := d.vmCmd(ctx, m, "cannot pause domain", "controlvm", m.UUID, "pause"); err != nil {
			return err
		}
		if err := d.settle(ctx, m, op, "cannot pause domain", []string{"controlvm", "pause"}, "paused"); err != nil {
			return err
		}
		d.states.SetCause(m.UUID, "paused", PausedUser)
	}
	return nil
}

// frontend picks startvm's --type: the machine's default front end when it
// has one (as domxml.Frontend reads it), else the FRONTEND/Type extradata
// libvirt's driver writes (gui, sdl; vrdp means headless), else headless,
// since a daemon has no display. A GUI front end gets DISPLAY from the
// FRONTEND/Display extradata.
func (d *Driver) frontend(ctx context.Context, m Machine) (typ, env string) {
	typ = "headless"
	if f := strings.ToLower(m.Frontend); f != "" && f != "default" {
		typ = domxml.Frontend(domxml.NewInfo([]domxml.KV{{Key: "defaultfrontend", Value: m.Frontend}}))
	} else if out, _, err := d.runPolicy(ctx, RetryTransient, "getextradata", m.UUID, "FRONTEND/Type"); err == nil {
		switch v := extraDataValue(out); v {
		case "gui", "sdl":
			typ = v
		}
	}
	if typ == "gui" || typ == "sdl" || typ == "separate" {
		if out, _, err := d.runPolicy(ctx, RetryTransient, "getextradata", m.UUID, "FRONTEND/Display"); err == nil {
			if disp := extraDataValue(out); disp != "" {
				env = "DISPLAY=" + disp
			}
		}
	}
	return typ, env
}

// extraDataValue reads `getextradata` output: "Value: x" or "No value set!".
func extraDataValue(out []byte) string {
	for _, r := range ParseRecords(out) {
		if v, ok := r.Get("Value"); ok {
			return v
		}
	}
	return ""
}

// DomainShutdown implements driver.Conn: the ACPI power button. Shutdown is
// asynchronous (the guest decides whether and when to power off), so only
// VBoxManage's exit status and error lines are checked, not the state.
func (c *conn) DomainShutdown(ctx context.Context, dom driver.Domain, flags uint32) error {
	if flags&^shutdownACPI != 0 {
		return unsupportedFlags(flags, "virDomainShutdownFlags")
	}
	return c.d.withVM(ctx, dom, func(m Machine, op *vmOp) error {
		switch {
		case m.State == "paused":
			return errdefs.New(errdefs.ErrOperationFailed, "machine paused, so can't power it down")
		case m.State == "poweroff":
			return errdefs.New(errdefs.ErrOperationFailed, "machine already powered down")
		case !IsOnline(m.State):
			return errdefs.New(errdefs.ErrOperationInvalid, "domain is not running")
		}
		// When the guest powers off, States sees a machine go from online
		// to poweroff without a cause of ours: reason SHUTDOWN.
		if err := c.d.vmCmd(ctx, m, "cannot shut down domain", "controlvm", m.UUID, "acpipowerbutton"); err != nil {
			return err
		}
		op.known(func(*Machine) {}) // the guest decides; nothing changed yet
		return nil
	})
}

// DomainReboot implements driver.Conn as libvirt's driver does: a hard reset
// (VirtualBox has no ACPI reboot without Guest Additions). A reset leaves
// the machine running either way: only the exit status and error lines
// are checked.
func (c *conn) DomainReboot(ctx context.Context, dom driver.Domain, flags uint32) error {
	if flags != 0 {
		return unsupportedFlags(flags, "virDomainReboot")
	}
	return c.d.withVM(ctx, dom, func(m Machine, op *vmOp) error {
		if m.State != "running" {
			return errdefs.New(errdefs.ErrOperationFailed, "machine not running, so can't reboot it")
		}
		if err := c.d.vmCmd(ctx, m, "cannot reboot domain", "controlvm", m.UUID, "reset"); err != nil {
			return err
		}
		op.known(func(*Machine) {})
		c.d.events.reboot(m)
		return nil
	})
}

// DomainReset implements driver.Conn.
func (c *conn) DomainReset(ctx context.Context, dom driver.Domain, flags uint32) error {
	if flags != 0 {
		return unsupportedFlags(flags, "virDomainReset")
	}
	return c.d.withVM(ctx, dom, func(m Machine, op *vmOp) error {
		if !IsOnline(m.State) {
			return errdefs.New(errdefs.ErrOperationInvalid, "domain is not running")
		}
		if err := c.d.vmCmd(ctx, m, "cannot reset domain", "controlvm", m.UUID, "reset"); err != nil {
			return err
		}
		op.known(func(*Machine) {})
		c.d.events.reboot(m)
		return nil
	})
}

// DomainDestroy implements driver.Conn: `controlvm poweroff`.
func (c *conn) DomainDestroy(ctx context.Context, dom driver.Domain, flags uint32) error {
	if flags != 0 {
		return unsupportedFlags(flags, "virDomainDestroyFlags")
	}
	return c.d.withVM(ctx, dom, func(m Machine, op *vmOp) error {
		switch {
		case m.State == "poweroff":
			return errdefs.New(errdefs.ErrOperationFailed, "machine already powered down")
		case !IsOnline(m.State):
			return errdefs.New(errdefs.ErrOperationInvalid, "domain is not running")
		}
		if err := c.d.vmCmd(ctx, m, "cannot destroy domain", "controlvm", m.UUID, "poweroff"); err != nil {
			return err
		}
		if err := c.d.settle(ctx, m, op, "cannot destroy domain", []string{"controlvm", "poweroff"}, "poweroff", "aborted"); err != nil {
			return err
		}
		// After the command: the re-read (or a refresh in between) may
		// have recorded the power-off as a guest shutdown; this overrides it.
		c.d.states.SetCause(m.UUID, "poweroff", ShutoffDestroyed)
		return nil
	})
}

// DomainSuspend implements driver.Conn.
func (c *conn) DomainSuspend(ctx context.Context, dom driver.Domain) error {
	return c.d.withVM(ctx, dom, func(m Machine, op *vmOp) error {
		if m.State != "running" {
			return errdefs.New(errdefs.ErrOperationFailed, "machine not in running state to suspend it")
		}
		if err := c.d.vmCmd(ctx, m, "cannot suspend domain", "controlvm", m.UUID, "pause"); err != nil {
			return err
		}
		if err := c.d.settle(ctx, m, op, "cannot suspend domain", []string{"controlvm", "pause"}, "paused"); err != nil {
			return err
		}
		c.d.states.SetCause(m.UUID, "paused", PausedUser)
		return nil
	})
}

// DomainResume implements driver.Conn.
func (c *conn) DomainResume(ctx context.Context, dom driver.Domain) error {
	return c.d.withVM(ctx, dom, func(m Machine, op *vmOp) error {
		if m.State != "paused" {
			return errdefs.New(errdefs.ErrOperationFailed, "machine not paused, so can't resume it")
		}
		if err := c.d.vmCmd(ctx, m, "cannot resume domain", "controlvm", m.UUID, "resume"); err != nil {
			return err
		}
		if err := c.d.settle(ctx, m, op, "cannot resume domain", []string{"controlvm", "resume"}, "running"); err != nil {
			return err
		}
		c.d.states.SetCause(m.UUID, "running", RunningUnpaused)
		return nil
	})
}

// saveState runs `controlvm savestate`: the VM's state goes into its own
// folder; VirtualBox takes no file name.
func (c *conn) saveState(ctx context.Context, dom driver.Domain) error {
	return c.d.withVM(ctx, dom, func(m Machine, op *vmOp) error {
		if !IsOnline(m.State) {
			return errdefs.New(errdefs.ErrOperationInvalid, "domain is not running")
		}
		if err := c.d.vmCmd(ctx, m, "cannot save domain state", "controlvm", m.UUID, "savestate"); err != nil {
			return err
		}
		if err := c.d.settle(ctx, m, op, "cannot save domain state", []string{"controlvm", "savestate"}, "saved"); err != nil {
			return err
		}
		c.d.states.SetCause(m.UUID, "saved", ShutoffSaved)
		return nil
	})
}

// DomainSave implements driver.Conn (virsh save). VirtualBox cannot save into
// a file of the caller's choosing: like libvirt's driver, the state is saved
// in the machine's folder and `to` is ignored (logged); `virsh start`
// restores it. An XML replacement cannot be applied and is refused.
func (c *conn) DomainSave(ctx context.Context, dom driver.Domain, to string, dxml string, flags uint32) error {
	if flags&^(1|2|4) != 0 { // BYPASS_CACHE, RUNNING, PAUSED
		return unsupportedFlags(flags, "virDomainSaveFlags")
	}
	if dxml != "" {
		return errdefs.New(errdefs.ErrArgUnsupported, "changing the domain XML while saving is not supported by VirtualBox")
	}
	c.d.logFor(ctx).WithFields(map[string]any{"vm": dom.Name, "file": to}).
		Warn("virsh save: VirtualBox keeps the saved state in the machine's folder; the file name is ignored")
	return c.saveState(ctx, dom)
}

// DomainManagedSave implements driver.Conn: `controlvm savestate`.
func (c *conn) DomainManagedSave(ctx context.Context, dom driver.Domain, flags uint32) error {
	if flags&^(1|2|4) != 0 {
		return unsupportedFlags(flags, "virDomainManagedSave")
	}
	return c.saveState(ctx, dom)
}

// DomainManagedSaveRemove implements driver.Conn: `discardstate`; a machine
// without a saved state is left alone, as libvirt's qemu driver does.
func (c *conn) DomainManagedSaveRemove(ctx context.Context, dom driver.Domain, flags uint32) error {
	if flags != 0 {
		return unsupportedFlags(flags, "virDomainManagedSaveRemove")
	}
	return c.d.withVM(ctx, dom, func(m Machine, op *vmOp) error {
		if !HasSavedState(m.State) {
			op.known(func(*Machine) {})
			return nil
		}
		if err := c.d.vmCmd(ctx, m, "cannot remove managed save image", "discardstate", m.UUID); err != nil {
			return err
		}
		if err := c.d.settle(ctx, m, op, "cannot remove managed save image", []string{"discardstate"}, "poweroff", "aborted"); err != nil {
			return err
		}
		c.d.states.SetCause(m.UUID, "poweroff", reasonUnknown)
		return nil
	})
}

// DomainSetMemory implements driver.Conn. VirtualBox has one memory size, so
// MEM_MAXIMUM changes the same setting, and it can only change while the
// machine is powered off: a live change is refused with libvirt's text.
func (c *conn) DomainSetMemory(ctx context.Context, dom driver.Domain, kib uint64, flags uint32) error {
	if flags&^(affectLive|affectConfig|memMaximum) != 0 {
		return unsupportedFlags(flags, "virDomainSetMemoryFlags")
	}
	if kib == 0 {
		return errdefs.New(errdefs.ErrInvalidArg, "memory size must be greater than zero")
	}
	mb := (kib + 1023) / 1024
	if mb > math.MaxInt32 {
		return errdefs.Newf(errdefs.ErrInvalidArg, "memory size %d KiB is too large", kib)
	}
	return c.d.withVM(ctx, dom, func(m Machine, op *vmOp) error {
		if !offline(m.State) {
			return errdefs.New(errdefs.ErrOperationFailed, "memory size can't be changed unless domain is powered down")
		}
		if flags&affectLive != 0 && !IsOnline(m.State) {
			return errdefs.New(errdefs.ErrOperationInvalid, "domain is not running")
		}
		if err := c.d.vmCmd(ctx, m, "cannot set memory", "modifyvm", m.UUID, "--memory", fmt.Sprint(mb)); err != nil {
			return err
		}
		op.known(func(m *Machine) { m.MemoryMB = int(mb) })
		return nil
	})
}

// offline reports whether VirtualBox lets settings change in state.
func offline(state string) bool {
	return state == "poweroff" || state == "aborted"
}

// DomainSetVcpus implements driver.Conn: `modifyvm --cpus`, only while powered
// off (current and maximum are one setting in VirtualBox).
func (c *conn) DomainSetVcpus(ctx context.Context, dom driver.Domain, n uint32, flags uint32) error {
	if flags&^(affectLive|affectConfig|vcpuMaximum|vcpuGuest) != 0 {
		return unsupportedFlags(flags, "virDomainSetVcpusFlags")
	}
	if flags&vcpuGuest != 0 {
		return errdefs.New(errdefs.ErrArgUnsupported, "changing the guest's vCPU count needs a guest agent")
	}
	if n == 0 {
		return errdefs.New(errdefs.ErrInvalidArg, "argument unsupported: zero vcpus")
	}
	if sp, err := c.d.systemProperties(ctx); err == nil {
		if max := sp.LeadingInt("Maximum guest CPU count", 0); max > 0 && int64(n) > max {
			return errdefs.Newf(errdefs.ErrInvalidArg, "requested vcpus is greater than max allowable vcpus for the connection: %d > %d", n, max)
		}
	}
	return c.d.withVM(ctx, dom, func(m Machine, op *vmOp) error {
		if !offline(m.State) {
			return errdefs.New(errdefs.ErrOperationFailed, "CPU count can't be changed unless domain is powered down")
		}
		if flags&affectLive != 0 {
			return errdefs.New(errdefs.ErrOperationInvalid, "domain is not running")
		}
		if err := c.d.vmCmd(ctx, m, "cannot set vcpus", "modifyvm", m.UUID, "--cpus", fmt.Sprint(n)); err != nil {
			return err
		}
		op.known(func(m *Machine) { m.CPUs = int(n) })
		return nil
	})
}

// DomainSetAutostart implements driver.Conn with VirtualBox's autostart.
func (c *conn) DomainSetAutostart(ctx context.Context, dom driver.Domain, autostart bool) error {
	return c.d.withVM(ctx, dom, func(m Machine, op *vmOp) error {
		if m.Autostart == autostart {
			op.known(func(*Machine) {})
			return nil
		}
		v := "off"
		if autostart {
			v = "on"
		}
		if err := c.d.vmCmd(ctx, m, "cannot set autostart", "modifyvm", m.UUID, "--autostart-enabled", v); err != nil {
			return err
		}
		op.known(func(m *Machine) { m.Autostart = autostart })
		return nil
	})
}

// DomainGetXMLDesc implements driver.Conn through domxml.
func (c *conn) DomainGetXMLDesc(ctx context.Context, dom driver.Domain, flags uint32) (string, error) {
	if flags&^(xmlSecure|xmlInactive|xmlUpdateCPU|xmlMigratable) != 0 {
		return "", unsupportedFlags(flags, "virDomainGetXMLDesc")
	}
	m, err := c.d.machine(ctx, dom)
	if err != nil {
		return "", err
	}
	info, err := c.d.inv.Detail(ctx, m.UUID)
	if errors.Is(err, errNotFound) {
		return "", errdefs.Newf(errdefs.ErrNoDomain, "no domain with matching uuid '%s' (%s)", m.UUID, m.Name)
	}
	if err != nil {
		return "", vboxError("cannot read machine "+m.Name, err)
	}
	extra, err := c.d.inv.ExtraData(ctx, m.UUID, false)
	if err != nil {
		return "", vboxError("cannot read the extradata of machine "+m.Name, err)
	}
	listed := m
	m = info.Machine()
	if v, ok := extra[pendingKey]; ok && (flags&xmlInactive != 0 || !IsOnline(m.State)) {
		// The persistent definition the next boot takes (pending.go).
		if IsOnline(m.State) {
			c.d.notePending(m.UUID)
		}
		dx, err := decodePending(v)
		if err != nil {
			return "", err
		}
		return domxml.FormatXML(dx)
	}
	rt := domxml.Runtime{ID: -1}
	if IsOnline(m.State) && flags&xmlInactive == 0 {
		rt = domxml.Runtime{ID: c.d.states.ID(m.UUID), Active: true}
	}
	key := xmlKey{info: info, extra: reflect.ValueOf(extra).UnsafePointer(), audio: listed.AudioController,
		folders: strings.Join(listed.ReadOnlyFolders, "\x00"), foldersKnown: listed.FoldersKnown, rt: rt, flags: flags}
	if x, ok := c.d.xmlCache.get(m.UUID, key); ok {
		return x, nil
	}
	di := domxmlInfoWith(listed, info, extra)
	dx, err := domxml.ToDomain(di, rt)
	if err != nil {
		return "", err
	}
	x, err := domxml.FormatXML(dx)
	if err == nil {
		c.d.xmlCache.put(m.UUID, key, x)
	}
	return x, err
}

// xmlKey is everything a domain's XML is made of: the cached settings and
// extradata (by identity: the inventory replaces them when it reads them
// again), what the listing adds, the runtime and the flags.
type xmlKey struct {
	info         *Info
	extra        unsafe.Pointer
	audio        string
	folders      string
	foldersKnown bool
	rt           domxml.Runtime
	flags        uint32
}

// xmlCache keeps each machine's last XML, so that reading it again while
// nothing changed costs a comparison instead of building the document.
type xmlCache struct {
	mu sync.Mutex
	m  map[string]xmlEntry
}

type xmlEntry struct {
	key xmlKey
	xml string
}

func (c *xmlCache) get(uuid string, key xmlKey) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[uuid]
	if !ok || e.key != key {
		return "", false
	}
	return e.xml, true
}

func (c *xmlCache) put(uuid string, key xmlKey, x string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]xmlEntry{}
	}
	c.m[uuid] = xmlEntry{key: key, xml: x}
}

// toDomxmlInfo hands the pairs to domxml (bare lines are not settings).
func toDomxmlInfo(in *Info) domxml.Info {
	pairs := make([]domxml.KV, 0, len(in.Pairs))
	for _, kv := range in.Pairs {
		if !kv.Bare {
			pairs = append(pairs, domxml.KV{Key: kv.Key, Value: kv.Value})
		}
	}
	return domxml.NewInfo(pairs)
}
