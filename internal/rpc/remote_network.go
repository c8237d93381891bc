package rpc

import (
	"context"
	"fmt"

	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/virtvboxd/virtvboxd/internal/driver"
)

// networkHandlers are the network procedures (see remoteHandlers).
var networkHandlers = handlerSet{
	procConnectListAllNetworks:      withArgs(connectListAllNetworks),
	procConnectNumOfNetworks:        connectNumOfNetworks,
	procConnectListNetworks:         withArgs(connectListNetworks),
	procConnectNumOfDefinedNetworks: connectNumOfDefinedNetworks,
	procConnectListDefinedNetworks:  withArgs(connectListDefinedNetworks),
	procNetworkLookupByName:         withArgs(networkLookupByName),
	procNetworkLookupByUUID:         withArgs(networkLookupByUUID),
	procNetworkGetXMLDesc:           withArgs(networkGetXMLDesc),
	procNetworkDefineXML:            withArgs(networkDefineXML),
	procNetworkDefineXMLFlags:       withArgs(networkDefineXMLFlags),
	procNetworkCreateXML:            withArgs(networkCreateXML),
	procNetworkCreateXMLFlags:       withArgs(networkCreateXMLFlags),
	procNetworkUndefine:             withArgs(networkUndefine),
	procNetworkCreate:               withArgs(networkCreate),
	procNetworkDestroy:              withArgs(networkDestroy),
	procNetworkIsActive:             withArgs(networkIsActive),
	procNetworkIsPersistent:         withArgs(networkIsPersistent),
	procNetworkGetAutostart:         withArgs(networkGetAutostart),
	procNetworkSetAutostart:         withArgs(networkSetAutostart),
	procNetworkGetBridgeName:        withArgs(networkGetBridgeName),
	procNetworkUpdate:               withArgs(networkUpdate),
	procNetworkGetDHCPLeases:        withArgs(networkGetDHCPLeases),
}

// The limits of remote_protocol.x for networks.
const (
	networkListMax       = 16384 // REMOTE_NETWORK_LIST_MAX
	networkDHCPLeasesMax = 65536 // REMOTE_NETWORK_DHCP_LEASES_MAX
)

func toNetwork(n libvirt.Network) driver.Network { return driver.Network{Name: n.Name, UUID: n.UUID} }

func fromNetworkValue(n driver.Network) libvirt.Network {
	return libvirt.Network{Name: n.Name, UUID: libvirt.UUID(n.UUID)}
}

func listNetworks(ctx context.Context, cn driver.Conn, flags uint32) ([]driver.Network, error) {
	nets, err := cn.ListAllNetworks(ctx, flags)
	if err != nil {
		return nil, err
	}
	if len(nets) > networkListMax {
		return nil, rpcError(fmt.Sprintf("Too many networks '%d' for limit '%d'", len(nets), networkListMax))
	}
	return nets, nil
}

// argNetworkListMax checks a ConnectList*Networks maximum: the dispatcher's
// REMOTE_NETWORK_LIST_MAX, then the API's non-negative check.
func argNetworkListMax(api string, v int32) error {
	if v > networkListMax {
		return rpcError("maxnames > REMOTE_NETWORK_LIST_MAX")
	}
	return argNonNegative(api, "maxnames", v)
}

func connectListAllNetworks(ctx context.Context, cn driver.Conn, a *libvirt.ConnectListAllNetworksArgs, out *packet) error {
	nets, err := listNetworks(ctx, cn, uint32(a.Flags))
	if err != nil {
		return err
	}
	r := libvirt.ConnectListAllNetworksRet{Ret: uint32(len(nets))}
	if a.NeedResults != 0 {
		r.Nets = make([]libvirt.Network, len(nets))
		for i, n := range nets {
			r.Nets[i] = fromNetworkValue(n)
		}
	}
	return out.encode(r)
}

func networkNames(ctx context.Context, cn driver.Conn, flags uint32, max int32) ([]string, error) {
	nets, err := listNetworks(ctx, cn, flags)
	if err != nil {
		return nil, err
	}
	names := []string{}
	for _, n := range nets {
		if len(names) == int(max) {
			break
		}
		names = append(names, n.Name)
	}
	return names, nil
}

func connectNumOfNetworks(ctx context.Context, cn driver.Conn, cl *call, out *packet) error {
	nets, err := listNetworks(ctx, cn, driver.ListNetworksActive)
	if err != nil {
		return err
	}
	return out.encode(libvirt.ConnectNumOfNetworksRet{Num: int32(len(nets))})
}

func connectListNetworks(ctx context.Context, cn driver.Conn, a *libvirt.ConnectListNetworksArgs, out *packet) error {
	if err := argNetworkListMax("virConnectListNetworks", a.Maxnames); err != nil {
		return err
	}
	names, err := networkNames(ctx, cn, driver.ListNetworksActive, a.Maxnames)
	if err != nil {
		return err
	}
	return out.encode(libvirt.ConnectListNetworksRet{Names: names})
}

func connectNumOfDefinedNetworks(ctx context.Context, cn driver.Conn, cl *call, out *packet) error {
	nets, err := listNetworks(ctx, cn, driver.ListNetworksInactive)
	if err != nil {
		return err
	}
	return out.encode(libvirt.ConnectNumOfDefinedNetworksRet{Num: int32(len(nets))})
}

func connectListDefinedNetworks(ctx context.Context, cn driver.Conn, a *libvirt.ConnectListDefinedNetworksArgs, out *packet) error {
	if err := argNetworkListMax("virConnectListDefinedNetworks", a.Maxnames); err != nil {
		return err
	}
	names, err := networkNames(ctx, cn, driver.ListNetworksInactive, a.Maxnames)
	if err != nil {
		return err
	}
	return out.encode(libvirt.ConnectListDefinedNetworksRet{Names: names})
}

func networkLookupByName(ctx context.Context, cn driver.Conn, a *libvirt.NetworkLookupByNameArgs, out *packet) error {
	n, err := cn.NetworkLookupByName(ctx, a.Name)
	if err != nil {
		return err
	}
	return out.encode(libvirt.NetworkLookupByNameRet{Net: fromNetworkValue(n)})
}

func networkLookupByUUID(ctx context.Context, cn driver.Conn, a *libvirt.NetworkLookupByUUIDArgs, out *packet) error {
	n, err := cn.NetworkLookupByUUID(ctx, a.UUID)
	if err != nil {
		return err
	}
	return out.encode(libvirt.NetworkLookupByUUIDRet{Net: fromNetworkValue(n)})
}

func networkGetXMLDesc(ctx context.Context, cn driver.Conn, a *libvirt.NetworkGetXMLDescArgs, out *packet) error {
	x, err := cn.NetworkGetXMLDesc(ctx, toNetwork(a.Net), a.Flags)
	if err != nil {
		return err
	}
	return out.encode(libvirt.NetworkGetXMLDescRet{XML: x})
}

func networkRet(out *packet, n driver.Network, err error) error {
	if err != nil {
		return err
	}
	return out.encode(libvirt.NetworkDefineXMLRet{Net: fromNetworkValue(n)})
}

func networkDefineXML(ctx context.Context, cn driver.Conn, a *libvirt.NetworkDefineXMLArgs, out *packet) error {
	n, err := cn.NetworkDefineXML(ctx, a.XML, 0)
	return networkRet(out, n, err)
}

func networkDefineXMLFlags(ctx context.Context, cn driver.Conn, a *libvirt.NetworkDefineXMLFlagsArgs, out *packet) error {
	n, err := cn.NetworkDefineXML(ctx, a.XML, a.Flags)
	return networkRet(out, n, err)
}

func networkCreateXML(ctx context.Context, cn driver.Conn, a *libvirt.NetworkCreateXMLArgs, out *packet) error {
	n, err := cn.NetworkCreateXML(ctx, a.XML, 0)
	return networkRet(out, n, err)
}

func networkCreateXMLFlags(ctx context.Context, cn driver.Conn, a *libvirt.NetworkCreateXMLFlagsArgs, out *packet) error {
	n, err := cn.NetworkCreateXML(ctx, a.XML, a.Flags)
	return networkRet(out, n, err)
}

func networkUndefine(ctx context.Context, cn driver.Conn, a *libvirt.NetworkUndefineArgs, out *packet) error {
	return cn.NetworkUndefine(ctx, toNetwork(a.Net))
}

func networkCreate(ctx context.Context, cn driver.Conn, a *libvirt.NetworkCreateArgs, out *packet) error {
	return cn.NetworkCreate(ctx, toNetwork(a.Net))
}

func networkDestroy(ctx context.Context, cn driver.Conn, a *libvirt.NetworkDestroyArgs, out *packet) error {
	return cn.NetworkDestroy(ctx, toNetwork(a.Net))
}

func networkIsActive(ctx context.Context, cn driver.Conn, a *libvirt.NetworkIsActiveArgs, out *packet) error {
	v, err := cn.NetworkIsActive(ctx, toNetwork(a.Net))
	return boolRet(out, v, err)
}

func networkIsPersistent(ctx context.Context, cn driver.Conn, a *libvirt.NetworkIsPersistentArgs, out *packet) error {
	v, err := cn.NetworkIsPersistent(ctx, toNetwork(a.Net))
	return boolRet(out, v, err)
}

func networkGetAutostart(ctx context.Context, cn driver.Conn, a *libvirt.NetworkGetAutostartArgs, out *packet) error {
	v, err := cn.NetworkGetAutostart(ctx, toNetwork(a.Net))
	return boolRet(out, v, err)
}

func networkSetAutostart(ctx context.Context, cn driver.Conn, a *libvirt.NetworkSetAutostartArgs, out *packet) error {
	return cn.NetworkSetAutostart(ctx, toNetwork(a.Net), a.Autostart != 0)
}

func networkGetBridgeName(ctx context.Context, cn driver.Conn, a *libvirt.NetworkGetBridgeNameArgs, out *packet) error {
	name, err := cn.NetworkGetBridgeName(ctx, toNetwork(a.Net))
	if err != nil {
		return err
	}
	return out.encode(libvirt.NetworkGetBridgeNameRet{Name: name})
}

// networkUpdate: libvirt 9.0's public virNetworkUpdate takes (command,
// section) but calls its drivers with (section, command), and the remote
// driver puts its first argument in the wire's "command" field: on the wire
// "command" carries the section and "section" the command. Later clients
// send the right order only to a daemon that claims
// VIR_DRV_FEATURE_NETWORK_UPDATE_HAS_CORRECT_ORDER, which this one does not
// (CONNECT_SUPPORTS_FEATURE answers 0), so every client swaps.
func networkUpdate(ctx context.Context, cn driver.Conn, a *libvirt.NetworkUpdateArgs, out *packet) error {
	return cn.NetworkUpdate(ctx, toNetwork(a.Net), a.Section, a.Command, a.ParentIndex, a.XML, uint32(a.Flags))
}

func toOptString(s string) libvirt.OptString {
	if s == "" {
		return nil
	}
	return libvirt.OptString{s}
}

func networkGetDHCPLeases(ctx context.Context, cn driver.Conn, a *libvirt.NetworkGetDhcpLeasesArgs, out *packet) error {
	mac := ""
	if len(a.Mac) > 0 {
		mac = a.Mac[0]
	}
	leases, err := cn.NetworkGetDHCPLeases(ctx, toNetwork(a.Net), mac, a.Flags)
	if err != nil {
		return err
	}
	if len(leases) > networkDHCPLeasesMax {
		return rpcError(fmt.Sprintf("Number of leases is %d, which exceeds max limit: %d", len(leases), networkDHCPLeasesMax))
	}
	r := libvirt.NetworkGetDhcpLeasesRet{Ret: uint32(len(leases))}
	if a.NeedResults != 0 {
		r.Leases = make([]libvirt.NetworkDhcpLease, len(leases))
		for i, l := range leases {
			r.Leases[i] = libvirt.NetworkDhcpLease{Iface: l.Iface, Expirytime: l.ExpiryTime, Type: l.Type,
				Mac: toOptString(l.MAC), Iaid: toOptString(l.IAID), Ipaddr: l.IPAddr, Prefix: l.Prefix,
				Hostname: toOptString(l.Hostname), Clientid: toOptString(l.ClientID)}
		}
	}
	return out.encode(r)
}
