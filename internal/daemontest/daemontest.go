// Package daemontest is the one harness for tests that run the built daemon
// (cmd/virtvboxd's black-box tests, test/e2e): it finds or builds the
// binaries, runs the daemon as a process that reports READY=1 to a
// NOTIFY_SOCKET (internal/sdnotifytest), stops it, and sets up a simulated
// VirtualBox (bin/vboxsim) for it. Nothing here sleeps: start-up waits on
// READY=1, exit on the process.
//
// internal/rpc/rpctest is not a daemon harness: it runs the RPC server in
// the test's own process over a fake driver.
package daemontest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/virtvboxd/virtvboxd/internal/sdnotifytest"
)

// BinDirEnv names the directory holding prebuilt virtvboxd and vboxsim
// (make check sets it after make build).
const BinDirEnv = "VIRTVBOXD_BIN_DIR"

var (
	buildOnce sync.Once
	builtDir  string
	buildErr  error
)

// Binaries returns a directory holding virtvboxd and vboxsim (see Locate),
// failing the test when they cannot be built.
func Binaries(t testing.TB) string {
	t.Helper()
	d, err := Locate()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Locate returns a directory holding virtvboxd and vboxsim: $VIRTVBOXD_BIN_DIR
// when it holds both, else a directory where both are built once per test
// binary (readable by other users, for the tests that run the daemon as
// another user). Call Cleanup from TestMain to remove what was built.
func Locate() (string, error) {
	if d := os.Getenv(BinDirEnv); d != "" && exists(filepath.Join(d, "virtvboxd")) && exists(filepath.Join(d, "vboxsim")) {
		return d, nil
	}
	buildOnce.Do(func() {
		builtDir, buildErr = build()
	})
	return builtDir, buildErr
}

func build() (string, error) {
	dir, err := os.MkdirTemp("", "vvdbin")
	if err != nil {
		return "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", err
	}
	cmd := exec.Command("go", "build", "-o", dir+"/", "./cmd/virtvboxd", "./cmd/vboxsim")
	cmd.Dir = moduleRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build of the binaries: %v\n%s", err, out)
	}
	return dir, nil
}

// moduleRoot is the source tree this package was compiled from.
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Cleanup removes the binaries Binaries built, if any.
func Cleanup() {
	if builtDir != "" {
		os.RemoveAll(builtDir)
	}
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// Process is a daemon started by Launch.
type Process struct {
	Cmd    *exec.Cmd
	Stderr *SyncBuffer

	done  chan struct{}
	err   error
	ready <-chan struct{} // nil when the caller gave its own NOTIFY_SOCKET
}

// Launch starts path with args, in the test's environment plus env, as
// Start does.
func Launch(t testing.TB, path string, env []string, args ...string) *Process {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	return Start(t, cmd)
}

// Start starts cmd (its Env used as is, e.g. a clean environment for a
// daemon run as another user), giving it a NOTIFY_SOCKET of its own unless
// its Env names one, and capturing its stderr. The process is killed at
// cleanup if it still runs.
func Start(t testing.TB, cmd *exec.Cmd) *Process {
	t.Helper()
	p := &Process{Cmd: cmd, Stderr: &SyncBuffer{}, done: make(chan struct{})}
	if !slices.ContainsFunc(cmd.Env, func(kv string) bool { return strings.HasPrefix(kv, "NOTIFY_SOCKET=") }) {
		var addr string
		addr, p.ready = sdnotifytest.Listen(t)
		cmd.Env = append(cmd.Env, "NOTIFY_SOCKET="+addr)
	}
	cmd.Stderr = p.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if !p.Exited() {
			cmd.Process.Signal(syscall.SIGKILL)
			<-p.done
		}
	})
	return p
}

// WaitReady waits for READY=1, failing the test if the process exits first
// or limit passes (a guard against a hang only).
func (p *Process) WaitReady(t testing.TB, limit time.Duration) {
	t.Helper()
	if p.ready == nil {
		t.Fatal("WaitReady: the process was launched with the test's own NOTIFY_SOCKET")
	}
	select {
	case <-p.ready:
	case <-p.done:
		t.Fatalf("%s exited during start-up: %v\nstderr: %s", p.Cmd.Path, p.err, p.Stderr.String())
	case <-time.After(limit):
		t.Fatalf("%s did not send READY=1 within %v\nstderr: %s", p.Cmd.Path, limit, p.Stderr.String())
	}
}

// Done is closed when the process has exited; Err is then its Wait error.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is the process's exit error (nil for status 0), once Done is closed.
func (p *Process) Err() error {
	<-p.done
	return p.err
}

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits for the process to exit and returns its exit code, failing the
// test after limit.
func (p *Process) Wait(t testing.TB, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return ExitCode(p.err)
	case <-time.After(limit):
		t.Fatalf("%s still running after %v\nstderr: %s", p.Cmd.Path, limit, p.Stderr.String())
		return -1
	}
}

// Signal sends sig to the process.
func (p *Process) Signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if err := p.Cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// Stop sends SIGTERM and waits up to limit for the exit, which must be
// clean; past limit the process is killed and the test fails.
func (p *Process) Stop(t testing.TB, limit time.Duration) {
	t.Helper()
	if p.Exited() {
		return
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		if p.err != nil {
			t.Errorf("%s exited with %v after SIGTERM\nstderr: %s", p.Cmd.Path, p.err, p.Stderr.String())
		}
	case <-time.After(limit):
		_ = p.Cmd.Process.Kill()
		<-p.done
		t.Errorf("%s did not exit within %v of SIGTERM", p.Cmd.Path, limit)
	}
}

// ExitCode is the exit status in err from exec (128+n for a signal n), 0
// for nil, -1 when err says nothing.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return -1
}

// SyncBuffer is a bytes.Buffer safe for a process writing while a test reads.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// AwaitExit waits until the process pid, which need not be the test's child
// (a daemonized daemon), has exited: it polls a pidfd, which becomes
// readable at the exit. It fails the test after limit.
func AwaitExit(t testing.TB, pid int, limit time.Duration) {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return // already gone
	}
	if err != nil {
		t.Fatalf("pidfd_open(%d): %v", pid, err)
	}
	defer unix.Close(fd)
	deadline := time.Now().Add(limit)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("process %d still running after %v", pid, limit)
		}
		n, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, int(left.Milliseconds())+1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			t.Fatalf("poll on the pidfd of %d: %v", pid, err)
		}
		if n > 0 {
			return
		}
	}
}
