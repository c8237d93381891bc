package rpc_test

import (
	"context"
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/virtvboxd/virtvboxd/internal/rpc"
	"github.com/virtvboxd/virtvboxd/internal/rpc/rpctest"
)

// BenchmarkRoundTrip measures CONNECT_GET_LIB_VERSION round trips over a
// real UNIX socket with a minimal raw client (one call in flight per
// client), the shape of reference 10's (c1)/(c8)/(c-raw) figures. Run:
//
//	go test -run '^$' -bench RoundTrip -benchtime 20000x ./internal/rpc
//
// and read the calls/s metric.
func BenchmarkRoundTrip(b *testing.B) {
	for _, clients := range []int{1, 8} {
		b.Run(map[int]string{1: "1client", 8: "8clients"}[clients], func(b *testing.B) {
			dir, err := os.MkdirTemp("", "vvd")
			if err != nil {
				b.Fatal(err)
			}
			defer os.RemoveAll(dir)
			path := filepath.Join(dir, "s")
			s := rpc.NewServer(rpctest.DefaultConfig(), nil)
			s.Register(rpc.NewRemoteProgram(rpctest.NewFakeDriver(), nil))
			ln, err := net.Listen("unix", path)
			if err != nil {
				b.Fatal(err)
			}
			go s.Serve(context.Background(), ln, rpc.Service{})
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				s.Shutdown(ctx)
			}()

			conns := make([]*rawClient, clients)
			for i := range conns {
				c, err := net.Dial("unix", path)
				if err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				conns[i] = &rawClient{c: c}
				open := call(remote, procConnectOpen, 0, append(append(be32(1), xdrString("vbox:///session")...), be32(6)...))
				if err := conns[i].roundTrip(open, 0); err != nil {
					b.Fatal(err)
				}
			}
			per := b.N / clients
			if per == 0 {
				per = 1
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for _, rc := range conns {
				wg.Add(1)
				go func(rc *rawClient) {
					defer wg.Done()
					pkt := call(remote, procConnectGetLibVersion, 0, nil)
					for i := 1; i <= per; i++ {
						binary.BigEndian.PutUint32(pkt[20:], uint32(i))
						if err := rc.roundTrip(pkt, uint32(i)); err != nil {
							b.Error(err)
							return
						}
					}
				}(rc)
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			b.ReportMetric(float64(per*clients)/elapsed.Seconds(), "calls/s")
		})
	}
}
