package rpc_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"github.com/digitalocean/go-libvirt/socket/dialers"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
	"github.com/virtvboxd/virtvboxd/internal/rpc"
	"github.com/virtvboxd/virtvboxd/internal/rpc/rpctest"
)

// netDriver is a driver with two networks, one active, that records the
// last NetworkUpdate.
type netDriver struct {
	mu     sync.Mutex
	update [4]int64 // command, section, parentIndex, flags
	xml    string
}

func (d *netDriver) Open(context.Context, driver.OpenRequest) (driver.Conn, error) {
	return &netConn{d: d}, nil
}

type netConn struct {
	driver.Unsupported
	d *netDriver
}

var testNets = []driver.Network{{Name: "vboxnet0", UUID: [16]byte{1}}, {Name: "NatNetwork", UUID: [16]byte{2}}}

func (c *netConn) ListAllNetworks(_ context.Context, flags uint32) ([]driver.Network, error) {
	switch flags {
	case driver.ListNetworksActive:
		return testNets[1:], nil
	case driver.ListNetworksInactive:
		return testNets[:1], nil
	}
	return testNets, nil
}

func (c *netConn) NetworkLookupByName(_ context.Context, name string) (driver.Network, error) {
	for _, n := range testNets {
		if n.Name == name {
			return n, nil
		}
	}
	return driver.Network{}, errdefs.Newf(errdefs.ErrNoNetwork, "no network with matching name '%s'", name)
}

func (c *netConn) NetworkUpdate(_ context.Context, n driver.Network, command, section uint32, parent int32, xml string, flags uint32) error {
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	c.d.update = [4]int64{int64(command), int64(section), int64(parent), int64(flags)}
	c.d.xml = xml
	return nil
}

func (c *netConn) NetworkGetDHCPLeases(_ context.Context, n driver.Network, mac string, flags uint32) ([]driver.NetworkDHCPLease, error) {
	l := driver.NetworkDHCPLease{Iface: n.Name, ExpiryTime: 1700000600, MAC: "08:00:27:aa:bb:cc", IPAddr: "10.0.2.15", Prefix: 24}
	if mac != "" && mac != l.MAC {
		return []driver.NetworkDHCPLease{}, nil
	}
	return []driver.NetworkDHCPLease{l}, nil
}

// TestNetworkProcedures: the legacy list calls derive from ListAllNetworks,
// NETWORK_UPDATE's swapped command and section reach the driver in the
// public API's order, leases keep their optional strings, and an unknown
// network is VIR_ERR_NO_NETWORK.
func TestNetworkProcedures(t *testing.T) {
	dir, err := os.MkdirTemp("", "vvd") // socket paths must be short
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "s")
	drv := &netDriver{}
	s := rpc.NewServer(rpctest.DefaultConfig(), nil)
	s.Register(rpc.NewRemoteProgram(drv, nil))
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background(), ln, rpc.Service{}) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Error(err)
		}
		<-done
	})
	l := libvirt.NewWithDialer(dialers.NewLocal(dialers.WithSocket(path), dialers.WithLocalTimeout(5*time.Second)))
	if err := l.ConnectToURI("vbox:///session"); err != nil {
		t.Fatal(err)
	}
	defer l.Disconnect()

	if n, err := l.ConnectNumOfNetworks(); err != nil || n != 1 {
		t.Errorf("NumOfNetworks = %d, %v", n, err)
	}
	if names, err := l.ConnectListNetworks(10); err != nil || len(names) != 1 || names[0] != "NatNetwork" {
		t.Errorf("ListNetworks = %v, %v", names, err)
	}
	if n, err := l.ConnectNumOfDefinedNetworks(); err != nil || n != 1 {
		t.Errorf("NumOfDefinedNetworks = %d, %v", n, err)
	}
	if names, err := l.ConnectListDefinedNetworks(0); err != nil || len(names) != 0 {
		t.Errorf("ListDefinedNetworks(0) = %v, %v", names, err)
	}
	if _, err := l.ConnectListNetworks(-1); err == nil {
		t.Error("ListNetworks(-1) succeeded")
	}
	if _, err := l.ConnectListNetworks(16385); err == nil {
		t.Error("ListNetworks above REMOTE_NETWORK_LIST_MAX succeeded")
	}
	nets, ret, err := l.ConnectListAllNetworks(1, 0)
	if err != nil || ret != 2 || len(nets) != 2 || nets[1].Name != "NatNetwork" || nets[1].UUID != (libvirt.UUID{2}) {
		t.Errorf("ListAllNetworks = %v %d, %v", nets, ret, err)
	}

	n, err := l.NetworkLookupByName("NatNetwork")
	if err != nil {
		t.Fatal(err)
	}
	var lerr libvirt.Error
	_, err = l.NetworkLookupByName("nosuch")
	if !asError(err, &lerr) || lerr.Code != 43 || lerr.Message != "Network not found: no network with matching name 'nosuch'" {
		t.Errorf("lookup nosuch: %#v", err)
	}

	// go-libvirt sends its arguments in wire order: "command" carries what
	// libvirt's remote driver puts there, the section (4: ip-dhcp-host);
	// "section" the command (3: add-last).
	if err := l.NetworkUpdate(n, 4, 3, -1, "<host mac='08:00:27:aa:bb:cc' ip='10.0.2.15'/>", 3); err != nil {
		t.Fatal(err)
	}
	drv.mu.Lock()
	if drv.update != [4]int64{3, 4, -1, 3} || drv.xml != "<host mac='08:00:27:aa:bb:cc' ip='10.0.2.15'/>" {
		t.Errorf("driver got command, section, parent, flags = %v, %q", drv.update, drv.xml)
	}
	drv.mu.Unlock()

	leases, ret2, err := l.NetworkGetDhcpLeases(n, nil, 1, 0)
	if err != nil || ret2 != 1 || len(leases) != 1 {
		t.Fatalf("leases = %v %d, %v", leases, ret2, err)
	}
	if g := leases[0]; g.Iface != "NatNetwork" || g.Ipaddr != "10.0.2.15" || g.Prefix != 24 || g.Expirytime != 1700000600 ||
		len(g.Mac) != 1 || g.Mac[0] != "08:00:27:aa:bb:cc" || len(g.Hostname) != 0 || len(g.Clientid) != 0 {
		t.Errorf("lease = %+v", g)
	}
	if leases, _, err := l.NetworkGetDhcpLeases(n, libvirt.OptString{"52:54:00:00:00:01"}, 1, 0); err != nil || len(leases) != 0 {
		t.Errorf("leases of another MAC = %v, %v", leases, err)
	}
	// A procedure the driver does not implement.
	if err := l.NetworkCreate(n); !asError(err, &lerr) || lerr.Code != 3 || lerr.Message != "this function is not supported by the connection driver: virNetworkCreate" {
		t.Errorf("NetworkCreate: %#v", err)
	}
}

func asError(err error, target *libvirt.Error) bool {
	e, ok := err.(libvirt.Error)
	if ok {
		*target = e
	}
	return ok
}
