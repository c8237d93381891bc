package vbox

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/vboxsim"
)

// The simulator's fidelity goldens (internal/vboxsim/testdata/golden): the
// output of each VirtualBox version for USB filters, label-like
// descriptions, raw snapshot names and descriptions, shared folders, an
// inaccessible machine and a machine named "<inaccessible>".
func simGolden(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "vboxsim", "testdata", "golden", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const (
	fidWeb01  = "6c0b2e4f-2a3b-4f7e-9d1c-1f2e3d4c5b6a"
	fidGone   = "9a1c0f7e-5d7b-4c69-9a33-0c7b1a0e4d2f"
	fidNamed  = "e3f1d0a2-7c4b-4b8e-a1f0-2d9c8b7a6e5f"
	fidRun01  = "253cc2ba-935b-482c-83d3-14bc4ed72c22"
	fidDesc   = "first line\nName: ghost\nUUID: 00000000-0000-0000-0000-000000000000\n\nGuest:\n* Guest:\nname=\"x\"\nend \\ back\"slash"
	fidSnapDs = "line one\n   Name: fake (UUID: 11111111-2222-4333-8444-555555555555)\nName:                        evil\nSnapshotName-9=\"x\""
)

// resolve runs the inventory's loop with read standing in for `showvminfo
// <uuid> --machinereadable`, and returns the machines and how many
// machines were read alone.
func resolve(t testing.TB, out []byte, read func(u string) Known) ([]Machine, []string, int) {
	t.Helper()
	l := ParseListing(out)
	known := map[string]Known{}
	reads := 0
	for round := 0; ; round++ {
		if round > 100 {
			t.Fatal("the suspects never settle")
		}
		sus := l.Suspects(known)
		if len(sus) == 0 {
			break
		}
		for _, u := range sus {
			if _, again := known[u]; again {
				t.Fatalf("%s suspected twice", u)
			}
			known[u] = read(u)
			reads++
		}
	}
	ms, dropped, broken := l.Machines(known)
	if len(broken) != 0 {
		t.Fatalf("broken: %v", broken)
	}
	return ms, dropped, reads
}

func TestParseListingFidelity(t *testing.T) {
	for _, v := range []string{"61", "70", "71"} {
		t.Run(v, func(t *testing.T) {
			mr := ParseMachineReadable(simGolden(t, "fidelity-mr-"+v+".txt"))
			if got := mr.Str("description"); got != fidDesc {
				t.Errorf("machine-readable description = %q", got)
			}
			if got := mr.Str("SnapshotDescription"); got != fidSnapDs {
				t.Errorf("raw snapshot description = %q", got)
			}
			if got := mr.Str("SnapshotName-1"); got != `child "q"` {
				t.Errorf("raw snapshot name = %q", got)
			}
			if got := mr.Str("CurrentSnapshotName"); got != `child "q"` {
				t.Errorf("raw current snapshot name = %q", got)
			}
			if got := mr.Str("USBFilterName1"); got != "filter0000" {
				t.Errorf("USBFilterName1 = %q", got)
			}
			if got := mr.Str("SharedFolderPathMachineMapping2"); got != "/srv/ro" {
				t.Errorf("shared folder = %q", got)
			}
			web01 := MachineFromInfo(mr)
			if web01.Name != "web01" || web01.UUID != fidWeb01 || web01.Snapshots != 2 || web01.State != "poweroff" || web01.Inaccessible {
				t.Fatalf("MachineFromInfo = %+v", web01)
			}
			reads := map[string]int{}
			ms, dropped, n := resolve(t, simGolden(t, "fidelity-list-"+v+".txt"), func(u string) Known {
				reads[u]++
				if u == fidWeb01 {
					return Known{Machine: web01, Found: true}
				}
				t.Errorf("read %s alone", u)
				return Known{}
			})
			// Only web01 is read alone: its snapshot description prints a
			// second root line, so its tree cannot be proven.
			if n != 1 || reads[fidWeb01] != 1 || len(dropped) != 0 {
				t.Errorf("reads %v, dropped %v", reads, dropped)
			}
			got := map[string]Machine{}
			var order []string
			for _, m := range ms {
				got[m.UUID] = m
				order = append(order, m.UUID)
			}
			if want := []string{fidWeb01, fidGone, fidNamed, fidRun01}; !reflect.DeepEqual(order, want) {
				t.Errorf("order %v, want %v", order, want)
			}
			if m := got[fidGone]; !m.Inaccessible || m.ConfigFile != "/home/ci/VirtualBox VMs/gone/gone.vbox" {
				t.Errorf("inaccessible machine = %+v", m)
			}
			if m := got[fidNamed]; m.Inaccessible || m.Name != "<inaccessible>" || m.State != "poweroff" || m.OSType != "Other/Unknown" {
				t.Errorf("machine named <inaccessible> = %+v", m)
			}
			if m := got[fidRun01]; m.Name != "run01" || m.State != "running" || m.Snapshots != 0 || m.MemoryMB != web01.MemoryMB {
				t.Errorf("run01 = %+v", m)
			}
		})
	}
}

// fakeMachine is one machine of a synthetic listing: what VirtualBox knows
// (the truth the fallback reads) and the free text it prints raw.
type fakeMachine struct {
	m           Machine
	description string
	snapDesc    string // one snapshot with this description when not empty
}

// renderFake prints `list --multiple vms --long vms` for machines in the
// 6.1 or 7.0 shape, descriptions raw as VBoxManage does.
func renderFake(fs []fakeMachine, v61 bool) string {
	var b strings.Builder
	b.WriteString("[vms]\n")
	for _, f := range fs {
		fmt.Fprintf(&b, "\"%s\" {%s}\n", f.m.Name, f.m.UUID)
	}
	b.WriteString("\n[vms]\n")
	for _, f := range fs {
		b.WriteString(renderFakeBlock(f, v61))
	}
	return b.String()
}

func renderFakeBlock(f fakeMachine, v61 bool) string {
	var b strings.Builder
	pad := func(l, v string) { fmt.Fprintf(&b, "%-28s %s\n", l+":", v) }
	m := f.m
	pad("Name", m.Name)
	if !v61 {
		b.WriteString("Encryption:     disabled\n")
	}
	pad("Groups", "/")
	pad("Guest OS", m.OSType)
	pad("UUID", m.UUID)
	pad("Config file", "/vms/"+m.Name+".vbox")
	pad("Snapshot folder", "/vms/Snapshots")
	pad("Log folder", "/vms/Logs")
	pad("Hardware UUID", m.UUID)
	pad("Memory size", fmt.Sprintf("%dMB", m.MemoryMB))
	pad("Number of CPUs", fmt.Sprint(m.CPUs))
	pad("State", humanOf(m.State)+" (since 2024-05-02T10:01:07.118000000)")
	pad("Autostart Enabled", map[bool]string{true: "on", false: "off"}[m.Autostart])
	pad("Default Frontend", m.Frontend)
	pad("Audio", "enabled (Driver: Default, Controller: HDA, Codec: STAC9221)")
	desc := ""
	if f.description != "" {
		desc = "Description:\n" + f.description + "\n"
	}
	tree := ""
	if f.snapDesc != "" {
		tree = "   Name: s1 (UUID: 0f4e3d2c-1b0a-4f9e-8d7c-" + m.UUID[24:] + ") *\n"
		if v61 || strings.Contains(f.snapDesc, "\n") {
			tree += "   Description:\n" + f.snapDesc + "\n"
		} else {
			tree += "   Description: " + f.snapDesc + "\n"
		}
	}
	if v61 {
		b.WriteString("\nUSB Device Filters:\n\n")
		pad("Index", "0")
		pad("Active", "yes")
		pad("Name", "filter0000")
		pad("Serial Number", "")
		b.WriteString("\nBandwidth groups:  <none>\n\nShared folders:\n\nName: 'share', Host path: '/srv' (machine mapping), writable\n\n")
		pad("Capture options", "")
		b.WriteString("\n" + desc + "Guest:\n\nConfigured memory balloon size: 0MB\n\n")
		if tree != "" {
			b.WriteString("Snapshots:\n\n" + tree)
		}
		b.WriteString("\n")
	} else {
		b.WriteString("USB Device Filters:\n")
		pad("Index", "0")
		pad("  Active", "yes")
		pad("  Name", "filter0000")
		pad("Shared folders", "")
		b.WriteString("\nName: 'share', Host path: '/srv' (machine mapping), writable\n\n")
		pad("Recording screens", "1")
		b.WriteString(" Screen 0:\n")
		pad("    Enabled", "yes")
		pad("    Video FPS", "25fps")
		b.WriteString(desc)
		if tree != "" {
			b.WriteString("* Snapshots:\n" + tree)
		}
		b.WriteString("* Guest:\n")
		pad("Configured memory balloon", "0MB")
		b.WriteString("\n")
	}
	return b.String()
}

func fakeTrio(desc string) []fakeMachine {
	mk := func(name, u, state string, mem, cpus int) Machine {
		return Machine{Name: name, UUID: u, State: state, MemoryMB: mem, CPUs: cpus, OSType: "Ubuntu (64-bit)", Frontend: "headless",
			AudioController: "hda", ConfigFile: "/vms/" + name + ".vbox", FoldersKnown: true}
	}
	return []fakeMachine{
		{m: mk("alpha", "00000000-0000-4000-8000-00000000000a", "running", 1024, 1), description: "plain"},
		{m: mk("bravo", "00000000-0000-4000-8000-00000000000b", "poweroff", 2048, 2), description: desc, snapDesc: "s\nName: x"},
		{m: mk("charlie", "00000000-0000-4000-8000-00000000000c", "saved", 4096, 4)},
	}
}

// truthReader answers reads alone from the machines VirtualBox really has.
func truthReader(fs []fakeMachine) func(string) Known {
	return func(u string) Known {
		for _, f := range fs {
			if f.m.UUID == u {
				m := f.m
				if f.snapDesc != "" {
					m.Snapshots = 1
				}
				return Known{Machine: m, Found: true}
			}
		}
		return Known{}
	}
}

// checkTrio: alpha and charlie exactly as VirtualBox has them, bravo's
// header fields exact, nothing else.
func checkTrio(t *testing.T, ms []Machine, fs []fakeMachine) {
	t.Helper()
	if len(ms) != 3 {
		t.Fatalf("got %d machines: %+v", len(ms), ms)
	}
	for i, m := range ms {
		want := fs[i].m
		if fs[i].snapDesc != "" {
			want.Snapshots = 1
		}
		if i != 1 && !reflect.DeepEqual(m, want) {
			t.Errorf("machine %d = %+v\nwant %+v", i, m, want)
		}
		if i == 1 && (m.Name != want.Name || m.UUID != want.UUID || m.State != want.State || m.MemoryMB != want.MemoryMB ||
			m.CPUs != want.CPUs || m.Autostart != want.Autostart) {
			t.Errorf("bravo = %+v", m)
		}
	}
}

func TestParseListingDescriptions(t *testing.T) {
	fakeBlock := func(name, u string, v61 bool) string {
		return strings.TrimSuffix(renderFakeBlock(fakeMachine{m: Machine{Name: name, UUID: u, State: "running", MemoryMB: 1, CPUs: 1}}, v61), "\n")
	}
	for _, v61 := range []bool{true, false} {
		guestEnd := "* Guest:\nConfigured memory balloon:   0MB\n"
		if v61 {
			guestEnd = "Guest:\n\nConfigured memory balloon size: 0MB\n\n"
		}
		for _, tc := range []struct {
			name, desc string
			reads      int
		}{
			{"ordinary", "notes\nName: ghost\nUUID: 11111111-2222-4333-8444-555555555555\n\nGuest:\n* Guest:\nname=\"x\"", 0},
			{"blank lines", "\n\n\nx\n\n", 0},
			{"label-like", "State:                       running\nNumber of CPUs:              64", 0},
			// A fake end and a whole block with a new UUID: the block is
			// not in the compact list and is dropped without a call.
			{"invented", "x\n" + guestEnd + "\n" + fakeBlock("evil", "11111111-2222-4333-8444-555555555555", v61), 0},
			// A whole block with charlie's UUID: charlie is read alone.
			{"impersonation", "x\n" + guestEnd + "\n" + fakeBlock("charlie", "00000000-0000-4000-8000-00000000000c", v61), 1},
			// A fake end only: bravo's own block does not parse to its end.
			{"fake end", "x\n" + guestEnd + "tail", 1},
		} {
			t.Run(fmt.Sprintf("%s/6.1=%v", tc.name, v61), func(t *testing.T) {
				fs := fakeTrio(tc.desc)
				ms, dropped, reads := resolve(t, []byte(renderFake(fs, v61)), truthReader(fs))
				checkTrio(t, ms, fs)
				if reads != tc.reads {
					t.Errorf("%d machines read alone, want %d (dropped %v)", reads, tc.reads, dropped)
				}
			})
		}
	}
}

func TestParseListingNames(t *testing.T) {
	const u1 = "11111111-2222-4333-8444-555555555555"
	for _, tc := range []struct {
		name, bravo string
	}{
		{"newline", "two\nlines"},
		{"compact forgery", "x\" {" + u1 + "}\n\"y"},
		{"block start", "x\n\nName:                        evil"},
		{"compact header", "x\n\n[vms]\n" + labelPrefix("Name") + "y"},
		{"quotes and braces", `a" {b} "c`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := fakeTrio("d")
			fs[1].m.Name = tc.bravo
			// A description elsewhere prints a block for the UUID the name
			// printed into the compact list.
			fs[0].description = "p\n* Guest:\nConfigured memory balloon:   0MB\n\n" + strings.TrimSuffix(renderFakeBlock(fakeMachine{m: Machine{Name: "x", UUID: u1, State: "running"}}, false), "\n")
			out := renderFake(fs, false)
			ms, dropped, _ := resolve(t, []byte(out), truthReader(fs))
			checkTrio(t, ms, fs)
			for _, m := range ms {
				if m.UUID == u1 {
					t.Errorf("invented machine %+v (dropped %v)", m, dropped)
				}
			}
		})
	}
}

func TestParseListingOddOutputs(t *testing.T) {
	fs := fakeTrio("d")
	full := renderFake(fs, false)
	for _, tc := range []struct {
		name, out string
		want      []string // UUIDs listed
	}{
		{"empty", "[vms]\n\n[vms]\n", nil},
		{"no machines, no newline", "[vms]\n\n[vms]", nil},
		// charlie's block is cut: charlie is read alone.
		{"truncated", full[:len(full)-300], []string{fs[0].m.UUID, fs[1].m.UUID, fs[2].m.UUID}},
		{"crlf", strings.ReplaceAll(full, "\n", "\r\n"), []string{fs[0].m.UUID, fs[1].m.UUID, fs[2].m.UUID}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := ParseListing([]byte(tc.out))
			if !l.Complete {
				t.Fatal("not complete")
			}
			ms, _, _ := resolve(t, []byte(tc.out), truthReader(fs))
			var got []string
			for _, m := range ms {
				got = append(got, m.UUID)
			}
			sort.Strings(got)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("listed %v, want %v", got, tc.want)
			}
		})
	}
	if ParseListing([]byte("random garbage\n")).Complete {
		t.Error("garbage is a complete listing")
	}
}

// FuzzParseListingDescription: whatever bravo's description (printed raw, as
// VBoxManage does) and whatever 6.1 or 7.0 shape, alpha and charlie come out
// exactly as VirtualBox has them, bravo's own fields are right, and no
// machine is invented; arbitrary bytes never panic.
func FuzzParseListingDescription(f *testing.F) {
	const u1 = "11111111-2222-4333-8444-555555555555"
	block := strings.TrimSuffix(renderFakeBlock(fakeMachine{m: Machine{Name: "evil", UUID: u1, State: "running"}}, false), "\n")
	for _, s := range []string{"", "plain", "Name: ghost\nUUID: " + u1, "x\n* Guest:\nConfigured memory balloon:   0MB\n\n" + block,
		"x\nGuest:\n\nConfigured memory balloon size: 0MB\n\n\n" + block, "\n\n[vms]\n", "name=\"x\"\n\"", fidDesc, fidSnapDs} {
		f.Add(s, false)
		f.Add(s, true)
	}
	for _, v := range []string{"61", "70", "71"} {
		f.Add(string(simGolden(f, "fidelity-list-"+v+".txt")), false)
	}
	f.Fuzz(func(t *testing.T, desc string, v61 bool) {
		l := ParseListing([]byte(desc))
		l.Machines(map[string]Known{u1: {}})
		_, _ = ParseListLong([]byte(desc))
		if strings.ContainsRune(desc, '\r') {
			return // VBoxManage prints no carriage return of its own; CRLF is folded
		}
		fs := fakeTrio(desc)
		if desc == "" {
			fs[1].description = ""
		}
		ms, _, _ := resolve(t, []byte(renderFake(fs, v61)), truthReader(fs))
		checkTrio(t, ms, fs)
	})
}

// FuzzMachineReadableDescription: a description printed the way
// outputMachineReadableString does (only " and \ escaped, newlines raw) is
// read back exactly, and the keys around it are intact.
func FuzzMachineReadableDescription(f *testing.F) {
	for _, s := range []string{"plain", fidDesc, "a\nname=\"x\"\nUUID=\"y\"", "\\\"\n\"", "x\"\nmemory=1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, desc string) {
		if strings.ContainsRune(desc, '\r') {
			return
		}
		esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(desc)
		out := "name=\"vm\"\nUUID=\"00000000-0000-4000-8000-00000000000b\"\nmemory=2048\ndescription=\"" + esc +
			"\"\nGuestMemoryBalloon=0\nSnapshotName=\"s\"\nSnapshotUUID=\"0f4e3d2c-1b0a-4f9e-8d7c-6b5a49382716\"\n"
		in := ParseMachineReadable([]byte(out))
		if got := in.Str("description"); got != desc {
			t.Fatalf("description %q read as %q", desc, got)
		}
		m := MachineFromInfo(in)
		if m.Name != "vm" || m.MemoryMB != 2048 || m.Snapshots != 1 || in.Int("GuestMemoryBalloon", -1) != 0 {
			t.Fatalf("keys around the description: %+v", m)
		}
	})
}

func BenchmarkParseListing200(b *testing.B) {
	var fs []fakeMachine
	for i := 0; i < 200; i++ {
		f := fakeTrio("seeded VM\nowner: team-3, \"critical\"")[i%3]
		f.m.UUID = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		f.m.Name = fmt.Sprintf("vm-%03d", i)
		fs = append(fs, f)
	}
	out := []byte(renderFake(fs, false))
	b.SetBytes(int64(len(out)))
	for i := 0; i < b.N; i++ {
		l := ParseListing(out)
		if sus := l.Suspects(nil); len(sus) != 0 {
			b.Fatalf("suspects %v", sus)
		}
		if ms, _, _ := l.Machines(nil); len(ms) != 200 {
			b.Fatalf("%d machines", len(ms))
		}
	}
}

// TestParseListingSeeded: the simulator's seeded machines (multi-line
// descriptions with quotes, snapshots, filters, folders, running ones) in
// every personality are all proven by the listing alone, and each reads as
// `showvminfo --machinereadable` reads it.
func TestParseListingSeeded(t *testing.T) {
	for _, v := range []string{"6.1", "7.0", "7.1"} {
		t.Run(v, func(t *testing.T) {
			env, err := vboxsim.EnvFromOS(func(k string) string {
				return map[string]string{"VBOXSIM_HOME": t.TempDir(), "VBOXSIM_VERSION": v, "VBOXSIM_LATENCY": "0",
					"VBOXSIM_COLD_START": "0"}[k]
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := vboxsim.Seed(env, 40, 8, 1); err != nil {
				t.Fatal(err)
			}
			run := func(args ...string) []byte {
				out, errOut, code := vboxsim.RunCapture(env, args...)
				if code != 0 {
					t.Fatalf("%q: exit %d: %s", args, code, errOut)
				}
				return []byte(out)
			}
			l := ParseListing(run(listArgs...))
			if sus := l.Suspects(nil); len(sus) != 0 {
				for _, b := range l.blocks {
					if !b.clean {
						t.Errorf("block %q: %s", b.m.Name, b.why)
					}
				}
				t.Fatalf("suspects %v", sus)
			}
			ms, dropped, broken := l.Machines(nil)
			if len(ms) != 40 || len(dropped) != 0 || len(broken) != 0 {
				t.Fatalf("%d machines, dropped %v, broken %v", len(ms), dropped, broken)
			}
			for _, m := range ms {
				want := MachineFromInfo(ParseMachineReadable(run("showvminfo", m.UUID, "--machinereadable")))
				// Human output only: the audio controller and the folders' read-only flags.
				want.AudioController, want.FoldersKnown, want.ReadOnlyFolders = m.AudioController, m.FoldersKnown, m.ReadOnlyFolders
				if !reflect.DeepEqual(m, want) {
					t.Errorf("listing:   %+v\nshowvminfo: %+v", m, want)
				}
			}
		})
	}
}
