package domxml

import (
	"errors"
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// minimal wraps devices (and extra top-level elements) in a valid domain.
func minimal(top, devices string) string {
	return "<domain type='vbox'><name>t</name><memory unit='MiB'>64</memory><os><type>hvm</type></os>" +
		top + "<devices>" + devices + "</devices></domain>"
}

func TestParseDomainErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		doc   string
		class error
		text  string // must appear in the error
	}{
		{"malformed", "<domain type='vbox'><name>x</name>", errdefs.ErrXML, "unexpected EOF"},
		{"empty", "", errdefs.ErrXML, "no domain element"},
		{"wrong root", "<network/>", errdefs.ErrXML, "expecting <domain>"},
		{"trailing", minimal("", "") + "<domain/>", errdefs.ErrXML, "extra content"},
		{"no name", "<domain type='vbox'><memory>1</memory><os><type>hvm</type></os></domain>", errdefs.ErrXML, "missing name information"},
		{"no type", "<domain><name>x</name><memory>1</memory><os><type>hvm</type></os></domain>", errdefs.ErrXML, "missing domain type"},
		{"kvm", "<domain type='kvm'><name>x</name><memory>1</memory><os><type arch='x86_64'>hvm</type></os></domain>", errdefs.ErrInvalidArg, "could not find capabilities for arch=x86_64 domaintype=kvm"},
		{"bad uuid", strings.Replace(minimal("", ""), "<name>t</name>", "<name>t</name><uuid>nope</uuid>", 1), errdefs.ErrXML, "malformed uuid"},
		{"no memory", "<domain type='vbox'><name>x</name><os><type>hvm</type></os></domain>", errdefs.ErrXML, "Memory size must be specified"},
		{"max memory", strings.Replace(minimal("", ""), "</memory>", "</memory><maxMemory slots='2' unit='MiB'>128</maxMemory>", 1), errdefs.ErrConfigUnsupported, "element <maxMemory>"},
		{"vcpu current", minimal("<vcpu current='1'>2</vcpu>", ""), errdefs.ErrConfigUnsupported, "current vcpu count must equal maximum"},
		{"unknown element", minimal("<iothreads>2</iothreads>", ""), errdefs.ErrConfigUnsupported, "element <iothreads>"},
		{"cpu model", minimal("<cpu mode='custom'><model>Skylake-Client</model></cpu>", ""), errdefs.ErrConfigUnsupported, "cpu model 'Skylake-Client'"},
		{"cpu feature", minimal("<cpu mode='host-model'><feature policy='require' name='vmx'/></cpu>", ""), errdefs.ErrConfigUnsupported, "domain/cpu/feature"},
		{"cpu numa", minimal("<cpu><numa><cell id='0' cpus='0' memory='64' unit='MiB'/></numa></cpu>", ""), errdefs.ErrConfigUnsupported, "element <numa>"},
		{"cpu topology", minimal("<vcpu>2</vcpu><cpu><topology sockets='1' cores='4' threads='1'/></cpu>", ""), errdefs.ErrConfigUnsupported, "topology of 4 CPUs"},
		{"metadata without namespace", minimal("<metadata><os/></metadata>", ""), errdefs.ErrXML, "no namespace prefix"},
		{"metadata undeclared prefix", minimal("<metadata><a:x/></metadata>", ""), errdefs.ErrXML, "prefix 'a' of <a:x> is not declared"},
		{"title newline", minimal("<title>a\nb</title>", ""), errdefs.ErrXML, "newlines"},
		{"typo element", minimal("<memroy>1</memroy>", ""), errdefs.ErrConfigUnsupported, "element <memroy>"},
		{"unknown attribute", minimal("", "<disk type='file' device='disk' snapshot='no'><source file='/a.vdi'/><target dev='hda' bus='ide'/></disk>"), errdefs.ErrConfigUnsupported, "attribute 'snapshot'"},
		{"disk iotune", minimal("", "<disk type='file'><iotune><total_bytes_sec>1</total_bytes_sec></iotune><source file='/a'/><target dev='hda'/></disk>"), errdefs.ErrConfigUnsupported, "devices/disk/iotune"},
		{"watchdog", minimal("", "<watchdog model='i6300esb'/>"), errdefs.ErrConfigUnsupported, "element <watchdog>"},
		{"hostdev pci", minimal("", "<hostdev mode='subsystem' type='pci' managed='yes'><source/></hostdev>"), errdefs.ErrConfigUnsupported, "type 'pci'"},
		{"block disk", minimal("", "<disk type='block' device='disk'><target dev='hda'/></disk>"), errdefs.ErrConfigUnsupported, "Unsupported storage type block"},
		{"virtio bus", minimal("", "<disk type='file' device='disk'><source file='/a.qcow2'/><target dev='vda' bus='virtio'/></disk>"), errdefs.ErrConfigUnsupported, "does not support virtio bus type"},
		{"lun", minimal("", "<disk type='file' device='lun'><source file='/a'/><target dev='sda'/></disk>"), errdefs.ErrConfigUnsupported, "device 'lun'"},
		{"no source", minimal("", "<disk type='file' device='disk'><target dev='sda' bus='sata'/></disk>"), errdefs.ErrConfigUnsupported, "Missing disk source file path"},
		{"relative source", minimal("", "<disk type='file' device='disk'><source file='a.vdi'/><target dev='sda' bus='sata'/></disk>"), errdefs.ErrConfigUnsupported, "absolute"},
		{"same slot", minimal("", "<disk type='file'><source file='/a'/><target dev='hda' bus='ide'/></disk><disk type='file'><source file='/b'/><target dev='hdb' bus='ide'/><address type='drive' controller='0' bus='0' target='0' unit='0'/></disk>"), errdefs.ErrConfigUnsupported, "same controller slot"},
		{"ide port range", minimal("", "<disk type='file'><source file='/a'/><target dev='hde' bus='ide'/></disk>"), errdefs.ErrConfigUnsupported, "does not exist"},
		{"controller type", minimal("", "<controller type='ccid' index='0'/>"), errdefs.ErrConfigUnsupported, "does not support ccid controller type"},
		{"scsi model", minimal("", "<controller type='scsi' index='0' model='virtio-non-transitional'/>"), errdefs.ErrConfigUnsupported, "controller model"},
		{"iface direct", minimal("", "<interface type='direct'><source dev='eth0' mode='vepa'/></interface>"), errdefs.ErrConfigUnsupported, "attribute 'dev'"},
		{"iface ethernet", minimal("", "<interface type='ethernet'/>"), errdefs.ErrConfigUnsupported, "type 'ethernet'"},
		{"iface model", minimal("", "<interface type='user'><model type='rtl8139'/></interface>"), errdefs.ErrConfigUnsupported, "model 'rtl8139'"},
		{"bad mac", minimal("", "<interface type='user'><mac address='zz:00:27:00:00:01'/></interface>"), errdefs.ErrXML, "unable to parse mac address"},
		{"bridge no source", minimal("", "<interface type='bridge'/>"), errdefs.ErrXML, "missing source"},
		{"alias", minimal("", "<interface type='user'><alias name='net0'/></interface>"), errdefs.ErrConfigUnsupported, "ua-nicN"},
		{"serial pty", minimal("", "<serial type='pty'/>"), errdefs.ErrConfigUnsupported, "type 'pty'"},
		{"serial port 4", minimal("", "<serial type='null'><target port='4'/></serial>"), errdefs.ErrConfigUnsupported, "COM1..COM4"},
		{"five serials", minimal("", strings.Repeat("<serial type='null'/>", 5)), errdefs.ErrConfigUnsupported, "at most 4 serial"},
		{"three parallels", minimal("", strings.Repeat("<parallel type='file'><source path='/p'/></parallel>", 3)), errdefs.ErrConfigUnsupported, "at most 2 parallel ports are supported"},
		{"input evdev", minimal("", "<input type='evdev'/>"), errdefs.ErrConfigUnsupported, "input type 'evdev'"},
		{"input virtio", minimal("", "<input type='mouse' bus='virtio'/>"), errdefs.ErrConfigUnsupported, "no VirtualBox pointing device matches the inputs mouse/virtio"},
		{"two ps2 mice", minimal("", "<input type='mouse' bus='ps2'/><input type='mouse' bus='ps2'/>"), errdefs.ErrConfigUnsupported, "no VirtualBox pointing device matches the inputs mouse/ps2, mouse/ps2"},
		{"two usb keyboards", minimal("", "<input type='keyboard' bus='usb'/><input type='keyboard' bus='usb'/>"), errdefs.ErrConfigUnsupported, "no VirtualBox keyboard matches the inputs keyboard/usb, keyboard/usb"},
		{"vnc password", minimal("", "<graphics type='vnc' passwd='x'/>"), errdefs.ErrConfigUnsupported, "attribute 'passwd'"},
		{"vnc and rdp", minimal("", "<graphics type='vnc'/><graphics type='rdp'/>"), errdefs.ErrConfigUnsupported, "only one remote display"},
		{"egl", minimal("", "<graphics type='egl-headless'/>"), errdefs.ErrConfigUnsupported, "graphics type 'egl-headless'"},
		{"two sounds", minimal("", "<sound model='ac97'/><sound model='sb16'/>"), errdefs.ErrConfigUnsupported, "only one sound"},
		{"sound model", minimal("", "<sound model='usb'/>"), errdefs.ErrConfigUnsupported, "sound model 'usb'"},
		{"video ramfb", minimal("", "<video><model type='ramfb'/></video>"), errdefs.ErrConfigUnsupported, "video model 'ramfb'"},
		{"on_crash", minimal("<on_crash>coredump-destroy</on_crash>", ""), errdefs.ErrConfigUnsupported, "on_crash action 'coredump-destroy'"},
		{"on_reboot", minimal("<on_reboot>preserve</on_reboot>", ""), errdefs.ErrConfigUnsupported, "on_reboot action 'preserve'"},
		{"on_poweroff", minimal("<on_poweroff>restart</on_poweroff>", ""), errdefs.ErrConfigUnsupported, "on_poweroff action 'restart'"},
		{"clock", minimal("<clock offset='variable'/>", ""), errdefs.ErrConfigUnsupported, "clock offset 'variable'"},
		{"os type", "<domain type='vbox'><name>x</name><memory>1</memory><os><type>exe</type></os></domain>", errdefs.ErrConfigUnsupported, "os type 'exe'"},
		{"boot dev", strings.Replace(minimal("", ""), "</type>", "</type><boot dev='usb'/>", 1), errdefs.ErrConfigUnsupported, "boot device 'usb'"},
		{"namespace", strings.Replace(minimal("", ""), "<name>", "<x:y xmlns:x='urn:x'/><name>", 1), errdefs.ErrConfigUnsupported, "namespace"},
		{"usb address", minimal("", "<hostdev mode='subsystem' type='usb'><source><address bus='1' device='2'/></source></hostdev>"), errdefs.ErrConfigUnsupported, "hostdev/source/address"},
		{"fs template", minimal("", "<filesystem type='template'><source name='x'/><target dir='y'/></filesystem>"), errdefs.ErrConfigUnsupported, "attribute 'name'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDomain(tc.doc)
			if err == nil {
				t.Fatalf("ParseDomain accepted it: %+v", d)
			}
			if !errors.Is(err, tc.class) {
				t.Errorf("class of %q is %v, want %v", err, errdefs.ClassOf(err), tc.class)
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Errorf("error %q lacks %q", err, tc.text)
			}
		})
	}
}

// TestParseDomainMinimal checks libvirt's defaults for what a document
// leaves out, through the plan that creates the machine.
func TestParseDomainMinimal(t *testing.T) {
	doc := "<domain type='vbox'><name>my vm</name><memory unit='GiB'>1</memory><os><type>hvm</type></os>" +
		"<devices><disk device='disk'><source file='/v/a.vdi'/><target dev='sda'/></disk>" +
		"<disk device='cdrom'><target dev='hdc'/></disk><interface type='user'/><interface type='network'><source network='vboxnet0'/></interface></devices></domain>"
	d, err := ParseDomain(doc)
	if err != nil {
		t.Fatal(err)
	}
	p, err := PlanDefine(d, nil, PlanOptions{NewUUID: func() string { return "11111111-2222-4333-8444-555555555555" }})
	if err != nil {
		t.Fatal(err)
	}
	got := planText(p)
	u := "11111111-2222-4333-8444-555555555555"
	for _, want := range []string{
		"createvm|--name|my vm|--uuid|" + u + "|--ostype|Other_64|--register",
		"|--memory|1024|--cpus|1|",
		"|--rtcuseutc|on|",            // no <clock>: libvirt's default is utc
		"|--boot1|disk|--boot2|none|", // no <boot>: libvirt's default is hd
		"|--nic1|nat|--nictype1|Am79C973|--cableconnected1|on|--nic2|hostonly|--hostonlyadapter2|vboxnet0|",
		"storagectl|" + u + "|--name|SCSI Controller|--add|scsi|--controller|LsiLogic|--portcount|1",
		"storagectl|" + u + "|--name|IDE Controller|--add|ide|--controller|PIIX4",
		"storageattach|" + u + "|--storagectl|SCSI Controller|--port|0|--device|0|--type|hdd|--medium|/v/a.vdi",
		"storageattach|" + u + "|--storagectl|IDE Controller|--port|1|--device|0|--type|dvddrive|--medium|emptydrive",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("plan lacks %q:\n%s", want, got)
		}
	}
	if len(p.Rollback) != 3 || p.Rollback[2].Args[0] != "unregistervm" {
		t.Errorf("rollback = %v", p.Rollback)
	}
}

func TestPlanDefineErrors(t *testing.T) {
	info := loadInfo(t, "showvminfo-6.1.txt")
	ok := "<domain type='vbox'><name>web01</name><uuid>6c0b2e4f-2a3b-4f7e-9d1c-1f2e3d4c5b6a</uuid><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os></domain>"
	parse := func(doc string) *libvirtxml.Domain {
		d, err := ParseDomain(doc)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if _, err := PlanDefine(parse(ok), &info, PlanOptions{}); err != nil {
		t.Fatalf("valid update refused: %v", err)
	}
	other := strings.Replace(ok, "6c0b2e4f", "7c0b2e4f", 1)
	if _, err := PlanDefine(parse(other), &info, PlanOptions{}); !errors.Is(err, errdefs.ErrOperationFailed) {
		t.Errorf("UUID mismatch: err = %v", err)
	}
	i686 := strings.Replace(ok, "x86_64", "i686", 1)
	if _, err := PlanDefine(parse(i686), &info, PlanOptions{}); !errors.Is(err, errdefs.ErrConfigUnsupported) {
		t.Errorf("arch change: err = %v", err)
	}
	if _, err := PlanDefine(parse(ok), &info, PlanOptions{Version: "x.y"}); !errors.Is(err, errdefs.ErrInternal) {
		t.Errorf("bad version: err = %v", err)
	}
	withDisk := strings.Replace(ok, "</os>", "</os><devices><disk><source file='/missing.vdi'/><target dev='sda' bus='sata'/></disk></devices>", 1)
	_, err := PlanDefine(parse(withDisk), nil, PlanOptions{FileExists: func(string) bool { return false }})
	if !errors.Is(err, errdefs.ErrOperationFailed) || !strings.Contains(err.Error(), "/missing.vdi") {
		t.Errorf("missing file: err = %v", err)
	}
	// A Domain built in Go gets the same checks as parsed text.
	d := parse(ok)
	d.Devices = &libvirtxml.DomainDeviceList{Watchdogs: []libvirtxml.DomainWatchdog{{Model: "i6300esb"}}}
	if _, err := PlanDefine(d, nil, PlanOptions{}); !errors.Is(err, errdefs.ErrConfigUnsupported) {
		t.Errorf("watchdog in a built Domain: err = %v", err)
	}
	// PS/2 mouse + USB tablet is VirtualBox's combomouse, which VBoxManage
	// cannot select.
	combo := parse(minimal("", "<input type='mouse' bus='ps2'/><input type='tablet' bus='usb'/>"))
	if _, err := PlanDefine(combo, nil, PlanOptions{}); !errors.Is(err, errdefs.ErrConfigUnsupported) || !strings.Contains(err.Error(), "combination") {
		t.Errorf("combomouse: err = %v", err)
	}
	if _, err := PlanDefine(nil, nil, PlanOptions{}); !errors.Is(err, errdefs.ErrXML) {
		t.Errorf("nil domain: err = %v", err)
	}
}

// TestNamesAreOneArgument checks that hostile names and paths travel as
// single argv elements and never as options.
func TestNamesAreOneArgument(t *testing.T) {
	for _, name := range []string{"--help", "a=b", `x"y`, "with space", "ünï cödé", "-"} {
		doc := "<domain type='vbox'><name>" + xmlEscape(name) + "</name><memory>65536</memory><os><type>hvm</type></os></domain>"
		d, err := ParseDomain(doc)
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		p, err := PlanDefine(d, nil, PlanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		args := p.Steps[0].Args
		if args[0] != "createvm" || args[1] != "--name" || args[2] != name {
			t.Errorf("%q: createvm args = %q", name, args)
		}
		for _, s := range p.Steps[1:] {
			if s.Args[1] != p.UUID {
				t.Errorf("%q: step %q does not name the machine by UUID", name, s.Args)
			}
		}
	}
}

func xmlEscape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")
	return r.Replace(s)
}

func FuzzParseDomain(f *testing.F) {
	f.Add(readFile(f, "rich.xml"))
	f.Add(minimal("", "<disk type='file'><source file='/a'/><target dev='hda'/></disk>"))
	f.Add("<domain type='vbox'><name>x</name></domain>")
	f.Add("<domain")
	for _, s := range samples {
		d, err := ToDomain(loadInfo(f, s), Runtime{})
		if err != nil {
			f.Fatal(err)
		}
		x, _ := FormatXML(d)
		f.Add(x)
	}
	info := loadInfo(f, "showvminfo-7.0.txt")
	f.Fuzz(func(t *testing.T, doc string) {
		d, err := ParseDomain(doc)
		if err != nil {
			if errdefs.ClassOf(err) == errdefs.ErrInternal {
				t.Fatalf("unclassified error: %v", err)
			}
			return
		}
		for _, existing := range []*Info{nil, &info} {
			p, err := PlanDefine(d, existing, PlanOptions{Version: "7.0"})
			if err != nil {
				continue
			}
			for _, s := range p.Steps {
				if len(s.Args) < 2 {
					t.Fatalf("short step %q", s.Args)
				}
			}
		}
	})
}

func TestParseDomainCanonicalUUID(t *testing.T) {
	doc := strings.Replace(minimal("", ""), "<name>t</name>", "<name>t</name><uuid>6C0B2E4F2A3B4F7E9D1C1F2E3D4C5B6A</uuid>", 1)
	d, err := ParseDomain(doc)
	if err != nil {
		t.Fatal(err)
	}
	if d.UUID != "6c0b2e4f-2a3b-4f7e-9d1c-1f2e3d4c5b6a" {
		t.Errorf("UUID = %s", d.UUID)
	}
}
