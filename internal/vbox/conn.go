package vbox

import (
	"context"
	"encoding/hex"
	"errors"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"os"
	"runtime"
	"strings"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// conn is one client's connection. It holds no state of its own beyond the
// URI: every cache lives in the Driver.
// The read-only rule is enforced by the RPC layer before a call gets here.
type conn struct {
	driver.Unsupported
	d       *Driver
	uri     string
	unwatch func() // ends this connection's share of the inventory's watcher
}

var _ driver.Conn = (*conn)(nil)

// libvirt flag values used below (include/libvirt/libvirt-domain.h).
const (
	listActive        = 1 << 0
	listInactive      = 1 << 1
	listPersistent    = 1 << 2
	listTransient     = 1 << 3
	listRunning       = 1 << 4
	listPaused        = 1 << 5
	listShutoff       = 1 << 6
	listOther         = 1 << 7
	listManagedSave   = 1 << 8
	listNoManagedSave = 1 << 9
	listAutostart     = 1 << 10
	listNoAutostart   = 1 << 11
	listHasSnapshot   = 1 << 12
	listNoSnapshot    = 1 << 13
	listHasCheckpoint = 1 << 14
	listNoCheckpoint  = 1 << 15
	listAll           = 1<<16 - 1

	affectLive   = 1 << 0
	affectConfig = 1 << 1
	memMaximum   = 1 << 2
	vcpuMaximum  = 1 << 2
	vcpuGuest    = 1 << 3

	startPaused    = 1 << 0
	startForceBoot = 1 << 3
	startValidate  = 1 << 4

	shutdownACPI = 1 << 0

	xmlSecure     = 1 << 0
	xmlInactive   = 1 << 1
	xmlUpdateCPU  = 1 << 2
	xmlMigratable = 1 << 3

	undefineManagedSave       = 1 << 0
	undefineSnapshotsMetadata = 1 << 1
	undefineNVRAM             = 1 << 2
	undefineKeepNVRAM         = 1 << 3
	undefineCheckpoints       = 1 << 4

	defineValidate = 1 << 0
)

func unsupportedFlags(flags uint32, fn string) error {
	return errdefs.Newf(errdefs.ErrInvalidArg, "unsupported flags (0x%x) in function %s", flags, fn)
}

// URI implements driver.Conn.
func (c *conn) URI() string { return c.uri }

// Type implements driver.Conn.
func (c *conn) Type() string { return "VBOX" }

// Close implements driver.Conn: the inventory stops watching when the last
// connection has closed (after its linger).
func (c *conn) Close() error {
	c.d.events.dropConn(c)
	c.unwatch()
	return nil
}

// Version implements driver.Conn: major*1e6 + minor*1e3 + micro.
func (c *conn) Version(ctx context.Context) (uint64, error) {
	v, err := c.d.Version(ctx)
	if err != nil {
		return 0, err
	}
	return v.Number(), nil
}

// Hostname implements driver.Conn.
func (c *conn) Hostname(ctx context.Context) (string, error) {
	h, err := os.Hostname()
	if err != nil {
		return "", errdefs.Wrap(errdefs.ErrSystem, err, "cannot get the host name: "+err.Error())
	}
	return h, nil
}

// hostArch is the host architecture in libvirt's spelling.
func hostArch() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "386":
		return "i686"
	case "arm64":
		return "aarch64"
	}
	return runtime.GOARCH
}

// Capabilities implements driver.Conn: the host arch and hvm guests of type
// vbox for x86_64 and i686.
func (c *conn) Capabilities(ctx context.Context) (string, error) {
	return capabilitiesXML(hostArch())
}

// MaxVcpus implements driver.Conn: VirtualBox's "Maximum guest CPU count".
func (c *conn) MaxVcpus(ctx context.Context, typ string) (int32, error) {
	if typ != "" && !strings.EqualFold(typ, "vbox") {
		return 0, errdefs.Newf(errdefs.ErrInvalidArg, "unknown type '%s'", typ)
	}
	sp, err := c.d.systemProperties(ctx)
	if err != nil {
		return 0, err
	}
	n := sp.LeadingInt("Maximum guest CPU count", 0)
	if n <= 0 {
		return 0, errdefs.New(errdefs.ErrInternal, "list systemproperties: no \"Maximum guest CPU count\"")
	}
	return int32(n), nil
}

// NodeInfo implements driver.Conn from `list hostinfo`.
func (c *conn) NodeInfo(ctx context.Context) (driver.NodeInfo, error) {
	hi, err := c.d.hostInformation(ctx)
	if err != nil {
		return driver.NodeInfo{}, err
	}
	cpus := hi.LeadingInt("Processor online count", 0)
	if cpus <= 0 {
		cpus = hi.LeadingInt("Processor count", 1)
	}
	cores := hi.LeadingInt("Processor online core count", 0)
	if cores <= 0 {
		cores = hi.LeadingInt("Processor core count", cpus)
	}
	if cores <= 0 || cores > cpus {
		cores = cpus
	}
	threads := cpus / cores
	if threads < 1 || threads*cores != cpus {
		cores, threads = cpus, 1
	}
	return driver.NodeInfo{
		Model:     hostArch(),
		MemoryKiB: uint64(hi.LeadingInt("Memory size", 0)) * 1024,
		CPUs:      int32(cpus),
		MHz:       int32(hi.LeadingInt("Processor#0 speed", 0)),
		Nodes:     1,
		Sockets:   1,
		Cores:     int32(cores),
		Threads:   int32(threads),
	}, nil
}

// NodeFreeMemory implements driver.Conn: "Memory available", in bytes.
func (c *conn) NodeFreeMemory(ctx context.Context) (uint64, error) {
	hi, err := c.d.hostInformation(ctx)
	if err != nil {
		return 0, err
	}
	return uint64(hi.LeadingInt("Memory available", 0)) * 1024 * 1024, nil
}

// NodeMemoryStats implements driver.Conn: total and free for the one cell.
func (c *conn) NodeMemoryStats(ctx context.Context, cell int32, flags uint32) ([]driver.MemoryStat, error) {
	if flags != 0 {
		return nil, unsupportedFlags(flags, "virNodeGetMemoryStats")
	}
	if cell != -1 && cell != 0 {
		return nil, errdefs.Newf(errdefs.ErrInvalidArg, "Invalid cell number %d", cell)
	}
	hi, err := c.d.hostInformation(ctx)
	if err != nil {
		return nil, err
	}
	return []driver.MemoryStat{
		{Field: "total", Value: uint64(hi.LeadingInt("Memory size", 0)) * 1024},
		{Field: "free", Value: uint64(hi.LeadingInt("Memory available", 0)) * 1024},
	}, nil
}

// Sysinfo implements driver.Conn: an SMBIOS-style description of the host from
// /sys/class/dmi/id and `list hostinfo`, as `virsh sysinfo` prints it.
func (c *conn) Sysinfo(ctx context.Context, flags uint32) (string, error) {
	if flags != 0 {
		return "", unsupportedFlags(flags, "virConnectGetSysinfo")
	}
	hi, err := c.d.hostInformation(ctx)
	if err != nil {
		return "", err
	}
	return hostSysinfo(hi, "/sys/class/dmi/id")
}

// ListAllDomains implements driver.Conn with every VIR_CONNECT_LIST_DOMAINS_*
// filter, from the inventory (one VBoxManage process at most).
func (c *conn) ListAllDomains(ctx context.Context, flags uint32) ([]driver.Domain, error) {
	if flags&^listAll != 0 {
		return nil, unsupportedFlags(flags, "virConnectListAllDomains")
	}
	ms, err := c.d.inv.List(ctx)
	if err != nil {
		return nil, vboxError("cannot list machines", err)
	}
	out := make([]driver.Domain, 0, len(ms))
	for _, m := range ms {
		if c.d.matches(m, flags) {
			out = append(out, c.d.domainOf(m))
		}
	}
	return out, nil
}

// matches applies libvirt's list filters: within each group, a machine
// passes when the group's flags are all clear or one of them matches.
func (d *Driver) matches(m Machine, flags uint32) bool {
	online := IsOnline(m.State)
	group := func(a, b uint32, isA bool) bool {
		if flags&(a|b) == 0 {
			return true
		}
		return flags&a != 0 && isA || flags&b != 0 && !isA
	}
	if !group(listActive, listInactive, online) ||
		!group(listPersistent, listTransient, true) ||
		!group(listManagedSave, listNoManagedSave, HasSavedState(m.State)) ||
		!group(listAutostart, listNoAutostart, m.Autostart) ||
		!group(listHasSnapshot, listNoSnapshot, m.Snapshots > 0) ||
		!group(listHasCheckpoint, listNoCheckpoint, false) {
		return false
	}
	if sf := flags & (listRunning | listPaused | listShutoff | listOther); sf != 0 {
		st, _ := d.states.State(m)
		switch st {
		case driver.StateRunning:
			return sf&listRunning != 0
		case driver.StatePaused:
			return sf&listPaused != 0
		case driver.StateShutoff:
			return sf&listShutoff != 0
		default:
			return sf&listOther != 0
		}
	}
	return true
}

func (d *Driver) domainOf(m Machine) driver.Domain {
	u, _ := parseUUID(m.UUID)
	id := int32(-1)
	if IsOnline(m.State) {
		id = d.states.ID(m.UUID)
	}
	return driver.Domain{Name: m.Name, UUID: u, ID: id}
}

// LookupByName implements driver.Conn (exact, case-sensitive).
func (c *conn) LookupByName(ctx context.Context, name string) (driver.Domain, error) {
	m, err := c.d.inv.Find(ctx, func(m Machine) bool { return m.Name == name })
	if errors.Is(err, errNotFound) {
		return driver.Domain{}, errdefs.Newf(errdefs.ErrNoDomain, "no domain with matching name '%s'", name)
	}
	if err != nil {
		return driver.Domain{}, vboxError("cannot look up machines", err)
	}
	return c.d.domainOf(m), nil
}

// LookupByUUID implements driver.Conn.
func (c *conn) LookupByUUID(ctx context.Context, uuid [16]byte) (driver.Domain, error) {
	m, err := c.d.inv.Get(ctx, uuidString(uuid))
	if errors.Is(err, errNotFound) {
		return driver.Domain{}, errdefs.Newf(errdefs.ErrNoDomain, "no domain with matching uuid '%s'", uuidString(uuid))
	}
	if err != nil {
		return driver.Domain{}, vboxError("cannot look up machines", err)
	}
	return c.d.domainOf(m), nil
}

// LookupByID implements driver.Conn with the stable IDs.
func (c *conn) LookupByID(ctx context.Context, id int32) (driver.Domain, error) {
	notFound := errdefs.Newf(errdefs.ErrNoDomain, "no domain with matching id %d", id)
	if id <= 0 {
		return driver.Domain{}, notFound
	}
	// Refresh (if stale) first, so that the ID table reflects the machines.
	if _, err := c.d.inv.List(ctx); err != nil {
		return driver.Domain{}, vboxError("cannot look up machines", err)
	}
	u, ok := c.d.states.ByID(id)
	if !ok {
		return driver.Domain{}, notFound
	}
	m, err := c.d.inv.Get(ctx, u)
	if err != nil || !IsOnline(m.State) {
		return driver.Domain{}, notFound
	}
	return c.d.domainOf(m), nil
}

// machine resolves a domain handle to the cached machine.
func (d *Driver) machine(ctx context.Context, dom driver.Domain) (Machine, error) {
	u := uuidString(dom.UUID)
	m, err := d.inv.Get(ctx, u)
	if errors.Is(err, errNotFound) {
		return Machine{}, errdefs.Newf(errdefs.ErrNoDomain, "no domain with matching uuid '%s' (%s)", u, dom.Name)
	}
	if err != nil {
		return Machine{}, vboxError("cannot read machine "+dom.Name, err)
	}
	return m, nil
}

// DomainGetInfo implements driver.Conn. VirtualBox has one memory size, so
// maximum and current memory are equal. The CPU time of a running machine
// is the one of the last statistics round (stats.go) when it is less than
// a minute old, else 0: dominfo is a read served from memory and starts no
// VBoxManage of its own.
func (c *conn) DomainGetInfo(ctx context.Context, dom driver.Domain) (driver.DomainInfo, error) {
	m, err := c.d.machine(ctx, dom)
	if err != nil {
		return driver.DomainInfo{}, err
	}
	st, _ := c.d.states.State(m)
	kib := uint64(m.MemoryMB) * 1024
	info := driver.DomainInfo{State: st, MaxMemKiB: kib, MemoryKiB: kib, NrVirtCPU: uint16(m.CPUs)}
	if IsOnline(m.State) {
		info.CPUTime, _ = c.d.cachedSample(m.UUID).cpuTime()
	}
	return info, nil
}

// DomainGetState implements driver.Conn with real reasons.
func (c *conn) DomainGetState(ctx context.Context, dom driver.Domain, flags uint32) (driver.DomainState, int32, error) {
	if flags != 0 {
		return 0, 0, unsupportedFlags(flags, "virDomainGetState")
	}
	m, err := c.d.machine(ctx, dom)
	if err != nil {
		return 0, 0, err
	}
	st, reason := c.d.states.State(m)
	return st, reason, nil
}

// DomainGetOSType implements driver.Conn: always hvm.
func (c *conn) DomainGetOSType(ctx context.Context, dom driver.Domain) (string, error) {
	if _, err := c.d.machine(ctx, dom); err != nil {
		return "", err
	}
	return "hvm", nil
}

// DomainIsActive implements driver.Conn.
func (c *conn) DomainIsActive(ctx context.Context, dom driver.Domain) (bool, error) {
	m, err := c.d.machine(ctx, dom)
	if err != nil {
		return false, err
	}
	return IsOnline(m.State), nil
}

// DomainIsPersistent implements driver.Conn: every VirtualBox machine is.
func (c *conn) DomainIsPersistent(ctx context.Context, dom driver.Domain) (bool, error) {
	if _, err := c.d.machine(ctx, dom); err != nil {
		return false, err
	}
	return true, nil
}

// DomainIsUpdated implements driver.Conn: a running domain is updated while
// it has a pending definition (pending.go), one its next boot takes.
func (c *conn) DomainIsUpdated(ctx context.Context, dom driver.Domain) (bool, error) {
	m, err := c.d.machine(ctx, dom)
	if err != nil {
		return false, err
	}
	if !IsOnline(m.State) {
		return false, nil
	}
	extra, err := c.d.inv.ExtraData(ctx, m.UUID, false)
	if err != nil {
		return false, vboxError("cannot read the extradata of machine "+m.Name, err)
	}
	_, ok := extra[pendingKey]
	if ok {
		c.d.notePending(m.UUID)
	}
	return ok, nil
}

// DomainGetAutostart implements driver.Conn from VirtualBox's autostart setting.
func (c *conn) DomainGetAutostart(ctx context.Context, dom driver.Domain) (bool, error) {
	m, err := c.d.machine(ctx, dom)
	if err != nil {
		return false, err
	}
	return m.Autostart, nil
}

// DomainHasManagedSaveImage implements driver.Conn: a VirtualBox saved state.
func (c *conn) DomainHasManagedSaveImage(ctx context.Context, dom driver.Domain, flags uint32) (bool, error) {
	if flags != 0 {
		return false, unsupportedFlags(flags, "virDomainHasManagedSaveImage")
	}
	m, err := c.d.machine(ctx, dom)
	if err != nil {
		return false, err
	}
	return HasSavedState(m.State), nil
}

// DomainGetMaxVcpus implements driver.Conn: the machine's CPU count (VirtualBox
// has no separate maximum).
func (c *conn) DomainGetMaxVcpus(ctx context.Context, dom driver.Domain) (int32, error) {
	m, err := c.d.machine(ctx, dom)
	if err != nil {
		return 0, err
	}
	return int32(m.CPUs), nil
}

// DomainGetVcpusFlags implements driver.Conn: current and maximum are the
// machine's CPU count; AFFECT_LIVE needs an active domain.
func (c *conn) DomainGetVcpusFlags(ctx context.Context, dom driver.Domain, flags uint32) (int32, error) {
	if flags&^(affectLive|affectConfig|vcpuMaximum|vcpuGuest) != 0 {
		return 0, unsupportedFlags(flags, "virDomainGetVcpusFlags")
	}
	if flags&affectLive != 0 && flags&affectConfig != 0 {
		return 0, errdefs.New(errdefs.ErrInvalidArg, "flags 'affect live' and 'affect config' are mutually exclusive")
	}
	m, err := c.d.machine(ctx, dom)
	if err != nil {
		return 0, err
	}
	if flags&vcpuGuest != 0 {
		return 0, errdefs.New(errdefs.ErrArgUnsupported, "querying the guest's vCPU count needs a guest agent")
	}
	if flags&affectLive != 0 && !IsOnline(m.State) {
		return 0, errdefs.New(errdefs.ErrOperationInvalid, "domain is not running")
	}
	return int32(m.CPUs), nil
}

// DomainGetMaxMemory implements driver.Conn (KiB).
func (c *conn) DomainGetMaxMemory(ctx context.Context, dom driver.Domain) (uint64, error) {
	m, err := c.d.machine(ctx, dom)
	if err != nil {
		return 0, err
	}
	return uint64(m.MemoryMB) * 1024, nil
}

func uuidString(u [16]byte) string {
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func parseUUID(s string) ([16]byte, bool) {
	// By hand, without allocating: every listing converts every machine.
	var u [16]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '-' {
			continue
		}
		v, ok := hexDigit(c)
		if !ok || n == 32 {
			return [16]byte{}, false
		}
		u[n/2] |= v << (4 * (1 - n%2))
		n++
	}
	if n != 32 {
		return [16]byte{}, false
	}
	return u, true
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// hostInformation returns `list hostinfo`, cached for the inventory's
// freshness period.
func (d *Driver) hostInformation(ctx context.Context) (Record, error) {
	d.hostMu.Lock()
	defer d.hostMu.Unlock()
	if d.hostInfo.index != nil && d.inv.now().Sub(d.hostAt) < d.inv.maxAge {
		return d.hostInfo, nil
	}
	out, _, err := d.runPolicy(ctx, RetryTransient, "list", "hostinfo")
	if err != nil {
		return Record{}, vboxError("cannot read host information", err)
	}
	hi, err := ParseHostInfo(out)
	if err != nil {
		return Record{}, errdefs.Wrap(errdefs.ErrInternal, err, err.Error())
	}
	d.hostInfo, d.hostAt = hi, d.inv.now()
	return hi, nil
}

// systemProperties returns `list systemproperties`, read once.
func (d *Driver) systemProperties(ctx context.Context) (Record, error) {
	d.hostMu.Lock()
	defer d.hostMu.Unlock()
	if d.sysProps != nil {
		return *d.sysProps, nil
	}
	out, _, err := d.runPolicy(ctx, RetryTransient, "list", "systemproperties")
	if err != nil {
		return Record{}, vboxError("cannot read system properties", err)
	}
	sp, err := ParseSystemProperties(out)
	if err != nil {
		return Record{}, errdefs.Wrap(errdefs.ErrInternal, err, err.Error())
	}
	d.sysProps = &sp
	return sp, nil
}
