package main

import (
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/virtvboxd/virtvboxd/internal/daemontest"
)

// TestStopSignalsCleanUp checks that TERM, INT and QUIT stop the daemon with
// status 0 and leave no socket or pid file behind.
func TestStopSignalsCleanUp(t *testing.T) {
	b := bin(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT} {
		t.Run(sig.String(), func(t *testing.T) {
			d := daemonSetup(t, "")
			d.start(t, b, nil)
			pid, err := os.ReadFile(d.PidFile)
			if err != nil || string(pid) != strconv.Itoa(d.cmd.Process.Pid) {
				t.Fatalf("pid file holds %q (%v), want %d", pid, err, d.cmd.Process.Pid)
			}
			for _, p := range []string{d.Sock, d.SockRO, d.Admin} {
				if !exists(p) {
					t.Errorf("%s missing while running", p)
				}
			}
			d.signal(t, sig)
			if code := d.wait(t, 10*time.Second); code != 0 {
				t.Errorf("exit %d after %v, want 0\nstderr: %s", code, sig, d.stderr.String())
			}
			for _, p := range []string{d.Sock, d.SockRO, d.Admin, d.PidFile} {
				if exists(p) {
					t.Errorf("%s left behind after %v", p, sig)
				}
			}
		})
	}
}

// TestSIGTERMWithConnectedClient checks that a connected client does not
// hold the daemon up: it is disconnected and the daemon exits 0.
func TestSIGTERMWithConnectedClient(t *testing.T) {
	d := daemonSetup(t, "")
	d.start(t, bin(t), nil)
	c := holdConn(t, d.Sock)
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("client still connected after the daemon exited")
	}
}

// TestPidFileRace starts two daemons on one pid file and one socket
// directory at the same time: exactly one wins; the other exits 1 with
// libvirt's message and leaves the winner's sockets alone.
func TestPidFileRace(t *testing.T) {
	b := bin(t)
	a := daemonSetup(t, "")
	other := *a
	a.launch(t, b, nil)
	other.launch(t, b, nil)
	want := "Failed to acquire pid file '" + a.PidFile + "': Resource temporarily unavailable\n"

	// The loser exits on its own; the winner keeps running.
	var winner, loser *daemonProc
	select {
	case <-a.done:
		winner, loser = &other, a
	case <-other.done:
		winner, loser = a, &other
	case <-time.After(10 * time.Second):
		t.Fatalf("neither daemon gave up\nA: %s\nB: %s", a.stderr.String(), other.stderr.String())
	}
	if code := exitCode(loser.err()); code != 1 || !strings.HasSuffix(loser.stderr.String(), want) {
		t.Errorf("loser: exit %d, stderr %q; want 1 and %q", code, loser.stderr.String(), want)
	}
	winner.waitReady(t)
	if pid, _ := os.ReadFile(a.PidFile); string(pid) != strconv.Itoa(winner.cmd.Process.Pid) {
		t.Errorf("pid file holds %q, want the winner's pid %d", pid, winner.cmd.Process.Pid)
	}
	for _, p := range []string{a.Sock, a.SockRO, a.Admin} {
		if err := authListOrConnect(p); err != nil {
			t.Errorf("winner's socket %s broken after the loser ran: %v", p, err)
		}
	}
	winner.signal(t, syscall.SIGTERM)
	winner.wait(t, 10*time.Second)
}

// authListOrConnect checks that a socket accepts connections.
func authListOrConnect(path string) error {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}

// TestDaemonize checks -d: the parent returns 0 only once the child holds
// the pid file and its sockets answer.
func TestDaemonize(t *testing.T) {
	d := daemonSetup(t, "log_level = 2\n")
	r := runBin(t, bin(t), nil, "-d", "-f", d.Config, "-p", d.PidFile)
	if r.code != 0 || r.stderr != "" || r.stdout != "" {
		t.Fatalf("-d: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	// Ready the moment the parent returned: no polling here.
	data, err := os.ReadFile(d.PidFile)
	if err != nil {
		t.Fatalf("pid file missing when the parent returned: %v", err)
	}
	pid, _ := strconv.Atoi(string(data))
	if pid <= 0 {
		t.Fatalf("pid file holds %q", data)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	if err := authList(d.Sock); err != nil {
		t.Fatalf("rw socket not answering when the parent returned: %v", err)
	}
	// The child runs in its own session with / as working directory.
	if sid, _ := getsid(pid); sid != pid {
		t.Errorf("daemon session id %d, want its own (%d)", sid, pid)
	}
	if cwd, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd"); cwd != "/" {
		t.Errorf("daemon working directory %q, want /", cwd)
	}
	for fd := 0; fd <= 2; fd++ {
		if target, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/" + strconv.Itoa(fd)); target != "/dev/null" {
			t.Errorf("daemon fd %d is %q, want /dev/null", fd, target)
		}
	}
	// The child logs through the configured outputs, not its /dev/null stderr.
	d.waitLog(t, "virtvboxd is ready")
	syscall.Kill(pid, syscall.SIGTERM)
	daemontest.AwaitExit(t, pid, 10*time.Second)
	if exists(d.PidFile) || exists(d.Sock) {
		t.Fatal("daemonized child left its pid file or socket after SIGTERM")
	}
}

func getsid(pid int) (int, error) {
	r1, _, errno := syscall.RawSyscall(syscall.SYS_GETSID, uintptr(pid), 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(r1), nil
}

// TestDaemonizeReportsChildFailure checks that the parent of a child that
// cannot start (its pid file is held) prints libvirt's line and the child's
// error, and exits 1.
func TestDaemonizeReportsChildFailure(t *testing.T) {
	b := bin(t)
	first := daemonSetup(t, "")
	first.start(t, b, nil)
	r := runBin(t, b, nil, "-d", "-f", first.Config, "-p", first.PidFile)
	want := b + ": error: Unable to obtain pidfile. Check /var/log/messages or run without --daemon for more info.\n" +
		b + ": Failed to acquire pid file '" + first.PidFile + "': Resource temporarily unavailable\n"
	if r.code != 1 || r.stderr != want {
		t.Errorf("exit %d, stderr %q; want 1 and %q", r.code, r.stderr, want)
	}
	if err := authList(first.Sock); err != nil {
		t.Errorf("first daemon's socket broken: %v", err)
	}
	// Errors found before forking are reported directly.
	dir := shortDir(t)
	writeFile(t, dir+"/bad.conf", "max_clients = \n")
	r = runBin(t, b, nil, "-d", "-f", dir+"/bad.conf", "-p", dir+"/pid")
	if r.code != 1 || !strings.Contains(r.stderr, "configuration file syntax error: "+dir+"/bad.conf:1: expecting a value") {
		t.Errorf("-d with a bad file: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestIdleTimeout checks -t: exit after N seconds without clients, never
// while a client (rw or admin) is connected.
func TestIdleTimeout(t *testing.T) {
	b := bin(t)
	t.Run("no client", func(t *testing.T) {
		d := daemonSetup(t, "")
		d.launch(t, b, nil, "-t", "1", "-f", d.Config, "-p", d.PidFile)
		if code := d.wait(t, 15*time.Second); code != 0 {
			t.Errorf("exit %d, want 0", code)
		}
		for _, p := range []string{d.Sock, d.Admin, d.PidFile} {
			if exists(p) {
				t.Errorf("%s left behind by the idle exit", p)
			}
		}
	})
	for _, sock := range []string{"rw", "admin"} {
		t.Run("held "+sock+" client", func(t *testing.T) {
			d := daemonSetup(t, "")
			d.start(t, b, nil, "-t", "1", "-f", d.Config, "-p", d.PidFile)
			path := d.Sock
			if sock == "admin" {
				path = d.Admin
			}
			c := holdConn(t, path)
			// Several timeouts long: the daemon must stay while the client does.
			time.Sleep(2500 * time.Millisecond)
			if d.exited() {
				t.Fatalf("daemon exited with a %s client connected: %v", sock, d.err())
			}
			c.Close()
			if code := d.wait(t, 15*time.Second); code != 0 {
				t.Errorf("exit %d after the client left", code)
			}
		})
	}
}

// TestStaleSocketTakenOverLiveOneRefused: a socket file nobody listens on is
// replaced; one on which a daemon answers is not (exit 6, clear message).
func TestStaleSocketTakenOverLiveOneRefused(t *testing.T) {
	b := bin(t)
	d := daemonSetup(t, "")
	l, err := net.Listen("unix", d.Sock)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close()
	writeFile(t, d.Admin, "leftover")
	d.start(t, b, nil)
	if err := authList(d.Sock); err != nil {
		t.Fatalf("stale socket not taken over: %v", err)
	}

	// A second daemon without a pid file would steal the sockets in libvirt.
	r := runBin(t, b, nil, "-f", d.Config, "-p", "")
	want := b + ": Failed to bind socket to '" + d.Sock + "': another daemon is listening on it\n"
	if r.code != 6 || r.stderr != want {
		t.Errorf("second daemon: exit %d, stderr %q; want 6 and %q", r.code, r.stderr, want)
	}
	if err := authList(d.Sock); err != nil {
		t.Errorf("first daemon lost its socket: %v", err)
	}
	d.signal(t, syscall.SIGTERM)
	d.wait(t, 10*time.Second)
}

// TestSIGHUPReload changes the log level with a good file, then checks that
// a broken file is logged and the running configuration kept.
func TestSIGHUPReload(t *testing.T) {
	d := daemonSetup(t, "log_level = 3\n")
	d.start(t, bin(t), nil)
	base := "unix_sock_dir = \"" + d.Dir + "\"\nlog_outputs = \"1:file:" + d.Log + "\"\n"

	// Level 3: the info lines of a reload are not logged.
	writeFile(t, d.Config, base+"log_level = 2\nmax_clients = 100\nlog_filters = \"1:rpc\"\n")
	d.signal(t, syscall.SIGHUP)
	d.waitLog(t, "Configuration reloaded")
	// Limits and filters are in force at once, as virt-admin shows.
	if va, err := exec.LookPath("virt-admin"); err == nil {
		out, err := exec.Command(va, "-c", "virtvboxd:///system?socket="+d.Admin, "srv-clients-info", "virtvboxd").CombinedOutput()
		if err != nil || !regexp.MustCompile(`nclients_max\s+: 100\n`).Match(out) {
			t.Errorf("srv-clients-info after reload (%v):\n%s", err, out)
		}
		out, err = exec.Command(va, "-c", "virtvboxd:///system?socket="+d.Admin, "daemon-log-filters").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Logging filters: 1:*rpc*") {
			t.Errorf("daemon-log-filters after reload (%v):\n%s", err, out)
		}
	}

	// A broken file: logged at error level, old settings (level 2) kept.
	writeFile(t, d.Config, base+"log_level = 4\nmax_clients = \n")
	d.signal(t, syscall.SIGHUP)
	d.waitLog(t, "Reload failed, keeping the running configuration: Can't load config file: configuration file syntax error: "+
		d.Config+":4: expecting a value: "+d.Config)
	if err := authList(d.Sock); err != nil {
		t.Fatalf("daemon not serving after a failed reload: %v", err)
	}
	// Still at level 2 (not 4): an info line gets through, and a changed
	// socket option is reported as needing a restart.
	writeFile(t, d.Config, base+"log_level = 2\nunix_sock_rw_perms = \"0770\"\n")
	d.signal(t, syscall.SIGHUP)
	d.waitLog(t, "Option 'unix_sock_rw_perms' changed: the new value takes effect at the next start")
	if fi, _ := os.Stat(d.Sock); fi.Mode().Perm() != 0o700 {
		t.Errorf("reload changed the live socket's mode to %v", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(d.Log)
	if n := strings.Count(string(b), "Reloading configuration on SIGHUP"); n != 2 {
		t.Errorf("%d reload lines logged at info, want 2 (not the first, at level 3)\n%s", n, b)
	}
	d.signal(t, syscall.SIGTERM)
	d.wait(t, 10*time.Second)
}

// TestSIGUSR1DumpsStacks checks that SIGUSR1 writes every goroutine's stack
// to the log and leaves the daemon running.
func TestSIGUSR1DumpsStacks(t *testing.T) {
	d := daemonSetup(t, "")
	d.start(t, bin(t), nil)
	d.signal(t, syscall.SIGUSR1)
	d.waitLog(t, "Goroutine dump requested by SIGUSR1")
	d.waitLog(t, "goroutine 1 [")
	if err := authList(d.Sock); err != nil {
		t.Fatalf("daemon not serving after SIGUSR1: %v", err)
	}
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// TestSIGPIPEIgnored checks that SIGPIPE does not kill the daemon.
func TestSIGPIPEIgnored(t *testing.T) {
	d := daemonSetup(t, "")
	d.start(t, bin(t), nil)
	d.signal(t, syscall.SIGPIPE)
	if err := authList(d.Sock); err != nil {
		t.Fatalf("daemon not serving after SIGPIPE: %v", err)
	}
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// TestSdNotify observes READY=1, RELOADING=1 then READY=1, and STOPPING=1 on
// a NOTIFY_SOCKET datagram socket.
func TestSdNotify(t *testing.T) {
	d := daemonSetup(t, "")
	nsock := filepath.Join(d.Dir, "notify")
	pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: nsock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	next := func() string {
		t.Helper()
		pc.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 4096)
		n, err := pc.Read(buf)
		if err != nil {
			t.Fatalf("no notification: %v\nstderr: %s", err, d.stderr.String())
		}
		return string(buf[:n])
	}
	d.launch(t, bin(t), []string{"NOTIFY_SOCKET=" + nsock}, "-f", d.Config, "-p", d.PidFile)
	if msg := next(); msg != "READY=1" {
		t.Fatalf("first notification %q, want READY=1", msg)
	}
	if err := authList(d.Sock); err != nil {
		t.Fatalf("READY=1 sent before the socket answered: %v", err)
	}
	d.signal(t, syscall.SIGHUP)
	if msg := next(); !strings.HasPrefix(msg, "RELOADING=1\nMONOTONIC_USEC=") {
		t.Errorf("on SIGHUP got %q, want RELOADING=1 with MONOTONIC_USEC", msg)
	}
	if msg := next(); msg != "READY=1" {
		t.Errorf("after reload got %q, want READY=1", msg)
	}
	d.signal(t, syscall.SIGTERM)
	if msg := next(); msg != "STOPPING=1" {
		t.Errorf("on SIGTERM got %q, want STOPPING=1", msg)
	}
	d.wait(t, 10*time.Second)
}

// TestSocketActivation passes named sockets with Debian's
// systemd-socket-activate, which listens and execs the daemon on the first
// connection.
func TestSocketActivation(t *testing.T) {
	tool := needTool(t, "systemd-socket-activate")
	b := bin(t)
	activate := func(t *testing.T, names []string) (*daemonProc, []string) {
		d := daemonSetup(t, "")
		sdir := shortDir(t)
		var args, paths []string
		for i := range names {
			p := filepath.Join(sdir, "s"+strconv.Itoa(i))
			paths = append(paths, p)
			args = append(args, "-l", p)
		}
		args = append(args, "--fdname="+strings.Join(names, ":"), "--", b, "-f", d.Config, "-p", d.PidFile)
		d.launch(t, tool, nil, args...)
		deadline := time.Now().Add(10 * time.Second)
		for !exists(paths[len(paths)-1]) {
			if time.Now().After(deadline) || d.exited() {
				t.Fatalf("systemd-socket-activate did not listen: %s", d.stderr.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
		return d, paths
	}

	t.Run("all three", func(t *testing.T) {
		d, paths := activate(t, []string{"virtvboxd.socket", "virtvboxd-ro.socket", "virtvboxd-admin.socket"})
		// The first connection starts the daemon, which answers it.
		deadline := time.Now().Add(10 * time.Second)
		for authList(paths[0]) != nil {
			if time.Now().After(deadline) || d.exited() {
				t.Fatalf("activated daemon not answering: %s", d.stderr.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := authList(paths[1]); err != nil {
			t.Errorf("activated ro socket: %v", err)
		}
		// The admin server has no REMOTE program: just check it accepts.
		if err := authListOrConnect(paths[2]); err != nil {
			t.Errorf("activated admin socket: %v", err)
		}
		// unix_sock_dir has no effect with activation.
		for _, p := range []string{d.Sock, d.SockRO, d.Admin} {
			if exists(p) {
				t.Errorf("daemon created %s although systemd passed its sockets", p)
			}
		}
		d.signal(t, syscall.SIGTERM)
		if code := d.wait(t, 10*time.Second); code != 0 {
			t.Errorf("exit %d: %s", code, d.stderr.String())
		}
		for _, p := range paths {
			if !exists(p) {
				t.Errorf("daemon unlinked the activated socket %s", p)
			}
		}
	})

	t.Run("only rw", func(t *testing.T) {
		d, paths := activate(t, []string{"virtvboxd.socket"})
		deadline := time.Now().Add(10 * time.Second)
		for authList(paths[0]) != nil {
			if time.Now().After(deadline) || d.exited() {
				t.Fatalf("activated daemon not answering: %s", d.stderr.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		// A unit not passed is a socket not served: none created.
		if exists(d.SockRO) || exists(d.Admin) || exists(d.Sock) {
			t.Error("daemon created sockets systemd did not pass")
		}
		d.signal(t, syscall.SIGTERM)
		d.wait(t, 10*time.Second)
	})

	t.Run("unclaimed", func(t *testing.T) {
		d, paths := activate(t, []string{"virtvboxd.socket", "virtvboxd-tcp.socket"})
		c, err := net.Dial("unix", paths[0])
		if err == nil {
			defer c.Close()
		}
		if code := d.wait(t, 10*time.Second); code != 6 {
			t.Errorf("exit %d, want 6", code)
		}
		if !strings.HasSuffix(d.stderr.String(), b+": Some activation file descriptors are unclaimed\n") {
			t.Errorf("stderr %q", d.stderr.String())
		}
	})
}

// TestNoVBoxManageAtStartup checks that a daemon started and stopped with no
// client runs no VBoxManage: the driver waits for the first client that
// needs it. The whole life is watched (start, ready, SIGTERM, exit), so no
// sleep is needed to give a startup probe its chance.
func TestNoVBoxManageAtStartup(t *testing.T) {
	d := daemonSetup(t, "")
	trace := filepath.Join(d.Dir, "ran")
	fake := filepath.Join(d.Dir, "VBoxManage")
	writeFile(t, fake, "#!/bin/sh\necho \"$@\" >> "+trace+"\n")
	os.Chmod(fake, 0o755)
	writeFile(t, d.Config, "unix_sock_dir = \""+d.Dir+"\"\nvboxmanage_path = \""+fake+"\"\n")
	d.start(t, bin(t), nil)
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, 10*time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
	if exists(trace) {
		b, _ := os.ReadFile(trace)
		t.Errorf("VBoxManage ran in a daemon's life with no client: %s", b)
	}
}

// TestVirtAdmin drives the admin socket with the stock virt-admin: the two
// servers are listed, log filters change at run time, and daemon-timeout
// arms the idle timer of a daemon started without -t.
func TestVirtAdmin(t *testing.T) {
	va := needTool(t, "virt-admin")
	d := daemonSetup(t, "")
	d.start(t, bin(t), nil)
	uri := "virtvboxd:///system?socket=" + d.Admin
	admin := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(va, append([]string{"-c", uri}, args...)...)
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("virt-admin %q: %v\n%s", args, err, out)
		}
		return string(out)
	}
	out := admin("srv-list")
	if !strings.Contains(out, " virtvboxd") || !strings.Contains(out, " admin") {
		t.Errorf("srv-list:\n%s", out)
	}
	admin("daemon-log-filters", "1:rpc 3:vbox")
	if out := admin("daemon-log-filters"); !strings.Contains(out, "Logging filters: 1:*rpc* 3:*vbox*") {
		t.Errorf("daemon-log-filters after setting them:\n%s", out)
	}
	admin("daemon-timeout", "--timeout", "1")
	if code := d.wait(t, 15*time.Second); code != 0 {
		t.Errorf("exit %d after daemon-timeout 1", code)
	}
	if exists(d.Sock) || exists(d.PidFile) {
		t.Error("socket or pid file left behind by the idle exit")
	}
}

// TestIdleTimeoutWaitsForRunningDomains checks the improvement over libvirt:
// with -t, a running VirtualBox machine keeps the daemon up after the last
// client left; once it is stopped the daemon exits.
func TestIdleTimeoutWaitsForRunningDomains(t *testing.T) {
	virsh := needTool(t, "virsh")
	sim := simBin(t)
	d := daemonSetup(t, "")
	home := filepath.Join(d.Dir, "sim")
	os.Mkdir(home, 0o755)
	vbm := filepath.Join(d.Dir, "VBoxManage")
	if err := os.Symlink(sim, vbm); err != nil {
		t.Fatal(err)
	}
	env := []string{"VBOXSIM_HOME=" + home, "VBOXSIM_LATENCY=0", "VBOXSIM_COLD_START=0"}
	seed := exec.Command(sim, "seed", "--count", "2", "--running", "1")
	seed.Env = append(os.Environ(), env...)
	if out, err := seed.CombinedOutput(); err != nil {
		t.Fatalf("vboxsim seed: %v\n%s", err, out)
	}
	writeFile(t, d.Config, "unix_sock_dir = \""+d.Dir+"\"\nvboxmanage_path = \""+vbm+"\"\nlog_outputs = \"1:file:"+d.Log+"\"\n")
	d.start(t, bin(t), env, "-t", "1", "-f", d.Config, "-p", d.PidFile)
	vs := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(virsh, append([]string{"-q", "-c", "vbox:///system?socket=" + d.Sock}, args...)...)
		cmd.Env = append(os.Environ(), append(env, "LC_ALL=C", "LIBVIRT_AUTOSTART=0")...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("virsh %q: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	running := vs("list", "--name")
	if running == "" || strings.Contains(running, "\n") {
		t.Fatalf("want one running domain, virsh list --name says %q", running)
	}
	// The client has gone; several timeouts pass with the domain running.
	time.Sleep(2500 * time.Millisecond)
	if d.exited() {
		t.Fatalf("daemon exited with domain %q running: %v", running, d.err())
	}
	vs("destroy", running)
	if code := d.wait(t, 15*time.Second); code != 0 {
		t.Errorf("exit %d once no domain ran", code)
	}
}

// TestSIGTERMLetsCallInFlightFinish sends SIGTERM while a CONNECT_OPEN waits
// for a slow VBoxManage (the simulator with 2 s latency): the client gets its
// reply, then EOF, and the daemon exits 0 without leftovers.
func TestSIGTERMLetsCallInFlightFinish(t *testing.T) {
	sim := simBin(t)
	d := daemonSetup(t, "")
	home := filepath.Join(d.Dir, "sim")
	os.Mkdir(home, 0o755)
	vbm, runs := tapVBoxManage(t, d.Dir, sim)
	env := []string{"VBOXSIM_HOME=" + home, "VBOXSIM_LATENCY=2s", "VBOXSIM_COLD_START=0"}
	writeFile(t, d.Config, "unix_sock_dir = \""+d.Dir+"\"\nvboxmanage_path = \""+vbm+"\"\nlog_outputs = \"1:file:"+d.Log+"\"\n")
	d.start(t, bin(t), env)

	c := holdConn(t, d.Sock)
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	open := mustHex("" +
		"00000038" + // length: 56 bytes
		"20008086" + // program REMOTE
		"00000001" + // version 1
		"00000001" + // procedure CONNECT_OPEN
		"00000000" + // type CALL
		"00000001" + // serial 1
		"00000000" + // status OK
		"00000001" + // name: present
		"0000000e" + "76626f783a2f2f2f73797374656d" + "0000" + // "vbox:///system", padded
		"00000000") // flags 0
	if _, err := c.Write(open); err != nil {
		t.Fatal(err)
	}
	reply := make([]byte, 28)
	if _, err := io.ReadFull(c, reply); err != nil || reply[27] != 0 {
		t.Fatalf("CONNECT_OPEN: %x, %v", reply, err)
	}
	list := mustHex("" +
		"00000024" + // length: 36 bytes
		"20008086" + // program REMOTE
		"00000001" + // version 1
		"00000111" + // procedure CONNECT_LIST_ALL_DOMAINS (273)
		"00000000" + // type CALL
		"00000002" + // serial 2
		"00000000" + // status OK
		"00000001" + // need_results 1
		"00000003") // flags ACTIVE|INACTIVE
	if _, err := c.Write(list); err != nil {
		t.Fatal(err)
	}
	// SIGTERM once the call waits for VBoxManage (2 s): its listing has started.
	waitRun(t, runs, "list ", 15*time.Second)
	d.signal(t, syscall.SIGTERM)

	if _, err := io.ReadFull(c, reply); err != nil {
		t.Fatalf("no reply to the call in flight at SIGTERM: %v\nstderr: %s", err, d.stderr.String())
	}
	want := mustHex("" +
		"00000024" + // length: 36 bytes
		"20008086" + // program REMOTE
		"00000001" + // version 1
		"00000111" + // procedure CONNECT_LIST_ALL_DOMAINS
		"00000001" + // type REPLY
		"00000002" + // serial 2
		"00000000") // status OK
	if !bytes.Equal(reply, want) {
		rest := make([]byte, 512)
		n, _ := c.Read(rest)
		t.Fatalf("CONNECT_LIST_ALL_DOMAINS reply %x, want %x (OK, no domain); payload %q", reply, want, rest[:n])
	}
	body := make([]byte, 8) // domains<0>, ret 0
	if _, err := io.ReadFull(c, body); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Errorf("connection still open after the reply: %d, %v", n, err)
	}
	if code := d.wait(t, 20*time.Second); code != 0 {
		t.Errorf("exit %d", code)
	}
	for _, p := range []string{d.Sock, d.SockRO, d.Admin, d.PidFile} {
		if exists(p) {
			t.Errorf("%s left behind", p)
		}
	}
}
