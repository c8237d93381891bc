package domxml

import (
	"cmp"
	"fmt"
	"math"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// desired is what an XML document asks for. Fields that the XML may leave
// out to mean "keep what the machine has" have a companion flag. Storage is
// held in Ctls and WantDisks (libvirt's addressing); the embedded
// Controllers and Disks stay empty, since names are only known once the
// planner has matched the document's controllers to the machine's.
type desired struct {
	vmConfig
	ArchSet   bool // <type arch> was given
	BootSet   bool // at least one <boot dev>
	Ctls      []wantCtl
	WantDisks []wantDisk
	Keep      keepFlags
	// Notes say how the document was taken where the policy maps a value
	// to its nearest VirtualBox equivalent or ignores it.
	Notes []string
}

func (w *desired) note(format string, args ...any) {
	w.Notes = append(w.Notes, fmt.Sprintf(format, args...))
}

type keepFlags struct {
	VRAM, Monitors bool // <video> without vram / heads
	OnCrash        bool // no <on_crash>
}

// wantCtl is a storage controller the XML asks for (explicitly or through
// a disk on it).
type wantCtl struct {
	LvType string
	Index  uint
	Model  string // "" = keep the existing model or use the default
}

func (w wantCtl) key() string { return fmt.Sprintf("%s/%d", w.LvType, w.Index) }

// wantDisk is a disk placed on a wanted controller.
type wantDisk struct {
	Ctl    string // wantCtl key
	Target string
	disk
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)

// normUUID returns u in canonical lower-case 8-4-4-4-12 form.
func normUUID(u string) (string, bool) {
	u = strings.TrimSpace(u)
	if !uuidRE.MatchString(u) {
		return "", false
	}
	h := strings.ToLower(strings.ReplaceAll(u, "-", ""))
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], true
}

// scaleToKiB converts a libvirt memory value to KiB (rounding up).
func scaleToKiB(v uint, unit string) (uint64, error) {
	var mul float64
	switch unit {
	case "b", "bytes":
		mul = 1.0 / 1024
	case "KB":
		mul = 1000.0 / 1024
	case "", "k", "K", "KiB":
		mul = 1
	case "MB":
		mul = 1e6 / 1024
	case "M", "MiB":
		mul = 1024
	case "GB":
		mul = 1e9 / 1024
	case "G", "GiB":
		mul = 1024 * 1024
	case "TB":
		mul = 1e12 / 1024
	case "T", "TiB":
		mul = 1024 * 1024 * 1024
	default:
		return 0, errdefs.Newf(errdefs.ErrXML, "unknown memory unit '%s'", unit)
	}
	k := math.Ceil(float64(v) * mul)
	if k > float64(1<<40) {
		return 0, errdefs.Newf(errdefs.ErrXML, "memory size %d %s is too large", v, unit)
	}
	return uint64(k), nil
}

// fromDomain validates a domain and reads what it asks for. Every value it
// cannot represent is an error: nothing is dropped.
func fromDomain(d *libvirtxml.Domain) (*desired, error) {
	if d == nil {
		return nil, errdefs.New(errdefs.ErrXML, "no domain")
	}
	w := &desired{}
	w.Unmanaged = map[int]bool{}
	arch := ""
	if d.OS != nil && d.OS.Type != nil {
		arch = d.OS.Type.Arch
	}
	switch d.Type {
	case "vbox":
	case "":
		return nil, errdefs.New(errdefs.ErrXML, "missing domain type attribute")
	default:
		what := "domaintype=" + d.Type
		if arch != "" {
			what = "arch=" + arch + " " + what
		}
		return nil, errdefs.Newf(errdefs.ErrInvalidArg, "could not find capabilities for %s", what)
	}
	w.Name = d.Name
	if strings.TrimSpace(w.Name) == "" {
		return nil, errdefs.New(errdefs.ErrXML, "missing name information")
	}
	if strings.ContainsAny(w.Name, "\x00\n\r") {
		return nil, errdefs.Newf(errdefs.ErrXML, "domain name %q contains a control character", w.Name)
	}
	if d.UUID != "" {
		u, ok := normUUID(d.UUID)
		if !ok {
			return nil, errdefs.New(errdefs.ErrXML, "malformed uuid element")
		}
		w.UUID = u
	}
	w.Description = d.Description
	if strings.ContainsAny(d.Title, "\n\r") {
		return nil, errdefs.New(errdefs.ErrXML, "title can't contain newlines")
	}
	w.Title = d.Title
	if d.Metadata != nil {
		m, err := canonicalMetadata(d.Metadata.XML)
		if err != nil {
			return nil, err
		}
		w.Metadata = m
	}
	if err := memoryFromDomain(d, w); err != nil {
		return nil, err
	}
	w.CPUs = 1
	if d.VCPU != nil {
		if d.VCPU.Placement != "" && d.VCPU.Placement != "static" {
			return nil, unsupported("vcpu placement '%s' is not supported", d.VCPU.Placement)
		}
		if d.VCPU.Value < 1 {
			return nil, errdefs.New(errdefs.ErrXML, "vcpu count must be at least 1")
		}
		if d.VCPU.Current != 0 && d.VCPU.Current != d.VCPU.Value {
			return nil, unsupported("current vcpu count must equal maximum")
		}
		w.CPUs = d.VCPU.Value
	}
	if err := cpuFromDomain(d, w); err != nil {
		return nil, err
	}
	if err := osFromDomain(d, w); err != nil {
		return nil, err
	}
	if f := d.Features; f != nil {
		w.ACPI, w.IOAPIC, w.PAE = f.ACPI != nil, f.APIC != nil, f.PAE != nil
	}
	w.RTCUTC = true // libvirt's default offset
	if d.Clock != nil {
		switch d.Clock.Offset {
		case "", "utc":
		case "localtime":
			w.RTCUTC = false
		default:
			return nil, unsupported("clock offset '%s' is not supported", d.Clock.Offset)
		}
	}
	if d.OnPoweroff != "" && d.OnPoweroff != "destroy" {
		return nil, unsupported("on_poweroff action '%s' is not supported: in VirtualBox a powered-off machine stops (destroy)", d.OnPoweroff)
	}
	switch d.OnReboot {
	case "", "restart":
	case "destroy":
		w.note("on_reboot 'destroy' taken as 'restart': VirtualBox resets the machine when the guest reboots")
	default:
		return nil, unsupported("on_reboot action '%s' is not supported: in VirtualBox a guest reboot resets the machine (restart)", d.OnReboot)
	}
	switch d.OnCrash {
	case "":
		w.Keep.OnCrash = true
	case "preserve":
	case "destroy":
		w.note("on_crash 'destroy' taken as 'preserve': a crashed VirtualBox machine stops in guru meditation")
	case "restart":
		w.TripleFaultReset = true
	default:
		return nil, unsupported("on_crash action '%s' is not supported: a crashed VirtualBox machine either stays in guru meditation (preserve) or resets (restart)", d.OnCrash)
	}
	if dev := d.Devices; dev != nil {
		for _, step := range []func(*libvirtxml.DomainDeviceList, *desired) error{
			storageFromDomain, foldersFromDomain, nicsFromDomain, serialsFromDomain,
			parallelsFromDomain, graphicsFromDomain, soundVideoFromDomain, hostdevsFromDomain, inputsFromDomain,
		} {
			if err := step(dev, w); err != nil {
				return nil, err
			}
		}
	}
	return w, nil
}

func memoryFromDomain(d *libvirtxml.Domain, w *desired) error {
	var mem, cur uint64
	var err error
	if d.Memory != nil {
		if mem, err = scaleToKiB(d.Memory.Value, d.Memory.Unit); err != nil {
			return err
		}
	}
	if d.CurrentMemory != nil {
		if cur, err = scaleToKiB(d.CurrentMemory.Value, d.CurrentMemory.Unit); err != nil {
			return err
		}
	}
	switch {
	case mem == 0 && cur == 0:
		return errdefs.New(errdefs.ErrXML, "Memory size must be specified via <memory> or in the <numa> configuration")
	case mem == 0:
		mem = cur
	case cur == 0 || cur > mem:
		cur = mem // libvirt too caps currentMemory at memory
	}
	w.MemoryMiB = uint((mem + 1023) / 1024)
	// The guest's memory below <memory> is VirtualBox's balloon, which
	// the Guest Additions inflate.
	curMiB := uint((cur + 1023) / 1024)
	w.BalloonMiB = w.MemoryMiB - curMiB
	return nil
}

// cpuFromDomain accepts the CPU modes that need no VirtualBox setting:
// VirtualBox gives the guest the host's CPU (less what it cannot
// virtualise), which is what host-passthrough, host-model and maximum ask
// for. A named CPU model would make the guest differ (and <feature> is not
// in the policy table).
func cpuFromDomain(d *libvirtxml.Domain, w *desired) error {
	c := d.CPU
	if c == nil {
		return nil
	}
	switch c.Mode {
	case "host-passthrough", "host-model", "maximum":
		w.note("cpu mode '%s' needs no VirtualBox setting: the guest sees the host's CPU", c.Mode)
	case "", "custom":
		if c.Model != nil && strings.TrimSpace(c.Model.Value) != "" {
			return unsupported("cpu model '%s' is not supported: VirtualBox gives the guest the host's CPU (use mode='host-passthrough')", strings.TrimSpace(c.Model.Value))
		}
	default:
		return unsupported("cpu mode '%s' is not supported", c.Mode)
	}
	if c.Model != nil && strings.TrimSpace(c.Model.Value) != "" && c.Mode != "host-model" {
		return unsupported("cpu model '%s' is not supported with mode '%s'", strings.TrimSpace(c.Model.Value), c.Mode)
	}
	if t := c.Topology; t != nil {
		n := uint64(1)
		for _, v := range []int{t.Sockets, t.Dies, t.Clusters, t.Cores, t.Threads} {
			if v > 0 {
				n *= uint64(v)
			}
		}
		vcpus := uint64(1)
		if d.VCPU != nil {
			vcpus = uint64(d.VCPU.Value)
		}
		if n != vcpus {
			return unsupported("cpu topology of %d CPUs does not match the vcpu count %d", n, vcpus)
		}
		if n > 1 && (t.Sockets > 1 || t.Threads > 1) {
			w.note("cpu topology taken as %d flat CPUs: VirtualBox has no sockets or threads", n)
		}
	}
	return nil
}

func osFromDomain(d *libvirtxml.Domain, w *desired) error {
	w.Firmware = "bios"
	w.Arch = "x86_64"
	if d.OS == nil || d.OS.Type == nil {
		return errdefs.New(errdefs.ErrXML, "an os <type> must be specified")
	}
	if d.OS.Type.Type != "hvm" {
		return unsupported("os type '%s' is not supported: VirtualBox runs hvm guests", d.OS.Type.Type)
	}
	switch d.OS.Type.Arch {
	case "":
	case "x86_64", "i686", "aarch64":
		w.Arch, w.ArchSet = d.OS.Type.Arch, true
	default:
		return unsupported("architecture '%s' is not supported", d.OS.Type.Arch)
	}
	switch d.OS.Firmware {
	case "", "bios":
	case "efi":
		w.Firmware = "efi"
	default:
		return unsupported("firmware '%s' is not supported", d.OS.Firmware)
	}
	if len(d.OS.BootDevices) > 4 {
		return unsupported("at most 4 boot devices are supported, got %d", len(d.OS.BootDevices))
	}
	for _, b := range d.OS.BootDevices {
		found := false
		for vb, lv := range bootToLibvirt {
			if lv == b.Dev {
				w.Boot, found = append(w.Boot, vb), true
			}
		}
		if !found {
			return unsupported("boot device '%s' is not supported", b.Dev)
		}
	}
	w.BootSet = len(d.OS.BootDevices) > 0
	return nil
}

// diskSourceType names the storage type a disk's source was parsed as.
func diskSourceType(s *libvirtxml.DomainDiskSource) string {
	switch {
	case s == nil:
		return "unknown"
	case s.File != nil:
		return "file"
	case s.Block != nil:
		return "block"
	case s.Dir != nil:
		return "dir"
	case s.Network != nil:
		return "network"
	case s.Volume != nil:
		return "volume"
	case s.NVME != nil:
		return "nvme"
	case s.VHostUser != nil:
		return "vhostuser"
	case s.VHostVDPA != nil:
		return "vhostvdpa"
	}
	return "unknown"
}

func storageFromDomain(dev *libvirtxml.DomainDeviceList, w *desired) error {
	nextIdx := map[string]uint{}
	seenCtl := map[string]bool{}
	for _, c := range dev.Controllers {
		switch c.Type {
		case "usb":
			if err := usbFromDomain(c, w); err != nil {
				return err
			}
			continue
		case "pci", "virtio-serial":
			w.note("ignored <controller type='%s'>: VirtualBox's PCI bus and devices are fixed", c.Type)
			continue
		case "ide", "sata", "scsi", "fdc":
		default:
			return unsupported("The vbox driver does not support %s controller type", c.Type)
		}
		if c.Model != "" {
			if _, ok := kindByLibvirt(c.Type, c.Model); !ok {
				return unsupported("The vbox driver does not support %s %s controller model", c.Model, c.Type)
			}
		}
		idx := nextIdx[c.Type]
		if c.Index != nil {
			idx = *c.Index
		}
		if idx >= 16 {
			return unsupported("%s controller index %d is too large", c.Type, idx)
		}
		if idx >= nextIdx[c.Type] {
			nextIdx[c.Type] = idx + 1
		}
		wc := wantCtl{LvType: c.Type, Index: idx, Model: c.Model}
		if seenCtl[wc.key()] {
			return unsupported("duplicate %s controller index %d", c.Type, idx)
		}
		seenCtl[wc.key()] = true
		w.Ctls = append(w.Ctls, wc)
	}
	slots := map[string]string{}
	targets := map[string]bool{}
	for i, dk := range dev.Disks {
		wd, err := diskFromDomain(i, dk, w)
		if err != nil {
			return err
		}
		if !seenCtl[wd.Ctl] {
			seenCtl[wd.Ctl] = true
			t, idxs, _ := strings.Cut(wd.Ctl, "/")
			idx, _ := strconv.Atoi(idxs)
			w.Ctls = append(w.Ctls, wantCtl{LvType: t, Index: uint(idx)})
		}
		kind := w.kindOf(wd.Ctl)
		if wd.Port >= kind.MaxPorts || wd.Device >= kind.Devices {
			return unsupported("disk '%s': %s controller slot port %d device %d does not exist", wd.Target, kind.VBoxType, wd.Port, wd.Device)
		}
		slot := fmt.Sprintf("%s:%d:%d", wd.Ctl, wd.Port, wd.Device)
		if other, dup := slots[slot]; dup {
			return unsupported("disks '%s' and '%s' use the same controller slot", other, wd.Target)
		}
		slots[slot] = wd.Target
		if targets[wd.Target] {
			return unsupported("target '%s' duplicated for disks", wd.Target)
		}
		targets[wd.Target] = true
		w.WantDisks = append(w.WantDisks, wd)
	}
	return nil
}

// kindOf returns the storage kind a wanted controller will have (its model
// when given, else the default of its type).
func (w *desired) kindOf(key string) storageKind {
	for _, c := range w.Ctls {
		if c.key() == key {
			k, _ := kindByLibvirt(c.LvType, c.Model)
			return k
		}
	}
	t, _, _ := strings.Cut(key, "/")
	k, _ := kindByLibvirt(t, "")
	return k
}

func diskFromDomain(i int, dk libvirtxml.DomainDisk, w *desired) (wantDisk, error) {
	var wd wantDisk
	if st := diskSourceType(dk.Source); st != "file" {
		return wd, unsupported("Unsupported storage type %s, the only supported type is file", st)
	}
	if dk.Target == nil || dk.Target.Dev == "" {
		return wd, errdefs.Newf(errdefs.ErrXML, "missing target information for disk %d", i+1)
	}
	wd.Target = dk.Target.Dev
	wd.Kind = dk.Device
	switch wd.Kind {
	case "":
		wd.Kind = "disk"
	case "disk", "cdrom", "floppy":
	default:
		return wd, unsupported("disk '%s': device '%s' is not supported", wd.Target, dk.Device)
	}
	prefix, letters := wd.Target, ""
	if len(prefix) > 2 {
		prefix, letters = wd.Target[:2], wd.Target[2:]
	}
	bus := dk.Target.Bus
	if bus == "" {
		switch {
		case wd.Kind == "floppy" || prefix == "fd":
			bus = "fdc"
		case prefix == "hd":
			bus = "ide"
		case prefix == "sd":
			bus = "scsi"
		default:
			return wd, unsupported("disk '%s': cannot infer the bus from the target name; give <target bus>", wd.Target)
		}
	}
	switch bus {
	case "ide", "sata", "scsi", "fdc":
	default:
		return wd, unsupported("The vbox driver does not support %s bus type", bus)
	}
	if (bus == "fdc") != (wd.Kind == "floppy") {
		return wd, unsupported("disk '%s': a %s cannot be on the %s bus", wd.Target, wd.Kind, bus)
	}
	if dk.ReadOnly != nil && wd.Kind != "cdrom" {
		return wd, unsupported("disk '%s': read-only %ss are not supported (only CD/DVD drives are read-only)", wd.Target, wd.Kind)
	}
	wd.Source = dk.Source.File.File
	if wd.Source == "" && wd.Kind == "disk" {
		return wd, unsupported("Missing disk source file path")
	}
	if wd.Source != "" && !path.IsAbs(wd.Source) {
		return wd, unsupported("disk '%s': source '%s' must be an absolute path", wd.Target, wd.Source)
	}
	ctlIdx := uint(0)
	if a := dk.Address; a != nil {
		if a.Drive == nil {
			return wd, unsupported("disk '%s': only drive addresses are supported", wd.Target)
		}
		dr := a.Drive
		if dr.Target != nil && *dr.Target != 0 {
			return wd, unsupported("disk '%s': drive address target must be 0", wd.Target)
		}
		if dr.Controller != nil {
			ctlIdx = *dr.Controller
		}
		b, u := uint(0), uint(0)
		if dr.Bus != nil {
			b = *dr.Bus
		}
		if dr.Unit != nil {
			u = *dr.Unit
		}
		switch bus {
		case "ide":
			wd.Port, wd.Device = b, u
		case "fdc":
			wd.Port, wd.Device = 0, u
		default:
			if b != 0 {
				return wd, unsupported("disk '%s': drive address bus must be 0 on %s", wd.Target, bus)
			}
			wd.Port = u
		}
	} else {
		n, ok := diskIndex(letters)
		if !ok {
			return wd, unsupported("disk '%s': cannot derive a controller slot from the target name; give an <address type='drive'>", wd.Target)
		}
		switch bus {
		case "ide":
			wd.Port, wd.Device = uint(n/2), uint(n%2)
		case "fdc":
			wd.Device = uint(n)
		default:
			wd.Port = uint(n)
		}
	}
	wd.Ctl = wantCtl{LvType: bus, Index: ctlIdx}.key()
	return wd, nil
}

// usbModels maps libvirt USB controller models to VirtualBox's three USB
// controllers.
var usbModels = map[string]string{
	"pci-ohci": "ohci", "piix3-uhci": "ohci", "piix4-uhci": "ohci",
	"ehci": "ehci", "ich9-ehci1": "ehci",
	"nec-xhci": "xhci", "qemu-xhci": "xhci",
	"none": "none",
}

func usbFromDomain(c libvirtxml.DomainController, w *desired) error {
	m := c.Model
	if m == "" {
		m = "pci-ohci"
	}
	kind, ok := usbModels[m]
	if !ok {
		return unsupported("The vbox driver does not support %s usb controller model", c.Model)
	}
	w.HasUSB = true
	switch kind {
	case "ohci":
		w.USB.OHCI = true
	case "ehci":
		w.USB.EHCI = true
	case "xhci":
		w.USB.XHCI = true
	}
	return nil
}

func foldersFromDomain(dev *libvirtxml.DomainDeviceList, w *desired) error {
	seen := map[string]bool{}
	for _, fs := range dev.Filesystems {
		if fs.Source == nil || fs.Source.Mount == nil {
			return unsupported("only filesystems of type 'mount' are supported")
		}
		if fs.Target == nil || fs.Target.Dir == "" {
			return errdefs.New(errdefs.ErrXML, "missing target information for filesystem")
		}
		p := fs.Source.Mount.Dir
		if !path.IsAbs(p) {
			return unsupported("filesystem '%s': source dir '%s' must be an absolute path", fs.Target.Dir, p)
		}
		if seen[fs.Target.Dir] {
			return unsupported("filesystem target '%s' used twice", fs.Target.Dir)
		}
		seen[fs.Target.Dir] = true
		w.Folders = append(w.Folders, folder{Name: fs.Target.Dir, Path: p, ReadOnly: fs.ReadOnly != nil})
	}
	return nil
}

// interfaceType names the type an interface was parsed as.
func interfaceType(s *libvirtxml.DomainInterfaceSource) string {
	switch {
	case s == nil:
		return "unknown"
	case s.User != nil:
		return "user"
	case s.Bridge != nil:
		return "bridge"
	case s.Network != nil:
		return "network"
	case s.Internal != nil:
		return "internal"
	case s.Null != nil:
		return "null"
	case s.Ethernet != nil:
		return "ethernet"
	case s.Direct != nil:
		return "direct"
	case s.VHostUser != nil:
		return "vhostuser"
	case s.Server != nil, s.Client != nil, s.MCast != nil, s.UDP != nil:
		return "socket"
	case s.Hostdev != nil:
		return "hostdev"
	case s.VDPA != nil:
		return "vdpa"
	case s.VDS != nil:
		return "vds"
	}
	return "unknown"
}

var aliasRE = regexp.MustCompile(`^ua-nic([1-9][0-9]?)$`)

// maxNICSlots is the adapter count of the ICH9 chipset; PIIX3 has 8.
const maxNICSlots = 36

func nicsFromDomain(dev *libvirtxml.DomainDeviceList, w *desired) error {
	if len(dev.Interfaces) > maxNICSlots {
		return unsupported("at most %d network interfaces are supported", maxNICSlots)
	}
	used := map[int]bool{}
	for i, x := range dev.Interfaces {
		n := nic{Cable: true}
		switch t := interfaceType(x.Source); t {
		case "user":
			n.Attach = "nat"
		case "bridge":
			n.Attach, n.Source = "bridged", x.Source.Bridge.Bridge
		case "network":
			// A host-only adapter or a NAT network: the planner
			// decides (see resolveNetwork).
			n.Attach, n.Source = "network", x.Source.Network.Network
		case "ethernet":
			if x.Alias == nil || x.Alias.Name == "" {
				return unsupported("interface %d: type 'ethernet' is not supported (it only stands for an existing VirtualBox generic or cloud adapter, named by its ua-nicN alias)", i+1)
			}
			n.Attach = "ethernet"
		case "internal":
			n.Attach, n.Source = "intnet", x.Source.Internal.Name
		case "null":
			n.Attach = "null"
		default:
			return unsupported("interface %d: type '%s' is not supported", i+1, t)
		}
		if n.Attach != "nat" && n.Attach != "null" && n.Attach != "ethernet" && n.Source == "" {
			return errdefs.Newf(errdefs.ErrXML, "interface %d: missing source for type '%s'", i+1, interfaceType(x.Source))
		}
		if x.MAC != nil {
			m, ok := parseMAC(x.MAC.Address)
			if !ok {
				return errdefs.Newf(errdefs.ErrXML, "unable to parse mac address '%s'", x.MAC.Address)
			}
			n.MAC = m
		}
		if x.Model != nil {
			m, ok := nicModelFromLibvirt(x.Model.Type)
			if !ok {
				m, ok = nicModelAliases[x.Model.Type]
				if !ok {
					return unsupported("interface %d: model '%s' is not supported (VirtualBox emulates %s)", i+1, x.Model.Type, strings.Join(nicModels, ", "))
				}
				w.note("interface %d: model '%s' taken as VirtualBox's %s", i+1, x.Model.Type, m)
			}
			n.Model = m
		}
		if x.Link != nil {
			switch x.Link.State {
			case "up", "":
			case "down":
				n.Cable = false
			default:
				return errdefs.Newf(errdefs.ErrXML, "interface %d: unknown link state '%s'", i+1, x.Link.State)
			}
		}
		if x.Alias != nil && x.Alias.Name != "" {
			m := aliasRE.FindStringSubmatch(x.Alias.Name)
			if m == nil {
				return unsupported("interface alias '%s' is not supported (use ua-nicN to choose adapter N)", x.Alias.Name)
			}
			n.Slot, _ = strconv.Atoi(m[1])
			if n.Slot > maxNICSlots {
				return unsupported("interface alias '%s': there is no adapter %d", x.Alias.Name, n.Slot)
			}
			if used[n.Slot] {
				return unsupported("two interfaces use adapter %d", n.Slot)
			}
			used[n.Slot] = true
		}
		w.NICs = append(w.NICs, n)
	}
	return nil
}

// parseMAC accepts aa:bb:cc:dd:ee:ff (or '-' separated) and returns
// VirtualBox's 12 upper-case hex digits.
func parseMAC(s string) (string, bool) {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == ':' || r == '-' })
	if len(parts) != 6 {
		return "", false
	}
	var b strings.Builder
	for _, p := range parts {
		if len(p) < 1 || len(p) > 2 {
			return "", false
		}
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil {
			return "", false
		}
		fmt.Fprintf(&b, "%02X", v)
	}
	return b.String(), true
}

// chardevType names the type a serial/parallel source was parsed as.
func chardevType(s *libvirtxml.DomainChardevSource) string {
	switch {
	case s == nil:
		return "unknown"
	case s.Null != nil:
		return "null"
	case s.File != nil:
		return "file"
	case s.Dev != nil:
		return "dev"
	case s.Pipe != nil:
		return "pipe"
	case s.UNIX != nil:
		return "unix"
	case s.TCP != nil:
		return "tcp"
	case s.Pty != nil:
		return "pty"
	case s.VC != nil:
		return "vc"
	case s.StdIO != nil:
		return "stdio"
	case s.UDP != nil:
		return "udp"
	case s.SpiceVMC != nil:
		return "spicevmc"
	case s.SpicePort != nil:
		return "spiceport"
	case s.NMDM != nil:
		return "nmdm"
	}
	return "unknown"
}

// isaFromDomain reads an ISA address (both iobase and irq required).
func isaFromDomain(a *libvirtxml.DomainAddress, what string) (io, irq uint, set bool, err error) {
	if a == nil {
		return 0, 0, false, nil
	}
	if a.ISA == nil || a.ISA.IOBase == nil || a.ISA.IRQ == nil {
		return 0, 0, false, unsupported("%s: only ISA addresses with iobase and irq are supported", what)
	}
	if *a.ISA.IOBase > 0xffff || *a.ISA.IRQ > 15 {
		return 0, 0, false, unsupported("%s: ISA address iobase %#x irq %d is out of range", what, *a.ISA.IOBase, *a.ISA.IRQ)
	}
	return *a.ISA.IOBase, *a.ISA.IRQ, true, nil
}

func serialsFromDomain(dev *libvirtxml.DomainDeviceList, w *desired) error {
	used := map[int]bool{} // slots taken by target ports
	var explicit []bool    // the port's resources came from an <address>
	for i, x := range dev.Serials {
		what := fmt.Sprintf("serial %d", i+1)
		s := serial{}
		switch t := chardevType(x.Source); t {
		case "null":
			s.Mode = "disconnected"
		case "file":
			s.Mode, s.Path = "file", x.Source.File.Path
		case "dev":
			s.Mode, s.Path = "device", x.Source.Dev.Path
		case "pipe":
			s.Mode, s.Path = "server", x.Source.Pipe.Path
		case "unix":
			s.Path = x.Source.UNIX.Path
			switch x.Source.UNIX.Mode {
			case "bind", "":
				s.Mode = "server"
			case "connect":
				s.Mode = "client"
			default:
				return errdefs.Newf(errdefs.ErrXML, "%s: unknown unix socket mode '%s'", what, x.Source.UNIX.Mode)
			}
		case "tcp":
			tcp := x.Source.TCP
			if _, err := strconv.ParseUint(tcp.Service, 10, 16); err != nil {
				return errdefs.Newf(errdefs.ErrXML, "%s: tcp service '%s' is not a port number", what, tcp.Service)
			}
			switch tcp.Mode {
			case "bind":
				if tcp.Host != "" && tcp.Host != "0.0.0.0" && tcp.Host != "::" {
					return unsupported("%s: VirtualBox's TCP server listens on all addresses, not '%s'", what, tcp.Host)
				}
				s.Mode, s.Path = "tcpserver", tcp.Service
			case "connect", "":
				if tcp.Host == "" {
					return errdefs.Newf(errdefs.ErrXML, "%s: missing tcp host", what)
				}
				s.Mode, s.Path = "tcpclient", tcp.Host+":"+tcp.Service
			default:
				return errdefs.Newf(errdefs.ErrXML, "%s: unknown tcp mode '%s'", what, tcp.Mode)
			}
		default:
			return unsupported("%s: type '%s' is not supported", what, t)
		}
		if s.Mode != "disconnected" && s.Mode != "tcpserver" && s.Mode != "tcpclient" && !path.IsAbs(s.Path) {
			return unsupported("%s: path '%s' must be absolute", what, s.Path)
		}
		if x.Protocol != nil && x.Protocol.Type != "raw" {
			return unsupported("%s: protocol '%s' is not supported", what, x.Protocol.Type)
		}
		io, irq, set, err := isaFromDomain(x.Address, what)
		if err != nil {
			return err
		}
		if x.Target != nil && x.Target.Port != nil {
			p := int(*x.Target.Port)
			if p > 3 {
				return unsupported("%s: target port %d does not exist (VirtualBox has COM1..COM4)", what, p)
			}
			if used[p+1] {
				return unsupported("two serial ports use target port %d", p)
			}
			used[p+1] = true
			s.Slot = p + 1
		}
		if set {
			s.IOBase, s.IRQ = io, irq
		}
		explicit = append(explicit, set)
		w.Serials = append(w.Serials, s)
	}
	err := placePorts("serial", serialPorts[:], used, explicit, func(i int) *isaPort { return &w.Serials[i].isaPort })
	if err != nil {
		return err
	}
	slices.SortFunc(w.Serials, func(a, b serial) int { return cmp.Compare(a.Slot, b.Slot) })
	return nil
}

// placePorts completes the serial or parallel ports of a document: each port
// without a target port (slot 0) takes the lowest slot not in used, and each
// whose <address> did not set its resources (explicit[i] false) gets the
// standard ones of its slot (std, indexed by slot-1). port(i) is the i-th
// port, for i < len(explicit).
func placePorts(kind string, std [][2]uint, used map[int]bool, explicit []bool, port func(i int) *isaPort) error {
	for i := range explicit {
		p := port(i)
		if p.Slot != 0 {
			continue
		}
		slot := 1
		for used[slot] {
			slot++
		}
		if slot > len(std) {
			return unsupported("at most %d %s ports are supported", len(std), kind)
		}
		used[slot] = true
		p.Slot = slot
	}
	for i, set := range explicit {
		if !set {
			p := port(i)
			p.IOBase, p.IRQ = std[p.Slot-1][0], std[p.Slot-1][1]
		}
	}
	return nil
}

func parallelsFromDomain(dev *libvirtxml.DomainDeviceList, w *desired) error {
	used := map[int]bool{} // slots taken by target ports
	var explicit []bool    // the port's resources came from an <address>
	for i, x := range dev.Parallels {
		what := fmt.Sprintf("parallel %d", i+1)
		p := parallel{}
		switch t := chardevType(x.Source); t {
		case "dev":
			p.Path = x.Source.Dev.Path
		case "file":
			p.Path = x.Source.File.Path
		default:
			return unsupported("%s: type '%s' is not supported", what, t)
		}
		if !path.IsAbs(p.Path) {
			return unsupported("%s: path '%s' must be absolute", what, p.Path)
		}
		io, irq, set, err := isaFromDomain(x.Address, what)
		if err != nil {
			return err
		}
		if x.Target != nil && x.Target.Port != nil {
			n := int(*x.Target.Port)
			if n > 1 || used[n+1] {
				return unsupported("%s: target port %d is not available (VirtualBox has LPT1 and LPT2)", what, n)
			}
			used[n+1] = true
			p.Slot = n + 1
		}
		if set {
			p.IOBase, p.IRQ = io, irq
		}
		explicit = append(explicit, set)
		w.Parallels = append(w.Parallels, p)
	}
	err := placePorts("parallel", parallelPorts[:], used, explicit, func(i int) *isaPort { return &w.Parallels[i].isaPort })
	if err != nil {
		return err
	}
	slices.SortFunc(w.Parallels, func(a, b parallel) int { return cmp.Compare(a.Slot, b.Slot) })
	return nil
}

func yesNoAttr(v, what string) (bool, error) {
	switch v {
	case "", "no":
		return false, nil
	case "yes":
		return true, nil
	}
	return false, errdefs.Newf(errdefs.ErrXML, "invalid %s value '%s'", what, v)
}

func graphicsFromDomain(dev *libvirtxml.DomainDeviceList, w *desired) error {
	rdp, local := 0, 0
	for _, g := range dev.Graphics {
		switch {
		case g.RDP != nil:
			rdp++
			if rdp > 1 {
				return unsupported("only one remote display (rdp, vnc or spice graphics) is supported")
			}
			r := g.RDP
			w.VRDE.Enabled = true
			auto, err := yesNoAttr(r.AutoPort, "autoport")
			if err != nil {
				return err
			}
			switch {
			case auto || r.Port <= 0:
				w.VRDE.Ports = ""
			case r.Port > 65535:
				return errdefs.Newf(errdefs.ErrXML, "rdp port %d is out of range", r.Port)
			default:
				w.VRDE.Ports = strconv.Itoa(r.Port)
			}
			if w.VRDE.Multi, err = yesNoAttr(r.MultiUser, "multiUser"); err != nil {
				return err
			}
			if w.VRDE.Reuse, err = yesNoAttr(r.ReplaceUser, "replaceUser"); err != nil {
				return err
			}
			w.VRDE.Address = r.Listen
			for _, l := range r.Listeners {
				if l.Address == nil {
					return unsupported("rdp graphics: only listen type 'address' is supported")
				}
				if w.VRDE.Address != "" && l.Address.Address != w.VRDE.Address {
					return unsupported("rdp graphics: one listen address is supported")
				}
				w.VRDE.Address = l.Address.Address
			}
		case g.VNC != nil, g.Spice != nil:
			// The VRDE server is VirtualBox's remote display (RDP, or
			// VNC with the VNC extension pack).
			rdp++
			if rdp > 1 {
				return unsupported("only one remote display (rdp, vnc or spice graphics) is supported")
			}
			w.VRDE.Enabled = true
			port, auto, listen := 0, "", ""
			var listeners []libvirtxml.DomainGraphicListener
			if v := g.VNC; v != nil {
				if v.Passwd != "" || v.Socket != "" || v.WebSocket != 0 || v.SharePolicy != "" {
					return unsupported("vnc graphics: only port, autoport and listen are supported")
				}
				port, auto, listen, listeners = v.Port, v.AutoPort, v.Listen, v.Listeners
			} else {
				sp := g.Spice
				if sp.TLSPort != 0 || sp.Passwd != "" || len(sp.Channel) > 0 || sp.Image != nil || sp.GL != nil {
					return unsupported("spice graphics: only port, autoport and listen are supported")
				}
				port, auto, listen, listeners = sp.Port, sp.AutoPort, sp.Listen, sp.Listeners
			}
			w.note("%s graphics taken as the VRDE remote display", graphicsType(g))
			isAuto, err := yesNoAttr(auto, "autoport")
			if err != nil {
				return err
			}
			switch {
			case isAuto || port <= 0:
				w.VRDE.Ports = ""
			case port > 65535:
				return errdefs.Newf(errdefs.ErrXML, "graphics port %d is out of range", port)
			default:
				w.VRDE.Ports = strconv.Itoa(port)
			}
			w.VRDE.Address = listen
			for _, l := range listeners {
				if l.Address == nil {
					return unsupported("%s graphics: only listen type 'address' is supported", graphicsType(g))
				}
				if w.VRDE.Address != "" && l.Address.Address != w.VRDE.Address {
					return unsupported("%s graphics: one listen address is supported", graphicsType(g))
				}
				w.VRDE.Address = l.Address.Address
			}
		case g.Desktop != nil:
			local++
			w.Frontend, w.Display = "gui", g.Desktop.Display
		case g.SDL != nil:
			local++
			w.Frontend, w.Display = "sdl", g.SDL.Display
		default:
			return unsupported("graphics type '%s' is not supported", graphicsType(g))
		}
	}
	if local > 1 {
		return unsupported("only one desktop or sdl graphics device is supported")
	}
	return nil
}

func graphicsType(g libvirtxml.DomainGraphic) string {
	switch {
	case g.VNC != nil:
		return "vnc"
	case g.Spice != nil:
		return "spice"
	case g.EGLHeadless != nil:
		return "egl-headless"
	case g.DBus != nil:
		return "dbus"
	}
	return "unknown"
}

func soundVideoFromDomain(dev *libvirtxml.DomainDeviceList, w *desired) error {
	switch len(dev.Sounds) {
	case 0:
	case 1:
		w.Audio.Enabled = true
		switch m := dev.Sounds[0].Model; m {
		case "ac97", "sb16":
			w.Audio.Controller = m
		case "ich6":
			w.Audio.Controller = "hda"
		case "ich7", "ich9":
			w.Audio.Controller = "hda"
			w.note("sound model '%s' taken as VirtualBox's HD Audio (ich6)", m)
		default:
			return unsupported("sound model '%s' is not supported", m)
		}
	default:
		return unsupported("only one sound device is supported")
	}
	switch len(dev.Videos) {
	case 0:
		return nil
	case 1:
	default:
		return unsupported("only one video device is supported")
	}
	m := dev.Videos[0].Model
	w.HasVideo = true
	switch m.Type {
	case "", "vbox":
		w.Video.Controller = "vboxvga"
	case "vga", "cirrus", "bochs":
		w.Video.Controller = "vboxvga"
		w.note("video model '%s' taken as VirtualBox's VBoxVGA (a VGA/VBE adapter)", m.Type)
	case "vmvga":
		w.Video.Controller = "vmsvga"
	case "qxl", "virtio":
		w.Video.Controller = "vmsvga"
		w.note("video model '%s' taken as VMSVGA (VirtualBox's paravirtual adapter with Linux and Windows drivers)", m.Type)
	case "none":
		w.Video.Controller = "none"
		return nil
	default:
		return unsupported("video model '%s' is not supported", m.Type)
	}
	if m.VRam == 0 {
		w.Keep.VRAM = true
	} else {
		// Limits depend on the adapter and version: VBoxManage checks them.
		w.Video.VRAMMiB = (m.VRam + 1023) / 1024
	}
	if m.Heads == 0 {
		w.Keep.Monitors = true
	}
	w.Video.Monitors = m.Heads
	if m.Accel != nil {
		var err error
		if w.Video.Accel3D, err = yesNoAttr(m.Accel.Accel3D, "accel3d"); err != nil {
			return err
		}
		if w.Video.Accel2D, err = yesNoAttr(m.Accel.Accel2D, "accel2d"); err != nil {
			return err
		}
	}
	return nil
}

func hostdevsFromDomain(dev *libvirtxml.DomainDeviceList, w *desired) error {
	for i, h := range dev.Hostdevs {
		if h.SubsysUSB == nil {
			t := "unknown"
			switch {
			case h.SubsysPCI != nil:
				t = "pci"
			case h.SubsysSCSI != nil:
				t = "scsi"
			case h.SubsysSCSIHost != nil:
				t = "scsi_host"
			case h.SubsysMDev != nil:
				t = "mdev"
			case h.CapsStorage != nil, h.CapsMisc != nil, h.CapsNet != nil:
				t = "capabilities"
			}
			return unsupported("hostdev %d: type '%s' is not supported (only USB devices, as VirtualBox USB filters)", i+1, t)
		}
		src := h.SubsysUSB.Source
		if src == nil || src.Vendor == nil {
			return unsupported("hostdev %d: a USB device needs a vendor id", i+1)
		}
		if src.Address != nil {
			return unsupported("hostdev %d: USB devices are matched by vendor and product, not by address", i+1)
		}
		f := usbFilter{Active: true}
		var ok bool
		if f.Vendor, ok = usbID(src.Vendor.ID); !ok {
			return errdefs.Newf(errdefs.ErrXML, "hostdev %d: invalid vendor id '%s'", i+1, src.Vendor.ID)
		}
		if src.Product != nil {
			if f.Product, ok = usbID(src.Product.ID); !ok {
				return errdefs.Newf(errdefs.ErrXML, "hostdev %d: invalid product id '%s'", i+1, src.Product.ID)
			}
		}
		w.Filters = append(w.Filters, f)
	}
	return nil
}

// usbID normalises "0x0781" to "0781".
func usbID(s string) (string, bool) {
	v, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(s), "0x"), 16, 16)
	if err != nil {
		return "", false
	}
	return fmt.Sprintf("%04x", v), true
}

// inputsFromDomain maps <input> elements to VirtualBox's pointing device
// and keyboard. No pointing (keyboard) input keeps the machine's setting.
func inputsFromDomain(dev *libvirtxml.DomainDeviceList, w *desired) error {
	var ptr, kbd []input
	for _, x := range dev.Inputs {
		bus := x.Bus
		if bus == "" {
			bus = "ps2"
			if x.Type == "tablet" {
				bus = "usb"
			}
		}
		in := input{x.Type, bus}
		switch x.Type {
		case "mouse", "tablet":
			ptr = append(ptr, in)
		case "keyboard":
			kbd = append(kbd, in)
		default:
			return unsupported("input type '%s' is not supported", x.Type)
		}
	}
	var err error
	if w.Pointing, err = hidFromInputs(ptr, pointingInputs, "pointing device"); err != nil {
		return err
	}
	w.Keyboard, err = hidFromInputs(kbd, keyboardInputs, "keyboard")
	return err
}

// hidFromInputs finds the HID setting whose inputs are exactly list ("" for
// an empty list).
func hidFromInputs(list []input, table map[string][]input, what string) (string, error) {
	if len(list) == 0 {
		return "", nil
	}
	for name, want := range table {
		if sameInputs(list, want) {
			return name, nil
		}
	}
	var s []string
	for _, in := range list {
		s = append(s, in.Type+"/"+in.Bus)
	}
	return "", unsupported("no VirtualBox %s matches the inputs %s", what, strings.Join(s, ", "))
}

// sameInputs reports whether a and b hold the same inputs, each as many
// times, in any order.
func sameInputs(a, b []input) bool {
	if len(a) != len(b) {
		return false
	}
	rest := slices.Clone(b)
	for _, x := range a {
		i := slices.Index(rest, x)
		if i < 0 {
			return false
		}
		rest = slices.Delete(rest, i, i+1)
	}
	return true
}
