package logging

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

func TestCheckLevel(t *testing.T) {
	for _, lv := range []uint{1, 2, 3, 4} {
		if err := CheckLevel(lv); err != nil {
			t.Errorf("CheckLevel(%d) = %v", lv, err)
		}
	}
	for _, lv := range []uint{0, 5, 7} {
		err := CheckLevel(lv)
		if err == nil {
			t.Fatalf("CheckLevel(%d) succeeded", lv)
		}
		if !errors.Is(err, errdefs.ErrInvalidArg) {
			t.Errorf("CheckLevel(%d) class = %v", lv, errdefs.ClassOf(err))
		}
	}
	if got, want := CheckLevel(7).Error(), "invalid argument: Failed to set logging priority, argument '7' is invalid"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestParseLevel(t *testing.T) {
	good := map[string]int{"1": 1, "debug": 1, "2": 2, "info": 2, "3": 3, "warning": 3, "4": 4, "error": 4}
	for s, want := range good {
		got, err := ParseLevel(s)
		if err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"0", "5", "warn", "DEBUG", " 1", "x"} {
		_, err := ParseLevel(s)
		if err == nil {
			t.Errorf("ParseLevel(%q) succeeded", s)
			continue
		}
		if want := "Failed to set logging priority, argument '" + s + "' is invalid"; errdefs.Detail(err) != want {
			t.Errorf("ParseLevel(%q) = %q, want %q", s, errdefs.Detail(err), want)
		}
	}
}

func TestParseFilters(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // FormatFilters of the result
		err      string // errdefs.Detail of the error
	}{
		{name: "empty", in: "", want: ""},
		{name: "spaces only", in: "   ", want: ""},
		{name: "two", in: "1:rpc 3:util", want: "1:*rpc* 3:*util* "},
		{name: "extra spaces", in: "  1:rpc   3:util  ", want: "1:*rpc* 3:*util* "},
		{name: "plus ignored", in: "1:+rpc", want: "1:*rpc* "},
		{name: "glob kept", in: "2:vbox.*", want: "2:*vbox.** "},
		{name: "after second colon ignored", in: "1:a:b", want: "1:*a* "},
		{name: "plus sign priority", in: "+2:x", want: "2:*x* "},
		{name: "bad priority", in: "9:foo", err: "Invalid priority '9' for filter '9:foo'"},
		{name: "zero priority", in: "0:foo", err: "Invalid priority '0' for filter '0:foo'"},
		{name: "word priority", in: "debug:foo", err: "Invalid priority 'debug' for filter 'debug:foo'"},
		{name: "negative", in: "-1:foo", err: "Invalid priority '-1' for filter '-1:foo'"},
		{name: "empty priority", in: ":foo", err: "Invalid priority '' for filter ':foo'"},
		{name: "no colon", in: "foo", err: "Malformed format for filter 'foo'"},
		{name: "empty match", in: "1:", err: "Invalid match string ''"},
		{name: "only plus", in: "1:+", err: "Invalid match string '+'"},
		{name: "second bad", in: "1:rpc 5:x", err: "Invalid priority '5' for filter '5:x'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkParse(t, "ParseFilters", ParseFilters, FormatFilters, tc.in, tc.want, tc.err)
		})
	}
}

// checkParse checks one case of a Parse*/Format* pair: parse(in) fails with
// an invalid-argument error whose detail is wantErr, or, when wantErr is "",
// succeeds with a result that formats as want. name is parse's name, for
// the messages.
func checkParse[T any](t *testing.T, name string, parse func(string) (T, error), format func(T) string, in, want, wantErr string) {
	t.Helper()
	v, err := parse(in)
	if wantErr != "" {
		if err == nil {
			t.Fatalf("%s(%q) succeeded: %v", name, in, v)
		}
		if !errors.Is(err, errdefs.ErrInvalidArg) || errdefs.Detail(err) != wantErr {
			t.Fatalf("%s(%q) error = %q, want invalid argument %q", name, in, err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s(%q): %v", name, in, err)
	}
	if got := format(v); got != want {
		t.Errorf("%s(%q) = %q, want %q", name, in, got, want)
	}
}

func TestParseOutputs(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in string
		want     string // FormatOutputs of the result
		err      string
	}{
		{name: "empty", in: "", want: ""},
		{name: "stderr", in: "3:stderr", want: "3:stderr"},
		{name: "journald", in: "2:journald", want: "2:journald"},
		{name: "file", in: "1:file:/var/log/x.log", want: "1:file:/var/log/x.log"},
		{name: "relative file", in: "1:file:x.log", want: "1:file:" + filepath.Join(cwd, "x.log")},
		{name: "file cleaned", in: "1:file:/var//log/../log/x.log", want: "1:file:/var/log/x.log"},
		{name: "syslog", in: "4:syslog:virtvboxd", want: "4:syslog:virtvboxd"},
		{name: "several", in: "1:file:/a 2:stderr  3:syslog:x", want: "1:file:/a 2:stderr 3:syslog:x"},
		{name: "duplicate moves last", in: "1:stderr 2:file:/a 3:stderr", want: "2:file:/a 3:stderr"},
		{name: "same dest other file kept", in: "1:file:/a 2:file:/b", want: "1:file:/a 2:file:/b"},
		{name: "bad destination", in: "1:nosuch", err: "Invalid log destination 'nosuch' for log output '1:nosuch'"},
		{name: "bad priority", in: "7:stderr", err: "Invalid log priority '7' for log output '7:stderr'"},
		{name: "malformed", in: "stderr", err: "Malformed format for log output 'stderr'"},
		{name: "stderr with arg", in: "1:stderr:x", err: "Log output '1:stderr:x' does not meet the format requirements for destination type 'stderr'"},
		{name: "file without path", in: "1:file", err: "Log output '1:file' does not meet the format requirements for destination type 'file'"},
		{name: "syslog too many", in: "1:syslog:a:b", err: "Log output '1:syslog:a:b' does not meet the format requirements for destination type 'syslog'"},
		{name: "journald with arg", in: "1:journald:x", err: "Log output '1:journald:x' does not meet the format requirements for destination type 'journald'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkParse(t, "ParseOutputs", ParseOutputs, FormatOutputs, tc.in, tc.want, tc.err)
		})
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*rpc*", "rpc", true},
		{"*rpc*", "rpc.server", true},
		{"*rpc*", "xrpcx", true},
		{"*rpc*", "vbox", false},
		{"*r?c*", "rpc", true},
		{"*vbox.*", "vbox.runner", true},
		{"*vbox.*", "vbox", false},
		{"**", "", true},
		{"*a*b*", "xxaxxbxx", true},
		{"*a*b*", "xxbxxaxx", false},
	}
	for _, tc := range tests {
		if got := globMatch(tc.pattern, tc.s); got != tc.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

func TestEffectivePrecedence(t *testing.T) {
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	tests := []struct {
		name string
		in   Inputs
		want Settings
		err  string
	}{
		{name: "nothing", in: Inputs{Getenv: env(nil)}, want: Settings{Level: 3}},
		{name: "config", in: Inputs{ConfigLevel: 1, ConfigFilters: "1:rpc", ConfigOutputs: "1:stderr", Getenv: env(nil)},
			want: Settings{Level: 1, Filters: "1:rpc", Outputs: "1:stderr"}},
		{name: "env over config", in: Inputs{ConfigLevel: 4, ConfigFilters: "1:rpc", ConfigOutputs: "4:stderr",
			Getenv: env(map[string]string{EnvDebug: "info", EnvFilters: "2:vbox", EnvOutputs: "2:file:/tmp/x.log"})},
			want: Settings{Level: 2, Filters: "2:vbox", Outputs: "2:file:/tmp/x.log"}},
		{name: "empty env ignored", in: Inputs{ConfigLevel: 4, Getenv: env(map[string]string{EnvDebug: "", EnvFilters: ""})},
			want: Settings{Level: 4}},
		{name: "verbose lowers", in: Inputs{ConfigLevel: 4, Verbose: true, Getenv: env(nil)}, want: Settings{Level: 2}},
		{name: "verbose over env", in: Inputs{Verbose: true, Getenv: env(map[string]string{EnvDebug: "3"})}, want: Settings{Level: 2}},
		{name: "verbose never raises", in: Inputs{ConfigLevel: 1, Verbose: true, Getenv: env(nil)}, want: Settings{Level: 1}},
		{name: "bad config level", in: Inputs{ConfigLevel: 7, Getenv: env(nil)},
			err: "invalid argument: Failed to set logging priority, argument '7' is invalid"},
		{name: "bad config filter", in: Inputs{ConfigFilters: "9:foo", Getenv: env(nil)},
			err: "invalid argument: Invalid priority '9' for filter '9:foo'"},
		{name: "bad config output", in: Inputs{ConfigOutputs: "1:nosuch", Getenv: env(nil)},
			err: "invalid argument: Invalid log destination 'nosuch' for log output '1:nosuch'"},
		{name: "bad env level", in: Inputs{Getenv: env(map[string]string{EnvDebug: "loud"})},
			err: "invalid argument: Failed to set logging priority, argument 'loud' is invalid"},
		{name: "bad env outputs", in: Inputs{Getenv: env(map[string]string{EnvOutputs: "x"})},
			err: "invalid argument: Malformed format for log output 'x'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Effective(tc.in)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("Effective() error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Effective() = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name                   string
		level                  uint
		filters, outputs, want string
	}{
		{"level", 7, "", "", "invalid argument: Failed to set logging priority, argument '7' is invalid"},
		{"filter", 0, "9:foo", "", "invalid argument: Invalid priority '9' for filter '9:foo'"},
		{"output", 0, "", "1:nosuch", "invalid argument: Invalid log destination 'nosuch' for log output '1:nosuch'"},
	}
	for _, tc := range tests {
		if err := Check(tc.level, tc.filters, tc.outputs); err == nil || err.Error() != tc.want {
			t.Errorf("%s: Check() = %v, want %q", tc.name, err, tc.want)
		}
	}
	// Outputs are not opened: a file in a missing directory passes.
	if err := Check(1, "1:rpc 2:+vbox", "1:file:/nonexistent/dir/x.log 3:stderr"); err != nil {
		t.Errorf("good settings: %v", err)
	}
}
