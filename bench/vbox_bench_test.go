// Benchmarks of the VirtualBox driver against the VBoxManage simulator with
// realistic latency, beside the same work done through terra-farm/go-virtualbox
// v0.0.4. Run (about two minutes):
//
//	go test -run XXX -bench . -benchtime 1x ./bench/
//
// VBOXSIM_BENCH_LATENCY (default 50ms) and VBOXSIM_BENCH_VMS (default 200)
// change the set-up. Each benchmark reports wall time per operation and the
// number of VBoxManage processes it started (spawns/op), read from the
// simulator's invocation log.
package bench

import (
	"bufio"
	"context"
	"fmt"
	"github.com/virtvboxd/virtvboxd/internal/driver"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	virtualbox "github.com/terra-farm/go-virtualbox"

	"github.com/virtvboxd/virtvboxd/internal/vbox"
)

var (
	simDir  string // holds VBoxManage (the simulator) and vboxsim
	simHome string
	nVMs    = 200
)

func TestMain(m *testing.M) {
	os.Exit(setup(m))
}

func setup(m *testing.M) int {
	var err error
	if simDir, err = os.MkdirTemp("", "vboxbench"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(simDir)
	bin := filepath.Join(simDir, "VBoxManage")
	if dir := os.Getenv("VIRTVBOXD_BIN_DIR"); dir != "" {
		err = os.Symlink(filepath.Join(dir, "vboxsim"), bin)
	} else {
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/vboxsim")
		cmd.Dir = ".."
		var out []byte
		if out, err = cmd.CombinedOutput(); err != nil {
			err = fmt.Errorf("%v\n%s", err, out)
		}
	}
	if err == nil {
		err = os.Symlink(bin, filepath.Join(simDir, "vboxsim"))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "simulator:", err)
		return 1
	}
	if v := os.Getenv("VBOXSIM_BENCH_VMS"); v != "" {
		if nVMs, err = strconv.Atoi(v); err != nil {
			fmt.Fprintln(os.Stderr, "VBOXSIM_BENCH_VMS:", err)
			return 1
		}
	}
	latency := os.Getenv("VBOXSIM_BENCH_LATENCY")
	if latency == "" {
		latency = "50ms"
	}
	simHome = filepath.Join(simDir, "home")
	// go-virtualbox finds VBoxManage on PATH and passes the environment on;
	// so does our ExecRunner.
	os.Setenv("PATH", simDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	os.Setenv("VBOXSIM_HOME", simHome)
	os.Setenv("VBOXSIM_LATENCY", "0")
	os.Setenv("VBOXSIM_COLD_START", "0")
	os.Setenv("VBOXSIM_ACPI_DELAY", "0")
	os.Setenv("VBOXSIM_LOCK_LINGER", "0")
	seed := exec.Command(filepath.Join(simDir, "vboxsim"), "seed", "--count", strconv.Itoa(nVMs), "--running", strconv.Itoa(nVMs/10))
	if out, err := seed.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "seed: %v\n%s", err, out)
		return 1
	}
	os.Setenv("VBOXSIM_LATENCY", latency)
	return m.Run()
}

// spawns returns how many VBoxManage processes the simulator has logged.
func spawns(tb testing.TB) int {
	f, err := os.Open(filepath.Join(simHome, "invocations.log"))
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
	}
	return n
}

// failedInvocations lists the simulator's failed calls (go-virtualbox drops
// VBoxManage's stderr, so its errors say only "exit status 1").
func failedInvocations(tb testing.TB) string {
	b, err := os.ReadFile(filepath.Join(simHome, "invocations.log"))
	if err != nil {
		return err.Error()
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" && !strings.Contains(l, "exit=0 ") {
			out = append(out, l)
		}
	}
	return "failed VBoxManage calls:\n" + strings.Join(out, "\n")
}

// openDriver returns a fresh (cold) driver connection; the one-time version
// check of the first open is done before the caller starts counting.
func openDriver(tb testing.TB) driver.Conn {
	tb.Helper()
	d, err := vbox.NewDriver(vbox.Options{VBoxManagePath: filepath.Join(simDir, "VBoxManage"), Timeout: time.Minute})
	if err != nil {
		tb.Fatal(err)
	}
	c, err := d.Open(context.Background(), driver.OpenRequest{URI: "vbox:///session"})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// measure runs fn b.N times and reports the VBoxManage processes per run.
func measure(b *testing.B, prepare func(), fn func()) {
	total := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if prepare != nil {
			prepare()
		}
		before := spawns(b)
		b.StartTimer()
		fn()
		b.StopTimer()
		total += spawns(b) - before
	}
	b.ReportMetric(float64(total)/float64(b.N), "spawns/op")
}

func BenchmarkListAll(b *testing.B) {
	ctx := context.Background()
	b.Run("virtvboxd-cold", func(b *testing.B) {
		var c driver.Conn
		measure(b, func() { c = openDriver(b) }, func() {
			ds, err := c.ListAllDomains(ctx, 0)
			if err != nil || len(ds) != nVMs {
				b.Fatalf("%d domains, %v", len(ds), err)
			}
		})
	})
	b.Run("virtvboxd-warm", func(b *testing.B) {
		c := openDriver(b)
		measure(b, func() {
			if _, err := c.ListAllDomains(ctx, 0); err != nil {
				b.Fatal(err)
			}
		}, func() {
			if _, err := c.ListAllDomains(ctx, 0); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("go-virtualbox", func(b *testing.B) {
		measure(b, nil, func() {
			ms, err := virtualbox.ListMachines()
			if err != nil || len(ms) != nVMs {
				b.Fatalf("%d machines, %v", len(ms), err)
			}
		})
	})
}

func BenchmarkDominfoEveryVM(b *testing.B) {
	ctx := context.Background()
	names := machineNames(b)
	b.Run("virtvboxd", func(b *testing.B) {
		var c driver.Conn
		measure(b, func() { c = openDriver(b) }, func() {
			// What `virsh dominfo NAME` asks, for every machine.
			for _, n := range names {
				d, err := c.LookupByName(ctx, n)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := c.DomainGetInfo(ctx, d); err != nil {
					b.Fatal(err)
				}
				c.DomainGetOSType(ctx, d)
				c.DomainIsPersistent(ctx, d)
				c.DomainGetAutostart(ctx, d)
				c.DomainHasManagedSaveImage(ctx, d, 0)
			}
		})
	})
	b.Run("go-virtualbox", func(b *testing.B) {
		measure(b, nil, func() {
			for _, n := range names {
				if _, err := virtualbox.GetMachine(n); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

func machineNames(tb testing.TB) []string {
	out, err := exec.Command(filepath.Join(simDir, "VBoxManage"), "list", "vms").Output()
	if err != nil {
		tb.Fatal(err)
	}
	refs, err := vbox.ParseListVMs(out)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, r := range refs {
		names = append(names, r.Name)
	}
	return names
}

// poweredOff returns n machines that are powered off, for the lifecycle mix.
func poweredOff(tb testing.TB, n int) []string {
	c := openDriver(tb)
	ds, err := c.ListAllDomains(context.Background(), 64 /* SHUTOFF */ |512 /* NO_MANAGEDSAVE */)
	if err != nil {
		tb.Fatal(err)
	}
	if len(ds) < n {
		tb.Fatalf("only %d powered-off machines", len(ds))
	}
	var names []string
	for _, d := range ds[:n] {
		names = append(names, d.Name)
	}
	return names
}

// BenchmarkMixed8 runs 8 clients at once; each lists all domains, reads
// dominfo of 5 random machines and takes its own machine through start,
// suspend, resume and power-off.
func BenchmarkMixed8(b *testing.B) {
	ctx := context.Background()
	names := machineNames(b)
	own := poweredOff(b, 8)
	b.Run("virtvboxd", func(b *testing.B) {
		var c driver.Conn
		measure(b, func() { c = openDriver(b) }, func() {
			parallel(b, func(i int, rng *rand.Rand) error {
				if _, err := c.ListAllDomains(ctx, 0); err != nil {
					return err
				}
				for k := 0; k < 5; k++ {
					d, err := c.LookupByName(ctx, names[rng.IntN(len(names))])
					if err != nil {
						return err
					}
					if _, err := c.DomainGetInfo(ctx, d); err != nil {
						return err
					}
				}
				d, err := c.LookupByName(ctx, own[i])
				if err != nil {
					return err
				}
				if d, err = c.DomainCreate(ctx, d, 0); err != nil {
					return err
				}
				if err := c.DomainSuspend(ctx, d); err != nil {
					return err
				}
				if err := c.DomainResume(ctx, d); err != nil {
					return err
				}
				return c.DomainDestroy(ctx, d, 0)
			})
		})
	})
	b.Run("go-virtualbox", func(b *testing.B) {
		measure(b, nil, func() {
			parallel(b, func(i int, rng *rand.Rand) error {
				if _, err := virtualbox.ListMachines(); err != nil {
					return err
				}
				for k := 0; k < 5; k++ {
					if _, err := virtualbox.GetMachine(names[rng.IntN(len(names))]); err != nil {
						return err
					}
				}
				m, err := virtualbox.GetMachine(own[i])
				if err != nil {
					return err
				}
				// Its methods act on the cached state, so a correct caller
				// refreshes after every change.
				for _, step := range []func() error{m.Start, m.Refresh, m.Pause, m.Refresh, m.Start, m.Refresh} {
					if err := step(); err != nil {
						return err
					}
				}
				return m.Poweroff()
			})
		})
	})
}

func parallel(b *testing.B, client func(i int, rng *rand.Rand) error) {
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := client(i, rand.New(rand.NewPCG(uint64(i), 7))); err != nil {
				errs <- fmt.Errorf("client %d: %w", i, err)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Log(failedInvocations(b))
		b.Fatal(err)
	}
}
