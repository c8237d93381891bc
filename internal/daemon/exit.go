// Package daemon holds the lifecycle pieces of virtvboxd that know nothing of
// RPC or VirtualBox: the default paths for root and session daemons, the pid
// file lock, daemonizing with a status pipe, sd_notify, the idle timer and the
// exit codes shared with libvirt's daemons.
package daemon

import (
	"errors"
	"fmt"
)

// ExitCode is a process exit status. The values are libvirt's
// VIR_DAEMON_ERR_* codes: the same number is the exit status of a foreground
// daemon and the byte a daemonized child writes to its parent.
type ExitCode int

// The exit codes, in libvirt's order.
const (
	ExitOK         ExitCode = 0
	ExitPidFile    ExitCode = 1  // Unable to obtain pidfile
	ExitRunDir     ExitCode = 2  // Unable to create rundir
	ExitInit       ExitCode = 3  // Unable to initialize libvirt
	ExitSignals    ExitCode = 4  // Unable to setup signal handlers
	ExitPrivileges ExitCode = 5  // Unable to drop privileges
	ExitNetwork    ExitCode = 6  // Unable to initialize network sockets
	ExitConfig     ExitCode = 7  // Unable to load configuration file
	ExitHooks      ExitCode = 8  // Unable to look for hook scripts
	ExitReexec     ExitCode = 9  // Unable to re-execute daemon
	ExitAudit      ExitCode = 10 // Unable to initialize audit system
	ExitDriver     ExitCode = 11 // Unable to initialize driver
)

var exitText = map[ExitCode]string{
	ExitPidFile:    "Unable to obtain pidfile",
	ExitRunDir:     "Unable to create rundir",
	ExitInit:       "Unable to initialize libvirt",
	ExitSignals:    "Unable to setup signal handlers",
	ExitPrivileges: "Unable to drop privileges",
	ExitNetwork:    "Unable to initialize network sockets",
	ExitConfig:     "Unable to load configuration file",
	ExitHooks:      "Unable to look for hook scripts",
	ExitReexec:     "Unable to re-execute daemon",
	ExitAudit:      "Unable to initialize audit system",
	ExitDriver:     "Unable to initialize driver",
}

// Text returns libvirt's one-line description of the failure, as the parent
// of a daemonized child prints it.
func (c ExitCode) Text() string {
	if t, ok := exitText[c]; ok {
		return t
	}
	return fmt.Sprintf("unknown error %d", int(c))
}

// Error is a startup failure that carries the exit code it must produce.
type Error struct {
	Code ExitCode
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Fail wraps err with the exit code the process must end with. A nil err
// stays nil.
func Fail(code ExitCode, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Code: code, Err: err}
}

// CodeOf returns the exit code carried by err: 0 for nil, the code of the
// outermost *Error, and 1 for any other error.
func CodeOf(err error) ExitCode {
	if err == nil {
		return ExitOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 1
}
