package config

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// machineIDPath is where host_uuid_source = "machine-id" reads from.
var machineIDPath = "/etc/machine-id"

// Validate runs the checks libvirt makes after loading the file, in the
// order it makes them: host UUID, access drivers, client limits, then the
// socket modes. The logging settings (log_level, log_filters, log_outputs)
// are internal/logging's to check: logging.Check. It returns the first failure. The daemon
// at startup calls the individual checks instead, to report each at its own
// stage with its own exit status; a reload calls Validate to refuse a new
// file before applying any of it.
func (c *Config) Validate() error {
	if _, err := c.ResolveHostUUID(); err != nil {
		return err
	}
	if err := c.CheckAccessDrivers(); err != nil {
		return err
	}
	if err := c.CheckClientLimits(); err != nil {
		return err
	}
	if _, _, _, err := c.SocketModes(); err != nil {
		return err
	}
	return nil
}

// CheckAccessDrivers validates access_drivers. libvirt knows "none" and
// "polkit"; virtvboxd implements "none" only, and says so for "polkit"
// rather than running without the access control the administrator asked
// for. Other names fail as in libvirt: "internal error: Cannot find
// security driver 'nop'" (the daemon then logs "Can't initialize access
// manager" and exits 1).
func (c *Config) CheckAccessDrivers() error {
	for _, d := range c.AccessDrivers {
		switch d {
		case "none":
		case "polkit":
			return errdefs.Newf(errdefs.ErrConfigUnsupported,
				"access driver 'polkit' is not available: virtvboxd has no polkit support")
		default:
			return errdefs.Newf(errdefs.ErrInternal, "Cannot find security driver '%s'", d)
		}
	}
	return nil
}

// CheckClientLimits checks that max_clients is not below
// max_anonymous_clients, with libvirt's message (exit status 3 in the
// daemon), that no *_workers option exceeds WorkersMax and that
// max_buffer_memory can hold one largest packet.
func (c *Config) CheckClientLimits() error {
	if c.MaxClients < c.MaxAnonymousClients {
		return errdefs.New(errdefs.ErrInternal,
			"The overall maximum number of clients must not be less than the number of clients waiting for authentication")
	}
	for _, w := range []struct {
		name string
		val  uint
	}{{"min_workers", c.MinWorkers}, {"max_workers", c.MaxWorkers}, {"prio_workers", c.PrioWorkers},
		{"admin_min_workers", c.AdminMinWorkers}, {"admin_max_workers", c.AdminMaxWorkers}} {
		if w.val > WorkersMax {
			return errdefs.Newf(errdefs.ErrConfigUnsupported, "%s %d must not be larger than %d", w.name, w.val, WorkersMax)
		}
	}
	if c.MaxBufferMemory != 0 && c.MaxBufferMemory < MinBufferMemory {
		return errdefs.Newf(errdefs.ErrConfigUnsupported,
			"max_buffer_memory must be 0 (no bound) or at least %d (MiB, one largest packet)", MinBufferMemory)
	}
	return nil
}

// WorkersMax bounds every *_workers option; it is internal/rpc's
// WorkersMax (a test in cmd/virtvboxd checks that they agree).
const WorkersMax = 4096

// MinBufferMemory is the smallest non-zero max_buffer_memory, in MiB: one
// packet of the largest size libvirt allows (VIR_NET_MESSAGE_MAX, 32 MiB).
const MinBufferMemory = 32

// BufferMemoryBytes returns max_buffer_memory in bytes (0: no bound).
func (c *Config) BufferMemoryBytes() int64 { return int64(c.MaxBufferMemory) << 20 }

// ParseMode parses a unix_sock_*_perms value as libvirt does (a C long in
// base 8, optional sign, nothing after the digits) and returns the
// permission bits. A bad value fails with "Failed to parse mode '0999'",
// which libvirt reports while creating the sockets (exit status 6).
func ParseMode(s string) (os.FileMode, error) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	n, err := strconv.ParseUint(t, 8, 64)
	if err != nil || t == "" || n > math.MaxInt32 {
		return 0, fmt.Errorf("Failed to parse mode '%s'", s) //nolint:staticcheck // libvirt's exact text
	}
	v := int64(n)
	if neg {
		v = -v
	}
	// The socket is bound under umask(~mode), so only the permission bits
	// of mode count.
	return os.FileMode(uint32(v) & 0o777), nil
}

// SocketModes parses the three socket permission options, in libvirt's
// order (ro, admin, rw).
func (c *Config) SocketModes() (rw, ro, admin os.FileMode, err error) {
	if ro, err = ParseMode(c.UnixSockRoPerms); err != nil {
		return
	}
	if admin, err = ParseMode(c.UnixSockAdminPerms); err != nil {
		return
	}
	rw, err = ParseMode(c.UnixSockRwPerms)
	return
}

// ResolveHostUUID returns the host UUID that host_uuid and host_uuid_source
// select, in canonical form, as libvirt's daemonSetupHostUUID chooses it:
// host_uuid when set; else nothing ("") for "smbios", whose UUID is read on
// demand; else the contents of /etc/machine-id for "machine-id". Failures
// are libvirt's "invalid UUID source: foo" and "invalid host UUID: X" (the
// daemon then logs "Can't setup host uuid" and exits 1). A UUID whose 16
// bytes are all equal is invalid, as in libvirt.
func (c *Config) ResolveHostUUID() (string, error) {
	var raw string
	switch {
	case c.HostUUID != "":
		raw = c.HostUUID
	case c.HostUUIDSource == "" || c.HostUUIDSource == UUIDSourceSMBIOS:
		return "", nil
	case c.HostUUIDSource == UUIDSourceMachineID:
		data, err := os.ReadFile(machineIDPath)
		if err != nil {
			return "", fmt.Errorf("Can't read %s: %w", machineIDPath, err) //nolint:staticcheck // libvirt's text
		}
		raw = string(data)
	default:
		return "", fmt.Errorf("invalid UUID source: %s", c.HostUUIDSource)
	}
	u, ok := parseUUID(raw)
	if !ok {
		return "", fmt.Errorf("invalid host UUID: %s", raw)
	}
	return u, nil
}

// parseUUID is libvirt's liberal virUUIDParse (32 hex digits, '-' or ' '
// allowed between pairs, white space around) followed by virUUIDIsValid.
func parseUUID(s string) (string, bool) {
	const space = " \t\n\v\f\r"
	s = strings.TrimLeft(s, space)
	var b [16]byte
	i := 0
	for i < 16 {
		if s == "" {
			return "", false
		}
		if s[0] == '-' || s[0] == ' ' {
			s = s[1:]
			continue
		}
		if len(s) < 2 {
			return "", false
		}
		hi, ok1 := unhex(s[0])
		lo, ok2 := unhex(s[1])
		if !ok1 || !ok2 {
			return "", false
		}
		b[i] = hi<<4 | lo
		i++
		s = s[2:]
	}
	if strings.TrimLeft(s, space) != "" {
		return "", false
	}
	same := true
	for _, x := range b[1:] {
		if x != b[0] {
			same = false
			break
		}
	}
	if same {
		return "", false
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
