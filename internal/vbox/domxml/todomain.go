package domxml

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// ToDomain describes a machine as a libvirt domain. The result is
// deterministic: devices appear in VirtualBox's order (controllers in
// creation order, attachments by port and device, adapters and ports by
// slot). It fails only when info lacks what every accessible machine has.
func ToDomain(info Info, rt Runtime) (*libvirtxml.Domain, error) {
	c, err := fromInfo(&info)
	if err != nil {
		return nil, err
	}
	return render(c, rt), nil
}

// FormatXML formats dom as libvirt prints domain XML: indented by two
// spaces, with a trailing newline.
func FormatXML(dom *libvirtxml.Domain) (string, error) {
	if dom == nil {
		return "", errdefs.New(errdefs.ErrInternal, "no domain to format")
	}
	s, err := dom.Marshal()
	if err != nil {
		return "", errdefs.Wrap(errdefs.ErrInternal, err, "cannot format domain XML: "+err.Error())
	}
	s = emptyElement.ReplaceAllStringFunc(s, func(m string) string {
		g := emptyElement.FindStringSubmatch(m)
		if g[1] != g[3] {
			return m
		}
		return "<" + g[1] + g[2] + "/>"
	})
	s = doubleQuoted.ReplaceAllString(s, "$1='$2'")
	return libvirtEntities.Replace(s) + "\n", nil
}

// emptyElement matches an element with no content, which encoding/xml
// writes as <x></x>; libvirt writes <x/>.
var emptyElement = regexp.MustCompile(`<([A-Za-z_][-A-Za-z0-9_.:]*)((?:\s+[^<>]*?[^<>/])?)></([A-Za-z_][-A-Za-z0-9_.:]*)>`)

// doubleQuoted matches an attribute as encoding/xml writes it; libvirt
// quotes attributes with '. encoding/xml escapes every " and ' it writes in
// values and text (&#34; &#39;), so a raw " only ever delimits an attribute
// and the rewrite cannot split a value.
var doubleQuoted = regexp.MustCompile(`(\s[A-Za-z_][-A-Za-z0-9_.:]*)="([^"]*)"`)

// libvirtEntities spells the quote escapes as libvirt does.
var libvirtEntities = strings.NewReplacer("&#39;", "&apos;", "&#34;", "&quot;")

func uintp(v uint) *uint { return &v }

// render turns the model into a domain.
func render(c *vmConfig, rt Runtime) *libvirtxml.Domain {
	d := &libvirtxml.Domain{
		Type:        "vbox",
		Name:        c.Name,
		UUID:        c.UUID,
		Title:       c.Title,
		Description: c.Description,
		Memory:      &libvirtxml.DomainMemory{Value: c.MemoryMiB * 1024, Unit: "KiB"},
		CurrentMemory: &libvirtxml.DomainCurrentMemory{
			Value: (c.MemoryMiB - c.BalloonMiB) * 1024, Unit: "KiB"},
		VCPU:       &libvirtxml.DomainVCPU{Placement: "static", Value: c.CPUs},
		OS:         &libvirtxml.DomainOS{Type: &libvirtxml.DomainOSType{Arch: c.Arch, Type: "hvm"}},
		Clock:      &libvirtxml.DomainClock{Offset: "localtime"},
		OnPoweroff: "destroy",
		OnReboot:   "restart",
		OnCrash:    "preserve",
		Devices:    &libvirtxml.DomainDeviceList{},
	}
	if c.TripleFaultReset {
		d.OnCrash = "restart"
	}
	if c.Metadata != "" {
		d.Metadata = &libvirtxml.DomainMetadata{XML: indentMetadata(c.Metadata)}
	}
	if rt.Active {
		id := int(rt.ID)
		d.ID = &id
	}
	if c.Firmware == "efi" {
		d.OS.Firmware = "efi"
	}
	for _, b := range c.Boot {
		d.OS.BootDevices = append(d.OS.BootDevices, libvirtxml.DomainBootDevice{Dev: bootToLibvirt[b]})
	}
	if c.ACPI || c.IOAPIC || c.PAE {
		d.Features = &libvirtxml.DomainFeatureList{}
		if c.PAE {
			d.Features.PAE = &libvirtxml.DomainFeature{}
		}
		if c.ACPI {
			d.Features.ACPI = &libvirtxml.DomainFeature{}
		}
		if c.IOAPIC {
			d.Features.APIC = &libvirtxml.DomainFeatureAPIC{}
		}
	}
	if c.RTCUTC {
		d.Clock.Offset = "utc"
	}
	renderStorage(c, d.Devices)
	folders := c.Folders
	if rt.Active {
		// The live XML shows the transient folders too (attach-device
		// --live); the inactive one, which define reads, does not.
		folders = append(append([]folder(nil), folders...), c.Transient...)
	}
	for _, f := range folders {
		fs := libvirtxml.DomainFilesystem{
			Source: &libvirtxml.DomainFilesystemSource{Mount: &libvirtxml.DomainFilesystemSourceMount{Dir: f.Path}},
			Target: &libvirtxml.DomainFilesystemTarget{Dir: f.Name},
		}
		if f.ReadOnly {
			fs.ReadOnly = &libvirtxml.DomainFilesystemReadOnly{}
		}
		d.Devices.Filesystems = append(d.Devices.Filesystems, fs)
	}
	for _, n := range c.NICs {
		x := renderNIC(n)
		if rt.Active {
			x.Target = &libvirtxml.DomainInterfaceTarget{Dev: LiveNICName(n.Slot)}
		}
		d.Devices.Interfaces = append(d.Devices.Interfaces, x)
	}
	for _, s := range c.Serials {
		d.Devices.Serials = append(d.Devices.Serials, renderSerial(s))
	}
	for _, p := range c.Parallels {
		port := uint(p.Slot - 1)
		pd := libvirtxml.DomainParallel{
			Source: &libvirtxml.DomainChardevSource{Dev: &libvirtxml.DomainChardevSourceDev{Path: p.Path}},
			Target: &libvirtxml.DomainParallelTarget{Port: &port},
		}
		if std := parallelPorts[p.Slot-1]; p.IOBase != std[0] || p.IRQ != std[1] {
			pd.Address = isaAddress(p.IOBase, p.IRQ)
		}
		d.Devices.Parallels = append(d.Devices.Parallels, pd)
	}
	for _, in := range append(append([]input(nil), pointingInputs[c.Pointing]...), keyboardInputs[c.Keyboard]...) {
		d.Devices.Inputs = append(d.Devices.Inputs, libvirtxml.DomainInput{Type: in.Type, Bus: in.Bus})
	}
	renderGraphics(c, rt, d.Devices)
	if c.Audio.Enabled {
		d.Devices.Sounds = []libvirtxml.DomainSound{{Model: soundModel(c.Audio.Controller)}}
	}
	d.Devices.Videos = []libvirtxml.DomainVideo{renderVideo(c.Video)}
	for _, f := range c.Filters {
		if !f.representable() {
			continue
		}
		src := &libvirtxml.DomainHostdevSubsysUSBSource{}
		if f.Vendor != "" {
			src.Vendor = &libvirtxml.DomainHostDevProductVendorID{ID: "0x" + f.Vendor}
		}
		if f.Product != "" {
			src.Product = &libvirtxml.DomainHostDevProductVendorID{ID: "0x" + f.Product}
		}
		d.Devices.Hostdevs = append(d.Devices.Hostdevs, libvirtxml.DomainHostdev{
			Managed: "no", SubsysUSB: &libvirtxml.DomainHostdevSubsysUSB{Source: src}})
	}
	return d
}

// soundModel is the <sound model> of a VirtualBox audio controller. An
// unknown controller (showvminfo --machinereadable does not print it) is
// shown as ac97, VirtualBox's default; PlanDefine treats that guess as "no
// change" so the round trip stays empty.
func soundModel(ctl string) string {
	switch ctl {
	case "hda":
		return "ich6"
	case "sb16":
		return "sb16"
	}
	return "ac97"
}

// renderStorage emits controllers and disks.
func renderStorage(c *vmConfig, dev *libvirtxml.DomainDeviceList) {
	lvIndex := map[string]uint{}      // controller name → libvirt index
	next := map[string]uint{}         // libvirt type → next index
	kinds := map[string]storageKind{} // controller name → kind
	for _, ctl := range c.Controllers {
		if !ctl.Managed {
			continue
		}
		k, _ := kindByVBoxType(ctl.VBoxType)
		idx := next[k.LvType]
		next[k.LvType]++
		lvIndex[ctl.Name], kinds[ctl.Name] = idx, k
		dev.Controllers = append(dev.Controllers, libvirtxml.DomainController{Type: k.LvType, Index: uintp(idx), Model: k.LvModel})
	}
	sdCount := 0
	for _, dk := range c.Disks {
		k := kinds[dk.Controller]
		var target string
		addr := &libvirtxml.DomainAddressDrive{Controller: uintp(lvIndex[dk.Controller]), Target: uintp(0)}
		switch k.DiskBus {
		case "ide":
			target = "hd" + diskLetters(int(dk.Port*2+dk.Device))
			addr.Bus, addr.Unit = uintp(dk.Port), uintp(dk.Device)
		case "fdc":
			target = "fd" + diskLetters(int(dk.Device))
			addr.Bus, addr.Unit = uintp(0), uintp(dk.Device)
		default:
			target = "sd" + diskLetters(sdCount)
			sdCount++
			addr.Bus, addr.Unit = uintp(0), uintp(dk.Port)
		}
		x := libvirtxml.DomainDisk{
			Device:  dk.Kind,
			Target:  &libvirtxml.DomainDiskTarget{Dev: target, Bus: k.DiskBus},
			Address: &libvirtxml.DomainAddress{Drive: addr},
		}
		// A file source with no path prints type='file' and no <source>:
		// libvirt's form of an empty drive.
		x.Source = &libvirtxml.DomainDiskSource{File: &libvirtxml.DomainDiskSourceFile{File: dk.Source}}
		if dk.Kind == "cdrom" {
			x.ReadOnly = &libvirtxml.DomainDiskReadOnly{}
		}
		dev.Disks = append(dev.Disks, x)
	}
	if c.USB.OHCI || c.USB.EHCI || c.USB.XHCI {
		var i uint
		for _, m := range []struct {
			on    bool
			model string
		}{{c.USB.OHCI, "pci-ohci"}, {c.USB.EHCI, "ehci"}, {c.USB.XHCI, "nec-xhci"}} {
			if m.on {
				dev.Controllers = append(dev.Controllers, libvirtxml.DomainController{Type: "usb", Index: uintp(i), Model: m.model})
				i++
			}
		}
	} else {
		dev.Controllers = append(dev.Controllers, libvirtxml.DomainController{Type: "usb", Index: uintp(0), Model: "none"})
	}
}

// diskLetters names disk index i the way libvirt does: a..z, aa..zz, ...
func diskLetters(i int) string {
	s := ""
	for i >= 0 {
		s = string(rune('a'+i%26)) + s
		i = i/26 - 1
	}
	return s
}

// diskIndex is the inverse of diskLetters; ok is false for a bad suffix.
func diskIndex(s string) (int, bool) {
	if s == "" || len(s) > 3 {
		return 0, false
	}
	n := 0
	for _, r := range s {
		if r < 'a' || r > 'z' {
			return 0, false
		}
		n = n*26 + int(r-'a') + 1
	}
	return n - 1, true
}

func renderNIC(n nic) libvirtxml.DomainInterface {
	x := libvirtxml.DomainInterface{Source: &libvirtxml.DomainInterfaceSource{}}
	switch n.Attach {
	case "nat":
		x.Source.User = &libvirtxml.DomainInterfaceSourceUser{}
	case "bridged":
		x.Source.Bridge = &libvirtxml.DomainInterfaceSourceBridge{Bridge: n.Source}
	case "hostonly":
		x.Source.Network = &libvirtxml.DomainInterfaceSourceNetwork{Network: n.Source}
	case "intnet":
		x.Source.Internal = &libvirtxml.DomainInterfaceSourceInternal{Name: n.Source}
	case "null":
		x.Source.Null = &libvirtxml.DomainInterfaceSourceNull{}
	case "natnetwork":
		x.Source.Network = &libvirtxml.DomainInterfaceSourceNetwork{Network: n.Source}
	case "generic", "cloudnetwork":
		// No libvirt type: ethernet stands for "this adapter's own
		// attachment", which a define keeps.
		x.Source.Ethernet = &libvirtxml.DomainInterfaceSourceEthernet{}
	}
	if mac := formatMAC(n.MAC); mac != "" {
		x.MAC = &libvirtxml.DomainInterfaceMAC{Address: mac}
	}
	if _, known := nicModelFromLibvirt(n.Model); known {
		x.Model = &libvirtxml.DomainInterfaceModel{Type: strings.ToLower(n.Model)}
	}
	if !n.Cable {
		x.Link = &libvirtxml.DomainInterfaceLink{State: "down"}
	}
	x.Alias = &libvirtxml.DomainAlias{Name: fmt.Sprintf("ua-nic%d", n.Slot)}
	return x
}

// formatMAC turns "080027A1B2C3" into "08:00:27:a1:b2:c3"; anything that
// is not 12 hex digits gives "".
func formatMAC(m string) string {
	m = strings.ToLower(m)
	if len(m) != 12 {
		return ""
	}
	if _, err := strconv.ParseUint(m, 16, 64); err != nil {
		return ""
	}
	var b strings.Builder
	for i := 0; i < 12; i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(m[i : i+2])
	}
	return b.String()
}

func isaAddress(io, irq uint) *libvirtxml.DomainAddress {
	return &libvirtxml.DomainAddress{ISA: &libvirtxml.DomainAddressISA{IOBase: uintp(io), IRQ: uintp(irq)}}
}

func renderSerial(s serial) libvirtxml.DomainSerial {
	port := uint(s.Slot - 1)
	x := libvirtxml.DomainSerial{Source: &libvirtxml.DomainChardevSource{}, Target: &libvirtxml.DomainSerialTarget{Port: &port}}
	switch s.Mode {
	case "disconnected":
		x.Source.Null = &libvirtxml.DomainChardevSourceNull{}
	case "file":
		x.Source.File = &libvirtxml.DomainChardevSourceFile{Path: s.Path}
	case "server":
		x.Source.UNIX = &libvirtxml.DomainChardevSourceUNIX{Mode: "bind", Path: s.Path}
	case "client":
		x.Source.UNIX = &libvirtxml.DomainChardevSourceUNIX{Mode: "connect", Path: s.Path}
	case "tcpserver":
		x.Source.TCP = &libvirtxml.DomainChardevSourceTCP{Mode: "bind", Service: s.Path}
	case "tcpclient":
		host, port, _ := strings.Cut(s.Path, ":")
		x.Source.TCP = &libvirtxml.DomainChardevSourceTCP{Mode: "connect", Host: host, Service: port}
	default:
		x.Source.Dev = &libvirtxml.DomainChardevSourceDev{Path: s.Path}
	}
	if std := serialPorts[s.Slot-1]; s.IOBase != std[0] || s.IRQ != std[1] {
		x.Address = isaAddress(s.IOBase, s.IRQ)
	}
	return x
}

// singlePort returns the port when VRDE's TCP/Ports is one number.
func singlePort(ports string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(ports))
	if err != nil || n <= 0 || n > 65535 {
		return 0, false
	}
	return n, true
}

func renderGraphics(c *vmConfig, rt Runtime, dev *libvirtxml.DomainDeviceList) {
	if c.VRDE.Enabled {
		r := &libvirtxml.DomainGraphicRDP{}
		if p, ok := singlePort(c.VRDE.Ports); ok {
			r.Port = p
		} else {
			r.AutoPort = "yes"
			if rt.Active && c.VRDE.LivePort > 0 {
				r.Port = c.VRDE.LivePort
			}
		}
		if c.VRDE.Multi {
			r.MultiUser = "yes"
		}
		if c.VRDE.Reuse {
			r.ReplaceUser = "yes"
		}
		if c.VRDE.Address != "" {
			r.Listen = c.VRDE.Address
			r.Listeners = []libvirtxml.DomainGraphicListener{{Address: &libvirtxml.DomainGraphicListenerAddress{Address: c.VRDE.Address}}}
		}
		dev.Graphics = append(dev.Graphics, libvirtxml.DomainGraphic{RDP: r})
	}
	switch c.Frontend {
	case "gui", "separate":
		dev.Graphics = append(dev.Graphics, libvirtxml.DomainGraphic{Desktop: &libvirtxml.DomainGraphicDesktop{Display: c.Display}})
	case "sdl":
		dev.Graphics = append(dev.Graphics, libvirtxml.DomainGraphic{SDL: &libvirtxml.DomainGraphicSDL{Display: c.Display}})
	}
}

// videoModels maps VirtualBox graphics controllers to <video><model type>.
// VirtualBox's own adapters (VBoxVGA, VBoxSVGA) are "vbox"; VMware's SVGA is
// libvirt's "vmvga".
var videoModels = map[string]string{"vboxvga": "vbox", "vboxsvga": "vbox", "vmsvga": "vmvga", "none": "none"}

func renderVideo(v video) libvirtxml.DomainVideo {
	t, ok := videoModels[v.Controller]
	if !ok {
		t = "vbox"
	}
	m := libvirtxml.DomainVideoModel{Type: t}
	if t != "none" {
		m.VRam = v.VRAMMiB * 1024
		m.Heads = v.Monitors
		m.Primary = "yes"
		m.Accel = &libvirtxml.DomainVideoAccel{Accel3D: yesNo(v.Accel3D), Accel2D: yesNo(v.Accel2D)}
	}
	return libvirtxml.DomainVideo{Model: m}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
