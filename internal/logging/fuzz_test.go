package logging

import (
	"errors"
	"strings"
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// FuzzLogSettings feeds arbitrary strings to the log_filters and
// log_outputs parsers (what virt-admin clients send). They must never
// panic, must fail only with invalid-argument errors, and what they accept
// must render in the admin protocol's shape.
func FuzzLogSettings(f *testing.F) {
	for _, s := range []string{"", " ", "1:rpc 3:util", "1:+x", "9:foo", "1:", ":", "1:file:/x 2:stderr",
		"1:syslog:id", "1:journald", "3:nosuch", "+1:stderr", " 1:stderr  1:stderr ", "1:file:a:b", "\x00:\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fs, err := ParseFilters(s)
		if err != nil && !errors.Is(err, errdefs.ErrInvalidArg) {
			t.Fatalf("ParseFilters(%q): error of class %v: %v", s, errdefs.ClassOf(err), err)
		}
		if err == nil {
			out := FormatFilters(fs)
			if len(fs) > 0 && (!strings.HasSuffix(out, " ") || strings.Count(out, " ") < len(fs)) {
				t.Fatalf("FormatFilters gave %q for %d filters", out, len(fs))
			}
			for _, flt := range fs {
				if flt.Priority < LevelDebug || flt.Priority > LevelError || !strings.HasPrefix(flt.Match, "*") {
					t.Fatalf("ParseFilters(%q) accepted %+v", s, flt)
				}
			}
		}
		os, err := ParseOutputs(s)
		if err != nil && !errors.Is(err, errdefs.ErrInvalidArg) {
			t.Fatalf("ParseOutputs(%q): error of class %v: %v", s, errdefs.ClassOf(err), err)
		}
		for _, o := range os {
			if o.Priority < LevelDebug || o.Priority > LevelError {
				t.Fatalf("ParseOutputs(%q) accepted %+v", s, o)
			}
			if o.Dest == DestFile && !strings.HasPrefix(o.Name, "/") {
				t.Fatalf("ParseOutputs(%q) kept a relative path %q", s, o.Name)
			}
		}
	})
}
