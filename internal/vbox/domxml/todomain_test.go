package domxml

import (
	"errors"
	"strings"
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

func TestToDomainGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		rt   Runtime
	}{
		{"showvminfo-6.1", Runtime{ID: -1}},
		{"showvminfo-7.0", Runtime{ID: 3, Active: true}},
		{"showvminfo-7.1", Runtime{ID: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			info := loadInfo(t, tc.name+".txt")
			dom, err := ToDomain(info, tc.rt)
			if err != nil {
				t.Fatal(err)
			}
			s, err := FormatXML(dom)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name+".xml.golden", s)
		})
	}
}

func TestToDomainBasics(t *testing.T) {
	info := loadInfo(t, "showvminfo-6.1.txt")
	dom, err := ToDomain(info, Runtime{ID: 7, Active: true})
	if err != nil {
		t.Fatal(err)
	}
	if dom.Type != "vbox" || dom.Name != "web01" || dom.UUID != "6c0b2e4f-2a3b-4f7e-9d1c-1f2e3d4c5b6a" {
		t.Errorf("identity = %q %q %q", dom.Type, dom.Name, dom.UUID)
	}
	if dom.ID == nil || *dom.ID != 7 {
		t.Errorf("id = %v, want 7", dom.ID)
	}
	if dom.Memory.Value != 2048*1024 || dom.CurrentMemory.Value != 2048*1024 || dom.VCPU.Value != 2 {
		t.Errorf("memory/vcpu = %d/%d/%d", dom.Memory.Value, dom.CurrentMemory.Value, dom.VCPU.Value)
	}
	if dom.OS.Type.Arch != "x86_64" {
		t.Errorf("arch = %q", dom.OS.Type.Arch)
	}
	var boots []string
	for _, b := range dom.OS.BootDevices {
		boots = append(boots, b.Dev)
	}
	if got := strings.Join(boots, ","); got != "hd,cdrom" {
		t.Errorf("boot = %s, want hd,cdrom", got)
	}
	if dom.Clock.Offset != "utc" {
		t.Errorf("clock = %q", dom.Clock.Offset)
	}
	disks := dom.Devices.Disks
	if len(disks) != 2 || disks[0].Target.Dev != "sda" || disks[0].Device != "disk" ||
		disks[1].Target.Dev != "hdc" || disks[1].Device != "cdrom" || disks[1].ReadOnly == nil {
		t.Errorf("disks = %+v", disks)
	}
	nics := dom.Devices.Interfaces
	if len(nics) != 2 || nics[0].Source.User == nil || nics[0].MAC.Address != "08:00:27:a1:b2:c3" ||
		nics[0].Model.Type != "82540em" || nics[1].Source.Network == nil || nics[1].Source.Network.Network != "vboxnet0" {
		t.Errorf("interfaces = %+v", nics)
	}
}

func TestToDomainEmptyDVD61(t *testing.T) {
	// 6.1 marks a DVD by the unsuffixed tempeject/IsEjected lines that follow it.
	info := NewInfo([]KV{
		{"name", "x"}, {"UUID", "00000000-0000-4000-8000-000000000001"}, {"memory", "64"}, {"cpus", "1"},
		{"storagecontrollername0", "IDE"}, {"storagecontrollertype0", "PIIX4"},
		{"IDE-0-0", "/a/disk.vdi"}, {"IDE-ImageUUID-0-0", "u1"},
		{"IDE-0-1", "/a/install.img"}, {"IDE-ImageUUID-0-1", "u2"}, {"IDE-tempeject", "off"}, {"IDE-IsEjected", "off"},
		{"IDE-1-0", "emptydrive"}, {"IDE-IsEjected", "off"},
		{"IDE-1-1", "none"},
	})
	dom, err := ToDomain(info, Runtime{ID: -1})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range dom.Devices.Disks {
		src := ""
		if d.Source != nil {
			src = d.Source.File.File
		}
		got = append(got, d.Target.Dev+":"+d.Device+":"+src)
	}
	want := "hda:disk:/a/disk.vdi hdb:cdrom:/a/install.img hdc:cdrom:"
	if strings.Join(got, " ") != want {
		t.Errorf("disks = %v, want %s", got, want)
	}
}

func TestToDomainErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pairs []KV
		class error
	}{
		{"empty", nil, errdefs.ErrInternal},
		{"inaccessible", []KV{{"name", "<inaccessible>"}, {"UUID", "00000000-0000-4000-8000-000000000001"}}, errdefs.ErrOperationFailed},
		{"no memory", []KV{{"name", "a"}, {"UUID", "00000000-0000-4000-8000-000000000001"}, {"cpus", "1"}}, errdefs.ErrInternal},
		{"bad cpus", []KV{{"name", "a"}, {"UUID", "00000000-0000-4000-8000-000000000001"}, {"memory", "1"}, {"cpus", "x"}}, errdefs.ErrInternal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ToDomain(NewInfo(tc.pairs), Runtime{})
			if !errors.Is(err, tc.class) {
				t.Errorf("err = %v, want class %v", err, tc.class)
			}
		})
	}
}

func TestDiskLetters(t *testing.T) {
	for i, want := range map[int]string{0: "a", 25: "z", 26: "aa", 27: "ab", 701: "zz", 702: "aaa"} {
		if got := diskLetters(i); got != want {
			t.Errorf("diskLetters(%d) = %s, want %s", i, got, want)
		}
		if back, ok := diskIndex(want); !ok || back != i {
			t.Errorf("diskIndex(%s) = %d, %v", want, back, ok)
		}
	}
}
