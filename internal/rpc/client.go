package rpc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/virtvboxd/virtvboxd/internal/callctx"
	"github.com/virtvboxd/virtvboxd/internal/driver"
)

// PeerCred are a UNIX peer's credentials (SO_PEERCRED) at connect time.
type PeerCred struct {
	UID, GID uint32
	PID      int32
}

// Client is one connection to a Server (virNetServerClient).
type Client struct {
	srv       *Server
	id        uint64
	conn      net.Conn
	raw       syscall.RawConn // conn's descriptor, for the workers' non-waiting writes; nil if none
	svc       Service
	cred      PeerCred
	haveCred  bool
	connected time.Time
	log       *logrus.Entry
	// ctx is cancelled when the client goes away: its connection fails or
	// is closed (or the server's shutdown runs out of time); calls run
	// under it, see callContext.
	ctx    context.Context
	cancel context.CancelFunc

	authenticated atomic.Bool

	// The outbox: workers queue replies and never write to the socket
	// themselves, so a client that stops reading costs its own request slots
	// (max_client_requests), never a worker. One writer goroutine per client
	// drains it, coalescing what is queued into one write.
	omu     sync.Mutex
	ocond   sync.Cond // room made in the outbox, or the outbox closed
	wcond   sync.Cond // work for the writer: queued while no write runs, or the outbox closed
	outq    []outMsg
	writing bool // a write is on the socket (writer goroutine or connection loop)
	oclosed bool // no more writes: the connection failed or closed

	mu       sync.Mutex
	cond     sync.Cond // in-flight count fell, or the client is closing
	inflight int
	busy     int  // calls handed to a program whose reply is not yet sent
	warned   bool // the max_client_requests warning was logged
	stopping bool // read no more calls
	draining bool // the server is shutting down: stop reading once idle
	closed   bool // conn is closed
	progData map[uint32]any
	streams  map[uint32]*stream // open streams by their call's serial

	// keepalive, once the client asked for it (feature 10).
	lastRx    atomic.Int64 // clock nanoseconds of the last packet received
	kaMissed  atomic.Int32 // pings sent since then
	kaStarted atomic.Bool
	kaMu      sync.Mutex
	kaTimer   Timer
}

// ID returns the client's id, unique within its server and starting at 1.
func (c *Client) ID() uint64 { return c.id }

// ConnectedAt returns when the client connected.
func (c *Client) ConnectedAt() time.Time { return c.connected }

// ReadOnly reports whether the client came through a read-only listener.
func (c *Client) ReadOnly() bool { return c.svc.ReadOnly }

// Cred returns the peer's credentials and whether they are known.
func (c *Client) Cred() (PeerCred, bool) { return c.cred, c.haveCred }

// Close disconnects the client (virt-admin client-disconnect).
func (c *Client) Close() { c.close() }

// data returns the program's private value for this client, creating it
// with mk on first use.
func (c *Client) data(prog uint32, mk func() any) any {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.progData[prog]
	if !ok {
		v = mk()
		c.progData[prog] = v
	}
	return v
}

// call is one CALL on its way through a program.
type call struct {
	client     *Client
	hdr        Header
	payload    []byte
	closeAfter bool    // close the connection once the reply is sent
	stream     *stream // opened by the handler: its data follows the reply
}

// bufPool holds the read buffers of calls; putBuf returns one.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// maxPooled is the largest buffer the pools keep; larger ones, grown for a
// rare big packet, are left to the garbage collector. It is freeBuffer, so
// that no pooled buffer holds budget.
const maxPooled = freeBuffer

// putBuf returns a read buffer to the pool and its budget to the server.
func (c *Client) putBuf(bp *[]byte) {
	c.srv.budget.release(reservedFor(cap(*bp)))
	if cap(*bp) <= maxPooled {
		*bp = (*bp)[:0]
		bufPool.Put(bp)
	}
}

var pktPool = sync.Pool{New: func() any { return &packet{b: make([]byte, 0, 512)} }}

// outMsg is one whole packet in the outbox; done runs once it is written or
// dropped.
type outMsg struct {
	b    []byte
	done func()
}

// readerOutboxLimit is how many packets may wait before the connection loop,
// which queues keepalive answers and errors for unknown programs without
// holding a request slot, waits for the writer: a client that sends but never
// reads stops being read instead of growing the queue.
const readerOutboxLimit = 64

// queue puts b in the outbox; done runs once it is written or dropped.
// Workers (fromLoop false) never wait here: when nothing is queued or being
// written, a worker writes what the socket takes at once without waiting
// (tryWrite) and leaves the rest, if any, to the writer goroutine. The
// connection loop (fromLoop true) writes its packet itself when nothing is
// queued or being written (a cheap call answered inline costs no hand-off),
// and otherwise waits while the outbox is over readerOutboxLimit.
func (c *Client) queue(b []byte, done func(), fromLoop bool) {
	c.omu.Lock()
	if fromLoop && len(c.outq) == 0 && !c.writing && !c.oclosed {
		c.writing = true
		c.omu.Unlock()
		c.writeDeadline()
		_, err := c.conn.Write(b)
		c.writeDone(err, []outMsg{{b: b, done: done}})
		return
	}
	if !fromLoop && c.raw != nil && len(c.outq) == 0 && !c.writing && !c.oclosed {
		c.writing = true
		c.omu.Unlock()
		c.writeDeadline() // a draining client's deadline applies to this write too
		n, err := c.tryWrite(b)
		if err != nil || n == len(b) {
			c.writeDone(err, []outMsg{{b: b, done: done}})
			return
		}
		// The socket is full: the rest goes first in the outbox, for the
		// writer goroutine (what other workers queued meanwhile follows).
		c.omu.Lock()
		c.writing = false
		c.outq = append([]outMsg{{b: b[n:], done: done}}, c.outq...)
		c.wcond.Signal()
		c.omu.Unlock()
		return
	}
	for fromLoop && len(c.outq) >= readerOutboxLimit && !c.oclosed {
		c.ocond.Wait()
	}
	if c.oclosed {
		c.omu.Unlock()
		if done != nil {
			done()
		}
		return
	}
	c.outq = append(c.outq, outMsg{b: b, done: done})
	if !c.writing {
		c.wcond.Signal()
	}
	c.omu.Unlock()
}

// tryWrite writes as much of b as the socket takes now, without waiting
// for room; the caller holds the socket (c.writing).
func (c *Client) tryWrite(b []byte) (int, error) {
	n := 0
	var werr error
	err := c.raw.Write(func(fd uintptr) bool {
		for n < len(b) {
			m, e := syscall.Write(int(fd), b[n:])
			if m > 0 {
				n += m
			}
			switch {
			case e == syscall.EINTR:
				continue
			case e == syscall.EAGAIN:
				return true
			case e != nil:
				werr = e
				return true
			case m <= 0:
				return true
			}
		}
		return true
	})
	if werr == nil {
		werr = err
	}
	return n, werr
}

// writeDone ends a write: the socket is free again, the packets' done run,
// and a failed write closes the connection.
func (c *Client) writeDone(err error, msgs []outMsg) {
	c.omu.Lock()
	c.writing = false
	if len(c.outq) > 0 {
		// Queued during this write: only the writer goroutine is woken,
		// and only then (an inline reply costs no wake-up).
		c.wcond.Signal()
	}
	c.ocond.Broadcast()
	c.omu.Unlock()
	finishAll(msgs)
	if err != nil {
		c.log.WithError(err).Debug("write failed")
		c.close()
	}
}

// writeLoop writes what is queued until the outbox closes. A failed write
// closes the connection; what was queued behind it is dropped.
func (c *Client) writeLoop() {
	var bufs net.Buffers
	for {
		c.omu.Lock()
		for (len(c.outq) == 0 || c.writing) && !c.oclosed {
			c.wcond.Wait()
		}
		batch := c.outq
		c.outq = nil
		closed := c.oclosed
		c.writing = !closed
		c.ocond.Broadcast() // room for the connection loop
		c.omu.Unlock()
		if closed {
			finishAll(batch)
			return
		}
		bufs = bufs[:0]
		for _, m := range batch {
			bufs = append(bufs, m.b)
		}
		c.writeDeadline()
		_, err := bufs.WriteTo(c.conn)
		c.writeDone(err, batch)
	}
}

func finishAll(msgs []outMsg) {
	for _, m := range msgs {
		if m.done != nil {
			m.done()
		}
	}
}

// serve is the connection loop: wait for a request slot, read one packet,
// hand it on, repeat. Only a framing error, EOF or close ends it.
func (c *Client) serve() {
	s := c.srv
	defer s.readers.Done()
	br := bufio.NewReaderSize(c.conn, 4096)
	for {
		if !c.acquire() {
			break
		}
		bp := bufPool.Get().(*[]byte)
		h, payload, buf, err := readPacket(br, *bp, c.grow)
		*bp = buf
		if err != nil {
			// The client went away (or sent what ends its connection):
			// cancel its calls but the state changes (callContext). When
			// the server stopped reading (shutdown), calls finish.
			c.mu.Lock()
			stopped := c.stopping
			c.mu.Unlock()
			if !stopped {
				c.cancel()
			}
			c.release()
			c.putBuf(bp)
			c.logReadError(err)
			break
		}
		c.lastRx.Store(s.clock.Now().UnixNano())
		c.kaMissed.Store(0)
		if !c.handle(h, payload, bp) {
			c.release()
			c.putBuf(bp)
		}
	}
	// Let the calls still running reply (Shutdown relies on it), then close;
	// only then may the programs let go of the client's state.
	c.mu.Lock()
	for c.inflight > 0 {
		c.cond.Wait()
	}
	c.mu.Unlock()
	c.close()
	c.log.Debug("client disconnected")
	s.removeClient(c)
}

// noOwner is the worker pool owner of clients whose credentials are
// unknown.
const noOwner = ^uint32(0)

// owner is whose calls the client's are, for the worker pool's fairness:
// its uid.
func (c *Client) owner() uint32 {
	if !c.haveCred {
		return noOwner
	}
	return c.cred.UID
}

// grow reserves extra bytes of the server's buffer budget for the packet
// being read; it gives up when the client is closing.
func (c *Client) grow(extra int64) error {
	return c.srv.budget.reserve(extra, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.stopping || c.closed
	})
}

func (c *Client) logReadError(err error) {
	switch {
	case errors.Is(err, errNoBudget):
		c.log.Warn("closing connection: the packet buffer memory budget (max_buffer_memory) is spent")
	case errors.Is(err, io.EOF):
		c.log.Debug("client closed the connection")
	case errors.Is(err, errFraming):
		c.log.WithError(err).Warn("closing connection after a bad packet")
	default:
		c.mu.Lock()
		closing := c.stopping || c.closed
		c.mu.Unlock()
		if closing {
			c.log.Debug("connection closed")
		} else {
			c.log.WithError(err).Debug("read failed")
		}
	}
}

// handle routes one packet. It returns true when a job now owns the request
// slot and the buffer.
func (c *Client) handle(h Header, payload []byte, bp *[]byte) bool {
	s := c.srv
	if h.Program == KeepaliveProgram && h.Type == TypeMessage {
		switch h.Procedure {
		case keepalivePing:
			c.sendKeepalive(keepalivePong, true)
		case keepalivePong:
		default:
			c.log.WithField("proc", h.Procedure).Debug("dropping unknown keepalive message")
		}
		return false
	}
	if h.Type == TypeStream {
		if take := c.streamPacket(h); take != nil {
			take(payload)
		}
		return false
	}
	if h.Type != TypeCall && h.Type != TypeCallWithFDs {
		c.log.WithFields(logrus.Fields{"prog": h.Program, "type": h.Type, "serial": h.Serial}).
			Debug("dropping non-CALL message")
		return false
	}
	prog := s.program(h.Program)
	if prog == nil || h.Version != programVersion {
		c.replyError(&h, rpcError(fmt.Sprintf("Cannot find program %d version %d", h.Program, h.Version)), nil, true)
		return false
	}
	if c.log.Logger.IsLevelEnabled(logrus.DebugLevel) {
		c.log.WithFields(logrus.Fields{"prog": h.Program, "proc": h.Procedure, "serial": h.Serial}).Debug("call")
	}
	cl := &call{client: c, hdr: h, payload: payload}
	c.addBusy(1)
	// The request slot is freed once the reply is on the wire, so a client
	// that does not read stops being read.
	sent := func() {
		c.putBuf(bp)
		c.addBusy(-1)
		c.release()
	}
	if prog.inline(h.Procedure) {
		c.run(prog, cl, sent, onLoop)
		return true
	}
	// A read the driver holds in memory is answered here, without the
	// hand-off to a worker and back; one it would have to wait for goes
	// to the pool like any call.
	if h.Type == TypeCall && prog.memoryRead(c, h.Procedure) && c.run(prog, cl, sent, onLoopNoWait) {
		return true
	}
	ok := s.pool.submit(job{prio: prog.highPriority(h.Procedure), owner: c.owner(), run: func() {
		c.run(prog, cl, sent, onWorker)
	}})
	if !ok {
		c.addBusy(-1)
	}
	return ok
}

// runMode says where a call runs.
type runMode int

const (
	onWorker     runMode = iota
	onLoop               // on the connection loop: a call that never waits
	onLoopNoWait         // on the connection loop under driver.NoWait
)

// run executes a call and queues its reply; sent runs once the reply is
// written (or dropped with the connection). It returns false, having
// queued nothing, when a call run onLoopNoWait would have to wait
// (driver.ErrWouldBlock): the caller then hands it to a worker.
func (c *Client) run(prog Program, cl *call, sent func(), mode runMode) bool {
	fromLoop := mode != onWorker
	h := cl.hdr
	if h.Type == TypeCallWithFDs {
		// The fd count precedes the payload; fds are never passed here.
		if len(cl.payload) < 4 || cl.payload[0]|cl.payload[1]|cl.payload[2]|cl.payload[3] != 0 {
			c.replyError(&h, rpcError("Unable to decode message payload"), sent, fromLoop)
			return true
		}
		cl.payload = cl.payload[4:]
		h.Type = TypeCall
	}
	if h.Status != StatusOK {
		c.replyError(&h, rpcError(fmt.Sprintf("Unexpected message status %d", h.Status)), sent, fromLoop)
		return true
	}
	out := pktPool.Get().(*packet)
	rh := Header{Program: h.Program, Version: h.Version, Procedure: h.Procedure,
		Type: TypeReply, Serial: h.Serial, Status: StatusOK}
	out.reset(&rh)
	err := c.dispatch(prog, cl, out, mode == onLoopNoWait)
	if err != nil && mode == onLoopNoWait && errors.Is(err, driver.ErrWouldBlock) && cl.stream == nil {
		if cap(out.b) <= maxPooled {
			pktPool.Put(out)
		}
		return false
	}
	if err != nil {
		we := toWire(err, fromRPC)
		c.log.WithFields(logrus.Fields{"prog": h.Program, "proc": h.Procedure, "serial": h.Serial,
			"code": we.Code}).Debug(we.Message())
		out.setError()
		out.putError(we)
	}
	c.queue(out.finish(), func() {
		if cap(out.b) <= maxPooled {
			pktPool.Put(out)
		}
		if cl.closeAfter {
			c.close()
		}
		sent()
	}, fromLoop)
	if st := cl.stream; st != nil {
		// The stream's packets may follow the reply now; a failed call
		// opened none.
		if err != nil {
			st.end()
		} else {
			close(st.ready)
		}
	}
	return true
}

// dispatch runs the program's handler. A panic in a handler or a driver is
// answered as an internal error (one bad call must not take the daemon
// down) and logged through the server's panicLog: the first with its stack,
// then at most one a minute, so a client repeating the call cannot flood the
// log.
func (c *Client) dispatch(prog Program, cl *call, out *packet, noWait bool) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c.srv.panics.log(c.log.WithFields(logrus.Fields{"proc": cl.hdr.Procedure, "serial": cl.hdr.Serial}),
				r, debug.Stack())
			err = newError(errInternalError, fromRPC, "unexpected failure while serving the call")
		}
	}()
	ctx := c.callContext(prog, cl)
	if noWait {
		ctx = driver.NoWait(ctx)
	}
	return prog.dispatch(ctx, cl, out)
}

// callContext is the context a call runs under: it carries the call's
// identity and log entry (internal/callctx), and is cancelled when the
// client goes away, except for the procedures the program says finish
// anyway (state changes: a domain started, defined or destroyed must not be
// left half done because virsh was interrupted), which are cancelled only
// when the server's shutdown runs out of time.
func (c *Client) callContext(prog Program, cl *call) context.Context {
	parent := c.ctx
	if prog.finishesAnyway(cl.hdr.Procedure) {
		parent = c.srv.baseCtx
	}
	return callctx.With(parent, callctx.Call{Client: c.id, PID: c.cred.PID, UID: c.cred.UID,
		Program: cl.hdr.Program, Procedure: cl.hdr.Procedure, Proc: prog.procName(cl.hdr.Procedure),
		Serial: cl.hdr.Serial}, c.log)
}

// panicLogInterval is how often a recovered panic's stack may be logged.
const panicLogInterval = time.Minute

// panicLog rate-limits the logging of recovered panics: one stack at error
// level per panicLogInterval; the panics in between are counted, logged at
// debug level without their stack, and reported with the next stack.
type panicLog struct {
	mu         sync.Mutex
	last       time.Time // when a stack was last logged; zero: never
	suppressed int
}

func (p *panicLog) log(l *logrus.Entry, r any, stack []byte) {
	now := time.Now()
	p.mu.Lock()
	if !p.last.IsZero() && now.Sub(p.last) < panicLogInterval {
		p.suppressed++
		p.mu.Unlock()
		l.Debugf("panic serving a call: %v (stack not logged again within %s)", r, panicLogInterval)
		return
	}
	n := p.suppressed
	p.last, p.suppressed = now, 0
	p.mu.Unlock()
	if n > 0 {
		l = l.WithField("suppressed", n)
	}
	l.Errorf("panic serving a call: %v\n%s", r, stack)
}

// replyError queues an error reply to the CALL h; sent (may be nil) runs
// once it is written. wait is true on the connection loop (see queue).
func (c *Client) replyError(h *Header, err error, sent func(), wait bool) {
	var p packet
	rh := Header{Program: h.Program, Version: h.Version, Procedure: h.Procedure,
		Type: TypeReply, Serial: h.Serial, Status: StatusError}
	p.reset(&rh)
	we := toWire(err, fromRPC)
	c.log.WithFields(logrus.Fields{"prog": h.Program, "proc": h.Procedure, "serial": h.Serial}).
		Debug(we.Message())
	p.putError(we)
	c.queue(p.finish(), sent, wait)
}

// sendKeepalive queues a PING or PONG. wait is true on the connection loop
// (a PONG), false on the keepalive timer (a PING).
func (c *Client) sendKeepalive(proc int32, wait bool) {
	h := Header{Program: KeepaliveProgram, Version: programVersion, Procedure: proc, Type: TypeMessage}
	p := packet{b: make([]byte, 0, minLength)}
	p.reset(&h)
	c.queue(p.finish(), nil, wait)
}

// acquire waits for a free request slot (max_client_requests). It returns
// false once the client stops reading.
func (c *Client) acquire() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		if c.stopping || c.closed {
			return false
		}
		limit := int(c.srv.cfg.Load().MaxClientRequests)
		if limit < 1 {
			limit = 1
		}
		if c.inflight < limit {
			c.inflight++
			return true
		}
		if !c.warned {
			c.warned = true
			c.log.Warnf("client hit max requests limit %d; stopped reading until a reply is sent "+
				"(consider raising max_client_requests)", limit)
		}
		c.cond.Wait()
	}
}

func (c *Client) release() {
	c.mu.Lock()
	c.inflight--
	c.cond.Broadcast()
	c.mu.Unlock()
}

// addBusy counts calls handed to a program (d = 1) and calls whose reply is
// sent (d = -1). A draining client that becomes idle is stopped after
// drainIdle unless it sends another call meanwhile.
func (c *Client) addBusy(d int) {
	c.mu.Lock()
	c.busy += d
	arm := c.draining && c.busy == 0
	c.mu.Unlock()
	if arm {
		c.armDrain()
	}
}

// drainIdle is how long a client of a server that is shutting down stays
// connected with no call in flight: the follow-up a client library sends
// right after a reply (virDomainCreate's lookup by UUID, a CONNECT_CLOSE) is
// served instead of meeting a closed socket.
var drainIdle = 250 * time.Millisecond

// drainWrite is how long, once the server is shutting down, one write to a
// client may take: a client that does not read its replies is dropped
// after it, so it cannot hold the shutdown.
var drainWrite = 2 * time.Second

// drain starts the client's part of a shutdown: its writes get a
// deadline, and it stops being read once it has been idle for drainIdle.
func (c *Client) drain() {
	c.mu.Lock()
	c.draining = true
	idle := c.busy == 0
	c.mu.Unlock()
	c.log.WithField("idle", idle).Debug("draining the client for shutdown")
	_ = c.conn.SetWriteDeadline(time.Now().Add(drainWrite))
	if idle {
		c.armDrain()
	}
}

func (c *Client) armDrain() {
	time.AfterFunc(drainIdle, func() {
		c.mu.Lock()
		idle := c.busy == 0
		c.mu.Unlock()
		if idle {
			c.stopReading()
		}
	})
}

// writeDeadline renews the write deadline of a draining client before a
// write.
func (c *Client) writeDeadline() {
	c.mu.Lock()
	draining := c.draining
	c.mu.Unlock()
	if draining {
		_ = c.conn.SetWriteDeadline(time.Now().Add(drainWrite))
	}
}

// stopReading makes the connection loop take no further calls; calls in
// flight still reply, then the connection closes.
func (c *Client) stopReading() {
	c.mu.Lock()
	c.stopping = true
	c.cond.Broadcast()
	c.mu.Unlock()
	c.srv.budget.wake()
	// Wake a blocked read.
	_ = c.conn.SetReadDeadline(time.Unix(1, 0))
}

// close closes the connection; the connection loop then winds down.
func (c *Client) close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.cond.Broadcast()
	c.mu.Unlock()
	c.srv.budget.wake()
	c.omu.Lock()
	c.oclosed = true
	c.ocond.Broadcast()
	c.wcond.Broadcast()
	c.omu.Unlock()
	c.kaMu.Lock()
	if c.kaTimer != nil {
		c.kaTimer.Stop()
	}
	c.kaMu.Unlock()
	c.conn.Close()
	c.cancel()
	c.streamsClosed()
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// startKeepalive makes the server ping this client after keepalive_interval
// idle seconds (the client asked for VIR_DRV_FEATURE_PROGRAM_KEEPALIVE).
func (c *Client) startKeepalive() {
	interval := c.srv.cfg.Load().KeepaliveInterval
	if interval <= 0 || !c.kaStarted.CompareAndSwap(false, true) {
		return
	}
	c.armKeepalive(time.Duration(interval) * time.Second)
}

func (c *Client) armKeepalive(d time.Duration) {
	c.kaMu.Lock()
	defer c.kaMu.Unlock()
	if c.isClosed() {
		return
	}
	c.kaTimer = c.srv.clock.AfterFunc(d, c.keepaliveTick)
}

// keepaliveTick runs when the keepalive timer fires: it pings an idle client
// and drops one that left keepalive_count pings unanswered.
func (c *Client) keepaliveTick() {
	c.mu.Lock()
	done := c.closed || c.stopping || c.draining
	c.mu.Unlock()
	if done {
		// Closed, or the server is shutting down: its PONGs may go
		// unseen, so its silence says nothing.
		return
	}
	cfg := c.srv.cfg.Load()
	if cfg.KeepaliveInterval <= 0 {
		return
	}
	interval := time.Duration(cfg.KeepaliveInterval) * time.Second
	idle := time.Duration(c.srv.clock.Now().UnixNano() - c.lastRx.Load())
	if idle < interval && c.kaMissed.Load() == 0 {
		c.armKeepalive(interval - idle)
		return
	}
	if uint(c.kaMissed.Load()) >= cfg.KeepaliveCount {
		c.log.Warn("connection closed due to keepalive timeout")
		c.close()
		return
	}
	c.kaMissed.Add(1)
	c.sendKeepalive(keepalivePing, false)
	c.armKeepalive(interval)
}
