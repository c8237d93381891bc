package poolxml

import (
	"errors"
	"strings"
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

func TestPoolRoundTrip(t *testing.T) {
	doc, err := FormatPool(Pool{Name: "img", UUID: "1deff1ff-1481-464f-967f-a50fe8936cc4", Target: "/srv/img",
		Capacity: 3, Allocation: 2, Available: 1})
	if err != nil {
		t.Fatal(err)
	}
	// libvirtxml's element order (libvirt writes capacity first and
	// source before target; clients read by path, not order).
	want := `<pool type='dir'>
  <name>img</name>
  <uuid>1deff1ff-1481-464f-967f-a50fe8936cc4</uuid>
  <allocation unit='bytes'>2</allocation>
  <capacity unit='bytes'>3</capacity>
  <available unit='bytes'>1</available>
  <target>
    <path>/srv/img</path>
  </target>
  <source/>
</pool>
`
	if doc != want {
		t.Errorf("FormatPool:\n%s\nwant\n%s", doc, want)
	}
	p, err := ParsePool(doc)
	if err != nil || p.Name != "img" || p.Target != "/srv/img" || p.UUID != "1deff1ff-1481-464f-967f-a50fe8936cc4" {
		t.Errorf("ParsePool: %+v, %v", p, err)
	}
}

func TestVolXML(t *testing.T) {
	doc, err := FormatVol(Vol{Name: "a'b.vdi", Key: "k", Path: "/srv/img/a'b.vdi", Format: "vdi", Capacity: 1 << 30, Allocation: 4096})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"<volume type='file'>", "<name>a&apos;b.vdi</name>", "<format type='vdi'/>",
		"<capacity unit='bytes'>1073741824</capacity>", "<allocation unit='bytes'>4096</allocation>"} {
		if !strings.Contains(doc, w) {
			t.Errorf("FormatVol lacks %q:\n%s", w, doc)
		}
	}
}

func TestParseVol(t *testing.T) {
	for _, c := range []struct {
		doc   string
		want  VolSpec
		class error
	}{
		// virsh vol-create-as img d.vdi 1G
		{"<volume><name>d.vdi</name><capacity>1073741824</capacity></volume>", VolSpec{Name: "d.vdi", Capacity: 1 << 30}, nil},
		// virt-install: sparse, raw
		{"<volume><name>d.vdi</name><capacity>1073741824</capacity><allocation>0</allocation><target><format type='raw'/></target></volume>",
			VolSpec{Name: "d.vdi", Format: "raw", Capacity: 1 << 30}, nil},
		{"<volume><name>d.vmdk</name><capacity unit='G'>2</capacity><allocation unit='GB'>3</allocation></volume>",
			VolSpec{Name: "d.vmdk", Capacity: 2 << 30, Allocation: 3e9, Fixed: true}, nil},
		{"<volume><name>d</name><capacity unit='parsec'>2</capacity></volume>", VolSpec{}, errdefs.ErrInvalidArg},
		{"<volume><name>d</name></volume>", VolSpec{}, errdefs.ErrXML},
		{"<volume type='block'><name>d</name><capacity>1</capacity></volume>", VolSpec{}, errdefs.ErrConfigUnsupported},
		{"<volume><name>../d</name><capacity>1</capacity></volume>", VolSpec{}, errdefs.ErrInvalidArg},
	} {
		got, err := ParseVol(c.doc)
		if c.class != nil {
			if !errors.Is(err, c.class) {
				t.Errorf("ParseVol(%s): %v, want %v", c.doc, err, c.class)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseVol(%s) = %+v, %v; want %+v", c.doc, got, err, c.want)
		}
	}
}

func TestCreateFormat(t *testing.T) {
	for _, c := range []struct {
		name, format, want string
		fails              bool
	}{
		{"a.vdi", "", "VDI", false},
		{"a.vdi", "raw", "VDI", false}, // virt-install's default format
		{"a.vmdk", "raw", "VMDK", false},
		{"a.vhd", "vpc", "VHD", false},
		{"a", "", "VDI", false},
		{"a", "vmdk", "VMDK", false},
		{"a.img", "raw", "", true},
		{"a.vdi", "vmdk", "", true},
		{"a.qcow2", "qcow2", "", true},
	} {
		got, err := CreateFormat(VolSpec{Name: c.name, Format: c.format})
		if (err != nil) != c.fails || got != c.want {
			t.Errorf("CreateFormat(%s, %q) = %q, %v", c.name, c.format, got, err)
		}
	}
}

func TestCheckName(t *testing.T) {
	for _, n := range []string{"", "-x", "a/b", "a'b", `a"b`, "a`b", ".", "..", "a\nb"} {
		if CheckName("pool", n) == nil {
			t.Errorf("CheckName(%q) accepted", n)
		}
	}
	for _, n := range []string{"img", "disk 1.vdi", "été"} {
		if err := CheckName("pool", n); err != nil {
			t.Errorf("CheckName(%q): %v", n, err)
		}
	}
}

func TestPoolPerms(t *testing.T) {
	const head = "<pool type='dir'><name>p</name><target><path>/srv/p</path>"
	for _, c := range []struct {
		name, perms string
		want        Perms
		class       error
	}{
		{"none", "", NoPerms, nil},
		{"mode only", "<permissions><mode>0755</mode></permissions>", Perms{Mode: 0o755, Owner: -1, Group: -1}, nil},
		{"all", "<permissions><mode>700</mode><owner>107</owner><group>-1</group></permissions>", Perms{Mode: 0o700, Owner: 107, Group: -1}, nil},
		{"bad mode", "<permissions><mode>0789</mode></permissions>", Perms{}, errdefs.ErrXML},
		{"mode too wide", "<permissions><mode>17777</mode></permissions>", Perms{}, errdefs.ErrXML},
		{"bad owner", "<permissions><owner>root</owner></permissions>", Perms{}, errdefs.ErrXML},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := ParsePool(head + c.perms + "</target></pool>")
			if c.class != nil {
				if !errors.Is(err, c.class) {
					t.Fatalf("ParsePool: %v, want %v", err, c.class)
				}
				return
			}
			if err != nil || p.Perms != c.want {
				t.Fatalf("ParsePool: %+v, %v; want %+v", p.Perms, err, c.want)
			}
			doc, err := FormatPool(p)
			if err != nil {
				t.Fatal(err)
			}
			back, err := ParsePool(doc)
			if err != nil || back.Perms != c.want {
				t.Errorf("round trip: %+v, %v\n%s", back.Perms, err, doc)
			}
		})
	}
}
