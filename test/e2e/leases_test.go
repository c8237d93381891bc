package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVirshLeases: on each VirtualBox personality, with the stock virsh,
// `domifaddr --source lease` reads the DHCP servers' leases of a running
// guest's adapters on host-only and NAT networks, net-dhcp-leases agrees,
// and once vboxnet0's DHCP server is stopped (net-destroy) net-dhcp-leases
// reports the address the Guest Additions publish for that adapter. Bad
// input is refused with VirtualBox unchanged.
func TestVirshLeases(t *testing.T) {
	for _, v := range []string{"6.1", "7.0", "7.1"} {
		t.Run(v, func(t *testing.T) {
			d := startDaemon(t, withSimVersion(v))
			d.Sim.Seed(t, 1, 0)
			vbm := func(args ...string) string { return d.Sim.mustVBoxManage(t, args...) }
			dom := filepath.Join(t.TempDir(), "dom.xml")
			if err := os.WriteFile(dom, []byte(`<domain type='vbox'><name>lvm</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type>hvm</type></os><devices>
<interface type='network'><source network='vboxnet0'/><mac address='08:00:27:bb:00:01'/><model type='virtio'/></interface>
<interface type='network'><source network='NatNetwork'/><mac address='08:00:27:bb:00:02'/><model type='virtio'/></interface>
</devices></domain>`), 0o644); err != nil {
				t.Fatal(err)
			}
			d.mustVirsh(t, "define", dom)
			vbm("setextradata", "lvm", "vboxsim/GuestAdditions", "7.0.14 r161095")
			contains(t, "lease of a stopped domain", d.virshFails(t, "domifaddr", "lvm", "--source", "lease"), "domain is not running")
			d.mustVirsh(t, "start", "lvm")

			addrs := d.mustVirsh(t, "domifaddr", "lvm", "--source", "lease")
			ip := regexp.MustCompile(`08:00:27:bb:00:01\s+ipv4\s+(192\.168\.56\.\d+)/24`).FindStringSubmatch(addrs)
			if ip == nil || !regexp.MustCompile(`08:00:27:bb:00:02\s+ipv4\s+10\.0\.2\.\d+/24`).MatchString(addrs) {
				t.Fatalf("domifaddr --source lease: want both adapters' leases:\n%s", addrs)
			}
			contains(t, "net-dhcp-leases vboxnet0", d.mustVirsh(t, "net-dhcp-leases", "vboxnet0"), "08:00:27:bb:00:01", ip[1]+"/24")
			contains(t, "net-dhcp-leases --mac", d.mustVirsh(t, "net-dhcp-leases", "NatNetwork", "--mac", "08:00:27:BB:00:02"), "08:00:27:bb:00:02", "10.0.2.")

			state := func() string {
				return vbm("list", "dhcpservers") + vbm("showvminfo", "lvm", "--machinereadable")
			}
			before := state()
			for _, c := range []struct {
				args []string
				want string
			}{
				{[]string{"domifaddr", "lvm", "--source", "arp"}, "source arp is not supported"},
				{[]string{"net-dhcp-leases", "vboxnet0", "--mac", "08:00:27"}, "invalid MAC address '08:00:27'"},
				{[]string{"net-dhcp-leases", "nosuch"}, "Network not found: no network with matching name 'nosuch'"},
				{[]string{"domifaddr", "nosuch", "--source", "lease"}, "failed to get domain 'nosuch'"},
			} {
				contains(t, strings.Join(c.args, " "), d.virshFails(t, c.args...), c.want)
			}
			if after := state(); after != before {
				t.Errorf("refusals changed VirtualBox:\nbefore:\n%s\nafter:\n%s", before, after)
			}

			// No DHCP lease on vboxnet0 any more: the Guest Additions' address.
			d.mustVirsh(t, "net-destroy", "vboxnet0")
			props := vbm("guestproperty", "enumerate", "lvm")
			gaIP := regexp.MustCompile(`Net/0/V4/IP, value: ([0-9.]+)|Net/0/V4/IP += '([0-9.]+)'`).FindStringSubmatch(props)
			if gaIP == nil {
				t.Fatalf("no V4/IP of Net/0 in:\n%s", props)
			}
			want := gaIP[1] + gaIP[2]
			contains(t, "net-dhcp-leases from the Guest Additions", d.mustVirsh(t, "net-dhcp-leases", "vboxnet0"), "08:00:27:bb:00:01", want+"/24")
			addrs = d.mustVirsh(t, "domifaddr", "lvm", "--source", "lease")
			if strings.Contains(addrs, "08:00:27:bb:00:01") || !strings.Contains(addrs, "08:00:27:bb:00:02") {
				t.Errorf("domifaddr --source lease after vboxnet0's DHCP server stopped:\n%s", addrs)
			}
		})
	}
}
