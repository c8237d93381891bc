package vbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// Runner runs one VBoxManage command. Implementations must be safe for
// concurrent use. A failed command yields a *CmdError (possibly wrapped) whose
// Kind says what went wrong; stdout and stderr are returned in every case.
type Runner interface {
	Run(ctx context.Context, args ...string) (stdout, stderr []byte, err error)
}

// Kind classifies a VBoxManage failure.
type Kind int

// The failure kinds. They decide retries (only Transient and, after a
// poweroff, LockHeld) and the libvirt error class the driver reports.
const (
	KindOther        Kind = iota // any other failure
	KindNotFound                 // VM or medium not registered (VBOX_E_OBJECT_NOT_FOUND)
	KindInvalidState             // wrong machine state (VBOX_E_INVALID_VM_STATE, "not currently running")
	KindLockHeld                 // another session holds the machine's lock (VBOX_E_INVALID_OBJECT_STATE)
	KindTransient                // "The object is not ready" / "functionality is limited": try again
	KindSyntax                   // usage error (exit 2)
	KindServiceDown              // VBoxSVC cannot be reached
	KindTimeout                  // the configured timeout expired; the process group was killed
	KindCrashed                  // VBoxManage was killed by a signal
	KindGarbage                  // output that a parser could not make sense of
	KindExec                     // VBoxManage could not be started at all
)

var kindNames = [...]string{"other", "not found", "invalid state", "lock held", "transient", "syntax",
	"service down", "timeout", "crashed", "garbage", "exec"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// CmdError is a failed VBoxManage invocation.
type CmdError struct {
	Args     []string // the arguments, without the program path
	ExitCode int      // -1 when the process did not exit normally
	Stderr   string   // the whole stderr
	Kind     Kind
	Err      error         // the underlying exec error, if any
	Timeout  time.Duration // KindTimeout: the limit that expired (0: the caller gave up)
}

// Error returns "VBoxManage <command>: <first error message>".
func (e *CmdError) Error() string {
	cmd := "VBoxManage"
	if len(e.Args) > 0 {
		cmd += " " + e.Args[0]
	}
	return cmd + ": " + e.Message()
}

// Unwrap returns the underlying exec error.
func (e *CmdError) Unwrap() error { return e.Err }

// Message is the VBoxManage error text without the "VBoxManage: error: "
// prefixes and without the Details/Context lines, for libvirt error details.
func (e *CmdError) Message() string {
	var msgs []string
	for _, line := range strings.Split(e.Stderr, "\n") {
		m := errLineRE.FindStringSubmatchIndex(line)
		if m == nil {
			continue
		}
		text := strings.TrimSpace(line[m[1]:])
		if text == "" || strings.HasPrefix(text, "Details:") || strings.HasPrefix(text, "Context:") {
			continue
		}
		msgs = append(msgs, text)
	}
	if len(msgs) > 0 {
		return strings.Join(msgs, "; ")
	}
	switch e.Kind {
	case KindTimeout:
		// The caller's message names the operation; say which program
		// stopped answering and which setting gave up on it.
		cmd := "VBoxManage"
		if len(e.Args) > 0 {
			cmd += " " + e.Args[0]
		}
		if e.Timeout > 0 {
			return fmt.Sprintf("%s gave no answer within %s (vboxmanage_timeout) and was killed", cmd, e.Timeout)
		}
		if e.Err != nil {
			return fmt.Sprintf("%s was stopped: %v", cmd, e.Err)
		}
		return cmd + " was stopped"
	case KindCrashed:
		if e.Err != nil {
			return "terminated abnormally: " + e.Err.Error()
		}
		return "terminated abnormally"
	case KindGarbage:
		if e.Err != nil {
			return "unexpected output: " + e.Err.Error()
		}
		return "unexpected output"
	}
	if e.Err != nil {
		return e.Err.Error()
	}
	if s := strings.TrimSpace(lastLine(e.Stderr)); s != "" {
		return s
	}
	return fmt.Sprintf("exit status %d", e.ExitCode)
}

// KindOf returns the Kind of a *CmdError in err's chain, or KindOther.
func KindOf(err error) Kind {
	var ce *CmdError
	if errors.As(err, &ce) {
		return ce.Kind
	}
	return KindOther
}

// errLineRE matches the prefix VBoxManage puts on every error line
// (reference §0 and §6: "VBoxManage.exe: error:" on Windows).
var errLineRE = regexp.MustCompile(`VBoxManage(\.[a-z]+)?: error:`)

// hasErrorLine reports whether stderr carries a VBoxManage error line: such
// output is a failure even when the exit status is 0 (reference §6).
func hasErrorLine(stderr []byte) bool {
	for _, line := range bytes.Split(stderr, []byte("\n")) {
		if loc := errLineRE.FindIndex(line); loc != nil && loc[0] == 0 {
			return true
		}
	}
	return false
}

// isQuery reports whether args only read: for those an exit status of 0
// stands even with error lines on stderr, because VBoxManage reports an
// inaccessible machine's access error that way in the middle of a
// successful `list --long vms` or `showvminfo`; the parsers judge the
// output. The exit-0 rule is for actions (startvm on some Windows builds).
func isQuery(args []string) bool {
	for _, a := range args {
		if a == "-q" || a == "--nologo" {
			continue
		}
		switch a {
		case "list", "showvminfo", "getextradata", "showmediuminfo", "--version", "-v", "-V":
			return true
		}
		return false
	}
	return false
}

// classify decides the Kind of a failed command from its exit code and stderr.
func classify(exitCode int, stderr string) Kind {
	s := stderr
	switch {
	case strings.Contains(s, "Failed to create the VirtualBox object"),
		strings.Contains(s, "VirtualBox COM server is not running"),
		strings.Contains(s, "Failed to initialize COM"):
		return KindServiceDown
	case strings.Contains(s, "The object is not ready"),
		strings.Contains(s, "The object functionality is limited"):
		return KindTransient
	case strings.Contains(s, "is already locked"),
		strings.Contains(s, "while it is locked"),
		strings.Contains(s, "VBOX_E_INVALID_OBJECT_STATE"):
		return KindLockHeld
	case strings.Contains(s, "Could not find a registered machine"),
		strings.Contains(s, "VBOX_E_OBJECT_NOT_FOUND"):
		return KindNotFound
	case strings.Contains(s, "VBOX_E_INVALID_VM_STATE"),
		strings.Contains(s, "is not currently running"),
		strings.Contains(s, "Invalid machine state"):
		return KindInvalidState
	case exitCode == 2:
		return KindSyntax
	}
	return KindOther
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// Output limits of one VBoxManage call. `list --long vms` prints about 3 KiB
// per machine, so 64 MiB is thousands of machines; a VBoxManage that prints
// without end (a broken build, a wrapper stuck in a loop) is killed at the
// limit instead of growing the daemon until the kernel kills it.
const (
	maxStdout = 64 << 20
	maxStderr = 1 << 20
)

// capBuffer keeps the first max bytes written to it and calls over once when
// more arrive; it accepts (and drops) the rest, so the copy from the pipe
// goes on until the process is gone. It must not embed bytes.Buffer: io.Copy
// would use the promoted ReadFrom and bypass Write.
type capBuffer struct {
	buf  bytes.Buffer
	max  int
	full bool
	over func()
}

func (b *capBuffer) Write(p []byte) (int, error) {
	if b.full {
		return len(p), nil
	}
	if room := b.max - b.buf.Len(); len(p) > room {
		b.buf.Write(p[:room])
		b.full = true
		b.over()
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *capBuffer) Bytes() []byte { return b.buf.Bytes() }

// ExecRunner runs the real VBoxManage (or the simulator) as a child process:
// no shell, LC_ALL=C and LANG=C, a per-call timeout after which the child's
// whole process group is killed, and bounded output (maxStdout, maxStderr).
type ExecRunner struct {
	Path    string        // VBoxManage executable
	Timeout time.Duration // per call; 0 means no timeout beyond ctx
	Env     []string      // extra environment entries (tests); appended last
}

// Run implements Runner.
func (r *ExecRunner) Run(ctx context.Context, args ...string) ([]byte, []byte, error) {
	parent := ctx
	if r.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.Timeout)
		defer cancel()
	}
	timed := ctx
	ctx, kill := context.WithCancel(ctx) // output over its limit
	defer kill()
	cmd := exec.CommandContext(ctx, r.Path, args...)
	cmd.Env = append(cleanEnv(os.Environ()), "LC_ALL=C", "LANG=C")
	cmd.Env = append(cmd.Env, r.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// Kill the whole group: VBoxManage may have spawned helpers that
		// would otherwise keep the pipes open.
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 2 * time.Second
	stdout := &capBuffer{max: maxStdout, over: kill}
	stderr := &capBuffer{max: maxStderr, over: kill}
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	err := cmd.Run()
	out, errOut := stdout.Bytes(), stderr.Bytes()
	argv := append([]string(nil), args...)
	if stdout.full || stderr.full {
		// Whatever the exit status, the output is not VBoxManage's.
		which, limit := "stdout", maxStdout
		if stderr.full {
			which, limit = "stderr", maxStderr
		}
		return out, errOut, &CmdError{Args: argv, ExitCode: -1, Kind: KindGarbage,
			Err: fmt.Errorf("printed more than %d MiB on %s and was killed", limit>>20, which)}
	}
	if err != nil {
		ce := &CmdError{Args: argv, ExitCode: -1, Stderr: string(errOut), Err: err}
		var ee *exec.ExitError
		switch {
		case timed.Err() != nil && parent.Err() == nil:
			ce.Kind, ce.Timeout = KindTimeout, r.Timeout
			ce.Err = fmt.Errorf("no answer within %s: %w", r.Timeout, context.DeadlineExceeded)
		case parent.Err() != nil:
			ce.Kind = KindTimeout
			ce.Err = parent.Err()
		case errors.As(err, &ee):
			ce.ExitCode = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				ce.Kind = KindCrashed
			} else {
				ce.Kind = classify(ce.ExitCode, ce.Stderr)
			}
		default:
			ce.Kind = KindExec
		}
		return out, errOut, ce
	}
	if hasErrorLine(errOut) && !isQuery(args) {
		return out, errOut, &CmdError{Args: argv, ExitCode: 0, Stderr: string(errOut), Kind: classify(0, string(errOut))}
	}
	return out, errOut, nil
}

// cleanEnv drops locale variables so that the C locale we set wins.
func cleanEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if strings.HasPrefix(kv, "LC_") || strings.HasPrefix(kv, "LANG=") || strings.HasPrefix(kv, "LANGUAGE=") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// RetryPolicy says which failures of one call may be repeated.
type RetryPolicy int

// Retry policies. A call is only retried when repeating it cannot do
// something twice: the failures retried happen before VBoxManage acted.
const (
	NoRetry              RetryPolicy = iota // never repeat (createvm, unregistervm --delete)
	RetryTransient                          // "The object is not ready" and friends
	RetryTransientOrLock                    // also a held session lock (just after a poweroff)
)

// Backoff is the retry schedule: Tries attempts, sleeping from Min doubling to
// Max between them, each sleep with up to 50% random jitter.
type Backoff struct {
	Tries    int
	Min, Max time.Duration
}

// DefaultBackoff is 5 tries, 50 ms doubling to 800 ms.
var DefaultBackoff = Backoff{Tries: 5, Min: 50 * time.Millisecond, Max: 800 * time.Millisecond}

// runRetry runs args through r, repeating retryable failures per policy.
func runRetry(ctx context.Context, r Runner, b Backoff, policy RetryPolicy, args ...string) ([]byte, []byte, error) {
	delay := b.Min
	for attempt := 1; ; attempt++ {
		out, errOut, err := r.Run(ctx, args...)
		if err == nil || attempt >= b.Tries || !retryable(policy, KindOf(err)) {
			return out, errOut, err
		}
		sleep := delay + time.Duration(rand.Int64N(int64(delay)/2+1))
		t := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			t.Stop()
			return out, errOut, err
		case <-t.C:
		}
		if delay *= 2; delay > b.Max {
			delay = b.Max
		}
	}
}

func retryable(p RetryPolicy, k Kind) bool {
	switch p {
	case RetryTransient:
		return k == KindTransient
	case RetryTransientOrLock:
		return k == KindTransient || k == KindLockHeld
	}
	return false
}

// asCmd is errors.As for *CmdError.
func asCmd(err error, target **CmdError) bool { return errors.As(err, target) }
