package vbox

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"libvirt.org/go/libvirtxml"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
	"github.com/virtvboxd/virtvboxd/internal/vbox/domxml"
)

// Devices: attach, detach and update go through the machine's domain. The
// device is parsed against the define policy (domxml.ParseDevice), put into
// (or taken out of, or replaced in) the machine's current domain, and that
// domain is planned against the machine's settings with domxml.PlanDefine,
// so a device means exactly what it means in a define. A powered-off
// machine then runs the plan as an in-place define (applyUpdate, with its
// rollback). A running machine runs it only when every step is one
// VirtualBox does live, translated where the live command differs:
//
//   - CD/DVD and floppy media (update-device, change-media): storageattach on
//     the drive's slot, which VirtualBox does on a running machine;
//   - disks and drives attached or detached on a SATA or USB controller (the
//     controllers VirtualBox hot-plugs; detaching needs a hot-pluggable slot,
//     which VBoxManage checks): storageattach;
//   - an interface's link state: controlvm setlinkstateN;
//   - shared folders: transient ones (sharedfolder --transient);
//   - USB devices: USB filters (usbfilter add/remove), which VBoxManage
//     changes under a shared lock and a running machine applies at once.
//
// Everything else on a running machine is refused ("operation not
// supported") before anything runs. VirtualBox keeps a running machine's
// storage and link changes in its settings, so LIVE and LIVE|CONFIG are one
// request (a pending definition, see below, gets the change too; a shared
// folder attached LIVE|CONFIG is transient now and permanent in it). CONFIG
// alone on a running machine changes its persistent definition only, as in
// libvirt: the change goes into the machine's pending definition
// (pending.go), applied when it is next powered off.

// deviceModifyForce is VIR_DOMAIN_DEVICE_MODIFY_FORCE (update-device --force,
// change-media --force): VirtualBox's eject is always forced.
const deviceModifyForce = 1 << 2

type deviceOp int

const (
	opAttach deviceOp = iota
	opDetach
	opUpdate
)

var deviceAPI = map[deviceOp]string{opAttach: "virDomainAttachDeviceFlags", opDetach: "virDomainDetachDeviceFlags",
	opUpdate: "virDomainUpdateDeviceFlags"}

var deviceVerb = map[deviceOp]string{opAttach: "attach", opDetach: "detach", opUpdate: "update"}

// DomainAttachDevice implements driver.Conn (attach-device, attach-disk,
// attach-interface).
func (c *conn) DomainAttachDevice(ctx context.Context, dom driver.Domain, doc string, flags uint32) error {
	dev, err := domxml.ParseDevice(doc)
	if err != nil {
		return err
	}
	return c.d.changeDevice(ctx, dom, dev, flags, opAttach)
}

// DomainDetachDevice implements driver.Conn (detach-device, detach-disk,
// detach-interface).
func (c *conn) DomainDetachDevice(ctx context.Context, dom driver.Domain, doc string, flags uint32) error {
	dev, err := domxml.ParseDevice(doc)
	if err != nil {
		return err
	}
	return c.d.changeDevice(ctx, dom, dev, flags, opDetach)
}

// DomainDetachDeviceAlias implements driver.Conn (detach-device-alias).
// The devices with an alias in the XML are the network adapters, ua-nicN
// for adapter N.
func (c *conn) DomainDetachDeviceAlias(ctx context.Context, dom driver.Domain, alias string, flags uint32) error {
	if !strings.HasPrefix(alias, "ua-nic") {
		return errdefs.Newf(errdefs.ErrOperationFailed, "no device found with alias %s (the VirtualBox driver names network adapters ua-nicN)", alias)
	}
	dev := &domxml.Device{Kind: domxml.DeviceInterface, Interface: &libvirtxml.DomainInterface{Alias: &libvirtxml.DomainAlias{Name: alias}}}
	return c.d.changeDevice(ctx, dom, dev, flags, opDetach)
}

// DomainUpdateDevice implements driver.Conn (update-device, change-media,
// domif-setlink).
func (c *conn) DomainUpdateDevice(ctx context.Context, dom driver.Domain, doc string, flags uint32) error {
	dev, err := domxml.ParseDevice(doc)
	if err != nil {
		return err
	}
	return c.d.changeDevice(ctx, dom, dev, flags, opUpdate)
}

func (d *Driver) changeDevice(ctx context.Context, dom driver.Domain, dev *domxml.Device, flags uint32, op deviceOp) error {
	allowed := uint32(affectLive | affectConfig)
	if op == opUpdate {
		allowed |= deviceModifyForce
	}
	if flags&^allowed != 0 {
		return unsupportedFlags(flags, deviceAPI[op])
	}
	v, err := d.Version(ctx)
	if err != nil {
		return err
	}
	return d.withVM(ctx, dom, func(m Machine, vop *vmOp) error {
		info, err := d.inv.Reload(ctx, m.UUID)
		if err != nil {
			return vboxError("cannot read machine "+m.Name, err)
		}
		m.State = MachineFromInfo(info).State
		cur, err := d.domxmlInfo(ctx, m, info, true)
		if err != nil {
			return vboxError("cannot read the extradata of machine "+m.Name, err)
		}
		if _, ok := cur.ExtraData[pendingKey]; ok && offline(m.State) {
			// A pending definition whose application failed: it is the
			// persistent definition this change is made to, as a start
			// would apply it first.
			if err := d.applyPending(ctx, m.UUID); err != nil {
				return err
			}
			if info, err = d.inv.Reload(ctx, m.UUID); err != nil {
				return vboxError("cannot read machine "+m.Name, err)
			}
			if cur, err = d.domxmlInfo(ctx, m, info, true); err != nil {
				return vboxError("cannot read the extradata of machine "+m.Name, err)
			}
		}
		online := IsOnline(m.State)
		live := flags&affectLive != 0 || (flags&(affectLive|affectConfig) == 0 && online)
		if live && !online {
			return errdefs.New(errdefs.ErrOperationInvalid, "domain is not running")
		}
		old, err := domxml.ToDomain(cur, domxml.Runtime{ID: -1})
		if err != nil {
			return err
		}
		opts := domxml.PlanOptions{Version: v.Raw, FileExists: fileExists, Limits: d.guestLimits(ctx), IsNATNetwork: d.natNetworkLookup(ctx)}
		config := flags&affectConfig != 0
		if online && !live {
			// The persistent definition only: it becomes the pending
			// definition the next boot takes (pending.go).
			return d.pendingDevice(ctx, m, cur, dev, op, opts)
		}
		if online && dev.Kind == domxml.DeviceFilesystem {
			// Live: a transient folder; with CONFIG also the permanent
			// one, in the pending definition.
			if err := d.liveFolder(ctx, m, cur, old, dev, op, opts); err != nil || !config {
				return err
			}
			return d.amendPending(ctx, m, dev, op, opts, true)
		}
		next, err := changeDomain(old, dev, op)
		if err != nil {
			return err
		}
		plan, err := domxml.PlanDefine(next, &cur, opts)
		if err != nil {
			return err
		}
		for _, n := range dev.Notes {
			d.logFor(ctx).WithField("vm", m.Name).Info(n)
		}
		d.logNotes(ctx, m.Name, plan)
		if !online {
			if !offline(m.State) {
				return errdefs.Newf(errdefs.ErrOperationInvalid,
					"cannot change the devices of domain '%s' while it is %s: VirtualBox only accepts changes to a powered-off machine",
					m.Name, stateWord(m.State))
			}
			if plan.Empty() {
				vop.known(func(*Machine) {})
				return nil
			}
			if _, err := d.applyUpdate(ctx, m, cur, plan, opts); err != nil {
				return err
			}
			vop.known(func(*Machine) {})
			return nil
		}
		steps, err := liveSteps(info, dev, op, plan)
		if err != nil {
			return err
		}
		for _, st := range steps {
			if err := d.vmCmd(ctx, m, fmt.Sprintf("cannot %s %s live", deviceVerb[op], dev.Name()), st...); err != nil {
				// The slot's hot-plug flag is not in showvminfo (7.x prints
				// it only for controllers named "SATA" or "USB"), so
				// VBoxManage has the last word on it: nothing ran.
				if strings.Contains(cmdMessage(err), "does not support hot-plugging") {
					return errdefs.Wrap(errdefs.ErrOperationUnsupported, err, fmt.Sprintf("live %s of %s is not supported: %s",
						deviceVerb[op], dev.Name(), cmdMessage(err)))
				}
				return err
			}
		}
		if config {
			// VirtualBox kept the change in the settings; a pending
			// definition gets it too.
			return d.amendPending(ctx, m, dev, op, opts, false)
		}
		return nil
	})
}

// changeDomain is dom with dev attached, detached or updated.
func changeDomain(dom *libvirtxml.Domain, dev *domxml.Device, op deviceOp) (*libvirtxml.Domain, error) {
	var next *libvirtxml.Domain
	var err error
	switch op {
	case opAttach:
		next, err = domxml.AttachDevice(dom, dev)
	case opDetach:
		next, _, err = domxml.DetachDevice(dom, dev)
	case opUpdate:
		next, _, err = domxml.UpdateDevice(dom, dev)
	}
	return next, err
}

// pendingDevice makes a device change of running machine m's persistent
// definition: its pending definition, or its settings when it has none,
// with the change becomes its pending definition (checked as a define).
func (d *Driver) pendingDevice(ctx context.Context, m Machine, cur domxml.Info, dev *domxml.Device, op deviceOp, opts domxml.PlanOptions) error {
	base, _, err := d.persistentDomain(cur)
	if err != nil {
		return err
	}
	next, err := changeDomain(base, dev, op)
	if err != nil {
		return err
	}
	for _, n := range dev.Notes {
		d.logFor(ctx).WithField("vm", m.Name).Info(n)
	}
	return d.storePending(ctx, m, cur, next, opts)
}

// amendPending repeats a live change made with CONFIG in running machine
// m's pending definition; always also when m has none (a transient shared
// folder's permanent twin).
func (d *Driver) amendPending(ctx context.Context, m Machine, dev *domxml.Device, op deviceOp, opts domxml.PlanOptions, always bool) error {
	info, err := d.inv.Reload(ctx, m.UUID)
	if err != nil {
		return vboxError("cannot read machine "+m.Name, err)
	}
	cur, err := d.domxmlInfo(ctx, m, info, true)
	if err != nil {
		return vboxError("cannot read the extradata of machine "+m.Name, err)
	}
	if _, ok := cur.ExtraData[pendingKey]; !ok && !always {
		return nil
	}
	return d.pendingDevice(ctx, m, cur, dev, op, opts)
}

// hotPlugTypes are the controller types VirtualBox attaches to and detaches
// from while a machine runs (Machine::i_isControllerHotplugCapable).
var hotPlugTypes = map[string]bool{"IntelAhci": true, "USB": true}

// liveSteps turns the plan of a device change on a running machine into the
// commands VirtualBox runs live, or refuses it (errdefs.ErrOperationUnsupported,
// with the reason) when a step cannot be done on a running machine.
func liveSteps(info *Info, dev *domxml.Device, op deviceOp, plan *domxml.Plan) ([][]string, error) {
	verb := deviceVerb[op]
	refuse := func(why string, args ...any) error {
		return errdefs.Newf(errdefs.ErrOperationUnsupported, "live %s of %s is not supported: %s", verb, dev.Name(), fmt.Sprintf(why, args...))
	}
	switch dev.Kind {
	case domxml.DeviceInterface:
		if op != opUpdate {
			return nil, refuse("VirtualBox cannot add or remove network adapters of a running machine")
		}
	}
	ctlTypes := map[string]string{}
	for i := 0; ; i++ {
		n, ok := info.Get(fmt.Sprintf("storagecontrollername%d", i))
		if !ok {
			break
		}
		ctlTypes[n] = info.Str(fmt.Sprintf("storagecontrollertype%d", i))
	}
	var out [][]string
	for _, st := range plan.Steps {
		a := st.Args
		switch {
		case a[0] == "storageattach":
			if op == opUpdate {
				out = append(out, a) // a medium change of an existing drive
				continue
			}
			ctl := argAfter(a, "--storagectl")
			if t := ctlTypes[ctl]; !hotPlugTypes[t] {
				return nil, refuse("controller '%s' (%s) does not support hot-plugging; VirtualBox hot-plugs on SATA (IntelAhci) and USB controllers only", ctl, t)
			}
			out = append(out, a)
		case a[0] == "modifyvm" && dev.Kind == domxml.DeviceInterface:
			for i := 2; i < len(a); i += 2 {
				opt := strings.TrimPrefix(strings.TrimPrefix(a[i], "--cableconnected"), "--cable-connected")
				if opt == a[i] || i+1 >= len(a) {
					return nil, refuse("VirtualBox changes only the link state of a running machine's adapter (%s)", a[i])
				}
				out = append(out, []string{"controlvm", a[1], "setlinkstate" + opt, a[i+1]})
			}
		case a[0] == "usbfilter" && dev.Kind == domxml.DeviceHostdev:
			// A running machine's filters change live: its console
			// captures the matching host devices at once.
			out = append(out, a)
		case a[0] == "storagectl":
			return nil, refuse("VirtualBox cannot add, remove or resize storage controllers of a running machine")
		default:
			return nil, refuse("VirtualBox cannot do `%s` on a running machine", a[0])
		}
	}
	return out, nil
}

// argAfter is the value following option name in args, or "".
func argAfter(args []string, name string) string {
	for i := 0; i+1 < len(args); i++ {
		if args[i] == name {
			return args[i+1]
		}
	}
	return ""
}

// liveFolder attaches or detaches a transient shared folder of running
// machine m. The folder is checked as a define would check it (a plan of
// the domain with the folder added); detaching names a transient folder,
// since VirtualBox removes permanent ones only from a powered-off machine.
func (d *Driver) liveFolder(ctx context.Context, m Machine, cur domxml.Info, old *libvirtxml.Domain, dev *domxml.Device, op deviceOp, opts domxml.PlanOptions) error {
	fs := dev.Filesystem
	if fs.Target == nil || fs.Target.Dir == "" {
		return errdefs.New(errdefs.ErrXML, "missing target information for filesystem")
	}
	name := fs.Target.Dir
	transient := map[string]bool{}
	for i := 1; ; i++ {
		n, ok := cur.Get("SharedFolderNameTransientMapping" + strconv.Itoa(i))
		if !ok {
			break
		}
		transient[n] = true
	}
	switch op {
	case opAttach:
		if transient[name] {
			return errdefs.Newf(errdefs.ErrOperationFailed, "filesystem target '%s' already exists", name)
		}
		next, err := domxml.AttachDevice(old, dev)
		if err != nil {
			return err
		}
		if _, err := domxml.PlanDefine(next, &cur, opts); err != nil {
			return err
		}
		args := []string{"sharedfolder", "add", m.UUID, "--name", name, "--hostpath", fs.Source.Mount.Dir, "--transient"}
		if fs.ReadOnly != nil {
			args = append(args, "--readonly")
		}
		return d.vmCmd(ctx, m, "cannot attach "+dev.Name()+" live", args...)
	case opDetach:
		if !transient[name] {
			if _, err := domxml.FindDevice(old, dev); err == nil {
				return errdefs.Newf(errdefs.ErrOperationUnsupported,
					"live detach of %s is not supported: it is a permanent shared folder, which VirtualBox removes from a powered-off machine only", dev.Name())
			}
			return errdefs.Newf(errdefs.ErrOperationFailed, "%s not found", dev.Name())
		}
		return d.vmCmd(ctx, m, "cannot detach "+dev.Name()+" live", "sharedfolder", "remove", m.UUID, "--name", name, "--transient")
	}
	return errdefs.Newf(errdefs.ErrOperationUnsupported, "live update of %s is not supported: VirtualBox cannot change a shared folder of a running machine", dev.Name())
}

// DomainGetBlockInfo implements driver.Conn (domblkinfo): path names a disk
// by target ("sda") or source file. Capacity is the medium's size as
// VirtualBox reports it (showmediuminfo), allocation its size on disk,
// physical the image file's size. A medium's figures are kept while its
// file's size and modification time stay the same.
func (c *conn) DomainGetBlockInfo(ctx context.Context, dom driver.Domain, path string, flags uint32) (driver.BlockInfo, error) {
	if flags != 0 {
		return driver.BlockInfo{}, unsupportedFlags(flags, "virDomainGetBlockInfo")
	}
	x, err := c.DomainGetXMLDesc(ctx, dom, xmlInactive)
	if err != nil {
		return driver.BlockInfo{}, err
	}
	dx := &libvirtxml.Domain{}
	if err := dx.Unmarshal(x); err != nil {
		return driver.BlockInfo{}, errdefs.Wrap(errdefs.ErrInternal, err, "cannot read the domain's XML: "+err.Error())
	}
	var disk *libvirtxml.DomainDisk
	if dx.Devices != nil {
		for i := range dx.Devices.Disks {
			dk := &dx.Devices.Disks[i]
			src := ""
			if dk.Source != nil && dk.Source.File != nil {
				src = dk.Source.File.File
			}
			if (dk.Target != nil && dk.Target.Dev == path) || (src != "" && src == path) {
				disk = dk
				break
			}
		}
	}
	if disk == nil {
		return driver.BlockInfo{}, errdefs.Newf(errdefs.ErrInvalidArg, "invalid path %s not assigned to domain", path)
	}
	if disk.Source == nil || disk.Source.File == nil || disk.Source.File.File == "" {
		return driver.BlockInfo{}, errdefs.Newf(errdefs.ErrOperationInvalid, "disk '%s' has no medium", disk.Target.Dev)
	}
	kind := map[string]string{"cdrom": "dvd", "floppy": "floppy"}[disk.Device]
	if kind == "" {
		kind = "disk"
	}
	return c.d.blockInfo.info(ctx, c.d, kind, disk.Source.File.File)
}

// blockInfoCache keeps showmediuminfo's figures per image file, valid while the
// file's size and modification time are unchanged.
type blockInfoCache struct {
	mu sync.Mutex // guards m
	m  map[string]mediumEntry
}

type mediumEntry struct {
	size  int64
	mtime time.Time
	info  driver.BlockInfo
}

func (mc *blockInfoCache) info(ctx context.Context, d *Driver, kind, path string) (driver.BlockInfo, error) {
	fi, statErr := os.Stat(path)
	if statErr == nil {
		mc.mu.Lock()
		e, ok := mc.m[path]
		mc.mu.Unlock()
		if ok && e.size == fi.Size() && e.mtime.Equal(fi.ModTime()) {
			return e.info, nil
		}
	}
	out, _, err := d.runPolicy(ctx, RetryTransient, "showmediuminfo", kind, path)
	if err != nil {
		return driver.BlockInfo{}, vboxError("cannot read medium "+path, err)
	}
	recs := ParseRecords(out)
	if len(recs) == 0 {
		return driver.BlockInfo{}, errdefs.Newf(errdefs.ErrInternal, "showmediuminfo %s printed no medium", path)
	}
	r := recs[0]
	const mib = 1 << 20
	bi := driver.BlockInfo{Capacity: uint64(r.LeadingInt("Capacity", 0)) * mib}
	bi.Allocation = uint64(r.LeadingInt("Size on disk", 0)) * mib
	if statErr == nil {
		bi.Physical = uint64(fi.Size())
		if bi.Allocation == 0 || bi.Allocation > bi.Physical {
			bi.Allocation = bi.Physical
		}
		mc.mu.Lock()
		if mc.m == nil {
			mc.m = map[string]mediumEntry{}
		}
		mc.m[path] = mediumEntry{size: fi.Size(), mtime: fi.ModTime(), info: bi}
		mc.mu.Unlock()
	} else {
		bi.Physical = bi.Allocation
	}
	return bi, nil
}
