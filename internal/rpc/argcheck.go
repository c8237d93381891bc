package rpc

import "fmt"

// The argument checks libvirt makes before a call reaches a driver: the
// REMOTE_*_MAX limits of remote_protocol.x (checked by libvirt's
// dispatchers) and the virCheck*Arg checks of the public API entry points.
// Every count an implemented procedure takes is checked here, with
// libvirt's answer, before any allocation sized by it. Hostile values cost
// one error reply.

// remote_protocol.x limits used by the implemented procedures.
const (
	nodeMemoryStatsMax = 16 // REMOTE_NODE_MEMORY_STATS_MAX
	// memoryMaxKiB is virMemoryMaxValue(true)/1024 on 64-bit hosts
	// (LLONG_MAX bytes): virDomainSetMemory* refuse memory at or above it.
	memoryMaxKiB = (1<<63 - 1) / 1024
)

// argNonNegative is virCheckNonNegativeArgGoto in api (object domain).
func argNonNegative(api, arg string, v int32) error {
	if v >= 0 {
		return nil
	}
	return newError(errInvalidArg, objectDomain(api), fmt.Sprintf("%s in %s must be zero or greater", arg, api))
}

// argPositive is virCheckPositiveArgGoto in api.
func argPositive(api, arg string, v int32) error {
	if v > 0 {
		return nil
	}
	return newError(errInvalidArg, objectDomain(api), fmt.Sprintf("%s in %s must be greater than zero", arg, api))
}

// argNonZero is virCheckNonZeroArgGoto in api.
func argNonZero(api, arg string, v uint64) error {
	if v != 0 {
		return nil
	}
	return newError(errInvalidArg, objectDomain(api), fmt.Sprintf("%s in %s must not be zero", arg, api))
}

// argMemory is the check of virDomainSetMemory, SetMaxMemory and
// SetMemoryFlags: not zero, and below virMemoryMaxValue.
func argMemory(api string, kib uint64) error {
	if err := argNonZero(api, "memory", kib); err != nil {
		return err
	}
	if kib >= memoryMaxKiB {
		return newError(errOverflow, objectDomain(api), fmt.Sprintf("input too large: %d", kib))
	}
	return nil
}

// argNodeMemoryStats checks NODE_GET_MEMORY_STATS: the dispatcher's
// REMOTE_NODE_MEMORY_STATS_MAX, then virNodeGetMemoryStats's nparams and
// cellNum checks.
func argNodeMemoryStats(nparams, cellNum int32) error {
	const api = "virNodeGetMemoryStats"
	if nparams > nodeMemoryStatsMax {
		return newError(errInternalError, fromRPC, "nparams too large")
	}
	if err := argNonNegative(api, "*nparams", nparams); err != nil {
		return err
	}
	if cellNum < 0 && cellNum != nodeMemoryStatsAllCells {
		return newError(errInvalidArg, objectDomain(api), fmt.Sprintf(
			"cellNum in %s only accepts %d as a negative value", api, nodeMemoryStatsAllCells))
	}
	return nil
}

// argListMax checks a ConnectList* maximum: the dispatcher's
// REMOTE_DOMAIN_LIST_MAX, then the API's non-negative check.
func argListMax(api, arg string, v int32) error {
	if v > domainListMax {
		return rpcError(arg + " > REMOTE_DOMAIN_LIST_MAX")
	}
	return argNonNegative(api, arg, v)
}
