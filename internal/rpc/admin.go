package rpc

import (
	"context"
	"fmt"
	"os/user"
	"sort"
	"strconv"
	"strings"

	"github.com/virtvboxd/virtvboxd/internal/buildinfo"
)

// AdminBackend is what the ADMIN program needs from the daemon. The daemon
// (internal/daemon) implements it. Methods may be called concurrently.
type AdminBackend interface {
	// Servers returns the daemon's servers by name ("virtvboxd", "admin").
	Servers() map[string]*Server
	// LoggingOutputs returns the log outputs in libvirt's syntax, e.g.
	// "3:stderr" or "1:file:/var/log/x.log 3:journald".
	LoggingOutputs() string
	// LoggingFilters returns the log filters in libvirt's syntax ("" for none).
	LoggingFilters() string
	// SetLoggingOutputs replaces the outputs; "" restores the default. Errors
	// should carry errdefs classes (ErrConfigUnsupported, ErrInvalidArg).
	SetLoggingOutputs(outputs string) error
	// SetLoggingFilters replaces the filters; "" removes them all.
	SetLoggingFilters(filters string) error
	// SetDaemonTimeout sets the idle auto-shutdown timeout; 0 disables it.
	SetDaemonTimeout(seconds uint32) error
}

// adminProgram is the ADMIN program (admin_protocol.x).
type adminProgram struct {
	b AdminBackend
}

// NewAdminProgram returns the ADMIN program over b. Register it on the admin
// server only: a server carrying it accepts nobody but the daemon's own uid.
func NewAdminProgram(b AdminBackend) Program { return &adminProgram{b: b} }

func (p *adminProgram) Number() uint32 { return AdminProgram }
func (p *adminProgram) highPriority(proc int32) bool {
	return proc > 0 && int(proc) <= adminProcMax && adminProcHigh[proc]
}
func (p *adminProgram) inline(proc int32) bool { return false }
func (p *adminProgram) clientClosed(c *Client) {}

// finishesAnyway: the admin procedures do not wait on anything a client's
// departure should cancel; all finish.
func (p *adminProgram) finishesAnyway(proc int32) bool { return true }

func (p *adminProgram) procName(proc int32) string {
	if proc <= 0 || int(proc) > adminProcMax {
		return fmt.Sprintf("%d", proc)
	}
	return adminProcName[proc]
}

// flagsError is virCheckFlags' complaint about flags we do not know.
func flagsError(flags uint32, api string) error {
	return newError(errInvalidArg, fromAdmin, fmt.Sprintf("unsupported flags (0x%x) in function %s", flags, api))
}

// noFlags is virCheckFlags(0): no admin procedure defines a flag, so any is
// refused, naming the server-side function as libvirt does.
func noFlags(flags uint32, api string) error {
	if flags != 0 {
		return flagsError(flags, api)
	}
	return nil
}

func (p *adminProgram) server(name string) (*Server, error) {
	if s := p.b.Servers()[name]; s != nil {
		return s, nil
	}
	return nil, newError(errNoServer, fromRPC, fmt.Sprintf("No server named '%s'", name))
}

// client returns the server named srv and its client numbered id.
func (p *adminProgram) client(srv string, id uint64) (*Server, *Client, error) {
	s, err := p.server(srv)
	if err != nil {
		return nil, nil, err
	}
	if c := s.Client(id); c != nil {
		return s, c, nil
	}
	return nil, nil, newError(errNoClient, fromRPC, fmt.Sprintf("No client with matching ID '%d'", id))
}

// serverArg decodes the {srv, flags} arguments of api and returns the server
// they name (looked up first, then the flags checked, in libvirt's order).
func (p *adminProgram) serverArg(payload []byte, api string) (*Server, error) {
	var a adminServerArgs
	if err := decodeArgs(payload, &a); err != nil {
		return nil, err
	}
	s, err := p.server(a.Srv.Name)
	if err != nil {
		return nil, err
	}
	return s, noFlags(a.Flags, api)
}

// clientArg decodes the {clnt, flags} arguments of api and returns the
// client they name.
func (p *adminProgram) clientArg(payload []byte, api string) (*Client, error) {
	var a adminClientArgs
	if err := decodeArgs(payload, &a); err != nil {
		return nil, err
	}
	_, c, err := p.client(a.Clnt.Srv.Name, a.Clnt.ID)
	if err != nil {
		return nil, err
	}
	return c, noFlags(a.Flags, api)
}

// setParamsArgs decodes the {srv, params<max>, flags} arguments of a
// server_set_* procedure and returns the server they name and the values of
// the params, which must be UINTs among allowed.
func (p *adminProgram) setParamsArgs(payload []byte, api string, max int, allowed ...string) (*Server, map[string]uint, error) {
	a, err := decodeSetParamsArgs(payload, max)
	if err != nil {
		return nil, nil, err
	}
	s, err := p.server(a.Srv.Name)
	if err != nil {
		return nil, nil, err
	}
	if err := noFlags(a.Flags, api); err != nil {
		return nil, nil, err
	}
	v, err := uintParams(a.Params, allowed...)
	if err != nil {
		return nil, nil, err
	}
	return s, v, nil
}

func adminClientOf(s *Server, c *Client) adminClient {
	return adminClient{Srv: adminServer{Name: s.Name()}, ID: c.ID(), Timestamp: c.ConnectedAt().Unix(),
		Transport: 0} // VIR_CLIENT_TRANS_UNIX
}

// countEntries counts the space-separated entries of a logging setting.
func countEntries(s string) uint32 { return uint32(len(strings.Fields(s))) }

// adminHandler serves one ADMIN procedure.
type adminHandler func(p *adminProgram, ctx context.Context, cl *call, out *packet) error

// adminHandlers is the ADMIN program's dispatch table, one handler per
// procedure, named after it (ADMIN_PROC_CLIENT_CLOSE is clientClose).
var adminHandlers = [adminProcMax + 1]adminHandler{
	adminProcConnectOpen:                   (*adminProgram).connectOpen,
	adminProcConnectClose:                  (*adminProgram).connectClose,
	adminProcConnectGetLibVersion:          (*adminProgram).connectGetLibVersion,
	adminProcConnectListServers:            (*adminProgram).connectListServers,
	adminProcConnectLookupServer:           (*adminProgram).connectLookupServer,
	adminProcServerGetThreadpoolParameters: (*adminProgram).serverGetThreadpoolParameters,
	adminProcServerSetThreadpoolParameters: (*adminProgram).serverSetThreadpoolParameters,
	adminProcServerListClients:             (*adminProgram).serverListClients,
	adminProcServerLookupClient:            (*adminProgram).serverLookupClient,
	adminProcClientGetInfo:                 (*adminProgram).clientGetInfo,
	adminProcClientClose:                   (*adminProgram).clientClose,
	adminProcServerGetClientLimits:         (*adminProgram).serverGetClientLimits,
	adminProcServerSetClientLimits:         (*adminProgram).serverSetClientLimits,
	adminProcConnectGetLoggingOutputs:      (*adminProgram).connectGetLoggingOutputs,
	adminProcConnectGetLoggingFilters:      (*adminProgram).connectGetLoggingFilters,
	adminProcConnectSetLoggingOutputs:      (*adminProgram).connectSetLoggingOutputs,
	adminProcConnectSetLoggingFilters:      (*adminProgram).connectSetLoggingFilters,
	adminProcServerUpdateTLSFiles:          (*adminProgram).serverUpdateTLSFiles,
	adminProcConnectSetDaemonTimeout:       (*adminProgram).connectSetDaemonTimeout,
}

func (p *adminProgram) dispatch(ctx context.Context, cl *call, out *packet) error {
	proc := cl.hdr.Procedure
	if proc <= 0 || int(proc) > adminProcMax || adminHandlers[proc] == nil {
		return rpcError(fmt.Sprintf("unknown procedure: %d", proc))
	}
	return adminHandlers[proc](p, ctx, cl, out)
}

func (p *adminProgram) connectOpen(ctx context.Context, cl *call, out *packet) error {
	var a adminConnectOpenArgs
	if err := decodeArgs(cl.payload, &a); err != nil {
		return err
	}
	return noFlags(a.Flags, "adminDispatchConnectOpen")
}

func (p *adminProgram) connectClose(ctx context.Context, cl *call, out *packet) error {
	cl.closeAfter = true
	return nil
}

func (p *adminProgram) connectGetLibVersion(ctx context.Context, cl *call, out *packet) error {
	out.putU64(buildinfo.LibVersion)
	return nil
}

func (p *adminProgram) connectListServers(ctx context.Context, cl *call, out *packet) error {
	var a adminConnectListServersArgs
	if err := decodeArgs(cl.payload, &a); err != nil {
		return err
	}
	if err := noFlags(a.Flags, "adminConnectListServers"); err != nil {
		return err
	}
	servers := p.b.Servers()
	names := make([]string, 0, len(servers))
	for n := range servers {
		names = append(names, n)
	}
	sort.Strings(names)
	r := adminConnectListServersRet{Servers: []adminServer{}, Ret: uint32(len(names))}
	if a.NeedResults != 0 {
		for _, n := range names[:min(len(names), adminServerListMax)] {
			r.Servers = append(r.Servers, adminServer{Name: n})
		}
	}
	return out.encode(r)
}

func (p *adminProgram) connectLookupServer(ctx context.Context, cl *call, out *packet) error {
	var a adminConnectLookupServerArgs
	if err := decodeArgs(cl.payload, &a); err != nil {
		return err
	}
	if err := noFlags(a.Flags, "adminConnectLookupServer"); err != nil {
		return err
	}
	s, err := p.server(a.Name)
	if err != nil {
		return err
	}
	return out.encode(adminServer{Name: s.Name()})
}

func (p *adminProgram) serverGetThreadpoolParameters(ctx context.Context, cl *call, out *packet) error {
	s, err := p.serverArg(cl.payload, "adminServerGetThreadPoolParameters")
	if err != nil {
		return err
	}
	tp := s.ThreadPool()
	return out.encode([]typedParam{
		uintParam("minWorkers", tp.MinWorkers),
		uintParam("maxWorkers", tp.MaxWorkers),
		uintParam("nWorkers", tp.NWorkers),
		uintParam("freeWorkers", tp.FreeWorkers),
		uintParam("prioWorkers", tp.PrioWorkers),
		uintParam("jobQueueDepth", tp.JobQueueDepth),
	})
}

func (p *adminProgram) serverSetThreadpoolParameters(ctx context.Context, cl *call, out *packet) error {
	s, v, err := p.setParamsArgs(cl.payload, "adminServerSetThreadPoolParameters", adminThreadpoolParamsMax, "minWorkers", "maxWorkers", "prioWorkers")
	if err != nil {
		return err
	}
	return s.SetThreadPool(optUint(v, "minWorkers"), optUint(v, "maxWorkers"), optUint(v, "prioWorkers"))
}

func (p *adminProgram) serverListClients(ctx context.Context, cl *call, out *packet) error {
	var a adminServerListClientsArgs
	if err := decodeArgs(cl.payload, &a); err != nil {
		return err
	}
	s, err := p.server(a.Srv.Name)
	if err != nil {
		return err
	}
	if err := noFlags(a.Flags, "adminServerListClients"); err != nil {
		return err
	}
	clients := s.Clients()
	r := adminServerListClientsRet{Clients: []adminClient{}, Ret: uint32(len(clients))}
	if a.NeedResults != 0 {
		for _, c := range clients[:min(len(clients), adminClientListMax)] {
			r.Clients = append(r.Clients, adminClientOf(s, c))
		}
	}
	return out.encode(r)
}

func (p *adminProgram) serverLookupClient(ctx context.Context, cl *call, out *packet) error {
	var a adminServerLookupClientArgs
	if err := decodeArgs(cl.payload, &a); err != nil {
		return err
	}
	if _, err := p.server(a.Srv.Name); err != nil {
		return err
	}
	if err := noFlags(a.Flags, "adminServerLookupClient"); err != nil {
		return err
	}
	s, c, err := p.client(a.Srv.Name, a.ID)
	if err != nil {
		return err
	}
	return out.encode(adminClientOf(s, c))
}

func (p *adminProgram) clientGetInfo(ctx context.Context, cl *call, out *packet) error {
	c, err := p.clientArg(cl.payload, "adminClientGetInfo")
	if err != nil {
		return err
	}
	return out.encode(clientInfo(c))
}

func (p *adminProgram) clientClose(ctx context.Context, cl *call, out *packet) error {
	c, err := p.clientArg(cl.payload, "adminClientClose")
	if err != nil {
		return err
	}
	c.Close()
	return nil
}

func (p *adminProgram) serverGetClientLimits(ctx context.Context, cl *call, out *packet) error {
	s, err := p.serverArg(cl.payload, "adminServerGetClientLimits")
	if err != nil {
		return err
	}
	l := s.ClientLimits()
	return out.encode([]typedParam{
		uintParam("nclients_max", l.MaxClients),
		uintParam("nclients", l.Clients),
		uintParam("nclients_unauth_max", l.MaxUnauthClients),
		uintParam("nclients_unauth", l.UnauthClients),
	})
}

func (p *adminProgram) serverSetClientLimits(ctx context.Context, cl *call, out *packet) error {
	s, v, err := p.setParamsArgs(cl.payload, "adminServerSetClientLimits", adminClientLimitsMax, "nclients_max", "nclients_unauth_max")
	if err != nil {
		return err
	}
	return s.SetClientLimits(optUint(v, "nclients_max"), optUint(v, "nclients_unauth_max"))
}

func (p *adminProgram) connectGetLoggingOutputs(ctx context.Context, cl *call, out *packet) error {
	var a adminFlagsArgs
	if err := decodeArgs(cl.payload, &a); err != nil {
		return err
	}
	if err := noFlags(a.Flags, "adminConnectGetLoggingOutputs"); err != nil {
		return err
	}
	o := p.b.LoggingOutputs()
	return out.encode(adminGetLoggingOutputsRet{Outputs: o, NOutputs: countEntries(o)})
}

func (p *adminProgram) connectGetLoggingFilters(ctx context.Context, cl *call, out *packet) error {
	var a adminFlagsArgs
	if err := decodeArgs(cl.payload, &a); err != nil {
		return err
	}
	if err := noFlags(a.Flags, "adminConnectGetLoggingFilters"); err != nil {
		return err
	}
	f := p.b.LoggingFilters()
	r := adminGetLoggingFiltersRet{NFilters: countEntries(f)}
	if f != "" {
		r.Filters = []string{f}
	}
	return out.encode(r)
}

func (p *adminProgram) connectSetLoggingOutputs(ctx context.Context, cl *call, out *packet) error {
	return setLogging(cl, "adminConnectSetLoggingOutputs", p.b.SetLoggingOutputs)
}

func (p *adminProgram) connectSetLoggingFilters(ctx context.Context, cl *call, out *packet) error {
	return setLogging(cl, "adminConnectSetLoggingFilters", p.b.SetLoggingFilters)
}

// setLogging decodes admin_connect_set_logging_{outputs,filters}_args and
// applies the value with set.
func setLogging(cl *call, api string, set func(string) error) error {
	var a adminSetLoggingArgs
	if err := decodeArgs(cl.payload, &a); err != nil {
		return err
	}
	var v string
	if len(a.Value) > 0 {
		v = a.Value[0]
	}
	if err := noFlags(a.Flags, api); err != nil {
		return err
	}
	if err := set(v); err != nil {
		return toWire(err, fromNone)
	}
	return nil
}

func (p *adminProgram) serverUpdateTLSFiles(ctx context.Context, cl *call, out *packet) error {
	// UNIX sockets only: like libvirt for a server without a TLS
	// context, there is nothing to reload.
	_, err := p.serverArg(cl.payload, "adminServerUpdateTlsFiles")
	return err
}

func (p *adminProgram) connectSetDaemonTimeout(ctx context.Context, cl *call, out *packet) error {
	var a adminSetDaemonTimeoutArgs
	if err := decodeArgs(cl.payload, &a); err != nil {
		return err
	}
	if err := noFlags(a.Flags, "adminConnectSetDaemonTimeout"); err != nil {
		return err
	}
	if err := p.b.SetDaemonTimeout(a.Timeout); err != nil {
		return toWire(err, fromNone)
	}
	return nil
}

func optUint(m map[string]uint, k string) *uint {
	if v, ok := m[k]; ok {
		return &v
	}
	return nil
}

// clientInfo is virAdmClientGetInfo's answer for a local client.
func clientInfo(c *Client) []typedParam {
	params := []typedParam{boolParam("readonly", c.ReadOnly())}
	cred, ok := c.Cred()
	if !ok {
		return params
	}
	params = append(params, intParam("unix_user_id", int32(cred.UID)))
	if u, err := user.LookupId(strconv.FormatUint(uint64(cred.UID), 10)); err == nil {
		params = append(params, stringParam("unix_user_name", u.Username))
	}
	params = append(params, intParam("unix_group_id", int32(cred.GID)))
	if g, err := user.LookupGroupId(strconv.FormatUint(uint64(cred.GID), 10)); err == nil {
		params = append(params, stringParam("unix_group_name", g.Name))
	}
	return append(params, intParam("unix_process_id", cred.PID))
}
