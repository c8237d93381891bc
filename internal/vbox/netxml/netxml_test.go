package netxml

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// TestRoundTrip: Format then Parse gives the same network back, for each
// kind, with and without a DHCP server.
func TestRoundTrip(t *testing.T) {
	for _, n := range []Net{
		{Kind: HostOnly, Name: "vboxnet0", UUID: "786f6276-656e-4074-8000-0a0027000000", Bridge: "vboxnet0",
			Addr: "192.168.56.1", Mask: "255.255.255.0",
			DHCP: &DHCP{Lower: "192.168.56.101", Upper: "192.168.56.254", Hosts: []Host{{MAC: "08:00:27:aa:bb:cc", IP: "192.168.56.5"}}}},
		{Kind: HostOnly, Name: "vboxnet3", UUID: "786f6276-656e-4374-8000-0a0027000003", Bridge: "vboxnet3",
			Addr: "192.168.59.1", Mask: "255.255.255.0"},
		{Kind: NAT, Name: "NatNetwork", UUID: FormatUUID(DeriveUUID("natnetwork", "NatNetwork")), Bridge: "NatNetwork",
			Addr: "10.0.2.1", Mask: "255.255.255.0", DHCP: &DHCP{Lower: "10.0.2.4", Upper: "10.0.2.254"}},
		{Kind: NAT, Name: "lab.net", UUID: FormatUUID(DeriveUUID("natnetwork", "lab.net")), Bridge: "lab.net",
			Addr: "172.16.0.1", Mask: "255.255.0.0"},
	} {
		t.Run(n.Name, func(t *testing.T) {
			doc, err := Format(n)
			if err != nil {
				t.Fatal(err)
			}
			got, notes, err := Parse(doc)
			if err != nil {
				t.Fatalf("%v\n%s", err, doc)
			}
			if len(notes) != 0 {
				t.Errorf("notes on our own document: %v", notes)
			}
			if !reflect.DeepEqual(got, n) {
				t.Errorf("round trip:\n got %+v\nwant %+v\n%s", got, n, doc)
			}
		})
	}
}

// TestFormat: libvirt's style (single quotes, empty elements closed).
func TestFormat(t *testing.T) {
	doc, err := Format(Net{Kind: NAT, Name: "n", UUID: "0b7b6e1c-3f55-4d5e-9a61-2f0c8a7e6d11", Bridge: "n",
		Addr: "10.1.0.1", Mask: "255.255.255.0", DHCP: &DHCP{Lower: "10.1.0.4", Upper: "10.1.0.254"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `<network>
  <name>n</name>
  <uuid>0b7b6e1c-3f55-4d5e-9a61-2f0c8a7e6d11</uuid>
  <forward mode='nat'/>
  <bridge name='n'/>
  <ip address='10.1.0.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='10.1.0.4' end='10.1.0.254'/>
    </dhcp>
  </ip>
</network>
`
	if doc != want {
		t.Errorf("got:\n%s\nwant:\n%s", doc, want)
	}
}

// TestParseAccepts: documents other tools write, with what is ignored noted.
func TestParseAccepts(t *testing.T) {
	n, notes, err := Parse(`<network><name>vboxnet4</name><uuid>{0B7B6E1C3F554D5E9A612F0C8A7E6D11}</uuid>
<bridge name='vboxnet4' stp='on' delay='0'/><mac address='52:54:00:01:02:03'/><dns/>
<ip address='192.168.60.1' prefix='24'><dhcp><range start='192.168.60.2' end='192.168.60.9'><lease expiry='1' unit='hours'/></range>
<host mac='08:00:27:AA:BB:CC' name='web' ip='192.168.60.3'/></dhcp></ip></network>`)
	if err != nil {
		t.Fatal(err)
	}
	if n.UUID != "0b7b6e1c-3f55-4d5e-9a61-2f0c8a7e6d11" || n.Mask != "255.255.255.0" || n.DHCP.Hosts[0].MAC != "08:00:27:aa:bb:cc" {
		t.Errorf("parsed: %+v %+v", n, n.DHCP)
	}
	if len(notes) != 5 {
		t.Errorf("notes: %q", notes)
	}
	if n.ServerIP("") != "192.168.60.100" {
		t.Errorf("server IP: %s", n.ServerIP(""))
	}
}

// TestParseRefuses: each refusal is classed and names the problem.
func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct {
		doc   string
		class error
		want  string
	}{
		{`<network><ip address='10.0.0.1'/></network>`, errdefs.ErrXML, "missing network name"},
		{`<network><name>a b</name><forward mode='nat'/><ip address='10.0.0.1'/></network>`, errdefs.ErrXML, "whitespace"},
		{`<network><name>x</name><forward mode='bridge'/></network>`, errdefs.ErrConfigUnsupported, "forward mode 'bridge'"},
		{`<network><name>x</name><forward mode='nat' dev='eth0'/><ip address='10.0.0.1'/></network>`, errdefs.ErrConfigUnsupported, "no forward device"},
		{`<network><name>x</name><forward mode='nat'><nat><port start='1024' end='65535'/></nat></forward><ip address='10.0.0.1'/></network>`, errdefs.ErrConfigUnsupported, "port ranges"},
		{`<network><name>x</name><forward mode='nat'/><domain name='lab'/><ip address='10.0.0.1'/></network>`, errdefs.ErrConfigUnsupported, "<domain>"},
		{`<network><name>x</name><forward mode='nat'/><dns><host ip='10.0.0.5'><hostname>a</hostname></host></dns><ip address='10.0.0.1'/></network>`, errdefs.ErrConfigUnsupported, "<dns>"},
		{`<network><name>x</name><forward mode='nat'/><mtu size='9000'/><ip address='10.0.0.1'/></network>`, errdefs.ErrConfigUnsupported, "<mtu>"},
		{`<network><name>x</name><forward mode='nat'/><ip family='ipv6' address='fd00::1' prefix='64'/></network>`, errdefs.ErrConfigUnsupported, "IPv6"},
		{`<network><name>x</name><forward mode='nat'/><ip address='10.0.0.1'/><ip address='10.1.0.1'/></network>`, errdefs.ErrConfigUnsupported, "not 2 <ip>"},
		{`<network><name>x</name><forward mode='nat'/></network>`, errdefs.ErrConfigUnsupported, "needs an <ip"},
		{`<network><name>x</name><forward mode='nat'/><ip address='10.0.0.1' netmask='255.0.255.0'/></network>`, errdefs.ErrXML, "invalid netmask"},
		{`<network><name>x</name><forward mode='nat'/><ip address='10.0.0.1' prefix='31'/></network>`, errdefs.ErrConfigUnsupported, "/31"},
		{`<network><name>x</name><forward mode='nat'/><ip address='10.0.0.0' prefix='24'/></network>`, errdefs.ErrXML, "network or broadcast"},
		{`<network><name>x</name><forward mode='nat'/><ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.9' end='10.0.0.3'/></dhcp></ip></network>`, errdefs.ErrConfigUnsupported, "reversed"},
		{`<network><name>x</name><forward mode='nat'/><ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.1' end='10.0.0.3'/></dhcp></ip></network>`, errdefs.ErrConfigUnsupported, "own address"},
		{`<network><name>x</name><forward mode='nat'/><ip address='10.0.0.1' prefix='24'><dhcp><host mac='08:00:27:00:00:01' ip='10.0.0.5'/></dhcp></ip></network>`, errdefs.ErrConfigUnsupported, "needs one <range"},
		{`<network><name>x</name><forward mode='nat'/><ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.2' end='10.0.0.9'/><host name='a' ip='10.0.0.5'/></dhcp></ip></network>`, errdefs.ErrConfigUnsupported, "needs mac="},
		{`<network><name>x</name><forward mode='nat'/><ip address='10.0.0.1' prefix='24'><dhcp><range start='10.0.0.2' end='10.0.0.9'/><host mac='08:00:27:00:00:01' ip='10.0.0.5'/><host mac='08:00:27:00:00:01' ip='10.0.0.6'/></dhcp></ip></network>`, errdefs.ErrXML, "duplicate"},
		{`<network><name>x</name><forward mode='nat'/><ip address='10.0.0.1' prefix='24'><tftp root='/srv'/></ip></network>`, errdefs.ErrConfigUnsupported, "TFTP"},
		{`<network><name>vboxnet1</name><forward mode='nat'/><ip address='10.0.0.1'/></network>`, errdefs.ErrConfigUnsupported, "host-only interface name"},
		{`<network><name>vboxnet1</name><bridge name='br0'/><ip address='192.168.56.1'/></network>`, errdefs.ErrConfigUnsupported, "must be the network's name"},
		{`<network><name>x</name><uuid>nope</uuid><forward mode='nat'/><ip address='10.0.0.1'/></network>`, errdefs.ErrXML, "malformed uuid"},
	} {
		_, _, err := Parse(tc.doc)
		if !errors.Is(err, tc.class) || !strings.Contains(errdefs.Detail(err), tc.want) {
			t.Errorf("%s:\n got %v\nwant %v with %q", tc.doc, err, tc.class, tc.want)
		}
	}
}

// TestDeriveUUID: stable, name-based, version 5.
func TestDeriveUUID(t *testing.T) {
	a, b := DeriveUUID("natnetwork", "NatNetwork"), DeriveUUID("natnetwork", "NatNetwork")
	if a != b || a == DeriveUUID("natnetwork", "natnetwork") || a[6]>>4 != 5 || a[8]>>6 != 2 {
		t.Errorf("DeriveUUID: %s", FormatUUID(a))
	}
}

// FuzzParse: any document is parsed or refused with a class, never a panic;
// what is accepted formats and parses back to itself.
func FuzzParse(f *testing.F) {
	f.Add(`<network><name>vboxnet0</name><ip address='192.168.56.1' netmask='255.255.255.0'><dhcp><range start='192.168.56.101' end='192.168.56.254'/><host mac='08:00:27:aa:bb:cc' ip='192.168.56.5'/></dhcp></ip></network>`)
	f.Add(`<network><name>NatNetwork</name><forward mode='nat'/><ip address='10.0.2.1' prefix='24'/></network>`)
	f.Fuzz(func(t *testing.T, doc string) {
		n, _, err := Parse(doc)
		if err != nil {
			if errdefs.ClassOf(err) == errdefs.ErrInternal {
				t.Fatalf("unclassed error %v", err)
			}
			return
		}
		out, err := Format(n)
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := Parse(out)
		if err != nil || !reflect.DeepEqual(m, n) {
			t.Fatalf("reparse: %v\n%+v\n%+v\n%s", err, m, n, out)
		}
	})
}
