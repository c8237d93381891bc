package domxml

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"

	"libvirt.org/go/libvirtxml"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// The device elements attach, detach and update take.
const (
	DeviceDisk       = "disk"
	DeviceInterface  = "interface"
	DeviceFilesystem = "filesystem"
	DeviceHostdev    = "hostdev"
)

// Device is one device element of virDomainAttachDevice and its kin, parsed
// and checked against the same Policy table as a whole domain: an element a
// define accepts is accepted here with the same mapping, since the driver
// applies a device by editing the machine's domain and planning that domain
// (PlanDefine).
type Device struct {
	Kind       string // one of the Device* constants
	Disk       *libvirtxml.DomainDisk
	Interface  *libvirtxml.DomainInterface
	Filesystem *libvirtxml.DomainFilesystem
	Hostdev    *libvirtxml.DomainHostdev
	Notes      []string // what the policy ignored
}

// ParseDevice parses one device element. Malformed XML and anything but
// exactly one element is errdefs.ErrXML; an element, attribute or value the
// policy refuses is errdefs.ErrConfigUnsupported, as for define; device
// kinds that are settings of the machine rather than pluggable devices
// (<serial>, <graphics>, <video>...) are refused naming define as the way
// to change them.
func ParseDevice(doc string) (*Device, error) {
	dec := xml.NewDecoder(strings.NewReader(doc))
	dec.Strict = true
	var name string
	start, depth, roots := int64(-1), 0, 0
	for {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, errdefs.Wrap(errdefs.ErrXML, err, err.Error())
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if roots > 1 {
					return nil, errdefs.New(errdefs.ErrXML, "extra content at the end of the document: one device element expected")
				}
				name, start = t.Name.Local, off
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(strings.TrimSpace(string(t))) > 0 {
				return nil, errdefs.New(errdefs.ErrXML, "content outside the device element")
			}
		}
	}
	if roots == 0 {
		return nil, errdefs.New(errdefs.ErrXML, "no device element in the document")
	}
	body := doc[start:]
	switch name {
	case DeviceDisk, DeviceInterface, DeviceFilesystem, DeviceHostdev:
	default:
		if _, ok := policyByPath["domain/devices/"+name]; ok {
			return nil, unsupported("attaching, detaching or updating <%s> devices is not supported by the VirtualBox driver; change them with define", name)
		}
		return nil, unsupported("unknown device type '%s'", name)
	}
	// The same element check as a domain's: the device as it would sit in
	// a domain's <devices>.
	notes, err := checkElements("<domain type='vbox'><devices>" + body + "</devices></domain>")
	if err != nil {
		return nil, err
	}
	d := &Device{Kind: name, Notes: notes}
	switch name {
	case DeviceDisk:
		d.Disk = &libvirtxml.DomainDisk{}
		err = d.Disk.Unmarshal(body)
	case DeviceInterface:
		d.Interface = &libvirtxml.DomainInterface{}
		err = d.Interface.Unmarshal(body)
	case DeviceFilesystem:
		d.Filesystem = &libvirtxml.DomainFilesystem{}
		err = d.Filesystem.Unmarshal(body)
	case DeviceHostdev:
		d.Hostdev = &libvirtxml.DomainHostdev{}
		err = d.Hostdev.Unmarshal(body)
	}
	if err != nil {
		return nil, errdefs.Wrap(errdefs.ErrXML, err, err.Error())
	}
	return d, nil
}

// Name says which device d is, for messages: "disk 'sdb'", "interface
// 52:54:00:12:34:56", "filesystem 'share'", "USB device 0781:5567".
func (d *Device) Name() string {
	switch d.Kind {
	case DeviceDisk:
		if t := diskTarget(d.Disk); t != "" {
			return "disk '" + t + "'"
		}
		if s := diskFile(d.Disk); s != "" {
			return "disk '" + s + "'"
		}
	case DeviceInterface:
		if m := ifaceMAC(d.Interface); m != "" {
			return "interface " + m
		}
		if d.Interface.Alias != nil && d.Interface.Alias.Name != "" {
			return "interface '" + d.Interface.Alias.Name + "'"
		}
	case DeviceFilesystem:
		if d.Filesystem.Target != nil {
			return "filesystem '" + d.Filesystem.Target.Dir + "'"
		}
	case DeviceHostdev:
		if v, p := hostdevIDs(d.Hostdev); p != "" {
			return "USB device " + v + ":" + p
		} else if v != "" {
			return "USB device " + v
		}
	}
	return d.Kind
}

func diskTarget(dk *libvirtxml.DomainDisk) string {
	if dk.Target == nil {
		return ""
	}
	return dk.Target.Dev
}

func diskFile(dk *libvirtxml.DomainDisk) string {
	if dk.Source == nil || dk.Source.File == nil {
		return ""
	}
	return dk.Source.File.File
}

// ifaceMAC is the interface's MAC in VirtualBox's form, "" when it has none
// (or an unparsable one, which the define-time check reports).
func ifaceMAC(x *libvirtxml.DomainInterface) string {
	if x.MAC == nil {
		return ""
	}
	m, ok := parseMAC(x.MAC.Address)
	if !ok {
		return x.MAC.Address
	}
	return formatMAC(m)
}

func hostdevIDs(h *libvirtxml.DomainHostdev) (vendor, product string) {
	if h.SubsysUSB == nil || h.SubsysUSB.Source == nil || h.SubsysUSB.Source.Vendor == nil {
		return "", ""
	}
	vendor, _ = usbID(h.SubsysUSB.Source.Vendor.ID)
	if h.SubsysUSB.Source.Product != nil {
		product, _ = usbID(h.SubsysUSB.Source.Product.ID)
	}
	return vendor, product
}

// FindDevice returns the index of the device of dom that dev names, of the
// list of dev's kind. A disk is named by its target (or, without one, its
// source file), an interface by its MAC address and alias (whichever it
// gives; neither matches the only interface), a filesystem by its target
// directory, a USB hostdev by vendor and product. No match is
// errdefs.ErrOperationFailed ("disk 'sdz' not found"), as libvirt words it;
// two matches for an interface without MAC is errdefs.ErrOperationFailed too.
func FindDevice(dom *libvirtxml.Domain, dev *Device) (int, error) {
	var devs libvirtxml.DomainDeviceList
	if dom.Devices != nil {
		devs = *dom.Devices
	}
	idx := -1
	switch dev.Kind {
	case DeviceDisk:
		t, f := diskTarget(dev.Disk), diskFile(dev.Disk)
		for i := range devs.Disks {
			if (t != "" && diskTarget(&devs.Disks[i]) == t) || (t == "" && f != "" && diskFile(&devs.Disks[i]) == f) {
				idx = i
				break
			}
		}
	case DeviceInterface:
		mac := ifaceMAC(dev.Interface)
		alias := ""
		if dev.Interface.Alias != nil {
			alias = dev.Interface.Alias.Name
		}
		n := 0
		for i := range devs.Interfaces {
			x := &devs.Interfaces[i]
			if mac != "" && !strings.EqualFold(ifaceMAC(x), mac) {
				continue
			}
			if alias != "" && (x.Alias == nil || x.Alias.Name != alias) {
				continue
			}
			idx = i
			n++
		}
		if n > 1 {
			return -1, errdefs.New(errdefs.ErrOperationFailed, "multiple devices matching the interface found; give its MAC address")
		}
	case DeviceFilesystem:
		if dev.Filesystem.Target == nil || dev.Filesystem.Target.Dir == "" {
			return -1, errdefs.New(errdefs.ErrXML, "missing target information for filesystem")
		}
		for i, fs := range devs.Filesystems {
			if fs.Target != nil && fs.Target.Dir == dev.Filesystem.Target.Dir {
				idx = i
				break
			}
		}
	case DeviceHostdev:
		v, p := hostdevIDs(dev.Hostdev)
		for i := range devs.Hostdevs {
			if hv, hp := hostdevIDs(&devs.Hostdevs[i]); v != "" && hv == v && (p == "" || hp == p) {
				idx = i
				break
			}
		}
	}
	if idx < 0 {
		return -1, errdefs.Newf(errdefs.ErrOperationFailed, "%s not found", dev.Name())
	}
	return idx, nil
}

// AttachDevice returns a copy of dom with dev added. A disk target, a MAC
// address or a filesystem target the domain already has is
// errdefs.ErrOperationFailed, nothing changed. dom is not modified.
func AttachDevice(dom *libvirtxml.Domain, dev *Device) (*libvirtxml.Domain, error) {
	out, devs, err := copyDomain(dom)
	if err != nil {
		return nil, err
	}
	switch dev.Kind {
	case DeviceDisk:
		if diskTarget(dev.Disk) == "" {
			return nil, errdefs.New(errdefs.ErrXML, "missing target information for disk")
		}
		if _, err := FindDevice(out, dev); err == nil {
			return nil, errdefs.Newf(errdefs.ErrOperationFailed, "target %s already exists", diskTarget(dev.Disk))
		}
		devs.Disks = append(devs.Disks, *dev.Disk)
	case DeviceInterface:
		if mac := ifaceMAC(dev.Interface); mac != "" {
			for i := range devs.Interfaces {
				if strings.EqualFold(ifaceMAC(&devs.Interfaces[i]), mac) {
					return nil, errdefs.Newf(errdefs.ErrOperationFailed, "interface with MAC address %s already exists", mac)
				}
			}
		}
		devs.Interfaces = append(devs.Interfaces, *dev.Interface)
	case DeviceFilesystem:
		if _, err := FindDevice(out, dev); err == nil {
			return nil, errdefs.Newf(errdefs.ErrOperationFailed, "filesystem target '%s' already exists", dev.Filesystem.Target.Dir)
		} else if errors.Is(err, errdefs.ErrXML) {
			return nil, err
		}
		devs.Filesystems = append(devs.Filesystems, *dev.Filesystem)
	case DeviceHostdev:
		if _, err := FindDevice(out, dev); err == nil {
			return nil, errdefs.Newf(errdefs.ErrOperationFailed, "%s is already attached", dev.Name())
		}
		devs.Hostdevs = append(devs.Hostdevs, *dev.Hostdev)
	}
	return out, nil
}

// DetachDevice returns a copy of dom without the device dev names
// (FindDevice) and that device as dom has it. dom is not modified.
func DetachDevice(dom *libvirtxml.Domain, dev *Device) (*libvirtxml.Domain, *Device, error) {
	out, devs, err := copyDomain(dom)
	if err != nil {
		return nil, nil, err
	}
	i, err := FindDevice(out, dev)
	if err != nil {
		return nil, nil, err
	}
	old := &Device{Kind: dev.Kind}
	switch dev.Kind {
	case DeviceDisk:
		old.Disk = &devs.Disks[i]
		devs.Disks = append(devs.Disks[:i:i], devs.Disks[i+1:]...)
	case DeviceInterface:
		old.Interface = &devs.Interfaces[i]
		devs.Interfaces = append(devs.Interfaces[:i:i], devs.Interfaces[i+1:]...)
	case DeviceFilesystem:
		old.Filesystem = &devs.Filesystems[i]
		devs.Filesystems = append(devs.Filesystems[:i:i], devs.Filesystems[i+1:]...)
	case DeviceHostdev:
		old.Hostdev = &devs.Hostdevs[i]
		devs.Hostdevs = append(devs.Hostdevs[:i:i], devs.Hostdevs[i+1:]...)
	}
	return out, old, nil
}

// UpdateDevice returns a copy of dom whose device named by dev is replaced
// by dev, and the device as dom had it. Only what libvirt lets update-device
// change may differ: a CD/DVD or floppy's medium (and read-only flag), an
// interface's link state (the rest of the interface must be as it is, a MAC
// and alias left out are taken from the current one), a filesystem's
// read-only flag. Anything else is errdefs.ErrArgUnsupported naming it, with
// dom unchanged.
func UpdateDevice(dom *libvirtxml.Domain, dev *Device) (*libvirtxml.Domain, *Device, error) {
	if dev.Kind == DeviceHostdev {
		return nil, nil, errdefs.New(errdefs.ErrArgUnsupported, "USB devices cannot be updated; detach and attach them")
	}
	out, devs, err := copyDomain(dom)
	if err != nil {
		return nil, nil, err
	}
	i, err := FindDevice(out, dev)
	if err != nil {
		return nil, nil, err
	}
	old := &Device{Kind: dev.Kind}
	switch dev.Kind {
	case DeviceDisk:
		cur := devs.Disks[i]
		old.Disk = &cur
		kind := cur.Device
		if kind == "" {
			kind = "disk"
		}
		if kind != "cdrom" && kind != "floppy" {
			return nil, nil, errdefs.Newf(errdefs.ErrArgUnsupported, "disk device='%s' cannot be updated; only CD/DVD and floppy media can be changed", kind)
		}
		nd := *dev.Disk
		if nd.Device != "" && nd.Device != kind {
			return nil, nil, errdefs.Newf(errdefs.ErrArgUnsupported, "cannot change disk '%s' from %s to %s", diskTarget(&cur), kind, nd.Device)
		}
		if nd.Target != nil && cur.Target != nil && nd.Target.Bus != "" && nd.Target.Bus != cur.Target.Bus {
			return nil, nil, errdefs.Newf(errdefs.ErrArgUnsupported, "cannot change the bus of disk '%s'", diskTarget(&cur))
		}
		nd.Device = kind
		if nd.Target == nil || nd.Target.Bus == "" {
			nd.Target = cur.Target
		}
		if nd.Address == nil {
			nd.Address = cur.Address
		}
		if nd.Source == nil {
			// An ejected drive: libvirt writes <disk type='file'> with
			// no source; the mapping wants an empty file source.
			nd.Source = &libvirtxml.DomainDiskSource{File: &libvirtxml.DomainDiskSourceFile{}}
		}
		devs.Disks[i] = nd
	case DeviceInterface:
		cur := devs.Interfaces[i]
		old.Interface = &cur
		nx := *dev.Interface
		if nx.MAC == nil {
			nx.MAC = cur.MAC
		}
		if nx.Alias == nil {
			nx.Alias = cur.Alias
		}
		a, b := cur, nx
		a.Link, b.Link = nil, nil
		// The host-side name (live XML's <target dev='vboxnicN'/>) is
		// the hypervisor's, not a setting.
		a.Target, b.Target = nil, nil
		nx.Target = cur.Target
		if b.Model == nil {
			b.Model = a.Model
		}
		as, _ := xml.Marshal(a)
		bs, _ := xml.Marshal(b)
		if string(as) != string(bs) {
			return nil, nil, errdefs.Newf(errdefs.ErrArgUnsupported, "cannot change %s other than its link state", dev.Name())
		}
		devs.Interfaces[i] = nx
	case DeviceFilesystem:
		cur := devs.Filesystems[i]
		old.Filesystem = &cur
		nf := *dev.Filesystem
		a, b := cur, nf
		a.ReadOnly, b.ReadOnly = nil, nil
		as, _ := xml.Marshal(a)
		bs, _ := xml.Marshal(b)
		if string(as) != string(bs) {
			return nil, nil, errdefs.Newf(errdefs.ErrArgUnsupported, "cannot change %s other than its read-only flag", dev.Name())
		}
		devs.Filesystems[i] = nf
	}
	return out, old, nil
}

// copyDomain deep-copies dom (through its XML) and returns the copy's
// device list, created when dom had none.
func copyDomain(dom *libvirtxml.Domain) (*libvirtxml.Domain, *libvirtxml.DomainDeviceList, error) {
	s, err := dom.Marshal()
	if err != nil {
		return nil, nil, errdefs.Wrap(errdefs.ErrInternal, err, "cannot format the domain: "+err.Error())
	}
	out := &libvirtxml.Domain{}
	if err := out.Unmarshal(s); err != nil {
		return nil, nil, errdefs.Wrap(errdefs.ErrInternal, err, "cannot copy the domain: "+err.Error())
	}
	if out.Devices == nil {
		out.Devices = &libvirtxml.DomainDeviceList{}
	}
	return out, out.Devices, nil
}
