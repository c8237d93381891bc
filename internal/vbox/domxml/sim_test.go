package domxml

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/vboxsim"
)

// simInfo reads a machine from the simulator as the driver would.
func simInfo(t *testing.T, env vboxsim.Env, uuid string) Info {
	t.Helper()
	out, errOut, code := vboxsim.RunCapture(env, "showvminfo", uuid, "--machinereadable")
	if code != 0 {
		t.Fatalf("showvminfo: exit %d: %s", code, errOut)
	}
	var pairs []KV
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := splitLine(line); ok {
			pairs = append(pairs, KV{k, v})
		}
	}
	return NewInfo(pairs)
}

// TestAgainstSimulator runs a creation plan and an update plan through the
// VBoxManage simulator of each VirtualBox version and reads the machine
// back through showvminfo: the XML must survive, and defining it again must
// be a no-op.
//
// testdata/simulated.xml is rich.xml without what the simulator does not
// implement yet: serial ports (it takes `--uart1 0x3f8,4` and a one-word
// `--uartmode1`, where VBoxManage takes `--uart1 0x3f8 4` and
// `--uartmode1 server <pipe>`), parallel ports (--lpt, --lptmode),
// --defaultfrontend and usbfilter. Its sound is ac97 because machine-readable
// showvminfo does not print the audio controller. The fake VirtualBox of
// fakevm_test.go covers all of rich.xml.
func TestAgainstSimulator(t *testing.T) {
	if testing.Short() {
		t.Skip("simulator round trips are not short")
	}
	for _, version := range []string{"6.1", "7.0", "7.1"} {
		t.Run(version, func(t *testing.T) {
			pers, err := vboxsim.ParsePersonality(version)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			env := vboxsim.Env{Home: filepath.Join(dir, "home"), Personality: pers, MachineFolder: filepath.Join(dir, "vms")}
			for _, f := range []string{"root.vdi", "old.vdi", "sas.vmdk", "floppy.img", "install image.iso"} {
				if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			doc := readFile(t, "simulated.xml")
			doc = strings.ReplaceAll(doc, "/DIR/", dir+"/")
			d, err := ParseDomain(doc)
			if err != nil {
				t.Fatal(err)
			}
			run := func(p *Plan) {
				t.Helper()
				for _, s := range p.Steps {
					if _, errOut, code := vboxsim.RunCapture(env, s.Args...); code != 0 {
						t.Fatalf("%s: exit %d: %s", s, code, errOut)
					}
				}
			}
			p, err := PlanDefine(d, nil, PlanOptions{Version: pers.Full})
			if err != nil {
				t.Fatal(err)
			}
			run(p)
			info := simInfo(t, env, p.UUID)
			got, err := ToDomain(info, Runtime{ID: -1})
			if err != nil {
				t.Fatal(err)
			}
			gotXML, _ := FormatXML(got)
			if want := canonical(t, doc); gotXML != want {
				t.Fatalf("created machine reads back differently:\n--- got\n%s\n--- want\n%s", gotXML, want)
			}
			again, err := PlanDefine(d, &info, PlanOptions{Version: pers.Full})
			if err != nil {
				t.Fatal(err)
			}
			if !again.Empty() {
				t.Errorf("redefining is not a no-op: %v", again.Steps)
			}
			// virsh edit: a few changes at once.
			edited := strings.NewReplacer(
				"<memory unit='KiB'>1048576</memory>", "<memory unit='KiB'>2097152</memory>",
				"<currentMemory unit='KiB'>1048576</currentMemory>", "<currentMemory unit='KiB'>2097152</currentMemory>",
				"install image.iso", "old.vdi",
				"<source bridge='eth1'/>", "<source bridge='eth2'/>",
				"<name>sim vm</name>", "<name>sim vm renamed</name>",
			).Replace(doc)
			ed, err := ParseDomain(edited)
			if err != nil {
				t.Fatal(err)
			}
			up, err := PlanDefine(ed, &info, PlanOptions{Version: pers.Full})
			if err != nil {
				t.Fatal(err)
			}
			run(up)
			info = simInfo(t, env, p.UUID)
			got, err = ToDomain(info, Runtime{ID: -1})
			if err != nil {
				t.Fatal(err)
			}
			gotXML, _ = FormatXML(got)
			if want := canonical(t, edited); gotXML != want {
				t.Fatalf("updated machine reads back differently:\n--- got\n%s\n--- want\n%s", gotXML, want)
			}
		})
	}
}
