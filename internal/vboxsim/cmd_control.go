package vboxsim

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// sessionName is SessionName= for a startvm --type.
func sessionName(t string) string {
	switch t {
	case "gui", "separate":
		return "GUI/Qt"
	case "sdl":
		return "GUI/SDL"
	}
	return "headless"
}

func (s *Sim) cmdStartVM(args []string) int {
	opts, pos, msg := getopt(args, spec("--type=", "-E|--putenv=", "--password=", "--password-id="))
	if msg != "" {
		return s.getoptError("startvm", msg, 2)
	}
	typ, display := "gui", os.Getenv("DISPLAY")
	for _, o := range opts {
		if v, ok := strings.CutPrefix(o.val, "DISPLAY="); ok && o.name == "--putenv" {
			display = v
		}
		if o.name == "--type" {
			switch o.val {
			case "gui", "headless", "sdl", "separate", "vrdp", "emergencystop":
				typ = o.val
			default:
				return s.syntaxError("startvm", fmt.Sprintf("Invalid session type '%s'", o.val), 2)
			}
		}
	}
	if len(pos) == 0 {
		return s.syntaxError("startvm", "at least one VM name or uuid required", 2)
	}
	for _, ref := range pos {
		locked := func(vm *VM) int {
			return s.api(apiError{Msg: fmt.Sprintf("The machine '%s' is already locked by a session (or being locked or unlocked)", vm.Name),
				Code: "VBOX_E_INVALID_OBJECT_STATE", Component: "MachineWrap", Interface: "IMachine",
				Context: "LaunchVMProcess(a->session, sessionType.raw(), ComSafeArrayAsInParam(aBstrEnv), progress.asOutParam())", Line: 881, File: "VBoxManageMisc.cpp"})
		}
		code := s.writeSession(ref, s.notFoundIn("FindMachine(Bstr(VMName).raw(), machine.asOutParam())", "VBoxManageMisc.cpp", 860), locked,
			func(vm *VM) int {
				fmt.Fprintf(s.stdout, "Waiting for VM \"%s\" to power on...\n", ref)
				s.slow(3)
				if typ == "emergencystop" {
					return 0
				}
				if s.env.RequireDisplay && display == "" && (typ == "gui" || typ == "sdl" || typ == "separate") {
					fmt.Fprintf(s.stderr, "VBoxManage: error: The virtual machine '%s' has terminated unexpectedly during startup with exit code 1 (0x1).  More details may be available in '%s'\n",
						vm.Name, filepath.Join(vm.logFolder(), "VBoxHardening.log"))
					fmt.Fprint(s.stderr, "VBoxManage: error: Details: code NS_ERROR_FAILURE (0x80004005), component MachineWrap, interface IMachine\n")
					return 1
				}
				if vm.StateFile != "" {
					os.Remove(vm.StateFile)
					vm.StateFile = ""
				}
				vm.State, vm.StateChange, vm.SessionType = "running", s.now(), sessionName(typ)
				vm.StartedAt, vm.ACPIAt, vm.ReleaseAt = s.now(), time.Time{}, time.Time{}
				s.st.PutVM(vm)
				s.serveUARTs(vm) // they wait for the state lock, so they see the VM running
				fmt.Fprintf(s.stdout, "VM \"%s\" has been successfully started.\n", ref)
				return 0
			})
		if code != 0 {
			return code
		}
	}
	return 0
}

// ignoresACPI reports a guest marked (extradata vboxsim/IgnoreACPI=1, or ACPI
// disabled in its settings) not to react to the power button.
func ignoresACPI(vm *VM) bool {
	if v := vm.ExtraData["vboxsim/IgnoreACPI"]; v == "1" || strings.EqualFold(v, "true") || strings.EqualFold(v, "on") {
		return true
	}
	return !vm.HW.Flags["acpi"]
}

func (s *Sim) cmdControlVM(args []string) int {
	if len(args) < 2 {
		return s.syntaxError("controlvm", "Not enough parameters", 2)
	}
	ref, sub, rest := args[0], args[1], args[2:]
	notFound := s.notFoundIn("FindMachine(Bstr(a->argv[0]).raw(), machine.asOutParam())", "VBoxManageControlVM.cpp", 235)
	vm, code := s.lockFindVM(ref, true, notFound)
	if vm == nil {
		return code
	}
	s.st.Commit()
	if vm.inaccessible {
		s.st.Unlock()
		s.work()
		return s.inaccessibleError("LockMachine(a->session, LockType_Shared)", "VBoxManageControlVM.cpp", 240)
	}
	if !isOnline(vm.State) {
		s.st.Unlock()
		s.work()
		return s.fail("Machine '%s' is not currently running%s", vm.Name, s.p.dot())
	}
	release, notReady := s.acquireShared(vm)
	s.st.Unlock()
	if notReady {
		s.work()
		return s.notReady("LockMachine(a->session, LockType_Shared)", "VBoxManageControlVM.cpp", 240)
	}
	defer release()
	vm, err := s.workThenFindVM(vm.UUID, true)
	if err != nil {
		return s.internalError(err)
	}
	if vm == nil {
		return notFound(ref)
	}
	if !isOnline(vm.State) { // powered off while we waited
		return s.fail("Machine '%s' is not currently running%s", vm.Name, s.p.dot())
	}
	code = s.controlOp(vm, sub, rest)
	if code == 0 {
		s.st.PutVM(vm)
		if err := s.st.Commit(); err != nil {
			return s.internalError(err)
		}
	}
	return code
}

func (s *Sim) invalidState(vm *VM, context string) int {
	return s.api(apiError{Msg: "Invalid machine state: " + stateCamel(vm.State), Code: "VBOX_E_INVALID_VM_STATE",
		Component: "ConsoleWrap", Interface: "IConsole", Context: context, Line: 285, File: "VBoxManageControlVM.cpp"})
}

// powerDown stops the VM process; its session lock lingers for LockLinger.
func (s *Sim) powerDown(vm *VM, state string) {
	now := s.now()
	vm.State, vm.StateChange, vm.SessionType = state, now, ""
	vm.ACPIAt = time.Time{}
	vm.ReleaseAt = now.Add(s.env.LockLinger)
}

func (s *Sim) controlOp(vm *VM, sub string, rest []string) int {
	idx := func(prefix string) (int, bool) {
		if !strings.HasPrefix(sub, prefix) {
			return 0, false
		}
		n, err := strconv.Atoi(sub[len(prefix):])
		return n, err == nil
	}
	switch sub {
	case "pause":
		if vm.State != "running" {
			return s.invalidState(vm, "Pause()")
		}
		vm.State, vm.StateChange = "paused", s.now()
		return 0
	case "resume":
		if vm.State != "paused" {
			return s.api(apiError{Msg: fmt.Sprintf("Cannot resume the machine as it is not paused (machine state: %s)", stateCamel(vm.State)),
				Code: "VBOX_E_INVALID_VM_STATE", Component: "ConsoleWrap", Interface: "IConsole", Context: "Resume()", Line: 280, File: "VBoxManageControlVM.cpp"})
		}
		vm.State, vm.StateChange = "running", s.now()
		return 0
	case "reset":
		vm.ACPIAt = time.Time{}
		return 0
	case "poweroff":
		s.progress()
		s.powerDown(vm, "poweroff")
		return 0
	case "savestate":
		s.progress()
		s.powerDown(vm, "saved")
		vm.StateFile = filepath.Join(vm.SnapFolder, vm.StateChange.UTC().Format("2006-01-02T15-04-05-")+fmt.Sprintf("%03d000000Z.sav", vm.StateChange.Nanosecond()/1e6))
		os.MkdirAll(vm.SnapFolder, 0o755)
		os.WriteFile(vm.StateFile, []byte("vboxsim saved state\n"), 0o644)
		return 0
	case "acpipowerbutton":
		if vm.State != "running" {
			return s.invalidState(vm, "PowerButton()")
		}
		if !ignoresACPI(vm) && vm.ACPIAt.IsZero() {
			vm.ACPIAt = s.now().Add(s.env.ACPIDelay)
		}
		return 0
	case "acpisleepbutton":
		if vm.State != "running" {
			return s.invalidState(vm, "SleepButton()")
		}
		return 0
	case "keyboardputscancode":
		if len(rest) == 0 {
			return s.syntaxError("controlvm", "Missing argument to 'keyboardputscancode'. Expected IBM PC AT set 2 keyboard scancode(s) as hex byte(s).", 2)
		}
		for _, h := range rest {
			if _, err := strconv.ParseUint(h, 16, 8); err != nil || len(h) > 2 {
				return s.fail("Error: '%s' is not a hex byte!", h)
			}
		}
		if vm.State != "running" && vm.State != "paused" {
			return s.api(apiError{Msg: "The console is not powered up", Code: "E_ACCESSDENIED", Component: "Keyboard",
				Interface: "IKeyboard", Context: "PutScancodes(ComSafeArrayAsInParam(saScancodes), &codesStored)", Line: 1010, File: "VBoxManageControlVM.cpp"})
		}
		return 0
	case "keyboardputstring":
		return 0
	case "screenshotpng":
		if len(rest) == 0 {
			return s.syntaxError("controlvm", "Incorrect number of parameters", 2)
		}
		display := 0
		if len(rest) > 1 {
			d, err := strconv.Atoi(rest[1])
			if err != nil || d < 0 || d >= vm.HW.MonitorCount {
				return s.api(apiError{Msg: fmt.Sprintf("Invalid display number %s", rest[1]), Code: "E_INVALIDARG", Component: "DisplayWrap",
					Interface: "IDisplay", Context: "GetScreenResolution(displayIdx, &width, &height, &bpp, &xOrigin, &yOrigin, &monitorStatus)", Line: 1570, File: "VBoxManageControlVM.cpp"})
			}
			display = d
		}
		img, err := screenshotPNG(vm.Name, display)
		if err != nil {
			return s.internalError(err)
		}
		if err := os.WriteFile(rest[0], img, 0o644); err != nil {
			return s.fail("Failed to create file '%s' (%s)", rest[0], "VERR_FILE_NOT_FOUND")
		}
		return 0
	case "vrde":
		if len(rest) == 0 {
			return s.syntaxError("controlvm", "Incorrect number of parameters", 2)
		}
		b, ok := parseBool(rest[0])
		if !ok {
			return s.fail("Invalid remote desktop server state '%s'", rest[0])
		}
		vm.HW.VRDE.Enabled = b
		return 0
	case "vrdeport":
		if len(rest) == 0 {
			return s.syntaxError("controlvm", "Incorrect number of parameters", 2)
		}
		vm.HW.VRDE.Ports = rest[0]
		return 0
	}
	if n, ok := idx("setlinkstate"); ok {
		if n < 1 || n > len(vm.HW.NICs) {
			return s.fail("Invalid NIC number %d", n)
		}
		if len(rest) == 0 {
			return s.syntaxError("controlvm", "Incorrect number of parameters", 2)
		}
		b, ok := parseBool(rest[0])
		if !ok {
			return s.fail("Invalid link state '%s'", rest[0])
		}
		vm.HW.NICs[n-1].Cable = b
		return 0
	}
	if n, ok := idx("natpf"); ok {
		if n < 1 || n > len(vm.HW.NICs) {
			return s.fail("Invalid NIC number %d", n)
		}
		if len(rest) == 0 {
			return s.syntaxError("controlvm", "Incorrect number of parameters", 2)
		}
		return s.natpf(&vm.HW.NICs[n-1], rest[0], rest[1:])
	}
	if n, ok := idx("nic"); ok {
		if n < 1 || n > len(vm.HW.NICs) {
			return s.fail("Invalid NIC number %d", n)
		}
		if len(rest) == 0 {
			return s.syntaxError("controlvm", "Incorrect number of parameters", 2)
		}
		nic := &vm.HW.NICs[n-1]
		if nic.Attach == "none" {
			return s.fail("Setting the attachment type of a disabled adapter is not possible (NIC %d)", n)
		}
		arg := ""
		if len(rest) > 1 {
			arg = rest[1]
		}
		need := func() int { return s.fail("Missing argument to '%s'", sub) }
		switch strings.ToLower(rest[0]) {
		case "null":
			nic.Attach = "null"
		case "nat":
			nic.Attach = "nat"
			if nic.NATNet == "" {
				nic.NATNet = "nat"
			}
		case "bridged":
			if arg == "" {
				return need()
			}
			nic.Attach, nic.Bridge = "bridged", arg
		case "intnet":
			if arg == "" {
				return need()
			}
			nic.Attach, nic.IntNet = "intnet", arg
		case "hostonly":
			if arg == "" {
				return need()
			}
			nic.Attach, nic.HostOnly = "hostonly", arg
		case "generic":
			if arg == "" {
				return need()
			}
			nic.Attach, nic.Generic = "generic", arg
		case "natnetwork":
			if arg == "" {
				return need()
			}
			nic.Attach, nic.NATNetwork = "natnetwork", arg
		default:
			return s.fail("Invalid type '%s' specfied for NIC %d", rest[0], n)
		}
		return 0
	}
	fmt.Fprint(s.stderr, s.usageText("controlvm"))
	return s.fail("Invalid parameter '%s'", sub)
}

func (s *Sim) cmdDiscardState(args []string) int {
	if len(args) != 1 {
		return s.syntaxError("discardstate", "Incorrect number of parameters", 2)
	}
	return s.writeSession(args[0], s.notFoundIn("FindMachine(Bstr(a->argv[0]).raw(), machine.asOutParam())", "VBoxManageMisc.cpp", 1012),
		s.lockedWrite("VBoxManageMisc.cpp", 1016), func(vm *VM) int {
			if vm.State != "saved" && vm.State != "aborted-saved" {
				return s.api(apiError{Msg: fmt.Sprintf("Cannot discard the saved state as the machine is not in the saved state (machine state: %s)", stateCamel(vm.State)),
					Code: "VBOX_E_INVALID_VM_STATE", Component: "SessionMachine", Interface: "IMachine",
					Context: "DiscardSavedState(true)", Line: 1021, File: "VBoxManageMisc.cpp"})
			}
			if vm.StateFile != "" {
				os.Remove(vm.StateFile)
			}
			vm.StateFile = ""
			if vm.State == "aborted-saved" {
				vm.State = "aborted"
			} else {
				vm.State = "poweroff"
			}
			vm.StateChange = s.now()
			s.st.PutVM(vm)
			return 0
		})
}
