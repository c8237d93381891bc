package rpc

import (
	"context"
	"fmt"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/virtvboxd/virtvboxd/internal/driver"
)

// snapshotListMax is REMOTE_DOMAIN_SNAPSHOT_LIST_MAX.
const snapshotListMax = 16384

// snapshotHandlers are the snapshot procedures and the domain's name, title,
// description and metadata (see remoteHandlers). The legacy counting and
// naming calls are derived from the ListAll calls of the driver.
var snapshotHandlers = handlerSet{
	procDomainSnapshotCreateXML:         withArgs(domainSnapshotCreateXML),
	procDomainSnapshotGetXMLDesc:        withArgs(domainSnapshotGetXMLDesc),
	procDomainSnapshotNum:               withArgs(domainSnapshotNum),
	procDomainSnapshotListNames:         withArgs(domainSnapshotListNames),
	procDomainListAllSnapshots:          withArgs(domainListAllSnapshots),
	procDomainSnapshotNumChildren:       withArgs(domainSnapshotNumChildren),
	procDomainSnapshotListChildrenNames: withArgs(domainSnapshotListChildrenNames),
	procDomainSnapshotListAllChildren:   withArgs(domainSnapshotListAllChildren),
	procDomainSnapshotLookupByName:      withArgs(domainSnapshotLookupByName),
	procDomainHasCurrentSnapshot:        withArgs(domainHasCurrentSnapshot),
	procDomainSnapshotCurrent:           withArgs(domainSnapshotCurrent),
	procDomainSnapshotGetParent:         withArgs(domainSnapshotGetParent),
	procDomainSnapshotIsCurrent:         withArgs(domainSnapshotIsCurrent),
	procDomainSnapshotHasMetadata:       withArgs(domainSnapshotHasMetadata),
	procDomainRevertToSnapshot:          withArgs(domainRevertToSnapshot),
	procDomainSnapshotDelete:            withArgs(domainSnapshotDelete),
	procDomainRename:                    withArgs(domainRename),
	procDomainSetMetadata:               withArgs(domainSetMetadata),
	procDomainGetMetadata:               withArgs(domainGetMetadata),
}

func toSnapshot(s libvirt.DomainSnapshot) driver.DomainSnapshot {
	return driver.DomainSnapshot{Name: s.Name, Dom: toDomain(s.Dom)}
}

func fromSnapshot(s driver.DomainSnapshot) libvirt.DomainSnapshot {
	return libvirt.DomainSnapshot{Name: s.Name, Dom: fromDomainValue(s.Dom)}
}

func snapshotRet(out *packet, s driver.DomainSnapshot, err error) error {
	if err != nil {
		return err
	}
	return out.encode(fromSnapshot(s))
}

// optString is an optional string's value ("" when absent).
func fromOptString(s libvirt.OptString) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// argSnapshotListMax checks a ListNames maximum: the dispatcher's
// REMOTE_DOMAIN_SNAPSHOT_LIST_MAX, then the API's non-negative check.
func argSnapshotListMax(api string, v int32) error {
	if v > snapshotListMax {
		return rpcError("maxnames > REMOTE_DOMAIN_SNAPSHOT_LIST_MAX")
	}
	return argNonNegative(api, "nameslen", v)
}

// snapshotsRet encodes a ListAll answer: the snapshots (when asked for)
// and their count, within REMOTE_DOMAIN_SNAPSHOT_LIST_MAX.
func snapshotsRet(out *packet, snaps []driver.DomainSnapshot, need int32, err error) error {
	if err != nil {
		return err
	}
	if len(snaps) > snapshotListMax {
		return rpcError(fmt.Sprintf("Too many domain snapshots '%d' for limit '%d'", len(snaps), snapshotListMax))
	}
	r := libvirt.DomainListAllSnapshotsRet{Ret: int32(len(snaps)), Snapshots: []libvirt.DomainSnapshot{}}
	if need != 0 {
		for _, s := range snaps {
			r.Snapshots = append(r.Snapshots, fromSnapshot(s))
		}
	}
	return out.encode(r)
}

func namesRet(out *packet, snaps []driver.DomainSnapshot, max int32, err error) error {
	if err != nil {
		return err
	}
	r := libvirt.DomainSnapshotListNamesRet{Names: []string{}}
	for _, s := range snaps {
		if len(r.Names) == int(max) {
			break
		}
		r.Names = append(r.Names, s.Name)
	}
	return out.encode(r)
}

func domainSnapshotCreateXML(ctx context.Context, cn driver.Conn, a *libvirt.DomainSnapshotCreateXMLArgs, out *packet) error {
	s, err := cn.DomainSnapshotCreateXML(ctx, toDomain(a.Dom), a.XMLDesc, a.Flags)
	return snapshotRet(out, s, err)
}

func domainSnapshotGetXMLDesc(ctx context.Context, cn driver.Conn, a *libvirt.DomainSnapshotGetXMLDescArgs, out *packet) error {
	x, err := cn.DomainSnapshotGetXMLDesc(ctx, toSnapshot(a.Snap), a.Flags)
	if err != nil {
		return err
	}
	return out.encode(libvirt.DomainSnapshotGetXMLDescRet{XML: x})
}

func domainSnapshotNum(ctx context.Context, cn driver.Conn, a *libvirt.DomainSnapshotNumArgs, out *packet) error {
	snaps, err := cn.DomainListAllSnapshots(ctx, toDomain(a.Dom), a.Flags)
	return int32Ret(out, int32(len(snaps)), err)
}

func domainSnapshotListNames(ctx context.Context, cn driver.Conn, a *libvirt.DomainSnapshotListNamesArgs, out *packet) error {
	if err := argSnapshotListMax("virDomainSnapshotListNames", a.Maxnames); err != nil {
		return err
	}
	snaps, err := cn.DomainListAllSnapshots(ctx, toDomain(a.Dom), a.Flags)
	return namesRet(out, snaps, a.Maxnames, err)
}

func domainListAllSnapshots(ctx context.Context, cn driver.Conn, a *libvirt.DomainListAllSnapshotsArgs, out *packet) error {
	snaps, err := cn.DomainListAllSnapshots(ctx, toDomain(a.Dom), a.Flags)
	return snapshotsRet(out, snaps, a.NeedResults, err)
}

func domainSnapshotNumChildren(ctx context.Context, cn driver.Conn, a *libvirt.DomainSnapshotNumChildrenArgs, out *packet) error {
	snaps, err := cn.DomainSnapshotListAllChildren(ctx, toSnapshot(a.Snap), a.Flags)
	return int32Ret(out, int32(len(snaps)), err)
}

func domainSnapshotListChildrenNames(ctx context.Context, cn driver.Conn, a *libvirt.DomainSnapshotListChildrenNamesArgs, out *packet) error {
	if err := argSnapshotListMax("virDomainSnapshotListChildrenNames", a.Maxnames); err != nil {
		return err
	}
	snaps, err := cn.DomainSnapshotListAllChildren(ctx, toSnapshot(a.Snap), a.Flags)
	return namesRet(out, snaps, a.Maxnames, err)
}

func domainSnapshotListAllChildren(ctx context.Context, cn driver.Conn, a *libvirt.DomainSnapshotListAllChildrenArgs, out *packet) error {
	snaps, err := cn.DomainSnapshotListAllChildren(ctx, toSnapshot(a.Snapshot), a.Flags)
	return snapshotsRet(out, snaps, a.NeedResults, err)
}

func domainSnapshotLookupByName(ctx context.Context, cn driver.Conn, a *libvirt.DomainSnapshotLookupByNameArgs, out *packet) error {
	s, err := cn.DomainSnapshotLookupByName(ctx, toDomain(a.Dom), a.Name, a.Flags)
	return snapshotRet(out, s, err)
}

func domainHasCurrentSnapshot(ctx context.Context, cn driver.Conn, a *libvirt.DomainHasCurrentSnapshotArgs, out *packet) error {
	v, err := cn.DomainHasCurrentSnapshot(ctx, toDomain(a.Dom), a.Flags)
	return boolRet(out, v, err)
}

func domainSnapshotCurrent(ctx context.Context, cn driver.Conn, a *libvirt.DomainSnapshotCurrentArgs, out *packet) error {
	s, err := cn.DomainSnapshotCurrent(ctx, toDomain(a.Dom), a.Flags)
	return snapshotRet(out, s, err)
}

func domainSnapshotGetParent(ctx context.Context, cn driver.Conn, a *libvirt.DomainSnapshotGetParentArgs, out *packet) error {
	s, err := cn.DomainSnapshotGetParent(ctx, toSnapshot(a.Snap), a.Flags)
	return snapshotRet(out, s, err)
}

func domainSnapshotIsCurrent(ctx context.Context, cn driver.Conn, a *libvirt.DomainSnapshotIsCurrentArgs, out *packet) error {
	v, err := cn.DomainSnapshotIsCurrent(ctx, toSnapshot(a.Snap), a.Flags)
	return boolRet(out, v, err)
}

func domainSnapshotHasMetadata(ctx context.Context, cn driver.Conn, a *libvirt.DomainSnapshotHasMetadataArgs, out *packet) error {
	v, err := cn.DomainSnapshotHasMetadata(ctx, toSnapshot(a.Snap), a.Flags)
	return boolRet(out, v, err)
}

func domainRevertToSnapshot(ctx context.Context, cn driver.Conn, a *libvirt.DomainRevertToSnapshotArgs, out *packet) error {
	return cn.DomainRevertToSnapshot(ctx, toSnapshot(a.Snap), a.Flags)
}

func domainSnapshotDelete(ctx context.Context, cn driver.Conn, a *libvirt.DomainSnapshotDeleteArgs, out *packet) error {
	return cn.DomainSnapshotDelete(ctx, toSnapshot(a.Snap), uint32(a.Flags))
}

func domainRename(ctx context.Context, cn driver.Conn, a *libvirt.DomainRenameArgs, out *packet) error {
	if len(a.NewName) == 0 {
		return newError(errInvalidArg, objectDomain("virDomainRename"), "new_name in virDomainRename must not be NULL")
	}
	if err := cn.DomainRename(ctx, toDomain(a.Dom), a.NewName[0], a.Flags); err != nil {
		return err
	}
	return out.encode(libvirt.DomainRenameRet{Retcode: 0})
}

func domainSetMetadata(ctx context.Context, cn driver.Conn, a *libvirt.DomainSetMetadataArgs, out *packet) error {
	// virDomainSetMetadata's argument checks (libvirt-domain.c).
	const api = "virDomainSetMetadata"
	switch a.Type {
	case 0, 1: // DESCRIPTION, TITLE
		if a.Type == 1 && strings.ContainsRune(fromOptString(a.Metadata), '\n') {
			return newError(errInvalidArg, objectDomain(api), "metadata title can't contain newlines")
		}
		if len(a.Uri) != 0 {
			return newError(errInvalidArg, objectDomain(api), "uri in "+api+" must be NULL")
		}
		if len(a.Key) != 0 {
			return newError(errInvalidArg, objectDomain(api), "key in "+api+" must be NULL")
		}
	case 2: // ELEMENT
		if len(a.Uri) == 0 {
			return newError(errInvalidArg, objectDomain(api), "uri in "+api+" must not be NULL")
		}
		if len(a.Metadata) != 0 && len(a.Key) == 0 {
			return newError(errInvalidArg, objectDomain(api), "key in "+api+" must not be NULL")
		}
	}
	return cn.DomainSetMetadata(ctx, toDomain(a.Dom), a.Type, fromOptString(a.Metadata), fromOptString(a.Key), fromOptString(a.Uri), uint32(a.Flags))
}

func domainGetMetadata(ctx context.Context, cn driver.Conn, a *libvirt.DomainGetMetadataArgs, out *packet) error {
	const api = "virDomainGetMetadata"
	switch a.Type {
	case 0, 1:
		if len(a.Uri) != 0 {
			return newError(errInvalidArg, objectDomain(api), "uri in "+api+" must be NULL")
		}
	case 2:
		if len(a.Uri) == 0 {
			return newError(errInvalidArg, objectDomain(api), "uri in "+api+" must not be NULL")
		}
	}
	m, err := cn.DomainGetMetadata(ctx, toDomain(a.Dom), a.Type, fromOptString(a.Uri), uint32(a.Flags))
	if err != nil {
		return err
	}
	return out.encode(libvirt.DomainGetMetadataRet{Metadata: m})
}
