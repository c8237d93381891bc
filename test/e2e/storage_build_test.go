package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVirshPoolBuild drives a dir pool over a directory that does not exist
// yet with the stock virsh on each VirtualBox version: pool-define-as
// succeeds, pool-start fails as libvirt's does, pool-build creates the
// directory (with the XML's mode), pool-start works, pool-delete removes it
// again only when inactive and empty. Refused calls change nothing.
func TestVirshPoolBuild(t *testing.T) {
	for _, v := range simVersions {
		t.Run(v, func(t *testing.T) { virshPoolBuild(t, v) })
	}
}

func virshPoolBuild(t *testing.T, version string) {
	d := startDaemon(t, withSimVersion(version))
	dir := filepath.Join(d.Dir, "new", "images")

	d.mustVirsh(t, "pool-define-as", "img", "dir", "--target", dir)
	if exists(dir) {
		t.Fatal("pool-define-as created the directory")
	}
	contains(t, "pool-start before build", d.virshFails(t, "pool-start", "img"),
		"error: Failed to start pool img", "cannot open directory '"+dir+"': No such file or directory")
	contains(t, "pool-build both", d.virshFails(t, "pool-build", "img", "--overwrite", "--no-overwrite"), "mutually exclusive")
	contains(t, "pool-build --no-overwrite", d.virshFails(t, "pool-build", "img", "--no-overwrite"),
		"No source device specified when formatting pool 'img'")
	contains(t, "pool-delete missing", d.virshFails(t, "pool-delete", "img"),
		"failed to remove pool '"+dir+"': No such file or directory")
	if exists(filepath.Dir(dir)) {
		t.Fatal("refused calls created a directory")
	}
	contains(t, "pool-info inactive", d.mustVirsh(t, "pool-info", "img"), "State:          inactive")

	contains(t, "pool-build", d.mustVirsh(t, "pool-build", "img"), "Pool img built")
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o711 {
		t.Fatalf("pool-build made %v, %v; want a directory of mode 0711", fi, err)
	}
	d.mustVirsh(t, "pool-start", "img")
	d.mustVirsh(t, "vol-create-as", "img", "d.vdi", "1M")
	contains(t, "pool-delete active", d.virshFails(t, "pool-delete", "img"), "storage pool 'img' is still active")
	contains(t, "pool-build active", d.virshFails(t, "pool-build", "img"), "storage pool 'img' is already active")
	d.mustVirsh(t, "pool-destroy", "img")
	contains(t, "pool-delete non-empty", d.virshFails(t, "pool-delete", "img"),
		"failed to remove pool '"+dir+"': Directory not empty")
	if !exists(filepath.Join(dir, "d.vdi")) {
		t.Fatal("a refused pool-delete removed a volume")
	}
	if err := os.Remove(filepath.Join(dir, "d.vdi")); err != nil {
		t.Fatal(err)
	}
	d.Sim.mustVBoxManage(t, "closemedium", "disk", filepath.Join(dir, "d.vdi"))
	contains(t, "pool-delete", d.mustVirsh(t, "pool-delete", "img"), "Pool img deleted")
	if exists(dir) {
		t.Error("pool-delete left the directory")
	}
	contains(t, "pool-list after delete", d.mustVirsh(t, "pool-list", "--inactive", "--name"), "img")

	// The permissions of the pool XML; pool-start --build builds first.
	other := filepath.Join(d.Dir, "perm")
	xml := "<pool type='dir'><name>perm</name><target><path>" + other +
		"</path><permissions><mode>0750</mode></permissions></target></pool>"
	f := filepath.Join(d.Dir, "perm.xml")
	if err := os.WriteFile(f, []byte(xml), 0o644); err != nil {
		t.Fatal(err)
	}
	d.mustVirsh(t, "pool-define", f)
	contains(t, "pool-dumpxml perms", d.mustVirsh(t, "pool-dumpxml", "perm"), "<mode>0750</mode>")
	d.mustVirsh(t, "pool-start", "perm", "--build")
	if fi, err := os.Stat(other); err != nil || fi.Mode().Perm() != 0o750 {
		t.Fatalf("pool-start --build made %v, %v; want mode 0750", fi, err)
	}
	contains(t, "pool-list", d.mustVirsh(t, "pool-list", "--name"), "perm")

	d.restart(t) // the definition (and its permissions) survive
	contains(t, "pool-dumpxml after restart", d.mustVirsh(t, "pool-dumpxml", "img"), "<path>"+dir+"</path>")
	contains(t, "perm after restart", d.mustVirsh(t, "pool-dumpxml", "perm"), "<mode>0750</mode>")
	if out := d.mustVirsh(t, "pool-list", "--all"); !strings.Contains(out, "img") || !strings.Contains(out, "perm") {
		t.Errorf("pool-list after restart:\n%s", out)
	}
}

// TestVirtInstallDefaultPool: `virt-install --disk size=1,format=vdi`
// without a path makes libvirt's "default" pool itself (pool-define,
// pool-build, pool-start, autostart under $HOME/.local/share/libvirt/images
// for a session URI) and creates the new disk in it. Without format=,
// virt-install asks for a raw volume, which VirtualBox cannot create.
func TestVirtInstallDefaultPool(t *testing.T) {
	virtInstall := requireTool(t, "virt-install")
	d := startDaemon(t)
	home := t.TempDir()
	cmd := exec.Command(virtInstall, "--connect", d.URI(), "--name", "vd", "--memory", "512", "--osinfo", "debian11",
		"--disk", "size=1,format=vdi", "--import", "--noautoconsole", "--noreboot")
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "HOME="+home, "XDG_CACHE_HOME="+filepath.Join(home, "cache"),
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"), "XDG_DATA_HOME="+filepath.Join(home, "data"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("virt-install: %v\n%s", err, out)
	}
	contains(t, "pool-info default", d.mustVirsh(t, "pool-info", "default"), "State:          running", "Autostart:      yes")
	target := strings.TrimSpace(d.mustVirsh(t, "pool-dumpxml", "default", "--xpath", "/pool/target/path/text()"))
	if !strings.HasPrefix(target, home) || !exists(target) {
		t.Fatalf("the default pool's directory %q is not a new one under %s", target, home)
	}
	vols := d.mustVirsh(t, "vol-list", "default")
	contains(t, "vol-list default", vols, "vd.vdi")
	vm := machineReadable(d.Sim.mustVBoxManage(t, "showvminfo", "vd", "--machinereadable"))
	found := false
	for _, v := range vm {
		found = found || v == filepath.Join(target, "vd.vdi")
	}
	if !found {
		t.Errorf("vd does not attach %s: %v", filepath.Join(target, "vd.vdi"), vm)
	}
}
