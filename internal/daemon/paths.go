package daemon

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/virtvboxd/virtvboxd/internal/buildinfo"
)

// Paths are the files a daemon instance uses. An empty socket path means the
// daemon does not serve that socket; an empty PidFile means no pid file.
type Paths struct {
	Privileged bool   // root ("system") daemon rather than a session daemon
	Config     string // the configuration file read without -f
	RunDir     string // created at startup (0755 for root, 0700 otherwise)
	SockRW     string // read-write socket
	SockRO     string // read-only socket; root only
	SockAdmin  string // admin socket
	PidFile    string
	LogFile    string // the log file of the default log output, when that is a file
}

// Env looks up an environment variable; os.Getenv in production, a map in
// tests.
type Env func(key string) string

// DefaultPaths returns the paths of a root daemon (privileged) or of a
// session daemon, as libvirt's modular daemons lay them out:
//
//	root:    SYSCONFDIR/libvirt/virtvboxd.conf, RUNSTATEDIR/libvirt/virtvboxd-sock{,-ro},
//	         RUNSTATEDIR/libvirt/virtvboxd-admin-sock, RUNSTATEDIR/virtvboxd.pid,
//	         LOCALSTATEDIR/log/libvirt/virtvboxd.log
//	session: $XDG_CONFIG_HOME/libvirt/virtvboxd.conf (default ~/.config), and the
//	         rw socket, admin socket and pid file in $XDG_RUNTIME_DIR/libvirt
//	         (default ~/.cache/libvirt); no read-only socket; the log file
//	         $XDG_CACHE_HOME/libvirt/virtvboxd.log (default ~/.cache).
//
// This is the one place that knows the XDG variables and the build-time
// directories.
func DefaultPaths(privileged bool, getenv Env) (Paths, error) {
	if privileged {
		run := filepath.Join(buildinfo.RunstateDir, "libvirt")
		return Paths{
			Privileged: true,
			Config:     filepath.Join(buildinfo.SysconfDir, "libvirt", buildinfo.Name+".conf"),
			RunDir:     run,
			SockRW:     filepath.Join(run, buildinfo.Name+"-sock"),
			SockRO:     filepath.Join(run, buildinfo.Name+"-sock-ro"),
			SockAdmin:  filepath.Join(run, buildinfo.Name+"-admin-sock"),
			PidFile:    filepath.Join(buildinfo.RunstateDir, buildinfo.Name+".pid"),
			LogFile:    filepath.Join(buildinfo.LocalStateDir, "log", "libvirt", buildinfo.Name+".log"),
		}, nil
	}
	cfgHome := getenv("XDG_CONFIG_HOME")
	runtime := getenv("XDG_RUNTIME_DIR")
	cache := getenv("XDG_CACHE_HOME")
	if !filepath.IsAbs(cache) {
		cache = "" // the XDG rule: a relative path is ignored
	}
	if cfgHome == "" || runtime == "" || cache == "" {
		home, err := homeDir(getenv)
		if err != nil {
			return Paths{}, err
		}
		if cfgHome == "" {
			cfgHome = filepath.Join(home, ".config")
		}
		if cache == "" {
			cache = filepath.Join(home, ".cache")
		}
		if runtime == "" {
			// libvirt's fallback when there is no runtime directory: the
			// cache directory, so ~/.cache/libvirt holds the sockets.
			runtime = cache
		}
	}
	run := filepath.Join(runtime, "libvirt")
	return Paths{
		Config:    filepath.Join(cfgHome, "libvirt", buildinfo.Name+".conf"),
		RunDir:    run,
		SockRW:    filepath.Join(run, buildinfo.Name+"-sock"),
		SockAdmin: filepath.Join(run, buildinfo.Name+"-admin-sock"),
		PidFile:   filepath.Join(run, buildinfo.Name+".pid"),
		LogFile:   filepath.Join(cache, "libvirt", buildinfo.Name+".log"),
	}, nil
}

func homeDir(getenv Env) (string, error) {
	if h := getenv("HOME"); h != "" {
		return h, nil
	}
	u, err := user.Current()
	if err != nil {
		return "", fmt.Errorf("cannot find the user's home directory: %w", err)
	}
	if u.HomeDir == "" {
		return "", fmt.Errorf("user %s has no home directory", u.Username)
	}
	return u.HomeDir, nil
}

// WithSockDir returns p with the sockets moved to dir, following libvirt's
// unix_sock_dir rule: a root daemon keeps its three sockets under their usual
// names in dir; a session daemon serves only the read-write socket there and
// no admin socket at all. The run directory and pid file do not move. An
// empty dir returns p unchanged.
func (p Paths) WithSockDir(dir string) Paths {
	if dir == "" {
		return p
	}
	p.SockRW = filepath.Join(dir, buildinfo.Name+"-sock")
	if p.Privileged {
		p.SockRO = filepath.Join(dir, buildinfo.Name+"-sock-ro")
		p.SockAdmin = filepath.Join(dir, buildinfo.Name+"-admin-sock")
	} else {
		p.SockRO = ""
		p.SockAdmin = ""
	}
	return p
}

// RunDirMode is the mode of the run directory: world-readable for root,
// private for a session daemon.
func (p Paths) RunDirMode() os.FileMode {
	if p.Privileged {
		return 0o755
	}
	return 0o700
}

// Flag is one command-line option of the daemon.
type Flag struct {
	Long  string // without "--"
	Short byte
	Arg   string // the value's name in the usage text ("secs"); "" for an option without a value
	Help  string
}

// Flags are the daemon's options, in the order of libvirt's usage text: the
// one definition the parser (cmd/virtvboxd) and Usage share. glibc lists the
// possibilities of an ambiguous abbreviation in the order of libvirt's
// getopt table, which agrees with this one for every ambiguous prefix
// ("--ver": verbose, version).
var Flags = []Flag{
	{"help", 'h', "", "Display program help"},
	{"verbose", 'v', "", "Verbose messages"},
	{"daemon", 'd', "", "Run as a daemon & write PID file"},
	{"timeout", 't', "secs", "Exit after timeout period"},
	{"config", 'f', "file", "Configuration file"},
	{"version", 'V', "", "Display version information"},
	{"pid-file", 'p', "file", "Change name of PID file"},
}

// Usage returns the --help text of libvirt's modular daemons for argv0,
// naming the default paths of a root or a session daemon. Like libvirt it
// begins with an empty line, names the session paths by their XDG variables
// and never lists the admin socket.
func Usage(argv0 string, privileged bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nUsage:\n  %s [options]\n\nOptions:\n", argv0)
	for _, f := range Flags {
		spec := fmt.Sprintf("-%c | --%s", f.Short, f.Long)
		if f.Arg != "" {
			spec += " <" + f.Arg + ">"
		}
		fmt.Fprintf(&b, "  %-22s %s\n", spec, f.Help)
	}
	b.WriteString("\nlibvirt management daemon:\n\n  Default paths:\n\n")
	if privileged {
		p, _ := DefaultPaths(true, nil)
		fmt.Fprintf(&b, "    Configuration file (unless overridden by -f):\n      %s\n\n", p.Config)
		fmt.Fprintf(&b, "    Sockets:\n      %s\n      %s\n\n", p.SockRW, p.SockRO)
		fmt.Fprintf(&b, "    PID file (unless overridden by -p):\n      %s\n\n", p.PidFile)
	} else {
		fmt.Fprintf(&b, "    Configuration file (unless overridden by -f):\n      $XDG_CONFIG_HOME/libvirt/%s.conf\n\n", buildinfo.Name)
		fmt.Fprintf(&b, "    Sockets:\n      $XDG_RUNTIME_DIR/libvirt/%s-sock\n\n", buildinfo.Name)
		fmt.Fprintf(&b, "    PID file (unless overridden by -p):\n      $XDG_RUNTIME_DIR/libvirt/%s.pid\n\n", buildinfo.Name)
	}
	return b.String()
}
