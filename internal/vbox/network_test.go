package vbox

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
	"github.com/virtvboxd/virtvboxd/internal/vbox/netxml"
)

func netNames(t *testing.T, c driver.Conn, flags uint32) string {
	t.Helper()
	nets, err := c.ListAllNetworks(context.Background(), flags)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range nets {
		names = append(names, n.Name)
	}
	return strings.Join(names, ",")
}

// TestNetworkLifecycle: define, start, update, destroy and undefine a
// host-only and a NAT network on each version, checking the simulator's
// state after each step.
func TestNetworkLifecycle(t *testing.T) {
	for _, v := range []string{"6.1", "7.0", "7.1"} {
		t.Run(v, func(t *testing.T) {
			s := newSim(t, withVersion(v))
			s.seed(1, 0)
			ctx := context.Background()
			c := s.conn
			if got := netNames(t, c, 0); got != "vboxnet0,vboxnet1,NatNetwork" {
				t.Fatalf("seeded networks: %s", got)
			}
			ho := `<network><name>vboxnet2</name><bridge name='vboxnet2'/>
  <ip address='192.168.58.1' netmask='255.255.255.0'><dhcp><range start='192.168.58.10' end='192.168.58.50'/>
  <host mac='08:00:27:AA:BB:CC' name='web' ip='192.168.58.5'/></dhcp></ip></network>`
			n, err := c.NetworkDefineXML(ctx, ho, 0)
			if err != nil {
				t.Fatal(err)
			}
			if active, _ := c.NetworkIsActive(ctx, n); active {
				t.Error("a defined host-only network with DHCP is active")
			}
			out := s.vbm("list", "dhcpservers")
			for _, want := range []string{"NetworkName:    HostInterfaceNetworking-vboxnet2\nDhcpd IP:       192.168.58.100\nLowerIPAddress: 192.168.58.10\nUpperIPAddress: 192.168.58.50\nNetworkMask:    255.255.255.0\nEnabled:        No\n",
				"Individual Config:    MAC 08:00:27:aa:bb:cc\n    Fixed Address:    192.168.58.5\n"} {
				if !strings.Contains(out, want) {
					t.Errorf("dhcpservers lack %q:\n%s", want, out)
				}
			}
			x, err := c.NetworkGetXMLDesc(ctx, n, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"<name>vboxnet2</name>", "<bridge name='vboxnet2'/>", "<ip address='192.168.58.1' netmask='255.255.255.0'>",
				"<range start='192.168.58.10' end='192.168.58.50'/>", "<host mac='08:00:27:aa:bb:cc' ip='192.168.58.5'/>"} {
				if !strings.Contains(x, want) {
					t.Errorf("dumpxml lacks %s:\n%s", want, x)
				}
			}
			// dumpxml | define changes nothing.
			s.runner.reset()
			if _, err := c.NetworkDefineXML(ctx, x, 0); err != nil {
				t.Fatal(err)
			}
			if calls := s.runner.reset(); calls != 4 { // two reads before, two after
				t.Errorf("redefine ran %d VBoxManage commands, want only the 4 reads", calls)
			}
			if err := c.NetworkCreate(ctx, n); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(s.vbm("list", "dhcpservers"), "LowerIPAddress: 192.168.58.10\nUpperIPAddress: 192.168.58.50\nNetworkMask:    255.255.255.0\nEnabled:        Yes") {
				t.Error("net-start did not enable the DHCP server")
			}
			if err := c.NetworkUndefine(ctx, n); !errors.Is(err, errdefs.ErrOperationInvalid) {
				t.Errorf("undefine of an active network: %v", err)
			}
			if err := c.NetworkUpdate(ctx, n, netUpdateAddLast, netSectionDHCPHost, -1, `<host mac='08:00:27:00:00:09' ip='192.168.58.9'/>`, netUpdateAffectLive|netUpdateAffectConfig); err != nil {
				t.Fatal(err)
			}
			if err := c.NetworkUpdate(ctx, n, netUpdateDelete, netSectionDHCPHost, -1, `<host mac='08:00:27:aa:bb:cc'/>`, 0); err != nil {
				t.Fatal(err)
			}
			if err := c.NetworkUpdate(ctx, n, netUpdateModify, netSectionDHCPRange, -1, `<range start='192.168.58.20' end='192.168.58.60'/>`, 0); err != nil {
				t.Fatal(err)
			}
			out = s.vbm("list", "dhcpservers")
			if !strings.Contains(out, "MAC 08:00:27:00:00:09\n    Fixed Address:    192.168.58.9") || strings.Contains(out, "aa:bb:cc") ||
				!strings.Contains(out, "LowerIPAddress: 192.168.58.20\nUpperIPAddress: 192.168.58.60") {
				t.Errorf("after updates:\n%s", out)
			}
			for _, bad := range []struct {
				cmd, section uint32
				xml          string
				class        error
			}{
				{netUpdateAddLast, netSectionDHCPHost, `<host mac='08:00:27:00:00:09' ip='192.168.58.8'/>`, errdefs.ErrOperationInvalid},
				{netUpdateAddLast, netSectionDHCPHost, `<host mac='08:00:27:00:00:0a' ip='10.0.0.8'/>`, errdefs.ErrConfigUnsupported},
				{netUpdateAddLast, netSectionDHCPRange, `<range start='192.168.58.70' end='192.168.58.80'/>`, errdefs.ErrConfigUnsupported},
				{netUpdateModify, 10, `<host ip='192.168.58.1'><hostname>x</hostname></host>`, errdefs.ErrConfigUnsupported},
			} {
				if err := c.NetworkUpdate(ctx, n, bad.cmd, bad.section, -1, bad.xml, 0); !errors.Is(err, bad.class) {
					t.Errorf("update %d/%d %s: %v, want %v", bad.cmd, bad.section, bad.xml, err, bad.class)
				}
			}
			if err := c.NetworkDestroy(ctx, n); err != nil {
				t.Fatal(err)
			}
			if err := c.NetworkUndefine(ctx, n); err != nil {
				t.Fatal(err)
			}
			if out := s.vbm("list", "hostonlyifs"); strings.Contains(out, "vboxnet2") {
				t.Errorf("vboxnet2 left behind:\n%s", out)
			}
			if out := s.vbm("list", "dhcpservers"); strings.Contains(out, "vboxnet2") {
				t.Errorf("its DHCP server left behind:\n%s", out)
			}

			// A NAT network, given a UUID, started by net-create (transient).
			nat := `<network><name>lab</name><uuid>0b7b6e1c-3f55-4d5e-9a61-2f0c8a7e6d11</uuid><forward mode='nat'/>
  <ip address='10.9.0.1' prefix='24'><dhcp><range start='10.9.0.4' end='10.9.0.254'/></dhcp></ip></network>`
			n, err = c.NetworkCreateXML(ctx, nat, 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := netNames(t, c, driver.ListNetworksTransient); got != "lab" {
				t.Errorf("transient networks: %q", got)
			}
			if out := s.vbm("natnetwork", "list"); !strings.Contains(out, "lab") || !strings.Contains(out, "10.9.0.0/24") {
				t.Errorf("natnetwork list:\n%s", out)
			}
			if u, _ := c.NetworkLookupByUUID(ctx, n.UUID); u.Name != "lab" {
				t.Errorf("lookup by the given UUID: %+v", u)
			}
			if x, _ := c.NetworkGetXMLDesc(ctx, n, 0); !strings.Contains(x, "0b7b6e1c-3f55-4d5e-9a61-2f0c8a7e6d11") || !strings.Contains(x, "<forward mode='nat'/>") {
				t.Errorf("NAT dumpxml:\n%s", x)
			}
			// net-define of a transient network makes it persistent; a
			// second net-create of it is refused.
			x, _ = c.NetworkGetXMLDesc(ctx, n, 0)
			if _, err := c.NetworkDefineXML(ctx, x, 0); err != nil {
				t.Fatal(err)
			}
			if p, _ := c.NetworkIsPersistent(ctx, n); !p {
				t.Error("defined network still transient")
			}
			if _, err := c.NetworkCreateXML(ctx, nat, 0); !errors.Is(err, errdefs.ErrOperationFailed) {
				t.Errorf("net-create of an existing network: %v", err)
			}
			if err := c.NetworkDestroy(ctx, n); err != nil {
				t.Fatal(err)
			}
			if out := s.vbm("natnetwork", "list"); !strings.Contains(out, "lab") {
				t.Errorf("a destroyed persistent network went away:\n%s", out)
			}
			if err := c.NetworkCreate(ctx, n); err != nil {
				t.Fatal(err)
			}
			if err := c.NetworkSetAutostart(ctx, n, true); err != nil {
				t.Fatal(err)
			}
			if got := netNames(t, c, driver.ListNetworksAutostart); got != "lab" {
				t.Errorf("autostart networks: %q", got)
			}
			// Undo the persistence to check that a transient network goes
			// with its net-destroy.
			s.vbm("setextradata", "global", "virtvboxd/network/lab/transient", "1")
			s.vbm("setextradata", "global", "virtvboxd/network/lab/autostart")
			s.drv.invalidateNetworks()
			if err := c.NetworkDestroy(ctx, n); err != nil {
				t.Fatal(err)
			}
			if out := s.vbm("natnetwork", "list"); strings.Contains(out, "lab") {
				t.Errorf("a destroyed transient network stays:\n%s", out)
			}
			if out := s.vbm("getextradata", "global", "enumerate"); strings.Contains(out, "virtvboxd/network/lab") {
				t.Errorf("extradata left:\n%s", out)
			}
		})
	}
}

// TestNetworkBadInput: each refusal names the problem and changes nothing
// in VirtualBox.
func TestNetworkBadInput(t *testing.T) {
	s := newSim(t)
	s.seed(1, 0)
	ctx := context.Background()
	c := s.conn
	state := func() string {
		return s.vbm("list", "hostonlyifs") + s.vbm("list", "natnets") + s.vbm("list", "dhcpservers") + s.vbm("getextradata", "global", "enumerate")
	}
	before := state()
	nat0, err := c.NetworkLookupByName(ctx, "NatNetwork")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, xml string
		class     error
		detail    string
	}{
		{"overlap", `<network><name>n2</name><forward mode='nat'/><ip address='10.0.2.1' netmask='255.255.255.0'/></network>`,
			errdefs.ErrOperationInvalid, "overlaps network 'NatNetwork'"},
		{"overlap host-only", `<network><name>vboxnet2</name><ip address='192.168.56.129' prefix='25'/></network>`,
			errdefs.ErrOperationInvalid, "overlaps network 'vboxnet0'"},
		{"quote", `<network><name>it's</name><forward mode='nat'/><ip address='10.5.0.1' prefix='24'/></network>`,
			errdefs.ErrXML, "cannot contain quotes"},
		{"dash", `<network><name>--netname</name><forward mode='nat'/><ip address='10.5.0.1' prefix='24'/></network>`,
			errdefs.ErrXML, "cannot start with '-'"},
		{"host-only name", `<network><name>lan</name><ip address='192.168.60.1' prefix='24'/></network>`,
			errdefs.ErrConfigUnsupported, "takes its name (vboxnetN)"},
		{"not the next interface", `<network><name>vboxnet7</name><ip address='192.168.60.1' prefix='24'/></network>`,
			errdefs.ErrConfigUnsupported, "the next one is 'vboxnet2'"},
		{"route mode", `<network><name>r</name><forward mode='route'/><ip address='10.6.0.1' prefix='24'/></network>`,
			errdefs.ErrConfigUnsupported, "forward mode 'route'"},
		{"range outside", `<network><name>n3</name><forward mode='nat'/><ip address='10.7.0.1' prefix='24'><dhcp><range start='10.7.1.2' end='10.7.1.9'/></dhcp></ip></network>`,
			errdefs.ErrConfigUnsupported, "not entirely within"},
		{"two ranges", `<network><name>n3</name><forward mode='nat'/><ip address='10.7.0.1' prefix='24'><dhcp><range start='10.7.0.2' end='10.7.0.9'/><range start='10.7.0.20' end='10.7.0.29'/></dhcp></ip></network>`,
			errdefs.ErrConfigUnsupported, "one address range"},
		{"nat gateway", `<network><name>n3</name><forward mode='nat'/><ip address='10.7.0.5' prefix='24'/></network>`,
			errdefs.ErrConfigUnsupported, "gateway is its first address"},
		{"uuid taken", `<network><name>n4</name><uuid>` + netUUID(nat0) + `</uuid><forward mode='nat'/><ip address='10.8.0.1' prefix='24'/></network>`,
			errdefs.ErrOperationFailed, "already defined with uuid"},
		{"kind change", `<network><name>NatNetwork</name><ip address='10.0.2.1' prefix='24'/></network>`,
			errdefs.ErrConfigUnsupported, "takes its name"},
		{"not xml", `<network><name>x`, errdefs.ErrXML, "network_definition"},
		// VirtualBox refuses the address after the interface exists: the
		// define removes the interface it made.
		{"address VirtualBox refuses", `<network><name>vboxnet2</name><ip address='10.10.10.1' prefix='24'/></network>`,
			errdefs.ErrInternal, "cannot configure the host-only interface: Code E_ACCESSDENIED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.NetworkDefineXML(ctx, tc.xml, 0)
			if !errors.Is(err, tc.class) || !strings.Contains(errdefs.Detail(err), tc.detail) {
				t.Errorf("define: %v; want %v with %q", err, tc.class, tc.detail)
			}
		})
	}
	if err := c.NetworkUndefine(ctx, nat0); !errors.Is(err, errdefs.ErrOperationInvalid) || !strings.Contains(errdefs.Detail(err), "still active") {
		t.Errorf("undefine of the running NAT network: %v", err)
	}
	if _, err := c.NetworkLookupByName(ctx, "nope"); !errors.Is(err, errdefs.ErrNoNetwork) || errdefs.Detail(err) != "no network with matching name 'nope'" {
		t.Errorf("unknown network: %v", err)
	}
	if after := state(); after != before {
		t.Errorf("refused calls changed VirtualBox:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func netUUID(n driver.Network) string { return netxml.FormatUUID(n.UUID) }

// TestNetworkReadsFromMemory: a burst of reads runs VBoxManage for one
// refresh, not per call.
func TestNetworkReadsFromMemory(t *testing.T) {
	s := newSim(t)
	s.seed(1, 0)
	ctx := context.Background()
	s.drv.opts.MaxAge = 1 << 62
	if _, err := s.conn.ListAllNetworks(ctx, 0); err != nil {
		t.Fatal(err)
	}
	s.runner.reset()
	for i := 0; i < 20; i++ {
		nets, err := s.conn.ListAllNetworks(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nets {
			if _, err := s.conn.NetworkGetXMLDesc(ctx, n, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := s.runner.reset(); n != 0 {
		t.Errorf("%d VBoxManage runs for cached reads", n)
	}
	// Readers of a stale reading share one refresh: two processes.
	s.drv.invalidateNetworks()
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.conn.NetworkLookupByName(ctx, "NatNetwork"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := s.runner.reset(); n != 2 {
		t.Errorf("%d VBoxManage runs for 16 concurrent readers of a stale reading, want 2", n)
	}
}

// TestNetworkDHCPLeases: a running machine's adapter on a network has the
// lease its DHCP server gives (its fixed address when it has one); a
// stopped machine, another network or another MAC has none.
func TestNetworkDHCPLeases(t *testing.T) {
	for _, v := range []string{"6.1", "7.1"} {
		t.Run(v, func(t *testing.T) {
			s := newSim(t, withVersion(v))
			s.seed(0, 0)
			ctx := context.Background()
			dom := s.create("leasy")
			nicOpts := map[string][]string{
				"6.1": {"--nic1", "hostonly", "--hostonlyadapter1", "vboxnet0", "--macaddress1", "080027AABB01",
					"--nic2", "natnetwork", "--nat-network2", "NatNetwork", "--macaddress2", "080027AABB02"},
				"7.1": {"--nic1", "hostonly", "--host-only-adapter1", "vboxnet0", "--mac-address1", "080027AABB01",
					"--nic2", "natnetwork", "--nat-network2", "NatNetwork", "--mac-address2", "080027AABB02"},
			}[v]
			s.vbm(append([]string{"modifyvm", "leasy"}, nicOpts...)...)
			s.drv.inv.Invalidate()
			ho, err := s.conn.NetworkLookupByName(ctx, "vboxnet0")
			if err != nil {
				t.Fatal(err)
			}
			if l, err := s.conn.NetworkGetDHCPLeases(ctx, ho, "", 0); err != nil || len(l) != 0 {
				t.Fatalf("leases of a stopped machine: %v %v", l, err)
			}
			if _, err := s.conn.DomainCreate(ctx, dom, 0); err != nil {
				t.Fatal(err)
			}
			if err := s.conn.NetworkUpdate(ctx, ho, netUpdateAddLast, netSectionDHCPHost, -1, `<host mac='08:00:27:aa:bb:01' ip='192.168.56.77'/>`, 0); err != nil {
				t.Fatal(err)
			}
			l, err := s.conn.NetworkGetDHCPLeases(ctx, ho, "", 0)
			if err != nil || len(l) != 1 {
				t.Fatalf("vboxnet0 leases: %+v %v", l, err)
			}
			if l[0].MAC != "08:00:27:aa:bb:01" || l[0].IPAddr != "192.168.56.77" || l[0].Prefix != 24 || l[0].Iface != "vboxnet0" || l[0].ExpiryTime == 0 {
				t.Errorf("vboxnet0 lease: %+v", l[0])
			}
			if l, _ := s.conn.NetworkGetDHCPLeases(ctx, ho, "08:00:27:aa:bb:02", 0); len(l) != 0 {
				t.Errorf("leases of another MAC: %+v", l)
			}
			nat, _ := s.conn.NetworkLookupByName(ctx, "NatNetwork")
			l, err = s.conn.NetworkGetDHCPLeases(ctx, nat, "08:00:27:AA:BB:02", 0)
			if err != nil || len(l) != 1 || l[0].MAC != "08:00:27:aa:bb:02" {
				t.Fatalf("NatNetwork leases: %+v %v", l, err)
			}
			if ip := net.ParseIP(l[0].IPAddr); ip == nil || !(&net.IPNet{IP: net.IPv4(10, 0, 2, 0), Mask: net.CIDRMask(24, 32)}).Contains(ip) {
				t.Errorf("NatNetwork lease outside its range: %+v", l[0])
			}
		})
	}
}

// BenchmarkNetworkDumpXMLCached: net-dumpxml served from the reading.
func BenchmarkNetworkDumpXMLCached(b *testing.B) {
	s := newSim(b)
	s.seed(0, 0)
	s.drv.opts.MaxAge = 1 << 62
	ctx := context.Background()
	n, err := s.conn.NetworkLookupByName(ctx, "vboxnet0")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.conn.NetworkGetXMLDesc(ctx, n, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNetworkRead: one reading of every network from VirtualBox (the
// simulator, no latency): what a stale cache costs.
func BenchmarkNetworkRead(b *testing.B) {
	s := newSim(b)
	s.seed(0, 0)
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		s.drv.invalidateNetworks()
		if _, err := s.conn.ListAllNetworks(ctx, 0); err != nil {
			b.Fatal(err)
		}
	}
}
