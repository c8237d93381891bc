package vboxsim

import (
	"fmt"
	"path/filepath"
	"strings"
)

// controllerLimits returns max ports and devices per port for a bus.
func controllerLimits(bus string) (maxPorts, devices int) {
	switch bus {
	case "ide":
		return 2, 2
	case "sata":
		return 30, 1
	case "scsi":
		return 16, 1
	case "sas":
		return 255, 1
	case "floppy":
		return 1, 2
	case "usb":
		return 8, 1
	case "pcie", "virtio":
		return 255, 1
	}
	return 1, 1
}

func (vm *VM) logFolder() string { return filepath.Join(filepath.Dir(vm.CfgFile), "Logs") }

func (vm *VM) attachmentAt(ctl string, port, dev int) *Attachment {
	for i := range vm.HW.Attachments {
		a := &vm.HW.Attachments[i]
		if a.Controller == ctl && a.Port == port && a.Device == dev {
			return a
		}
	}
	return nil
}

func (s *Sim) mediumByUUID(uuid string) *Medium {
	reg, err := s.st.Registry()
	if err != nil {
		return nil
	}
	for _, m := range reg.Media {
		if m.UUID == uuid {
			return m
		}
	}
	return nil
}

// controllerTypeName is the type as showvminfo prints it: 6.1's switch has
// no case for NVMe and VirtioSCSI and prints "unknown".
func (s *Sim) controllerTypeName(t string) string {
	if s.p.Is61() && (t == "NVMe" || t == "VirtioSCSI") {
		return "unknown"
	}
	return t
}

func effParavirt(vm *VM) string {
	if vm.HW.ParavirtProvider != "default" && vm.HW.ParavirtProvider != "" {
		return vm.HW.ParavirtProvider
	}
	o, _ := findOSType(vm.HW.OSType)
	switch o.FamilyID {
	case "Linux":
		return "kvm"
	case "Windows":
		return "hyperv"
	}
	return "none"
}

var vrdeProperties = []string{"TCP/Ports", "TCP/Address", "VideoChannel/Enabled", "VideoChannel/Quality",
	"VideoChannel/DownscaleProtection", "Client/DisableDisplay", "Client/DisableInput", "Client/DisableAudio",
	"Client/DisableUSB", "Client/DisableClipboard", "Client/DisableUpstreamAudio", "Client/DisableRDPDR",
	"H3DRedirect/Enabled", "Security/Method", "Security/ServerCertificate", "Security/ServerPrivateKey",
	"Security/CACertificate", "Audio/RateCorrectionMode", "Audio/LogPath"}

// machineReadable renders showvminfo --machinereadable for the personality.
func (s *Sim) machineReadable(vm *VM) string {
	var b strings.Builder
	kv := func(k string, v any) {
		switch x := v.(type) {
		case string:
			fmt.Fprintf(&b, "%s=%s\n", k, mrQuote(x))
		case bool:
			fmt.Fprintf(&b, "%s=\"%s\"\n", k, onOff(x))
		default:
			fmt.Fprintf(&b, "%s=%v\n", k, x)
		}
	}
	raw := func(line string) { b.WriteString(line + "\n") }
	// quoted key: 7.0+ quotes keys containing '='.
	key := func(k string) string {
		if !s.p.Is61() && strings.Contains(k, "=") {
			return mrQuote(k)
		}
		return k
	}
	p, hw := s.p, &vm.HW
	running := isOnline(vm.State)
	fl := func(name string) bool { return hw.Flags[name] }

	kv("name", vm.Name)
	if p.Is70() {
		raw("Encryption:     disabled")
	} else if p.Is71() {
		kv("encryption", "disabled")
	}
	kv("groups", strings.Join(vm.Groups, ","))
	if p.Is71() {
		kv("platformArchitecture", "x86")
	}
	kv("ostype", osDescription(hw.OSType))
	kv("UUID", vm.UUID)
	kv("CfgFile", vm.CfgFile)
	kv("SnapFldr", vm.SnapFolder)
	kv("LogFldr", vm.logFolder())
	kv("hardwareuuid", vm.HardwareUUID)
	kv("memory", hw.Memory)
	kv("pagefusion", fl("pagefusion"))
	kv("vram", hw.VRAM)
	kv("cpuexecutioncap", hw.CPUExecCap)
	if !p.Is71() {
		kv("hpet", fl("hpet"))
	}
	kv("cpu-profile", "host")
	kv("chipset", hw.Chipset)
	kv("firmware", hw.Firmware)
	kv("cpus", hw.CPUs)
	if p.Is71() {
		kv("hpet", fl("hpet"))
	}
	for _, f := range []string{"pae", "longmode", "triplefaultreset", "apic", "x2apic", "nested-hw-virt"} {
		kv(f, fl(f))
	}
	bootBlock := func() {
		kv("cpuid-portability-level", 0)
		kv("bootmenu", hw.BootMenu)
		for i, d := range hw.Boot {
			kv(fmt.Sprintf("boot%d", i+1), d)
		}
		kv("acpi", fl("acpi"))
		kv("ioapic", fl("ioapic"))
		kv("biosapic", "apic")
		kv("biossystemtimeoffset", 0)
		if strings.HasPrefix(hw.Firmware, "EFI") {
			nv := strings.TrimSuffix(vm.CfgFile, ".vbox") + ".nvram"
			if p.Is71() {
				kv("NvramFile", nv)
				kv("SecureBoot", false)
			} else {
				kv(key("BIOS NVRAM File"), nv)
			}
		}
	}
	if p.Is71() {
		for _, f := range []string{"hwvirtex", "nestedpaging", "largepages", "vtxvpid", "vtxux", "virtvmsavevmload"} {
			kv(f, fl(f))
		}
		bootBlock()
		kv("rtcuseutc", fl("rtcuseutc"))
		kv("iommu", "none")
	} else {
		bootBlock()
		kv("rtcuseutc", fl("rtcuseutc"))
		for _, f := range []string{"hwvirtex", "nestedpaging", "largepages", "vtxvpid", "vtxux"} {
			kv(f, fl(f))
		}
		if p.Is70() {
			kv("virtvmsavevmload", fl("virtvmsavevmload"))
			kv("iommu", "none")
		}
	}
	kv("paravirtprovider", hw.ParavirtProvider)
	kv("effparavirtprovider", effParavirt(vm))
	kv("VMState", vm.State)
	kv("VMStateChangeTime", vboxTime(vm.StateChange))
	if vm.StateFile != "" && (vm.State == "saved" || vm.State == "aborted-saved") {
		kv("VMStateFile", vm.StateFile)
	}
	kv("graphicscontroller", hw.GraphicsController)
	kv("monitorcount", hw.MonitorCount)
	kv("accelerate3d", fl("accelerate3d"))
	kv("accelerate2dvideo", false)
	kv("teleporterenabled", false)
	kv("teleporterport", 0)
	kv("teleporteraddress", "")
	kv("teleporterpassword", "")
	kv("tracing-enabled", false)
	kv("tracing-allow-vm-access", false)
	kv("tracing-config", "")
	kv("autostart-enabled", vm.AutostartOn)
	kv("autostart-delay", vm.AutostartDel)
	kv("defaultfrontend", hw.DefaultFrontend)
	kv("vmprocpriority", "default")

	// Storage controllers, then every slot.
	for i, c := range hw.Controllers {
		maxPorts, _ := controllerLimits(c.Bus)
		kv(fmt.Sprintf("storagecontrollername%d", i), c.Name)
		kv(fmt.Sprintf("storagecontrollertype%d", i), s.controllerTypeName(c.Type))
		kv(fmt.Sprintf("storagecontrollerinstance%d", i), "0")
		kv(fmt.Sprintf("storagecontrollermaxportcount%d", i), fmt.Sprint(maxPorts))
		kv(fmt.Sprintf("storagecontrollerportcount%d", i), fmt.Sprint(c.PortCount))
		kv(fmt.Sprintf("storagecontrollerbootable%d", i), c.Bootable)
	}
	for _, c := range hw.Controllers {
		_, devs := controllerLimits(c.Bus)
		for port := 0; port < c.PortCount; port++ {
			for dev := 0; dev < devs; dev++ {
				s.mrSlot(&b, vm, c, port, dev)
			}
		}
	}

	// NICs.
	maxNICs := 8
	if hw.Chipset == "ich9" {
		maxNICs = 36
	}
	for i := 1; i <= maxNICs; i++ {
		if i > len(hw.NICs) || hw.NICs[i-1].Attach == "none" || hw.NICs[i-1].Attach == "" {
			kv(fmt.Sprintf("nic%d", i), "none")
			continue
		}
		n := hw.NICs[i-1]
		nicVal := n.Attach
		switch n.Attach {
		case "nat":
			nat := n.NATNet
			if nat == "" {
				nat = "nat"
			}
			kv(fmt.Sprintf("natnet%d", i), nat)
		case "bridged":
			kv(fmt.Sprintf("bridgeadapter%d", i), n.Bridge)
		case "hostonly":
			kv(fmt.Sprintf("hostonlyadapter%d", i), n.HostOnly)
		case "intnet":
			kv(fmt.Sprintf("intnet%d", i), n.IntNet)
		case "generic":
			kv(fmt.Sprintf("generic%d", i), n.Generic)
			nicVal = "Generic"
		case "natnetwork":
			kv(fmt.Sprintf("nat-network%d", i), n.NATNetwork)
		}
		kv(fmt.Sprintf("macaddress%d", i), n.MAC)
		kv(fmt.Sprintf("cableconnected%d", i), n.Cable)
		kv(fmt.Sprintf("nic%d", i), nicVal)
		kv(fmt.Sprintf("nictype%d", i), n.Type)
		kv(fmt.Sprintf("nicspeed%d", i), fmt.Sprint(n.Speed))
		if n.Attach == "nat" {
			kv("mtu", "0")
			kv("sockSnd", "64")
			kv("sockRcv", "64")
			kv("tcpWndSnd", "64")
			kv("tcpWndRcv", "64")
			for j, r := range n.Forwarding {
				kv(fmt.Sprintf("Forwarding(%d)", j), r)
			}
		}
	}
	kv("hidpointing", hw.HIDPointing)
	kv("hidkeyboard", hw.HIDKeyboard)
	for i, u := range hw.UARTs {
		if !u.Enabled {
			kv(fmt.Sprintf("uart%d", i+1), "off")
			continue
		}
		kv(fmt.Sprintf("uart%d", i+1), fmt.Sprintf("%s,%d", u.IOBase, u.IRQ))
		kv(fmt.Sprintf("uartmode%d", i+1), u.Mode)
		kv(fmt.Sprintf("uarttype%d", i+1), u.Type)
	}
	for i, l := range hw.LPTs {
		if !l.Enabled {
			kv(fmt.Sprintf("lpt%d", i+1), "off")
			continue
		}
		kv(fmt.Sprintf("lpt%d", i+1), fmt.Sprintf("%s,%d", l.IOBase, l.IRQ))
		kv(fmt.Sprintf("lptmode%d", i+1), l.Path)
	}
	if hw.Audio.Enabled {
		kv("audio", hw.Audio.Driver)
	} else {
		kv("audio", "none")
	}
	kv("audio_out", hw.Audio.Out)
	kv("audio_in", hw.Audio.In)
	kv("clipboard", hw.Clipboard)
	kv("draganddrop", hw.DragAndDrop)
	if running {
		kv("SessionName", vm.SessionType)
		raw(`VideoMode="1024,768,32"@0,0 1`)
	}
	kv("vrde", hw.VRDE.Enabled)
	if hw.VRDE.Enabled {
		port := -1
		if running {
			fmt.Sscanf(hw.VRDE.Ports, "%d", &port)
		}
		kv("vrdeport", port)
		kv("vrdeports", hw.VRDE.Ports)
		kv("vrdeaddress", hw.VRDE.Address)
		kv("vrdeauthtype", hw.VRDE.AuthType)
		kv("vrdemulticon", hw.VRDE.MultiCon)
		kv("vrdereusecon", hw.VRDE.ReuseCon)
		kv("vrdevideochannel", false)
		for _, prop := range vrdeProperties {
			switch {
			case prop == "TCP/Ports":
				kv("vrdeproperty["+prop+"]", hw.VRDE.Ports)
			case prop == "TCP/Address" && hw.VRDE.Address != "":
				kv("vrdeproperty["+prop+"]", hw.VRDE.Address)
			default:
				raw("vrdeproperty[" + prop + "]=<not set>")
			}
		}
	}
	kv("usb", hw.USB.OHCI)
	kv("ehci", hw.USB.EHCI)
	kv("xhci", hw.USB.XHCI)
	for i, f := range hw.USBFilters {
		kv(fmt.Sprintf("USBFilterActive%d", i+1), f.Active)
		kv(fmt.Sprintf("USBFilterName%d", i+1), f.Name)
		kv(fmt.Sprintf("USBFilterVendorId%d", i+1), f.VendorID)
		kv(fmt.Sprintf("USBFilterProductId%d", i+1), f.ProductID)
		kv(fmt.Sprintf("USBFilterRevision%d", i+1), f.Revision)
		kv(fmt.Sprintf("USBFilterManufacturer%d", i+1), f.Manufacturer)
		kv(fmt.Sprintf("USBFilterProduct%d", i+1), f.Product)
		kv(fmt.Sprintf("USBFilterRemote%d", i+1), f.Remote)
		kv(fmt.Sprintf("USBFilterSerialNumber%d", i+1), f.Serial)
	}
	n := 0
	for _, f := range hw.SharedFolders {
		if f.Transient {
			continue
		}
		n++
		kv(fmt.Sprintf("SharedFolderNameMachineMapping%d", n), f.Name)
		kv(fmt.Sprintf("SharedFolderPathMachineMapping%d", n), f.Path)
	}
	n = 0
	for _, f := range hw.SharedFolders {
		if !f.Transient {
			continue
		}
		n++
		kv(fmt.Sprintf("SharedFolderNameTransientMapping%d", n), f.Name)
		kv(fmt.Sprintf("SharedFolderPathTransientMapping%d", n), f.Path)
	}
	if running {
		kv("VRDEActiveConnection", false)
		raw("VRDEClients==0")
	}
	base := strings.TrimSuffix(vm.CfgFile, ".vbox")
	if p.Is61() {
		kv("videocap", false)
		kv("videocapaudio", false)
		kv("capturescreens", "0")
		kv("capturefilename", base+".webm")
		kv("captureres", "1024x768")
		kv("capturevideorate", 512)
		kv("capturevideofps", 25)
		kv("captureopts", "vc_enabled=true,ac_enabled=false,ac_profile=med")
	} else {
		if p.Is71() {
			kv("recording_started", false)
		}
		kv("recording_enabled", false)
		kv("recording_screens", 1)
		raw(" rec_screen0")
		kv("rec_screen_enabled", true)
		kv("rec_screen_id", 0)
		kv("rec_screen_video_enabled", true)
		kv("rec_screen_audio_enabled", false)
		kv("rec_screen_dest", "File")
		kv("rec_screen_dest_filename", base+"-screen0.webm")
		kv("rec_screen_opts", "vc_enabled=true,ac_enabled=false,ac_profile=med")
		kv("rec_screen_video_res_xy", "1024x768")
		kv("rec_screen_video_rate_kbps", 512)
		kv("rec_screen_video_fps", 25)
	}
	if vm.Description != "" {
		kv("description", vm.Description)
	}
	guest := func() {
		kv("GuestMemoryBalloon", hw.Balloon)
		if running {
			kv("GuestOSType", hw.OSType)
			// Guest Additions are simulated per VM with extradata vboxsim/GuestAdditions=<version string>.
			// The run level is printed whenever a console exists (0 = no
			// Guest Additions), the version only when reported.
			if ga := vm.ExtraData["vboxsim/GuestAdditions"]; ga != "" {
				kv("GuestAdditionsRunLevel", 2)
				kv("GuestAdditionsVersion", ga)
			} else {
				kv("GuestAdditionsRunLevel", 0)
			}
		}
	}
	if p.Is61() {
		guest()
		s.mrSnapshots(&b, vm)
	} else {
		s.mrSnapshots(&b, vm)
		guest()
	}
	return b.String()
}

func (s *Sim) mrSlot(b *strings.Builder, vm *VM, c Controller, port, dev int) {
	q := func(k, v string) { fmt.Fprintf(b, "%s=%s\n", mrQuote(k), mrQuote(v)) }
	if s.p.Is61() {
		// 6.1 prints storage keys and paths with printf("%ls"): no escaping.
		q = func(k, v string) { fmt.Fprintf(b, "\"%s\"=\"%s\"\n", k, v) }
	}
	a := vm.attachmentAt(c.Name, port, dev)
	slot := fmt.Sprintf("%s-%d-%d", c.Name, port, dev)
	sfx := fmt.Sprintf("-%d-%d", port, dev)
	if a == nil {
		q(slot, "none")
		return
	}
	isDVD := a.Type == "dvddrive"
	if a.Medium == "" {
		q(slot, "emptydrive")
		if s.p.Is61() {
			q(c.Name+"-IsEjected", "off")
		} else {
			q(c.Name+"-IsEjected"+sfx, "off")
		}
		return
	}
	path := ""
	if m := s.mediumByUUID(a.Medium); m != nil {
		path = m.Location
	}
	q(slot, path)
	q(c.Name+"-ImageUUID"+sfx, a.Medium)
	if s.p.Is61() {
		if isDVD {
			if a.Passthrough {
				q(c.Name+"-dvdpassthrough", "on")
			}
			q(c.Name+"-tempeject", onOff(a.TempEject))
			q(c.Name+"-IsEjected", "off")
		}
		return
	}
	if isDVD && a.Passthrough {
		q(c.Name+"-dvdpassthrough"+sfx, "on")
	}
	if isDVD {
		q(c.Name+"-tempeject"+sfx, onOff(a.TempEject))
		q(c.Name+"-IsEjected"+sfx, "off")
	}
	if equalFold(c.Name, "SATA") || equalFold(c.Name, "USB") {
		q(c.Name+"-hot-pluggable"+sfx, onOff(a.HotPluggable))
	}
	q(c.Name+"-nonrotational"+sfx, onOff(a.NonRotational))
	q(c.Name+"-discard"+sfx, onOff(a.Discard))
}

// mrSnapshots prints the snapshot tree keys (depth first, -i suffixes) with
// the Current* keys right after the current node. showSnapshots prints the
// names and descriptions with "%ls" in 6.1, 7.0 and 7.1: nothing is
// escaped there, unlike every other string value.
func (s *Sim) mrSnapshots(b *strings.Builder, vm *VM) {
	var walk func(sn *Snapshot, prefix string)
	walk = func(sn *Snapshot, prefix string) {
		fmt.Fprintf(b, "SnapshotName%s=\"%s\"\n", prefix, sn.Name)
		fmt.Fprintf(b, "SnapshotUUID%s=\"%s\"\n", prefix, sn.UUID)
		if sn.Description != "" {
			fmt.Fprintf(b, "SnapshotDescription%s=\"%s\"\n", prefix, sn.Description)
		}
		if sn.UUID == vm.CurrentSnap {
			fmt.Fprintf(b, "CurrentSnapshotName=\"%s\"\n", sn.Name)
			fmt.Fprintf(b, "CurrentSnapshotUUID=\"%s\"\n", sn.UUID)
			fmt.Fprintf(b, "CurrentSnapshotNode=\"SnapshotName%s\"\n", prefix)
		}
		for i, c := range sn.Children {
			walk(c, fmt.Sprintf("%s-%d", prefix, i+1))
		}
	}
	if vm.Snapshot != nil {
		walk(vm.Snapshot, "")
	}
}
