package rpctest

import (
	"context"
	"fmt"
	"github.com/virtvboxd/virtvboxd/internal/driver"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
	"github.com/virtvboxd/virtvboxd/internal/rpc"
)

// FakeDomain is one domain of a FakeDriver.
type FakeDomain struct {
	Name      string
	UUID      [16]byte
	ID        int32 // >0 while running; set by the driver
	State     driver.DomainState
	MemoryKiB uint64
	VCPUs     uint16
	Autostart bool
}

// FakeDriver is an in-memory driver.Driver holding a few domains. It accepts
// the vbox driver's URIs ("", vbox:///session, vbox:///system).
type FakeDriver struct {
	Hostname string
	Version  uint64
	// HostnameGate, when set before the server starts, makes every
	// Hostname call wait until it is closed; HostnameWaiting counts them.
	HostnameGate chan struct{}
	// XMLGate does the same for DomainGetXMLDesc, a low-priority call;
	// XMLWaiting counts them.
	XMLGate chan struct{}
	// Hook, when set before the first call, runs at the start of every
	// DomainGetInfo and DomainDestroy with the call's context and the
	// method's name, so a test can see and hold the contexts calls run under.
	Hook func(ctx context.Context, method string)
	// NoWaitReads, when set before the first call, makes the connections
	// honour driver.NoWait (driver.NoWaitReader); while Cold is set,
	// DomainGetInfo under NoWait then returns driver.ErrWouldBlock (after
	// Hook), as a driver whose cache misses does.
	NoWaitReads bool
	Cold        atomic.Bool

	changed signal // waiting, xmlWait, opened or closed changed

	mu      sync.Mutex
	doms    map[string]*FakeDomain
	nextID  int32
	opened  int
	closed  int
	waiting int
	xmlWait int
	lastReq driver.OpenRequest
}

// NewFakeDriver returns a driver with doms.
func NewFakeDriver(doms ...FakeDomain) *FakeDriver {
	d := &FakeDriver{Hostname: "fakehost.example", Version: 7000014, doms: map[string]*FakeDomain{}, nextID: 1}
	for _, dom := range doms {
		dom := dom
		if dom.State == driver.StateRunning {
			dom.ID = d.nextID
			d.nextID++
		} else {
			dom.ID = -1
			if dom.State == driver.StateNoState {
				dom.State = driver.StateShutoff
			}
		}
		d.doms[dom.Name] = &dom
	}
	return d
}

// Open implements driver.Driver.
func (d *FakeDriver) Open(ctx context.Context, req driver.OpenRequest) (driver.Conn, error) {
	uri := req.URI
	switch uri {
	case "", "vbox:///session":
		uri = "vbox:///session"
	case "vbox:///system":
	default:
		return nil, errdefs.Newf(errdefs.ErrInternal, "unexpected vbox URI path '%s', try vbox:///session", uri)
	}
	d.mu.Lock()
	d.opened++
	d.lastReq = req
	d.mu.Unlock()
	d.changed.notify()
	return &fakeConn{d: d, uri: uri}, nil
}

// Stats returns how many connections were opened and closed, and the last
// open request.
func (d *FakeDriver) Stats() (opened, closed int, last driver.OpenRequest) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.opened, d.closed, d.lastReq
}

type fakeConn struct {
	driver.Unsupported
	d   *FakeDriver
	uri string
}

func (c *fakeConn) Close() error {
	c.d.mu.Lock()
	c.d.closed++
	c.d.mu.Unlock()
	c.d.changed.notify()
	return nil
}

func (c *fakeConn) URI() string  { return c.uri }
func (c *fakeConn) Type() string { return "VBOX" }

// HonoursNoWait implements driver.NoWaitReader as NoWaitReads says.
func (c *fakeConn) HonoursNoWait() bool { return c.d.NoWaitReads }

func (c *fakeConn) Version(context.Context) (uint64, error) { return c.d.Version, nil }
func (c *fakeConn) Hostname(ctx context.Context) (string, error) {
	if c.d.HostnameGate != nil {
		c.d.mu.Lock()
		c.d.waiting++
		c.d.mu.Unlock()
		c.d.changed.notify()
		defer func() {
			c.d.mu.Lock()
			c.d.waiting--
			c.d.mu.Unlock()
			c.d.changed.notify()
		}()
		select {
		case <-c.d.HostnameGate:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	return c.d.Hostname, nil
}

// Await returns once cond, a predicate over the driver's counters
// (HostnameWaiting, XMLWaiting, Stats), holds: it is re-checked at each
// change of them. It gives up after timeout and returns false.
func (d *FakeDriver) Await(cond func() bool, timeout time.Duration) bool {
	return d.changed.await(cond, timeout)
}

// HostnameWaiting returns how many Hostname calls wait on HostnameGate.
func (d *FakeDriver) HostnameWaiting() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.waiting
}

// XMLWaiting returns how many DomainGetXMLDesc calls wait on XMLGate.
func (d *FakeDriver) XMLWaiting() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.xmlWait
}

func (c *fakeConn) NodeInfo(context.Context) (driver.NodeInfo, error) {
	return driver.NodeInfo{Model: "x86_64", MemoryKiB: 8 << 20, CPUs: 4, MHz: 2000, Nodes: 1, Sockets: 1,
		Cores: 4, Threads: 1}, nil
}

func (c *fakeConn) value(dom *FakeDomain) driver.Domain {
	return driver.Domain{Name: dom.Name, UUID: dom.UUID, ID: dom.ID}
}

func (c *fakeConn) ListAllDomains(_ context.Context, flags uint32) ([]driver.Domain, error) {
	const active, inactive = 1, 2
	if flags&^uint32(active|inactive) != 0 {
		return nil, errdefs.Newf(errdefs.ErrInvalidArg, "unsupported flags (0x%x) in function fakeConnectListAllDomains", flags)
	}
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	var out []driver.Domain
	for _, dom := range c.d.doms {
		running := dom.ID > 0
		if flags == 0 || (running && flags&active != 0) || (!running && flags&inactive != 0) {
			out = append(out, c.value(dom))
		}
	}
	// Running domains by id, then the others by name, like virsh shows them.
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.ID > 0) != (b.ID > 0) {
			return a.ID > 0
		}
		if a.ID > 0 {
			return a.ID < b.ID
		}
		return a.Name < b.Name
	})
	return out, nil
}

func (c *fakeConn) find(d driver.Domain) (*FakeDomain, error) {
	if dom, ok := c.d.doms[d.Name]; ok {
		return dom, nil
	}
	return nil, errdefs.Newf(errdefs.ErrNoDomain, "no domain with matching name '%s'", d.Name)
}

func (c *fakeConn) LookupByName(_ context.Context, name string) (driver.Domain, error) {
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	dom, err := c.find(driver.Domain{Name: name})
	if err != nil {
		return driver.Domain{}, err
	}
	return c.value(dom), nil
}

func (c *fakeConn) LookupByID(_ context.Context, id int32) (driver.Domain, error) {
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	for _, dom := range c.d.doms {
		if dom.ID == id && id > 0 {
			return c.value(dom), nil
		}
	}
	return driver.Domain{}, errdefs.Newf(errdefs.ErrNoDomain, "no domain with matching id %d", id)
}

func (c *fakeConn) LookupByUUID(_ context.Context, uuid [16]byte) (driver.Domain, error) {
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	for _, dom := range c.d.doms {
		if dom.UUID == uuid {
			return c.value(dom), nil
		}
	}
	return driver.Domain{}, errdefs.Newf(errdefs.ErrNoDomain, "no domain with matching uuid '%x'", uuid)
}

func (c *fakeConn) DomainGetState(_ context.Context, d driver.Domain, _ uint32) (driver.DomainState, int32, error) {
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	dom, err := c.find(d)
	if err != nil {
		return 0, 0, err
	}
	return dom.State, 1, nil
}

func (c *fakeConn) DomainGetInfo(ctx context.Context, d driver.Domain) (driver.DomainInfo, error) {
	if c.d.Hook != nil {
		c.d.Hook(ctx, "DomainGetInfo")
	}
	if driver.MustNotWait(ctx) && c.d.Cold.Load() {
		return driver.DomainInfo{}, driver.ErrWouldBlock
	}
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	dom, err := c.find(d)
	if err != nil {
		return driver.DomainInfo{}, err
	}
	return driver.DomainInfo{State: dom.State, MaxMemKiB: dom.MemoryKiB, MemoryKiB: dom.MemoryKiB,
		NrVirtCPU: dom.VCPUs}, nil
}

func (c *fakeConn) DomainGetXMLDesc(ctx context.Context, d driver.Domain, _ uint32) (string, error) {
	if c.d.XMLGate != nil {
		c.d.mu.Lock()
		c.d.xmlWait++
		c.d.mu.Unlock()
		c.d.changed.notify()
		defer func() {
			c.d.mu.Lock()
			c.d.xmlWait--
			c.d.mu.Unlock()
			c.d.changed.notify()
		}()
		select {
		case <-c.d.XMLGate:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	dom, err := c.find(d)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("<domain type='vbox'>\n  <name>%s</name>\n  <memory unit='KiB'>%d</memory>\n"+
		"  <vcpu>%d</vcpu>\n</domain>\n", dom.Name, dom.MemoryKiB, dom.VCPUs), nil
}

func (c *fakeConn) DomainGetOSType(context.Context, driver.Domain) (string, error) { return "hvm", nil }

func (c *fakeConn) DomainIsActive(_ context.Context, d driver.Domain) (bool, error) {
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	dom, err := c.find(d)
	if err != nil {
		return false, err
	}
	return dom.ID > 0, nil
}

func (c *fakeConn) DomainIsPersistent(context.Context, driver.Domain) (bool, error) { return true, nil }

func (c *fakeConn) DomainGetAutostart(_ context.Context, d driver.Domain) (bool, error) {
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	dom, err := c.find(d)
	if err != nil {
		return false, err
	}
	return dom.Autostart, nil
}

func (c *fakeConn) DomainCreate(_ context.Context, d driver.Domain, _ uint32) (driver.Domain, error) {
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	dom, err := c.find(d)
	if err != nil {
		return driver.Domain{}, err
	}
	if dom.ID > 0 {
		return driver.Domain{}, errdefs.New(errdefs.ErrOperationInvalid, "domain is already running")
	}
	dom.ID, dom.State = c.d.nextID, driver.StateRunning
	c.d.nextID++
	return c.value(dom), nil
}

func (c *fakeConn) DomainDestroy(ctx context.Context, d driver.Domain, _ uint32) error {
	if c.d.Hook != nil {
		c.d.Hook(ctx, "DomainDestroy")
	}
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	dom, err := c.find(d)
	if err != nil {
		return err
	}
	if dom.ID <= 0 {
		return errdefs.New(errdefs.ErrOperationInvalid, "domain is not running")
	}
	dom.ID, dom.State = -1, driver.StateShutoff
	return nil
}

// FakeBackend is an in-memory rpc.AdminBackend.
type FakeBackend struct {
	mu      sync.Mutex
	servers map[string]*rpc.Server
	outputs string
	filters string
	timeout uint32
}

// Servers implements rpc.AdminBackend.
func (b *FakeBackend) Servers() map[string]*rpc.Server {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.servers
}

// LoggingOutputs implements rpc.AdminBackend.
func (b *FakeBackend) LoggingOutputs() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.outputs
}

// LoggingFilters implements rpc.AdminBackend.
func (b *FakeBackend) LoggingFilters() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.filters
}

// SetLoggingOutputs implements rpc.AdminBackend; "" restores "3:stderr".
func (b *FakeBackend) SetLoggingOutputs(o string) error {
	for _, f := range strings.Fields(o) {
		if !strings.Contains(f, ":") {
			return errdefs.Newf(errdefs.ErrConfigUnsupported, "Failed to parse and define log output %s", f)
		}
	}
	if o == "" {
		o = "3:stderr"
	}
	b.mu.Lock()
	b.outputs = strings.TrimSpace(o)
	b.mu.Unlock()
	return nil
}

// SetLoggingFilters implements rpc.AdminBackend, storing filters as libvirt
// reports them ("1:*rpc* " style).
func (b *FakeBackend) SetLoggingFilters(f string) error {
	var out strings.Builder
	for _, e := range strings.Fields(f) {
		lvl, match, ok := strings.Cut(e, ":")
		if !ok {
			return errdefs.Newf(errdefs.ErrConfigUnsupported, "Failed to parse and define log filter %s", e)
		}
		fmt.Fprintf(&out, "%s:*%s* ", lvl, strings.TrimPrefix(match, "+"))
	}
	b.mu.Lock()
	b.filters = out.String()
	b.mu.Unlock()
	return nil
}

// SetDaemonTimeout implements rpc.AdminBackend.
func (b *FakeBackend) SetDaemonTimeout(s uint32) error {
	b.mu.Lock()
	b.timeout = s
	b.mu.Unlock()
	return nil
}

// DaemonTimeout returns the last timeout set.
func (b *FakeBackend) DaemonTimeout() uint32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.timeout
}
