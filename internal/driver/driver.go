// Package driver is the contract between the RPC layer (internal/rpc) and a
// hypervisor driver (internal/vbox): the connection interface in libvirt's
// terms and the plain values it passes. It imports nothing of the project but
// internal/errdefs, so neither side links the other.
package driver

import (
	"context"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// This file is the seam between the RPC layer and the hypervisor driver
// (internal/vbox). Nothing here knows XDR: the remote program decodes each
// call's arguments, calls one method of Conn with plain Go values, and encodes
// the answer. Errors come back as errdefs classes and are mapped to libvirt's
// codes in one place (errors.go).
//
// Flags are passed through as libvirt defines them (for example
// VIR_CONNECT_LIST_DOMAINS_* for ListAllDomains, VIR_DOMAIN_AFFECT_* and
// VIR_DOMAIN_MEM_MAXIMUM for SetMemory); the driver rejects flags it does not
// understand with errdefs.ErrInvalidArg.

// Domain identifies a domain as libvirt's remote_nonnull_domain does.
type Domain struct {
	Name string
	UUID [16]byte
	ID   int32 // -1 while the domain is inactive
}

// DomainState is libvirt's virDomainState.
type DomainState int32

// The domain states libvirt defines.
const (
	StateNoState     DomainState = 0
	StateRunning     DomainState = 1
	StateBlocked     DomainState = 2
	StatePaused      DomainState = 3
	StateShutdown    DomainState = 4
	StateShutoff     DomainState = 5
	StateCrashed     DomainState = 6
	StatePMSuspended DomainState = 7
)

// DomainInfo is virDomainInfo. Memory sizes are in KiB, CPUTime in ns.
type DomainInfo struct {
	State     DomainState
	MaxMemKiB uint64
	MemoryKiB uint64
	NrVirtCPU uint16
	CPUTime   uint64
}

// NodeInfo is virNodeInfo. MemoryKiB is the host's total memory.
type NodeInfo struct {
	Model     string
	MemoryKiB uint64
	CPUs      int32
	MHz       int32
	Nodes     int32
	Sockets   int32
	Cores     int32
	Threads   int32
}

// MemoryStat is one field of virNodeGetMemoryStats (values in KiB).
type MemoryStat struct {
	Field string
	Value uint64
}

// OpenRequest describes a CONNECT_OPEN call.
type OpenRequest struct {
	URI      string // as sent by the client; "" means the default
	ReadOnly bool   // the ro socket or VIR_CONNECT_RO
	UID      uint32 // the peer's uid (SO_PEERCRED)
	PID      int32  // the peer's pid
}

// Driver opens connections. It is implemented by internal/vbox.
type Driver interface {
	// Open checks req.URI against the driver's URI rules and returns a
	// connection. A URI the driver does not handle yields ErrNoSupport-free
	// libvirt wording via errdefs classes (usually ErrInternal).
	Open(ctx context.Context, req OpenRequest) (Conn, error)
}

// Conn is one client's open hypervisor connection (a virConnectPtr). Its
// methods may be called concurrently from several workers.
//
// Every method returns errdefs-classed errors. Methods a driver does not
// implement return an ErrNoSupport error naming the public API
// (see Unsupported), which the RPC layer turns into "this function is not
// supported by the connection driver: virXxx".
type Conn interface {
	Close() error

	// Connection and host.
	URI() string  // canonical URI, e.g. "vbox:///session"
	Type() string // "VBOX"
	Version(ctx context.Context) (uint64, error)
	Hostname(ctx context.Context) (string, error)
	Capabilities(ctx context.Context) (string, error)
	Sysinfo(ctx context.Context, flags uint32) (string, error)
	MaxVcpus(ctx context.Context, typ string) (int32, error)
	NodeInfo(ctx context.Context) (NodeInfo, error)
	NodeFreeMemory(ctx context.Context) (uint64, error) // bytes
	NodeMemoryStats(ctx context.Context, cell int32, flags uint32) ([]MemoryStat, error)

	// Listing and lookup. ListAllDomains applies libvirt's
	// VIR_CONNECT_LIST_DOMAINS_* filter flags; the legacy list calls
	// (ListDomains, ListDefinedDomains, NumOf*) are derived from it.
	ListAllDomains(ctx context.Context, flags uint32) ([]Domain, error)
	LookupByName(ctx context.Context, name string) (Domain, error)
	LookupByUUID(ctx context.Context, uuid [16]byte) (Domain, error)
	LookupByID(ctx context.Context, id int32) (Domain, error)

	// Query.
	DomainGetInfo(ctx context.Context, d Domain) (DomainInfo, error)
	DomainGetState(ctx context.Context, d Domain, flags uint32) (state DomainState, reason int32, err error)
	DomainGetXMLDesc(ctx context.Context, d Domain, flags uint32) (string, error)
	DomainGetOSType(ctx context.Context, d Domain) (string, error)
	DomainIsActive(ctx context.Context, d Domain) (bool, error)
	DomainIsPersistent(ctx context.Context, d Domain) (bool, error)
	DomainIsUpdated(ctx context.Context, d Domain) (bool, error)
	DomainGetAutostart(ctx context.Context, d Domain) (bool, error)
	DomainHasManagedSaveImage(ctx context.Context, d Domain, flags uint32) (bool, error)
	DomainGetMaxVcpus(ctx context.Context, d Domain) (int32, error)
	DomainGetVcpusFlags(ctx context.Context, d Domain, flags uint32) (int32, error)
	DomainGetMaxMemory(ctx context.Context, d Domain) (uint64, error) // KiB

	// Definition.
	DomainDefineXML(ctx context.Context, xml string, flags uint32) (Domain, error)
	DomainUndefine(ctx context.Context, d Domain, flags uint32) error

	// Lifecycle. DomainCreate and DomainCreateXML return the domain with its
	// new ID.
	DomainCreateXML(ctx context.Context, xml string, flags uint32) (Domain, error)
	DomainCreate(ctx context.Context, d Domain, flags uint32) (Domain, error)
	DomainShutdown(ctx context.Context, d Domain, flags uint32) error
	DomainReboot(ctx context.Context, d Domain, flags uint32) error
	DomainReset(ctx context.Context, d Domain, flags uint32) error
	DomainDestroy(ctx context.Context, d Domain, flags uint32) error
	DomainSuspend(ctx context.Context, d Domain) error
	DomainResume(ctx context.Context, d Domain) error
	DomainSave(ctx context.Context, d Domain, to string, dxml string, flags uint32) error
	DomainManagedSave(ctx context.Context, d Domain, flags uint32) error
	DomainManagedSaveRemove(ctx context.Context, d Domain, flags uint32) error

	// Configuration.
	DomainSetMemory(ctx context.Context, d Domain, kib uint64, flags uint32) error
	DomainSetVcpus(ctx context.Context, d Domain, n uint32, flags uint32) error
	DomainSetAutostart(ctx context.Context, d Domain, autostart bool) error

	// The later areas, each declared in its own file.
	NodeConn
	SnapshotConn
	DeviceConn
	ConsoleConn
	NetworkConn
	StorageConn
	EventConn
	StatsConn
}

// Unsupported implements every Conn method with an ErrNoSupport error naming
// the libvirt API. Embed it in a driver's connection type to implement Conn
// while only some methods are written; later capabilities (snapshots,
// screenshots, devices, networks, storage) are added to Conn with an
// Unsupported fallback so that existing drivers keep compiling.
type Unsupported struct{}

func noSupport(api string) error { return errdefs.New(errdefs.ErrNoSupport, api) }

func (Unsupported) Close() error { return nil }
func (Unsupported) URI() string  { return "" }
func (Unsupported) Type() string { return "" }
func (Unsupported) Version(context.Context) (uint64, error) {
	return 0, noSupport("virConnectGetVersion")
}
func (Unsupported) Hostname(context.Context) (string, error) {
	return "", noSupport("virConnectGetHostname")
}
func (Unsupported) Capabilities(context.Context) (string, error) {
	return "", noSupport("virConnectGetCapabilities")
}
func (Unsupported) Sysinfo(context.Context, uint32) (string, error) {
	return "", noSupport("virConnectGetSysinfo")
}
func (Unsupported) MaxVcpus(context.Context, string) (int32, error) {
	return 0, noSupport("virConnectGetMaxVcpus")
}
func (Unsupported) NodeInfo(context.Context) (NodeInfo, error) {
	return NodeInfo{}, noSupport("virNodeGetInfo")
}
func (Unsupported) NodeFreeMemory(context.Context) (uint64, error) {
	return 0, noSupport("virNodeGetFreeMemory")
}
func (Unsupported) NodeMemoryStats(context.Context, int32, uint32) ([]MemoryStat, error) {
	return nil, noSupport("virNodeGetMemoryStats")
}
func (Unsupported) ListAllDomains(context.Context, uint32) ([]Domain, error) {
	return nil, noSupport("virConnectListAllDomains")
}
func (Unsupported) LookupByName(context.Context, string) (Domain, error) {
	return Domain{}, noSupport("virDomainLookupByName")
}
func (Unsupported) LookupByUUID(context.Context, [16]byte) (Domain, error) {
	return Domain{}, noSupport("virDomainLookupByUUID")
}
func (Unsupported) LookupByID(context.Context, int32) (Domain, error) {
	return Domain{}, noSupport("virDomainLookupByID")
}
func (Unsupported) DomainGetInfo(context.Context, Domain) (DomainInfo, error) {
	return DomainInfo{}, noSupport("virDomainGetInfo")
}
func (Unsupported) DomainGetState(context.Context, Domain, uint32) (DomainState, int32, error) {
	return 0, 0, noSupport("virDomainGetState")
}
func (Unsupported) DomainGetXMLDesc(context.Context, Domain, uint32) (string, error) {
	return "", noSupport("virDomainGetXMLDesc")
}
func (Unsupported) DomainGetOSType(context.Context, Domain) (string, error) {
	return "", noSupport("virDomainGetOSType")
}
func (Unsupported) DomainIsActive(context.Context, Domain) (bool, error) {
	return false, noSupport("virDomainIsActive")
}
func (Unsupported) DomainIsPersistent(context.Context, Domain) (bool, error) {
	return false, noSupport("virDomainIsPersistent")
}
func (Unsupported) DomainIsUpdated(context.Context, Domain) (bool, error) {
	return false, noSupport("virDomainIsUpdated")
}
func (Unsupported) DomainGetAutostart(context.Context, Domain) (bool, error) {
	return false, noSupport("virDomainGetAutostart")
}
func (Unsupported) DomainHasManagedSaveImage(context.Context, Domain, uint32) (bool, error) {
	return false, noSupport("virDomainHasManagedSaveImage")
}
func (Unsupported) DomainGetMaxVcpus(context.Context, Domain) (int32, error) {
	return 0, noSupport("virDomainGetMaxVcpus")
}
func (Unsupported) DomainGetVcpusFlags(context.Context, Domain, uint32) (int32, error) {
	return 0, noSupport("virDomainGetVcpusFlags")
}
func (Unsupported) DomainGetMaxMemory(context.Context, Domain) (uint64, error) {
	return 0, noSupport("virDomainGetMaxMemory")
}
func (Unsupported) DomainDefineXML(context.Context, string, uint32) (Domain, error) {
	return Domain{}, noSupport("virDomainDefineXMLFlags")
}
func (Unsupported) DomainUndefine(context.Context, Domain, uint32) error {
	return noSupport("virDomainUndefineFlags")
}
func (Unsupported) DomainCreateXML(context.Context, string, uint32) (Domain, error) {
	return Domain{}, noSupport("virDomainCreateXML")
}
func (Unsupported) DomainCreate(context.Context, Domain, uint32) (Domain, error) {
	return Domain{}, noSupport("virDomainCreateWithFlags")
}
func (Unsupported) DomainShutdown(context.Context, Domain, uint32) error {
	return noSupport("virDomainShutdownFlags")
}
func (Unsupported) DomainReboot(context.Context, Domain, uint32) error {
	return noSupport("virDomainReboot")
}
func (Unsupported) DomainReset(context.Context, Domain, uint32) error {
	return noSupport("virDomainReset")
}
func (Unsupported) DomainDestroy(context.Context, Domain, uint32) error {
	return noSupport("virDomainDestroyFlags")
}
func (Unsupported) DomainSuspend(context.Context, Domain) error {
	return noSupport("virDomainSuspend")
}
func (Unsupported) DomainResume(context.Context, Domain) error {
	return noSupport("virDomainResume")
}
func (Unsupported) DomainSave(context.Context, Domain, string, string, uint32) error {
	return noSupport("virDomainSaveFlags")
}
func (Unsupported) DomainManagedSave(context.Context, Domain, uint32) error {
	return noSupport("virDomainManagedSave")
}
func (Unsupported) DomainManagedSaveRemove(context.Context, Domain, uint32) error {
	return noSupport("virDomainManagedSaveRemove")
}
func (Unsupported) DomainSetMemory(context.Context, Domain, uint64, uint32) error {
	return noSupport("virDomainSetMemoryFlags")
}
func (Unsupported) DomainSetVcpus(context.Context, Domain, uint32, uint32) error {
	return noSupport("virDomainSetVcpusFlags")
}
func (Unsupported) DomainSetAutostart(context.Context, Domain, bool) error {
	return noSupport("virDomainSetAutostart")
}

var _ Conn = Unsupported{}
