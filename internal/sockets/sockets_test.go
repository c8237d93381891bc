package sockets

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sirupsen/logrus"
)

func testLog() *logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}

// shortDir returns a directory whose paths fit in sun_path.
func shortDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "vvd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func open(t *testing.T, specs ...Spec) *Set {
	t.Helper()
	s, err := Open(specs, testLog())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestCreateModesAndCleanup(t *testing.T) {
	dir := shortDir(t)
	rw, ro, adm := filepath.Join(dir, "rw"), filepath.Join(dir, "ro"), filepath.Join(dir, "adm")
	s := open(t,
		Spec{Kind: RW, Path: rw, Mode: 0o700, GID: -1},
		Spec{Kind: RO, Path: ro, Mode: 0o777, GID: -1},
		Spec{Kind: Admin, Path: adm, Mode: 0o640, GID: -1},
		Spec{Kind: RO, Path: ""}, // not served
	)
	if len(s.Listeners) != 3 {
		t.Fatalf("%d listeners, want 3", len(s.Listeners))
	}
	for path, want := range map[string]os.FileMode{rw: 0o700, ro: 0o777, adm: 0o640} {
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want socket %v", path, fi.Mode(), want)
		}
	}
	if l := s.ByKind(Admin); len(l) != 1 || l[0].Path != adm || l[0].Activated {
		t.Errorf("ByKind(Admin) = %+v", l)
	}
	// The listeners accept.
	c, err := net.Dial("unix", rw)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{rw, ro, adm} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s left behind after Close: %v", p, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestCloseKeepsASocketThatReplacedOurs(t *testing.T) {
	dir := shortDir(t)
	path := filepath.Join(dir, "rw")
	s := open(t, Spec{Kind: RW, Path: path, Mode: 0o700, GID: -1})
	// Another daemon replaced the socket (its own unlink + bind).
	os.Remove(path)
	other, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	s.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Errorf("Close removed a socket it did not create: %v", err)
	}
}

func TestStaleSocketAndLeftoverFileAreReplaced(t *testing.T) {
	dir := shortDir(t)
	stale := filepath.Join(dir, "stale")
	l, err := net.Listen("unix", stale)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close() // the socket file stays, nobody listens: a crashed daemon's
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := open(t, Spec{Kind: RW, Path: stale, Mode: 0o700, GID: -1}, Spec{Kind: Admin, Path: file, Mode: 0o700, GID: -1})
	for _, p := range []string{stale, file} {
		c, err := net.Dial("unix", p)
		if err != nil {
			t.Errorf("%s not replaced by a live socket: %v", p, err)
			continue
		}
		c.Close()
	}
	_ = s
}

func TestLiveSocketIsRefused(t *testing.T) {
	dir := shortDir(t)
	path := filepath.Join(dir, "live")
	live, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	other := filepath.Join(dir, "other")
	_, err = Open([]Spec{{Kind: Admin, Path: other, Mode: 0o700, GID: -1}, {Kind: RW, Path: path, Mode: 0o700, GID: -1}}, testLog())
	want := "Failed to bind socket to '" + path + "': another daemon is listening on it"
	if err == nil || err.Error() != want {
		t.Fatalf("Open over a live socket = %v, want %q", err, want)
	}
	// The live daemon still owns its socket, and what Open created first is gone.
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("the live socket was stolen: %v", err)
	}
	c.Close()
	if _, err := os.Lstat(other); !os.IsNotExist(err) {
		t.Errorf("a failed Open left %s behind", other)
	}
}

func TestMissingDirectory(t *testing.T) {
	path := filepath.Join(shortDir(t), "nodir", "virtvboxd-sock")
	_, err := Open([]Spec{{Kind: RW, Path: path, Mode: 0o700, GID: -1}}, testLog())
	want := "Failed to bind socket to '" + path + "': No such file or directory"
	if err == nil || err.Error() != want {
		t.Fatalf("Open = %v, want %q", err, want)
	}
}

func TestPathTooLong(t *testing.T) {
	path := "/tmp/" + strings.Repeat("x", 120)
	_, err := Open([]Spec{{Kind: RW, Path: path, Mode: 0o700, GID: -1}}, testLog())
	if err == nil || err.Error() != "Path "+path+" too long for unix socket" {
		t.Fatalf("Open = %v", err)
	}
}

func TestAbstractSocket(t *testing.T) {
	name := "@virtvboxd-test-" + filepath.Base(shortDir(t))
	s := open(t, Spec{Kind: RW, Path: name, Mode: 0o700, GID: -1})
	c, err := net.Dial("unix", name)
	if err != nil {
		t.Fatalf("dial abstract socket: %v", err)
	}
	c.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestGroupOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown to another group needs root")
	}
	dir := shortDir(t)
	path := filepath.Join(dir, "rw")
	open(t, Spec{Kind: RW, Path: path, Mode: 0o770, GID: 12345})
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		t.Fatal(err)
	}
	if st.Gid != 12345 {
		t.Errorf("socket group %d, want 12345", st.Gid)
	}
}

func TestLookupGroup(t *testing.T) {
	if gid, err := LookupGroup(""); gid != -1 || err != nil {
		t.Errorf("LookupGroup(\"\") = %d, %v", gid, err)
	}
	if gid, err := LookupGroup("root"); gid != 0 || err != nil {
		t.Errorf("LookupGroup(root) = %d, %v", gid, err)
	}
	if gid, err := LookupGroup("+4242"); gid != 4242 || err != nil {
		t.Errorf("LookupGroup(+4242) = %d, %v", gid, err)
	}
	_, err := LookupGroup("nosuchgroup")
	if err == nil || err.Error() != "invalid argument: Failed to parse group 'nosuchgroup'" {
		t.Errorf("LookupGroup(nosuchgroup) = %v", err)
	}
}

func TestBacklog(t *testing.T) {
	dir := shortDir(t)
	path := filepath.Join(dir, "rw")
	s := open(t, Spec{Kind: RW, Path: path, Mode: 0o700, GID: -1, Backlog: 2})
	_ = s
	// Nobody accepts: the kernel queues backlog+1 connections, then a
	// non-blocking connect fails with EAGAIN.
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := 0; i < 10; i++ {
		c, err := net.Dial("unix", path)
		if err != nil {
			if !errors.Is(err, syscall.EAGAIN) {
				t.Fatalf("connect %d: %v", i, err)
			}
			if i != 3 {
				t.Errorf("backlog 2 queued %d connections, want 3 (backlog+1)", i)
			}
			return
		}
		conns = append(conns, c)
	}
	t.Error("backlog 2 accepted 10 queued connections")
}

func TestKindNames(t *testing.T) {
	for k, want := range map[Kind]string{RW: "virtvboxd.socket", RO: "virtvboxd-ro.socket", Admin: "virtvboxd-admin.socket"} {
		if k.UnitName() != want {
			t.Errorf("%v.UnitName() = %q, want %q", k, k.UnitName(), want)
		}
	}
}
