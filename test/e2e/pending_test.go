package e2e

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestVirshPendingDefine: on a running domain, `virsh define` of a changed
// document and `attach-disk --config` change the persistent definition
// only: the machine keeps running untouched, dumpxml shows the running
// settings, dumpxml --inactive the pending ones, virDomainIsUpdated is true;
// `virsh destroy` returns with the pending definition applied.
func TestVirshPendingDefine(t *testing.T) {
	d := startDaemon(t)
	s := d.Sim
	disk0, disk1 := filepath.Join(d.Dir, "disk0.vdi"), filepath.Join(d.Dir, "disk1.vdi")
	s.mustVBoxManage(t, "createmedium", "disk", "--filename", disk0, "--size", "64")
	s.mustVBoxManage(t, "createmedium", "disk", "--filename", disk1, "--size", "32")
	dom := fmt.Sprintf(`<domain type='vbox'>
  <name>dev01</name>
  <memory unit='KiB'>524288</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'><source file='%s'/><target dev='sda' bus='sata'/></disk>
    <interface type='user'><mac address='08:00:27:00:00:01'/></interface>
  </devices>
</domain>`, disk0)
	d.mustVirsh(t, "define", writeFile(t, d.Dir, "dev01.xml", dom))
	d.mustVirsh(t, "start", "dev01")
	contains(t, "isUpdated before", d.python(t, "is_updated.py", "dev01"), "updated=0 persistent=1")

	x := d.mustVirsh(t, "dumpxml", "--inactive", "dev01")
	changed := strings.Replace(x, "524288", "1048576", 2)
	if changed == x {
		t.Fatalf("no memory size to change in:\n%s", x)
	}
	contains(t, "define", d.mustVirsh(t, "define", writeFile(t, d.Dir, "changed.xml", changed)), "Domain 'dev01' defined")
	d.mustVirsh(t, "attach-disk", "dev01", disk1, "sdb", "--targetbus", "sata", "--config")

	info := vminfo(t, d)
	contains(t, "the running machine", info, `VMState="running"`, "memory=512")
	if slotOf(info, disk1) != "" {
		t.Errorf("attach-disk --config attached the disk to the running machine:\n%s", info)
	}
	live := d.mustVirsh(t, "dumpxml", "dev01")
	contains(t, "live dumpxml", live, "<memory unit='KiB'>524288</memory>")
	if strings.Contains(live, disk1) {
		t.Errorf("live dumpxml shows the pending disk:\n%s", live)
	}
	contains(t, "dumpxml --inactive", d.mustVirsh(t, "dumpxml", "--inactive", "dev01"),
		"<memory unit='KiB'>1048576</memory>", disk1, "<target dev='sdb' bus='sata'/>")
	contains(t, "isUpdated pending", d.python(t, "is_updated.py", "dev01"), "updated=1 persistent=1")
	contains(t, "dominfo", d.mustVirsh(t, "dominfo", "dev01"), "running", "Persistent:     yes")

	d.mustVirsh(t, "destroy", "dev01")
	info = vminfo(t, d)
	contains(t, "after destroy", info, `VMState="poweroff"`, "memory=1024")
	if !strings.HasSuffix(slotOf(info, disk1), "-1-0") {
		t.Errorf("the pending disk is not on SATA port 1 after destroy:\n%s", info)
	}
	contains(t, "dumpxml after destroy", d.mustVirsh(t, "dumpxml", "dev01"), "<memory unit='KiB'>1048576</memory>", disk1)
	if out := s.mustVBoxManage(t, "getextradata", "dev01", "enumerate"); strings.Contains(out, "pending") {
		t.Errorf("extradata after the pending definition was applied:\n%s", out)
	}
	d.mustVirsh(t, "start", "dev01")
	contains(t, "isUpdated after", d.python(t, "is_updated.py", "dev01"), "updated=0 persistent=1")
}
