package vbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want uint64
		rev  int
	}{
		{"6.1.20r143896\n", 6001020, 143896},
		{"7.0.14r161095\n", 7000014, 161095},
		{"7.1.4r165100", 7001004, 165100},
		{"6.1.38_Ubuntur153438\n", 6001038, 153438},
		{"4.1.8_OSEr1234\n", 4001008, 1234},
		{"4.1.8_MacPortsr1234\n", 4001008, 1234},
		{"WARNING: The vboxdrv kernel module is not loaded. Either there is no module\n" +
			"         available for the current kernel (5.15.0) or it failed to\n\n7.0.18r162988\n\n", 7000018, 162988},
	} {
		v, err := ParseVersion([]byte(tc.in))
		if err != nil {
			t.Errorf("ParseVersion(%q): %v", tc.in, err)
			continue
		}
		if v.Number() != tc.want || v.Revision != tc.rev {
			t.Errorf("ParseVersion(%q) = %d r%d, want %d r%d", tc.in, v.Number(), v.Revision, tc.want, tc.rev)
		}
	}
	for _, bad := range []string{"", "\n\n", "garbage", "7.x.1r1", "Oracle VM VirtualBox"} {
		if _, err := ParseVersion([]byte(bad)); err == nil {
			t.Errorf("ParseVersion(%q) succeeded", bad)
		}
	}
}

func TestParseListVMs(t *testing.T) {
	refs, err := ParseListVMs(readTestdata(t, "list_vms.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 2 || refs[0].Name != "Ubuntu" || refs[0].UUID != "2e16b1fc-675d-4a7a-a9a1-e89a8bde7874" ||
		refs[1].Name != "go-virtualbox" {
		t.Fatalf("got %+v", refs)
	}
	odd := "\"x\"y\" {11111111-2222-3333-4444-555555555555}\n" +
		"\"with space {and brace}\" {11111111-2222-3333-4444-555555555556}\n" +
		"\"--help\" {11111111-2222-3333-4444-555555555557}\n" +
		"\"<inaccessible>\" {11111111-2222-3333-4444-555555555558}\n"
	refs, err = ParseListVMs([]byte(odd))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`x"y`, "with space {and brace}", "--help", "<inaccessible>"}
	for i, w := range want {
		if refs[i].Name != w {
			t.Errorf("name %d = %q, want %q", i, refs[i].Name, w)
		}
	}
	if !refs[3].Inaccessible {
		t.Error("inaccessible entry not flagged")
	}
	if refs, err := ParseListVMs(nil); err != nil || len(refs) != 0 {
		t.Errorf("empty list: %v %v", refs, err)
	}
	if _, err := ParseListVMs([]byte("\x00\x01garbage\n")); err == nil {
		t.Error("garbage accepted")
	}
}

func TestParseMachineReadable61(t *testing.T) {
	in := ParseMachineReadable(readTestdata(t, "showvminfo_61.txt"))
	checks := map[string]string{
		"name":                               "web01",
		"UUID":                               "6c0b2e4f-2a3b-4f7e-9d1c-1f2e3d4c5b6a",
		"ostype":                             "Ubuntu (64-bit)",
		"memory":                             "2048",
		"cpus":                               "2",
		"VMState":                            "poweroff",
		"VMStateChangeTime":                  "2024-05-02T09:58:41.512000000",
		"SATA Controller-0-0":                "/home/ci/VirtualBox VMs/web01/Snapshots/{9a1c0f7e-5d7b-4c69-9a33-0c7b1a0e4d2f}.vdi",
		"IDE Controller-1-1":                 "none",
		"Forwarding(0)":                      "ssh,tcp,127.0.0.1,2222,,22",
		"vrdeport":                           "-1",
		"vrdeproperty[TCP/Ports]":            "5901",
		"vrdeproperty[VideoChannel/Enabled]": "<not set>",
		"captureopts":                        "vc_enabled=true,ac_enabled=false,ac_profile=med",
		"CurrentSnapshotNode":                "SnapshotName-1",
		"SnapshotDescription-1":              "after ansible run",
	}
	for k, want := range checks {
		if got, ok := in.Get(k); !ok || got != want {
			t.Errorf("%s = %q (present %v), want %q", k, got, ok, want)
		}
	}
	for _, kv := range in.Pairs {
		if kv.Bare {
			t.Errorf("unexpected bare line %+v", kv)
		}
	}
	m := MachineFromInfo(in)
	if m.Name != "web01" || m.MemoryMB != 2048 || m.CPUs != 2 || m.State != "poweroff" || m.Snapshots != 2 || m.Autostart {
		t.Errorf("MachineFromInfo = %+v", m)
	}
}

func TestParseMachineReadable70Quirks(t *testing.T) {
	in := ParseMachineReadable(readTestdata(t, "showvminfo_70_running.txt"))
	checks := map[string]string{
		"name":                         "web01",
		"Encryption":                   "disabled",
		"VMState":                      "running",
		"VRDEClients":                  "0",
		"VideoMode":                    "1024,768,32@0,0 1",
		"IDE Controller-IsEjected-1-0": "off",
		"rec_screen0":                  "",
		"GuestAdditionsVersion":        "7.0.14 r161095",
		"vrdeport":                     "5901",
	}
	for k, want := range checks {
		if got, ok := in.Get(k); !ok || got != want {
			t.Errorf("%s = %q (present %v), want %q", k, got, ok, want)
		}
	}
	bare := 0
	for _, kv := range in.Pairs {
		if kv.Bare {
			bare++
		}
	}
	if bare != 2 {
		t.Errorf("bare lines = %d, want 2 (Encryption, rec_screen0)", bare)
	}
}

func TestParseMachineReadableEdgeCases(t *testing.T) {
	for _, tc := range []struct {
		name, in, key, want string
	}{
		{"value with =", `name="a=b"`, "name", "a=b"},
		{"escaped quote", `name="x\"y"`, "name", `x"y`},
		{"escaped backslash", `description="a\\b"`, "description", `a\b`},
		{"quoted key with =", `"ctl=1-0-0"="none"`, "ctl=1-0-0", "none"},
		{"quoted key with escaped quote", `"c\"tl-0-0"="none"`, `c"tl-0-0`, "none"},
		{"unquoted not set", `vrdeproperty[Security/Method]=<not set>`, "vrdeproperty[Security/Method]", "<not set>"},
		{"unquoted 6.1 bandwidth", `BandwidthGroup0=limit,Disk,100`, "BandwidthGroup0", "limit,Disk,100"},
		{"6.1 raw value with quote", `"SATA-0-0"="/vms/x"y/disk.vdi"`, "SATA-0-0", `/vms/x"y/disk.vdi`},
		{"multi-line description", "description=\"line one\nline two\"\nmemory=1", "description", "line one\nline two"},
		{"unterminated", `name="abc`, "name", "abc"},
		{"name with spaces and unicode", `name=" ünïcødé name "`, "name", " ünïcødé name "},
		{"7.1 encryption", `encryption="disabled"`, "encryption", "disabled"},
		{"BIOS NVRAM File", `BIOS NVRAM File="/x.nvram"`, "BIOS NVRAM File", "/x.nvram"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := ParseMachineReadable([]byte(tc.in))
			if got, ok := in.Get(tc.key); !ok || got != tc.want {
				t.Errorf("%s = %q (present %v), want %q; pairs %+v", tc.key, got, ok, tc.want, in.Pairs)
			}
		})
	}
	// The multi-line value must not swallow the next pair.
	in := ParseMachineReadable([]byte("description=\"a\nb\"\nmemory=1"))
	if in.Int("memory", -1) != 1 {
		t.Errorf("memory lost after a multi-line value: %+v", in.Pairs)
	}
}

func TestParseListLong(t *testing.T) {
	ms, err := ParseListLong(readTestdata(t, "human_706.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 {
		t.Fatalf("got %d machines", len(ms))
	}
	m := ms[0]
	if m.Name != "rh9-node1" || m.UUID != "253cc2ba-935b-482c-83d3-14bc4ed72c22" || m.State != "poweroff" ||
		m.MemoryMB != 2048 || m.CPUs != 2 || m.OSType != "Red Hat 9.x (64-bit)" {
		t.Errorf("got %+v", m)
	}

	// Two blocks, odd names, a shared folder line, snapshots, the
	// colon-less Windows memory line, and a blank line inside a block.
	pad := func(label, v string) string { return label + strings.Repeat(" ", 29-len(label)) + v + "\n" }
	out := pad("Name:", "  --help") + pad("Groups:", "/") + pad("Guest OS:", "Other/Unknown") +
		pad("UUID:", "11111111-2222-3333-4444-555555555555") +
		"Memory size                  4096MB\n" + pad("Number of CPUs:", "4") +
		pad("State:", "running (since 2024-05-02T10:01:07.118000000)") +
		pad("Autostart Enabled:", "on") + pad("Audio:", "enabled (Driver: PulseAudio, Controller: HDA, Codec: STAC9221)") + "\n" +
		"USB Device Filters:\n\n" + pad("Index:", "0") + pad("Active:", "yes") + pad("Name:", "filter0000") +
		pad("VendorId:", "0781") + pad("ProductId:", "5567") + "\n" +
		"Shared folders:\n\nName: 'vagrant', Host path: '/src' (machine mapping), writable\n" +
		"Name: 'it's ro', Host path: '/srv/ro' (machine mapping), readonly\n\n" +
		"Snapshots:\n\n   Name: base (UUID: 0f4e3d2c-1b0a-4f9e-8d7c-6b5a49382716)\n" +
		"      Name: provisioned (UUID: 7e5b6c4d-3a2f-4e1d-9c8b-7a6f5e4d3c2b) *\n\n" +
		pad("Name:", `x"y a=b`) + pad("UUID:", "11111111-2222-3333-4444-555555555556") +
		pad("Memory size:", "128MB") + pad("Number of CPUs:", "1") +
		pad("State:", "saved (since 2024-05-02T10:01:07.118000000)") + "\n"
	ms, err = ParseListLong([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 {
		t.Fatalf("got %d machines: %+v", len(ms), ms)
	}
	if ms[0].Name != "  --help" || ms[0].MemoryMB != 4096 || ms[0].CPUs != 4 || ms[0].State != "running" ||
		!ms[0].Autostart || ms[0].Snapshots != 2 || ms[0].AudioController != "hda" ||
		!ms[0].FoldersKnown || len(ms[0].ReadOnlyFolders) != 1 || ms[0].ReadOnlyFolders[0] != "it's ro" {
		t.Errorf("first = %+v", ms[0])
	}
	if ms[1].Name != `x"y a=b` || ms[1].State != "saved" || ms[1].MemoryMB != 128 || ms[1].Snapshots != 0 {
		t.Errorf("second = %+v", ms[1])
	}
	if _, err := ParseListLong([]byte("random garbage\n")); err == nil {
		t.Error("garbage accepted")
	}
	if _, err := ParseListLong([]byte(pad("Name:", "no uuid"))); err == nil {
		t.Error("block without UUID accepted")
	}
}

func TestParseHostInfoAndSystemProperties(t *testing.T) {
	hi, err := ParseHostInfo(readTestdata(t, "hostinfo.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if hi.LeadingInt("Memory size", 0) != 32014 || hi.LeadingInt("Memory available", 0) != 20113 ||
		hi.LeadingInt("Processor online count", 0) != 8 || hi.LeadingInt("Processor#0 speed", 0) != 3600 ||
		hi.Str("Host time") != "2024-05-02T10:11:12.345000000Z" ||
		hi.Str("Processor#0 description") != "Intel(R) Core(TM) i7-7700 CPU @ 3.60GHz" {
		t.Errorf("hostinfo = %+v", hi.Pairs)
	}
	sp, err := ParseSystemProperties(readTestdata(t, "systemproperties_70.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if sp.Str("API version") != "7_0" || sp.Str("Default machine folder") != "/home/username/VirtualBox VMs" ||
		sp.LeadingInt("Maximum guest RAM size", 0) != 2097152 {
		t.Errorf("systemproperties = %+v", sp.Pairs)
	}
	if _, err := ParseHostInfo([]byte("garbage")); err == nil {
		t.Error("hostinfo garbage accepted")
	}
}

func TestParseHDDs(t *testing.T) {
	ms, err := ParseHDDs(readTestdata(t, "hdds.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Location != "/home/ci/VirtualBox VMs/web01/web01.vdi" || ms[0].CapacityMB != 20480 ||
		ms[0].Type != "normal (base)" || ms[0].ParentUUID != "base" {
		t.Errorf("got %+v", ms)
	}
}

func TestClassifyErrorSamples(t *testing.T) {
	for file, want := range map[string]Kind{
		"err_not_found.txt":         KindNotFound,
		"err_lock_write.txt":        KindLockHeld,
		"err_lock_startvm.txt":      KindLockHeld,
		"err_unregister_locked.txt": KindLockHeld,
		"err_invalid_state.txt":     KindInvalidState,
		"err_file_exists.txt":       KindOther,
		"err_noinfo.txt":            KindOther,
	} {
		stderr := string(readTestdata(t, file))
		if got := classify(1, stderr); got != want {
			t.Errorf("%s: kind %v, want %v", file, got, want)
		}
		if !hasErrorLine([]byte(stderr)) {
			t.Errorf("%s: error line not seen", file)
		}
		ce := &CmdError{Args: []string{"x"}, ExitCode: 1, Stderr: stderr}
		if msg := ce.Message(); strings.Contains(msg, "Details:") || strings.Contains(msg, "VBoxManage: error") || msg == "" {
			t.Errorf("%s: message %q", file, msg)
		}
	}
	for stderr, want := range map[string]Kind{
		"VBoxManage: error: The object is not ready\n":                   KindTransient,
		"VBoxManage: error: The object functionality is limited\n":       KindTransient,
		"VBoxManage: error: Machine 'web01' is not currently running.\n": KindInvalidState,
		"VBoxManage: error: Failed to create the VirtualBox object!\n":   KindServiceDown,
		"Usage: ...\nVBoxManage: error: Unknown option: --foo\n":         KindOther,
	} {
		if got := classify(1, stderr); got != want {
			t.Errorf("classify(%q) = %v, want %v", stderr, got, want)
		}
	}
	if classify(2, "Syntax error: x") != KindSyntax {
		t.Error("exit 2 is not syntax")
	}
}

func FuzzParseMachineReadable(f *testing.F) {
	for _, name := range []string{"showvminfo_61.txt", "showvminfo_70_running.txt"} {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte(`"a\"b=c"="d\\"` + "\nVRDEClients==0\n\"unterminated"))
	f.Add([]byte("description=\"x\n\n\"\n=\n\"\"=\n"))
	for _, v := range []string{"61", "70", "71"} {
		f.Add(simGolden(f, "fidelity-mr-"+v+".txt"))
		f.Add(simGolden(f, "fidelity-list-"+v+".txt"))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := ParseMachineReadable(data)
		for _, kv := range in.Pairs {
			if _, ok := in.Get(kv.Key); !ok {
				t.Fatalf("key %q not indexed", kv.Key)
			}
		}
		_ = MachineFromInfo(in)
		_, _ = ParseListLong(data)
		ParseListing(data).Suspects(nil)
		_, _ = ParseListVMs(data)
		_ = ParseRecords(data)
		_, _ = ParseVersion(data)
	})
}

// TestParseMachineReadableRaw: values VBoxManage prints raw between quotes
// (6.1 storage paths and adapter names, snapshot names and descriptions in
// every version) keep their quotes, backslashes and newlines, and the pairs
// after them survive.
func TestParseMachineReadableRaw(t *testing.T) {
	out := "name=\"vm\"\n" +
		"\"IDE Controller-1-0\"=\"/iso/we\"ird.iso\"\n" +
		"bridgeadapter1=\"br\"0\nsecond line\"\n" +
		"nic1=\"bridged\"\n" +
		"SnapshotName=\"C:\\dir\\\"\n" +
		"SnapshotUUID=\"0f4e3d2c-1b0a-4f9e-8d7c-6b5a49382716\"\n" +
		"SnapshotDescription=\"ends with a quote\"\nthen \"more\" text\nname=\"forged\"\nlast\"\n" +
		"CurrentSnapshotName=\"C:\\dir\\\"\n" +
		"GuestMemoryBalloon=0\n"
	in := ParseMachineReadable([]byte(out))
	for k, want := range map[string]string{
		"name":                "vm",
		"IDE Controller-1-0":  `/iso/we"ird.iso`,
		"bridgeadapter1":      "br\"0\nsecond line",
		"nic1":                "bridged",
		"SnapshotName":        `C:\dir\`,
		"SnapshotDescription": "ends with a quote\"\nthen \"more\" text\nname=\"forged\"\nlast",
		"CurrentSnapshotName": `C:\dir\`,
		"GuestMemoryBalloon":  "0",
	} {
		if got := in.Str(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if m := MachineFromInfo(in); m.Snapshots != 1 || m.Name != "vm" {
		t.Errorf("machine %+v", m)
	}
}
