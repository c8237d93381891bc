package vbox

import (
	"encoding/json"
	"fmt"
	"github.com/virtvboxd/virtvboxd/internal/driver"
	"os"
	"path/filepath"
	"sync"
)

// libvirt's virDomain*Reason values (include/libvirt/libvirt-domain.h).
const (
	reasonUnknown = 0

	RunningBooted       = 1
	RunningRestored     = 3
	RunningUnpaused     = 5
	PausedUser          = 1
	PausedMigration     = 2
	PausedSave          = 3
	PausedSnapshot      = 9
	PausedStartingUp    = 11
	ShutdownUser        = 1
	ShutoffShutdown     = 1
	ShutoffDestroyed    = 2
	ShutoffCrashed      = 3
	ShutoffMigrated     = 4
	ShutoffSaved        = 5
	ShutoffFromSnapshot = 7
)

// onlineStates are the VirtualBox states libvirt's driver counts as online
// (IMachine states FirstOnline..LastOnline): such a machine is an active
// domain with an ID.
var onlineStates = map[string]bool{
	"running": true, "paused": true, "gurumeditation": true, "stopping": true, "teleporting": true,
	"livesnapshotting": true, "starting": true, "saving": true, "restoring": true,
	"teleportingpausedvm": true, "teleportingin": true, "deletingsnapshotlive": true,
	"deletingsnapshotlivepaused": true, "onlinesnapshotting": true,
}

// IsOnline reports whether a VMState token is an active domain.
func IsOnline(state string) bool { return onlineStates[state] }

// HasSavedState reports whether a machine in state keeps a saved state
// (libvirt's managed save image).
func HasSavedState(state string) bool { return state == "saved" || state == "aborted-saved" }

// baseState maps a VMState token to libvirt's state and a default reason,
// used when the daemon did not cause the state itself.
//
//	running              RUNNING   BOOTED (UNPAUSED/RESTORED when we resumed/restored it)
//	paused               PAUSED    USER
//	gurumeditation       BLOCKED   UNKNOWN (libvirt's mapping; the VM is stuck)
//	stopping             SHUTDOWN  USER
//	poweroff             SHUTOFF   UNKNOWN if never seen running, SHUTDOWN after a guest
//	                               power-off, DESTROYED after virsh destroy
//	saved                SHUTOFF   SAVED
//	aborted              CRASHED   UNKNOWN
//	aborted-saved        SHUTOFF   CRASHED (crashed, a saved state remains: managed save)
//	teleported           SHUTOFF   MIGRATED
//	starting, restoring  PAUSED    STARTING_UP
//	saving               PAUSED    SAVE
//	*snapshotting*, deletingsnapshotlive*  PAUSED  SNAPSHOT
//	teleporting*         PAUSED    MIGRATION
//	restoringsnapshot, deletingsnapshot, snapshotting  SHUTOFF  FROM_SNAPSHOT/UNKNOWN
//	settingup, unknown   NOSTATE   UNKNOWN
func baseState(state string) (driver.DomainState, int32) {
	switch state {
	case "running":
		return driver.StateRunning, RunningBooted
	case "paused":
		return driver.StatePaused, PausedUser
	case "gurumeditation":
		return driver.StateBlocked, reasonUnknown
	case "stopping":
		return driver.StateShutdown, ShutdownUser
	case "poweroff":
		return driver.StateShutoff, reasonUnknown
	case "saved":
		return driver.StateShutoff, ShutoffSaved
	case "aborted":
		return driver.StateCrashed, reasonUnknown
	case "aborted-saved":
		return driver.StateShutoff, ShutoffCrashed
	case "teleported":
		return driver.StateShutoff, ShutoffMigrated
	case "starting", "restoring":
		return driver.StatePaused, PausedStartingUp
	case "saving":
		return driver.StatePaused, PausedSave
	case "livesnapshotting", "onlinesnapshotting", "deletingsnapshotlive", "deletingsnapshotlivepaused":
		return driver.StatePaused, PausedSnapshot
	case "teleporting", "teleportingpausedvm", "teleportingin":
		return driver.StatePaused, PausedMigration
	case "restoringsnapshot":
		return driver.StateShutoff, ShutoffFromSnapshot
	case "deletingsnapshot", "snapshotting":
		return driver.StateShutoff, reasonUnknown
	}
	return driver.StateNoState, reasonUnknown
}

// States keeps what VBoxManage cannot say: stable domain IDs for online
// machines and why each machine is in its state. Both persist in a small
// JSON file in the driver's state directory, so that a daemon restart while
// guests run keeps their IDs.
//
// IDs: a machine gets max(assigned)+1 when first seen online and loses it
// when seen offline; IDs never shift when other machines come and go.
type States struct {
	path string // "" disables persistence

	mu      sync.Mutex
	ids     map[string]int32  // uuid -> domain ID while online
	last    map[string]string // uuid -> last observed VMState
	causes  map[string]cause  // uuid -> the reason for the current state, when known
	persist error             // last persistence error, for logs
}

// cause is a reason the daemon knows for a state: valid while the machine
// stays in State.
type cause struct {
	State  string `json:"state"`
	Reason int32  `json:"reason"`
}

type statesFile struct {
	IDs    map[string]int32 `json:"ids"`
	Causes map[string]cause `json:"causes,omitempty"`
}

// LoadStates reads the state file at path (a missing file is an empty
// table). path "" keeps everything in memory.
func LoadStates(path string) (*States, error) {
	s := &States{path: path, ids: map[string]int32{}, last: map[string]string{}, causes: map[string]cause{}}
	if path == "" {
		return s, nil
	}
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("read domain state file: %w", err)
	}
	var f statesFile
	if err := json.Unmarshal(b, &f); err != nil {
		return s, fmt.Errorf("domain state file %s: %w", path, err)
	}
	for u, id := range f.IDs {
		if id > 0 {
			s.ids[u] = id
		}
	}
	for u, c := range f.Causes {
		s.causes[u] = c
	}
	return s, nil
}

// ID returns the domain ID of uuid, or -1 when it has none (inactive).
func (s *States) ID(uuid string) int32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.ids[uuid]; ok {
		return id
	}
	return -1
}

// ByID returns the UUID holding id.
func (s *States) ByID(id int32) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for u, v := range s.ids {
		if v == id {
			return u, true
		}
	}
	return "", false
}

// ActiveCount returns how many machines hold an ID.
func (s *States) ActiveCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

// Observe records the states of ms. complete says ms is every registered
// machine, so IDs of machines missing from it are released.
func (s *States) Observe(ms []Machine, complete bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	seen := make(map[string]bool, len(ms))
	for _, m := range ms {
		seen[m.UUID] = true
		prev, known := s.last[m.UUID]
		s.last[m.UUID] = m.State
		if c, ok := s.causes[m.UUID]; ok && c.State != m.State {
			delete(s.causes, m.UUID)
			changed = true
		}
		if known && IsOnline(prev) && m.State == "poweroff" {
			if _, ok := s.causes[m.UUID]; !ok {
				// Went off without our doing: the guest powered down.
				s.causes[m.UUID] = cause{State: "poweroff", Reason: ShutoffShutdown}
				changed = true
			}
		}
		if IsOnline(m.State) {
			if _, ok := s.ids[m.UUID]; !ok {
				s.ids[m.UUID] = s.nextIDLocked()
				changed = true
			}
		} else if _, ok := s.ids[m.UUID]; ok {
			delete(s.ids, m.UUID)
			changed = true
		}
	}
	if complete {
		for u := range s.ids {
			if !seen[u] {
				delete(s.ids, u)
				changed = true
			}
		}
		for u := range s.causes {
			if !seen[u] {
				delete(s.causes, u)
				changed = true
			}
		}
	}
	if changed {
		s.saveLocked()
	}
}

// SetCause records that the daemon put uuid into state for reason.
func (s *States) SetCause(uuid, state string, reason int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.causes[uuid] = cause{State: state, Reason: reason}
	s.saveLocked()
}

// Release drops everything about uuid (unregistered).
func (s *States) Release(uuid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.ids, uuid)
	delete(s.last, uuid)
	delete(s.causes, uuid)
	s.saveLocked()
}

// State returns libvirt's state and reason for m.
func (s *States) State(m Machine) (driver.DomainState, int32) {
	st, reason := baseState(m.State)
	s.mu.Lock()
	c, ok := s.causes[m.UUID]
	s.mu.Unlock()
	if ok && c.State == m.State {
		reason = c.Reason
	}
	return st, reason
}

func (s *States) nextIDLocked() int32 {
	var max int32
	for _, id := range s.ids {
		if id > max {
			max = id
		}
	}
	return max + 1
}

// saveLocked writes the table atomically (temp file + rename).
func (s *States) saveLocked() {
	if s.path == "" {
		return
	}
	b, err := json.MarshalIndent(statesFile{IDs: s.ids, Causes: s.causes}, "", "  ")
	if err == nil {
		err = writeFileAtomic(s.path, append(b, '\n'))
	}
	s.persist = err
}

// PersistError returns the last error writing the state file, if any.
func (s *States) PersistError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.persist
}

func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".domain-ids-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
