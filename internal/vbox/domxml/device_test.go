package domxml

import (
	"errors"
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// deviceChange is AttachDevice, DetachDevice or UpdateDevice as one shape.
type deviceChange func(d *libvirtxml.Domain, dev *Device) (*libvirtxml.Domain, error)

var (
	attachOver deviceChange = AttachDevice
	detachOver deviceChange = func(d *libvirtxml.Domain, dev *Device) (*libvirtxml.Domain, error) {
		next, _, err := DetachDevice(d, dev)
		return next, err
	}
	updateOver deviceChange = func(d *libvirtxml.Domain, dev *Device) (*libvirtxml.Domain, error) {
		next, _, err := UpdateDevice(d, dev)
		return next, err
	}
)

// devicePlan applies one device change to the 6.1 sample machine's own
// domain and plans the result over the machine, as the driver does.
func devicePlan(t *testing.T, change deviceChange, doc string) (string, error) {
	t.Helper()
	dev, err := ParseDevice(doc)
	if err != nil {
		return "", err
	}
	info := loadInfo(t, "showvminfo-6.1.txt")
	d, err := ToDomain(info, Runtime{ID: -1})
	if err != nil {
		t.Fatal(err)
	}
	next, err := change(d, dev)
	if err != nil {
		return "", err
	}
	p, err := PlanDefine(next, &info, PlanOptions{Version: "6.1"})
	if err != nil {
		return "", err
	}
	return planText(p), nil
}

// TestDevicePlans: a device means in attach, detach and update what it
// means in a define; each change plans exactly its own steps.
func TestDevicePlans(t *testing.T) {
	const u = "6c0b2e4f-2a3b-4f7e-9d1c-1f2e3d4c5b6a"
	cases := []struct {
		name   string
		change deviceChange
		doc    string
		want   string // the plan's text
	}{
		{"attach a SATA disk", attachOver,
			`<disk type='file' device='disk'><source file='/srv/d1.vdi'/><target dev='sdb' bus='sata'/></disk>`,
			"storagectl|" + u + "|--name|SATA Controller|--portcount|2\n" +
				"storageattach|" + u + "|--storagectl|SATA Controller|--port|1|--device|0|--type|hdd|--medium|/srv/d1.vdi"},
		{"detach the SATA disk", detachOver, `<disk type='file' device='disk'><target dev='sda' bus='sata'/></disk>`,
			"storageattach|" + u + "|--storagectl|SATA Controller|--port|0|--device|0|--medium|none"},
		{"eject the DVD", updateOver, `<disk type='file' device='cdrom'><target dev='hdc'/></disk>`,
			"storageattach|" + u + "|--storagectl|IDE Controller|--port|1|--device|0|--type|dvddrive|--medium|emptydrive"},
		{"change the DVD", updateOver, `<disk type='file' device='cdrom'><source file='/srv/b.iso'/><target dev='hdc' bus='ide'/><readonly/></disk>`,
			"storageattach|" + u + "|--storagectl|IDE Controller|--port|1|--device|0|--type|dvddrive|--medium|/srv/b.iso"},
		{"link down", updateOver, `<interface type='user'><mac address='08:00:27:a1:b2:c3'/><link state='down'/></interface>`,
			"modifyvm|" + u + "|--cableconnected1|off"},
		{"link down from the live XML (host-side target)", updateOver,
			`<interface type='user'><mac address='08:00:27:a1:b2:c3'/><target dev='vboxnic1'/><link state='down'/></interface>`,
			"modifyvm|" + u + "|--cableconnected1|off"},
		{"attach an interface", attachOver, `<interface type='bridge'><source bridge='eth0'/><mac address='08:00:27:00:00:09'/></interface>`,
			"modifyvm|" + u + "|--nic3|bridged|--bridgeadapter3|eth0|--nictype3|Am79C973|--macaddress3|080027000009|--cableconnected3|on"},
		{"detach interface 1 keeps adapter 2", detachOver, `<interface type='user'><mac address='08:00:27:a1:b2:c3'/></interface>`,
			"modifyvm|" + u + "|--nic1|none"},
		{"attach a read-only folder", attachOver, `<filesystem type='mount'><source dir='/srv/x'/><target dir='x'/><readonly/></filesystem>`,
			"sharedfolder|add|" + u + "|--name|x|--hostpath|/srv/x|--readonly"},
		{"detach the folder", detachOver, `<filesystem type='mount'><source dir='/home/ci/src/web'/><target dir='vagrant'/></filesystem>`,
			"sharedfolder|remove|" + u + "|--name|vagrant"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := devicePlan(t, c.change, c.doc)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("plan:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}
}

// TestDeviceErrors: bad devices fail with the class and wording libvirt
// users expect, before any plan.
func TestDeviceErrors(t *testing.T) {
	cases := []struct {
		name   string
		change deviceChange
		doc    string
		class  error
		want   string
	}{
		{"two elements", attachOver, `<disk/><disk/>`, errdefs.ErrXML, "one device element"},
		{"malformed", attachOver, `<disk type='file'>`, errdefs.ErrXML, ""},
		{"empty", attachOver, ` `, errdefs.ErrXML, "no device element"},
		{"text after", attachOver, `<disk type='file'/>x`, errdefs.ErrXML, "content outside"},
		{"unknown element", attachOver, `<frobnicator/>`, errdefs.ErrConfigUnsupported, "unknown device type 'frobnicator'"},
		{"a machine setting", attachOver, `<video><model type='vbox'/></video>`, errdefs.ErrConfigUnsupported, "change them with define"},
		{"policy refuses", attachOver, `<disk type='file' device='disk'><source file='/a.vdi'/><target dev='sdb'/><iotune/></disk>`,
			errdefs.ErrConfigUnsupported, "iotune"},
		{"used target", attachOver, `<disk type='file' device='disk'><source file='/a.vdi'/><target dev='sda' bus='sata'/></disk>`,
			errdefs.ErrOperationFailed, "target sda already exists"},
		{"used MAC", attachOver, `<interface type='user'><mac address='08:00:27:A1:B2:C3'/></interface>`,
			errdefs.ErrOperationFailed, "08:00:27:a1:b2:c3 already exists"},
		{"network disk", attachOver, `<disk type='network' device='disk'><source protocol='nbd' name='x'/><target dev='sdb' bus='sata'/></disk>`,
			errdefs.ErrConfigUnsupported, ""},
		{"no such disk", detachOver, `<disk type='file' device='disk'><target dev='sdz'/></disk>`, errdefs.ErrOperationFailed, "disk 'sdz' not found"},
		{"no such folder", detachOver, `<filesystem type='mount'><source dir='/x'/><target dir='nope'/></filesystem>`,
			errdefs.ErrOperationFailed, "filesystem 'nope' not found"},
		{"no such interface", detachOver, `<interface type='user'><mac address='08:00:27:00:00:99'/></interface>`,
			errdefs.ErrOperationFailed, "interface 08:00:27:00:00:99 not found"},
		{"interface without MAC, two adapters", detachOver, `<interface type='user'/>`, errdefs.ErrOperationFailed, "multiple devices"},
		{"update a hard disk", updateOver, `<disk type='file' device='disk'><source file='/b.vdi'/><target dev='sda'/></disk>`,
			errdefs.ErrArgUnsupported, "disk device='disk' cannot be updated"},
		{"update a DVD into a disk", updateOver, `<disk type='file' device='disk'><source file='/b.iso'/><target dev='hdc'/></disk>`,
			errdefs.ErrArgUnsupported, "cannot change disk 'hdc' from cdrom to disk"},
		{"update an interface's type", updateOver, `<interface type='bridge'><mac address='08:00:27:a1:b2:c3'/><source bridge='eth0'/></interface>`,
			errdefs.ErrArgUnsupported, "other than its link state"},
		{"update a USB device", updateOver, `<hostdev mode='subsystem' type='usb'><source><vendor id='0x1'/></source></hostdev>`,
			errdefs.ErrArgUnsupported, "cannot be updated"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := devicePlan(t, c.change, c.doc)
			if !errors.Is(err, c.class) {
				t.Fatalf("err = %v, want class %v", err, c.class)
			}
			if !strings.Contains(errdefs.Detail(err), c.want) {
				t.Errorf("err = %q, want it to say %q", errdefs.Detail(err), c.want)
			}
		})
	}
}

// TestDeviceEditsLeaveTheDomain: the edits work on copies.
func TestDeviceEditsLeaveTheDomain(t *testing.T) {
	info := loadInfo(t, "showvminfo-6.1.txt")
	d, err := ToDomain(info, Runtime{ID: -1})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := FormatXML(d)
	dev, err := ParseDevice(`<disk type='file' device='disk'><target dev='sda'/></disk>`)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := DetachDevice(d, dev); err != nil {
		t.Fatal(err)
	}
	if after, _ := FormatXML(d); after != before {
		t.Errorf("DetachDevice changed its input")
	}
}

// FuzzDevice: any device document parses or fails with a class, and the
// three edits and the plan over the sample machine never panic.
func FuzzDevice(f *testing.F) {
	for _, s := range []string{
		`<disk type='file' device='cdrom'><source file='/a.iso'/><target dev='hdc' bus='ide'/><readonly/></disk>`,
		`<disk type='file' device='disk'><source file='/a.vdi'/><target dev='sdb' bus='sata'/><address type='drive' controller='0' bus='0' target='0' unit='3'/></disk>`,
		`<interface type='bridge'><mac address='08:00:27:a1:b2:c3'/><source bridge='eth0'/><link state='down'/><alias name='ua-nic1'/></interface>`,
		`<filesystem type='mount'><source dir='/srv'/><target dir='srv'/><readonly/></filesystem>`,
		`<hostdev mode='subsystem' type='usb'><source><vendor id='0x0781'/><product id='0x5567'/></source></hostdev>`,
	} {
		f.Add(s)
	}
	info := loadInfo(f, "showvminfo-6.1.txt")
	f.Fuzz(func(t *testing.T, doc string) {
		dev, err := ParseDevice(doc)
		if err != nil {
			if errdefs.ClassOf(err) == errdefs.ErrInternal {
				t.Fatalf("unclassed error %v", err)
			}
			return
		}
		_ = dev.Name()
		for _, change := range []deviceChange{attachOver, detachOver, updateOver} {
			d, err := ToDomain(info, Runtime{ID: -1})
			if err != nil {
				t.Fatal(err)
			}
			if next, err := change(d, dev); err == nil {
				_, _ = PlanDefine(next, &info, PlanOptions{Version: "6.1"})
			}
		}
	})
}

// TestTransientFoldersLiveOnly: a running machine's transient shared
// folders are in its live XML, not in the inactive one, and a define of the
// live XML plans nothing for them.
func TestTransientFoldersLiveOnly(t *testing.T) {
	base := loadInfo(t, "showvminfo-6.1.txt")
	pairs := append(append([]KV(nil), base.Pairs...), KV{"SharedFolderNameTransientMapping1", "live"},
		KV{"SharedFolderPathTransientMapping1", "/srv/live"})
	info := NewInfo(pairs)
	for _, rt := range []Runtime{{ID: 3, Active: true}, {ID: -1}} {
		d, err := ToDomain(info, rt)
		if err != nil {
			t.Fatal(err)
		}
		x, err := FormatXML(d)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(x, "<target dir='live'/>"); got != rt.Active {
			t.Errorf("active %v: transient folder shown %v\n%s", rt.Active, got, x)
		}
		if !strings.Contains(x, "<target dir='vagrant'/>") {
			t.Errorf("active %v: the permanent folder is missing", rt.Active)
		}
	}
}
