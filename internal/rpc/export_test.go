package rpc

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
