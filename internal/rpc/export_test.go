package rpc

import "time"

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
