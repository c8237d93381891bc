package vbox

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"libvirt.org/go/libvirtxml"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden files")

// golden compares got with testdata/name, or rewrites the file under -update.
func golden(t testing.TB, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func parseCaps(t testing.TB, doc string) libvirtxml.Caps {
	t.Helper()
	var c libvirtxml.Caps
	if err := c.Unmarshal(doc); err != nil {
		t.Fatalf("capabilities do not parse: %v\n%s", err, doc)
	}
	return c
}

// sysinfoEntries parses a sysinfo document and returns its SMBIOS entries
// keyed "section/name".
func sysinfoEntries(t testing.TB, doc string) map[string]string {
	t.Helper()
	var si libvirtxml.SysInfo
	if err := si.Unmarshal(doc); err != nil {
		t.Fatalf("sysinfo does not parse: %v\n%s", err, doc)
	}
	if si.SMBIOS == nil {
		t.Fatalf("sysinfo is not type smbios:\n%s", doc)
	}
	m := map[string]string{}
	add := func(section string, es []libvirtxml.SysInfoEntry) {
		for _, e := range es {
			m[section+"/"+e.Name] = e.Value
		}
	}
	s := si.SMBIOS
	if s.BIOS != nil {
		add("bios", s.BIOS.Entry)
	}
	if s.System != nil {
		add("system", s.System.Entry)
	}
	for _, b := range s.BaseBoard {
		add("baseBoard", b.Entry)
	}
	if s.Chassis != nil {
		add("chassis", s.Chassis.Entry)
	}
	for _, p := range s.Processor {
		add("processor", p.Entry)
	}
	for _, mem := range s.Memory {
		add("memory_device", mem.Entry)
	}
	return m
}

// checkCaps checks what stock clients read: the host arch, and one hvm
// guest of domain type vbox per VirtualBox guest arch (virt-install picks
// its guest by os_type, arch and domain type).
func checkCaps(t testing.TB, c libvirtxml.Caps, arch string) {
	t.Helper()
	if c.Host.CPU == nil || c.Host.CPU.Arch != arch {
		t.Errorf("host cpu = %+v, want arch %s", c.Host.CPU, arch)
	}
	if c.Host.IOMMU == nil || c.Host.IOMMU.Support != "no" || c.Host.PowerManagement == nil {
		t.Errorf("host iommu %+v, power_management %+v", c.Host.IOMMU, c.Host.PowerManagement)
	}
	type guest struct{ osType, arch, wordsize, domain string }
	var got []guest
	for _, g := range c.Guests {
		for _, d := range g.Arch.Domains {
			got = append(got, guest{g.OSType, g.Arch.Name, g.Arch.WordSize, d.Type})
		}
	}
	want := []guest{{"hvm", "x86_64", "64", "vbox"}, {"hvm", "i686", "32", "vbox"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("guests = %+v, want %+v", got, want)
	}
}

// TestCapabilitiesXML: the document is the golden one, says what clients
// read, and means what the hand-built document of earlier releases meant
// (testdata/capabilities-handwritten.xml, its output on x86_64).
func TestCapabilitiesXML(t *testing.T) {
	doc, err := capabilitiesXML("x86_64")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "capabilities.golden", doc)
	got := parseCaps(t, doc)
	checkCaps(t, got, "x86_64")
	if old := parseCaps(t, string(readTestdata(t, "capabilities-handwritten.xml"))); !reflect.DeepEqual(got, old) {
		t.Errorf("capabilities changed meaning:\n%+v\nwas\n%+v", got, old)
	}
}

// TestCapabilitiesSim: a seeded simulator's connection reports this host's
// arch and the same guests.
func TestCapabilitiesSim(t *testing.T) {
	s := newSim(t)
	s.seed(3, 1)
	doc, err := s.conn.Capabilities(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	checkCaps(t, parseCaps(t, doc), hostArch())
}

// TestSysinfoXML: from a fixed DMI directory and a captured `list hostinfo`,
// the document is the golden one, escapes markup in DMI values, and has the
// entries of the hand-built document of earlier releases.
func TestSysinfoXML(t *testing.T) {
	hi, err := ParseHostInfo(readTestdata(t, "hostinfo.txt"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := hostSysinfo(hi, filepath.Join("testdata", "dmi"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "sysinfo.golden", doc)
	got := sysinfoEntries(t, doc)
	for k, v := range map[string]string{
		"bios/vendor":            "SeaBIOS",
		"bios/version":           "1.16.2-debian-1.16.2-1",
		"system/manufacturer":    "QEMU",
		"system/uuid":            "6c0b2e4f-2a3b-4f7e-9d1c-1f2e3d4c5b6a",
		"baseBoard/manufacturer": "Smith & Sons <Lab>",
		"processor/version":      "Intel(R) Core(TM) i7-7700 CPU @ 3.60GHz",
		"processor/max_speed":    "3600 MHz",
		"memory_device/size":     "32014 MB",
	} {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got["system/serial"]; ok {
		t.Errorf("system/serial present without its DMI file: %q", got["system/serial"])
	}
	if old := sysinfoEntries(t, string(readTestdata(t, "sysinfo-handwritten.xml"))); !reflect.DeepEqual(got, old) {
		t.Errorf("sysinfo entries changed:\n%v\nwere\n%v", got, old)
	}

	// Without DMI (containers), only the sections from `list hostinfo`.
	doc, err = hostSysinfo(hi, filepath.Join("testdata", "missing"))
	if err != nil {
		t.Fatal(err)
	}
	var si libvirtxml.SysInfo
	if err := si.Unmarshal(doc); err != nil || si.SMBIOS == nil {
		t.Fatalf("sysinfo without DMI: %v\n%s", err, doc)
	}
	if s := si.SMBIOS; s.BIOS != nil || s.System != nil || s.BaseBoard != nil || s.Chassis != nil ||
		len(s.Processor) != 1 || len(s.Memory) != 1 {
		t.Errorf("sysinfo without DMI:\n%s", doc)
	}
}

// TestSysinfoSim: a seeded simulator's connection describes its processor
// and memory from `list hostinfo`.
func TestSysinfoSim(t *testing.T) {
	s := newSim(t)
	s.seed(3, 1)
	doc, err := s.conn.Sysinfo(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	got := sysinfoEntries(t, doc)
	if got["processor/version"] != "Intel(R) Core(TM) i7-7700 CPU @ 3.60GHz" || got["processor/max_speed"] != "3600 MHz" {
		t.Errorf("processor = %q, %q", got["processor/version"], got["processor/max_speed"])
	}
	var mb int
	if n, err := fmt.Sscanf(got["memory_device/size"], "%d MB", &mb); n != 1 || err != nil || mb <= 0 {
		t.Errorf("memory_device/size = %q", got["memory_device/size"])
	}
}
