package vbox

import (
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
	"github.com/virtvboxd/virtvboxd/internal/vbox/domxml"
)

// Statistics come from two VBoxManage sources (docs/stats.md): the
// performance collector in VBoxSVC (`metrics query`, one call for all
// machines: VM process RSS, guest memory) and each running machine's
// statistics counters (`debugvm <vm> statistics`: bytes per disk and
// adapter, CPU time per vCPU). A round reads both for every running
// machine together and is kept for StatsMaxAge, so a scraper asking about
// N domains costs one round, not N calls per domain.

// EnvStatsMaxAge overrides DefaultStatsMaxAge (a Go duration; tests).
const EnvStatsMaxAge = "VIRTVBOXD_TEST_STATS_MAX_AGE"

// DefaultStatsMaxAge is how long a round of statistics is served.
const DefaultStatsMaxAge = 5 * time.Second

// metricsPeriod is the sampling period set up in VBoxSVC's collector.
const metricsPeriod = "2"

// statsPattern selects the counters a round reads.
const statsPattern = "/Public/*|/TM/CPU/*"

// statsParallel bounds the debugvm calls of a round.
const statsParallel = 4

type vmSample struct {
	state    string // the machine's state when read
	counters map[string]uint64
	metrics  map[string]float64
}

// statsCache holds the last round. round serialises rounds (concurrent
// askers wait for the round in flight and share it); mu guards the fields
// that follow, so that cachedSample never waits for a round.
type statsCache struct {
	round   sync.Mutex
	mu      sync.Mutex
	at      time.Time
	maxAge  time.Duration
	vms     map[string]*vmSample // by UUID
	setupOK map[string]bool      // running machines whose metrics are set up
}

// fresh reports whether the last round may still be served.
func (c *statsCache) fresh(d *Driver) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.maxAge == 0 {
		c.maxAge = envDuration(EnvStatsMaxAge, DefaultStatsMaxAge, d.log)
	}
	return c.vms != nil && time.Since(c.at) < c.maxAge
}

// sample returns the machine's statistics from a round at most maxAge old
// (nil when it is not running or its counters could not be read).
func (d *Driver) sample(ctx context.Context, uuid string) (*vmSample, error) {
	c := &d.stats
	c.round.Lock()
	defer c.round.Unlock()
	if !c.fresh(d) {
		if err := d.statsRound(ctx); err != nil {
			return nil, err
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.vms[uuid], nil
}

// cachedSample is the machine's sample from the last round if it is less
// than statsKeep old, without starting a round or waiting for one (nil
// otherwise).
func (d *Driver) cachedSample(uuid string) *vmSample {
	c := &d.stats
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.vms == nil || time.Since(c.at) > statsKeep {
		return nil
	}
	return c.vms[uuid]
}

// statsKeep is how long DomainGetInfo reports the CPU time of a round.
const statsKeep = time.Minute

// statsRound reads every running machine's statistics: one `metrics query`
// (preceded by `metrics setup` when a machine started since the last one)
// and one `debugvm statistics` per running machine (a machine paused since
// the last round keeps that round's counters). c.round is held. A round cut
// short by ctx is not kept.
func (d *Driver) statsRound(ctx context.Context) error {
	c := &d.stats
	c.mu.Lock()
	prev, prevSetup := c.vms, c.setupOK
	c.mu.Unlock()
	ms, err := d.inv.List(ctx)
	if err != nil {
		return vboxError("cannot list machines", err)
	}
	var running []Machine
	for _, m := range ms {
		if IsOnline(m.State) && !m.Inaccessible {
			running = append(running, m)
		}
	}
	vms := map[string]*vmSample{}
	setup := map[string]bool{}
	if len(running) > 0 {
		need := false
		for _, m := range running {
			if !prevSetup[m.UUID] {
				need = true
			}
			setup[m.UUID] = true
		}
		if need {
			if _, _, err := d.runPolicy(ctx, RetryTransient, "metrics", "setup", "--period", metricsPeriod, "--samples", "1", "*"); err != nil {
				d.logFor(ctx).WithError(err).Warn("metrics setup failed")
				setup = nil
			}
		}
		metrics := map[string]map[string]float64{}
		if out, _, err := d.runPolicy(ctx, RetryTransient, "metrics", "query", "*",
			"CPU/Load/User,CPU/Load/Kernel,RAM/Usage/Used,Guest/RAM/Usage"); err == nil {
			metrics = parseMetricsQuery(out)
		} else {
			d.logFor(ctx).WithError(err).Warn("metrics query failed")
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		sem := make(chan struct{}, statsParallel)
		for _, m := range running {
			if old := prev[m.UUID]; old != nil && old.state == "paused" && m.State == "paused" && old.counters != nil {
				// A paused guest's counters do not move: no debugvm.
				vms[m.UUID] = &vmSample{state: m.State, counters: old.counters, metrics: metrics[m.Name]}
				continue
			}
			wg.Add(1)
			go func(m Machine) {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				out, _, err := d.runPolicy(ctx, RetryTransient, "debugvm", m.UUID, "statistics", "--pattern", statsPattern)
				s := &vmSample{state: m.State, metrics: metrics[m.Name]}
				if err == nil {
					s.counters, _ = parseStatistics(out)
				}
				mu.Lock()
				vms[m.UUID] = s
				mu.Unlock()
			}(m)
		}
		wg.Wait()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.vms, c.setupOK, c.at = vms, setup, time.Now()
	c.mu.Unlock()
	return nil
}

// cpuTime is the machine's CPU time in ns: the sum of its vCPUs' executing
// and other time (/TM/CPU/NN/cNsExecuting, cNsOther); 0 when unknown.
func (s *vmSample) cpuTime() (total uint64, perCPU []uint64) {
	if s == nil {
		return 0, nil
	}
	for i := 0; ; i++ {
		p := fmt.Sprintf("/TM/CPU/%02d/", i)
		e, ok := s.counters[p+"cNsExecuting"]
		if !ok {
			break
		}
		v := e + s.counters[p+"cNsOther"]
		perCPU = append(perCPU, v)
		total += v
	}
	return total, perCPU
}

// liveDevices is what a running machine's statistics are keyed by: its
// disks and adapters as the domain XML names them.
func (d *Driver) liveDevices(ctx context.Context, m Machine) ([]domxml.DiskRef, []domxml.NICRef, error) {
	info, err := d.inv.Detail(ctx, m.UUID)
	if err != nil {
		return nil, nil, vboxError("cannot read machine "+m.Name, err)
	}
	di, err := d.domxmlInfo(ctx, m, info, false)
	if err != nil {
		return nil, nil, vboxError("cannot read machine "+m.Name, err)
	}
	return domxml.Devices(di)
}

// runningMachine resolves dom and requires it to be running.
func (d *Driver) runningMachine(ctx context.Context, dom driver.Domain) (Machine, error) {
	m, err := d.machine(ctx, dom)
	if err != nil {
		return m, err
	}
	if !IsOnline(m.State) {
		return m, errdefs.New(errdefs.ErrOperationInvalid, "domain is not running")
	}
	return m, nil
}

// findDisk matches a disk by target name or source path.
func findDisk(disks []domxml.DiskRef, path string) (domxml.DiskRef, bool) {
	for _, dk := range disks {
		if dk.Target == path || (dk.Source != "" && dk.Source == path) {
			return dk, true
		}
	}
	return domxml.DiskRef{}, false
}

// findNIC matches an adapter by live name, alias or MAC address.
func findNIC(nics []domxml.NICRef, dev string) (domxml.NICRef, bool) {
	for _, n := range nics {
		if n.Target == dev || n.Alias == dev || strings.EqualFold(n.MAC, dev) {
			return n, true
		}
	}
	return domxml.NICRef{}, false
}

// DomainBlockStats implements driver.Conn: bytes read and written from
// /Public/Storage/.../BytesRead|BytesWritten; requests and errors are not
// counted there (-1). An empty path sums all disks.
func (c *conn) DomainBlockStats(ctx context.Context, dom driver.Domain, path string) (driver.BlockStats, error) {
	m, err := c.d.runningMachine(ctx, dom)
	if err != nil {
		return driver.BlockStats{}, err
	}
	disks, _, err := c.d.liveDevices(ctx, m)
	if err != nil {
		return driver.BlockStats{}, err
	}
	if path != "" {
		dk, ok := findDisk(disks, path)
		if !ok {
			return driver.BlockStats{}, errdefs.Newf(errdefs.ErrInvalidArg, "invalid path: %s", path)
		}
		disks = []domxml.DiskRef{dk}
	}
	s, err := c.d.sample(ctx, m.UUID)
	if err != nil {
		return driver.BlockStats{}, err
	}
	out := driver.BlockStats{RdReq: -1, WrReq: -1, Errs: -1}
	for _, dk := range disks {
		if s == nil {
			break
		}
		out.RdBytes += int64(s.counters[dk.Stat+"BytesRead"])
		out.WrBytes += int64(s.counters[dk.Stat+"BytesWritten"])
	}
	return out, nil
}

// DomainBlockStatsFlags implements driver.Conn with the fields VirtualBox
// counts.
func (c *conn) DomainBlockStatsFlags(ctx context.Context, dom driver.Domain, path string, flags uint32) ([]driver.TypedParam, error) {
	if flags != 0 {
		return nil, unsupportedFlags(flags, "virDomainBlockStatsFlags")
	}
	s, err := c.DomainBlockStats(ctx, dom, path)
	if err != nil {
		return nil, err
	}
	return []driver.TypedParam{{Field: "rd_bytes", Value: s.RdBytes}, {Field: "wr_bytes", Value: s.WrBytes}}, nil
}

// DomainInterfaceStats implements driver.Conn from
// /Public/NetAdapter/<slot-1>/BytesReceived|BytesTransmitted; packets,
// errors and drops are not counted there (-1).
func (c *conn) DomainInterfaceStats(ctx context.Context, dom driver.Domain, device string) (driver.InterfaceStats, error) {
	m, err := c.d.runningMachine(ctx, dom)
	if err != nil {
		return driver.InterfaceStats{}, err
	}
	_, nics, err := c.d.liveDevices(ctx, m)
	if err != nil {
		return driver.InterfaceStats{}, err
	}
	n, ok := findNIC(nics, device)
	if !ok {
		return driver.InterfaceStats{}, errdefs.Newf(errdefs.ErrInvalidArg, "invalid path, '%s' is not a known interface", device)
	}
	s, err := c.d.sample(ctx, m.UUID)
	if err != nil {
		return driver.InterfaceStats{}, err
	}
	out := driver.InterfaceStats{RxPackets: -1, RxErrs: -1, RxDrop: -1, TxPackets: -1, TxErrs: -1, TxDrop: -1}
	if s != nil {
		p := fmt.Sprintf("/Public/NetAdapter/%d/", n.Slot-1)
		out.RxBytes, out.TxBytes = int64(s.counters[p+"BytesReceived"]), int64(s.counters[p+"BytesTransmitted"])
	}
	return out, nil
}

// libvirt's VIR_DOMAIN_MEMORY_STAT_* tags.
const (
	memStatUnused     = 4
	memStatAvailable  = 5
	memStatActual     = 6
	memStatRSS        = 7
	memStatDiskCaches = 10
)

// memoryStats are the balloon's figures in KiB: actual (memory minus the
// balloon), and where the collector reports them the VM process's RSS and
// the guest's total, free and cache memory (Guest/RAM/Usage/*, with the
// Guest Additions).
func (d *Driver) memoryStats(ctx context.Context, m Machine) ([]driver.MemoryStatTag, error) {
	info, err := d.inv.Detail(ctx, m.UUID)
	if err != nil {
		return nil, vboxError("cannot read machine "+m.Name, err)
	}
	balloon := uint64(info.Int("GuestMemoryBalloon", 0)) * 1024
	total := uint64(m.MemoryMB) * 1024
	out := []driver.MemoryStatTag{{Tag: memStatActual, Val: total - min(balloon, total)}}
	s, err := d.sample(ctx, m.UUID)
	if err != nil || s == nil {
		return out, err
	}
	for _, x := range []struct {
		tag    int32
		metric string
	}{{memStatUnused, "Guest/RAM/Usage/Free"}, {memStatAvailable, "Guest/RAM/Usage/Total"},
		{memStatRSS, "RAM/Usage/Used"}, {memStatDiskCaches, "Guest/RAM/Usage/Cache"}} {
		if v, ok := s.metrics[x.metric]; ok {
			out = append(out, driver.MemoryStatTag{Tag: x.tag, Val: uint64(v)})
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Tag < out[b].Tag })
	return out, nil
}

// DomainMemoryStats implements driver.Conn.
func (c *conn) DomainMemoryStats(ctx context.Context, dom driver.Domain, maxStats uint32, flags uint32) ([]driver.MemoryStatTag, error) {
	if flags != 0 {
		return nil, unsupportedFlags(flags, "virDomainMemoryStats")
	}
	m, err := c.d.runningMachine(ctx, dom)
	if err != nil {
		return nil, err
	}
	st, err := c.d.memoryStats(ctx, m)
	if err != nil {
		return nil, err
	}
	if uint32(len(st)) > maxStats {
		st = st[:maxStats]
	}
	return st, nil
}

// The VIR_DOMAIN_STATS_* groups and VIR_CONNECT_GET_ALL_DOMAINS_STATS_* flags.
const (
	statsState     = 1 << 0
	statsCPUTotal  = 1 << 1
	statsBalloon   = 1 << 2
	statsVCPU      = 1 << 3
	statsInterface = 1 << 4
	statsBlock     = 1 << 5
	statsSupported = statsState | statsCPUTotal | statsBalloon | statsVCPU | statsInterface | statsBlock

	getStatsNoWait  = 1 << 29
	getStatsBacking = 1 << 30
	getStatsEnforce = 1 << 31
)

// GetAllDomainStats implements driver.Conn for virConnectGetAllDomainStats
// and virDomainListGetStats with the groups state, cpu-total, balloon,
// vcpu, interface and block.
func (c *conn) GetAllDomainStats(ctx context.Context, doms []driver.Domain, stats uint32, flags uint32) ([]driver.DomainStatsRecord, error) {
	if stats&^statsSupported != 0 && flags&getStatsEnforce != 0 {
		return nil, errdefs.Newf(errdefs.ErrArgUnsupported, "Stats types bits 0x%x are not supported by this daemon", stats&^statsSupported)
	}
	if stats == 0 {
		stats = statsSupported
	}
	stats &= statsSupported
	filter := flags &^ (getStatsNoWait | getStatsBacking | getStatsEnforce)
	if len(doms) > 0 && filter != 0 {
		return nil, errdefs.New(errdefs.ErrInvalidArg, "filtering is not supported by virDomainListGetStats")
	}
	if len(doms) == 0 {
		var err error
		if doms, err = c.ListAllDomains(ctx, filter); err != nil {
			return nil, err
		}
	}
	out := make([]driver.DomainStatsRecord, 0, len(doms))
	for _, dom := range doms {
		m, err := c.d.machine(ctx, dom)
		if err != nil {
			if len(doms) > 0 && errdefs.ClassOf(err) == errdefs.ErrNoDomain {
				continue // vanished since it was listed
			}
			return nil, err
		}
		ps, err := c.d.domainStats(ctx, m, stats)
		if err != nil {
			return nil, err
		}
		out = append(out, driver.DomainStatsRecord{Dom: c.d.domainOf(m), Params: ps})
	}
	return out, nil
}

func (d *Driver) domainStats(ctx context.Context, m Machine, stats uint32) ([]driver.TypedParam, error) {
	var ps []driver.TypedParam
	add := func(f string, v any) { ps = append(ps, driver.TypedParam{Field: f, Value: v}) }
	st, reason := d.states.State(m)
	if stats&statsState != 0 {
		add("state.state", int32(st))
		add("state.reason", reason)
	}
	online := IsOnline(m.State)
	var s *vmSample
	if online && stats&(statsCPUTotal|statsVCPU|statsInterface|statsBlock|statsBalloon) != 0 {
		var err error
		if s, err = d.sample(ctx, m.UUID); err != nil {
			return nil, err
		}
	}
	total, perCPU := s.cpuTime()
	if stats&statsCPUTotal != 0 && online {
		add("cpu.time", total)
	}
	if stats&statsBalloon != 0 {
		kib := uint64(m.MemoryMB) * 1024
		add("balloon.maximum", kib)
		if !online {
			add("balloon.current", kib)
		} else {
			mem, err := d.memoryStats(ctx, m)
			if err != nil {
				return nil, err
			}
			names := map[int32]string{memStatActual: "balloon.current", memStatRSS: "balloon.rss",
				memStatAvailable: "balloon.available", memStatUnused: "balloon.unused", memStatDiskCaches: "balloon.disk_caches"}
			for _, x := range mem {
				add(names[x.Tag], x.Val)
			}
		}
	}
	if stats&statsVCPU != 0 {
		add("vcpu.current", uint32(m.CPUs))
		add("vcpu.maximum", uint32(m.CPUs))
		if online {
			for i, t := range perCPU {
				add(fmt.Sprintf("vcpu.%d.state", i), int32(1)) // VIR_VCPU_RUNNING
				add(fmt.Sprintf("vcpu.%d.time", i), t)
			}
		}
	}
	if online && stats&(statsInterface|statsBlock) != 0 {
		disks, nics, err := d.liveDevices(ctx, m)
		if err != nil {
			return nil, err
		}
		if stats&statsInterface != 0 {
			add("net.count", uint32(len(nics)))
			for i, n := range nics {
				p := fmt.Sprintf("/Public/NetAdapter/%d/", n.Slot-1)
				add(fmt.Sprintf("net.%d.name", i), n.Target)
				if s != nil {
					add(fmt.Sprintf("net.%d.rx.bytes", i), s.counters[p+"BytesReceived"])
					add(fmt.Sprintf("net.%d.tx.bytes", i), s.counters[p+"BytesTransmitted"])
				}
			}
		}
		if stats&statsBlock != 0 {
			add("block.count", uint32(len(disks)))
			for i, dk := range disks {
				add(fmt.Sprintf("block.%d.name", i), dk.Target)
				if dk.Source != "" {
					add(fmt.Sprintf("block.%d.path", i), dk.Source)
				}
				if s != nil {
					add(fmt.Sprintf("block.%d.rd.bytes", i), s.counters[dk.Stat+"BytesRead"])
					add(fmt.Sprintf("block.%d.wr.bytes", i), s.counters[dk.Stat+"BytesWritten"])
				}
			}
		}
	}
	return ps, nil
}

// guestInfoProps reads the properties the Guest Additions publish under
// /VirtualBox/GuestInfo/ (one `guestproperty enumerate`). Without them
// (no /VirtualBox/GuestInfo/OS/Product or Net/Count) the guest agent is
// "not responding", as libvirt says of a missing qemu agent.
func (d *Driver) guestInfoProps(ctx context.Context, m Machine) (map[string]string, error) {
	if !IsOnline(m.State) {
		return nil, errdefs.New(errdefs.ErrOperationInvalid, "domain is not running")
	}
	out, _, err := d.runPolicy(ctx, RetryTransient, "guestproperty", "enumerate", m.UUID, "--patterns", "/VirtualBox/GuestInfo/*")
	if err != nil {
		return nil, vboxError("cannot read the guest properties of "+m.Name, err)
	}
	p := parseGuestProperties(out)
	_, os := p["/VirtualBox/GuestInfo/OS/Product"]
	_, net := p["/VirtualBox/GuestInfo/Net/Count"]
	if !os && !net {
		return nil, errdefs.Newf(errdefs.ErrAgentUnresponsive, "the VirtualBox Guest Additions of domain '%s' publish no guest information", m.Name)
	}
	return p, nil
}

// The VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_* sources.
const (
	addrSrcLease = 0
	addrSrcAgent = 1
	addrSrcARP   = 2
)

// DomainInterfaceAddresses implements driver.Conn. Source agent reads the
// addresses the Guest Additions publish (/VirtualBox/GuestInfo/Net/N/...);
// source lease asks the DHCP servers of the networks the adapters are on
// (network_leases.go); arp is not available through VBoxManage.
func (c *conn) DomainInterfaceAddresses(ctx context.Context, dom driver.Domain, source uint32, flags uint32) ([]driver.InterfaceAddresses, error) {
	if flags != 0 {
		return nil, unsupportedFlags(flags, "virDomainInterfaceAddresses")
	}
	switch source {
	case addrSrcAgent, addrSrcLease:
	case addrSrcARP:
		return nil, errdefs.New(errdefs.ErrArgUnsupported, "source arp is not supported by the VirtualBox driver: VBoxManage shows no ARP tables; use --source lease (VirtualBox DHCP servers) or agent (Guest Additions)")
	default:
		return nil, errdefs.Newf(errdefs.ErrInvalidArg, "Unknown IP address data source %d", source)
	}
	m, err := c.d.machine(ctx, dom)
	if err != nil {
		return nil, err
	}
	if source == addrSrcLease {
		if !IsOnline(m.State) {
			return nil, errdefs.New(errdefs.ErrOperationInvalid, "domain is not running")
		}
		return c.d.domainLeases(ctx, m)
	}
	p, err := c.d.guestInfoProps(ctx, m)
	if err != nil {
		return nil, err
	}
	return guestInterfaces(p), nil
}

// guestInterfaces turns /VirtualBox/GuestInfo/Net/N/* into interfaces.
func guestInterfaces(p map[string]string) []driver.InterfaceAddresses {
	n, _ := strconv.Atoi(p["/VirtualBox/GuestInfo/Net/Count"])
	var out []driver.InterfaceAddresses
	for i := 0; i < n; i++ {
		k := fmt.Sprintf("/VirtualBox/GuestInfo/Net/%d/", i)
		name := p[k+"Name"]
		if name == "" {
			name = fmt.Sprintf("eth%d", i)
		}
		x := driver.InterfaceAddresses{Name: name, HWAddr: colonMAC(p[k+"MAC"])}
		if ip := p[k+"V4/IP"]; ip != "" {
			prefix := uint32(0)
			if mask := net.ParseIP(p[k+"V4/Netmask"]).To4(); mask != nil {
				ones, _ := net.IPMask(mask).Size()
				prefix = uint32(ones)
			}
			x.Addrs = append(x.Addrs, driver.IPAddress{Type: 0, Addr: ip, Prefix: prefix})
		}
		out = append(out, x)
	}
	return out
}

// colonMAC turns "080027AABBCC" into "08:00:27:aa:bb:cc".
func colonMAC(m string) string {
	if len(m) != 12 {
		return ""
	}
	var b strings.Builder
	for i := 0; i < 12; i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(strings.ToLower(m[i : i+2]))
	}
	return b.String()
}

// hostnameProp is where a guest publishes its host name. VBoxService does
// not publish one by itself (docs/stats.md): a guest-side
// `VBoxControl guestproperty set /VirtualBox/GuestInfo/OS/Hostname "$(hostname)"`
// does.
const hostnameProp = "/VirtualBox/GuestInfo/OS/Hostname"

// The VIR_DOMAIN_GUEST_INFO_* types.
const (
	guestInfoUsers      = 1 << 0
	guestInfoOS         = 1 << 1
	guestInfoHostname   = 1 << 3
	guestInfoInterfaces = 1 << 6
	guestInfoSupported  = guestInfoUsers | guestInfoOS | guestInfoHostname | guestInfoInterfaces
)

// DomainGetGuestInfo implements driver.Conn from the Guest Additions'
// properties: os (Product, Release, Version), users, hostname, interfaces.
func (c *conn) DomainGetGuestInfo(ctx context.Context, dom driver.Domain, types uint32, flags uint32) ([]driver.TypedParam, error) {
	if flags != 0 {
		return nil, unsupportedFlags(flags, "virDomainGetGuestInfo")
	}
	if types&^guestInfoSupported != 0 {
		return nil, errdefs.Newf(errdefs.ErrArgUnsupported, "guest information types 0x%x are not supported by the VirtualBox Guest Additions", types&^guestInfoSupported)
	}
	if types == 0 {
		types = guestInfoSupported
	}
	m, err := c.d.machine(ctx, dom)
	if err != nil {
		return nil, err
	}
	p, err := c.d.guestInfoProps(ctx, m)
	if err != nil {
		return nil, err
	}
	var ps []driver.TypedParam
	add := func(f string, v any) { ps = append(ps, driver.TypedParam{Field: f, Value: v}) }
	if types&guestInfoUsers != 0 {
		var users []string
		if l := p["/VirtualBox/GuestInfo/OS/LoggedInUsersList"]; l != "" {
			users = strings.Split(l, ",")
		}
		add("user.count", uint32(len(users)))
		for i, u := range users {
			add(fmt.Sprintf("user.%d.name", i), strings.TrimSpace(u))
		}
	}
	if types&guestInfoOS != 0 {
		for _, x := range []struct{ field, prop string }{{"os.name", "Product"}, {"os.kernel-release", "Release"}, {"os.kernel-version", "Version"}} {
			if v := p["/VirtualBox/GuestInfo/OS/"+x.prop]; v != "" {
				add(x.field, v)
			}
		}
	}
	if types&guestInfoHostname != 0 {
		if h := p[hostnameProp]; h != "" {
			add("hostname", h)
		}
	}
	if types&guestInfoInterfaces != 0 {
		ifs := guestInterfaces(p)
		add("if.count", uint32(len(ifs)))
		for i, x := range ifs {
			add(fmt.Sprintf("if.%d.name", i), x.Name)
			if x.HWAddr != "" {
				add(fmt.Sprintf("if.%d.hwaddr", i), x.HWAddr)
			}
			add(fmt.Sprintf("if.%d.addr.count", i), uint32(len(x.Addrs)))
			for j, a := range x.Addrs {
				add(fmt.Sprintf("if.%d.addr.%d.type", i, j), "ipv4")
				add(fmt.Sprintf("if.%d.addr.%d.addr", i, j), a.Addr)
				add(fmt.Sprintf("if.%d.addr.%d.prefix", i, j), a.Prefix)
			}
		}
	}
	return ps, nil
}

// The VIR_DOMAIN_GET_HOSTNAME_* sources.
const (
	hostnameLease = 1 << 0
	hostnameAgent = 1 << 1
)

// DomainGetHostname implements driver.Conn from the guest property
// hostnameProp (the agent source; lease is not available).
func (c *conn) DomainGetHostname(ctx context.Context, dom driver.Domain, flags uint32) (string, error) {
	if flags&^(hostnameLease|hostnameAgent) != 0 {
		return "", unsupportedFlags(flags, "virDomainGetHostname")
	}
	if flags == hostnameLease {
		return "", errdefs.New(errdefs.ErrArgUnsupported, "source lease is not supported by the VirtualBox driver")
	}
	m, err := c.d.machine(ctx, dom)
	if err != nil {
		return "", err
	}
	p, err := c.d.guestInfoProps(ctx, m)
	if err != nil {
		return "", err
	}
	h := p[hostnameProp]
	if h == "" {
		return "", errdefs.Newf(errdefs.ErrOperationFailed, "domain '%s' publishes no host name (guest property %s)", m.Name, hostnameProp)
	}
	return h, nil
}
