package rpc_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/rpc"
	"github.com/virtvboxd/virtvboxd/internal/rpc/rpctest"
)

// failingListener fails its first accepts with err, then accepts for real.
type failingListener struct {
	net.Listener
	fails atomic.Int32
	err   error
}

func (l *failingListener) Accept() (net.Conn, error) {
	if l.fails.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "unix", Err: os.NewSyscallError("accept4", l.err)}
	}
	return l.Listener.Accept()
}

// TestAcceptOutOfFDs checks that running out of file descriptors (EMFILE,
// ENFILE) or an aborted connection does not stop the server: it backs off
// and serves the connection waiting in the backlog, while an error that
// will not pass (EBADF) ends Serve with it.
func TestAcceptOutOfFDs(t *testing.T) {
	for _, c := range []struct {
		err   error
		serve bool
	}{{syscall.EMFILE, true}, {syscall.ENFILE, true}, {syscall.ECONNABORTED, true}, {syscall.EBADF, false}} {
		t.Run(c.err.Error(), func(t *testing.T) {
			dir, err := os.MkdirTemp("", "vvd") // socket paths must be short
			if err != nil {
				t.Fatal(err)
			}
			defer os.RemoveAll(dir)
			path := filepath.Join(dir, "s")
			ln, err := net.Listen("unix", path)
			if err != nil {
				t.Fatal(err)
			}
			fl := &failingListener{Listener: ln, err: c.err}
			fl.fails.Store(5)
			s := rpc.NewServer(rpctest.DefaultConfig(), nil)
			s.Register(rpc.NewRemoteProgram(rpctest.NewFakeDriver(), nil))
			done := make(chan error, 1)
			go func() { done <- s.Serve(context.Background(), fl, rpc.Service{}) }()
			if !c.serve {
				if err := <-done; !errors.Is(err, c.err) {
					t.Fatalf("Serve returned %v, want %v", err, c.err)
				}
				return
			}
			r := dial(t, path)
			r.authList(0)
			if n := fl.fails.Load(); n >= 0 {
				t.Fatalf("%d failures left: the server did not go through them", n+1)
			}
			shutdown(t, s, done)
		})
	}
}
