package driver

import "context"

// StatsConn is the part of Conn for statistics, guest addresses and information, domain capabilities.
// Methods are added here with an Unsupported fallback below.
type StatsConn interface {
	// DomainMemoryStats is virDomainMemoryStats: at most maxStats values,
	// tagged with VIR_DOMAIN_MEMORY_STAT_* numbers.
	DomainMemoryStats(ctx context.Context, d Domain, maxStats uint32, flags uint32) ([]MemoryStatTag, error)
	// DomainBlockStats is virDomainBlockStats for one disk (target name or
	// source path).
	DomainBlockStats(ctx context.Context, d Domain, path string) (BlockStats, error)
	// DomainBlockStatsFlags is virDomainBlockStatsFlags: the fields the
	// driver knows, as typed parameters.
	DomainBlockStatsFlags(ctx context.Context, d Domain, path string, flags uint32) ([]TypedParam, error)
	// DomainInterfaceStats is virDomainInterfaceStats for one interface
	// (target name, alias or MAC address).
	DomainInterfaceStats(ctx context.Context, d Domain, device string) (InterfaceStats, error)
	// GetAllDomainStats is virConnectGetAllDomainStats (doms empty) and
	// virDomainListGetStats (doms given): the VIR_DOMAIN_STATS_* groups in
	// stats (0: all the driver has) for each domain.
	GetAllDomainStats(ctx context.Context, doms []Domain, stats uint32, flags uint32) ([]DomainStatsRecord, error)
	// DomainInterfaceAddresses is virDomainInterfaceAddresses with a
	// VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_* source.
	DomainInterfaceAddresses(ctx context.Context, d Domain, source uint32, flags uint32) ([]InterfaceAddresses, error)
	// DomainGetGuestInfo is virDomainGetGuestInfo (VIR_DOMAIN_GUEST_INFO_* types).
	DomainGetGuestInfo(ctx context.Context, d Domain, types uint32, flags uint32) ([]TypedParam, error)
	// DomainGetHostname is virDomainGetHostname.
	DomainGetHostname(ctx context.Context, d Domain, flags uint32) (string, error)
	// DomainCapabilities is virConnectGetDomainCapabilities ("" arguments
	// mean the defaults).
	DomainCapabilities(ctx context.Context, emulator, arch, machine, virtType string, flags uint32) (string, error)
}

// MemoryStatTag is one virDomainMemoryStatStruct.
type MemoryStatTag struct {
	Tag int32 // VIR_DOMAIN_MEMORY_STAT_*
	Val uint64
}

// BlockStats is virDomainBlockStatsStruct; -1 marks a field the driver
// does not know.
type BlockStats struct {
	RdReq, RdBytes, WrReq, WrBytes, Errs int64
}

// InterfaceStats is virDomainInterfaceStatsStruct; -1 marks an unknown field.
type InterfaceStats struct {
	RxBytes, RxPackets, RxErrs, RxDrop int64
	TxBytes, TxPackets, TxErrs, TxDrop int64
}

// TypedParam is one virTypedParameter. Value is an int32, uint32, int64,
// uint64, float64, bool or string; the RPC layer picks the wire type from it.
type TypedParam struct {
	Field string
	Value any
}

// DomainStatsRecord is one domain's virDomainStatsRecord.
type DomainStatsRecord struct {
	Dom    Domain
	Params []TypedParam
}

// IPAddress is virDomainIPAddress.
type IPAddress struct {
	Type   int32 // VIR_IP_ADDR_TYPE_IPV4 (0) or _IPV6 (1)
	Addr   string
	Prefix uint32
}

// InterfaceAddresses is virDomainInterface.
type InterfaceAddresses struct {
	Name   string
	HWAddr string // "" when unknown
	Addrs  []IPAddress
}

func (Unsupported) DomainMemoryStats(context.Context, Domain, uint32, uint32) ([]MemoryStatTag, error) {
	return nil, noSupport("virDomainMemoryStats")
}
func (Unsupported) DomainBlockStats(context.Context, Domain, string) (BlockStats, error) {
	return BlockStats{}, noSupport("virDomainBlockStats")
}
func (Unsupported) DomainBlockStatsFlags(context.Context, Domain, string, uint32) ([]TypedParam, error) {
	return nil, noSupport("virDomainBlockStatsFlags")
}
func (Unsupported) DomainInterfaceStats(context.Context, Domain, string) (InterfaceStats, error) {
	return InterfaceStats{}, noSupport("virDomainInterfaceStats")
}
func (Unsupported) GetAllDomainStats(context.Context, []Domain, uint32, uint32) ([]DomainStatsRecord, error) {
	return nil, noSupport("virConnectGetAllDomainStats")
}
func (Unsupported) DomainInterfaceAddresses(context.Context, Domain, uint32, uint32) ([]InterfaceAddresses, error) {
	return nil, noSupport("virDomainInterfaceAddresses")
}
func (Unsupported) DomainGetGuestInfo(context.Context, Domain, uint32, uint32) ([]TypedParam, error) {
	return nil, noSupport("virDomainGetGuestInfo")
}
func (Unsupported) DomainGetHostname(context.Context, Domain, uint32) (string, error) {
	return "", noSupport("virDomainGetHostname")
}
func (Unsupported) DomainCapabilities(context.Context, string, string, string, string, uint32) (string, error) {
	return "", noSupport("virConnectGetDomainCapabilities")
}
