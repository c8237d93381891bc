package domxml

import (
	"bufio"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden files")

// loadInfo reads a showvminfo --machinereadable capture from testdata. It is
// a minimal stand-in for internal/vbox's parser: quoted keys and values are
// unquoted, backslash escapes removed, lines without '=' skipped, and a
// value partly outside its quotes (VideoMode) kept raw.
func loadInfo(tb testing.TB, name string) Info {
	tb.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var pairs []KV
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := splitLine(sc.Text())
		if ok {
			pairs = append(pairs, KV{k, v})
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return NewInfo(pairs)
}

func splitLine(line string) (key, value string, ok bool) {
	rest := line
	if strings.HasPrefix(rest, `"`) {
		k, n := unquote(rest)
		if n < 0 || n >= len(rest) || rest[n] != '=' {
			return "", "", false
		}
		key, rest = k, rest[n+1:]
	} else {
		i := strings.IndexByte(rest, '=')
		if i <= 0 {
			return "", "", false
		}
		key, rest = rest[:i], rest[i+1:]
	}
	if strings.HasPrefix(rest, `"`) {
		v, n := unquote(rest)
		if n == len(rest) {
			return key, v, true
		}
	}
	return key, rest, true
}

// unquote reads a quoted string at the start of s and returns it with the
// index just past the closing quote (-1 when unterminated).
func unquote(s string) (string, int) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			return b.String(), i + 1
		default:
			b.WriteByte(s[i])
		}
	}
	return "", -1
}

// planText is a plan's steps one a line, the arguments of each joined by "|".
func planText(p *Plan) string {
	var lines []string
	for _, s := range p.Steps {
		lines = append(lines, strings.Join(s.Args, "|"))
	}
	return strings.Join(lines, "\n")
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}
