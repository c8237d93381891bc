package vboxsim

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Admin runs the simulator's own subcommands (argv[0] "vboxsim"):
//
//	vboxsim seed --count N [--running K] [--seed S]
//	vboxsim log [--count] [--command CMD]
//	vboxsim reset
//	vboxsim set-state <vm> <state>
func Admin(env Env, args []string, stdout, stderr io.Writer) int {
	switch args[0] {
	case "seed":
		opts, pos, msg := getopt(args[1:], spec("-n|--count=", "--running=", "--seed="))
		if msg != "" || len(pos) > 0 {
			fmt.Fprintf(stderr, "usage: vboxsim seed --count N [--running K] [--seed S]\n")
			return 2
		}
		count, running, seed := 10, 0, int64(1)
		for _, o := range opts {
			n, err := strconv.ParseInt(o.val, 10, 64)
			if err != nil || n < 0 {
				fmt.Fprintf(stderr, "vboxsim seed: %s: bad number %q\n", o.name, o.val)
				return 2
			}
			switch o.name {
			case "--count":
				count = int(n)
			case "--running":
				running = int(n)
			case "--seed":
				seed = n
			}
		}
		if err := Seed(env, count, running, seed); err != nil {
			fmt.Fprintf(stderr, "vboxsim seed: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "seeded %d VMs (%d running) in %s\n", count, min(running, count), env.Home)
		return 0
	case "log":
		opts, pos, msg := getopt(args[1:], spec("-c|--count", "--command="))
		if msg != "" || len(pos) > 0 {
			fmt.Fprintf(stderr, "usage: vboxsim log [--count] [--command CMD]\n")
			return 2
		}
		count, filter := false, ""
		for _, o := range opts {
			if o.name == "--count" {
				count = true
			} else {
				filter = o.val
			}
		}
		entries, err := ReadLog(env.Home)
		if err != nil {
			fmt.Fprintf(stderr, "vboxsim log: %v\n", err)
			return 1
		}
		n := 0
		for _, e := range entries {
			if filter != "" && commandName(e.Argv) != filter {
				continue
			}
			n++
			if !count {
				fmt.Fprintln(stdout, e.Line)
			}
		}
		if count {
			fmt.Fprintln(stdout, n)
		}
		return 0
	case "set-state":
		if len(args) != 3 {
			fmt.Fprintf(stderr, "usage: vboxsim set-state <vm> <poweroff|running|paused|saved|aborted|aborted-saved|gurumeditation|inaccessible>\n")
			return 2
		}
		if err := SetState(env, args[1], args[2]); err != nil {
			fmt.Fprintf(stderr, "vboxsim set-state: %v\n", err)
			return 1
		}
		return 0
	case "reset":
		if err := Reset(env); err != nil {
			fmt.Fprintf(stderr, "vboxsim reset: %v\n", err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stderr, "vboxsim: unknown admin command %q\n", args[0])
	return 2
}

// LogEntry is one parsed line of the invocation log.
type LogEntry struct {
	Line     string
	Time     time.Time
	PID      int
	Argv     []string
	Exit     int
	Duration time.Duration
}

// ReadLog parses the invocation log of a state directory (missing log: none).
func ReadLog(home string) ([]LogEntry, error) {
	f, err := os.Open(filepath.Join(home, "invocations.log"))
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	defer f.Close()
	var out []LogEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		e, ok := parseLogLine(line)
		if ok {
			out = append(out, e)
		}
	}
	return out, sc.Err()
}

func parseLogLine(line string) (LogEntry, bool) {
	e := LogEntry{Line: line}
	ts, rest, ok := strings.Cut(line, " pid=")
	if !ok {
		return e, false
	}
	e.Time, _ = time.Parse("2006-01-02T15:04:05.000000Z", ts)
	pid, rest, ok := strings.Cut(rest, " argv=")
	if !ok {
		return e, false
	}
	e.PID, _ = strconv.Atoi(pid)
	i := strings.LastIndex(rest, " exit=")
	if i < 0 {
		return e, false
	}
	if err := json.Unmarshal([]byte(rest[:i]), &e.Argv); err != nil {
		return e, false
	}
	code, dur, _ := strings.Cut(rest[i+len(" exit="):], " dur=")
	e.Exit, _ = strconv.Atoi(code)
	e.Duration, _ = time.ParseDuration(dur)
	return e, true
}

// SetState forces a VM into a state, for tests and demos of states that
// VBoxManage cannot produce on purpose (aborted, aborted-saved, guru meditation).
func SetState(env Env, ref, state string) error {
	switch state {
	case "poweroff", "running", "paused", "saved", "aborted", "gurumeditation", "inaccessible":
	case "aborted-saved":
		if env.Personality.Is61() {
			return fmt.Errorf("aborted-saved does not exist in VirtualBox 6.1")
		}
	default:
		return fmt.Errorf("unsupported state %q", state)
	}
	st, err := OpenStore(env.Home)
	if err != nil {
		return err
	}
	s := newSim(env, st, io.Discard, io.Discard, rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1)))
	if err := st.Lock(true); err != nil {
		return err
	}
	defer st.Unlock()
	vm, err := s.findVM(ref)
	if err != nil {
		return err
	}
	if vm == nil {
		return fmt.Errorf("no VM %q", ref)
	}
	reg, err := st.Registry()
	if err != nil {
		return err
	}
	for i := range reg.VMs {
		if reg.VMs[i].UUID == vm.UUID {
			reg.VMs[i].Inaccessible = state == "inaccessible"
			st.MarkRegistry()
		}
	}
	if state == "inaccessible" {
		return st.Commit()
	}
	now := time.Now()
	vm.State, vm.StateChange, vm.ACPIAt, vm.ReleaseAt = state, now, time.Time{}, time.Time{}
	vm.SessionType = ""
	if isOnline(state) {
		vm.SessionType = "headless"
	}
	if state == "saved" || state == "aborted-saved" {
		if vm.StateFile == "" {
			vm.StateFile = filepath.Join(vm.SnapFolder, now.UTC().Format("2006-01-02T15-04-05-000000000Z.sav"))
			os.MkdirAll(vm.SnapFolder, 0o755)
			os.WriteFile(vm.StateFile, []byte("vboxsim saved state\n"), 0o644)
		}
	} else if vm.StateFile != "" {
		os.Remove(vm.StateFile)
		vm.StateFile = ""
	}
	st.PutVM(vm)
	return st.Commit()
}

// Reset removes the whole simulated installation under env.Home (and the
// machine folder when it lives elsewhere).
func Reset(env Env) error {
	if env.Home == "" || env.Home == "/" {
		return fmt.Errorf("refusing to reset %q", env.Home)
	}
	if err := os.RemoveAll(env.Home); err != nil {
		return err
	}
	if !strings.HasPrefix(env.MachineFolder, env.Home+string(filepath.Separator)) && env.MachineFolder != "/" {
		// Only remove what the simulator created: folders holding .vbox files.
		entries, _ := os.ReadDir(env.MachineFolder)
		for _, e := range entries {
			if m, _ := filepath.Glob(filepath.Join(env.MachineFolder, e.Name(), "*.vbox")); len(m) > 0 {
				os.RemoveAll(filepath.Join(env.MachineFolder, e.Name()))
			}
		}
	}
	return nil
}

var seedNames = []string{
	"web%02d", "db-%02d", "Build Agent %d", "café-%02d", "数据库-%02d", "quote\"vm %d", "a=b %d", "back\\slash %d",
	"it's-%d", "ci runner #%d", "ünïcødé %d", "k8s-node-%02d", "win10 desktop %d", "semi;colon %d", "dollar$vm%d",
	"brace{%d}", "tab\tname %d", "  leading space %d", "Ubuntu 22.04 (%d)", "mail-%02d",
}

// Seed adds count VMs with varied, realistic configurations; the first
// `running` of them are running, and some of the rest are paused, saved or
// aborted. The same seed gives the same inventory.
func Seed(env Env, count, running int, seed int64) error {
	st, err := OpenStore(env.Home)
	if err != nil {
		return err
	}
	s := newSim(env, st, io.Discard, io.Discard, rand.New(rand.NewPCG(uint64(seed), 0x5eed)))
	if err := st.Lock(true); err != nil {
		return err
	}
	defer st.Unlock()
	reg, err := st.Registry()
	if err != nil {
		return err
	}
	if len(reg.HostOnlyIfs) == 0 {
		reg.HostOnlyIfs = append(reg.HostOnlyIfs,
			&HostOnlyIf{Name: "vboxnet0", GUID: "786f6276-656e-4074-8000-0a0027000000", IP: "192.168.56.1", Mask: "255.255.255.0", MAC: "0a:00:27:00:00:00", Status: "Up", DHCP: true},
			&HostOnlyIf{Name: "vboxnet1", GUID: "786f6276-656e-4174-8000-0a0027000001", IP: "192.168.57.1", Mask: "255.255.255.0", MAC: "0a:00:27:00:00:01", Status: "Down"})
	}
	if len(reg.NATNets) == 0 {
		reg.NATNets = append(reg.NATNets, &NATNetwork{Name: "NatNetwork", Network: "10.0.2.0/24", Enabled: true, DHCP: true, Prefix6: "fd17:625c:f037:2::/64"})
	}
	if len(reg.DHCPServers) == 0 {
		reg.DHCPServers = append(reg.DHCPServers, &DHCPServer{Network: hostOnlyNetPrefix + "vboxnet0", IP: "192.168.56.100",
			Mask: "255.255.255.0", Lower: "192.168.56.101", Upper: "192.168.56.254", Enabled: true})
		if d := natDHCPServer(reg.NATNets[0]); d != nil {
			reg.DHCPServers = append(reg.DHCPServers, d)
		}
	}
	isoDir := filepath.Join(env.Home, "iso")
	os.MkdirAll(isoDir, 0o755)
	var isos []*Medium
	for _, n := range []string{"ubuntu-22.04.4-live-server-amd64.iso", "debian-12.5.0-amd64-netinst.iso", "Win10_22H2_English_x64.iso"} {
		p := filepath.Join(isoDir, n)
		if m := s.findMedium(p); m != nil {
			isos = append(isos, m)
			continue
		}
		os.WriteFile(p, []byte("vboxsim ISO image\n"), 0o644)
		m, _ := s.openMedium(p, "dvd")
		m.SizeMB = 700 + int64(s.rng.IntN(4000))
		isos = append(isos, m)
	}
	base := len(reg.VMs)
	now := time.Now()
	for i := 0; i < count; i++ {
		n := base + i + 1
		name := fmt.Sprintf(seedNames[s.rng.IntN(len(seedNames))], n)
		if s.rng.IntN(3) > 0 {
			name = fmt.Sprintf("vm-%03d", n)
		}
		os_ := osTypes[s.rng.IntN(len(osTypes))]
		fname := sanitizeFileName(name)
		cfg := filepath.Join(env.MachineFolder, fname, fname+".vbox")
		if _, err := os.Stat(cfg); err == nil {
			name = fmt.Sprintf("%s (%d)", name, n)
			fname = sanitizeFileName(name)
			cfg = filepath.Join(env.MachineFolder, fname, fname+".vbox")
		}
		uuid := s.newUUID()
		vm := &VM{Name: name, UUID: uuid, Groups: []string{"/"}, CfgFile: cfg, HardwareUUID: uuid,
			HW: s.newHardware(os_, true), State: "poweroff", StateChange: now.Add(-time.Duration(s.rng.IntN(86400*30)) * time.Second),
			SnapFolder: filepath.Join(filepath.Dir(cfg), "Snapshots")}
		if s.rng.IntN(5) == 0 {
			vm.Groups = []string{[]string{"/prod", "/dev", "/ci"}[s.rng.IntN(3)]}
		}
		hw := &vm.HW
		hw.Memory = []int{512, 1024, 2048, 4096, 8192}[s.rng.IntN(5)]
		hw.CPUs = 1 + s.rng.IntN(8)
		hw.VRAM = []int{8, 16, 32, 128}[s.rng.IntN(4)]
		if s.rng.IntN(4) == 0 {
			hw.Firmware = "EFI"
		}
		if s.rng.IntN(6) == 0 {
			vm.Description = fmt.Sprintf("seeded VM %d\nowner: team-%d, \"critical\"", n, s.rng.IntN(9))
		}
		if err := os.MkdirAll(filepath.Dir(cfg), 0o755); err != nil {
			return err
		}
		// Storage: the classic "SATA Controller"/"IDE Controller" names or 7.x "SATA"/"IDE".
		sata, ide := "SATA", "IDE"
		if s.rng.IntN(2) == 0 {
			sata, ide = "SATA Controller", "IDE Controller"
		}
		hw.Controllers = []Controller{
			{Name: ide, Bus: "ide", Type: "PIIX4", PortCount: 2, Bootable: true, HostIO: true},
			{Name: sata, Bus: "sata", Type: "IntelAhci", PortCount: 1 + s.rng.IntN(4), Bootable: true},
		}
		hw.Attachments = nil
		disks := 1 + s.rng.IntN(2)
		if disks > hw.Controllers[1].PortCount {
			hw.Controllers[1].PortCount = disks
		}
		for d := 0; d < disks; d++ {
			p := filepath.Join(filepath.Dir(cfg), fmt.Sprintf("%s-disk%d.vdi", fname, d+1))
			size := int64([]int{8192, 10240, 20480, 51200}[s.rng.IntN(4)])
			writeImage(p, "VDI", size)
			m := &Medium{UUID: s.newUUID(), Kind: "hdd", Location: p, Format: "VDI", SizeMB: size, Type: "normal"}
			reg.Media = append(reg.Media, m)
			if d == 0 && s.rng.IntN(5) == 0 {
				// An older layout: the system disk on the IDE primary master.
				hw.Attachments = append(hw.Attachments, Attachment{Controller: ide, Port: 0, Device: 0, Type: "hdd", Medium: m.UUID})
				continue
			}
			hw.Attachments = append(hw.Attachments, Attachment{Controller: sata, Port: d, Type: "hdd", Medium: m.UUID, NonRotational: s.rng.IntN(2) == 0})
		}
		dvd := Attachment{Controller: ide, Port: 1, Device: 0, Type: "dvddrive"}
		if s.rng.IntN(2) == 0 {
			dvd.Medium = isos[s.rng.IntN(len(isos))].UUID
		}
		hw.Attachments = append(hw.Attachments, dvd)
		// NICs.
		if s.rng.IntN(3) == 0 {
			hw.NICs[0].Forwarding = []string{fmt.Sprintf("ssh,tcp,127.0.0.1,%d,,22", 2200+n)}
		}
		for k, nics := 1, 1+s.rng.IntN(3); k < nics; k++ { // 0-2 extra adapters
			nic := &hw.NICs[k]
			switch s.rng.IntN(4) {
			case 0:
				nic.Attach, nic.Bridge = "bridged", "eth0"
			case 1:
				nic.Attach, nic.HostOnly = "hostonly", "vboxnet0"
			case 2:
				nic.Attach, nic.IntNet = "intnet", "intnet"
			default:
				nic.Attach, nic.NATNetwork = "natnetwork", "NatNetwork"
			}
			nic.Type = []string{"82540EM", "virtio", "82545EM"}[s.rng.IntN(3)]
		}
		if s.rng.IntN(8) == 0 {
			hw.VRDE.Enabled, hw.VRDE.Ports = true, strconv.Itoa(5900+n)
		}
		// Snapshots.
		if s.rng.IntN(4) == 0 {
			var parent *Snapshot
			for k, snaps := 0, 1+s.rng.IntN(3); k < snaps; k++ { // a chain of 1-3
				sn := &Snapshot{Name: []string{"base", "provisioned", "before upgrade", "clean install"}[k%4], UUID: s.newUUID(),
					Taken: vm.StateChange.Add(time.Duration(k) * time.Hour), HW: cloneHardware(vm.HW)}
				if k == 1 {
					sn.Description = "after ansible run"
				}
				if parent == nil {
					vm.Snapshot = sn
				} else {
					parent.Children = append(parent.Children, sn)
				}
				parent = sn
				vm.CurrentSnap = sn.UUID
			}
		}
		switch {
		case i < running:
			vm.State, vm.SessionType, vm.StartedAt = "running", "headless", now
			vm.StateChange = now.Add(-time.Duration(s.rng.IntN(3600)) * time.Second)
		case i%13 == 5:
			vm.State, vm.SessionType = "paused", "headless"
		case i%7 == 3:
			vm.State = "saved"
			vm.StateFile = filepath.Join(vm.SnapFolder, vm.StateChange.UTC().Format("2006-01-02T15-04-05-000000000Z.sav"))
			os.MkdirAll(vm.SnapFolder, 0o755)
			os.WriteFile(vm.StateFile, []byte("vboxsim saved state\n"), 0o644)
		case i%11 == 7:
			vm.State = "aborted"
		}
		if err := writeVBoxFile(vm); err != nil {
			return err
		}
		reg.VMs = append(reg.VMs, RegEntry{UUID: uuid, Name: name, State: vm.State})
		st.PutVM(vm)
	}
	st.MarkRegistry()
	return st.Commit()
}
