package rpc

import (
	"context"
	"fmt"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/virtvboxd/virtvboxd/internal/driver"
)

// snapConn answers the snapshot calls with three snapshots and records
// what reaches it.
type snapConn struct {
	driver.Unsupported
	flags    []uint32
	metadata []string
	renamed  string
}

func (c *snapConn) DomainListAllSnapshots(_ context.Context, d driver.Domain, flags uint32) ([]driver.DomainSnapshot, error) {
	c.flags = append(c.flags, flags)
	return []driver.DomainSnapshot{{Name: "a", Dom: d}, {Name: "b", Dom: d}, {Name: "c", Dom: d}}, nil
}

func (c *snapConn) DomainSnapshotListAllChildren(_ context.Context, s driver.DomainSnapshot, flags uint32) ([]driver.DomainSnapshot, error) {
	c.flags = append(c.flags, flags)
	return []driver.DomainSnapshot{{Name: s.Name + "-child", Dom: s.Dom}}, nil
}

func (c *snapConn) DomainSetMetadata(_ context.Context, _ driver.Domain, typ int32, m, key, uri string, _ uint32) error {
	c.metadata = append(c.metadata, fmt.Sprintf("%d|%s|%s|%s", typ, m, key, uri))
	return nil
}

func (c *snapConn) DomainRename(_ context.Context, _ driver.Domain, name string, _ uint32) error {
	c.renamed = name
	return nil
}

// callHandler runs proc's handler on args and decodes its reply into ret.
func callHandler(t *testing.T, cn driver.Conn, proc int32, args, ret any) error {
	t.Helper()
	var in, out packet
	if err := in.encode(args); err != nil {
		t.Fatal(err)
	}
	h := remoteHandlers[proc]
	if h == nil {
		t.Fatalf("procedure %d has no handler", proc)
	}
	if err := h(context.Background(), cn, &call{payload: in.b}, &out); err != nil {
		return err
	}
	if ret != nil {
		if err := decodeArgs(out.b, ret); err != nil {
			t.Fatalf("reply of %d: %v", proc, err)
		}
	}
	return nil
}

// TestSnapshotHandlers: the legacy counting and naming calls are derived
// from the ListAll calls with the flags passed through; the list limits and
// libvirt's argument checks apply before the driver is called.
func TestSnapshotHandlers(t *testing.T) {
	dom := libvirt.Domain{Name: "d", UUID: libvirt.UUID{1}, ID: -1}
	snap := libvirt.DomainSnapshot{Name: "a", Dom: dom}
	cn := &snapConn{}

	var num libvirt.DomainSnapshotNumRet
	if err := callHandler(t, cn, procDomainSnapshotNum, libvirt.DomainSnapshotNumArgs{Dom: dom, Flags: 4}, &num); err != nil || num.Num != 3 {
		t.Errorf("num %d %v", num.Num, err)
	}
	var names libvirt.DomainSnapshotListNamesRet
	if err := callHandler(t, cn, procDomainSnapshotListNames, libvirt.DomainSnapshotListNamesArgs{Dom: dom, Maxnames: 2}, &names); err != nil ||
		strings.Join(names.Names, ",") != "a,b" {
		t.Errorf("list names %v %v", names.Names, err)
	}
	var all libvirt.DomainListAllSnapshotsRet
	if err := callHandler(t, cn, procDomainListAllSnapshots, libvirt.DomainListAllSnapshotsArgs{Dom: dom, NeedResults: 0}, &all); err != nil ||
		all.Ret != 3 || len(all.Snapshots) != 0 {
		t.Errorf("list all without results %+v %v", all, err)
	}
	if err := callHandler(t, cn, procDomainListAllSnapshots, libvirt.DomainListAllSnapshotsArgs{Dom: dom, NeedResults: 1}, &all); err != nil ||
		all.Ret != 3 || len(all.Snapshots) != 3 || all.Snapshots[2].Name != "c" || all.Snapshots[2].Dom.Name != "d" {
		t.Errorf("list all %+v %v", all, err)
	}
	var nc libvirt.DomainSnapshotNumChildrenRet
	if err := callHandler(t, cn, procDomainSnapshotNumChildren, libvirt.DomainSnapshotNumChildrenArgs{Snap: snap, Flags: 1}, &nc); err != nil || nc.Num != 1 {
		t.Errorf("num children %d %v", nc.Num, err)
	}
	var cnames libvirt.DomainSnapshotListChildrenNamesRet
	if err := callHandler(t, cn, procDomainSnapshotListChildrenNames, libvirt.DomainSnapshotListChildrenNamesArgs{Snap: snap, Maxnames: 5}, &cnames); err != nil ||
		strings.Join(cnames.Names, ",") != "a-child" {
		t.Errorf("children names %v %v", cnames.Names, err)
	}
	if fmt.Sprint(cn.flags) != "[4 0 0 0 1 0]" {
		t.Errorf("flags passed to the driver: %v", cn.flags)
	}

	calls := len(cn.flags)
	for name, tc := range map[string]struct {
		proc int32
		args any
		want string
	}{
		"maxnames":         {procDomainSnapshotListNames, libvirt.DomainSnapshotListNamesArgs{Dom: dom, Maxnames: snapshotListMax + 1}, "maxnames > REMOTE_DOMAIN_SNAPSHOT_LIST_MAX"},
		"negative":         {procDomainSnapshotListNames, libvirt.DomainSnapshotListNamesArgs{Dom: dom, Maxnames: -1}, "nameslen in virDomainSnapshotListNames must be zero or greater"},
		"children max":     {procDomainSnapshotListChildrenNames, libvirt.DomainSnapshotListChildrenNamesArgs{Snap: snap, Maxnames: snapshotListMax + 1}, "REMOTE_DOMAIN_SNAPSHOT_LIST_MAX"},
		"title newline":    {procDomainSetMetadata, libvirt.DomainSetMetadataArgs{Dom: dom, Type: 1, Metadata: libvirt.OptString{"a\nb"}}, "metadata title can't contain newlines"},
		"title with key":   {procDomainSetMetadata, libvirt.DomainSetMetadataArgs{Dom: dom, Type: 1, Key: libvirt.OptString{"k"}}, "key in virDomainSetMetadata must be NULL"},
		"element no uri":   {procDomainSetMetadata, libvirt.DomainSetMetadataArgs{Dom: dom, Type: 2, Metadata: libvirt.OptString{"<a/>"}}, "uri in virDomainSetMetadata must not be NULL"},
		"element no key":   {procDomainSetMetadata, libvirt.DomainSetMetadataArgs{Dom: dom, Type: 2, Metadata: libvirt.OptString{"<a/>"}, Uri: libvirt.OptString{"u"}}, "key in virDomainSetMetadata must not be NULL"},
		"get title uri":    {procDomainGetMetadata, libvirt.DomainGetMetadataArgs{Dom: dom, Type: 1, Uri: libvirt.OptString{"u"}}, "uri in virDomainGetMetadata must be NULL"},
		"rename no name":   {procDomainRename, libvirt.DomainRenameArgs{Dom: dom}, "new_name in virDomainRename must not be NULL"},
		"unsupported snap": {procDomainSnapshotCurrent, libvirt.DomainSnapshotCurrentArgs{Dom: dom}, "virDomainSnapshotCurrent"},
	} {
		err := callHandler(t, cn, tc.proc, tc.args, nil)
		if err == nil || !strings.Contains(toWire(err, 0).Message(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	if len(cn.flags) != calls || len(cn.metadata) != 0 || cn.renamed != "" {
		t.Errorf("refused calls reached the driver: %v %v %q", cn.flags, cn.metadata, cn.renamed)
	}
	if err := callHandler(t, cn, procDomainSetMetadata, libvirt.DomainSetMetadataArgs{Dom: dom, Type: 2,
		Metadata: libvirt.OptString{"<a/>"}, Key: libvirt.OptString{"k"}, Uri: libvirt.OptString{"u"}}, nil); err != nil ||
		fmt.Sprint(cn.metadata) != "[2|<a/>|k|u]" {
		t.Errorf("set metadata %v %v", cn.metadata, err)
	}
	var rr libvirt.DomainRenameRet
	if err := callHandler(t, cn, procDomainRename, libvirt.DomainRenameArgs{Dom: dom, NewName: libvirt.OptString{"e"}}, &rr); err != nil || cn.renamed != "e" || rr.Retcode != 0 {
		t.Errorf("rename %q %v", cn.renamed, err)
	}
}
