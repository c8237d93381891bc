package vbox

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// script writes an executable shell script standing in for VBoxManage.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "VBoxManage")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExecRunnerEnvAndArgv(t *testing.T) {
	t.Setenv("LC_ALL", "de_DE.UTF-8")
	t.Setenv("LANG", "de_DE.UTF-8")
	t.Setenv("LC_MESSAGES", "de_DE.UTF-8")
	r := &ExecRunner{Path: script(t, `echo "LC_ALL=$LC_ALL LANG=$LANG LC_MESSAGES=$LC_MESSAGES"; for a in "$@"; do printf '[%s]' "$a"; done`)}
	out, _, err := r.Run(context.Background(), "createvm", "--name", "--help", `x"y a=b`, "ünï")
	if err != nil {
		t.Fatal(err)
	}
	want := "LC_ALL=C LANG=C LC_MESSAGES=\n[createvm][--name][--help][x\"y a=b][ünï]"
	if string(out) != want {
		t.Errorf("got %q, want %q", out, want)
	}
}

func TestExecRunnerErrorLineWithExitZero(t *testing.T) {
	r := &ExecRunner{Path: script(t, `echo 'Waiting for VM "x" to power on...'; echo "VBoxManage.exe: error: The VM session was aborted." >&2; exit 0`)}
	out, _, err := r.Run(context.Background(), "startvm", "x")
	var ce *CmdError
	if !errors.As(err, &ce) || ce.ExitCode != 0 {
		t.Fatalf("exit 0 with an error line: err %v", err)
	}
	if ce.Message() != "The VM session was aborted." || !strings.Contains(string(out), "Waiting") {
		t.Errorf("message %q, stdout %q", ce.Message(), out)
	}
	// A query keeps its exit status: an inaccessible machine's access error
	// is printed in the middle of a successful listing.
	r = &ExecRunner{Path: script(t, `echo "Name:  <inaccessible!>"; echo "VBoxManage: error: Runtime error opening 'x.vbox' for reading: -102 (File not found.)." >&2; exit 0`)}
	if _, _, err := r.Run(context.Background(), "list", "--long", "vms"); err != nil {
		t.Errorf("list with an inaccessible machine failed: %v", err)
	}
	// A warning alone is not a failure.
	r = &ExecRunner{Path: script(t, `echo "VBoxManage: warning: Interface \"eth0\" doesn't seem to exist" >&2; exit 0`)}
	if _, _, err := r.Run(context.Background(), "modifyvm"); err != nil {
		t.Errorf("warning treated as failure: %v", err)
	}
}

func TestExecRunnerClassifies(t *testing.T) {
	for _, tc := range []struct {
		body string
		kind Kind
		code int
	}{
		{"cat <<'E' >&2\nVBoxManage: error: Could not find a registered machine named 'x'\nVBoxManage: error: Details: code VBOX_E_OBJECT_NOT_FOUND (0x80bb0001), component VirtualBoxWrap, interface IVirtualBox, callee nsISupports\nE\nexit 1", KindNotFound, 1},
		{"echo 'Syntax error: Invalid parameter' >&2; exit 2", KindSyntax, 2},
		{"echo 'VBoxManage: error: The object is not ready' >&2; exit 1", KindTransient, 1},
		{"kill -SEGV $$", KindCrashed, -1},
		{"exit 7", KindOther, 7},
	} {
		r := &ExecRunner{Path: script(t, tc.body)}
		_, _, err := r.Run(context.Background(), "showvminfo", "x")
		var ce *CmdError
		if !errors.As(err, &ce) {
			t.Errorf("%q: err %v", tc.body, err)
			continue
		}
		if ce.Kind != tc.kind || ce.ExitCode != tc.code {
			t.Errorf("%q: kind %v exit %d, want %v %d", tc.body, ce.Kind, ce.ExitCode, tc.kind, tc.code)
		}
	}
	r := &ExecRunner{Path: filepath.Join(t.TempDir(), "missing")}
	if _, _, err := r.Run(context.Background(), "--version"); KindOf(err) != KindExec {
		t.Errorf("missing binary: kind %v (%v)", KindOf(err), err)
	}
}

// TestExecRunnerTimeoutKillsGroup checks that on timeout the whole process
// group dies: the script's background child would otherwise keep running
// (and keep stdout open).
func TestExecRunnerTimeoutKillsGroup(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	r := &ExecRunner{Path: script(t, "sleep 300 &\necho $! > '"+pidFile+"'\nwait\n"), Timeout: 300 * time.Millisecond}
	done := make(chan error, 1)
	go func() {
		_, _, err := r.Run(context.Background(), "list", "vms")
		done <- err
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its timeout")
	}
	if KindOf(err) != KindTimeout {
		t.Fatalf("kind %v (%v)", KindOf(err), err)
	}
	// The message says which program stopped answering and which setting gave up.
	var ce *CmdError
	if !errors.As(err, &ce) || ce.Message() != "VBoxManage list gave no answer within 300ms (vboxmanage_timeout) and was killed" {
		t.Errorf("timeout message %q", ce.Message())
	}
	b, rerr := os.ReadFile(pidFile)
	if rerr != nil {
		t.Fatal(rerr)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the script's child %d survived the timeout", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestExecRunnerCallerCancel(t *testing.T) {
	r := &ExecRunner{Path: script(t, "exec sleep 300")}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, _, err := r.Run(ctx, "list", "vms")
	if KindOf(err) != KindTimeout || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("caller deadline: kind %v err %v", KindOf(err), err)
	}
	var ce *CmdError
	if !errors.As(err, &ce) || ce.Message() != "VBoxManage list was stopped: context deadline exceeded" {
		t.Errorf("caller deadline message %q", ce.Message())
	}
}

func TestRunRetryPolicies(t *testing.T) {
	fast := Backoff{Tries: 5, Min: time.Millisecond, Max: 2 * time.Millisecond}
	for _, tc := range []struct {
		policy RetryPolicy
		kind   Kind
		calls  int
	}{
		{RetryTransient, KindTransient, 5},
		{RetryTransient, KindLockHeld, 1},
		{RetryTransientOrLock, KindLockHeld, 5},
		{RetryTransientOrLock, KindNotFound, 1},
		{NoRetry, KindTransient, 1},
	} {
		calls := 0
		r := runnerFunc(func(ctx context.Context, args ...string) ([]byte, []byte, error) {
			calls++
			return nil, nil, &CmdError{Args: args, Kind: tc.kind, ExitCode: 1}
		})
		_, _, err := runRetry(context.Background(), r, fast, tc.policy, "x")
		if KindOf(err) != tc.kind || calls != tc.calls {
			t.Errorf("policy %d kind %v: %d calls (want %d), err %v", tc.policy, tc.kind, calls, tc.calls, err)
		}
	}
	// Success after two transient failures.
	calls := 0
	r := runnerFunc(func(ctx context.Context, args ...string) ([]byte, []byte, error) {
		calls++
		if calls < 3 {
			return nil, nil, &CmdError{Kind: KindTransient}
		}
		return []byte("ok"), nil, nil
	})
	out, _, err := runRetry(context.Background(), r, fast, RetryTransient, "x")
	if err != nil || string(out) != "ok" || calls != 3 {
		t.Errorf("got %q %v after %d calls", out, err, calls)
	}
}

type runnerFunc func(ctx context.Context, args ...string) ([]byte, []byte, error)

func (f runnerFunc) Run(ctx context.Context, args ...string) ([]byte, []byte, error) {
	return f(ctx, args...)
}

// alive reports whether pid runs (a zombie waiting for its reaper does not).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// "pid (comm) S ...": the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// A VBoxManage that prints without end is killed at the output limit, not
// buffered until the daemon runs out of memory.
func TestExecRunnerEndlessOutput(t *testing.T) {
	for _, tc := range []struct{ script, want string }{
		{"exec yes", "unexpected output: printed more than 64 MiB on stdout and was killed"},
		{"exec yes >&2", "unexpected output: printed more than 1 MiB on stderr and was killed"},
	} {
		r := &ExecRunner{Path: script(t, tc.script)} // no timeout: the limit alone stops it
		done := make(chan error, 1)
		go func() {
			out, errOut, err := r.Run(context.Background(), "list", "vms")
			if len(out) > maxStdout || len(errOut) > maxStderr {
				t.Errorf("%s: kept %d bytes of stdout and %d of stderr", tc.script, len(out), len(errOut))
			}
			done <- err
		}()
		var err error
		select {
		case err = <-done:
		case <-time.After(60 * time.Second):
			t.Fatalf("%s: Run did not stop an endless output", tc.script)
		}
		var ce *CmdError
		if KindOf(err) != KindGarbage || !errors.As(err, &ce) || ce.Message() != tc.want {
			t.Errorf("%s: kind %v, error %v; want garbage, %q", tc.script, KindOf(err), err, tc.want)
		}
	}
}

// Close kills the VBoxManage processes still running, even the shared
// inventory refresh that no caller can cancel, and waits for them: none
// outlives the daemon (a forced shutdown with a hanging VBoxManage and no
// vboxmanage_timeout left `VBoxManage list --long vms` behind).
func TestDriverCloseKillsRunningVBoxManage(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	r := &ExecRunner{Path: script(t, "echo $$ > '"+pidFile+"'\nexec sleep 300")}
	drv, err := NewDriver(Options{Runner: r})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := drv.inv.List(context.Background())
		done <- err
	}()
	var pid int
	for deadline := time.Now().Add(10 * time.Second); pid == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the listing did not start VBoxManage")
		}
		b, _ := os.ReadFile(pidFile)
		pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	if err := drv.Close(); err != nil {
		t.Fatal(err)
	}
	if alive(pid) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("VBoxManage %d still runs after Close", pid)
	}
	select {
	case err := <-done:
		if KindOf(err) != KindTimeout {
			t.Errorf("listing cut short by Close: kind %v, %v", KindOf(err), err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the listing did not return after Close")
	}
	if _, _, err := drv.runPolicy(context.Background(), NoRetry, "list", "vms"); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("a call after Close: %v", err)
	}
}
