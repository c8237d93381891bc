package vbox

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
	"github.com/virtvboxd/virtvboxd/internal/vbox/poolxml"
)

// Storage pools and volumes (docs/storage.md). Two kinds of pools:
//   - "default-pool", as libvirt's vbox driver names it: every base hard
//     disk in VirtualBox's media registry, wherever its file is. Always
//     active; it cannot be defined, stopped or undefined.
//   - dir pools the user (or virt-install) defines: the files of one
//     directory, each joined with the registry's medium of that path when
//     there is one. Their definitions persist in VirtualBox's global
//     extradata (poolKeyPrefix).
// Reads come from memory: the media picture (mediaCache) and each active
// dir pool's last directory scan, taken at start, refresh and after the
// daemon's own changes.

const (
	defaultPoolName = "default-pool"
	defaultPoolUUID = "1deff1ff-1481-464f-967f-a50fe8936cc4"
)

// libvirt's storage flags (include/libvirt/libvirt-storage.h).
const (
	listPoolsInactive    = 1 << 0
	listPoolsActive      = 1 << 1
	listPoolsPersistent  = 1 << 2
	listPoolsTransient   = 1 << 3
	listPoolsAutostart   = 1 << 4
	listPoolsNoAutostart = 1 << 5
	listPoolsDir         = 1 << 6

	poolXMLInactive   = 1 << 0
	poolDefValidate   = 1 << 0
	volCreatePrealloc = 1 << 0
	volCreateValidate = 1 << 2 // not in libvirt 9.0's flags; tolerated

	resizeAllocate = 1 << 0
	resizeDelta    = 1 << 1
	resizeShrink   = 1 << 2
)

// storage is the driver's storage state.
type storage struct {
	mu     sync.Mutex // guards what follows; held across a load or save
	loaded bool
	pools  []*poolDef
	scans  map[string][]fileEntry // active dir pools' last scans, by pool name
	media  mediaCache
}

// poolDef is a dir pool's definition and state, as persisted.
type poolDef struct {
	Name       string `json:"name"`
	UUID       string `json:"-"`
	Target     string `json:"target"`
	Autostart  bool   `json:"autostart,omitempty"`
	Active     bool   `json:"active,omitempty"`
	Persistent bool   `json:"-"`
	// Perms is what pool-build gives the directory; nil: libvirt's default.
	Perms *poolxml.Perms `json:"perms,omitempty"`
}

// fileEntry is one file of a dir pool's scan.
type fileEntry struct {
	name       string
	size       uint64
	allocation uint64
}

// volRec is one volume as the driver resolves it.
type volRec struct {
	pool                 string
	name, path, key      string
	format               string // libvirt's: vdi, vmdk, vpc, iso, raw
	capacity, allocation uint64
	medium               *MediumLong // the registry's entry, nil for a plain file
}

func (v volRec) handle() driver.StorageVol {
	return driver.StorageVol{Pool: v.pool, Name: v.name, Key: v.key}
}

// lockPools locks the pool table and returns it, loaded: the first call
// reads the definitions from VirtualBox's global extradata (one
// `getextradata global enumerate`); pools that were active stay active, and
// autostart pools start. The caller unlocks s.mu.
func (d *Driver) lockPools(ctx context.Context) (*storage, error) {
	s := &d.stor
	s.mu.Lock()
	if s.loaded {
		return s, nil
	}
	out, _, err := d.runPolicy(ctx, RetryTransient, "getextradata", "global", "enumerate")
	if err != nil {
		s.mu.Unlock()
		return nil, vboxError("cannot read the storage pool definitions", err)
	}
	s.scans = map[string][]fileEntry{}
	for k, v := range ParseExtraData(out) {
		uuid, ok := strings.CutPrefix(k, poolKeyPrefix)
		if !ok {
			continue
		}
		p := &poolDef{UUID: uuid, Persistent: true}
		if _, ok := parseUUID(uuid); !ok || json.Unmarshal([]byte(v), p) != nil || p.Name == "" {
			d.log.WithField("key", k).Warn("ignoring a damaged storage pool definition")
			continue
		}
		if p.Active || p.Autostart {
			if entries, err := scanDir(p.Target); err == nil {
				p.Active = true
				s.scans[p.Name] = entries
			} else {
				p.Active = false
				d.log.WithError(err).WithField("pool", p.Name).Warn("cannot start storage pool")
			}
		}
		s.pools = append(s.pools, p)
	}
	sort.Slice(s.pools, func(i, j int) bool { return s.pools[i].Name < s.pools[j].Name })
	s.loaded = true
	return s, nil
}

// poolKeyPrefix starts the global extradata key of each persistent pool,
// followed by its UUID; the value is the definition in JSON.
const poolKeyPrefix = "virtvboxd/storage-pool/"

// savePool writes a persistent pool's definition (s.mu held).
func (d *Driver) savePool(ctx context.Context, p *poolDef) error {
	if !p.Persistent {
		return nil
	}
	b, err := json.Marshal(p)
	if err != nil {
		return errdefs.Wrap(errdefs.ErrInternal, err, err.Error())
	}
	if _, _, err := d.runPolicy(ctx, RetryTransient, "setextradata", "global", poolKeyPrefix+p.UUID, string(b)); err != nil {
		return vboxError("cannot save storage pool "+p.Name, err)
	}
	return nil
}

// forgetPool removes a pool's definition (s.mu held).
func (d *Driver) forgetPool(ctx context.Context, p *poolDef) error {
	if _, _, err := d.runPolicy(ctx, RetryTransient, "setextradata", "global", poolKeyPrefix+p.UUID); err != nil {
		return vboxError("cannot undefine storage pool "+p.Name, err)
	}
	return nil
}

func (s *storage) findLocked(name string) *poolDef {
	for _, p := range s.pools {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// scanDir lists a dir pool's regular files.
func scanDir(dir string) ([]fileEntry, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, errdefs.Newf(errdefs.ErrSystem, "cannot open directory '%s': %s", dir, errText(err))
	}
	if !fi.IsDir() {
		return nil, errdefs.Newf(errdefs.ErrSystem, "cannot open directory '%s': Not a directory", dir)
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, errdefs.Newf(errdefs.ErrSystem, "cannot open directory '%s': %s", dir, errText(err))
	}
	var out []fileEntry
	for _, de := range des {
		if !de.Type().IsRegular() {
			continue
		}
		e, ok := statFile(filepath.Join(dir, de.Name()))
		if ok {
			out = append(out, e)
		}
	}
	return out, nil
}

func statFile(path string) (fileEntry, bool) {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return fileEntry{}, false
	}
	e := fileEntry{name: filepath.Base(path), size: uint64(fi.Size()), allocation: uint64(fi.Size())}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		e.allocation = uint64(st.Blocks) * 512
	}
	return e, true
}

// errText is an OS error's text without the operation and path.
func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	s := err.Error()
	if s != "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}

// defaultPool is the registry pool's definition; its target is VirtualBox's
// default machine folder, where volumes created in it go.
func (d *Driver) defaultPool(ctx context.Context) *poolDef {
	p := &poolDef{Name: defaultPoolName, UUID: defaultPoolUUID, Active: true, Persistent: true, Autostart: true}
	if sp, err := d.systemProperties(ctx); err == nil {
		p.Target = sp.Str("Default machine folder")
	}
	if p.Target == "" {
		home, _ := os.UserHomeDir()
		p.Target = filepath.Join(home, "VirtualBox VMs")
	}
	return p
}

// pool resolves a pool handle by name. The returned definition is a copy.
func (d *Driver) pool(ctx context.Context, name string) (poolDef, error) {
	if name == defaultPoolName {
		return *d.defaultPool(ctx), nil
	}
	s, err := d.lockPools(ctx)
	if err != nil {
		return poolDef{}, err
	}
	defer s.mu.Unlock()
	if p := s.findLocked(name); p != nil {
		return *p, nil
	}
	return poolDef{}, errdefs.Newf(errdefs.ErrNoStoragePool, "no storage pool with matching name '%s'", name)
}

func (d *Driver) activePool(ctx context.Context, name string) (poolDef, error) {
	p, err := d.pool(ctx, name)
	if err != nil {
		return p, err
	}
	if !p.Active {
		return p, errdefs.Newf(errdefs.ErrOperationInvalid, "storage pool '%s' is not active", name)
	}
	return p, nil
}

func poolHandle(p poolDef) driver.StoragePool {
	return driver.StoragePool{Name: p.Name, UUID: mustUUID(p.UUID)}
}

// allPools returns the registry pool and the dir pools, copied.
func (d *Driver) allPools(ctx context.Context) ([]poolDef, error) {
	out := []poolDef{*d.defaultPool(ctx)}
	s, err := d.lockPools(ctx)
	if err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	for _, p := range s.pools {
		out = append(out, *p)
	}
	return out, nil
}

// ListAllStoragePools implements driver.Conn with libvirt's
// VIR_CONNECT_LIST_STORAGE_POOLS_* filters; every pool is of type dir.
func (c *conn) ListAllStoragePools(ctx context.Context, flags uint32) ([]driver.StoragePool, error) {
	pools, err := c.d.allPools(ctx)
	if err != nil {
		return nil, err
	}
	var out []driver.StoragePool
	for _, p := range pools {
		if poolMatches(p, flags) {
			out = append(out, poolHandle(p))
		}
	}
	return out, nil
}

func poolMatches(p poolDef, flags uint32) bool {
	pair := func(yes, no uint32, v bool) bool {
		if flags&(yes|no) == 0 || flags&(yes|no) == yes|no {
			return true
		}
		return (flags&yes != 0) == v
	}
	if types := flags &^ (listPoolsDir - 1); types != 0 && types&listPoolsDir == 0 {
		return false
	}
	return pair(listPoolsActive, listPoolsInactive, p.Active) &&
		pair(listPoolsPersistent, listPoolsTransient, p.Persistent) &&
		pair(listPoolsAutostart, listPoolsNoAutostart, p.Autostart)
}

// StoragePoolLookupByName implements driver.Conn.
func (c *conn) StoragePoolLookupByName(ctx context.Context, name string) (driver.StoragePool, error) {
	p, err := c.d.pool(ctx, name)
	if err != nil {
		return driver.StoragePool{}, err
	}
	return poolHandle(p), nil
}

// StoragePoolLookupByUUID implements driver.Conn.
func (c *conn) StoragePoolLookupByUUID(ctx context.Context, uuid [16]byte) (driver.StoragePool, error) {
	want := uuidString(uuid)
	pools, err := c.d.allPools(ctx)
	if err != nil {
		return driver.StoragePool{}, err
	}
	for _, p := range pools {
		if p.UUID == want {
			return poolHandle(p), nil
		}
	}
	return driver.StoragePool{}, errdefs.Newf(errdefs.ErrNoStoragePool, "no storage pool with matching uuid '%s'", want)
}

// StoragePoolLookupByVolume implements driver.Conn.
func (c *conn) StoragePoolLookupByVolume(ctx context.Context, vol driver.StorageVol) (driver.StoragePool, error) {
	if _, err := c.d.vol(ctx, vol); err != nil {
		return driver.StoragePool{}, err
	}
	return c.StoragePoolLookupByName(ctx, vol.Pool)
}

// StoragePoolGetInfo implements driver.Conn: the file system's size and
// free space under the target, and what the pool's volumes take.
func (c *conn) StoragePoolGetInfo(ctx context.Context, pool driver.StoragePool) (driver.StoragePoolInfo, error) {
	p, err := c.d.pool(ctx, pool.Name)
	if err != nil {
		return driver.StoragePoolInfo{}, err
	}
	return c.d.poolInfo(ctx, p)
}

func (d *Driver) poolInfo(ctx context.Context, p poolDef) (driver.StoragePoolInfo, error) {
	if !p.Active {
		return driver.StoragePoolInfo{State: driver.PoolInactive}, nil
	}
	info := driver.StoragePoolInfo{State: driver.PoolRunning}
	var fs syscall.Statfs_t
	dir := p.Target // the registry pool's folder may not exist yet: its file system is its parent's
	for !fileExists(dir) && filepath.Dir(dir) != dir {
		dir = filepath.Dir(dir)
	}
	if err := syscall.Statfs(dir, &fs); err == nil {
		info.Capacity = fs.Blocks * uint64(fs.Bsize)
		info.Available = fs.Bavail * uint64(fs.Bsize)
	}
	vols, err := d.poolVols(ctx, p)
	if err != nil {
		return driver.StoragePoolInfo{}, err
	}
	for _, v := range vols {
		info.Allocation += v.allocation
	}
	return info, nil
}

// StoragePoolGetXMLDesc implements driver.Conn.
func (c *conn) StoragePoolGetXMLDesc(ctx context.Context, pool driver.StoragePool, flags uint32) (string, error) {
	if flags&^poolXMLInactive != 0 {
		return "", unsupportedFlags(flags, "virStoragePoolGetXMLDesc")
	}
	p, err := c.d.pool(ctx, pool.Name)
	if err != nil {
		return "", err
	}
	info, err := c.d.poolInfo(ctx, p)
	if err != nil {
		return "", err
	}
	x := poolxml.Pool{Name: p.Name, UUID: p.UUID, Target: p.Target,
		Capacity: info.Capacity, Allocation: info.Allocation, Available: info.Available}
	if p.Perms != nil {
		x.Perms = *p.Perms
	}
	return poolxml.FormatPool(x)
}

// StoragePoolDefineXML implements driver.Conn: a dir pool over a directory
// that may not exist yet (pool-build creates it), kept in VirtualBox's
// global extradata.
func (c *conn) StoragePoolDefineXML(ctx context.Context, doc string, flags uint32) (driver.StoragePool, error) {
	if flags&^poolDefValidate != 0 {
		return driver.StoragePool{}, unsupportedFlags(flags, "virStoragePoolDefineXML")
	}
	p, err := c.d.addPool(ctx, doc, true, false)
	if err != nil {
		return driver.StoragePool{}, err
	}
	return poolHandle(p), nil
}

// StoragePoolCreateXML implements driver.Conn: a transient dir pool,
// started at once (its directory built first with
// VIR_STORAGE_POOL_CREATE_WITH_BUILD).
func (c *conn) StoragePoolCreateXML(ctx context.Context, doc string, flags uint32) (driver.StoragePool, error) {
	x, err := poolxml.ParsePool(doc)
	if err != nil {
		return driver.StoragePool{}, err
	}
	build, err := checkCreateFlags(x.Name, flags, "virStoragePoolCreateXML")
	if err != nil {
		return driver.StoragePool{}, err
	}
	p, err := c.d.addPool(ctx, doc, false, build)
	if err != nil {
		return driver.StoragePool{}, err
	}
	return poolHandle(p), nil
}

// addPool checks and records a pool document: persistent (define) or
// transient and active (create, built first when build is set).
func (d *Driver) addPool(ctx context.Context, doc string, persistent, build bool) (poolDef, error) {
	x, err := poolxml.ParsePool(doc)
	if err != nil {
		return poolDef{}, err
	}
	if x.UUID != "" {
		u, ok := parseUUID(x.UUID)
		if !ok {
			return poolDef{}, errdefs.Newf(errdefs.ErrXML, "malformed uuid element: '%s'", x.UUID)
		}
		x.UUID = uuidString(u)
	}
	if x.Name == defaultPoolName || x.UUID == defaultPoolUUID {
		return poolDef{}, errdefs.Newf(errdefs.ErrOperationInvalid,
			"storage pool '%s' is VirtualBox's media registry: it cannot be redefined", defaultPoolName)
	}
	var perms *poolxml.Perms
	if x.Perms != poolxml.NoPerms {
		perms = &x.Perms
	}
	s, err := d.lockPools(ctx)
	if err != nil {
		return poolDef{}, err
	}
	defer s.mu.Unlock()
	for _, o := range s.pools {
		switch {
		case o.Name == x.Name && x.UUID != "" && o.UUID != x.UUID:
			return poolDef{}, errdefs.Newf(errdefs.ErrOperationFailed, "pool '%s' is already defined with uuid %s", o.Name, o.UUID)
		case o.Name != x.Name && o.UUID == x.UUID:
			return poolDef{}, errdefs.Newf(errdefs.ErrOperationFailed, "pool '%s' already exists with uuid %s", o.Name, o.UUID)
		case o.Name != x.Name && o.Target == x.Target:
			return poolDef{}, errdefs.Newf(errdefs.ErrOperationFailed, "Storage source conflict with pool: '%s'", o.Name)
		}
	}
	old := s.findLocked(x.Name)
	switch {
	case old != nil && !persistent:
		return poolDef{}, errdefs.Newf(errdefs.ErrOperationFailed, "pool '%s' already exists", x.Name)
	case old != nil && old.Active && old.Target != x.Target:
		return poolDef{}, errdefs.Newf(errdefs.ErrOperationInvalid,
			"storage pool '%s' is active: stop it before changing its target", x.Name)
	}
	var entries []fileEntry
	if !persistent { // started at once: the directory must be there
		if build {
			if err := buildDir(x.Target, perms); err != nil {
				return poolDef{}, err
			}
		}
		if entries, err = scanDir(x.Target); err != nil {
			return poolDef{}, err
		}
	}
	if old != nil {
		saved := *old
		old.Target, old.Persistent, old.Perms = x.Target, true, perms
		if err := d.savePool(ctx, old); err != nil {
			*old = saved
			return poolDef{}, err
		}
		return *old, nil
	}
	p := &poolDef{Name: x.Name, UUID: x.UUID, Target: x.Target, Persistent: persistent, Active: !persistent, Perms: perms}
	if p.UUID == "" {
		p.UUID = newUUID()
	}
	s.pools = append(s.pools, p)
	if !persistent {
		s.scans[p.Name] = entries
		return *p, nil
	}
	if err := d.savePool(ctx, p); err != nil {
		s.pools = s.pools[:len(s.pools)-1]
		return poolDef{}, err
	}
	return *p, nil
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return uuidString(b)
}

// changePool applies fn to a dir pool under the lock and saves; the
// registry pool refuses every change with what.
// A pool fn removes from the table is forgotten.
func (d *Driver) changePool(ctx context.Context, name, what string, fn func(s *storage, p *poolDef) error) error {
	if name == defaultPoolName {
		return errdefs.Newf(errdefs.ErrOperationInvalid,
			"storage pool '%s' is VirtualBox's media registry: it cannot be %s", defaultPoolName, what)
	}
	s, err := d.lockPools(ctx)
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	p := s.findLocked(name)
	if p == nil {
		return errdefs.Newf(errdefs.ErrNoStoragePool, "no storage pool with matching name '%s'", name)
	}
	saved, scan, scanned := *p, s.scans[name], s.scans[name] != nil
	undo := func() {
		*p = saved
		if s.findLocked(name) == nil {
			s.pools = append(s.pools, p)
		}
		if scanned {
			s.scans[name] = scan
		} else {
			delete(s.scans, name)
		}
	}
	if err := fn(s, p); err != nil {
		undo()
		return err
	}
	switch {
	case s.findLocked(name) == nil && saved.Persistent:
		err = d.forgetPool(ctx, p)
	case s.findLocked(name) != nil:
		err = d.savePool(ctx, p)
	}
	if err != nil {
		undo()
	}
	return err
}

// StoragePoolCreate implements driver.Conn: start a dir pool (its directory
// must exist, or be built first with VIR_STORAGE_POOL_CREATE_WITH_BUILD).
func (c *conn) StoragePoolCreate(ctx context.Context, pool driver.StoragePool, flags uint32) error {
	build, err := checkCreateFlags(pool.Name, flags, "virStoragePoolCreate")
	if err != nil {
		return err
	}
	return c.d.changePool(ctx, pool.Name, "started", func(s *storage, p *poolDef) error {
		if p.Active {
			return errdefs.Newf(errdefs.ErrOperationInvalid, "storage pool '%s' is already active", p.Name)
		}
		if build {
			if err := buildDir(p.Target, p.Perms); err != nil {
				return err
			}
		}
		entries, err := scanDir(p.Target)
		if err != nil {
			return err
		}
		p.Active, s.scans[p.Name] = true, entries
		return nil
	})
}

// StoragePoolDestroy implements driver.Conn: stop a dir pool (its files
// stay); a transient one is gone.
func (c *conn) StoragePoolDestroy(ctx context.Context, pool driver.StoragePool) error {
	return c.d.changePool(ctx, pool.Name, "stopped", func(s *storage, p *poolDef) error {
		if !p.Active {
			return errdefs.Newf(errdefs.ErrOperationInvalid, "storage pool '%s' is not active", p.Name)
		}
		p.Active = false
		delete(s.scans, p.Name)
		if !p.Persistent {
			s.removeLocked(p.Name)
		}
		return nil
	})
}

func (s *storage) removeLocked(name string) {
	for i, p := range s.pools {
		if p.Name == name {
			s.pools = append(s.pools[:i], s.pools[i+1:]...)
			return
		}
	}
}

// StoragePoolUndefine implements driver.Conn: forget an inactive dir pool's
// definition (its files stay).
func (c *conn) StoragePoolUndefine(ctx context.Context, pool driver.StoragePool) error {
	return c.d.changePool(ctx, pool.Name, "undefined", func(s *storage, p *poolDef) error {
		if p.Active {
			return errdefs.Newf(errdefs.ErrOperationInvalid, "storage pool '%s' is still active", p.Name)
		}
		s.removeLocked(p.Name)
		return nil
	})
}

// StoragePoolRefresh implements driver.Conn: re-read the media registry,
// and a dir pool's directory.
func (c *conn) StoragePoolRefresh(ctx context.Context, pool driver.StoragePool, flags uint32) error {
	if flags != 0 {
		return unsupportedFlags(flags, "virStoragePoolRefresh")
	}
	p, err := c.d.activePool(ctx, pool.Name)
	if err != nil {
		return err
	}
	c.d.stor.media.invalidate()
	if p.Name != defaultPoolName {
		if err := c.d.rescan(p.Name); err != nil {
			return err
		}
	}
	_, err = c.d.media(ctx)
	return err
}

// rescan re-reads an active dir pool's directory.
func (d *Driver) rescan(name string) error {
	s := &d.stor
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.findLocked(name)
	if p == nil || !p.Active {
		return nil
	}
	entries, err := scanDir(p.Target)
	if err != nil {
		return err
	}
	s.scans[name] = entries
	return nil
}

// rescanPath re-reads the active dir pools whose directory holds path.
func (d *Driver) rescanPath(path string) {
	dir := filepath.Dir(filepath.Clean(path))
	s := &d.stor
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.pools {
		if !p.Active || p.Target != dir {
			continue
		}
		entries, err := scanDir(p.Target)
		if err != nil {
			d.log.WithError(err).WithField("pool", p.Name).Warn("cannot rescan storage pool")
			continue
		}
		s.scans[p.Name] = entries
	}
}

// StoragePoolGetAutostart implements driver.Conn.
func (c *conn) StoragePoolGetAutostart(ctx context.Context, pool driver.StoragePool) (bool, error) {
	p, err := c.d.pool(ctx, pool.Name)
	return p.Autostart, err
}

// StoragePoolSetAutostart implements driver.Conn: an autostart dir pool is
// started when the daemon starts.
func (c *conn) StoragePoolSetAutostart(ctx context.Context, pool driver.StoragePool, autostart bool) error {
	if pool.Name == defaultPoolName && autostart {
		return nil
	}
	return c.d.changePool(ctx, pool.Name, "set not to autostart", func(s *storage, p *poolDef) error {
		if !p.Persistent {
			return errdefs.New(errdefs.ErrInvalidArg, "cannot set autostart for transient storage pool")
		}
		p.Autostart = autostart
		return nil
	})
}

// StoragePoolIsActive implements driver.Conn.
func (c *conn) StoragePoolIsActive(ctx context.Context, pool driver.StoragePool) (bool, error) {
	p, err := c.d.pool(ctx, pool.Name)
	return p.Active, err
}

// StoragePoolIsPersistent implements driver.Conn.
func (c *conn) StoragePoolIsPersistent(ctx context.Context, pool driver.StoragePool) (bool, error) {
	p, err := c.d.pool(ctx, pool.Name)
	return p.Persistent, err
}

// StoragePoolListAllVolumes implements driver.Conn.
func (c *conn) StoragePoolListAllVolumes(ctx context.Context, pool driver.StoragePool, flags uint32) ([]driver.StorageVol, error) {
	if flags != 0 {
		return nil, unsupportedFlags(flags, "virStoragePoolListAllVolumes")
	}
	p, err := c.d.activePool(ctx, pool.Name)
	if err != nil {
		return nil, err
	}
	vols, err := c.d.poolVols(ctx, p)
	if err != nil {
		return nil, err
	}
	out := make([]driver.StorageVol, len(vols))
	for i, v := range vols {
		out[i] = v.handle()
	}
	return out, nil
}

// poolVols returns an active pool's volumes, from memory while warm.
func (d *Driver) poolVols(ctx context.Context, p poolDef) ([]volRec, error) {
	media, err := d.media(ctx)
	if err != nil {
		return nil, err
	}
	var out []volRec
	if p.Name == defaultPoolName {
		for i := range media {
			m := &media[i]
			if m.Kind != "hdd" || !m.base() || m.State == "inaccessible" {
				continue
			}
			out = append(out, mediumVol(p.Name, m))
		}
		sort.SliceStable(out, func(i, j int) bool { return out[i].name < out[j].name })
		return out, nil
	}
	s := &d.stor
	s.mu.Lock()
	entries := s.scans[p.Name]
	s.mu.Unlock()
	for _, e := range entries {
		path := filepath.Join(p.Target, e.name)
		if m, ok := mediumAt(media, path); ok {
			v := mediumVol(p.Name, &m)
			v.name, v.allocation = e.name, e.allocation
			out = append(out, v)
			continue
		}
		out = append(out, volRec{pool: p.Name, name: e.name, path: path, key: path, format: poolxml.FormatFor(e.name),
			capacity: e.size, allocation: e.allocation})
	}
	return out, nil
}

func mediumVol(pool string, m *MediumLong) volRec {
	v := volRec{pool: pool, name: filepath.Base(m.Location), path: m.Location, key: m.UUID,
		format: poolxml.FromVBoxFormat(m.Format), capacity: uint64(m.CapacityMB) << 20,
		allocation: uint64(m.OnDiskMB) << 20, medium: m}
	if m.Kind == "dvd" {
		v.format = "iso"
		if e, ok := statFile(m.Location); ok {
			v.capacity, v.allocation = e.size, e.allocation
		}
	}
	return v
}

// vol resolves a volume handle by its pool and name.
func (d *Driver) vol(ctx context.Context, h driver.StorageVol) (volRec, error) {
	p, err := d.activePool(ctx, h.Pool)
	if err != nil {
		return volRec{}, err
	}
	return d.volByName(ctx, p, h.Name)
}

func (d *Driver) volByName(ctx context.Context, p poolDef, name string) (volRec, error) {
	vols, err := d.poolVols(ctx, p)
	if err != nil {
		return volRec{}, err
	}
	for _, v := range vols {
		if v.name == name {
			return v, nil
		}
	}
	return volRec{}, errdefs.Newf(errdefs.ErrNoStorageVol, "no storage vol with matching name '%s'", name)
}

// StorageVolLookupByName implements driver.Conn.
func (c *conn) StorageVolLookupByName(ctx context.Context, pool driver.StoragePool, name string) (driver.StorageVol, error) {
	v, err := c.d.vol(ctx, driver.StorageVol{Pool: pool.Name, Name: name})
	return v.handle(), err
}

// findVol returns the first volume of the active pools (dir pools first,
// then the registry's) that match.
func (d *Driver) findVol(ctx context.Context, match func(volRec) bool) (volRec, bool, error) {
	pools, err := d.allPools(ctx)
	if err != nil {
		return volRec{}, false, err
	}
	pools = append(pools[1:], pools[0])
	for _, p := range pools {
		if !p.Active {
			continue
		}
		vols, err := d.poolVols(ctx, p)
		if err != nil {
			return volRec{}, false, err
		}
		for _, v := range vols {
			if match(v) {
				return v, true, nil
			}
		}
	}
	return volRec{}, false, nil
}

// StorageVolLookupByKey implements driver.Conn: a key is the medium's UUID,
// or the path of a file VirtualBox does not know.
func (c *conn) StorageVolLookupByKey(ctx context.Context, key string) (driver.StorageVol, error) {
	v, ok, err := c.d.findVol(ctx, func(v volRec) bool { return v.key == key })
	if err != nil {
		return driver.StorageVol{}, err
	}
	if !ok {
		return driver.StorageVol{}, errdefs.Newf(errdefs.ErrNoStorageVol, "no storage vol with matching key %s", key)
	}
	return v.handle(), nil
}

// StorageVolLookupByPath implements driver.Conn.
func (c *conn) StorageVolLookupByPath(ctx context.Context, path string) (driver.StorageVol, error) {
	clean := filepath.Clean(path)
	v, ok, err := c.d.findVol(ctx, func(v volRec) bool { return filepath.Clean(v.path) == clean })
	if err != nil {
		return driver.StorageVol{}, err
	}
	if !ok {
		return driver.StorageVol{}, errdefs.Newf(errdefs.ErrNoStorageVol, "no storage vol with matching path '%s'", path)
	}
	return v.handle(), nil
}

// StorageVolGetInfo implements driver.Conn.
func (c *conn) StorageVolGetInfo(ctx context.Context, vol driver.StorageVol) (driver.StorageVolInfo, error) {
	v, err := c.d.vol(ctx, vol)
	if err != nil {
		return driver.StorageVolInfo{}, err
	}
	return driver.StorageVolInfo{Type: 0, Capacity: v.capacity, Allocation: v.allocation}, nil
}

// StorageVolGetXMLDesc implements driver.Conn.
func (c *conn) StorageVolGetXMLDesc(ctx context.Context, vol driver.StorageVol, flags uint32) (string, error) {
	if flags != 0 {
		return "", unsupportedFlags(flags, "virStorageVolGetXMLDesc")
	}
	v, err := c.d.vol(ctx, vol)
	if err != nil {
		return "", err
	}
	return poolxml.FormatVol(poolxml.Vol{Name: v.name, Key: v.key, Path: v.path, Format: v.format,
		Capacity: v.capacity, Allocation: v.allocation})
}

// StorageVolGetPath implements driver.Conn.
func (c *conn) StorageVolGetPath(ctx context.Context, vol driver.StorageVol) (string, error) {
	v, err := c.d.vol(ctx, vol)
	return v.path, err
}

// newVolPath checks a vol-create document against the pool and returns the
// new file's path and VBoxManage format.
func (d *Driver) newVolPath(ctx context.Context, p poolDef, spec poolxml.VolSpec) (string, string, error) {
	format, err := poolxml.CreateFormat(spec)
	if err != nil {
		return "", "", err
	}
	name := spec.Name
	if filepath.Ext(name) == "" {
		name += "." + strings.ToLower(format) // as createmedium would
	}
	path := filepath.Join(p.Target, name)
	if p.Name == defaultPoolName {
		// VirtualBox's default machine folder may not exist yet.
		if err := os.MkdirAll(p.Target, 0o755); err != nil {
			return "", "", errdefs.Newf(errdefs.ErrSystem, "cannot create directory '%s': %s", p.Target, errText(err))
		}
	}
	media, err := d.media(ctx)
	if err != nil {
		return "", "", err
	}
	if _, ok := mediumAt(media, path); ok || fileExists(path) {
		return "", "", errdefs.New(errdefs.ErrStorageVolExists, "'"+name+"'")
	}
	if _, err := d.volByName(ctx, p, name); err == nil {
		return "", "", errdefs.New(errdefs.ErrStorageVolExists, "'"+name+"'")
	}
	return path, format, nil
}

// createdUUID reads the UUID of createmedium's and clonemedium's last line.
func createdUUID(out []byte) string {
	s := strings.TrimSpace(string(out))
	if i := strings.LastIndex(s, "UUID: "); i >= 0 {
		return strings.ToLower(strings.TrimSpace(s[i+len("UUID: "):]))
	}
	return ""
}

// StorageVolCreateXML implements driver.Conn: createmedium, in the pool's
// directory (the registry pool's is VirtualBox's default machine folder).
// An allocation equal to the capacity asks for a fixed-size image.
func (c *conn) StorageVolCreateXML(ctx context.Context, pool driver.StoragePool, doc string, flags uint32) (driver.StorageVol, error) {
	if flags&^(volCreatePrealloc|volCreateValidate) != 0 {
		return driver.StorageVol{}, unsupportedFlags(flags, "virStorageVolCreateXML")
	}
	p, err := c.d.activePool(ctx, pool.Name)
	if err != nil {
		return driver.StorageVol{}, err
	}
	spec, err := poolxml.ParseVol(doc)
	if err != nil {
		return driver.StorageVol{}, err
	}
	if spec.Capacity < 1<<20 {
		return driver.StorageVol{}, errdefs.Newf(errdefs.ErrInvalidArg,
			"volume capacity %d bytes is below VirtualBox's smallest disk (1 MiB)", spec.Capacity)
	}
	path, format, err := c.d.newVolPath(ctx, p, spec)
	if err != nil {
		return driver.StorageVol{}, err
	}
	args := []string{"createmedium", "disk", "--filename", path, "--sizebyte", fmt.Sprint(spec.Capacity), "--format", format}
	if spec.Fixed {
		args = append(args, "--variant", "Fixed")
	}
	return c.d.makeVol(ctx, p, path, "cannot create volume "+spec.Name, args)
}

// makeVol runs a createmedium or clonemedium and returns the new volume.
func (d *Driver) makeVol(ctx context.Context, p poolDef, path, what string, args []string) (driver.StorageVol, error) {
	out, _, err := d.runPolicy(ctx, NoRetry, args...)
	d.stor.media.invalidate()
	d.rescanPath(path)
	if err != nil {
		return driver.StorageVol{}, vboxError(what, err)
	}
	v, err := d.volByName(ctx, p, filepath.Base(path))
	if err != nil {
		return driver.StorageVol{}, errdefs.Newf(errdefs.ErrInternal, "%s: medium %s created but not found", what, createdUUID(out))
	}
	return v.handle(), nil
}

// StorageVolCreateXMLFrom implements driver.Conn: clonemedium.
func (c *conn) StorageVolCreateXMLFrom(ctx context.Context, pool driver.StoragePool, doc string, from driver.StorageVol, flags uint32) (driver.StorageVol, error) {
	if flags&^(volCreatePrealloc|volCreateValidate) != 0 {
		return driver.StorageVol{}, unsupportedFlags(flags, "virStorageVolCreateXMLFrom")
	}
	p, err := c.d.activePool(ctx, pool.Name)
	if err != nil {
		return driver.StorageVol{}, err
	}
	src, err := c.d.vol(ctx, from)
	if err != nil {
		return driver.StorageVol{}, err
	}
	if poolxml.VBoxFormat(src.format) == "" {
		return driver.StorageVol{}, errdefs.Newf(errdefs.ErrConfigUnsupported,
			"volume '%s' is not a VirtualBox disk image (format %s): it cannot be cloned", src.name, src.format)
	}
	spec, err := poolxml.ParseVol(doc)
	if err != nil {
		return driver.StorageVol{}, err
	}
	if spec.Format == "" && poolxml.FormatFor(spec.Name) == "raw" {
		spec.Format = src.format
	}
	path, format, err := c.d.newVolPath(ctx, p, spec)
	if err != nil {
		return driver.StorageVol{}, err
	}
	ref := src.path
	if src.medium != nil {
		ref = src.medium.UUID
	}
	args := []string{"clonemedium", "disk", ref, path, "--format", format}
	if spec.Fixed {
		args = append(args, "--variant", "Fixed")
	}
	return c.d.makeVol(ctx, p, path, "cannot clone volume "+src.name, args)
}

// freshMedium re-reads one registered medium (who uses it now).
func (d *Driver) freshMedium(ctx context.Context, m *MediumLong) (MediumLong, error) {
	out, _, err := d.runPolicy(ctx, RetryTransient, "showmediuminfo", mediumWord(m.Kind), m.UUID)
	if err != nil {
		return MediumLong{}, vboxError("cannot read medium "+m.Location, err)
	}
	ms, err := ParseMediaLong(out, m.Kind)
	if err != nil || len(ms) != 1 {
		return MediumLong{}, errdefs.Newf(errdefs.ErrInternal, "showmediuminfo %s: unexpected output", m.UUID)
	}
	return ms[0], nil
}

func mediumWord(kind string) string {
	if kind == "dvd" {
		return "dvd"
	}
	return "disk"
}

// checkUnused refuses a volume that a machine uses or that has
// differencing children (snapshots), read fresh from VirtualBox.
func (d *Driver) checkUnused(ctx context.Context, v volRec, what string) error {
	if v.medium == nil {
		return nil
	}
	m, err := d.freshMedium(ctx, v.medium)
	if err != nil {
		return err
	}
	if len(m.InUseBy) > 0 {
		return errdefs.Newf(errdefs.ErrOperationInvalid, "cannot %s volume '%s': it is in use by domain %s",
			what, v.name, strings.Join(inUseNames(m.InUseBy), ", "))
	}
	if len(m.Children) > 0 {
		return errdefs.Newf(errdefs.ErrOperationInvalid, "cannot %s volume '%s': it has %d differencing images (snapshots)",
			what, v.name, len(m.Children))
	}
	return nil
}

// inUseNames keeps the machine names of "name (UUID: ...)" entries.
func inUseNames(users []string) []string {
	out := make([]string, len(users))
	for i, u := range users {
		if j := strings.LastIndex(u, " (UUID: "); j >= 0 {
			u = u[:j]
		}
		out[i] = "'" + u + "'"
	}
	return out
}

// StorageVolDelete implements driver.Conn: `closemedium --delete` for a
// registered hard disk, closemedium and removal for a DVD image, removal
// for a plain file. A volume a machine uses is refused, never detached.
func (c *conn) StorageVolDelete(ctx context.Context, vol driver.StorageVol, flags uint32) error {
	if flags != 0 {
		return unsupportedFlags(flags, "virStorageVolDelete")
	}
	v, err := c.d.vol(ctx, vol)
	if err != nil {
		return err
	}
	if err := c.d.checkUnused(ctx, v, "delete"); err != nil {
		return err
	}
	defer c.d.rescanPath(v.path)
	defer c.d.stor.media.invalidate()
	switch {
	case v.medium != nil && v.medium.Kind == "hdd":
		if _, _, err := c.d.runPolicy(ctx, NoRetry, "closemedium", "disk", v.medium.UUID, "--delete"); err != nil {
			return vboxError("cannot delete volume "+v.name, err)
		}
		return nil
	case v.medium != nil:
		if _, _, err := c.d.runPolicy(ctx, NoRetry, "closemedium", mediumWord(v.medium.Kind), v.medium.UUID); err != nil {
			return vboxError("cannot delete volume "+v.name, err)
		}
	}
	if err := os.Remove(v.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return errdefs.Newf(errdefs.ErrSystem, "cannot remove file '%s': %s", v.path, errText(err))
	}
	return nil
}

// StorageVolResize implements driver.Conn: `modifymedium --resizebyte`.
// VirtualBox only grows images, and allocates as it writes.
func (c *conn) StorageVolResize(ctx context.Context, vol driver.StorageVol, capacity uint64, flags uint32) error {
	if flags&^(resizeAllocate|resizeDelta|resizeShrink) != 0 {
		return unsupportedFlags(flags, "virStorageVolResize")
	}
	v, err := c.d.vol(ctx, vol)
	if err != nil {
		return err
	}
	if flags&resizeAllocate != 0 {
		return errdefs.New(errdefs.ErrArgUnsupported, "VirtualBox cannot preallocate a resized volume")
	}
	if flags&resizeDelta != 0 {
		capacity += v.capacity
	}
	switch {
	case poolxml.VBoxFormat(v.format) == "":
		return errdefs.Newf(errdefs.ErrConfigUnsupported, "volume '%s' is not a VirtualBox disk image (format %s): it cannot be resized", v.name, v.format)
	case capacity < v.capacity && flags&resizeShrink == 0:
		return errdefs.New(errdefs.ErrInvalidArg, "Can't shrink capacity below current capacity unless shrink flag explicitly specified")
	case capacity < v.capacity:
		return errdefs.New(errdefs.ErrArgUnsupported, "VirtualBox cannot shrink a volume")
	case capacity == v.capacity:
		return nil
	}
	ref := v.path
	if v.medium != nil {
		ref = v.medium.UUID
	}
	_, _, err = c.d.runPolicy(ctx, NoRetry, "modifymedium", "disk", ref, "--resizebyte", fmt.Sprint(capacity))
	c.d.stor.media.invalidate()
	c.d.rescanPath(v.path)
	if err != nil {
		return vboxError("cannot resize volume "+v.name, err)
	}
	return nil
}
