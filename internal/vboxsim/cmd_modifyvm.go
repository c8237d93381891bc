package vboxsim

import (
	"fmt"
	"strconv"
	"strings"
)

// modifyOpt is one modifyvm option: its spellings (6.1 first; hyphenated 7.x
// spellings are only known to 7.x), whether it is NIC/slot-indexed, and how it
// applies. apply returns a non-zero exit code after printing an error.
type modifyOpt struct {
	names   []string // 6.1 and 7.x spellings
	names7  []string // 7.x-only spellings
	indexed bool
	// more returns how many further argv elements the option takes after
	// its first value (--uart1 0x3f8 4, --uartmode1 server /pipe); apply
	// then gets them joined with commas.
	more  func(first string) int
	apply func(s *Sim, vm *VM, idx int, val string) int
}

// boolOpt parses opt's on/off value and hands it to set.
func boolOpt(opt string, set func(*VM, bool)) func(*Sim, *VM, int, string) int {
	return func(s *Sim, vm *VM, _ int, val string) int {
		b, ok := parseBool(val)
		if !ok {
			return s.fail("Invalid %s argument '%s'", opt, val)
		}
		set(vm, b)
		return 0
	}
}

// boolFlag is the on/off option --name for the hardware flag name.
func boolFlag(name string) func(*Sim, *VM, int, string) int {
	return boolOpt("--"+name, func(vm *VM, b bool) { vm.HW.Flags[name] = b })
}

func intRange(opt string, lo, hi int, set func(*VM, int), apiMsg func(int) (string, string)) func(*Sim, *VM, int, string) int {
	return func(s *Sim, vm *VM, _ int, val string) int {
		n, err := strconv.Atoi(val)
		if err != nil {
			return s.fail("Invalid %s argument '%s'", opt, val)
		}
		if n < lo || n > hi {
			msg, ctx := apiMsg(n)
			return s.api(apiError{Msg: msg, Code: "E_INVALIDARG", Component: "MachineWrap", Interface: "IMachine",
				Context: ctx, Line: 600, File: "VBoxManageModifyVM.cpp"})
		}
		set(vm, n)
		return 0
	}
}

func enumOpt(opt string, values map[string]string, set func(*VM, string)) func(*Sim, *VM, int, string) int {
	return func(s *Sim, vm *VM, _ int, val string) int {
		v, ok := values[strings.ToLower(val)]
		if !ok {
			return s.fail("Invalid %s argument '%s'", opt, val)
		}
		set(vm, v)
		return 0
	}
}

// nicOpt is an indexed NIC option: apply gets the NIC --<option>N names.
func nicOpt(apply func(s *Sim, n *NIC, idx int, v string) int) func(*Sim, *VM, int, string) int {
	return func(s *Sim, vm *VM, idx int, v string) int {
		n, code := nicIndex(s, vm, idx)
		if n == nil {
			return code
		}
		return apply(s, n, idx, v)
	}
}

// uartOpt is an indexed serial port option: apply gets the port --<option>N
// names (1..4).
func uartOpt(apply func(s *Sim, u *UART, idx int, v string) int) func(*Sim, *VM, int, string) int {
	return func(s *Sim, vm *VM, idx int, v string) int {
		if idx < 1 || idx > 4 {
			return s.fail("Invalid UART number %d", idx)
		}
		return apply(s, &vm.HW.UARTs[idx-1], idx, v)
	}
}

// lptOpt is an indexed parallel port option: apply gets the port --<option>N
// names (1..2).
func lptOpt(apply func(s *Sim, l *LPT, idx int, v string) int) func(*Sim, *VM, int, string) int {
	return func(s *Sim, vm *VM, idx int, v string) int {
		if idx < 1 || idx > 2 {
			return s.fail("Invalid LPT number %d", idx)
		}
		return apply(s, &vm.HW.LPTs[idx-1], idx, v)
	}
}

// nicIndex returns NIC idx (1-based), adding slots up to it, or prints why
// there is no such NIC.
func nicIndex(s *Sim, vm *VM, idx int) (*NIC, int) {
	maxNICs := 8
	if vm.HW.Chipset == "ich9" {
		maxNICs = 36
	}
	if idx < 1 || idx > maxNICs {
		return nil, s.fail("Invalid NIC number %d", idx)
	}
	for len(vm.HW.NICs) < idx {
		vm.HW.NICs = append(vm.HW.NICs, NIC{Attach: "none", Type: vm.HW.NICs[0].Type, MAC: s.newMAC(), Cable: true})
	}
	return &vm.HW.NICs[idx-1], 0
}

var nicTypes = map[string]string{"am79c970a": "Am79C970A", "am79c973": "Am79C973", "am79c960": "Am79C960",
	"82540em": "82540EM", "82543gc": "82543GC", "82545em": "82545EM", "virtio": "virtio"}

var modifyOpts = []modifyOpt{
	{names: []string{"--name"}, apply: func(s *Sim, vm *VM, _ int, v string) int {
		reg, _ := s.st.Registry()
		return s.renameVM(reg, vm, v)
	}},
	{names: []string{"--groups"}, apply: func(s *Sim, vm *VM, _ int, v string) int {
		vm.Groups = strings.Split(v, ",")
		return 0
	}},
	{names: []string{"--description"}, apply: func(s *Sim, vm *VM, _ int, v string) int { vm.Description = v; return 0 }},
	{names: []string{"--ostype"}, names7: []string{"--os-type"}, apply: func(s *Sim, vm *VM, _ int, v string) int {
		o, ok := findOSType(v)
		if !ok {
			s.api(apiError{Msg: fmt.Sprintf("'%s' is not a valid Guest OS type", v), Code: "E_INVALIDARG",
				Component: "VirtualBoxWrap", Interface: "IVirtualBox", Context: "GetGuestOSType(Bstr(ValueUnion.psz).raw(), guestOSType.asOutParam())",
				Line: 760, File: "VBoxManageModifyVM.cpp"})
			return s.fail("Invalid guest OS type '%s'", v)
		}
		vm.HW.OSType = o.ID
		return 0
	}},
	{names: []string{"--memory"}, apply: intRange("--memory", 4, 2097152, func(vm *VM, n int) { vm.HW.Memory = n },
		func(n int) (string, string) {
			return fmt.Sprintf("Invalid RAM size: %d MB (must be in range [4, 2097152] MB)", n), "COMSETTER(MemorySize)(ValueUnion.u32)"
		})},
	{names: []string{"--guestmemoryballoon"}, names7: []string{"--guest-memory-balloon"}, apply: intRange("--guestmemoryballoon", 0, 2097152, func(vm *VM, n int) { vm.HW.Balloon = n },
		func(n int) (string, string) {
			return fmt.Sprintf("Invalid memory balloon size: %d MB (must be in range [0, 2097152] MB)", n), "COMSETTER(MemoryBalloonSize)(ValueUnion.u32)"
		})},
	{names: []string{"--vram"}, apply: intRange("--vram", 0, 256, func(vm *VM, n int) { vm.HW.VRAM = n },
		func(n int) (string, string) {
			return fmt.Sprintf("Invalid VRAM size: %d MB (must be in range [0, 256] MB)", n), "COMSETTER(VRAMSize)(ValueUnion.u32)"
		})},
	{names: []string{"--cpus"}, apply: intRange("--cpus", 1, 64, func(vm *VM, n int) { vm.HW.CPUs = n },
		func(n int) (string, string) {
			return fmt.Sprintf("Invalid virtual CPU count: %d (must be in range [1, 64])", n), "COMSETTER(CPUCount)(ValueUnion.u32)"
		})},
	{names: []string{"--cpuexecutioncap"}, names7: []string{"--cpu-execution-cap"}, apply: intRange("--cpuexecutioncap", 1, 100,
		func(vm *VM, n int) { vm.HW.CPUExecCap = n },
		func(n int) (string, string) {
			return fmt.Sprintf("Invalid CPU execution cap value: %d (must be in range [1, 100])", n), "COMSETTER(CPUExecutionCap)(ValueUnion.u32)"
		})},
	{names: []string{"--pagefusion"}, names7: []string{"--page-fusion"}, apply: boolFlag("pagefusion")},
	{names: []string{"--acpi"}, apply: boolFlag("acpi")},
	{names: []string{"--ioapic"}, apply: boolFlag("ioapic")},
	{names: []string{"--pae"}, apply: boolFlag("pae")},
	{names: []string{"--longmode"}, names7: []string{"--long-mode"}, apply: boolFlag("longmode")},
	{names: []string{"--hpet"}, apply: boolFlag("hpet")},
	{names: []string{"--hwvirtex"}, apply: boolFlag("hwvirtex")},
	{names: []string{"--nestedpaging"}, names7: []string{"--nested-paging"}, apply: boolFlag("nestedpaging")},
	{names: []string{"--largepages"}, names7: []string{"--large-pages"}, apply: boolFlag("largepages")},
	{names: []string{"--vtxvpid"}, names7: []string{"--vtx-vpid"}, apply: boolFlag("vtxvpid")},
	{names: []string{"--vtxux"}, names7: []string{"--vtx-ux"}, apply: boolFlag("vtxux")},
	{names: []string{"--x2apic"}, apply: boolFlag("x2apic")},
	{names: []string{"--apic"}, apply: boolFlag("apic")},
	{names: []string{"--nested-hw-virt"}, apply: boolFlag("nested-hw-virt")},
	{names: []string{"--triplefaultreset"}, names7: []string{"--triple-fault-reset"}, apply: boolFlag("triplefaultreset")},
	{names: []string{"--rtcuseutc"}, names7: []string{"--rtc-use-utc"}, apply: boolFlag("rtcuseutc")},
	{names: []string{"--accelerate3d"}, names7: []string{"--accelerate-3d"}, apply: boolFlag("accelerate3d")},
	{names: []string{"--cpuhotplug"}, names7: []string{"--cpu-hotplug"}, apply: boolFlag("cpuhotplug")},
	{names: []string{"--bioslogofadein"}, names7: []string{"--bios-logo-fade-in"}, apply: boolFlag("bioslogofadein")},
	{names: []string{"--bioslogofadeout"}, names7: []string{"--bios-logo-fade-out"}, apply: boolFlag("bioslogofadeout")},
	{names: []string{"--bioslogodisplaytime"}, names7: []string{"--bios-logo-display-time"}, apply: func(s *Sim, vm *VM, _ int, v string) int {
		if _, err := strconv.Atoi(v); err != nil {
			return s.fail("Invalid --bioslogodisplaytime argument '%s'", v)
		}
		return 0
	}},
	{names: []string{"--biosbootmenu"}, names7: []string{"--bios-boot-menu"}, apply: enumOpt("--biosbootmenu",
		map[string]string{"disabled": "disabled", "menuonly": "menuonly", "messageandmenu": "messageandmenu"},
		func(vm *VM, v string) { vm.HW.BootMenu = v })},
	{names: []string{"--hardwareuuid"}, names7: []string{"--hardware-uuid"}, apply: func(s *Sim, vm *VM, _ int, v string) int {
		vm.HardwareUUID = strings.Trim(strings.ToLower(v), "{}")
		return 0
	}},
	{names: []string{"--paravirtprovider"}, names7: []string{"--paravirt-provider"}, apply: enumOpt("--paravirtprovider",
		map[string]string{"none": "none", "default": "default", "legacy": "legacy", "minimal": "minimal", "hyperv": "hyperv", "kvm": "kvm"},
		func(vm *VM, v string) { vm.HW.ParavirtProvider = v })},
	{names: []string{"--firmware"}, apply: enumOpt("--firmware",
		map[string]string{"bios": "BIOS", "efi": "EFI", "efi32": "EFI32", "efi64": "EFI64", "efidual": "EFIDUAL"},
		func(vm *VM, v string) { vm.HW.Firmware = v })},
	{names: []string{"--chipset"}, apply: enumOpt("--chipset", map[string]string{"piix3": "piix3", "ich9": "ich9"},
		func(vm *VM, v string) { vm.HW.Chipset = v })},
	{names: []string{"--graphicscontroller"}, names7: []string{"--graphics-controller"}, apply: enumOpt("--graphicscontroller",
		map[string]string{"none": "null", "null": "null", "vboxvga": "vboxvga", "vmsvga": "vmsvga", "vboxsvga": "vboxsvga"},
		func(vm *VM, v string) { vm.HW.GraphicsController = v })},
	{names: []string{"--monitorcount"}, names7: []string{"--monitor-count"}, apply: intRange("--monitorcount", 1, 64,
		func(vm *VM, n int) { vm.HW.MonitorCount = n },
		func(n int) (string, string) {
			return fmt.Sprintf("Invalid monitor count: %d (must be in range [1, 64])", n), "COMSETTER(MonitorCount)(ValueUnion.u32)"
		})},
	{names: []string{"--boot"}, indexed: true, apply: func(s *Sim, vm *VM, idx int, v string) int {
		if idx < 1 || idx > 4 {
			return s.fail("Invalid boot slot number %d", idx)
		}
		d, ok := map[string]string{"none": "none", "floppy": "floppy", "dvd": "dvd", "disk": "disk", "net": "net"}[strings.ToLower(v)]
		if !ok {
			return s.fail("Invalid boot device '%s'", v)
		}
		vm.HW.Boot[idx-1] = d
		return 0
	}},
	{names: []string{"--nic"}, indexed: true, apply: nicOpt(func(s *Sim, n *NIC, idx int, v string) int {
		a, ok := map[string]string{"none": "none", "null": "null", "nat": "nat", "bridged": "bridged", "intnet": "intnet",
			"hostonly": "hostonly", "generic": "generic", "natnetwork": "natnetwork"}[strings.ToLower(v)]
		if !ok {
			return s.fail("Invalid type '%s' specfied for NIC %d", v, idx)
		}
		n.Attach = a
		if a == "nat" && n.NATNet == "" {
			n.NATNet = "nat"
		}
		if a == "intnet" && n.IntNet == "" {
			n.IntNet = "intnet"
		}
		return 0
	})},
	{names: []string{"--nictype"}, names7: []string{"--nic-type"}, indexed: true, apply: nicOpt(func(s *Sim, n *NIC, idx int, v string) int {
		t, ok := nicTypes[strings.ToLower(v)]
		if !ok {
			return s.fail("Invalid NIC type '%s' specified for NIC %d", v, idx)
		}
		n.Type = t
		return 0
	})},
	{names: []string{"--cableconnected"}, names7: []string{"--cable-connected"}, indexed: true, apply: nicOpt(func(s *Sim, n *NIC, idx int, v string) int {
		b, ok := parseBool(v)
		if !ok {
			return s.fail("Invalid --cableconnected%d argument '%s'", idx, v)
		}
		n.Cable = b
		return 0
	})},
	{names: []string{"--macaddress"}, names7: []string{"--mac-address"}, indexed: true, apply: nicOpt(func(s *Sim, n *NIC, idx int, v string) int {
		if strings.EqualFold(v, "auto") {
			n.MAC = s.newMAC()
			return 0
		}
		mac := strings.ToUpper(strings.NewReplacer(":", "", "-", "").Replace(v))
		if len(mac) != 12 || strings.Trim(mac, "0123456789ABCDEF") != "" {
			return s.api(apiError{Msg: fmt.Sprintf("Invalid MAC address format '%s'", v), Code: "E_INVALIDARG",
				Component: "NetworkAdapterWrap", Interface: "INetworkAdapter", Context: "COMSETTER(MACAddress)(Bstr(ValueUnion.psz).raw())",
				Line: 1300, File: "VBoxManageModifyVM.cpp"})
		}
		n.MAC = mac
		return 0
	})},
	{names: []string{"--bridgeadapter"}, names7: []string{"--bridge-adapter"}, indexed: true, apply: nicOpt(func(s *Sim, n *NIC, idx int, v string) int {
		if !s.p.Is61() {
			found := false
			for _, b := range bridgedIfs() {
				if b == v {
					found = true
				}
			}
			if !found && v != "none" {
				fmt.Fprintf(s.stderr, "VBoxManage: warning: Interface \"%s\" doesn't seem to exist\n", v)
			}
		}
		n.Bridge = v
		return 0
	})},
	{names: []string{"--hostonlyadapter"}, names7: []string{"--host-only-adapter"}, indexed: true, apply: nicOpt(func(s *Sim, n *NIC, idx int, v string) int {
		n.HostOnly = v
		return 0
	})},
	{names: []string{"--intnet"}, names7: []string{"--int-net"}, indexed: true, apply: nicOpt(func(s *Sim, n *NIC, idx int, v string) int {
		n.IntNet = v
		return 0
	})},
	{names: []string{"--nat-network"}, indexed: true, apply: nicOpt(func(s *Sim, n *NIC, idx int, v string) int {
		n.NATNetwork = v
		return 0
	})},
	{names: []string{"--nicgenericdrv"}, names7: []string{"--nic-generic-drv"}, indexed: true, apply: nicOpt(func(s *Sim, n *NIC, idx int, v string) int {
		n.Generic = v
		return 0
	})},
	{names: []string{"--nicspeed"}, names7: []string{"--nic-speed"}, indexed: true, apply: nicOpt(func(s *Sim, n *NIC, idx int, v string) int {
		sp, err := strconv.Atoi(v)
		if err != nil || sp < 0 {
			return s.fail("Invalid --nicspeed%d argument '%s'", idx, v)
		}
		n.Speed = sp
		return 0
	})},
	{names: []string{"--natpf"}, names7: []string{"--nat-pf"}, indexed: true, apply: nicOpt(func(s *Sim, n *NIC, idx int, v string) int {
		return s.natpf(n, v, nil)
	})},
	{names: []string{"--uart"}, indexed: true, more: offOrOne, apply: uartOpt(func(s *Sim, u *UART, idx int, v string) int {
		if portOff(v) {
			u.Enabled = false
			return 0
		}
		io, irq, ok := portArgs(v)
		if !ok {
			return s.fail("Invalid --uart%d argument '%s'", idx, v)
		}
		u.Enabled, u.IOBase, u.IRQ = true, io, irq
		if u.Mode == "" {
			u.Mode = "disconnected"
		}
		if u.Type == "" {
			u.Type = "16550A"
		}
		return 0
	})},
	{names: []string{"--uartmode"}, names7: []string{"--uart-mode"}, indexed: true, more: uartModeMore, apply: uartOpt(func(s *Sim, u *UART, idx int, v string) int {
		u.Mode = v
		return 0
	})},
	{names: []string{"--lpt"}, indexed: true, more: offOrOne, apply: lptOpt(func(s *Sim, l *LPT, idx int, v string) int {
		if portOff(v) {
			l.Enabled = false
			return 0
		}
		io, irq, ok := portArgs(v)
		if !ok {
			return s.fail("Invalid --lpt%d argument '%s'", idx, v)
		}
		l.Enabled, l.IOBase, l.IRQ = true, io, irq
		return 0
	})},
	{names: []string{"--lptmode"}, names7: []string{"--lpt-mode"}, indexed: true, apply: lptOpt(func(s *Sim, l *LPT, idx int, v string) int {
		l.Path = v
		return 0
	})},
	{names: []string{"--defaultfrontend"}, names7: []string{"--default-frontend"}, apply: func(s *Sim, vm *VM, _ int, v string) int {
		if v == "default" {
			v = ""
		}
		vm.HW.DefaultFrontend = v
		return 0
	}},
	{names: []string{"--uarttype"}, names7: []string{"--uart-type"}, indexed: true, apply: uartOpt(func(s *Sim, u *UART, idx int, v string) int {
		t, ok := map[string]string{"16450": "16450", "16550a": "16550A", "16750": "16750"}[strings.ToLower(v)]
		if !ok {
			return s.fail("Invalid --uarttype%d argument '%s'", idx, v)
		}
		u.Type = t
		return 0
	})},
	{names: []string{"--audio"}, apply: func(s *Sim, vm *VM, _ int, v string) int {
		d := strings.ToLower(v)
		if d == "none" {
			vm.HW.Audio.Enabled = false
			return 0
		}
		if !validAudioDriver(s, d) {
			return s.fail("Invalid --audio argument '%s'", v)
		}
		if !s.p.Is61() {
			fmt.Fprint(s.stderr, "VBoxManage: warning: --audio is deprecated and will be removed soon. Use --audio-driver instead!\n")
		}
		vm.HW.Audio.Enabled, vm.HW.Audio.Driver = true, d
		return 0
	}},
	{names7: []string{"--audio-driver"}, apply: func(s *Sim, vm *VM, _ int, v string) int {
		d := strings.ToLower(v)
		if d == "none" {
			vm.HW.Audio.Enabled = false
			return 0
		}
		if !validAudioDriver(s, d) {
			return s.fail("Invalid --audio-driver argument '%s'", v)
		}
		vm.HW.Audio.Driver = d
		return 0
	}},
	{names7: []string{"--audio-enabled"}, apply: boolOpt("--audio-enabled", func(vm *VM, b bool) { vm.HW.Audio.Enabled = b })},
	{names: []string{"--audiocontroller"}, names7: []string{"--audio-controller"}, apply: enumOpt("--audiocontroller",
		map[string]string{"ac97": "AC97", "hda": "HDA", "sb16": "SB16"}, func(vm *VM, v string) {
			vm.HW.Audio.Controller = v
			vm.HW.Audio.Codec = map[string]string{"AC97": "STAC9700", "HDA": "STAC9221", "SB16": "SB16"}[v]
		})},
	{names: []string{"--audioout"}, names7: []string{"--audio-out"}, apply: boolOpt("--audioout", func(vm *VM, b bool) { vm.HW.Audio.Out = b })},
	{names: []string{"--audioin"}, names7: []string{"--audio-in"}, apply: boolOpt("--audioin", func(vm *VM, b bool) { vm.HW.Audio.In = b })},
	{names: []string{"--clipboard"}, names7: []string{"--clipboard-mode"}, apply: enumOpt("--clipboard",
		map[string]string{"disabled": "disabled", "hosttoguest": "hosttoguest", "guesttohost": "guesttohost", "bidirectional": "bidirectional"},
		func(vm *VM, v string) { vm.HW.Clipboard = v })},
	{names: []string{"--draganddrop"}, names7: []string{"--drag-and-drop"}, apply: enumOpt("--draganddrop",
		map[string]string{"disabled": "disabled", "hosttoguest": "hosttoguest", "guesttohost": "guesttohost", "bidirectional": "bidirectional"},
		func(vm *VM, v string) { vm.HW.DragAndDrop = v })},
	{names: []string{"--usb"}, names7: []string{"--usbohci", "--usb-ohci"}, apply: boolOpt("--usb", func(vm *VM, b bool) { vm.HW.USB.OHCI = b })},
	{names: []string{"--usbehci"}, names7: []string{"--usb-ehci"}, apply: boolOpt("--usbehci", func(vm *VM, b bool) { vm.HW.USB.EHCI = b })},
	{names: []string{"--usbxhci"}, names7: []string{"--usb-xhci"}, apply: boolOpt("--usbxhci", func(vm *VM, b bool) { vm.HW.USB.XHCI = b })},
	{names: []string{"--vrde"}, apply: boolOpt("--vrde", func(vm *VM, b bool) { vm.HW.VRDE.Enabled = b })},
	{names: []string{"--vrdeport"}, names7: []string{"--vrde-port"}, apply: func(s *Sim, vm *VM, _ int, v string) int {
		if v == "default" || v == "0" {
			v = "3389"
		}
		vm.HW.VRDE.Ports = v
		return 0
	}},
	{names: []string{"--vrdeaddress"}, names7: []string{"--vrde-address"}, apply: func(s *Sim, vm *VM, _ int, v string) int {
		vm.HW.VRDE.Address = v // "" = all interfaces
		return 0
	}},
	{names: []string{"--vrdeauthtype"}, names7: []string{"--vrde-auth-type"}, apply: enumOpt("--vrdeauthtype",
		map[string]string{"null": "null", "external": "external", "guest": "guest"}, func(vm *VM, v string) { vm.HW.VRDE.AuthType = v })},
	{names: []string{"--vrdemulticon"}, names7: []string{"--vrde-multi-con"}, apply: boolOpt("--vrdemulticon", func(vm *VM, b bool) { vm.HW.VRDE.MultiCon = b })},
	{names: []string{"--vrdereusecon"}, names7: []string{"--vrde-reuse-con"}, apply: boolOpt("--vrdereusecon", func(vm *VM, b bool) { vm.HW.VRDE.ReuseCon = b })},
	{names: []string{"--autostart-enabled"}, apply: boolOpt("--autostart-enabled", func(vm *VM, b bool) { vm.AutostartOn = b })},
	{names: []string{"--autostart-delay"}, apply: func(s *Sim, vm *VM, _ int, v string) int {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return s.fail("Invalid --autostart-delay argument '%s'", v)
		}
		vm.AutostartDel = n
		return 0
	}},
	{names: []string{"--mouse"}, apply: enumOpt("--mouse", map[string]string{"ps2": "ps2mouse", "usb": "usbmouse", "usbtablet": "usbtablet",
		"usbmultitouch": "usbmultitouch", "none": "none"}, func(vm *VM, v string) { vm.HW.HIDPointing = v })},
	{names: []string{"--keyboard"}, apply: enumOpt("--keyboard", map[string]string{"ps2": "ps2kbd", "usb": "usbkbd", "none": "none"},
		func(vm *VM, v string) { vm.HW.HIDKeyboard = v })},
	{names: []string{"--snapshotfolder"}, names7: []string{"--snapshot-folder"}, apply: func(s *Sim, vm *VM, _ int, v string) int {
		if v == "default" {
			v = ""
		}
		if v == "" {
			v = strings.TrimSuffix(vm.CfgFile, "/"+vm.CfgFile[strings.LastIndex(vm.CfgFile, "/")+1:]) + "/Snapshots"
		}
		vm.SnapFolder = v
		return 0
	}},
	{names: []string{"--iommu"}, apply: func(s *Sim, vm *VM, _ int, v string) int {
		if s.p.Is61() {
			return -1
		}
		if _, ok := map[string]bool{"none": true, "automatic": true, "amd": true, "intel": true}[strings.ToLower(v)]; !ok {
			return s.fail("Invalid --iommu argument '%s'", v)
		}
		return 0
	}},
}

func ordinal(n int) string {
	switch n {
	case 1:
		return "1st"
	case 2:
		return "2nd"
	case 3:
		return "3rd"
	}
	return fmt.Sprintf("%dth", n)
}

func validAudioDriver(s *Sim, d string) bool {
	switch d {
	case "null", "oss", "alsa", "pulse", "coreaudio", "dsound", "winmm", "solaudio":
		return true
	case "default", "was":
		return !s.p.Is61()
	}
	return false
}

// portOff reports the value that disables a serial or parallel port.
func portOff(v string) bool { return strings.EqualFold(v, "off") || strings.EqualFold(v, "disable") }

// offOrOne: "--uart1 off" or "--uart1 <I/O base> <IRQ>".
func offOrOne(first string) int {
	if portOff(first) {
		return 0
	}
	return 1
}

// uartModeMore: "--uartmode1 disconnected|<device>" or "--uartmode1 server|client|tcpserver|tcpclient|file <arg>".
func uartModeMore(first string) int {
	switch strings.ToLower(first) {
	case "server", "client", "tcpserver", "tcpclient", "file":
		return 1
	}
	return 0
}

// portArgs parses "<I/O base>,<IRQ>" (the two argv elements joined) and
// formats the base as VBoxManage prints it (%#06x).
func portArgs(v string) (io string, irq int, ok bool) {
	ioS, irqS, found := strings.Cut(v, ",")
	base, err1 := strconv.ParseUint(ioS, 0, 16)
	n, err2 := strconv.Atoi(irqS)
	if !found || err1 != nil || err2 != nil || n < 0 || n > 255 {
		return "", 0, false
	}
	return fmt.Sprintf("0x%04x", base), n, true // C's %#06x
}

// natpf adds ("name,tcp,hostip,hostport,guestip,guestport") or deletes
// ("delete", then the name in rest) a NAT port-forwarding rule.
func (s *Sim) natpf(n *NIC, v string, rest []string) int {
	if v == "delete" {
		if len(rest) == 0 {
			return s.fail("Not enough parameters")
		}
		for i, r := range n.Forwarding {
			if strings.SplitN(r, ",", 2)[0] == rest[0] {
				n.Forwarding = append(n.Forwarding[:i], n.Forwarding[i+1:]...)
				return 0
			}
		}
		return s.api(apiError{Msg: fmt.Sprintf("A NAT rule with this name ('%s') does not exist", rest[0]), Code: "E_INVALIDARG",
			Component: "NATEngineWrap", Interface: "INATEngine", Context: "RemoveRedirect(Bstr(ValueUnion.psz).raw())", Line: 1840, File: "VBoxManageModifyVM.cpp"})
	}
	f := strings.Split(v, ",")
	if len(f) != 6 {
		return s.fail("Invalid NAT port-forwarding rule '%s'", v)
	}
	if p := strings.ToLower(f[1]); p != "tcp" && p != "udp" {
		return s.fail("Wrong rule proto '%s' specified -- only 'udp' and 'tcp' are allowed.", f[1])
	}
	for _, r := range n.Forwarding {
		g := strings.Split(r, ",")
		if g[0] == f[0] {
			return s.api(apiError{Msg: "A NAT rule of this name already exists", Code: "E_INVALIDARG",
				Component: "NATEngineWrap", Interface: "INATEngine", Context: "AddRedirect(...)", Line: 1820, File: "VBoxManageModifyVM.cpp"})
		}
		if len(g) == 6 && g[1] == strings.ToLower(f[1]) && g[3] == f[3] && g[2] == f[2] {
			return s.api(apiError{Msg: "A NAT rule for this host port and this host IP already exists", Code: "E_INVALIDARG",
				Component: "NATEngineWrap", Interface: "INATEngine", Context: "AddRedirect(...)", Line: 1820, File: "VBoxManageModifyVM.cpp"})
		}
	}
	f[1] = strings.ToLower(f[1])
	n.Forwarding = append(n.Forwarding, strings.Join(f, ","))
	return 0
}

// lookupModifyOpt resolves "--nic1" to its option and index 1.
func (s *Sim) lookupModifyOpt(arg string) (*modifyOpt, int, bool) {
	base, idx := arg, 0
	if i := strings.LastIndexFunc(arg, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 && i < len(arg)-1 {
		n, err := strconv.Atoi(arg[i+1:])
		if err == nil {
			base, idx = arg[:i+1], n
		}
	}
	for k := range modifyOpts {
		o := &modifyOpts[k]
		names := o.names
		if !s.p.Is61() {
			names = append(append([]string{}, o.names...), o.names7...)
		}
		for _, n := range names {
			if o.indexed && n == base && idx > 0 {
				return o, idx, true
			}
			if n == arg && (!o.indexed || n == base) {
				return o, 0, !o.indexed
			}
		}
	}
	return nil, 0, false
}

func (s *Sim) cmdModifyVM(args []string) int {
	if len(args) < 2 {
		return s.syntaxError("modifyvm", "Not enough parameters", 2)
	}
	return s.writeSession(args[0], s.notFoundIn("FindMachine(Bstr(a->argv[0]).raw(), machine.asOutParam())", "VBoxManageModifyVM.cpp", 618),
		s.lockedWrite("VBoxManageModifyVM.cpp", 621), func(vm *VM) int {
			rest := args[1:]
			for i := 0; i < len(rest); i++ {
				a := rest[i]
				name, val, hasVal := a, "", false
				if strings.HasPrefix(a, "--") {
					if k := strings.IndexAny(a, "=:"); k > 0 {
						name, val, hasVal = a[:k], a[k+1:], true
					}
				}
				if !strings.HasPrefix(name, "-") {
					return s.getoptError("modifyvm", fmt.Sprintf("Invalid parameter '%s'", a), 1)
				}
				o, idx, ok := s.lookupModifyOpt(name)
				if !ok {
					return s.getoptError("modifyvm", "Unknown option: "+name, 1)
				}
				if !hasVal {
					if i+1 >= len(rest) {
						return s.getoptError("modifyvm", fmt.Sprintf("Missing the 1st value for option %s", name), 1)
					}
					i++
					val = rest[i]
				}
				if o.more != nil {
					for k, n := 0, o.more(val); k < n; k++ {
						if i+1 >= len(rest) {
							return s.getoptError("modifyvm", fmt.Sprintf("Missing the %s value for option %s", ordinal(k+2), name), 1)
						}
						i++
						val += "," + rest[i]
					}
				}
				if vm.State == "saved" || vm.State == "aborted-saved" {
					return s.api(apiError{Msg: fmt.Sprintf("The machine is not mutable (state is %s)", stateCamel(vm.State)),
						Code: "VBOX_E_INVALID_VM_STATE", Component: "SessionMachine", Interface: "IMachine",
						Context: "COMSETTER(" + strings.TrimLeft(name, "-") + ")", Line: 700, File: "VBoxManageModifyVM.cpp"})
				}
				if code := o.apply(s, vm, idx, val); code != 0 {
					if code < 0 {
						return s.getoptError("modifyvm", "Unknown option: "+name, 1)
					}
					return code
				}
			}
			if err := writeVBoxFile(vm); err != nil {
				return s.internalError(err)
			}
			s.st.PutVM(vm)
			return 0
		})
}
