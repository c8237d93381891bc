package vbox

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// poolDoc is a dir pool document for dir.
func poolDoc(name, dir string) string {
	return "<pool type='dir'><name>" + name + "</name><target><path>" + dir + "</path></target></pool>"
}

// Listing pools and volumes, and reading their info and XML, run nothing
// once the media picture is warm: one `list -l hdds` and one `list -l dvds`
// serve them all.
func TestStorageReadsFromMemory(t *testing.T) {
	s := newSim(t)
	ctx := context.Background()
	dir := t.TempDir()
	for _, n := range []string{"a.vdi", "b.vdi", "c.vdi"} {
		s.vbm("createmedium", "disk", "--filename", filepath.Join(dir, n), "--size", "8")
	}
	p, err := s.conn.StoragePoolDefineXML(ctx, poolDoc("img", dir), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.conn.StoragePoolCreate(ctx, p, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.conn.StoragePoolListAllVolumes(ctx, p, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.conn.ListAllStoragePools(ctx, 0); err != nil { // reads the default machine folder once
		t.Fatal(err)
	}
	s.runner.reset()
	for range 5 {
		pools, err := s.conn.ListAllStoragePools(ctx, 0)
		if err != nil || len(pools) != 2 {
			t.Fatalf("ListAllStoragePools: %v, %v", pools, err)
		}
		for _, pool := range pools {
			if _, err := s.conn.StoragePoolGetInfo(ctx, pool); err != nil {
				t.Fatal(err)
			}
			if _, err := s.conn.StoragePoolGetXMLDesc(ctx, pool, 0); err != nil {
				t.Fatal(err)
			}
			vols, err := s.conn.StoragePoolListAllVolumes(ctx, pool, 0)
			if err != nil || len(vols) != 3 {
				t.Fatalf("volumes of %s: %v, %v", pool.Name, vols, err)
			}
			for _, v := range vols {
				if _, err := s.conn.StorageVolGetInfo(ctx, v); err != nil {
					t.Fatal(err)
				}
				if _, err := s.conn.StorageVolGetXMLDesc(ctx, v, 0); err != nil {
					t.Fatal(err)
				}
				if _, err := s.conn.StorageVolLookupByPath(ctx, filepath.Join(dir, v.Name)); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if n := s.runner.reset(); n != 0 {
		t.Errorf("warm storage reads ran %d VBoxManage commands, want 0: %q", n, s.runner.cmds)
	}
}

// A dir pool's volumes join the registry's media by path: a registered
// image has the medium's UUID as key and its capacity; an unknown file its
// path and size.
func TestStorageDirPoolVolumes(t *testing.T) {
	s := newSim(t, withVersion("6.1"))
	ctx := context.Background()
	dir := t.TempDir()
	s.vbm("createmedium", "disk", "--filename", filepath.Join(dir, "disk.vmdk"), "--size", "64", "--format", "VMDK")
	if err := os.WriteFile(filepath.Join(dir, "notes.iso"), make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := s.conn.StoragePoolCreateXML(ctx, poolDoc("img", dir), 0)
	if err != nil {
		t.Fatal(err)
	}
	disk, err := s.conn.StorageVolLookupByName(ctx, p, "disk.vmdk")
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.conn.StorageVolGetInfo(ctx, disk)
	if err != nil || info.Capacity != 64<<20 {
		t.Errorf("disk.vmdk: %+v, %v", info, err)
	}
	if !uuidRE.MatchString(disk.Key) {
		t.Errorf("disk.vmdk key %q is not the medium's UUID", disk.Key)
	}
	x, _ := s.conn.StorageVolGetXMLDesc(ctx, disk, 0)
	if !strings.Contains(x, "<format type='vmdk'/>") {
		t.Errorf("disk.vmdk XML:\n%s", x)
	}
	iso, err := s.conn.StorageVolLookupByName(ctx, p, "notes.iso")
	if err != nil {
		t.Fatal(err)
	}
	if iso.Key != filepath.Join(dir, "notes.iso") {
		t.Errorf("notes.iso key %q, want its path", iso.Key)
	}
	if info, _ := s.conn.StorageVolGetInfo(ctx, iso); info.Capacity != 4096 {
		t.Errorf("notes.iso capacity %d", info.Capacity)
	}
	if persistent, _ := s.conn.StoragePoolIsPersistent(ctx, p); persistent {
		t.Errorf("a pool from StoragePoolCreateXML is persistent")
	}
	if err := s.conn.StoragePoolDestroy(ctx, p); err != nil {
		t.Fatal(err)
	}
	_, err = s.conn.StoragePoolLookupByName(ctx, "img")
	wantClass(t, err, errdefs.ErrNoStoragePool, "no storage pool with matching name 'img'")
}

// Pool definitions live in VirtualBox's global extradata: a second driver
// on the same VirtualBox finds them, active and autostart as they were.
func TestStoragePoolsPersist(t *testing.T) {
	s := newSim(t)
	ctx := context.Background()
	dir := t.TempDir()
	p, err := s.conn.StoragePoolDefineXML(ctx, poolDoc("img", dir), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.conn.StoragePoolSetAutostart(ctx, p, true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.vbm("getextradata", "global", "enumerate"), "Key: virtvboxd/storage-pool/"+uuidString(p.UUID)) {
		t.Fatalf("no extradata for the pool")
	}
	again := newSim(t, withHome(s.home))
	q, err := again.conn.StoragePoolLookupByName(ctx, "img")
	if err != nil || q.UUID != p.UUID {
		t.Fatalf("after a restart: %v, %v", q, err)
	}
	if active, _ := again.conn.StoragePoolIsActive(ctx, q); !active {
		t.Errorf("an autostart pool is not active after a restart")
	}
	x, _ := again.conn.StoragePoolGetXMLDesc(ctx, q, 0)
	if !strings.Contains(x, "<path>"+dir+"</path>") {
		t.Errorf("pool XML after a restart:\n%s", x)
	}
	if err := again.conn.StoragePoolDestroy(ctx, q); err != nil {
		t.Fatal(err)
	}
	if err := again.conn.StoragePoolUndefine(ctx, q); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s.vbm("getextradata", "global", "enumerate"), "storage-pool") {
		t.Errorf("undefine left the pool's extradata")
	}
}

// Refused calls change nothing: bad documents, the registry pool, a volume
// in use, a format VirtualBox cannot create.
func TestStorageRefusals(t *testing.T) {
	s := newSim(t)
	ctx := context.Background()
	dir := t.TempDir()
	def := driver.StoragePool{Name: defaultPoolName, UUID: mustUUID(defaultPoolUUID)}
	for _, c := range []struct {
		doc    string
		class  error
		detail string
	}{
		{poolDoc("-x", dir), errdefs.ErrInvalidArg, "must not start with '-'"},
		{poolDoc("a'b", dir), errdefs.ErrInvalidArg, "must not contain"},
		{poolDoc("rel", "images"), errdefs.ErrXML, "must be absolute"},
		{"<pool type='logical'><name>lv</name></pool>", errdefs.ErrConfigUnsupported, "only 'dir' pools"},
		{poolDoc(defaultPoolName, dir), errdefs.ErrOperationInvalid, "cannot be redefined"},
		{"<pool", errdefs.ErrXML, ""},
	} {
		_, err := s.conn.StoragePoolDefineXML(ctx, c.doc, 0)
		wantClass(t, err, c.class, c.detail)
	}
	wantClass(t, s.conn.StoragePoolDestroy(ctx, def), errdefs.ErrOperationInvalid, "cannot be stopped")
	wantClass(t, s.conn.StoragePoolUndefine(ctx, def), errdefs.ErrOperationInvalid, "cannot be undefined")
	if pools, _ := s.conn.ListAllStoragePools(ctx, 0); len(pools) != 1 {
		t.Errorf("pools after refusals: %v", pools)
	}

	for _, c := range []struct {
		doc    string
		class  error
		detail string
	}{
		{"<volume><name>x.qcow2</name><capacity>1048576</capacity><target><format type='qcow2'/></target></volume>",
			errdefs.ErrConfigUnsupported, "volume format 'qcow2' is not supported"},
		{"<volume><name>x.vdi</name><capacity>1048576</capacity><target><format type='vmdk'/></target></volume>",
			errdefs.ErrConfigUnsupported, "does not fit format 'vmdk'"},
		{"<volume><name>x.vdi</name><capacity>1000</capacity></volume>", errdefs.ErrInvalidArg, "below VirtualBox's smallest disk"},
		{"<volume><name>--x.vdi</name><capacity>1048576</capacity></volume>", errdefs.ErrInvalidArg, "must not start with '-'"},
	} {
		_, err := s.conn.StorageVolCreateXML(ctx, def, c.doc, 0)
		wantClass(t, err, c.class, c.detail)
	}
	if n := s.runner.count("createmedium"); n != 0 {
		t.Errorf("refused creates ran createmedium %d times", n)
	}

	v, err := s.conn.StorageVolCreateXML(ctx, def, "<volume><name>used.vdi</name><capacity unit='M'>4</capacity></volume>", 0)
	if err != nil {
		t.Fatal(err)
	}
	path, _ := s.conn.StorageVolGetPath(ctx, v)
	s.vbm("createvm", "--name", "holder", "--register")
	s.vbm("storagectl", "holder", "--name", "SATA", "--add", "sata")
	s.vbm("storageattach", "holder", "--storagectl", "SATA", "--port", "0", "--device", "0", "--type", "hdd", "--medium", path)
	wantClass(t, s.conn.StorageVolDelete(ctx, v, 0), errdefs.ErrOperationInvalid, "it is in use by domain 'holder'")
	if !fileExists(path) {
		t.Fatalf("a volume in use was deleted")
	}
	if n := s.runner.count("closemedium"); n != 0 {
		t.Errorf("a refused delete ran closemedium")
	}
	wantClass(t, s.conn.StorageVolResize(ctx, v, 1<<20, 0), errdefs.ErrInvalidArg, "Can't shrink")
	wantClass(t, s.conn.StorageVolResize(ctx, v, 1<<20, resizeShrink), errdefs.ErrArgUnsupported, "cannot shrink")
}
