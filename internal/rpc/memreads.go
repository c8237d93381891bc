package rpc

import "github.com/virtvboxd/virtvboxd/internal/driver"

// memoryRead reports whether proc is a read the driver may answer from
// memory: the connection loop then tries it inline under driver.NoWait, and
// hands it to a worker only when the driver returns driver.ErrWouldBlock
// (see Client.handle). Only a Conn that implements driver.NoWaitReader is
// tried: a driver that might wait must never run on the connection's
// goroutine, since nothing else of that client is read meanwhile.
func (p *remoteProgram) memoryRead(c *Client, proc int32) bool {
	if !memoryReads[proc] {
		return false
	}
	cn, _ := p.state(c).get()
	nw, ok := cn.(driver.NoWaitReader)
	return ok && nw.HonoursNoWait()
}

// memoryReads are the lookups, listings and per-domain reads a driver keeps
// in memory (virt-manager's and the exporters' polling), all of which
// read-only clients may call.
var memoryReads = map[int32]bool{
	procConnectListAllDomains:      true,
	procConnectNumOfDomains:        true,
	procConnectListDomains:         true,
	procConnectNumOfDefinedDomains: true,
	procConnectListDefinedDomains:  true,
	procDomainLookupByName:         true,
	procDomainLookupByUUID:         true,
	procDomainLookupByID:           true,
	procDomainGetXMLDesc:           true,
	procDomainGetInfo:              true,
	procDomainGetState:             true,
	procDomainGetOSType:            true,
	procDomainIsActive:             true,
	procDomainIsPersistent:         true,
	procDomainIsUpdated:            true,
	procDomainGetAutostart:         true,
	procDomainHasManagedSaveImage:  true,
	procDomainGetMaxVcpus:          true,
	procDomainGetVcpusFlags:        true,
	procDomainGetMaxMemory:         true,
}

// memoryRead: the admin program has no driver.
func (p *adminProgram) memoryRead(c *Client, proc int32) bool { return false }
