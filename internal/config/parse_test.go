package config

import (
	"errors"
	"reflect"
	"strconv"
	"testing"
)

func TestParseSyntaxErrors(t *testing.T) {
	tests := []struct {
		name, in string
		line     int
		what     string
	}{
		// The rows of libvirt's observed error table.
		{"missing value", "max_clients = ", 1, "expecting a value"},
		{"missing assignment", "max_clients 10", 1, "expecting an assignment"},
		{"junk after value", "max_clients = 10 abc", 1, "expecting a separator"},
		{"unterminated string", `log_filters = "1:foo`, 1, "unterminated string"},
		{"list without comma", `x = [ "a" "b" ]`, 1, "expecting a separator in list"},
		{"name starts with digit", "1abc = 3", 1, "expecting a name"},
		// More of virconf's errors, with their line numbers.
		{"value on later line", "a = 1\nb = 2\nc =\n", 3, "expecting a value"},
		{"value is a bare word", "a = yes", 1, "expecting a value"},
		{"sign without digits", "a = -", 1, "unterminated number"},
		{"plus then letter", "a = +x", 1, "unterminated number"},
		{"list not closed", "a = [ 1, 2", 1, "list is not closed with ]"},
		{"list not closed over lines", "a = [\n 1,\n 2\n", 4, "list is not closed with ]"},
		{"comment inside list", "a = [ 1, # one\n 2 ]", 1, "expecting a value"},
		{"single quote unterminated", "a = 'x\n", 1, "unterminated string"},
		{"string may not span lines", "a = \"x\ny\"", 1, "unterminated string"},
		// libvirt stops scanning two bytes before the end, so the last
		// newline of an unterminated triple-quoted string is not counted.
		{"triple quote unterminated", "a = \"\"\"x\ny\nz", 2, "unterminated string"},
		{"six quotes at end of file", `a = """"""`, 1, "expecting a separator"},
		{"name with dash", "a-b = 1", 1, "expecting an assignment"},
		{"name with dot", "a.b = 1", 1, "expecting an assignment"},
		{"assignment on next line", "a\n= 1", 1, "expecting an assignment"},
		{"second statement on a line", "a = 1 b = 2", 1, "expecting a separator"},
		{"only a newline", "\n", 2, "expecting a name"},
		{"only blanks", "  \t", 1, "expecting a name"},
		{"semicolon then nothing valid", "a = 1; 2", 1, "expecting a name"},
		{"error after comment lines", "# one\n# two\n\nx == 1\n", 4, "expecting a value"},
		{"error after triple-quoted lines", "a = \"\"\"1\n2\n3\"\"\"\nb = ?", 4, "expecting a value"},
		{"carriage return does not count", "a = 1\r\nb = ?", 2, "expecting a value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse("FILE", []byte(tc.in))
			if err == nil {
				t.Fatalf("Parse(%q) succeeded: %+v", tc.in, f.Entries)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %T %v, want *SyntaxError", tc.in, err, err)
			}
			want := "configuration file syntax error: FILE:" + strconv.Itoa(tc.line) + ": " + tc.what
			if err.Error() != want {
				t.Errorf("Parse(%q)\n got  %q\n want %q", tc.in, err.Error(), want)
			}
		})
	}
}

func TestParseValues(t *testing.T) {
	str := func(s string) Value { return Value{Type: String, Str: s} }
	uns := func(n int64) Value { return Value{Type: Unsigned, Int: n} }
	sig := func(n int64) Value { return Value{Type: Signed, Int: n} }
	list := func(vs ...Value) Value { return Value{Type: List, List: append([]Value{}, vs...)} }

	tests := []struct {
		name, in string
		want     []Entry
	}{
		{"empty file", "", nil},
		{"comment only", "# nothing here", nil},
		{"unsigned", "a = 42", []Entry{{"a", uns(42), 1}}},
		{"plus sign", "a = +42", []Entry{{"a", uns(42), 1}}},
		{"signed", "a = -1", []Entry{{"a", sig(-1), 1}}},
		{"minus zero is signed", "a = -0", []Entry{{"a", sig(0), 1}}},
		{"leading zeros are decimal", "a = 0777", []Entry{{"a", uns(777), 1}}},
		{"wraps like libvirt", "a = 18446744073709551617", []Entry{{"a", uns(1), 1}}},
		{"double quotes", `a = "x y"`, []Entry{{"a", str("x y"), 1}}},
		{"single quotes", `a = 'say "hi"'`, []Entry{{"a", str(`say "hi"`), 1}}},
		{"no escapes", `a = "C:\n"`, []Entry{{"a", str(`C:\n`), 1}}},
		{"empty string", `a = ""`, []Entry{{"a", str(""), 1}}},
		{"triple quotes", "a = \"\"\"one\ntwo \"quoted\" 'x'\"\"\"\nb = 1",
			[]Entry{{"a", str("one\ntwo \"quoted\" 'x'"), 1}, {"b", uns(1), 3}}},
		{"empty list", "a = []", []Entry{{"a", list(), 1}}},
		{"list", `a = [ "x", 'y' ]`, []Entry{{"a", list(str("x"), str("y")), 1}}},
		{"list trailing comma", `a = ["x",]`, []Entry{{"a", list(str("x")), 1}}},
		{"mixed list", `a = [1, -2, "s", [3]]`, []Entry{{"a", list(uns(1), sig(-2), str("s"), list(uns(3))), 1}}},
		{"multi-line list", "a = [\n  \"x\",\n\n  \"y\",\n]\nb = 2",
			[]Entry{{"a", list(str("x"), str("y")), 1}, {"b", uns(2), 6}}},
		{"comment after value", "a = 1 # the answer\nb = \"#not a comment\" # but this is",
			[]Entry{{"a", uns(1), 1}, {"b", str("#not a comment"), 2}}},
		{"comment right after value", "a = 1#x", []Entry{{"a", uns(1), 1}}},
		{"semicolons", "a = 1; b = 2 ;c=3;", []Entry{{"a", uns(1), 1}, {"b", uns(2), 1}, {"c", uns(3), 1}}},
		{"blank lines and indentation", "\n\n  a = 1\n\t\n\tb\t=\t2  \n\n",
			[]Entry{{"a", uns(1), 3}, {"b", uns(2), 5}}},
		{"crlf", "a = 1\r\nb = 'x'\r\n", []Entry{{"a", uns(1), 1}, {"b", str("x"), 2}}},
		{"names", "Abc_1 = 1\nz9 = 2", []Entry{{"Abc_1", uns(1), 1}, {"z9", uns(2), 2}}},
		{"duplicates kept in order", "a = 1\na = 2", []Entry{{"a", uns(1), 1}, {"a", uns(2), 2}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse("FILE", []byte(tc.in))
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if len(f.Entries) == 0 && len(tc.want) == 0 {
				return
			}
			if !reflect.DeepEqual(f.Entries, tc.want) {
				t.Errorf("Parse(%q)\n got  %+v\n want %+v", tc.in, f.Entries, tc.want)
			}
		})
	}
}

func TestFileGetFirstDuplicateWins(t *testing.T) {
	f, err := Parse("FILE", []byte("a = 1\nb = 'x'\na = 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	v, ok := f.Get("a")
	if !ok || v.Type != Unsigned || v.Int != 1 {
		t.Errorf("Get(a) = %+v, %v; want the first value 1", v, ok)
	}
	if _, ok := f.Get("c"); ok {
		t.Error("Get(c) found a value that is not in the file")
	}
}
