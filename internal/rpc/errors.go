package rpc

import (
	"errors"
	"strings"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// This file is the one place where failures become libvirt errors: an
// errdefs class picks the virErrorNumber and its message template (libvirt's
// src/util/virerror.c table), the caller's context picks the virErrorDomain.

// templates holds virerror.c's "msginfo" template for each code we send: the
// message is the template with the detail in place of %s.
var templates = map[int32]string{
	errInternalError:        "internal error: %s",
	errNoSupport:            "this function is not supported by the connection driver: %s",
	errNoConnect:            "no connection driver available for %s",
	errInvalidArg:           "invalid argument: %s",
	errOperationFailed:      "operation failed: %s",
	errXMLError:             "XML error: %s",
	errDomExist:             "domain %s exists already",
	errOperationDenied:      "operation forbidden: %s",
	errSystemError:          "%s",
	errRPC:                  "%s",
	errNoDomain:             "Domain not found: %s",
	errAuthFailed:           "authentication failed: %s",
	errOperationInvalid:     "Requested operation is not valid: %s",
	errConfigUnsupported:    "unsupported configuration: %s",
	errOperationTimeout:     "Timed out during operation: %s",
	errNoDomainSnapshot:     "Domain snapshot not found: %s",
	errArgumentUnsupported:  "argument unsupported: %s",
	errNoServer:             "Server not found: %s",
	errNoClient:             "Client not found: %s",
	errOverflow:             "numerical overflow: %s",
	errOperationUnsupported: "Operation not supported: %s",
	errNoDomainMetadata:     "metadata not found: %s",
	errNoNetwork:            "Network not found: %s",
	errNoStoragePool:        "Storage pool not found: %s",
	errNoStorageVol:         "Storage volume not found: %s",
	errStorageVolExist:      "storage volume %s exists already",
	errAgentUnresponsive:    "Guest agent is not responding: %s",
}

// classCodes maps each errdefs class to its virErrorNumber.
var classCodes = map[error]int32{
	errdefs.ErrInternal:             errInternalError,
	errdefs.ErrNoSupport:            errNoSupport,
	errdefs.ErrNoConnect:            errNoConnect,
	errdefs.ErrInvalidArg:           errInvalidArg,
	errdefs.ErrOperationFailed:      errOperationFailed,
	errdefs.ErrXML:                  errXMLError,
	errdefs.ErrDomainExists:         errDomExist,
	errdefs.ErrOperationDenied:      errOperationDenied,
	errdefs.ErrNoDomain:             errNoDomain,
	errdefs.ErrOperationInvalid:     errOperationInvalid,
	errdefs.ErrConfigUnsupported:    errConfigUnsupported,
	errdefs.ErrOperationTimeout:     errOperationTimeout,
	errdefs.ErrNoDomainSnapshot:     errNoDomainSnapshot,
	errdefs.ErrArgUnsupported:       errArgumentUnsupported,
	errdefs.ErrSystem:               errSystemError,
	errdefs.ErrOperationUnsupported: errOperationUnsupported,
	errdefs.ErrNoDomainMetadata:     errNoDomainMetadata,
	errdefs.ErrNoNetwork:            errNoNetwork,
	errdefs.ErrNoStoragePool:        errNoStoragePool,
	errdefs.ErrNoStorageVol:         errNoStorageVol,
	errdefs.ErrStorageVolExists:     errStorageVolExist,
	errdefs.ErrAgentUnresponsive:    errAgentUnresponsive,
}

// wireError is a libvirt error ready for remote_error: code, domain, the
// template (str1) and the detail (str2).
type wireError struct {
	Code   int32
	Domain int32
	Detail string
}

func (e *wireError) Error() string { return e.Message() }

// Template returns the code's message template (str1).
func (e *wireError) Template() string {
	if t, ok := templates[e.Code]; ok {
		return t
	}
	return "%s"
}

// Message returns the formatted message.
func (e *wireError) Message() string {
	return strings.Replace(e.Template(), "%s", e.Detail, 1)
}

// newError returns an error with an explicit code and domain, for failures
// the RPC layer itself detects.
func newError(code, domain int32, detail string) error {
	return &wireError{Code: code, Domain: domain, Detail: detail}
}

// rpcError is a VIR_ERR_RPC error in the RPC domain ("%s" template).
func rpcError(detail string) error { return newError(errRPC, fromRPC, detail) }

// toWire maps err to a libvirt error. A *wireError keeps its own code and
// domain; an errdefs class maps to its code, with domain as the error domain
// (VBOX for the driver's errors); an unclassified error is an internal error.
func toWire(err error, domain int32) *wireError {
	var we *wireError
	if errors.As(err, &we) {
		return we
	}
	code, ok := classCodes[errdefs.ClassOf(err)]
	if !ok {
		code = errInternalError
	}
	return &wireError{Code: code, Domain: domain, Detail: errdefs.Detail(err)}
}

// putError appends remote_error (remote_protocol.x; admin uses the same
// layout) to p: code, domain, message, level 2 (VIR_ERR_ERROR), no domain,
// str1 = template, str2 = detail, no str3, int1 = int2 = -1, no network.
func (p *packet) putError(e *wireError) {
	p.putU32(uint32(e.Code))
	p.putU32(uint32(e.Domain))
	p.putU32(1)
	p.putString(e.Message())
	p.putU32(2) // level
	p.putU32(0) // dom
	p.putU32(1)
	p.putString(e.Template())
	p.putU32(1)
	p.putString(e.Detail)
	p.putU32(0)          // str3
	p.putU32(0xffffffff) // int1
	p.putU32(0xffffffff) // int2
	p.putU32(0)          // net
}
