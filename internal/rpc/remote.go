package rpc

import (
	"context"
	"errors"
	"fmt"
	"github.com/virtvboxd/virtvboxd/internal/driver"
	"sync"

	libvirt "github.com/digitalocean/go-libvirt"
	"github.com/sirupsen/logrus"

	"github.com/virtvboxd/virtvboxd/internal/buildinfo"
)

// remoteProgram is the REMOTE program (remote_protocol.x) over a driver.Driver.
type remoteProgram struct {
	drv driver.Driver
	log *logrus.Entry
}

// NewRemoteProgram returns the REMOTE program serving d. Register it on the
// main server, whose listeners are the rw and ro sockets.
func NewRemoteProgram(d driver.Driver, log *logrus.Entry) Program {
	if log == nil {
		log = logrus.NewEntry(logrus.StandardLogger())
	}
	return &remoteProgram{drv: d, log: log}
}

func (p *remoteProgram) Number() uint32 { return RemoteProgram }

// remoteClient is the REMOTE program's per-client state.
type remoteClient struct {
	mu       sync.Mutex
	conn     driver.Conn // nil until CONNECT_OPEN
	readOnly bool
}

func (rc *remoteClient) get() (driver.Conn, bool) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.conn, rc.readOnly
}

func (p *remoteProgram) state(c *Client) *remoteClient {
	return c.data(RemoteProgram, func() any { return &remoteClient{} }).(*remoteClient)
}

func (p *remoteProgram) clientClosed(c *Client) {
	rc := p.state(c)
	rc.mu.Lock()
	conn := rc.conn
	rc.conn = nil
	rc.mu.Unlock()
	if conn != nil {
		if err := conn.Close(); err != nil {
			c.log.WithError(err).Warn("closing the hypervisor connection")
		}
	}
}

// highPriority: libvirt's @priority: high procedures (remoteFacts) may use
// the priority workers, so that they keep flowing while every normal worker
// waits on VBoxManage.
// inline: the connection calls that only read the client's own state or
// constants (the RPC layer answers them without the driver doing I/O).
func (p *remoteProgram) inline(proc int32) bool {
	switch proc {
	case procConnectGetLibVersion, procConnectGetType, procConnectGetURI, procConnectIsSecure,
		procConnectSupportsFeature, procAuthList, procConnectRegisterCloseCallback,
		procConnectUnregisterCloseCallback, procNodeGetSecurityModel, procDomainGetSecurityLabel:
		return true
	}
	return false
}

func (p *remoteProgram) procName(proc int32) string {
	if proc <= 0 || int(proc) > remoteProcMax {
		return fmt.Sprintf("%d", proc)
	}
	return remoteFacts[proc].name
}

// finishesAnyway: the procedures libvirt refuses to read-only clients
// whatever their arguments (roDenied: every state change, e.g.
// DOMAIN_CREATE, DOMAIN_DESTROY, DOMAIN_DEFINE_XML, DOMAIN_SET_MEMORY) run to
// their end when the client goes away; the reads are cancelled, as nobody
// waits for their answer.
func (p *remoteProgram) finishesAnyway(proc int32) bool {
	return proc > 0 && int(proc) <= remoteProcMax && remoteFacts[proc].readOnly == roDenied
}

func (p *remoteProgram) highPriority(proc int32) bool {
	return proc > 0 && int(proc) <= remoteProcMax && remoteFacts[proc].high
}

// remoteHandler serves one procedure on an open connection.
type remoteHandler func(ctx context.Context, cn driver.Conn, cl *call, out *packet) error

// preOpen are the procedures that run before CONNECT_OPEN.
func preOpen(proc int32) bool {
	switch proc {
	case procAuthList, procAuthSaslInit, procAuthSaslStart, procAuthSaslStep, procAuthPolkit,
		procConnectOpen, procConnectClose, procConnectSupportsFeature:
		return true
	}
	return false
}

func preAuth(proc int32) bool {
	switch proc {
	case procAuthList, procAuthSaslInit, procAuthSaslStart, procAuthSaslStep, procAuthPolkit:
		return true
	}
	return false
}

// errNotOpen is libvirt's answer to a hypervisor call before CONNECT_OPEN.
var errNotOpen = newError(errInternalError, fromRPC, "hypervisor connection not open")

func (p *remoteProgram) dispatch(ctx context.Context, cl *call, out *packet) error {
	proc := cl.hdr.Procedure
	if proc <= 0 || int(proc) > remoteProcMax {
		return rpcError(fmt.Sprintf("unknown procedure: %d", proc))
	}
	c := cl.client
	if !c.authenticated.Load() && !preAuth(proc) {
		return rpcError("authentication required")
	}
	rc := p.state(c)
	if preOpen(proc) {
		return p.dispatchPreOpen(ctx, rc, cl, out)
	}
	cn, ro := rc.get()
	if cn == nil {
		return errNotOpen
	}
	if ro {
		if err := checkReadOnly(proc, cl.payload); err != nil {
			return err
		}
	}
	h := remoteHandlers[proc]
	if h == nil {
		api := remoteProcAPI[proc]
		return newError(errNoSupport, objectDomain(api), api)
	}
	if err := h(ctx, cn, cl, out); err != nil {
		if errors.Is(err, driver.ErrWouldBlock) && driver.MustNotWait(ctx) {
			return err // the connection loop hands the call to a worker
		}
		return driverError(proc, err)
	}
	return nil
}

// driverError maps a driver's error: libvirt's public API layer reports
// "not supported" in the API's object domain, the vbox driver everything else
// in the VBOX domain. Errors of the RPC layer itself pass through.
func driverError(proc int32, err error) error {
	if we, ok := err.(*wireError); ok {
		return we
	}
	we := toWire(err, fromVBox)
	if we.Code == errNoSupport {
		// Named after the API the client called (virDomainDefineXML, not
		// the driver's virDomainDefineXMLFlags), as virReportUnsupportedError does.
		api := remoteProcAPI[proc]
		we = &wireError{Code: errNoSupport, Domain: objectDomain(api), Detail: api}
	}
	return we
}

func (p *remoteProgram) dispatchPreOpen(ctx context.Context, rc *remoteClient, cl *call, out *packet) error {
	c := cl.client
	switch cl.hdr.Procedure {
	case procAuthList:
		t := libvirt.AuthType(AuthNone)
		if !c.authenticated.Load() {
			t = libvirt.AuthType(c.svc.Auth)
		}
		return out.encode(libvirt.AuthListRet{Types: []libvirt.AuthType{t}})

	case procConnectSupportsFeature:
		var a libvirt.ConnectSupportsFeatureArgs
		if err := decodeArgs(cl.payload, &a); err != nil {
			return err
		}
		if a.Feature == drvFeatureProgramKeepalive {
			c.startKeepalive()
			return out.encode(libvirt.ConnectSupportsFeatureRet{Supported: 1})
		}
		if cn, _ := rc.get(); cn == nil {
			return errNotOpen
		}
		var ok int32
		switch a.Feature {
		case drvFeatureFDPassing, drvFeatureRemoteEventCallback, drvFeatureRemoteCloseCallback:
			ok = 1
		}
		return out.encode(libvirt.ConnectSupportsFeatureRet{Supported: ok})

	case procConnectOpen:
		a, err := decodeConnectOpenArgs(cl.payload)
		if err != nil {
			return err
		}
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if rc.conn != nil {
			// libvirt 9.0 also drops the open connection on this path; we
			// keep it, which no client can tell from the reply.
			return newError(errInternalError, fromRPC, "connection already open")
		}
		req := driver.OpenRequest{ReadOnly: c.svc.ReadOnly || a.Flags&connectRO != 0}
		if len(a.Name) > 0 {
			req.URI = a.Name[0]
		}
		if cred, ok := c.Cred(); ok {
			req.UID, req.PID = cred.UID, cred.PID
		}
		cn, err := p.drv.Open(ctx, req)
		if err != nil {
			c.log.WithError(err).WithField("uri", req.URI).Info("CONNECT_OPEN failed")
			return toWire(err, fromVBox)
		}
		rc.conn, rc.readOnly = cn, req.ReadOnly
		c.log.WithFields(logrus.Fields{"uri": req.URI, "readonly": req.ReadOnly}).Debug("connection opened")
		return nil

	case procConnectClose:
		cl.closeAfter = true
		return nil

	default: // SASL and polkit
		return newError(errAuthFailed, fromAuth, "authentication is not supported by virtvboxd")
	}
}

// void is for handlers that answer nothing.
func void(ctx context.Context, cn driver.Conn, cl *call, out *packet) error { return nil }

// toDomain and fromDomainValue convert remote_nonnull_domain.
func toDomain(d libvirt.Domain) driver.Domain {
	return driver.Domain{Name: d.Name, UUID: d.UUID, ID: d.ID}
}

func fromDomainValue(d driver.Domain) libvirt.Domain {
	return libvirt.Domain{Name: d.Name, UUID: libvirt.UUID(d.UUID), ID: d.ID}
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// withArgs returns a handler that decodes A and calls f.
func withArgs[A any](f func(ctx context.Context, cn driver.Conn, a *A, out *packet) error) remoteHandler {
	return func(ctx context.Context, cn driver.Conn, cl *call, out *packet) error {
		var a A
		if err := decodeArgs(cl.payload, &a); err != nil {
			return err
		}
		return f(ctx, cn, &a, out)
	}
}

func listDomains(ctx context.Context, cn driver.Conn, flags uint32) ([]driver.Domain, error) {
	doms, err := cn.ListAllDomains(ctx, flags)
	if err != nil {
		return nil, err
	}
	if len(doms) > domainListMax {
		return nil, newError(errRPC, fromRPC, fmt.Sprintf("Too many domains '%d' for limit '%d'",
			len(doms), domainListMax))
	}
	return doms, nil
}

// remoteHandlers is the REMOTE program's dispatch table: the handler of each
// procedure that needs an open connection, named after it
// (REMOTE_PROC_DOMAIN_GET_INFO is domainGetInfo). A procedure without one
// answers "not supported". Each area of the API declares its handlers in its
// own file (remote_<area>.go) as a handlerSet; the table joins them.
var remoteHandlers = joinHandlers(
	coreHandlers,
	nodeHandlers,
	snapshotHandlers,
	deviceHandlers,
	consoleHandlers,
	networkHandlers,
	storageHandlers,
	eventHandlers,
	statsHandlers,
)

// handlerSet is one area's handlers, keyed by procedure number.
type handlerSet map[int32]remoteHandler

// joinHandlers builds the dispatch table from the areas' sets. A procedure
// claimed by two areas is a programming error caught by every test run.
func joinHandlers(sets ...handlerSet) *[remoteProcMax + 1]remoteHandler {
	var t [remoteProcMax + 1]remoteHandler
	for _, set := range sets {
		for proc, h := range set {
			if proc <= 0 || int(proc) > remoteProcMax || t[proc] != nil {
				panic(fmt.Sprintf("rpc: procedure %d has no slot or two handlers", proc))
			}
			t[proc] = h
		}
	}
	return &t
}

// coreHandlers are the connection, host and domain procedures of the first
// release: listing, lookup, query, definition, lifecycle and configuration.
var coreHandlers = handlerSet{
	// Connection and host.
	procConnectGetType:                 connectGetType,
	procConnectGetVersion:              connectGetVersion,
	procConnectGetLibVersion:           connectGetLibVersion,
	procConnectGetHostname:             connectGetHostname,
	procConnectGetURI:                  connectGetURI,
	procConnectIsSecure:                connectIsSecure,
	procConnectRegisterCloseCallback:   void,
	procConnectUnregisterCloseCallback: void,
	procConnectGetCapabilities:         connectGetCapabilities,
	procConnectGetSysinfo:              withArgs(connectGetSysinfo),
	procConnectGetMaxVcpus:             withArgs(connectGetMaxVcpus),
	procNodeGetInfo:                    nodeGetInfo,
	procNodeGetFreeMemory:              nodeGetFreeMemory,
	procNodeGetMemoryStats:             withArgs(nodeGetMemoryStats),
	procNodeGetSecurityModel:           nodeGetSecurityModel,

	// Listing and lookup.
	procConnectListAllDomains:      withArgs(connectListAllDomains),
	procConnectNumOfDomains:        connectNumOfDomains,
	procConnectListDomains:         withArgs(connectListDomains),
	procConnectNumOfDefinedDomains: connectNumOfDefinedDomains,
	procConnectListDefinedDomains:  withArgs(connectListDefinedDomains),
	procDomainLookupByID:           withArgs(domainLookupByID),
	procDomainLookupByName:         withArgs(domainLookupByName),
	procDomainLookupByUUID:         withArgs(domainLookupByUUID),

	// Query.
	procDomainGetInfo:             withArgs(domainGetInfo),
	procDomainGetState:            withArgs(domainGetState),
	procDomainGetXMLDesc:          withArgs(domainGetXMLDesc),
	procDomainGetOSType:           withArgs(domainGetOSType),
	procDomainIsActive:            withArgs(domainIsActive),
	procDomainIsPersistent:        withArgs(domainIsPersistent),
	procDomainIsUpdated:           withArgs(domainIsUpdated),
	procDomainGetAutostart:        withArgs(domainGetAutostart),
	procDomainHasManagedSaveImage: withArgs(domainHasManagedSaveImage),
	procDomainGetMaxVcpus:         withArgs(domainGetMaxVcpus),
	procDomainGetVcpusFlags:       withArgs(domainGetVcpusFlags),
	procDomainGetMaxMemory:        withArgs(domainGetMaxMemory),
	procDomainGetSecurityLabel:    withArgs(domainGetSecurityLabel),

	// Definition.
	procDomainDefineXML:      withArgs(domainDefineXML),
	procDomainDefineXMLFlags: withArgs(domainDefineXMLFlags),
	procDomainUndefine:       withArgs(domainUndefine),
	procDomainUndefineFlags:  withArgs(domainUndefineFlags),

	// Lifecycle.
	procDomainCreateXML:         withArgs(domainCreateXML),
	procDomainCreate:            withArgs(domainCreate),
	procDomainCreateWithFlags:   withArgs(domainCreateWithFlags),
	procDomainShutdown:          withArgs(domainShutdown),
	procDomainShutdownFlags:     withArgs(domainShutdownFlags),
	procDomainReboot:            withArgs(domainReboot),
	procDomainReset:             withArgs(domainReset),
	procDomainDestroy:           withArgs(domainDestroy),
	procDomainDestroyFlags:      withArgs(domainDestroyFlags),
	procDomainSuspend:           withArgs(domainSuspend),
	procDomainResume:            withArgs(domainResume),
	procDomainSave:              withArgs(domainSave),
	procDomainSaveFlags:         withArgs(domainSaveFlags),
	procDomainManagedSave:       withArgs(domainManagedSave),
	procDomainManagedSaveRemove: withArgs(domainManagedSaveRemove),

	// Configuration.
	procDomainSetMemory:      withArgs(domainSetMemory),
	procDomainSetMaxMemory:   withArgs(domainSetMaxMemory),
	procDomainSetMemoryFlags: withArgs(domainSetMemoryFlags),
	procDomainSetVcpus:       withArgs(domainSetVcpus),
	procDomainSetVcpusFlags:  withArgs(domainSetVcpusFlags),
	procDomainSetAutostart:   withArgs(domainSetAutostart),
}

func connectGetType(ctx context.Context, cn driver.Conn, cl *call, out *packet) error {
	out.putString(cn.Type())
	return nil
}

func connectGetVersion(ctx context.Context, cn driver.Conn, cl *call, out *packet) error {
	v, err := cn.Version(ctx)
	if err != nil {
		return err
	}
	out.putU64(v)
	return nil
}

func connectGetLibVersion(ctx context.Context, cn driver.Conn, cl *call, out *packet) error {
	out.putU64(buildinfo.LibVersion)
	return nil
}

func connectGetHostname(ctx context.Context, cn driver.Conn, cl *call, out *packet) error {
	name, err := cn.Hostname(ctx)
	if err != nil {
		return err
	}
	out.putString(name)
	return nil
}

func connectGetURI(ctx context.Context, cn driver.Conn, cl *call, out *packet) error {
	out.putString(cn.URI())
	return nil
}

func connectIsSecure(ctx context.Context, cn driver.Conn, cl *call, out *packet) error {
	out.putU32(1) // UNIX sockets are secure
	return nil
}

func connectGetCapabilities(ctx context.Context, cn driver.Conn, cl *call, out *packet) error {
	caps, err := cn.Capabilities(ctx)
	if err != nil {
		return err
	}
	return out.encode(libvirt.ConnectGetCapabilitiesRet{Capabilities: caps})
}

func connectGetSysinfo(ctx context.Context, cn driver.Conn, a *libvirt.ConnectGetSysinfoArgs, out *packet) error {
	s, err := cn.Sysinfo(ctx, a.Flags)
	if err != nil {
		return err
	}
	return out.encode(libvirt.ConnectGetSysinfoRet{Sysinfo: s})
}

func connectGetMaxVcpus(ctx context.Context, cn driver.Conn, a *libvirt.ConnectGetMaxVcpusArgs, out *packet) error {
	var typ string
	if len(a.Type) > 0 {
		typ = a.Type[0]
	}
	n, err := cn.MaxVcpus(ctx, typ)
	if err != nil {
		return err
	}
	return out.encode(libvirt.ConnectGetMaxVcpusRet{MaxVcpus: n})
}

func nodeGetInfo(ctx context.Context, cn driver.Conn, cl *call, out *packet) error {
	ni, err := cn.NodeInfo(ctx)
	if err != nil {
		return err
	}
	r := libvirt.NodeGetInfoRet{Memory: ni.MemoryKiB, Cpus: ni.CPUs, Mhz: ni.MHz, Nodes: ni.Nodes,
		Sockets: ni.Sockets, Cores: ni.Cores, Threads: ni.Threads}
	for i := 0; i < len(ni.Model) && i < len(r.Model)-1; i++ {
		r.Model[i] = int8(ni.Model[i])
	}
	return out.encode(r)
}

func nodeGetFreeMemory(ctx context.Context, cn driver.Conn, cl *call, out *packet) error {
	m, err := cn.NodeFreeMemory(ctx)
	if err != nil {
		return err
	}
	return out.encode(libvirt.NodeGetFreeMemoryRet{FreeMem: m})
}

func nodeGetMemoryStats(ctx context.Context, cn driver.Conn, a *libvirt.NodeGetMemoryStatsArgs, out *packet) error {
	if err := argNodeMemoryStats(a.Nparams, a.CellNum); err != nil {
		return err
	}
	stats, err := cn.NodeMemoryStats(ctx, a.CellNum, a.Flags)
	if err != nil {
		return err
	}
	// As virNodeGetMemoryStats: nparams 0 asks for the count.
	r := libvirt.NodeGetMemoryStatsRet{Nparams: int32(len(stats))}
	if a.Nparams != 0 {
		if int(a.Nparams) < len(stats) {
			stats = stats[:a.Nparams]
		}
		for _, s := range stats {
			r.Params = append(r.Params, libvirt.NodeGetMemoryStats{Field: s.Field, Value: s.Value})
		}
	}
	return out.encode(r)
}

func nodeGetSecurityModel(ctx context.Context, cn driver.Conn, cl *call, out *packet) error {
	// No security driver: an empty model and DOI, as libvirt's "none".
	return out.encode(libvirt.NodeGetSecurityModelRet{})
}

func connectListAllDomains(ctx context.Context, cn driver.Conn, a *libvirt.ConnectListAllDomainsArgs, out *packet) error {
	doms, err := listDomains(ctx, cn, uint32(a.Flags))
	if err != nil {
		return err
	}
	out.putDomainList(doms, a.NeedResults != 0)
	if len(out.b) > MessageMax {
		return rpcError("Unable to encode message payload")
	}
	return nil
}

func connectNumOfDomains(ctx context.Context, cn driver.Conn, cl *call, out *packet) error {
	doms, err := listDomains(ctx, cn, connectListDomainsActive)
	if err != nil {
		return err
	}
	return out.encode(libvirt.ConnectNumOfDomainsRet{Num: int32(len(doms))})
}

func connectListDomains(ctx context.Context, cn driver.Conn, a *libvirt.ConnectListDomainsArgs, out *packet) error {
	if err := argListMax("virConnectListDomains", "maxids", a.Maxids); err != nil {
		return err
	}
	doms, err := listDomains(ctx, cn, connectListDomainsActive)
	if err != nil {
		return err
	}
	r := libvirt.ConnectListDomainsRet{Ids: []int32{}}
	for _, d := range doms {
		if len(r.Ids) == int(a.Maxids) {
			break
		}
		r.Ids = append(r.Ids, d.ID)
	}
	return out.encode(r)
}

func connectNumOfDefinedDomains(ctx context.Context, cn driver.Conn, cl *call, out *packet) error {
	doms, err := listDomains(ctx, cn, connectListDomainsInactive)
	if err != nil {
		return err
	}
	return out.encode(libvirt.ConnectNumOfDefinedDomainsRet{Num: int32(len(doms))})
}

func connectListDefinedDomains(ctx context.Context, cn driver.Conn, a *libvirt.ConnectListDefinedDomainsArgs, out *packet) error {
	if err := argListMax("virConnectListDefinedDomains", "maxnames", a.Maxnames); err != nil {
		return err
	}
	doms, err := listDomains(ctx, cn, connectListDomainsInactive)
	if err != nil {
		return err
	}
	r := libvirt.ConnectListDefinedDomainsRet{Names: []string{}}
	for _, d := range doms {
		if len(r.Names) == int(a.Maxnames) {
			break
		}
		r.Names = append(r.Names, d.Name)
	}
	return out.encode(r)
}

func domainLookupByID(ctx context.Context, cn driver.Conn, a *libvirt.DomainLookupByIDArgs, out *packet) error {
	if err := argNonNegative("virDomainLookupByID", "id", a.ID); err != nil {
		return err
	}
	d, err := cn.LookupByID(ctx, a.ID)
	if err != nil {
		return err
	}
	return out.encode(libvirt.DomainLookupByIDRet{Dom: fromDomainValue(d)})
}

func domainLookupByName(ctx context.Context, cn driver.Conn, a *libvirt.DomainLookupByNameArgs, out *packet) error {
	d, err := cn.LookupByName(ctx, a.Name)
	if err != nil {
		return err
	}
	return out.encode(libvirt.DomainLookupByNameRet{Dom: fromDomainValue(d)})
}

func domainLookupByUUID(ctx context.Context, cn driver.Conn, a *libvirt.DomainLookupByUUIDArgs, out *packet) error {
	d, err := cn.LookupByUUID(ctx, a.UUID)
	if err != nil {
		return err
	}
	return out.encode(libvirt.DomainLookupByUUIDRet{Dom: fromDomainValue(d)})
}

// decodeConnectOpenArgs decodes remote_connect_open_args by hand: like
// glibc's xdr_bool behind rpcgen's optional pointers, any non-zero
// discriminant means "present". go-libvirt relies on it (it sends 0x01000000).
func decodeConnectOpenArgs(payload []byte) (libvirt.ConnectOpenArgs, error) {
	r := &xdrReader{b: payload}
	var a libvirt.ConnectOpenArgs
	if r.u32() != 0 {
		a.Name = libvirt.OptString{r.str()}
	}
	a.Flags = libvirt.ConnectFlags(r.u32())
	return a, r.err
}
