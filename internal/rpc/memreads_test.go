package rpc_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/rpc/rpctest"
)

// TestMemoryReadsInline checks how a read the driver may hold in memory
// (DOMAIN_GET_INFO) runs: on a driver that honours driver.NoWait it is tried
// once under NoWait (on the connection's goroutine) and, when the driver
// says it would wait, run again without it (on a worker); a driver that does
// not honour NoWait never sees it. The client gets one reply either way.
func TestMemoryReadsInline(t *testing.T) {
	for _, tc := range []struct {
		name         string
		honours      bool
		cold         bool
		wantMustWait []bool // driver.MustNotWait of each DomainGetInfo the driver saw
	}{
		{"honours NoWait, answer in memory", true, false, []bool{true}},
		{"honours NoWait, answer not in memory", true, true, []bool{true, false}},
		{"does not honour NoWait", false, true, []bool{false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := rpctest.NewServer(t, rpctest.WithDomains(rpctest.FakeDomain{Name: "vm1", State: driver.StateRunning,
				MemoryKiB: 1024, VCPUs: 2}))
			h.Driver.NoWaitReads = tc.honours
			h.Driver.Cold.Store(tc.cold)
			var mu sync.Mutex
			var seen []bool
			h.Driver.Hook = func(ctx context.Context, method string) {
				mu.Lock()
				seen = append(seen, driver.MustNotWait(ctx))
				mu.Unlock()
			}
			r := dial(t, h.Socket)
			r.open(1)
			r.send(call(remote, procDomainGetInfo, 2, domainArg("vm1", 1)))
			pkt := r.recv()
			if _, _, proc, _, serial, status := header(pkt); proc != procDomainGetInfo || serial != 2 || status != 0 {
				t.Fatalf("reply proc %d serial %d status %d", proc, serial, status)
			}
			x := &xdrIn{t: t, b: pkt[28:]}
			if state, maxMem := x.u32(), uint64(x.u32())<<32|uint64(x.u32()); state != uint32(driver.StateRunning) || maxMem != 1024 {
				t.Errorf("info: state %d max memory %d, want running, 1024", state, maxMem)
			}
			// One reply only: the next packet answers the next call.
			r.send(call(remote, procAuthList, 3, nil))
			if _, _, _, _, serial, _ := header(r.recv()); serial != 3 {
				t.Fatalf("got serial %d, want 3: a second reply to DOMAIN_GET_INFO", serial)
			}
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(seen, tc.wantMustWait) {
				t.Errorf("the driver saw NoWait %v, want %v", seen, tc.wantMustWait)
			}
		})
	}
}

// TestMemoryReadPassesBusyWorkers checks that a read answered from memory
// does not queue behind the client's own calls that wait in the driver: with
// every worker held by a gated call, DOMAIN_GET_INFO is answered first.
func TestMemoryReadPassesBusyWorkers(t *testing.T) {
	cfg := rpctest.DefaultConfig()
	cfg.MinWorkers, cfg.MaxWorkers, cfg.PrioWorkers = 1, 1, 0
	gate := make(chan struct{})
	h := rpctest.NewServer(t, rpctest.WithConfig(cfg), rpctest.WithDomains(rpctest.FakeDomain{Name: "vm1"}))
	h.Driver.NoWaitReads = true
	h.Driver.HostnameGate = gate
	r := dial(t, h.Socket)
	r.open(1)
	r.send(call(remote, procConnectGetHostname, 2, nil))
	awaitDriver(t, h, "the hostname call in the driver", func() bool { return h.Driver.HostnameWaiting() == 1 })
	r.send(call(remote, procDomainGetInfo, 3, domainArg("vm1", 0)))
	if _, _, _, _, serial, status := header(r.recv()); serial != 3 || status != 0 {
		t.Fatalf("first reply serial %d status %d, want DOMAIN_GET_INFO (3) answered while the worker waits", serial, status)
	}
	close(gate)
	if _, _, _, _, serial, status := header(r.recv()); serial != 2 || status != 0 {
		t.Fatalf("second reply serial %d status %d, want the hostname (2)", serial, status)
	}
}

// TestWorkerRepliesLargerThanTheSocket checks the workers' non-waiting
// writes: replies larger than the socket's buffer, to a client that reads
// only after sending all its calls, arrive whole and each once, the part a
// worker could not write going through the client's writer.
func TestWorkerRepliesLargerThanTheSocket(t *testing.T) {
	h := rpctest.NewServer(t)
	host := strings.Repeat("h", 300<<10)
	h.Driver.Hostname = host
	r := dial(t, h.Socket)
	r.open(1)
	const calls = 6
	for s := uint32(2); s < 2+calls; s++ {
		r.send(call(remote, procConnectGetHostname, s, nil))
	}
	seen := map[uint32]bool{}
	for range calls {
		pkt := r.recv()
		_, _, _, _, serial, status := header(pkt)
		if status != 0 || seen[serial] {
			t.Fatalf("serial %d: status %d, seen before %v", serial, status, seen[serial])
		}
		seen[serial] = true
		x := &xdrIn{t: t, b: pkt[28:]}
		if got := x.str(); got != host {
			t.Fatalf("serial %d: a hostname of %d bytes, want %d", serial, len(got), len(host))
		}
	}
}
