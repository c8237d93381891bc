package rpc_test

import (
	"encoding/binary"
	"sync"
	"testing"
	"time"
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
			s, path, done := serveRemote(b)
			defer shutdown(b, s, done)

			conns := make([]*rawClient, clients)
			for i := range conns {
				rc, err := openRawClient(path)
				if err != nil {
					b.Fatal(err)
				}
				defer rc.c.Close()
				conns[i] = rc
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
