package vboxsim

import "testing"

// A registry read is reused by the next lock only while its file is byte
// for byte unchanged and nobody could have changed it in memory.
func TestStoreKeepsUnchangedRegistry(t *testing.T) {
	dir := t.TempDir()
	a, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := OpenStore(dir) // another VBoxManage process
	write := func(s *Store, name string) {
		t.Helper()
		if err := s.Lock(true); err != nil {
			t.Fatal(err)
		}
		reg, _ := s.Registry()
		reg.VMs = append(reg.VMs, RegEntry{UUID: name, Name: name, State: "poweroff"})
		s.MarkRegistry()
		if err := s.Commit(); err != nil {
			t.Fatal(err)
		}
		s.Unlock()
	}
	read := func(s *Store) *Registry {
		t.Helper()
		if err := s.Lock(false); err != nil {
			t.Fatal(err)
		}
		defer s.Unlock()
		reg, err := s.Registry()
		if err != nil {
			t.Fatal(err)
		}
		return reg
	}
	write(b, "one")
	first := read(a)
	if again := read(a); again != first {
		t.Error("an unchanged registry was decoded again")
	}
	write(b, "two")
	if r := read(a); r == first || len(r.VMs) != 2 {
		t.Errorf("a registry changed by another process: reused=%v, %d VMs, want 2", r == first, len(r.VMs))
	}
	// Read under the exclusive lock, changed in memory, never committed:
	// the next lock must not see the change.
	if err := a.Lock(true); err != nil {
		t.Fatal(err)
	}
	reg, _ := a.Registry()
	reg.VMs = reg.VMs[:0]
	a.Unlock()
	if r := read(a); len(r.VMs) != 2 {
		t.Errorf("an uncommitted change made under the exclusive lock leaked: %d VMs, want 2", len(r.VMs))
	}
}
