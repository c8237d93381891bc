package vboxsim

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// The serial ports of a running VM. In VirtualBox a UART in host-pipe
// server mode (`--uartmodeN server <path>`) is a UNIX socket that the VM
// process listens on from power-up to power-off. The simulator has no VM
// process, so startvm spawns one small process per such port (this binary
// again, marked by uartEnv) that listens on the path and plays a guest whose
// terminal echoes: whatever a client writes comes back. Clients are served
// one at a time, in the order they connect (a second one waits until the
// first has closed). The process ends, removing its socket, once its VM is
// no longer running that same session (power off, save, ACPI shutdown, a
// new start) or the state directory is gone; it looks every uartPoll.

// uartEnv carries a uartSpec (JSON) to the UART process.
const uartEnv = "VBOXSIM_UART_SERVE"

// uartSpec names the port a UART process serves and the VM session it
// belongs to.
type uartSpec struct {
	Home    string    `json:"home"`
	UUID    string    `json:"uuid"`
	Slot    int       `json:"slot"` // 1..4
	Path    string    `json:"path"`
	Started time.Time `json:"started"`
}

// uartPoll is how often a UART process checks that its VM still runs.
const uartPoll = 100 * time.Millisecond

// executable is the simulator binary that spawns UART processes; it is set
// by Main, so in-process runs (tests calling Run) serve no UART.
var executable string

// serveUARTs starts the UART processes of vm, just started.
func (s *Sim) serveUARTs(vm *VM) {
	if executable == "" {
		return
	}
	for i, u := range vm.HW.UARTs {
		path, ok := strings.CutPrefix(u.Mode, "server,")
		if !u.Enabled || !ok || path == "" {
			continue
		}
		spec, err := json.Marshal(uartSpec{Home: s.env.Home, UUID: vm.UUID, Slot: i + 1, Started: vm.StartedAt, Path: path})
		if err != nil {
			continue
		}
		cmd := exec.Command(executable)
		cmd.Env = append(os.Environ(), uartEnv+"="+string(spec))
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		out, err := cmd.StdoutPipe()
		if err != nil || cmd.Start() != nil {
			continue
		}
		// The VM is up once its devices are: wait for the socket (the
		// process says "ready" once it listens, or closes its output).
		ready := make(chan struct{})
		go func() {
			bufio.NewReader(out).ReadString('\n')
			close(ready)
		}()
		select {
		case <-ready:
		case <-time.After(uartReady):
		}
		// Not waited for: it outlives this call, as a VM process does.
		cmd.Process.Release()
	}
}

// uartReady bounds startvm's wait for a UART process's socket.
const uartReady = 2 * time.Second

// serveUART is the UART process: it listens, says "ready" on stdout, and
// returns when the VM stops. It listens before it can read the VM's
// state, which the starting startvm holds locked until it has answered.
func serveUART(arg string, stdout io.Writer) int {
	var spec uartSpec
	if err := json.Unmarshal([]byte(arg), &spec); err != nil || spec.Slot < 1 || spec.Slot > 4 || spec.Path == "" {
		return 2
	}
	ln, err := listenUART(spec)
	if err != nil {
		return 1
	}
	fmt.Fprintln(stdout, "ready")
	return serveUARTOn(spec, ln)
}

// uartAlive reports whether spec's VM still runs the session it was
// started for, and the path of its port.
func uartAlive(spec uartSpec) (path string, ok bool) {
	if _, err := os.Stat(filepath.Join(spec.Home, "registry.json")); err != nil {
		return "", false
	}
	env, err := EnvFromOS(os.Getenv)
	if err != nil {
		return "", false
	}
	env.Home = spec.Home
	st, err := OpenStore(spec.Home)
	if err != nil || st.Lock(false) != nil {
		return "", false
	}
	defer st.Unlock()
	s := newSim(env, st, io.Discard, io.Discard, rand.New(rand.NewPCG(1, 2)))
	vm, err := s.loadVM(spec.UUID)
	if err != nil || !isOnline(vm.State) || !vm.StartedAt.Equal(spec.Started) {
		return "", false
	}
	u := vm.HW.UARTs[spec.Slot-1]
	path, ok = strings.CutPrefix(u.Mode, "server,")
	return path, ok && u.Enabled && path != ""
}

// listenUART creates the port's socket.
func listenUART(spec uartSpec) (*net.UnixListener, error) {
	os.Remove(spec.Path) // a stale socket of an earlier run
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: spec.Path, Net: "unix"})
	if err != nil {
		return nil, err
	}
	ln.SetUnlinkOnClose(true)
	return ln, nil
}

// serveUARTOn echoes to one client at a time on ln until the VM stops (or
// no longer has the port).
func serveUARTOn(spec uartSpec, ln *net.UnixListener) int {
	conns := make(chan net.Conn)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(conns)
				return
			}
			conns <- c
		}
	}()
	stop := make(chan struct{})
	go func() {
		for {
			time.Sleep(uartPoll)
			if path, ok := uartAlive(spec); !ok || path != spec.Path {
				close(stop)
				return
			}
		}
	}()
	var cur net.Conn
	done := make(chan struct{}, 1)
	for {
		var in <-chan net.Conn
		if cur == nil {
			in = conns
		}
		select {
		case c, ok := <-in:
			if !ok {
				return 0
			}
			cur = c
			go func() {
				echo(c)
				done <- struct{}{}
			}()
		case <-done:
			cur.Close()
			cur = nil
		case <-stop:
			if cur != nil {
				cur.Close()
			}
			ln.Close()
			return 0
		}
	}
}

// echo writes back what it reads until the client closes.
func echo(c net.Conn) {
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
