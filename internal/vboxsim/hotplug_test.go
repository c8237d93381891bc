package vboxsim

import (
	"os"
	"path/filepath"
	"testing"
)

// TestHotPlug plays VirtualBox's rules for storage changes on a running
// machine (reference §4.7, §5.6): a DVD or floppy drive changes its medium;
// a SATA or USB controller takes and gives up devices, USB filters change, a slot attached while
// the machine was off is not hot-pluggable, one hot-plugged is; any other
// controller refuses. Refusals are golden (composed from
// MachineImpl.cpp's messages: docs/simulator.md).
func TestHotPlug(t *testing.T) {
	for _, v := range []string{"6.1", "7.0", "7.1"} {
		t.Run(v, func(t *testing.T) {
			env := testEnv(t, v)
			dir := t.TempDir()
			disk0, disk1 := filepath.Join(dir, "d0.vdi"), filepath.Join(dir, "d1.vdi")
			iso, flp := filepath.Join(dir, "a.iso"), filepath.Join(dir, "a.img")
			for _, p := range []string{iso, flp} {
				if err := os.WriteFile(p, make([]byte, 1<<20), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, a := range [][]string{
				{"createvm", "--name", "hp", "--register"},
				{"createmedium", "disk", "--filename", disk0, "--size", "8"},
				{"createmedium", "disk", "--filename", disk1, "--size", "8"},
				{"storagectl", "hp", "--name", "SATA", "--add", "sata", "--portcount", "4"},
				{"storagectl", "hp", "--name", "IDE", "--add", "ide"},
				{"storagectl", "hp", "--name", "FDC", "--add", "floppy"},
				{"storageattach", "hp", "--storagectl", "SATA", "--port", "0", "--device", "0", "--type", "hdd", "--medium", disk0},
				{"storageattach", "hp", "--storagectl", "IDE", "--port", "1", "--device", "0", "--type", "dvddrive", "--medium", "emptydrive"},
				{"storageattach", "hp", "--storagectl", "FDC", "--port", "0", "--device", "0", "--type", "fdd", "--medium", "emptydrive"},
				{"startvm", "hp", "--type", "headless"},
				// Media of existing drives change live.
				{"storageattach", "hp", "--storagectl", "IDE", "--port", "1", "--device", "0", "--type", "dvddrive", "--medium", iso},
				{"storageattach", "hp", "--storagectl", "FDC", "--port", "0", "--device", "0", "--type", "fdd", "--medium", flp},
				// A SATA disk hot-plugs, and its slot is hot-pluggable.
				{"storageattach", "hp", "--storagectl", "SATA", "--port", "1", "--device", "0", "--type", "hdd", "--medium", disk1},
				// USB filters change under a shared lock (VBoxManageUSB.cpp).
				{"usbfilter", "add", "0", "--target", "hp", "--name", "stick", "--vendorid", "0781"},
			} {
				run(t, env, 0, a...)
			}
			out, _ := run(t, env, 0, "showvminfo", "hp", "--machinereadable")
			for key, want := range map[string]string{`USBFilterVendorId1`: `"0781"`, `"IDE-1-0"`: `"` + iso + `"`, `"FDC-0-0"`: `"` + flp + `"`, `"SATA-1-0"`: `"` + disk1 + `"`} {
				if got := mrValue(t, out, key); got != want {
					t.Errorf("%s = %s, want %s", key, got, want)
				}
			}
			if v != "6.1" {
				// 7.x prints the flag for a controller named SATA.
				if got := mrValue(t, out, `"SATA-hot-pluggable-1-0"`); got != `"on"` {
					t.Errorf("hot-pluggable of the hot-plugged slot = %s, want \"on\"", got)
				}
				if got := mrValue(t, out, `"SATA-hot-pluggable-0-0"`); got != `"off"` {
					t.Errorf("hot-pluggable of the cold-plugged slot = %s, want \"off\"", got)
				}
			}
			run(t, env, 0, "storageattach", "hp", "--storagectl", "SATA", "--port", "1", "--device", "0", "--medium", "none")
			run(t, env, 0, "storageattach", "hp", "--storagectl", "IDE", "--port", "1", "--device", "0", "--type", "dvddrive", "--medium", "emptydrive")

			for _, c := range []struct {
				file string
				args []string
			}{
				{"error-hotplug-controller.txt", []string{"storageattach", "hp", "--storagectl", "IDE", "--port", "0", "--device", "0", "--type", "hdd", "--medium", disk1}},
				{"error-hotplug-slot.txt", []string{"storageattach", "hp", "--storagectl", "SATA", "--port", "0", "--device", "0", "--medium", "none"}},
			} {
				before, _ := run(t, env, 0, "showvminfo", "hp", "--machinereadable")
				o, errOut := run(t, env, 1, c.args...)
				if o != "" {
					t.Errorf("stdout: %q", o)
				}
				diffText(t, maskLines(errOut), maskLines(golden(t, c.file)))
				if after, _ := run(t, env, 0, "showvminfo", "hp", "--machinereadable"); after != before {
					t.Errorf("%s: a refused change changed the machine", c.file)
				}
			}
		})
	}
}
