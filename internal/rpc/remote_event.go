package rpc

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// eventHandlers are the domain event procedures (see remoteHandlers):
// libvirt's three ways to register, each with its way back.
//
//   - CONNECT_DOMAIN_EVENT_REGISTER / DEREGISTER (the oldest): lifecycle
//     events, sent as DOMAIN_EVENT_LIFECYCLE.
//   - CONNECT_DOMAIN_EVENT_REGISTER_ANY / DEREGISTER_ANY: one event ID per
//     call (at most DEVICE_REMOVED), sent as that ID's plain message
//     (DOMAIN_EVENT_LIFECYCLE, DOMAIN_EVENT_REBOOT...); deregistration
//     names the event ID.
//   - CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY / CALLBACK_DEREGISTER_ANY
//     (what clients use once the server has feature REMOTE_EVENT_CALLBACK):
//     any event ID, optionally for one domain; the server returns a callback
//     ID that its messages (DOMAIN_EVENT_CALLBACK_LIFECYCLE...) carry and
//     that deregistration names.
//
// Each registration gets a callback ID, and each event goes out once per
// matching registration, as libvirt's daemon does. A client's registrations
// share one driver subscription (driver.EventConn), held while it has any.
// Read-only clients may register.
var eventHandlers = handlerSet{
	procConnectDomainEventRegister:              connectDomainEventRegister,
	procConnectDomainEventDeregister:            connectDomainEventDeregister,
	procConnectDomainEventRegisterAny:           withEvents(connectDomainEventRegisterAny),
	procConnectDomainEventDeregisterAny:         withEvents(connectDomainEventDeregisterAny),
	procConnectDomainEventCallbackRegisterAny:   withEvents(connectDomainEventCallbackRegisterAny),
	procConnectDomainEventCallbackDeregisterAny: withEvents(connectDomainEventCallbackDeregisterAny),
}

// eventsKey is where a client's registrations live in its per-program data
// (Client.data), beside the programs' own state, which is keyed by program
// number.
const eventsKey uint32 = 0x65766e74 // "evnt"

// clientEvents are one client's domain event registrations.
type clientEvents struct {
	c    *Client
	mu   sync.Mutex // serialises (de)registrations
	next int32      // the last callback ID given
	// regs is read by the driver's event callback without a lock.
	regs   atomic.Pointer[[]*eventReg]
	cancel func() // the driver subscription while regs is not empty
}

// eventReg is one registration.
type eventReg struct {
	id      int32 // callback ID
	eventID driver.DomainEventID
	legacy  bool // REGISTER or REGISTER_ANY: plain messages
	// viaRegister: made by the oldest REGISTER (for error messages).
	viaRegister bool
	dom         *[16]byte // CALLBACK_REGISTER_ANY's domain filter (UUID)
}

func eventsOf(c *Client) *clientEvents {
	return c.data(eventsKey, func() any { return &clientEvents{c: c} }).(*clientEvents)
}

// withEvents is withArgs for the event procedures, which need the client.
func withEvents[A any](f func(ctx context.Context, cn driver.Conn, ce *clientEvents, a *A, out *packet) error) remoteHandler {
	return func(ctx context.Context, cn driver.Conn, cl *call, out *packet) error {
		var a A
		if err := decodeArgs(cl.payload, &a); err != nil {
			return err
		}
		return f(ctx, cn, eventsOf(cl.client), &a, out)
	}
}

// errEvent is the error libvirt's daemon reports for a bad (de)registration:
// VIR_ERR_INTERNAL_ERROR in the RPC domain.
func errEvent(format string, args ...any) error {
	return newError(errInternalError, fromRPC, fmt.Sprintf(format, args...))
}

// add registers r and returns its callback ID. The first registration
// subscribes to the driver's events.
func (ce *clientEvents) add(ctx context.Context, cn driver.Conn, r *eventReg) (int32, error) {
	ce.mu.Lock()
	defer ce.mu.Unlock()
	if ce.cancel == nil {
		cancel, err := cn.DomainEventSubscribe(ctx, ce.deliver)
		if errors.Is(err, errdefs.ErrNoSupport) {
			// Named after the public API, which the callback procedures
			// (no API of their own) share.
			api := "virConnectDomainEventRegisterAny"
			if r.legacy && r.eventID == driver.DomainEventIDLifecycle && r.viaRegister {
				api = "virConnectDomainEventRegister"
			}
			return 0, newError(errNoSupport, objectDomain(api), api)
		}
		if err != nil {
			return 0, err
		}
		ce.cancel = cancel
	}
	ce.next++
	r.id = ce.next
	var regs []*eventReg
	if p := ce.regs.Load(); p != nil {
		regs = append(regs, *p...)
	}
	regs = append(regs, r)
	ce.regs.Store(&regs)
	return r.id, nil
}

// remove drops the first registration match accepts; the last one ends
// the driver subscription. It reports whether one was found.
func (ce *clientEvents) remove(match func(*eventReg) bool) bool {
	ce.mu.Lock()
	defer ce.mu.Unlock()
	p := ce.regs.Load()
	if p == nil {
		return false
	}
	for i, r := range *p {
		if !match(r) {
			continue
		}
		regs := append(append([]*eventReg(nil), (*p)[:i]...), (*p)[i+1:]...)
		ce.regs.Store(&regs)
		if len(regs) == 0 && ce.cancel != nil {
			ce.cancel()
			ce.cancel = nil
		}
		return true
	}
	return false
}

// deliver sends ev to the client once per registration that wants it. The
// driver calls it for every event, one at a time.
func (ce *clientEvents) deliver(ev driver.DomainEvent) {
	p := ce.regs.Load()
	if p == nil {
		return
	}
	sink := ce.c.srv.Events()
	dom := fromDomainValue(ev.Domain)
	for _, r := range *p {
		if r.eventID != ev.ID || r.dom != nil && *r.dom != ev.Domain.UUID {
			continue
		}
		proc, msg := eventMessage(r, dom, ev)
		if proc == 0 {
			continue
		}
		if _, err := sink.Send(ce.c, RemoteProgram, proc, msg); err != nil {
			ce.c.log.WithError(err).Warn("cannot encode a domain event")
		}
	}
}

// eventMessage is the procedure and payload that tell r of ev (0 for an
// event ID without a message here).
func eventMessage(r *eventReg, dom libvirt.Domain, ev driver.DomainEvent) (int32, any) {
	switch ev.ID {
	case driver.DomainEventIDLifecycle:
		m := libvirt.DomainEventLifecycleMsg{Dom: dom, Event: ev.Event, Detail: ev.Detail}
		if r.legacy {
			return procDomainEventLifecycle, m
		}
		return procDomainEventCallbackLifecycle, libvirt.DomainEventCallbackLifecycleMsg{CallbackID: r.id, Msg: m}
	case driver.DomainEventIDReboot:
		m := libvirt.DomainEventRebootMsg{Dom: dom}
		if r.legacy {
			return procDomainEventReboot, m
		}
		return procDomainEventCallbackReboot, libvirt.DomainEventCallbackRebootMsg{CallbackID: r.id, Msg: m}
	}
	return 0, nil
}

// connectDomainEventRegister is the oldest API: lifecycle events of every
// domain. Its cb_registered is left 0, as libvirt's daemon leaves it.
func connectDomainEventRegister(ctx context.Context, cn driver.Conn, cl *call, out *packet) error {
	ce := eventsOf(cl.client)
	if _, err := ce.add(ctx, cn, &eventReg{eventID: driver.DomainEventIDLifecycle, legacy: true, viaRegister: true}); err != nil {
		return err
	}
	return out.encode(libvirt.ConnectDomainEventRegisterRet{})
}

func connectDomainEventDeregister(ctx context.Context, cn driver.Conn, cl *call, out *packet) error {
	ce := eventsOf(cl.client)
	if !ce.remove(func(r *eventReg) bool { return r.eventID == driver.DomainEventIDLifecycle }) {
		return errEvent("domain event %d not registered", driver.DomainEventIDLifecycle)
	}
	return out.encode(libvirt.ConnectDomainEventDeregisterRet{})
}

// legacyEventID checks REGISTER_ANY's and DEREGISTER_ANY's event ID: IDs
// after DEVICE_REMOVED exist only in the callback style.
func legacyEventID(id int32) error {
	if id < 0 || id > int32(driver.DomainEventIDDeviceRemoved) {
		return errEvent("unsupported event ID %d", id)
	}
	return nil
}

func connectDomainEventRegisterAny(ctx context.Context, cn driver.Conn, ce *clientEvents, a *libvirt.ConnectDomainEventRegisterAnyArgs, out *packet) error {
	if err := legacyEventID(a.EventID); err != nil {
		return err
	}
	_, err := ce.add(ctx, cn, &eventReg{eventID: driver.DomainEventID(a.EventID), legacy: true})
	return err
}

func connectDomainEventDeregisterAny(ctx context.Context, cn driver.Conn, ce *clientEvents, a *libvirt.ConnectDomainEventDeregisterAnyArgs, out *packet) error {
	if err := legacyEventID(a.EventID); err != nil {
		return err
	}
	if !ce.remove(func(r *eventReg) bool { return r.eventID == driver.DomainEventID(a.EventID) }) {
		return errEvent("domain event %d not registered", a.EventID)
	}
	return nil
}

func connectDomainEventCallbackRegisterAny(ctx context.Context, cn driver.Conn, ce *clientEvents, a *libvirt.ConnectDomainEventCallbackRegisterAnyArgs, out *packet) error {
	if a.EventID < 0 || a.EventID >= int32(driver.DomainEventIDLast) {
		return errEvent("unsupported event ID %d", a.EventID)
	}
	r := &eventReg{eventID: driver.DomainEventID(a.EventID)}
	if len(a.Dom) > 0 {
		u := [16]byte(a.Dom[0].UUID)
		r.dom = &u
	}
	id, err := ce.add(ctx, cn, r)
	if err != nil {
		return err
	}
	return out.encode(libvirt.ConnectDomainEventCallbackRegisterAnyRet{CallbackID: id})
}

func connectDomainEventCallbackDeregisterAny(ctx context.Context, cn driver.Conn, ce *clientEvents, a *libvirt.ConnectDomainEventCallbackDeregisterAnyArgs, out *packet) error {
	if !ce.remove(func(r *eventReg) bool { return !r.legacy && r.id == a.CallbackID }) {
		return errEvent("domain event callback %d not registered", a.CallbackID)
	}
	return nil
}
