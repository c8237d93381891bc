package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SIGHUP applies a new vboxmanage_path at once: the next VBoxManage command
// runs the new program, and a path that does not resolve keeps the old one.
func TestReloadVBoxManagePath(t *testing.T) {
	d := startDaemon(t)
	d.mustVirsh(t, "define", "testdata/web01.xml")

	broken := filepath.Join(d.Dir, "broken-VBoxManage")
	script := "#!/bin/sh\necho 'VBoxManage: error: this VirtualBox is being upgraded' >&2\nexit 1\n"
	if err := os.WriteFile(broken, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	original := mustRead(t, d.Config)
	reload := func(path string) {
		t.Helper()
		conf := strings.Replace(original, filepath.Join(d.Sim.BinDir, "VBoxManage"), path, 1)
		d.restartSetupConfig(t, conf)
		if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	listUntil := func(ok bool, want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			out, errs, err := d.virsh(t, "list", "--all", "--name")
			if (err == nil) == ok && strings.Contains(out+errs, want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("virsh list --all: err=%v, want success=%v with %q\n%s%s", err, ok, want, out, errs)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	reload(broken)
	listUntil(false, "this VirtualBox is being upgraded")

	reload(filepath.Join(d.Dir, "no-such-VBoxManage"))
	listUntil(false, "this VirtualBox is being upgraded") // the unresolvable path was refused
	contains(t, "log", mustRead(t, d.Log), "Keeping the running VBoxManage settings")

	reload(filepath.Join(d.Sim.BinDir, "VBoxManage"))
	listUntil(true, "web01")
}
