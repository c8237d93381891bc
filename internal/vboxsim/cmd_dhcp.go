package vboxsim

import (
	"fmt"
	"hash/fnv"
	"net"
	"strings"
	"time"
)

// DHCPServer is one of VirtualBox's DHCP servers, keyed by its network name:
// "HostInterfaceNetworking-<if>" for a host-only interface, the NAT
// network's name for a NAT network.
type DHCPServer struct {
	Network string     `json:"network"`
	IP      string     `json:"ip"`
	Mask    string     `json:"mask"`
	Lower   string     `json:"lower"`
	Upper   string     `json:"upper"`
	Enabled bool       `json:"enabled"`
	Hosts   []DHCPHost `json:"hosts,omitempty"` // individual configurations (MAC scope)
}

// DHCPHost is an individual configuration of MAC scope.
type DHCPHost struct {
	MAC   string `json:"mac"`
	Fixed string `json:"fixed,omitempty"` // "" prints "dynamic"
}

// hostOnlyNetPrefix names a host-only interface's internal network.
const hostOnlyNetPrefix = "HostInterfaceNetworking-"

func (reg *Registry) dhcpServer(network string) (int, *DHCPServer) {
	for i, d := range reg.DHCPServers {
		if d.Network == network {
			return i, d
		}
	}
	return -1, nil
}

// cmdDHCPServer is `dhcpserver add|modify|remove|start|restart|stop|findlease`
// as 6.1's VBoxManageDHCPServer.cpp has it (7.x is the same): the server is
// named by --network (--netname) or --interface (--ifname); add and modify
// take --server-ip (--ip), --netmask, --lower-ip (--lowerip), --upper-ip
// (--upperip), --enable/--disable, and, after --mac-address, the individual
// configuration's --fixed-address or --remove-config. Its errors are the
// new-style ones in every version (reference §0).
func (s *Sim) cmdDHCPServer(args []string) int {
	argErr := 2
	if s.p.Is61() {
		argErr = 1
	}
	var network, iface string
	common := func(o opt) (bool, int) {
		switch o.name {
		case "--network":
			if iface != "" {
				return true, s.syntaxError("dhcpserver", "Either --network or --interface, not both", 2)
			}
			network = o.val
		case "--interface":
			if network != "" {
				return true, s.syntaxError("dhcpserver", "Either --interface or --network, not both", 2)
			}
			iface = o.val
		default:
			return false, -1
		}
		return true, -1
	}
	// Common options may come before the sub-command.
	i := 0
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		n := 1
		if !strings.ContainsAny(args[i], "=:") {
			n = 2
		}
		opts, _, msg := getopt(args[i:min(i+n, len(args))], spec("--netname|--network=", "--ifname|--interface="))
		if msg != "" {
			return s.syntaxError("dhcpserver", msg, 2)
		}
		if len(opts) == 0 { // an option getopt took as a positional argument
			return s.syntaxError("dhcpserver", fmt.Sprintf("Invalid parameter '%s'", args[i]), 2)
		}
		if _, rc := common(opts[0]); rc >= 0 {
			return rc
		}
		i += n
	}
	if i >= len(args) {
		return s.syntaxError("dhcpserver", "Missing subcommand", 2)
	}
	sub, rest := args[i], args[i+1:]
	sp := spec("--netname|--network=", "--ifname|--interface=")
	switch sub {
	case "add", "modify":
		sp = spec("--netname|--network=", "--ifname|--interface=", "--ip|--server-ip=", "--netmask=", "--lowerip|--lower-ip=",
			"--upperip|--upper-ip=", "--enable", "--disable", "--global", "--mac-address=", "--fixed-address=", "--remove-config")
	case "findlease":
		sp = spec("--netname|--network=", "--ifname|--interface=", "--mac-address=")
	case "remove", "start", "restart", "stop":
	default:
		return s.syntaxError("dhcpserver", fmt.Sprintf("Unknown subcommand: %s", sub), 2)
	}
	opts, pos, msg := getopt(rest, sp)
	if msg != "" {
		return s.getoptError("dhcpserver", msg, 2)
	}
	if len(pos) > 0 {
		return s.syntaxError("dhcpserver", fmt.Sprintf("Invalid parameter '%s'", pos[0]), 2)
	}
	for _, o := range opts {
		if _, rc := common(o); rc >= 0 {
			return rc
		}
	}
	if network == "" && iface == "" {
		return s.syntaxError("dhcpserver", "You need to specify either --network or --interface to identify the DHCP server", 2)
	}
	var ip, mask, lower, upper string
	enable := -1
	scoped := false
	for _, o := range opts {
		switch o.name {
		case "--server-ip":
			ip = o.val
		case "--netmask":
			mask = o.val
		case "--lower-ip":
			lower = o.val
		case "--upper-ip":
			upper = o.val
		case "--enable":
			enable = 1
		case "--disable":
			enable = 0
		case "--mac-address":
			if _, err := net.ParseMAC(o.val); err != nil {
				return s.syntaxError("dhcpserver", fmt.Sprintf("Invalid MAC address '%s'", o.val), 2)
			}
			scoped = true
		case "--global":
			scoped = false
		case "--fixed-address":
			if !scoped {
				return s.syntaxError("dhcpserver", "--fixed-address can only be applied to a VM NIC or an MAC address", 2)
			}
		case "--remove-config":
			if sub == "add" {
				return s.syntaxError("dhcpserver", "--remove-config does not apply to the 'add' subcommand", 2)
			}
			if !scoped {
				return s.syntaxError("dhcpserver", "--remove-config cannot be applied to the global config", 2)
			}
			scoped = false
		}
	}
	if sub == "findlease" && !hasOpt(opts, "--mac-address") {
		return s.syntaxError("dhcpserver", "You need to specify a MAC address too look for", 2)
	}
	if sub == "add" {
		for _, m := range []struct{ v, name string }{{ip, "--ip"}, {mask, "--netmask"}, {lower, "--lowerip"}, {upper, "--upperip"}} {
			if m.v == "" {
				return s.syntaxError("dhcpserver", "Missing required option: "+m.name, 2)
			}
		}
	}
	write := sub == "add" || sub == "modify" || sub == "remove"
	reg, err := s.lockRegistry(write)
	if err != nil {
		return s.internalError(err)
	}
	if network == "" {
		found := false
		for _, h := range reg.HostOnlyIfs {
			if h.Name == iface {
				found = true
			}
		}
		if !found {
			s.api(apiError{Msg: fmt.Sprintf("The host network interface named '%s' could not be found", iface), Code: "VBOX_E_OBJECT_NOT_FOUND",
				Component: "HostWrap", Interface: "IHost", Context: "FindHostNetworkInterfaceByName(Bstr(pCtx->pszInterface).mutableRaw(), hif.asOutParam())",
				Line: 590, File: "VBoxManageDHCPServer.cpp"})
			fmt.Fprintf(s.stderr, "VBoxManage: error: Could not find interface '%s'\n", iface)
			return argErr
		}
		network = hostOnlyNetPrefix + iface
	}
	idx, d := reg.dhcpServer(network)
	switch {
	case sub == "add" && d != nil:
		return s.failCode(argErr, "DHCP server already exists")
	case sub != "add" && d == nil:
		return s.failCode(argErr, "DHCP server does not exist")
	}
	switch sub {
	case "start", "restart", "stop":
		return 0
	case "findlease":
		var mac string
		for _, o := range opts {
			if o.name == "--mac-address" {
				hw, err := net.ParseMAC(o.val)
				if err != nil {
					return s.syntaxError("dhcpserver", fmt.Sprintf("Invalid MAC address '%s'", o.val), 2)
				}
				mac = hw.String()
			}
		}
		if l := s.findLease(reg, d, mac); l != nil {
			fmt.Fprintf(s.stdout, "IP Address:  %s\nMAC Address: %s\nState:       %s\nIssued:      %s (%d)\nExpire:      %s (%d)\nTTL:         %d sec, currently %d sec left\n",
				l.ip, mac, "acked", rtTime(l.issued), l.issued.Unix(), rtTime(l.expire), l.expire.Unix(),
				int64(l.expire.Sub(l.issued)/time.Second), max(int64(time.Until(l.expire)/time.Second), 0))
			return 0
		}
		return s.api(apiError{Msg: "Could not find a lease for the given MAC address", Code: "VBOX_E_OBJECT_NOT_FOUND",
			Component: "DHCPServerWrap", Interface: "IDHCPServer",
			Context: "FindLeaseByMAC(Bstr(szMac).raw(), 0 , bstrAddress.asOutParam(), bstrState.asOutParam(), &secIssued, &secExpire)",
			Line:    1190, File: "VBoxManageDHCPServer.cpp"})
	case "remove":
		reg.DHCPServers = append(reg.DHCPServers[:idx], reg.DHCPServers[idx+1:]...)
	case "add", "modify":
		if d == nil {
			d = &DHCPServer{Network: network}
		}
		if ip != "" || mask != "" || lower != "" || upper != "" {
			n := *d
			for _, f := range []struct {
				v   string
				dst *string
			}{{ip, &n.IP}, {mask, &n.Mask}, {lower, &n.Lower}, {upper, &n.Upper}} {
				if f.v != "" {
					*f.dst = f.v
				}
			}
			for _, a := range []string{n.IP, n.Mask, n.Lower, n.Upper} {
				if p := net.ParseIP(a); p == nil || p.To4() == nil {
					s.api(apiError{Msg: fmt.Sprintf("Invalid IPv4 address '%s'", a), Code: "E_INVALIDARG",
						Component: "DHCPServerWrap", Interface: "IDHCPServer",
						Context: "SetConfiguration(bstrServerIp.raw(), bstrNetmask.raw(), bstrLowerIp.raw(), bstrUpperIp.raw())",
						Line:    880, File: "VBoxManageDHCPServer.cpp"})
					return s.failCode(argErr, "Failed to set configuration (%s, %s, %s, %s)", n.IP, n.Mask, n.Lower, n.Upper)
				}
			}
			d.IP, d.Mask, d.Lower, d.Upper = n.IP, n.Mask, n.Lower, n.Upper
		}
		if enable >= 0 {
			d.Enabled = enable == 1
		}
		mac := ""
		for _, o := range opts {
			switch o.name {
			case "--mac-address":
				hw, _ := net.ParseMAC(o.val)
				mac = hw.String()
				if d.host(mac) < 0 {
					d.Hosts = append(d.Hosts, DHCPHost{MAC: mac})
				}
			case "--global":
				mac = ""
			case "--fixed-address":
				d.Hosts[d.host(mac)].Fixed = o.val
			case "--remove-config":
				if k := d.host(mac); k >= 0 {
					d.Hosts = append(d.Hosts[:k], d.Hosts[k+1:]...)
				}
				mac = ""
			}
		}
		if sub == "add" {
			reg.DHCPServers = append(reg.DHCPServers, d)
		}
	}
	s.st.MarkRegistry()
	if err := s.st.Commit(); err != nil {
		return s.internalError(err)
	}
	return 0
}

func (d *DHCPServer) host(mac string) int {
	for i, h := range d.Hosts {
		if h.MAC == mac {
			return i
		}
	}
	return -1
}

func hasOpt(opts []opt, name string) bool {
	for _, o := range opts {
		if o.name == name {
			return true
		}
	}
	return false
}

// failCode prints one error line and returns code.
func (s *Sim) failCode(code int, format string, args ...any) int {
	s.fail(format, args...)
	return code
}

// listDHCPServers prints `list dhcpservers` as listDhcpServers in
// VBoxManageList.cpp (6.1 and 7.x): a blank line between servers (none
// after the last), the global configuration with its one option (the
// netmask, option 1), no groups, and the individual MAC configurations.
func (s *Sim) listDHCPServers(reg *Registry) {
	w := s.stdout
	for i, d := range reg.DHCPServers {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "NetworkName:    %s\nDhcpd IP:       %s\nLowerIPAddress: %s\nUpperIPAddress: %s\nNetworkMask:    %s\nEnabled:        %s\n",
			d.Network, d.IP, d.Lower, d.Upper, d.Mask, yesNo(d.Enabled))
		fmt.Fprint(w, "Global Configuration:\n")
		dhcpConfig(w, d.Mask)
		fmt.Fprint(w, "Groups:               None\n")
		if len(d.Hosts) == 0 {
			fmt.Fprint(w, "Individual Configs:   None\n")
			continue
		}
		for _, h := range d.Hosts {
			fmt.Fprintf(w, "Individual Config:    MAC %s\n", h.MAC)
			fixed := h.Fixed
			if fixed == "" {
				fixed = "dynamic"
			}
			fmt.Fprintf(w, "    Fixed Address:    %s\n", fixed)
			dhcpConfig(w, "")
		}
	}
}

// dhcpConfig is showDhcpConfig: lease times, forced and suppressed options,
// then the options (a global configuration carries the netmask as option 1).
func dhcpConfig(w interface{ Write([]byte) (int, error) }, mask string) {
	fmt.Fprint(w, "    minLeaseTime:     default\n    defaultLeaseTime: default\n    maxLeaseTime:     default\n    Forced options:   None\n    Suppressed opts.: None\n")
	if mask != "" {
		fmt.Fprintf(w, "      %3d/legacy: %s\n", 1, mask)
	} else {
		fmt.Fprint(w, "    DHCP options:     None\n")
	}
}

// natDHCPServer returns the DHCP server a NAT network with DHCP on gets when
// it starts (NATNetwork::start in NATNetworkImpl.cpp creates it if missing):
// the server at the network's .3, leases from .4 to .254 of a /24 (the
// simulator computes the range for any prefix).
func natDHCPServer(n *NATNetwork) *DHCPServer {
	ip, ipnet, err := net.ParseCIDR(n.Network)
	if err != nil || ip.To4() == nil {
		return nil
	}
	base := ipnet.IP.To4()
	at := func(k uint32) string {
		v := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
		v += k
		return net.IPv4(byte(v>>24), byte(v>>16), byte(v>>8), byte(v)).String()
	}
	ones, bits := ipnet.Mask.Size()
	size := uint32(1) << uint(bits-ones)
	return &DHCPServer{Network: n.Name, IP: at(3), Mask: net.IP(ipnet.Mask).String(), Lower: at(4), Upper: at(size - 2), Enabled: true}
}

// simLeaseTime is the simulated DHCP servers' lease time.
const simLeaseTime = 10 * time.Minute

type simLease struct {
	ip             string
	issued, expire time.Time
}

// findLease is the simulated guest's DHCP exchange: a machine that is
// running (or paused) with an adapter of that MAC on the server's network
// holds a lease while the server is enabled: its fixed address, else an
// address of the range chosen by the MAC. The lease was issued when the
// machine started and is renewed every lease time.
func (s *Sim) findLease(reg *Registry, d *DHCPServer, mac string) *simLease {
	if !d.Enabled || mac == "" {
		return nil
	}
	for _, e := range reg.VMs {
		if !isOnline(e.State) {
			continue
		}
		vm, err := s.loadVM(e.UUID)
		if err != nil {
			continue
		}
		for _, n := range vm.HW.NICs {
			hw, err := net.ParseMAC(macColons(n.MAC))
			if err != nil || hw.String() != mac {
				continue
			}
			on := (n.Attach == "hostonly" && hostOnlyNetPrefix+n.HostOnly == d.Network) ||
				(n.Attach == "natnetwork" && n.NATNetwork == d.Network)
			if !on {
				continue
			}
			ip := ""
			if k := d.host(mac); k >= 0 {
				ip = d.Hosts[k].Fixed
			}
			if ip == "" {
				lo, hi := net.ParseIP(d.Lower).To4(), net.ParseIP(d.Upper).To4()
				if lo == nil || hi == nil {
					return nil
				}
				a := uint32(lo[0])<<24 | uint32(lo[1])<<16 | uint32(lo[2])<<8 | uint32(lo[3])
				b := uint32(hi[0])<<24 | uint32(hi[1])<<16 | uint32(hi[2])<<8 | uint32(hi[3])
				if b < a {
					return nil
				}
				h := fnv.New32a()
				h.Write([]byte(mac))
				v := a + h.Sum32()%(b-a+1)
				ip = net.IPv4(byte(v>>24), byte(v>>16), byte(v>>8), byte(v)).String()
			}
			issued := vm.StateChange
			if issued.IsZero() {
				issued = time.Now()
			}
			if time.Since(issued) >= simLeaseTime {
				issued = issued.Add(time.Since(issued) / simLeaseTime * simLeaseTime)
			}
			return &simLease{ip: ip, issued: issued.Truncate(time.Second), expire: issued.Truncate(time.Second).Add(simLeaseTime)}
		}
	}
	return nil
}

// macColons writes VirtualBox's 12-digit MAC (080027AABBCC) with colons.
func macColons(m string) string {
	if len(m) != 12 || strings.Contains(m, ":") {
		return m
	}
	var b strings.Builder
	for i := 0; i < 12; i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(m[i : i+2])
	}
	return b.String()
}

// rtTime is IPRT's RTTimeToStringEx with no fraction digits requested
// (UTC, nanoseconds printed as nine digits, trailing Z).
func rtTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000000Z")
}
