package rpc_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/virtvboxd/virtvboxd/internal/rpc"
	"github.com/virtvboxd/virtvboxd/internal/rpc/rpctest"
)

const (
	procStorageVolUpload                   = 208
	procDomainScreenshot                   = 211
	procConnectDomainEventCallbackRegister = 316
	procDomainEventCallbackLifecycle       = 318
)

// streamPacket is one VIR_NET_STREAM packet of REMOTE procedure proc.
func streamPacket(proc int32, serial, status uint32, payload []byte) []byte {
	b := be32(uint32(28+len(payload)), rpc.RemoteProgram, 1, uint32(proc), 3, serial, status)
	return append(b, payload...)
}

// TestStreamDownload: a stream's data follows its call's reply as STREAM
// CONTINUE packets of at most StreamChunkMax bytes with the call's
// procedure and serial; Finish ends the data with an empty CONTINUE and
// confirms the client's STREAM OK with its own, as libvirt's daemon does
// (libvirt's client drops the connection on an OK it did not ask for).
func TestStreamDownload(t *testing.T) {
	h := rpctest.NewServer(t)
	data := make([]byte, rpc.StreamChunkMax+37880)
	for i := range data {
		data[i] = byte(i * 7)
	}
	sent := make(chan error, 2)
	defer rpc.InstallRemoteHandler(procDomainScreenshot, func(ctx context.Context, c *rpc.Client,
		open func() rpc.Stream, reply func(any) error) error {
		st := open()
		go func() {
			sent <- st.Send(context.Background(), data)
			sent <- st.Finish(context.Background())
		}()
		return reply("image/png")
	})()
	r := dial(t, h.Socket)
	r.open(1)
	r.send(call(remote, procDomainScreenshot, 5, nil))
	want := append(rpc.Fixture(t, "0000002c 20008086 00000001 000000d3 00000001 00000005 00000000"),
		xdrString("image/png")...)
	if got := r.recv(); !bytes.Equal(got, want) {
		t.Fatalf("reply\n got %x\nwant %x", got, want)
	}
	for i, part := range []struct {
		hdr  string
		data []byte
	}{
		{"00040004 20008086 00000001 000000d3 00000003 00000005 00000002", data[:rpc.StreamChunkMax]},
		{"00009414 20008086 00000001 000000d3 00000003 00000005 00000002", data[rpc.StreamChunkMax:]},
		// The end of the data: an empty CONTINUE (virStreamRecv's 0).
		{"0000001c 20008086 00000001 000000d3 00000003 00000005 00000002", nil},
	} {
		got := r.recv()
		if wantHdr := rpc.Fixture(t, part.hdr); !bytes.Equal(got[:28], wantHdr) || !bytes.Equal(got[28:], part.data) {
			t.Fatalf("stream packet %d: header %x (want %x), %d bytes of data (want %d)", i, got[:28], wantHdr,
				len(got)-28, len(part.data))
		}
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	// Finish waits for the client's virStreamFinish (OK), then confirms it.
	select {
	case err := <-sent:
		t.Fatalf("Finish returned before the client finished: %v", err)
	default:
	}
	r.send(streamPacket(procDomainScreenshot, 5, 0, nil))
	if got, want := r.recv(), streamPacket(procDomainScreenshot, 5, 0, nil); !bytes.Equal(got, want) {
		t.Fatalf("finish confirmation\n got %x\nwant %x", got, want)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
}

// TestStreamUpload: the client's data reaches Recv in order; while the
// driver does not read, at most the stream's queue is taken and the
// connection is not read further (a call behind the data is not answered),
// and the client's STREAM OK is Recv's io.EOF, acknowledged by Finish.
func TestStreamUpload(t *testing.T) {
	h := rpctest.NewServer(t)
	streams := make(chan rpc.Stream, 1)
	defer rpc.InstallRemoteHandler(procStorageVolUpload, func(ctx context.Context, c *rpc.Client,
		open func() rpc.Stream, reply func(any) error) error {
		streams <- open()
		return nil
	})()
	r := dial(t, h.Socket)
	r.open(1)
	r.send(call(remote, procStorageVolUpload, 9, nil))
	if _, _, _, typ, serial, status := header(r.recv()); typ != 1 || serial != 9 || status != 0 {
		t.Fatalf("reply: type %d serial %d status %d", typ, serial, status)
	}
	st := <-streams
	const n = 11 // the queue's 8, one the connection loop holds, two more
	for i := range n {
		r.send(streamPacket(procStorageVolUpload, 9, 2, bytes.Repeat([]byte{byte(i)}, 1000)))
	}
	r.send(streamPacket(procStorageVolUpload, 9, 0, nil))
	r.send(call(remote, procAuthList, 20, nil))
	ctx := context.Background()
	recvPacket := func(i int) {
		t.Helper()
		b, err := st.Recv(ctx)
		if err != nil || !bytes.Equal(b, bytes.Repeat([]byte{byte(i)}, 1000)) {
			t.Fatalf("Recv %d: %d bytes, %v", i, len(b), err)
		}
	}
	recvPacket(0)
	recvPacket(1)
	// Two taken: the loop still holds the 11th packet, so the AUTH_LIST
	// behind it is unread. (A check for absence: it cannot fail spuriously.)
	r.c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if b, err := readOne(r); err == nil {
		t.Fatalf("answered while the stream's queue was full: %x", b)
	}
	recvPacket(2)
	if _, _, _, _, serial, status := header(r.recv()); serial != 20 || status != 0 {
		t.Fatalf("AUTH_LIST: serial %d status %d", serial, status)
	}
	for i := 3; i < n; i++ {
		recvPacket(i)
	}
	if _, err := st.Recv(ctx); err != io.EOF {
		t.Fatalf("Recv after the client's finish: %v, want io.EOF", err)
	}
	if err := st.Finish(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := r.recv(), streamPacket(procStorageVolUpload, 9, 0, nil); !bytes.Equal(got, want) {
		t.Fatalf("finish acknowledgement\n got %x\nwant %x", got, want)
	}
}

// readOne reads one packet under the deadline already set.
func readOne(r *rawConn) ([]byte, error) {
	var lb [4]byte
	if _, err := io.ReadFull(r.c, lb[:]); err != nil {
		return nil, err
	}
	return lb[:], nil
}

// TestStreamAbort: a client's STREAM ERROR makes Recv fail with
// ErrStreamAborted and is answered by libvirt's STREAM ERROR; the stream
// is then closed for Send. A driver's Abort sends its error as STREAM ERROR.
func TestStreamAbort(t *testing.T) {
	h := rpctest.NewServer(t)
	streams := make(chan rpc.Stream, 2)
	defer rpc.InstallRemoteHandler(procStorageVolUpload, func(ctx context.Context, c *rpc.Client,
		open func() rpc.Stream, reply func(any) error) error {
		streams <- open()
		return nil
	})()
	r := dial(t, h.Socket)
	r.open(1)
	ctx := context.Background()

	r.send(call(remote, procStorageVolUpload, 3, nil))
	header(r.recv())
	st := <-streams
	r.send(streamPacket(procStorageVolUpload, 3, 1, nil))
	if _, err := st.Recv(ctx); !errors.Is(err, rpc.ErrStreamAborted) {
		t.Fatalf("Recv after the client's abort: %v", err)
	}
	got := r.recv()
	if _, _, proc, typ, serial, status := header(got); proc != procStorageVolUpload || typ != 3 || serial != 3 || status != 1 {
		t.Fatalf("abort answer: proc %d type %d serial %d status %d", proc, typ, serial, status)
	}
	if e := decodeError(t, got); e.Code != 39 || e.Message != "stream aborted at client request" {
		t.Errorf("abort answer: %+v", e)
	}
	if err := st.Send(ctx, []byte("x")); !errors.Is(err, rpc.ErrStreamClosed) {
		t.Errorf("Send after abort: %v", err)
	}

	r.send(call(remote, procStorageVolUpload, 4, nil))
	header(r.recv())
	st = <-streams
	st.Abort(errors.New("disk full"))
	got = r.recv()
	if _, _, _, typ, serial, status := header(got); typ != 3 || serial != 4 || status != 1 {
		t.Fatalf("driver abort: type %d serial %d status %d", typ, serial, status)
	}
	if e := decodeError(t, got); e.Code != 1 || e.Domain != 25 {
		t.Errorf("driver abort: %+v, want an internal error in the VBOX domain", e)
	}
}

// TestEvents: Publish sends a VIR_NET_MESSAGE (serial 1, as libvirt 9.0) to the subscribed
// clients only, and not after they unsubscribe.
func TestEvents(t *testing.T) {
	h := rpctest.NewServer(t)
	unsub := make(chan func(), 1)
	defer rpc.InstallRemoteHandler(procConnectDomainEventCallbackRegister, func(ctx context.Context, c *rpc.Client,
		open func() rpc.Stream, reply func(any) error) error {
		unsub <- h.Server.Events().Subscribe(c, rpc.RemoteProgram, procDomainEventCallbackLifecycle)
		return nil
	})()
	a, b := dial(t, h.Socket), dial(t, h.Socket)
	a.open(1)
	b.open(1)
	a.send(call(remote, procConnectDomainEventCallbackRegister, 2, nil))
	header(a.recv())
	unsubscribe := <-unsub
	ev := struct{ CallbackID, Event int32 }{1, 5}
	if n, err := h.Server.Events().Publish(rpc.RemoteProgram, procDomainEventCallbackLifecycle, ev); n != 1 || err != nil {
		t.Fatalf("Publish: %d clients, %v", n, err)
	}
	want := rpc.Fixture(t, "00000024 20008086 00000001 0000013e 00000002 00000001 00000000 00000001 00000005")
	if got := a.recv(); !bytes.Equal(got, want) {
		t.Fatalf("event\n got %x\nwant %x", got, want)
	}
	// b's next packet is its AUTH_LIST reply: no event was queued for it.
	b.authList(3)
	unsubscribe()
	if n, _ := h.Server.Events().Publish(rpc.RemoteProgram, procDomainEventCallbackLifecycle, ev); n != 0 {
		t.Errorf("Publish after unsubscribe: %d clients", n)
	}
	a.authList(4)
}
