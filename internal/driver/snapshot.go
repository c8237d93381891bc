package driver

import "context"

// DomainSnapshot identifies a snapshot as libvirt's
// remote_nonnull_domain_snapshot does: its name and its domain.
type DomainSnapshot struct {
	Name string
	Dom  Domain
}

// SnapshotConn is the part of Conn for snapshots and the domain's title,
// description, metadata and name.
//
// Snapshot list flags are libvirt's VIR_DOMAIN_SNAPSHOT_LIST_* (ROOTS,
// DESCENDANTS, LEAVES, NO_LEAVES, METADATA, NO_METADATA, INACTIVE, ACTIVE,
// DISK_ONLY, INTERNAL, EXTERNAL, TOPOLOGICAL); the legacy calls
// (virDomainSnapshotNum, ListNames, NumChildren, ListChildrenNames) are
// derived from DomainListAllSnapshots and DomainSnapshotListAllChildren by
// the RPC layer, as the legacy domain lists are from ListAllDomains.
type SnapshotConn interface {
	DomainSnapshotCreateXML(ctx context.Context, d Domain, xml string, flags uint32) (DomainSnapshot, error)
	DomainSnapshotGetXMLDesc(ctx context.Context, s DomainSnapshot, flags uint32) (string, error)
	DomainListAllSnapshots(ctx context.Context, d Domain, flags uint32) ([]DomainSnapshot, error)
	DomainSnapshotListAllChildren(ctx context.Context, s DomainSnapshot, flags uint32) ([]DomainSnapshot, error)
	DomainSnapshotLookupByName(ctx context.Context, d Domain, name string, flags uint32) (DomainSnapshot, error)
	DomainHasCurrentSnapshot(ctx context.Context, d Domain, flags uint32) (bool, error)
	DomainSnapshotCurrent(ctx context.Context, d Domain, flags uint32) (DomainSnapshot, error)
	DomainSnapshotGetParent(ctx context.Context, s DomainSnapshot, flags uint32) (DomainSnapshot, error)
	DomainSnapshotIsCurrent(ctx context.Context, s DomainSnapshot, flags uint32) (bool, error)
	DomainSnapshotHasMetadata(ctx context.Context, s DomainSnapshot, flags uint32) (bool, error)
	DomainRevertToSnapshot(ctx context.Context, s DomainSnapshot, flags uint32) error
	DomainSnapshotDelete(ctx context.Context, s DomainSnapshot, flags uint32) error

	// DomainRename gives an inactive domain a new name (virDomainRename).
	DomainRename(ctx context.Context, d Domain, newName string, flags uint32) error
	// DomainSetMetadata and DomainGetMetadata are virDomainSetMetadata and
	// virDomainGetMetadata: typ is VIR_DOMAIN_METADATA_DESCRIPTION (0),
	// TITLE (1) or ELEMENT (2, with key and uri); flags are
	// VIR_DOMAIN_AFFECT_*. An empty metadata removes the value.
	DomainSetMetadata(ctx context.Context, d Domain, typ int32, metadata, key, uri string, flags uint32) error
	DomainGetMetadata(ctx context.Context, d Domain, typ int32, uri string, flags uint32) (string, error)
}

func (Unsupported) DomainSnapshotCreateXML(context.Context, Domain, string, uint32) (DomainSnapshot, error) {
	return DomainSnapshot{}, noSupport("virDomainSnapshotCreateXML")
}
func (Unsupported) DomainSnapshotGetXMLDesc(context.Context, DomainSnapshot, uint32) (string, error) {
	return "", noSupport("virDomainSnapshotGetXMLDesc")
}
func (Unsupported) DomainListAllSnapshots(context.Context, Domain, uint32) ([]DomainSnapshot, error) {
	return nil, noSupport("virDomainListAllSnapshots")
}
func (Unsupported) DomainSnapshotListAllChildren(context.Context, DomainSnapshot, uint32) ([]DomainSnapshot, error) {
	return nil, noSupport("virDomainSnapshotListAllChildren")
}
func (Unsupported) DomainSnapshotLookupByName(context.Context, Domain, string, uint32) (DomainSnapshot, error) {
	return DomainSnapshot{}, noSupport("virDomainSnapshotLookupByName")
}
func (Unsupported) DomainHasCurrentSnapshot(context.Context, Domain, uint32) (bool, error) {
	return false, noSupport("virDomainHasCurrentSnapshot")
}
func (Unsupported) DomainSnapshotCurrent(context.Context, Domain, uint32) (DomainSnapshot, error) {
	return DomainSnapshot{}, noSupport("virDomainSnapshotCurrent")
}
func (Unsupported) DomainSnapshotGetParent(context.Context, DomainSnapshot, uint32) (DomainSnapshot, error) {
	return DomainSnapshot{}, noSupport("virDomainSnapshotGetParent")
}
func (Unsupported) DomainSnapshotIsCurrent(context.Context, DomainSnapshot, uint32) (bool, error) {
	return false, noSupport("virDomainSnapshotIsCurrent")
}
func (Unsupported) DomainSnapshotHasMetadata(context.Context, DomainSnapshot, uint32) (bool, error) {
	return false, noSupport("virDomainSnapshotHasMetadata")
}
func (Unsupported) DomainRevertToSnapshot(context.Context, DomainSnapshot, uint32) error {
	return noSupport("virDomainRevertToSnapshot")
}
func (Unsupported) DomainSnapshotDelete(context.Context, DomainSnapshot, uint32) error {
	return noSupport("virDomainSnapshotDelete")
}
func (Unsupported) DomainRename(context.Context, Domain, string, uint32) error {
	return noSupport("virDomainRename")
}
func (Unsupported) DomainSetMetadata(context.Context, Domain, int32, string, string, string, uint32) error {
	return noSupport("virDomainSetMetadata")
}
func (Unsupported) DomainGetMetadata(context.Context, Domain, int32, string, uint32) (string, error) {
	return "", noSupport("virDomainGetMetadata")
}
