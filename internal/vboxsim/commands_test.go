package vboxsim

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestVersion(t *testing.T) {
	for in, want := range map[string]string{"6.1": "6.1.50r161033", "7.0": "7.0.20r163906", "7.1": "7.1.4r165100",
		"": "7.0.20r163906", "7.0.14r161095": "7.0.14r161095", "6.1.38_Ubuntur153438": "6.1.38_Ubuntur153438"} {
		env := testEnv(t, in)
		for _, flag := range []string{"--version", "-v", "-V"} {
			if out, _ := run(t, env, 0, flag); out != want+"\n" {
				t.Errorf("VBOXSIM_VERSION=%q %s: %q, want %q", in, flag, out, want)
			}
		}
	}
	for _, bad := range []string{"5.2", "8.0.1", "seven"} {
		if _, err := ParsePersonality(bad); err == nil {
			t.Errorf("ParsePersonality(%q) accepted", bad)
		}
	}
}

func TestSyntaxErrorsPerVersion(t *testing.T) {
	env61, env70 := testEnv(t, "6.1.20"), testEnv(t, "7.0")
	// "startvm" alone is a known command without arguments: usage on stdout, exit 1.
	out, errOut := run(t, env70, 1, "startvm")
	if !strings.Contains(out, "VBoxManage startvm <uuid | vmname...>") || errOut != "" {
		t.Errorf("startvm without args: %q %q", out, errOut)
	}
	_, errOut = run(t, env61, 2, "showvminfo", "--details")
	want61 := "Oracle VM VirtualBox Command Line Management Interface Version 6.1.20\n(C) 2005-2021 Oracle Corporation\nAll rights reserved.\n\nUsage:\n\n"
	if !strings.HasPrefix(errOut, want61) || !strings.HasSuffix(errOut, "\nSyntax error: VM name or UUID required\n") {
		t.Errorf("6.1 syntax error:\n%s", errOut)
	}
	_, errOut = run(t, env70, 2, "showvminfo", "--details")
	if !strings.HasPrefix(errOut, "VBoxManage: error: VM name or UUID required\n\nUsage - Show configuration information") {
		t.Errorf("7.0 syntax error:\n%s", errOut)
	}
	_, errOut = run(t, env70, 2, "frobnicate")
	if !strings.HasSuffix(errOut, "VBoxManage: error: Invalid command 'frobnicate'\n") {
		t.Errorf("unknown command: %q", errOut)
	}
	_, errOut = run(t, env70, 2, "list", "frobs")
	if !strings.HasPrefix(errOut, "VBoxManage: error: Unknown subcommand \"frobs\".\n") {
		t.Errorf("list frobs: %q", errOut)
	}
	_, errOut = run(t, env70, 2, "list", "-l")
	if !strings.HasPrefix(errOut, "VBoxManage: error: Missing subcommand for \"list\" command.\n") {
		t.Errorf("list -l: %q", errOut)
	}
	out, _ = run(t, env70, 0)
	if !strings.HasPrefix(out, "Oracle VM VirtualBox Command Line Management Interface Version 7.0.20\n") {
		t.Errorf("no arguments: %q", out)
	}
	_, errOut = run(t, env70, 2, "createvm", "--register")
	if !strings.HasPrefix(errOut, "VBoxManage: error: Parameter --name is required\n") {
		t.Errorf("createvm without --name: %q", errOut)
	}
}

func TestModifyVMUnknownOptionSavesNothing(t *testing.T) {
	for _, v := range []string{"6.1", "7.0", "7.1"} {
		t.Run(v, func(t *testing.T) {
			env := testEnv(t, v)
			run(t, env, 0, "createvm", "--name", "m", "--register")
			_, errOut := run(t, env, 1, "modifyvm", "m", "--memory", "4096", "--synthcpu", "off", "--cpus", "4")
			if !strings.Contains(errOut, "VBoxManage: error: Unknown option: --synthcpu\n") {
				t.Errorf("stderr:\n%s", errOut)
			}
			if v == "6.1" && !strings.HasPrefix(errOut, "Oracle VM VirtualBox Command Line Management Interface Version 6.1.50\n") {
				t.Errorf("6.1 prints the logo and usage first:\n%s", errOut)
			}
			out, _ := run(t, env, 0, "showvminfo", "m", "--machinereadable")
			if mrValue(t, out, "memory") != "128" || mrValue(t, out, "cpus") != "1" {
				t.Errorf("modifyvm saved part of a failed call")
			}
			// 7.x spellings are unknown to 6.1.
			code := 0
			if v == "6.1" {
				code = 1
			}
			run(t, env, code, "modifyvm", "m", "--os-type", "Debian_64")
		})
	}
}

func TestModifyVMOptions(t *testing.T) {
	env := testEnv(t, "7.0")
	run(t, env, 0, "createvm", "--name", "m", "--ostype", "Debian_64", "--register")
	run(t, env, 0, "hostonlyif", "create")
	run(t, env, 0, "modifyvm", "m", "--ostype", "Ubuntu_64", "--boot1", "net", "--boot2", "disk", "--nic2", "hostonly",
		"--hostonlyadapter2", "vboxnet0", "--nictype2", "virtio", "--macaddress2", "08:00:27:aa:bb:cc", "--cableconnected2", "off",
		"--nic3", "intnet", "--intnet3", "lab", "--nic4", "generic", "--nicgenericdrv4", "VDE", "--nic5", "bridged", "--bridgeadapter5", "eth0",
		"--vram", "64", "--graphicscontroller", "vmsvga", "--firmware", "efi", "--acpi", "off", "--ioapic", "on", "--pae", "off",
		"--hwvirtex", "on", "--nestedpaging", "off", "--rtcuseutc", "on", "--audio-driver", "null", "--audio-controller", "hda",
		"--audio-enabled", "on", "--usbxhci", "on", "--usbehci", "on", "--vrde", "on", "--vrdeport", "5001", "--vrdeaddress", "127.0.0.1",
		"--vrdemulticon", "on", "--vrdereusecon", "on", "--uart1", "0x3f8", "4", "--uartmode1", "tcpserver", "2023",
		"--lpt1", "0x378", "7", "--lptmode1", "/dev/lp0", "--defaultfrontend", "headless", "--uart2", "0x2f8", "3", "--uartmode2", "server", "/tmp/pipe", "--uart2", "off", "--clipboard", "bidirectional",
		"--draganddrop", "hosttoguest", "--autostart-enabled", "on", "--autostart-delay", "10", "--natpf1", "ssh,tcp,,2222,,22", "--description", "x=1")
	out, _ := run(t, env, 0, "showvminfo", "m", "--machinereadable")
	for k, want := range map[string]string{"ostype": `"Ubuntu (64-bit)"`, "boot1": `"net"`, "nic2": `"hostonly"`, "hostonlyadapter2": `"vboxnet0"`,
		"nictype2": `"virtio"`, "macaddress2": `"080027AABBCC"`, "cableconnected2": `"off"`, "intnet3": `"lab"`, "nic4": `"Generic"`,
		"generic4": `"VDE"`, "bridgeadapter5": `"eth0"`, "vram": "64", "graphicscontroller": `"vmsvga"`, "firmware": `"EFI"`,
		"acpi": `"off"`, "pae": `"off"`, "nestedpaging": `"off"`, "rtcuseutc": `"on"`, "audio": `"null"`, "xhci": `"on"`,
		"vrde": `"on"`, "vrdeports": `"5001"`, "vrdeport": "-1", "vrdemulticon": `"on"`, "uart1": `"0x03f8,4"`, "uart2": `"off"`, "lpt1": `"0x0378,7"`, "lptmode1": `"/dev/lp0"`, "defaultfrontend": `"headless"`, "uartmode1": `"tcpserver,2023"`,
		"clipboard": `"bidirectional"`, "draganddrop": `"hosttoguest"`, "autostart-enabled": `"on"`, "autostart-delay": "10",
		"Forwarding(0)": `"ssh,tcp,,2222,,22"`, "description": `"x=1"`, "BIOS NVRAM File": `"` + env.MachineFolder + `/m/m.nvram"`} {
		if got := mrValue(t, out, k); got != want {
			t.Errorf("%s=%s, want %s", k, got, want)
		}
	}
	for _, bad := range [][]string{{"--firmware", "uefi"}, {"--memory", "2"}, {"--cpus", "0"}, {"--nic1", "wifi"}, {"--macaddress1", "zz"},
		{"--ostype", "Plan9"}, {"--boot5", "disk"}, {"--acpi", "maybe"}, {"--uart1", "0x3f8"}, {"--uart1", "0x3f8,4"}} {
		_, errOut := run(t, env, 1, append([]string{"modifyvm", "m"}, bad...)...)
		if !strings.HasPrefix(errOut, "VBoxManage: error: ") {
			t.Errorf("%v: %q", bad, errOut)
		}
	}
	_, errOut := run(t, env, 0, "modifyvm", "m", "--bridgeadapter1", "nosuchif")
	if errOut != "VBoxManage: warning: Interface \"nosuchif\" doesn't seem to exist\n" {
		t.Errorf("7.0 bridged warning: %q", errOut)
	}
}

func TestPersonalityKeys(t *testing.T) {
	for _, tc := range []struct {
		v            string
		has, hasNot  []string
		notRunning   string
		abortedSaved bool
	}{
		{"6.1", []string{"\nvideocap=\"off\"\n", "\n\"IDE-tempeject\"=\"off\"\n"}, []string{"Encryption", "encryption=", "platformArchitecture", "iommu"}, "Machine 'k' is not currently running\n", false},
		{"7.0", []string{"\nEncryption:     disabled\n", "\n rec_screen0\n", "\n\"IDE-tempeject-1-0\"=\"off\"\n", "\niommu=\"none\"\n"}, []string{"videocap", "encryption=", "platformArchitecture"}, "Machine 'k' is not currently running.\n", true},
		{"7.1", []string{"\nencryption=\"disabled\"\n", "\nplatformArchitecture=\"x86\"\n", "\nrecording_started=\"off\"\n"}, []string{"Encryption:", "videocap"}, "Machine 'k' is not currently running.\n", true},
	} {
		t.Run(tc.v, func(t *testing.T) {
			env := testEnv(t, tc.v)
			run(t, env, 0, "createvm", "--name", "k", "--ostype", "Ubuntu_64", "--default", "--register")
			run(t, env, 0, "storageattach", "k", "--storagectl", "IDE", "--port", "1", "--device", "0", "--type", "dvddrive", "--medium", writeFile(t, env, "x.iso"))
			out, _ := run(t, env, 0, "showvminfo", "k", "--machinereadable")
			for _, h := range tc.has {
				if !strings.Contains(out, h) {
					t.Errorf("missing %q", h)
				}
			}
			for _, h := range tc.hasNot {
				if strings.Contains(out, h) {
					t.Errorf("unexpected %q", h)
				}
			}
			_, errOut := run(t, env, 1, "controlvm", "k", "pause")
			if errOut != "VBoxManage: error: "+tc.notRunning {
				t.Errorf("not running: %q", errOut)
			}
			err := SetState(env, "k", "aborted-saved")
			if (err == nil) != tc.abortedSaved {
				t.Errorf("aborted-saved: %v", err)
			}
			if err == nil {
				out, _ = run(t, env, 0, "showvminfo", "k", "--machinereadable")
				if mrValue(t, out, "VMState") != `"aborted-saved"` {
					t.Errorf("VMState %s", mrValue(t, out, "VMState"))
				}
			}
		})
	}
}

func writeFile(t *testing.T, env Env, name string) string {
	t.Helper()
	p := filepath.Join(env.Home, name)
	if err := os.WriteFile(p, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestACPIPowerButton(t *testing.T) {
	env := testEnv(t, "7.0")
	env.ACPIDelay = 0
	run(t, env, 0, "createvm", "--name", "a", "--register")
	run(t, env, 0, "createvm", "--name", "stubborn", "--register")
	run(t, env, 0, "setextradata", "stubborn", "vboxsim/IgnoreACPI", "1")
	for _, n := range []string{"a", "stubborn"} {
		run(t, env, 0, "startvm", n, "--type", "headless")
		run(t, env, 0, "controlvm", n, "acpipowerbutton")
	}
	out, _ := run(t, env, 0, "list", "runningvms")
	if strings.Contains(out, `"a"`) || !strings.Contains(out, `"stubborn"`) {
		t.Errorf("runningvms after the power button: %q", out)
	}
	out, _ = run(t, env, 0, "showvminfo", "a", "--machinereadable")
	if mrValue(t, out, "VMState") != `"poweroff"` {
		t.Errorf("a: %s", mrValue(t, out, "VMState"))
	}
	// A guest that has not reacted yet is still running.
	env.ACPIDelay = time.Hour
	run(t, env, 0, "startvm", "a", "--type", "headless")
	run(t, env, 0, "controlvm", "a", "acpipowerbutton")
	out, _ = run(t, env, 0, "showvminfo", "a", "--machinereadable")
	if mrValue(t, out, "VMState") != `"running"` {
		t.Errorf("a before its delay: %s", mrValue(t, out, "VMState"))
	}
}

func TestLockLingerAndLeases(t *testing.T) {
	env := testEnv(t, "7.0")
	env.LockLinger = time.Hour
	run(t, env, 0, "createvm", "--name", "l", "--register")
	run(t, env, 0, "startvm", "l", "--type", "headless")
	run(t, env, 0, "controlvm", "l", "poweroff")
	for _, args := range [][]string{{"modifyvm", "l", "--cpus", "2"}, {"unregistervm", "l"}, {"startvm", "l", "--type", "headless"}} {
		_, errOut := run(t, env, 1, args...)
		if !strings.Contains(errOut, "VBOX_E_INVALID_OBJECT_STATE (0x80bb0007)") {
			t.Errorf("%v during linger: %q", args, errOut)
		}
	}
	// showvminfo is a shared-lock reader: it works.
	run(t, env, 0, "showvminfo", "l")

	env = testEnv(t, "7.0")
	run(t, env, 0, "createvm", "--name", "w", "--register")
	out, _ := run(t, env, 0, "showvminfo", "w", "--machinereadable")
	uuid := strings.Trim(mrValue(t, out, "UUID"), `"`)
	lease := filepath.Join(env.Home, "sessions", uuid+".w")
	// Another live process (pid 1) holds the write lock.
	if err := os.WriteFile(lease, []byte("1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errOut := run(t, env, 1, "modifyvm", "w", "--cpus", "2")
	if !strings.HasPrefix(errOut, "VBoxManage: error: The machine 'w' is already locked for a session (or being unlocked)\n") {
		t.Errorf("held lease: %q", errOut)
	}
	// A lease whose owner died is stale.
	os.WriteFile(lease, []byte("999999999\n"), 0o644)
	run(t, env, 0, "modifyvm", "w", "--cpus", "2")

	// VBOXSIM_FLAKY: overlapping another client's session fails transiently.
	shared := filepath.Join(env.Home, "sessions", uuid+".s.1")
	os.WriteFile(shared, []byte("1\n"), 0o644)
	env.Flaky = 1
	_, errOut = run(t, env, 1, "showvminfo", "w", "--machinereadable")
	if !strings.HasPrefix(errOut, "VBoxManage: error: The object is not ready\nVBoxManage: error: Details: code E_ACCESSDENIED (0x80070005)") {
		t.Errorf("flaky: %q", errOut)
	}
	env.Flaky = 0
	run(t, env, 0, "showvminfo", "w", "--machinereadable")
}

func TestSnapshots(t *testing.T) {
	env := testEnv(t, "6.1")
	run(t, env, 0, "createvm", "--name", "s", "--ostype", "Debian_64", "--default", "--register")
	disk := filepath.Join(env.Home, "s.vdi")
	out, errOut := run(t, env, 0, "createmedium", "disk", "--filename", disk, "--size", "1024")
	if !strings.HasPrefix(out, "Medium created. UUID: ") || !strings.HasSuffix(errOut, "100%\n") {
		t.Errorf("createmedium: %q %q", out, errOut)
	}
	run(t, env, 0, "storageattach", "s", "--storagectl", "SATA", "--port", "0", "--device", "0", "--type", "hdd", "--medium", disk)
	out, _ = run(t, env, 1, "snapshot", "s", "list")
	if out != "This machine does not have any snapshots\n" {
		t.Errorf("no snapshots: %q", out)
	}
	out, _ = run(t, env, 0, "snapshot", "s", "take", "base")
	if !strings.HasPrefix(out, "Snapshot taken. UUID: ") {
		t.Errorf("take: %q", out)
	}
	run(t, env, 0, "modifyvm", "s", "--memory", "3000")
	run(t, env, 0, "snapshot", "s", "take", "provisioned", "--description", "after ansible run")
	out, _ = run(t, env, 0, "snapshot", "s", "list", "--machinereadable")
	if !strings.Contains(out, "SnapshotName-1=\"provisioned\"\n") || !strings.HasSuffix(out, "CurrentSnapshotNode=\"SnapshotName-1\"\n") {
		t.Errorf("list --machinereadable:\n%s", out)
	}
	out, _ = run(t, env, 0, "snapshot", "s", "list")
	if !strings.Contains(out, "   Name: base (UUID: ") || !strings.Contains(out, "      Name: provisioned (UUID: ") || !strings.HasSuffix(out, " *\n") {
		t.Errorf("list:\n%s", out)
	}
	out, _ = run(t, env, 0, "snapshot", "s", "restore", "base")
	if !strings.HasPrefix(out, "Restoring snapshot 'base' (") {
		t.Errorf("restore: %q", out)
	}
	out, _ = run(t, env, 0, "showvminfo", "s", "--machinereadable")
	if mrValue(t, out, "memory") == "3000" || mrValue(t, out, "CurrentSnapshotName") != `"base"` {
		t.Errorf("after restore:\n%s", out)
	}
	// The disk now points to a differencing image in the snapshot folder.
	if !strings.Contains(mrValue(t, out, `"SATA-0-0"`), "/Snapshots/{") {
		t.Errorf("disk after restore: %s", mrValue(t, out, `"SATA-0-0"`))
	}
	_, errOut = run(t, env, 1, "snapshot", "s", "delete", "snapshot1")
	if !strings.HasPrefix(errOut, "VBoxManage: error: Could not find a snapshot named 'snapshot1'\n") {
		t.Errorf("delete missing: %q", errOut)
	}
	run(t, env, 0, "snapshot", "s", "edit", "provisioned", "--name", "prov2")
	out, _ = run(t, env, 0, "snapshot", "s", "delete", "prov2")
	if !strings.HasPrefix(out, "Deleting snapshot 'prov2' (") {
		t.Errorf("delete: %q", out)
	}
	run(t, env, 0, "snapshot", "s", "restorecurrent")
	run(t, env, 1, "snapshot", "s", "frob")
	run(t, env, 0, "startvm", "s", "--type", "headless")
	_, errOut = run(t, env, 1, "snapshot", "s", "restore", "base")
	if !strings.Contains(errOut, "VBOX_E_INVALID_VM_STATE") {
		t.Errorf("restore while running: %q", errOut)
	}
	run(t, env, 0, "snapshot", "s", "take", "live", "--live")
}

func TestMediaAndStorage(t *testing.T) {
	for _, v := range []string{"6.1", "7.0"} {
		t.Run(v, func(t *testing.T) {
			env := testEnv(t, v)
			run(t, env, 0, "createvm", "--name", "d", "--register")
			run(t, env, 0, "storagectl", "d", "--name", "SATA Controller", "--add", "sata", "--portcount", "2")
			_, errOut := run(t, env, 1, "storagectl", "d", "--name", "SATA Controller", "--add", "sata")
			if !strings.HasPrefix(errOut, "VBoxManage: error: Storage controller named 'SATA Controller' already exists\n") {
				t.Errorf("duplicate controller: %q", errOut)
			}
			disk := filepath.Join(env.Home, "d1")
			run(t, env, 0, "createmedium", "--filename", disk, "--size", "2048")
			disk += ".vdi"
			_, errOut = run(t, env, 1, "createmedium", "--filename", disk, "--size", "2048")
			if !strings.Contains(errOut, "VERR_ALREADY_EXISTS") || strings.Contains(errOut, "Progress state:") == (v != "6.1") {
				t.Errorf("existing file:\n%s", errOut)
			}
			_, errOut = run(t, env, 1, "storageattach", "d", "--storagectl", "IDE Controller", "--port", "0", "--device", "0", "--type", "hdd", "--medium", disk)
			if errOut != "VBoxManage: error: Could not find a controller named 'IDE Controller'\n" {
				t.Errorf("missing controller: %q", errOut)
			}
			_, errOut = run(t, env, 1, "storageattach", "d", "--storagectl", "SATA Controller", "--port", "0", "--device", "0", "--type", "hdd", "--medium", "/nonexistent/sdb.vdi")
			if !strings.HasPrefix(errOut, "VBoxManage: error: Could not find file for the medium '/nonexistent/sdb.vdi' (VERR_FILE_NOT_FOUND)\n") {
				t.Errorf("missing file: %q", errOut)
			}
			run(t, env, 0, "storageattach", "d", "--storagectl", "SATA Controller", "--port", "1", "--device", "0", "--type", "hdd", "--medium", disk, "--nonrotational", "on")
			out, _ := run(t, env, 0, "showmediuminfo", disk)
			if !strings.Contains(out, "Capacity:       2048 MBytes\n") || !strings.Contains(out, "In use by VMs:  d (UUID: ") {
				t.Errorf("showmediuminfo:\n%s", out)
			}
			_, errOut = run(t, env, 1, "closemedium", "disk", disk)
			if !strings.Contains(errOut, "cannot be closed because it is still attached to 1 virtual machines") {
				t.Errorf("closemedium attached: %q", errOut)
			}
			run(t, env, 0, "startvm", "d", "--type", "headless")
			_, errOut = run(t, env, 1, "storageattach", "d", "--storagectl", "SATA Controller", "--port", "1", "--device", "0", "--medium", "none")
			if !strings.Contains(errOut, "DetachDevice(") {
				t.Errorf("detach from running VM: %q", errOut)
			}
			run(t, env, 0, "controlvm", "d", "poweroff")
			run(t, env, 0, "storageattach", "d", "--storagectl", "SATA Controller", "--port", "1", "--device", "0", "--medium", "none")
			run(t, env, 0, "closemedium", "disk", disk, "--delete")
			if _, err := os.Stat(disk); !os.IsNotExist(err) {
				t.Errorf("closemedium --delete left %s", disk)
			}
			out, _ = run(t, env, 0, "list", "hdds")
			if out != "" {
				t.Errorf("hdds after close: %q", out)
			}
		})
	}
}

func TestControlVMOperations(t *testing.T) {
	env := testEnv(t, "7.0")
	run(t, env, 0, "createvm", "--name", "c", "--register")
	run(t, env, 0, "startvm", "c", "--type", "headless")
	png := filepath.Join(env.Home, "shot.png")
	run(t, env, 0, "controlvm", "c", "screenshotpng", png)
	b, err := os.ReadFile(png)
	if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("screenshot: %v %q", err, b[:min(8, len(b))])
	}
	run(t, env, 0, "controlvm", "c", "keyboardputscancode", "1d", "38", "53")
	_, errOut := run(t, env, 1, "controlvm", "c", "keyboardputscancode", "zz")
	if errOut != "VBoxManage: error: Error: 'zz' is not a hex byte!\n" {
		t.Errorf("bad scancode: %q", errOut)
	}
	run(t, env, 0, "controlvm", "c", "setlinkstate1", "off")
	run(t, env, 0, "controlvm", "c", "nic1", "intnet", "labnet")
	run(t, env, 0, "controlvm", "c", "natpf1", "web,tcp,,8080,,80")
	out, _ := run(t, env, 0, "showvminfo", "c", "--machinereadable")
	if mrValue(t, out, "cableconnected1") != `"off"` || mrValue(t, out, "intnet1") != `"labnet"` || mrValue(t, out, "VRDEClients=") != "0" {
		t.Errorf("after controlvm:\n%s", out)
	}
	_, errOut = run(t, env, 1, "controlvm", "c", "frobnicate")
	if !strings.HasSuffix(errOut, "VBoxManage: error: Invalid parameter 'frobnicate'\n") {
		t.Errorf("unknown subcommand: %q", errOut)
	}
	_, errOut = run(t, env, 1, "controlvm", "c", "resume")
	if !strings.HasPrefix(errOut, "VBoxManage: error: Cannot resume the machine as it is not paused (machine state: Running)\n") {
		t.Errorf("resume running: %q", errOut)
	}
	run(t, env, 0, "controlvm", "c", "reset")
	run(t, env, 0, "controlvm", "c", "savestate")
	out, _ = run(t, env, 0, "showvminfo", "c", "--machinereadable")
	stateFile := strings.Trim(mrValue(t, out, "VMStateFile"), `"`)
	if _, err := os.Stat(stateFile); err != nil {
		t.Errorf("saved state file: %v", err)
	}
	run(t, env, 0, "discardstate", "c")
	_, errOut = run(t, env, 1, "discardstate", "c")
	if !strings.Contains(errOut, "VBOX_E_INVALID_VM_STATE") {
		t.Errorf("discardstate powered off: %q", errOut)
	}
	if _, err := os.Stat(stateFile); !os.IsNotExist(err) {
		t.Errorf("discardstate kept %s", stateFile)
	}
}

func TestCloneExtraDataSharedFolders(t *testing.T) {
	env := testEnv(t, "7.0")
	run(t, env, 0, "createvm", "--name", "src", "--ostype", "Ubuntu_64", "--default", "--register")
	out, _ := run(t, env, 0, "clonevm", "src", "--register")
	if out != "Machine has been successfully cloned as \"src Clone\"\n" {
		t.Errorf("clonevm: %q", out)
	}
	a, _ := run(t, env, 0, "showvminfo", "src", "--machinereadable")
	b, _ := run(t, env, 0, "showvminfo", "src Clone", "--machinereadable")
	if mrValue(t, a, "macaddress1") == mrValue(t, b, "macaddress1") || mrValue(t, a, "memory") != mrValue(t, b, "memory") {
		t.Error("clone must copy settings and get new MACs")
	}
	run(t, env, 2, "clonevm", "src", "--mode", "weird")
	_, errOut := run(t, env, 1, "clonevm", "src", "--options", "link")
	if !strings.Contains(errOut, "Linked clone can only be created from a snapshot") {
		t.Errorf("link without snapshot: %q", errOut)
	}

	out, _ = run(t, env, 0, "getextradata", "src", "FRONTEND/Type")
	if out != "No value set!\n" {
		t.Errorf("unset extradata: %q", out)
	}
	run(t, env, 0, "setextradata", "src", "FRONTEND/Type", "vrdp")
	run(t, env, 0, "setextradata", "global", "GUI/x", "1")
	out, _ = run(t, env, 0, "getextradata", "src", "FRONTEND/Type")
	if out != "Value: vrdp\n" {
		t.Errorf("extradata: %q", out)
	}
	out, _ = run(t, env, 0, "getextradata", "global", "enumerate")
	if out != "Key: GUI/x, Value: 1\n" {
		t.Errorf("enumerate: %q", out)
	}
	run(t, env, 0, "setextradata", "src", "FRONTEND/Type")
	if out, _ = run(t, env, 0, "getextradata", "src", "FRONTEND/Type"); out != "No value set!\n" {
		t.Errorf("deleted extradata: %q", out)
	}

	run(t, env, 0, "sharedfolder", "add", "src", "--name", "data", "--hostpath", "/srv/data", "--readonly")
	run(t, env, 1, "sharedfolder", "add", "src", "--name", "data", "--hostpath", "/srv/data")
	out, _ = run(t, env, 0, "showvminfo", "src", "--machinereadable")
	if mrValue(t, out, "SharedFolderPathMachineMapping1") != `"/srv/data"` {
		t.Errorf("shared folder:\n%s", out)
	}
	run(t, env, 0, "sharedfolder", "remove", "src", "--name", "data")
	run(t, env, 1, "sharedfolder", "remove", "src", "--name", "data")
	run(t, env, 1, "sharedfolder", "add", "src", "--name", "t", "--hostpath", "/tmp", "--transient")
}

func TestNetworking(t *testing.T) {
	env := testEnv(t, "7.0")
	for i := 0; i < 2; i++ {
		out, errOut := run(t, env, 0, "hostonlyif", "create")
		if out != "Interface 'vboxnet"+strconv.Itoa(i)+"' was successfully created\n" || !strings.HasSuffix(errOut, "100%\n") {
			t.Errorf("create: %q %q", out, errOut)
		}
	}
	run(t, env, 0, "hostonlyif", "remove", "vboxnet0")
	out, _ := run(t, env, 0, "hostonlyif", "create")
	if out != "Interface 'vboxnet0' was successfully created\n" {
		t.Errorf("lowest free name: %q", out)
	}
	_, errOut := run(t, env, 1, "hostonlyif", "remove", "vboxnet9")
	if !strings.HasPrefix(errOut, "VBoxManage: error: The host network interface named 'vboxnet9' could not be found\n") {
		t.Errorf("remove unknown: %q", errOut)
	}
	run(t, env, 0, "hostonlyif", "ipconfig", "vboxnet0", "--ip", "192.168.60.1", "--netmask", "255.255.255.0")
	run(t, env, 0, "natnetwork", "add", "--netname", "n1", "--network", "10.9.0.0/24")
	_, errOut = run(t, env, 2, "natnetwork", "add", "--netname", "n1", "--network", "10.9.0.0/24")
	if errOut != "VBoxManage: error: NATNetwork server already exists\n" {
		t.Errorf("duplicate natnetwork: %q", errOut)
	}
	run(t, env, 2, "natnetwork", "add", "--network", "10.9.0.0/24")
	out, _ = run(t, env, 0, "natnetwork", "list")
	if !strings.HasPrefix(out, "NAT Networks:\n\nName:         n1\nEnabled:      Yes\n") || !strings.HasSuffix(out, "1 network found\n") {
		t.Errorf("natnetwork list:\n%s", out)
	}
	run(t, env, 0, "natnetwork", "remove", "--netname", "n1")
	_, errOut = run(t, env, 1, "natnetwork", "remove", "--netname", "n1")
	if errOut != "VBoxManage: error: NATNetwork server does not exist\n" {
		t.Errorf("remove unknown natnetwork: %q", errOut)
	}
	if out, _ = run(t, env, 0, "list", "natnets"); out != "" {
		t.Errorf("natnets: %q", out)
	}
}

func TestUnregisterDeleteRemovesFiles(t *testing.T) {
	// withDisks makes a registered VM in a fresh state dir with a hard disk
	// and an ISO attached.
	withDisks := func(name string) (env Env, disk, iso string) {
		env = testEnv(t, "7.0")
		run(t, env, 0, "createvm", "--name", name, "--ostype", "Ubuntu_64", "--default", "--register")
		disk = filepath.Join(env.MachineFolder, name, name+".vdi")
		run(t, env, 0, "createmedium", "--filename", disk, "--size", "100")
		iso = writeFile(t, env, "keep.iso")
		run(t, env, 0, "storageattach", name, "--storagectl", "SATA", "--port", "0", "--device", "0", "--type", "hdd", "--medium", disk)
		run(t, env, 0, "storageattach", name, "--storagectl", "IDE", "--port", "1", "--device", "0", "--type", "dvddrive", "--medium", iso)
		return env, disk, iso
	}
	env, disk, _ := withDisks("u")
	run(t, env, 0, "unregistervm", "u")
	// Unregistered without --delete: the settings file stays, so the name is taken.
	run(t, env, 1, "createvm", "--name", "u", "--register")
	if _, err := os.Stat(disk); err != nil {
		t.Fatal(err)
	}
	env2, disk2, iso2 := withDisks("v")
	_, errOut := run(t, env2, 0, "unregistervm", "v", "--delete")
	if !strings.HasSuffix(errOut, "100%\n") {
		t.Errorf("progress: %q", errOut)
	}
	if _, err := os.Stat(disk2); !os.IsNotExist(err) {
		t.Errorf("disk kept")
	}
	if _, err := os.Stat(iso2); err != nil {
		t.Errorf("ISO deleted: %v", err)
	}
	if _, err := os.Stat(filepath.Join(env2.MachineFolder, "v")); !os.IsNotExist(err) {
		t.Errorf("VM folder kept")
	}
	run(t, env2, 0, "createvm", "--name", "v", "--register")
}

func TestInvocationLogAndFaultSpec(t *testing.T) {
	env := testEnv(t, "7.0")
	run(t, env, 0, "list", "vms")
	run(t, env, 1, "showvminfo", "nosuch")
	run(t, env, 0, "createvm", "--name", "quote\"d", "--register")
	entries, err := ReadLog(env.Home)
	if err != nil || len(entries) != 3 {
		t.Fatalf("log: %v %d", err, len(entries))
	}
	if e := entries[1]; e.Exit != 1 || len(e.Argv) != 2 || e.Argv[1] != "nosuch" || e.PID != os.Getpid() {
		t.Errorf("entry: %+v", e)
	}
	if entries[2].Argv[2] != "quote\"d" {
		t.Errorf("argv quoting: %q", entries[2].Line)
	}
	for _, bad := range []string{"showvminfo", "x=explode", "x=hang@2", "=error"} {
		if _, err := parseFaults(bad); err == nil {
			t.Errorf("parseFaults(%q) accepted", bad)
		}
	}
	f, err := parseFaults("showvminfo=hang, startvm=crash@0.5,*=error@0.01")
	if err != nil || f["startvm"] != "crash@0.5" || f["*"] != "error@0.01" {
		t.Errorf("parseFaults: %v %v", f, err)
	}
	env.Faults = map[string]string{"list": "error"}
	_, errOut := run(t, env, 1, "list", "vms")
	if !strings.HasPrefix(errOut, "VBoxManage: error: Code E_FAIL (0x80004005)") {
		t.Errorf("error fault: %q", errOut)
	}
}

func TestEnvFromOS(t *testing.T) {
	vars := map[string]string{"HOME": "/home/x", "VBOXSIM_LATENCY": "0", "VBOXSIM_COLD_START": "2s", "VBOXSIM_ACPI_DELAY": "250",
		"VBOXSIM_LOCK_LINGER": "0", "VBOXSIM_FLAKY": "on", "VBOXSIM_VERSION": "6.1", "VBOXSIM_FAULTS": "list=garbage"}
	env, err := EnvFromOS(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	if env.Home != "/home/x/.vboxsim" || env.Latency != 0 || env.ColdStart != 2*time.Second || env.ACPIDelay != 250*time.Millisecond ||
		env.Flaky != 1 || !env.Personality.Is61() || env.Faults["list"] != "garbage" || env.MachineFolder != "/home/x/.vboxsim/VirtualBox VMs" {
		t.Errorf("env: %+v", env)
	}
	env, err = EnvFromOS(func(k string) string { return map[string]string{"HOME": "/h"}[k] })
	if err != nil || env.Latency != DefaultLatency || env.LockLinger != DefaultLockLinger || env.Flaky != 0 {
		t.Errorf("defaults: %+v %v", env, err)
	}
	for k, v := range map[string]string{"VBOXSIM_LATENCY": "-5s", "VBOXSIM_FLAKY": "2", "VBOXSIM_VERSION": "4.3", "VBOXSIM_FAULTS": "x"} {
		if _, err := EnvFromOS(func(q string) string {
			if q == k {
				return v
			}
			return ""
		}); err == nil {
			t.Errorf("%s=%s accepted", k, v)
		}
	}
}

func TestInaccessibleAndDisplay(t *testing.T) {
	env := testEnv(t, "7.0")
	out, _ := run(t, env, 0, "createvm", "--name", "gone", "--register")
	uuid := strings.TrimPrefix(strings.Split(out, "\n")[1], "UUID: ")
	if err := SetState(env, "gone", "inaccessible"); err != nil {
		t.Fatal(err)
	}
	out, _ = run(t, env, 0, "list", "vms")
	if out != "\"<inaccessible>\" {"+uuid+"}\n" {
		t.Errorf("list vms: %q", out)
	}
	out, _ = run(t, env, 0, "showvminfo", uuid, "--machinereadable")
	if out != "name=\"<inaccessible>\"\nUUID=\""+uuid+"\"\n" {
		t.Errorf("showvminfo: %q", out)
	}
	run(t, env, 1, "showvminfo", "gone") // the name is unknown while inaccessible
	_, errOut := run(t, env, 1, "modifyvm", uuid, "--cpus", "2")
	if !strings.HasPrefix(errOut, "VBoxManage: error: The object functionality is limited\n") {
		t.Errorf("modifyvm: %q", errOut)
	}
	if err := SetState(env, uuid, "poweroff"); err != nil {
		t.Fatal(err)
	}
	run(t, env, 0, "showvminfo", "gone")

	t.Setenv("DISPLAY", "")
	env.RequireDisplay = true
	out, errOut = run(t, env, 1, "startvm", "gone")
	if out != "Waiting for VM \"gone\" to power on...\n" || !strings.Contains(errOut, "has terminated unexpectedly during startup with exit code 1 (0x1)") {
		t.Errorf("gui start without display: %q %q", out, errOut)
	}
	run(t, env, 0, "startvm", "gone", "--type", "gui", "--putenv", "DISPLAY=:0")
}

// TestHuman61Storage checks the 6.1 storage lines quoted in reference §3.
func TestHuman61Storage(t *testing.T) {
	env := testEnv(t, "6.1")
	run(t, env, 0, "createvm", "--name", "h", "--register")
	run(t, env, 0, "storagectl", "h", "--name", "SATA Controller", "--add", "sata")
	run(t, env, 0, "storagectl", "h", "--name", "IDE Controller", "--add", "ide")
	disk := filepath.Join(env.Home, "disk.vdi")
	out, _ := run(t, env, 0, "createmedium", "--filename", disk, "--size", "10")
	uuid := strings.TrimSpace(strings.TrimPrefix(out, "Medium created. UUID: "))
	run(t, env, 0, "storageattach", "h", "--storagectl", "SATA Controller", "--port", "0", "--device", "0", "--type", "hdd", "--medium", disk)
	run(t, env, 0, "storageattach", "h", "--storagectl", "IDE Controller", "--port", "1", "--device", "0", "--type", "dvddrive", "--medium", "emptydrive")
	out, _ = run(t, env, 0, "showvminfo", "h")
	for _, want := range []string{"Storage Controller Name (0):            SATA Controller\n",
		"SATA Controller (0, 0): " + disk + " (UUID: " + uuid + ")\n", "IDE Controller (1, 0): Empty\n", "\nGuest:\n", "Memory size:                 128MB\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Encryption") || strings.Contains(out, "* Guest:") {
		t.Errorf("7.x lines in 6.1 output")
	}
}

func TestUSBFilters(t *testing.T) {
	env := testEnv(t, "6.1")
	run(t, env, 0, "createvm", "--name", "u", "--register")
	run(t, env, 0, "usbfilter", "add", "0", "--target", "u", "--name", "yubikey", "--vendorid", "1050", "--productid", "0407")
	run(t, env, 0, "usbfilter", "add", "1", "--target", "u", "--name", "disk", "--active", "no")
	run(t, env, 0, "usbfilter", "modify", "1", "--target", "u", "--serialnumber", "S1")
	run(t, env, 2, "usbfilter", "add", "0", "--target", "u")
	out, _ := run(t, env, 0, "showvminfo", "u", "--machinereadable")
	for k, want := range map[string]string{"USBFilterName1": `"yubikey"`, "USBFilterVendorId1": `"1050"`, "USBFilterActive2": `"off"`,
		"USBFilterSerialNumber2": `"S1"`} {
		if got := mrValue(t, out, k); got != want {
			t.Errorf("%s=%s, want %s", k, got, want)
		}
	}
	run(t, env, 0, "usbfilter", "remove", "0", "--target", "u")
	out, _ = run(t, env, 0, "showvminfo", "u", "--machinereadable")
	if mrValue(t, out, "USBFilterName1") != `"disk"` || strings.Contains(out, "USBFilterName2") {
		t.Errorf("after remove:\n%s", out)
	}
	run(t, env, 1, "usbfilter", "remove", "5", "--target", "u")
}

func TestICH9NICsAnd61RawPaths(t *testing.T) {
	env := testEnv(t, "7.0")
	run(t, env, 0, "createvm", "--name", "i", "--register")
	run(t, env, 1, "modifyvm", "i", "--nic9", "nat")
	run(t, env, 0, "modifyvm", "i", "--chipset", "ich9", "--nic12", "intnet")
	out, _ := run(t, env, 0, "showvminfo", "i", "--machinereadable")
	if mrValue(t, out, "nic12") != `"intnet"` || mrValue(t, out, "nic36") != `"none"` {
		t.Errorf("ich9 NICs:\n%s", out)
	}

	env = testEnv(t, "6.1")
	run(t, env, 0, "createvm", "--name", "r", "--register")
	run(t, env, 0, "storagectl", "r", "--name", "SATA", "--add", "sata", "--portcount", "1")
	disk := filepath.Join(env.Home, `a"b.vdi`)
	run(t, env, 0, "createmedium", "--filename", disk, "--size", "1")
	run(t, env, 0, "storageattach", "r", "--storagectl", "SATA", "--port", "0", "--device", "0", "--type", "hdd", "--medium", disk)
	out, _ = run(t, env, 0, "showvminfo", "r", "--machinereadable")
	if !strings.Contains(out, "\n\"SATA-0-0\"=\""+disk+"\"\n") {
		t.Errorf("6.1 prints storage paths raw:\n%s", out)
	}
}

func TestRegisterVM(t *testing.T) {
	env := testEnv(t, "7.0")
	out, _ := run(t, env, 0, "createvm", "--name", "r", "--register")
	cfg := strings.Trim(strings.TrimPrefix(strings.Split(out, "\n")[2], "Settings file: "), "'")
	run(t, env, 0, "unregistervm", "r")
	run(t, env, 1, "showvminfo", "r")
	run(t, env, 0, "registervm", cfg)
	run(t, env, 1, "registervm", cfg)
	run(t, env, 0, "showvminfo", "r")
	_, errOut := run(t, env, 1, "registervm", "/nonexistent/x.vbox")
	if !strings.HasPrefix(errOut, "VBoxManage: error: Could not find file for the machine '/nonexistent/x.vbox' (VERR_FILE_NOT_FOUND)\n") {
		t.Errorf("missing file: %q", errOut)
	}
}

func TestColdStartModel(t *testing.T) {
	env := testEnv(t, "7.0")
	run(t, env, 0, "createvm", "--name", "a", "--register")
	run(t, env, 0, "createvm", "--name", "b", "--register")
	env.ColdStart, env.ColdStartVM = 400*time.Millisecond, 2*time.Millisecond
	st, err := OpenStore(env.Home)
	if err != nil {
		t.Fatal(err)
	}
	s := &Sim{env: env, p: env.Personality, st: st, now: time.Now}
	if d := s.coldStartDelay(); d != 0 {
		t.Errorf("VBoxSVC still up after a call just now: %v", d)
	}
	old := time.Now().Add(-6 * time.Second)
	if err := os.Chtimes(filepath.Join(env.Home, "lastcall"), old, old); err != nil {
		t.Fatal(err)
	}
	if d := s.coldStartDelay(); d != 404*time.Millisecond {
		t.Errorf("after 6 s idle with 2 VMs: %v, want 404ms", d)
	}
	if err := SetState(env, "a", "running"); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(filepath.Join(env.Home, "lastcall"), old, old)
	if d := s.coldStartDelay(); d != 0 {
		t.Errorf("a running VM keeps VBoxSVC up: %v", d)
	}
	s.env.ColdStart = 0
	if SetState(env, "a", "poweroff"); s.coldStartDelay() != 0 {
		t.Error("VBOXSIM_COLD_START=0 must turn the model off")
	}
}

func TestVRDEDefaultsAndUnknownControllers(t *testing.T) {
	for _, v := range []string{"6.1", "7.0"} {
		env := testEnv(t, v)
		run(t, env, 0, "createvm", "--name", "v", "--register")
		run(t, env, 0, "modifyvm", "v", "--vrde", "on")
		run(t, env, 0, "storagectl", "v", "--name", "NVMe", "--add", "pcie")
		out, _ := run(t, env, 0, "showvminfo", "v", "--machinereadable")
		if mrValue(t, out, "vrdeaddress") != `""` || mrValue(t, out, "vrdeproperty[TCP/Address]") != "<not set>" || mrValue(t, out, "vrdeports") != `"3389"` {
			t.Errorf("%s: VRDE defaults:\n%s", v, out)
		}
		want := `"NVMe"`
		if v == "6.1" {
			want = `"unknown"`
		}
		if got := mrValue(t, out, "storagecontrollertype0"); got != want {
			t.Errorf("%s: NVMe controller type %s, want %s", v, got, want)
		}
		human, _ := run(t, env, 0, "showvminfo", "v")
		if !strings.Contains(human, "VRDE:                        enabled (Address 0.0.0.0, Ports 3389, MultiConn: off, ReuseSingleConn: off, Authentication type: null)\n") {
			t.Errorf("%s: human VRDE:\n%s", v, human)
		}
	}
}
