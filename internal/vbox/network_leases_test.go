package vbox

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// TestLeaseSources: domifaddr --source lease asks the DHCP server of each
// network an adapter is on (findlease per adapter) and a warm answer runs
// nothing; when vboxnet0's DHCP server knows no lease, net-dhcp-leases
// reports the address the Guest Additions publish for that adapter's MAC,
// and domifaddr --source lease leaves that adapter out.
func TestLeaseSources(t *testing.T) {
	s := newSim(t, withVersion("7.1"))
	s.seed(0, 0)
	ctx := context.Background()
	dom := s.create("leasy")
	s.vbm("modifyvm", "leasy", "--nic1", "hostonly", "--host-only-adapter1", "vboxnet0", "--mac-address1", "080027AABB01",
		"--nic2", "natnetwork", "--nat-network2", "NatNetwork", "--mac-address2", "080027AABB02",
		"--nic3", "nat", "--mac-address3", "080027AABB03")
	s.drv.inv.Invalidate()

	_, err := s.conn.DomainInterfaceAddresses(ctx, dom, addrSrcLease, 0)
	wantClass(t, err, errdefs.ErrOperationInvalid, "domain is not running")
	if _, err := s.conn.DomainCreate(ctx, dom, 0); err != nil {
		t.Fatal(err)
	}
	_, err = s.conn.DomainInterfaceAddresses(ctx, dom, addrSrcARP, 0)
	wantClass(t, err, errdefs.ErrArgUnsupported, "source arp is not supported")

	ifs, err := s.conn.DomainInterfaceAddresses(ctx, dom, addrSrcLease, 0)
	if err != nil || len(ifs) != 2 {
		t.Fatalf("lease addresses: %+v, %v; want the two adapters on networks with DHCP servers", ifs, err)
	}
	for i, want := range []struct{ mac, prefix string }{{"08:00:27:aa:bb:01", "192.168.56."}, {"08:00:27:aa:bb:02", "10.0.2."}} {
		x := ifs[i]
		if x.HWAddr != want.mac || len(x.Addrs) != 1 || !strings.HasPrefix(x.Addrs[0].Addr, want.prefix) || x.Addrs[0].Prefix != 24 || x.Name == "" {
			t.Errorf("interface %d: %+v, want %s with an address in %s0/24", i, x, want.mac, want.prefix)
		}
	}
	ho, err := s.conn.NetworkLookupByName(ctx, "vboxnet0")
	if err != nil {
		t.Fatal(err)
	}
	lookups := func() int { return len(s.cmdsWith("findlease")) + len(s.cmdsWith("guestproperty")) }
	before := lookups()
	again, err := s.conn.DomainInterfaceAddresses(ctx, dom, addrSrcLease, 0)
	if err != nil || len(again) != 2 || again[0].Addrs[0].Addr != ifs[0].Addrs[0].Addr {
		t.Errorf("warm lease addresses: %+v, %v", again, err)
	}
	l, err := s.conn.NetworkGetDHCPLeases(ctx, ho, "", 0)
	if err != nil || len(l) != 1 || l[0].IPAddr != ifs[0].Addrs[0].Addr || l[0].ExpiryTime == 0 {
		t.Errorf("net-dhcp-leases shares the lookup: %+v, %v", l, err)
	}
	if n := lookups() - before; n != 0 {
		t.Errorf("warm lease reads ran %d findlease or guestproperty, want 0", n)
	}

	// vboxnet0's DHCP server stops leasing (changed by hand, outside the
	// daemon): no Guest Additions, no address; with them, theirs.
	s.vbm("dhcpserver", "modify", "--ifname", "vboxnet0", "--disable")
	s.drv.invalidateNetworks()
	if l, err := s.conn.NetworkGetDHCPLeases(ctx, ho, "", 0); err != nil || len(l) != 0 {
		t.Errorf("leases without a DHCP lease or Guest Additions: %+v, %v", l, err)
	}
	s.vbm("setextradata", "leasy", "vboxsim/GuestAdditions", "7.1.4 r165100")
	s.drv.leases.forget()
	f0, g0 := len(s.cmdsWith("findlease")), len(s.cmdsWith("guestproperty"))
	l, err = s.conn.NetworkGetDHCPLeases(ctx, ho, "", 0)
	if err != nil || len(l) != 1 {
		t.Fatalf("leases from the Guest Additions: %+v, %v", l, err)
	}
	// A cold call: one findlease for the one adapter on vboxnet0 and one
	// guestproperty enumerate for its machine.
	if f, g := len(s.cmdsWith("findlease"))-f0, len(s.cmdsWith("guestproperty"))-g0; f != 1 || g != 1 {
		t.Errorf("cold net-dhcp-leases ran %d findlease and %d guestproperty, want one each", f, g)
	}
	props := parseGuestProperties([]byte(s.vbm("guestproperty", "enumerate", "leasy")))
	if l[0].MAC != "08:00:27:aa:bb:01" || l[0].IPAddr != guestIP(props, "080027AABB01") || l[0].Prefix != 24 || l[0].ExpiryTime != 0 || l[0].Iface != "vboxnet0" {
		t.Errorf("lease from the Guest Additions: %+v, guest properties %v", l[0], props)
	}
	ifs, err = s.conn.DomainInterfaceAddresses(ctx, dom, addrSrcLease, 0)
	if err != nil || len(ifs) != 1 || ifs[0].HWAddr != "08:00:27:aa:bb:02" {
		t.Errorf("lease addresses with vboxnet0's server disabled: %+v, %v", ifs, err)
	}
	if _, err := s.conn.NetworkGetDHCPLeases(ctx, ho, "not-a-mac", 0); !errors.Is(err, errdefs.ErrInvalidArg) {
		t.Errorf("a bad MAC: %v", err)
	}
}

// guestIP is the V4/IP the guest publishes for the adapter with MAC mac
// (VirtualBox's form, "080027AABB01").
func guestIP(p map[string]string, mac string) string {
	for k, v := range p {
		if strings.HasSuffix(k, "/MAC") && v == mac {
			return p[strings.TrimSuffix(k, "MAC")+"V4/IP"]
		}
	}
	return "none published"
}
