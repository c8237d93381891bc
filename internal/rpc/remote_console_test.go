package rpc_test

import (
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/rpc/rpctest"
)

// TestSendKeyArguments: DOMAIN_SEND_KEY's checks come before the driver,
// with libvirt's answers: REMOTE_DOMAIN_SEND_KEY_MAX (16 keys) as an XDR
// failure, then virDomainSendKey's nkeycodes and codeset checks; the fake
// driver, which has no send-key, answers the valid call "not supported".
func TestSendKeyArguments(t *testing.T) {
	h := rpctest.NewServer(t, rpctest.WithDomains(rpctest.FakeDomain{Name: "alpine", State: driver.StateRunning}))
	dom := append(xdrString("alpine"), make([]byte, 16)...)
	dom = append(dom, be32(1)...)
	args := func(codeset uint32, n int) []byte {
		b := append(append([]byte(nil), dom...), be32(codeset, 0, uint32(n))...)
		for range n {
			b = append(b, be32(30)...)
		}
		return append(b, be32(0)...)
	}
	for i, c := range []struct {
		name    string
		payload []byte
		code    int32
		domain  int32
		msg     string
	}{
		{"17 keys", args(0, 17), 39, 7, "Unable to decode message payload"},
		{"no key", args(0, 0), 8, 20, "invalid argument: nkeycodes in virDomainSendKey must be greater than zero"},
		{"codeset 10", args(10, 1), 8, 20, "invalid argument: Unsupported codeset '10'"},
		{"valid", args(driver.KeycodeSetLinux, 16), 3, 20, "this function is not supported by the connection driver: virDomainSendKey"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := dial(t, h.Socket)
			r.open(1)
			serial := uint32(10 + i)
			r.send(call(remote, 226, serial, c.payload))
			pkt := r.recv()
			if _, _, _, typ, s, status := header(pkt); typ != 1 || s != serial || status != 1 {
				t.Fatalf("header: type %d serial %d status %d", typ, s, status)
			}
			if e := decodeError(t, pkt); e.Code != c.code || e.Domain != c.domain || e.Message != c.msg {
				t.Errorf("got %d/%d %q, want %d/%d %q", e.Code, e.Domain, e.Message, c.code, c.domain, c.msg)
			}
		})
	}
}
