// Package netxml maps VirtualBox's host-only interfaces (with their DHCP
// servers) and NAT networks to libvirt network XML and back, through
// libvirt.org/go/libvirtxml. It is pure: no processes, no state. See
// docs/networks.md for the rules.
package netxml

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"regexp"
	"sort"
	"strings"

	"libvirt.org/go/libvirtxml"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// Kind says what a network is in VirtualBox.
type Kind int

// The kinds of network.
const (
	HostOnly Kind = iota // a host-only interface (vboxnetN), isolated
	NAT                  // a NAT network, <forward mode='nat'/>
)

// Net is one network as VirtualBox has it.
type Net struct {
	Kind Kind
	Name string
	UUID string
	// Bridge is the host-only interface's name, or the NAT network's name
	// (its internal network carries it).
	Bridge string
	MAC    string // host-only: the interface's hardware address
	// Addr and Mask: the host-only interface's address, or the NAT
	// network's gateway (its first address); Mask a dotted netmask.
	Addr, Mask string
	DHCP       *DHCP // nil: no DHCP server
}

// DHCP is a DHCP server's configuration.
type DHCP struct {
	ServerIP     string // VirtualBox's own server address (not in libvirt's XML)
	Lower, Upper string
	Hosts        []Host
}

// Host is a fixed address by MAC (a DHCP individual configuration).
type Host struct {
	MAC string // lower case, colon separated
	IP  string
}

// Subnet returns the network's IPv4 subnet.
func (n Net) Subnet() *net.IPNet {
	ip := net.ParseIP(n.Addr).To4()
	m := net.IPMask(net.ParseIP(n.Mask).To4())
	if ip == nil || len(m) != 4 {
		return nil
	}
	return &net.IPNet{IP: ip.Mask(m), Mask: m}
}

// Format returns the network's libvirt XML.
func Format(n Net) (string, error) {
	x := libvirtxml.Network{Name: n.Name, UUID: n.UUID}
	if n.Kind == NAT {
		x.Forward = &libvirtxml.NetworkForward{Mode: "nat"}
	}
	if n.Bridge != "" {
		x.Bridge = &libvirtxml.NetworkBridge{Name: n.Bridge}
	}
	if n.MAC != "" {
		x.MAC = &libvirtxml.NetworkMAC{Address: n.MAC}
	}
	if n.Addr != "" {
		ip := libvirtxml.NetworkIP{Address: n.Addr, Netmask: n.Mask}
		if n.DHCP != nil {
			ip.DHCP = &libvirtxml.NetworkDHCP{}
			if n.DHCP.Lower != "" {
				ip.DHCP.Ranges = []libvirtxml.NetworkDHCPRange{{Start: n.DHCP.Lower, End: n.DHCP.Upper}}
			}
			for _, h := range n.DHCP.Hosts {
				ip.DHCP.Hosts = append(ip.DHCP.Hosts, libvirtxml.NetworkDHCPHost{MAC: h.MAC, IP: h.IP})
			}
		}
		x.IPs = []libvirtxml.NetworkIP{ip}
	}
	s, err := x.Marshal()
	if err != nil {
		return "", errdefs.Wrap(errdefs.ErrInternal, err, "cannot format the network XML: "+err.Error())
	}
	return libvirtStyle(s) + "\n", nil
}

// libvirtStyle writes encoding/xml's output as libvirt does (the same
// rewrite as domxml.FormatXML): <x/> for empty elements, attributes in
// single quotes, &apos; and &quot;. encoding/xml escapes every quote it
// writes in values, so a raw " only ever delimits an attribute.
func libvirtStyle(s string) string {
	s = emptyElement.ReplaceAllStringFunc(s, func(m string) string {
		g := emptyElement.FindStringSubmatch(m)
		if g[1] != g[3] {
			return m
		}
		return "<" + g[1] + g[2] + "/>"
	})
	s = doubleQuoted.ReplaceAllString(s, "$1='$2'")
	return strings.NewReplacer("&#39;", "&apos;", "&#34;", "&quot;").Replace(s)
}

var (
	emptyElement = regexp.MustCompile(`<([A-Za-z_][-A-Za-z0-9_.:]*)((?:\s+[^<>]*?[^<>/])?)></([A-Za-z_][-A-Za-z0-9_.:]*)>`)
	doubleQuoted = regexp.MustCompile(`(\s[A-Za-z_][-A-Za-z0-9_.:]*)="([^"]*)"`)
)

// HostOnlyName matches VirtualBox's host-only interface names on Linux.
var HostOnlyName = regexp.MustCompile(`^vboxnet[0-9]+$`)

// CheckName refuses names VirtualBox or libvirt would trip over: empty, a
// leading dash (taken as an option by VBoxManage), quotes, a slash (libvirt
// refuses it), whitespace and control characters.
func CheckName(name string) error {
	switch {
	case name == "":
		return errdefs.New(errdefs.ErrXML, "missing network name")
	case strings.HasPrefix(name, "-"):
		return errdefs.Newf(errdefs.ErrXML, "network name '%s' cannot start with '-'", name)
	case strings.ContainsAny(name, "'\"/\\`"):
		return errdefs.Newf(errdefs.ErrXML, "network name '%s' cannot contain quotes, '/' or '\\'", name)
	case len(name) > 64:
		return errdefs.Newf(errdefs.ErrXML, "network name '%s' is longer than 64 characters", name)
	}
	for _, r := range name {
		if r <= ' ' || r == 0x7f {
			return errdefs.Newf(errdefs.ErrXML, "network name %q cannot contain whitespace or control characters", name)
		}
	}
	return nil
}

func unsupported(format string, args ...any) error {
	return errdefs.Newf(errdefs.ErrConfigUnsupported, format, args...)
}

// Parse reads a network document and checks it against what VirtualBox can
// hold. Notes lists what was accepted but not kept (a host's name, the
// bridge's STP settings, a MAC address).
func Parse(doc string) (Net, []string, error) {
	var x libvirtxml.Network
	if err := x.Unmarshal(doc); err != nil {
		return Net{}, nil, errdefs.Wrap(errdefs.ErrXML, err, "(network_definition):"+err.Error())
	}
	var notes []string
	if err := CheckName(x.Name); err != nil {
		return Net{}, nil, err
	}
	n := Net{Name: x.Name, Kind: HostOnly}
	if x.UUID != "" {
		u, err := ParseUUID(x.UUID)
		if err != nil {
			return Net{}, nil, errdefs.Newf(errdefs.ErrXML, "malformed uuid element")
		}
		n.UUID = FormatUUID(u)
	}
	if f := x.Forward; f != nil {
		if f.Mode != "nat" {
			return Net{}, nil, unsupported("VirtualBox networks are host-only (no <forward>) or NAT (<forward mode='nat'/>), not forward mode '%s'", f.Mode)
		}
		if f.Dev != "" || len(f.PFs) > 0 || len(f.Interfaces) > 0 || len(f.Addresses) > 0 || f.Driver != nil ||
			(f.NAT != nil && (len(f.NAT.Addresses) > 0 || len(f.NAT.Ports) > 0 || f.NAT.IPv6 == "yes")) {
			return Net{}, nil, unsupported("a VirtualBox NAT network takes no forward device, interfaces or NAT address and port ranges")
		}
		n.Kind = NAT
	}
	for _, e := range []struct {
		set  bool
		name string
	}{
		{x.MTU != nil, "mtu"}, {x.Domain != nil, "domain"}, {x.VLAN != nil, "vlan"}, {x.Bandwidth != nil, "bandwidth"},
		{x.PortOptions != nil, "port"}, {len(x.Routes) > 0, "route"}, {x.VirtualPort != nil, "virtualport"},
		{len(x.PortGroups) > 0, "portgroup"}, {x.DnsmasqOptions != nil, "dnsmasq:options"}, {x.IPv6 == "yes", "ipv6='yes'"},
		{x.DNS != nil && (len(x.DNS.Forwarders) > 0 || len(x.DNS.TXTs) > 0 || len(x.DNS.Host) > 0 || len(x.DNS.SRVs) > 0), "dns"},
	} {
		if e.set {
			return Net{}, nil, unsupported("VirtualBox networks have no <%s>", e.name)
		}
	}
	if x.DNS != nil {
		notes = append(notes, "empty <dns> ignored: VirtualBox's DHCP servers hand out the host's resolver")
	}
	if x.MAC != nil {
		notes = append(notes, "<mac> ignored: VirtualBox chooses the interface's address")
	}
	if b := x.Bridge; b != nil {
		if b.STP != "" || b.Delay != "" || b.MACTableManager != "" || b.Zone != "" {
			notes = append(notes, "<bridge> attributes other than name ignored")
		}
		n.Bridge = b.Name
	}
	switch n.Kind {
	case HostOnly:
		if n.Bridge != "" && n.Bridge != n.Name {
			return Net{}, nil, unsupported("a host-only network is named after its interface: <bridge name='%s'/> must be the network's name '%s'", n.Bridge, n.Name)
		}
		if !HostOnlyName.MatchString(n.Name) {
			return Net{}, nil, unsupported("a host-only network (no <forward>) is a VirtualBox host-only interface and takes its name (vboxnetN), not '%s'", n.Name)
		}
		n.Bridge = n.Name
	case NAT:
		if n.Bridge != "" && n.Bridge != n.Name {
			return Net{}, nil, unsupported("a NAT network's bridge is its own name: <bridge name='%s'/> must be '%s'", n.Bridge, n.Name)
		}
		if HostOnlyName.MatchString(n.Name) {
			return Net{}, nil, unsupported("'%s' is a host-only interface name; a NAT network needs another", n.Name)
		}
		n.Bridge = n.Name
	}
	var ips []libvirtxml.NetworkIP
	for _, ip := range x.IPs {
		if ip.Family == "ipv6" || strings.Contains(ip.Address, ":") {
			return Net{}, nil, unsupported("VirtualBox networks are configured with one IPv4 <ip> here; IPv6 is not supported")
		}
		ips = append(ips, ip)
	}
	if len(ips) > 1 {
		return Net{}, nil, unsupported("VirtualBox networks have one IPv4 address, not %d <ip> elements", len(ips))
	}
	if len(ips) == 0 {
		if n.Kind == NAT {
			return Net{}, nil, unsupported("a NAT network needs an <ip address=... netmask=...> to give its subnet")
		}
		return Net{}, nil, unsupported("a host-only network needs an <ip address=... netmask=...> for its interface")
	}
	ip := ips[0]
	addr := net.ParseIP(ip.Address).To4()
	if addr == nil {
		return Net{}, nil, errdefs.Newf(errdefs.ErrXML, "invalid IPv4 address '%s' in network '%s'", ip.Address, n.Name)
	}
	var mask net.IPMask
	switch {
	case ip.Netmask != "" && ip.Prefix != 0:
		return Net{}, nil, errdefs.Newf(errdefs.ErrXML, "network '%s' has both netmask and prefix", n.Name)
	case ip.Netmask != "":
		m := net.ParseIP(ip.Netmask).To4()
		if m == nil {
			return Net{}, nil, errdefs.Newf(errdefs.ErrXML, "invalid netmask '%s' in network '%s'", ip.Netmask, n.Name)
		}
		mask = net.IPMask(m)
		if ones, bits := mask.Size(); ones == 0 && bits == 0 {
			return Net{}, nil, errdefs.Newf(errdefs.ErrXML, "invalid netmask '%s' in network '%s'", ip.Netmask, n.Name)
		}
	case ip.Prefix != 0:
		if ip.Prefix > 32 {
			return Net{}, nil, errdefs.Newf(errdefs.ErrXML, "invalid prefix %d in network '%s'", ip.Prefix, n.Name)
		}
		mask = net.CIDRMask(int(ip.Prefix), 32)
	default:
		mask = net.CIDRMask(24, 32) // libvirt's default for a class C address
	}
	if ones, _ := mask.Size(); ones > 30 || ones < 8 {
		return Net{}, nil, unsupported("network '%s': a /%d subnet; VirtualBox networks here are /8 to /30", n.Name, ones)
	}
	sub := &net.IPNet{IP: addr.Mask(mask), Mask: mask}
	if addr.Equal(sub.IP) || addr.Equal(broadcast(sub)) {
		return Net{}, nil, errdefs.Newf(errdefs.ErrXML, "address %s is the subnet's network or broadcast address", addr)
	}
	if n.Kind == NAT && !addr.Equal(nth(sub, 1)) {
		return Net{}, nil, unsupported("a VirtualBox NAT network's gateway is its first address: <ip address='%s'/>, not %s", nth(sub, 1), addr)
	}
	if ip.TFTP != nil || (ip.DHCP != nil && len(ip.DHCP.Bootp) > 0) {
		return Net{}, nil, unsupported("VirtualBox's DHCP servers do not serve TFTP or BOOTP options")
	}
	if ip.LocalPtr != "" {
		notes = append(notes, "localPtr ignored")
	}
	n.Addr, n.Mask = addr.String(), net.IP(mask).String()
	if d := ip.DHCP; d != nil {
		dh, dnotes, err := parseDHCP(n, sub, d)
		if err != nil {
			return Net{}, nil, err
		}
		notes = append(notes, dnotes...)
		n.DHCP = dh
	}
	return n, notes, nil
}

func parseDHCP(n Net, sub *net.IPNet, d *libvirtxml.NetworkDHCP) (*DHCP, []string, error) {
	var notes []string
	out := &DHCP{}
	if len(d.Ranges) > 1 {
		return nil, nil, unsupported("a VirtualBox DHCP server has one address range, not %d", len(d.Ranges))
	}
	if len(d.Ranges) == 0 {
		// libvirt allows static hosts only; VirtualBox's server needs a range.
		return nil, nil, unsupported("a VirtualBox DHCP server needs one <range start=... end=...>")
	}
	r := d.Ranges[0]
	if r.Lease != nil {
		notes = append(notes, "<lease> ignored: VirtualBox's DHCP server keeps its own lease times")
	}
	lo, hi, err := CheckRange(n, sub, r.Start, r.End)
	if err != nil {
		return nil, nil, err
	}
	out.Lower, out.Upper = lo, hi
	seen := map[string]bool{}
	for _, h := range d.Hosts {
		host, hnotes, err := CheckHost(sub, h)
		if err != nil {
			return nil, nil, err
		}
		if seen[host.MAC] {
			return nil, nil, errdefs.Newf(errdefs.ErrXML, "duplicate DHCP host MAC address %s in network '%s'", host.MAC, n.Name)
		}
		seen[host.MAC] = true
		notes = append(notes, hnotes...)
		out.Hosts = append(out.Hosts, host)
	}
	sort.SliceStable(out.Hosts, func(i, j int) bool { return out.Hosts[i].MAC < out.Hosts[j].MAC })
	return out, notes, nil
}

// CheckRange checks a DHCP range against the network: both ends in the
// subnet, in order, the network's own address outside.
func CheckRange(n Net, sub *net.IPNet, start, end string) (string, string, error) {
	lo, hi := net.ParseIP(start).To4(), net.ParseIP(end).To4()
	if lo == nil || hi == nil {
		return "", "", errdefs.Newf(errdefs.ErrXML, "invalid DHCP range '%s' - '%s' in network '%s'", start, end, n.Name)
	}
	if !sub.Contains(lo) || !sub.Contains(hi) {
		return "", "", errdefs.Newf(errdefs.ErrConfigUnsupported, "range %s - %s is not entirely within network %s", lo, hi, sub)
	}
	if bytes.Compare(lo, hi) > 0 {
		return "", "", errdefs.Newf(errdefs.ErrConfigUnsupported, "range %s - %s is reversed", lo, hi)
	}
	if a := net.ParseIP(n.Addr).To4(); a != nil && bytes.Compare(lo, a) <= 0 && bytes.Compare(a, hi) <= 0 {
		return "", "", errdefs.Newf(errdefs.ErrConfigUnsupported, "range %s - %s includes the network's own address %s", lo, hi, a)
	}
	if lo.Equal(sub.IP) || hi.Equal(broadcast(sub)) {
		return "", "", errdefs.Newf(errdefs.ErrConfigUnsupported, "range %s - %s includes the subnet's network or broadcast address", lo, hi)
	}
	return lo.String(), hi.String(), nil
}

// CheckHost checks a <host> entry: VirtualBox keys fixed addresses by MAC.
func CheckHost(sub *net.IPNet, h libvirtxml.NetworkDHCPHost) (Host, []string, error) {
	var notes []string
	if h.MAC == "" || h.ID != "" {
		return Host{}, nil, unsupported("VirtualBox's DHCP servers fix addresses by MAC: <host> needs mac= (and no id=)")
	}
	hw, err := net.ParseMAC(h.MAC)
	if err != nil || len(hw) != 6 {
		return Host{}, nil, errdefs.Newf(errdefs.ErrXML, "invalid MAC address '%s' in <host>", h.MAC)
	}
	ip := net.ParseIP(h.IP).To4()
	if ip == nil {
		return Host{}, nil, errdefs.Newf(errdefs.ErrXML, "invalid or missing IPv4 address '%s' in <host mac='%s'>", h.IP, h.MAC)
	}
	if sub != nil && !sub.Contains(ip) {
		return Host{}, nil, errdefs.Newf(errdefs.ErrConfigUnsupported, "DHCP host %s is not within network %s", ip, sub)
	}
	if h.Name != "" {
		notes = append(notes, fmt.Sprintf("<host name='%s'> ignored: VirtualBox's DHCP servers keep no host names", h.Name))
	}
	if h.Lease != nil {
		notes = append(notes, "<host><lease> ignored")
	}
	return Host{MAC: hw.String(), IP: ip.String()}, notes, nil
}

// Overlaps reports whether two subnets share an address.
func Overlaps(a, b *net.IPNet) bool {
	return a != nil && b != nil && (a.Contains(b.IP) || b.Contains(a.IP))
}

// CIDR is the network's subnet in VBoxManage's natnetwork --network form.
func (n Net) CIDR() string {
	if s := n.Subnet(); s != nil {
		return s.String()
	}
	return ""
}

// ServerIP picks the DHCP server's own address: the one it has when still
// free, else VirtualBox's usual .100 when free, else the first free address
// of the subnet (not the network's address, the range or a fixed host).
func (n Net) ServerIP(current string) string {
	sub := n.Subnet()
	if sub == nil || n.DHCP == nil {
		return ""
	}
	free := func(ip net.IP) bool {
		if ip == nil || !sub.Contains(ip) || ip.Equal(sub.IP) || ip.Equal(broadcast(sub)) || ip.Equal(net.ParseIP(n.Addr)) {
			return false
		}
		lo, hi := net.ParseIP(n.DHCP.Lower).To4(), net.ParseIP(n.DHCP.Upper).To4()
		if lo != nil && hi != nil && bytes.Compare(lo, ip.To4()) <= 0 && bytes.Compare(ip.To4(), hi) <= 0 {
			return false
		}
		for _, h := range n.DHCP.Hosts {
			if ip.Equal(net.ParseIP(h.IP)) {
				return false
			}
		}
		return true
	}
	if c := net.ParseIP(current).To4(); free(c) {
		return c.String()
	}
	if n.Kind == NAT {
		if c := nth(sub, 3); free(c) {
			return c.String()
		}
	}
	if c := nth(sub, 100); free(c) {
		return c.String()
	}
	ones, _ := sub.Mask.Size()
	for k := uint32(2); k < 1<<(32-ones)-1; k++ {
		if c := nth(sub, k); free(c) {
			return c.String()
		}
	}
	return ""
}

func ip2u(ip net.IP) uint32 { return binary.BigEndian.Uint32(ip.To4()) }

func u2ip(v uint32) net.IP {
	b := make(net.IP, 4)
	binary.BigEndian.PutUint32(b, v)
	return b
}

func nth(sub *net.IPNet, k uint32) net.IP { return u2ip(ip2u(sub.IP) + k) }

func broadcast(sub *net.IPNet) net.IP {
	return u2ip(ip2u(sub.IP) | ^binary.BigEndian.Uint32(net.IP(sub.Mask).To4()))
}

// Gateway is a NAT network's gateway for a CIDR (its first address).
func Gateway(cidr string) (addr, mask string, ok bool) {
	_, sub, err := net.ParseCIDR(cidr)
	if err != nil || sub.IP.To4() == nil {
		return "", "", false
	}
	return nth(sub, 1).String(), net.IP(sub.Mask).String(), true
}

// DefaultNATDHCP is the DHCP server VirtualBox gives a NAT network with DHCP
// on when it starts it (NATNetwork::start): the server at the network's .3,
// leases from .4 to the last host address.
func DefaultNATDHCP(n Net) *DHCP {
	sub := n.Subnet()
	if sub == nil {
		return nil
	}
	return &DHCP{ServerIP: nth(sub, 3).String(), Lower: nth(sub, 4).String(), Upper: u2ip(ip2u(broadcast(sub)) - 1).String()}
}
