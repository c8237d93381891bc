package daemon

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// statusEnv tells a daemonized child which descriptor is the write end of its
// status pipe. Its presence is also what marks the process as that child.
const statusEnv = "VIRTVBOXD_DAEMON_STATUS_FD"

// maxStatusText bounds the error text a child sends after its status byte.
const maxStatusText = 4096

// Daemonize runs the daemon in the background, as -d asks. Go cannot fork
// safely, so instead of libvirt's double fork it re-executes the running
// binary (same argv, same environment) in a new session, with "/" as working
// directory, stdin, stdout and stderr on /dev/null, and the write end of a
// status pipe. It then waits for the child's verdict:
//
//   - byte 0: the child holds the pid file and its sockets listen; exit 0.
//   - byte N: startup failed with exit code N; print libvirt's line
//     "<argv0>: error: <text>. Check /var/log/messages or run without
//     --daemon for more info." followed by the child's own error, exit 1.
//   - EOF: the child died without a word; say so and exit 1.
//
// Daemonize returns the exit status the parent must end with.
func Daemonize(argv0 string, stderr io.Writer) ExitCode {
	fail := func(format string, args ...any) ExitCode {
		fmt.Fprintf(stderr, "%s: error: "+format+"\n", append([]any{argv0}, args...)...)
		return 1
	}
	exe, err := os.Executable()
	if err != nil {
		return fail("unable to find the daemon's executable: %s", errdefs.Strerror(err))
	}
	r, w, err := os.Pipe()
	if err != nil {
		return fail("unable to create the status pipe: %s", errdefs.Strerror(err))
	}
	cmd := &exec.Cmd{
		Path:        exe,
		Args:        os.Args,
		Env:         append(os.Environ(), statusEnv+"=3"),
		Dir:         "/",
		ExtraFiles:  []*os.File{w}, // fd 3 in the child
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return fail("%s. Check /var/log/messages or run without --daemon for more info.", ExitReexec.Text())
	}
	w.Close()
	defer r.Close()

	var status [1]byte
	if _, err := io.ReadFull(r, status[:]); err != nil {
		// The child ended (or closed the pipe) without reporting.
		werr := cmd.Wait()
		reason := "the daemon exited without reporting its status"
		if werr != nil {
			reason = werr.Error()
		}
		return fail("unable to determine if daemon is running: %s", reason)
	}
	if status[0] == 0 {
		// The child runs on; it is re-parented when we exit. Release our
		// handle on it without waiting.
		_ = cmd.Process.Release()
		return ExitOK
	}
	text, _ := io.ReadAll(io.LimitReader(r, maxStatusText))
	fail("%s. Check /var/log/messages or run without --daemon for more info.", ExitCode(status[0]).Text())
	if len(text) > 0 {
		fmt.Fprintf(stderr, "%s: %s\n", argv0, text)
	}
	_ = cmd.Process.Release()
	return 1
}

// Status is a daemonized child's end of the status pipe.
type Status struct {
	f *os.File
}

// ChildStatus returns the status pipe when this process is the child started
// by Daemonize, and nil otherwise. It removes the marker from the
// environment so that processes the daemon starts do not inherit it.
func ChildStatus() *Status {
	v, ok := os.LookupEnv(statusEnv)
	if !ok {
		return nil
	}
	os.Unsetenv(statusEnv)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil
	}
	syscall.CloseOnExec(fd)
	return &Status{f: os.NewFile(uintptr(fd), "daemon-status")}
}

// Report tells the waiting parent how startup went: nil means the daemon is
// ready, an error sends its exit code (see CodeOf) and text. Only the first
// call has an effect; Report on a nil *Status does nothing.
func (s *Status) Report(err error) {
	if s == nil || s.f == nil {
		return
	}
	msg := []byte{0}
	if err != nil {
		code := CodeOf(err)
		if code <= 0 || code > 255 {
			code = ExitInit
		}
		msg = append([]byte{byte(code)}, err.Error()...)
		if len(msg) > maxStatusText+1 {
			msg = msg[:maxStatusText+1]
		}
	}
	// A parent that went away is no reason to fail: ignore write errors.
	_, _ = s.f.Write(msg)
	_ = s.f.Close()
	s.f = nil
}

// IsChild reports whether s is a daemonized child's status pipe.
func (s *Status) IsChild() bool { return s != nil }
