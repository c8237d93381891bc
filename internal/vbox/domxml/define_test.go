package domxml

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readFile(tb testing.TB, name string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// canonical parses doc and formats it again, so two documents meaning the
// same domain compare equal as strings.
func canonical(tb testing.TB, doc string) string {
	tb.Helper()
	d, err := ParseDomain(doc)
	if err != nil {
		tb.Fatalf("ParseDomain: %v", err)
	}
	s, err := FormatXML(d)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// defineOn parses doc, plans it over vm (creating it when vm has no
// machine yet), applies the plan, and returns the plan.
func defineOn(tb testing.TB, vm *fakeVM, doc, version string) *Plan {
	tb.Helper()
	d, err := ParseDomain(doc)
	if err != nil {
		tb.Fatalf("ParseDomain: %v", err)
	}
	var existing *Info
	if vm.kv["UUID"] != "" {
		in := vm.info()
		existing = &in
	}
	p, err := PlanDefine(d, existing, PlanOptions{Version: version})
	if err != nil {
		tb.Fatalf("PlanDefine: %v", err)
	}
	vm.apply(p)
	return p
}

func dumpxml(tb testing.TB, vm *fakeVM) string {
	tb.Helper()
	d, err := ToDomain(vm.info(), Runtime{ID: -1})
	if err != nil {
		tb.Fatal(err)
	}
	s, err := FormatXML(d)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// TestDefineRichApplied defines a document using every mapped device on a
// new machine, applies the plan to a fake VirtualBox and reads the machine
// back: the XML must come back unchanged, and defining it again is a no-op.
func TestDefineRichApplied(t *testing.T) {
	doc := readFile(t, "rich.xml")
	want := canonical(t, doc)
	for _, version := range []string{"6.1", "7.0", "7.1"} {
		t.Run(version, func(t *testing.T) {
			vm := newFakeVM(t)
			p := defineOn(t, vm, doc, version)
			if !p.Create || p.UUID != "5f0e4f1a-3c2b-4d1e-8f7a-6b5c4d3e2f10" || len(p.Rollback) == 0 {
				t.Errorf("plan: create=%v uuid=%s rollback=%d", p.Create, p.UUID, len(p.Rollback))
			}
			if got := dumpxml(t, vm); got != want {
				t.Fatalf("machine defined from rich.xml reads back differently:\n--- got\n%s\n--- want\n%s", got, want)
			}
			again := defineOn(t, vm, doc, version)
			if !again.Empty() {
				t.Errorf("defining the same document again is not a no-op: %v", again.Steps)
			}
		})
	}
}

// TestDefineUpdates edits a defined machine one change at a time (virsh
// edit) and checks that only the change is planned and that it lands.
func TestDefineUpdates(t *testing.T) {
	base := readFile(t, "rich.xml")
	for _, tc := range []struct {
		name     string
		old, new string
		steps    int    // expected number of steps
		mustHave string // a fragment of the joined plan
	}{
		{"memory", "<memory unit='KiB'>1048576</memory>\n  <currentMemory unit='KiB'>1048576</currentMemory>", "<memory unit='MiB'>2048</memory>", 1, "--memory 2048"},
		{"rename", "<name>rich vm</name>", "<name>--help</name>", 1, "--name --help"},
		{"media change", "/iso/install image.iso", "/iso/other.iso", 1, "--type dvddrive --medium /iso/other.iso"},
		{"disk swap", "/vms/rich/root.vdi", "/vms/rich/new.vdi", 2, "--medium none"},
		{"remove disk", "<disk type='file' device='disk'>\n      <source file='/vms/rich/sas.vmdk'/>\n      <target dev='sdd' bus='scsi'/>\n      <address type='drive' controller='0' bus='0' target='0' unit='3'/>\n    </disk>", "", 1, "--port 3 --device 0 --medium none"},
		{"ide model", "model='piix4'", "model='ich6'", 1, "--controller ICH6"},
		{"scsi model", "model='lsisas1068'", "model='lsilogic'", 3, "--name SCSI Controller --add scsi --controller LsiLogic"},
		{"nic type", "<source bridge='eth1'/>", "<source bridge='eth2'/>", 1, "eth2"},
		{"nic off", "<interface type='null'>\n      <mac address='08:00:27:aa:bb:06'/>\n      <model type='virtio'/>\n      <alias name='ua-nic6'/>\n    </interface>", "", 1, "--nic6 none"},
		{"link up", "      <link state='down'/>\n", "", 1, "onnected3 on"},
		{"serial", "<source path='/tmp/com3.log'/>", "<source path='/tmp/other.log'/>", 1, "--uartmode3 file /tmp/other.log"},
		{"folder", "<source dir='/srv/share'/>", "<source dir='/srv/other'/>", 2, "--hostpath /srv/other"},
		{"rdp port", "port='5000'", "autoport='yes'", 1, "3389-3689"},
		{"sound", "<sound model='ich6'/>", "<sound model='sb16'/>", 1, "sb16"},
		{"no sound", "<sound model='ich6'/>", "", 1, "audio"},
		{"usb filters", "<vendor id='0x0781'/>", "<vendor id='0x0782'/>", 4, "--vendorid 0782"},
		{"frontend", "<graphics type='desktop' display=':1'/>", "<graphics type='sdl' display=':1'/>", 2, "--defaultfrontend sdl"},
		{"boot", "<boot dev='cdrom'/>", "<boot dev='fd'/>", 1, "--boot1 floppy"},
		{"mouse", "<input type='tablet' bus='usb'/>", "<input type='mouse' bus='usb'/>", 1, "--mouse usb"},
		{"on_crash", "<on_crash>preserve</on_crash>", "<on_crash>restart</on_crash>", 1, "--triplefaultreset on"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(base, tc.old) {
				t.Fatalf("rich.xml lacks %q", tc.old)
			}
			edited := strings.Replace(base, tc.old, tc.new, 1)
			for _, version := range []string{"6.1", "7.0"} {
				vm := newFakeVM(t)
				defineOn(t, vm, base, version)
				p := defineOn(t, vm, edited, version)
				var all []string
				for _, s := range p.Steps {
					all = append(all, strings.Join(s.Args, " "))
				}
				joined := strings.Join(all, "\n")
				if p.Create || len(p.Steps) != tc.steps || !strings.Contains(joined, tc.mustHave) {
					t.Errorf("%s: plan (create=%v) =\n%s\nwant %d steps containing %q", version, p.Create, joined, tc.steps, tc.mustHave)
				}
				// The updated machine must read back as a machine created
				// from the edited document does.
				fresh := newFakeVM(t)
				defineOn(t, fresh, edited, version)
				if got, want := dumpxml(t, vm), dumpxml(t, fresh); got != want {
					t.Errorf("%s: after the update the machine reads back differently:\n--- got\n%s\n--- want\n%s", version, got, want)
				}
			}
		})
	}
}

func TestVirtioSCSI(t *testing.T) {
	doc := strings.Replace(readFile(t, "rich.xml"), "model='lsisas1068'", "model='virtio-scsi'", 1)
	vm := newFakeVM(t)
	p := defineOn(t, vm, doc, "7.0")
	found := false
	for _, s := range p.Steps {
		if s.Args[0] == "storagectl" && strings.Contains(strings.Join(s.Args, " "), "--add virtio --controller VirtIO") {
			found = true
		}
	}
	if !found {
		t.Errorf("no virtio controller added: %v", p.Steps)
	}
	if got, want := dumpxml(t, vm), canonical(t, doc); got != want {
		t.Errorf("reads back differently:\n%s\nwant\n%s", got, want)
	}
	d, err := ParseDomain(doc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PlanDefine(d, nil, PlanOptions{Version: "6.1"}); err == nil || !strings.Contains(err.Error(), "7.0 or later") {
		t.Errorf("6.1 virtio-scsi: err = %v", err)
	}
}
