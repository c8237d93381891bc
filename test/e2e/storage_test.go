package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// mediumInfo reads `showmediuminfo` of path from the simulator as a map of
// its "Label: value" lines ("" when VirtualBox does not know the path).
func mediumInfo(t *testing.T, s *sim, path string) map[string]string {
	t.Helper()
	out, _, err := s.VBoxManage(t, "showmediuminfo", path)
	if err != nil {
		return nil
	}
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && !strings.HasPrefix(l, " ") {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// TestVirshStorage drives pools and volumes with the stock virsh on each
// VirtualBox version and checks the simulated VirtualBox after each step.
func TestVirshStorage(t *testing.T) {
	for _, v := range simVersions {
		t.Run(v, func(t *testing.T) { virshStorage(t, v) })
	}
}

func virshStorage(t *testing.T, version string) {
	d := startDaemon(t, withSimVersion(version))
	s := d.Sim
	dir := filepath.Join(d.Dir, "images")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	expectMedium := func(t *testing.T, path string, want map[string]string) {
		t.Helper()
		got := mediumInfo(t, s, path)
		if got == nil {
			t.Fatalf("VirtualBox does not know %s", path)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", filepath.Base(path), k, got[k], v)
			}
		}
	}

	t.Run("pools", func(t *testing.T) {
		contains(t, "pool-list", d.mustVirsh(t, "pool-list", "--all"), "default-pool", "active")
		d.mustVirsh(t, "pool-define-as", "img", "dir", "--target", dir)
		contains(t, "pool-list --inactive", d.mustVirsh(t, "pool-list", "--inactive"), "img")
		d.mustVirsh(t, "pool-start", "img")
		d.mustVirsh(t, "pool-autostart", "img")
		contains(t, "pool-info", d.mustVirsh(t, "pool-info", "img"), "State:          running", "Persistent:     yes",
			"Autostart:      yes")
		contains(t, "pool-dumpxml", d.mustVirsh(t, "pool-dumpxml", "img"), "<pool type='dir'>", "<name>img</name>",
			"<path>"+dir+"</path>")
		uuid := strings.TrimSpace(d.mustVirsh(t, "pool-uuid", "img"))
		if got := strings.TrimSpace(d.mustVirsh(t, "pool-name", uuid)); got != "img" {
			t.Errorf("pool-name %s = %q", uuid, got)
		}
	})

	t.Run("volumes", func(t *testing.T) {
		contains(t, "vol-create-as", d.mustVirsh(t, "vol-create-as", "img", "d1.vdi", "10M", "--format", "vdi"), "d1.vdi")
		expectMedium(t, filepath.Join(dir, "d1.vdi"), map[string]string{"Storage format": "VDI", "Capacity": "10 MBytes",
			"Format variant": "dynamic default"})
		d.mustVirsh(t, "vol-create-as", "img", "d2.vmdk", "20M", "--allocation", "20M", "--format", "vmdk")
		expectMedium(t, filepath.Join(dir, "d2.vmdk"), map[string]string{"Storage format": "VMDK", "Capacity": "20 MBytes",
			"Format variant": "fixed default"})
		d.mustVirsh(t, "vol-create-as", "img", "d3.vhd", "5M", "--format", "vpc")
		expectMedium(t, filepath.Join(dir, "d3.vhd"), map[string]string{"Storage format": "VHD", "Capacity": "5 MBytes"})

		list := d.mustVirsh(t, "vol-list", "img")
		contains(t, "vol-list", list, filepath.Join(dir, "d1.vdi"), filepath.Join(dir, "d2.vmdk"), filepath.Join(dir, "d3.vhd"))
		contains(t, "vol-list default-pool", d.mustVirsh(t, "vol-list", "default-pool"), "d1.vdi", "d2.vmdk")
		contains(t, "vol-info", d.mustVirsh(t, "vol-info", "--pool", "img", "d1.vdi"), "Type:           file",
			"Capacity:       10.00 MiB")
		key := mediumInfo(t, s, filepath.Join(dir, "d1.vdi"))["UUID"]
		contains(t, "vol-dumpxml", d.mustVirsh(t, "vol-dumpxml", "--pool", "img", "d1.vdi"), "<key>"+key+"</key>",
			"<format type='vdi'/>", "<path>"+filepath.Join(dir, "d1.vdi")+"</path>", "<capacity unit='bytes'>10485760</capacity>")
		if got := strings.TrimSpace(d.mustVirsh(t, "vol-key", "--pool", "img", "d1.vdi")); got != key {
			t.Errorf("vol-key = %q, want the medium UUID %s", got, key)
		}
		if got := strings.TrimSpace(d.mustVirsh(t, "vol-path", "--pool", "img", "d1.vdi")); got != filepath.Join(dir, "d1.vdi") {
			t.Errorf("vol-path = %q", got)
		}
		if got := strings.TrimSpace(d.mustVirsh(t, "vol-name", key)); got != "d1.vdi" {
			t.Errorf("vol-name by key = %q", got)
		}
		contains(t, "vol-pool by path", d.mustVirsh(t, "vol-pool", filepath.Join(dir, "d1.vdi")), "img")

		d.mustVirsh(t, "vol-resize", "--pool", "img", "d1.vdi", "20M")
		expectMedium(t, filepath.Join(dir, "d1.vdi"), map[string]string{"Capacity": "20 MBytes"})
		contains(t, "shrink", d.virshFails(t, "vol-resize", "--pool", "img", "d1.vdi", "5M"), "shrink")
		expectMedium(t, filepath.Join(dir, "d1.vdi"), map[string]string{"Capacity": "20 MBytes"})

		d.mustVirsh(t, "vol-clone", "--pool", "img", "d1.vdi", "d1c.vdi")
		expectMedium(t, filepath.Join(dir, "d1c.vdi"), map[string]string{"Storage format": "VDI", "Capacity": "20 MBytes"})

		d.mustVirsh(t, "vol-delete", "--pool", "img", "d3.vhd")
		if mediumInfo(t, s, filepath.Join(dir, "d3.vhd")) != nil || exists(filepath.Join(dir, "d3.vhd")) {
			t.Errorf("d3.vhd still registered or on disk after vol-delete")
		}
	})

	t.Run("upload and download", func(t *testing.T) {
		// 3.6 MB: 14 stream packets, more than the 8 a stream queues
		// before the daemon stops reading the connection.
		data := bytes.Repeat([]byte("virtvboxd volume stream "), 150000)
		src := filepath.Join(d.Dir, "upload.iso")
		if err := os.WriteFile(src, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "boot.iso"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		d.mustVirsh(t, "pool-refresh", "img")
		d.mustVirsh(t, "vol-upload", "--pool", "img", "boot.iso", src)
		if got, _ := os.ReadFile(filepath.Join(dir, "boot.iso")); !bytes.Equal(got, data) {
			t.Fatalf("after vol-upload the file holds %d bytes, want %d", len(got), len(data))
		}
		contains(t, "vol-info after upload", d.mustVirsh(t, "vol-info", "--pool", "img", "boot.iso"), "Capacity:       3.43 MiB")
		dst := filepath.Join(d.Dir, "download.iso")
		d.mustVirsh(t, "vol-download", "--pool", "img", "boot.iso", dst)
		if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
			t.Fatalf("vol-download wrote %d bytes, want %d", len(got), len(data))
		}
		d.mustVirsh(t, "vol-download", "--pool", "img", "boot.iso", dst, "--offset", "24", "--length", "48")
		if got, _ := os.ReadFile(dst); !bytes.Equal(got, data[24:72]) {
			t.Fatalf("vol-download --offset 24 --length 48 wrote %q", got)
		}
	})

	t.Run("in use", func(t *testing.T) {
		s.mustVBoxManage(t, "createvm", "--name", "user", "--register")
		s.mustVBoxManage(t, "storagectl", "user", "--name", "SATA", "--add", "sata")
		s.mustVBoxManage(t, "storageattach", "user", "--storagectl", "SATA", "--port", "0", "--device", "0",
			"--type", "hdd", "--medium", filepath.Join(dir, "d1.vdi"))
		contains(t, "vol-delete in use", d.virshFails(t, "vol-delete", "--pool", "img", "d1.vdi"),
			"Requested operation is not valid: cannot delete volume 'd1.vdi': it is in use by domain 'user'")
		if !exists(filepath.Join(dir, "d1.vdi")) || mediumInfo(t, s, filepath.Join(dir, "d1.vdi")) == nil {
			t.Errorf("a volume in use was deleted")
		}
		contains(t, "vol-upload in use", d.virshFails(t, "vol-upload", "--pool", "img", "d1.vdi", filepath.Join(d.Dir, "upload.iso")),
			"it is in use by domain 'user'")
	})

	t.Run("bad input", func(t *testing.T) {
		before := d.mustVirsh(t, "pool-list", "--all", "--name")
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"pool-create-as", "nodir", "dir", "--target", filepath.Join(d.Dir, "missing")}, "No such file or directory"},
			{[]string{"pool-define-as", "--name", "-x", "--type", "dir", "--target", dir + "2"}, "must not start with '-'"},
			{[]string{"pool-define-as", "q'uote", "dir", "--target", dir + "2"}, "must not contain"},
			{[]string{"pool-define-as", "other", "dir", "--target", dir}, "Storage source conflict with pool: 'img'"},
			{[]string{"pool-define-as", "lv", "logical", "--target", dir}, "only 'dir' pools"},
			{[]string{"pool-destroy", "default-pool"}, "cannot be stopped"},
			{[]string{"pool-info", "nosuch"}, "Storage pool not found: no storage pool with matching name 'nosuch'"},
		} {
			contains(t, strings.Join(c.args, " "), d.virshFails(t, c.args...), c.want)
		}
		if after := d.mustVirsh(t, "pool-list", "--all", "--name"); after != before {
			t.Errorf("pool list changed by refused calls:\n%s\nthen\n%s", before, after)
		}
		vols := d.mustVirsh(t, "vol-list", "img")
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"vol-create-as", "img", "x.qcow2", "1M", "--format", "qcow2"}, "volume format 'qcow2' is not supported by VirtualBox"},
			{[]string{"vol-create-as", "img", "--name", "-x.vdi", "--capacity", "1M"}, "must not start with '-'"},
			{[]string{"vol-create-as", "img", "x\".vdi", "1M"}, "must not contain"},
			{[]string{"vol-create-as", "img", "d2.vmdk", "1M", "--format", "vmdk"}, "storage volume 'd2.vmdk' exists already"},
			{[]string{"vol-info", "--pool", "img", "nosuch.vdi"}, "Storage volume not found: no storage vol with matching path 'nosuch.vdi'"},
		} {
			contains(t, strings.Join(c.args, " "), d.virshFails(t, c.args...), c.want)
		}
		if after := d.mustVirsh(t, "vol-list", "img"); after != vols {
			t.Errorf("volume list changed by refused calls:\n%s\nthen\n%s", vols, after)
		}
	})

	d.restart(t) // in the parent test: a subtest's cleanup would stop the new daemon
	t.Run("restart keeps pools", func(t *testing.T) {
		contains(t, "pool-info after restart", d.mustVirsh(t, "pool-info", "img"), "State:          running",
			"Autostart:      yes")
		contains(t, "vol-list after restart", d.mustVirsh(t, "vol-list", "img"), "d1.vdi", "boot.iso")
	})

	t.Run("undefine --remove-all-storage", func(t *testing.T) {
		xml := strings.ReplaceAll(`<domain type='vbox'><name>gone</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type>hvm</type></os><devices><disk type='file' device='disk'><source file='DISK'/><target dev='sda' bus='sata'/></disk>
</devices></domain>`, "DISK", filepath.Join(dir, "d2.vmdk"))
		f := filepath.Join(d.Dir, "gone.xml")
		if err := os.WriteFile(f, []byte(xml), 0o644); err != nil {
			t.Fatal(err)
		}
		d.mustVirsh(t, "define", f)
		contains(t, "vol-delete of an attached disk", d.virshFails(t, "vol-delete", "--pool", "img", "d2.vmdk"), "in use by domain 'gone'")
		d.mustVirsh(t, "undefine", "gone", "--remove-all-storage")
		if exists(filepath.Join(dir, "d2.vmdk")) || mediumInfo(t, s, filepath.Join(dir, "d2.vmdk")) != nil {
			t.Errorf("undefine --remove-all-storage left d2.vmdk behind")
		}
		if _, _, err := s.VBoxManage(t, "showvminfo", "gone"); err == nil {
			t.Errorf("gone is still registered")
		}
	})

	t.Run("pool stop and undefine", func(t *testing.T) {
		contains(t, "undefine active", d.virshFails(t, "pool-undefine", "img"), "still active")
		d.mustVirsh(t, "pool-destroy", "img")
		contains(t, "pool-list --inactive", d.mustVirsh(t, "pool-list", "--inactive"), "img")
		d.mustVirsh(t, "pool-undefine", "img")
		if out := d.mustVirsh(t, "pool-list", "--all", "--name"); strings.TrimSpace(out) != "default-pool" {
			t.Errorf("pool-list after undefine:\n%s", out)
		}
		if !exists(filepath.Join(dir, "d1.vdi")) {
			t.Errorf("pool-undefine removed the files")
		}
		if out := s.mustVBoxManage(t, "getextradata", "global", "enumerate"); strings.Contains(out, "storage-pool") {
			t.Errorf("the pool's definition is still in VirtualBox's extradata:\n%s", out)
		}
	})
}

// TestStorageTools runs the virt-install command (a new disk and an
// ISO in a directory no pool covers yet) and Ansible's virt_pool against one
// daemon.
func TestStorageTools(t *testing.T) {
	virtInstall := requireTool(t, "virt-install")
	playbook := requireTool(t, "ansible-playbook")
	requirePythonModule(t, "lxml", "python3-lxml")
	requirePythonLibvirt(t)
	d := startDaemon(t)
	s := d.Sim
	home := t.TempDir()
	dir := filepath.Join(d.Dir, "install")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	iso := filepath.Join(dir, "boot.iso")
	if err := os.WriteFile(iso, []byte("an installer"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, prog string, args ...string) (string, string, error) {
		t.Helper()
		cmd := exec.Command(prog, args...)
		cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "HOME="+home, "XDG_CACHE_HOME="+filepath.Join(home, "cache"),
			"XDG_CONFIG_HOME="+filepath.Join(home, "config"), "ANSIBLE_LOCAL_TEMP="+filepath.Join(home, "ansible-tmp"),
			"ANSIBLE_STDOUT_CALLBACK=json", "ANSIBLE_LOCALHOST_WARNING=false", "ANSIBLE_INVENTORY_UNPARSED_WARNING=false")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err
	}
	tool := func(t *testing.T, prog string, args ...string) string {
		t.Helper()
		out, errOut, err := run(t, prog, args...)
		if err != nil {
			t.Fatalf("%s %s: %v\nstdout: %s\nstderr: %s", filepath.Base(prog), strings.Join(args, " "), err, out, errOut)
		}
		return out
	}

	t.Run("virt-install new disk and cdrom", func(t *testing.T) {
		disk := filepath.Join(dir, "vi1.vdi")
		tool(t, virtInstall, "--connect", d.URI(), "--name", "vi1", "--memory", "512", "--osinfo", "debian11",
			"--disk", "path="+disk+",size=1", "--cdrom", iso, "--noautoconsole")
		// virt-install defined the install-phase domain (booting the ISO),
		// started it, then defined the post-install one while the guest
		// runs: that definition waits for the power-off, the running
		// machine keeps the ISO.
		vm := machineReadable(s.mustVBoxManage(t, "showvminfo", "vi1", "--machinereadable"))
		if vm["VMState"] != "running" {
			t.Errorf("vi1 is %q, want running", vm["VMState"])
		}
		attached := func(vm map[string]string) map[string]bool {
			a := map[string]bool{}
			for k, v := range vm {
				if strings.Contains(k, "Controller-") && !strings.Contains(k, "ImageUUID") {
					a[v] = true
				}
			}
			return a
		}
		if a := attached(vm); !a[disk] || !a[iso] {
			t.Errorf("vi1 does not attach both %s and %s: %v", disk, iso, vm)
		}
		if vm["boot1"] != "dvd" {
			t.Errorf("the install phase boots from %q, want dvd", vm["boot1"])
		}
		inactive := d.mustVirsh(t, "dumpxml", "--inactive", "vi1")
		contains(t, "the pending definition", inactive, "<boot dev='hd'/>", disk)
		if strings.Contains(inactive, iso) {
			t.Errorf("virt-install's post-install definition keeps the ISO:\n%s", inactive)
		}
		contains(t, "isUpdated", d.python(t, "is_updated.py", "vi1"), "updated=1 persistent=1")
		// Powered off, the machine takes it: boot from disk, ISO ejected.
		d.mustVirsh(t, "destroy", "vi1")
		vm = machineReadable(s.mustVBoxManage(t, "showvminfo", "vi1", "--machinereadable"))
		if a := attached(vm); vm["VMState"] != "poweroff" || vm["boot1"] != "disk" || !a[disk] || a[iso] {
			t.Errorf("vi1 after its power-off: want powered off, booting from its disk, no ISO: %v", vm)
		}
		m := mediumInfo(t, s, disk)
		if m["Storage format"] != "VDI" || m["Capacity"] != "1024 MBytes" {
			t.Errorf("the new disk: %v", m)
		}
		// virt-install made a pool for the directory, started and autostarted.
		contains(t, "pool-info install", d.mustVirsh(t, "pool-info", "install"), "State:          running", "Autostart:      yes")
		contains(t, "vol-list install", d.mustVirsh(t, "vol-list", "install"), "vi1.vdi", "boot.iso")
	})

	t.Run("ansible virt_pool", func(t *testing.T) {
		play := `- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: list_pools
      community.libvirt.virt_pool: {command: list_pools, uri: "{{ uri }}"}
    - name: facts
      community.libvirt.virt_pool: {command: facts, uri: "{{ uri }}"}
`
		f := filepath.Join(home, "pools.yml")
		if err := os.WriteFile(f, []byte(play), 0o644); err != nil {
			t.Fatal(err)
		}
		out := tool(t, playbook, "-i", "localhost,", "-e", "uri="+d.URI(), "-e", "ansible_python_interpreter=/usr/bin/python3", f)
		res := ansibleResults(t, out)
		if pools, _ := res["list_pools"]["list_pools"].([]any); !containsAny(pools, "default-pool") || !containsAny(pools, "install") {
			t.Errorf("list_pools: %v", res["list_pools"])
		}
		facts, _ := res["facts"]["ansible_facts"].(map[string]any)
		pools, _ := facts["ansible_libvirt_pools"].(map[string]any)
		install, _ := pools["install"].(map[string]any)
		if install["state"] != "active" || install["path"] != dir || install["type"] != "dir" {
			t.Errorf("facts of pool install: %v", install)
		}
		if vols, _ := install["volumes"].([]any); !containsAny(vols, "vi1.vdi") || !containsAny(vols, "boot.iso") {
			t.Errorf("facts volumes of pool install: %v", install["volumes"])
		}
	})
}
