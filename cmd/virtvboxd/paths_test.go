package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/virtvboxd/virtvboxd/internal/daemontest"
)

// TestRootDefaultPaths runs a root daemon with no -f, -p or unix_sock_dir,
// from a binary whose SYSCONFDIR and RUNSTATEDIR were moved at build time
// (as packagers do), and checks every default path.
func TestRootDefaultPaths(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	top := shortDir(t)
	etc, run := filepath.Join(top, "etc"), filepath.Join(top, "run")
	os.MkdirAll(filepath.Join(etc, "libvirt"), 0o755)
	os.MkdirAll(run, 0o755)
	b := relocatedBin(t, etc, run)

	r := runBin(t, b, nil, "-h")
	for _, want := range []string{
		"      " + etc + "/libvirt/virtvboxd.conf\n",
		"      " + run + "/libvirt/virtvboxd-sock\n      " + run + "/libvirt/virtvboxd-sock-ro\n",
		"      " + run + "/virtvboxd.pid\n",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("root usage lacks %q:\n%s", want, r.stderr)
		}
	}

	d := &daemonProc{
		Dir:     top,
		Config:  filepath.Join(etc, "libvirt", "virtvboxd.conf"),
		PidFile: filepath.Join(run, "virtvboxd.pid"),
		Sock:    filepath.Join(run, "libvirt", "virtvboxd-sock"),
		SockRO:  filepath.Join(run, "libvirt", "virtvboxd-sock-ro"),
		Admin:   filepath.Join(run, "libvirt", "virtvboxd-admin-sock"),
		Log:     filepath.Join(top, "log"),
	}
	writeFile(t, d.Config, "log_outputs = \"1:file:"+d.Log+"\"\n")
	d.launch(t, b, nil, "-v") // no -f, no -p: the defaults
	d.waitReady(t)
	d.waitLog(t, "virtvboxd is ready") // the default config file was read
	fi, err := os.Stat(filepath.Join(run, "libvirt"))
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("root run dir: %v, mode %v; want 0755", err, fi.Mode().Perm())
	}
	for path, mode := range map[string]os.FileMode{d.Sock: 0o700, d.SockRO: 0o777, d.Admin: 0o700} {
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v, mode %v; want %v", path, err, fi.Mode().Perm(), mode)
		}
	}
	if pid, _ := os.ReadFile(d.PidFile); string(pid) != strconv.Itoa(d.cmd.Process.Pid) {
		t.Errorf("pid file %s holds %q", d.PidFile, pid)
	}
	if err := authList(d.SockRO); err != nil {
		t.Errorf("ro socket: %v", err)
	}
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// testUser is a throwaway unprivileged account.
type testUser struct {
	name     string
	uid, gid int
	home     string // owned by the user
}

func newTestUser(t *testing.T) *testUser {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("creating a throwaway user needs root")
	}
	needTool(t, "useradd")
	needTool(t, "setpriv")
	name := fmt.Sprintf("vvd%d", os.Getpid()%100000)
	home := shortDir(t)
	if out, err := exec.Command("useradd", "--no-create-home", "--home-dir", home, "--shell", "/bin/sh", "--user-group", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("userdel", name).Run() })
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(home, uid, gid); err != nil {
		t.Fatal(err)
	}
	return &testUser{name: name, uid: uid, gid: gid, home: home}
}

// mkdir creates dir (and parents) owned by the user.
func (u *testUser) mkdir(t *testing.T, dir string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(dir, mode); err != nil {
		t.Fatal(err)
	}
	for p := dir; strings.HasPrefix(p, u.home) && p != u.home; p = filepath.Dir(p) {
		os.Chown(p, u.uid, u.gid)
	}
}

// asUser returns the arguments that run bin as the user with setpriv.
func (u *testUser) asUser(bin string, args ...string) (string, []string) {
	return "setpriv", append([]string{"--reuid=" + strconv.Itoa(u.uid), "--regid=" + strconv.Itoa(u.gid), "--init-groups", "--", bin}, args...)
}

// sessionEnv is a clean environment for the user's daemon.
func (u *testUser) sessionEnv(extra ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + u.home, "USER=" + u.name, "LOGNAME=" + u.name}, extra...)
}

// startAs runs the daemon as the user with exactly env (and a NOTIFY_SOCKET),
// and waits for its READY=1. The session daemon refuses other uids, so
// readiness is not probed with AUTH_LIST.
func startAs(t *testing.T, u *testUser, d *daemonProc, env []string, args ...string) {
	t.Helper()
	sp, spArgs := u.asUser(bin(t), args...)
	p, err := exec.LookPath(sp)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(p, spArgs...)
	cmd.Env = env
	d.use(daemontest.Start(t, cmd))
	d.proc.WaitReady(t, 10*time.Second)
}

func checkOwnedMode(t *testing.T, path string, uid int, mode os.FileMode) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode().Perm() != mode || int(st.Uid) != uid {
		t.Errorf("%s: mode %v owner %d; want %v owned by %d", path, fi.Mode().Perm(), st.Uid, mode, uid)
	}
}

// TestSessionPaths runs the daemon as a throwaway non-root user and checks
// the session layout: config under $XDG_CONFIG_HOME, rw and admin sockets and
// pid file under $XDG_RUNTIME_DIR/libvirt (0700), no read-only socket; the
// ~/.cache fallback without XDG_RUNTIME_DIR; and unix_sock_dir serving only
// the rw socket.
func TestSessionPaths(t *testing.T) {
	u := newTestUser(t)
	b := bin(t)

	t.Run("usage", func(t *testing.T) {
		sp, args := u.asUser(b, "--help")
		r := runBin(t, mustLook(t, sp), nil, args...)
		if r.code != 0 || !strings.Contains(r.stderr, "      $XDG_RUNTIME_DIR/libvirt/virtvboxd-sock\n\n") ||
			strings.Contains(r.stderr, "sock-ro") {
			t.Errorf("session usage (exit %d):\n%s", r.code, r.stderr)
		}
	})

	t.Run("XDG", func(t *testing.T) {
		xdgRun := filepath.Join(u.home, "xr")
		xdgCfg := filepath.Join(u.home, "xc")
		u.mkdir(t, xdgRun, 0o700)
		u.mkdir(t, filepath.Join(xdgCfg, "libvirt"), 0o700)
		d := &daemonProc{Log: filepath.Join(u.home, "xdg.log")}
		conf := filepath.Join(xdgCfg, "libvirt", "virtvboxd.conf")
		writeFile(t, conf, "log_level = 2\nlog_outputs = \"2:file:"+d.Log+"\"\n")
		startAs(t, u, d, u.sessionEnv("XDG_RUNTIME_DIR="+xdgRun, "XDG_CONFIG_HOME="+xdgCfg))
		run := filepath.Join(xdgRun, "libvirt")
		checkOwnedMode(t, run, u.uid, 0o700)
		checkOwnedMode(t, filepath.Join(run, "virtvboxd-sock"), u.uid, 0o700)
		checkOwnedMode(t, filepath.Join(run, "virtvboxd-admin-sock"), u.uid, 0o700)
		checkOwnedMode(t, filepath.Join(run, "virtvboxd.pid"), u.uid, 0o644)
		if exists(filepath.Join(run, "virtvboxd-sock-ro")) {
			t.Error("a session daemon created a read-only socket")
		}
		d.signal(t, syscall.SIGTERM)
		if code := d.wait(t, 10*time.Second); code != 0 {
			t.Errorf("exit %d: %s", code, d.stderr.String())
		}
		// Only the driver's domain ID table stays, for the next start.
		entries, _ := os.ReadDir(run)
		if len(entries) != 1 || entries[0].Name() != "vbox" {
			t.Errorf("left in the run dir after SIGTERM: %v, want only vbox/", entries)
		}
	})

	t.Run("HOME fallback", func(t *testing.T) {
		d := &daemonProc{Log: filepath.Join(u.home, "home.log")}
		u.mkdir(t, filepath.Join(u.home, ".config", "libvirt"), 0o700)
		writeFile(t, filepath.Join(u.home, ".config", "libvirt", "virtvboxd.conf"), "log_level = 2\nlog_outputs = \"2:file:"+d.Log+"\"\n")
		startAs(t, u, d, u.sessionEnv())
		run := filepath.Join(u.home, ".cache", "libvirt")
		checkOwnedMode(t, filepath.Join(run, "virtvboxd-sock"), u.uid, 0o700)
		checkOwnedMode(t, filepath.Join(run, "virtvboxd-admin-sock"), u.uid, 0o700)
		checkOwnedMode(t, filepath.Join(run, "virtvboxd.pid"), u.uid, 0o644)
		d.signal(t, syscall.SIGTERM)
		d.wait(t, 10*time.Second)
	})

	t.Run("unix_sock_dir", func(t *testing.T) {
		xdgRun := filepath.Join(u.home, "xr2")
		sock := filepath.Join(u.home, "s")
		u.mkdir(t, xdgRun, 0o700)
		u.mkdir(t, sock, 0o700)
		d := &daemonProc{Log: filepath.Join(u.home, "dir.log")}
		conf := filepath.Join(u.home, "dir.conf")
		writeFile(t, conf, "unix_sock_dir = \""+sock+"\"\nlog_level = 2\nlog_outputs = \"2:file:"+d.Log+"\"\n")
		startAs(t, u, d, u.sessionEnv("XDG_RUNTIME_DIR="+xdgRun), "-f", conf)
		var names []string
		entries, _ := os.ReadDir(sock)
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if strings.Join(names, " ") != "vbox virtvboxd-sock" {
			t.Errorf("unix_sock_dir of a session daemon holds %v, want the rw socket (and the driver's vbox/)", names)
		}
		if exists(filepath.Join(xdgRun, "libvirt", "virtvboxd-admin-sock")) {
			t.Error("admin socket created although unix_sock_dir is set")
		}
		checkOwnedMode(t, filepath.Join(xdgRun, "libvirt", "virtvboxd.pid"), u.uid, 0o644)
		d.signal(t, syscall.SIGTERM)
		d.wait(t, 10*time.Second)
	})
}

func mustLook(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
