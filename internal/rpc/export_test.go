package rpc

import (
	"context"
	"github.com/virtvboxd/virtvboxd/internal/driver"
	"time"
)

// Fixture is unhex, for the tests of package rpc_test.
var Fixture = unhex

// ImplementedRemoteProcs returns the REMOTE procedures with a handler, for
// the fuzz target that calls each of them with random arguments.
func ImplementedRemoteProcs() []int32 {
	var procs []int32
	for proc, h := range remoteHandlers {
		if h != nil {
			procs = append(procs, int32(proc))
		}
	}
	return procs
}

// SetDrainTimes replaces drainIdle and drainWrite for a test and returns
// what restores them.
func SetDrainTimes(idle, write time.Duration) (restore func()) {
	oldIdle, oldWrite := drainIdle, drainWrite
	drainIdle, drainWrite = idle, write
	return func() { drainIdle, drainWrite = oldIdle, oldWrite }
}

// InstallRemoteHandler serves REMOTE procedure proc with f until restore is
// called, for the tests of streams and events (no procedure uses them yet):
// f gets the calling client, a function that opens a stream on the call, and
// the encoder of the reply.
func InstallRemoteHandler(proc int32, f func(ctx context.Context, c *Client, open func() Stream,
	reply func(v any) error) error) (restore func()) {
	old := remoteHandlers[proc]
	remoteHandlers[proc] = func(ctx context.Context, cn driver.Conn, cl *call, out *packet) error {
		return f(ctx, cl.client, func() Stream { return openStream(cl) }, out.encode)
	}
	return func() { remoteHandlers[proc] = old }
}
