package vboxsim

import "fmt"

// cmdDebugVM is `debugvm <vm> <sub-command>` (VBoxManageDebugVM.cpp): the
// machine is looked up and locked shared; without a running console the
// command fails with `Machine '<vm as given>' is not currently running.`
// (every version, with the dot) before the sub-command is looked at. The
// statistics sub-command is debugVMStatistics (cmd_stats.go); of the others only
// injectnmi is simulated (silent, exit 0; it takes no argument); it is
// recorded in the invocation log like every call.
func (s *Sim) cmdDebugVM(args []string) int {
	if len(args) < 2 {
		return s.syntaxError("debugvm", "No subcommand specified", 2)
	}
	if args[1] == "statistics" {
		return s.debugVMStatistics(args)
	}
	ref, sub, rest := args[0], args[1], args[2:]
	notFound := s.notFoundIn("FindMachine(com::Bstr(pArgs->argv[0]).raw(), ptrMachine.asOutParam())", "VBoxManageDebugVM.cpp", 1080)
	vm, code := s.lockFindVM(ref, false, notFound)
	if vm == nil {
		return code
	}
	if vm.inaccessible {
		s.st.Unlock()
		s.work()
		return s.inaccessibleError("LockMachine(pArgs->session, LockType_Shared)", "VBoxManageDebugVM.cpp", 1081)
	}
	release, notReady := s.acquireShared(vm)
	s.st.Unlock()
	if notReady {
		s.work()
		return s.notReady("LockMachine(pArgs->session, LockType_Shared)", "VBoxManageDebugVM.cpp", 1081)
	}
	defer release()
	vm, err := s.workThenFindVM(vm.UUID, false)
	if err != nil {
		return s.internalError(err)
	}
	if vm == nil {
		return notFound(ref)
	}
	if !isOnline(vm.State) {
		return s.fail("Machine '%s' is not currently running.", ref)
	}
	switch sub {
	case "injectnmi":
		if len(rest) > 0 {
			return s.syntaxError("debugvm", "Too many parameters", 2)
		}
		return 0
	}
	return s.syntaxError("debugvm", fmt.Sprintf("Unknown subcommand: %s", sub), 2)
}
