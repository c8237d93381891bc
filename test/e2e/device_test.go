package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVirshDevices drives the device commands of stock virsh (attach-disk,
// detach-disk, attach-interface, detach-interface, attach-device,
// detach-device, update-device, change-media, domif-setlink, domif-getlink,
// domblklist, domiflist, domblkinfo) on a powered-off and on a running
// machine, on each VirtualBox personality, and checks what the simulated
// VirtualBox holds afterwards. Bad requests must fail with libvirt's error
// and leave the machine's settings exactly as they were.
func TestVirshDevices(t *testing.T) {
	for _, v := range simVersions {
		t.Run(v, func(t *testing.T) { virshDevices(t, v) })
	}
}

// devFiles are the images and directories one run uses.
type devFiles struct {
	disk0, disk1, iso1, iso2, share string
}

func virshDevices(t *testing.T, version string) {
	d := startDaemon(t, withSimVersion(version))
	s := d.Sim
	f := devFiles{
		disk0: filepath.Join(d.Dir, "disk0.vdi"), disk1: filepath.Join(d.Dir, "disk1.vdi"),
		iso1: filepath.Join(d.Dir, "one.iso"), iso2: filepath.Join(d.Dir, "two.iso"), share: filepath.Join(d.Dir, "share"),
	}
	s.mustVBoxManage(t, "createmedium", "disk", "--filename", f.disk0, "--size", "64")
	s.mustVBoxManage(t, "createmedium", "disk", "--filename", f.disk1, "--size", "32")
	for _, p := range []string{f.iso1, f.iso2} {
		if err := os.WriteFile(p, make([]byte, 2<<20), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(f.share, 0o755); err != nil {
		t.Fatal(err)
	}
	dom := fmt.Sprintf(`<domain type='vbox'>
  <name>dev01</name>
  <memory unit='KiB'>524288</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'><source file='%s'/><target dev='sda' bus='sata'/></disk>
    <disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>
    <disk type='file' device='floppy'><target dev='fda' bus='fdc'/></disk>
    <interface type='user'><mac address='08:00:27:00:00:01'/></interface>
  </devices>
</domain>`, f.disk0)
	d.mustVirsh(t, "define", writeFile(t, d.Dir, "dev01.xml", dom))

	devicesOffline(t, d, f)
	devicesBadInput(t, d, f)
	contains(t, "start", d.mustVirsh(t, "start", "dev01"), "Domain 'dev01' started")
	devicesLive(t, d, f)
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// vminfo is the machine as the simulated VirtualBox shows it.
func vminfo(t *testing.T, d *daemon) string {
	t.Helper()
	return d.Sim.mustVBoxManage(t, "showvminfo", "dev01", "--machinereadable")
}

// slotOf returns the storage slot key ("SATA Controller-1-0") whose value is
// path, or "".
func slotOf(info, path string) string {
	m := regexp.MustCompile(`(?m)^"([^"]+-\d+-\d+)"="` + regexp.QuoteMeta(path) + `"$`).FindStringSubmatch(info)
	if m == nil {
		return ""
	}
	return m[1]
}

// ideSlot is the value of the IDE secondary master (hdc).
func ideSlot(t *testing.T, info string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^"IDE[^"]*-1-0"="([^"]*)"$`).FindStringSubmatch(info)
	if m == nil {
		t.Fatalf("no IDE 1-0 slot in:\n%s", info)
	}
	return m[1]
}

func devicesOffline(t *testing.T, d *daemon, f devFiles) {
	// The listings read the domain XML.
	contains(t, "domblklist", d.mustVirsh(t, "domblklist", "dev01"), "sda", f.disk0, "hdc", "fda")
	contains(t, "domblklist --details", d.mustVirsh(t, "domblklist", "dev01", "--details"), "file", "disk", "cdrom", "floppy")
	contains(t, "domiflist", d.mustVirsh(t, "domiflist", "dev01"), "user", "08:00:27:00:00:01")
	contains(t, "domblkinfo", d.mustVirsh(t, "domblkinfo", "dev01", "sda"), "Capacity:       67108864")
	contains(t, "domblkinfo --all", d.mustVirsh(t, "domblkinfo", "dev01", "--all"), "sda", "67108864", "hdc", "fda")

	steps := []struct {
		name  string
		virsh []string
		check func(t *testing.T, info string)
	}{
		{"attach-disk --config", []string{"attach-disk", "dev01", f.disk1, "sdb", "--targetbus", "sata", "--config"},
			func(t *testing.T, info string) {
				if slot := slotOf(info, f.disk1); !strings.HasSuffix(slot, "-1-0") {
					t.Errorf("disk1 is in slot %q, want SATA port 1", slot)
				}
			}},
		{"domblkinfo sdb", []string{"domblkinfo", "dev01", "sdb"}, nil},
		{"detach-disk --config", []string{"detach-disk", "dev01", "sdb", "--config"},
			func(t *testing.T, info string) {
				if slot := slotOf(info, f.disk1); slot != "" {
					t.Errorf("disk1 still in slot %q", slot)
				}
			}},
		{"change-media --insert --config", []string{"change-media", "dev01", "hdc", f.iso1, "--insert", "--config"},
			func(t *testing.T, info string) {
				if got := ideSlot(t, info); got != f.iso1 {
					t.Errorf("hdc holds %q, want %s", got, f.iso1)
				}
			}},
		{"change-media --eject --config", []string{"change-media", "dev01", "hdc", "--eject", "--config"},
			func(t *testing.T, info string) {
				if got := ideSlot(t, info); got != "emptydrive" {
					t.Errorf("hdc holds %q after eject, want emptydrive", got)
				}
			}},
		{"attach-interface --config", []string{"attach-interface", "dev01", "bridge", "eth0", "--mac", "08:00:27:00:00:02", "--model", "virtio", "--config"},
			func(t *testing.T, info string) {
				contains(t, "showvminfo", info, `nic2="bridged"`, `bridgeadapter2="eth0"`, `macaddress2="080027000002"`, `nictype2="virtio"`)
			}},
		{"domif-setlink down --config", []string{"domif-setlink", "dev01", "08:00:27:00:00:02", "down", "--config"},
			func(t *testing.T, info string) {
				contains(t, "showvminfo", info, `cableconnected2="off"`, `cableconnected1="on"`)
			}},
		{"detach-interface --config", []string{"detach-interface", "dev01", "bridge", "--mac", "08:00:27:00:00:02", "--config"},
			func(t *testing.T, info string) { contains(t, "showvminfo", info, `nic2="none"`, `nic1="nat"`) }},
		{"attach-interface again", []string{"attach-interface", "dev01", "bridge", "eth1", "--config"},
			func(t *testing.T, info string) {
				contains(t, "showvminfo", info, `nic2="bridged"`, `bridgeadapter2="eth1"`)
			}},
		{"detach-device-alias", []string{"detach-device-alias", "dev01", "ua-nic2", "--config"},
			func(t *testing.T, info string) { contains(t, "showvminfo", info, `nic2="none"`, `nic1="nat"`) }},
		{"attach-device filesystem --config", []string{"attach-device", "dev01", writeFile(t, d.Dir, "fs.xml",
			"<filesystem type='mount'><source dir='"+f.share+"'/><target dir='share'/><readonly/></filesystem>"), "--config"},
			func(t *testing.T, info string) {
				contains(t, "showvminfo", info, `SharedFolderNameMachineMapping1="share"`, `SharedFolderPathMachineMapping1="`+f.share+`"`)
			}},
		{"attach-device hostdev --config", []string{"attach-device", "dev01", writeFile(t, d.Dir, "usb.xml",
			"<hostdev mode='subsystem' type='usb'><source><vendor id='0x0781'/><product id='0x5567'/></source></hostdev>"), "--config"},
			func(t *testing.T, info string) {
				contains(t, "showvminfo", info, `USBFilterVendorId1="0781"`, `USBFilterProductId1="5567"`)
			}},
		{"detach-device hostdev --config", []string{"detach-device", "dev01", filepath.Join(d.Dir, "usb.xml"), "--config"},
			func(t *testing.T, info string) {
				if strings.Contains(info, "USBFilterVendorId1=") {
					t.Errorf("USB filter still there:\n%s", info)
				}
			}},
	}
	for _, st := range steps {
		d.mustVirsh(t, st.virsh...)
		if st.check != nil {
			st.check(t, vminfo(t, d))
		}
	}
	contains(t, "domblkinfo of a new disk", d.mustVirsh(t, "domblkinfo", "dev01", f.disk0), "Capacity:       67108864")
	contains(t, "domif-getlink", d.mustVirsh(t, "domif-getlink", "dev01", "08:00:27:00:00:01"), "up")
	x := d.mustVirsh(t, "dumpxml", "dev01")
	contains(t, "dumpxml keeps the read-only folder", x, "<target dir='share'/>", "<readonly/>")
	contains(t, "human showvminfo: read-only kept", d.Sim.mustVBoxManage(t, "showvminfo", "dev01"), "'share'", "readonly")
}

func devicesBadInput(t *testing.T, d *daemon, f devFiles) {
	cases := []struct {
		name  string
		virsh []string
		want  string
	}{
		{"detach a disk that does not exist", []string{"detach-disk", "dev01", "sdz", "--config"}, "No disk found whose source path or target is sdz"},
		{"detach-device naming no disk", []string{"detach-device", "dev01", writeFile(t, d.Dir, "nodisk.xml",
			"<disk type='file' device='disk'><source file='"+f.disk1+"'/><target dev='sdq' bus='sata'/></disk>"), "--config"},
			"operation failed: disk 'sdq' not found"},
		{"attach a disk on a used target", []string{"attach-disk", "dev01", f.disk1, "sda", "--targetbus", "sata", "--config"},
			"operation failed: target sda already exists"},
		{"attach a missing image", []string{"attach-disk", "dev01", filepath.Join(d.Dir, "nope.vdi"), "sdc", "--targetbus", "sata", "--config"},
			"no such file"},
		{"attach a serial port", []string{"attach-device", "dev01", writeFile(t, d.Dir, "serial.xml",
			"<serial type='pty'><target port='0'/></serial>"), "--config"}, "change them with define"},
		{"attach an element the policy refuses", []string{"attach-device", "dev01", writeFile(t, d.Dir, "iotune.xml",
			"<disk type='file' device='disk'><source file='"+f.disk1+"'/><target dev='sdc' bus='sata'/><iotune><total_bytes_sec>1</total_bytes_sec></iotune></disk>"), "--config"},
			"unsupported configuration"},
		{"alias of no device", []string{"detach-device-alias", "dev01", "ua-nic7", "--config"}, "interface 'ua-nic7' not found"},
		{"alias the driver does not give", []string{"detach-device-alias", "dev01", "virtio-disk0", "--config"}, "no device found with alias virtio-disk0"},
		{"malformed XML", []string{"attach-device", "dev01", writeFile(t, d.Dir, "bad.xml", "<disk type='file'><target dev='sdc'"), "--config"},
			"XML error"},
		{"live change of a shut-off domain", []string{"attach-disk", "dev01", f.disk1, "sdc", "--targetbus", "sata", "--live"},
			"domain is not running"},
		{"update a hard disk", []string{"update-device", "dev01", writeFile(t, d.Dir, "upd.xml",
			"<disk type='file' device='disk'><source file='"+f.disk1+"'/><target dev='sda' bus='sata'/></disk>"), "--config"},
			"cannot be updated"},
		{"change an interface beyond its link", []string{"update-device", "dev01", writeFile(t, d.Dir, "ifupd.xml",
			"<interface type='bridge'><mac address='08:00:27:00:00:01'/><source bridge='eth0'/></interface>"), "--config"},
			"other than its link state"},
	}
	before := vminfo(t, d)
	for _, c := range cases {
		errs := d.virshFails(t, c.virsh...)
		contains(t, c.name, errs, c.want)
	}
	if after := vminfo(t, d); after != before {
		t.Errorf("failed requests changed the machine:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func devicesLive(t *testing.T, d *daemon, f devFiles) {
	steps := []struct {
		name  string
		virsh []string
		check func(t *testing.T, info string)
	}{
		{"change-media --insert", []string{"change-media", "dev01", "hdc", f.iso1, "--insert"},
			func(t *testing.T, info string) {
				if got := ideSlot(t, info); got != f.iso1 {
					t.Errorf("hdc holds %q, want %s", got, f.iso1)
				}
			}},
		{"change-media --update", []string{"change-media", "dev01", "hdc", f.iso2, "--update"},
			func(t *testing.T, info string) {
				if got := ideSlot(t, info); got != f.iso2 {
					t.Errorf("hdc holds %q, want %s", got, f.iso2)
				}
			}},
		{"change-media --eject --force", []string{"change-media", "dev01", "hdc", "--eject", "--force"},
			func(t *testing.T, info string) {
				if got := ideSlot(t, info); got != "emptydrive" {
					t.Errorf("hdc holds %q after eject, want emptydrive", got)
				}
			}},
		{"hot-plug a SATA disk", []string{"attach-disk", "dev01", f.disk1, "sdb", "--targetbus", "sata", "--live"},
			func(t *testing.T, info string) {
				if slot := slotOf(info, f.disk1); !strings.HasSuffix(slot, "-1-0") {
					t.Errorf("disk1 is in slot %q, want SATA port 1", slot)
				}
			}},
		{"hot-unplug it", []string{"detach-disk", "dev01", "sdb"},
			func(t *testing.T, info string) {
				if slot := slotOf(info, f.disk1); slot != "" {
					t.Errorf("disk1 still in slot %q", slot)
				}
			}},
		{"domif-setlink down", []string{"domif-setlink", "dev01", "08:00:27:00:00:01", "down"},
			func(t *testing.T, info string) { contains(t, "showvminfo", info, `cableconnected1="off"`) }},
		{"domif-getlink", []string{"domif-getlink", "dev01", "08:00:27:00:00:01"}, nil},
		{"domif-setlink up", []string{"domif-setlink", "dev01", "08:00:27:00:00:01", "up"},
			func(t *testing.T, info string) { contains(t, "showvminfo", info, `cableconnected1="on"`) }},
		// No flag: virsh calls the legacy virDomainAttachDevice, which is
		// --current, so live on a running machine.
		{"transient shared folder", []string{"attach-device", "dev01", writeFile(t, d.Dir, "tfs.xml",
			"<filesystem type='mount'><source dir='"+f.share+"'/><target dir='live'/></filesystem>")},
			func(t *testing.T, info string) {
				contains(t, "showvminfo", info, `SharedFolderNameTransientMapping1="live"`)
				contains(t, "live dumpxml", d.mustVirsh(t, "dumpxml", "dev01"), "<target dir='live'/>", "<target dir='share'/>")
				if x := d.mustVirsh(t, "dumpxml", "--inactive", "dev01"); strings.Contains(x, "<target dir='live'/>") {
					t.Errorf("the inactive XML shows the transient folder:\n%s", x)
				}
			}},
		{"remove it", []string{"detach-device", "dev01", filepath.Join(d.Dir, "tfs.xml"), "--live"},
			func(t *testing.T, info string) {
				if strings.Contains(info, "TransientMapping") {
					t.Errorf("transient folder still there:\n%s", info)
				}
			}},
		{"USB device live (a filter)", []string{"attach-device", "dev01", filepath.Join(d.Dir, "usb.xml"), "--live"},
			func(t *testing.T, info string) {
				contains(t, "showvminfo", info, `USBFilterVendorId1="0781"`, `USBFilterProductId1="5567"`)
			}},
		{"USB device removed live", []string{"detach-device", "dev01", filepath.Join(d.Dir, "usb.xml")},
			func(t *testing.T, info string) {
				if strings.Contains(info, "USBFilterVendorId1=") {
					t.Errorf("USB filter still there:\n%s", info)
				}
			}},
	}
	for _, st := range steps {
		out := d.mustVirsh(t, st.virsh...)
		if st.name == "domif-getlink" {
			contains(t, st.name, out, "down")
		}
		if st.check != nil {
			st.check(t, vminfo(t, d))
		}
	}

	refused := []struct {
		name  string
		virsh []string
		want  string
	}{
		{"hot-plug on IDE", []string{"attach-disk", "dev01", f.disk1, "hdb", "--targetbus", "ide", "--live"},
			"does not support hot-plugging"},
		{"add an adapter live", []string{"attach-interface", "dev01", "bridge", "eth0", "--live"},
			"cannot add or remove network adapters of a running machine"},
		{"remove a permanent folder live", []string{"detach-device", "dev01", filepath.Join(d.Dir, "fs.xml"), "--live"},
			"permanent shared folder"},
	}
	before := vminfo(t, d)
	for _, c := range refused {
		errs := d.virshFails(t, c.virsh...)
		contains(t, c.name, errs, "Operation not supported", c.want)
	}
	if after := vminfo(t, d); after != before {
		t.Errorf("refused live requests changed the machine:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
