package domxml

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// TestPolicyTable takes one element of each kind of rule through define:
// mapped elements change the plan, kept ones become extradata, ignored
// ones plan nothing and leave a note, refused ones fail naming the element.
func TestPolicyTable(t *testing.T) {
	base := minimal("", "")
	basePlan := planSteps(t, base)
	for _, tc := range []struct {
		name   string
		doc    string
		action Action
		want   string // mapped/kept: a plan argument; ignored: a note; refused: the error
	}{
		{"title", minimal("<title>Web server</title>", ""), Kept, "virtvboxd/title"},
		{"metadata", minimal("<metadata><a:x xmlns:a='urn:a'/></metadata>", ""), Kept, "virtvboxd/metadata"},
		{"description", minimal("<description>d</description>", ""), Mapped, "--description"},
		{"currentMemory below memory", minimal("<currentMemory unit='MiB'>48</currentMemory>", ""), Mapped, "--guestmemoryballoon"},
		{"e1000", minimal("", "<interface type='user'><model type='e1000'/></interface>"), Mapped, "82540EM"},
		{"e1000e", minimal("", "<interface type='user'><model type='e1000e'/></interface>"), Mapped, "82545EM"},
		{"virtio nic", minimal("", "<interface type='user'><model type='virtio'/></interface>"), Mapped, "virtio"},
		{"network default", minimal("", "<interface type='network'><source network='default'/></interface>"), Mapped, "nat"},
		{"network vboxnet0", minimal("", "<interface type='network'><source network='vboxnet0'/></interface>"), Mapped, "vboxnet0"},
		{"vga", minimal("", "<video><model type='vga'/></video>"), Mapped, "vboxvga"},
		{"cirrus", minimal("", "<video><model type='cirrus'/></video>"), Mapped, "vboxvga"},
		{"qxl", minimal("", "<video><model type='qxl' ram='65536' vgamem='16384'/></video>"), Mapped, "vmsvga"},
		{"virtio video", minimal("", "<video><model type='virtio'/></video>"), Mapped, "vmsvga"},
		{"vnc", minimal("", "<graphics type='vnc' port='-1' keymap='de'/>"), Mapped, "--vrde"},
		{"spice", minimal("", "<graphics type='spice' port='5930'/>"), Mapped, "5930"},
		{"ich9 sound", minimal("", "<sound model='ich9'/>"), Mapped, "hda"},
		{"on_crash restart", minimal("<on_crash>restart</on_crash>", ""), Mapped, "--triplefaultreset"},
		{"on_reboot destroy", minimal("<on_reboot>destroy</on_reboot>", ""), Ignored, "on_reboot 'destroy' taken as 'restart'"},
		{"on_crash destroy", minimal("<on_crash>destroy</on_crash>", ""), Ignored, "on_crash 'destroy' taken as 'preserve'"},
		{"cpu host-passthrough", minimal("<cpu mode='host-passthrough'/>", ""), Ignored, "cpu mode 'host-passthrough'"},
		{"cpu topology", minimal("<vcpu>4</vcpu><cpu><topology sockets='2' cores='2' threads='1'/></cpu>", ""), Mapped, "--cpus"},
		{"cpu cache", minimal("<cpu mode='host-model'><cache mode='passthrough'/></cpu>", ""), Ignored, "ignored <cache>"},
		{"emulator", minimal("", "<emulator>/usr/bin/qemu-system-x86_64</emulator>"), Ignored, "ignored <emulator>"},
		{"console pty", minimal("", "<console type='pty'><target type='serial' port='0'/></console>"), Ignored, "ignored <console>"},
		{"memballoon", minimal("", "<memballoon model='virtio'><stats period='10'/></memballoon>"), Ignored, "ignored <memballoon>"},
		{"channel", minimal("", "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"), Ignored, "ignored <channel>"},
		{"rng", minimal("", "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"), Ignored, "ignored <rng>"},
		{"disk driver", minimal("", "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><target dev='hdc' bus='ide'/></disk>"), Ignored, "ignored <driver>"},
		{"vmport", minimal("<features><vmport state='off'/></features>", ""), Ignored, "ignored <vmport>"},
		{"hyperv", minimal("<features><hyperv mode='custom'><relaxed state='on'/></hyperv></features>", ""), Ignored, "ignored <hyperv>"},
		{"timers", minimal("<clock offset='utc'><timer name='rtc' tickpolicy='catchup'/></clock>", ""), Ignored, "ignored <timer>"},
		{"pm", minimal("<pm><suspend-to-mem enabled='no'/></pm>", ""), Ignored, "ignored <pm>"},
		{"machine type", strings.Replace(minimal("", ""), "<type>", "<type machine='pc-q35-7.2'>", 1), Ignored, "ignored attribute 'machine'"},
		{"pci controller", minimal("", "<controller type='pci' index='0' model='pcie-root'/>"), Ignored, "type='pci'"},
		{"graphics keymap", minimal("", "<graphics type='rdp' keymap='en-us'/>"), Mapped, "--vrde"},
		{"cpu model", minimal("<cpu mode='custom' match='exact'><model>Haswell</model></cpu>", ""), Refused, "cpu model 'Haswell'"},
		{"rtl8139", minimal("", "<interface type='user'><model type='rtl8139'/></interface>"), Refused, "model 'rtl8139'"},
		{"watchdog", minimal("", "<watchdog model='i6300esb' action='reset'/>"), Refused, "element <watchdog>"},
		{"serial pty", minimal("", "<serial type='pty'/>"), Refused, "type 'pty'"},
		{"hugepages", minimal("<memoryBacking><hugepages/></memoryBacking>", ""), Refused, "element <memoryBacking>"},
		{"on_reboot preserve", minimal("<on_reboot>preserve</on_reboot>", ""), Refused, "on_reboot action 'preserve'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDomain(tc.doc)
			var p *Plan
			if err == nil {
				p, err = PlanDefine(d, nil, PlanOptions{Version: "6.1", NewUUID: func() string { return "11111111-2222-4333-8444-555555555555" }})
			}
			if tc.action == Refused {
				if !errors.Is(err, errdefs.ErrConfigUnsupported) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want ErrConfigUnsupported naming %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			steps := stepsText(p)
			switch tc.action {
			case Mapped, Kept:
				if !strings.Contains(steps, tc.want) {
					t.Errorf("plan lacks %q:\n%s", tc.want, steps)
				}
				if tc.action == Kept && !strings.Contains(steps, "setextradata") {
					t.Errorf("kept element is not stored in extradata:\n%s", steps)
				}
			case Ignored:
				basePlan := basePlan
				if b, ok := ignoredBase[tc.name]; ok {
					basePlan = planSteps(t, b)
				}
				if steps != basePlan {
					t.Errorf("an ignored element changed the plan:\n%s\nwant\n%s", steps, basePlan)
				}
				if !slices.ContainsFunc(p.Notes, func(n string) bool { return strings.Contains(n, tc.want) }) {
					t.Errorf("no note %q in %q", tc.want, p.Notes)
				}
			}
		})
	}
}

// ignoredBase holds, for ignored elements that need other elements around
// them, the document without the ignored element.
var ignoredBase = map[string]string{
	"disk driver": minimal("", "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>"),
}

func planSteps(t *testing.T, doc string) string {
	t.Helper()
	d, err := ParseDomain(doc)
	if err != nil {
		t.Fatal(err)
	}
	p, err := PlanDefine(d, nil, PlanOptions{Version: "6.1", NewUUID: func() string { return "11111111-2222-4333-8444-555555555555" }})
	if err != nil {
		t.Fatal(err)
	}
	return stepsText(p)
}

func stepsText(p *Plan) string {
	var b strings.Builder
	for _, s := range p.Steps {
		b.WriteString(s.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// TestPolicyDocumented checks that docs/domain-xml.md mirrors the Policy
// table: the block between the policy markers is generated from it (run
// with -update to rewrite it).
func TestPolicyDocumented(t *testing.T) {
	path := filepath.Join("..", "..", "..", "docs", "domain-xml.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- policy:begin (generated from domxml.Policy; go test ./internal/vbox/domxml -run TestPolicyDocumented -update) -->\n", "<!-- policy:end -->"
	doc := string(b)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the policy markers", path)
	}
	want := policyMarkdown()
	if got := doc[i+len(begin) : j]; got != want {
		if *update {
			if err := os.WriteFile(path, []byte(doc[:i+len(begin)]+want+doc[j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("the policy table in %s differs from domxml.Policy (run with -update):\n%s", path, want)
	}
}

// policyMarkdown renders Policy as the table docs/domain-xml.md carries.
func policyMarkdown() string {
	var b strings.Builder
	b.WriteString("| element | action | attributes | what define does |\n|---|---|---|---|\n")
	for _, r := range Policy {
		attrs := make([]string, 0, len(r.Attrs)+len(r.IgnoredAttrs))
		attrs = append(attrs, r.Attrs...)
		for _, a := range r.IgnoredAttrs {
			attrs = append(attrs, a+" (ignored)")
		}
		if r.Action == Kept || r.Action == Ignored {
			attrs = []string{"any, with any content"}
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", r.Path, r.Action, strings.Join(attrs, ", "), strings.ReplaceAll(r.Note, "|", "\\|"))
	}
	return b.String()
}

// TestRealToolDocuments defines what virt-install, libvirt's vbox driver
// and QEMU-minded tools write, over a fake VirtualBox: each defines, its
// second define plans nothing, and the machine's own dumpxml defined over
// it plans nothing either (`virsh dumpxml | virsh define`).
func TestRealToolDocuments(t *testing.T) {
	for _, tc := range []struct {
		file  string
		check func(t *testing.T, info Info, xml string)
	}{
		{"virt-install-import.xml", func(t *testing.T, info Info, xml string) {
			for k, want := range map[string]string{"memory": "512", "cpus": "2", "nic1": "nat", "nictype1": "82540EM", "macaddress1": "00163ECB1A12", "vrde": "on", "graphicscontroller": "vboxvga", "hidpointing": "usbtablet", "usb": "on"} {
				if got := info.str(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if !strings.Contains(info.ExtraData[extraMetadata], "http://debian.org/debian/11") {
				t.Errorf("metadata not kept: %q", info.ExtraData)
			}
			mustContain(t, xml, "<libosinfo:os id='http://debian.org/debian/11'/>", "<interface type='user'>", "<model type='82540em'/>")
		}},
		{"virt-install-cdrom.xml", func(t *testing.T, info Info, xml string) {
			if info.str("boot1") != "dvd" || info.str("IDE Controller-0-0") != "/srv/iso/debian-11.iso" {
				t.Errorf("cdrom boot not mapped: boot1=%q medium=%q", info.str("boot1"), info.str("IDE Controller-0-0"))
			}
			mustContain(t, xml, "<on_reboot>restart</on_reboot>")
		}},
		{"libvirt-vbox-dumpxml.xml", func(t *testing.T, info Info, xml string) {
			for k, want := range map[string]string{"nic1": "nat", "nictype1": "82540EM", "nic2": "hostonly", "hostonlyadapter2": "vboxnet0", "uartmode1": "server,/run/web01-com1", "lptmode1": "/dev/parport0", "defaultfrontend": "gui"} {
				if got := info.str(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if !info.ReadOnlyFolders["share"] {
				t.Error("shared folder not read-only")
			}
			mustContain(t, xml, "<readonly/>\n    </filesystem>", "<graphics type='desktop' display=':0'/>")
		}},
		{"tools-extras.xml", func(t *testing.T, info Info, xml string) {
			for k, want := range map[string]string{"memory": "2048", "GuestMemoryBalloon": "512", "cpus": "4", "nictype2": "82545EM", "graphicscontroller": "vmsvga"} {
				if got := info.str(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			mustContain(t, xml, "<title>Build server (staging)</title>", "<currentMemory unit='KiB'>1572864</currentMemory>",
				"<app:owner xmlns:app='http://example.org/app/1.0' team='ci'>", "<app:contact>ops@example.org</app:contact>",
				"<app:note kind='say &apos;hi&apos; a=&quot;b&quot;'>x=&quot;y&quot; &amp; it&apos;s fine</app:note>")
		}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			doc := readFile(t, tc.file)
			d, err := ParseDomain(doc)
			if err != nil {
				t.Fatal(err)
			}
			p, err := PlanDefine(d, nil, PlanOptions{Version: "7.0"})
			if err != nil {
				t.Fatal(err)
			}
			vm := newFakeVM(t)
			vm.apply(p)
			info := vm.info()
			again, err := PlanDefine(d, &info, PlanOptions{Version: "7.0"})
			if err != nil {
				t.Fatal(err)
			}
			if !again.Empty() {
				t.Errorf("second define is not a no-op: %v", again.Steps)
			}
			dom, err := ToDomain(info, Runtime{ID: -1})
			if err != nil {
				t.Fatal(err)
			}
			xml, err := FormatXML(dom)
			if err != nil {
				t.Fatal(err)
			}
			parsed, err := ParseDomain(xml)
			if err != nil {
				t.Fatalf("our dumpxml does not parse: %v\n%s", err, xml)
			}
			back, err := PlanDefine(parsed, &info, PlanOptions{Version: "7.0"})
			if err != nil {
				t.Fatal(err)
			}
			if !back.Empty() {
				t.Errorf("dumpxml | define is not a no-op: %v\n%s", back.Steps, xml)
			}
			tc.check(t, info, xml)
		})
	}
}

func mustContain(t *testing.T, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("missing %q in\n%s", w, s)
		}
	}
}

// TestAdaptersWithoutLibvirtType: generic and cloud adapters print as
// type='ethernet' and round-trip; ethernet cannot create one.
func TestAdaptersWithoutLibvirtType(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "showvminfo-6.1.txt"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer(
		"nic3=\"none\"", "generic3=\"UDPTunnel\"\nmacaddress3=\"080027000003\"\ncableconnected3=\"on\"\nnic3=\"Generic\"\nnictype3=\"82540EM\"",
		"nic4=\"none\"", "cloud-network4=\"oci-net\"\nmacaddress4=\"080027000004\"\ncableconnected4=\"on\"\nnic4=\"cloudnetwork\"\nnictype4=\"virtio\"",
	).Replace(string(b))
	var pairs []KV
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := splitLine(line); ok {
			pairs = append(pairs, KV{k, v})
		}
	}
	info := NewInfo(pairs)
	dom, err := ToDomain(info, Runtime{ID: -1})
	if err != nil {
		t.Fatal(err)
	}
	xml, err := FormatXML(dom)
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, xml, "<interface type='ethernet'>\n      <mac address='08:00:27:00:00:03'/>", "<alias name='ua-nic3'/>", "<alias name='ua-nic4'/>")
	parsed, err := ParseDomain(xml)
	if err != nil {
		t.Fatal(err)
	}
	p, err := PlanDefine(parsed, &info, PlanOptions{Version: "6.1"})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Empty() {
		t.Errorf("dumpxml | define is not a no-op: %v", p.Steps)
	}
	// The model of a kept adapter can change; its attachment stays.
	changed, err := ParseDomain(strings.Replace(xml, "<model type='virtio'/>\n      <alias name='ua-nic4'/>", "<model type='82545em'/>\n      <alias name='ua-nic4'/>", 1))
	if err != nil {
		t.Fatal(err)
	}
	if p, err = PlanDefine(changed, &info, PlanOptions{Version: "6.1"}); err != nil || stepsText(p) != "VBoxManage modifyvm "+info.str("UUID")+" --nictype4 82545EM\n" {
		t.Errorf("model change of a cloud adapter: %v %v", err, p)
	}
	// ethernet on an adapter that is not generic or cloud is refused.
	moved, err := ParseDomain(strings.Replace(xml, "ua-nic3", "ua-nic5", 1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PlanDefine(moved, &info, PlanOptions{Version: "6.1"}); !errors.Is(err, errdefs.ErrConfigUnsupported) {
		t.Errorf("ethernet on adapter 5: err = %v", err)
	}
}

// TestKeptValuesSetByHand: extradata set outside the daemon is shown in
// canonical form (or not at all), and defining that dumpxml changes nothing.
func TestKeptValuesSetByHand(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{`<a:x xmlns:a="urn:a"   k="v" />`, "<a:x xmlns:a='urn:a' k='v'/>"},
		{`not <xml`, ""},
		{`<x/>`, ""},
	} {
		info := loadInfo(t, "showvminfo-7.0.txt")
		info.ExtraData = map[string]string{extraMetadata: tc.raw, extraTitle: "hand title"}
		dom, err := ToDomain(info, Runtime{ID: -1})
		if err != nil {
			t.Fatal(err)
		}
		xml, err := FormatXML(dom)
		if err != nil {
			t.Fatal(err)
		}
		if tc.want != "" {
			mustContain(t, xml, tc.want)
		} else if strings.Contains(xml, "<metadata>") {
			t.Errorf("%q shown:\n%s", tc.raw, xml)
		}
		mustContain(t, xml, "<title>hand title</title>")
		parsed, err := ParseDomain(xml)
		if err != nil {
			t.Fatalf("%q: %v", tc.raw, err)
		}
		p, err := PlanDefine(parsed, &info, PlanOptions{Version: "7.0"})
		if err != nil {
			t.Fatal(err)
		}
		// Nothing shown is nothing to change: the define leaves it.
		if !p.Empty() {
			t.Errorf("%q: plan %v", tc.raw, p.Steps)
		}
	}
}
