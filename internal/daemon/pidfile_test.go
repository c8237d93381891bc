package daemon

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestMain lets the test binary act as a second process holding a pid file:
// fcntl locks are per process, so contention needs two.
func TestMain(m *testing.M) {
	if path := os.Getenv("DAEMON_TEST_HOLD_PIDFILE"); path != "" {
		p, err := AcquirePidFile(path)
		if err != nil {
			os.Stdout.WriteString("ERR " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("HELD\n")
		// Hold the lock until stdin closes.
		bufio.NewReader(os.Stdin).ReadString('\n')
		p.Release()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// holdPidFile starts a helper process that holds path's lock until cleanup.
func holdPidFile(t *testing.T, path string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "DAEMON_TEST_HOLD_PIDFILE="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if line != "HELD\n" {
		t.Fatalf("helper could not take the pid file: %q", line)
	}
}

func TestPidFileWritesPidAndReleases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.pid")
	p, err := AcquirePidFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != strconv.Itoa(os.Getpid()) {
		t.Errorf("pid file holds %q, want %d with no newline", data, os.Getpid())
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("pid file mode %v, want 0644", fi.Mode().Perm())
	}
	if err := p.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("pid file still there after Release: %v", err)
	}
}

func TestPidFileStaleContentIsTakenOver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.pid")
	if err := os.WriteFile(path, []byte("999999999\nstale junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := AcquirePidFile(path)
	if err != nil {
		t.Fatalf("a stale, unlocked pid file must be taken over: %v", err)
	}
	defer p.Release()
	data, _ := os.ReadFile(path)
	if string(data) != strconv.Itoa(os.Getpid()) {
		t.Errorf("pid file holds %q", data)
	}
}

func TestPidFileHeldByAnotherProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.pid")
	holdPidFile(t, path)
	before, _ := os.ReadFile(path)
	_, err := AcquirePidFile(path)
	want := "Failed to acquire pid file '" + path + "': Resource temporarily unavailable"
	if err == nil || err.Error() != want {
		t.Fatalf("AcquirePidFile = %v, want %q", err, want)
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) || strings.TrimSpace(string(after)) == strconv.Itoa(os.Getpid()) {
		t.Errorf("the loser changed the holder's pid file: %q -> %q", before, after)
	}
}

func TestPidFileEmptyPathDisables(t *testing.T) {
	p, err := AcquirePidFile("")
	if p != nil || err != nil {
		t.Fatalf("AcquirePidFile(\"\") = %v, %v; want nil, nil", p, err)
	}
	if err := p.Release(); err != nil {
		t.Errorf("Release on nil: %v", err)
	}
}

func TestPidFileMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nodir", "d.pid")
	_, err := AcquirePidFile(path)
	want := "Failed to acquire pid file '" + path + "': No such file or directory"
	if err == nil || err.Error() != want {
		t.Fatalf("AcquirePidFile = %v, want %q", err, want)
	}
}
