package main

import (
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/buildinfo"
	"github.com/virtvboxd/virtvboxd/internal/daemon"
)

func TestVersion(t *testing.T) {
	b := bin(t)
	for _, flag := range []string{"-V", "--version", "--vers"} {
		r := runBin(t, b, nil, flag)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("%s: exit %d, stderr %q", flag, r.code, r.stderr)
		}
		if !regexp.MustCompile(`^` + regexp.QuoteMeta(b) + ` \(libvirt\) \S+\n$`).MatchString(r.stdout) {
			t.Errorf("%s printed %q, want %q", flag, r.stdout, b+" (libvirt) VERSION\n")
		}
		if os.Getenv("VIRTVBOXD_BIN_DIR") == "" && r.stdout != b+" (libvirt) "+buildinfo.Version+"\n" {
			t.Errorf("%s printed %q, want version %s", flag, r.stdout, buildinfo.Version)
		}
	}
}

func TestHelp(t *testing.T) {
	b := bin(t)
	for _, flag := range []string{"-h", "--help", "--he"} {
		r := runBin(t, b, nil, flag)
		if r.code != 0 || r.stdout != "" {
			t.Fatalf("%s: exit %d, stdout %q; want 0 and nothing on stdout", flag, r.code, r.stdout)
		}
		// make build may move SYSCONFDIR/RUNSTATEDIR; the test binary's
		// buildinfo has the defaults, so compare the shape for root.
		want := daemon.Usage(b, os.Geteuid() == 0)
		if os.Getenv("VIRTVBOXD_BIN_DIR") == "" && r.stderr != want {
			t.Errorf("%s usage:\n%s\nwant:\n%s", flag, r.stderr, want)
		}
		for _, s := range []string{"\nUsage:\n  " + b + " [options]\n", "  -p | --pid-file <file> Change name of PID file\n", "    Sockets:\n"} {
			if !strings.Contains(r.stderr, s) {
				t.Errorf("%s usage lacks %q", flag, s)
			}
		}
	}
}

func TestCommandLineErrors(t *testing.T) {
	b := bin(t)
	for _, tc := range []struct {
		args      []string
		msg       string
		withUsage bool
	}{
		{[]string{"--bogus"}, "unrecognized option '--bogus'", true},
		{[]string{"-x"}, "invalid option -- 'x'", true},
		{[]string{"--ver"}, "option '--ver' is ambiguous; possibilities: '--verbose' '--version'", true},
		{[]string{"-t"}, "option requires an argument -- 't'", true},
		{[]string{"stray"}, "unexpected, non-option, command line arguments", false},
		{[]string{"-t", ""}, "Invalid value for timeout", false},
		{[]string{"-t", "-1"}, "Invalid value for timeout", false},
		{[]string{"--timeout=2147484"}, "Invalid value for timeout", false},
		{[]string{"--timeout", "abc"}, "Invalid value for timeout", false},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runBin(t, b, nil, tc.args...)
			if r.code != 1 {
				t.Errorf("exit %d, want 1", r.code)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			first, rest, _ := strings.Cut(r.stderr, "\n")
			if first != b+": "+tc.msg {
				t.Errorf("stderr first line %q, want %q", first, b+": "+tc.msg)
			}
			if got := strings.Contains(rest, "Usage:"); got != tc.withUsage {
				t.Errorf("usage shown = %v, want %v; stderr:\n%s", got, tc.withUsage, r.stderr)
			}
		})
	}
}

// TestTimeoutAcceptsWhatLibvirtAccepts starts the daemon with timeout
// spellings libvirt accepts (strtol, trailing garbage ignored) and checks
// that it runs.
func TestTimeoutAcceptsWhatLibvirtAccepts(t *testing.T) {
	b := bin(t)
	for _, v := range []string{"--timeout=60abc", "-t 30"} {
		d := daemonSetup(t, "")
		args := append(strings.SplitN(v, " ", 2), "-f", d.Config, "-p", d.PidFile)
		d.start(t, b, nil, args...)
		d.signal(t, 15)
		if code := d.wait(t, 10e9); code != 0 {
			t.Errorf("%s: exit %d after SIGTERM", v, code)
		}
	}
}

func TestConfigFileErrors(t *testing.T) {
	b := bin(t)
	for _, tc := range []struct {
		name    string
		conf    string // {dir} is the scratch directory
		code    int
		message string // {dir}: the directory, {conf}: the config path
	}{
		{"syntax", "log_level = 3\n\nmax_clients = \n", 1,
			"Can't load config file: configuration file syntax error: {conf}:3: expecting a value: {conf}"},
		{"type", "max_clients = \"abc\"\n", 1,
			"Can't load config file: internal error: {conf}: expected an unsigned integer for 'max_clients' parameter: {conf}"},
		{"log filter", "log_filters = \"9:foo\"\n", 1, "invalid argument: Invalid priority '9' for filter '9:foo'"},
		{"log output", "log_outputs = \"1:nosuch\"\n", 1, "invalid argument: Invalid log destination 'nosuch' for log output '1:nosuch'"},
		{"client limits", "max_clients = 10\n", 3,
			"internal error: The overall maximum number of clients must not be less than the number of clients waiting for authentication"},
		{"socket mode", "unix_sock_dir = \"{dir}\"\nunix_sock_rw_perms = \"0999\"\n", 6, "Failed to parse mode '0999'"},
		{"socket group", "unix_sock_dir = \"{dir}\"\nunix_sock_group = \"nosuchgroup\"\n", 6,
			"invalid argument: Failed to parse group 'nosuchgroup'"},
		{"socket dir", "unix_sock_dir = \"{dir}/missing\"\n", 6,
			"Failed to bind socket to '{dir}/missing/virtvboxd-sock': No such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := shortDir(t)
			conf := dir + "/virtvboxd.conf"
			expand := strings.NewReplacer("{dir}", dir, "{conf}", conf).Replace
			writeFile(t, conf, expand(tc.conf))
			r := runBin(t, b, nil, "-f", conf, "-p", dir+"/pid")
			want := b + ": " + expand(tc.message) + "\n"
			if r.code != tc.code || !strings.HasSuffix(r.stderr, want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, tc.code, want)
			}
			if exists(dir + "/pid") {
				t.Error("pid file left behind")
			}
		})
	}
	t.Run("missing -f file", func(t *testing.T) {
		r := runBin(t, b, nil, "-f", "/nonexistent/virtvboxd.conf")
		want := b + ": Can't load config file: Failed to open file '/nonexistent/virtvboxd.conf': No such file or directory: /nonexistent/virtvboxd.conf\n"
		if r.code != 1 || r.stderr != want {
			t.Errorf("exit %d, stderr %q; want 1 and %q", r.code, r.stderr, want)
		}
	})
}

// TestGoodConfigFile runs the daemon with a file that sets socket modes,
// group and log settings and checks their effect.
func TestGoodConfigFile(t *testing.T) {
	b := bin(t)
	d := daemonSetup(t, "# comment\nunix_sock_rw_perms = \"0660\"\nunix_sock_ro_perms = \"0666\"; unix_sock_admin_perms = \"0600\"\n"+
		"unix_sock_group = \"+4321\"\nlog_level = 1\nunknown_key = [ \"ignored\",\n  \"too\", ]\nmax_clients = 10\nmax_anonymous_clients = 5\n")
	d.start(t, b, nil)
	for path, mode := range map[string]os.FileMode{d.Sock: 0o660, d.SockRO: 0o666, d.Admin: 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s mode %v, want %v", path, fi.Mode().Perm(), mode)
		}
		if gid := fi.Sys().(*syscall.Stat_t).Gid; gid != 4321 {
			t.Errorf("%s group %d, want 4321 (unix_sock_group)", path, gid)
		}
	}
	d.waitLog(t, "virtvboxd is ready") // log_level = 1 lets info through
	d.signal(t, 15)
	if code := d.wait(t, 10e9); code != 0 {
		t.Errorf("exit %d", code)
	}
}
