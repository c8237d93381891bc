package vboxsim

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// findSnapshot finds a snapshot by name or UUID (depth first); parent is nil for the root.
func findSnapshot(root *Snapshot, ref string) (sn, parent *Snapshot) {
	var walk func(n, p *Snapshot) bool
	walk = func(n, p *Snapshot) bool {
		if n.UUID == strings.Trim(strings.ToLower(ref), "{}") || n.Name == ref {
			sn, parent = n, p
			return true
		}
		for _, c := range n.Children {
			if walk(c, n) {
				return true
			}
		}
		return false
	}
	if root != nil {
		walk(root, nil)
	}
	return sn, parent
}

func (s *Sim) snapshotNotFound(vm *VM, ref string) int {
	msg := fmt.Sprintf("Could not find a snapshot named '%s'", ref)
	if vm.Snapshot == nil {
		msg = "This machine does not have any snapshots"
	}
	return s.api(apiError{Msg: msg, Code: "VBOX_E_OBJECT_NOT_FOUND", Component: "SessionMachine", Interface: "IMachine",
		Context: "FindSnapshot(Bstr(a->argv[2]).raw(), pSnapshot.asOutParam())", Line: 513, File: "VBoxManageSnapshot.cpp"})
}

// diffDisks gives every attached hard disk of hw a new differencing child in
// the snapshot folder, as taking or restoring a snapshot does.
func (s *Sim) diffDisks(vm *VM, hw *Hardware) {
	reg, _ := s.st.Registry()
	os.MkdirAll(vm.SnapFolder, 0o755)
	for i := range hw.Attachments {
		a := &hw.Attachments[i]
		if a.Type != "hdd" || a.Medium == "" {
			continue
		}
		parent := s.mediumByUUID(a.Medium)
		if parent == nil {
			continue
		}
		u := s.newUUID()
		loc := filepath.Join(vm.SnapFolder, "{"+u+"}.vdi")
		writeImage(loc, "VDI", parent.SizeMB)
		reg.Media = append(reg.Media, &Medium{UUID: u, Kind: "hdd", Location: loc, Format: "VDI", SizeMB: parent.SizeMB, Parent: parent.UUID, Type: "normal"})
		a.Medium = u
	}
	s.st.MarkRegistry()
}

func (s *Sim) cmdSnapshot(args []string) int {
	if len(args) < 2 {
		return s.syntaxError("snapshot", "Not enough parameters", 2)
	}
	ref, sub, rest := args[0], args[1], args[2:]
	switch sub {
	case "take", "delete", "restore", "restorecurrent", "edit", "list", "showvminfo":
	default:
		return s.syntaxError("snapshot", fmt.Sprintf("Invalid parameter '%s'", sub), 1)
	}
	if err := s.st.Lock(true); err != nil {
		return s.internalError(err)
	}
	vm, err := s.findVM(ref)
	if err != nil {
		return s.internalError(err)
	}
	if vm == nil {
		s.work()
		return s.notFound(ref, "FindMachine(Bstr(a->argv[0]).raw(), pMachine.asOutParam())", "VBoxManageSnapshot.cpp", 430)
	}
	if vm.inaccessible {
		s.work()
		return s.inaccessibleError("LockMachine(a->session, LockType_Shared)", "VBoxManageSnapshot.cpp", 440)
	}
	if s.machineLocked(vm) && !isOnline(vm.State) && sub != "list" && sub != "showvminfo" {
		s.work()
		return s.api(apiError{Msg: fmt.Sprintf("The machine '%s' is already locked for a session (or being unlocked)", vm.Name),
			Code: "VBOX_E_INVALID_OBJECT_STATE", Component: "MachineWrap", Interface: "IMachine",
			Context: "LockMachine(a->session, LockType_Shared)", Line: 440, File: "VBoxManageSnapshot.cpp"})
	}
	s.work()
	code := s.snapshotOp(vm, sub, rest)
	if code == 0 && sub != "list" && sub != "showvminfo" {
		s.st.PutVM(vm)
		if err := s.st.Commit(); err != nil {
			return s.internalError(err)
		}
	}
	return code
}

func (s *Sim) snapshotOp(vm *VM, sub string, rest []string) int {
	switch sub {
	case "take":
		opts, pos, msg := getopt(rest, spec("-d|--description=", "--live", "--pause", "--uniquename="))
		if msg != "" {
			return s.syntaxError("snapshot", msg, 1)
		}
		if len(pos) == 0 {
			return s.syntaxError("snapshot", "Missing snapshot name", 1)
		}
		if len(pos) > 1 {
			return s.syntaxError("snapshot", fmt.Sprintf("Invalid parameter '%s'", pos[1]), 1)
		}
		name, desc, unique := pos[0], "", ""
		for _, o := range opts {
			switch o.name {
			case "--description":
				desc = o.val
			case "--uniquename":
				unique = o.val
			}
		}
		if unique != "" {
			base := name
			for n := 1; ; n++ {
				if sn, _ := findSnapshot(vm.Snapshot, name); sn == nil {
					break
				}
				switch {
				case strings.Contains(strings.ToLower(unique), "timestamp"):
					name = base + " " + vboxTime(s.now()) + fmt.Sprint(n)
				case strings.Contains(strings.ToLower(unique), "space"):
					name = fmt.Sprintf("%s %d", base, n)
				default:
					name = fmt.Sprintf("%s%d", base, n)
				}
			}
		}
		s.progress()
		s.slow(2)
		sn := &Snapshot{Name: name, UUID: s.newUUID(), Description: desc, Taken: s.now(), Online: isOnline(vm.State), HW: cloneHardware(vm.HW)}
		if cur, _ := findSnapshot(vm.Snapshot, vm.CurrentSnap); cur != nil {
			cur.Children = append(cur.Children, sn)
		} else {
			vm.Snapshot = sn
		}
		vm.CurrentSnap = sn.UUID
		s.diffDisks(vm, &vm.HW)
		fmt.Fprintf(s.stdout, "Snapshot taken. UUID: %s\n", sn.UUID)
		return 0
	case "delete":
		if len(rest) != 1 {
			return s.syntaxError("snapshot", "Expecting snapshot name only", 1)
		}
		sn, parent := findSnapshot(vm.Snapshot, rest[0])
		if sn == nil {
			return s.snapshotNotFound(vm, rest[0])
		}
		if len(sn.Children) > 1 {
			return s.api(apiError{Msg: fmt.Sprintf("Snapshot '%s' of the machine '%s' has more than one child snapshot (%d)", sn.Name, vm.Name, len(sn.Children)),
				Code: "VBOX_E_INVALID_OBJECT_STATE", Component: "SessionMachine", Interface: "IMachine",
				Context: "DeleteSnapshot(bstrSnapGuid.raw(), pProgress.asOutParam())", Line: 600, File: "VBoxManageSnapshot.cpp"})
		}
		fmt.Fprintf(s.stdout, "Deleting snapshot '%s' (%s)\n", sn.Name, sn.UUID)
		s.progress()
		if parent == nil {
			if len(sn.Children) == 1 {
				vm.Snapshot = sn.Children[0]
			} else {
				vm.Snapshot = nil
			}
		} else {
			for i, c := range parent.Children {
				if c == sn {
					parent.Children = append(append(parent.Children[:i:i], sn.Children...), parent.Children[i+1:]...)
					break
				}
			}
		}
		if vm.CurrentSnap == sn.UUID {
			vm.CurrentSnap = ""
			if parent != nil {
				vm.CurrentSnap = parent.UUID
			} else if vm.Snapshot != nil {
				vm.CurrentSnap = vm.Snapshot.UUID
			}
		}
		return 0
	case "restore", "restorecurrent":
		var sn *Snapshot
		if sub == "restorecurrent" {
			if len(rest) != 0 {
				return s.syntaxError("snapshot", "Too many arguments", 1)
			}
			if sn, _ = findSnapshot(vm.Snapshot, vm.CurrentSnap); sn == nil {
				fmt.Fprintln(s.stdout, "This machine does not have any snapshots")
				return 1
			}
		} else {
			if len(rest) != 1 {
				return s.syntaxError("snapshot", "Expecting snapshot name only", 1)
			}
			if sn, _ = findSnapshot(vm.Snapshot, rest[0]); sn == nil {
				return s.snapshotNotFound(vm, rest[0])
			}
		}
		if isOnline(vm.State) {
			return s.api(apiError{Msg: fmt.Sprintf("Cannot delete the current state of the running machine (machine state: %s)", stateCamel(vm.State)),
				Code: "VBOX_E_INVALID_VM_STATE", Component: "SessionMachine", Interface: "IMachine",
				Context: "RestoreSnapshot(pSnapshot, pProgress.asOutParam())", Line: 650, File: "VBoxManageSnapshot.cpp"})
		}
		fmt.Fprintf(s.stdout, "Restoring snapshot '%s' (%s)\n", sn.Name, sn.UUID)
		s.progress()
		vm.HW = cloneHardware(sn.HW)
		s.diffDisks(vm, &vm.HW)
		vm.CurrentSnap = sn.UUID
		if vm.StateFile != "" {
			os.Remove(vm.StateFile)
			vm.StateFile = ""
		}
		vm.State, vm.StateChange = "poweroff", s.now()
		if sn.Online {
			vm.State = "saved"
			vm.StateFile = filepath.Join(vm.SnapFolder, "{"+sn.UUID+"}.sav")
			os.WriteFile(vm.StateFile, []byte("vboxsim saved state\n"), 0o644)
		}
		return 0
	case "edit":
		opts, pos, msg := getopt(rest, spec("--current", "-n|--name=", "-d|--description="))
		if msg != "" {
			return s.syntaxError("snapshot", msg, 1)
		}
		var sn *Snapshot
		current := false
		for _, o := range opts {
			if o.name == "--current" {
				current = true
			}
		}
		switch {
		case current:
			sn, _ = findSnapshot(vm.Snapshot, vm.CurrentSnap)
			if sn == nil {
				return s.snapshotNotFound(vm, "--current")
			}
		case len(pos) == 1:
			if sn, _ = findSnapshot(vm.Snapshot, pos[0]); sn == nil {
				return s.snapshotNotFound(vm, pos[0])
			}
		default:
			return s.syntaxError("snapshot", "Expecting snapshot name only", 1)
		}
		for _, o := range opts {
			switch o.name {
			case "--name":
				sn.Name = o.val
			case "--description":
				sn.Description = o.val
			}
		}
		return 0
	case "list":
		opts, pos, msg := getopt(rest, spec("--details", "--machinereadable"))
		if msg != "" || len(pos) > 0 {
			if msg == "" {
				msg = fmt.Sprintf("Invalid parameter '%s'", pos[0])
			}
			return s.syntaxError("snapshot", msg, 1)
		}
		if vm.Snapshot == nil {
			fmt.Fprintln(s.stdout, "This machine does not have any snapshots")
			return 1
		}
		mr, details := false, false
		for _, o := range opts {
			if o.name == "--machinereadable" {
				mr = true
			} else {
				details = true
			}
		}
		if mr {
			var b strings.Builder
			s.mrSnapshots(&b, vm)
			fmt.Fprint(s.stdout, b.String())
			return 0
		}
		var b strings.Builder
		if details {
			s.humanSnapshots(&b, vm)
		} else {
			cp := *vm
			cp.Snapshot = withoutDescriptions(vm.Snapshot)
			s.humanSnapshots(&b, &cp)
		}
		fmt.Fprint(s.stdout, b.String())
		return 0
	case "showvminfo":
		if len(rest) != 1 {
			return s.syntaxError("snapshot", "Expecting snapshot name only", 1)
		}
		sn, _ := findSnapshot(vm.Snapshot, rest[0])
		if sn == nil {
			return s.snapshotNotFound(vm, rest[0])
		}
		cp := *vm
		cp.HW = cloneHardware(sn.HW)
		cp.State, cp.StateChange, cp.Snapshot = "poweroff", sn.Taken, nil
		if sn.Online {
			cp.State = "saved"
		}
		fmt.Fprint(s.stdout, s.humanInfo(&cp, false))
		return 0
	}
	return 1
}

func (s *Sim) cmdCloneVM(args []string) int {
	if len(args) < 1 {
		return s.syntaxError("clonevm", "Not enough parameters", 2)
	}
	opts, pos, msg := getopt(args, spec("--snapshot=", "--name=", "--groups=", "--mode=", "--options=", "--register", "--basefolder=", "--uuid="))
	if msg != "" {
		return s.syntaxError("clonevm", msg, 2)
	}
	if len(pos) != 1 {
		if len(pos) == 0 {
			return s.syntaxError("clonevm", "VM name or UUID required", 2)
		}
		return s.syntaxError("clonevm", fmt.Sprintf("Invalid parameter '%s'", pos[1]), 2)
	}
	var snapName, name, groups, basefolder, uuid string
	register, link, keepMACs, keepNATMACs, keepNames := false, false, false, false, false
	for _, o := range opts {
		switch o.name {
		case "--snapshot":
			snapName = o.val
		case "--name":
			name = o.val
		case "--groups":
			groups = o.val
		case "--mode":
			switch strings.ToLower(o.val) {
			case "machine", "machineandchildren", "all":
			default:
				return s.syntaxError("clonevm", fmt.Sprintf("Invalid clone mode '%s'", o.val), 2)
			}
		case "--options":
			for _, f := range strings.Split(o.val, ",") {
				switch strings.ToLower(strings.TrimSpace(f)) {
				case "link":
					link = true
				case "keepallmacs":
					keepMACs = true
				case "keepnatmacs":
					keepNATMACs = true
				case "keepdisknames":
					keepNames = true
				case "keephwuuids", "":
				default:
					return s.syntaxError("clonevm", fmt.Sprintf("Invalid clone options '%s'", o.val), 2)
				}
			}
		case "--register":
			register = true
		case "--basefolder":
			basefolder = o.val
		case "--uuid":
			uuid = strings.Trim(strings.ToLower(o.val), "{}")
		}
	}
	if err := s.st.Lock(true); err != nil {
		return s.internalError(err)
	}
	reg, err := s.st.Registry()
	if err != nil {
		return s.internalError(err)
	}
	src, err := s.findVM(pos[0])
	if err != nil {
		return s.internalError(err)
	}
	s.work()
	if src == nil {
		return s.notFound(pos[0], "FindMachine(Bstr(pszSrcName).raw(), srcMachine.asOutParam())", "VBoxManageMisc.cpp", 560)
	}
	if src.inaccessible {
		return s.inaccessibleError("CloneTo(trgMachine, mode, ComSafeArrayAsInParam(options), progress.asOutParam())", "VBoxManageMisc.cpp", 620)
	}
	hw := cloneHardware(src.HW)
	if snapName != "" {
		sn, _ := findSnapshot(src.Snapshot, snapName)
		if sn == nil {
			return s.snapshotNotFound(src, snapName)
		}
		hw = cloneHardware(sn.HW)
	} else if link {
		return s.api(apiError{Msg: "Linked clone can only be created from a snapshot", Code: "E_INVALIDARG", Component: "SessionMachine",
			Interface: "IMachine", Context: "CloneTo(trgMachine, mode, ComSafeArrayAsInParam(options), progress.asOutParam())", Line: 620, File: "VBoxManageMisc.cpp"})
	}
	if name == "" {
		name = src.Name + " Clone"
	}
	groupList := src.Groups
	if groups != "" {
		groupList = strings.Split(groups, ",")
	}
	if basefolder == "" {
		basefolder = s.env.MachineFolder
	}
	fname := sanitizeFileName(name)
	cfg, _ := filepath.Abs(filepath.Join(basefolder, fname, fname+".vbox"))
	if _, err := os.Stat(cfg); err == nil {
		return s.api(apiError{Msg: fmt.Sprintf("Machine settings file '%s' already exists", cfg), Code: "VBOX_E_FILE_ERROR",
			Component: "MachineWrap", Interface: "IMachine",
			Context: "CreateMachine(Bstr(strSettingsFile).raw(), Bstr(pszTrgName).raw(), ComSafeArrayAsInParam(groups), NULL, Bstr(strCreateFlags).raw(), trgMachine.asOutParam())",
			Line:    590, File: "VBoxManageMisc.cpp"})
	}
	if uuid == "" {
		uuid = s.newUUID()
	}
	dst := &VM{Name: name, UUID: uuid, Groups: groupList, CfgFile: cfg, HardwareUUID: uuid, HW: hw, State: "poweroff",
		StateChange: s.now(), SnapFolder: filepath.Join(filepath.Dir(cfg), "Snapshots"), Description: src.Description}
	for i := range dst.HW.NICs {
		n := &dst.HW.NICs[i]
		if keepMACs || (keepNATMACs && n.Attach == "nat") {
			continue
		}
		n.MAC = s.newMAC()
	}
	if err := os.MkdirAll(filepath.Dir(cfg), 0o755); err != nil {
		return s.fail("Could not create the directory '%s'", filepath.Dir(cfg))
	}
	disk := 0
	for i := range dst.HW.Attachments {
		a := &dst.HW.Attachments[i]
		m := s.mediumByUUID(a.Medium)
		if a.Type != "hdd" || m == nil {
			continue
		}
		disk++
		if link {
			continue // re-pointed to a differencing child below
		}
		loc := filepath.Join(filepath.Dir(cfg), fmt.Sprintf("%s-disk%03d.vdi", fname, disk))
		if keepNames {
			loc = filepath.Join(filepath.Dir(cfg), filepath.Base(m.Location))
		}
		writeImage(loc, "VDI", m.SizeMB)
		nm := &Medium{UUID: s.newUUID(), Kind: "hdd", Location: loc, Format: "VDI", SizeMB: m.SizeMB, Type: "normal"}
		reg.Media = append(reg.Media, nm)
		a.Medium = nm.UUID
	}
	if link {
		s.diffDisks(dst, &dst.HW)
	}
	s.progress()
	s.slow(2 + disk)
	if err := writeVBoxFile(dst); err != nil {
		return s.internalError(err)
	}
	s.st.PutVM(dst)
	if register {
		reg.VMs = append(reg.VMs, RegEntry{UUID: dst.UUID, Name: dst.Name, State: dst.State})
	}
	s.st.MarkRegistry()
	if err := s.st.Commit(); err != nil {
		return s.internalError(err)
	}
	fmt.Fprintf(s.stdout, "Machine has been successfully cloned as \"%s\"\n", name)
	return 0
}

// withoutDescriptions copies a snapshot tree without its descriptions
// (`snapshot list` without --details prints none).
func withoutDescriptions(sn *Snapshot) *Snapshot {
	cp := *sn
	cp.Description = ""
	cp.Children = nil
	for _, c := range sn.Children {
		cp.Children = append(cp.Children, withoutDescriptions(c))
	}
	return &cp
}
