package logging

import (
	"path/filepath"
	"strconv"
	"strings"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// libvirt's log priorities. A message passes when its priority is at least
// the threshold that applies to it.
const (
	LevelDebug   = 1
	LevelInfo    = 2
	LevelWarning = 3
	LevelError   = 4

	// DefaultLevel is the priority used when nothing sets one.
	DefaultLevel = LevelWarning
)

// The log destinations of log_outputs.
const (
	DestStderr   = "stderr"
	DestSyslog   = "syslog"
	DestFile     = "file"
	DestJournald = "journald"
)

// levelName returns the word libvirt prints for a priority.
func levelName(p int) string {
	switch p {
	case LevelDebug:
		return "debug"
	case LevelInfo:
		return "info"
	case LevelWarning:
		return "warning"
	case LevelError:
		return "error"
	}
	return "unknown"
}

// CheckLevel validates a numeric default priority such as the config file's
// log_level. The error is libvirt's: "invalid argument: Failed to set
// logging priority, argument '7' is invalid".
func CheckLevel(level uint) error {
	if level < LevelDebug || level > LevelError {
		return errdefs.Newf(errdefs.ErrInvalidArg,
			"Failed to set logging priority, argument '%d' is invalid", level)
	}
	return nil
}

// ParseLevel parses LIBVIRT_DEBUG's syntax: 1-4 or debug, info, warning,
// error.
func ParseLevel(s string) (int, error) {
	switch s {
	case "1", "debug":
		return LevelDebug, nil
	case "2", "info":
		return LevelInfo, nil
	case "3", "warning":
		return LevelWarning, nil
	case "4", "error":
		return LevelError, nil
	}
	return 0, errdefs.Newf(errdefs.ErrInvalidArg,
		"Failed to set logging priority, argument '%s' is invalid", s)
}

// parsePriority reads a priority the way libvirt's virStrToLong_uip does
// (leading white space and '+' allowed, nothing after the digits) and checks
// that it is 1-4.
func parsePriority(s string) (int, bool) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	t = strings.TrimPrefix(t, "+")
	if t == "" || strings.TrimLeft(t, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseUint(t, 10, 32)
	if err != nil || n < LevelDebug || n > LevelError {
		return 0, false
	}
	return int(n), true
}

// Filter is one log_filters entry. Match is stored wrapped in '*' as libvirt
// stores it, so "rpc" becomes "*rpc*".
type Filter struct {
	Priority int
	Match    string
}

// String returns the entry as the admin protocol shows it: "1:*rpc*".
func (f Filter) String() string { return strconv.Itoa(f.Priority) + ":" + f.Match }

// ParseFilters parses a log_filters string: space-separated LEVEL:match
// entries. A leading '+' on match is accepted and ignored. Errors carry
// libvirt's texts.
func ParseFilters(s string) ([]Filter, error) {
	var out []Filter
	for _, item := range strings.Split(s, " ") {
		if item == "" {
			continue
		}
		f, err := parseFilter(item)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func parseFilter(src string) (Filter, error) {
	tokens := strings.Split(src, ":")
	if len(tokens) < 2 {
		return Filter{}, errdefs.Newf(errdefs.ErrInvalidArg, "Malformed format for filter '%s'", src)
	}
	prio, ok := parsePriority(tokens[0])
	if !ok {
		return Filter{}, errdefs.Newf(errdefs.ErrInvalidArg,
			"Invalid priority '%s' for filter '%s'", tokens[0], src)
	}
	// As in libvirt, anything after a second ':' is ignored.
	match := strings.TrimPrefix(tokens[1], "+")
	if match == "" {
		return Filter{}, errdefs.Newf(errdefs.ErrInvalidArg, "Invalid match string '%s'", tokens[1])
	}
	return Filter{Priority: prio, Match: "*" + match + "*"}, nil
}

// FormatFilters renders filters as virt-admin shows them: every entry
// followed by a space ("1:*rpc* 3:*util* "), or "" when there are none.
func FormatFilters(fs []Filter) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.String())
		b.WriteByte(' ')
	}
	return b.String()
}

// OutputSpec is one parsed log_outputs entry, not yet opened.
type OutputSpec struct {
	Priority int
	Dest     string // DestStderr, DestSyslog, DestFile or DestJournald
	Name     string // the absolute file path, or the syslog ident
}

// String returns the entry in log_outputs syntax: "3:file:/var/log/x.log".
func (o OutputSpec) String() string {
	s := strconv.Itoa(o.Priority) + ":" + o.Dest
	if o.Dest == DestFile || o.Dest == DestSyslog {
		s += ":" + o.Name
	}
	return s
}

// ParseOutputs parses a log_outputs string: space-separated LEVEL:stderr,
// LEVEL:journald, LEVEL:file:PATH and LEVEL:syslog:IDENT entries. A relative
// PATH is made absolute against the working directory. When the same
// destination appears twice, the later entry replaces the earlier one and
// takes its place at the end, as libvirt does. Nothing is opened here.
func ParseOutputs(s string) ([]OutputSpec, error) {
	var out []OutputSpec
	for _, item := range strings.Split(s, " ") {
		if item == "" {
			continue
		}
		o, err := parseOutput(item)
		if err != nil {
			return nil, err
		}
		for i, prev := range out {
			if prev.Dest == o.Dest && prev.Name == o.Name {
				out = append(out[:i], out[i+1:]...)
				break
			}
		}
		out = append(out, o)
	}
	return out, nil
}

func parseOutput(src string) (OutputSpec, error) {
	tokens := strings.Split(src, ":")
	if len(tokens) < 2 {
		return OutputSpec{}, errdefs.Newf(errdefs.ErrInvalidArg, "Malformed format for log output '%s'", src)
	}
	prio, ok := parsePriority(tokens[0])
	if !ok {
		return OutputSpec{}, errdefs.Newf(errdefs.ErrInvalidArg,
			"Invalid log priority '%s' for log output '%s'", tokens[0], src)
	}
	dest := tokens[1]
	want := 0
	switch dest {
	case DestStderr, DestJournald:
		want = 2
	case DestFile, DestSyslog:
		want = 3
	default:
		return OutputSpec{}, errdefs.Newf(errdefs.ErrInvalidArg,
			"Invalid log destination '%s' for log output '%s'", dest, src)
	}
	if len(tokens) != want {
		return OutputSpec{}, errdefs.Newf(errdefs.ErrInvalidArg,
			"Log output '%s' does not meet the format requirements for destination type '%s'", src, dest)
	}
	o := OutputSpec{Priority: prio, Dest: dest}
	switch dest {
	case DestSyslog:
		o.Name = tokens[2]
	case DestFile:
		abs, err := filepath.Abs(tokens[2])
		if err != nil {
			return OutputSpec{}, errdefs.Wrap(errdefs.ErrInvalidArg, err,
				"cannot make log file path '"+tokens[2]+"' absolute: "+err.Error())
		}
		o.Name = abs
	}
	return o, nil
}

// FormatOutputs renders outputs as virt-admin shows them: entries joined by
// single spaces ("3:file:/var/log/libvirt/virtvboxd.log 2:stderr").
func FormatOutputs(os []OutputSpec) string {
	parts := make([]string, len(os))
	for i, o := range os {
		parts[i] = o.String()
	}
	return strings.Join(parts, " ")
}

// Check validates the log_level (0: unset), log_filters and log_outputs of a
// configuration file with libvirt's messages ("invalid argument: Invalid
// priority '9' for filter '9:foo'"), opening nothing: a reload checks them
// before it applies any of the new file.
func Check(level uint, filters, outputs string) error {
	if level != 0 {
		if err := CheckLevel(level); err != nil {
			return err
		}
	}
	if _, err := ParseFilters(filters); err != nil {
		return err
	}
	if _, err := ParseOutputs(outputs); err != nil {
		return err
	}
	return nil
}
