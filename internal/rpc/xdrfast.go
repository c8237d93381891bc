package rpc

import (
	"encoding/binary"

	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/virtvboxd/virtvboxd/internal/driver"
)

// The hottest reads (list, lookups, XML, info, state, version) are coded by
// hand. go-xdr reflects over every field and allocates for each element: a
// 20-domain listing cost it about 8 µs and 100 allocations, more than the
// rest of the call. The hand codecs below cover only those few types; go-xdr
// stays the codec for everything else and the reference for these:
// FuzzFastXDR checks each one byte for byte (and error for error) against it.

// encodeFast appends the XDR of v when v is one of the hot reply types, and
// reports whether it did.
func (p *packet) encodeFast(v any) bool {
	switch r := v.(type) {
	case libvirt.ConnectListAllDomainsRet:
		p.putU32(uint32(len(r.Domains)))
		for i := range r.Domains {
			p.putDomain(&r.Domains[i])
		}
		p.putU32(r.Ret)
	case libvirt.DomainLookupByNameRet:
		p.putDomain(&r.Dom)
	case libvirt.DomainLookupByUUIDRet:
		p.putDomain(&r.Dom)
	case libvirt.DomainLookupByIDRet:
		p.putDomain(&r.Dom)
	case libvirt.ConnectGetLibVersionRet:
		p.putU64(r.LibVer)
	case libvirt.ConnectGetVersionRet:
		p.putU64(r.HvVer)
	case libvirt.DomainGetInfoRet:
		p.putU32(uint32(r.State))
		p.putU64(r.MaxMem)
		p.putU64(r.Memory)
		p.putU32(uint32(r.NrVirtCPU))
		p.putU64(r.CPUTime)
	case libvirt.DomainGetStateRet:
		p.putU32(uint32(r.State))
		p.putU32(uint32(r.Reason))
	case libvirt.DomainIsActiveRet:
		p.putU32(uint32(r.Active))
	default:
		return false
	}
	return true
}

// putDomainList appends a ConnectListAllDomainsRet straight from the
// driver's list (without results, only the count), so that the hottest
// listing builds no second slice of it.
func (p *packet) putDomainList(doms []driver.Domain, results bool) {
	if !results {
		p.putU32(0)
	} else {
		p.putU32(uint32(len(doms)))
		for i := range doms {
			d := libvirt.Domain{Name: doms[i].Name, UUID: doms[i].UUID, ID: doms[i].ID}
			p.putDomain(&d)
		}
	}
	p.putU32(uint32(len(doms)))
}

// putDomain appends a remote_nonnull_domain: name, UUID, ID.
func (p *packet) putDomain(d *libvirt.Domain) {
	p.putString(d.Name)
	p.b = append(p.b, d.UUID[:]...) // 16 bytes: a fixed opaque needs no padding
	p.putU32(uint32(d.ID))
}

// decodeFast decodes payload into v when v is one of the hot argument types.
// handled is false for any other type; err is what decodeArgs would answer.
func decodeFast(payload []byte, v any) (handled bool, err error) {
	r := &xdrReader{b: payload}
	switch a := v.(type) {
	case *libvirt.DomainGetXMLDescArgs:
		r.domain(&a.Dom)
		a.Flags = libvirt.DomainXMLFlags(r.u32())
	case *libvirt.DomainLookupByNameArgs:
		a.Name = r.str()
	case *libvirt.DomainLookupByUUIDArgs:
		r.uuid(&a.UUID)
	case *libvirt.DomainLookupByIDArgs:
		a.ID = int32(r.u32())
	case *libvirt.ConnectListAllDomainsArgs:
		a.NeedResults = int32(r.u32())
		a.Flags = libvirt.ConnectListAllDomainsFlags(r.u32())
	case *libvirt.DomainGetInfoArgs:
		r.domain(&a.Dom)
	case *libvirt.DomainGetStateArgs:
		r.domain(&a.Dom)
		a.Flags = r.u32()
	case *libvirt.DomainIsActiveArgs:
		r.domain(&a.Dom)
	default:
		return false, nil
	}
	return true, r.err
}

// xdrReader reads XDR primitives from a payload, bounded by its length: a
// read past the end, or a string longer than REMOTE_STRING_MAX, sets err,
// after which reads return zeros. Trailing bytes are ignored, as libvirt does.
type xdrReader struct {
	b   []byte
	err error
}

func (r *xdrReader) fail() { r.err = rpcError("Unable to decode message payload") }

func (r *xdrReader) u32() uint32 {
	if r.err != nil || len(r.b) < 4 {
		r.fail()
		return 0
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *xdrReader) u64() uint64 {
	hi := uint64(r.u32())
	return hi<<32 | uint64(r.u32())
}

func (r *xdrReader) str() string {
	n := r.u32()
	padded := (uint64(n) + 3) &^ 3
	if r.err != nil || n > stringMax || uint64(len(r.b)) < padded {
		r.fail()
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[padded:]
	return s
}

func (r *xdrReader) uuid(u *libvirt.UUID) {
	if r.err != nil || len(r.b) < len(u) {
		r.fail()
		return
	}
	copy(u[:], r.b)
	r.b = r.b[len(u):]
}

// domain reads a remote_nonnull_domain.
func (r *xdrReader) domain(d *libvirt.Domain) {
	d.Name = r.str()
	r.uuid(&d.UUID)
	d.ID = int32(r.u32())
}
