package driver

import "context"

// ConsoleConn is the part of Conn for screenshots, keys, the serial console
// and NMIs. Every method that changes or reads the running guest is refused
// to read-only clients by the RPC layer (the facts table's read-only rule)
// before it is called.
type ConsoleConn interface {
	// DomainScreenshot takes a picture of screen and returns its MIME type
	// ("image/png"). The image itself goes to st: the driver sends it and
	// finishes the stream once this call has answered (the stream's data
	// follows the reply), or aborts st on a failure after the answer. On
	// an error return nothing is sent and the RPC layer closes st.
	DomainScreenshot(ctx context.Context, d Domain, st Stream, screen uint32, flags uint32) (string, error)

	// DomainSendKey presses the keys of codeset (libvirt's
	// virKeycodeSet: KeycodeSetLinux...) together, holds them holdtime
	// milliseconds and releases them.
	DomainSendKey(ctx context.Context, d Domain, codeset uint32, holdtime uint32, keycodes []uint32, flags uint32) error

	// DomainOpenConsole connects st to the guest console devName (""
	// means the first one) in both directions. It returns once the
	// console is connected; the driver then copies until either side
	// ends: the client's end of data closes the console and finishes
	// st, the console's end finishes st, and a client that goes away
	// closes the console. One stream per console: another one is refused
	// with ErrOperationFailed unless flags has ConsoleForce, which ends
	// the current one.
	DomainOpenConsole(ctx context.Context, d Domain, devName string, st Stream, flags uint32) error

	// DomainInjectNMI sends a non-maskable interrupt to the guest.
	DomainInjectNMI(ctx context.Context, d Domain, flags uint32) error
}

// Stream is the driver's side of an RPC stream (virStreamPtr) that a call
// opened; the RPC layer implements it. All methods are safe for concurrent
// use; once the client has gone away every call fails.
type Stream interface {
	// Send writes data to the client and returns once it is on the wire
	// (so a client that does not read holds the sender, not memory).
	Send(ctx context.Context, data []byte) error
	// Recv returns the client's next data; io.EOF once the client has
	// finished its data (acknowledge with Finish), another error once it
	// aborted or went away.
	Recv(ctx context.Context) ([]byte, error)
	// Finish ends the stream successfully.
	Finish(ctx context.Context) error
	// Abort ends the stream with err (an errdefs class), which the client
	// receives as the stream's error.
	Abort(err error)
}

// libvirt's virKeycodeSet values (VIR_KEYCODE_SET_*). RFB is an alias of
// QNUM since libvirt 4.2.
const (
	KeycodeSetLinux  = 0
	KeycodeSetXT     = 1
	KeycodeSetATSet1 = 2
	KeycodeSetATSet2 = 3
	KeycodeSetATSet3 = 4
	KeycodeSetOSX    = 5
	KeycodeSetXTKbd  = 6
	KeycodeSetUSB    = 7
	KeycodeSetWin32  = 8
	KeycodeSetQNum   = 9
	KeycodeSetLast   = 10
)

// SendKeyMaxKeys is VIR_DOMAIN_SEND_KEY_MAX_KEYS, the most keys one call
// presses.
const SendKeyMaxKeys = 16

// Console flags (virDomainConsoleFlags).
const (
	ConsoleForce = 1 << 0 // VIR_DOMAIN_CONSOLE_FORCE: take the console over from its current reader
	ConsoleSafe  = 1 << 1 // VIR_DOMAIN_CONSOLE_SAFE: only if the driver can tell concurrent readers apart
)

func (Unsupported) DomainScreenshot(context.Context, Domain, Stream, uint32, uint32) (string, error) {
	return "", noSupport("virDomainScreenshot")
}
func (Unsupported) DomainSendKey(context.Context, Domain, uint32, uint32, []uint32, uint32) error {
	return noSupport("virDomainSendKey")
}
func (Unsupported) DomainOpenConsole(context.Context, Domain, string, Stream, uint32) error {
	return noSupport("virDomainOpenConsole")
}
func (Unsupported) DomainInjectNMI(context.Context, Domain, uint32) error {
	return noSupport("virDomainInjectNMI")
}
