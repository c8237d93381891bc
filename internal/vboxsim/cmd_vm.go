package vboxsim

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// sanitizeFileName replaces the characters VirtualBox will not put in a file name.
func sanitizeFileName(name string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '/', '\\', ':', '*', '?', '"', '<', '>', '|':
			return '_'
		}
		return r
	}, name)
}

// newHardware returns the settings createvm gives a new machine of an OS type.
func (s *Sim) newHardware(os OSType, withDefaults bool) Hardware {
	hw := Hardware{
		OSType: os.ID, Memory: 128, VRAM: 8, CPUs: 1, CPUExecCap: 100, Firmware: "BIOS", Chipset: "piix3",
		Flags: map[string]bool{"pae": os.Is64, "longmode": os.Is64, "apic": true, "x2apic": true, "acpi": true,
			"ioapic": os.Is64, "hwvirtex": true, "nestedpaging": true, "largepages": true, "vtxvpid": true,
			"vtxux": true, "virtvmsavevmload": true},
		Boot:     [4]string{"floppy", "dvd", "disk", "none"},
		BootMenu: "messageandmenu", GraphicsController: "vboxvga", MonitorCount: 1, ParavirtProvider: "default",
		NICs: make([]NIC, 8), Clipboard: "disabled", DragAndDrop: "disabled",
		HIDPointing: "ps2mouse", HIDKeyboard: "ps2kbd",
		Audio: Audio{Enabled: true, Driver: "pulse", Controller: "AC97", Codec: "STAC9700"},
		VRDE:  VRDE{Ports: "3389", AuthType: "null"},
	}
	if !s.p.Is61() {
		hw.Audio.Driver = "default"
	}
	for i := range hw.NICs {
		hw.NICs[i] = NIC{Attach: "none", Type: os.NIC, MAC: s.newMAC(), Cable: true}
	}
	hw.NICs[0].Attach, hw.NICs[0].NATNet = "nat", "nat"
	if withDefaults {
		hw.Memory, hw.VRAM, hw.GraphicsController = os.RAM, os.VRAM, os.Graphics
		hw.Boot = [4]string{"floppy", "dvd", "disk", "none"}
		hw.Flags["rtcuseutc"] = os.FamilyID != "Windows"
		hw.Flags["ioapic"] = true
		if os.EFI {
			hw.Firmware = "EFI"
		}
		hw.HIDPointing = "usbtablet"
		hw.USB.OHCI = true
		hw.Audio.Out = true
		if os.FamilyID == "Windows" {
			hw.Audio.Controller, hw.Audio.Codec = "HDA", "STAC9221"
		}
		hw.Controllers = []Controller{
			{Name: "IDE", Bus: "ide", Type: "PIIX4", PortCount: 2, Bootable: true, HostIO: true},
			{Name: "SATA", Bus: "sata", Type: "IntelAhci", PortCount: 1, Bootable: true},
		}
		hw.Attachments = []Attachment{{Controller: "IDE", Port: 1, Device: 0, Type: "dvddrive"}}
	}
	return hw
}

func (s *Sim) cmdCreateVM(args []string) int {
	opts, pos, msg := getopt(args, spec("--name=", "--groups=", "--ostype=", "--register", "--basefolder=",
		"--uuid=", "--default", "--cipher=", "--password-id=", "--password=", "--platform-architecture=", "--platform="))
	if msg != "" {
		return s.getoptError("createvm", msg, 2)
	}
	if len(pos) > 0 {
		return s.syntaxError("createvm", fmt.Sprintf("Invalid parameter '%s'", pos[0]), 2)
	}
	var name, groups, ostype, basefolder, uuid string
	register, withDefault, haveName := false, false, false
	for _, o := range opts {
		switch o.name {
		case "--name":
			name, haveName = o.val, true
		case "--groups":
			groups = o.val
		case "--ostype":
			ostype = o.val
		case "--register":
			register = true
		case "--basefolder":
			basefolder = o.val
		case "--uuid":
			uuid = strings.Trim(strings.ToLower(o.val), "{}")
		case "--default":
			withDefault = true
		case "--platform-architecture", "--platform":
			if s.p.Is61() || s.p.Is70() {
				return s.getoptError("createvm", "Unknown option: "+o.name, 2)
			}
			if !equalFold(o.val, "x86") {
				return s.fail("Invalid platform architecture '%s'", o.val)
			}
		case "--cipher", "--password-id", "--password":
			if s.p.Is61() {
				return s.getoptError("createvm", "Unknown option: "+o.name, 2)
			}
		}
	}
	if !haveName || name == "" {
		return s.syntaxError("createvm", "Parameter --name is required", 2)
	}
	createCtx := "CreateMachine(bstrSettingsFile.raw(), bstrName.raw(), ComSafeArrayAsInParam(groups), bstrOsTypeId.raw(), createFlags.raw(), machine.asOutParam())"
	if !s.p.Is61() {
		createCtx = "CreateMachine(bstrSettingsFile.raw(), bstrName.raw(), ComSafeArrayAsInParam(groups), bstrOsTypeId.raw(), createFlags.raw(), bstrCipher.raw(), bstrPasswordId.raw(), Bstr(strPassword).raw(), machine.asOutParam())"
	}
	if ostype == "" {
		ostype = "Other"
	}
	os_, ok := findOSType(ostype)
	if !ok {
		return s.api(apiError{Msg: fmt.Sprintf("Guest OS type '%s' is invalid", ostype), Code: "E_INVALIDARG",
			Component: "VirtualBoxWrap", Interface: "IVirtualBox", Context: createCtx, Line: 286, File: "VBoxManageMisc.cpp"})
	}
	groupList := []string{"/"}
	if groups != "" {
		groupList = strings.Split(groups, ",")
	}
	if basefolder == "" {
		basefolder = s.env.MachineFolder
		if groupList[0] != "/" {
			basefolder = filepath.Join(basefolder, strings.TrimPrefix(groupList[0], "/"))
		}
	}
	fname := sanitizeFileName(name)
	cfg := filepath.Join(basefolder, fname, fname+".vbox")
	if abs, err := filepath.Abs(cfg); err == nil {
		cfg = abs
	}
	reg, err := s.lockRegistry(true)
	if err != nil {
		return s.internalError(err)
	}
	if _, err := os.Stat(cfg); err == nil {
		return s.api(apiError{Msg: fmt.Sprintf("Machine settings file '%s' already exists", cfg), Code: "VBOX_E_FILE_ERROR",
			Component: "MachineWrap", Interface: "IMachine", Context: createCtx, Line: 286, File: "VBoxManageMisc.cpp"})
	}
	if uuid == "" {
		uuid = s.newUUID()
	} else {
		for _, e := range reg.VMs {
			if e.UUID == uuid {
				return s.api(apiError{Msg: fmt.Sprintf("Cannot register the machine '%s' because a machine with UUID {%s} already exists", name, uuid),
					Code: "VBOX_E_OBJECT_IN_USE", Component: "VirtualBoxWrap", Interface: "IVirtualBox",
					Context: "RegisterMachine(machine)", Line: 298, File: "VBoxManageMisc.cpp"})
			}
		}
	}
	now := s.now()
	vm := &VM{Name: name, UUID: uuid, Groups: groupList, CfgFile: cfg, HardwareUUID: uuid,
		HW: s.newHardware(os_, withDefault), State: "poweroff", StateChange: now,
		SnapFolder: filepath.Join(filepath.Dir(cfg), "Snapshots")}
	if err := os.MkdirAll(filepath.Dir(cfg), 0o755); err != nil {
		return s.api(apiError{Msg: fmt.Sprintf("Could not create the directory '%s' (VERR_ACCESS_DENIED)", filepath.Dir(cfg)),
			Code: "VBOX_E_FILE_ERROR", Component: "MachineWrap", Interface: "IMachine", Context: "SaveSettings()", Line: 290, File: "VBoxManageMisc.cpp"})
	}
	if err := writeVBoxFile(vm); err != nil {
		return s.internalError(err)
	}
	s.st.PutVM(vm)
	if register {
		reg.VMs = append(reg.VMs, RegEntry{UUID: uuid, Name: name, State: vm.State})
		s.st.MarkRegistry()
	}
	if err := s.st.Commit(); err != nil {
		return s.internalError(err)
	}
	if register {
		fmt.Fprintf(s.stdout, "Virtual machine '%s' is created and registered.\n", name)
	} else {
		fmt.Fprintf(s.stdout, "Virtual machine '%s' is created.\n", name)
	}
	fmt.Fprintf(s.stdout, "UUID: %s\nSettings file: '%s'\n", uuid, cfg)
	return 0
}

// cmdRegisterVM registers a machine by its settings file: one the simulator
// created and that was unregistered without --delete.
func (s *Sim) cmdRegisterVM(args []string) int {
	_, pos, msg := getopt(args, spec("--password="))
	if msg != "" {
		return s.getoptError("registervm", msg, 2)
	}
	if len(pos) != 1 {
		return s.syntaxError("registervm", "Incorrect number of parameters", 2)
	}
	abs, _ := filepath.Abs(pos[0])
	reg, err := s.lockRegistry(true)
	if err != nil {
		return s.internalError(err)
	}
	openCtx := "OpenMachine(Bstr(a->argv[0]).raw(), machine.asOutParam())"
	if _, err := os.Stat(abs); err != nil {
		return s.api(apiError{Msg: fmt.Sprintf("Could not find file for the machine '%s' (VERR_FILE_NOT_FOUND)", abs),
			Code: "VBOX_E_FILE_ERROR", Component: "MachineWrap", Interface: "IMachine", Context: openCtx, Line: 120, File: "VBoxManageMisc.cpp"})
	}
	files, _ := filepath.Glob(filepath.Join(s.st.Dir, "vms", "*.json"))
	for _, f := range files {
		uuid := strings.TrimSuffix(filepath.Base(f), ".json")
		vm, err := s.st.VM(uuid)
		if err != nil || vm.CfgFile != abs {
			continue
		}
		for _, e := range reg.VMs {
			if e.UUID == uuid {
				return s.api(apiError{Msg: fmt.Sprintf("Cannot register the machine '%s' because a machine with UUID {%s} already exists", vm.Name, uuid),
					Code: "VBOX_E_OBJECT_IN_USE", Component: "VirtualBoxWrap", Interface: "IVirtualBox", Context: "RegisterMachine(machine)", Line: 121, File: "VBoxManageMisc.cpp"})
			}
		}
		reg.VMs = append(reg.VMs, RegEntry{UUID: uuid, Name: vm.Name, State: vm.State})
		s.st.MarkRegistry()
		if err := s.st.Commit(); err != nil {
			return s.internalError(err)
		}
		return 0
	}
	return s.api(apiError{Msg: fmt.Sprintf("Machine settings file '%s' is not a simulated machine", abs), Code: "VBOX_E_FILE_ERROR",
		Component: "MachineWrap", Interface: "IMachine", Context: openCtx, Line: 120, File: "VBoxManageMisc.cpp"})
}

// writeVBoxFile writes a small stand-in for the machine's settings file so
// that file-existence checks (createvm, unregistervm --delete) behave, and
// with the machine's extradata in VirtualBox's own form (readers of .vbox
// files, as the daemon and Vagrant, find it where VirtualBox puts it).
func writeVBoxFile(vm *VM) error {
	var b strings.Builder
	fmt.Fprintf(&b, "<?xml version=\"1.0\"?>\n<!-- written by vboxsim; the state lives in VBOXSIM_HOME -->\n<VirtualBox xmlns=\"http://www.virtualbox.org/\" version=\"1.19-linux\">\n  <Machine uuid=\"{%s}\" name=\"%s\" OSType=\"%s\">\n",
		vm.UUID, xmlAttrEscape(vm.Name), xmlAttrEscape(vm.HW.OSType))
	// The machine's extradata as VirtualBox keeps it (settings.cpp
	// writeExtraData): one ExtraDataItem per key, in key order (a std::map),
	// the element left out when there is none.
	if len(vm.ExtraData) > 0 {
		keys := make([]string, 0, len(vm.ExtraData))
		for k := range vm.ExtraData {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteString("    <ExtraData>\n")
		for _, k := range keys {
			fmt.Fprintf(&b, "      <ExtraDataItem name=\"%s\" value=\"%s\"/>\n", xmlAttrEscape(k), xmlAttrEscape(vm.ExtraData[k]))
		}
		b.WriteString("    </ExtraData>\n")
	}
	b.WriteString("  </Machine>\n</VirtualBox>\n")
	return writeFileAtomic(vm.CfgFile, []byte(b.String()))
}

// xmlAttrEscape escapes an attribute value as an XML writer must: markup
// characters, the quote, and the white space an attribute would otherwise
// lose to normalisation.
func xmlAttrEscape(s string) string {
	return attrEscaper.Replace(s)
}

var attrEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\"", "&quot;", "\n", "&#10;", "\r", "&#13;", "\t", "&#9;")

func (s *Sim) cmdShowVMInfo(args []string) int {
	opts, pos, msg := getopt(args, spec("--details", "--machinereadable", "--log=", "--password-id=", "--password="))
	if msg != "" {
		return s.getoptError("showvminfo", msg, 2)
	}
	if len(pos) == 0 {
		return s.syntaxError("showvminfo", "VM name or UUID required", 2)
	}
	if len(pos) > 1 {
		return s.syntaxError("showvminfo", fmt.Sprintf("Invalid parameter '%s'", pos[1]), 2)
	}
	mr, logIdx := false, ""
	for _, o := range opts {
		switch o.name {
		case "--machinereadable":
			mr = true
		case "--log":
			logIdx = o.val
		}
	}
	ref := pos[0]
	notFound := s.notFoundIn("FindMachine(Bstr(VMNameOrUuid).raw(), machine.asOutParam())", "VBoxManageInfo.cpp", 2719)
	vm, code := s.lockFindVM(ref, false, notFound)
	if vm == nil {
		return code
	}
	release, notReady := s.acquireShared(vm)
	s.st.Unlock()
	if notReady {
		s.work()
		return s.notReady("COMGETTER(Groups)(ComSafeArrayAsOutParam(groups))", "VBoxManageInfo.cpp", 615)
	}
	defer release()
	vm, err := s.workThenFindVM(vm.UUID, false)
	if err != nil {
		return s.internalError(err)
	}
	if vm == nil {
		return notFound(ref)
	}
	if vm.inaccessible {
		if mr {
			fmt.Fprintf(s.stdout, "name=\"<inaccessible>\"\nUUID=\"%s\"\n", vm.UUID)
		} else {
			fmt.Fprint(s.stdout, s.inaccessibleHuman(vm))
		}
		return 0
	}
	if logIdx != "" {
		fmt.Fprintf(s.stdout, "%s VirtualBox VM %s r%s linux.amd64 (simulated log)\n", vboxTime(vm.StateChange), s.p.Short(), s.p.Revision())
		return 0
	}
	if mr {
		fmt.Fprint(s.stdout, s.machineReadable(vm))
	} else {
		fmt.Fprint(s.stdout, s.humanInfo(vm, isOnline(vm.State)))
	}
	return 0
}

// writeSession runs fn on a VM under the write lock: the lookup, the lease (or
// lockedErr when the machine is locked), the latency, then fn under the state
// lock; the state is saved only when fn returns 0.
func (s *Sim) writeSession(ref string, notFound func(string) int, lockedErr func(*VM) int, fn func(*VM) int) int {
	vm, code := s.lockFindVM(ref, true, notFound)
	if vm == nil {
		return code
	}
	if vm.inaccessible {
		s.st.Unlock()
		s.work()
		return s.inaccessibleError("LockMachine(a->session, LockType_Write)", "VBoxManageMisc.cpp", 100)
	}
	release, ok := s.acquireWrite(vm)
	if !ok {
		s.st.Unlock()
		s.work()
		return lockedErr(vm)
	}
	defer release()
	if err := s.st.Commit(); err != nil { // persist lazy transitions seen by findVM
		return s.internalError(err)
	}
	s.st.Unlock()
	s.work()
	if err := s.st.Lock(true); err != nil {
		return s.internalError(err)
	}
	vm, err := s.st.VM(vm.UUID)
	if err != nil {
		return s.internalError(err)
	}
	if _, err := s.st.Registry(); err != nil {
		return s.internalError(err)
	}
	code = fn(vm)
	if code == 0 {
		if err := s.st.Commit(); err != nil {
			return s.internalError(err)
		}
	}
	return code
}

func (s *Sim) lockedWrite(file string, line int) func(*VM) int {
	return func(vm *VM) int {
		return s.api(apiError{Msg: fmt.Sprintf("The machine '%s' is already locked for a session (or being unlocked)", vm.Name),
			Code: "VBOX_E_INVALID_OBJECT_STATE", Component: "MachineWrap", Interface: "IMachine",
			Context: "LockMachine(a->session, LockType_Write)", Line: line, File: file})
	}
}

func (s *Sim) notFoundIn(context, file string, line int) func(string) int {
	return func(ref string) int { return s.notFound(ref, context, file, line) }
}

func (s *Sim) cmdUnregisterVM(args []string) int {
	opts, pos, msg := getopt(args, spec("--delete", "--delete-all"))
	if msg != "" {
		return s.getoptError("unregistervm", msg, 2)
	}
	if len(pos) != 1 {
		if len(pos) == 0 {
			return s.syntaxError("unregistervm", "VM name required", 2)
		}
		return s.syntaxError("unregistervm", fmt.Sprintf("Invalid parameter '%s'", pos[1]), 2)
	}
	del, delAll := false, false
	for _, o := range opts {
		switch o.name {
		case "--delete":
			del = true
		case "--delete-all":
			if s.p.Is61() {
				return s.getoptError("unregistervm", "Unknown option: --delete-all", 2)
			}
			del, delAll = true, true
		}
	}
	locked := func(vm *VM) int {
		return s.api(apiError{Msg: fmt.Sprintf("Cannot unregister the machine '%s' while it is locked", vm.Name),
			Code: "VBOX_E_INVALID_OBJECT_STATE", Component: "MachineWrap", Interface: "IMachine",
			Context: "Unregister(CleanupMode_DetachAllReturnHardDisksOnly, ComSafeArrayAsOutParam(aMedia))", Line: 155, File: "VBoxManageMisc.cpp"})
	}
	return s.writeSession(pos[0], s.notFoundIn("FindMachine(Bstr(VMName).raw(), machine.asOutParam())", "VBoxManageMisc.cpp", 140), locked,
		func(vm *VM) int {
			reg, _ := s.st.Registry()
			for i, e := range reg.VMs {
				if e.UUID == vm.UUID {
					reg.VMs = append(reg.VMs[:i], reg.VMs[i+1:]...)
					break
				}
			}
			s.st.MarkRegistry()
			if !del {
				// The VM stays known (by its settings file) for registervm.
				s.st.PutVM(vm)
				return 0
			}
			s.progress()
			s.slow(2)
			s.deleteMachineFiles(reg, vm, delAll)
			s.st.DeleteVM(vm.UUID)
			return 0
		})
}

// deleteMachineFiles removes the settings, logs, saved state, snapshot
// differencing images and attached hard disks (and DVD/floppy images with
// --delete-all), and closes those media.
func (s *Sim) deleteMachineFiles(reg *Registry, vm *VM, all bool) {
	used := map[string]bool{}
	collect := func(hw *Hardware) {
		for _, a := range hw.Attachments {
			if a.Medium != "" {
				used[a.Medium] = true
			}
		}
	}
	collect(&vm.HW)
	var walk func(sn *Snapshot)
	walk = func(sn *Snapshot) {
		if sn == nil {
			return
		}
		collect(&sn.HW)
		for _, c := range sn.Children {
			walk(c)
		}
	}
	walk(vm.Snapshot)
	// Include parents of used differencing images.
	for changed := true; changed; {
		changed = false
		for _, m := range reg.Media {
			if used[m.UUID] && m.Parent != "" && !used[m.Parent] {
				used[m.Parent] = true
				changed = true
			}
		}
	}
	var keep []*Medium
	for _, m := range reg.Media {
		if used[m.UUID] && (m.Kind == "hdd" || all) && !s.mediumUsedElsewhere(reg, m.UUID, vm.UUID) {
			os.Remove(m.Location)
			continue
		}
		keep = append(keep, m)
	}
	reg.Media = keep
	os.Remove(vm.CfgFile)
	os.Remove(vm.CfgFile + "-prev")
	os.Remove(strings.TrimSuffix(vm.CfgFile, ".vbox") + ".nvram")
	if vm.StateFile != "" {
		os.Remove(vm.StateFile)
	}
	os.RemoveAll(vm.logFolder())
	os.Remove(vm.SnapFolder) // only when empty, as VirtualBox does
	os.Remove(filepath.Dir(vm.CfgFile))
}

// mediumUsedElsewhere reports whether another registered VM attaches the medium.
func (s *Sim) mediumUsedElsewhere(reg *Registry, medium, except string) bool {
	return slices.ContainsFunc(s.mediumUsers(reg, medium), func(vm *VM) bool { return vm.UUID != except })
}

// renameVM changes a VM's name and, as VirtualBox does when the settings file
// follows the name, moves its folder and settings file.
func (s *Sim) renameVM(reg *Registry, vm *VM, newName string) int {
	for _, e := range reg.VMs {
		if e.Name == newName && e.UUID != vm.UUID {
			return s.api(apiError{Msg: fmt.Sprintf("Could not rename the directory '%s' to '%s' to save the settings file (VERR_ALREADY_EXISTS)",
				filepath.Dir(vm.CfgFile), filepath.Join(filepath.Dir(filepath.Dir(vm.CfgFile)), sanitizeFileName(newName))),
				Code: "VBOX_E_FILE_ERROR", Component: "SessionMachine", Interface: "IMachine", Context: "SaveSettings()", Line: 3212, File: "VBoxManageModifyVM.cpp"})
		}
	}
	oldDir, oldBase := filepath.Dir(vm.CfgFile), filepath.Base(vm.CfgFile)
	oldFName := sanitizeFileName(vm.Name)
	vm.Name = newName
	if filepath.Base(oldDir) != oldFName || oldBase != oldFName+".vbox" {
		return 0
	}
	newFName := sanitizeFileName(newName)
	newDir := filepath.Join(filepath.Dir(oldDir), newFName)
	if _, err := os.Stat(newDir); err == nil && newDir != oldDir {
		return 0 // target exists: VirtualBox keeps the old folder
	}
	if err := os.Rename(oldDir, newDir); err != nil {
		return 0
	}
	os.Rename(filepath.Join(newDir, oldBase), filepath.Join(newDir, newFName+".vbox"))
	vm.CfgFile = filepath.Join(newDir, newFName+".vbox")
	if strings.HasPrefix(vm.SnapFolder, oldDir+"/") {
		vm.SnapFolder = newDir + strings.TrimPrefix(vm.SnapFolder, oldDir)
	}
	for _, m := range reg.Media {
		if strings.HasPrefix(m.Location, oldDir+"/") {
			m.Location = newDir + strings.TrimPrefix(m.Location, oldDir)
			s.st.MarkRegistry()
		}
	}
	return 0
}
