package rpc_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/virtvboxd/virtvboxd/internal/rpc"
	"github.com/virtvboxd/virtvboxd/internal/rpc/rpctest"
)

// rawConn is a minimal libvirt RPC client speaking bytes.
type rawConn struct {
	t testing.TB
	c net.Conn
}

func dial(t testing.TB, path string) *rawConn {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, c: c}
}

func (r *rawConn) send(b []byte) {
	r.t.Helper()
	if _, err := r.c.Write(b); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// recv reads one whole packet, length word included.
func (r *rawConn) recv() []byte {
	r.t.Helper()
	b, err := r.tryRecv()
	if err != nil {
		r.t.Fatalf("read: %v", err)
	}
	return b
}

func (r *rawConn) tryRecv() ([]byte, error) {
	r.c.SetReadDeadline(time.Now().Add(10 * time.Second)) // guards against a hang only
	var lb [4]byte
	if _, err := io.ReadFull(r.c, lb[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(lb[:])
	b := make([]byte, n)
	copy(b, lb[:])
	if _, err := io.ReadFull(r.c, b[4:]); err != nil {
		return nil, err
	}
	return b, nil
}

// expectEOF asserts the server closed the connection without a reply.
func (r *rawConn) expectEOF() {
	r.t.Helper()
	b, err := r.tryRecv()
	if err == nil {
		r.t.Fatalf("got a packet, want EOF: %x", b)
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		r.t.Fatalf("got %v, want EOF", err)
	}
}

// call builds a CALL packet.
func call(prog uint32, proc int32, serial uint32, payload []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(28+len(payload)))
	for _, v := range []uint32{prog, 1, uint32(proc), 0, serial, 0} {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return append(b, payload...)
}

func be32(vs ...uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

func xdrString(s string) []byte {
	b := be32(uint32(len(s)))
	b = append(b, s...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// connectOpenArgs is remote_connect_open_args naming uri.
func connectOpenArgs(uri string, flags uint32) []byte {
	return append(append(be32(1), xdrString(uri)...), be32(flags)...)
}

// remoteErr is a decoded remote_error.
type remoteErr struct {
	Code, Domain, Level int32
	Message, Str1, Str2 string
	Int1, Int2          int32
}

type xdrIn struct {
	t testing.TB
	b []byte
}

func (x *xdrIn) u32() uint32 {
	x.t.Helper()
	if len(x.b) < 4 {
		x.t.Fatalf("short payload")
	}
	v := binary.BigEndian.Uint32(x.b)
	x.b = x.b[4:]
	return v
}

func (x *xdrIn) str() string {
	n := int(x.u32())
	s := string(x.b[:n])
	x.b = x.b[(n+3)&^3:]
	return s
}

func (x *xdrIn) optStr() string {
	if x.u32() == 0 {
		return "<absent>"
	}
	return x.str()
}

func header(b []byte) (prog, vers uint32, proc int32, typ, serial, status uint32) {
	u := func(i int) uint32 { return binary.BigEndian.Uint32(b[4+4*i:]) }
	return u(0), u(1), int32(u(2)), u(3), u(4), u(5)
}

func decodeError(t testing.TB, pkt []byte) remoteErr {
	t.Helper()
	x := &xdrIn{t: t, b: pkt[28:]}
	var e remoteErr
	e.Code, e.Domain = int32(x.u32()), int32(x.u32())
	e.Message = x.optStr()
	e.Level = int32(x.u32())
	if x.u32() != 0 {
		t.Fatal("dom present")
	}
	e.Str1, e.Str2 = x.optStr(), x.optStr()
	if x.optStr() != "<absent>" {
		t.Fatal("str3 present")
	}
	e.Int1, e.Int2 = int32(x.u32()), int32(x.u32())
	if x.u32() != 0 || len(x.b) != 0 {
		t.Fatal("net present or trailing bytes")
	}
	return e
}

const (
	remote = rpc.RemoteProgram
	// REMOTE procedure numbers used below (remote_protocol.x).
	procConnectOpen            = 1
	procConnectGetCapabilities = 7
	procConnectClose           = 2
	procConnectSupportsFeature = 60
	procAuthList               = 66
	procConnectGetLibVersion   = 157
)

// authList sends AUTH_LIST with serial and checks the reply, proving the
// connection is still usable.
func (r *rawConn) authList(serial uint32) {
	r.t.Helper()
	r.send(call(remote, procAuthList, serial, nil))
	want := append(rpc.Fixture(r.t, "00000024 20008086 00000001 00000042 00000001"), be32(serial, 0, 1, 0)...)
	if got := r.recv(); !bytes.Equal(got, want) {
		r.t.Fatalf("AUTH_LIST reply\n got %x\nwant %x", got, want)
	}
}

func (r *rawConn) open(serial uint32) {
	r.t.Helper()
	r.send(call(remote, procConnectOpen, serial, connectOpenArgs("vbox:///session", 6)))
	if _, _, _, _, s, st := header(r.recv()); s != serial || st != 0 {
		r.t.Fatalf("CONNECT_OPEN failed: serial %d status %d", s, st)
	}
}

func TestAuthListBytes(t *testing.T) {
	h := rpctest.NewServer(t)
	r := dial(t, h.Socket)
	r.send(rpc.Fixture(t, `
		0000001c // length 28, this word included
		20008086 // program REMOTE
		00000001 // version 1
		00000042 // procedure 66 AUTH_LIST
		00000000 // type CALL
		00000000 // serial 0
		00000000 // status OK
	`))
	want := rpc.Fixture(t, `
		00000024 // length 36
		20008086 // program REMOTE
		00000001 // version 1
		00000042 // procedure 66 AUTH_LIST
		00000001 // type REPLY
		00000000 // serial 0
		00000000 // status OK
		00000001 // one auth type
		00000000 // REMOTE_AUTH_NONE
	`)
	if got := r.recv(); !bytes.Equal(got, want) {
		t.Fatalf("got  %x\nwant %x", got, want)
	}
}

func TestGetLibVersionBytes(t *testing.T) {
	h := rpctest.NewServer(t)
	r := dial(t, h.Socket)
	r.open(0)
	r.send(call(remote, procConnectGetLibVersion, 1, nil))
	want := rpc.Fixture(t, `
		00000024          // length 36
		20008086          // program REMOTE
		00000001          // version 1
		0000009d          // procedure 157 CONNECT_GET_LIB_VERSION
		00000001          // type REPLY
		00000001          // serial 1
		00000000          // status OK
		00000000 00895440 // hyper 9000000 (9.0.0)
	`)
	if got := r.recv(); !bytes.Equal(got, want) {
		t.Fatalf("got  %x\nwant %x", got, want)
	}
}

func TestUnknownProgramBytes(t *testing.T) {
	h := rpctest.NewServer(t)
	r := dial(t, h.Socket)
	r.send(rpc.Fixture(t, `
		0000001c // length 28
		12345678 // program 0x12345678, unknown
		00000001 // version 1
		00000001 // procedure 1
		00000000 // type CALL
		00000007 // serial 7
		00000000 // status OK
	`))
	msg := "Cannot find program 305419896 version 1"
	want := rpc.Fixture(t, `
		000000a8 // length 168
		12345678 // program echoed
		00000001 // version echoed
		00000001 // procedure echoed
		00000001 // type REPLY
		00000007 // serial 7
		00000001 // status ERROR
		00000027 // code 39 VIR_ERR_RPC
		00000007 // domain 7 VIR_FROM_RPC
		00000001 // message present
	`)
	want = append(want, xdrString(msg)...)
	want = append(want, rpc.Fixture(t, `
		00000002 // level 2 VIR_ERR_ERROR
		00000000 // dom absent
		00000001 // str1 present
		00000002 2573 0000 // "%s"
		00000001 // str2 present
	`)...)
	want = append(want, xdrString(msg)...)
	want = append(want, rpc.Fixture(t, `
		00000000 // str3 absent
		ffffffff // int1 -1
		ffffffff // int2 -1
		00000000 // net absent
	`)...)
	if got := r.recv(); !bytes.Equal(got, want) {
		t.Fatalf("got  %x\nwant %x", got, want)
	}
	r.authList(8)
}

// TestErrorReplies walks every error path of libvirt 9.0's reply table
// (reference 6.3); after each the connection must still answer.
func TestErrorReplies(t *testing.T) {
	h := rpctest.NewServer(t)
	cases := []struct {
		name   string
		open   bool // CONNECT_OPEN first
		pkt    func(serial uint32) []byte
		code   int32
		domain int32
		msg    string
		str1   string
	}{
		{"unknown program", false, func(s uint32) []byte { return call(0x12345678, 1, s, nil) },
			39, 7, "Cannot find program 305419896 version 1", "%s"},
		{"wrong version", false, func(s uint32) []byte {
			b := call(remote, procAuthList, s, nil)
			binary.BigEndian.PutUint32(b[8:], 2)
			return b
		}, 39, 7, "Cannot find program 536903814 version 2", "%s"},
		{"unknown procedure 9999", false, func(s uint32) []byte { return call(remote, 9999, s, nil) },
			39, 7, "unknown procedure: 9999", "%s"},
		{"unknown procedure 0", false, func(s uint32) []byte { return call(remote, 0, s, nil) },
			39, 7, "unknown procedure: 0", "%s"},
		{"status not OK", false, func(s uint32) []byte {
			b := call(remote, procAuthList, s, nil)
			binary.BigEndian.PutUint32(b[24:], 1)
			return b
		}, 39, 7, "Unexpected message status 1", "%s"},
		{"undecodable payload", false, func(s uint32) []byte { return call(remote, procConnectSupportsFeature, s, nil) },
			39, 7, "Unable to decode message payload", "%s"},
		{"call before open", false, func(s uint32) []byte { return call(remote, procConnectGetLibVersion, s, nil) },
			1, 7, "internal error: hypervisor connection not open", "internal error: %s"},
		{"feature before open", false, func(s uint32) []byte { return call(remote, procConnectSupportsFeature, s, be32(14)) },
			1, 7, "internal error: hypervisor connection not open", "internal error: %s"},
		{"second open", true, func(s uint32) []byte {
			return call(remote, procConnectOpen, s, connectOpenArgs("vbox:///session", 6))
		}, 1, 7, "internal error: connection already open", "internal error: %s"},
		{"unsupported by driver", true, func(s uint32) []byte {
			return call(remote, 27 /* DOMAIN_REBOOT */, s, append(append(xdrString("x"), make([]byte, 16)...), be32(0, 0)...))
		}, 3, 20, "this function is not supported by the connection driver: virDomainReboot",
			"this function is not supported by the connection driver: %s"},
		{"unsupported, named after the API called", true, func(s uint32) []byte {
			return call(remote, 11 /* DOMAIN_DEFINE_XML */, s, xdrString("<domain/>"))
		}, 3, 20, "this function is not supported by the connection driver: virDomainDefineXML",
			"this function is not supported by the connection driver: %s"},
		{"procedure without handler", true, func(s uint32) []byte { return call(remote, 443 /* DOMAIN_FD_ASSOCIATE */, s, nil) },
			3, 20, "this function is not supported by the connection driver: virDomainFDAssociate",
			"this function is not supported by the connection driver: %s"},
		{"no such domain", true, func(s uint32) []byte { return call(remote, 23 /* LOOKUP_BY_NAME */, s, xdrString("nosuch")) },
			42, 25, "Domain not found: no domain with matching name 'nosuch'", "Domain not found: %s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := dial(t, h.Socket)
			serial := uint32(0)
			if c.open {
				r.open(serial)
				serial++
			}
			r.send(c.pkt(serial))
			pkt := r.recv()
			_, _, _, typ, s, status := header(pkt)
			if typ != 1 || s != serial || status != 1 {
				t.Fatalf("header: type %d serial %d status %d", typ, s, status)
			}
			e := decodeError(t, pkt)
			if e.Code != c.code || e.Domain != c.domain || e.Message != c.msg || e.Str1 != c.str1 ||
				e.Level != 2 || e.Int1 != -1 || e.Int2 != -1 {
				t.Errorf("got %+v", e)
			}
			if c.str1 != "%s" && !strings.Contains(c.msg, e.Str2) {
				t.Errorf("str2 %q is not the detail of %q", e.Str2, c.msg)
			}
			r.authList(serial + 1)
		})
	}
}

func TestFramingClosesConnection(t *testing.T) {
	h := rpctest.NewServer(t)
	for _, c := range []struct {
		name string
		pkt  string
	}{
		{"length 2", "00000002"},
		{"length 8", "00000008 20008086"},
		{"length 33554437", "02000005 20008086 00000001 00000042 00000000 00000000 00000000"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := dial(t, h.Socket)
			r.send(rpc.Fixture(t, c.pkt))
			r.expectEOF()
		})
	}
}

func TestNonCallDropped(t *testing.T) {
	h := rpctest.NewServer(t)
	r := dial(t, h.Socket)
	r.send(rpc.Fixture(t, `
		0000001c 20008086 00000001 00000042
		00000001 // type REPLY: dropped
		00000005 00000000
	`))
	r.send(rpc.Fixture(t, `
		0000001c 20008086 00000001 00000042
		00000002 // type MESSAGE: dropped
		00000006 00000000
	`))
	r.send(rpc.Fixture(t, `
		0000001c
		12345678 // unknown program
		00000001 00000001
		00000002 // type MESSAGE: dropped, no error reply
		00000007 00000000
	`))
	// The next reply is the AUTH_LIST's: nothing was sent for the others.
	r.authList(8)
}

func TestKeepalivePingPong(t *testing.T) {
	h := rpctest.NewServer(t)
	r := dial(t, h.Socket)
	r.send(rpc.Fixture(t, `
		0000001c // length 28
		6b656570 // program KEEPALIVE ("keep")
		00000001 // version 1
		00000001 // procedure 1 PING
		00000002 // type MESSAGE
		00000000 // serial 0
		00000000 // status OK
	`))
	want := rpc.Fixture(t, `
		0000001c // length 28
		6b656570 // program KEEPALIVE
		00000001 // version 1
		00000002 // procedure 2 PONG
		00000002 // type MESSAGE
		00000000 // serial 0
		00000000 // status OK
	`)
	if got := r.recv(); !bytes.Equal(got, want) {
		t.Fatalf("got  %x\nwant %x", got, want)
	}
	r.authList(1)
}

func TestKeepaliveServerPings(t *testing.T) {
	clock := rpctest.NewFakeClock()
	cfg := rpctest.DefaultConfig()
	cfg.KeepaliveInterval, cfg.KeepaliveCount = 5, 2
	h := rpctest.NewServer(t, rpctest.WithClock(clock), rpctest.WithConfig(cfg))
	r := dial(t, h.Socket)

	// Without feature 10 the server never pings.
	r.authList(0)
	if n := clock.Pending(); n != 0 {
		t.Fatalf("%d keepalive timers before feature 10", n)
	}
	r.send(call(remote, procConnectSupportsFeature, 1, be32(10)))
	want := rpc.Fixture(t, `
		00000020 20008086 00000001
		0000003c // procedure 60 CONNECT_SUPPORTS_FEATURE
		00000001 00000001 00000000
		00000001 // supported
	`)
	if got := r.recv(); !bytes.Equal(got, want) {
		t.Fatalf("SUPPORTS_FEATURE(10)\n got %x\nwant %x", got, want)
	}
	ping := rpc.Fixture(t, `
		0000001c 6b656570 00000001
		00000001 // PING
		00000002 // MESSAGE
		00000000 00000000
	`)
	for i := 0; i < 2; i++ {
		clock.Advance(5 * time.Second)
		if got := r.recv(); !bytes.Equal(got, ping) {
			t.Fatalf("ping %d: got %x", i, got)
		}
	}
	// keepalive_count pings went unanswered: the next tick drops the client.
	clock.Advance(5 * time.Second)
	r.expectEOF()
	if !strings.Contains(h.Log.String(), "connection closed due to keepalive timeout") {
		t.Errorf("log lacks the keepalive message:\n%s", h.Log.String())
	}
}

func TestKeepaliveAnsweredPingsKeepClient(t *testing.T) {
	clock := rpctest.NewFakeClock()
	cfg := rpctest.DefaultConfig()
	cfg.KeepaliveInterval, cfg.KeepaliveCount = 5, 1
	h := rpctest.NewServer(t, rpctest.WithClock(clock), rpctest.WithConfig(cfg))
	r := dial(t, h.Socket)
	r.send(call(remote, procConnectSupportsFeature, 0, be32(10)))
	r.recv()
	pong := call(rpc.KeepaliveProgram, 2, 0, nil)
	binary.BigEndian.PutUint32(pong[16:], 2) // MESSAGE
	for i := 0; i < 4; i++ {
		clock.Advance(5 * time.Second)
		if _, _, proc, _, _, _ := header(r.recv()); proc != 1 {
			t.Fatalf("expected a PING, got proc %d", proc)
		}
		r.send(pong)
		r.authList(uint32(i + 1)) // the PONG was read before this call
	}
}

// TestAuthenticationRequired uses a SASL socket, which no client can pass
// here: every call but the AUTH_* ones is refused, and the client counts as
// unauthenticated.
func TestAuthenticationRequired(t *testing.T) {
	h := rpctest.NewServer(t, rpctest.WithAuth(rpc.AuthSASL))
	r := dial(t, h.Socket)
	r.send(call(remote, procAuthList, 0, nil))
	want := rpc.Fixture(t, `
		00000024 20008086 00000001 00000042 00000001 00000000 00000000
		00000001 // one auth type
		00000001 // REMOTE_AUTH_SASL
	`)
	if got := r.recv(); !bytes.Equal(got, want) {
		t.Fatalf("AUTH_LIST\n got %x\nwant %x", got, want)
	}
	for serial, proc := range []int32{procConnectOpen, procConnectGetLibVersion} {
		r.send(call(remote, proc, uint32(serial+1), nil))
		e := decodeError(t, r.recv())
		if e.Code != 39 || e.Domain != 7 || e.Message != "authentication required" {
			t.Errorf("proc %d: %+v", proc, e)
		}
	}
	r.send(call(remote, 67 /* AUTH_SASL_INIT */, 3, nil))
	if e := decodeError(t, r.recv()); e.Code != 45 || e.Message != "authentication failed: authentication is not supported by virtvboxd" {
		t.Errorf("SASL init: %+v", e)
	}
	if l := h.Server.ClientLimits(); l.Clients != 1 || l.UnauthClients != 1 {
		t.Errorf("limits = %+v", l)
	}
}

// No admin procedure defines a flag: any is refused as virCheckFlags does,
// after the server lookup, naming libvirt's server-side function.
func TestAdminFlagsRefused(t *testing.T) {
	h := rpctest.NewServer(t)
	r := dial(t, h.AdminSocket)
	r.send(call(rpc.AdminProgram, 1, 0, be32(0))) // CONNECT_OPEN, flags 0
	if _, _, _, _, _, status := header(r.recv()); status != 0 {
		t.Fatal("admin CONNECT_OPEN failed")
	}
	srv := xdrString("virtvboxd")
	for i, c := range []struct {
		proc    int32
		payload []byte
		want    string
	}{
		{4, be32(1, 2), "invalid argument: unsupported flags (0x2) in function adminConnectListServers"},
		{6, append(srv, be32(4)...), "invalid argument: unsupported flags (0x4) in function adminServerGetThreadPoolParameters"},
		{6, append(xdrString("nosuch"), be32(4)...), "Server not found: No server named 'nosuch'"},
		{12, append(srv, be32(1)...), "invalid argument: unsupported flags (0x1) in function adminServerGetClientLimits"},
		{14, be32(8), "invalid argument: unsupported flags (0x8) in function adminConnectGetLoggingOutputs"},
		{17, append(be32(1), append(xdrString("1:rpc"), be32(1)...)...), "invalid argument: unsupported flags (0x1) in function adminConnectSetLoggingFilters"},
		{19, be32(10, 1), "invalid argument: unsupported flags (0x1) in function adminConnectSetDaemonTimeout"},
	} {
		serial := uint32(i + 1)
		r.send(call(rpc.AdminProgram, c.proc, serial, c.payload))
		pkt := r.recv()
		if _, _, proc, _, s, status := header(pkt); proc != c.proc || s != serial || status != 1 {
			t.Fatalf("proc %d: reply proc %d serial %d status %d, want an error", c.proc, proc, s, status)
		}
		if e := decodeError(t, pkt); e.Message != c.want {
			t.Errorf("proc %d: %q, want %q", c.proc, e.Message, c.want)
		}
	}
	// The connection is still usable.
	r.send(call(rpc.AdminProgram, 3, 99, nil))
	if _, _, _, _, s, status := header(r.recv()); s != 99 || status != 0 {
		t.Error("GET_LIB_VERSION after the refusals failed")
	}
}
