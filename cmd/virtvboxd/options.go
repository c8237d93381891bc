package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/virtvboxd/virtvboxd/internal/daemon"
)

// options are the parsed command line.
type options struct {
	argv0      string
	daemon     bool
	verbose    bool
	config     string // -f; "" means the default path
	configSet  bool
	pidFile    string // -p; "" with pidFileSet disables the pid file
	pidFileSet bool
	timeout    int // seconds; 0 never
}

// parseResult says what main must do after parsing.
type parseResult int

const (
	runDaemon   parseResult = iota
	showHelp                // usage on stderr, exit 0
	showVersion             // version on stdout, exit 0
)

// usageError is a command-line error; withUsage says whether the usage
// text follows the message (as after getopt's own complaints).
type usageError struct {
	msg       string
	withUsage bool
}

func (e *usageError) Error() string { return e.msg }

// parseArgs parses args (without argv[0]) the way libvirt's getopt_long loop
// does: options act in the order given (so "-V --bogus" prints the version
// and "--bogus -V" fails), short options bundle, long options take "=VALUE"
// or the next argument and may be abbreviated to any unambiguous prefix.
func parseArgs(argv0 string, args []string) (options, parseResult, error) {
	opts := options{argv0: argv0}
	args, err := expandLongPrefixes(argv0, args)
	if err != nil {
		return opts, runDaemon, err
	}

	fs := pflag.NewFlagSet(argv0, pflag.ContinueOnError)
	fs.SetOutput(discard{})
	fs.Usage = func() {}
	fs.SortFlags = false
	for _, f := range daemon.Flags {
		if f.Arg != "" {
			fs.StringP(f.Long, string(f.Short), "", f.Help)
		} else {
			fs.BoolP(f.Long, string(f.Short), false, f.Help)
		}
	}

	// Stop at the first help or version request, like getopt's loop.
	errStop := errors.New("stop")
	result := runDaemon
	err = fs.ParseAll(args, func(f *pflag.Flag, value string) error {
		switch f.Name {
		case "help":
			result = showHelp
			return errStop
		case "version":
			result = showVersion
			return errStop
		case "verbose":
			opts.verbose = true
		case "daemon":
			opts.daemon = true
		case "config":
			opts.config, opts.configSet = value, true
		case "pid-file":
			opts.pidFile, opts.pidFileSet = value, true
		case "timeout":
			t, ok := parseTimeout(value)
			if !ok {
				return &usageError{msg: argv0 + ": Invalid value for timeout"}
			}
			opts.timeout = t
		}
		return nil
	})
	switch {
	case errors.Is(err, errStop):
		return opts, result, nil
	case err != nil:
		return opts, runDaemon, getoptError(argv0, args, err)
	}
	if fs.NArg() > 0 {
		return opts, runDaemon, &usageError{msg: argv0 + ": unexpected, non-option, command line arguments"}
	}
	return opts, runDaemon, nil
}

// getoptError rewords pflag's errors as glibc's getopt prints them.
func getoptError(argv0 string, args []string, err error) error {
	var ue *usageError
	if errors.As(err, &ue) {
		return ue
	}
	var ne *pflag.NotExistError
	var ve *pflag.ValueRequiredError
	switch {
	case errors.As(err, &ne):
		if sh := ne.GetSpecifiedShortnames(); sh != "" {
			return &usageError{msg: fmt.Sprintf("%s: invalid option -- '%s'", argv0, ne.GetSpecifiedName()), withUsage: true}
		}
		// getopt quotes the whole argument, "=VALUE" included.
		name := ne.GetSpecifiedName()
		for _, a := range args {
			if strings.HasPrefix(a, "--"+name+"=") {
				name = a[2:]
				break
			}
		}
		return &usageError{msg: fmt.Sprintf("%s: unrecognized option '--%s'", argv0, name), withUsage: true}
	case errors.As(err, &ve):
		if ve.GetSpecifiedShortnames() != "" {
			return &usageError{msg: fmt.Sprintf("%s: option requires an argument -- '%s'", argv0, ve.GetSpecifiedName()), withUsage: true}
		}
		return &usageError{msg: fmt.Sprintf("%s: option '--%s' requires an argument", argv0, ve.GetSpecifiedName()), withUsage: true}
	}
	return &usageError{msg: fmt.Sprintf("%s: %v", argv0, err), withUsage: true}
}

// expandLongPrefixes replaces each abbreviated long option by its full name
// (getopt_long accepts "--pid=x" for "--pid-file=x"), which pflag does not do
// by itself. It also rejects "=VALUE" on options that take none, as getopt
// does. Values of options that take one are left alone, as is everything
// after "--".
func expandLongPrefixes(argv0 string, args []string) ([]string, error) {
	out := make([]string, 0, len(args))
	skipValue := false
	for i, a := range args {
		switch {
		case skipValue:
			skipValue = false
		case a == "--":
			return append(out, args[i:]...), nil
		case strings.HasPrefix(a, "--"):
			name, value, hasValue := strings.Cut(a[2:], "=")
			var matches []int
			for j, f := range daemon.Flags {
				if f.Long == name {
					matches = []int{j}
					break
				}
				if name != "" && strings.HasPrefix(f.Long, name) {
					matches = append(matches, j)
				}
			}
			if len(matches) > 1 {
				var poss strings.Builder
				for _, j := range matches {
					fmt.Fprintf(&poss, " '--%s'", daemon.Flags[j].Long)
				}
				return nil, &usageError{msg: fmt.Sprintf("%s: option '--%s' is ambiguous; possibilities:%s", argv0, name, poss.String()), withUsage: true}
			}
			if len(matches) == 1 {
				f := daemon.Flags[matches[0]]
				if hasValue && f.Arg == "" {
					return nil, &usageError{msg: fmt.Sprintf("%s: option '--%s' doesn't allow an argument", argv0, f.Long), withUsage: true}
				}
				a = "--" + f.Long
				if hasValue {
					a += "=" + value
				}
				skipValue = f.Arg != "" && !hasValue
			}
		case strings.HasPrefix(a, "-") && len(a) > 1:
			// A bundle of short options: one that takes a value consumes the
			// rest of the bundle, or the next argument if nothing is left.
		bundle:
			for k := 1; k < len(a); k++ {
				for _, f := range daemon.Flags {
					if f.Short == a[k] && f.Arg != "" {
						skipValue = k == len(a)-1
						break bundle
					}
				}
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// parseTimeout reads a --timeout value as libvirt does: strtol in base 10
// (leading white space and a sign allowed, trailing garbage ignored), then
// the range 0..INT_MAX/1000. It reports false for no digits, a negative value
// or one above 2147483.
func parseTimeout(s string) (int, bool) {
	const max = 2147483 // INT_MAX / 1000: the timer counts milliseconds in an int
	i := 0
	for i < len(s) && strings.IndexByte(" \t\n\v\f\r", s[i]) >= 0 {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	n, digits := 0, 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int(s[i]-'0')
		digits++
		if n > max {
			return 0, false
		}
	}
	if digits == 0 || (neg && n != 0) {
		return 0, false
	}
	return n, true
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
