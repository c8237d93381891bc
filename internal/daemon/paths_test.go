package daemon

import (
	"strings"
	"testing"
)

func envMap(m map[string]string) Env { return func(k string) string { return m[k] } }

func TestDefaultPaths(t *testing.T) {
	tests := []struct {
		name       string
		privileged bool
		env        map[string]string
		want       Paths
	}{
		{
			name:       "root",
			privileged: true,
			env:        map[string]string{"XDG_RUNTIME_DIR": "/ignored", "HOME": "/root"},
			want: Paths{Privileged: true, Config: "/etc/libvirt/virtvboxd.conf", RunDir: "/run/libvirt",
				SockRW: "/run/libvirt/virtvboxd-sock", SockRO: "/run/libvirt/virtvboxd-sock-ro",
				SockAdmin: "/run/libvirt/virtvboxd-admin-sock", PidFile: "/run/virtvboxd.pid",
				LogFile: "/var/log/libvirt/virtvboxd.log"},
		},
		{
			name: "session with XDG variables",
			env:  map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000", "XDG_CONFIG_HOME": "/cfg", "HOME": "/home/u"},
			want: Paths{Config: "/cfg/libvirt/virtvboxd.conf", RunDir: "/run/user/1000/libvirt",
				SockRW: "/run/user/1000/libvirt/virtvboxd-sock", SockAdmin: "/run/user/1000/libvirt/virtvboxd-admin-sock",
				PidFile: "/run/user/1000/libvirt/virtvboxd.pid", LogFile: "/home/u/.cache/libvirt/virtvboxd.log"},
		},
		{
			name: "session falls back to HOME",
			env:  map[string]string{"HOME": "/home/u"},
			want: Paths{Config: "/home/u/.config/libvirt/virtvboxd.conf", RunDir: "/home/u/.cache/libvirt",
				SockRW: "/home/u/.cache/libvirt/virtvboxd-sock", SockAdmin: "/home/u/.cache/libvirt/virtvboxd-admin-sock",
				PidFile: "/home/u/.cache/libvirt/virtvboxd.pid", LogFile: "/home/u/.cache/libvirt/virtvboxd.log"},
		},
		{
			name: "session without runtime dir uses XDG_CACHE_HOME",
			env:  map[string]string{"HOME": "/home/u", "XDG_CACHE_HOME": "/c"},
			want: Paths{Config: "/home/u/.config/libvirt/virtvboxd.conf", RunDir: "/c/libvirt",
				SockRW: "/c/libvirt/virtvboxd-sock", SockAdmin: "/c/libvirt/virtvboxd-admin-sock",
				PidFile: "/c/libvirt/virtvboxd.pid", LogFile: "/c/libvirt/virtvboxd.log"},
		},
		{
			name: "a relative XDG_CACHE_HOME is ignored",
			env:  map[string]string{"HOME": "/home/u", "XDG_RUNTIME_DIR": "/r", "XDG_CACHE_HOME": "rel"},
			want: Paths{Config: "/home/u/.config/libvirt/virtvboxd.conf", RunDir: "/r/libvirt",
				SockRW: "/r/libvirt/virtvboxd-sock", SockAdmin: "/r/libvirt/virtvboxd-admin-sock",
				PidFile: "/r/libvirt/virtvboxd.pid", LogFile: "/home/u/.cache/libvirt/virtvboxd.log"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DefaultPaths(tt.privileged, envMap(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("DefaultPaths:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestWithSockDir(t *testing.T) {
	root, _ := DefaultPaths(true, envMap(nil))
	got := root.WithSockDir("/s")
	if got.SockRW != "/s/virtvboxd-sock" || got.SockRO != "/s/virtvboxd-sock-ro" || got.SockAdmin != "/s/virtvboxd-admin-sock" {
		t.Errorf("root with unix_sock_dir: %+v", got)
	}
	if got.PidFile != root.PidFile || got.RunDir != root.RunDir {
		t.Errorf("unix_sock_dir moved more than the sockets: %+v", got)
	}
	sess, _ := DefaultPaths(false, envMap(map[string]string{"HOME": "/h"}))
	got = sess.WithSockDir("/s")
	if got.SockRW != "/s/virtvboxd-sock" || got.SockRO != "" || got.SockAdmin != "" {
		t.Errorf("session with unix_sock_dir must serve only the rw socket: %+v", got)
	}
	if sess.WithSockDir("") != sess {
		t.Error("an empty unix_sock_dir changed the paths")
	}
}

func TestUsage(t *testing.T) {
	const session = `
Usage:
  virtvboxd [options]

Options:
  -h | --help            Display program help
  -v | --verbose         Verbose messages
  -d | --daemon          Run as a daemon & write PID file
  -t | --timeout <secs>  Exit after timeout period
  -f | --config <file>   Configuration file
  -V | --version         Display version information
  -p | --pid-file <file> Change name of PID file

libvirt management daemon:

  Default paths:

    Configuration file (unless overridden by -f):
      $XDG_CONFIG_HOME/libvirt/virtvboxd.conf

    Sockets:
      $XDG_RUNTIME_DIR/libvirt/virtvboxd-sock

    PID file (unless overridden by -p):
      $XDG_RUNTIME_DIR/libvirt/virtvboxd.pid

`
	if got := Usage("virtvboxd", false); got != session {
		t.Errorf("session usage:\n%s\nwant:\n%s", got, session)
	}
	root := Usage("/usr/sbin/virtvboxd", true)
	for _, want := range []string{
		"  /usr/sbin/virtvboxd [options]\n",
		"    Configuration file (unless overridden by -f):\n      /etc/libvirt/virtvboxd.conf\n",
		"    Sockets:\n      /run/libvirt/virtvboxd-sock\n      /run/libvirt/virtvboxd-sock-ro\n\n",
		"    PID file (unless overridden by -p):\n      /run/virtvboxd.pid\n\n",
	} {
		if !strings.Contains(root, want) {
			t.Errorf("root usage lacks %q:\n%s", want, root)
		}
	}
	if strings.Contains(root, "admin") {
		t.Error("usage must not list the admin socket")
	}
}
