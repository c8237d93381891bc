// Package rpctest starts an in-process virtvboxd RPC server for tests: the
// REMOTE program over a FakeDriver on a rw and a ro socket, and the ADMIN
// program over a FakeBackend on an admin socket.
package rpctest

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/virtvboxd/virtvboxd/internal/rpc"
)

// Harness is a started server and the paths of its sockets.
type Harness struct {
	Dir         string // short temporary directory holding the sockets
	Socket      string // rw socket (REMOTE)
	ROSocket    string // ro socket (REMOTE, read-only)
	AdminSocket string // admin socket (ADMIN)

	Server      *rpc.Server // "virtvboxd"
	AdminServer *rpc.Server // "admin"
	Driver      *FakeDriver
	Backend     *FakeBackend
	Log         *LogBuffer // everything the servers logged
}

type options struct {
	cfg      rpc.ServerConfig
	adminCfg rpc.ServerConfig
	domains  []FakeDomain
	clock    rpc.Clock
	auth     rpc.AuthType
}

// Option changes the harness.
type Option func(*options)

// WithConfig sets the main server's limits (Name is kept).
func WithConfig(cfg rpc.ServerConfig) Option { return func(o *options) { o.cfg = cfg } }

// WithDomains gives the fake driver domains.
func WithDomains(d ...FakeDomain) Option { return func(o *options) { o.domains = d } }

// WithAuth sets the authentication the rw socket requires (default none).
func WithAuth(a rpc.AuthType) Option { return func(o *options) { o.auth = a } }

// WithClock sets the servers' keepalive clock.
func WithClock(c rpc.Clock) Option { return func(o *options) { o.clock = c } }

// DefaultConfig is libvirt's defaults for the main server.
func DefaultConfig() rpc.ServerConfig {
	return rpc.ServerConfig{Name: "virtvboxd", MinWorkers: 5, MaxWorkers: 20, PrioWorkers: 5,
		MaxClients: 5000, MaxAnonymousClients: 20, MaxClientRequests: 5, KeepaliveInterval: 5,
		KeepaliveCount: 5}
}

// NewServer starts a harness; t.Cleanup shuts it down.
func NewServer(t testing.TB, opts ...Option) *Harness {
	t.Helper()
	o := options{
		cfg: DefaultConfig(),
		adminCfg: rpc.ServerConfig{Name: "admin", MinWorkers: 5, MaxWorkers: 20, MaxClients: 5000,
			MaxClientRequests: 5, KeepaliveInterval: 5, KeepaliveCount: 5},
	}
	for _, f := range opts {
		f(&o)
	}
	o.cfg.Name = "virtvboxd"

	dir, err := os.MkdirTemp("", "vvd")
	if err != nil {
		t.Fatal(err)
	}
	h := &Harness{
		Dir:         dir,
		Socket:      filepath.Join(dir, "virtvboxd-sock"),
		ROSocket:    filepath.Join(dir, "virtvboxd-sock-ro"),
		AdminSocket: filepath.Join(dir, "virtvboxd-admin-sock"),
		Driver:      NewFakeDriver(o.domains...),
		Backend:     &FakeBackend{outputs: "3:stderr"},
		Log:         &LogBuffer{},
	}
	logger := logrus.New()
	logger.SetOutput(h.Log)
	logger.SetLevel(logrus.DebugLevel)
	log := logrus.NewEntry(logger).WithField("module", "rpc")

	h.Server = rpc.NewServer(o.cfg, log)
	h.AdminServer = rpc.NewServer(o.adminCfg, log)
	if o.clock != nil {
		h.Server.SetClock(o.clock)
		h.AdminServer.SetClock(o.clock)
	}
	h.Server.Register(rpc.NewRemoteProgram(h.Driver, log))
	h.Backend.servers = map[string]*rpc.Server{"virtvboxd": h.Server, "admin": h.AdminServer}
	h.AdminServer.Register(rpc.NewAdminProgram(h.Backend))

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	serve := func(srv *rpc.Server, path string, svc rpc.Service) {
		ln, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := srv.Serve(ctx, ln, svc); err != nil {
				t.Errorf("Serve %s: %v", path, err)
			}
		}()
	}
	serve(h.Server, h.Socket, rpc.Service{Auth: o.auth})
	serve(h.Server, h.ROSocket, rpc.Service{ReadOnly: true})
	serve(h.AdminServer, h.AdminSocket, rpc.Service{})

	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		if err := h.Server.Shutdown(sctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := h.AdminServer.Shutdown(sctx); err != nil {
			t.Errorf("Shutdown admin: %v", err)
		}
		cancel()
		wg.Wait()
		os.RemoveAll(dir)
	})
	return h
}

// LogBuffer collects log output safely across goroutines.
type LogBuffer struct {
	written signal

	mu     sync.Mutex
	buf    []byte
	errors int
}

var _ io.Writer = (*LogBuffer)(nil)

// Write implements io.Writer.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.buf = append(l.buf, p...)
	if bytes.Contains(p, []byte("level=error")) {
		l.errors++
	}
	l.mu.Unlock()
	l.written.notify()
	return len(p), nil
}

// Await returns once the log holds s, re-checking at each write; it gives
// up after timeout and returns false.
func (l *LogBuffer) Await(s string, timeout time.Duration) bool {
	return l.written.await(func() bool { return strings.Contains(l.String(), s) }, timeout)
}

// Errors returns how many error-level entries were logged.
func (l *LogBuffer) Errors() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.errors
}

// String returns everything logged so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf)
}
