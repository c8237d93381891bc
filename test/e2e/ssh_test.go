package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
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

// The system daemon's default sockets, which virt-ssh-helper on the remote
// host finds for vbox:///system.
const (
	systemSock   = "/run/libvirt/virtvboxd-sock"
	systemSockRO = "/run/libvirt/virtvboxd-sock-ro"
)

// sshHost is a loopback openssh server standing for a remote VirtualBox host,
// and the client side: an ssh configuration naming it "vbox-a", as a user's
// ~/.ssh/config names the hosts of a fleet.
type sshHost struct {
	Dir  string // everything of this host: keys, configs, homes (0755)
	Bin  string // put first on PATH: an ssh that reads the test's ssh_config
	User string // an ordinary user of the host with a session daemon
	Home string
	uid  int
	gid  int
}

// TestSSHFleet drives daemons on a "remote" host through libvirt's own ssh
// transport, with stock virsh and python3-libvirt, using the URIs README.md's
// "Managing many hosts" shows: the system daemon on its default sockets
// through virt-ssh-helper (read-write, and read-only with -r), a custom socket
// through nc, and an ordinary user's session daemon.
func TestSSHFleet(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("VIRTVBOXD_E2E_REQUIRE") == "1" {
			t.Fatal("the ssh tests run as root: they start sshd and the system daemon on /run/libvirt")
		}
		t.Skip("needs root")
	}
	for _, tool := range []string{"/usr/sbin/sshd", "ssh-keygen", "ssh", "virt-ssh-helper", "nc", "useradd", "userdel"} {
		requireTool(t, tool)
	}
	if c, err := net.Dial("unix", systemSock); err == nil {
		c.Close()
		t.Fatalf("a daemon already listens on %s; the test needs the system daemon's default sockets", systemSock)
	}
	h := startSSHHost(t)

	// The system daemon, as root, on the default sockets.
	sys := h.startDaemon(t, "system", 0, 0, "", "", "sysvm")
	// An ordinary user's session daemon, on the default session socket
	// ($XDG_RUNTIME_DIR is not set in an ssh session without PAM, so that is
	// ~/.cache/libvirt/virtvboxd-sock), and a second one on a custom socket.
	h.startDaemon(t, "session", h.uid, h.gid, h.Home, "", "uservm")
	custom := filepath.Join(h.Home, "custom")
	h.startDaemon(t, "custom", h.uid, h.gid, h.Home, custom, "customvm")
	customSock := filepath.Join(custom, "virtvboxd-sock")

	sysURI := "vbox+ssh://root@vbox-a/system"
	userURI := "vbox+ssh://" + h.User + "@vbox-a/session"
	for _, tc := range []struct {
		name string
		args []string
		want []string // in stdout
		fail string   // non-empty: the command must fail with this in stderr
	}{
		{"system list", []string{"-c", sysURI, "list", "--all"}, []string{"sysvm", "shut off"}, ""},
		{"system start", []string{"-c", sysURI, "start", "sysvm"}, []string{"Domain 'sysvm' started"}, ""},
		{"system read-only list", []string{"-r", "-c", sysURI, "list"}, []string{"sysvm", "running"}, ""},
		{"system read-only refuses a change", []string{"-r", "-c", sysURI, "destroy", "sysvm"}, nil,
			"operation forbidden: read only access prevents virDomainDestroy"},
		{"system socket through nc", []string{"-c", sysURI + "?socket=" + systemSock, "domstate", "sysvm"}, []string{"running"}, ""},
		{"system read-only socket through nc", []string{"-r", "-c", sysURI + "?socket=" + systemSockRO, "destroy", "sysvm"}, nil,
			"operation forbidden: read only access prevents virDomainDestroy"},
		{"session", []string{"-c", userURI, "list", "--all"}, []string{"uservm"}, ""},
		{"session custom socket through nc", []string{"-c", userURI + "?socket=" + customSock, "list", "--all"}, []string{"customvm"}, ""},
		// virt-ssh-helper, when the host has it, finds the socket itself and
		// ignores socket=: proxy=auto reaches the default session daemon.
		{"proxy=auto ignores socket=", []string{"-c", userURI + "?proxy=auto&socket=" + customSock, "list", "--all"}, []string{"uservm"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errs, err := h.virsh(t, tc.args...)
			if tc.fail != "" {
				if err == nil {
					t.Fatalf("virsh %q succeeded, want failure\n%s", tc.args, out)
				}
				contains(t, "stderr", errs, tc.fail)
				return
			}
			if err != nil {
				t.Fatalf("virsh %q: %v\n%s%s", tc.args, err, out, errs)
			}
			contains(t, "stdout", out, tc.want...)
		})
	}
	if got := strings.TrimSpace(sys.Sim.mustVBoxManage(t, "showvminfo", "sysvm", "--machinereadable")); !strings.Contains(got, `VMState="running"`) {
		t.Errorf("sysvm is not running after the read-only destroy:\n%s", got)
	}

	t.Run("python3-libvirt", func(t *testing.T) {
		py := requirePythonLibvirt(t)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, py, filepath.Join("testdata", "ssh_fleet.py"),
			sysURI+"=sysvm", userURI+"=uservm", userURI+"?socket="+customSock+"=customvm")
		cmd.Env = h.env()
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("ssh_fleet.py: %v\n%s", err, out)
		}
		contains(t, "ssh_fleet.py", string(out), sysURI+" VBOX sysvm", userURI+" VBOX uservm", "customvm",
			"read-only "+sysURI+": operation forbidden: read only access prevents virDomainSetAutostart")
	})

	t.Run("ansible inventory", func(t *testing.T) {
		contains(t, "ansible-playbook", h.ansible(t), `"msg": "vbox-a: sysvm"`, "ok=2", "failed=0")
	})
}

// ansible runs testdata/fleet_playbook.yml on testdata/fleet_inventory.yml
// from the managing desk and returns its output.
func (h *sshHost) ansible(t *testing.T) string {
	t.Helper()
	playbook := requireTool(t, "ansible-playbook")
	requirePythonLibvirt(t)
	home := filepath.Join(h.Dir, "ansible-home")
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, playbook, "-i", filepath.Join("testdata", "fleet_inventory.yml"),
		"-e", "ansible_python_interpreter=/usr/bin/python3", filepath.Join("testdata", "fleet_playbook.yml"))
	cmd.Env = append(h.env(), "LC_ALL=C.UTF-8", "HOME="+home, "ANSIBLE_HOME="+home, "ANSIBLE_LOCAL_TEMP="+filepath.Join(home, "tmp"),
		"ANSIBLE_REMOTE_TEMP="+filepath.Join(home, "tmp"), "ANSIBLE_NOCOLOR=1", "ANSIBLE_LOCALHOST_WARNING=false")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ansible-playbook: %v\n%s", err, out)
	}
	return string(out)
}

func startSSHHost(t *testing.T) *sshHost {
	t.Helper()
	dir, err := os.MkdirTemp("", "vvd-ssh")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h := &sshHost{Dir: dir, Bin: filepath.Join(dir, "bin"), User: fmt.Sprintf("vvdssh%d", os.Getpid()%100000)}
	h.Home = filepath.Join(dir, "home")
	// Password "*": no password, but not a locked account, which sshd
	// refuses without PAM.
	mustRun(t, "useradd", "--password", "*", "--create-home", "--home-dir", h.Home, "--shell", "/bin/sh", "--user-group", h.User)
	t.Cleanup(func() {
		// The user's processes are gone by now: the daemons stop first
		// (cleanups run last-in first-out).
		if out, err := exec.Command("userdel", "--remove", h.User).CombinedOutput(); err != nil {
			t.Errorf("userdel %s: %v\n%s", h.User, err, out)
		}
	})
	u, err := user.Lookup(h.User)
	if err != nil {
		t.Fatal(err)
	}
	h.uid, _ = strconv.Atoi(u.Uid)
	h.gid, _ = strconv.Atoi(u.Gid)

	key := func(name string) string {
		p := filepath.Join(dir, name)
		mustRun(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", p)
		pub, err := os.ReadFile(p + ".pub")
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(strings.Fields(string(pub))[:2], " ")
	}
	hostPub, clientPub := key("host_key"), key("client_key")
	port := freePort(t)
	write(t, filepath.Join(dir, "authorized_keys"), clientPub+"\n", 0o644)
	write(t, filepath.Join(dir, "sshd_config"), fmt.Sprintf(`ListenAddress 127.0.0.1:%d
HostKey %s/host_key
PidFile %s/sshd.pid
AuthorizedKeysFile %s/authorized_keys
AuthenticationMethods publickey
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
AllowUsers root %s
`, port, dir, dir, dir, h.User), 0o644)
	write(t, filepath.Join(dir, "known_hosts"), fmt.Sprintf("[127.0.0.1]:%d %s\n", port, hostPub), 0o644)
	write(t, filepath.Join(dir, "ssh_config"), fmt.Sprintf(`Host vbox-a
  HostName 127.0.0.1
  Port %d
  IdentityFile %s/client_key
  IdentitiesOnly yes
  UserKnownHostsFile %s/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
`, port, dir, dir), 0o644)
	if err := os.MkdirAll(h.Bin, 0o755); err != nil {
		t.Fatal(err)
	}
	// libvirt runs "ssh" from PATH; this one reads the test's configuration
	// instead of ~/.ssh/config.
	write(t, filepath.Join(h.Bin, "ssh"), fmt.Sprintf("#!/bin/sh\nexec /usr/bin/ssh -F %s/ssh_config \"$@\"\n", dir), 0o755)

	// sshd needs its privilege separation directory (the package's tmpfiles
	// entry makes it at boot).
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/sbin/sshd", "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-done
	})
	// Wait for "Server listening on 127.0.0.1 port N.", then keep the rest
	// of sshd's log for failures.
	ready := make(chan error, 1)
	var log bytes.Buffer
	go func() {
		defer close(done)
		r := bufio.NewReader(stderr)
		for {
			line, err := r.ReadString('\n')
			log.WriteString(line)
			if strings.HasPrefix(line, "Server listening on 127.0.0.1") {
				ready <- nil
				_, _ = io.Copy(io.Discard, r)
				_ = cmd.Wait()
				return
			}
			if err != nil {
				ready <- fmt.Errorf("sshd exited: %v\n%s", cmd.Wait(), log.String())
				return
			}
		}
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("sshd not listening after 10s\n%s", log.String())
	}
	return h
}

// startDaemon starts bin/virtvboxd on the host as uid:gid with its own
// simulator holding one machine, vm. With home set it is a session daemon
// (HOME=home, no XDG_RUNTIME_DIR); sockDir sets unix_sock_dir. It returns once
// the daemon's read-write socket exists; the daemon stops at the test's end.
func (h *sshHost) startDaemon(t *testing.T, name string, uid, gid int, home, sockDir, vm string) *daemon {
	t.Helper()
	dir := filepath.Join(h.Dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The binaries are copied where the user can run them (the test
	// binary's build directory may be private).
	for _, b := range []string{"virtvboxd", "vboxsim"} {
		data, err := os.ReadFile(filepath.Join(binDir, b))
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, b), string(data), 0o755)
	}
	sim := &sim{Home: filepath.Join(dir, "vbox"), BinDir: filepath.Join(dir, "vbin")}
	for _, d := range []string{sim.Home, sim.BinDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(dir, "vboxsim"), filepath.Join(sim.BinDir, "VBoxManage")); err != nil {
		t.Fatal(err)
	}
	sim.mustVBoxManage(t, "createvm", "--name", vm, "--register")
	d := &daemon{Dir: dir, Sim: sim, Config: filepath.Join(dir, "virtvboxd.conf"), PidFile: filepath.Join(dir, "virtvboxd.pid"),
		Log: filepath.Join(dir, "virtvboxd.log")}
	conf := fmt.Sprintf("vboxmanage_path = %q\nlog_outputs = %q\n", filepath.Join(sim.BinDir, "VBoxManage"), "1:file:"+d.Log)
	switch {
	case sockDir != "":
		d.RW = filepath.Join(sockDir, "virtvboxd-sock")
		conf += fmt.Sprintf("unix_sock_dir = %q\n", sockDir)
		if err := os.MkdirAll(sockDir, 0o700); err != nil {
			t.Fatal(err)
		}
	case home != "":
		d.RW = filepath.Join(home, ".cache", "libvirt", "virtvboxd-sock")
	default:
		d.RW = systemSock
	}
	write(t, d.Config, conf, 0o644)
	if uid != 0 {
		if err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(p, uid, gid)
		}); err != nil {
			t.Fatal(err)
		}
		if sockDir != "" {
			if err := os.Chown(sockDir, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}

	cmd := exec.Command(filepath.Join(dir, "virtvboxd"), "-f", d.Config, "-p", d.PidFile)
	cmd.Env = append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"}, sim.Env()...)
	if home != "" {
		cmd.Env = append(cmd.Env, "HOME="+home, "USER="+h.User)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	}
	d.use(t, daemontest.Start(t, cmd))
	d.proc.WaitReady(t, 10*time.Second)
	return d
}

// env is the environment of a client on the managing desk: the ssh that
// knows the host first on PATH, no autostart, no default URI.
func (h *sshHost) env() []string {
	env := []string{"PATH=" + h.Bin + ":" + os.Getenv("PATH"), "LC_ALL=C", "LIBVIRT_AUTOSTART=0"}
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k != "PATH" && k != "LC_ALL" && !strings.HasPrefix(k, "LIBVIRT_") {
			env = append(env, kv)
		}
	}
	return env
}

// virsh runs the stock virsh from the managing desk.
func (h *sshHost) virsh(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, requireTool(t, "virsh"), args...)
	cmd.Env = h.env()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

func mustRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
}

func write(t *testing.T, path, data string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// freePort returns a loopback TCP port nobody listens on.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
