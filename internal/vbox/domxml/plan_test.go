package domxml

import (
	"strings"
	"testing"
)

// planOver formats the machine's own XML, applies edit to it, and plans the
// result over the machine.
func planOver(t *testing.T, sample string, edit func(string) string) (*Plan, string) {
	t.Helper()
	info := loadInfo(t, sample)
	d, err := ToDomain(info, Runtime{ID: -1})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := FormatXML(d)
	if err != nil {
		t.Fatal(err)
	}
	edited := edit(doc)
	if edited == doc {
		t.Fatal("the edit changed nothing")
	}
	parsed, err := ParseDomain(edited)
	if err != nil {
		t.Fatal(err)
	}
	p, err := PlanDefine(parsed, &info, PlanOptions{Version: "7.0"})
	if err != nil {
		t.Fatal(err)
	}
	return p, planText(p)
}

// TestUnmanagedLeftAlone: adapters and controllers without an XML form keep
// their slots and media whatever the document says.
func TestUnmanagedLeftAlone(t *testing.T) {
	// 7.0 sample: NICs 1, 2, 4 and 5 (a NAT network) are in the document.
	_, got := planOver(t, "showvminfo-7.0.txt", func(doc string) string {
		return strings.Replace(doc, "<serial", "<interface type=\"user\"></interface>\n    <interface type=\"user\"></interface>\n    <serial", 1)
	})
	for _, want := range []string{"|--nic3|nat|", "|--nic6|nat|"} {
		if !strings.Contains(got, want) {
			t.Errorf("new interfaces should take free slots 3 and 6:\n%s", got)
		}
	}
	if strings.Contains(got, "--nic5") {
		t.Errorf("the NAT-network adapter was touched:\n%s", got)
	}

	// 7.1 sample: an NVMe controller with a disk; removing every disk of
	// the document must not touch it.
	_, got = planOver(t, "showvminfo-7.1.txt", func(doc string) string {
		start := strings.Index(doc, "<disk")
		end := strings.LastIndex(doc, "</disk>") + len("</disk>")
		return doc[:start] + doc[end:]
	})
	if strings.Contains(got, "NVMe") {
		t.Errorf("the NVMe controller was touched:\n%s", got)
	}
	for _, want := range []string{"--storagectl|IDE|--port|0|--device|0|--medium|none", "--storagectl|SAS|--port|2|--device|0|--medium|none"} {
		if !strings.Contains(got, want) {
			t.Errorf("plan lacks %q:\n%s", want, got)
		}
	}
}

// TestVersionSpellings: 7.x gets 7.0's option names, 6.1 the old ones.
func TestVersionSpellings(t *testing.T) {
	doc := readFile(t, "rich.xml")
	d, err := ParseDomain(doc)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		version   string
		want, not []string
	}{
		{"6.1.50", []string{"--audio|pulse", "--audiocontroller|hda", "--nictype1|", "--macaddress1|", "--cableconnected1|", "--bridgeadapter2|eth1", "--hostonlyadapter3|", "--usb|on"},
			[]string{"--audio-enabled", "--nic-type", "--usb-ohci"}},
		{"7.1.4r165100", []string{"--audio-enabled|on", "--audio-controller|hda", "--nic-type1|", "--mac-address1|", "--cable-connected1|", "--bridge-adapter2|eth1", "--host-only-adapter3|", "--usb-ohci|on"},
			[]string{"|--audio|", "--nictype", "--macaddress"}},
	} {
		p, err := PlanDefine(d, nil, PlanOptions{Version: tc.version})
		if err != nil {
			t.Fatal(err)
		}
		got := planText(p)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: plan lacks %q", tc.version, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("%s: plan has %q", tc.version, n)
			}
		}
	}
}

func TestStepString(t *testing.T) {
	s := Step{[]string{"modifyvm", "u", "--description", `say "hi"`, "--name", ""}}
	if got, want := s.String(), `VBoxManage modifyvm u --description "say \"hi\"" --name ""`; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
}

// TestPlanGolden keeps the exact command lines that create rich.xml, per
// VirtualBox version, in testdata (they are also the list of VBoxManage
// options a simulator must understand).
func TestPlanGolden(t *testing.T) {
	d, err := ParseDomain(readFile(t, "rich.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"6.1", "7.0"} {
		p, err := PlanDefine(d, nil, PlanOptions{Version: v})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, s := range p.Steps {
			b.WriteString(s.String() + "\n")
		}
		b.WriteString("# rollback\n")
		for _, s := range p.Rollback {
			b.WriteString(s.String() + "\n")
		}
		golden(t, "rich.plan-"+v+".golden", b.String())
	}
}
