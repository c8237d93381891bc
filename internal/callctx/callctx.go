// Package callctx carries what the RPC layer knows about the call a context
// belongs to, so that code below it (the driver, the VBoxManage runner) can
// tie each log line to the client and call that caused it without importing
// internal/rpc.
//
// internal/rpc gives every call a context made with With: its log entry has
// the fields client (the client id virt-admin shows), pid and uid (from the
// client's entry), proc (the procedure's name, e.g. DOMAIN_GET_INFO) and
// serial. A driver logs with callctx.Log(ctx).
package callctx

import (
	"context"

	"github.com/sirupsen/logrus"
)

// Call identifies one RPC call.
type Call struct {
	Client    uint64 // the server's client id
	PID       int32  // the peer's pid, 0 when unknown
	UID       uint32 // the peer's uid
	Program   uint32 // e.g. 0x20008086 (REMOTE)
	Procedure int32
	Proc      string // the procedure's name without its prefix, e.g. DOMAIN_GET_INFO
	Serial    uint32
}

type key struct{}

type value struct {
	call Call
	log  *logrus.Entry
}

// With returns a context carrying call and its client's log entry, which
// holds the fields client, pid and uid. Log adds proc and serial when asked,
// so a call that logs nothing costs no entry.
func With(ctx context.Context, call Call, clientLog *logrus.Entry) context.Context {
	return context.WithValue(ctx, key{}, &value{call: call, log: clientLog})
}

// From returns the call ctx belongs to, if any.
func From(ctx context.Context) (Call, bool) {
	if v, ok := ctx.Value(key{}).(*value); ok {
		return v.call, true
	}
	return Call{}, false
}

// Log returns the log entry of the call ctx belongs to; outside a call, an
// entry of the standard logger without fields.
func Log(ctx context.Context) *logrus.Entry {
	if v, ok := ctx.Value(key{}).(*value); ok && v.log != nil {
		return v.log.WithFields(logrus.Fields{"proc": v.call.Proc, "serial": v.call.Serial})
	}
	return logrus.NewEntry(logrus.StandardLogger())
}

// Fields returns the fields that tie a log line to the call ctx belongs to
// (client, pid, uid, proc, serial), or nil outside a call, for a package
// that logs through its own entry (with its own module field).
func Fields(ctx context.Context) logrus.Fields {
	v, ok := ctx.Value(key{}).(*value)
	if !ok {
		return nil
	}
	return logrus.Fields{"client": v.call.Client, "pid": v.call.PID, "uid": v.call.UID,
		"proc": v.call.Proc, "serial": v.call.Serial}
}
