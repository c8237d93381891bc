package main

import (
	"time"

	"github.com/virtvboxd/virtvboxd/internal/rpc"
)

// registerAdmin registers the ADMIN program on srv, backed by the running
// daemon d.
func registerAdmin(srv *rpc.Server, d *instance) {
	srv.Register(rpc.NewAdminProgram(adminBackend{d}))
}

// adminBackend is the daemon as virt-admin sees it: its servers, its logging
// settings and its idle timeout.
type adminBackend struct{ d *instance }

// Servers returns the main and admin servers by name.
func (b adminBackend) Servers() map[string]*rpc.Server { return b.d.servers }

// LoggingOutputs returns the outputs in force ("3:stderr").
func (b adminBackend) LoggingOutputs() string { return b.d.logs.Outputs() }

// LoggingFilters returns the filters in force ("" for none).
func (b adminBackend) LoggingFilters() string { return b.d.logs.Filters() }

// SetLoggingOutputs replaces the outputs; "" restores the default ones.
func (b adminBackend) SetLoggingOutputs(outputs string) error {
	return b.d.logs.SetOutputs(outputs)
}

// SetLoggingFilters replaces the filters; "" removes them.
func (b adminBackend) SetLoggingFilters(filters string) error {
	return b.d.logs.SetFilters(filters)
}

// SetDaemonTimeout changes the idle timeout (virt-admin daemon-timeout);
// 0 disables it.
func (b adminBackend) SetDaemonTimeout(seconds uint32) error {
	b.d.log.Infof("Idle timeout set to %d seconds by an admin client", seconds)
	b.d.idle.SetTimeout(time.Duration(seconds) * time.Second)
	return nil
}
