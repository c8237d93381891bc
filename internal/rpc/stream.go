package rpc

import (
	"context"
	"errors"
	"io"
	"sync"
)

// Streams (virNetServerStream): a call such as DOMAIN_SCREENSHOT, a console
// or a volume upload/download opens a stream; after the call's REPLY, data
// flows as VIR_NET_STREAM packets carrying the call's program, procedure
// and serial: status CONTINUE with raw bytes (no XDR framing), OK with no
// payload for the end of the data (and the server's OK to acknowledge a
// client's), ERROR with a remote_error to abort.
//
// Flow control: the client's data waits in a queue of streamQueueMax
// packets per stream; when it is full, the connection stops being read, so
// the client's writes block (its socket fills) until the driver's Recv
// makes room. In the other direction Send returns once its packets are
// written to the socket, so a client that does not read holds the driver's
// writer, never the daemon's memory.

// Stream is the driver's side of one stream. Send and Finish are for data
// to the client, Recv for data from it; Abort ends the stream either way.
// All methods are safe for concurrent use; a stream whose client went away
// fails every call with ErrStreamClosed.
type Stream interface {
	// Send writes data to the client, in STREAM CONTINUE packets of at
	// most StreamChunkMax bytes, and returns once they are on the wire.
	// Empty data sends one empty CONTINUE packet: libvirt's end of the
	// data for a download; the client then finishes (Recv returns io.EOF)
	// and Finish acknowledges it (a STREAM OK the client did not ask for
	// is a protocol error to libvirt's client).
	Send(ctx context.Context, data []byte) error
	// Recv returns the client's next data packet; io.EOF once the client
	// finished (then call Finish to acknowledge it), ErrStreamAborted if
	// it aborted.
	Recv(ctx context.Context) ([]byte, error)
	// Finish ends the stream successfully: STREAM OK, the acknowledgement
	// of the client's end (after a download's empty Send, or an upload's
	// data).
	Finish(ctx context.Context) error
	// Abort ends the stream with err, sent as a STREAM ERROR (mapped as a
	// driver error).
	Abort(err error)
}

// StreamChunkMax is the largest data payload of one STREAM packet:
// VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX, what libvirt's clients and daemon send.
const StreamChunkMax = 262120

// streamQueueMax is how many of the client's data packets may wait for the
// driver's Recv before the connection stops being read.
const streamQueueMax = 8

var (
	// ErrStreamAborted is Recv's error after the client aborted the stream.
	ErrStreamAborted = errors.New("rpc: stream aborted by the client")
	// ErrStreamClosed is the error once the stream ended or its client
	// went away.
	ErrStreamClosed = errors.New("rpc: stream closed")
)

// errStreamAbortedByClient is the reply to a client's abort, as libvirt's.
var errStreamAbortedByClient = rpcError("stream aborted at client request")

type stream struct {
	c     *Client
	hdr   Header        // the opening call's program, version, procedure, serial
	ready chan struct{} // closed once the opening call's reply is queued
	in    chan []byte   // the client's data; closed when the client finished
	done  chan struct{} // closed when the stream ends

	mu    sync.Mutex
	rxErr error // after in is drained: io.EOF or ErrStreamAborted
	ended bool
}

// openStream opens a stream on the call cl: the handler hands it to the
// driver, whose data follows the call's reply.
func openStream(cl *call) *stream {
	c := cl.client
	st := &stream{c: c, hdr: cl.hdr, ready: make(chan struct{}), in: make(chan []byte, streamQueueMax),
		done: make(chan struct{})}
	c.mu.Lock()
	if c.streams == nil {
		c.streams = map[uint32]*stream{}
	}
	if old := c.streams[cl.hdr.Serial]; old != nil {
		old.endLocked()
	}
	c.streams[cl.hdr.Serial] = st
	closed := c.closed
	c.mu.Unlock()
	if closed {
		st.end()
	}
	cl.stream = st
	return st
}

// end ends the stream and forgets it.
func (st *stream) end() {
	st.c.mu.Lock()
	st.endLocked()
	st.c.mu.Unlock()
}

// endLocked is end with c.mu held.
func (st *stream) endLocked() {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ended {
		return
	}
	st.ended = true
	close(st.done)
	if st.c.streams[st.hdr.Serial] == st {
		delete(st.c.streams, st.hdr.Serial)
	}
}

// packet builds one STREAM packet of the stream with status and payload.
func (st *stream) packet(status Status, payload []byte, we *wireError) []byte {
	h := st.hdr
	h.Type, h.Status = TypeStream, status
	p := &packet{}
	p.reset(&h)
	if we != nil {
		p.putError(we)
	} else {
		p.b = append(p.b, payload...)
	}
	return p.finish()
}

// waitReady waits for the opening call's reply to be queued.
func (st *stream) waitReady(ctx context.Context) error {
	select {
	case <-st.ready:
		return nil
	case <-st.done:
		return ErrStreamClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// write queues b and waits until it is on the wire.
func (st *stream) write(ctx context.Context, b []byte) error {
	written := make(chan struct{})
	st.c.queue(b, func() { close(written) }, false)
	select {
	case <-written:
	case <-ctx.Done():
		return ctx.Err()
	}
	if st.c.isClosed() {
		st.end()
		return ErrStreamClosed
	}
	return nil
}

func (st *stream) Send(ctx context.Context, data []byte) error {
	if err := st.waitReady(ctx); err != nil {
		return err
	}
	if len(data) == 0 {
		select {
		case <-st.done:
			return ErrStreamClosed
		default:
		}
		return st.write(ctx, st.packet(StatusContinue, nil, nil))
	}
	for len(data) > 0 {
		select {
		case <-st.done:
			return ErrStreamClosed
		default:
		}
		n := min(len(data), StreamChunkMax)
		if err := st.write(ctx, st.packet(StatusContinue, data[:n], nil)); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

func (st *stream) Recv(ctx context.Context) ([]byte, error) {
	select {
	case b, ok := <-st.in:
		if ok {
			return b, nil
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		return nil, st.rxErr
	case <-st.done:
		st.mu.Lock()
		defer st.mu.Unlock()
		if st.rxErr == ErrStreamAborted {
			return nil, ErrStreamAborted
		}
		return nil, ErrStreamClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (st *stream) Finish(ctx context.Context) error {
	if err := st.waitReady(ctx); err != nil {
		return err
	}
	select {
	case <-st.done:
		return ErrStreamClosed
	default:
	}
	err := st.write(ctx, st.packet(StatusOK, nil, nil))
	st.end()
	return err
}

func (st *stream) Abort(err error) {
	select {
	case <-st.ready:
		select {
		case <-st.done:
		default:
			st.c.queue(st.packet(StatusError, nil, toWire(driverError(st.hdr.Procedure, err), fromVBox)), nil, false)
		}
	default:
	}
	st.end()
}

// streamPacket takes a STREAM packet from the client, on the connection
// loop: data waits in the stream's queue (the loop blocks while it is full:
// back-pressure), OK ends the client's data, ERROR aborts. Packets for no
// open stream are dropped, as libvirt does.
func (c *Client) streamPacket(h Header) func(payload []byte) {
	c.mu.Lock()
	st := c.streams[h.Serial]
	c.mu.Unlock()
	if st == nil || st.hdr.Program != h.Program || st.hdr.Procedure != h.Procedure {
		c.log.WithField("serial", h.Serial).Debug("dropping a packet for no open stream")
		return nil
	}
	return func(payload []byte) {
		switch h.Status {
		case StatusContinue:
			b := append([]byte(nil), payload...)
			select {
			case st.in <- b:
			case <-st.done:
			}
		case StatusOK:
			st.mu.Lock()
			if st.rxErr == nil {
				st.rxErr = io.EOF
				close(st.in)
			}
			st.mu.Unlock()
		default:
			st.mu.Lock()
			st.rxErr = ErrStreamAborted
			st.mu.Unlock()
			st.end()
			c.queue(st.packet(StatusError, nil, toWire(errStreamAbortedByClient, fromRPC)), nil, true)
		}
	}
}

// streamsClosed ends the client's streams when it goes away.
func (c *Client) streamsClosed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.streams {
		st.endLocked()
	}
}
