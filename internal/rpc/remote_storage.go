package rpc

import (
	"context"
	"fmt"

	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/virtvboxd/virtvboxd/internal/driver"
)

// storageHandlers are the storage procedures (see remoteHandlers): pools and
// volumes. The legacy pool and volume lists are derived from the ListAll
// calls, as the domain lists are.
var storageHandlers = handlerSet{
	procConnectListAllStoragePools:      withArgs(connectListAllStoragePools),
	procConnectNumOfStoragePools:        connectNumOfStoragePools,
	procConnectListStoragePools:         withArgs(connectListStoragePools),
	procConnectNumOfDefinedStoragePools: connectNumOfDefinedStoragePools,
	procConnectListDefinedStoragePools:  withArgs(connectListDefinedStoragePools),
	procStoragePoolLookupByName:         withArgs(storagePoolLookupByName),
	procStoragePoolLookupByUUID:         withArgs(storagePoolLookupByUUID),
	procStoragePoolLookupByVolume:       withArgs(storagePoolLookupByVolume),
	procStoragePoolGetInfo:              withArgs(storagePoolGetInfo),
	procStoragePoolGetXMLDesc:           withArgs(storagePoolGetXMLDesc),
	procStoragePoolDefineXML:            withArgs(storagePoolDefineXML),
	procStoragePoolCreateXML:            withArgs(storagePoolCreateXML),
	procStoragePoolCreate:               withArgs(storagePoolCreate),
	procStoragePoolDestroy:              withArgs(storagePoolDestroy),
	procStoragePoolUndefine:             withArgs(storagePoolUndefine),
	procStoragePoolBuild:                withArgs(storagePoolBuild),
	procStoragePoolDelete:               withArgs(storagePoolDelete),
	procStoragePoolRefresh:              withArgs(storagePoolRefresh),
	procStoragePoolGetAutostart:         withArgs(storagePoolGetAutostart),
	procStoragePoolSetAutostart:         withArgs(storagePoolSetAutostart),
	procStoragePoolIsActive:             withArgs(storagePoolIsActive),
	procStoragePoolIsPersistent:         withArgs(storagePoolIsPersistent),
	procStoragePoolListAllVolumes:       withArgs(storagePoolListAllVolumes),
	procStoragePoolNumOfVolumes:         withArgs(storagePoolNumOfVolumes),
	procStoragePoolListVolumes:          withArgs(storagePoolListVolumes),
	procStorageVolLookupByName:          withArgs(storageVolLookupByName),
	procStorageVolLookupByKey:           withArgs(storageVolLookupByKey),
	procStorageVolLookupByPath:          withArgs(storageVolLookupByPath),
	procStorageVolGetInfo:               withArgs(storageVolGetInfo),
	procStorageVolGetXMLDesc:            withArgs(storageVolGetXMLDesc),
	procStorageVolGetPath:               withArgs(storageVolGetPath),
	procStorageVolCreateXML:             withArgs(storageVolCreateXML),
	procStorageVolCreateXMLFrom:         withArgs(storageVolCreateXMLFrom),
	procStorageVolDelete:                withArgs(storageVolDelete),
	procStorageVolResize:                withArgs(storageVolResize),
	procStorageVolUpload:                storageVolUpload,
	procStorageVolDownload:              storageVolDownload,
}

// The VIR_CONNECT_LIST_STORAGE_POOLS_* bits the legacy lists use.
const (
	listPoolsInactive = 1 << 0
	listPoolsActive   = 1 << 1
)

func toPool(p libvirt.StoragePool) driver.StoragePool {
	return driver.StoragePool{Name: p.Name, UUID: p.UUID}
}

func fromPool(p driver.StoragePool) libvirt.StoragePool {
	return libvirt.StoragePool{Name: p.Name, UUID: libvirt.UUID(p.UUID)}
}

func toVol(v libvirt.StorageVol) driver.StorageVol {
	return driver.StorageVol{Pool: v.Pool, Name: v.Name, Key: v.Key}
}

func fromVol(v driver.StorageVol) libvirt.StorageVol {
	return libvirt.StorageVol{Pool: v.Pool, Name: v.Name, Key: v.Key}
}

func poolRet(out *packet, p driver.StoragePool, err error) error {
	if err != nil {
		return err
	}
	return out.encode(fromPool(p))
}

func volRet(out *packet, v driver.StorageVol, err error) error {
	if err != nil {
		return err
	}
	return out.encode(fromVol(v))
}

func stringRet(out *packet, s string, err error) error {
	if err != nil {
		return err
	}
	return out.encode(s)
}

func listPools(ctx context.Context, cn driver.Conn, flags uint32) ([]driver.StoragePool, error) {
	pools, err := cn.ListAllStoragePools(ctx, flags)
	if err != nil {
		return nil, err
	}
	if len(pools) > storagePoolListMax {
		return nil, rpcError(fmt.Sprintf("Too many storage pools '%d' for limit '%d'", len(pools), storagePoolListMax))
	}
	return pools, nil
}

// storagePoolListMax and storageVolListMax are REMOTE_STORAGE_POOL_LIST_MAX
// and REMOTE_STORAGE_VOL_LIST_MAX.
const (
	storagePoolListMax = 16384
	storageVolListMax  = 16384
)

func poolNames(pools []driver.StoragePool, max int32) []string {
	names := []string{}
	for _, p := range pools {
		if len(names) == int(max) {
			break
		}
		names = append(names, p.Name)
	}
	return names
}

func connectListAllStoragePools(ctx context.Context, cn driver.Conn, a *libvirt.ConnectListAllStoragePoolsArgs, out *packet) error {
	pools, err := listPools(ctx, cn, uint32(a.Flags))
	if err != nil {
		return err
	}
	r := libvirt.ConnectListAllStoragePoolsRet{Ret: uint32(len(pools))}
	if a.NeedResults != 0 {
		r.Pools = make([]libvirt.StoragePool, len(pools))
		for i, p := range pools {
			r.Pools[i] = fromPool(p)
		}
	}
	return out.encode(r)
}

func countPools(flags uint32) remoteHandler {
	return func(ctx context.Context, cn driver.Conn, cl *call, out *packet) error {
		pools, err := listPools(ctx, cn, flags)
		if err != nil {
			return err
		}
		out.putU32(uint32(len(pools)))
		return nil
	}
}

var (
	connectNumOfStoragePools        = countPools(listPoolsActive)
	connectNumOfDefinedStoragePools = countPools(listPoolsInactive)
)

func connectListStoragePools(ctx context.Context, cn driver.Conn, a *libvirt.ConnectListStoragePoolsArgs, out *packet) error {
	if err := argPoolListMax("virConnectListStoragePools", a.Maxnames); err != nil {
		return err
	}
	pools, err := listPools(ctx, cn, listPoolsActive)
	if err != nil {
		return err
	}
	return out.encode(libvirt.ConnectListStoragePoolsRet{Names: poolNames(pools, a.Maxnames)})
}

func connectListDefinedStoragePools(ctx context.Context, cn driver.Conn, a *libvirt.ConnectListDefinedStoragePoolsArgs, out *packet) error {
	if err := argPoolListMax("virConnectListDefinedStoragePools", a.Maxnames); err != nil {
		return err
	}
	pools, err := listPools(ctx, cn, listPoolsInactive)
	if err != nil {
		return err
	}
	return out.encode(libvirt.ConnectListDefinedStoragePoolsRet{Names: poolNames(pools, a.Maxnames)})
}

// argPoolListMax checks a list maximum against REMOTE_STORAGE_POOL_LIST_MAX
// (the same value as the volume list's), then the API's non-negative check.
func argPoolListMax(api string, v int32) error {
	if v > storagePoolListMax {
		return rpcError("maxnames > REMOTE_STORAGE_POOL_LIST_MAX")
	}
	return argNonNegative(api, "maxnames", v)
}

func storagePoolLookupByName(ctx context.Context, cn driver.Conn, a *libvirt.StoragePoolLookupByNameArgs, out *packet) error {
	p, err := cn.StoragePoolLookupByName(ctx, a.Name)
	return poolRet(out, p, err)
}

func storagePoolLookupByUUID(ctx context.Context, cn driver.Conn, a *libvirt.StoragePoolLookupByUUIDArgs, out *packet) error {
	p, err := cn.StoragePoolLookupByUUID(ctx, a.UUID)
	return poolRet(out, p, err)
}

func storagePoolLookupByVolume(ctx context.Context, cn driver.Conn, a *libvirt.StoragePoolLookupByVolumeArgs, out *packet) error {
	p, err := cn.StoragePoolLookupByVolume(ctx, toVol(a.Vol))
	return poolRet(out, p, err)
}

func storagePoolGetInfo(ctx context.Context, cn driver.Conn, a *libvirt.StoragePoolGetInfoArgs, out *packet) error {
	info, err := cn.StoragePoolGetInfo(ctx, toPool(a.Pool))
	if err != nil {
		return err
	}
	return out.encode(libvirt.StoragePoolGetInfoRet{State: uint8(info.State), Capacity: info.Capacity,
		Allocation: info.Allocation, Available: info.Available})
}

func storagePoolGetXMLDesc(ctx context.Context, cn driver.Conn, a *libvirt.StoragePoolGetXMLDescArgs, out *packet) error {
	x, err := cn.StoragePoolGetXMLDesc(ctx, toPool(a.Pool), uint32(a.Flags))
	return stringRet(out, x, err)
}

func storagePoolDefineXML(ctx context.Context, cn driver.Conn, a *libvirt.StoragePoolDefineXMLArgs, out *packet) error {
	p, err := cn.StoragePoolDefineXML(ctx, a.XML, a.Flags)
	return poolRet(out, p, err)
}

func storagePoolCreateXML(ctx context.Context, cn driver.Conn, a *libvirt.StoragePoolCreateXMLArgs, out *packet) error {
	p, err := cn.StoragePoolCreateXML(ctx, a.XML, uint32(a.Flags))
	return poolRet(out, p, err)
}

func storagePoolCreate(ctx context.Context, cn driver.Conn, a *libvirt.StoragePoolCreateArgs, out *packet) error {
	return cn.StoragePoolCreate(ctx, toPool(a.Pool), uint32(a.Flags))
}

func storagePoolDestroy(ctx context.Context, cn driver.Conn, a *libvirt.StoragePoolDestroyArgs, out *packet) error {
	return cn.StoragePoolDestroy(ctx, toPool(a.Pool))
}

func storagePoolUndefine(ctx context.Context, cn driver.Conn, a *libvirt.StoragePoolUndefineArgs, out *packet) error {
	return cn.StoragePoolUndefine(ctx, toPool(a.Pool))
}

func storagePoolBuild(ctx context.Context, cn driver.Conn, a *libvirt.StoragePoolBuildArgs, out *packet) error {
	return cn.StoragePoolBuild(ctx, toPool(a.Pool), uint32(a.Flags))
}

func storagePoolDelete(ctx context.Context, cn driver.Conn, a *libvirt.StoragePoolDeleteArgs, out *packet) error {
	return cn.StoragePoolDelete(ctx, toPool(a.Pool), uint32(a.Flags))
}

func storagePoolRefresh(ctx context.Context, cn driver.Conn, a *libvirt.StoragePoolRefreshArgs, out *packet) error {
	return cn.StoragePoolRefresh(ctx, toPool(a.Pool), a.Flags)
}

func storagePoolGetAutostart(ctx context.Context, cn driver.Conn, a *libvirt.StoragePoolGetAutostartArgs, out *packet) error {
	v, err := cn.StoragePoolGetAutostart(ctx, toPool(a.Pool))
	return boolRet(out, v, err)
}

func storagePoolSetAutostart(ctx context.Context, cn driver.Conn, a *libvirt.StoragePoolSetAutostartArgs, out *packet) error {
	return cn.StoragePoolSetAutostart(ctx, toPool(a.Pool), a.Autostart != 0)
}

func storagePoolIsActive(ctx context.Context, cn driver.Conn, a *libvirt.StoragePoolIsActiveArgs, out *packet) error {
	v, err := cn.StoragePoolIsActive(ctx, toPool(a.Pool))
	return boolRet(out, v, err)
}

func storagePoolIsPersistent(ctx context.Context, cn driver.Conn, a *libvirt.StoragePoolIsPersistentArgs, out *packet) error {
	v, err := cn.StoragePoolIsPersistent(ctx, toPool(a.Pool))
	return boolRet(out, v, err)
}

func listVols(ctx context.Context, cn driver.Conn, p libvirt.StoragePool) ([]driver.StorageVol, error) {
	vols, err := cn.StoragePoolListAllVolumes(ctx, toPool(p), 0)
	if err != nil {
		return nil, err
	}
	if len(vols) > storageVolListMax {
		return nil, rpcError(fmt.Sprintf("Too many storage volumes '%d' for limit '%d'", len(vols), storageVolListMax))
	}
	return vols, nil
}

func storagePoolListAllVolumes(ctx context.Context, cn driver.Conn, a *libvirt.StoragePoolListAllVolumesArgs, out *packet) error {
	vols, err := cn.StoragePoolListAllVolumes(ctx, toPool(a.Pool), a.Flags)
	if err != nil {
		return err
	}
	if len(vols) > storageVolListMax {
		return rpcError(fmt.Sprintf("Too many storage volumes '%d' for limit '%d'", len(vols), storageVolListMax))
	}
	r := libvirt.StoragePoolListAllVolumesRet{Ret: uint32(len(vols))}
	if a.NeedResults != 0 {
		r.Vols = make([]libvirt.StorageVol, len(vols))
		for i, v := range vols {
			r.Vols[i] = fromVol(v)
		}
	}
	return out.encode(r)
}

func storagePoolNumOfVolumes(ctx context.Context, cn driver.Conn, a *libvirt.StoragePoolNumOfVolumesArgs, out *packet) error {
	vols, err := listVols(ctx, cn, a.Pool)
	if err != nil {
		return err
	}
	return out.encode(libvirt.StoragePoolNumOfVolumesRet{Num: int32(len(vols))})
}

func storagePoolListVolumes(ctx context.Context, cn driver.Conn, a *libvirt.StoragePoolListVolumesArgs, out *packet) error {
	if a.Maxnames > storageVolListMax {
		return rpcError("maxnames > REMOTE_STORAGE_VOL_LIST_MAX")
	}
	if err := argNonNegative("virStoragePoolListVolumes", "maxnames", a.Maxnames); err != nil {
		return err
	}
	vols, err := listVols(ctx, cn, a.Pool)
	if err != nil {
		return err
	}
	names := []string{}
	for _, v := range vols {
		if len(names) == int(a.Maxnames) {
			break
		}
		names = append(names, v.Name)
	}
	return out.encode(libvirt.StoragePoolListVolumesRet{Names: names})
}

func storageVolLookupByName(ctx context.Context, cn driver.Conn, a *libvirt.StorageVolLookupByNameArgs, out *packet) error {
	v, err := cn.StorageVolLookupByName(ctx, toPool(a.Pool), a.Name)
	return volRet(out, v, err)
}

func storageVolLookupByKey(ctx context.Context, cn driver.Conn, a *libvirt.StorageVolLookupByKeyArgs, out *packet) error {
	v, err := cn.StorageVolLookupByKey(ctx, a.Key)
	return volRet(out, v, err)
}

func storageVolLookupByPath(ctx context.Context, cn driver.Conn, a *libvirt.StorageVolLookupByPathArgs, out *packet) error {
	v, err := cn.StorageVolLookupByPath(ctx, a.Path)
	return volRet(out, v, err)
}

func storageVolGetInfo(ctx context.Context, cn driver.Conn, a *libvirt.StorageVolGetInfoArgs, out *packet) error {
	info, err := cn.StorageVolGetInfo(ctx, toVol(a.Vol))
	if err != nil {
		return err
	}
	return out.encode(libvirt.StorageVolGetInfoRet{Type: info.Type, Capacity: info.Capacity, Allocation: info.Allocation})
}

func storageVolGetXMLDesc(ctx context.Context, cn driver.Conn, a *libvirt.StorageVolGetXMLDescArgs, out *packet) error {
	x, err := cn.StorageVolGetXMLDesc(ctx, toVol(a.Vol), a.Flags)
	return stringRet(out, x, err)
}

func storageVolGetPath(ctx context.Context, cn driver.Conn, a *libvirt.StorageVolGetPathArgs, out *packet) error {
	p, err := cn.StorageVolGetPath(ctx, toVol(a.Vol))
	return stringRet(out, p, err)
}

func storageVolCreateXML(ctx context.Context, cn driver.Conn, a *libvirt.StorageVolCreateXMLArgs, out *packet) error {
	v, err := cn.StorageVolCreateXML(ctx, toPool(a.Pool), a.XML, uint32(a.Flags))
	return volRet(out, v, err)
}

func storageVolCreateXMLFrom(ctx context.Context, cn driver.Conn, a *libvirt.StorageVolCreateXMLFromArgs, out *packet) error {
	v, err := cn.StorageVolCreateXMLFrom(ctx, toPool(a.Pool), a.XML, toVol(a.Clonevol), uint32(a.Flags))
	return volRet(out, v, err)
}

func storageVolDelete(ctx context.Context, cn driver.Conn, a *libvirt.StorageVolDeleteArgs, out *packet) error {
	return cn.StorageVolDelete(ctx, toVol(a.Vol), uint32(a.Flags))
}

func storageVolResize(ctx context.Context, cn driver.Conn, a *libvirt.StorageVolResizeArgs, out *packet) error {
	return cn.StorageVolResize(ctx, toVol(a.Vol), a.Capacity, uint32(a.Flags))
}

// storageVolUpload and storageVolDownload open a stream on the call: the
// driver checks the request, and its transfer runs on the stream after the
// reply.
func storageVolUpload(ctx context.Context, cn driver.Conn, cl *call, out *packet) error {
	var a libvirt.StorageVolUploadArgs
	if err := decodeArgs(cl.payload, &a); err != nil {
		return err
	}
	return cn.StorageVolUpload(ctx, toVol(a.Vol), openStream(cl), a.Offset, a.Length, uint32(a.Flags))
}

func storageVolDownload(ctx context.Context, cn driver.Conn, cl *call, out *packet) error {
	var a libvirt.StorageVolDownloadArgs
	if err := decodeArgs(cl.payload, &a); err != nil {
		return err
	}
	return cn.StorageVolDownload(ctx, toVol(a.Vol), openStream(cl), a.Offset, a.Length, uint32(a.Flags))
}
