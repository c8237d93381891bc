package vbox

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strings"

	"libvirt.org/go/libvirtxml"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
	"github.com/virtvboxd/virtvboxd/internal/vbox/netxml"
)

// The network changes: each takes the driver's network lock, re-reads the
// networks, checks everything it can before running anything, and marks the
// cache stale afterwards. A define that fails half-way removes what it made.

// libvirt flag values (include/libvirt/libvirt-network.h).
const (
	netDefineValidate = 1 << 0 // VIR_NETWORK_DEFINE_VALIDATE, VIR_NETWORK_CREATE_VALIDATE

	netUpdateAffectLive   = 1 << 0
	netUpdateAffectConfig = 1 << 1

	netUpdateModify   = 1
	netUpdateDelete   = 2
	netUpdateAddLast  = 3
	netUpdateAddFirst = 4

	netSectionDHCPHost  = 4
	netSectionDHCPRange = 5
)

// fresh re-reads the networks (the caller holds opMu).
func (d *Driver) freshNetworks(ctx context.Context) (*netSnap, error) {
	d.invalidateNetworks()
	return d.networks(ctx)
}

func (d *Driver) netRun(ctx context.Context, op string, policy RetryPolicy, args ...string) ([]byte, error) {
	out, _, err := d.runPolicy(ctx, policy, args...)
	if err != nil {
		return nil, vboxError(op, err)
	}
	return out, nil
}

// dhcpArgs names a network's DHCP server the way every version accepts.
func dhcpArgs(v *vnet) []string {
	if v.Kind == netxml.HostOnly {
		return []string{"--ifname", v.Name}
	}
	return []string{"--netname", v.Name}
}

func (d *Driver) logNetNotes(ctx context.Context, name string, notes []string) {
	for _, n := range notes {
		d.logFor(ctx).WithField("network", name).Info(n)
	}
}

// nextHostOnly is the name `hostonlyif create` gives: the lowest free vboxnetN.
func (s *netSnap) nextHostOnly() string {
	used := map[string]bool{}
	for _, n := range s.nets {
		if n.Kind == netxml.HostOnly {
			used[n.Name] = true
		}
	}
	for i := 0; ; i++ {
		if name := fmt.Sprintf("vboxnet%d", i); !used[name] {
			return name
		}
	}
}

// NetworkDefineXML implements driver.Conn: a new network is created in
// VirtualBox, inactive; an existing one (same name, and same UUID when the
// document has one) takes the document's settings.
func (c *conn) NetworkDefineXML(ctx context.Context, doc string, flags uint32) (driver.Network, error) {
	if flags&^netDefineValidate != 0 {
		return driver.Network{}, unsupportedFlags(flags&^netDefineValidate, "virNetworkDefineXMLFlags")
	}
	return c.d.defineNetwork(ctx, doc, false)
}

// NetworkCreateXML implements driver.Conn: a transient network, created and
// started; its net-destroy removes it.
func (c *conn) NetworkCreateXML(ctx context.Context, doc string, flags uint32) (driver.Network, error) {
	if flags&^netDefineValidate != 0 {
		return driver.Network{}, unsupportedFlags(flags&^netDefineValidate, "virNetworkCreateXMLFlags")
	}
	return c.d.defineNetwork(ctx, doc, true)
}

func (d *Driver) defineNetwork(ctx context.Context, doc string, create bool) (driver.Network, error) {
	want, notes, err := netxml.Parse(doc)
	if err != nil {
		return driver.Network{}, err
	}
	d.nets.opMu.Lock()
	defer d.nets.opMu.Unlock()
	s, err := d.freshNetworks(ctx)
	if err != nil {
		return driver.Network{}, err
	}
	cur := s.byName(want.Name)
	if want.UUID != "" {
		u, _ := netxml.ParseUUID(want.UUID)
		if o := s.byUUID(u); o != nil && o.Name != want.Name {
			return driver.Network{}, errdefs.Newf(errdefs.ErrOperationFailed, "network '%s' is already defined with uuid %s", o.Name, want.UUID)
		}
		if cur != nil && cur.uuid != u {
			return driver.Network{}, errdefs.Newf(errdefs.ErrOperationFailed, "network '%s' already exists with uuid %s", cur.Name, cur.UUID)
		}
	}
	if cur != nil && create {
		return driver.Network{}, errdefs.Newf(errdefs.ErrOperationFailed, "network '%s' already exists with uuid %s", cur.Name, cur.UUID)
	}
	if cur != nil && cur.Kind != want.Kind {
		kinds := map[netxml.Kind]string{netxml.HostOnly: "a host-only network", netxml.NAT: "a NAT network"}
		return driver.Network{}, errdefs.Newf(errdefs.ErrOperationInvalid, "network '%s' is %s in VirtualBox and cannot become %s",
			cur.Name, kinds[cur.Kind], kinds[want.Kind])
	}
	sub := want.Subnet()
	for _, o := range s.nets {
		if o.Name != want.Name && netxml.Overlaps(sub, o.Subnet()) {
			return driver.Network{}, errdefs.Newf(errdefs.ErrOperationInvalid, "network '%s' (%s) overlaps network '%s' (%s)",
				want.Name, sub, o.Name, o.Subnet())
		}
	}
	d.logNetNotes(ctx, want.Name, notes)
	if cur == nil {
		err = d.createNetwork(ctx, s, want, create)
	} else {
		err = d.changeNetwork(ctx, cur, want)
		if err == nil && cur.transient {
			// Defining a transient network makes it persistent.
			_, err = d.netRun(ctx, "cannot make the network persistent", RetryTransient, "setextradata", "global", netExtraKey(cur.Name, "transient"))
		}
	}
	d.invalidateNetworks()
	if err != nil {
		return driver.Network{}, err
	}
	s, err = d.networks(ctx)
	if err != nil {
		return driver.Network{}, err
	}
	if v := s.byName(want.Name); v != nil {
		return v.value(), nil
	}
	return driver.Network{}, errdefs.Newf(errdefs.ErrInternal, "network '%s' was made but VirtualBox does not list it", want.Name)
}

var createdIfRE = regexp.MustCompile(`Interface '([^']+)' was successfully created`)

// createNetwork makes a new network; on failure it removes what it made.
func (d *Driver) createNetwork(ctx context.Context, s *netSnap, want netxml.Net, start bool) (err error) {
	var undo [][]string
	defer func() {
		if err == nil {
			return
		}
		for i := len(undo) - 1; i >= 0; i-- {
			if _, uerr := d.netRun(d.life, "undo", RetryTransient, undo[i]...); uerr != nil {
				d.logFor(ctx).WithError(uerr).WithField("network", want.Name).Warn("cannot undo a failed network define")
			}
		}
	}()
	v := &vnet{Net: want}
	switch want.Kind {
	case netxml.HostOnly:
		if next := s.nextHostOnly(); want.Name != next {
			return errdefs.Newf(errdefs.ErrConfigUnsupported,
				"VirtualBox names a new host-only interface itself: the next one is '%s', so the network must be named '%s', not '%s'",
				next, next, want.Name)
		}
		out, err := d.netRun(ctx, "cannot create the host-only interface", NoRetry, "hostonlyif", "create")
		if err != nil {
			return err
		}
		name := strings.TrimSpace(string(out))
		if m := createdIfRE.FindStringSubmatch(string(out)); m != nil {
			name = m[1]
		}
		if name != "" {
			undo = append(undo, []string{"hostonlyif", "remove", name})
		}
		if name != want.Name {
			return errdefs.Newf(errdefs.ErrOperationFailed, "VirtualBox created host-only interface '%s' instead of '%s'", name, want.Name)
		}
		if _, err := d.netRun(ctx, "cannot configure the host-only interface", RetryTransient,
			"hostonlyif", "ipconfig", name, "--ip", want.Addr, "--netmask", want.Mask); err != nil {
			return err
		}
	case netxml.NAT:
		dhcp := "off"
		if want.DHCP != nil {
			dhcp = "on"
		}
		state := "--disable"
		if start {
			state = "--enable"
		}
		if _, err := d.netRun(ctx, "cannot create the NAT network", NoRetry,
			"natnetwork", "add", "--netname", want.Name, "--network", want.CIDR(), "--dhcp", dhcp, state); err != nil {
			return err
		}
		undo = append(undo, []string{"natnetwork", "remove", "--netname", want.Name})
	}
	if want.DHCP != nil && (want.Kind == netxml.HostOnly || !sameDHCP(netxml.DefaultNATDHCP(want), want.DHCP)) {
		enable := "--disable"
		if start || want.Kind == netxml.NAT {
			enable = "--enable"
		}
		args := append([]string{"dhcpserver", "add"}, dhcpArgs(v)...)
		args = append(args, "--ip", want.ServerIP(""), "--netmask", want.Mask, "--lowerip", want.DHCP.Lower, "--upperip", want.DHCP.Upper, enable)
		if _, err := d.netRun(ctx, "cannot add the DHCP server", NoRetry, args...); err != nil {
			return err
		}
		undo = append(undo, append([]string{"dhcpserver", "remove"}, dhcpArgs(v)...))
		if err := d.setDHCPHosts(ctx, v, nil, want.DHCP.Hosts); err != nil {
			return err
		}
	}
	if want.UUID != "" {
		if _, err := d.netRun(ctx, "cannot keep the network's UUID", RetryTransient, "setextradata", "global", netExtraKey(want.Name, "uuid"), want.UUID); err != nil {
			return err
		}
		undo = append(undo, []string{"setextradata", "global", netExtraKey(want.Name, "uuid")})
	}
	if start {
		if _, err := d.netRun(ctx, "cannot mark the network transient", RetryTransient, "setextradata", "global", netExtraKey(want.Name, "transient"), "1"); err != nil {
			return err
		}
		undo = append(undo, []string{"setextradata", "global", netExtraKey(want.Name, "transient")})
		if want.Kind == netxml.NAT {
			if _, err := d.netRun(ctx, "cannot start the NAT network", RetryTransient, "natnetwork", "start", "--netname", want.Name); err != nil {
				return err
			}
		}
	}
	return nil
}

func sameDHCP(a, b *netxml.DHCP) bool {
	return a != nil && b != nil && a.Lower == b.Lower && a.Upper == b.Upper && len(b.Hosts) == 0
}

// setDHCPHosts turns the server's fixed addresses from have into want, in
// one `dhcpserver modify`.
func (d *Driver) setDHCPHosts(ctx context.Context, v *vnet, have, want []netxml.Host) error {
	args := append([]string{"dhcpserver", "modify"}, dhcpArgs(v)...)
	n := len(args)
	wantIP := map[string]string{}
	for _, h := range want {
		wantIP[h.MAC] = h.IP
	}
	haveIP := map[string]string{}
	for _, h := range have {
		haveIP[h.MAC] = h.IP
		if _, ok := wantIP[h.MAC]; !ok {
			args = append(args, "--mac-address", h.MAC, "--remove-config")
		}
	}
	for _, h := range want {
		if haveIP[h.MAC] != h.IP {
			args = append(args, "--mac-address", h.MAC, "--fixed-address", h.IP)
		}
	}
	if len(args) == n {
		return nil
	}
	_, err := d.netRun(ctx, "cannot set the DHCP server's fixed addresses", RetryTransient, args...)
	return err
}

// changeNetwork gives an existing network the document's settings (a define
// over it, `virsh net-edit`). VirtualBox applies them at once.
func (d *Driver) changeNetwork(ctx context.Context, cur *vnet, want netxml.Net) error {
	switch cur.Kind {
	case netxml.HostOnly:
		if cur.Addr != want.Addr || cur.Mask != want.Mask {
			if _, err := d.netRun(ctx, "cannot configure the host-only interface", RetryTransient,
				"hostonlyif", "ipconfig", cur.Name, "--ip", want.Addr, "--netmask", want.Mask); err != nil {
				return err
			}
		}
	case netxml.NAT:
		var args []string
		if cur.CIDR() != want.CIDR() {
			args = append(args, "--network", want.CIDR())
		}
		if (cur.DHCP != nil) != (want.DHCP != nil) {
			args = append(args, "--dhcp", map[bool]string{true: "on", false: "off"}[want.DHCP != nil])
		}
		if len(args) > 0 {
			if _, err := d.netRun(ctx, "cannot change the NAT network", RetryTransient,
				append([]string{"natnetwork", "modify", "--netname", cur.Name}, args...)...); err != nil {
				return err
			}
		}
	}
	switch {
	case want.DHCP == nil && cur.dhcpKnown:
		_, err := d.netRun(ctx, "cannot remove the DHCP server", RetryTransient, append([]string{"dhcpserver", "remove"}, dhcpArgs(cur)...)...)
		return err
	case want.DHCP == nil:
		return nil
	case !cur.dhcpKnown:
		if cur.Kind == netxml.NAT && sameDHCP(netxml.DefaultNATDHCP(want), want.DHCP) {
			return nil // VirtualBox makes this one when the network starts
		}
		// A host-only network without a DHCP server counts as active; its
		// new server is enabled so that it stays so.
		args := append([]string{"dhcpserver", "add"}, dhcpArgs(cur)...)
		args = append(args, "--ip", want.ServerIP(""), "--netmask", want.Mask, "--lowerip", want.DHCP.Lower, "--upperip", want.DHCP.Upper, "--enable")
		if _, err := d.netRun(ctx, "cannot add the DHCP server", NoRetry, args...); err != nil {
			return err
		}
		return d.setDHCPHosts(ctx, cur, nil, want.DHCP.Hosts)
	}
	server := want.ServerIP(cur.DHCP.ServerIP)
	if server != cur.DHCP.ServerIP || want.DHCP.Lower != cur.DHCP.Lower || want.DHCP.Upper != cur.DHCP.Upper || want.Mask != cur.Mask {
		args := append([]string{"dhcpserver", "modify"}, dhcpArgs(cur)...)
		args = append(args, "--ip", server, "--netmask", want.Mask, "--lowerip", want.DHCP.Lower, "--upperip", want.DHCP.Upper)
		if _, err := d.netRun(ctx, "cannot change the DHCP server", RetryTransient, args...); err != nil {
			return err
		}
	}
	return d.setDHCPHosts(ctx, cur, cur.DHCP.Hosts, want.DHCP.Hosts)
}

// NetworkUndefine implements driver.Conn. A network net-destroy could stop
// must be stopped first; VirtualBox's DHCP server goes with the network.
func (c *conn) NetworkUndefine(ctx context.Context, n driver.Network) error {
	d := c.d
	d.nets.opMu.Lock()
	defer d.nets.opMu.Unlock()
	v, err := d.freshNet(ctx, n)
	if err != nil {
		return err
	}
	if v.stoppable() && v.active() {
		return errdefs.Newf(errdefs.ErrOperationInvalid, "network '%s' is still active: net-destroy it first", v.Name)
	}
	defer d.invalidateNetworks()
	return d.removeNetwork(ctx, v)
}

// freshNet re-reads the networks and finds n among them, for a change made
// under d.nets.opMu.
func (d *Driver) freshNet(ctx context.Context, n driver.Network) (*vnet, error) {
	if _, err := d.freshNetworks(ctx); err != nil {
		return nil, err
	}
	_, v, err := d.lookupNet(ctx, n)
	return v, err
}

func (d *Driver) removeNetwork(ctx context.Context, v *vnet) error {
	if v.dhcpKnown {
		if _, err := d.netRun(ctx, "cannot remove the DHCP server", RetryTransient, append([]string{"dhcpserver", "remove"}, dhcpArgs(v)...)...); err != nil {
			return err
		}
	}
	switch v.Kind {
	case netxml.HostOnly:
		if _, err := d.netRun(ctx, "cannot remove the host-only interface", RetryTransient, "hostonlyif", "remove", v.Name); err != nil {
			return err
		}
	case netxml.NAT:
		if _, err := d.netRun(ctx, "cannot remove the NAT network", RetryTransient, "natnetwork", "remove", "--netname", v.Name); err != nil {
			return err
		}
	}
	d.clearNetExtra(ctx, v)
	return nil
}

// clearNetExtra drops the daemon's extradata of a removed network.
func (d *Driver) clearNetExtra(ctx context.Context, v *vnet) {
	s := d.nets.snapshot()
	for _, what := range []string{"uuid", "autostart", "transient"} {
		k := netExtraKey(v.Name, what)
		if s != nil && s.extra[k] == "" {
			continue
		}
		if _, err := d.netRun(ctx, "clear", RetryTransient, "setextradata", "global", k); err != nil {
			d.logFor(ctx).WithError(err).WithField("key", k).Warn("cannot clear a removed network's extradata")
		}
	}
}

func (c *netCache) snapshot() *netSnap {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snap
}

// NetworkCreate implements driver.Conn (net-start): a NAT network is enabled
// and started; a host-only network's DHCP server is enabled (VirtualBox runs
// it with the first machine on the network).
func (c *conn) NetworkCreate(ctx context.Context, n driver.Network) error {
	d := c.d
	d.nets.opMu.Lock()
	defer d.nets.opMu.Unlock()
	v, err := d.freshNet(ctx, n)
	if err != nil {
		return err
	}
	if v.active() {
		return errdefs.New(errdefs.ErrOperationInvalid, "network is already active")
	}
	defer d.invalidateNetworks()
	return d.startNetwork(ctx, v)
}

func (d *Driver) startNetwork(ctx context.Context, v *vnet) error {
	if v.Kind == netxml.HostOnly {
		_, err := d.netRun(ctx, "cannot enable the DHCP server", RetryTransient, append(append([]string{"dhcpserver", "modify"}, dhcpArgs(v)...), "--enable")...)
		return err
	}
	if _, err := d.netRun(ctx, "cannot enable the NAT network", RetryTransient, "natnetwork", "modify", "--netname", v.Name, "--enable"); err != nil {
		return err
	}
	_, err := d.netRun(ctx, "cannot start the NAT network", RetryTransient, "natnetwork", "start", "--netname", v.Name)
	return err
}

// NetworkDestroy implements driver.Conn: the reverse of NetworkCreate; a
// transient network (net-create) is removed.
func (c *conn) NetworkDestroy(ctx context.Context, n driver.Network) error {
	d := c.d
	d.nets.opMu.Lock()
	defer d.nets.opMu.Unlock()
	v, err := d.freshNet(ctx, n)
	if err != nil {
		return err
	}
	if !v.stoppable() {
		return errdefs.Newf(errdefs.ErrOperationInvalid,
			"host-only network '%s' has no DHCP server to stop: VirtualBox keeps the interface usable while it exists (net-undefine removes it)", v.Name)
	}
	if !v.active() {
		return errdefs.Newf(errdefs.ErrOperationInvalid, "network '%s' is not active", v.Name)
	}
	defer d.invalidateNetworks()
	if v.Kind == netxml.HostOnly {
		if _, err := d.netRun(ctx, "cannot disable the DHCP server", RetryTransient, append(append([]string{"dhcpserver", "modify"}, dhcpArgs(v)...), "--disable")...); err != nil {
			return err
		}
		if _, err := d.netRun(ctx, "stop", RetryTransient, append([]string{"dhcpserver", "stop"}, dhcpArgs(v)...)...); err != nil {
			d.logFor(ctx).WithError(err).WithField("network", v.Name).Info("the disabled DHCP server did not stop; it ends with its last machine")
		}
	} else {
		if _, err := d.netRun(ctx, "cannot stop the NAT network", RetryTransient, "natnetwork", "stop", "--netname", v.Name); err != nil {
			return err
		}
		if _, err := d.netRun(ctx, "cannot disable the NAT network", RetryTransient, "natnetwork", "modify", "--netname", v.Name, "--disable"); err != nil {
			return err
		}
	}
	if v.transient {
		return d.removeNetwork(ctx, v)
	}
	return nil
}

// NetworkSetAutostart implements driver.Conn: kept in VirtualBox's global
// extradata; the daemon starts autostart networks the first time it reads
// the networks.
func (c *conn) NetworkSetAutostart(ctx context.Context, n driver.Network, autostart bool) error {
	d := c.d
	d.nets.opMu.Lock()
	defer d.nets.opMu.Unlock()
	_, v, err := d.lookupNet(ctx, n)
	if err != nil {
		return err
	}
	if v.transient {
		return errdefs.New(errdefs.ErrOperationInvalid, "cannot set autostart for transient network")
	}
	if v.autostart == autostart {
		return nil
	}
	args := []string{"setextradata", "global", netExtraKey(v.Name, "autostart")}
	if autostart {
		args = append(args, "1")
	}
	defer d.invalidateNetworks()
	_, err = d.netRun(ctx, "cannot set the network's autostart", RetryTransient, args...)
	return err
}

// autostartNetworks starts, once per daemon, the autostart networks found
// inactive (libvirt starts them when its network driver starts).
func (d *Driver) autostartNetworks(ctx context.Context, s *netSnap) {
	d.nets.mu.Lock()
	done := d.nets.autostart
	d.nets.autostart = true
	d.nets.mu.Unlock()
	if done {
		return
	}
	started := false
	for _, v := range s.nets {
		if v.autostart && !v.active() && v.stoppable() {
			if err := d.startNetwork(d.life, v); err != nil {
				d.logFor(ctx).WithError(err).WithField("network", v.Name).Warn("cannot autostart the network")
				continue
			}
			d.logFor(ctx).WithField("network", v.Name).Info("network autostarted")
			started = true
		}
	}
	if started {
		d.invalidateNetworks()
	}
}

// NetworkUpdate implements driver.Conn for what VirtualBox's DHCP servers
// hold: fixed addresses by MAC (ip-dhcp-host: add, modify, delete) and the
// one address range (ip-dhcp-range: modify). VirtualBox applies a change to
// the running network and its configuration at once, so every
// VIR_NETWORK_UPDATE_AFFECT_* combination does the same.
func (c *conn) NetworkUpdate(ctx context.Context, n driver.Network, command, section uint32, parentIndex int32, doc string, flags uint32) error {
	if flags&^(netUpdateAffectLive|netUpdateAffectConfig) != 0 {
		return unsupportedFlags(flags&^(netUpdateAffectLive|netUpdateAffectConfig), "virNetworkUpdate")
	}
	d := c.d
	d.nets.opMu.Lock()
	defer d.nets.opMu.Unlock()
	v, err := d.freshNet(ctx, n)
	if err != nil {
		return err
	}
	if section != netSectionDHCPHost && section != netSectionDHCPRange {
		return errdefs.Newf(errdefs.ErrConfigUnsupported,
			"VirtualBox networks can update ip-dhcp-host and ip-dhcp-range only, not section %d", section)
	}
	if command < netUpdateModify || command > netUpdateAddFirst {
		return errdefs.Newf(errdefs.ErrInvalidArg, "unrecognized network update command code %d", command)
	}
	if parentIndex > 0 {
		return errdefs.Newf(errdefs.ErrOperationInvalid, "couldn't update dhcp host entry - no <ip> element found at index %d in network '%s'", parentIndex, v.Name)
	}
	if v.DHCP == nil {
		return errdefs.Newf(errdefs.ErrOperationInvalid, "network '%s' has no DHCP server (no <dhcp> in its <ip>)", v.Name)
	}
	defer d.invalidateNetworks()
	if !v.dhcpKnown {
		// A NAT network with DHCP on whose server VirtualBox has not made yet.
		args := append([]string{"dhcpserver", "add"}, dhcpArgs(v)...)
		args = append(args, "--ip", v.DHCP.ServerIP, "--netmask", v.Mask, "--lowerip", v.DHCP.Lower, "--upperip", v.DHCP.Upper, "--enable")
		if _, err := d.netRun(ctx, "cannot add the DHCP server", NoRetry, args...); err != nil {
			return err
		}
	}
	sub := v.Subnet()
	if section == netSectionDHCPRange {
		var r libvirtxml.NetworkDHCPRange
		if err := r.Unmarshal(doc); err != nil {
			return errdefs.Wrap(errdefs.ErrXML, err, "can't parse dhcp range: "+err.Error())
		}
		if command != netUpdateModify {
			return errdefs.Newf(errdefs.ErrConfigUnsupported, "a VirtualBox DHCP server has exactly one range: only net-update modify ip-dhcp-range works")
		}
		lo, hi, err := netxml.CheckRange(v.Net, sub, r.Start, r.End)
		if err != nil {
			return err
		}
		want := v.Net
		dh := *v.DHCP
		dh.Lower, dh.Upper = lo, hi
		want.DHCP = &dh
		args := append([]string{"dhcpserver", "modify"}, dhcpArgs(v)...)
		args = append(args, "--ip", want.ServerIP(v.DHCP.ServerIP), "--netmask", v.Mask, "--lowerip", lo, "--upperip", hi)
		_, err = d.netRun(ctx, "cannot change the DHCP range", RetryTransient, args...)
		return err
	}
	var hx libvirtxml.NetworkDHCPHost
	if err := hx.Unmarshal(doc); err != nil {
		return errdefs.Wrap(errdefs.ErrXML, err, "can't parse dhcp host: "+err.Error())
	}
	if command == netUpdateDelete && hx.IP == "" && hx.MAC != "" {
		hx.IP = "0.0.0.0" // a delete may name the MAC only
	}
	var h netxml.Host
	if command == netUpdateDelete {
		hw, err := net.ParseMAC(hx.MAC)
		if err != nil || hx.MAC == "" {
			return errdefs.New(errdefs.ErrConfigUnsupported, "VirtualBox's DHCP servers fix addresses by MAC: the <host> to delete needs mac=")
		}
		h.MAC = hw.String()
	} else {
		hh, notes, err := netxml.CheckHost(sub, hx)
		if err != nil {
			return err
		}
		d.logNetNotes(ctx, v.Name, notes)
		h = hh
	}
	idx := -1
	for i, e := range v.DHCP.Hosts {
		if e.MAC == h.MAC {
			idx = i
		}
	}
	have := v.DHCP.Hosts
	want := append([]netxml.Host(nil), have...)
	switch command {
	case netUpdateAddFirst, netUpdateAddLast:
		if idx >= 0 {
			return errdefs.Newf(errdefs.ErrOperationInvalid, "there is an existing dhcp host entry in network '%s' that matches \"<host mac='%s'/>\"", v.Name, h.MAC)
		}
		for _, e := range have {
			if e.IP == h.IP {
				return errdefs.Newf(errdefs.ErrOperationInvalid, "there is an existing dhcp host entry in network '%s' that matches \"<host ip='%s'/>\"", v.Name, h.IP)
			}
		}
		want = append(want, h)
	case netUpdateDelete, netUpdateModify:
		if idx < 0 {
			return errdefs.Newf(errdefs.ErrOperationInvalid, "couldn't locate a matching dhcp host entry in network '%s'", v.Name)
		}
		if command == netUpdateDelete {
			want = append(want[:idx], want[idx+1:]...)
		} else {
			want[idx] = h
		}
	}
	return d.setDHCPHosts(ctx, v, have, want)
}
