package vboxsim

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"time"
)

func (s *Sim) cmdList(args []string) int {
	opts, pos, msg := getopt(args, spec("-l|--long", "-s|--sorted", "-m|--multiple"))
	if msg != "" {
		return s.getoptError("list", msg, 2)
	}
	long, sorted, multiple := false, false, false
	for _, o := range opts {
		switch o.name {
		case "--long":
			long = true
		case "--sorted":
			sorted = true
		case "--multiple":
			multiple = true
		}
	}
	if len(pos) == 0 {
		return s.syntaxError("list", `Missing subcommand for "list" command.`, 2)
	}
	if len(pos) > 1 && !multiple {
		return s.syntaxError("list", fmt.Sprintf("Invalid parameter '%s'", pos[1]), 2)
	}
	reg, err := s.lockRegistry(false)
	if err != nil {
		return s.internalError(err)
	}
	if !multiple {
		return s.produceList(reg, pos[0], long, sorted)
	}
	// --multiple ("not official yet" in VBoxManageList.cpp, present since
	// 4.x): options and list types are taken in order; each type prints a
	// "[type]" header (a blank line before all but the first) and its list
	// with the options seen so far, so `list --multiple vms --long vms`
	// prints the compact list and then the long one in one process.
	long, sorted = false, false
	first := true
	for _, a := range args {
		switch a {
		case "-l", "--long":
			long = true
			continue
		case "-s", "--sorted":
			sorted = true
			continue
		case "-m", "--multiple":
			continue
		}
		if !first {
			fmt.Fprintln(s.stdout)
		}
		first = false
		fmt.Fprintf(s.stdout, "[%s]\n", a)
		if rc := s.produceList(reg, a, long, sorted); rc != 0 {
			return rc
		}
	}
	return 0
}

// produceList prints one list type, as produceList in VBoxManageList.cpp.
func (s *Sim) produceList(reg *Registry, kind string, long, sorted bool) int {
	pos := []string{kind}
	switch pos[0] {
	case "vms", "runningvms":
		var vms []*VM
		for _, e := range reg.VMs {
			if pos[0] == "runningvms" && !isOnline(e.State) {
				continue
			}
			if e.Inaccessible {
				vms = append(vms, &VM{Name: "<inaccessible>", UUID: e.UUID, State: "inaccessible"})
				continue
			}
			if !long && pos[0] == "vms" {
				// The registry's copy of the name is enough; no VM file is read.
				vms = append(vms, &VM{Name: e.Name, UUID: e.UUID})
				continue
			}
			vm, err := s.loadVM(e.UUID)
			if err != nil {
				return s.internalError(err)
			}
			if pos[0] == "runningvms" && !isOnline(vm.State) {
				continue
			}
			vms = append(vms, vm)
		}
		if sorted {
			sort.SliceStable(vms, func(i, j int) bool { return strings.ToLower(vms[i].Name) < strings.ToLower(vms[j].Name) })
		}
		for _, vm := range vms {
			// Each long block ends with its own blank line; nothing is
			// printed between blocks (showVMInfo with VMINFO_STANDARD and
			// no session, so no console sections).
			if long {
				if vm.State == "inaccessible" {
					full, err := s.st.VM(vm.UUID)
					if err != nil {
						full = vm
					}
					fmt.Fprint(s.stdout, s.inaccessibleHuman(full))
					continue
				}
				fmt.Fprint(s.stdout, s.humanInfo(vm, false))
			} else {
				fmt.Fprintf(s.stdout, "\"%s\" {%s}\n", vm.Name, vm.UUID)
			}
		}
	case "ostypes":
		for _, o := range osTypes {
			fmt.Fprintf(s.stdout, "ID:          %s\nDescription: %s\nFamily ID:   %s\nFamily Desc: %s\n64 bit:      %t\n",
				o.ID, o.Description, o.FamilyID, o.FamilyDesc, o.Is64)
			if s.p.Is71() {
				fmt.Fprintf(s.stdout, "Architecture: x86\n")
			}
			fmt.Fprintln(s.stdout)
		}
	case "hostinfo":
		s.listHostInfo()
	case "systemproperties":
		s.listSystemProperties()
	case "hdds", "dvds", "floppies":
		kind := map[string]string{"hdds": "hdd", "dvds": "dvd", "floppies": "floppy"}[pos[0]]
		var walk func(parent string)
		walk = func(parent string) {
			for _, m := range reg.Media {
				if m.Kind == kind && m.Parent == parent {
					fmt.Fprint(s.stdout, s.mediumInfo(m, long))
					fmt.Fprintln(s.stdout)
					if kind == "hdd" {
						walk(m.UUID)
					}
				}
			}
		}
		walk("")
	case "hostonlyifs":
		for _, h := range reg.HostOnlyIfs {
			s.printHostIf(h.Name, h.GUID, h.DHCP, h.IP, h.Mask, h.IPv6, h.IPv6Len, h.MAC, h.Status, "HostInterfaceNetworking-"+h.Name)
		}
	case "bridgedifs":
		for i, name := range bridgedIfs() {
			s.printHostIf(name, fmt.Sprintf("%08x-0000-4000-8000-%012x", 0x65746830+i, 0x080027000100+i), true,
				fmt.Sprintf("192.168.%d.10", 1+i), "255.255.255.0", "", 0, fmt.Sprintf("52:54:00:12:34:%02x", 0x56+i), "Up",
				"HostInterfaceNetworking-"+name)
		}
	case "natnets":
		s.listNATNets(reg.NATNets, long)
	case "dhcpservers":
		s.listDHCPServers(reg)
	case "intnets":
		seen := map[string]bool{}
		for _, e := range reg.VMs {
			vm, err := s.loadVM(e.UUID)
			if err != nil {
				continue
			}
			for _, n := range vm.HW.NICs {
				if n.Attach == "intnet" && !seen[n.IntNet] {
					seen[n.IntNet] = true
					fmt.Fprintf(s.stdout, "Name:        %s\n", n.IntNet)
				}
			}
		}
	case "groups":
		seen := map[string]bool{}
		for _, e := range reg.VMs {
			vm, err := s.loadVM(e.UUID)
			if err != nil {
				continue
			}
			for _, g := range vm.Groups {
				if !seen[g] {
					seen[g] = true
					fmt.Fprintf(s.stdout, "\"%s\"\n", g)
				}
			}
		}
	case "extpacks":
		fmt.Fprintln(s.stdout, "Extension Packs: 0")
	case "usbhost":
		fmt.Fprint(s.stdout, "Host USB Devices:\n\n<none>\n\n")
	case "hostdvds", "hostfloppies", "usbfilters", "webcams", "hostonlynets", "cloudnets", "screenshotformats", "hddbackends", "hostcpuids", "hostdrives":
		// Empty on this simulated host.
	default:
		return s.syntaxError("list", fmt.Sprintf("Unknown subcommand \"%s\".", pos[0]), 2)
	}
	return 0
}

func bridgedIfs() []string {
	if v := os.Getenv("VBOXSIM_BRIDGED_IFS"); v != "" {
		return strings.Split(v, ",")
	}
	return []string{"eth0", "wlan0"}
}

func (s *Sim) printHostIf(name, guid string, dhcp bool, ip, mask, ip6 string, ip6len int, mac, status, netname string) {
	w := s.stdout
	fmt.Fprintf(w, "Name:            %s\nGUID:            %s\nDHCP:            %s\nIPAddress:       %s\nNetworkMask:     %s\n",
		name, guid, map[bool]string{true: "Enabled", false: "Disabled"}[dhcp], ip, mask)
	// An empty IPv6 address prints a bare label (go-virtualbox testdata, verbatim).
	fmt.Fprintln(w, strings.TrimRight("IPV6Address:     "+ip6, " "))
	fmt.Fprintf(w, "IPV6NetworkMaskPrefixLength: %d\nHardwareAddress: %s\nMediumType:      Ethernet\n", ip6len, mac)
	fmt.Fprintf(w, "Wireless:        %s\nStatus:          %s\nVBoxNetworkName: %s\n\n",
		yesNo(strings.HasPrefix(name, "wl")), status, netname)
}

func (s *Sim) listNATNets(nets []*NATNetwork, long bool) {
	for _, n := range nets {
		gw := natGateway(n.Network)
		if s.p.Is61() {
			fmt.Fprintf(s.stdout, "NetworkName:    %s\nIP:             %s\nNetwork:        %s\nIPv6 Enabled:   %s\nIPv6 Prefix:    %s\nDHCP Enabled:   %s\nEnabled:        %s\n",
				n.Name, gw, n.Network, yesNo(n.IPv6), n.Prefix6, yesNo(n.DHCP), yesNo(n.Enabled))
			s.listNATRules(n)
			fmt.Fprintln(s.stdout)
			continue
		}
		fmt.Fprintf(s.stdout, "Name:         %s\n", n.Name)
		if long {
			fmt.Fprintf(s.stdout, "Enabled:      %s\n", yesNo(n.Enabled))
		}
		fmt.Fprintf(s.stdout, "Network:      %s\nGateway:      %s\nDHCP Server:  %s\nIPv6:         %s\nIPv6 Prefix:  %s\nIPv6 Default: No\n",
			n.Network, gw, yesNo(n.DHCP), yesNo(n.IPv6), n.Prefix6)
		if long {
			s.listNATRules(n)
		}
		fmt.Fprintln(s.stdout)
	}
}

// listNATRules prints a NAT network's IPv4 port-forwarding rules and loopback
// mapping (6.1 always, 7.x with --long).
func (s *Sim) listNATRules(n *NATNetwork) {
	if len(n.Forwards) > 0 {
		fmt.Fprintln(s.stdout, "Port-forwarding (ipv4)")
		for _, r := range n.Forwards {
			fmt.Fprintf(s.stdout, "        %s\n", natRule61(r))
		}
	}
	fmt.Fprintln(s.stdout, "loopback mappings (ipv4)")
	fmt.Fprintln(s.stdout, "        127.0.0.1=2")
}

// natRule61 renders "name:tcp:[hostip]:hostport:[guestip]:guestport".
func natRule61(r string) string {
	f := strings.Split(r, ":")
	if len(f) == 6 {
		return fmt.Sprintf("%s:%s:[%s]:%s:[%s]:%s", f[0], f[1], strings.Trim(f[2], "[]"), f[3], strings.Trim(f[4], "[]"), f[5])
	}
	return r
}

func natGateway(cidr string) string {
	ip, _, _ := strings.Cut(cidr, "/")
	parts := strings.Split(ip, ".")
	if len(parts) == 4 {
		parts[3] = "1"
	}
	return strings.Join(parts, ".")
}

func (s *Sim) listHostInfo() {
	w := s.stdout
	n := runtime.NumCPU()
	fmt.Fprintf(w, "Host Information:\n\nHost time: %sZ\n", vboxTime(time.Now()))
	fmt.Fprintf(w, "Processor online count: %d\nProcessor count: %d\nProcessor online core count: %d\nProcessor core count: %d\n", n, n, (n+1)/2, (n+1)/2)
	fmt.Fprint(w, "Processor supports HW virtualization: yes\nProcessor supports PAE: yes\nProcessor supports long mode: yes\nProcessor supports nested paging: yes\n")
	if !s.p.Is61() {
		fmt.Fprint(w, "Processor supports unrestricted guest: yes\nProcessor supports nested HW virtualization: yes\nProcessor supports virt. vmsave/vmload: yes\n")
	}
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, "Processor#%d speed: 3600 MHz\nProcessor#%d description: Intel(R) Core(TM) i7-7700 CPU @ 3.60GHz\n", i, i)
	}
	total, avail := memInfoMB()
	fmt.Fprintf(w, "Memory size: %d MByte\nMemory available: %d MByte\nOperating system: Linux\nOperating system version: %s\n", total, avail, kernelRelease())
}

func memInfoMB() (total, avail int) {
	total, avail = 32014, 20113
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var kb int
		if n, _ := fmt.Sscanf(sc.Text(), "MemTotal: %d kB", &kb); n == 1 {
			total = kb / 1024
		}
		if n, _ := fmt.Sscanf(sc.Text(), "MemAvailable: %d kB", &kb); n == 1 {
			avail = kb / 1024
		}
	}
	return
}

func kernelRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "5.15.0-105-generic"
	}
	return strings.TrimSpace(string(b))
}

func (s *Sim) listSystemProperties() {
	p := s.p
	rows := [][2]string{
		{"API version", p.APIVersion()},
		{"Minimum guest RAM size", "4 Megabytes"},
		{"Maximum guest RAM size", "2097152 Megabytes"},
		{"Minimum video RAM size", "0 Megabytes"},
		{"Maximum video RAM size", "256 Megabytes"},
		{"Maximum guest monitor count", "64"},
		{"Minimum guest CPU count", "1"},
		{"Maximum guest CPU count", "64"},
		{"Virtual disk limit (info)", "2199022206976 Bytes"},
		{"Maximum Serial Port count", "4"},
		{"Maximum Parallel Port count", "2"},
		{"Maximum Boot Position", "4"},
		{"Maximum PIIX3 Network Adapter count", "8"},
		{"Maximum ICH9 Network Adapter count", "36"},
		{"Maximum PIIX3 IDE Controllers", "1"},
		{"Maximum ICH9 IDE Controllers", "1"},
		{"Maximum IDE Port count", "2"},
		{"Maximum Devices per IDE Port", "2"},
		{"Maximum PIIX3 SATA Controllers", "1"},
		{"Maximum ICH9 SATA Controllers", "8"},
		{"Maximum SATA Port count", "30"},
		{"Maximum Devices per SATA Port", "1"},
		{"Maximum PIIX3 SCSI Controllers", "1"},
		{"Maximum ICH9 SCSI Controllers", "8"},
		{"Maximum SCSI Port count", "16"},
		{"Maximum Devices per SCSI Port", "1"},
		{"Maximum SAS PIIX3 Controllers", "1"},
		{"Maximum SAS ICH9 Controllers", "8"},
		{"Maximum SAS Port count", "255"},
		{"Maximum Devices per SAS Port", "1"},
		{"Maximum NVMe PIIX3 Controllers", "1"},
		{"Maximum NVMe ICH9 Controllers", "8"},
		{"Maximum NVMe Port count", "255"},
		{"Maximum Devices per NVMe Port", "1"},
		{"Maximum virtio-scsi PIIX3 Controllers", "1"},
		{"Maximum virtio-scsi ICH9 Controllers", "8"},
		{"Maximum virtio-scsi Port count", "256"},
		{"Maximum Devices per virtio-scsi Port", "1"},
		{"Maximum PIIX3 Floppy Controllers", "1"},
		{"Maximum ICH9 Floppy Controllers", "1"},
		{"Maximum Floppy Port count", "1"},
		{"Maximum Devices per Floppy Port", "2"},
		{"Default machine folder", s.env.MachineFolder},
		{"Raw-mode Supported", "no"},
		{"Exclusive HW virtualization use", "on"},
		{"Default hard disk format", "VDI"},
		{"VRDE auth library", "VBoxAuth"},
		{"Webservice auth. library", "VBoxAuth"},
		{"Remote desktop ExtPack", ""},
	}
	if !p.Is61() {
		rows = append(rows, [2]string{"VM encryption ExtPack", ""})
	}
	rows = append(rows,
		[2]string{"Log history count", "3"},
		[2]string{"Default frontend", ""},
		[2]string{"Default audio driver", map[bool]string{true: "PulseAudio", false: "ALSA"}[p.Is61()]},
		[2]string{"Autostart database path", ""},
		[2]string{"Default Guest Additions ISO", "/usr/share/virtualbox/VBoxGuestAdditions.iso"},
		[2]string{"Logging Level", "all"},
	)
	if !p.Is61() {
		rows = append(rows, [2]string{"Proxy Mode", "System"}, [2]string{"Proxy URL", ""}, [2]string{"User language", "en_US"})
	}
	for _, r := range rows {
		fmt.Fprintln(s.stdout, strings.TrimRight(fmt.Sprintf("%-32s %s", r[0]+":", r[1]), " "))
	}
}
