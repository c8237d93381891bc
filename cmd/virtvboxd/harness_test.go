package main

// Black-box tests: they run the built virtvboxd binary as a user would, with
// its own config file, sockets and pid file under a short temporary
// directory, and look at exit codes, stderr, files and sockets.

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/virtvboxd/virtvboxd/internal/daemontest"
)

const pkgPath = "github.com/virtvboxd/virtvboxd"

var (
	buildOnce sync.Once
	binDir    string // holds the relocated builds
	buildErr  error
)

// TestMain removes the binaries it built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	daemontest.Cleanup()
	os.Exit(code)
}

// bin returns the daemon binary (daemontest.Binaries: $VIRTVBOXD_BIN_DIR's
// when make test set it, else one built once for this test binary).
func bin(t testing.TB) string {
	t.Helper()
	return filepath.Join(daemontest.Binaries(t), "virtvboxd")
}

// relocatedBin returns a binary built with SYSCONFDIR and RUNSTATEDIR moved
// under dir (as a packager would with -ldflags -X), so a root daemon's
// default paths can be exercised without touching /etc and /run.
func relocatedBin(t testing.TB, sysconf, runstate string) string {
	t.Helper()
	build(t)
	out := filepath.Join(binDir, fmt.Sprintf("relocated-%d", time.Now().UnixNano()))
	ld := fmt.Sprintf("-X %s/internal/buildinfo.SysconfDir=%s -X %s/internal/buildinfo.RunstateDir=%s",
		pkgPath, sysconf, pkgPath, runstate)
	cmd := exec.Command("go", "build", "-ldflags", ld, "-o", out, ".")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build (relocated): %v\n%s", err, b)
	}
	return out
}

// build makes binDir, where relocatedBin puts its builds.
func build(t testing.TB) {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "vvdbin")
		if buildErr == nil {
			// Other users (the session-mode tests) must be able to run them.
			buildErr = os.Chmod(binDir, 0o755)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

// needTool returns the path of an external tool, skipping the test when it
// is missing (failing under VIRTVBOXD_E2E_REQUIRE=1).
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("VIRTVBOXD_E2E_REQUIRE") == "1" {
			t.Fatalf("%s is required: %v", name, err)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

// shortDir returns a fresh directory whose socket paths fit in sun_path.
func shortDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "vvd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// result is a finished run of the binary.
type result struct {
	code   int
	stdout string
	stderr string
}

// runBin runs the binary to completion (bounded) with args and extra env.
func runBin(t testing.TB, path string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s %q did not exit within 20s\nstderr: %s", path, args, errb.String())
	}
	return result{code: exitCode(err), stdout: out.String(), stderr: errb.String()}
}

func exitCode(err error) int { return daemontest.ExitCode(err) }

// daemonProc is a running daemon (daemontest.Process) with its files.
type daemonProc struct {
	Dir     string // scratch directory
	Config  string
	PidFile string
	Sock    string // rw socket
	SockRO  string
	Admin   string
	Log     string // file log output (level 1)

	proc   *daemontest.Process
	cmd    *exec.Cmd
	stderr *daemontest.SyncBuffer
	done   <-chan struct{} // closed when the daemon has exited; err() is then its exit
}

// err is the daemon's exit error, once done is closed.
func (d *daemonProc) err() error { return d.proc.Err() }

// daemonSetup prepares the files of a root daemon whose sockets live in a
// scratch directory (unix_sock_dir) and whose log goes to a file.
func daemonSetup(t testing.TB, extraConf string) *daemonProc {
	t.Helper()
	dir := shortDir(t)
	d := &daemonProc{
		Dir:     dir,
		Config:  filepath.Join(dir, "virtvboxd.conf"),
		PidFile: filepath.Join(dir, "virtvboxd.pid"),
		Sock:    filepath.Join(dir, "virtvboxd-sock"),
		SockRO:  filepath.Join(dir, "virtvboxd-sock-ro"),
		Admin:   filepath.Join(dir, "virtvboxd-admin-sock"),
		Log:     filepath.Join(dir, "virtvboxd.log"),
	}
	writeFile(t, d.Config, fmt.Sprintf("unix_sock_dir = %q\nlog_outputs = \"1:file:%s\"\n%s", dir, d.Log, extraConf))
	return d
}

// start runs the daemon in the foreground and waits until its rw socket
// answers AUTH_LIST. The daemon is stopped at cleanup.
func (d *daemonProc) start(t testing.TB, path string, env []string, args ...string) {
	t.Helper()
	d.launch(t, path, env, args...)
	d.waitReady(t)
}

func (d *daemonProc) launch(t testing.TB, path string, env []string, args ...string) {
	t.Helper()
	if args == nil {
		args = []string{"-f", d.Config, "-p", d.PidFile}
	}
	d.use(daemontest.Launch(t, path, env, args...))
}

// use makes p the daemon's process.
func (d *daemonProc) use(p *daemontest.Process) {
	d.proc, d.cmd, d.stderr, d.done = p, p.Cmd, p.Stderr, p.Done()
}

func (d *daemonProc) exited() bool { return d.proc.Exited() }

// waitReady waits (bounded) until the daemon tells its NOTIFY_SOCKET it is
// ready, as systemd would, then checks that its rw socket answers AUTH_LIST.
func (d *daemonProc) waitReady(t testing.TB) {
	t.Helper()
	d.proc.WaitReady(t, 10*time.Second)
	if err := authList(d.Sock); err != nil {
		t.Fatalf("daemon ready but %s does not answer AUTH_LIST: %v\nstderr: %s", d.Sock, err, d.stderr.String())
	}
}

// wait waits (bounded) for the daemon to exit and returns its exit code.
func (d *daemonProc) wait(t testing.TB, limit time.Duration) int {
	t.Helper()
	return d.proc.Wait(t, limit)
}

// signal sends sig to the daemon.
func (d *daemonProc) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	d.proc.Signal(t, sig)
}

// logContains waits (bounded) until the log file holds want.
func (d *daemonProc) waitLog(t testing.TB, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(d.Log)
		if strings.Contains(string(b), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("log never showed %q; log:\n%s\nstderr: %s", want, b, d.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// authListCall is the 28-byte AUTH_LIST call: length, REMOTE program, version
// 1, procedure 66, type CALL, serial 0, status OK.
var authListCall = mustHex("0000001c" + "20008086" + "00000001" + "00000042" + "00000000" + "00000000" + "00000000")

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// authList sends AUTH_LIST on the socket at path and checks the 36-byte
// reply (one auth type, NONE).
func authList(path string) error {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(authListCall); err != nil {
		return err
	}
	reply := make([]byte, 36)
	if _, err := io.ReadFull(c, reply); err != nil {
		return fmt.Errorf("reading AUTH_LIST reply: %w", err)
	}
	want := mustHex("00000024" + "20008086" + "00000001" + "00000042" + "00000001" + "00000000" + "00000000" + "00000001" + "00000000")
	if !bytes.Equal(reply, want) {
		return fmt.Errorf("AUTH_LIST reply %x, want %x", reply, want)
	}
	return nil
}

// holdConn opens a raw connection that counts as a client until closed.
func holdConn(t testing.TB, path string) net.Conn {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// tapVBoxManage writes, in dir, a VBoxManage that announces each run on a
// FIFO (its arguments, one line) and then execs sim. It returns the wrapper's
// path and the announcements as they come: a test waits on them for the
// daemon to have started a VBoxManage command, rather than sleeping. The FIFO
// stays open for reading until cleanup, so the wrapper's open never blocks;
// call it before starting the daemon, whose cleanup then runs first.
func tapVBoxManage(t testing.TB, dir, sim string) (string, <-chan string) {
	t.Helper()
	fifo := filepath.Join(dir, "vboxmanage-runs")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// O_RDWR: the open does not wait for a writer, and the FIFO never reports
	// EOF between runs.
	f, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done); f.Close() })
	vbm := filepath.Join(dir, "VBoxManage")
	writeFile(t, vbm, fmt.Sprintf("#!/bin/sh\necho \"$*\" >%q\nexec %q \"$@\"\n", fifo, sim))
	if err := os.Chmod(vbm, 0o755); err != nil {
		t.Fatal(err)
	}
	runs := make(chan string, 64)
	go func() {
		s := bufio.NewScanner(f)
		for s.Scan() {
			select {
			case runs <- s.Text():
			case <-done:
				return
			}
		}
	}()
	return vbm, runs
}

// waitRun waits (bounded) for a run of tapVBoxManage whose arguments start
// with prefix.
func waitRun(t testing.TB, runs <-chan string, prefix string, limit time.Duration) {
	t.Helper()
	timeout := time.After(limit)
	var seen []string
	for {
		select {
		case r := <-runs:
			if strings.HasPrefix(r, prefix) {
				return
			}
			seen = append(seen, r)
		case <-timeout:
			t.Fatalf("no VBoxManage %s... within %v; ran: %q", prefix, limit, seen)
		}
	}
}

// simBin returns the VBoxManage simulator (daemontest.Binaries).
func simBin(t testing.TB) string {
	t.Helper()
	return filepath.Join(daemontest.Binaries(t), "vboxsim")
}
