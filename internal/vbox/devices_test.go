package vbox

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// changingCommands are the VBoxManage commands that change a machine.
var changingCommands = []string{"storageattach", "storagectl", "modifyvm", "controlvm", "sharedfolder", "usbfilter", "setextradata"}

// commandsSince returns the commands the driver ran since the last reset.
func (s *simEnv) commandsSince() []string {
	s.runner.mu.Lock()
	defer s.runner.mu.Unlock()
	out := s.runner.cmds
	s.runner.cmds = nil
	return out
}

// devMachine defines a machine with a SATA disk, an IDE DVD drive and a NAT
// adapter, and returns the disk images' directory.
func devMachine(t *testing.T, s *simEnv) string {
	t.Helper()
	dir := t.TempDir()
	s.vbm("createmedium", "disk", "--filename", filepath.Join(dir, "d0.vdi"), "--size", "16")
	s.vbm("createmedium", "disk", "--filename", filepath.Join(dir, "d1.vdi"), "--size", "8")
	doc := fmt.Sprintf(`<domain type='vbox'><name>dev</name><memory unit='KiB'>262144</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type></os><devices>
<disk type='file' device='disk'><source file='%s'/><target dev='sda' bus='sata'/></disk>
<disk type='file' device='disk'><source file='%s'/><target dev='sdb' bus='sata'/></disk>
<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>
<interface type='user'><mac address='08:00:27:00:00:01'/></interface>
</devices></domain>`, filepath.Join(dir, "d0.vdi"), filepath.Join(dir, "d1.vdi"))
	if _, err := s.conn.DomainDefineXML(context.Background(), doc, 0); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestSimDeviceRefusalsRunNothing: what VirtualBox cannot do on a running
// machine is refused with the reason before any changing command runs, and
// what it can do runs the live command.
func TestSimDeviceRefusalsRunNothing(t *testing.T) {
	s := newSim(t)
	ctx := context.Background()
	dir := devMachine(t, s)
	dom, err := s.conn.LookupByName(ctx, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.conn.DomainCreate(ctx, dom, 0); err != nil {
		t.Fatal(err)
	}
	d1 := filepath.Join(dir, "d1.vdi")
	refused := []struct {
		name  string
		call  func() error
		class error
		want  string
	}{
		{"IDE hot-plug", func() error {
			return s.conn.DomainAttachDevice(ctx, dom, "<disk type='file' device='disk'><source file='"+d1+"'/><target dev='hdb' bus='ide'/></disk>", affectLive)
		}, errdefs.ErrOperationUnsupported, "controller 'IDE Controller' (PIIX4) does not support hot-plugging"},
		{"new adapter", func() error {
			return s.conn.DomainAttachDevice(ctx, dom, "<interface type='user'/>", 0)
		}, errdefs.ErrOperationUnsupported, "cannot add or remove network adapters"},
		{"remove adapter", func() error {
			return s.conn.DomainDetachDevice(ctx, dom, "<interface type='user'><mac address='08:00:27:00:00:01'/></interface>", affectLive|affectConfig)
		}, errdefs.ErrOperationUnsupported, "cannot add or remove network adapters"},
		{"SATA port beyond the controller's", func() error {
			return s.conn.DomainAttachDevice(ctx, dom, "<disk type='file' device='disk'><source file='"+d1+"'/><target dev='sdd' bus='sata'/></disk>", affectLive)
		}, errdefs.ErrOperationUnsupported, "storage controllers of a running machine"},
		{"unknown flag", func() error {
			return s.conn.DomainAttachDevice(ctx, dom, "<interface type='user'/>", 1<<5)
		}, errdefs.ErrInvalidArg, "unsupported flags (0x20)"},
	}
	s.commandsSince()
	for _, c := range refused {
		wantClass(t, c.call(), c.class, c.want)
		for _, cmd := range s.commandsSince() {
			for _, w := range changingCommands {
				if strings.HasPrefix(cmd, w+" ") {
					t.Errorf("%s: ran %q before refusing", c.name, cmd)
				}
			}
		}
	}

	// What VirtualBox does live runs its live command.
	lives := []struct {
		name string
		call func() error
		want string
	}{
		{"link down", func() error {
			return s.conn.DomainUpdateDevice(ctx, dom, "<interface type='user'><mac address='08:00:27:00:00:01'/><link state='down'/></interface>", 0)
		}, "controlvm " + uuidString(dom.UUID) + " setlinkstate1 off"},
		{"USB filter", func() error {
			return s.conn.DomainAttachDevice(ctx, dom, "<hostdev mode='subsystem' type='usb'><source><vendor id='0x0781'/></source></hostdev>", affectLive)
		}, "usbfilter add 0 --target " + uuidString(dom.UUID) + " --name filter0000 --vendorid 0781"},
		{"hot-unplug sdb", func() error {
			return s.conn.DomainDetachDevice(ctx, dom, "<disk type='file' device='disk'><target dev='sdb'/></disk>", affectLive|affectConfig)
		}, "storageattach " + uuidString(dom.UUID) + " --storagectl SATA Controller --port 1 --device 0 --medium none"},
	}
	for _, c := range lives {
		err := c.call()
		cmds := strings.Join(s.commandsSince(), "\n")
		if c.name == "hot-unplug sdb" {
			// sdb was attached while the machine was off: its slot is not
			// hot-pluggable, and VBoxManage says so.
			wantClass(t, err, errdefs.ErrOperationUnsupported, "live detach of disk 'sdb' is not supported: Device slot 0 on port 1 of controller 'SATA Controller' does not support hot-plugging")
		} else if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !strings.Contains(cmds, c.want) {
			t.Errorf("%s: commands\n%s\nwant %q", c.name, cmds, c.want)
		}
	}
}

// TestSimBlockInfoFromMemory: domblkinfo asks VirtualBox about a medium
// once, then answers from memory until the image file changes.
func TestSimBlockInfoFromMemory(t *testing.T) {
	s := newSim(t)
	ctx := context.Background()
	dir := devMachine(t, s)
	dom, err := s.conn.LookupByName(ctx, "dev")
	if err != nil {
		t.Fatal(err)
	}
	count := func() int {
		n := 0
		for _, c := range s.commandsSince() {
			if strings.HasPrefix(c, "showmediuminfo ") {
				n++
			}
		}
		return n
	}
	s.commandsSince()
	bi, err := s.conn.DomainGetBlockInfo(ctx, dom, "sda", 0)
	if err != nil {
		t.Fatal(err)
	}
	if bi.Capacity != 16<<20 || bi.Physical == 0 || bi.Allocation > bi.Physical {
		t.Errorf("block info %+v, want capacity 16 MiB and allocation <= physical > 0", bi)
	}
	if n := count(); n != 1 {
		t.Errorf("cold domblkinfo ran showmediuminfo %d times, want 1", n)
	}
	again, err := s.conn.DomainGetBlockInfo(ctx, dom, filepath.Join(dir, "d0.vdi"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if again != bi {
		t.Errorf("by source path: %+v, by target: %+v", again, bi)
	}
	if n := count(); n != 0 {
		t.Errorf("warm domblkinfo ran showmediuminfo %d times, want 0", n)
	}
	f, err := os.OpenFile(filepath.Join(dir, "d0.vdi"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(make([]byte, 4096)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := s.conn.DomainGetBlockInfo(ctx, dom, "sda", 0); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Errorf("domblkinfo after the image grew ran showmediuminfo %d times, want 1", n)
	}
	wantClass(t, func() error { _, err := s.conn.DomainGetBlockInfo(ctx, dom, "sdz", 0); return err }(),
		errdefs.ErrInvalidArg, "invalid path sdz not assigned to domain")
	wantClass(t, func() error { _, err := s.conn.DomainGetBlockInfo(ctx, dom, "hdc", 0); return err }(),
		errdefs.ErrOperationInvalid, "disk 'hdc' has no medium")
}
