// Package sdnotifytest stands in for systemd's end of the sd_notify protocol
// in tests: a NOTIFY_SOCKET that tells when a daemon it was given to reports
// READY=1. The daemon's own tests and the end-to-end tests start daemons
// with it, so that they wait for readiness instead of polling for sockets.
package sdnotifytest

import (
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// seq numbers the sockets of one test binary.
var seq atomic.Int64

// Listen opens a NOTIFY_SOCKET, an abstract datagram socket (no path length
// limit, nothing to remove, nothing shared by daemons started in one
// directory), and returns its address for the daemon's NOTIFY_SOCKET and a
// channel closed when READY=1 arrives. The socket closes at t's cleanup.
func Listen(t testing.TB) (addr string, ready <-chan struct{}) {
	t.Helper()
	addr = fmt.Sprintf("@virtvboxd-test-%d-%d", os.Getpid(), seq.Add(1))
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	done := make(chan struct{})
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			if slices.Contains(strings.Split(string(buf[:n]), "\n"), "READY=1") {
				close(done)
				return
			}
		}
	}()
	return addr, done
}
