package rpctest_test

import (
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/virtvboxd/virtvboxd/internal/rpc/rpctest"
)

// pyBench makes N getLibVersion() calls on one connection after a barrier
// (the file named by argv[3] appearing) and prints the elapsed seconds:
// reference 10's (c1)/(c8) client.
const pyBench = `
import sys, os, time, libvirt
c = libvirt.open(sys.argv[1])
n = int(sys.argv[2])
while not os.path.exists(sys.argv[3]):
    time.sleep(0.001)
t = time.perf_counter()
for _ in range(n):
    c.getLibVersion()
print(time.perf_counter() - t)
c.close()
`

// BenchmarkPythonLibvirt measures getLibVersion() round trips from
// python3-libvirt processes, as reference 10 measured libvirtd (about 5000/s
// for one client, 9500/s for eight). Run:
//
//	go test -run '^$' -bench PythonLibvirt -benchtime 1x ./internal/rpc/rpctest
func BenchmarkPythonLibvirt(b *testing.B) {
	const py = "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import libvirt").Run(); err != nil {
		b.Skip("no python3-libvirt")
	}
	const calls = 20000
	for _, procs := range []int{1, 8} {
		b.Run(strconv.Itoa(procs)+"procs", func(b *testing.B) {
			h := rpctest.NewServer(b)
			for i := 0; i < b.N; i++ {
				barrier := h.Dir + "/go-" + strconv.Itoa(i)
				var wg sync.WaitGroup
				times := make([]float64, procs)
				for p := 0; p < procs; p++ {
					wg.Add(1)
					go func(p int) {
						defer wg.Done()
						out, err := exec.Command(py, "-c", pyBench, uri(h.Socket), strconv.Itoa(calls), barrier).Output()
						if err != nil {
							b.Error(err)
							return
						}
						times[p], _ = strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
					}(p)
				}
				time.Sleep(500 * time.Millisecond) // let every process connect
				if err := exec.Command("touch", barrier).Run(); err != nil {
					b.Fatal(err)
				}
				wg.Wait()
				slowest := 0.0
				for _, t := range times {
					slowest = max(slowest, t)
				}
				b.ReportMetric(float64(calls*procs)/slowest, "calls/s")
			}
		})
	}
}
