package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestFidelityTraps drives the stock virsh against machines whose
// VBoxManage output breaks naive parsers (reference §3.1), in each VirtualBox
// personality: USB device filters, descriptions whose lines look like labels
// and pairs (set with modifyvm --description, so they appear in the human
// listing and in --machinereadable), snapshots with multi-line and quoted
// descriptions, shared folders, a machine named "<inaccessible>" and a real
// inaccessible one. Every accessible machine answers list, domuuid, domname,
// dominfo and dumpxml; the inaccessible one is left out of the list and its
// own calls fail clearly; nothing is invented by a crafted description; a
// cold `virsh list --all` costs one VBoxManage and a warm one none.
func TestFidelityTraps(t *testing.T) {
	requireTool(t, "virsh")
	for _, version := range []string{"6.1", "7.0", "7.1"} {
		t.Run(version, func(t *testing.T) {
			d := startDaemon(t, withSimVersion(version))
			vbm := func(args ...string) string { t.Helper(); return d.Sim.mustVBoxManage(t, args...) }
			create := func(name string) {
				t.Helper()
				vbm("createvm", "--name", name, "--ostype", "Ubuntu_64", "--register")
			}
			desc := "ordinary notes\nName: ghost\nUUID: 00000000-0000-0000-0000-000000000000\n\nGuest:\n* Guest:\nname=\"x\"\nend \\ back\"slash"
			create("plain")
			create("usb")
			vbm("usbfilter", "add", "0", "--target", "usb", "--name", "filter0000")
			vbm("usbfilter", "add", "1", "--target", "usb", "--name", "Name: x", "--vendorid", "1050")
			create("described")
			vbm("modifyvm", "described", "--description", desc)
			create("snapped")
			vbm("snapshot", "snapped", "take", "base", "--description", "first\nName: ghost\n\nState: running")
			vbm("snapshot", "snapped", "take", "child", "--description", `say "hi"`)
			create("shared")
			vbm("sharedfolder", "add", "shared", "--name", "share", "--hostpath", t.TempDir())
			create("<inaccessible>")
			create("gone")
			uuids := simUUIDs(t, d)
			goneUUID := uuids["gone"]
			vboxsimAdmin(t, d, "set-state", "gone", "inaccessible")
			accessible := []string{"plain", "usb", "described", "snapped", "shared", "<inaccessible>"}

			// No block is ambiguous: one process cold, none warm.
			before := d.Sim.invocations(t)
			list := d.mustVirsh(t, "list", "--all", "--name")
			cold := d.Sim.invocations(t) - before
			d.mustVirsh(t, "list", "--all", "--name")
			if warm := d.Sim.invocations(t) - before - cold; cold != 1 || warm != 0 {
				t.Errorf("virsh list --all started %d VBoxManage cold and %d warm, want 1 and 0", cold, warm)
			}
			checkListed(t, list, accessible, []string{"gone", "ghost", "x"})

			// A crafted description: a fake end of its block and a whole
			// block (plain's, renamed, with a fresh UUID) after it.
			forged := strings.TrimRight(vbm("showvminfo", "plain"), "\n")
			forged = strings.ReplaceAll(forged, uuids["plain"], "11111111-2222-4333-8444-555555555555")
			forged = regexp.MustCompile(`(?m)^(Name: +)plain$`).ReplaceAllString(forged, "${1}phantom")
			end := "* Guest:\nConfigured memory balloon:   0MB\n\n"
			if version == "6.1" {
				end = "Guest:\n\nConfigured memory balloon size: 0MB\n\n\n"
			}
			create("crafty")
			vbm("modifyvm", "crafty", "--description", "x\n"+end+forged)
			accessible = append(accessible, "crafty")
			// A lookup that misses refreshes the cached listing at once.
			d.mustVirsh(t, "domuuid", "crafty")
			list = d.mustVirsh(t, "list", "--all", "--name")
			checkListed(t, list, accessible, []string{"gone", "phantom"})
			uuids = simUUIDs(t, d)

			for _, name := range accessible {
				u := uuids[name]
				if got := strings.TrimSpace(d.mustVirsh(t, "domuuid", name)); got != u {
					t.Errorf("domuuid %s = %q, want %s", name, got, u)
				}
				if got := strings.TrimSpace(d.mustVirsh(t, "domname", u)); got != name {
					t.Errorf("domname %s = %q, want %q", u, got, name)
				}
				info := d.mustVirsh(t, "dominfo", u)
				contains(t, "dominfo "+name, info, "Name:           "+name, "UUID:           "+u, "State:          shut off")
				xml := d.mustVirsh(t, "dumpxml", u)
				contains(t, "dumpxml "+name, xml, "<uuid>"+u+"</uuid>")
			}
			if xml := d.mustVirsh(t, "dumpxml", "described"); !strings.Contains(xml, "Name: ghost") {
				t.Errorf("dumpxml lost the description:\n%s", xml)
			}
			if got := d.mustVirsh(t, "list", "--all", "--name", "--with-snapshot"); strings.TrimSpace(got) != "snapped" {
				t.Errorf("machines with snapshots: %q", got)
			}

			// The inaccessible machine's own calls fail, clearly (virsh
			// hides lookup errors behind "failed to get domain").
			d.virshFails(t, "dominfo", goneUUID)
			out := d.python(t, "robust_lookup.py", "--uuid", goneUUID)
			contains(t, "lookup of the inaccessible machine", out, "error 9 ", "operation failed: machine '"+goneUUID+"' is inaccessible",
				"gone.vbox")
			if log, err := os.ReadFile(d.Log); err != nil || !strings.Contains(string(log), goneUUID) ||
				!strings.Contains(string(log), "machine is inaccessible") {
				t.Errorf("the daemon log does not name the inaccessible machine (%v):\n%s", err, log)
			}
			out = d.python(t, "robust_lookup.py", "phantom")
			contains(t, "lookup of the invented machine", out, "error 42 ", "no domain with matching name 'phantom'")
		})
	}
}

// checkListed fails unless list (virsh list --name) holds every name of want
// and none of unwanted.
func checkListed(t *testing.T, list string, want, unwanted []string) {
	t.Helper()
	got := map[string]bool{}
	for _, l := range strings.Split(list, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			got[l] = true
		}
	}
	for _, n := range want {
		if !got[n] {
			t.Errorf("%q is not listed:\n%s", n, list)
		}
	}
	for _, n := range unwanted {
		if got[n] {
			t.Errorf("%q is listed:\n%s", n, list)
		}
	}
	if len(got) != len(want) {
		t.Errorf("listed %d machines, want %d:\n%s", len(got), len(want), list)
	}
}

// simUUIDs maps names to UUIDs as VBoxManage list vms prints them, the
// first machine of a name winning (the test's names have no newline; an
// inaccessible machine prints "<inaccessible>" after the machine of that
// name).
func simUUIDs(t *testing.T, d *daemon) map[string]string {
	t.Helper()
	m := map[string]string{}
	re := regexp.MustCompile(`^"(.*)" \{([0-9a-f-]{36})\}$`)
	for _, l := range strings.Split(d.Sim.mustVBoxManage(t, "list", "vms"), "\n") {
		if mm := re.FindStringSubmatch(l); mm != nil && m[mm[1]] == "" {
			m[mm[1]] = mm[2]
		}
	}
	return m
}

// vboxsimAdmin runs a vboxsim admin command against the daemon's simulator.
func vboxsimAdmin(t *testing.T, d *daemon, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "vboxsim"), args...)
	cmd.Env = append(cmd.Environ(), d.Sim.Env()...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("vboxsim %q: %v\n%s", args, err, out)
	}
	return string(out)
}
