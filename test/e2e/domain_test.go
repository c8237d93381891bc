package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"libvirt.org/go/libvirtxml"
)

// simVersions are the VirtualBox personalities the driver must handle.
var simVersions = []string{"6.1.50", "7.0.20", "7.1.4"}

// waitState polls `virsh domstate` until it prints want.
func waitState(t *testing.T, d *daemon, dom, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var got string
	for time.Now().Before(deadline) {
		got = strings.TrimSpace(d.mustVirsh(t, "domstate", dom))
		if got == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("domain %s: state %q, want %q", dom, got, want)
}

// vmState reads the VM's state straight from the simulated VirtualBox.
func vmState(t *testing.T, s *sim, vm string) string {
	t.Helper()
	out := s.mustVBoxManage(t, "showvminfo", vm, "--machinereadable")
	m := regexp.MustCompile(`(?m)^VMState="([^"]*)"`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no VMState in showvminfo output:\n%s", out)
	}
	return m[1]
}

func TestVirshDomainWorkflow(t *testing.T) {
	for _, v := range simVersions {
		t.Run(v, func(t *testing.T) { virshWorkflow(t, v) })
	}
}

func virshWorkflow(t *testing.T, version string) {
	d := startDaemon(t, withSimVersion(version))
	s := d.Sim

	if out := d.mustVirsh(t, "list", "--all", "--name"); strings.TrimSpace(out) != "" {
		t.Fatalf("fresh host lists domains:\n%s", out)
	}

	// define, then the domain shows everywhere with what the XML said.
	contains(t, "define", d.mustVirsh(t, "define", "testdata/web01.xml"), "Domain 'web01' defined")
	contains(t, "list --all", d.mustVirsh(t, "list", "--all"), "web01", "shut off")
	info := d.mustVirsh(t, "dominfo", "web01")
	contains(t, "dominfo", info, "Name:           web01", "UUID:           6c0b2e4f-2a3b-4f7e-9d1c-1f2e3d4c5b6a",
		"OS Type:        hvm", "State:          shut off", "CPU(s):         2", "Max memory:     2097152 KiB",
		"Persistent:     yes", "Managed save:   no")
	if got := strings.TrimSpace(d.mustVirsh(t, "domuuid", "web01")); got != "6c0b2e4f-2a3b-4f7e-9d1c-1f2e3d4c5b6a" {
		t.Errorf("domuuid = %q", got)
	}
	if got := strings.TrimSpace(d.mustVirsh(t, "domname", "6c0b2e4f-2a3b-4f7e-9d1c-1f2e3d4c5b6a")); got != "web01" {
		t.Errorf("domname = %q", got)
	}
	if got := strings.TrimSpace(d.mustVirsh(t, "domid", "web01")); got != "-" {
		t.Errorf("domid of an inactive domain = %q, want -", got)
	}
	if got := vmState(t, s, "web01"); got != "poweroff" {
		t.Errorf("VirtualBox state after define = %q", got)
	}
	vminfo := s.mustVBoxManage(t, "showvminfo", "web01", "--machinereadable")
	contains(t, "VirtualBox settings after define", vminfo, "memory=2048", "cpus=2", `nic1="nat"`, `nic2="bridged"`,
		`macaddress1="080027A1B2C3"`)

	// dumpxml -> define of the same XML round-trips.
	xml1 := d.mustVirsh(t, "dumpxml", "web01")
	contains(t, "dumpxml", xml1, "<domain type='vbox'", "<name>web01</name>", "6c0b2e4f-2a3b-4f7e-9d1c-1f2e3d4c5b6a",
		"<memory unit='KiB'>2097152</memory>", "<vcpu", "08:00:27:a1:b2:c3", "<boot dev='hd'/>")
	dumped := filepath.Join(d.Dir, "dumped.xml")
	if err := os.WriteFile(dumped, []byte(xml1), 0o644); err != nil {
		t.Fatal(err)
	}
	d.mustVirsh(t, "define", dumped)
	if xml2 := d.mustVirsh(t, "dumpxml", "web01"); xml2 != xml1 {
		t.Errorf("dumpxml | define is not a round trip:\nbefore:\n%s\nafter:\n%s", xml1, xml2)
	}

	// edit updates the VM in place.
	t.Setenv("EDITOR", "sed -i -e s/2097152/1048576/g")
	d.mustVirsh(t, "edit", "web01")
	contains(t, "dominfo after edit", d.mustVirsh(t, "dominfo", "web01"), "Max memory:     1048576 KiB")
	contains(t, "VirtualBox after edit", s.mustVBoxManage(t, "showvminfo", "web01", "--machinereadable"), "memory=1024")

	// configuration while powered off.
	d.mustVirsh(t, "setvcpus", "web01", "3", "--config", "--maximum")
	d.mustVirsh(t, "setvcpus", "web01", "3", "--config")
	contains(t, "vcpucount", d.mustVirsh(t, "vcpucount", "web01"), "3")
	d.mustVirsh(t, "setmaxmem", "web01", "786432", "--config")
	d.mustVirsh(t, "setmem", "web01", "786432", "--config")
	contains(t, "dominfo after setmem", d.mustVirsh(t, "dominfo", "web01"), "Used memory:    786432 KiB", "CPU(s):         3")
	d.mustVirsh(t, "autostart", "web01")
	contains(t, "dominfo after autostart", d.mustVirsh(t, "dominfo", "web01"), "Autostart:      enable")
	contains(t, "list --autostart", d.mustVirsh(t, "list", "--all", "--autostart", "--name"), "web01")
	d.mustVirsh(t, "autostart", "--disable", "web01")

	// lifecycle.
	contains(t, "start", d.mustVirsh(t, "start", "web01"), "Domain 'web01' started")
	if got := vmState(t, s, "web01"); got != "running" {
		t.Errorf("VirtualBox state after start = %q", got)
	}
	contains(t, "domstate --reason", d.mustVirsh(t, "domstate", "--reason", "web01"), "running (booted)")
	id := strings.TrimSpace(d.mustVirsh(t, "domid", "web01"))
	if id == "-" || id == "" {
		t.Fatalf("running domain has no id: %q", id)
	}
	contains(t, "list", d.mustVirsh(t, "list"), id, "web01", "running")
	if got := strings.TrimSpace(d.mustVirsh(t, "domname", id)); got != "web01" {
		t.Errorf("domname %s = %q", id, got)
	}
	contains(t, "start twice", d.virshFails(t, "start", "web01"), "already active")
	contains(t, "setvcpus while running", d.virshFails(t, "setvcpus", "web01", "1", "--config"), "error")

	contains(t, "suspend", d.mustVirsh(t, "suspend", "web01"), "Domain 'web01' suspended")
	contains(t, "domstate paused", d.mustVirsh(t, "domstate", "--reason", "web01"), "paused (user)")
	if got := vmState(t, s, "web01"); got != "paused" {
		t.Errorf("VirtualBox state after suspend = %q", got)
	}
	contains(t, "list --state-paused", d.mustVirsh(t, "list", "--state-paused", "--name"), "web01")
	contains(t, "resume", d.mustVirsh(t, "resume", "web01"), "Domain 'web01' resumed")
	contains(t, "resume again", d.virshFails(t, "resume", "web01"), "error")

	contains(t, "reboot", d.mustVirsh(t, "reboot", "web01"), "Domain 'web01' is being rebooted")
	contains(t, "reset", d.mustVirsh(t, "reset", "web01"), "Domain 'web01' was reset")
	waitState(t, d, "web01", "running")

	contains(t, "shutdown", d.mustVirsh(t, "shutdown", "web01"), "Domain 'web01' is being shutdown")
	waitState(t, d, "web01", "shut off")
	if got := vmState(t, s, "web01"); got != "poweroff" {
		t.Errorf("VirtualBox state after shutdown = %q", got)
	}

	d.mustVirsh(t, "start", "web01")
	contains(t, "destroy", d.mustVirsh(t, "destroy", "web01"), "Domain 'web01' destroyed")
	contains(t, "domstate after destroy", d.mustVirsh(t, "domstate", "--reason", "web01"), "shut off (destroyed)")

	// managed save is VirtualBox's saved state.
	d.mustVirsh(t, "start", "web01")
	contains(t, "managedsave", d.mustVirsh(t, "managedsave", "web01"), "Domain 'web01' state saved")
	contains(t, "domstate saved", d.mustVirsh(t, "domstate", "--reason", "web01"), "shut off (saved)")
	contains(t, "dominfo saved", d.mustVirsh(t, "dominfo", "web01"), "Managed save:   yes")
	contains(t, "list --managed-save", d.mustVirsh(t, "list", "--all", "--managed-save", "--name"), "web01")
	if got := vmState(t, s, "web01"); got != "saved" {
		t.Errorf("VirtualBox state after managedsave = %q", got)
	}
	d.mustVirsh(t, "managedsave-remove", "web01")
	contains(t, "dominfo after managedsave-remove", d.mustVirsh(t, "dominfo", "web01"), "Managed save:   no")

	// create from XML defines and starts in one go.
	xml := strings.NewReplacer("web01", "web02", "6c0b2e4f-2a3b-4f7e-9d1c-1f2e3d4c5b6a", "6c0b2e4f-2a3b-4f7e-9d1c-1f2e3d4c5b6b",
		"08:00:27:a1:b2:c3", "08:00:27:a1:b2:d3", "08:00:27:a1:b2:c4", "08:00:27:a1:b2:d4").Replace(mustRead(t, "testdata/web01.xml"))
	web02 := filepath.Join(d.Dir, "web02.xml")
	if err := os.WriteFile(web02, []byte(xml), 0o644); err != nil {
		t.Fatal(err)
	}
	contains(t, "create", d.mustVirsh(t, "create", web02), "Domain 'web02' created")
	contains(t, "list after create", d.mustVirsh(t, "list", "--name"), "web02")
	d.mustVirsh(t, "destroy", "web02")

	// host-level commands.
	contains(t, "version", d.mustVirsh(t, "version"), "Using API: VBOX", "Running hypervisor: VBOX "+strings.Join(strings.Split(version, ".")[:2], "."))
	contains(t, "nodeinfo", d.mustVirsh(t, "nodeinfo"), "CPU model:", "CPU(s):", "Memory size:")
	var caps libvirtxml.Caps
	if err := caps.Unmarshal(d.mustVirsh(t, "capabilities")); err != nil || caps.Host.CPU == nil || caps.Host.CPU.Arch == "" ||
		len(caps.Guests) == 0 || caps.Guests[0].OSType != "hvm" || caps.Guests[0].Arch.Name != "x86_64" ||
		len(caps.Guests[0].Arch.Domains) != 1 || caps.Guests[0].Arch.Domains[0].Type != "vbox" {
		t.Fatalf("virsh capabilities: %v %+v", err, caps)
	}
	var si libvirtxml.SysInfo
	if err := si.Unmarshal(d.mustVirsh(t, "sysinfo")); err != nil || si.SMBIOS == nil || len(si.SMBIOS.Processor) != 1 {
		t.Errorf("virsh sysinfo: %v %+v", err, si)
	}
	contains(t, "python3-libvirt capabilities and sysinfo", d.python(t, "host_docs.py"), "host arch "+caps.Host.CPU.Arch+"\n",
		"guest hvm x86_64 64 vbox\n", "guest hvm i686 32 vbox\n", "sysinfo smbios processor Intel(R) Core(TM) i7-7700 CPU @ 3.60GHz\n")
	contains(t, "uri", d.mustVirsh(t, "uri"), "vbox:///")
	if h, _ := os.Hostname(); h != "" {
		contains(t, "hostname", d.mustVirsh(t, "hostname"), h)
	}
	contains(t, "nodememstats", d.mustVirsh(t, "nodememstats"), "total", "free")

	// failures are libvirt errors, and change nothing.
	// virsh 9.0 resets the lookup error and prints its own line; the
	// driver's "Domain not found" text is checked through python3-libvirt.
	contains(t, "dominfo nosuch", d.virshFails(t, "dominfo", "nosuch"), "failed to get domain 'nosuch'")
	bad := filepath.Join(d.Dir, "bad.xml")
	if err := os.WriteFile(bad, []byte("<domain type='vbox'><name>half"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := s.mustVBoxManage(t, "list", "vms")
	contains(t, "define bad XML", d.virshFails(t, "define", bad), "XML")
	unsupported := filepath.Join(d.Dir, "unsupported.xml")
	if err := os.WriteFile(unsupported, []byte(`<domain type='vbox'><name>odd</name><memory>1048576</memory><vcpu>1</vcpu>
<os><type>hvm</type></os><devices><hostdev mode='subsystem' type='pci'><source><address domain='0' bus='1' slot='0' function='0'/></source></hostdev></devices></domain>`), 0o644); err != nil {
		t.Fatal(err)
	}
	contains(t, "define unsupported device", d.virshFails(t, "define", unsupported), "unsupported configuration", "hostdev")
	if after := s.mustVBoxManage(t, "list", "vms"); after != before {
		t.Errorf("a failed define changed VirtualBox:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	contains(t, "suspend shut off", d.virshFails(t, "suspend", "web01"), "error")

	// undefine removes the VM from VirtualBox.
	contains(t, "undefine", d.mustVirsh(t, "undefine", "web02"), "Domain 'web02' has been undefined")
	contains(t, "undefine", d.mustVirsh(t, "undefine", "web01"), "Domain 'web01' has been undefined")
	if out := s.mustVBoxManage(t, "list", "vms"); strings.Contains(out, "web01") || strings.Contains(out, "web02") {
		t.Errorf("undefined VMs still registered:\n%s", out)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Changes made behind the daemon's back (VBoxManage by hand, the GUI) show
// within two seconds.
func TestChangesBehindTheDaemonsBack(t *testing.T) {
	d := startDaemon(t)
	d.mustVirsh(t, "define", "testdata/web01.xml")
	contains(t, "dominfo", d.mustVirsh(t, "dominfo", "web01"), "State:          shut off")
	// A running VM's process holds its session lock, so configure first, then start.
	d.Sim.mustVBoxManage(t, "modifyvm", "web01", "--memory", "3072")
	d.Sim.mustVBoxManage(t, "startvm", "web01", "--type", "headless")
	deadline := time.Now().Add(2500 * time.Millisecond)
	for {
		info := d.mustVirsh(t, "dominfo", "web01")
		if strings.Contains(info, "State:          running") && strings.Contains(info, "Max memory:     3145728 KiB") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a VM reconfigured and started by hand is not seen so after 2.5s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A daemon restart while guests run leaves them running and visible with the same IDs.
func TestRestartKeepsGuestsAndIDs(t *testing.T) {
	d := startDaemon(t)
	d.mustVirsh(t, "define", "testdata/web01.xml")
	d.mustVirsh(t, "start", "web01")
	id := strings.TrimSpace(d.mustVirsh(t, "domid", "web01"))
	d.restart(t)
	if got := vmState(t, d.Sim, "web01"); got != "running" {
		t.Fatalf("VM state after daemon restart = %q, want running", got)
	}
	if got := strings.TrimSpace(d.mustVirsh(t, "domid", "web01")); got != id {
		t.Errorf("id after restart = %q, want %q", got, id)
	}
	contains(t, "list after restart", d.mustVirsh(t, "list"), id, "web01", "running")
	d.mustVirsh(t, "destroy", "web01")
}

// python3-libvirt runs a lifecycle unmodified, including VM names that are
// hostile to command lines.
func TestPythonLifecycle(t *testing.T) {
	d := startDaemon(t)
	out := d.python(t, "lifecycle.py", "py-lifecycle", "--help", "a=b", `x"y`, "with space", "ünïcødé", "-dash")
	for _, n := range []string{"py-lifecycle", "--help", "a=b", `x"y`, "with space", "ünïcødé", "-dash"} {
		contains(t, "lifecycle.py", out, "ok "+n+"\n")
	}
}

// virsh list --all on many VMs starts at most one VBoxManage cold and none warm.
func TestListSpawnsAtMostOneVBoxManage(t *testing.T) {
	d := startDaemon(t)
	d.Sim.Seed(t, 200, 20)
	before := d.Sim.invocations(t)
	out := d.mustVirsh(t, "list", "--all")
	if n := strings.Count(out, "\n"); n < 200 {
		t.Fatalf("list --all printed %d lines, want 200", n)
	}
	cold := d.Sim.invocations(t) - before
	d.mustVirsh(t, "list", "--all")
	warm := d.Sim.invocations(t) - before - cold
	if cold > 1 || warm > 0 {
		t.Errorf("virsh list --all on 200 VMs started %d VBoxManage cold and %d warm, want <=1 and 0", cold, warm)
	}
}
