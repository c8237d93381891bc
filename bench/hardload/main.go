// hardload is the mixed-read load of bench/hardening.sh: go-libvirt clients on
// one of the daemon's sockets, each calling getLibVersion, lookupByName,
// listAllDomains, dominfo and dumpxml in turn, and optionally one client that
// starts and destroys machines. It counts errors instead of stopping at the
// first, and prints one line of key=value figures:
//
//	clients=64 calls=64000 errors=0 rate=5321 p50_ms=8.1 p99_ms=41.0 lifecycle=0 first_error=
//
// Either -n calls per client or -duration; -think paces each client.
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"github.com/digitalocean/go-libvirt/socket/dialers"
)

func main() {
	sock := flag.String("socket", "", "daemon socket")
	uri := flag.String("uri", "vbox:///session", "URI for CONNECT_OPEN")
	clients := flag.Int("clients", 1, "concurrent read clients")
	n := flag.Int("n", 0, "calls per client (0: run for -duration)")
	dur := flag.Duration("duration", 10*time.Second, "how long to run when -n is 0")
	think := flag.Duration("think", 0, "pause after each call")
	lifecycle := flag.String("lifecycle", "", "comma-separated machines one more client starts and destroys in turn")
	flag.Parse()
	if *sock == "" {
		fmt.Fprintln(os.Stderr, "hardload: -socket is required")
		os.Exit(2)
	}

	dial := func() (*libvirt.Libvirt, error) {
		l := libvirt.NewWithDialer(dialers.NewLocal(dialers.WithSocket(*sock)))
		if err := l.ConnectToURI(libvirt.ConnectURI(*uri)); err != nil {
			return nil, fmt.Errorf("connect: %w", err)
		}
		return l, nil
	}
	conns := make([]*libvirt.Libvirt, *clients)
	for i := range conns {
		l, err := dial()
		if err != nil {
			fmt.Fprintln(os.Stderr, "hardload:", err)
			os.Exit(1)
		}
		conns[i] = l
	}
	doms, _, err := conns[0].ConnectListAllDomains(1, 0)
	if err != nil || len(doms) == 0 {
		fmt.Fprintln(os.Stderr, "hardload: listall:", err, len(doms))
		os.Exit(1)
	}

	var (
		errors    atomic.Int64
		lifeOps   atomic.Int64
		firstMu   sync.Mutex
		firstErr  string
		stopAt    = time.Now().Add(*dur)
		lats      = make([][]time.Duration, *clients)
		wg        sync.WaitGroup
		stopLife  = make(chan struct{})
		lifeGroup sync.WaitGroup
	)
	fail := func(what string, err error) {
		errors.Add(1)
		firstMu.Lock()
		if firstErr == "" {
			firstErr = what + ": " + err.Error()
		}
		firstMu.Unlock()
	}
	more := func(k int) bool {
		if *n > 0 {
			return k < *n
		}
		return time.Now().Before(stopAt)
	}

	if *lifecycle != "" {
		l, err := dial()
		if err != nil {
			fmt.Fprintln(os.Stderr, "hardload:", err)
			os.Exit(1)
		}
		names := strings.Split(*lifecycle, ",")
		lifeGroup.Add(1)
		go func() {
			defer lifeGroup.Done()
			defer l.Disconnect()
			for k := 0; ; k++ {
				d, err := l.DomainLookupByName(names[k%len(names)])
				if err != nil {
					fail("lookup", err)
				} else {
					if err := l.DomainCreate(d); err != nil {
						fail("start", err)
					}
					lifeOps.Add(1)
					// A running machine for a while, then off; the simulator
					// keeps its session lock 1.5 s after a power-off.
					select {
					case <-stopLife:
					case <-time.After(time.Second):
					}
					if err := l.DomainDestroy(d); err != nil {
						fail("destroy", err)
					}
					lifeOps.Add(1)
				}
				select {
				case <-stopLife:
					return
				case <-time.After(2 * time.Second):
				}
			}
		}()
	}

	start := time.Now()
	for i := range conns {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			l := conns[i]
			lat := make([]time.Duration, 0, max(*n, 1024))
			for k := 0; more(k); k++ {
				d := doms[(i+k/5)%len(doms)]
				t := time.Now()
				var err error
				what := ""
				switch k % 5 {
				case 0:
					what = "getLibVersion"
					_, err = l.ConnectGetLibVersion()
				case 1:
					what = "lookupByName"
					_, err = l.DomainLookupByName(d.Name)
				case 2:
					what = "listAllDomains"
					_, _, err = l.ConnectListAllDomains(1, 0)
				case 3:
					what = "dominfo"
					_, _, _, _, _, err = l.DomainGetInfo(d)
				case 4:
					what = "dumpxml"
					_, err = l.DomainGetXMLDesc(d, 0)
				}
				lat = append(lat, time.Since(t))
				if err != nil {
					fail(what, err)
				}
				if *think > 0 {
					time.Sleep(*think)
				}
			}
			lats[i] = lat
		}(i)
	}
	wg.Wait()
	el := time.Since(start)
	close(stopLife)
	lifeGroup.Wait()

	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	p := func(q float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[int(q*float64(len(all)-1))].Microseconds()) / 1000
	}
	fmt.Printf("clients=%d calls=%d errors=%d rate=%.0f p50_ms=%.2f p99_ms=%.2f lifecycle=%d first_error=%q\n",
		*clients, len(all), errors.Load(), float64(len(all))/el.Seconds(), p(0.5), p(0.99), lifeOps.Load(), firstErr)
	for _, l := range conns {
		l.Disconnect()
	}
}
