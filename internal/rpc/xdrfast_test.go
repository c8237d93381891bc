package rpc

import (
	"bytes"
	"math/rand"
	"reflect"
	"testing"
	"testing/quick"

	xdr "github.com/davecgh/go-xdr/xdr2"
	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/virtvboxd/virtvboxd/internal/driver"
)

// The hand-coded reply types, each with go-xdr as the reference.
var fastReplies = []any{
	libvirt.ConnectListAllDomainsRet{},
	libvirt.DomainLookupByNameRet{},
	libvirt.DomainLookupByUUIDRet{},
	libvirt.DomainLookupByIDRet{},
	libvirt.ConnectGetLibVersionRet{},
	libvirt.ConnectGetVersionRet{},
	libvirt.DomainGetInfoRet{},
	libvirt.DomainGetStateRet{},
	libvirt.DomainIsActiveRet{},
}

// The hand-decoded argument types (pointers, as handlers decode into them).
func fastArgs() []any {
	return []any{
		&libvirt.DomainGetXMLDescArgs{},
		&libvirt.DomainLookupByNameArgs{},
		&libvirt.DomainLookupByUUIDArgs{},
		&libvirt.DomainLookupByIDArgs{},
		&libvirt.ConnectListAllDomainsArgs{},
		&libvirt.DomainGetInfoArgs{},
		&libvirt.DomainGetStateArgs{},
		&libvirt.DomainIsActiveArgs{},
	}
}

func TestFastEncodeMatchesXDR(t *testing.T) {
	rnd := rand.New(rand.NewSource(1))
	for _, proto := range fastReplies {
		typ := reflect.TypeOf(proto)
		for i := 0; i < 500; i++ {
			v, ok := quick.Value(typ, rnd)
			if !ok {
				t.Fatalf("%s: no random value", typ)
			}
			var want bytes.Buffer
			if _, err := xdr.Marshal(&want, v.Interface()); err != nil {
				t.Fatalf("%s: go-xdr: %v", typ, err)
			}
			p := &packet{}
			if !p.encodeFast(v.Interface()) {
				t.Fatalf("%s is not hand-coded", typ)
			}
			if !bytes.Equal(p.b, want.Bytes()) {
				t.Fatalf("%s %+v:\nhand  %x\ngo-xdr %x", typ, v.Interface(), p.b, want.Bytes())
			}
		}
	}
}

// The listing is written straight from the driver's values; it must read as
// go-xdr's encoding of the reply libvirt defines.
func TestDomainListMatchesXDR(t *testing.T) {
	rnd := rand.New(rand.NewSource(4))
	for i := 0; i < 300; i++ {
		v, _ := quick.Value(reflect.TypeOf([]driver.Domain{}), rnd)
		doms := v.Interface().([]driver.Domain)
		for _, results := range []bool{true, false} {
			r := libvirt.ConnectListAllDomainsRet{Ret: uint32(len(doms))}
			if results {
				r.Domains = make([]libvirt.Domain, len(doms))
				for i, d := range doms {
					r.Domains[i] = fromDomainValue(d)
				}
			}
			var want bytes.Buffer
			if _, err := xdr.Marshal(&want, r); err != nil {
				t.Fatal(err)
			}
			p := &packet{}
			p.putDomainList(doms, results)
			if !bytes.Equal(p.b, want.Bytes()) {
				t.Fatalf("%d domains, results %v:\nhand   %x\ngo-xdr %x", len(doms), results, p.b, want.Bytes())
			}
		}
	}
}

func TestFastDecodeMatchesXDR(t *testing.T) {
	rnd := rand.New(rand.NewSource(2))
	for _, proto := range fastArgs() {
		typ := reflect.TypeOf(proto).Elem()
		for i := 0; i < 500; i++ {
			v, _ := quick.Value(typ, rnd)
			var enc bytes.Buffer
			if _, err := xdr.Marshal(&enc, v.Interface()); err != nil {
				t.Fatal(err)
			}
			b := enc.Bytes()
			// Whole, with trailing bytes, and cut short anywhere.
			checkFastDecode(t, append(b, 1, 2, 3, 4), typ)
			checkFastDecode(t, b, typ)
			checkFastDecode(t, b[:rnd.Intn(len(b)+1)], typ)
		}
	}
}

// checkFastDecode decodes payload into a fresh typ by hand and by go-xdr,
// and fails unless both give the same value or both refuse it.
func checkFastDecode(t *testing.T, payload []byte, typ reflect.Type) {
	t.Helper()
	fast, slow := reflect.New(typ), reflect.New(typ)
	handled, ferr := decodeFast(payload, fast.Interface())
	if !handled {
		t.Fatalf("%s is not hand-decoded", typ)
	}
	serr := decodeArgsXDR(payload, slow.Interface())
	if (ferr == nil) != (serr == nil) {
		t.Fatalf("%s from %x: hand error %v, go-xdr error %v", typ, payload, ferr, serr)
	}
	if ferr == nil && !reflect.DeepEqual(fast.Interface(), slow.Interface()) {
		t.Fatalf("%s from %x:\nhand   %+v\ngo-xdr %+v", typ, payload, fast.Interface(), slow.Interface())
	}
}

// FuzzFastXDR feeds any payload to every hand decoder and to go-xdr.
func FuzzFastXDR(f *testing.F) {
	for _, a := range fastArgs() {
		var b bytes.Buffer
		xdr.Marshal(&b, a)
		f.Add(b.Bytes())
	}
	f.Add([]byte{0, 0, 0, 3, 'a', 'b', 'c', 0, 1, 2})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, payload []byte) {
		for _, a := range fastArgs() {
			checkFastDecode(t, payload, reflect.TypeOf(a).Elem())
		}
	})
}
