package driver

import (
	"context"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// StoragePool identifies a storage pool as libvirt's
// remote_nonnull_storage_pool does.
type StoragePool struct {
	Name string
	UUID [16]byte
}

// StorageVol identifies a storage volume as remote_nonnull_storage_vol does.
type StorageVol struct {
	Pool string // the pool's name
	Name string
	Key  string
}

// StoragePoolState is libvirt's virStoragePoolState.
type StoragePoolState uint8

// The pool states the driver reports.
const (
	PoolInactive StoragePoolState = 0
	PoolRunning  StoragePoolState = 2
)

// StoragePoolInfo is virStoragePoolInfo (sizes in bytes).
type StoragePoolInfo struct {
	State                           StoragePoolState
	Capacity, Allocation, Available uint64
}

// StorageVolInfo is virStorageVolInfo (type VIR_STORAGE_VOL_*, sizes in bytes).
type StorageVolInfo struct {
	Type                 int8
	Capacity, Allocation uint64
}

// VolStream is the driver's side of a volume upload or download: the RPC
// layer's stream (internal/rpc.Stream) seen through what a transfer needs.
// Recv returns io.EOF once the client finished. A download ends with an
// empty Send (end of data), the client's finish (Recv's io.EOF) and Finish.
type VolStream interface {
	Send(ctx context.Context, data []byte) error
	Recv(ctx context.Context) ([]byte, error)
	Finish(ctx context.Context) error
	Abort(err error)
}

// StorageConn is the part of Conn for storage pools and volumes (the media
// registry). Flags are libvirt's (VIR_CONNECT_LIST_STORAGE_POOLS_*,
// VIR_STORAGE_VOL_RESIZE_*...). The legacy list calls (NumOf/List(Defined)
// StoragePools, PoolNumOfVolumes/ListVolumes) are derived by the RPC layer
// from ListAllStoragePools and StoragePoolListAllVolumes.
type StorageConn interface {
	ListAllStoragePools(ctx context.Context, flags uint32) ([]StoragePool, error)
	StoragePoolLookupByName(ctx context.Context, name string) (StoragePool, error)
	StoragePoolLookupByUUID(ctx context.Context, uuid [16]byte) (StoragePool, error)
	StoragePoolLookupByVolume(ctx context.Context, vol StorageVol) (StoragePool, error)
	StoragePoolGetInfo(ctx context.Context, pool StoragePool) (StoragePoolInfo, error)
	StoragePoolGetXMLDesc(ctx context.Context, pool StoragePool, flags uint32) (string, error)
	StoragePoolDefineXML(ctx context.Context, xml string, flags uint32) (StoragePool, error)
	StoragePoolCreateXML(ctx context.Context, xml string, flags uint32) (StoragePool, error)
	StoragePoolCreate(ctx context.Context, pool StoragePool, flags uint32) error
	StoragePoolDestroy(ctx context.Context, pool StoragePool) error
	StoragePoolUndefine(ctx context.Context, pool StoragePool) error
	// StoragePoolBuild creates an inactive pool's directory;
	// StoragePoolDelete removes it (empty) again.
	StoragePoolBuild(ctx context.Context, pool StoragePool, flags uint32) error
	StoragePoolDelete(ctx context.Context, pool StoragePool, flags uint32) error
	StoragePoolRefresh(ctx context.Context, pool StoragePool, flags uint32) error
	StoragePoolGetAutostart(ctx context.Context, pool StoragePool) (bool, error)
	StoragePoolSetAutostart(ctx context.Context, pool StoragePool, autostart bool) error
	StoragePoolIsActive(ctx context.Context, pool StoragePool) (bool, error)
	StoragePoolIsPersistent(ctx context.Context, pool StoragePool) (bool, error)
	StoragePoolListAllVolumes(ctx context.Context, pool StoragePool, flags uint32) ([]StorageVol, error)

	StorageVolLookupByName(ctx context.Context, pool StoragePool, name string) (StorageVol, error)
	StorageVolLookupByKey(ctx context.Context, key string) (StorageVol, error)
	StorageVolLookupByPath(ctx context.Context, path string) (StorageVol, error)
	StorageVolGetInfo(ctx context.Context, vol StorageVol) (StorageVolInfo, error)
	StorageVolGetXMLDesc(ctx context.Context, vol StorageVol, flags uint32) (string, error)
	StorageVolGetPath(ctx context.Context, vol StorageVol) (string, error)
	StorageVolCreateXML(ctx context.Context, pool StoragePool, xml string, flags uint32) (StorageVol, error)
	StorageVolCreateXMLFrom(ctx context.Context, pool StoragePool, xml string, from StorageVol, flags uint32) (StorageVol, error)
	StorageVolDelete(ctx context.Context, vol StorageVol, flags uint32) error
	StorageVolResize(ctx context.Context, vol StorageVol, capacity uint64, flags uint32) error
	// StorageVolUpload and StorageVolDownload check the request and return;
	// the transfer then runs on st (after the call's reply) until it ends
	// with st.Finish or st.Abort.
	StorageVolUpload(ctx context.Context, vol StorageVol, st VolStream, offset, length uint64, flags uint32) error
	StorageVolDownload(ctx context.Context, vol StorageVol, st VolStream, offset, length uint64, flags uint32) error
}

func noStorage(api string) error { return errdefs.New(errdefs.ErrNoSupport, api) }

// ListAllStoragePools implements StorageConn: not supported.
func (Unsupported) ListAllStoragePools(context.Context, uint32) ([]StoragePool, error) {
	return nil, noStorage("virConnectListAllStoragePools")
}

// StoragePoolLookupByName implements StorageConn: not supported.
func (Unsupported) StoragePoolLookupByName(context.Context, string) (StoragePool, error) {
	return StoragePool{}, noStorage("virStoragePoolLookupByName")
}

// StoragePoolLookupByUUID implements StorageConn: not supported.
func (Unsupported) StoragePoolLookupByUUID(context.Context, [16]byte) (StoragePool, error) {
	return StoragePool{}, noStorage("virStoragePoolLookupByUUID")
}

// StoragePoolLookupByVolume implements StorageConn: not supported.
func (Unsupported) StoragePoolLookupByVolume(context.Context, StorageVol) (StoragePool, error) {
	return StoragePool{}, noStorage("virStoragePoolLookupByVolume")
}

// StoragePoolGetInfo implements StorageConn: not supported.
func (Unsupported) StoragePoolGetInfo(context.Context, StoragePool) (StoragePoolInfo, error) {
	return StoragePoolInfo{}, noStorage("virStoragePoolGetInfo")
}

// StoragePoolGetXMLDesc implements StorageConn: not supported.
func (Unsupported) StoragePoolGetXMLDesc(context.Context, StoragePool, uint32) (string, error) {
	return "", noStorage("virStoragePoolGetXMLDesc")
}

// StoragePoolDefineXML implements StorageConn: not supported.
func (Unsupported) StoragePoolDefineXML(context.Context, string, uint32) (StoragePool, error) {
	return StoragePool{}, noStorage("virStoragePoolDefineXML")
}

// StoragePoolCreateXML implements StorageConn: not supported.
func (Unsupported) StoragePoolCreateXML(context.Context, string, uint32) (StoragePool, error) {
	return StoragePool{}, noStorage("virStoragePoolCreateXML")
}

// StoragePoolCreate implements StorageConn: not supported.
func (Unsupported) StoragePoolCreate(context.Context, StoragePool, uint32) error {
	return noStorage("virStoragePoolCreate")
}

// StoragePoolDestroy implements StorageConn: not supported.
func (Unsupported) StoragePoolDestroy(context.Context, StoragePool) error {
	return noStorage("virStoragePoolDestroy")
}

// StoragePoolUndefine implements StorageConn: not supported.
func (Unsupported) StoragePoolUndefine(context.Context, StoragePool) error {
	return noStorage("virStoragePoolUndefine")
}

// StoragePoolRefresh implements StorageConn: not supported.
func (Unsupported) StoragePoolRefresh(context.Context, StoragePool, uint32) error {
	return noStorage("virStoragePoolRefresh")
}

// StoragePoolGetAutostart implements StorageConn: not supported.
func (Unsupported) StoragePoolGetAutostart(context.Context, StoragePool) (bool, error) {
	return false, noStorage("virStoragePoolGetAutostart")
}

// StoragePoolSetAutostart implements StorageConn: not supported.
func (Unsupported) StoragePoolSetAutostart(context.Context, StoragePool, bool) error {
	return noStorage("virStoragePoolSetAutostart")
}

// StoragePoolBuild implements StorageConn: not supported.
func (Unsupported) StoragePoolBuild(context.Context, StoragePool, uint32) error {
	return noStorage("virStoragePoolBuild")
}

// StoragePoolDelete implements StorageConn: not supported.
func (Unsupported) StoragePoolDelete(context.Context, StoragePool, uint32) error {
	return noStorage("virStoragePoolDelete")
}

// StoragePoolIsActive implements StorageConn: not supported.
func (Unsupported) StoragePoolIsActive(context.Context, StoragePool) (bool, error) {
	return false, noStorage("virStoragePoolIsActive")
}

// StoragePoolIsPersistent implements StorageConn: not supported.
func (Unsupported) StoragePoolIsPersistent(context.Context, StoragePool) (bool, error) {
	return false, noStorage("virStoragePoolIsPersistent")
}

// StoragePoolListAllVolumes implements StorageConn: not supported.
func (Unsupported) StoragePoolListAllVolumes(context.Context, StoragePool, uint32) ([]StorageVol, error) {
	return nil, noStorage("virStoragePoolListAllVolumes")
}

// StorageVolLookupByName implements StorageConn: not supported.
func (Unsupported) StorageVolLookupByName(context.Context, StoragePool, string) (StorageVol, error) {
	return StorageVol{}, noStorage("virStorageVolLookupByName")
}

// StorageVolLookupByKey implements StorageConn: not supported.
func (Unsupported) StorageVolLookupByKey(context.Context, string) (StorageVol, error) {
	return StorageVol{}, noStorage("virStorageVolLookupByKey")
}

// StorageVolLookupByPath implements StorageConn: not supported.
func (Unsupported) StorageVolLookupByPath(context.Context, string) (StorageVol, error) {
	return StorageVol{}, noStorage("virStorageVolLookupByPath")
}

// StorageVolGetInfo implements StorageConn: not supported.
func (Unsupported) StorageVolGetInfo(context.Context, StorageVol) (StorageVolInfo, error) {
	return StorageVolInfo{}, noStorage("virStorageVolGetInfo")
}

// StorageVolGetXMLDesc implements StorageConn: not supported.
func (Unsupported) StorageVolGetXMLDesc(context.Context, StorageVol, uint32) (string, error) {
	return "", noStorage("virStorageVolGetXMLDesc")
}

// StorageVolGetPath implements StorageConn: not supported.
func (Unsupported) StorageVolGetPath(context.Context, StorageVol) (string, error) {
	return "", noStorage("virStorageVolGetPath")
}

// StorageVolCreateXML implements StorageConn: not supported.
func (Unsupported) StorageVolCreateXML(context.Context, StoragePool, string, uint32) (StorageVol, error) {
	return StorageVol{}, noStorage("virStorageVolCreateXML")
}

// StorageVolCreateXMLFrom implements StorageConn: not supported.
func (Unsupported) StorageVolCreateXMLFrom(context.Context, StoragePool, string, StorageVol, uint32) (StorageVol, error) {
	return StorageVol{}, noStorage("virStorageVolCreateXMLFrom")
}

// StorageVolDelete implements StorageConn: not supported.
func (Unsupported) StorageVolDelete(context.Context, StorageVol, uint32) error {
	return noStorage("virStorageVolDelete")
}

// StorageVolResize implements StorageConn: not supported.
func (Unsupported) StorageVolResize(context.Context, StorageVol, uint64, uint32) error {
	return noStorage("virStorageVolResize")
}

// StorageVolUpload implements StorageConn: not supported.
func (Unsupported) StorageVolUpload(context.Context, StorageVol, VolStream, uint64, uint64, uint32) error {
	return noStorage("virStorageVolUpload")
}

// StorageVolDownload implements StorageConn: not supported.
func (Unsupported) StorageVolDownload(context.Context, StorageVol, VolStream, uint64, uint64, uint32) error {
	return noStorage("virStorageVolDownload")
}
