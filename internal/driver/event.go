package driver

import "context"

// EventConn is the part of Conn for domain event subscriptions.
//
// The RPC layer keeps each client's registrations (libvirt's callback IDs,
// domain filters, legacy or callback style) and holds one driver
// subscription per connection while it has any; the driver only says what
// happened to which domain.
type EventConn interface {
	// DomainEventSubscribe makes the driver call f with every domain event
	// (of any domain, any DomainEventID it produces) until cancel is called
	// or the connection closes. Calls of f are made one at a time, in the
	// order the events happened; f must not block nor call the driver.
	// cancel may be called more than once.
	DomainEventSubscribe(ctx context.Context, f func(DomainEvent)) (cancel func(), err error)
}

// DomainEventID is libvirt's virDomainEventID: what a registration asks for.
type DomainEventID int32

// The event IDs the RPC layer needs by name (include/libvirt/libvirt-domain.h).
const (
	DomainEventIDLifecycle DomainEventID = 0
	DomainEventIDReboot    DomainEventID = 1
	// DomainEventIDDeviceRemoved is the last ID the legacy REGISTER_ANY
	// procedure accepts; newer ones exist only in the callback style.
	DomainEventIDDeviceRemoved DomainEventID = 15
	// DomainEventIDLast is VIR_DOMAIN_EVENT_ID_LAST of libvirt 9.0 (after
	// MEMORY_DEVICE_SIZE_CHANGE, 26).
	DomainEventIDLast DomainEventID = 27
)

// Lifecycle events: libvirt's virDomainEventType.
const (
	EventDefined     int32 = 0
	EventUndefined   int32 = 1
	EventStarted     int32 = 2
	EventSuspended   int32 = 3
	EventResumed     int32 = 4
	EventStopped     int32 = 5
	EventShutdown    int32 = 6
	EventPMSuspended int32 = 7
	EventCrashed     int32 = 8
)

// Lifecycle event details (virDomainEvent*DetailType), by event.
const (
	DetailDefinedAdded        int32 = 0
	DetailDefinedUpdated      int32 = 1
	DetailDefinedRenamed      int32 = 2
	DetailDefinedFromSnapshot int32 = 3

	DetailUndefinedRemoved int32 = 0
	DetailUndefinedRenamed int32 = 1

	DetailStartedBooted       int32 = 0
	DetailStartedMigrated     int32 = 1
	DetailStartedRestored     int32 = 2
	DetailStartedFromSnapshot int32 = 3
	DetailStartedWakeup       int32 = 4

	DetailSuspendedPaused       int32 = 0
	DetailSuspendedMigrated     int32 = 1
	DetailSuspendedIOError      int32 = 2
	DetailSuspendedWatchdog     int32 = 3
	DetailSuspendedRestored     int32 = 4
	DetailSuspendedFromSnapshot int32 = 5
	DetailSuspendedAPIError     int32 = 6

	DetailResumedUnpaused     int32 = 0
	DetailResumedMigrated     int32 = 1
	DetailResumedFromSnapshot int32 = 2

	DetailStoppedShutdown     int32 = 0
	DetailStoppedDestroyed    int32 = 1
	DetailStoppedCrashed      int32 = 2
	DetailStoppedMigrated     int32 = 3
	DetailStoppedSaved        int32 = 4
	DetailStoppedFailed       int32 = 5
	DetailStoppedFromSnapshot int32 = 6

	DetailShutdownFinished int32 = 0
	DetailShutdownGuest    int32 = 1
	DetailShutdownHost     int32 = 2

	DetailCrashedPanicked int32 = 0
)

// DomainEvent is one event about a domain. For DomainEventIDLifecycle,
// Event and Detail are libvirt's event and detail codes; other IDs (reboot)
// carry nothing but the domain. Domain.ID is the domain's ID after the
// event (-1 once stopped).
type DomainEvent struct {
	ID     DomainEventID
	Domain Domain
	Event  int32
	Detail int32
}

func (Unsupported) DomainEventSubscribe(context.Context, func(DomainEvent)) (func(), error) {
	return func() {}, noSupport("virConnectDomainEventRegisterAny")
}
