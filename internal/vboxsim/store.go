package vboxsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Store is the simulator's state directory. Layout:
//
//	lock                 flock(2) target: shared for readers, exclusive for writers
//	registry.json        Registry: VM index, media, host-only interfaces, NAT networks
//	vms/<uuid>.json      one VM each
//	sessions/            session leases (see session.go)
//	invocations.log      one line per call
//	lastcall             modification time = end of the last call (cold start model)
//
// Files are replaced atomically (temp file + rename), so a reader never sees a
// torn file even without the lock; the lock gives consistency across files.
type Store struct {
	Dir string

	lockFile  *os.File
	exclusive bool
	reg       *Registry
	regDirty  bool
	// The last registry read and its file's bytes, kept across locks for
	// the next read to reuse when the file has not changed: most commands
	// read it twice (before their latency and again under the lock), and
	// decoding it was a fifth of a call's CPU. Only a registry nobody could
	// have changed is kept (read without the exclusive lock, not dirty).
	regKept   *Registry
	regRaw    []byte
	regShared bool           // s.reg was read without the exclusive lock
	vms       map[string]*VM // loaded VMs by UUID
	dirty     map[string]bool
	deleted   map[string]bool
}

// OpenStore creates the directory layout if needed.
func OpenStore(dir string) (*Store, error) {
	for _, d := range []string{dir, filepath.Join(dir, "vms"), filepath.Join(dir, "sessions")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("create state dir: %w", err)
		}
	}
	return &Store{Dir: dir, vms: map[string]*VM{}, dirty: map[string]bool{}, deleted: map[string]bool{}}, nil
}

// Lock takes the state lock, shared or exclusive, blocking until granted.
// The in-memory cache is dropped: whatever is read after Lock is current.
func (s *Store) Lock(exclusive bool) error {
	if s.lockFile != nil {
		return errors.New("store already locked")
	}
	f, err := os.OpenFile(filepath.Join(s.Dir, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("open lock file: %w", err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	for {
		err = syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("flock: %w", err)
	}
	s.lockFile, s.exclusive = f, exclusive
	s.keepRegistry()
	s.reg = nil
	s.regDirty = false
	s.vms = map[string]*VM{}
	s.dirty = map[string]bool{}
	s.deleted = map[string]bool{}
	return nil
}

// Unlock releases the state lock without writing anything.
func (s *Store) Unlock() {
	if s.lockFile == nil {
		return
	}
	syscall.Flock(int(s.lockFile.Fd()), syscall.LOCK_UN)
	s.lockFile.Close()
	s.lockFile = nil
}

// Commit writes the changed files. It needs the exclusive lock.
func (s *Store) Commit() error {
	if s.lockFile == nil || !s.exclusive {
		if s.regDirty || len(s.dirty) > 0 || len(s.deleted) > 0 {
			return errors.New("commit without the exclusive lock")
		}
		return nil
	}
	for uuid := range s.dirty {
		vm := s.vms[uuid]
		if vm == nil {
			continue
		}
		if err := writeJSON(s.vmPath(uuid), vm); err != nil {
			return err
		}
		// VirtualBox saves a machine's settings file on every change of
		// its settings, extradata included (Machine::saveSettings), and
		// state changes that move the saved-state file; the stand-in is
		// rewritten likewise, so that its time tells a change.
		if !s.inaccessible(uuid) {
			if _, err := os.Stat(vm.CfgFile); err == nil {
				if err := writeVBoxFile(vm); err != nil {
					return err
				}
			}
		}
	}
	for uuid := range s.deleted {
		if err := os.Remove(s.vmPath(uuid)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove vm file: %w", err)
		}
	}
	if s.regDirty {
		if err := writeJSON(filepath.Join(s.Dir, "registry.json"), s.reg); err != nil {
			return err
		}
	}
	s.dirty = map[string]bool{}
	s.deleted = map[string]bool{}
	s.regDirty = false
	return nil
}

// inaccessible reports whether the registry marks uuid inaccessible.
func (s *Store) inaccessible(uuid string) bool {
	if s.reg == nil {
		return false
	}
	for _, e := range s.reg.VMs {
		if e.UUID == uuid {
			return e.Inaccessible
		}
	}
	return false
}

func (s *Store) vmPath(uuid string) string { return filepath.Join(s.Dir, "vms", uuid+".json") }

// Registry returns the registry, reading it on first use.
func (s *Store) Registry() (*Registry, error) {
	if s.reg != nil {
		return s.reg, nil
	}
	path := filepath.Join(s.Dir, "registry.json")
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	s.regShared = s.lockFile == nil || !s.exclusive
	if s.regKept != nil && err == nil && bytes.Equal(b, s.regRaw) {
		s.reg, s.regKept = s.regKept, nil
		return s.reg, nil
	}
	var r Registry
	if err == nil {
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("decode %s: %w", path, err)
		}
	}
	if r.ExtraData == nil {
		r.ExtraData = map[string]string{}
	}
	s.reg, s.regRaw, s.regKept = &r, b, nil
	return s.reg, nil
}

// keepRegistry keeps the registry read so far for the next Registry call to
// reuse, unless it may differ from its file's bytes: read under the
// exclusive lock (where commands change it) or marked changed.
func (s *Store) keepRegistry() {
	s.regKept = nil
	if s.reg != nil && !s.regDirty && s.regShared {
		s.regKept = s.reg
	}
}

// MarkRegistry records that the registry changed.
func (s *Store) MarkRegistry() { s.regDirty = true }

// VM loads a VM by UUID (registered or not).
func (s *Store) VM(uuid string) (*VM, error) {
	if vm, ok := s.vms[uuid]; ok {
		return vm, nil
	}
	var vm VM
	if err := readJSON(s.vmPath(uuid), &vm); err != nil {
		return nil, err
	}
	s.vms[uuid] = &vm
	return &vm, nil
}

// PutVM stores a (new or changed) VM; the registry copy of name/state is refreshed.
func (s *Store) PutVM(vm *VM) {
	s.vms[vm.UUID] = vm
	s.dirty[vm.UUID] = true
	delete(s.deleted, vm.UUID)
	if s.reg != nil {
		for i := range s.reg.VMs {
			if s.reg.VMs[i].UUID == vm.UUID {
				if s.reg.VMs[i].Name != vm.Name || s.reg.VMs[i].State != vm.State {
					s.reg.VMs[i].Name, s.reg.VMs[i].State = vm.Name, vm.State
					s.regDirty = true
				}
			}
		}
	}
}

// DeleteVM removes a VM file.
func (s *Store) DeleteVM(uuid string) {
	delete(s.vms, uuid)
	delete(s.dirty, uuid)
	s.deleted[uuid] = true
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}

func writeJSON(path string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	return writeFileAtomic(path, b)
}

// writeFileAtomic writes data to a temp file in the same directory and renames
// it over path, so readers see the old or the new content, never a mix.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
