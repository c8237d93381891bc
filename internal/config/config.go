// Package config reads virtvboxd.conf: libvirt's configuration syntax
// (virconf), every option libvirt's modular daemons read, plus our own
// vboxmanage_* options, with libvirt's defaults, range checks and error
// texts.
//
// Loading is split the way libvirt splits it, so that the daemon can report
// each failure at the same stage and with the same exit status:
//
//   - Load parses the file and checks each option's type and range; its
//     errors are *Error values, which the daemon reports as
//     "Can't load config file: <message>: <file>" (exit 1).
//   - ResolveHostUUID, CheckAccessDrivers and CheckClientLimits are the later
//     checks libvirt makes while setting up (host UUID, access manager,
//     servers; the logging settings are internal/logging's: logging.Check); ParseMode is the socket-permission check made
//     when the sockets are created.
//   - Validate runs all the later checks in libvirt's order; the reload path
//     uses it to refuse a new file before anything is applied.
//
// A Config is a plain value: Load returns a fresh one every time, so a reload
// can parse, validate and compare a new Config while the old one stays in use.
package config

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"syscall"
	"time"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// MaxFileSize is the largest configuration file accepted (libvirt's
// MAX_CONFIG_FILE_SIZE).
const MaxFileSize = 10 * 1024 * 1024

// Auth values of auth_unix_ro and auth_unix_rw.
const (
	AuthNone   = "none"
	AuthSASL   = "sasl"
	AuthPolkit = "polkit"
)

// Host UUID sources of host_uuid_source.
const (
	UUIDSourceSMBIOS    = "smbios"
	UUIDSourceMachineID = "machine-id"
)

// Config holds every option virtvboxd reads. Field names are the option
// names in CamelCase; the comments give the option name and its type in
// libvirt's terms (S string, L string list, U unsigned, I signed, B 0/1).
type Config struct {
	// Path is the file this Config was loaded from; "" when no file was read.
	Path string

	UnixSockGroup      string // unix_sock_group (S); "" = no chown
	UnixSockRoPerms    string // unix_sock_ro_perms (S, octal)
	UnixSockRwPerms    string // unix_sock_rw_perms (S, octal)
	UnixSockAdminPerms string // unix_sock_admin_perms (S, octal)
	UnixSockDir        string // unix_sock_dir (S); "" = the daemon's default run directory

	AuthUnixRo string // auth_unix_ro (S): "none" (sasl and polkit are refused)
	AuthUnixRw string // auth_unix_rw (S): "none" (sasl and polkit are refused)

	AccessDrivers           []string // access_drivers (L)
	SaslAllowedUsernameList []string // sasl_allowed_username_list (L); nil = unset

	MaxClients          uint // max_clients (U)
	MaxQueuedClients    uint // max_queued_clients (U)
	MaxAnonymousClients uint // max_anonymous_clients (U)
	RWReservedClients   uint // rw_reserved_clients (U): max_clients slots the ro socket may not take
	MinWorkers          uint // min_workers (U)
	MaxWorkers          uint // max_workers (U), > 0
	PrioWorkers         uint // prio_workers (U)
	MaxClientRequests   uint // max_client_requests (U)
	MaxBufferMemory     uint // max_buffer_memory (U), MiB; 0 = no bound

	AdminMinWorkers        uint // admin_min_workers (U)
	AdminMaxWorkers        uint // admin_max_workers (U)
	AdminMaxClients        uint // admin_max_clients (U)
	AdminMaxQueuedClients  uint // admin_max_queued_clients (U)
	AdminMaxClientRequests uint // admin_max_client_requests (U)

	AuditLevel   uint // audit_level (U)
	AuditLogging bool // audit_logging (B)

	HostUUID       string // host_uuid (S); "" = unset
	HostUUIDSource string // host_uuid_source (S): "smbios" or "machine-id"

	LogLevel   uint   // log_level (U); 0 = unset (warning)
	LogFilters string // log_filters (S)
	LogOutputs string // log_outputs (S); "" = the default output

	KeepaliveInterval      int  // keepalive_interval (I); -1 = never ping
	KeepaliveCount         uint // keepalive_count (U)
	AdminKeepaliveInterval int  // admin_keepalive_interval (I)
	AdminKeepaliveCount    uint // admin_keepalive_count (U)

	OvsTimeout uint // ovs_timeout (U); read for compatibility, unused

	VBoxManagePath    string // vboxmanage_path (S); "" = search (see FindVBoxManage)
	VBoxManageTimeout uint   // vboxmanage_timeout (U), seconds; 0 = no timeout
}

// Defaults returns the configuration used when no file sets anything.
// privileged is whether the daemon runs as root. libvirt's root default on
// polkit builds is auth "polkit" with a 0777 rw socket; virtvboxd has no
// polkit, so root and users alike get auth "none" with a 0700 rw socket:
// only the socket's owner (or unix_sock_group, when set with matching perms)
// can connect read-write.
func Defaults(privileged bool) *Config {
	_ = privileged // no default depends on it without polkit; kept for the API and for callers' clarity
	return &Config{
		UnixSockRoPerms:    "0777",
		UnixSockRwPerms:    "0700",
		UnixSockAdminPerms: "0700",

		AuthUnixRo: AuthNone,
		AuthUnixRw: AuthNone,

		AccessDrivers: []string{"none"},

		MaxClients:          5000,
		MaxQueuedClients:    1000,
		MaxAnonymousClients: 20,
		RWReservedClients:   100,
		MinWorkers:          5,
		MaxWorkers:          20,
		PrioWorkers:         5,
		MaxClientRequests:   5,
		MaxBufferMemory:     256,

		AdminMinWorkers:        5,
		AdminMaxWorkers:        20,
		AdminMaxClients:        5000,
		AdminMaxQueuedClients:  20,
		AdminMaxClientRequests: 5,

		AuditLevel: 1,

		HostUUIDSource: UUIDSourceSMBIOS,

		KeepaliveInterval:      5,
		KeepaliveCount:         5,
		AdminKeepaliveInterval: 5,
		AdminKeepaliveCount:    5,

		OvsTimeout: 5,

		VBoxManageTimeout: 60,
	}
}

// Clone returns a deep copy of c.
func (c *Config) Clone() *Config {
	n := *c
	n.AccessDrivers = slices.Clone(c.AccessDrivers)
	n.SaslAllowedUsernameList = slices.Clone(c.SaslAllowedUsernameList)
	return &n
}

// EffectiveLogLevel returns log_level, or the default priority (3) when it
// is unset.
func (c *Config) EffectiveLogLevel() uint {
	if c.LogLevel == 0 {
		return 3
	}
	return c.LogLevel
}

// VBoxManageTimeoutDuration returns vboxmanage_timeout as a duration; 0
// means no timeout.
func (c *Config) VBoxManageTimeoutDuration() time.Duration {
	return time.Duration(c.VBoxManageTimeout) * time.Second
}

// Load reads the configuration file at path into a fresh Config filled with
// Defaults(privileged). When mustExist is false (the implicit default file)
// a missing file is not an error and yields the defaults; when it is true
// (a file named with -f) a missing file fails with libvirt's
// "Failed to open file 'PATH': No such file or directory".
//
// Load checks syntax, types and ranges, the auth values and max_workers, in
// libvirt's order, so the first problem reported is the one libvirt
// reports. Checks that libvirt makes later (host UUID, logging, access
// drivers, client limits, socket modes) are left to Validate and friends.
// Every error is an *Error.
func Load(path string, mustExist bool, privileged bool) (*Config, error) {
	c := Defaults(privileged)
	data, err := readFile(path)
	if err != nil {
		if !mustExist && errors.Is(err, os.ErrNotExist) {
			return c, nil
		}
		return nil, err
	}
	if err := c.load(path, data); err != nil {
		return nil, err
	}
	return c, nil
}

// LoadData is Load for a file already in memory; name is used in messages.
func LoadData(name string, data []byte, privileged bool) (*Config, error) {
	c := Defaults(privileged)
	if err := c.load(name, data); err != nil {
		return nil, err
	}
	return c, nil
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("Failed to open file '%s': %s", path, errdefs.Strerror(err)), Err: err}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err == nil && len(data) > MaxFileSize {
		err = syscall.EFBIG
	}
	if err != nil {
		return nil, &Error{File: path, Msg: fmt.Sprintf("Failed to read file '%s': %s", path, errdefs.Strerror(err)), Err: err}
	}
	return data, nil
}

func (c *Config) load(path string, data []byte) error {
	f, err := Parse(path, data)
	if err != nil {
		var se *SyntaxError
		line := 0
		if errors.As(err, &se) {
			line = se.Line
		}
		return &Error{File: path, Line: line, Msg: err.Error(), Err: err}
	}
	r := &reader{file: f}
	c.Path = path

	// The order is libvirt's daemonConfigLoadOptions, then ours.
	r.auth("auth_unix_rw", &c.AuthUnixRw)
	r.auth("auth_unix_ro", &c.AuthUnixRo)
	r.stringList("access_drivers", &c.AccessDrivers)
	r.str("unix_sock_group", &c.UnixSockGroup)
	r.str("unix_sock_admin_perms", &c.UnixSockAdminPerms)
	r.str("unix_sock_ro_perms", &c.UnixSockRoPerms)
	r.str("unix_sock_rw_perms", &c.UnixSockRwPerms)
	r.str("unix_sock_dir", &c.UnixSockDir)
	r.stringList("sasl_allowed_username_list", &c.SaslAllowedUsernameList)
	r.uint("min_workers", &c.MinWorkers)
	r.uint("max_workers", &c.MaxWorkers)
	if r.err == nil && c.MaxWorkers < 1 {
		r.err = &Error{File: path, Msg: "internal error: 'max_workers' must be greater than 0",
			Err: errdefs.New(errdefs.ErrInternal, "'max_workers' must be greater than 0")}
	}
	r.uint("max_clients", &c.MaxClients)
	r.uint("max_queued_clients", &c.MaxQueuedClients)
	r.uint("max_anonymous_clients", &c.MaxAnonymousClients)
	r.uint("rw_reserved_clients", &c.RWReservedClients)
	r.uint("prio_workers", &c.PrioWorkers)
	r.uint("max_client_requests", &c.MaxClientRequests)
	r.uint("max_buffer_memory", &c.MaxBufferMemory)
	r.uint("admin_min_workers", &c.AdminMinWorkers)
	r.uint("admin_max_workers", &c.AdminMaxWorkers)
	r.uint("admin_max_clients", &c.AdminMaxClients)
	r.uint("admin_max_queued_clients", &c.AdminMaxQueuedClients)
	r.uint("admin_max_client_requests", &c.AdminMaxClientRequests)
	r.uint("audit_level", &c.AuditLevel)
	r.bool("audit_logging", &c.AuditLogging)
	r.str("host_uuid", &c.HostUUID)
	r.str("host_uuid_source", &c.HostUUIDSource)
	r.uint("log_level", &c.LogLevel)
	r.str("log_filters", &c.LogFilters)
	r.str("log_outputs", &c.LogOutputs)
	r.int("keepalive_interval", &c.KeepaliveInterval)
	r.uint("keepalive_count", &c.KeepaliveCount)
	r.int("admin_keepalive_interval", &c.AdminKeepaliveInterval)
	r.uint("admin_keepalive_count", &c.AdminKeepaliveCount)
	r.uint("ovs_timeout", &c.OvsTimeout)
	r.str("vboxmanage_path", &c.VBoxManagePath)
	r.uint("vboxmanage_timeout", &c.VBoxManageTimeout)
	return r.err
}

// reader applies typed accessors to a parsed file, keeping the first error.
// The messages are libvirt's virConfGetValue* texts.
type reader struct {
	file *File
	err  error
}

func (r *reader) lookup(name string) (Value, bool) {
	if r.err != nil {
		return Value{}, false
	}
	return r.file.Get(name)
}

func (r *reader) internal(format string, args ...any) {
	detail := r.file.Name + ": " + fmt.Sprintf(format, args...)
	r.err = &Error{File: r.file.Name, Msg: "internal error: " + detail,
		Err: errdefs.New(errdefs.ErrInternal, detail)}
}

// value returns name's value when it is set and its type is one of types;
// otherwise it records libvirt's "expected <what> for '<name>' parameter".
func (r *reader) value(name, what string, types ...Type) (Value, bool) {
	v, ok := r.lookup(name)
	if !ok {
		return Value{}, false
	}
	if !slices.Contains(types, v.Type) {
		r.internal("expected %s for '%s' parameter", what, name)
		return Value{}, false
	}
	return v, true
}

func (r *reader) str(name string, dst *string) {
	if v, ok := r.value(name, "a string", String); ok {
		*dst = v.Str
	}
}

func (r *reader) stringList(name string, dst *[]string) {
	v, ok := r.value(name, "a string list", List)
	if !ok {
		return
	}
	out := make([]string, 0, len(v.List))
	for _, item := range v.List {
		if item.Type != String {
			r.internal("expected a string list for '%s' parameter", name)
			return
		}
		out = append(out, item.Str)
	}
	*dst = out
}

func (r *reader) uint(name string, dst *uint) {
	v, ok := r.value(name, "an unsigned integer", Unsigned)
	if !ok {
		return
	}
	if uint64(v.Int) > math.MaxUint32 {
		r.internal("value for '%s' parameter must be in range %d:%d", name, 0, uint64(math.MaxUint32))
		return
	}
	*dst = uint(v.Int)
}

func (r *reader) int(name string, dst *int) {
	v, ok := r.value(name, "a signed integer", Unsigned, Signed)
	if !ok {
		return
	}
	if v.Int > math.MaxInt32 || v.Int < math.MinInt32 {
		r.internal("value for '%s' parameter must be in range %d:%d", name, math.MinInt32, math.MaxInt32)
		return
	}
	*dst = int(v.Int)
}

func (r *reader) bool(name string, dst *bool) {
	v, ok := r.value(name, "a bool", Unsigned)
	if !ok {
		return
	}
	if uint64(v.Int) > 1 {
		r.internal("value for '%s' parameter must be 0 or 1", name)
		return
	}
	*dst = v.Int == 1
}

// auth reads auth_unix_ro/auth_unix_rw. libvirt accepts "none", "sasl"
// (SASL builds) and "polkit"; virtvboxd implements neither SASL nor polkit,
// so both are refused rather than silently downgraded to "none".
func (r *reader) auth(name string, dst *string) {
	v, ok := r.value(name, "a string", String)
	if !ok {
		return
	}
	var why string
	switch v.Str {
	case AuthNone:
		*dst = v.Str
		return
	case AuthPolkit:
		why = " (virtvboxd has no polkit support: use \"none\" and limit access with unix_sock_rw_perms and unix_sock_group)"
	}
	detail := fmt.Sprintf("%s: %s: unsupported auth %s%s", r.file.Name, name, v.Str, why)
	r.err = &Error{File: r.file.Name, Msg: "unsupported configuration: " + detail,
		Err: errdefs.New(errdefs.ErrConfigUnsupported, detail)}
}
