package vbox

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"libvirt.org/go/libvirtxml"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// Snapshots. VirtualBox keeps them (the tree, names, descriptions, the
// settings and the saved state of each); libvirt keeps no metadata of its
// own, as in libvirt's vbox driver. The tree comes from the machine's
// cached `showvminfo --machinereadable` (Snapshot* keys, reference §2.4), so
// a snapshot taken, renamed or deleted outside the daemon shows as soon as
// the listing shows the machine changed. What the tree lacks (the time a
// snapshot was taken, whether the machine was running, its memory and
// CPUs) comes from `snapshot <vm> showvminfo <snapshot>`, read once per
// snapshot UUID: a snapshot's contents never change.

// libvirt's snapshot flag values (include/libvirt/libvirt-domain-snapshot.h).
const (
	snapCreateRedefine   = 1 << 0
	snapCreateCurrent    = 1 << 1
	snapCreateNoMetadata = 1 << 2
	snapCreateHalt       = 1 << 3
	snapCreateDiskOnly   = 1 << 4
	snapCreateReuseExt   = 1 << 5
	snapCreateQuiesce    = 1 << 6
	snapCreateAtomic     = 1 << 7
	snapCreateLive       = 1 << 8
	snapCreateValidate   = 1 << 9

	snapListRoots       = 1 << 0 // ListAll; DESCENDANTS for ListAllChildren
	snapListMetadata    = 1 << 1
	snapListLeaves      = 1 << 2
	snapListNoLeaves    = 1 << 3
	snapListNoMetadata  = 1 << 4
	snapListInactive    = 1 << 5
	snapListActive      = 1 << 6
	snapListDiskOnly    = 1 << 7
	snapListInternal    = 1 << 8
	snapListExternal    = 1 << 9
	snapListTopological = 1 << 10
	snapListAll         = 1<<11 - 1

	snapXMLSecure = 1 << 0

	snapRevertRunning    = 1 << 0
	snapRevertPaused     = 1 << 1
	snapRevertForce      = 1 << 2
	snapRevertResetNVRAM = 1 << 3

	snapDeleteChildren     = 1 << 0
	snapDeleteMetadataOnly = 1 << 1
	snapDeleteChildrenOnly = 1 << 2
)

// extraSnapPaused marks (extradata key prefix + snapshot UUID) a snapshot
// the daemon took of a paused machine: VirtualBox records only that the
// machine was online, and a revert should pause it again.
const extraSnapPaused = "virtvboxd/snapshot-paused/"

// snapNode is one snapshot of a machine's tree.
type snapNode struct {
	Name, UUID, Description string
	Parent                  *snapNode
	Children                []*snapNode
}

// snapTree is a machine's snapshot tree as showvminfo prints it.
type snapTree struct {
	Roots   []*snapNode // VirtualBox has one; a forged key may add more
	All     []*snapNode // depth first, parents before children
	Current *snapNode
}

// parseSnapTree reads the Snapshot* keys: the root's SnapshotName and
// SnapshotUUID, children suffixed -1, -2, grandchildren -1-1... The
// first occurrence of a key wins, as for every other key.
func parseSnapTree(in *Info) *snapTree {
	t := &snapTree{}
	byPath := map[string]*snapNode{}
	seen := map[string]bool{}
	node := func(path string) *snapNode {
		if n := byPath[path]; n != nil {
			return n
		}
		n := &snapNode{}
		byPath[path] = n
		return n
	}
	var order []string
	for _, kv := range in.Pairs {
		if kv.Bare || seen[kv.Key] {
			continue
		}
		var field, path string
		for _, f := range []string{"SnapshotName", "SnapshotUUID", "SnapshotDescription"} {
			if rest, ok := strings.CutPrefix(kv.Key, f); ok && (rest == "" || snapPathRE.MatchString(rest)) {
				field, path = f, rest
				break
			}
		}
		if field == "" {
			continue
		}
		seen[kv.Key] = true
		if _, ok := byPath[path]; !ok {
			order = append(order, path)
		}
		n := node(path)
		switch field {
		case "SnapshotName":
			n.Name = kv.Value
		case "SnapshotUUID":
			n.UUID = strings.ToLower(kv.Value)
		case "SnapshotDescription":
			n.Description = kv.Value
		}
	}
	for _, path := range order {
		n := byPath[path]
		if n.UUID == "" {
			continue
		}
		if i := strings.LastIndex(path, "-"); i >= 0 {
			if p := byPath[path[:i]]; p != nil && p.UUID != "" {
				n.Parent = p
				p.Children = append(p.Children, n)
				continue
			}
		}
		t.Roots = append(t.Roots, n)
	}
	var walk func(n *snapNode)
	walk = func(n *snapNode) {
		t.All = append(t.All, n)
		for _, c := range n.Children {
			walk(c)
		}
	}
	for _, r := range t.Roots {
		walk(r)
	}
	cur := strings.ToLower(in.Str("CurrentSnapshotUUID"))
	for _, n := range t.All {
		if cur != "" && n.UUID == cur {
			t.Current = n
		}
	}
	return t
}

var snapPathRE = regexp.MustCompile(`^(-[0-9]+)+$`)

// byName finds a snapshot by name, breadth first as libvirt's driver does
// (VirtualBox allows two snapshots of one name; the shallower one wins).
func (t *snapTree) byName(name string) *snapNode {
	level := t.Roots
	for len(level) > 0 {
		var next []*snapNode
		for _, n := range level {
			if n.Name == name {
				return n
			}
			next = append(next, n.Children...)
		}
		level = next
	}
	return nil
}

// descendants returns n's descendants, depth first.
func (n *snapNode) descendants() []*snapNode {
	var out []*snapNode
	for _, c := range n.Children {
		out = append(out, c)
		out = append(out, c.descendants()...)
	}
	return out
}

// snapFacts is what a snapshot holds beyond the tree.
type snapFacts struct {
	Taken    time.Time
	Online   bool // the machine was running or paused: a saved state was taken
	MemoryMB int
	CPUs     int
}

// snapCache keeps each snapshot's facts by snapshot UUID.
type snapCache struct {
	mu sync.Mutex
	m  map[string]snapFacts
}

func (c *snapCache) get(uuid string) (snapFacts, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f, ok := c.m[uuid]
	return f, ok
}

func (c *snapCache) put(uuid string, f snapFacts) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]snapFacts{}
	}
	c.m[uuid] = f
}

func (c *snapCache) forget(uuid string) {
	c.mu.Lock()
	delete(c.m, uuid)
	c.mu.Unlock()
}

var (
	humanStateSinceRE = regexp.MustCompile(`\(since ([0-9T:.-]+)\)`)
)

// parseSnapFacts reads the human showvminfo of a snapshot's machine: the
// state is "saved" when the snapshot holds a saved state (taken online),
// "powered off" otherwise, since the time it was taken.
func parseSnapFacts(out []byte) (snapFacts, error) {
	var f snapFacts
	var haveState bool
	for _, line := range strings.Split(strings.ReplaceAll(string(out), "\r", ""), "\n") {
		switch {
		case !haveState && strings.HasPrefix(line, "State:"):
			haveState = true
			v := humanValue(line, "State:")
			f.Online = humanState(v) == "saved"
			if m := humanStateSinceRE.FindStringSubmatch(v); m != nil {
				if t, err := time.Parse("2006-01-02T15:04:05.999999999", strings.TrimSuffix(m[1], "Z")); err == nil {
					f.Taken = t
				}
			}
		case f.MemoryMB == 0 && strings.HasPrefix(line, "Memory size:"):
			if m := humanMemoryRE.FindStringSubmatch(strings.TrimSpace(humanValue(line, "Memory size:"))); m != nil {
				f.MemoryMB, _ = strconv.Atoi(m[1])
			}
		case f.CPUs == 0 && strings.HasPrefix(line, "Number of CPUs:"):
			f.CPUs, _ = strconv.Atoi(strings.TrimSpace(humanValue(line, "Number of CPUs:")))
		}
	}
	if !haveState {
		return f, errors.New("snapshot showvminfo: no State line")
	}
	return f, nil
}

// snapFactsOf returns the facts of snapshot n of machine m, read once.
func (d *Driver) snapFactsOf(ctx context.Context, m Machine, n *snapNode) (snapFacts, error) {
	if f, ok := d.snaps.get(n.UUID); ok {
		return f, nil
	}
	out, _, err := d.runPolicy(ctx, RetryTransient, "snapshot", m.UUID, "showvminfo", n.UUID)
	if err != nil {
		return snapFacts{}, d.snapCmdError(m, n.Name, "cannot read snapshot", err)
	}
	f, err := parseSnapFacts(out)
	if err != nil {
		return snapFacts{}, errdefs.Wrap(errdefs.ErrInternal, err, fmt.Sprintf("cannot read snapshot '%s': %v", n.Name, err))
	}
	d.snaps.put(n.UUID, f)
	return f, nil
}

// snapCmdError classifies a failed snapshot command.
func (d *Driver) snapCmdError(m Machine, snap, op string, err error) error {
	if KindOf(err) == KindNotFound {
		msg := cmdMessage(err)
		if strings.Contains(msg, "snapshot") {
			return errdefs.Wrap(errdefs.ErrNoDomainSnapshot, err, fmt.Sprintf("no domain snapshot with matching name '%s'", snap))
		}
		return errdefs.Wrap(errdefs.ErrNoDomain, err, fmt.Sprintf("no domain with matching uuid '%s' (%s)", m.UUID, m.Name))
	}
	return vboxError(op, err)
}

// snapTreeOf returns dom's machine and its snapshot tree.
func (d *Driver) snapTreeOf(ctx context.Context, dom driver.Domain) (Machine, *snapTree, error) {
	m, err := d.machine(ctx, dom)
	if err != nil {
		return m, nil, err
	}
	t, err := d.treeOf(ctx, m)
	return m, t, err
}

func (d *Driver) treeOf(ctx context.Context, m Machine) (*snapTree, error) {
	info, err := d.inv.Detail(ctx, m.UUID)
	if errors.Is(err, errNotFound) {
		return nil, errdefs.Newf(errdefs.ErrNoDomain, "no domain with matching uuid '%s' (%s)", m.UUID, m.Name)
	}
	if err != nil {
		return nil, vboxError("cannot read machine "+m.Name, err)
	}
	return parseSnapTree(info), nil
}

// snapNotFound is libvirt's answer for an unknown snapshot name.
func snapNotFound(name string) error {
	return errdefs.Newf(errdefs.ErrNoDomainSnapshot, "no domain snapshot with matching name '%s'", name)
}

// lookupSnap resolves a snapshot handle.
func (d *Driver) lookupSnap(ctx context.Context, s driver.DomainSnapshot) (Machine, *snapTree, *snapNode, error) {
	m, t, err := d.snapTreeOf(ctx, s.Dom)
	if err != nil {
		return m, nil, nil, err
	}
	n := t.byName(s.Name)
	if n == nil {
		return m, t, nil, snapNotFound(s.Name)
	}
	return m, t, n, nil
}

func (d *Driver) snapOf(m Machine, n *snapNode) driver.DomainSnapshot {
	return driver.DomainSnapshot{Name: n.Name, Dom: d.domainOf(m)}
}

// DomainSnapshotLookupByName implements driver.Conn.
func (c *conn) DomainSnapshotLookupByName(ctx context.Context, dom driver.Domain, name string, flags uint32) (driver.DomainSnapshot, error) {
	if flags != 0 {
		return driver.DomainSnapshot{}, unsupportedFlags(flags, "virDomainSnapshotLookupByName")
	}
	m, _, n, err := c.d.lookupSnap(ctx, driver.DomainSnapshot{Name: name, Dom: dom})
	if err != nil {
		return driver.DomainSnapshot{}, err
	}
	return c.d.snapOf(m, n), nil
}

// DomainHasCurrentSnapshot implements driver.Conn.
func (c *conn) DomainHasCurrentSnapshot(ctx context.Context, dom driver.Domain, flags uint32) (bool, error) {
	if flags != 0 {
		return false, unsupportedFlags(flags, "virDomainHasCurrentSnapshot")
	}
	_, t, err := c.d.snapTreeOf(ctx, dom)
	if err != nil {
		return false, err
	}
	return t.Current != nil, nil
}

// DomainSnapshotCurrent implements driver.Conn.
func (c *conn) DomainSnapshotCurrent(ctx context.Context, dom driver.Domain, flags uint32) (driver.DomainSnapshot, error) {
	if flags != 0 {
		return driver.DomainSnapshot{}, unsupportedFlags(flags, "virDomainSnapshotCurrent")
	}
	m, t, err := c.d.snapTreeOf(ctx, dom)
	if err != nil {
		return driver.DomainSnapshot{}, err
	}
	if t.Current == nil {
		return driver.DomainSnapshot{}, errdefs.Newf(errdefs.ErrNoDomainSnapshot, "the domain does not have a current snapshot")
	}
	return c.d.snapOf(m, t.Current), nil
}

// DomainSnapshotGetParent implements driver.Conn.
func (c *conn) DomainSnapshotGetParent(ctx context.Context, s driver.DomainSnapshot, flags uint32) (driver.DomainSnapshot, error) {
	if flags != 0 {
		return driver.DomainSnapshot{}, unsupportedFlags(flags, "virDomainSnapshotGetParent")
	}
	m, _, n, err := c.d.lookupSnap(ctx, s)
	if err != nil {
		return driver.DomainSnapshot{}, err
	}
	if n.Parent == nil {
		return driver.DomainSnapshot{}, errdefs.Newf(errdefs.ErrNoDomainSnapshot, "snapshot '%s' does not have a parent", n.Name)
	}
	return c.d.snapOf(m, n.Parent), nil
}

// DomainSnapshotIsCurrent implements driver.Conn.
func (c *conn) DomainSnapshotIsCurrent(ctx context.Context, s driver.DomainSnapshot, flags uint32) (bool, error) {
	if flags != 0 {
		return false, unsupportedFlags(flags, "virDomainSnapshotIsCurrent")
	}
	_, t, n, err := c.d.lookupSnap(ctx, s)
	if err != nil {
		return false, err
	}
	return t.Current == n, nil
}

// DomainSnapshotHasMetadata implements driver.Conn: never, VirtualBox keeps
// the snapshot and libvirt keeps nothing (as in libvirt's vbox driver).
func (c *conn) DomainSnapshotHasMetadata(ctx context.Context, s driver.DomainSnapshot, flags uint32) (bool, error) {
	if flags != 0 {
		return false, unsupportedFlags(flags, "virDomainSnapshotHasMetadata")
	}
	if _, _, _, err := c.d.lookupSnap(ctx, s); err != nil {
		return false, err
	}
	return false, nil
}

// DomainListAllSnapshots implements driver.Conn: every snapshot, parents
// before children, filtered by the VIR_DOMAIN_SNAPSHOT_LIST_* flags.
func (c *conn) DomainListAllSnapshots(ctx context.Context, dom driver.Domain, flags uint32) ([]driver.DomainSnapshot, error) {
	if flags&^snapListAll != 0 {
		return nil, unsupportedFlags(flags, "virDomainListAllSnapshots")
	}
	m, t, err := c.d.snapTreeOf(ctx, dom)
	if err != nil {
		return nil, err
	}
	nodes := t.All
	if flags&snapListRoots != 0 {
		nodes = t.Roots
	}
	return c.d.filterSnaps(ctx, m, nodes, flags&^snapListRoots)
}

// DomainSnapshotListAllChildren implements driver.Conn: the children of a
// snapshot, or all its descendants with LIST_DESCENDANTS.
func (c *conn) DomainSnapshotListAllChildren(ctx context.Context, s driver.DomainSnapshot, flags uint32) ([]driver.DomainSnapshot, error) {
	if flags&^snapListAll != 0 {
		return nil, unsupportedFlags(flags, "virDomainSnapshotListAllChildren")
	}
	m, _, n, err := c.d.lookupSnap(ctx, s)
	if err != nil {
		return nil, err
	}
	nodes := n.Children
	if flags&snapListRoots != 0 { // DESCENDANTS
		nodes = n.descendants()
	}
	return c.d.filterSnaps(ctx, m, nodes, flags&^snapListRoots)
}

// filterSnaps applies libvirt's snapshot filter groups: within a group, a
// snapshot passes when none of its flags is set or one of them matches.
// No snapshot has libvirt metadata, none is disk-only or external.
func (d *Driver) filterSnaps(ctx context.Context, m Machine, nodes []*snapNode, flags uint32) ([]driver.DomainSnapshot, error) {
	group := func(a, b uint32, isA bool) bool {
		if flags&(a|b) == 0 {
			return true
		}
		return flags&a != 0 && isA || flags&b != 0 && !isA
	}
	out := []driver.DomainSnapshot{}
	for _, n := range nodes {
		if !group(snapListLeaves, snapListNoLeaves, len(n.Children) == 0) ||
			!group(snapListMetadata, snapListNoMetadata, false) ||
			!group(snapListInternal, snapListExternal, true) {
			continue
		}
		if sf := flags & (snapListInactive | snapListActive | snapListDiskOnly); sf != 0 {
			f, err := d.snapFactsOf(ctx, m, n)
			if err != nil {
				return nil, err
			}
			if !(sf&snapListActive != 0 && f.Online || sf&snapListInactive != 0 && !f.Online) {
				continue
			}
		}
		out = append(out, d.snapOf(m, n))
	}
	return out, nil
}

// DomainSnapshotGetXMLDesc implements driver.Conn: libvirt's snapshot XML
// with the domain as the snapshot holds it (name, UUID, memory, CPUs: what
// VirtualBox shows of a snapshot's machine).
func (c *conn) DomainSnapshotGetXMLDesc(ctx context.Context, s driver.DomainSnapshot, flags uint32) (string, error) {
	if flags&^snapXMLSecure != 0 {
		return "", unsupportedFlags(flags, "virDomainSnapshotGetXMLDesc")
	}
	m, _, n, err := c.d.lookupSnap(ctx, s)
	if err != nil {
		return "", err
	}
	f, err := c.d.snapFactsOf(ctx, m, n)
	if err != nil {
		return "", err
	}
	paused := false
	if f.Online {
		if extra, err := c.d.inv.ExtraData(ctx, m.UUID, false); err == nil {
			paused = extra[extraSnapPaused+n.UUID] != ""
		}
	}
	return snapshotXML(m, n, f, paused)
}

// snapshotXML builds the document (pure).
func snapshotXML(m Machine, n *snapNode, f snapFacts, paused bool) (string, error) {
	state, mem := "shutoff", "no"
	if f.Online {
		state, mem = "running", "internal"
		if paused {
			state = "paused"
		}
	}
	doc := libvirtxml.DomainSnapshot{
		Name:        n.Name,
		Description: n.Description,
		State:       state,
		Memory:      &libvirtxml.DomainSnapshotMemory{Snapshot: mem},
		Domain: &libvirtxml.Domain{
			Type: "vbox",
			Name: m.Name,
			UUID: m.UUID,
			OS:   &libvirtxml.DomainOS{Type: &libvirtxml.DomainOSType{Type: "hvm"}},
		},
	}
	if !f.Taken.IsZero() {
		doc.CreationTime = strconv.FormatInt(f.Taken.Unix(), 10)
	}
	if n.Parent != nil {
		doc.Parent = &libvirtxml.DomainSnapshotParent{Name: n.Parent.Name}
	}
	if f.MemoryMB > 0 {
		kib := uint(f.MemoryMB) * 1024
		doc.Domain.Memory = &libvirtxml.DomainMemory{Value: kib, Unit: "KiB"}
		doc.Domain.CurrentMemory = &libvirtxml.DomainCurrentMemory{Value: kib, Unit: "KiB"}
	}
	if f.CPUs > 0 {
		doc.Domain.VCPU = &libvirtxml.DomainVCPU{Placement: "static", Value: uint(f.CPUs)}
	}
	x, err := doc.Marshal()
	if err != nil {
		return "", errdefs.Wrap(errdefs.ErrInternal, err, "cannot format the snapshot XML: "+err.Error())
	}
	return x + "\n", nil
}

// snapshotRequest is what a snapshot XML asks for at creation.
type snapshotRequest struct {
	Name, Description string
}

// parseSnapshotRequest validates a snapshot XML for creation (pure): only
// what VirtualBox can do is accepted, before anything runs.
func parseSnapshotRequest(doc string, online bool, now time.Time) (snapshotRequest, error) {
	var s libvirtxml.DomainSnapshot
	if err := s.Unmarshal(doc); err != nil {
		return snapshotRequest{}, errdefs.Wrap(errdefs.ErrXML, err, "(domain_snapshot): "+err.Error())
	}
	r := snapshotRequest{Name: s.Name, Description: s.Description}
	if r.Name == "" {
		r.Name = strconv.FormatInt(now.Unix(), 10) // libvirt's default
	}
	switch {
	case strings.ContainsAny(r.Name, "\n\r"):
		return r, errdefs.New(errdefs.ErrXML, "snapshot name can't contain newlines")
	case strings.HasPrefix(r.Name, "-"):
		return r, errdefs.Newf(errdefs.ErrConfigUnsupported, "snapshot name '%s' starts with '-', which VBoxManage would read as an option", r.Name)
	}
	if s.Memory != nil {
		switch s.Memory.Snapshot {
		case "", "internal":
			if !online && s.Memory.Snapshot == "internal" {
				return r, errdefs.New(errdefs.ErrConfigUnsupported, "memory state cannot be saved with offline or disk-only snapshot")
			}
		case "no":
			if online {
				return r, errdefs.New(errdefs.ErrConfigUnsupported, "VirtualBox always saves the memory of a running domain in its snapshots (memory snapshot='no')")
			}
		default:
			return r, errdefs.Newf(errdefs.ErrConfigUnsupported, "VirtualBox keeps a snapshot's memory itself: memory snapshot='%s' is not supported", s.Memory.Snapshot)
		}
	}
	if s.Disks != nil {
		for _, dk := range s.Disks.Disks {
			if dk.Snapshot != "" && dk.Snapshot != "internal" || dk.Source != nil {
				return r, errdefs.Newf(errdefs.ErrConfigUnsupported, "VirtualBox snapshots every disk itself: disk '%s' with snapshot='%s' is not supported", dk.Name, dk.Snapshot)
			}
		}
	}
	return r, nil
}

var snapTakenRE = regexp.MustCompile(`Snapshot taken\. UUID: ([0-9a-fA-F-]{36})`)

// DomainSnapshotCreateXML implements driver.Conn: `snapshot take`, live
// (`--live`, the machine keeps running) with VIR_DOMAIN_SNAPSHOT_CREATE_LIVE,
// else VirtualBox pauses a running machine while it saves it. HALT powers
// the machine off afterwards. Redefining, metadata-only, disk-only,
// external and quiesced snapshots are refused before anything runs.
func (c *conn) DomainSnapshotCreateXML(ctx context.Context, dom driver.Domain, doc string, flags uint32) (driver.DomainSnapshot, error) {
	const api = "virDomainSnapshotCreateXML"
	if flags&^(snapCreateRedefine|snapCreateCurrent|snapCreateNoMetadata|snapCreateHalt|snapCreateDiskOnly|
		snapCreateReuseExt|snapCreateQuiesce|snapCreateAtomic|snapCreateLive|snapCreateValidate) != 0 {
		return driver.DomainSnapshot{}, unsupportedFlags(flags, api)
	}
	switch {
	case flags&snapCreateRedefine != 0:
		if flags&^(snapCreateRedefine|snapCreateCurrent|snapCreateValidate) != 0 {
			return driver.DomainSnapshot{}, unsupportedFlags(flags, api)
		}
		return c.redefineSnapshot(ctx, dom, doc, flags&snapCreateCurrent != 0)
	case flags&snapCreateCurrent != 0:
		return driver.DomainSnapshot{}, errdefs.New(errdefs.ErrInvalidArg, "use of 'current' flag in virDomainSnapshotCreateXML requires 'redefine' flag")
	case flags&snapCreateNoMetadata != 0:
		return driver.DomainSnapshot{}, errdefs.New(errdefs.ErrArgUnsupported,
			"a snapshot without metadata is not supported: VirtualBox keeps every snapshot it takes")
	case flags&(snapCreateDiskOnly|snapCreateReuseExt) != 0:
		return driver.DomainSnapshot{}, errdefs.New(errdefs.ErrArgUnsupported,
			"disk-only and external snapshots are not supported: VirtualBox takes its own snapshots of the whole machine")
	case flags&snapCreateQuiesce != 0:
		return driver.DomainSnapshot{}, errdefs.New(errdefs.ErrArgUnsupported,
			"quiescing the guest's file systems needs a guest agent")
	}
	var out driver.DomainSnapshot
	err := c.d.withVM(ctx, dom, func(m Machine, op *vmOp) error {
		online := IsOnline(m.State)
		req, err := parseSnapshotRequest(doc, online, c.d.inv.now())
		if err != nil {
			return err
		}
		t, err := c.d.treeOf(ctx, m)
		if err != nil {
			return err
		}
		if t.byName(req.Name) != nil {
			return errdefs.Newf(errdefs.ErrOperationFailed, "domain snapshot %s already exists", req.Name)
		}
		switch m.State {
		case "poweroff", "aborted", "saved", "running", "paused":
		default:
			return errdefs.Newf(errdefs.ErrOperationInvalid, "cannot take a snapshot of a machine that is %s", stateName(m.State))
		}
		args := []string{"snapshot", m.UUID, "take", req.Name}
		if req.Description != "" {
			args = append(args, "--description", req.Description)
		}
		if flags&snapCreateLive != 0 && m.State == "running" {
			args = append(args, "--live")
		}
		stdout, _, err := c.d.runPolicy(ctx, policyFor(m), args...)
		if err != nil {
			return c.d.snapCmdError(m, req.Name, fmt.Sprintf("could not take snapshot of domain %s", m.Name), err)
		}
		out = driver.DomainSnapshot{Name: req.Name, Dom: c.d.domainOf(m)}
		if m.State == "paused" {
			if mm := snapTakenRE.FindSubmatch(stdout); mm != nil {
				u := strings.ToLower(string(mm[1]))
				if err := c.d.vmCmd(ctx, m, "cannot record the paused state of the snapshot", "setextradata", m.UUID, extraSnapPaused+u, "1"); err != nil {
					c.d.logFor(ctx).WithError(err).WithField("vm", m.Name).Warn("a revert to this snapshot will leave the domain running, not paused")
				}
			}
		}
		if flags&snapCreateHalt != 0 && online {
			if err := c.d.vmCmd(ctx, m, "cannot halt domain after the snapshot", "controlvm", m.UUID, "poweroff"); err != nil {
				return err
			}
			if err := c.d.settle(ctx, m, op, "cannot halt domain after the snapshot", []string{"controlvm", "poweroff"}, "poweroff", "aborted"); err != nil {
				return err
			}
			c.d.states.SetCause(m.UUID, "poweroff", ShutoffFromSnapshot)
		}
		return nil
	})
	if err != nil {
		return driver.DomainSnapshot{}, err
	}
	if m, err := c.d.machine(ctx, dom); err == nil {
		out.Dom = c.d.domainOf(m)
	}
	return out, nil
}

// redefineSnapshot is REDEFINE as far as VirtualBox can follow it (virsh
// snapshot-edit): the snapshot must exist, and only its description may
// change (`snapshot edit --description`); a new snapshot, another parent,
// state or creation time, or making another snapshot current cannot be
// told to VirtualBox and is refused before anything runs.
func (c *conn) redefineSnapshot(ctx context.Context, dom driver.Domain, doc string, current bool) (driver.DomainSnapshot, error) {
	var s libvirtxml.DomainSnapshot
	if err := s.Unmarshal(doc); err != nil {
		return driver.DomainSnapshot{}, errdefs.Wrap(errdefs.ErrXML, err, "(domain_snapshot): "+err.Error())
	}
	if s.Name == "" {
		return driver.DomainSnapshot{}, errdefs.New(errdefs.ErrXML, "a redefined snapshot must have a name")
	}
	var out driver.DomainSnapshot
	err := c.d.withVM(ctx, dom, func(m Machine, op *vmOp) error {
		t, err := c.d.treeOf(ctx, m)
		if err != nil {
			return err
		}
		n := t.byName(s.Name)
		if n == nil {
			return errdefs.Newf(errdefs.ErrArgUnsupported,
				"redefining snapshot '%s' is not supported: VirtualBox keeps its snapshots itself; only an existing snapshot's description can be changed", s.Name)
		}
		if current && t.Current != n {
			return errdefs.Newf(errdefs.ErrArgUnsupported, "VirtualBox makes snapshot '%s' current only by reverting to it", n.Name)
		}
		f, err := c.d.snapFactsOf(ctx, m, n)
		if err != nil {
			return err
		}
		parent := ""
		if n.Parent != nil {
			parent = n.Parent.Name
		}
		switch {
		case s.Parent != nil && s.Parent.Name != parent:
			return errdefs.Newf(errdefs.ErrConfigUnsupported, "VirtualBox cannot change the parent of snapshot '%s'", n.Name)
		case s.State != "" && (s.State == "shutoff") == f.Online:
			return errdefs.Newf(errdefs.ErrConfigUnsupported, "VirtualBox cannot change the state of snapshot '%s'", n.Name)
		case s.CreationTime != "" && !f.Taken.IsZero() && s.CreationTime != strconv.FormatInt(f.Taken.Unix(), 10):
			return errdefs.Newf(errdefs.ErrConfigUnsupported, "VirtualBox cannot change the creation time of snapshot '%s'", n.Name)
		}
		out = driver.DomainSnapshot{Name: n.Name, Dom: c.d.domainOf(m)}
		if s.Description == n.Description {
			op.known(func(*Machine) {})
			return nil
		}
		_, _, err = c.d.runPolicy(ctx, policyFor(m), "snapshot", m.UUID, "edit", n.UUID, "--description", s.Description)
		if err != nil {
			return c.d.snapCmdError(m, n.Name, "could not change snapshot '"+n.Name+"'", err)
		}
		return nil
	})
	return out, err
}

// DomainRevertToSnapshot implements driver.Conn: `snapshot restore`, then
// the state the snapshot holds (or the flags ask for): a snapshot taken of
// a running machine restores a saved state, which is started (and paused
// again if the daemon took it of a paused machine); one taken powered off
// stays off. A running machine is powered off first: reverting discards
// its current state, as libvirt's revert does.
func (c *conn) DomainRevertToSnapshot(ctx context.Context, s driver.DomainSnapshot, flags uint32) error {
	if flags&^(snapRevertRunning|snapRevertPaused|snapRevertForce) != 0 {
		return unsupportedFlags(flags, "virDomainRevertToSnapshot")
	}
	if flags&snapRevertRunning != 0 && flags&snapRevertPaused != 0 {
		return errdefs.New(errdefs.ErrInvalidArg, "flags 'running' and 'paused' in virDomainRevertToSnapshot are mutually exclusive")
	}
	return c.d.withVM(ctx, s.Dom, func(m Machine, op *vmOp) error {
		t, err := c.d.treeOf(ctx, m)
		if err != nil {
			return err
		}
		n := t.byName(s.Name)
		if n == nil {
			return snapNotFound(s.Name)
		}
		f, err := c.d.snapFactsOf(ctx, m, n)
		if err != nil {
			return err
		}
		paused := false
		if f.Online {
			if extra, err := c.d.inv.ExtraData(ctx, m.UUID, true); err == nil {
				paused = extra[extraSnapPaused+n.UUID] != ""
			}
		}
		switch m.State {
		case "poweroff", "aborted", "saved", "aborted-saved", "running", "paused":
		default:
			return errdefs.Newf(errdefs.ErrOperationInvalid, "cannot revert a machine that is %s", stateName(m.State))
		}
		if IsOnline(m.State) {
			if err := c.d.vmCmd(ctx, m, "cannot stop the domain to revert it", "controlvm", m.UUID, "poweroff"); err != nil {
				return err
			}
			if err := c.d.settle(ctx, m, op, "cannot stop the domain to revert it", []string{"controlvm", "poweroff"}, "poweroff", "aborted"); err != nil {
				return err
			}
		}
		if _, _, err := c.d.runPolicy(ctx, RetryTransientOrLock, "snapshot", m.UUID, "restore", n.UUID); err != nil {
			return c.d.snapCmdError(m, n.Name, "could not restore snapshot '"+n.Name+"'", err)
		}
		want := "poweroff"
		if f.Online {
			want = "saved"
		}
		if err := c.d.settle(ctx, m, op, "cannot revert to snapshot", []string{"snapshot", "restore"}, want); err != nil {
			return err
		}
		c.d.states.SetCause(m.UUID, want, ShutoffFromSnapshot)
		run := f.Online
		if flags&(snapRevertRunning|snapRevertPaused) != 0 {
			run, paused = true, flags&snapRevertPaused != 0
		}
		if !run {
			return nil
		}
		m.State = want
		var startFlags uint32
		if paused {
			startFlags = startPaused
		}
		return c.d.start(ctx, m, op, startFlags)
	})
}

// DomainSnapshotDelete implements driver.Conn: `snapshot delete`, with
// CHILDREN (or CHILDREN_ONLY) the descendants first, leaves before their
// parents. VirtualBox merges a deleted snapshot into its child and so
// cannot delete one with two children or more: that, and deleting only
// libvirt's metadata (there is none), is refused before anything runs.
func (c *conn) DomainSnapshotDelete(ctx context.Context, s driver.DomainSnapshot, flags uint32) error {
	if flags&^(snapDeleteChildren|snapDeleteMetadataOnly|snapDeleteChildrenOnly) != 0 {
		return unsupportedFlags(flags, "virDomainSnapshotDelete")
	}
	if flags&snapDeleteChildren != 0 && flags&snapDeleteChildrenOnly != 0 {
		return errdefs.New(errdefs.ErrInvalidArg, "flags 'children' and 'children only' in virDomainSnapshotDelete are mutually exclusive")
	}
	if flags&snapDeleteMetadataOnly != 0 {
		return errdefs.New(errdefs.ErrArgUnsupported,
			"deleting only the metadata of a snapshot is not supported: libvirt keeps none for VirtualBox, and the snapshot would stay")
	}
	return c.d.withVM(ctx, s.Dom, func(m Machine, op *vmOp) error {
		t, err := c.d.treeOf(ctx, m)
		if err != nil {
			return err
		}
		n := t.byName(s.Name)
		if n == nil {
			return snapNotFound(s.Name)
		}
		var victims []*snapNode
		if flags&(snapDeleteChildren|snapDeleteChildrenOnly) != 0 {
			// Post-order: every snapshot is a leaf when it is deleted.
			var post func(x *snapNode)
			post = func(x *snapNode) {
				for _, ch := range x.Children {
					post(ch)
				}
				victims = append(victims, x)
			}
			for _, ch := range n.Children {
				post(ch)
			}
		} else if len(n.Children) > 1 {
			return errdefs.Newf(errdefs.ErrOperationInvalid,
				"VirtualBox cannot delete snapshot '%s': it has %d child snapshots (delete them first, or use --children)", n.Name, len(n.Children))
		}
		if flags&snapDeleteChildrenOnly == 0 {
			victims = append(victims, n)
		}
		for i, v := range victims {
			if _, _, err := c.d.runPolicy(ctx, policyFor(m), "snapshot", m.UUID, "delete", v.UUID); err != nil {
				err = c.d.snapCmdError(m, v.Name, "could not delete snapshot '"+v.Name+"'", err)
				if i > 0 {
					names := make([]string, i)
					for j := range names {
						names[j] = victims[j].Name
					}
					return errdefs.Wrap(errdefs.ClassOf(err), err, fmt.Sprintf("%s (already deleted: %s)", errdefs.Detail(err), strings.Join(names, ", ")))
				}
				return err
			}
			c.d.snaps.forget(v.UUID)
		}
		return nil
	})
}
