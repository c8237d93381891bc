package rpc_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/rpc"
	"github.com/virtvboxd/virtvboxd/internal/rpc/rpctest"
)

const procStorageVolDownload = 209

// TestStreamDownloadEndOfData: a download ends as libvirt's daemon ends it:
// data, then Finish sends an empty STREAM CONTINUE (end of data), waits for
// the client's STREAM OK and answers it with STREAM OK. (libvirt's client
// drops the connection on a STREAM OK it did not ask for.)
func TestStreamDownloadEndOfData(t *testing.T) {
	h := rpctest.NewServer(t)
	done := make(chan error, 1)
	defer rpc.InstallRemoteHandler(procStorageVolDownload, func(ctx context.Context, c *rpc.Client,
		open func() rpc.Stream, reply func(any) error) error {
		st := open()
		go func() {
			ctx := context.Background()
			if err := st.Send(ctx, []byte("abc")); err != nil {
				done <- err
				return
			}
			done <- st.Finish(ctx)
		}()
		return nil
	})()
	r := dial(t, h.Socket)
	r.open(1)
	r.send(call(remote, procStorageVolDownload, 7, nil))
	if _, _, _, typ, serial, status := header(r.recv()); typ != 1 || serial != 7 || status != 0 {
		t.Fatalf("reply: type %d serial %d status %d", typ, serial, status)
	}
	for i, want := range []struct {
		hdr  string
		data []byte
	}{
		{"0000001f 20008086 00000001 000000d1 00000003 00000007 00000002", []byte("abc")},
		{"0000001c 20008086 00000001 000000d1 00000003 00000007 00000002", nil},
	} {
		got := r.recv()
		if !bytes.Equal(got[:28], rpc.Fixture(t, want.hdr)) || !bytes.Equal(got[28:], want.data) {
			t.Fatalf("stream packet %d: %x", i, got)
		}
	}
	r.send(streamPacket(procStorageVolDownload, 7, 0, nil))
	if got, want := r.recv(), rpc.Fixture(t, "0000001c 20008086 00000001 000000d1 00000003 00000007 00000000"); !bytes.Equal(got, want) {
		t.Fatalf("acknowledgement %x, want %x", got, want)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
