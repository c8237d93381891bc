package vboxsim

import (
	"fmt"
	"strings"
)

// humanInfo renders the human showvminfo block (also used by list -l vms).
func (s *Sim) humanInfo(vm *VM) string {
	var b strings.Builder
	p, hw := s.p, &vm.HW
	l := func(label, format string, args ...any) {
		fmt.Fprintf(&b, "%-28s %s\n", label+":", fmt.Sprintf(format, args...))
	}
	fl := func(name string) string { return onOff(hw.Flags[name]) }
	running := isOnline(vm.State)

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
	if running {
		l("Session name", "%s", vm.SessionType)
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
	} else {
		l("VRDE", "disabled")
	}
	l("OHCI USB", "%s", enabledDisabled(hw.USB.OHCI))
	l("EHCI USB", "%s", enabledDisabled(hw.USB.EHCI))
	l("xHCI USB", "%s", enabledDisabled(hw.USB.XHCI))
	b.WriteString("\nUSB Device Filters:\n\n")
	if len(hw.USBFilters) == 0 {
		b.WriteString("<none>\n\n")
	}
	for i, f := range hw.USBFilters {
		l("Index", "%d", i)
		l("Active", "%s", map[bool]string{true: "yes", false: "no"}[f.Active])
		l("Name", "%s", f.Name)
		l("VendorId", "%s", f.VendorID)
		l("ProductId", "%s", f.ProductID)
		l("Revision", "%s", f.Revision)
		l("Manufacturer", "%s", f.Manufacturer)
		l("Product", "%s", f.Product)
		l("Remote", "%s", f.Remote)
		l("Serial Number", "%s", f.Serial)
		b.WriteString("\n")
	}
	if p.Is61() {
		b.WriteString("Bandwidth groups:  <none>\n\n")
	}
	if len(hw.SharedFolders) == 0 {
		b.WriteString("Shared folders:<none>\n\n")
	} else {
		b.WriteString("Shared folders:\n\n")
		for _, f := range hw.SharedFolders {
			kind := "machine mapping"
			if f.Transient {
				kind = "transient mapping"
			}
			ro := "writable"
			if f.ReadOnly {
				ro = "readonly"
			}
			fmt.Fprintf(&b, "Name: '%s', Host path: '%s' (%s), %s\n", f.Name, f.Path, kind, ro)
		}
		b.WriteString("\n")
	}
	if running {
		l("VRDE Connection", "not active")
		l("Clients so far", "0")
		b.WriteString("\n")
	}
	if p.Is61() {
		l("Capturing", "not active")
		l("Capture audio", "not active")
		l("Capture screens", "0")
		l("Capture file", "%s", strings.TrimSuffix(vm.CfgFile, ".vbox")+".webm")
		l("Capture dimensions", "1024x768")
		l("Capture rate", "512kbps")
		l("Capture FPS", "25kbps")
		l("Capture options", "vc_enabled=true,ac_enabled=false,ac_profile=med")
		b.WriteString("\n")
	}
	if vm.Description != "" {
		b.WriteString("Description:\n" + vm.Description + "\n")
	}
	guestHdr, snapHdr := "Guest:", "Snapshots:"
	if !p.Is61() {
		guestHdr, snapHdr = "* Guest:", "* Snapshots:"
	}
	b.WriteString(guestHdr + "\n\n")
	l("Configured memory balloon size", "%dMB", hw.Balloon)
	if running {
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
		b.WriteString(snapHdr + "\n\n")
		var walk func(sn *Snapshot, indent string)
		walk = func(sn *Snapshot, indent string) {
			cur := ""
			if sn.UUID == vm.CurrentSnap {
				cur = " *"
			}
			fmt.Fprintf(&b, "%sName: %s (UUID: %s)%s\n", indent, sn.Name, sn.UUID, cur)
			if sn.Description != "" {
				fmt.Fprintf(&b, "%sDescription: %s\n", indent, sn.Description)
			}
			for _, c := range sn.Children {
				walk(c, indent+"   ")
			}
		}
		walk(vm.Snapshot, "   ")
		b.WriteString("\n")
	}
	return b.String()
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
