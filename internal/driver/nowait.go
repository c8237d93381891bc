package driver

import (
	"context"
	"errors"
)

// Reads answered from memory on the connection's own goroutine.
//
// The RPC layer may run a read (a lookup, a listing, a domain's XML) on the
// goroutine that reads the client's socket, saving the hand-off to a worker
// and back, but only if the call cannot wait there: while it runs nothing
// else of that client is read. It marks such a call's context with NoWait.
// A driver that honours the mark (it implements NoWaitReader) answers from
// what it holds in memory, and where it would have to wait (run VBoxManage,
// wait for another caller's read of the same thing, sleep) it returns
// ErrWouldBlock at once, having changed nothing; the RPC layer then runs the
// same call again on a worker without the mark. Short critical sections
// (a mutex held for a map lookup) are not waiting.

// ErrWouldBlock is what a driver returns from a call whose context carries
// NoWait when answering would mean waiting. It never reaches a client.
var ErrWouldBlock = errors.New("driver: the answer is not in memory")

// NoWaitReader is implemented by a Conn that honours NoWait: its read
// methods either answer from memory or return ErrWouldBlock without side
// effects. The RPC layer tries the calls it lists as memory reads inline
// only on such a Conn.
type NoWaitReader interface {
	HonoursNoWait() bool
}

type noWaitKey struct{}

// NoWait returns a context that tells the driver not to wait (see
// ErrWouldBlock).
func NoWait(ctx context.Context) context.Context {
	return context.WithValue(ctx, noWaitKey{}, true)
}

// MustNotWait reports whether ctx carries NoWait.
func MustNotWait(ctx context.Context) bool {
	v, _ := ctx.Value(noWaitKey{}).(bool)
	return v
}
