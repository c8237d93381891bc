package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

func writeFile(t testing.TB, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "virtvboxd.conf")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadErrors(t *testing.T) {
	// FILE is replaced by the file's path in the expected messages.
	tests := []struct {
		name, in string
		want     string
		line     int
		class    error // the errdefs class behind the message, if any
	}{
		// libvirt's error table, row by row.
		{"missing value", "max_clients = ", "configuration file syntax error: FILE:1: expecting a value", 1, nil},
		{"missing assignment", "max_clients 10", "configuration file syntax error: FILE:1: expecting an assignment", 1, nil},
		{"junk after value", "max_clients = 10 abc", "configuration file syntax error: FILE:1: expecting a separator", 1, nil},
		{"unterminated string", `log_filters = "1:foo`, "configuration file syntax error: FILE:1: unterminated string", 1, nil},
		{"list separator", `x = [ "a" "b" ]`, "configuration file syntax error: FILE:1: expecting a separator in list", 1, nil},
		{"bad name", "1abc = 3", "configuration file syntax error: FILE:1: expecting a name", 1, nil},
		{"string for unsigned", `max_clients = "abc"`, "internal error: FILE: expected an unsigned integer for 'max_clients' parameter", 0, errdefs.ErrInternal},
		{"negative for unsigned", "max_workers = -5", "internal error: FILE: expected an unsigned integer for 'max_workers' parameter", 0, errdefs.ErrInternal},
		{"unsigned out of range", "max_clients = 99999999999", "internal error: FILE: value for 'max_clients' parameter must be in range 0:4294967295", 0, errdefs.ErrInternal},
		{"bool out of range", "audit_logging = 2", "internal error: FILE: value for 'audit_logging' parameter must be 0 or 1", 0, errdefs.ErrInternal},
		{"string for list", `access_drivers = "polkit"`, "internal error: FILE: expected a string list for 'access_drivers' parameter", 0, errdefs.ErrInternal},
		{"bogus auth", `auth_unix_rw = "bogus"`, "unsupported configuration: FILE: auth_unix_rw: unsupported auth bogus", 0, errdefs.ErrConfigUnsupported},
		{"zero max_workers", "max_workers = 0", "internal error: 'max_workers' must be greater than 0", 0, errdefs.ErrInternal},
		// The other accessor messages.
		{"signed out of range", "keepalive_interval = -3000000000", "internal error: FILE: value for 'keepalive_interval' parameter must be in range -2147483648:2147483647", 0, errdefs.ErrInternal},
		{"signed too big", "keepalive_interval = 2147483648", "internal error: FILE: value for 'keepalive_interval' parameter must be in range -2147483648:2147483647", 0, errdefs.ErrInternal},
		{"string for signed", `keepalive_interval = "5"`, "internal error: FILE: expected a signed integer for 'keepalive_interval' parameter", 0, errdefs.ErrInternal},
		{"number for string", "unix_sock_rw_perms = 0700", "internal error: FILE: expected a string for 'unix_sock_rw_perms' parameter", 0, errdefs.ErrInternal},
		{"list for string", `log_outputs = ["1:stderr"]`, "internal error: FILE: expected a string for 'log_outputs' parameter", 0, errdefs.ErrInternal},
		{"number in list", `sasl_allowed_username_list = ["a", 1]`, "internal error: FILE: expected a string list for 'sasl_allowed_username_list' parameter", 0, errdefs.ErrInternal},
		{"string for bool", `audit_logging = "1"`, "internal error: FILE: expected a bool for 'audit_logging' parameter", 0, errdefs.ErrInternal},
		{"negative bool", "audit_logging = -1", "internal error: FILE: expected a bool for 'audit_logging' parameter", 0, errdefs.ErrInternal},
		{"number for auth", "auth_unix_ro = 1", "internal error: FILE: expected a string for 'auth_unix_ro' parameter", 0, errdefs.ErrInternal},
		{"sasl unsupported", `auth_unix_ro = "sasl"`, "unsupported configuration: FILE: auth_unix_ro: unsupported auth sasl", 0, errdefs.ErrConfigUnsupported},
		{"polkit unsupported", `auth_unix_rw = "polkit"`,
			`unsupported configuration: FILE: auth_unix_rw: unsupported auth polkit (virtvboxd has no polkit support: use "none" and limit access with unix_sock_rw_perms and unix_sock_group)`,
			0, errdefs.ErrConfigUnsupported},
		{"timeout out of range", "vboxmanage_timeout = 4294967296", "internal error: FILE: value for 'vboxmanage_timeout' parameter must be in range 0:4294967295", 0, errdefs.ErrInternal},
		{"path not a string", "vboxmanage_path = 1", "internal error: FILE: expected a string for 'vboxmanage_path' parameter", 0, errdefs.ErrInternal},
		// libvirt reports the first bad option in its reading order, not
		// in file order: auth_unix_rw is read before max_clients.
		{"reading order", "max_clients = 'x'\nauth_unix_rw = 'x'", "unsupported configuration: FILE: auth_unix_rw: unsupported auth x", 0, errdefs.ErrConfigUnsupported},
		{"max_workers checked before max_clients", "max_clients = 'x'\nmax_workers = 0", "internal error: 'max_workers' must be greater than 0", 0, errdefs.ErrInternal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.in)
			c, err := Load(path, true, false)
			if err == nil {
				t.Fatalf("Load succeeded: %+v", c)
			}
			want := strings.ReplaceAll(tc.want, "FILE", path)
			if err.Error() != want {
				t.Fatalf("Load error\n got  %q\n want %q", err.Error(), want)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error is %T, want *config.Error", err)
			}
			if ce.File != path || ce.Line != tc.line {
				t.Errorf("Error{File: %q, Line: %d}, want {%q, %d}", ce.File, ce.Line, path, tc.line)
			}
			if got, wantLine := ce.LoadFailure(), "Can't load config file: "+want+": "+path; got != wantLine {
				t.Errorf("LoadFailure() = %q, want %q", got, wantLine)
			}
			if tc.class != nil && !errors.Is(err, tc.class) {
				t.Errorf("error class = %v, want %v", errdefs.ClassOf(err), tc.class)
			}
		})
	}
}

func TestLoadMissingAndUnreadable(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nonexist.conf")

	c, err := Load(missing, false, false)
	if err != nil {
		t.Fatalf("implicit missing file: %v", err)
	}
	if !reflect.DeepEqual(c, Defaults(false)) {
		t.Errorf("implicit missing file gave %+v, want the defaults", c)
	}

	_, err = Load(missing, true, false)
	if want := "Failed to open file '" + missing + "': No such file or directory"; err == nil || err.Error() != want {
		t.Errorf("explicit missing file: %v, want %q", err, want)
	}
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("explicit missing file error does not unwrap to os.ErrNotExist: %v", err)
	}

	// A directory opens but cannot be read.
	_, err = Load(dir, false, false)
	if want := "Failed to read file '" + dir + "': Is a directory"; err == nil || err.Error() != want {
		t.Errorf("directory: %v, want %q", err, want)
	}

	// 10 MiB is the limit; one byte more is refused.
	big := filepath.Join(dir, "big.conf")
	data := []byte(strings.Repeat("#", MaxFileSize))
	if err := os.WriteFile(big, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big, true, false); err != nil {
		t.Errorf("a file of exactly %d bytes: %v", MaxFileSize, err)
	}
	if err := os.WriteFile(big, append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(big, true, false)
	if want := "Failed to read file '" + big + "': File too large"; err == nil || err.Error() != want {
		t.Errorf("oversized file: %v, want %q", err, want)
	}
}

func TestLoadEveryOption(t *testing.T) {
	in := `# every option, with values different from the defaults
unix_sock_group = "libvirt"
unix_sock_ro_perms = "0770"
unix_sock_rw_perms = '0770'
unix_sock_admin_perms = "0750"
unix_sock_dir = "/run/vvd"
auth_unix_ro = "none"
auth_unix_rw = "none"
access_drivers = [ "none" ]
sasl_allowed_username_list = [
    "admin@EXAMPLE.COM",
]   # a comment may follow the list, not sit inside it
max_clients = 100; max_queued_clients = 10; max_anonymous_clients = 7
min_workers = 2
max_workers = 9
prio_workers = 3
max_client_requests = 8
rw_reserved_clients = 30
max_buffer_memory = 64
admin_min_workers = 1
admin_max_workers = 4
admin_max_clients = 6
admin_max_queued_clients = 11
admin_max_client_requests = 12
audit_level = 2
audit_logging = 1
host_uuid = "00000000-1111-2222-3333-444444444444"
host_uuid_source = "machine-id"
log_level = 1
log_filters = "1:rpc 3:vbox"
log_outputs = """2:stderr 1:file:/tmp/vvd.log"""
keepalive_interval = -1
keepalive_count = 0
admin_keepalive_interval = 10
admin_keepalive_count = 3
ovs_timeout = 9
vboxmanage_path = "/opt/VirtualBox/VBoxManage"
vboxmanage_timeout = 0
listen_tcp = 1          # read by libvirtd only: ignored here
tls_port = "16514"      # likewise
max_clients = 1         # a duplicate: the first one wins
`

	path := writeFile(t, in)
	got, err := Load(path, true, true)
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Path:                    path,
		UnixSockGroup:           "libvirt",
		UnixSockRoPerms:         "0770",
		UnixSockRwPerms:         "0770",
		UnixSockAdminPerms:      "0750",
		UnixSockDir:             "/run/vvd",
		AuthUnixRo:              "none",
		AuthUnixRw:              "none",
		AccessDrivers:           []string{"none"},
		SaslAllowedUsernameList: []string{"admin@EXAMPLE.COM"},
		MaxClients:              100,
		MaxQueuedClients:        10,
		MaxAnonymousClients:     7,
		MinWorkers:              2,
		MaxWorkers:              9,
		PrioWorkers:             3,
		MaxClientRequests:       8,
		RWReservedClients:       30,
		MaxBufferMemory:         64,
		AdminMinWorkers:         1,
		AdminMaxWorkers:         4,
		AdminMaxClients:         6,
		AdminMaxQueuedClients:   11,
		AdminMaxClientRequests:  12,
		AuditLevel:              2,
		AuditLogging:            true,
		HostUUID:                "00000000-1111-2222-3333-444444444444",
		HostUUIDSource:          "machine-id",
		LogLevel:                1,
		LogFilters:              "1:rpc 3:vbox",
		LogOutputs:              "2:stderr 1:file:/tmp/vvd.log",
		KeepaliveInterval:       -1,
		KeepaliveCount:          0,
		AdminKeepaliveInterval:  10,
		AdminKeepaliveCount:     3,
		OvsTimeout:              9,
		VBoxManagePath:          "/opt/VirtualBox/VBoxManage",
		VBoxManageTimeout:       0,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load\n got  %+v\n want %+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestLoadKeepsDefaultsForUnsetOptions(t *testing.T) {
	path := writeFile(t, "max_clients = 10000\nunknown_option = 'whatever'\n")
	got, err := Load(path, true, false)
	if err != nil {
		t.Fatal(err)
	}
	want := Defaults(false)
	want.Path = path
	want.MaxClients = 10000
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestLoadReturnsFreshValues(t *testing.T) {
	path := writeFile(t, "access_drivers = ['none']\n")
	a, err := Load(path, true, false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(path, true, false)
	if err != nil {
		t.Fatal(err)
	}
	a.AccessDrivers[0] = "changed"
	a.MaxClients = 1
	if b.AccessDrivers[0] != "none" || b.MaxClients != 5000 {
		t.Errorf("two loads share state: %+v", b)
	}
	d := Defaults(false)
	d.AccessDrivers[0] = "changed"
	if Defaults(false).AccessDrivers[0] != "none" {
		t.Error("Defaults shares its slices between calls")
	}
	c := b.Clone()
	c.AccessDrivers[0] = "x"
	if b.AccessDrivers[0] != "none" {
		t.Error("Clone shares slices with its original")
	}
}

func TestDefaults(t *testing.T) {
	for _, priv := range []bool{false, true} {
		d := Defaults(priv)
		// Without polkit, root gets the same safe defaults as a user.
		if d.AuthUnixRw != "none" || d.AuthUnixRo != "none" || d.UnixSockRwPerms != "0700" ||
			d.UnixSockRoPerms != "0777" || d.UnixSockAdminPerms != "0700" {
			t.Errorf("Defaults(%v): auth/perms %+v", priv, d)
		}
		if d.MaxClients != 5000 || d.MaxQueuedClients != 1000 || d.MaxAnonymousClients != 20 ||
			d.MinWorkers != 5 || d.MaxWorkers != 20 || d.PrioWorkers != 5 || d.MaxClientRequests != 5 {
			t.Errorf("Defaults(%v): limits %+v", priv, d)
		}
		if d.AdminMinWorkers != 5 || d.AdminMaxWorkers != 20 || d.AdminMaxClients != 5000 ||
			d.AdminMaxQueuedClients != 20 || d.AdminMaxClientRequests != 5 {
			t.Errorf("Defaults(%v): admin limits %+v", priv, d)
		}
		if d.KeepaliveInterval != 5 || d.KeepaliveCount != 5 || d.AdminKeepaliveInterval != 5 || d.AdminKeepaliveCount != 5 {
			t.Errorf("Defaults(%v): keepalive %+v", priv, d)
		}
		if d.AuditLevel != 1 || d.AuditLogging || d.LogLevel != 0 || d.OvsTimeout != 5 ||
			d.VBoxManageTimeout != 60 || d.VBoxManagePath != "" || d.HostUUIDSource != "smbios" {
			t.Errorf("Defaults(%v): other %+v", priv, d)
		}
		if d.EffectiveLogLevel() != 3 || d.VBoxManageTimeoutDuration().Seconds() != 60 {
			t.Errorf("Defaults(%v): derived values", priv)
		}
		if err := d.Validate(); err != nil {
			t.Errorf("Defaults(%v).Validate(): %v", priv, err)
		}
	}
}

func TestRestartNeeded(t *testing.T) {
	old := Defaults(false)
	if got := old.Clone().RestartNeeded(old); len(got) != 0 {
		t.Errorf("identical configs: %v", got)
	}
	n := old.Clone()
	// Applied at once by a reload:
	n.LogLevel = 1
	n.LogFilters = "1:rpc"
	n.LogOutputs = "1:stderr"
	n.MaxClients = 10
	n.MaxWorkers = 50
	n.KeepaliveInterval = 30
	n.VBoxManageTimeout = 5
	n.VBoxManagePath = "/x"
	if got := n.RestartNeeded(old); len(got) != 0 {
		t.Errorf("reloadable changes reported as needing a restart: %v", got)
	}
	if got, want := n.Changed(old), []string{"max_clients", "max_workers", "log_level", "log_filters", "log_outputs",
		"keepalive_interval", "vboxmanage_path", "vboxmanage_timeout"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Changed() = %v, want %v", got, want)
	}
	// Only at the next start:
	n.UnixSockDir = "/run/other"
	n.UnixSockRwPerms = "0770"
	n.UnixSockGroup = "wheel"
	n.AuthUnixRo = "sasl"
	n.MaxQueuedClients = 5
	n.AdminMaxQueuedClients = 5
	n.AuditLevel = 0
	n.HostUUID = "x"
	n.AccessDrivers = []string{"polkit"}
	want := []string{"unix_sock_group", "unix_sock_rw_perms", "unix_sock_dir", "auth_unix_ro", "access_drivers",
		"max_queued_clients", "admin_max_queued_clients", "audit_level", "host_uuid"}
	if got := n.RestartNeeded(old); !reflect.DeepEqual(got, want) {
		t.Errorf("RestartNeeded() = %v, want %v", got, want)
	}
}

// TestOptionsCoverConfig checks that the option table names every Config
// field once, so RestartNeeded, Changed and the documentation test see
// every option.
func TestOptionsCoverConfig(t *testing.T) {
	fields := map[string]bool{}
	typ := reflect.TypeOf(Config{})
	for i := 0; i < typ.NumField(); i++ {
		if f := typ.Field(i); f.Name != "Path" {
			fields[f.Name] = true
		}
	}
	seen := map[string]bool{}
	for _, o := range Options {
		if !fields[o.Field] {
			t.Errorf("option %s names unknown field %s", o.Name, o.Field)
		}
		if seen[o.Name] {
			t.Errorf("option %s listed twice", o.Name)
		}
		seen[o.Name] = true
		delete(fields, o.Field)
		// The field name is the option name in CamelCase.
		camel := ""
		for _, part := range strings.Split(o.Name, "_") {
			camel += strings.ToUpper(part[:1]) + part[1:]
		}
		if !strings.EqualFold(camel, o.Field) {
			t.Errorf("option %s is held in %s", o.Name, o.Field)
		}
	}
	for f := range fields {
		t.Errorf("Config.%s is not in Options", f)
	}
}

func TestInForce(t *testing.T) {
	old := Defaults(false)
	n := old.Clone()
	n.UnixSockDir = "/run/other"
	n.AccessDrivers = []string{"x"}
	n.MaxClients = 7
	n.LogFilters = "1:rpc"
	got := n.InForce(old)
	if got.UnixSockDir != old.UnixSockDir || !reflect.DeepEqual(got.AccessDrivers, old.AccessDrivers) {
		t.Errorf("restart-only options took the new values: %+v", got)
	}
	if got.MaxClients != 7 || got.LogFilters != "1:rpc" {
		t.Errorf("reloadable options kept the old values: %+v", got)
	}
	if len(n.RestartNeeded(got)) != 2 {
		t.Errorf("the next reload would not report the pending options: %v", n.RestartNeeded(got))
	}
	got.AccessDrivers[0] = "changed"
	if old.AccessDrivers[0] != "none" {
		t.Error("InForce shares slices with old")
	}
}
