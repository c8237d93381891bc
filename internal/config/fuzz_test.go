package config

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the parser and the option reader. They
// must never panic; every failure must be a *SyntaxError (Parse) or an
// *Error (LoadData) with a message in libvirt's shape; and what parses must
// parse the same way twice.
func FuzzParse(f *testing.F) {
	seeds := []string{
		"", "\n", "#", "a = 1", "a = -1", "a = +", "a = '", `a = "x`, `a = """`, `a = """x"""`, `a = """"""`,
		"a = [", "a = [1,", "a = [1 2]", "a = [,]", "a = [[[]]]", "a = 1;b = 2;", "a = 1 # c\n",
		"max_clients = 99999999999", "max_workers = 0", "auth_unix_rw = 'polkit'", "audit_logging = 2",
		"keepalive_interval = -99999999999999999999", "log_outputs = \"1:file:/x\"", "a\r\n= 1", "\x00",
	}
	if data, err := os.ReadFile("../../docs/virtvboxd.conf"); err == nil {
		seeds = append(seeds, string(data))
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("FUZZ", data)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse error %T: %v", err, err)
			}
			if !strings.HasPrefix(err.Error(), "configuration file syntax error: FUZZ:") || se.Line < 1 {
				t.Fatalf("bad syntax error %q", err)
			}
		} else {
			again, err := Parse("FUZZ", data)
			if err != nil || len(again.Entries) != len(file.Entries) {
				t.Fatalf("second parse differs: %v", err)
			}
		}
		c, err := LoadData("FUZZ", data, false)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) || ce.Msg == "" {
				t.Fatalf("LoadData error %T: %v", err, err)
			}
			return
		}
		// A loaded config can always be checked, compared and copied.
		_ = c.Validate()
		_ = c.RestartNeeded(Defaults(false))
		_ = c.Clone()
	})
}
