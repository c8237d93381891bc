// Package errdefs defines the classes of failure that the daemon's packages
// return to each other. A class says what went wrong in libvirt's terms
// (no such domain, operation invalid in this state...) without saying how it
// is put on the wire: internal/rpc alone maps a class to libvirt's error code,
// error domain and message template.
//
// Producers wrap a class with a human detail:
//
//	return errdefs.Newf(errdefs.ErrNoDomain, "no domain with matching name '%s'", name)
//
// and consumers test with errors.Is(err, errdefs.ErrNoDomain) and read the
// detail with errdefs.Detail(err).
package errdefs

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
)

// The classes. Each maps to exactly one libvirt virErrorNumber in internal/rpc.
var (
	ErrInternal             = errors.New("internal error")                   // VIR_ERR_INTERNAL_ERROR
	ErrNoSupport            = errors.New("not supported")                    // VIR_ERR_NO_SUPPORT
	ErrNoConnect            = errors.New("no connection driver")             // VIR_ERR_NO_CONNECT
	ErrInvalidArg           = errors.New("invalid argument")                 // VIR_ERR_INVALID_ARG
	ErrOperationFailed      = errors.New("operation failed")                 // VIR_ERR_OPERATION_FAILED
	ErrXML                  = errors.New("XML error")                        // VIR_ERR_XML_ERROR
	ErrDomainExists         = errors.New("domain exists")                    // VIR_ERR_DOM_EXIST
	ErrOperationDenied      = errors.New("operation forbidden")              // VIR_ERR_OPERATION_DENIED
	ErrNoDomain             = errors.New("domain not found")                 // VIR_ERR_NO_DOMAIN
	ErrOperationInvalid     = errors.New("requested operation is not valid") // VIR_ERR_OPERATION_INVALID
	ErrConfigUnsupported    = errors.New("unsupported configuration")        // VIR_ERR_CONFIG_UNSUPPORTED
	ErrOperationTimeout     = errors.New("timeout")                          // VIR_ERR_OPERATION_TIMEOUT
	ErrNoDomainSnapshot     = errors.New("domain snapshot not found")        // VIR_ERR_NO_DOMAIN_SNAPSHOT
	ErrArgUnsupported       = errors.New("argument unsupported")             // VIR_ERR_ARGUMENT_UNSUPPORTED
	ErrSystem               = errors.New("system error")                     // VIR_ERR_SYSTEM_ERROR
	ErrAgentUnresponsive    = errors.New("guest agent is not responding")    // VIR_ERR_AGENT_UNRESPONSIVE
	ErrOperationUnsupported = errors.New("operation not supported")          // VIR_ERR_OPERATION_UNSUPPORTED
	ErrNoDomainMetadata     = errors.New("metadata not found")               // VIR_ERR_NO_DOMAIN_METADATA
	ErrNoNetwork            = errors.New("network not found")                // VIR_ERR_NO_NETWORK
	ErrNoStoragePool        = errors.New("storage pool not found")           // VIR_ERR_NO_STORAGE_POOL
	ErrNoStorageVol         = errors.New("storage volume not found")         // VIR_ERR_NO_STORAGE_VOL
	ErrStorageVolExists     = errors.New("storage volume exists")            // VIR_ERR_STORAGE_VOL_EXIST
)

// Error is a classified failure with a detail for humans and an optional
// cause (for example the VBoxManage failure behind it).
type Error struct {
	Class  error  // one of the Err* classes above
	Detail string // the text after libvirt's template prefix
	Cause  error  // optional underlying error, kept for logs and errors.Is/As
}

// Error returns "<class>: <detail>", which is also how libvirt words most messages.
func (e *Error) Error() string {
	if e.Detail == "" {
		return e.Class.Error()
	}
	return e.Class.Error() + ": " + e.Detail
}

// Is reports whether target is e's class, so errors.Is(err, ErrNoDomain) works.
func (e *Error) Is(target error) bool { return target == e.Class }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// New returns an error of class with detail.
func New(class error, detail string) error { return &Error{Class: class, Detail: detail} }

// Newf returns an error of class with a formatted detail.
func Newf(class error, format string, args ...any) error {
	return &Error{Class: class, Detail: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of class with detail whose cause is err.
func Wrap(class error, err error, detail string) error {
	return &Error{Class: class, Detail: detail, Cause: err}
}

// ClassOf returns the class of err, or ErrInternal when err carries none.
func ClassOf(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	for _, c := range []error{ErrInternal, ErrNoSupport, ErrNoConnect, ErrInvalidArg, ErrOperationFailed, ErrXML,
		ErrDomainExists, ErrOperationDenied, ErrNoDomain, ErrOperationInvalid, ErrConfigUnsupported,
		ErrOperationTimeout, ErrNoDomainSnapshot, ErrArgUnsupported, ErrSystem, ErrAgentUnresponsive,
		ErrOperationUnsupported, ErrNoDomainMetadata, ErrNoNetwork, ErrNoStoragePool, ErrNoStorageVol, ErrStorageVolExists} {
		if errors.Is(err, c) {
			return c
		}
	}
	return ErrInternal
}

// Detail returns the human detail of err: the Detail of the outermost *Error,
// or err's whole text when it carries no class.
func Detail(err error) string {
	var e *Error
	if errors.As(err, &e) {
		if e.Detail != "" {
			return e.Detail
		}
		if e.Cause != nil {
			return e.Cause.Error()
		}
		return e.Class.Error()
	}
	return err.Error()
}

// Strerror words an OS error as the C library's strerror does ("No such file
// or directory"), which is how libvirt words system errors; Go's errno texts
// are the same words without the capital. Other errors keep their text.
func Strerror(err error) string {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	s := errno.Error()
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
