package domxml

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzRoundTrip: for any showvminfo output ToDomain accepts, the XML it
// produces must parse, and defining it over the same machine must change
// nothing. The input is showvminfo text (one key=value per line).
func FuzzRoundTrip(f *testing.F) {
	for _, s := range samples {
		b, err := os.ReadFile(filepath.Join("testdata", s))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, text string) {
		var pairs []KV
		for _, line := range strings.Split(text, "\n") {
			if k, v, ok := splitLine(line); ok {
				pairs = append(pairs, KV{k, v})
			}
		}
		info := NewInfo(pairs)
		if unrepresentable(info) {
			return
		}
		dom, err := ToDomain(info, Runtime{ID: 1, Active: true})
		if err != nil {
			return
		}
		doc, err := FormatXML(dom)
		if err != nil {
			t.Fatalf("FormatXML: %v", err)
		}
		parsed, err := ParseDomain(doc)
		if err != nil {
			t.Fatalf("our own XML does not parse: %v\n%s", err, doc)
		}
		p, err := PlanDefine(parsed, &info, PlanOptions{Version: "7.0"})
		if err != nil {
			t.Fatalf("PlanDefine over the same machine: %v\n%s", err, doc)
		}
		if !p.Empty() {
			t.Fatalf("redefining the machine's own XML is not a no-op: %v\n%s", p.Steps, doc)
		}
	})
}

// unrepresentable reports showvminfo values that no domain XML can carry
// (XML 1.0 has no control characters; invalid UTF-8 becomes U+FFFD).
// VirtualBox prints neither.
func unrepresentable(in Info) bool {
	for _, kv := range in.Pairs {
		for _, r := range kv.Value {
			if r < 0x20 && r != '\t' || r == 0xfffd {
				return true
			}
		}
	}
	return false
}

// FuzzDefineIdempotent: any document that plans a new machine, once that
// plan is applied (to the fake VirtualBox), plans nothing when defined
// again — the property `virsh define x.xml; virsh define x.xml` relies on.
func FuzzDefineIdempotent(f *testing.F) {
	f.Add(readFile(f, "rich.xml"))
	f.Add(readFile(f, "simulated.xml"))
	// What real tools write (virt-install, libvirt's vbox driver, QEMU-minded tools).
	for _, name := range []string{"virt-install-import.xml", "virt-install-cdrom.xml", "libvirt-vbox-dumpxml.xml", "tools-extras.xml"} {
		f.Add(readFile(f, name))
	}
	f.Add(minimal("", "<disk device='cdrom'><target dev='hdc'/></disk><interface type='user'/><serial type='null'/>"))
	f.Add(minimal("<vcpu>3</vcpu><features><acpi/></features>", "<sound model='sb16'/><video><model type='none'/></video><controller type='usb' model='ehci'/>"))
	f.Fuzz(func(t *testing.T, doc string) {
		d, err := ParseDomain(doc)
		if err != nil {
			return
		}
		p, err := PlanDefine(d, nil, PlanOptions{Version: "7.0"})
		if err != nil {
			return
		}
		vm := newFakeVM(t)
		vm.apply(p)
		info := vm.info()
		again, err := PlanDefine(d, &info, PlanOptions{Version: "7.0"})
		if err != nil {
			t.Fatalf("second define refused: %v", err)
		}
		if !again.Empty() {
			t.Fatalf("second define is not a no-op: %v", again.Steps)
		}
	})
}
