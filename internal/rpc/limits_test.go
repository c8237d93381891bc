package rpc_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"github.com/virtvboxd/virtvboxd/internal/driver"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/virtvboxd/virtvboxd/internal/rpc"
	"github.com/virtvboxd/virtvboxd/internal/rpc/rpctest"
)

const procConnectGetHostname = 59

// waitFor polls cond, for the conditions no event announces (goroutine and
// descriptor counts, the job queue); awaitDriver and awaitLog await events.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second) // guards against a hang only
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// awaitDriver waits for cond over the fake driver's counters, re-checking
// it at each of their changes.
func awaitDriver(t testing.TB, h *rpctest.Harness, what string, cond func() bool) {
	t.Helper()
	if !h.Driver.Await(cond, 10*time.Second) { // guards against a hang only
		t.Fatalf("timed out waiting for %s", what)
	}
}

// awaitLog waits until the servers logged s.
func awaitLog(t testing.TB, h *rpctest.Harness, s string) {
	t.Helper()
	if !h.Log.Await(s, 10*time.Second) { // guards against a hang only
		t.Fatalf("timed out waiting for the log line %q", s)
	}
}

// TestMaxClientRequests checks that a client at max_client_requests is not
// read further, and that the calls complete, in any order, once unblocked.
func TestMaxClientRequests(t *testing.T) {
	cfg := rpctest.DefaultConfig()
	cfg.MaxClientRequests = 2
	gate := make(chan struct{})
	h := rpctest.NewServer(t, rpctest.WithConfig(cfg))
	h.Driver.HostnameGate = gate
	r := dial(t, h.Socket)
	r.open(0)
	for s := uint32(1); s <= 3; s++ {
		r.send(call(remote, procConnectGetHostname, s, nil))
	}
	r.send(call(remote, procAuthList, 4, nil))
	awaitDriver(t, h, "two calls in the driver", func() bool { return h.Driver.HostnameWaiting() == 2 })
	// The third call and the AUTH_LIST stay unread while two are in flight:
	// the server says when it stops reading.
	awaitLog(t, h, "client hit max requests limit")
	if n := h.Driver.HostnameWaiting(); n != 2 {
		t.Fatalf("%d calls in the driver, want 2", n)
	}
	if tp := h.Server.ThreadPool(); tp.JobQueueDepth != 0 {
		t.Fatalf("job queue depth %d: the server read past the limit", tp.JobQueueDepth)
	}
	close(gate)
	seen := map[uint32]bool{}
	for i := 0; i < 4; i++ {
		_, _, _, _, serial, status := header(r.recv())
		if status != 0 {
			t.Fatalf("serial %d failed", serial)
		}
		seen[serial] = true
	}
	for s := uint32(1); s <= 4; s++ {
		if !seen[s] {
			t.Errorf("no reply for serial %d", s)
		}
	}
}

// TestMaxClients checks that at max_clients the server stops accepting and
// resumes when a client leaves.
func TestMaxClients(t *testing.T) {
	cfg := rpctest.DefaultConfig()
	cfg.MaxClients, cfg.MaxAnonymousClients = 1, 1
	h := rpctest.NewServer(t, rpctest.WithConfig(cfg))
	changes := make(chan int, 16)
	h.Server.OnClientsChanged(func() { changes <- h.Server.NumClients() })
	first := dial(t, h.Socket)
	first.authList(0)
	second := dial(t, h.Socket) // waits in the backlog
	second.send(call(remote, procAuthList, 0, nil))
	awaitLog(t, h, "at the client limit")
	if n := h.Server.NumClients(); n != 1 {
		t.Fatalf("%d clients accepted with max_clients 1", n)
	}
	first.c.Close()
	if _, _, _, _, _, status := header(second.recv()); status != 0 {
		t.Fatal("second client failed")
	}
	// connect, disconnect, connect: one notification each. The callback
	// reads the count when it runs, so the disconnect's may already see the
	// second client, which the freed slot let in: 0 or 1.
	for i, want := range [][]int{{1}, {0, 1}, {1}} {
		select {
		case got := <-changes:
			if !slices.Contains(want, got) {
				t.Errorf("notification %d saw %d clients, want one of %v", i, got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("notification %d never came", i)
		}
	}
	if n := h.Server.NumClients(); n != 1 {
		t.Errorf("NumClients = %d after the second client got in, want 1", n)
	}
}

func TestCloseReplyThenEOF(t *testing.T) {
	h := rpctest.NewServer(t)
	r := dial(t, h.Socket)
	r.open(0)
	r.send(call(remote, procConnectClose, 1, nil))
	if _, _, proc, _, serial, status := header(r.recv()); proc != procConnectClose || serial != 1 || status != 0 {
		t.Fatalf("close reply: proc %d serial %d status %d", proc, serial, status)
	}
	r.expectEOF()
	awaitDriver(t, h, "driver connection closed", func() bool { _, c, _ := h.Driver.Stats(); return c == 1 })
}

func TestOpenRequest(t *testing.T) {
	h := rpctest.NewServer(t)
	r := dial(t, h.Socket)
	r.send(call(remote, procConnectOpen, 0, connectOpenArgs("vbox:///session", 7)))
	r.recv()
	_, _, req := h.Driver.Stats()
	if !req.ReadOnly || req.URI != "vbox:///session" || req.UID != uint32(os.Getuid()) || req.PID != int32(os.Getpid()) {
		t.Errorf("open request = %+v", req)
	}
	ro := dial(t, h.ROSocket)
	ro.open(0)
	if _, _, req := h.Driver.Stats(); !req.ReadOnly {
		t.Error("ro socket did not force read-only")
	}
	// A URI the driver refuses: its error, in the VBOX domain.
	bad := dial(t, h.Socket)
	bad.send(call(remote, procConnectOpen, 0, connectOpenArgs("vbox:///bogus", 6)))
	e := decodeError(t, bad.recv())
	if e.Code != 1 || e.Domain != 25 || e.Message != "internal error: unexpected vbox URI path 'vbox:///bogus', try vbox:///session" {
		t.Errorf("bad URI: %+v", e)
	}
}

func TestShutdownIdleIsQuick(t *testing.T) {
	s, path, done := serveRemote(t)
	r := dial(t, path)
	r.authList(0)
	shutdown(t, s, done)
	r.expectEOF()
}

// serveRemote starts a bare server with the REMOTE program over a
// FakeDriver on a socket of its own, for the tests that shut it down
// themselves. It returns the server, the socket's path and where Serve's
// result arrives.
func serveRemote(t testing.TB) (*rpc.Server, string, <-chan error) {
	t.Helper()
	dir, err := os.MkdirTemp("", "vvd") // not t.TempDir: socket paths must be short
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "s")
	s := rpc.NewServer(rpctest.DefaultConfig(), nil)
	s.Register(rpc.NewRemoteProgram(rpctest.NewFakeDriver(), nil))
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background(), ln, rpc.Service{}) }()
	return s, path, done
}

// shutdown shuts s down and checks that Shutdown and Serve return nil.
func shutdown(t testing.TB, s *rpc.Server, done <-chan error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// countFDs returns the number of open file descriptors of this process.
func countFDs(t testing.TB) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(ents)
}

// TestLoad runs 64 clients x 1000 GET_LIB_VERSION calls and checks that no
// goroutine or fd is left once the server is shut down.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	goroutines, fds := runtime.NumGoroutine(), countFDs(t)
	s, path, done := serveRemote(t)
	const clients, calls = 64, 1000
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := loadClient(path, calls); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	shutdown(t, s, done)
	waitFor(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= goroutines })
	waitFor(t, "fds to close", func() bool { return countFDs(t) <= fds })
}

// loadClient opens a connection and makes n GET_LIB_VERSION round trips,
// checking each reply's serial and value.
func loadClient(path string, n int) error {
	rc, err := openRawClient(path)
	if err != nil {
		return err
	}
	defer rc.c.Close()
	pkt := call(remote, procConnectGetLibVersion, 0, nil)
	for i := 1; i <= n; i++ {
		binary.BigEndian.PutUint32(pkt[20:], uint32(i))
		if err := rc.roundTrip(pkt, uint32(i)); err != nil {
			return err
		}
		if v := binary.BigEndian.Uint64(rc.buf[28:]); v != 9000000 {
			return fmt.Errorf("call %d: lib version %d", i, v)
		}
	}
	return nil
}

// rawClient is the benchmark's and load test's minimal client.
type rawClient struct {
	c   net.Conn
	buf []byte
}

// openRawClient connects to path and opens the hypervisor connection. The
// caller closes rc.c.
func openRawClient(path string) (*rawClient, error) {
	c, err := net.Dial("unix", path)
	if err != nil {
		return nil, err
	}
	rc := &rawClient{c: c}
	if err := rc.roundTrip(call(remote, procConnectOpen, 0, connectOpenArgs("vbox:///session", 6)), 0); err != nil {
		c.Close()
		return nil, err
	}
	return rc, nil
}

func (r *rawClient) roundTrip(pkt []byte, serial uint32) error {
	if _, err := r.c.Write(pkt); err != nil {
		return err
	}
	if cap(r.buf) < 64 {
		r.buf = make([]byte, 64)
	}
	b := r.buf[:4]
	if _, err := io.ReadFull(r.c, b); err != nil {
		return err
	}
	n := int(binary.BigEndian.Uint32(b))
	if n < 28 || n > 1<<20 {
		return fmt.Errorf("bad length %d", n)
	}
	if cap(r.buf) < n {
		nb := make([]byte, n)
		copy(nb, b)
		r.buf = nb
	}
	r.buf = r.buf[:n]
	if _, err := io.ReadFull(r.c, r.buf[4:]); err != nil {
		return err
	}
	if s, st := binary.BigEndian.Uint32(r.buf[20:]), binary.BigEndian.Uint32(r.buf[24:]); s != serial || st != 0 {
		return fmt.Errorf("reply serial %d status %d, want serial %d status 0", s, st, serial)
	}
	return nil
}

// TestShutdownFinishesInFlight checks that Shutdown lets a running call
// reply before the connection closes.
func TestShutdownFinishesInFlight(t *testing.T) {
	gate := make(chan struct{})
	h := rpctest.NewServer(t)
	h.Driver.HostnameGate = gate
	r := dial(t, h.Socket)
	r.open(0)
	r.send(call(remote, procConnectGetHostname, 1, nil))
	awaitDriver(t, h, "the call in the driver", func() bool { return h.Driver.HostnameWaiting() == 1 })
	done := shutdownInBackground(h.Server)
	// Shutdown has begun draining the client (the interesting order).
	awaitLog(t, h, "draining the client for shutdown")
	close(gate)
	if _, _, _, _, serial, status := header(r.recv()); serial != 1 || status != 0 {
		t.Fatalf("in-flight reply: serial %d status %d", serial, status)
	}
	r.expectEOF()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestShutdownReplyAfterDrainWrite checks that a call that ends more than
// drainWrite after the drain began still gets its reply: the write
// deadline runs from each write, also a worker's own (non-waiting) write.
func TestShutdownReplyAfterDrainWrite(t *testing.T) {
	defer rpc.SetDrainTimes(50*time.Millisecond, 100*time.Millisecond)()
	gate := make(chan struct{})
	h := rpctest.NewServer(t)
	h.Driver.HostnameGate = gate
	r := dial(t, h.Socket)
	r.open(0)
	r.send(call(remote, procConnectGetHostname, 1, nil))
	awaitDriver(t, h, "the call in the driver", func() bool { return h.Driver.HostnameWaiting() == 1 })
	done := shutdownInBackground(h.Server)
	awaitLog(t, h, "draining the client for shutdown")
	// No event to await: the point is that the drain's first deadline passes.
	time.Sleep(300 * time.Millisecond)
	close(gate)
	if _, _, _, _, serial, status := header(r.recv()); serial != 1 || status != 0 {
		t.Fatalf("in-flight reply: serial %d status %d", serial, status)
	}
	r.expectEOF()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestShutdownDeadline checks that when Shutdown's context ends, a stuck
// call is cancelled and its client gets a clean error reply before EOF.
func TestShutdownDeadline(t *testing.T) {
	gate := make(chan struct{})
	defer close(gate)
	h := rpctest.NewServer(t)
	h.Driver.HostnameGate = gate
	r := dial(t, h.Socket)
	r.open(0)
	r.send(call(remote, procConnectGetHostname, 1, nil))
	awaitDriver(t, h, "the call in the driver", func() bool { return h.Driver.HostnameWaiting() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := h.Server.Shutdown(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Shutdown = %v, want deadline exceeded", err)
	}
	if _, _, _, _, serial, status := header(r.recv()); serial != 1 || status != 1 {
		t.Fatalf("cancelled call: serial %d status %d, want an error reply", serial, status)
	}
	r.expectEOF()
}

// TestSetLimitsReload raises max_client_requests at run time: the client
// that was held at the old limit is read again.
func TestSetLimitsReload(t *testing.T) {
	cfg := rpctest.DefaultConfig()
	cfg.MaxClientRequests = 1
	gate := make(chan struct{})
	defer close(gate)
	h := rpctest.NewServer(t, rpctest.WithConfig(cfg))
	h.Driver.HostnameGate = gate
	r := dial(t, h.Socket)
	r.open(0)
	r.send(call(remote, procConnectGetHostname, 1, nil))
	r.send(call(remote, procConnectGetHostname, 2, nil))
	awaitDriver(t, h, "one call in the driver", func() bool { return h.Driver.HostnameWaiting() == 1 })
	cfg.MaxClientRequests = 2
	h.Server.SetLimits(cfg)
	awaitDriver(t, h, "two calls in the driver", func() bool { return h.Driver.HostnameWaiting() == 2 })
	if got := h.Server.Config().MaxClientRequests; got != 2 {
		t.Errorf("MaxClientRequests = %d", got)
	}
}

// TestPriorityWorkers blocks every normal worker in the driver with a
// low-priority call and checks that a high-priority one (libvirt's
// @priority: high, here CONNECT_OPEN and GET_HOSTNAME) still goes through on
// the priority worker, while another low-priority call waits in the queue.
func TestPriorityWorkers(t *testing.T) {
	cfg := rpctest.DefaultConfig()
	cfg.MinWorkers, cfg.MaxWorkers, cfg.PrioWorkers = 1, 1, 1
	gate := make(chan struct{})
	h := rpctest.NewServer(t, rpctest.WithConfig(cfg),
		rpctest.WithDomains(rpctest.FakeDomain{Name: "alpine", State: driver.StateRunning}))
	h.Driver.XMLGate = gate
	dom := append(append(xdrString("alpine"), make([]byte, 16)...), be32(1, 0)...)
	blocked := dial(t, h.Socket)
	blocked.open(0)
	blocked.send(call(remote, 14 /* DOMAIN_GET_XML_DESC */, 1, dom))
	awaitDriver(t, h, "the only worker in the driver", func() bool { return h.Driver.XMLWaiting() == 1 })

	r := dial(t, h.Socket)
	r.open(0) // high priority: the priority worker
	r.send(call(remote, 14, 1, dom))
	waitFor(t, "a queued job", func() bool { return h.Server.ThreadPool().JobQueueDepth == 1 })
	other := dial(t, h.Socket)
	other.open(0)
	other.send(call(remote, procConnectGetHostname, 1, nil))
	if _, _, _, _, serial, status := header(other.recv()); serial != 1 || status != 0 {
		t.Fatalf("high-priority call: serial %d status %d", serial, status)
	}
	if n := h.Server.ThreadPool().JobQueueDepth; n != 1 {
		t.Errorf("job queue depth %d, want the low-priority call still queued", n)
	}
	close(gate)
	for _, c := range []*rawConn{blocked, r} {
		if _, _, _, _, serial, status := header(c.recv()); serial != 1 || status != 0 {
			t.Fatalf("low-priority call: serial %d status %d", serial, status)
		}
	}
}

// TestClientsThatNeverReadDoNotStallWorkers: clients that keep calling but
// never read their replies fill their socket buffers; they must then stop
// being read (their request slots stay taken) while the workers keep
// serving everyone else.
func TestClientsThatNeverReadDoNotStallWorkers(t *testing.T) {
	s, path, done := serveRemote(t)
	var wg sync.WaitGroup
	var hogs []net.Conn
	for range 6 {
		rc, err := openRawClient(path)
		if err != nil {
			t.Fatal(err)
		}
		hogs = append(hogs, rc.c)
		wg.Add(1)
		go func(c net.Conn) {
			defer wg.Done()
			pkt := call(remote, procConnectGetCapabilities, 0, nil)
			for i := 1; i <= 5000; i++ {
				binary.BigEndian.PutUint32(pkt[20:], uint32(i))
				c.SetWriteDeadline(time.Now().Add(2 * time.Second))
				if _, err := c.Write(pkt); err != nil {
					return // the server stopped reading this client, as it should
				}
			}
		}(rc.c)
	}
	wg.Wait()
	ok := make(chan error, 1)
	go func() { ok <- loadClient(path, 100) }()
	select {
	case err := <-ok:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a well-behaved client got no answers while others ignored theirs")
	}
	for _, c := range hogs {
		c.Close()
	}
	shutdown(t, s, done)
}

// TestShutdownIsNotAKeepaliveTimeout: once Shutdown stops reading a client,
// its PONGs go unseen; the keepalive timer must not then drop it (and log a
// timeout) while its call in flight finishes.
func TestShutdownIsNotAKeepaliveTimeout(t *testing.T) {
	clock := rpctest.NewFakeClock()
	cfg := rpctest.DefaultConfig()
	cfg.KeepaliveInterval, cfg.KeepaliveCount = 5, 1
	gate := make(chan struct{})
	h := rpctest.NewServer(t, rpctest.WithClock(clock), rpctest.WithConfig(cfg))
	h.Driver.HostnameGate = gate
	r := dial(t, h.Socket)
	r.send(call(remote, procConnectSupportsFeature, 0, be32(10)))
	r.recv()
	r.open(1)
	r.send(call(remote, procConnectGetHostname, 2, nil))
	awaitDriver(t, h, "the call in the driver", func() bool { return h.Driver.HostnameWaiting() == 1 })
	done := shutdownInBackground(h.Server)
	// Shutdown has begun draining the client (the interesting order).
	awaitLog(t, h, "draining the client for shutdown")
	for range 4 { // interval x (count+1) and more, with nothing read
		clock.Advance(5 * time.Second)
	}
	close(gate)
	for {
		pkt := r.recv()
		if prog, _, _, _, _, _ := header(pkt); prog == rpc.KeepaliveProgram {
			continue // a PING sent before the reader stopped
		}
		if _, _, _, _, serial, status := header(pkt); serial != 2 || status != 0 {
			t.Fatalf("in-flight reply: serial %d status %d", serial, status)
		}
		break
	}
	r.expectEOF()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(h.Log.String(), "keepalive timeout") {
		t.Errorf("shutdown was logged as a keepalive timeout:\n%s", h.Log.String())
	}
}

// shutdownInBackground starts s.Shutdown (bounded to 10 s) and returns its
// result channel.
func shutdownInBackground(s *rpc.Server) <-chan error {
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- s.Shutdown(ctx)
	}()
	return done
}

// TestShutdownServesFollowUp checks that a client whose call was in flight
// when Shutdown began gets the reply and then still gets an answer to the
// call it sends right after (as virDomainCreate's lookup by UUID), and is
// closed once idle.
func TestShutdownServesFollowUp(t *testing.T) {
	gate := make(chan struct{})
	h := rpctest.NewServer(t)
	h.Driver.HostnameGate = gate
	r := dial(t, h.Socket)
	r.open(0)
	r.send(call(remote, procConnectGetHostname, 1, nil))
	awaitDriver(t, h, "the call in the driver", func() bool { return h.Driver.HostnameWaiting() == 1 })
	done := shutdownInBackground(h.Server)
	// Shutdown closes the listeners, then drains the clients.
	awaitLog(t, h, "draining the client for shutdown")
	close(gate)
	if _, _, _, _, serial, status := header(r.recv()); serial != 1 || status != 0 {
		t.Fatalf("in-flight reply: serial %d status %d", serial, status)
	}
	r.send(call(remote, procConnectGetHostname, 2, nil))
	if _, _, _, _, serial, status := header(r.recv()); serial != 2 || status != 0 {
		t.Fatalf("follow-up reply: serial %d status %d", serial, status)
	}
	r.expectEOF()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestShutdownDropsNonReader checks that a client that pipelines calls and
// never reads cannot hold the shutdown: it is dropped once a write to it
// has waited drainWrite, and Shutdown returns nil.
func TestShutdownDropsNonReader(t *testing.T) {
	defer rpc.SetDrainTimes(50*time.Millisecond, 200*time.Millisecond)()
	h := rpctest.NewServer(t)
	c, err := net.Dial("unix", h.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.UnixConn).SetReadBuffer(4096)
	if _, err := c.Write(call(remote, procConnectOpen, 0, connectOpenArgs("vbox:///session", 6))); err != nil {
		t.Fatal(err)
	}
	// Pipeline calls until the server stops reading: its replies fill the
	// socket and its request slots stay taken.
	pkt := call(remote, procConnectGetCapabilities, 0, nil)
	for i := uint32(1); ; i++ {
		binary.BigEndian.PutUint32(pkt[20:], i)
		c.SetWriteDeadline(time.Now().Add(300 * time.Millisecond))
		if _, err := c.Write(pkt); err != nil {
			break
		}
	}
	start := time.Now()
	if err := <-shutdownInBackground(h.Server); err != nil {
		t.Fatalf("Shutdown = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Shutdown took %s", d)
	}
}

// TestReadOnlyClientsLeaveReservedSlots checks rw_reserved_clients: the
// read-only listener stops accepting at max_clients less the reserve, while
// the read-write one still takes clients; a read-only client that leaves
// lets the next one in.
func TestReadOnlyClientsLeaveReservedSlots(t *testing.T) {
	cfg := rpctest.DefaultConfig()
	cfg.MaxClients, cfg.MaxAnonymousClients, cfg.RWReservedClients = 4, 4, 2
	h := rpctest.NewServer(t, rpctest.WithConfig(cfg))
	var ro []*rawConn
	for i := 0; i < 2; i++ {
		r := dial(t, h.ROSocket)
		r.authList(0)
		ro = append(ro, r)
	}
	waiting := dial(t, h.ROSocket) // waits in the backlog
	waiting.send(call(remote, procAuthList, 0, nil))
	for i := 0; i < 2; i++ {
		dial(t, h.Socket).authList(0) // the reserved slots
	}
	if n := h.Server.NumClients(); n != 4 {
		t.Fatalf("%d clients, want 2 read-only and 2 read-write", n)
	}
	ro[0].c.Close()
	if _, _, _, _, _, status := header(waiting.recv()); status != 0 {
		t.Fatal("the waiting read-only client failed")
	}
}
