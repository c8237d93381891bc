package domxml

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// vmConfig is the one model both directions go through. It holds
// VirtualBox's view of a machine, restricted to what domain XML can express,
// plus what an update must know to leave alone (unmanaged controllers, NIC
// slots and boot entries that have no XML form).
type vmConfig struct {
	Name, UUID  string
	Description string
	// Title and Metadata (canonical, see canonicalMetadata) have no
	// VirtualBox setting: they live in the extradata keys extraTitle and
	// extraMetadata.
	Title, Metadata string
	OSType          string // showvminfo "ostype" (a description) — read only
	Arch            string // x86_64, i686 or aarch64
	MemoryMiB       uint
	// BalloonMiB is the memory balloon size (GuestMemoryBalloon): the
	// guest's current memory is MemoryMiB-BalloonMiB.
	BalloonMiB uint
	CPUs       uint
	Firmware   string   // "bios" or "efi"
	Boot       []string // VirtualBox boot devices (floppy, dvd, disk, net) in order, at most 4
	BootRaw    []string // info only: boot1..boot4 as printed (keeps usb/sharedfolder entries)
	ACPI       bool
	IOAPIC     bool
	PAE        bool
	RTCUTC     bool
	// TripleFaultReset is on_crash='restart' (VirtualBox resets on a triple
	// fault instead of stopping in guru meditation, on_crash='preserve').
	TripleFaultReset bool

	Controllers []controller // VirtualBox order
	Disks       []disk       // controller order, then port, then device
	Folders     []folder
	FoldersRO   bool         // info only: the folders' read-only flags are known
	Transient   []folder     // info only: a running machine's transient shared folders (live XML only)
	NICs        []nic        // managed adapters, slot order
	NICSlots    int          // adapters the chipset offers
	Unmanaged   map[int]bool // info only: enabled adapter slots with no XML form
	// UnmanagedPorts (info only) are enabled ports ("uart2", "lpt1") whose
	// configuration has no XML form (a relative path); they are kept.
	UnmanagedPorts map[string]bool
	Serials        []serial
	Parallels      []parallel

	VRDE      vrde
	Frontend  string // defaultfrontend: "", "gui", "sdl", "separate", "headless"
	Display   string // FRONTEND/Display extradata
	DisplayOK bool   // Display is known (extradata was supplied)

	Video    video
	HasVideo bool // fromDomain: a <video> element was given

	Audio audio

	USB    usbControllers
	HasUSB bool // fromDomain: a USB <controller> was given

	Filters []usbFilter

	Pointing string // hidpointing: ps2mouse, usbmouse, usbtablet, combomouse, usbmultitouch, none
	Keyboard string // hidkeyboard: ps2kbd, usbkbd, combokbd, none
}

// An input is a libvirt <input type bus>.
type input struct{ Type, Bus string }

// pointingInputs and keyboardInputs give the <input> elements of each
// VirtualBox HID setting. Settings missing here (usbmultitouch, none) have
// no XML form: they print no <input> and documents without one keep them.
var pointingInputs = map[string][]input{
	"ps2mouse":   {{"mouse", "ps2"}},
	"usbmouse":   {{"mouse", "usb"}},
	"usbtablet":  {{"tablet", "usb"}},
	"combomouse": {{"mouse", "ps2"}, {"tablet", "usb"}},
}

var keyboardInputs = map[string][]input{
	"ps2kbd":   {{"keyboard", "ps2"}},
	"usbkbd":   {{"keyboard", "usb"}},
	"combokbd": {{"keyboard", "ps2"}, {"keyboard", "usb"}},
}

// hidArg is the modifyvm --mouse/--keyboard argument for a HID setting;
// the combined settings cannot be chosen with VBoxManage.
var hidArg = map[string]string{
	"ps2mouse": "ps2", "usbmouse": "usb", "usbtablet": "usbtablet",
	"ps2kbd": "ps2", "usbkbd": "usb",
}

// controller is one VirtualBox storage controller.
type controller struct {
	Name      string
	VBoxType  string // PIIX4, IntelAhci, LsiLogic...
	PortCount uint
	Managed   bool // has an XML form; unmanaged ones are never touched
}

// storageKind describes a VirtualBox storage controller type.
type storageKind struct {
	VBoxType string // storagecontrollertype value and --controller argument
	AddBus   string // storagectl --add argument
	LvType   string // libvirt <controller type>
	LvModel  string // libvirt <controller model>
	DiskBus  string // libvirt <target bus>
	MaxPorts uint
	Devices  uint // devices per port
	DefName  string
	CtlArg   string // storagectl --controller argument when it differs from VBoxType
}

// controllerArg is the storagectl --controller value (matched
// case-insensitively by VBoxManage).
func (k storageKind) controllerArg() string {
	if k.CtlArg != "" {
		return k.CtlArg
	}
	return k.VBoxType
}

// storageKinds lists the controller types with an XML form. NVMe, USB and
// types 6.1 prints as "unknown" are left out on purpose: they are kept as
// they are by updates and do not appear in the XML.
var storageKinds = []storageKind{
	{"PIIX4", "ide", "ide", "piix4", "ide", 2, 2, "IDE Controller", ""},
	{"PIIX3", "ide", "ide", "piix3", "ide", 2, 2, "IDE Controller", ""},
	{"ICH6", "ide", "ide", "ich6", "ide", 2, 2, "IDE Controller", ""},
	{"IntelAhci", "sata", "sata", "", "sata", 30, 1, "SATA Controller", ""},
	{"LsiLogic", "scsi", "scsi", "lsilogic", "scsi", 16, 1, "SCSI Controller", ""},
	{"BusLogic", "scsi", "scsi", "buslogic", "scsi", 16, 1, "SCSI Controller", ""},
	{"LsiLogicSas", "sas", "scsi", "lsisas1068", "scsi", 255, 1, "SAS Controller", ""},
	{"VirtioSCSI", "virtio", "scsi", "virtio-scsi", "scsi", 256, 1, "VirtioSCSI Controller", "VirtIO"},
	{"I82078", "floppy", "fdc", "", "fdc", 1, 2, "Floppy Controller", ""},
}

func kindByVBoxType(t string) (storageKind, bool) {
	for _, k := range storageKinds {
		if strings.EqualFold(k.VBoxType, t) {
			return k, true
		}
	}
	return storageKind{}, false
}

// kindByLibvirt returns the kind for a libvirt controller type and model;
// model "" picks the default model of the type.
func kindByLibvirt(lvType, model string) (storageKind, bool) {
	for _, k := range storageKinds {
		if k.LvType != lvType {
			continue
		}
		if model == "" || k.LvModel == model {
			return k, true
		}
	}
	return storageKind{}, false
}

// disk is one medium attachment (or empty drive).
type disk struct {
	Controller string // controller name
	Port       uint
	Device     uint
	Kind       string // "disk", "cdrom", "floppy"
	Source     string // "" = empty drive
}

// folder is a permanent shared folder.
type folder struct {
	Name, Path string
	ReadOnly   bool // only known from XML: showvminfo does not print it
}

// nic is a network adapter with an XML form.
type nic struct {
	Slot int // 1-based
	// Attach is nat, bridged, hostonly, intnet, null, natnetwork, generic
	// or cloudnetwork as showvminfo prints it; documents also give
	// "network" (a host-only adapter or NAT network, resolved by the
	// planner) and "ethernet" (keep the slot's generic or cloud
	// attachment).
	Attach string
	Source string // bridge/host-only interface, network or generic driver name
	Model  string // VirtualBox adapter type (Am79C973...), "" = keep
	MAC    string // 12 upper-case hex digits, "" = keep
	Cable  bool
}

// isaPort is what serial and parallel ports share: the slot and its ISA
// resources.
type isaPort struct {
	Slot   int // 1-based (COM1..COM4, LPT1..LPT2)
	IOBase uint
	IRQ    uint
}

// isa is the port part of a serial or parallel port (for portInSlot).
func (p isaPort) isa() isaPort { return p }

// serial is one enabled UART.
type serial struct {
	isaPort
	Mode string // disconnected, file, server, client, tcpserver, tcpclient, device
	Path string // file/pipe/device path, TCP port (server) or host:port (client)
}

// parallel is one enabled LPT port.
type parallel struct {
	isaPort
	Path string
}

type vrde struct {
	Enabled  bool
	Ports    string // TCP/Ports: one number, or a list/range ("" = default)
	LivePort int    // vrdeport while running, else -1/0
	Address  string
	Multi    bool
	Reuse    bool
}

type video struct {
	Controller string // vboxvga, vmsvga, vboxsvga, none
	VRAMMiB    uint
	Monitors   uint
	Accel3D    bool
	Accel2D    bool
}

type audio struct {
	Enabled    bool
	Controller string // ac97, hda, sb16; "" unknown
}

type usbControllers struct{ OHCI, EHCI, XHCI bool }

type usbFilter struct {
	Index   int // 1-based position as showvminfo numbers them (info only)
	Active  bool
	Vendor  string // 4 lower-case hex digits or ""
	Product string
}

// normUSBID returns a filter's id as 4 lower-case hex digits when it is one
// number, else as printed (filters may hold ranges and wildcards).
func normUSBID(s string) string {
	if n, ok := usbID(s); ok {
		return n
	}
	return s
}

// representable reports whether a USB filter has an XML form (an active
// filter matching a vendor id and optionally a product id). Other filters
// are neither shown nor touched.
func (f usbFilter) representable() bool {
	if !f.Active {
		return false
	}
	if _, ok := usbID(f.Vendor); !ok {
		return false
	}
	_, ok := usbID(f.Product)
	return ok || f.Product == ""
}

// serialPorts are the standard COM port resources, indexed by slot-1.
var serialPorts = [4][2]uint{{0x3f8, 4}, {0x2f8, 3}, {0x3e8, 4}, {0x2e8, 3}}

// parallelPorts are the standard LPT port resources, indexed by slot-1.
var parallelPorts = [2][2]uint{{0x378, 7}, {0x278, 5}}

// fromInfo reads the model from showvminfo pairs. It fails only when the
// output lacks what every accessible machine has (name, UUID, memory, cpus).
func fromInfo(in *Info) (*vmConfig, error) {
	c := &vmConfig{Unmanaged: map[int]bool{}, UnmanagedPorts: map[string]bool{}}
	c.Name, _ = in.Get("name")
	c.UUID, _ = in.Get("UUID")
	if c.Name == "" || c.UUID == "" {
		return nil, errdefs.New(errdefs.ErrInternal, "showvminfo output lacks the machine name or UUID")
	}
	if _, hasState := in.Get("VMState"); c.Name == "<inaccessible>" && !hasState {
		// Inaccessible machines print only name and UUID; a machine a
		// user named "<inaccessible>" prints everything.
		return nil, errdefs.Newf(errdefs.ErrOperationFailed, "machine %s is inaccessible", c.UUID)
	}
	u, ok := normUUID(c.UUID)
	if !ok {
		return nil, errdefs.Newf(errdefs.ErrInternal, "showvminfo printed an invalid machine UUID %q", c.UUID)
	}
	c.UUID = u
	if c.MemoryMiB, ok = in.uint("memory"); !ok || c.MemoryMiB == 0 {
		return nil, errdefs.Newf(errdefs.ErrInternal, "showvminfo output for %s lacks a valid memory size", c.UUID)
	}
	if c.CPUs, ok = in.uint("cpus"); !ok || c.CPUs == 0 {
		return nil, errdefs.Newf(errdefs.ErrInternal, "showvminfo output for %s lacks a valid CPU count", c.UUID)
	}
	c.Description = in.str("description")
	if in.ExtraData != nil {
		c.Title = in.ExtraData[extraTitle]
		// A value set by hand is shown (and compared) in canonical form,
		// or not at all when it is not metadata XML.
		if m, err := canonicalMetadata(in.ExtraData[extraMetadata]); err == nil {
			c.Metadata = m
		}
	}
	if b, ok := in.uint("GuestMemoryBalloon"); ok && b < c.MemoryMiB {
		c.BalloonMiB = b
	}
	c.OSType = in.str("ostype")
	c.Arch = archOf(in.str("platformArchitecture"), c.OSType, in.str("GuestOSType"))
	c.Firmware = "bios"
	if strings.HasPrefix(strings.ToUpper(in.str("firmware")), "EFI") {
		c.Firmware = "efi"
	}
	for i := 1; i <= 4; i++ {
		v, present := in.Get("boot" + strconv.Itoa(i))
		if !present {
			continue
		}
		c.BootRaw = append(c.BootRaw, v)
		if _, ok := bootToLibvirt[v]; ok {
			c.Boot = append(c.Boot, v)
		}
	}
	c.ACPI, c.IOAPIC, c.PAE, c.RTCUTC = in.on("acpi"), in.on("ioapic"), in.on("pae"), in.on("rtcuseutc")
	c.TripleFaultReset = in.on("triplefaultreset")
	c.Pointing, c.Keyboard = strings.ToLower(in.str("hidpointing")), strings.ToLower(in.str("hidkeyboard"))

	readStorage(in, c)
	readNICs(in, c)
	readPorts(in, c)

	c.VRDE.Enabled = in.on("vrde")
	if c.VRDE.Enabled {
		c.VRDE.Ports = in.str("vrdeports")
		if p, present := in.Get("vrdeproperty[TCP/Ports]"); present && c.VRDE.Ports == "" && p != "<not set>" {
			c.VRDE.Ports = p
		}
		if n, err := strconv.Atoi(in.str("vrdeport")); err == nil {
			c.VRDE.LivePort = n
		}
		c.VRDE.Address = in.str("vrdeaddress")
		c.VRDE.Multi = in.on("vrdemulticon")
		c.VRDE.Reuse = in.on("vrdereusecon")
	}
	c.Frontend = normFrontend(in.str("defaultfrontend"))
	if in.ExtraData != nil {
		c.Display, c.DisplayOK = in.ExtraData["FRONTEND/Display"], true
	}

	c.Video.Controller = strings.ToLower(in.str("graphicscontroller"))
	if c.Video.Controller == "" || c.Video.Controller == "null" {
		c.Video.Controller = "none"
	}
	c.Video.VRAMMiB, _ = in.uint("vram")
	c.Video.Monitors, _ = in.uint("monitorcount")
	c.Video.Accel3D, c.Video.Accel2D = in.on("accelerate3d"), in.on("accelerate2dvideo")

	if a := in.str("audio"); a != "" && a != "none" {
		c.Audio.Enabled = true
	}
	if _, present := in.Get("audio_enabled"); present { // defensive: 7.x spelling
		c.Audio.Enabled = in.on("audio_enabled")
	}
	c.Audio.Controller = strings.ToLower(in.AudioController)

	c.USB = usbControllers{OHCI: in.on("usb"), EHCI: in.on("ehci"), XHCI: in.on("xhci")}
	for i := 1; ; i++ {
		n := strconv.Itoa(i)
		if _, present := in.Get("USBFilterActive" + n); !present {
			break
		}
		c.Filters = append(c.Filters, usbFilter{
			Index:   i,
			Active:  in.on("USBFilterActive" + n),
			Vendor:  normUSBID(in.str("USBFilterVendorId" + n)),
			Product: normUSBID(in.str("USBFilterProductId" + n)),
		})
	}
	for i := 1; ; i++ {
		n := strconv.Itoa(i)
		name, present := in.Get("SharedFolderNameMachineMapping" + n)
		if !present {
			break
		}
		path := in.str("SharedFolderPathMachineMapping" + n)
		if name == "" || !strings.HasPrefix(path, "/") {
			continue // not a usable folder; never printed by VirtualBox
		}
		c.Folders = append(c.Folders, folder{Name: name, Path: path, ReadOnly: in.ReadOnlyFolders[name]})
	}
	c.FoldersRO = in.ReadOnlyFolders != nil
	for i := 1; ; i++ {
		n := strconv.Itoa(i)
		name, present := in.Get("SharedFolderNameTransientMapping" + n)
		if !present {
			break
		}
		if path := in.str("SharedFolderPathTransientMapping" + n); name != "" && strings.HasPrefix(path, "/") {
			c.Transient = append(c.Transient, folder{Name: name, Path: path, ReadOnly: in.ReadOnlyFolders[name]})
		}
	}
	return c, nil
}

// archOf derives the guest architecture: 7.1 names the platform; otherwise
// a 64-bit OS type (description "(64-bit)" or ID "_64") means x86_64.
func archOf(platform, ostype, guestOSType string) string {
	if strings.EqualFold(platform, "ARM") {
		return "aarch64"
	}
	for _, t := range []string{ostype, guestOSType} {
		if strings.Contains(t, "64-bit") || strings.HasSuffix(t, "_64") {
			return "x86_64"
		}
	}
	return "i686"
}

// normFrontend maps the defaultfrontend setting to one spelling; "" and
// "default" both mean "not set".
func normFrontend(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	if v == "default" {
		return ""
	}
	return v
}

// Frontend returns the front end a machine should be started with
// (`startvm --type`): the machine's default front end when it is gui, sdl,
// separate or headless, and "headless" when none is set. A daemon has no
// display of its own, so unlike libvirt's driver a machine without a front
// end starts headless; <graphics type='desktop'/> in its XML asks for "gui".
func Frontend(info Info) string {
	switch f := normFrontend(info.str("defaultfrontend")); f {
	case "gui", "sdl", "separate", "headless":
		return f
	}
	return "headless"
}

// readStorage reads controllers and attachments.
func readStorage(in *Info, c *vmConfig) {
	for i := 0; ; i++ {
		n := strconv.Itoa(i)
		name, present := in.Get("storagecontrollername" + n)
		if !present {
			break
		}
		t := in.str("storagecontrollertype" + n)
		ctl := controller{Name: name, VBoxType: t}
		if kind, managed := kindByVBoxType(t); managed {
			ctl.VBoxType, ctl.Managed = kind.VBoxType, true // canonical spelling
		}
		ctl.PortCount, _ = in.uint("storagecontrollerportcount" + n)
		c.Controllers = append(c.Controllers, ctl)
	}
	// Attachments: "<ctl>-<port>-<device>". Controller names may contain
	// '-', so match each known controller name as a prefix.
	pos := map[string]int{} // slot key → index in Pairs
	for i, kv := range in.Pairs {
		if _, seen := pos[kv.Key]; !seen {
			pos[kv.Key] = i
		}
	}
	for ci := range c.Controllers {
		ctl := &c.Controllers[ci]
		if !ctl.Managed {
			continue
		}
		kind, _ := kindByVBoxType(ctl.VBoxType)
		type slot struct{ port, dev uint }
		var slots []slot
		prefix := ctl.Name + "-"
		for _, kv := range in.Pairs {
			if !strings.HasPrefix(kv.Key, prefix) {
				continue
			}
			p, d, ok := parsePortDevice(kv.Key[len(prefix):])
			if !ok {
				continue
			}
			slots = append(slots, slot{p, d})
		}
		sort.Slice(slots, func(a, b int) bool {
			if slots[a].port != slots[b].port {
				return slots[a].port < slots[b].port
			}
			return slots[a].dev < slots[b].dev
		})
		for _, s := range slots {
			key := fmt.Sprintf("%s-%d-%d", ctl.Name, s.port, s.dev)
			v := in.str(key)
			if v == "" || v == "none" {
				continue
			}
			if v != "emptydrive" && !strings.HasPrefix(v, "/") {
				continue // a host drive ("host:/dev/sr0") or other medium with no file path: left alone
			}
			d := disk{Controller: ctl.Name, Port: s.port, Device: s.dev}
			switch {
			case kind.AddBus == "floppy":
				d.Kind = "floppy"
			case v == "emptydrive" || isDVD(in, ctl.Name, s.port, s.dev, pos[key]):
				d.Kind = "cdrom"
			default:
				d.Kind = "disk"
			}
			if v != "emptydrive" {
				d.Source = v
			}
			if s.port >= ctl.PortCount {
				ctl.PortCount = s.port + 1 // a slot in use exists, whatever was printed
			}
			c.Disks = append(c.Disks, d)
		}
	}
}

// parsePortDevice parses "<port>-<device>".
func parsePortDevice(s string) (port, dev uint, ok bool) {
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	p, err1 := strconv.ParseUint(a, 10, 16)
	d, err2 := strconv.ParseUint(b, 10, 16)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return uint(p), uint(d), true
}

// isDVD tells whether the medium in a slot is a DVD. 7.x prints per-slot
// DVD markers ("<ctl>-tempeject-<p>-<d>", "<ctl>-IsEjected-<p>-<d>"); 6.1
// prints unsuffixed "<ctl>-tempeject"/"-IsEjected"/"-dvdpassthrough" right
// after the DVD's ImageUUID line, so its position identifies the slot. An
// ".iso" file is a DVD whatever the markers say.
func isDVD(in *Info, ctl string, port, dev uint, at int) bool {
	sfx := fmt.Sprintf("-%d-%d", port, dev)
	for _, m := range []string{"-tempeject", "-IsEjected", "-dvdpassthrough"} {
		if _, ok := in.Get(ctl + m + sfx); ok {
			return true
		}
	}
	for i := at + 1; i < len(in.Pairs); i++ {
		switch in.Pairs[i].Key {
		case ctl + "-ImageUUID" + sfx:
			continue
		case ctl + "-tempeject", ctl + "-IsEjected", ctl + "-dvdpassthrough":
			return true
		}
		break
	}
	return strings.HasSuffix(strings.ToLower(in.str(fmt.Sprintf("%s%s", ctl, sfx))), ".iso")
}

// nicAttach maps the showvminfo nicN value to the attachment we manage.
var nicAttach = map[string]string{"nat": "nat", "bridged": "bridged", "hostonly": "hostonly", "intnet": "intnet", "null": "null",
	"natnetwork": "natnetwork", "generic": "generic", "cloudnetwork": "cloudnetwork"}

// nicSourceKey is the showvminfo key (and modifyvm option stem) naming the
// attachment's source for each attachment type.
var nicSourceKey = map[string]string{"bridged": "bridgeadapter", "hostonly": "hostonlyadapter", "intnet": "intnet",
	"natnetwork": "nat-network", "generic": "generic", "cloudnetwork": "cloud-network"}

// Extradata keys holding what domain XML carries and VirtualBox cannot.
const (
	extraTitle    = "virtvboxd/title"
	extraMetadata = "virtvboxd/metadata"
)

func readNICs(in *Info, c *vmConfig) {
	for i := 1; ; i++ {
		n := strconv.Itoa(i)
		v, present := in.Get("nic" + n)
		if !present {
			break
		}
		c.NICSlots = i
		if v == "none" || v == "" {
			continue
		}
		att, managed := nicAttach[strings.ToLower(v)]
		if !managed {
			c.Unmanaged[i] = true
			continue
		}
		x := nic{Slot: i, Attach: att, Model: in.str("nictype" + n), MAC: strings.ToUpper(in.str("macaddress" + n)), Cable: in.on("cableconnected" + n)}
		if k, ok := nicSourceKey[att]; ok {
			x.Source = in.str(k + n)
			if x.Source == "" && att != "generic" && att != "cloudnetwork" {
				// A bridged/host-only adapter with no interface chosen
				// has no XML form; keep it as it is.
				c.Unmanaged[i] = true
				continue
			}
		}
		c.NICs = append(c.NICs, x)
	}
	if c.NICSlots == 0 {
		c.NICSlots = 8
	}
}

func readPorts(in *Info, c *vmConfig) {
	for i := 1; i <= 4; i++ {
		n := strconv.Itoa(i)
		io, irq, ok := parseIOIRQ(in.str("uart" + n))
		if !ok {
			continue
		}
		s := serial{isaPort: isaPort{Slot: i, IOBase: io, IRQ: irq}, Mode: "disconnected"}
		mode := in.str("uartmode" + n)
		kind, arg, hasArg := strings.Cut(mode, ",")
		switch {
		case mode == "disconnected" || mode == "":
		case hasArg && (kind == "file" || kind == "server" || kind == "client" || kind == "tcpserver" || kind == "tcpclient"):
			s.Mode, s.Path = kind, arg
		default:
			s.Mode, s.Path = "device", mode
		}
		if !serialRepresentable(s) {
			c.UnmanagedPorts["uart"+n] = true
			continue
		}
		c.Serials = append(c.Serials, s)
	}
	for i := 1; i <= 2; i++ {
		n := strconv.Itoa(i)
		io, irq, ok := parseIOIRQ(in.str("lpt" + n))
		if !ok {
			continue
		}
		p := parallel{isaPort: isaPort{Slot: i, IOBase: io, IRQ: irq}, Path: in.str("lptmode" + n)}
		if !strings.HasPrefix(p.Path, "/") || p.IRQ > 15 {
			c.UnmanagedPorts["lpt"+n] = true
			continue
		}
		c.Parallels = append(c.Parallels, p)
	}
}

// serialRepresentable reports whether a port's settings have an XML form:
// an absolute path for files, pipes and devices, a port number for TCP, an
// ISA IRQ.
func serialRepresentable(s serial) bool {
	if s.IRQ > 15 {
		return false
	}
	switch s.Mode {
	case "disconnected":
		return true
	case "tcpserver":
		_, err := strconv.ParseUint(s.Path, 10, 16)
		return err == nil
	case "tcpclient":
		host, port, ok := strings.Cut(s.Path, ":")
		_, err := strconv.ParseUint(port, 10, 16)
		return ok && host != "" && !strings.Contains(port, ":") && err == nil
	}
	return strings.HasPrefix(s.Path, "/")
}

// parseIOIRQ parses "0x03f8,4"; "off" and anything else is not a port.
func parseIOIRQ(v string) (io, irq uint, ok bool) {
	a, b, found := strings.Cut(v, ",")
	if !found {
		return 0, 0, false
	}
	x, err1 := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(a), "0x"), 16, 16)
	y, err2 := strconv.ParseUint(b, 10, 8)
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return uint(x), uint(y), true
}

// bootToLibvirt maps VirtualBox boot devices to <boot dev>.
var bootToLibvirt = map[string]string{"floppy": "fd", "dvd": "cdrom", "disk": "hd", "net": "network"}

// nicModels maps VirtualBox adapter types to <model type>; the XML side is
// the lower-case VirtualBox name, so every type round-trips.
var nicModels = []string{"Am79C970A", "Am79C973", "Am79C960", "82540EM", "82543GC", "82545EM", "virtio", "virtio_1.0", "NE1000", "NE2000", "WD8003", "WD8013", "3C503", "3C501"}

func nicModelFromLibvirt(m string) (string, bool) {
	for _, t := range nicModels {
		if strings.EqualFold(t, m) {
			return t, true
		}
	}
	return "", false
}

// nicModelAliases maps the NIC models other libvirt drivers write (QEMU's,
// which virt-install picks) to the VirtualBox adapter that is the same
// device or the nearest one with the same guest driver.
var nicModelAliases = map[string]string{
	"e1000":                   "82540EM",   // QEMU's e1000 is an Intel 82540EM
	"e1000e":                  "82545EM",   // no 82574L in VirtualBox: the newest Intel PRO/1000
	"pcnet":                   "Am79C970A", // QEMU's pcnet is a PCnet-PCI II
	"virtio-transitional":     "virtio",
	"virtio-non-transitional": "virtio",
}
