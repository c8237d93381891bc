package vboxsim

import (
	"fmt"
	"strings"
)

// humanInfo renders the human showvminfo block (also used by list -l vms,
// with console false: the listing opens no session, so the sections that
// come from a running VM's console are not printed there).
func (s *Sim) humanInfo(vm *VM, console bool) string {
	var b strings.Builder
	p, hw := s.p, &vm.HW
	l := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "%-28s %s\n", label+":", fmt.Sprintf(format, args...))
	}
	fl := func(name string) string { return onOff(hw.Flags[name]) }
	running := console && isOnline(vm.State)

	l("Name", "%s", vm.Name)
	if p.Is70() {
		b.WriteString("Encryption:     disabled\n")
	} else if p.Is71() {
		l("Encryption", "disabled")
	}
	l("Groups", "%s", strings.Join(vm.Groups, ", "))
	if p.Is71() {
		l("Platform Architecture", "x86")
	}
	l("Guest OS", "%s", osDescription(hw.OSType))
	l("UUID", "%s", vm.UUID)
	l("Config file", "%s", vm.CfgFile)
	l("Snapshot folder", "%s", vm.SnapFolder)
	l("Log folder", "%s", vm.logFolder())
	l("Hardware UUID", "%s", vm.HardwareUUID)
	l("Memory size", "%dMB", hw.Memory)
	l("Page Fusion", "%s", fl("pagefusion"))
	l("VRAM size", "%dMB", hw.VRAM)
	l("CPU exec cap", "%d%%", hw.CPUExecCap)
	l("HPET", "%s", fl("hpet"))
	l("CPUProfile", "host")
	l("Chipset", "%s", hw.Chipset)
	l("Firmware", "%s", hw.Firmware)
	l("Number of CPUs", "%d", hw.CPUs)
	l("PAE", "%s", fl("pae"))
	l("Long Mode", "%s", fl("longmode"))
	l("Triple Fault Reset", "%s", fl("triplefaultreset"))
	l("APIC", "%s", fl("apic"))
	l("X2APIC", "%s", fl("x2apic"))
	l("Nested VT-x/AMD-V", "%s", fl("nested-hw-virt"))
	l("CPUID Portability Level", "0")
	l("CPUID overrides", "None")
	l("Boot menu mode", "%s", map[string]string{"disabled": "disabled", "menuonly": "menu only",
		"messageandmenu": "message and menu"}[hw.BootMenu])
	for i, d := range hw.Boot {
		dev := map[string]string{"none": "Not Assigned", "floppy": "Floppy", "dvd": "DVD", "disk": "HardDisk",
			"net": "Network", "usb": "USB", "sharedfolder": "SharedFolder"}[d]
		l(fmt.Sprintf("Boot Device %d", i+1), "%s", dev)
	}
	l("ACPI", "%s", fl("acpi"))
	l("IOAPIC", "%s", fl("ioapic"))
	l("BIOS APIC mode", "APIC")
	l("Time offset", "0ms")
	l("RTC", "%s", map[bool]string{true: "UTC", false: "local time"}[hw.Flags["rtcuseutc"]])
	l("Hardware Virtualization", "%s", fl("hwvirtex"))
	l("Nested Paging", "%s", fl("nestedpaging"))
	l("Large Pages", "%s", fl("largepages"))
	l("VT-x VPID", "%s", fl("vtxvpid"))
	l("VT-x Unrestricted Exec.", "%s", fl("vtxux"))
	if !p.Is61() {
		l("AMD-V Virt. Vmsave/Vmload", "%s", fl("virtvmsavevmload"))
		l("IOMMU", "None")
	}
	l("Paravirt. Provider", "%s", strings.ToUpper(hw.ParavirtProvider[:1])+hw.ParavirtProvider[1:])
	l("Effective Paravirt. Prov.", "%s", map[string]string{"kvm": "KVM", "hyperv": "HyperV", "none": "None",
		"minimal": "Minimal", "legacy": "Legacy"}[effParavirt(vm)])
	l("State", "%s (since %s)", stateHuman(vm.State), vboxTime(vm.StateChange))
	l("Graphics Controller", "%s", map[string]string{"vboxvga": "VBoxVGA", "vmsvga": "VMSVGA", "vboxsvga": "VBoxSVGA",
		"null": "Null"}[hw.GraphicsController])
	l("Monitor count", "%d", hw.MonitorCount)
	l("3D Acceleration", "%s", fl("accelerate3d"))
	l("2D Video Acceleration", "off")
	l("Teleporter Enabled", "off")
	l("Teleporter Port", "0")
	l("Teleporter Address", "")
	l("Teleporter Password", "")
	l("Tracing Enabled", "off")
	l("Allow Tracing to Access VM", "off")
	l("Tracing Configuration", "")
	l("Autostart Enabled", "%s", onOff(vm.AutostartOn))
	l("Autostart Delay", "%d", vm.AutostartDel)
	l("Default Frontend", "%s", hw.DefaultFrontend)
	l("VM process priority", "default")

	if p.Is61() {
		// 6.1 prints these with fixed, wider padding (VBoxManageInfo.cpp).
		for i, c := range hw.Controllers {
			maxPorts, _ := controllerLimits(c.Bus)
			fmt.Fprintf(&b, "Storage Controller Name (%d):            %s\n", i, c.Name)
			fmt.Fprintf(&b, "Storage Controller Type (%d):            %s\n", i, s.controllerTypeName(c.Type))
			fmt.Fprintf(&b, "Storage Controller Instance Number (%d): 0\n", i)
			fmt.Fprintf(&b, "Storage Controller Max Port Count (%d):  %d\n", i, maxPorts)
			fmt.Fprintf(&b, "Storage Controller Port Count (%d):      %d\n", i, c.PortCount)
			fmt.Fprintf(&b, "Storage Controller Bootable (%d):        %s\n", i, onOff(c.Bootable))
		}
		for _, c := range hw.Controllers {
			for _, a := range hw.Attachments {
				if a.Controller != c.Name {
					continue
				}
				if m := s.mediumByUUID(a.Medium); m != nil {
					fmt.Fprintf(&b, "%s (%d, %d): %s (UUID: %s)\n", c.Name, a.Port, a.Device, m.Location, m.UUID)
				} else {
					fmt.Fprintf(&b, "%s (%d, %d): Empty\n", c.Name, a.Port, a.Device)
				}
			}
		}
	} else {
		if len(hw.Controllers) == 0 {
			l("Storage Controllers", "<none>")
		} else {
			b.WriteString("Storage Controllers:\n")
		}
		for i, c := range hw.Controllers {
			maxPorts, _ := controllerLimits(c.Bus)
			boot := ", Not bootable"
			if c.Bootable {
				boot = ", Bootable"
			}
			fmt.Fprintf(&b, "#%d: '%s', Type: %s, Instance: 0, Ports: %d (max %d)%s\n", i, c.Name, c.Type, c.PortCount, maxPorts, boot)
			for _, a := range hw.Attachments {
				if a.Controller != c.Name {
					continue
				}
				flag := func(on bool, text string) string {
					if on {
						return text
					}
					return ""
				}
				if m := s.mediumByUUID(a.Medium); m != nil {
					fmt.Fprintf(&b, "  Port %d, Unit %d: UUID: %s%s%s%s%s%s\n    Location: \"%s\"\n", a.Port, a.Device, m.UUID,
						flag(a.Passthrough, ", passthrough enabled"), flag(a.TempEject, ", temp eject"), flag(a.HotPluggable, ", hot-pluggable"),
						flag(a.NonRotational, ", non-rotational (SSD)"), flag(a.Discard, ", discards unused blocks"), m.Location)
				} else {
					fmt.Fprintf(&b, "  Port %d, Unit %d: Empty%s\n", a.Port, a.Device, flag(a.TempEject, ", temp eject"))
				}
			}
		}
	}
	for i, n := range hw.NICs {
		label := fmt.Sprintf("NIC %d", i+1)
		if n.Attach == "none" || n.Attach == "" {
			l(label, "disabled")
			continue
		}
		att := map[string]string{"null": "none", "nat": "NAT", "bridged": fmt.Sprintf("Bridged Interface '%s'", n.Bridge),
			"hostonly": fmt.Sprintf("Host-only Interface '%s'", n.HostOnly), "intnet": fmt.Sprintf("Internal Network '%s'", n.IntNet),
			"generic": fmt.Sprintf("Generic '%s' {  }", n.Generic), "natnetwork": fmt.Sprintf("NAT Network '%s'", n.NATNetwork)}[n.Attach]
		l(label, "MAC: %s, Attachment: %s, Cable connected: %s, Trace: off (file: none), Type: %s, Reported speed: 0 Mbps, Boot priority: 0, Promisc Policy: deny, Bandwidth group: none",
			n.MAC, att, onOff(n.Cable), n.Type)
		if n.Attach == "nat" {
			fmt.Fprintf(&b, "NIC %d Settings:  MTU: 0, Socket (send: 64, receive: 64), TCP Window (send:64, receive: 64)\n", i+1)
		}
		for j, r := range n.Forwarding {
			f := strings.Split(r, ",")
			if len(f) == 6 {
				fmt.Fprintf(&b, "NIC %d Rule(%d):   name = %s, protocol = %s, host ip = %s, host port = %s, guest ip = %s, guest port = %s\n",
					i+1, j, f[0], f[1], f[2], f[3], f[4], f[5])
			}
		}
	}
	l("Pointing Device", "%s", map[string]string{"ps2mouse": "PS/2 Mouse", "usbtablet": "USB Tablet", "usbmouse": "USB Mouse",
		"none": "None", "combomouse": "USB Tablet and PS/2 Mouse", "usbmultitouch": "USB Multi-Touch"}[hw.HIDPointing])
	l("Keyboard Device", "%s", map[string]string{"ps2kbd": "PS/2 Keyboard", "usbkbd": "USB Keyboard", "none": "None",
		"combokbd": "USB and PS/2 Keyboard"}[hw.HIDKeyboard])
	for i, u := range hw.UARTs {
		if u.Enabled {
			l(fmt.Sprintf("UART %d", i+1), "I/O base: %s, IRQ: %d, %s, %s", u.IOBase, u.IRQ, uartModeHuman(u.Mode), u.Type)
		} else {
			l(fmt.Sprintf("UART %d", i+1), "disabled")
		}
	}
	for i, lp := range hw.LPTs {
		if lp.Enabled {
			l(fmt.Sprintf("LPT %d", i+1), "I/O base: %s, IRQ: %d, attached to device '%s'", lp.IOBase, lp.IRQ, lp.Path)
		} else {
			l(fmt.Sprintf("LPT %d", i+1), "disabled")
		}
	}
	if hw.Audio.Enabled {
		l("Audio", "enabled (Driver: %s, Controller: %s, Codec: %s)", audioDriverHuman(hw.Audio.Driver), hw.Audio.Controller, hw.Audio.Codec)
	} else {
		l("Audio", "disabled")
	}
	l("Audio playback", "%s", enabledDisabled(hw.Audio.Out))
	l("Audio capture", "%s", enabledDisabled(hw.Audio.In))
	l("Clipboard Mode", "%s", map[string]string{"disabled": "disabled", "hosttoguest": "HostToGuest",
		"guesttohost": "GuestToHost", "bidirectional": "Bidirectional"}[hw.Clipboard])
	l("Drag and drop Mode", "%s", map[string]string{"disabled": "disabled", "hosttoguest": "HostToGuest",
		"guesttohost": "GuestToHost", "bidirectional": "Bidirectional"}[hw.DragAndDrop])
	if isOnline(vm.State) && vm.SessionType != "" {
		// The session name comes from the machine; the video mode from the console.
		l("Session name", "%s", vm.SessionType)
	}
	if running {
		l("Video mode", "1024x768x32 at 0,0 enabled")
	}
	if hw.VRDE.Enabled {
		addr := hw.VRDE.Address
		if addr == "" {
			addr = "0.0.0.0"
		}
		l("VRDE", "enabled (Address %s, Ports %s, MultiConn: %s, ReuseSingleConn: %s, Authentication type: %s)",
			addr, hw.VRDE.Ports, onOff(hw.VRDE.MultiCon), onOff(hw.VRDE.ReuseCon), hw.VRDE.AuthType)
		var port int
		if running {
			fmt.Sscanf(hw.VRDE.Ports, "%d", &port)
		}
		if port > 0 {
			l("VRDE port", "%d", port)
		}
		l("Video redirection", "disabled")
		for _, prop := range vrdeProperties {
			switch {
			case prop == "TCP/Ports":
				fmt.Fprintf(&b, "%-28s: %-10s = \"%s\"\n", "VRDE property", prop, hw.VRDE.Ports)
			case prop == "TCP/Address" && hw.VRDE.Address != "":
				fmt.Fprintf(&b, "%-28s: %-10s = \"%s\"\n", "VRDE property", prop, hw.VRDE.Address)
			default:
				fmt.Fprintf(&b, "%-28s: %-10s = <not set>\n", "VRDE property", prop)
			}
		}
	} else {
		l("VRDE", "disabled")
	}
	l("OHCI USB", "%s", enabledDisabled(hw.USB.OHCI))
	l("EHCI USB", "%s", enabledDisabled(hw.USB.EHCI))
	l("xHCI USB", "%s", enabledDisabled(hw.USB.XHCI))
	if p.Is61() {
		s.humanTail61(&b, vm, console)
	} else {
		s.humanTail7x(&b, vm, console)
	}
	return b.String()
}

// humanTail61 prints the sections after the USB controllers the way
// VirtualBox 6.1's VBoxManageInfo.cpp does: filters at column 0 with padded
// labels and a blank line after each, "Shared folders:" followed directly
// by "<none>" or a blank line, the guest section, then the snapshot tree.
// console is true where showvminfo has the running VM's console (never in
// list -l vms, which passes no session).
func (s *Sim) humanTail61(b *strings.Builder, vm *VM, console bool) {
	hw := &vm.HW
	l := func(label, format string, args ...any) {
		fmt.Fprintf(b, "%-28s %s\n", label+":", fmt.Sprintf(format, args...))
	}
	b.WriteString("\nUSB Device Filters:\n\n")
	if len(hw.USBFilters) == 0 {
		b.WriteString("<none>\n\n")
	}
	for i, f := range hw.USBFilters {
		usbFilterLines(l, i, f, "")
		b.WriteString("\n")
	}
	if console {
		b.WriteString("Available remote USB devices:\n\n<none>\n\n")
		b.WriteString("Currently Attached USB Devices:\n\n<none>\n\n")
	}
	b.WriteString("Bandwidth groups:  <none>\n\n")
	b.WriteString("Shared folders:")
	s.humanSharedFolders(b, vm, console)
	b.WriteString("\n")
	if console {
		l("VRDE Connection", "not active")
		l("Clients so far", "0")
		b.WriteString("\n")
	}
	l("Capturing", "not active")
	l("Capture audio", "not active")
	l("Capture screens", "0")
	l("Capture file", "%s", strings.TrimSuffix(vm.CfgFile, ".vbox")+".webm")
	l("Capture dimensions", "1024x768")
	l("Capture rate", "512kbps")
	l("Capture FPS", "25kbps")
	l("Capture options", "vc_enabled=true,ac_enabled=false,ac_profile=med")
	b.WriteString("\n")
	if vm.Description != "" {
		b.WriteString("Description:\n" + vm.Description + "\n")
	}
	b.WriteString("Guest:\n\n")
	l("Configured memory balloon size", "%dMB", hw.Balloon)
	if console {
		l("OS type", "%s", hw.OSType)
		if ga := vm.ExtraData["vboxsim/GuestAdditions"]; ga != "" {
			l("Additions run level", "2")
			l("Additions version", "%s", ga)
		} else {
			l("Additions run level", "0")
		}
		b.WriteString("\nGuest Facilities:\n\nNo active facilities.\n")
	}
	b.WriteString("\n")
	if vm.Snapshot != nil {
		b.WriteString("Snapshots:\n\n")
		s.humanSnapshots(b, vm)
	}
	b.WriteString("\n")
}

// humanTail7x prints the same sections as VirtualBox 7.0 and 7.1 do:
// filters as "Index:" plus labels indented by two spaces, one-line
// "<none>" forms padded like other labels, the recording block, the
// description, "* Snapshots:" before "* Guest:", and one blank line at the
// end of the block.
func (s *Sim) humanTail7x(b *strings.Builder, vm *VM, console bool) {
	hw := &vm.HW
	l := func(label, format string, args ...any) {
		fmt.Fprintf(b, "%-28s %s\n", label+":", fmt.Sprintf(format, args...))
	}
	if len(hw.USBFilters) == 0 {
		l("USB Device Filters", "<none>")
	} else {
		b.WriteString("USB Device Filters:\n")
	}
	for i, f := range hw.USBFilters {
		usbFilterLines(l, i, f, "  ")
	}
	if console {
		l("Available remote USB devices", "<none>")
		l("Currently attached USB devices", "<none>")
	}
	fmt.Fprintf(b, "%-28s <none>\n", "Bandwidth groups:")
	fmt.Fprintf(b, "%-28s ", "Shared folders:")
	s.humanSharedFolders(b, vm, console)
	if console {
		l("VRDE Connection", "not active")
		l("Clients so far", "0")
	}
	if s.p.Is71() {
		l("Recording status", "stopped")
	}
	l("Recording enabled", "no")
	l("Recording screens", "1")
	b.WriteString(" Screen 0:\n")
	l("    Enabled", "yes")
	l("    ID", "0")
	l("    Record video", "yes")
	l("    Record audio", "no")
	l("    Destination", "File")
	l("    File", "%s", strings.TrimSuffix(vm.CfgFile, ".vbox")+"-screen0.webm")
	l("    Options", "vc_enabled=true,ac_enabled=false,ac_profile=med")
	l("    Video dimensions", "1024x768")
	l("    Video rate", "512kbps")
	l("    Video FPS", "25fps")
	if vm.Description != "" {
		b.WriteString("Description:\n" + vm.Description + "\n")
	}
	if vm.Snapshot != nil {
		b.WriteString("* Snapshots:\n")
		s.humanSnapshots(b, vm)
	}
	b.WriteString("* Guest:\n")
	l("Configured memory balloon", "%dMB", hw.Balloon)
	if console {
		l("OS type", "%s", hw.OSType)
		if ga := vm.ExtraData["vboxsim/GuestAdditions"]; ga != "" {
			l("Additions run level", "2")
			l("Additions version", "%s", ga)
		} else {
			l("Additions run level", "0")
		}
		l("Guest Facilities", "<none>")
	}
	b.WriteString("\n")
}

// humanSharedFolders prints what follows the "Shared folders:" label:
// "<none>" or a blank line and one line per folder (machine mappings, then
// transient ones where a console exists), then the section's end.
func (s *Sim) humanSharedFolders(b *strings.Builder, vm *VM, console bool) {
	n := 0
	for _, transient := range []bool{false, true} {
		if transient && !console {
			continue
		}
		for _, f := range vm.HW.SharedFolders {
			if f.Transient != transient {
				continue
			}
			if n == 0 {
				b.WriteString("\n\n")
			}
			n++
			kind := "machine mapping"
			if f.Transient {
				kind = "transient mapping"
			}
			ro := "writable"
			if f.ReadOnly {
				ro = "readonly"
			}
			auto := ""
			if f.AutoMount {
				auto = ", auto-mount"
			}
			fmt.Fprintf(b, "Name: '%s', Host path: '%s' (%s), %s%s\n", f.Name, f.Path, kind, ro, auto)
		}
	}
	if n == 0 {
		b.WriteString("<none>\n")
	} else if !s.p.Is61() {
		b.WriteString("\n")
	}
}

// humanSnapshots prints the snapshot tree as showSnapshots does: three
// spaces per level, " *" after the current one; a description follows on
// its own line(s) at column 0 in 6.1, and in 7.x when it has a newline
// (a one-line description stays on the "Description:" line).
func (s *Sim) humanSnapshots(b *strings.Builder, vm *VM) {
	var walk func(sn *Snapshot, prefix string)
	walk = func(sn *Snapshot, prefix string) {
		cur := ""
		if sn.UUID == vm.CurrentSnap {
			cur = " *"
		}
		fmt.Fprintf(b, "   %sName: %s (UUID: %s)%s\n", prefix, sn.Name, sn.UUID, cur)
		switch {
		case sn.Description == "":
		case !s.p.Is61() && !strings.Contains(sn.Description, "\n"):
			fmt.Fprintf(b, "   %sDescription: %s\n", prefix, sn.Description)
		default:
			fmt.Fprintf(b, "   %sDescription:\n%s\n", prefix, sn.Description)
		}
		for _, c := range sn.Children {
			walk(c, prefix+"   ")
		}
	}
	walk(vm.Snapshot, "")
}

func yesNoLower(v bool) string {
	if v {
		return "yes"
	}
	return "no"
}

// inaccessibleHuman is the human block of a machine whose settings cannot be
// read (fixed-width labels in the source); the access error goes to stderr.
func (s *Sim) inaccessibleHuman(vm *VM) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Name:            <inaccessible!>\nUUID:            %s\nConfig file:     %s\n", vm.UUID, vm.CfgFile)
	if !s.p.Is61() {
		b.WriteString("Encryption:     disabled\n")
	}
	b.WriteString("Access error details:\n")
	fmt.Fprintf(s.stderr, "VBoxManage: error: Runtime error opening '%s' for reading: -102 (File not found.).\n", vm.CfgFile)
	fmt.Fprint(s.stderr, "VBoxManage: error: Details: code NS_ERROR_FAILURE (0x80004005), component MachineWrap, interface IMachine\n")
	b.WriteString("\n")
	return b.String()
}

func uartModeHuman(mode string) string {
	kind, arg, _ := strings.Cut(mode, ",")
	switch kind {
	case "", "disconnected":
		return "disconnected"
	case "server":
		return fmt.Sprintf("attached to pipe (server) '%s'", arg)
	case "client":
		return fmt.Sprintf("attached to pipe (client) '%s'", arg)
	case "tcpserver":
		return fmt.Sprintf("attached to tcp (server) '%s'", arg)
	case "tcpclient":
		return fmt.Sprintf("attached to tcp (client) '%s'", arg)
	case "file":
		return fmt.Sprintf("attached to raw file '%s'", arg)
	}
	return fmt.Sprintf("attached to device '%s'", mode)
}

func audioDriverHuman(d string) string {
	switch d {
	case "pulse":
		return "PulseAudio"
	case "alsa":
		return "ALSA"
	case "oss":
		return "OSS"
	case "null":
		return "Null"
	case "default":
		return "Default"
	case "coreaudio":
		return "CoreAudio"
	case "dsound":
		return "DSOUND" // 7.x: DirectSound
	case "was":
		return "Windows Audio Session (WAS)"
	}
	return d
}

// usbFilterLines prints one USB device filter of the human format: its
// Index line, then its fields with their labels indented by indent (none in
// 6.1, two spaces in 7.x).
func usbFilterLines(l func(label, format string, args ...any), i int, f USBFilter, indent string) {
	l("Index", "%d", i)
	for _, kv := range [][2]string{{"Active", yesNoLower(f.Active)}, {"Name", f.Name}, {"VendorId", f.VendorID},
		{"ProductId", f.ProductID}, {"Revision", f.Revision}, {"Manufacturer", f.Manufacturer}, {"Product", f.Product},
		{"Remote", f.Remote}, {"Serial Number", f.Serial}} {
		l(indent+kv[0], "%s", kv[1])
	}
}
