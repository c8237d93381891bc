package vboxsim

import (
	"strings"
	"testing"
	"time"
)

// statsVM is a running VM with a SATA disk, an IDE DVD, two NICs and the
// Guest Additions, started at a fixed instant; the clock is set 90 s later.
func statsVM(t *testing.T, version string) Env {
	t.Helper()
	env := testEnv(t, version)
	vm := baseVM(t, env, "web01", "0e5bd7c5-1a52-4a4c-9d0b-1a8a2f4f3a11", "Debian_64", "/vms/web01/web01.vbox")
	vm.HW.Memory, vm.HW.CPUs, vm.HW.Balloon = 2048, 2, 256
	vm.HW.Controllers = []Controller{
		{Name: "SATA", Bus: "sata", Type: "IntelAhci", PortCount: 2, Bootable: true},
		{Name: "IDE", Bus: "ide", Type: "PIIX4", PortCount: 2, Bootable: true},
	}
	media := []*Medium{
		{UUID: "11111111-2222-3333-4444-555555555555", Kind: "hdd", Location: "/vms/web01/disk.vdi", Format: "VDI", SizeMB: 8192, Type: "normal"},
		{UUID: "11111111-2222-3333-4444-666666666666", Kind: "dvd", Location: "/iso/debian.iso", Format: "RAW", Type: "readonly"},
	}
	vm.HW.Attachments = []Attachment{
		{Controller: "SATA", Port: 0, Device: 0, Type: "hdd", Medium: media[0].UUID},
		{Controller: "IDE", Port: 1, Device: 0, Type: "dvddrive", Medium: media[1].UUID},
	}
	vm.HW.NICs[0] = NIC{Attach: "nat", Type: "82540EM", MAC: "080027AABBCC", Cable: true}
	vm.HW.NICs[1] = NIC{Attach: "hostonly", HostOnly: "vboxnet0", Type: "virtio", MAC: "080027DDEEFF", Cable: true}
	start := time.Date(2024, 5, 2, 10, 0, 0, 0, time.UTC)
	vm.State, vm.SessionType, vm.StartedAt, vm.StateChange = "running", "headless", start, start
	vm.ExtraData = map[string]string{"vboxsim/GuestAdditions": "7.0.14 r161095"}
	putState(t, env, media, vm)
	old := nowFunc
	nowFunc = func() time.Time { return start.Add(90 * time.Second) }
	t.Cleanup(func() { nowFunc = old })
	return env
}

// TestGoldenMonitoring compares guestproperty enumerate, metrics query and
// debugvm statistics with the files written by -update, per version: 6.1
// prints "Name: ..., value: ..." lines, 7.x the sorted table.
func TestGoldenMonitoring(t *testing.T) {
	for _, v := range []string{"6.1", "7.0", "7.1"} {
		t.Run(v, func(t *testing.T) {
			env := statsVM(t, v)
			tag := strings.ReplaceAll(v, ".", "")
			out, _ := run(t, env, 0, "guestproperty", "enumerate", "web01")
			checkGolden(t, "guestproperty-enumerate-"+tag+".txt", out)
			run(t, env, 0, "metrics", "setup", "--period", "10", "--samples", "1", "*")
			out, _ = run(t, env, 0, "metrics", "query", "*", "CPU/Load,RAM/Usage,Guest/RAM/Usage,Net/Rate")
			// Set up just now: no value before a period has passed.
			if !strings.Contains(out, "web01           CPU/Load/User                            \n") {
				t.Errorf("values before the first period:\n%s", out)
			}
			old := nowFunc
			nowFunc = func() time.Time { return old().Add(15 * time.Second) }
			out, _ = run(t, env, 0, "metrics", "query", "*", "CPU/Load,RAM/Usage,Guest/RAM/Usage,Net/Rate")
			checkGolden(t, "metrics-query-"+tag+".txt", out)
			out, _ = run(t, env, 0, "debugvm", "web01", "statistics", "--pattern", "/Public/*|/TM/CPU/*")
			checkGolden(t, "debugvm-statistics-"+tag+".txt", out)
		})
	}
}

// TestMonitoringMoves checks that counters grow and the published
// addresses follow the guest: no Guest Additions, no GuestInfo.
func TestMonitoringMoves(t *testing.T) {
	env := statsVM(t, "7.0")
	read := func() string {
		out, _ := run(t, env, 0, "debugvm", "web01", "statistics", "--pattern", "/Public/NetAdapter/0/BytesReceived")
		return out
	}
	a := read()
	old := nowFunc
	nowFunc = func() time.Time { return old().Add(time.Minute) }
	b := read()
	if a == b || !strings.Contains(b, `name="/Public/NetAdapter/0/BytesReceived"`) {
		t.Errorf("counter did not grow:\n%s\n%s", a, b)
	}
	out, _ := run(t, env, 0, "guestproperty", "get", "web01", "/VirtualBox/GuestInfo/Net/0/V4/IP")
	if out != "Value: 10.0.2.15\n" {
		t.Errorf("NAT address: %q", out)
	}
	run(t, env, 0, "guestproperty", "set", "web01", "/VirtualBox/GuestInfo/OS/Hostname", "web01.example")
	out, _ = run(t, env, 0, "guestproperty", "enumerate", "web01", "--patterns", "*Hostname")
	if !strings.HasPrefix(out, "/VirtualBox/GuestInfo/OS/Hostname = 'web01.example'") {
		t.Errorf("seeded property: %q", out)
	}
	run(t, env, 0, "setextradata", "web01", "vboxsim/GuestAdditions")
	out, _ = run(t, env, 0, "guestproperty", "enumerate", "web01", "/VirtualBox/GuestInfo/Net/*")
	if out != "No properties found.\n" {
		t.Errorf("addresses without Guest Additions: %q", out)
	}
	run(t, env, 0, "controlvm", "web01", "poweroff")
	_, errOut := run(t, env, 1, "debugvm", "web01", "statistics")
	if errOut != "VBoxManage: error: Machine 'web01' is not currently running.\n" {
		t.Errorf("stopped VM: %q", errOut)
	}
}

// TestGuestPropertySyntax61 checks 6.1's classic usage for guestproperty
// errors (errorSyntax(USAGE_GUESTPROPERTY, ...)) and 7.x's.
func TestGuestPropertySyntax61(t *testing.T) {
	env := statsVM(t, "6.1")
	_, errOut := run(t, env, 2, "guestproperty", "get", "web01")
	if !strings.Contains(errOut, "Usage:\n\nVBoxManage guestproperty    get <uuid|vmname>\n") || !strings.HasSuffix(errOut, "Syntax error: Incorrect parameters\n") {
		t.Errorf("6.1:\n%s", errOut)
	}
	env = statsVM(t, "7.0")
	_, errOut = run(t, env, 2, "guestproperty", "enumerate")
	if !strings.HasPrefix(errOut, "VBoxManage: error: No VM name or UUID was specified\n") {
		t.Errorf("7.0:\n%s", errOut)
	}
}
