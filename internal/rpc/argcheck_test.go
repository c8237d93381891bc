package rpc_test

import (
	"github.com/virtvboxd/virtvboxd/internal/driver"
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/rpc/rpctest"
)

// TestArgumentLimits sends the implemented procedures counts and lengths
// out of libvirt's bounds (REMOTE_*_MAX and the API entry points' checks):
// each gets libvirt's error reply, nothing is allocated from the hostile
// value, nothing panics and the connection keeps serving.
func TestArgumentLimits(t *testing.T) {
	h := rpctest.NewServer(t, rpctest.WithDomains(rpctest.FakeDomain{Name: "alpine", State: driver.StateRunning}))
	dom := append(xdrString("alpine"), make([]byte, 16)...)
	dom = append(dom, be32(1)...)
	u64 := func(v uint64) []byte { return be32(uint32(v>>32), uint32(v)) }
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	const decodeErr = "Unable to decode message payload"
	cases := []struct {
		name    string
		proc    int32
		payload []byte
		code    int32
		domain  int32
		msg     string
	}{
		{"memory stats nparams negative", 228, be32(0xffffffff, 0xffffffff, 0), 8, 20,
			"invalid argument: *nparams in virNodeGetMemoryStats must be zero or greater"},
		{"memory stats nparams over REMOTE_NODE_MEMORY_STATS_MAX", 228, be32(17, 0xffffffff, 0), 1, 7,
			"internal error: nparams too large"},
		{"memory stats nparams huge", 228, be32(0x7fffffff, 0xffffffff, 0), 1, 7, "internal error: nparams too large"},
		{"memory stats cellNum -2", 228, be32(2, 0xfffffffe, 0), 8, 20,
			"invalid argument: cellNum in virNodeGetMemoryStats only accepts -1 as a negative value"},
		{"list domains maxids negative", 37, be32(0x80000000), 8, 20,
			"invalid argument: maxids in virConnectListDomains must be zero or greater"},
		{"list domains maxids over REMOTE_DOMAIN_LIST_MAX", 37, be32(16385), 39, 7, "maxids > REMOTE_DOMAIN_LIST_MAX"},
		{"list defined domains maxnames negative", 21, be32(0xfffffffb), 8, 20,
			"invalid argument: maxnames in virConnectListDefinedDomains must be zero or greater"},
		{"lookup by negative id", 22, be32(0xffffffff), 8, 20,
			"invalid argument: id in virDomainLookupByID must be zero or greater"},
		{"set memory zero", 31, cat(dom, u64(0)), 8, 20, "invalid argument: memory in virDomainSetMemory must not be zero"},
		{"set max memory overflow", 30, cat(dom, u64(1<<62)), 82, 20,
			"numerical overflow: input too large: 4611686018427387904"},
		{"set memory flags overflow", 204, cat(dom, u64(1<<63), be32(0)), 82, 20,
			"numerical overflow: input too large: 9223372036854775808"},
		{"set vcpus zero", 32, cat(dom, be32(0)), 8, 20, "invalid argument: nvcpus in virDomainSetVcpus must not be zero"},
		{"set vcpus flags zero", 199, cat(dom, be32(0, 0)), 8, 20,
			"invalid argument: nvcpus in virDomainSetVcpusFlags must not be zero"},
		{"optional string count huge", 5, be32(0x40000000), 39, 7, decodeErr},
		{"optional string count beyond the payload", 5, be32(3, 0, 0), 39, 7, decodeErr},
		{"string longer than the payload", 23, be32(0x00ffffff), 39, 7, decodeErr},
		{"string over REMOTE_STRING_MAX", 23, cat(be32(4194305), make([]byte, 4194308)), 39, 7, decodeErr},
		{"save flags dxml count huge", 232, cat(dom, xdrString("/tmp/x"), be32(0x7fffffff)), 39, 7, decodeErr},
	}
	r := dial(t, h.Socket)
	r.open(0)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			serial := uint32(2 * (i + 1))
			r.send(call(remote, c.proc, serial, c.payload))
			pkt := r.recv()
			if _, _, _, typ, s, status := header(pkt); typ != 1 || s != serial || status != 1 {
				t.Fatalf("header: type %d serial %d status %d", typ, s, status)
			}
			if e := decodeError(t, pkt); e.Code != c.code || e.Domain != c.domain || e.Message != c.msg {
				t.Errorf("got %d/%d %q, want %d/%d %q", e.Code, e.Domain, e.Message, c.code, c.domain, c.msg)
			}
			r.authList(serial + 1)
		})
	}
	if h.Log.Errors() > 0 {
		t.Fatalf("the server logged an error:\n%s", h.Log.String())
	}
}
