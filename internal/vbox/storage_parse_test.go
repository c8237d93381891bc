package vbox

import (
	"reflect"
	"testing"
)

// ParseMediaLong reads the simulator's `list -l hdds` block (reference
// §1.8 with the -l lines), including the continuation lines of a medium
// used by two machines.
func TestParseMediaLong(t *testing.T) {
	out := "UUID:           3bc0a6b4-6e0f-4f5f-8d2e-6a2f3c3a9e11\n" +
		"Parent UUID:    base\n" +
		"State:          created\n" +
		"Type:           normal (base)\n" +
		"Location:       /home/ci/VirtualBox VMs/web01/web: 01.vdi\n" +
		"Storage format: VDI\n" +
		"Format variant: dynamic default\n" +
		"Capacity:       20480 MBytes\n" +
		"Size on disk:   2 MBytes\n" +
		"Encryption:     disabled\n" +
		"In use by VMs:  web01 (UUID: 6c0b2e4f-2a3b-4f7e-9d1c-1f2e3d4c5b6a)\n" +
		"                web02 (UUID: 7c0b2e4f-2a3b-4f7e-9d1c-1f2e3d4c5b6a)\n" +
		"Child UUIDs:    4bc0a6b4-6e0f-4f5f-8d2e-6a2f3c3a9e11\n" +
		"\n" +
		"UUID:           5bc0a6b4-6e0f-4f5f-8d2e-6a2f3c3a9e11\n" +
		"Parent UUID:    3bc0a6b4-6e0f-4f5f-8d2e-6a2f3c3a9e11\n" +
		"State:          inaccessible\n" +
		"Type:           normal (differencing)\n" +
		"Location:       /x/{5bc0}.vdi\n" +
		"Storage format: VDI\n" +
		"Capacity:       20480 MBytes\n" +
		"Encryption:     disabled\n\n"
	ms, err := ParseMediaLong([]byte(out), "hdd")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 {
		t.Fatalf("%d media", len(ms))
	}
	m := ms[0]
	if m.Location != "/home/ci/VirtualBox VMs/web01/web: 01.vdi" || m.CapacityMB != 20480 || m.OnDiskMB != 2 ||
		m.Variant != "dynamic default" || !m.base() {
		t.Errorf("first medium: %+v", m)
	}
	if want := []string{"web01 (UUID: 6c0b2e4f-2a3b-4f7e-9d1c-1f2e3d4c5b6a)", "web02 (UUID: 7c0b2e4f-2a3b-4f7e-9d1c-1f2e3d4c5b6a)"}; !reflect.DeepEqual(m.InUseBy, want) {
		t.Errorf("In use by: %q", m.InUseBy)
	}
	if got := inUseNames(m.InUseBy); !reflect.DeepEqual(got, []string{"'web01'", "'web02'"}) {
		t.Errorf("inUseNames: %q", got)
	}
	if len(m.Children) != 1 || ms[1].base() || ms[1].State != "inaccessible" {
		t.Errorf("child: %+v / %+v", m.Children, ms[1])
	}
	if _, err := ParseMediaLong([]byte("UUID: nonsense\n"), "hdd"); err == nil {
		t.Errorf("a record without a UUID was accepted")
	}
}
