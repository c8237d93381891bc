package rpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
)

// ServerConfig holds one server's limits: libvirt's min_workers, max_workers,
// prio_workers, max_clients, max_anonymous_clients, max_client_requests,
// keepalive_interval and keepalive_count (or their admin_ variants).
// max_queued_clients is the listen backlog and belongs to whoever creates the
// socket.
type ServerConfig struct {
	Name                            string // "virtvboxd" or "admin"
	MinWorkers, MaxWorkers          uint
	PrioWorkers                     uint
	MaxClients, MaxAnonymousClients uint
	// RWReservedClients are max_clients slots the read-only listeners may
	// not take (at most half of max_clients), so that local users of the
	// world-writable ro socket cannot lock root out of the rw socket.
	RWReservedClients uint
	MaxClientRequests uint
	KeepaliveInterval int // seconds; <=0: never ping
	KeepaliveCount    uint
	// MaxBufferMemory bounds the bytes of packet read buffers beyond the
	// first 64 KiB of each that all clients hold at once; 0: no bound.
	MaxBufferMemory int64
}

// AuthType is the authentication a listener requires (remote_auth_type).
type AuthType int32

// The authentication types of AUTH_LIST.
const (
	AuthNone   AuthType = 0
	AuthSASL   AuthType = 1
	AuthPolkit AuthType = 2
)

// Service describes one listener: whether its clients are read-only (the ro
// socket) and the authentication it requires.
type Service struct {
	ReadOnly bool
	Auth     AuthType
}

// Program is an RPC program a Server dispatches CALLs to: the REMOTE program
// (NewRemoteProgram) or the ADMIN program (NewAdminProgram). KEEPALIVE is
// built into the connection loop.
type Program interface {
	// Number returns the program number (e.g. RemoteProgram).
	Number() uint32
	// dispatch runs one CALL and appends the reply payload to out. An error
	// becomes a remote_error reply.
	dispatch(ctx context.Context, c *call, out *packet) error
	// highPriority reports whether proc may run on the priority workers.
	highPriority(proc int32) bool
	// inline reports whether proc is answered on the connection's own
	// goroutine: only calls that never wait (no driver I/O, no lock held
	// elsewhere) may be, since the connection reads nothing meanwhile.
	inline(proc int32) bool
	// memoryRead reports whether proc, on c's connection, is a read the
	// driver may answer from memory: it is tried on the connection's own
	// goroutine under driver.NoWait first (see Client.handle).
	memoryRead(c *Client, proc int32) bool
	// clientClosed releases what the program holds for c, once c's last call
	// has finished.
	clientClosed(c *Client)
	// procName is proc's name without the program's prefix (DOMAIN_GET_INFO),
	// for the call's log entry.
	procName(proc int32) string
	// finishesAnyway reports whether proc runs to its end when its client
	// goes away (a state change), rather than being cancelled.
	finishesAnyway(proc int32) bool
}

// Server is one libvirt RPC server (virNetServer): a set of listeners, their
// clients, one worker pool and the programs it serves. All methods are safe
// for concurrent use.
type Server struct {
	log   *logrus.Entry
	clock Clock
	euid  uint32
	cfg   atomic.Pointer[ServerConfig]
	pool  *workerPool

	panics panicLog   // recovered panics, logged rate-limited
	budget *memBudget // read buffer memory (MaxBufferMemory)
	events *EventSink // server-sent messages to subscribed clients

	baseCtx    context.Context
	cancelBase context.CancelFunc
	readers    sync.WaitGroup // one per client connection loop

	programs atomic.Pointer[map[uint32]Program] // copy on write; read per packet

	mu        sync.Mutex
	cond      sync.Cond // clients left, limits changed, or closing
	clients   map[uint64]*Client
	nextID    uint64
	nUnauth   int
	nRO       int // clients of read-only listeners
	listeners map[net.Listener]struct{}
	closing   bool
	closingCh chan struct{} // closed when closing is set
	onChange  []func()
}

// NewServer returns a server configured by cfg that logs through log. Its
// workers start at once; it accepts nothing until Serve.
func NewServer(cfg ServerConfig, log *logrus.Entry) *Server {
	cfg = clampWorkers(cfg)
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = logrus.NewEntry(l)
	}
	s := &Server{
		log:       log.WithField("server", cfg.Name),
		clock:     realClock{},
		euid:      uint32(os.Geteuid()),
		clients:   map[uint64]*Client{},
		listeners: map[net.Listener]struct{}{},
		closingCh: make(chan struct{}),
	}
	s.cond.L = &s.mu
	s.programs.Store(&map[uint32]Program{})
	s.baseCtx, s.cancelBase = context.WithCancel(context.Background())
	c := cfg
	s.cfg.Store(&c)
	s.pool = newWorkerPool(int(cfg.MinWorkers), int(cfg.MaxWorkers), int(cfg.PrioWorkers))
	s.budget = newMemBudget(cfg.MaxBufferMemory)
	s.events = newEventSink()
	return s
}

// clampWorkers bounds the worker counts by WorkersMax, in case a caller did
// not check them.
func clampWorkers(cfg ServerConfig) ServerConfig {
	cfg.MinWorkers = min(cfg.MinWorkers, WorkersMax)
	cfg.MaxWorkers = min(cfg.MaxWorkers, WorkersMax)
	cfg.PrioWorkers = min(cfg.PrioWorkers, WorkersMax)
	return cfg
}

// Name returns the server's name ("virtvboxd", "admin").
func (s *Server) Name() string { return s.cfg.Load().Name }

// Config returns the server's current limits.
func (s *Server) Config() ServerConfig { return *s.cfg.Load() }

// SetClock replaces the keepalive time source. Call it before Serve; it is
// meant for tests.
func (s *Server) SetClock(c Clock) { s.clock = c }

// Register adds a program. Call it before Serve.
func (s *Server) Register(p Program) {
	s.mu.Lock()
	defer s.mu.Unlock()
	progs := map[uint32]Program{p.Number(): p}
	for n, q := range *s.programs.Load() {
		if n != p.Number() {
			progs[n] = q
		}
	}
	s.programs.Store(&progs)
}

// program returns the registered program n, or nil.
func (s *Server) program(n uint32) Program { return (*s.programs.Load())[n] }

// SetLimits applies new limits (a configuration reload): the worker pool is
// resized, client limits apply to the next accept and the next read, and the
// keepalive settings to the next timer. The name is kept.
func (s *Server) SetLimits(cfg ServerConfig) {
	cfg = clampWorkers(cfg)
	cfg.Name = s.Name()
	s.cfg.Store(&cfg)
	s.pool.setLimits(int(cfg.MinWorkers), int(cfg.MaxWorkers), int(cfg.PrioWorkers))
	s.budget.setLimit(cfg.MaxBufferMemory)
	s.mu.Lock()
	s.cond.Broadcast()
	clients := s.clientListLocked()
	s.mu.Unlock()
	for _, c := range clients {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	}
}

// NumClients returns the number of connected clients.
func (s *Server) NumClients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// OnClientsChanged registers f to be called after every connect and
// disconnect (for the daemon's idle timer). f may be called from several
// goroutines at once and must not block.
func (s *Server) OnClientsChanged(f func()) {
	s.mu.Lock()
	s.onChange = append(s.onChange, f)
	s.mu.Unlock()
}

func (s *Server) clientsChanged() {
	s.mu.Lock()
	fs := append([]func(){}, s.onChange...)
	s.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

// Serve accepts clients on ln until ctx is done, Shutdown is called or ln
// fails, and returns nil in the first two cases. It blocks; run one per
// listener. At max_clients (or max_anonymous_clients unauthenticated
// clients, or for a read-only listener max_clients less RWReservedClients
// read-only clients) it stops accepting until a client leaves; pending
// connections wait in the listen backlog. Serve closes ln when it returns; the clients it
// accepted stay until they leave or Shutdown.
func (s *Server) Serve(ctx context.Context, ln net.Listener, svc Service) error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		ln.Close()
		return nil
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()

	var stopped atomic.Bool
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			stopped.Store(true)
			ln.Close()
			s.mu.Lock()
			s.cond.Broadcast()
			s.mu.Unlock()
		case <-done:
		}
	}()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
		ln.Close()
	}()

	var (
		backoff  time.Duration
		lastWarn time.Time
		failures int
	)
	for {
		s.mu.Lock()
		if !s.closing && !stopped.Load() && s.fullLocked(svc) {
			s.log.WithField("listener", ln.Addr().String()).Debug("at the client limit: accepting again when a client leaves")
		}
		for !s.closing && !stopped.Load() && s.fullLocked(svc) {
			s.cond.Wait()
		}
		closing := s.closing || stopped.Load()
		s.mu.Unlock()
		if closing {
			return nil
		}
		conn, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing || stopped.Load()
			s.mu.Unlock()
			if closing || errors.Is(err, net.ErrClosed) {
				return nil
			}
			if !retryableAccept(err) {
				return fmt.Errorf("accept on %s: %w", ln.Addr(), err)
			}
			// Out of file descriptors (or a connection aborted before
			// it was taken): back off as net/http does and keep
			// serving; the pending connections wait in the backlog.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			failures++
			if now := time.Now(); now.Sub(lastWarn) >= 10*time.Second {
				hint := ""
				if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
					hint = " (out of file descriptors: raise the open files limit, LimitNOFILE=, or lower max_clients)"
				}
				s.log.WithError(err).WithField("failures", failures).
					Warnf("accept failed on %s; retrying in up to %s%s", ln.Addr(), time.Second, hint)
				lastWarn, failures = now, 0
			}
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
			case <-s.closingCh:
			}
			continue
		}
		backoff = 0
		s.addClient(conn, svc)
	}
}

// retryableAccept reports whether an accept error is passing: the process or
// the system is out of file descriptors or memory, or the peer gave up
// before its connection was taken.
func retryableAccept(err error) bool {
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
		syscall.ECONNABORTED, syscall.EINTR, syscall.EAGAIN, syscall.EPROTO, syscall.EPERM} {
		if errors.Is(err, e) {
			return true
		}
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// fullLocked reports whether a listener of svc must stop accepting:
// max_clients or max_anonymous_clients is reached, or, for a read-only
// listener, roClientsMax.
func (s *Server) fullLocked(svc Service) bool {
	cfg := s.cfg.Load()
	if cfg.MaxClients > 0 && uint(len(s.clients)) >= cfg.MaxClients {
		return true
	}
	if svc.ReadOnly && cfg.MaxClients > 0 && uint(s.nRO) >= roClientsMax(cfg) {
		return true
	}
	return cfg.MaxAnonymousClients > 0 && uint(s.nUnauth) >= cfg.MaxAnonymousClients
}

// roClientsMax is how many clients the read-only listeners may have:
// max_clients less the reserved slots, the reserve being at most half.
func roClientsMax(cfg *ServerConfig) uint {
	return cfg.MaxClients - min(cfg.RWReservedClients, cfg.MaxClients/2)
}

// Shutdown stops accepting and drains the clients: calls in flight finish
// and their replies are sent, a client stays connected while it has calls
// in flight and for drainIdle after its last reply (so that the follow-up
// call a client library makes is answered, not cut), and a client that
// does not take a reply within drainWrite is dropped. Shutdown returns once
// every client is gone, which is quick on an idle server.
//
// If ctx ends first, the calls still running are cancelled and get
// cancelGrace to send their (error) replies; then every connection is
// closed and ctx's error is returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closing {
		close(s.closingCh)
	}
	s.closing = true
	for ln := range s.listeners {
		ln.Close()
	}
	s.cond.Broadcast()
	clients := s.clientListLocked()
	s.mu.Unlock()

	for _, c := range clients {
		c.drain()
	}
	done := make(chan struct{})
	go func() {
		s.readers.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		// Cancel the calls still running; those that honour it reply
		// with an error within cancelGrace. Then drop every connection;
		// calls that ignore cancellation finish on their own, unwaited.
		err = ctx.Err()
		s.cancelBase()
		s.mu.Lock()
		clients = s.clientListLocked()
		s.mu.Unlock()
		for _, c := range clients {
			c.stopReading()
		}
		select {
		case <-done:
		case <-time.After(cancelGrace):
		}
		s.mu.Lock()
		clients = s.clientListLocked()
		s.mu.Unlock()
		for _, c := range clients {
			c.close()
		}
	}
	s.cancelBase()
	s.pool.stop()
	return err
}

// cancelGrace is how long calls cancelled at the shutdown deadline have to
// send their error replies.
const cancelGrace = 2 * time.Second

func (s *Server) clientListLocked() []*Client {
	l := make([]*Client, 0, len(s.clients))
	for _, c := range s.clients {
		l = append(l, c)
	}
	sort.Slice(l, func(i, j int) bool { return l[i].id < l[j].id })
	return l
}

// Clients returns the connected clients ordered by id.
func (s *Server) Clients() []*Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clientListLocked()
}

// Client returns the client with id, or nil.
func (s *Server) Client(id uint64) *Client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clients[id]
}

// BufferMemory returns the bytes of read buffer budget held now.
func (s *Server) BufferMemory() int64 { return s.budget.Used() }

// ThreadPool returns the worker pool's parameters and counters.
func (s *Server) ThreadPool() ThreadPoolInfo { return s.pool.info() }

// WorkersMax bounds min_workers, max_workers and prio_workers (and their
// admin_ variants): every worker is a goroutine, and a pool of millions would
// take the daemon down. internal/config refuses larger values in the file.
const WorkersMax = 4096

// SetThreadPool changes the worker limits, as virt-admin srv-threadpool-set
// does; a nil value keeps the current one.
func (s *Server) SetThreadPool(minW, maxW, prioW *uint) error {
	cfg := s.Config()
	cur := s.pool.info()
	newMin, newMax, newPrio := cur.MinWorkers, cur.MaxWorkers, cur.PrioWorkers
	if minW != nil {
		newMin = *minW
	}
	if maxW != nil {
		newMax = *maxW
	}
	if prioW != nil {
		newPrio = *prioW
	}
	for _, v := range []struct {
		name string
		val  uint
	}{{"maxWorkers", newMax}, {"minWorkers", newMin}, {"prioWorkers", newPrio}} {
		if v.val > WorkersMax {
			return newError(errInvalidArg, fromNone, fmt.Sprintf("%s %d must not be larger than %d", v.name, v.val, WorkersMax))
		}
	}
	if newMin > newMax {
		return newError(errInvalidArg, fromNone, "minWorkers cannot be larger than maxWorkers")
	}
	if newMax == 0 {
		return newError(errInvalidArg, fromNone, "maxWorkers must not be switched from zero to non-zero and vice versa")
	}
	cfg.MinWorkers, cfg.MaxWorkers, cfg.PrioWorkers = newMin, newMax, newPrio
	s.SetLimits(cfg)
	return nil
}

// ClientLimits is the admin view of the client limits
// (virAdmServerGetClientLimits).
type ClientLimits struct {
	MaxClients, Clients             uint
	MaxUnauthClients, UnauthClients uint
}

// ClientLimits returns the client limits and counts.
func (s *Server) ClientLimits() ClientLimits {
	cfg := s.cfg.Load()
	s.mu.Lock()
	defer s.mu.Unlock()
	return ClientLimits{
		MaxClients: cfg.MaxClients, Clients: uint(len(s.clients)),
		MaxUnauthClients: cfg.MaxAnonymousClients, UnauthClients: uint(s.nUnauth),
	}
}

// SetClientLimits changes max_clients and max_anonymous_clients; nil keeps
// the current value.
func (s *Server) SetClientLimits(maxClients, maxUnauth *uint) error {
	cfg := s.Config()
	if maxClients != nil {
		cfg.MaxClients = *maxClients
	}
	if maxUnauth != nil {
		cfg.MaxAnonymousClients = *maxUnauth
	}
	if cfg.MaxClients < cfg.MaxAnonymousClients {
		return newError(errInvalidArg, fromRPC, "The overall maximum number of clients waiting for "+
			"authentication must not be less than the overall maximum number of clients")
	}
	s.SetLimits(cfg)
	return nil
}

// addClient registers a new connection and starts its connection loop.
func (s *Server) addClient(conn net.Conn, svc Service) {
	cred, haveCred := peerCred(conn)
	admin := s.program(AdminProgram) != nil
	// A session daemon serves only its own user; the admin server, only the
	// daemon's user even when it runs as root.
	if (admin || s.euid != 0) && (!haveCred || cred.UID != s.euid) {
		s.log.WithFields(logrus.Fields{"pid": cred.PID, "uid": cred.UID}).
			Warnf("Disallowing client %d with uid %d", cred.PID, cred.UID)
		conn.Close()
		return
	}

	c := &Client{
		srv:       s,
		conn:      conn,
		svc:       svc,
		cred:      cred,
		haveCred:  haveCred,
		connected: time.Now(),
		progData:  map[uint32]any{},
	}
	if sc, ok := conn.(syscall.Conn); ok {
		c.raw, _ = sc.SyscallConn()
	}
	c.cond.L = &c.mu
	c.ocond.L = &c.omu
	c.wcond.L = &c.omu
	// Auth NONE clients are authenticated from the start; a polkit socket
	// trusts root.
	c.authenticated.Store(svc.Auth == AuthNone || (svc.Auth == AuthPolkit && haveCred && cred.UID == 0))
	c.lastRx.Store(s.clock.Now().UnixNano())

	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		conn.Close()
		return
	}
	s.nextID++
	c.id = s.nextID
	// The client is complete before anyone can see it in s.clients: a
	// shutdown that starts now drains it and logs through c.log.
	c.log = s.log.WithFields(logrus.Fields{"client": c.id, "uid": cred.UID, "pid": cred.PID})
	c.ctx, c.cancel = context.WithCancel(s.baseCtx)
	s.clients[c.id] = c
	if !c.authenticated.Load() {
		s.nUnauth++
	}
	if svc.ReadOnly {
		s.nRO++
	}
	s.readers.Add(1)
	s.mu.Unlock()

	c.log.WithField("readonly", svc.ReadOnly).Debug("client connected")
	s.clientsChanged()
	go c.writeLoop()
	go c.serve()
}

// Events returns the server's event sink, through which the programs and
// the driver send VIR_NET_MESSAGE events to subscribed clients.
func (s *Server) Events() *EventSink { return s.events }

// removeClient forgets c once its connection loop and calls are over.
func (s *Server) removeClient(c *Client) {
	s.events.clientGone(c)
	for _, p := range *s.programs.Load() {
		p.clientClosed(c)
	}
	s.mu.Lock()
	delete(s.clients, c.id)
	if !c.authenticated.Load() {
		s.nUnauth--
	}
	if c.svc.ReadOnly {
		s.nRO--
	}
	s.cond.Broadcast()
	s.mu.Unlock()
	s.clientsChanged()
}
