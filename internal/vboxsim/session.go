package vboxsim

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Session locks. Real VBoxManage commands lock the machine through VBoxSVC:
// configuration changes take the write lock (exclusive, refused while a VM
// process or another client holds the machine), showvminfo/controlvm/snapshot
// take a shared lock. The simulator keeps these as lease files under
// sessions/, named <uuid>.w (write) and <uuid>.s.<pid> (shared), holding the
// owner's pid, so that separate processes see each other; a lease whose owner
// died is stale and ignored. A running VM holds the write lock through its
// state, and after poweroff until VM.ReleaseAt (the lock linger).

const leaseMaxAge = 10 * time.Minute

func (s *Sim) leasePath(uuid, kind string) string {
	if kind == "w" {
		return filepath.Join(s.env.Home, "sessions", uuid+".w")
	}
	return filepath.Join(s.env.Home, "sessions", fmt.Sprintf("%s.s.%d", uuid, os.Getpid()))
}

// leaseAlive reports whether a lease file belongs to a live process.
func leaseAlive(path string) bool {
	fi, err := os.Stat(path)
	if err != nil {
		return false
	}
	if time.Since(fi.ModTime()) > leaseMaxAge {
		return false
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		return true
	}
	err = syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// machineLocked reports whether the write lock is unavailable: a VM process
// runs, is still exiting (linger), or another client holds the write lock.
func (s *Sim) machineLocked(vm *VM) bool {
	if isOnline(vm.State) || s.now().Before(vm.ReleaseAt) {
		return true
	}
	return leaseAlive(s.leasePath(vm.UUID, "w"))
}

// acquireWrite takes the write lease; ok is false when the machine is locked.
func (s *Sim) acquireWrite(vm *VM) (release func(), ok bool) {
	if isOnline(vm.State) || s.now().Before(vm.ReleaseAt) {
		return nil, false
	}
	p := s.leasePath(vm.UUID, "w")
	for attempt := 0; attempt < 2; attempt++ {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintf(f, "%d\n", os.Getpid())
			f.Close()
			return func() { os.Remove(p) }, true
		}
		if !errors.Is(err, os.ErrExist) || leaseAlive(p) {
			return nil, false
		}
		os.Remove(p) // stale: its owner died
	}
	return nil, false
}

// acquireShared takes a shared lease. With VBOXSIM_FLAKY set, overlapping
// another client's session on the same VM fails, with that probability, the
// way VBoxSVC answers "The object is not ready" to parallel clients.
func (s *Sim) acquireShared(vm *VM) (release func(), notReady bool) {
	if s.env.Flaky > 0 && s.otherSessions(vm.UUID) && s.rng.Float64() < s.env.Flaky {
		return nil, true
	}
	p := s.leasePath(vm.UUID, "s")
	if err := os.WriteFile(p, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return func() {}, false
	}
	return func() { os.Remove(p) }, false
}

func (s *Sim) otherSessions(uuid string) bool {
	matches, _ := filepath.Glob(filepath.Join(s.env.Home, "sessions", uuid+".*"))
	me := s.leasePath(uuid, "s")
	for _, m := range matches {
		if m != me && leaseAlive(m) {
			return true
		}
	}
	return false
}

// notReady prints the transient parallel-access failure.
func (s *Sim) notReady(context, file string, line int) int {
	return s.api(apiError{Msg: "The object is not ready", Code: "E_ACCESSDENIED", Component: "SessionMachine",
		Interface: "IMachine", Context: context, Line: line, File: file})
}

// settle applies time-driven transitions lazily: a guest that received the
// ACPI power button powers off once its delay has passed.
func (s *Sim) settle(vm *VM) {
	if !vm.ACPIAt.IsZero() && vm.State == "running" && !s.now().Before(vm.ACPIAt) {
		vm.State = "poweroff"
		vm.StateChange = vm.ACPIAt
		vm.ReleaseAt = vm.ACPIAt.Add(s.env.LockLinger)
		vm.ACPIAt = time.Time{}
		vm.SessionType = ""
	}
	if vm.State != "running" {
		vm.ACPIAt = time.Time{}
	}
}

// findVM resolves a name or UUID among registered VMs. The store must be locked.
func (s *Sim) findVM(ref string) (*VM, error) {
	reg, err := s.st.Registry()
	if err != nil {
		return nil, err
	}
	u := strings.Trim(strings.ToLower(ref), "{}")
	for _, e := range reg.VMs {
		if e.UUID == u {
			vm, err := s.loadVM(e.UUID)
			if vm != nil {
				vm.inaccessible = e.Inaccessible
			}
			return vm, err
		}
	}
	for _, e := range reg.VMs {
		if e.Name == ref && !e.Inaccessible {
			return s.loadVM(e.UUID)
		}
	}
	return nil, nil
}

// lockFindVM takes the state lock (exclusive or shared) and looks the VM up.
// Without such a VM it releases the lock, sleeps the call's latency and
// reports notFound(ref). vm is nil after any failure, with code the exit
// status.
func (s *Sim) lockFindVM(ref string, exclusive bool, notFound func(string) int) (vm *VM, code int) {
	if err := s.st.Lock(exclusive); err != nil {
		return nil, s.internalError(err)
	}
	vm, err := s.findVM(ref)
	if err != nil {
		return nil, s.internalError(err)
	}
	if vm == nil {
		s.st.Unlock()
		s.work()
		return nil, notFound(ref)
	}
	return vm, 0
}

// workThenFindVM sleeps the call's latency without the state lock, then takes
// the lock (exclusive or shared) and looks the VM up: afresh, as it may have
// changed or been unregistered (nil) in the meantime.
func (s *Sim) workThenFindVM(ref string, exclusive bool) (*VM, error) {
	s.work()
	if err := s.st.Lock(exclusive); err != nil {
		return nil, err
	}
	return s.findVM(ref)
}

// inaccessibleError is what API calls on a machine whose settings cannot be
// read give.
func (s *Sim) inaccessibleError(context, file string, line int) int {
	return s.api(apiError{Msg: "The object functionality is limited", Code: "E_ACCESSDENIED", Component: "MachineWrap",
		Interface: "IMachine", Context: context, Line: line, File: file})
}

func (s *Sim) loadVM(uuid string) (*VM, error) {
	vm, err := s.st.VM(uuid)
	if err != nil {
		return nil, fmt.Errorf("load VM %s: %w", uuid, err)
	}
	before := vm.State
	s.settle(vm)
	if vm.State != before && s.st.exclusive {
		s.st.PutVM(vm)
	}
	return vm, nil
}

// internalError reports a simulator failure (corrupt state dir...).
func (s *Sim) internalError(err error) int {
	fmt.Fprintf(s.stderr, "VBoxManage: error: %v\n", err)
	return 1
}
