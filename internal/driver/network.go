package driver

import "context"

// Network identifies a virtual network as libvirt's remote_nonnull_network does.
type Network struct {
	Name string
	UUID [16]byte
}

// NetworkDHCPLease is virNetworkDHCPLease. Optional strings are "" when
// unknown.
type NetworkDHCPLease struct {
	Iface      string // the network's bridge (interface) name
	ExpiryTime int64  // seconds since the epoch; 0: unknown
	Type       int32  // VIR_IP_ADDR_TYPE_IPV4 (0) or _IPV6 (1)
	MAC        string
	IAID       string
	IPAddr     string
	Prefix     uint32
	Hostname   string
	ClientID   string
}

// The VIR_CONNECT_LIST_NETWORKS_* filter flags of ListAllNetworks.
const (
	ListNetworksInactive    = 1 << 0
	ListNetworksActive      = 1 << 1
	ListNetworksPersistent  = 1 << 2
	ListNetworksTransient   = 1 << 3
	ListNetworksAutostart   = 1 << 4
	ListNetworksNoAutostart = 1 << 5
)

// NetworkConn is the part of Conn for virtual networks (host-only interfaces,
// NAT networks). Flags are libvirt's (VIR_NETWORK_XML_INACTIVE,
// VIR_NETWORK_DEFINE_VALIDATE, VIR_NETWORK_UPDATE_*...); the legacy list calls
// (NumOfNetworks, ListNetworks, NumOfDefinedNetworks, ListDefinedNetworks)
// are derived from ListAllNetworks by the RPC layer.
type NetworkConn interface {
	ListAllNetworks(ctx context.Context, flags uint32) ([]Network, error)
	NetworkLookupByName(ctx context.Context, name string) (Network, error)
	NetworkLookupByUUID(ctx context.Context, uuid [16]byte) (Network, error)
	NetworkGetXMLDesc(ctx context.Context, n Network, flags uint32) (string, error)
	NetworkDefineXML(ctx context.Context, xml string, flags uint32) (Network, error)
	NetworkCreateXML(ctx context.Context, xml string, flags uint32) (Network, error)
	NetworkUndefine(ctx context.Context, n Network) error
	NetworkCreate(ctx context.Context, n Network) error // virNetworkCreate: start a defined network
	NetworkDestroy(ctx context.Context, n Network) error
	NetworkIsActive(ctx context.Context, n Network) (bool, error)
	NetworkIsPersistent(ctx context.Context, n Network) (bool, error)
	NetworkGetAutostart(ctx context.Context, n Network) (bool, error)
	NetworkSetAutostart(ctx context.Context, n Network, autostart bool) error
	NetworkGetBridgeName(ctx context.Context, n Network) (string, error)
	NetworkUpdate(ctx context.Context, n Network, command, section uint32, parentIndex int32, xml string, flags uint32) error
	// NetworkGetDHCPLeases returns the leases, of the one MAC address when
	// mac is not "".
	NetworkGetDHCPLeases(ctx context.Context, n Network, mac string, flags uint32) ([]NetworkDHCPLease, error)
}

func (Unsupported) ListAllNetworks(context.Context, uint32) ([]Network, error) {
	return nil, noSupport("virConnectListAllNetworks")
}
func (Unsupported) NetworkLookupByName(context.Context, string) (Network, error) {
	return Network{}, noSupport("virNetworkLookupByName")
}
func (Unsupported) NetworkLookupByUUID(context.Context, [16]byte) (Network, error) {
	return Network{}, noSupport("virNetworkLookupByUUID")
}
func (Unsupported) NetworkGetXMLDesc(context.Context, Network, uint32) (string, error) {
	return "", noSupport("virNetworkGetXMLDesc")
}
func (Unsupported) NetworkDefineXML(context.Context, string, uint32) (Network, error) {
	return Network{}, noSupport("virNetworkDefineXMLFlags")
}
func (Unsupported) NetworkCreateXML(context.Context, string, uint32) (Network, error) {
	return Network{}, noSupport("virNetworkCreateXMLFlags")
}
func (Unsupported) NetworkUndefine(context.Context, Network) error {
	return noSupport("virNetworkUndefine")
}
func (Unsupported) NetworkCreate(context.Context, Network) error {
	return noSupport("virNetworkCreate")
}
func (Unsupported) NetworkDestroy(context.Context, Network) error {
	return noSupport("virNetworkDestroy")
}
func (Unsupported) NetworkIsActive(context.Context, Network) (bool, error) {
	return false, noSupport("virNetworkIsActive")
}
func (Unsupported) NetworkIsPersistent(context.Context, Network) (bool, error) {
	return false, noSupport("virNetworkIsPersistent")
}
func (Unsupported) NetworkGetAutostart(context.Context, Network) (bool, error) {
	return false, noSupport("virNetworkGetAutostart")
}
func (Unsupported) NetworkSetAutostart(context.Context, Network, bool) error {
	return noSupport("virNetworkSetAutostart")
}
func (Unsupported) NetworkGetBridgeName(context.Context, Network) (string, error) {
	return "", noSupport("virNetworkGetBridgeName")
}
func (Unsupported) NetworkUpdate(context.Context, Network, uint32, uint32, int32, string, uint32) error {
	return noSupport("virNetworkUpdate")
}
func (Unsupported) NetworkGetDHCPLeases(context.Context, Network, string, uint32) ([]NetworkDHCPLease, error) {
	return nil, noSupport("virNetworkGetDHCPLeases")
}
