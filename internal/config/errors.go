package config

import (
	"fmt"
)

// Error is a failure to load a configuration file. Its Error() is exactly
// the message libvirt reports, for example
//
//	configuration file syntax error: /etc/libvirt/virtvboxd.conf:3: expecting a value
//	internal error: /etc/libvirt/virtvboxd.conf: expected an unsigned integer for 'max_clients' parameter
//	Failed to open file '/nonexist.conf': No such file or directory
//
// The daemon prints it as LoadFailure() does:
// "Can't load config file: <message>: <file>".
type Error struct {
	File string // the file being loaded, as named by the caller
	Line int    // the line of a syntax error; 0 otherwise
	Msg  string // libvirt's message
	Err  error  // the cause (*SyntaxError, an errdefs class, an errno), for errors.Is/As
}

func (e *Error) Error() string { return e.Msg }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// LoadFailure returns the line libvirt's daemons log when the config file
// cannot be loaded: "Can't load config file: <message>: <file>".
func (e *Error) LoadFailure() string {
	return fmt.Sprintf("Can't load config file: %s: %s", e.Msg, e.File)
}
