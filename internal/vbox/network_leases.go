package vbox

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
	"github.com/virtvboxd/virtvboxd/internal/vbox/netxml"
)

// maxNICs bounds the adapter slots read from a machine's settings (ICH9
// machines have 36).
const maxNICs = 36

// NetworkGetDHCPLeases implements driver.Conn: for each adapter of a
// running machine on the network (the machines and their settings as the
// inventory holds them), the network's DHCP server is asked for the MAC's
// lease (`dhcpserver findlease`, VirtualBox 6.1+). A network without a DHCP
// server has no leases. These are live data: each call asks VirtualBox.
func (c *conn) NetworkGetDHCPLeases(ctx context.Context, n driver.Network, mac string, flags uint32) ([]driver.NetworkDHCPLease, error) {
	if flags != 0 {
		return nil, unsupportedFlags(flags, "virNetworkGetDHCPLeases")
	}
	d := c.d
	_, v, err := d.lookupNet(ctx, n)
	if err != nil {
		return nil, err
	}
	leases := []driver.NetworkDHCPLease{}
	if !v.dhcpKnown {
		return leases, nil
	}
	if mac != "" {
		hw, err := net.ParseMAC(mac)
		if err != nil {
			return nil, errdefs.Newf(errdefs.ErrInvalidArg, "invalid MAC address '%s'", mac)
		}
		mac = hw.String()
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
			attach := info.Str(fmt.Sprintf("nic%d", i))
			on := (v.Kind == netxml.HostOnly && attach == "hostonly" && info.Str(fmt.Sprintf("hostonlyadapter%d", i)) == v.Name) ||
				(v.Kind == netxml.NAT && attach == "natnetwork" && info.Str(fmt.Sprintf("nat-network%d", i)) == v.Name)
			if !on {
				continue
			}
			hw, err := net.ParseMAC(colonMAC(info.Str(fmt.Sprintf("macaddress%d", i))))
			if err != nil || (mac != "" && hw.String() != mac) {
				continue
			}
			args := append(append([]string{"dhcpserver", "findlease"}, dhcpArgs(v)...), "--mac-address", hw.String())
			out, _, err := d.runPolicy(ctx, RetryTransient, args...)
			if err != nil {
				d.logFor(ctx).WithError(err).WithField("vm", m.Name).Debug("no DHCP lease")
				continue
			}
			r := firstRecord(out)
			ip := r.Str("IP Address")
			if net.ParseIP(ip).To4() == nil {
				continue
			}
			l := driver.NetworkDHCPLease{Iface: v.Bridge, Type: 0, MAC: hw.String(), IPAddr: ip, Prefix: uint32(ones)}
			// "Expire:      2026-12-03T18:40:00.000000000Z (1796323200)"
			if exp := r.Str("Expire"); strings.Contains(exp, "(") {
				s := exp[strings.LastIndex(exp, "(")+1:]
				if secs, err := strconv.ParseInt(strings.TrimSuffix(s, ")"), 10, 64); err == nil {
					l.ExpiryTime = secs
				}
			}
			leases = append(leases, l)
		}
	}
	return leases, nil
}

func firstRecord(out []byte) Record {
	if rs := ParseRecords(out); len(rs) > 0 {
		return rs[0]
	}
	return Record{}
}
