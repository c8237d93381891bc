package config

import "reflect"

// Option describes one configuration option.
type Option struct {
	Name  string // the option as written in the file: "max_clients"
	Field string // the Config field holding it: "MaxClients"
	// Restart is true for options that only take effect when the daemon
	// starts: sockets, authentication, access control, listen backlogs,
	// audit and host identity. The others (logging, worker and client
	// limits, keepalive, vboxmanage_*) are applied by a reload.
	Restart bool
}

// Options lists every option virtvboxd reads, in the order of the sample
// configuration file.
var Options = []Option{
	{"unix_sock_group", "UnixSockGroup", true},
	{"unix_sock_ro_perms", "UnixSockRoPerms", true},
	{"unix_sock_rw_perms", "UnixSockRwPerms", true},
	{"unix_sock_admin_perms", "UnixSockAdminPerms", true},
	{"unix_sock_dir", "UnixSockDir", true},
	{"auth_unix_ro", "AuthUnixRo", true},
	{"auth_unix_rw", "AuthUnixRw", true},
	{"access_drivers", "AccessDrivers", true},
	{"sasl_allowed_username_list", "SaslAllowedUsernameList", true},
	{"max_clients", "MaxClients", false},
	{"max_queued_clients", "MaxQueuedClients", true},
	{"max_anonymous_clients", "MaxAnonymousClients", false},
	{"rw_reserved_clients", "RWReservedClients", false},
	{"min_workers", "MinWorkers", false},
	{"max_workers", "MaxWorkers", false},
	{"prio_workers", "PrioWorkers", false},
	{"max_client_requests", "MaxClientRequests", false},
	{"max_buffer_memory", "MaxBufferMemory", false},
	{"admin_min_workers", "AdminMinWorkers", false},
	{"admin_max_workers", "AdminMaxWorkers", false},
	{"admin_max_clients", "AdminMaxClients", false},
	{"admin_max_queued_clients", "AdminMaxQueuedClients", true},
	{"admin_max_client_requests", "AdminMaxClientRequests", false},
	{"log_level", "LogLevel", false},
	{"log_filters", "LogFilters", false},
	{"log_outputs", "LogOutputs", false},
	{"audit_level", "AuditLevel", true},
	{"audit_logging", "AuditLogging", true},
	{"host_uuid", "HostUUID", true},
	{"host_uuid_source", "HostUUIDSource", true},
	{"keepalive_interval", "KeepaliveInterval", false},
	{"keepalive_count", "KeepaliveCount", false},
	{"admin_keepalive_interval", "AdminKeepaliveInterval", false},
	{"admin_keepalive_count", "AdminKeepaliveCount", false},
	{"ovs_timeout", "OvsTimeout", false},
	{"vboxmanage_path", "VBoxManagePath", false},
	{"vboxmanage_timeout", "VBoxManageTimeout", false},
}

// value returns the Config field that holds o.
func (o Option) value(c *Config) reflect.Value {
	return reflect.ValueOf(c).Elem().FieldByName(o.Field)
}

// differs reports whether o has different values in c and old.
func (o Option) differs(c, old *Config) bool {
	return !reflect.DeepEqual(o.value(c).Interface(), o.value(old).Interface())
}

// Changed lists the options whose values differ between old and c, in
// Options order.
func (c *Config) Changed(old *Config) []string {
	var out []string
	for _, o := range Options {
		if o.differs(c, old) {
			out = append(out, o.Name)
		}
	}
	return out
}

// InForce returns the configuration in force after a reload from old to c:
// a copy of c in which every option that needs a restart keeps old's value.
// Storing it (rather than c) keeps the running Config truthful about the
// sockets and auth actually in use, and makes the next reload report those
// options again while they still differ from the file.
func (c *Config) InForce(old *Config) *Config {
	n := c.Clone()
	o := old.Clone()
	for _, opt := range Options {
		if opt.Restart {
			opt.value(n).Set(opt.value(o))
		}
	}
	return n
}

// RestartNeeded lists the options that differ between old (the running
// configuration) and c (a newly loaded one) and that only take effect at
// the next start, in Options order. A reload logs them and keeps running
// with the old values for those options.
func (c *Config) RestartNeeded(old *Config) []string {
	var out []string
	for _, o := range Options {
		if o.Restart && o.differs(c, old) {
			out = append(out, o.Name)
		}
	}
	return out
}
