package rpc_test

import (
	"encoding/binary"
	"github.com/virtvboxd/virtvboxd/internal/driver"
	"io"
	"net"
	"testing"
	"time"

	"github.com/virtvboxd/virtvboxd/internal/rpc"
	"github.com/virtvboxd/virtvboxd/internal/rpc/rpctest"
)

// FuzzDispatch sends an opened connection one packet built from a fuzzed
// header and payload, on the rw, ro or admin socket, and reads whatever comes
// back. The server must never panic and must keep serving.
func FuzzDispatch(f *testing.F) {
	seed := func(sock uint8, prog uint32, proc int32, typ, status uint32, payload []byte) {
		f.Add(sock, prog, uint32(1), proc, typ, status, payload)
	}
	seed(0, rpc.RemoteProgram, procAuthList, 0, 0, nil)
	seed(0, rpc.RemoteProgram, procConnectSupportsFeature, 0, 0, be32(10))
	seed(0, rpc.RemoteProgram, 23, 0, 0, xdrString("alpine"))
	seed(0, rpc.RemoteProgram, 16, 0, 0, append(append(xdrString("alpine"), make([]byte, 16)...), be32(1)...))
	seed(0, rpc.RemoteProgram, 273, 0, 0, be32(1, 3))
	seed(0, rpc.RemoteProgram, 37, 0, 0, be32(0x7fffffff))
	seed(1, rpc.RemoteProgram, 12, 0, 0, append(append(xdrString("alpine"), make([]byte, 16)...), be32(1)...))
	seed(1, rpc.RemoteProgram, 14, 4, 0, append(be32(0), append(append(xdrString("alpine"), make([]byte, 16)...), be32(1, 1)...)...))
	seed(2, rpc.AdminProgram, 7, 0, 0, append(append(xdrString("virtvboxd"), be32(1)...), append(xdrString("maxWorkers"), be32(2, 9, 0)...)...))
	seed(2, rpc.AdminProgram, 10, 0, 0, append(xdrString("virtvboxd"), be32(0, 1, 0, 0, 0, 0, 0)...))
	seed(2, rpc.AdminProgram, 16, 0, 0, append(be32(1), xdrString("1:stderr")...))
	seed(0, rpc.KeepaliveProgram, 1, 2, 0, nil)
	seed(0, 0x12345678, 1, 0, 0, nil)

	h := rpctest.NewServer(f, rpctest.WithDomains(rpctest.FakeDomain{Name: "alpine", State: driver.StateRunning}))
	socks := []string{h.Socket, h.ROSocket, h.AdminSocket}
	f.Fuzz(func(t *testing.T, sock uint8, prog, vers uint32, proc int32, typ, status uint32, payload []byte) {
		if len(payload) > 1<<16 {
			return
		}
		path := socks[int(sock)%len(socks)]
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second)) // guards against a hang only
		if path != h.AdminSocket {
			open := call(rpc.RemoteProgram, procConnectOpen, 0, connectOpenArgs("vbox:///session", 6))
			c.Write(open)
		} else {
			c.Write(call(rpc.AdminProgram, 1, 0, be32(0)))
		}
		pkt := binary.BigEndian.AppendUint32(nil, uint32(28+len(payload)))
		for _, v := range []uint32{prog, vers, uint32(proc), typ, 1, status} {
			pkt = binary.BigEndian.AppendUint32(pkt, v)
		}
		c.Write(append(pkt, payload...))
		// Then a call that must be answered, unless the fuzzed call closed
		// the connection (CONNECT_CLOSE).
		ping := call(rpc.RemoteProgram, procAuthList, 2, nil)
		if path == h.AdminSocket {
			ping = call(rpc.AdminProgram, 3, 2, nil)
		}
		c.Write(ping)
		c.(*net.UnixConn).CloseWrite()
		io.Copy(io.Discard, c)

		// The server still serves, and nothing panicked.
		r := dial(t, h.Socket)
		r.authList(0)
		if h.Log.Errors() > 0 {
			t.Fatalf("the server logged an error (a handler panic?):\n%s", h.Log.String())
		}
	})
}

// FuzzProcedures calls every implemented REMOTE procedure, on an opened rw
// or ro connection, with fuzzed arguments, against the fake driver. Each
// call must get a reply (an answer or an error), the server must not panic
// or log an error, and it must keep serving.
func FuzzProcedures(f *testing.F) {
	procs := rpc.ImplementedRemoteProcs()
	dom := append(append(xdrString("alpine"), make([]byte, 16)...), be32(1)...)
	for i := range procs {
		f.Add(uint16(i), false, append(append([]byte{}, dom...), be32(0, 0, 0)...))
		f.Add(uint16(i), true, be32(0xffffffff, 0xffffffff, 0xffffffff))
	}
	h := rpctest.NewServer(f, rpctest.WithDomains(rpctest.FakeDomain{Name: "alpine", State: driver.StateRunning}))
	f.Fuzz(func(t *testing.T, idx uint16, ro bool, payload []byte) {
		if len(payload) > 1<<16 {
			return
		}
		proc := procs[int(idx)%len(procs)]
		path := h.Socket
		if ro {
			path = h.ROSocket
		}
		r := dial(t, path)
		r.open(0)
		r.send(call(rpc.RemoteProgram, proc, 1, payload))
		pkt := r.recv()
		if _, _, p, typ, serial, _ := header(pkt); p != proc || typ != 1 || serial != 1 {
			t.Fatalf("reply to procedure %d: proc %d type %d serial %d", proc, p, typ, serial)
		}
		r.authList(2)
		if h.Log.Errors() > 0 {
			t.Fatalf("procedure %d: the server logged an error (a handler panic?):\n%s", proc, h.Log.String())
		}
	})
}
