package vbox

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
	"github.com/virtvboxd/virtvboxd/internal/vbox/netxml"
)

// Networks: VirtualBox's host-only interfaces and NAT networks as libvirt
// networks (docs/networks.md). What VirtualBox says about them is read in
// one `list --multiple hostonlyifs dhcpservers --long natnets` and one
// `getextradata global enumerate` (the daemon's own keys: UUIDs given by a
// define, autostart, transient) and kept in memory: reads are served from it
// while it is younger than MaxAge and nothing the daemon did changed it;
// concurrent refreshes share one pair of processes.

// netListArgs reads every network in one process.
var netListArgs = []string{"list", "--multiple", "hostonlyifs", "dhcpservers", "--long", "natnets"}

// The daemon's global extradata keys for a network named N.
const netExtraPrefix = "virtvboxd/network/"

func netExtraKey(name, what string) string { return netExtraPrefix + name + "/" + what }

// vnet is one network as last read.
type vnet struct {
	netxml.Net
	uuid       [16]byte
	status     string // host-only: the interface's Status (Up, Down)
	enabled    bool   // NAT: Enabled; host-only: the DHCP server is enabled
	dhcpOn     bool   // NAT: DHCP Server / DHCP Enabled
	dhcpKnown  bool   // a DHCP server exists (Net.DHCP is set for it)
	autostart  bool
	transient  bool
	dhcpServer string // the DHCP server's network name
}

// active is libvirt's idea of a running network: a NAT network that is
// enabled; a host-only network whose DHCP server is enabled, or that has
// none (it is usable while it exists: VirtualBox has nothing to start).
func (n *vnet) active() bool {
	if n.Kind == netxml.NAT {
		return n.enabled
	}
	return !n.dhcpKnown || n.enabled
}

// stoppable: net-destroy has something to stop.
func (n *vnet) stoppable() bool {
	return n.Kind == netxml.NAT || n.dhcpKnown
}

func (n *vnet) value() driver.Network { return driver.Network{Name: n.Name, UUID: n.uuid} }

// netSnap is one reading of every network.
type netSnap struct {
	at    time.Time
	nets  []*vnet // host-only interfaces in VirtualBox's order, then NAT networks
	extra map[string]string
}

type netFlight struct {
	done chan struct{}
	snap *netSnap
	err  error
}

// netCache holds the networks; its zero value is ready (Driver.nets).
type netCache struct {
	mu        sync.Mutex
	snap      *netSnap
	dirty     bool
	flight    *netFlight
	autostart bool // the autostart networks were started (once per daemon)

	opMu sync.Mutex // orders the daemon's own network changes
}

// networks returns the networks as known now: the cached reading while it
// is fresh, else a new one.
func (d *Driver) networks(ctx context.Context) (*netSnap, error) {
	c := &d.nets
	c.mu.Lock()
	if s := c.snap; s != nil && !c.dirty && time.Since(s.at) < d.opts.MaxAge {
		c.mu.Unlock()
		return s, nil
	}
	f := c.flight
	if f == nil {
		f = &netFlight{done: make(chan struct{})}
		c.flight = f
		c.dirty = false
		go func() {
			// Not the caller's context: others share the reading.
			s, err := d.readNetworks(d.life)
			c.mu.Lock()
			if err == nil {
				c.snap = s
			}
			c.flight = nil
			c.mu.Unlock()
			f.snap, f.err = s, err
			close(f.done)
		}()
	}
	c.mu.Unlock()
	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, errdefs.Wrap(errdefs.ErrOperationFailed, ctx.Err(), "reading the networks: "+ctx.Err().Error())
	}
	if f.err != nil {
		return nil, vboxError("cannot list the networks", f.err)
	}
	d.autostartNetworks(ctx, f.snap)
	return f.snap, nil
}

// invalidateNetworks makes the next read go to VirtualBox.
func (d *Driver) invalidateNetworks() {
	d.nets.mu.Lock()
	d.nets.dirty = true
	d.nets.mu.Unlock()
	d.leases.forget() // a changed DHCP server may lease otherwise
}

func (d *Driver) readNetworks(ctx context.Context) (*netSnap, error) {
	out, _, err := d.runPolicy(ctx, RetryTransient, netListArgs...)
	if err != nil {
		return nil, err
	}
	xout, _, err := d.runPolicy(ctx, RetryTransient, "getextradata", "global", "enumerate")
	if err != nil {
		return nil, err
	}
	return parseNetworks(out, ParseExtraData(xout)), nil
}

// splitMultiple cuts `list --multiple` output into its "[type]" sections.
func splitMultiple(out []byte) map[string][]byte {
	sec := map[string][]byte{}
	cur := ""
	var b strings.Builder
	flush := func() {
		if cur != "" {
			sec[cur] = []byte(b.String())
		}
		b.Reset()
	}
	for _, line := range strings.SplitAfter(strings.ReplaceAll(string(out), "\r", ""), "\n") {
		t := strings.TrimRight(line, "\n")
		if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") && !strings.Contains(t, " ") {
			flush()
			cur = t[1 : len(t)-1]
			continue
		}
		b.WriteString(line)
	}
	flush()
	return sec
}

// parseDHCPServers reads `list dhcpservers`: one record per server, its
// individual configurations as "Individual Config: MAC m" pairs each
// followed by "Fixed Address:".
func parseDHCPServers(out []byte) map[string]*vdhcp {
	m := map[string]*vdhcp{}
	for _, r := range ParseRecords(out) {
		name := r.Str("NetworkName")
		if name == "" {
			continue
		}
		s := &vdhcp{ip: r.Str("Dhcpd IP"), mask: r.Str("NetworkMask"), lower: r.Str("LowerIPAddress"),
			upper: r.Str("UpperIPAddress"), enabled: r.Str("Enabled") == "Yes"}
		mac := ""
		for _, p := range r.Pairs {
			switch p.Key {
			case "Individual Config":
				mac = ""
				if v, ok := strings.CutPrefix(p.Value, "MAC "); ok {
					mac = strings.ToLower(strings.TrimSpace(v))
				}
			case "Fixed Address":
				if mac != "" && p.Value != "dynamic" && p.Value != "" {
					s.hosts = append(s.hosts, netxml.Host{MAC: mac, IP: p.Value})
				}
				mac = ""
			}
		}
		m[name] = s
	}
	return m
}

type vdhcp struct {
	ip, mask, lower, upper string
	enabled                bool
	hosts                  []netxml.Host
}

// hostOnlyDHCPName is the DHCP server network name of a host-only interface.
func hostOnlyDHCPName(ifname string) string { return "HostInterfaceNetworking-" + ifname }

func parseNetworks(out []byte, extra map[string]string) *netSnap {
	sec := splitMultiple(out)
	servers := parseDHCPServers(sec["dhcpservers"])
	s := &netSnap{at: time.Now(), extra: extra}
	attach := func(n *vnet, server string) {
		n.dhcpServer = server
		if d, ok := servers[server]; ok {
			n.dhcpKnown = true
			n.DHCP = &netxml.DHCP{ServerIP: d.ip, Lower: d.lower, Upper: d.upper, Hosts: d.hosts}
			if n.Kind == netxml.HostOnly {
				n.enabled = d.enabled
			}
		}
	}
	common := func(n *vnet) {
		n.autostart = extra[netExtraKey(n.Name, "autostart")] == "1"
		n.transient = extra[netExtraKey(n.Name, "transient")] == "1"
		if u, err := netxml.ParseUUID(extra[netExtraKey(n.Name, "uuid")]); err == nil {
			n.uuid = u
		}
		n.UUID = netxml.FormatUUID(n.uuid)
	}
	for _, r := range ParseRecords(sec["hostonlyifs"]) {
		name := r.Str("Name")
		if name == "" || netxml.CheckName(name) != nil {
			continue // a Windows-style name with spaces cannot be a libvirt network name here
		}
		n := &vnet{Net: netxml.Net{Kind: netxml.HostOnly, Name: name, Bridge: name, MAC: r.Str("HardwareAddress"),
			Addr: r.Str("IPAddress"), Mask: r.Str("NetworkMask")}, status: r.Str("Status")}
		if u, err := netxml.ParseUUID(r.Str("GUID")); err == nil {
			n.uuid = u
		} else {
			n.uuid = netxml.DeriveUUID("hostonly", name)
		}
		attach(n, hostOnlyDHCPName(name))
		common(n)
		s.nets = append(s.nets, n)
	}
	for _, r := range ParseRecords(sec["natnets"]) {
		name := r.Str("Name") // 7.x
		if name == "" {
			name = r.Str("NetworkName") // 6.1
		}
		if name == "" || netxml.CheckName(name) != nil {
			continue
		}
		cidr := r.Str("Network")
		addr, mask, _ := netxml.Gateway(cidr)
		n := &vnet{Net: netxml.Net{Kind: netxml.NAT, Name: name, Bridge: name, Addr: addr, Mask: mask},
			enabled: r.Str("Enabled") == "Yes", uuid: netxml.DeriveUUID("natnetwork", name)}
		n.dhcpOn = r.Str("DHCP Server") == "Yes" || r.Str("DHCP Enabled") == "Yes"
		attach(n, name)
		if n.dhcpOn && n.DHCP == nil {
			// On and not started yet: VirtualBox makes the server at start.
			if sub := n.Subnet(); sub != nil {
				n.DHCP = netxml.DefaultNATDHCP(n.Net)
			}
		}
		if !n.dhcpOn {
			n.DHCP = nil
		}
		common(n)
		s.nets = append(s.nets, n)
	}
	return s
}

// byName finds a network; a host-only interface wins over a NAT network of
// the same name (VirtualBox allows both; docs/networks.md).
func (s *netSnap) byName(name string) *vnet {
	for _, n := range s.nets {
		if n.Name == name {
			return n
		}
	}
	return nil
}

func (s *netSnap) byUUID(u [16]byte) *vnet {
	for _, n := range s.nets {
		if n.uuid == u {
			return n
		}
	}
	return nil
}

func noNetworkName(name string) error {
	return errdefs.Newf(errdefs.ErrNoNetwork, "no network with matching name '%s'", name)
}

// lookupNet finds the network a call names: by UUID when the client sent
// one, else by name.
func (d *Driver) lookupNet(ctx context.Context, n driver.Network) (*netSnap, *vnet, error) {
	s, err := d.networks(ctx)
	if err != nil {
		return nil, nil, err
	}
	if v := s.byName(n.Name); v != nil && (n.UUID == [16]byte{} || v.uuid == n.UUID) {
		return s, v, nil
	}
	if v := s.byUUID(n.UUID); v != nil && n.UUID != ([16]byte{}) {
		return s, v, nil
	}
	if n.Name == "" {
		return nil, nil, errdefs.Newf(errdefs.ErrNoNetwork, "no network with matching uuid '%s'", netxml.FormatUUID(n.UUID))
	}
	return nil, nil, noNetworkName(n.Name)
}

// ListAllNetworks implements driver.Conn with the VIR_CONNECT_LIST_NETWORKS_* filters.
func (c *conn) ListAllNetworks(ctx context.Context, flags uint32) ([]driver.Network, error) {
	const all = driver.ListNetworksInactive | driver.ListNetworksActive | driver.ListNetworksPersistent |
		driver.ListNetworksTransient | driver.ListNetworksAutostart | driver.ListNetworksNoAutostart
	if flags&^all != 0 {
		return nil, unsupportedFlags(flags&^all, "virConnectListAllNetworks")
	}
	s, err := c.d.networks(ctx)
	if err != nil {
		return nil, err
	}
	pick := func(set bool, yes, no uint32) bool {
		if flags&(yes|no) == 0 || flags&(yes|no) == yes|no {
			return true
		}
		if set {
			return flags&yes != 0
		}
		return flags&no != 0
	}
	out := []driver.Network{}
	for _, n := range s.nets {
		if pick(n.active(), driver.ListNetworksActive, driver.ListNetworksInactive) &&
			pick(!n.transient, driver.ListNetworksPersistent, driver.ListNetworksTransient) &&
			pick(n.autostart, driver.ListNetworksAutostart, driver.ListNetworksNoAutostart) {
			out = append(out, n.value())
		}
	}
	return out, nil
}

// NetworkLookupByName implements driver.Conn.
func (c *conn) NetworkLookupByName(ctx context.Context, name string) (driver.Network, error) {
	s, err := c.d.networks(ctx)
	if err != nil {
		return driver.Network{}, err
	}
	if n := s.byName(name); n != nil {
		return n.value(), nil
	}
	return driver.Network{}, noNetworkName(name)
}

// NetworkLookupByUUID implements driver.Conn.
func (c *conn) NetworkLookupByUUID(ctx context.Context, uuid [16]byte) (driver.Network, error) {
	s, err := c.d.networks(ctx)
	if err != nil {
		return driver.Network{}, err
	}
	if n := s.byUUID(uuid); n != nil {
		return n.value(), nil
	}
	return driver.Network{}, errdefs.Newf(errdefs.ErrNoNetwork, "no network with matching uuid '%s'", netxml.FormatUUID(uuid))
}

// NetworkGetXMLDesc implements driver.Conn. VIR_NETWORK_XML_INACTIVE gives
// the same document: VirtualBox applies a network's settings at once.
func (c *conn) NetworkGetXMLDesc(ctx context.Context, n driver.Network, flags uint32) (string, error) {
	const xmlInactive = 1
	if flags&^xmlInactive != 0 {
		return "", unsupportedFlags(flags&^xmlInactive, "virNetworkGetXMLDesc")
	}
	_, v, err := c.d.lookupNet(ctx, n)
	if err != nil {
		return "", err
	}
	return netxml.Format(v.Net)
}

// NetworkIsActive implements driver.Conn.
func (c *conn) NetworkIsActive(ctx context.Context, n driver.Network) (bool, error) {
	_, v, err := c.d.lookupNet(ctx, n)
	if err != nil {
		return false, err
	}
	return v.active(), nil
}

// NetworkIsPersistent implements driver.Conn: every VirtualBox network is,
// except one made by net-create (until its net-destroy removes it).
func (c *conn) NetworkIsPersistent(ctx context.Context, n driver.Network) (bool, error) {
	_, v, err := c.d.lookupNet(ctx, n)
	if err != nil {
		return false, err
	}
	return !v.transient, nil
}

// NetworkGetAutostart implements driver.Conn.
func (c *conn) NetworkGetAutostart(ctx context.Context, n driver.Network) (bool, error) {
	_, v, err := c.d.lookupNet(ctx, n)
	if err != nil {
		return false, err
	}
	return v.autostart, nil
}

// NetworkGetBridgeName implements driver.Conn: the host-only interface, or
// the NAT network's own name (the internal network VirtualBox gives it).
func (c *conn) NetworkGetBridgeName(ctx context.Context, n driver.Network) (string, error) {
	_, v, err := c.d.lookupNet(ctx, n)
	if err != nil {
		return "", err
	}
	return v.Bridge, nil
}
