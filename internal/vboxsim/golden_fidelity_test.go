package vboxsim

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/fidelity-*.txt from the simulator")

// The fidelity goldens are the output of the simulator for the cases that
// break naive parsers (reference §3.1): USB device filters, a multi-line
// description whose lines look like labels, snapshots with multi-line and
// quoted names and descriptions, a shared folder, a running machine's
// console sections, an inaccessible machine and a machine named
// "<inaccessible>", in each personality. They were written with -update and
// then checked line by line against VBoxManageInfo.cpp and
// VBoxManageList.cpp of VirtualBox 6.1.20, 7.0.14 and 7.1 (docs/simulator.md
// says which parts are not verified); a change to them needs the same check.

// FidelityDescription is the description of the fidelity machines: an
// ordinary text whose lines look like the labels of a human block and like
// machine-readable pairs.
const FidelityDescription = "first line\nName: ghost\nUUID: 00000000-0000-0000-0000-000000000000\n\nGuest:\n* Guest:\nname=\"x\"\nend \\ back\"slash"

// fidelityVMs returns a powered-off machine with every trap and a running one.
func fidelityVMs(t *testing.T, env Env) []*VM {
	t.Helper()
	vm := baseVM(t, env, "web01", "6c0b2e4f-2a3b-4f7e-9d1c-1f2e3d4c5b6a", "Ubuntu_64", "/home/ci/VirtualBox VMs/web01/web01.vbox")
	vm.StateChange = mustTime(t, "2024-05-02T09:58:41.512")
	vm.Description = FidelityDescription
	vm.HW.USB = USB{OHCI: true, EHCI: true}
	vm.HW.USBFilters = []USBFilter{{Name: "filter0000", Active: true}, {Name: "yubikey", Active: false, VendorID: "1050", ProductID: "0407", Remote: "0"}}
	vm.HW.SharedFolders = []SharedFolder{{Name: "share", Path: "/srv/share", AutoMount: true}, {Name: "ro", Path: "/srv/ro", ReadOnly: true}}
	child := &Snapshot{Name: `child "q"`, UUID: "7e5b6c4d-3a2f-4e1d-9c8b-7a6f5e4d3c2b", Description: "one line", HW: cloneHardware(vm.HW)}
	vm.Snapshot = &Snapshot{Name: "base", UUID: "0f4e3d2c-1b0a-4f9e-8d7c-6b5a49382716",
		Description: "line one\n   Name: fake (UUID: 11111111-2222-4333-8444-555555555555)\nName:                        evil\nSnapshotName-9=\"x\"",
		HW:          cloneHardware(vm.HW), Children: []*Snapshot{child}}
	vm.CurrentSnap = child.UUID

	run01 := baseVM(t, env, "run01", "253cc2ba-935b-482c-83d3-14bc4ed72c22", "Ubuntu_64", "/home/ci/VirtualBox VMs/run01/run01.vbox")
	run01.State, run01.SessionType = "running", "headless"
	run01.StateChange = mustTime(t, "2024-05-02T10:01:07.118")
	run01.HW.SharedFolders = []SharedFolder{{Name: "tmp", Path: "/tmp/x", Transient: true}}
	return []*VM{vm, run01}
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	diffText(t, got, golden(t, name))
}

func TestGoldenFidelity(t *testing.T) {
	for _, v := range []struct{ tag, version string }{{"61", "6.1"}, {"70", "7.0"}, {"71", "7.1"}} {
		t.Run(v.tag, func(t *testing.T) {
			env := testEnv(t, v.version)
			vms := fidelityVMs(t, env)
			gone := baseVM(t, env, "gone", "9a1c0f7e-5d7b-4c69-9a33-0c7b1a0e4d2f", "Ubuntu_64", "/home/ci/VirtualBox VMs/gone/gone.vbox")
			named := baseVM(t, env, "<inaccessible>", "e3f1d0a2-7c4b-4b8e-a1f0-2d9c8b7a6e5f", "Other", "/home/ci/VirtualBox VMs/x/x.vbox")
			named.StateChange = mustTime(t, "2024-05-02T09:00:00.000")
			putState(t, env, nil, vms[0], gone, named, vms[1])
			if err := SetState(env, gone.UUID, "inaccessible"); err != nil {
				t.Fatal(err)
			}
			human, _ := run(t, env, 0, "showvminfo", "web01")
			checkGolden(t, "fidelity-human-"+v.tag+".txt", human)
			running, _ := run(t, env, 0, "showvminfo", "run01")
			checkGolden(t, "fidelity-human-running-"+v.tag+".txt", running)
			mr, _ := run(t, env, 0, "showvminfo", "web01", "--machinereadable")
			checkGolden(t, "fidelity-mr-"+v.tag+".txt", mr)
			list, errOut := run(t, env, 0, "list", "--multiple", "vms", "--long", "vms")
			checkGolden(t, "fidelity-list-"+v.tag+".txt", list)
			if errOut == "" {
				t.Error("the inaccessible machine's access error goes to stderr")
			}
			long, _ := run(t, env, 0, "list", "--long", "vms")
			if want := list[len("[vms]\n")+len(mustList(t, env))+len("\n[vms]\n"):]; long != want {
				t.Errorf("list --long vms is not the long part of list --multiple:\n%s", long)
			}
		})
	}
}

func mustList(t *testing.T, env Env) string {
	t.Helper()
	out, _ := run(t, env, 0, "list", "vms")
	return out
}
