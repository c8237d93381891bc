package sockets

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestMain lets the test binary play a socket-activated daemon: the parent
// passes a listening socket as fd 3 and the LISTEN_* variables; the child
// sets LISTEN_PID to its own pid (which only it knows), calls Open and
// prints what it got.
func TestMain(m *testing.M) {
	if dir := os.Getenv("SOCKETS_TEST_ACTIVATED_DIR"); dir != "" {
		os.Setenv("LISTEN_PID", strconv.Itoa(os.Getpid()))
		set, err := Open([]Spec{
			{Kind: RW, Path: filepath.Join(dir, "own-rw"), Mode: 0o700, GID: -1},
			{Kind: Admin, Path: filepath.Join(dir, "own-admin"), Mode: 0o700, GID: -1},
		}, testLog())
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(6)
		}
		for _, l := range set.Listeners {
			fmt.Printf("%s activated=%v %s\n", l.Kind, l.Activated, filepath.Base(l.Path))
		}
		if os.Getenv("LISTEN_FDS") != "" || os.Getenv("LISTEN_PID") != "" {
			fmt.Println("LISTEN_* still set")
		}
		set.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runActivated(t *testing.T, names *string) string {
	t.Helper()
	dir := shortDir(t)
	l, err := net.Listen("unix", filepath.Join(dir, "passed"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	f, err := l.(*net.UnixListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.ExtraFiles = []*os.File{f} // fd 3
	cmd.Env = append(os.Environ(), "SOCKETS_TEST_ACTIVATED_DIR="+dir, "LISTEN_FDS=1")
	if names != nil {
		cmd.Env = append(cmd.Env, "LISTEN_FDNAMES="+*names)
	}
	out, _ := cmd.CombinedOutput()
	return strings.TrimSpace(string(out))
}

func TestActivationByName(t *testing.T) {
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		name  string
		names *string
		want  string
	}{
		// The rw fd is adopted; admin was not passed, so it is not served.
		{"rw passed", str("virtvboxd.socket"), "rw activated=true passed"},
		{"admin passed", str("virtvboxd-admin.socket"), "admin activated=true passed"},
		// libvirt 9.0 falls back to its own sockets without usable names.
		{"no names", nil, "rw activated=false own-rw\nadmin activated=false own-admin"},
		{"name count mismatch", str("virtvboxd.socket:virtvboxd-ro.socket"), "rw activated=false own-rw\nadmin activated=false own-admin"},
		{"unclaimed", str("virtvboxd-tcp.socket"), "error: Some activation file descriptors are unclaimed"},
		// This process serves no ro socket: an ro fd is unclaimed too.
		{"ro not served", str("virtvboxd-ro.socket"), "error: Some activation file descriptors are unclaimed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := runActivated(t, tc.names); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}
