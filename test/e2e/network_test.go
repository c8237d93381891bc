package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNetworks drives every network command of the stock virsh against one
// daemon per VirtualBox personality, checking the simulated VirtualBox after
// each change, and the refusals (overlapping subnets, names with quotes or a
// leading dash, an unknown network, undefining a running network) leave it
// as it was.
func TestNetworks(t *testing.T) {
	for _, v := range []string{"6.1", "7.0", "7.1"} {
		t.Run(v, func(t *testing.T) {
			d := startDaemon(t, withSimVersion(v))
			d.Sim.Seed(t, 1, 0)
			dir := t.TempDir()
			write := func(name, doc string) string {
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
					t.Fatal(err)
				}
				return p
			}
			vbm := func(args ...string) string { return d.Sim.mustVBoxManage(t, args...) }

			list := d.mustVirsh(t, "net-list", "--all")
			contains(t, "net-list --all", list, "vboxnet0", "vboxnet1", "NatNetwork")
			contains(t, "net-list", d.mustVirsh(t, "net-list", "--name"), "vboxnet0\n", "NatNetwork\n")
			contains(t, "net-info NatNetwork", d.mustVirsh(t, "net-info", "NatNetwork"),
				"Name:           NatNetwork", "Active:         yes", "Persistent:     yes", "Autostart:      no", "Bridge:         NatNetwork")
			contains(t, "net-dumpxml NatNetwork", d.mustVirsh(t, "net-dumpxml", "NatNetwork"),
				"<forward mode='nat'/>", "<ip address='10.0.2.1' netmask='255.255.255.0'>", "<range start='10.0.2.4' end='10.0.2.254'/>")
			contains(t, "net-dumpxml vboxnet0", d.mustVirsh(t, "net-dumpxml", "vboxnet0"),
				"<bridge name='vboxnet0'/>", "<ip address='192.168.56.1' netmask='255.255.255.0'>", "<range start='192.168.56.101' end='192.168.56.254'/>")
			uuid := strings.TrimSpace(d.mustVirsh(t, "net-uuid", "vboxnet0"))
			if uuid != "786f6276-656e-4074-8000-0a0027000000" {
				t.Errorf("net-uuid vboxnet0 = %q, want the interface's GUID", uuid)
			}
			if name := strings.TrimSpace(d.mustVirsh(t, "net-name", uuid)); name != "vboxnet0" {
				t.Errorf("net-name %s = %q", uuid, name)
			}

			// net-define, net-start, net-update, net-autostart, net-destroy, net-undefine.
			ho := write("ho.xml", `<network>
  <name>vboxnet2</name>
  <ip address='192.168.58.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.58.10' end='192.168.58.99'/>
      <host mac='08:00:27:11:22:33' ip='192.168.58.5'/>
    </dhcp>
  </ip>
</network>
`)
			contains(t, "net-define", d.mustVirsh(t, "net-define", ho), "Network vboxnet2 defined")
			contains(t, "hostonlyifs", vbm("list", "hostonlyifs"), "Name:            vboxnet2", "IPAddress:       192.168.58.1")
			contains(t, "dhcpservers", vbm("list", "dhcpservers"), "NetworkName:    HostInterfaceNetworking-vboxnet2\nDhcpd IP:       192.168.58.100\nLowerIPAddress: 192.168.58.10\nUpperIPAddress: 192.168.58.99\nNetworkMask:    255.255.255.0\nEnabled:        No",
				"MAC 08:00:27:11:22:33\n    Fixed Address:    192.168.58.5")
			contains(t, "net-list --inactive", d.mustVirsh(t, "net-list", "--inactive", "--name"), "vboxnet2")
			d.mustVirsh(t, "net-start", "vboxnet2")
			contains(t, "after net-start", vbm("list", "dhcpservers"), "UpperIPAddress: 192.168.58.99\nNetworkMask:    255.255.255.0\nEnabled:        Yes")
			d.mustVirsh(t, "net-update", "vboxnet2", "add", "ip-dhcp-host", "<host mac='08:00:27:44:55:66' ip='192.168.58.6'/>", "--live", "--config")
			d.mustVirsh(t, "net-update", "vboxnet2", "delete", "ip-dhcp-host", "<host mac='08:00:27:11:22:33' ip='192.168.58.5'/>")
			d.mustVirsh(t, "net-update", "vboxnet2", "modify", "ip-dhcp-range", "<range start='192.168.58.20' end='192.168.58.90'/>")
			servers := vbm("list", "dhcpservers")
			contains(t, "after net-update", servers, "MAC 08:00:27:44:55:66\n    Fixed Address:    192.168.58.6", "LowerIPAddress: 192.168.58.20\nUpperIPAddress: 192.168.58.90")
			if strings.Contains(servers, "08:00:27:11:22:33") {
				t.Errorf("deleted host entry still there:\n%s", servers)
			}
			contains(t, "net-update dns", d.virshFails(t, "net-update", "vboxnet2", "add", "dns-host", "<host ip='192.168.58.7'><hostname>h</hostname></host>"),
				"VirtualBox networks can update ip-dhcp-host and ip-dhcp-range only")
			d.mustVirsh(t, "net-autostart", "vboxnet2")
			contains(t, "autostart extradata", vbm("getextradata", "global", "virtvboxd/network/vboxnet2/autostart"), "Value: 1")
			contains(t, "net-list --autostart", d.mustVirsh(t, "net-list", "--autostart", "--name"), "vboxnet2")
			contains(t, "net-undefine active", d.virshFails(t, "net-undefine", "vboxnet2"), "network 'vboxnet2' is still active")
			d.mustVirsh(t, "net-destroy", "vboxnet2")
			contains(t, "after net-destroy", vbm("list", "dhcpservers"), "UpperIPAddress: 192.168.58.90\nNetworkMask:    255.255.255.0\nEnabled:        No")
			d.mustVirsh(t, "net-undefine", "vboxnet2")
			if out := vbm("list", "hostonlyifs") + vbm("list", "dhcpservers") + vbm("getextradata", "global", "enumerate"); strings.Contains(out, "vboxnet2") {
				t.Errorf("vboxnet2 left behind:\n%s", out)
			}

			// net-create: a transient NAT network; its net-destroy removes it.
			nat := write("nat.xml", `<network><name>lab</name><forward mode='nat'/><ip address='10.9.0.1' prefix='24'><dhcp><range start='10.9.0.50' end='10.9.0.60'/></dhcp></ip></network>`)
			d.mustVirsh(t, "net-create", nat)
			contains(t, "natnets", vbm("list", "-l", "natnets"), "10.9.0.0/24")
			contains(t, "lab's DHCP server", vbm("list", "dhcpservers"), "NetworkName:    lab\nDhcpd IP:       10.9.0.3\nLowerIPAddress: 10.9.0.50\nUpperIPAddress: 10.9.0.60")
			contains(t, "net-list --transient", d.mustVirsh(t, "net-list", "--transient", "--name"), "lab")
			d.mustVirsh(t, "net-destroy", "lab")
			if out := vbm("list", "natnets"); strings.Contains(out, "lab") {
				t.Errorf("destroyed transient network still listed:\n%s", out)
			}

			// Refusals change nothing.
			state := func() string {
				return vbm("list", "hostonlyifs") + vbm("list", "-l", "natnets") + vbm("list", "dhcpservers") + vbm("getextradata", "global", "enumerate")
			}
			before := state()
			for _, c := range []struct{ doc, want string }{
				{`<network><name>n2</name><forward mode='nat'/><ip address='10.0.2.1' prefix='24'/></network>`,
					"Requested operation is not valid: network 'n2' (10.0.2.0/24) overlaps network 'NatNetwork' (10.0.2.0/24)"},
				{`<network><name>it's</name><forward mode='nat'/><ip address='10.5.0.1' prefix='24'/></network>`,
					"XML error: network name 'it's' cannot contain quotes"},
				{`<network><name>-x</name><forward mode='nat'/><ip address='10.5.0.1' prefix='24'/></network>`,
					"XML error: network name '-x' cannot start with '-'"},
				{`<network><name>vboxnet9</name><ip address='192.168.60.1' prefix='24'/></network>`,
					"unsupported configuration: VirtualBox names a new host-only interface itself: the next one is 'vboxnet2'"},
			} {
				contains(t, "net-define "+c.doc, d.virshFails(t, "net-define", write("bad.xml", c.doc)), c.want)
			}
			contains(t, "unknown network", d.virshFails(t, "net-info", "nosuch"), "Network not found: no network with matching name 'nosuch'")
			contains(t, "undefine running", d.virshFails(t, "net-undefine", "NatNetwork"), "network 'NatNetwork' is still active: net-destroy it first")
			if after := state(); after != before {
				t.Errorf("refusals changed VirtualBox:\nbefore:\n%s\nafter:\n%s", before, after)
			}

			// A domain interface on a network attaches to it.
			dom := write("dom.xml", `<domain type='vbox'><name>netvm</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type>hvm</type></os><devices>
<interface type='network'><source network='NatNetwork'/><mac address='08:00:27:aa:00:01'/><model type='virtio'/></interface>
<interface type='network'><source network='vboxnet1'/><mac address='08:00:27:aa:00:02'/><model type='virtio'/></interface>
</devices></domain>`)
			d.mustVirsh(t, "define", dom)
			info := machineReadable(vbm("showvminfo", "netvm", "--machinereadable"))
			for k, want := range map[string]string{"nic1": "natnetwork", "nat-network1": "NatNetwork", "nic2": "hostonly", "hostonlyadapter2": "vboxnet1"} {
				if info[k] != want {
					t.Errorf("netvm %s = %q, want %q", k, info[k], want)
				}
			}
			contains(t, "dumpxml netvm", d.mustVirsh(t, "dumpxml", "netvm"), "<source network='NatNetwork'/>", "<source network='vboxnet1'/>")

			// net-dhcp-leases: the running machine's adapter on NatNetwork.
			d.mustVirsh(t, "start", "netvm")
			leases := d.mustVirsh(t, "net-dhcp-leases", "NatNetwork")
			contains(t, "net-dhcp-leases NatNetwork", leases, "08:00:27:aa:00:01", "ipv4", "10.0.2.")
			if strings.Contains(d.mustVirsh(t, "net-dhcp-leases", "vboxnet1"), "08:00:27") {
				t.Error("vboxnet1, without a DHCP server, has leases")
			}
		})
	}
}

// TestAnsibleVirtNet runs community.libvirt.virt_net's list_nets and facts
// against the daemon.
func TestAnsibleVirtNet(t *testing.T) {
	playbook := requireTool(t, "ansible-playbook")
	requirePythonModule(t, "lxml", "python3-lxml")
	requirePythonLibvirt(t)
	// Reads stay fresh for the whole playbook, and no domain watcher runs:
	// the playbook's calls must be served from one reading.
	d := startDaemon(t, withDaemonEnv("VIRTVBOXD_TEST_MAX_AGE=1h", "VIRTVBOXD_TEST_WATCH_INTERVAL=-1s"))
	d.Sim.Seed(t, 1, 0)
	seeded := d.Sim.invocations(t)
	dir := t.TempDir()
	play := `- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: list_nets
      community.libvirt.virt_net: {command: list_nets, uri: "{{ uri }}"}
    - name: facts
      community.libvirt.virt_net: {command: facts, uri: "{{ uri }}"}
`
	if err := os.WriteFile(filepath.Join(dir, "play.yml"), []byte(play), 0o644); err != nil {
		t.Fatal(err)
	}
	out := runAnsible(t, playbook, dir, d.URI())
	res := ansibleResults(t, out)
	// Two connections, each listing the 3 networks and, for facts, 8 calls
	// per network: one reading of the networks (2 processes) and one of the
	// machines (the leases look for running machines on each network; none
	// runs, so no findlease).
	runs := d.Sim.invocations(t) - seeded
	t.Logf("VBoxManage runs for the playbook: %d", runs)
	if runs != 3 {
		cmd := exec.Command(filepath.Join(binDir, "vboxsim"), "log")
		cmd.Env = append(os.Environ(), d.Sim.Env()...)
		log, _ := cmd.Output()
		t.Errorf("%d VBoxManage runs for list_nets and facts, want the reads of one refresh; the simulator's log:\n%s", runs, log)
	}
	nets, _ := res["list_nets"]["list_nets"].([]any)
	for _, n := range []string{"vboxnet0", "vboxnet1", "NatNetwork"} {
		if !containsAny(nets, n) {
			t.Errorf("list_nets lacks %s: %v", n, res["list_nets"])
		}
	}
	facts, _ := res["facts"]["ansible_facts"].(map[string]any)
	all, _ := facts["ansible_libvirt_networks"].(map[string]any)
	nat, _ := all["NatNetwork"].(map[string]any)
	ho, _ := all["vboxnet0"].(map[string]any)
	if nat["forward_mode"] != "nat" || nat["state"] != "active" || nat["bridge"] != "NatNetwork" || nat["persistent"] != "yes" {
		t.Errorf("NatNetwork facts: %v", nat)
	}
	if ho["uuid"] != "786f6276-656e-4074-8000-0a0027000000" || ho["bridge"] != "vboxnet0" || ho["autostart"] != "no" {
		t.Errorf("vboxnet0 facts: %v", ho)
	}
	if _, ok := ho["dhcp_leases"].([]any); !ok {
		t.Errorf("vboxnet0 dhcp_leases: %v", ho["dhcp_leases"])
	}
}

// runAnsible runs a playbook from dir against uri with the json callback,
// in a throwaway home (as TestRealTools does).
func runAnsible(t *testing.T, playbook, dir, uri string) string {
	t.Helper()
	home := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, playbook, "-i", "localhost,", "-e", "uri="+uri, "-e", "ansible_python_interpreter=/usr/bin/python3",
		filepath.Join(dir, "play.yml"))
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "HOME="+home, "XDG_CACHE_HOME="+filepath.Join(home, "cache"),
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"), "ANSIBLE_LOCAL_TEMP="+filepath.Join(home, "ansible-tmp"),
		"ANSIBLE_STDOUT_CALLBACK=json", "ANSIBLE_LOCALHOST_WARNING=false", "ANSIBLE_INVENTORY_UNPARSED_WARNING=false")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("ansible-playbook: %v\nstdout: %s\nstderr: %s", err, out.String(), errb.String())
	}
	return out.String()
}
