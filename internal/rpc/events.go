package rpc

import (
	"sync"
)

// Server-sent messages: an event (a domain's lifecycle change, a console
// closing...) reaches a client as a VIR_NET_MESSAGE packet outside any call:
// type MESSAGE, status OK, serial 0, the event's program and procedure
// (e.g. REMOTE_PROC_DOMAIN_EVENT_CALLBACK_LIFECYCLE) and its XDR payload.
//
// The program's register procedures subscribe a client (Subscribe) and its
// deregister procedures and the client's departure unsubscribe it; the
// driver publishes (Publish) without knowing who listens. A client that does
// not read gets at most eventQueueMax unsent events; the ones beyond are
// dropped (and counted in the log), so one stuck client cannot grow the
// daemon's memory.

// eventQueueMax is how many events may wait to be written to one client.
const eventQueueMax = 1024

// EventSink publishes events to the clients subscribed to them. Get the
// server's with (*Server).Events.
type EventSink struct {
	mu   sync.Mutex
	subs map[eventKey]map[*Client]int // subscriptions per client, counted
	// pending counts each client's events queued but not yet written.
	pending map[*Client]int
}

type eventKey struct {
	prog uint32
	proc int32
}

func newEventSink() *EventSink {
	return &EventSink{subs: map[eventKey]map[*Client]int{}, pending: map[*Client]int{}}
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
	p := &packet{}
	h := Header{Program: prog, Version: programVersion, Procedure: proc, Type: TypeMessage, Status: StatusOK}
	p.reset(&h)
	if err := p.encode(payload); err != nil {
		return 0, err
	}
	b := p.finish()
	e.mu.Lock()
	var to []*Client
	for c := range e.subs[eventKey{prog, proc}] {
		if e.pending[c] >= eventQueueMax {
			c.log.WithField("proc", proc).Debug("dropping an event: the client does not read")
			continue
		}
		e.pending[c]++
		to = append(to, c)
	}
	e.mu.Unlock()
	for _, c := range to {
		c.queue(b, func() {
			e.mu.Lock()
			if e.pending[c]--; e.pending[c] <= 0 {
				delete(e.pending, c)
			}
			e.mu.Unlock()
		}, false)
	}
	return len(to), nil
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
}
