package rpc

import (
	"sync"
)

// Server-sent messages: an event (a domain's lifecycle change, a console
// closing...) reaches a client as a VIR_NET_MESSAGE packet outside any call:
// type MESSAGE, status OK, serial 1 (as libvirt 9.0), the event's program and procedure
// (e.g. REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE) and its XDR payload.
//
// The program's register procedures subscribe a client (Subscribe) and its
// deregister procedures and the client's departure unsubscribe it; the
// driver publishes (Publish) without knowing who listens. A client that does
// not read gets at most eventQueueMax unsent events; the ones beyond are
// dropped (a warning when dropping starts, and how many when the client
// reads again), so one stuck client cannot grow the daemon's memory.

// eventQueueMax is how many events may wait to be written to one client.
const eventQueueMax = 1024

// EventSink publishes events to the clients subscribed to them. Get the
// server's with (*Server).Events.
type EventSink struct {
	mu   sync.Mutex
	subs map[eventKey]map[*Client]int // subscriptions per client, counted
	// pending counts each client's events queued but not yet written;
	// dropped those refused since its queue was last empty.
	pending map[*Client]int
	dropped map[*Client]int
}

type eventKey struct {
	prog uint32
	proc int32
}

func newEventSink() *EventSink {
	return &EventSink{subs: map[eventKey]map[*Client]int{}, pending: map[*Client]int{}, dropped: map[*Client]int{}}
}

// Subscribe makes c receive the events prog/proc; unsubscribe undoes it
// (once). A client may subscribe several times (libvirt's callback ids):
// it gets each event once while any subscription holds.
func (e *EventSink) Subscribe(c *Client, prog uint32, proc int32) (unsubscribe func()) {
	k := eventKey{prog, proc}
	e.mu.Lock()
	if e.subs[k] == nil {
		e.subs[k] = map[*Client]int{}
	}
	e.subs[k][c]++
	e.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			e.mu.Lock()
			defer e.mu.Unlock()
			if e.subs[k][c]--; e.subs[k][c] <= 0 {
				delete(e.subs[k], c)
			}
		})
	}
}

// Publish sends the event prog/proc with payload (an XDR-encodable value) to
// every subscribed client and returns how many it was queued for.
func (e *EventSink) Publish(prog uint32, proc int32, payload any) (int, error) {
	b, err := eventPacket(prog, proc, payload)
	if err != nil {
		return 0, err
	}
	e.mu.Lock()
	var to []*Client
	for c := range e.subs[eventKey{prog, proc}] {
		if e.admitLocked(c, proc) {
			to = append(to, c)
		}
	}
	e.mu.Unlock()
	for _, c := range to {
		e.queue(c, b)
	}
	return len(to), nil
}

// Send sends the event prog/proc with payload to c alone (an event whose
// payload names the client's own registration, such as libvirt's callback
// ID). It reports whether the event was queued: false when c already has
// eventQueueMax events unsent.
func (e *EventSink) Send(c *Client, prog uint32, proc int32, payload any) (bool, error) {
	b, err := eventPacket(prog, proc, payload)
	if err != nil {
		return false, err
	}
	e.mu.Lock()
	ok := e.admitLocked(c, proc)
	e.mu.Unlock()
	if ok {
		e.queue(c, b)
	}
	return ok, nil
}

// eventPacket encodes an event: type MESSAGE, status OK and serial 1, as
// libvirt 9.0's daemon sends them (remote_protocol.x says 0; clients read
// neither).
func eventPacket(prog uint32, proc int32, payload any) ([]byte, error) {
	p := &packet{}
	h := Header{Program: prog, Version: programVersion, Procedure: proc, Type: TypeMessage, Serial: 1, Status: StatusOK}
	p.reset(&h)
	if err := p.encode(payload); err != nil {
		return nil, err
	}
	return p.finish(), nil
}

// admitLocked counts one more unsent event for c, unless it has
// eventQueueMax already. The caller holds e.mu.
func (e *EventSink) admitLocked(c *Client, proc int32) bool {
	if e.pending[c] >= eventQueueMax {
		if e.dropped[c]++; e.dropped[c] == 1 {
			c.log.WithField("proc", proc).Warn("dropping events: the client does not read them")
		}
		return false
	}
	e.pending[c]++
	return true
}

// queue hands an admitted event to c's writer; its count is returned once
// written (or dropped with the connection).
func (e *EventSink) queue(c *Client, b []byte) {
	c.queue(b, func() {
		e.mu.Lock()
		if e.pending[c]--; e.pending[c] <= 0 {
			delete(e.pending, c)
			if n := e.dropped[c]; n > 0 {
				c.log.WithField("dropped", n).Warn("the client reads its events again")
				delete(e.dropped, c)
			}
		}
		e.mu.Unlock()
	}, false)
}

// clientGone drops c's subscriptions.
func (e *EventSink) clientGone(c *Client) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k, m := range e.subs {
		delete(m, c)
		if len(m) == 0 {
			delete(e.subs, k)
		}
	}
	delete(e.dropped, c)
}
