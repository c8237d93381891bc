package rpc_test

import (
	"context"
	"github.com/virtvboxd/virtvboxd/internal/driver"
	"os"
	"strings"
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/callctx"
	"github.com/virtvboxd/virtvboxd/internal/rpc"
	"github.com/virtvboxd/virtvboxd/internal/rpc/rpctest"
)

const (
	procDomainDestroy = 12
	procDomainGetInfo = 16
)

// domainArg is remote_nonnull_domain: name, UUID, id.
func domainArg(name string, id uint32) []byte {
	b := append(xdrString(name), make([]byte, 16)...)
	return append(b, be32(id)...)
}

// TestCallContext checks the context a driver call runs under: it names the
// client and the call (procedure, serial, pid, uid) and its log entry
// carries them; when the client goes away a read is cancelled, a state
// change (DOMAIN_DESTROY) is not and finishes.
func TestCallContext(t *testing.T) {
	h := rpctest.NewServer(t, rpctest.WithDomains(rpctest.FakeDomain{Name: "vm1", State: driver.StateRunning}))
	type started struct {
		method string
		ctx    context.Context
	}
	starts := make(chan started, 2)
	release := make(chan struct{})
	finished := make(chan error, 2)
	h.Driver.Hook = func(ctx context.Context, method string) {
		starts <- started{method, ctx}
		select {
		case <-release:
		case <-ctx.Done():
		}
		finished <- ctx.Err()
	}
	r := dial(t, h.Socket)
	r.open(1)
	r.send(call(remote, procDomainGetInfo, 7, domainArg("vm1", 1)))
	r.send(call(remote, procDomainDestroy, 8, domainArg("vm1", 1)))
	ctxs := map[string]context.Context{}
	for range 2 {
		s := <-starts
		ctxs[s.method] = s.ctx
	}
	for method, want := range map[string]struct {
		proc   string
		serial uint32
	}{"DomainGetInfo": {"DOMAIN_GET_INFO", 7}, "DomainDestroy": {"DOMAIN_DESTROY", 8}} {
		c, ok := callctx.From(ctxs[method])
		if !ok {
			t.Fatalf("%s: no call in the context", method)
		}
		if c.Proc != want.proc || c.Serial != want.serial || c.Program != rpc.RemoteProgram ||
			c.Client == 0 || c.UID != uint32(os.Getuid()) || c.PID != int32(os.Getpid()) {
			t.Errorf("%s: call %+v, want %s serial %d of this process", method, c, want.proc, want.serial)
		}
	}
	callctx.Log(ctxs["DomainGetInfo"]).Info("a driver line")
	line := ""
	for _, l := range strings.Split(h.Log.String(), "\n") {
		if strings.Contains(l, "a driver line") {
			line = l
		}
	}
	for _, f := range []string{"proc=DOMAIN_GET_INFO", "serial=7", "client=", "pid=", "uid="} {
		if !strings.Contains(line, f) {
			t.Errorf("driver log line %q lacks %s", line, f)
		}
	}

	r.c.Close()
	// The read's context is the client's: it ends when the client goes
	// away, and the cancellation reached every context derived from the
	// client's by then, so the state change's is checked right after.
	<-ctxs["DomainGetInfo"].Done()
	if err := <-finished; err != context.Canceled {
		t.Errorf("the read ended with %v, want cancellation", err)
	}
	if err := ctxs["DomainDestroy"].Err(); err != nil {
		t.Fatalf("DOMAIN_DESTROY's context ended with its client: %v", err)
	}
	close(release)
	if err := <-finished; err != nil {
		t.Errorf("DOMAIN_DESTROY ended with %v, want completion", err)
	}
}
