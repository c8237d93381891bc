package main

import (
	"reflect"
	"testing"
)

func TestParseTimeout(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"0", 0, true},
		{"120", 120, true},
		{"5abc", 5, true}, // trailing garbage ignored, as strtol
		{"  7", 7, true},  // leading white space allowed
		{"+3", 3, true},
		{"-0", 0, true},
		{"2147483", 2147483, true},
		{"0x10", 0, true}, // base 10: "0", then garbage
		{"", 0, false},
		{"abc", 0, false},
		{"-1", 0, false},
		{"2147484", 0, false},
		{"99999999999999999999", 0, false},
		{"+", 0, false},
	} {
		got, ok := parseTimeout(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseTimeout(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want options
		what parseResult
		err  string
	}{
		{name: "none", args: nil, want: options{argv0: "vd"}},
		{name: "bundled shorts", args: []string{"-dv"}, want: options{argv0: "vd", daemon: true, verbose: true}},
		{name: "bundled value", args: []string{"-vt5"}, want: options{argv0: "vd", verbose: true, timeout: 5}},
		{name: "value after bundle", args: []string{"-vf", "x.conf"}, want: options{argv0: "vd", verbose: true, config: "x.conf", configSet: true}},
		{name: "long with =", args: []string{"--timeout=120"}, want: options{argv0: "vd", timeout: 120}},
		{name: "long with next", args: []string{"--timeout", "120"}, want: options{argv0: "vd", timeout: 120}},
		{name: "long prefix", args: []string{"--pid=/p", "--conf", "/c", "--verb", "--dae"},
			want: options{argv0: "vd", pidFile: "/p", pidFileSet: true, config: "/c", configSet: true, verbose: true, daemon: true}},
		{name: "empty pid file", args: []string{"-p", ""}, want: options{argv0: "vd", pidFileSet: true}},
		{name: "value looking like an option", args: []string{"-f", "--version"}, want: options{argv0: "vd", config: "--version", configSet: true}},
		{name: "help", args: []string{"-h", "--bogus"}, want: options{argv0: "vd"}, what: showHelp},
		{name: "version first wins", args: []string{"-V", "--bogus"}, want: options{argv0: "vd"}, what: showVersion},
		{name: "error first wins", args: []string{"--bogus", "-V"}, err: "vd: unrecognized option '--bogus'"},
		{name: "bad timeout before help", args: []string{"-t", "x", "-h"}, err: "vd: Invalid value for timeout"},
		{name: "ambiguous", args: []string{"--ver"}, err: "vd: option '--ver' is ambiguous; possibilities: '--verbose' '--version'"},
		{name: "no argument allowed", args: []string{"--help=1"}, err: "vd: option '--help' doesn't allow an argument"},
		{name: "missing long argument", args: []string{"--timeout"}, err: "vd: option '--timeout' requires an argument"},
		{name: "missing short argument", args: []string{"-p"}, err: "vd: option requires an argument -- 'p'"},
		{name: "unknown short", args: []string{"-dz"}, err: "vd: invalid option -- 'z'"},
		{name: "unknown long with value", args: []string{"--listen=1"}, err: "vd: unrecognized option '--listen=1'"},
		{name: "stray argument", args: []string{"-v", "extra"}, err: "vd: unexpected, non-option, command line arguments"},
		{name: "stray after --", args: []string{"--", "-v"}, err: "vd: unexpected, non-option, command line arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, what, err := parseArgs("vd", tc.args)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("parseArgs(%q) error = %v, want %q", tc.args, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseArgs(%q): %v", tc.args, err)
			}
			if what != tc.what {
				t.Errorf("parseArgs(%q) result %v, want %v", tc.args, what, tc.what)
			}
			if tc.what == runDaemon && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("parseArgs(%q) = %+v, want %+v", tc.args, got, tc.want)
			}
		})
	}
}
