package vbox

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
	"github.com/virtvboxd/virtvboxd/internal/vbox/netxml"
)

// maxNICs bounds the adapter slots read from a machine's settings (ICH9
// machines have 36).
const maxNICs = 36

// leaseMaxAge is how long a DHCP server's answer for one MAC address, and a
// guest's published addresses, are served from memory (net-dhcp-leases and
// domifaddr --source lease share them).
const leaseMaxAge = 5 * time.Second

// leaseCache holds the recent lease answers; its zero value is ready
// (Driver.leases). No VBoxManage runs under mu.
type leaseCache struct {
	mu     sync.Mutex
	leases map[string]leaseAnswer // by network kind, name and MAC
	guests map[string]guestAnswer // by machine UUID
}

// leaseAnswer is one `dhcpserver findlease` answer: ip is "" when the
// server knows no lease for the MAC.
type leaseAnswer struct {
	at     time.Time
	ip     string
	expiry int64 // seconds since the epoch; 0 unknown
}

// guestAnswer is a running guest's /VirtualBox/GuestInfo/ properties (nil
// when its Guest Additions publish none).
type guestAnswer struct {
	at    time.Time
	props map[string]string
}

// forget drops every answer.
func (c *leaseCache) forget() {
	c.mu.Lock()
	c.leases, c.guests = nil, nil
	c.mu.Unlock()
}

// dhcpLease returns the lease network v's DHCP server holds for mac
// (`dhcpserver findlease`, VirtualBox 6.1+), from memory when a recent
// answer exists. ok is false when there is none: no DHCP server, no lease,
// or VirtualBox could not say.
func (d *Driver) dhcpLease(ctx context.Context, v *vnet, mac string) (leaseAnswer, bool) {
	if !v.dhcpKnown {
		return leaseAnswer{}, false
	}
	key := fmt.Sprintf("%d/%s/%s", v.Kind, v.Name, mac)
	c := &d.leases
	c.mu.Lock()
	a, hit := c.leases[key]
	c.mu.Unlock()
	if !hit || time.Since(a.at) >= leaseMaxAge {
		a = leaseAnswer{at: time.Now()}
		args := append(append([]string{"dhcpserver", "findlease"}, dhcpArgs(v)...), "--mac-address", mac)
		out, _, err := d.runPolicy(ctx, RetryTransient, args...)
		if err != nil {
			d.logFor(ctx).WithError(err).WithField("mac", mac).Debug("no DHCP lease")
		} else {
			r := firstRecord(out)
			if ip := r.Str("IP Address"); net.ParseIP(ip).To4() != nil {
				a.ip = ip
			}
			// "Expire:      2026-12-03T18:40:00.000000000Z (1796323200)"
			if exp := r.Str("Expire"); strings.Contains(exp, "(") {
				s := exp[strings.LastIndex(exp, "(")+1:]
				if secs, err := strconv.ParseInt(strings.TrimSuffix(s, ")"), 10, 64); err == nil {
					a.expiry = secs
				}
			}
		}
		if ctx.Err() != nil {
			return leaseAnswer{}, false
		}
		c.mu.Lock()
		if c.leases == nil {
			c.leases = map[string]leaseAnswer{}
		}
		for k, old := range c.leases { // keep the map to the machines still asked about
			if time.Since(old.at) >= leaseMaxAge {
				delete(c.leases, k)
			}
		}
		c.leases[key] = a
		c.mu.Unlock()
	}
	return a, a.ip != ""
}

// guestNetProps returns the /VirtualBox/GuestInfo/ properties a running
// guest publishes (one `guestproperty enumerate`), from memory when a recent
// answer exists; nil when the Guest Additions publish none.
func (d *Driver) guestNetProps(ctx context.Context, m Machine) map[string]string {
	c := &d.leases
	c.mu.Lock()
	a, hit := c.guests[m.UUID]
	c.mu.Unlock()
	if hit && time.Since(a.at) < leaseMaxAge {
		return a.props
	}
	a = guestAnswer{at: time.Now()}
	p, err := d.guestInfoProps(ctx, m)
	if err != nil {
		d.logFor(ctx).WithError(err).WithField("vm", m.Name).Debug("no guest addresses")
	} else {
		a.props = p
	}
	if ctx.Err() != nil {
		return nil
	}
	c.mu.Lock()
	if c.guests == nil {
		c.guests = map[string]guestAnswer{}
	}
	for k, old := range c.guests {
		if time.Since(old.at) >= leaseMaxAge {
			delete(c.guests, k)
		}
	}
	c.guests[m.UUID] = a
	c.mu.Unlock()
	return a.props
}

// guestAddr is the IPv4 address (and its prefix length, 0 unknown) a guest
// publishes for the interface with MAC address mac ("08:00:27:...").
func guestAddr(p map[string]string, mac string) (string, uint32, bool) {
	for _, x := range guestInterfaces(p) {
		if x.HWAddr != mac {
			continue
		}
		for _, a := range x.Addrs {
			if net.ParseIP(a.Addr).To4() != nil {
				return a.Addr, a.Prefix, true
			}
		}
	}
	return "", 0, false
}

// nicNetwork names the network adapter slot i of a machine is attached to:
// a host-only interface or a NAT network ("" for any other attachment),
// and the adapter's MAC address ("08:00:27:...", "" when unreadable).
func nicNetwork(info *Info, i int) (kind netxml.Kind, name, mac string) {
	switch info.Str(fmt.Sprintf("nic%d", i)) {
	case "hostonly":
		kind, name = netxml.HostOnly, info.Str(fmt.Sprintf("hostonlyadapter%d", i))
	case "natnetwork":
		kind, name = netxml.NAT, info.Str(fmt.Sprintf("nat-network%d", i))
	default:
		return 0, "", ""
	}
	if hw, err := net.ParseMAC(colonMAC(info.Str(fmt.Sprintf("macaddress%d", i)))); err == nil {
		mac = hw.String()
	}
	return kind, name, mac
}

// NetworkGetDHCPLeases implements driver.Conn: for each adapter of a
// running machine on the network (the machines and their settings as the
// inventory holds them), the lease the network's DHCP server holds for the
// MAC; when it holds none, the IPv4 address the guest's Guest Additions
// publish for that MAC (/VirtualBox/GuestInfo/Net/N/V4/IP), without an
// expiry time. A network without a DHCP server has no leases. Answers are
// served from memory for leaseMaxAge.
func (c *conn) NetworkGetDHCPLeases(ctx context.Context, n driver.Network, mac string, flags uint32) ([]driver.NetworkDHCPLease, error) {
	if flags != 0 {
		return nil, unsupportedFlags(flags, "virNetworkGetDHCPLeases")
	}
	d := c.d
	_, v, err := d.lookupNet(ctx, n)
	if err != nil {
		return nil, err
	}
	if mac != "" {
		hw, err := net.ParseMAC(mac)
		if err != nil {
			return nil, errdefs.Newf(errdefs.ErrInvalidArg, "invalid MAC address '%s'", mac)
		}
		mac = hw.String()
	}
	leases := []driver.NetworkDHCPLease{}
	if !v.dhcpKnown {
		return leases, nil
	}
	machines, err := d.inv.List(ctx)
	if err != nil {
		return nil, vboxError("cannot list the machines", err)
	}
	ones := 24
	if sub := v.Subnet(); sub != nil {
		ones, _ = sub.Mask.Size()
	}
	for _, m := range machines {
		if !IsOnline(m.State) || m.Inaccessible {
			continue
		}
		info, err := d.inv.Detail(ctx, m.UUID)
		if err != nil {
			d.logFor(ctx).WithError(err).WithField("vm", m.Name).Debug("no settings for the DHCP leases")
			continue
		}
		for i := 1; i <= maxNICs; i++ {
			kind, name, hw := nicNetwork(info, i)
			if name != v.Name || kind != v.Kind || hw == "" || (mac != "" && hw != mac) {
				continue
			}
			l := driver.NetworkDHCPLease{Iface: v.Bridge, Type: 0, MAC: hw, Prefix: uint32(ones)}
			if a, ok := d.dhcpLease(ctx, v, hw); ok {
				l.IPAddr, l.ExpiryTime = a.ip, a.expiry
			} else if p := d.guestNetProps(ctx, m); p != nil {
				ip, prefix, ok := guestAddr(p, hw)
				if !ok {
					continue
				}
				l.IPAddr, l.Hostname = ip, p[hostnameProp]
				if prefix != 0 {
					l.Prefix = prefix
				}
			} else {
				continue
			}
			leases = append(leases, l)
		}
	}
	return leases, nil
}

// domainLeases is DomainInterfaceAddresses with source lease: for each
// adapter of the running machine on a network with a DHCP server, the
// lease that server holds for its MAC (dhcpLease). Adapters without a
// lease are left out, as libvirt leaves out interfaces without one.
func (d *Driver) domainLeases(ctx context.Context, m Machine) ([]driver.InterfaceAddresses, error) {
	info, err := d.inv.Detail(ctx, m.UUID)
	if err != nil {
		return nil, vboxError("cannot read machine "+m.Name, err)
	}
	var snap *netSnap
	out := []driver.InterfaceAddresses{}
	var nics []nicTarget
	for i := 1; i <= maxNICs; i++ {
		kind, name, hw := nicNetwork(info, i)
		if name == "" || hw == "" {
			continue
		}
		if snap == nil {
			if snap, err = d.networks(ctx); err != nil {
				return nil, err
			}
		}
		v := snap.byName(name)
		if v == nil || v.Kind != kind {
			continue
		}
		a, ok := d.dhcpLease(ctx, v, hw)
		if !ok {
			continue
		}
		ones := 24
		if sub := v.Subnet(); sub != nil {
			ones, _ = sub.Mask.Size()
		}
		if nics == nil {
			nics = d.nicTargets(ctx, m)
		}
		out = append(out, driver.InterfaceAddresses{Name: nicName(nics, i), HWAddr: hw,
			Addrs: []driver.IPAddress{{Type: 0, Addr: a.ip, Prefix: uint32(ones)}}})
	}
	return out, nil
}

// nicTarget is an adapter slot's live <target dev> name.
type nicTarget struct {
	slot int
	name string
}

// nicTargets reads the live interface names of a running machine (what
// domiflist shows); nil when they cannot be read.
func (d *Driver) nicTargets(ctx context.Context, m Machine) []nicTarget {
	_, nics, err := d.liveDevices(ctx, m)
	if err != nil {
		return []nicTarget{}
	}
	out := []nicTarget{}
	for _, n := range nics {
		out = append(out, nicTarget{n.Slot, n.Target})
	}
	return out
}

func nicName(nics []nicTarget, slot int) string {
	for _, n := range nics {
		if n.slot == slot && n.name != "" {
			return n.name
		}
	}
	return fmt.Sprintf("nic%d", slot)
}

func firstRecord(out []byte) Record {
	if rs := ParseRecords(out); len(rs) > 0 {
		return rs[0]
	}
	return Record{}
}
