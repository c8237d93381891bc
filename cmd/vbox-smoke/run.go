package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Exit statuses.
const (
	exitPass    = 0
	exitFail    = 1 // a step failed (the report says which)
	exitRefused = 2 // the scratch VirtualBox is not isolated, or setup failed: nothing was run
)

// smoke is one run: its scratch directory, the daemon, the steps done.
type smoke struct {
	scratch  string // everything this run creates lives here
	ipcID    string // VBOX_IPC_SOCKETID: our own VBoxSVC
	real     string // the real VBoxManage
	daemon   string // bin/virtvboxd
	virsh    string
	timeout  time.Duration // per virsh / VBoxManage command
	env      []string      // of the daemon, virsh and direct VBoxManage calls
	uri      string
	name     string // the throwaway VM
	isolated bool   // the scratch registry was checked empty: cleanup may remove what it lists

	proc  *os.Process
	done  chan error
	steps []step
	notes []string // setup and cleanup remarks for the report
}

// step is one workflow command and its outcome.
type step struct {
	what           string
	stdout, stderr string
	dur            time.Duration
	err            error
}

func run(args []string) (int, error) {
	fs := flag.NewFlagSet("vbox-smoke", flag.ContinueOnError)
	vbm := fs.String("vboxmanage", "VBoxManage", "the VBoxManage to test against (bin/vboxsim for the simulator)")
	daemon := fs.String("daemon", "bin/virtvboxd", "the virtvboxd binary")
	virsh := fs.String("virsh", "virsh", "the virsh binary")
	report := fs.String("report", "vbox-smoke-report.txt", "where to write the report")
	timeout := fs.Duration("timeout", 2*time.Minute, "limit of each virsh command (the daemon's vboxmanage_timeout is half of it)")
	if err := fs.Parse(args); err != nil {
		return exitRefused, err
	}
	s := &smoke{timeout: *timeout}
	var err error
	if s.real, err = exec.LookPath(*vbm); err != nil {
		return exitRefused, fmt.Errorf("VBoxManage: %w", err)
	}
	if s.daemon, err = exec.LookPath(*daemon); err != nil {
		return exitRefused, fmt.Errorf("virtvboxd: %w", err)
	}
	if s.virsh, err = exec.LookPath(*virsh); err != nil {
		return exitRefused, fmt.Errorf("virsh: %w", err)
	}
	for _, p := range []*string{&s.real, &s.daemon, &s.virsh} {
		if *p, err = filepath.Abs(*p); err != nil {
			return exitRefused, err
		}
	}
	code := s.main()
	if err := os.WriteFile(*report, []byte(s.report(code)), 0o644); err != nil {
		return exitFail, fmt.Errorf("writing the report: %w", err)
	}
	s.cleanupScratch()
	switch code {
	case exitPass:
		fmt.Printf("vbox-smoke: PASS (%d steps); report in %s\n", len(s.steps), *report)
	default:
		fmt.Printf("vbox-smoke: FAIL: %s; report in %s (attach it to a bug report)\n", s.verdict(code), *report)
	}
	return code, nil
}

// main sets up, runs the workflow and cleans up; it returns the exit status.
func (s *smoke) main() int {
	if err := s.setup(); err != nil {
		s.note("setup: " + err.Error())
		s.cleanupVMs()
		return exitRefused
	}
	code := exitPass
	if err := s.startDaemon(); err != nil {
		s.note("daemon: " + err.Error())
		code = exitFail
	} else {
		if !s.workflow() {
			code = exitFail
		}
		s.stopDaemon()
	}
	if !s.cleanupVMs() {
		code = exitFail
	}
	return code
}

func (s *smoke) note(msg string) { s.notes = append(s.notes, msg) }

// setup makes the scratch directory: VBOX_USER_HOME (VirtualBox's registry
// and settings), the machine folder, VBoxManage's tee, the daemon's files;
// a VBOX_IPC_SOCKETID of its own makes VirtualBox start a VBoxSVC for this
// home instead of joining the user's. It then checks, before anything is
// created, that VirtualBox really uses the scratch registry (empty) and
// machine folder; otherwise it refuses.
func (s *smoke) setup() error {
	var err error
	if s.scratch, err = os.MkdirTemp("", "vbox-smoke-"); err != nil {
		return err
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	s.ipcID = "vbox-smoke-" + hex.EncodeToString(rnd[:])
	s.name = "vbox-smoke-" + hex.EncodeToString(rnd[:3])
	for _, d := range []string{"home", "machines", "bin", "calls", "run"} {
		if err := os.Mkdir(filepath.Join(s.scratch, d), 0o700); err != nil {
			return err
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	if err := os.Symlink(self, filepath.Join(s.scratch, "bin", teeName)); err != nil {
		return err
	}
	machines := filepath.Join(s.scratch, "machines")
	// The user's editor settings would win over the workflow's EDITOR.
	s.env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "VISUAL=") || strings.HasPrefix(kv, "EDITOR=")
	})
	s.env = append(s.env,
		"VBOX_USER_HOME="+filepath.Join(s.scratch, "home"),
		"VBOX_IPC_SOCKETID="+s.ipcID,
		// The simulator's equivalents (ignored by VirtualBox).
		"VBOXSIM_HOME="+filepath.Join(s.scratch, "home"),
		"VBOXSIM_MACHINE_FOLDER="+machines,
		envReal+"="+s.real,
		envRecords+"="+filepath.Join(s.scratch, "calls"),
		"XDG_RUNTIME_DIR="+filepath.Join(s.scratch, "run"),
		"XDG_CONFIG_HOME="+filepath.Join(s.scratch, "run"),
		"LC_ALL=C", "LIBVIRT_AUTOSTART=0")

	if _, err := s.vboxmanage("--version"); err != nil {
		return fmt.Errorf("VBoxManage --version: %w", err)
	}
	out, err := s.vboxmanage("list", "vms")
	if err != nil {
		return fmt.Errorf("VBoxManage list vms: %w", err)
	}
	if strings.TrimSpace(out) != "" {
		return errors.New("VirtualBox lists machines in the fresh scratch VBOX_USER_HOME, so it is not using it " +
			"(a VBoxSVC of another home answered): refusing to touch anything")
	}
	s.isolated = true
	folder, err := s.machineFolder()
	if err != nil {
		return err
	}
	if !within(folder, s.scratch) {
		if _, err := s.vboxmanage("setproperty", "machinefolder", machines); err != nil {
			return fmt.Errorf("VBoxManage setproperty machinefolder: %w", err)
		}
		if folder, err = s.machineFolder(); err != nil {
			return err
		}
		if !within(folder, s.scratch) {
			return fmt.Errorf("the default machine folder is %s, outside the scratch directory: refusing to create machines", folder)
		}
	}
	return nil
}

// machineFolder reads "Default machine folder" from `list systemproperties`.
func (s *smoke) machineFolder() (string, error) {
	out, err := s.vboxmanage("list", "systemproperties")
	if err != nil {
		return "", fmt.Errorf("VBoxManage list systemproperties: %w", err)
	}
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, "Default machine folder:"); ok {
			return strings.TrimSpace(v), nil
		}
	}
	return "", errors.New("VBoxManage list systemproperties prints no \"Default machine folder\"")
}

func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// vboxmanage runs VBoxManage through the tee (so it is in the report) with
// the scratch environment.
func (s *smoke) vboxmanage(args ...string) (string, error) {
	out, errOut, err := s.command(filepath.Join(s.scratch, "bin", teeName), nil, args...)
	if err != nil {
		return out, fmt.Errorf("%w: %s", err, strings.TrimSpace(errOut))
	}
	return out, nil
}

// command runs one program with the scratch environment plus extra.
func (s *smoke) command(prog string, extra []string, args ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Env = append(append([]string(nil), s.env...), extra...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("no answer within %s", s.timeout)
	}
	return out.String(), errb.String(), err
}

// startDaemon starts virtvboxd in the foreground on scratch sockets, with
// the tee as its VBoxManage, and waits for its socket.
func (s *smoke) startDaemon() error {
	run := filepath.Join(s.scratch, "run")
	conf := filepath.Join(run, "virtvboxd.conf")
	text := fmt.Sprintf("unix_sock_dir = %q\nvboxmanage_path = %q\nvboxmanage_timeout = %d\nlog_outputs = %q\n",
		run, filepath.Join(s.scratch, "bin", teeName), max(int(s.timeout.Seconds())/2, 1), "3:file:"+filepath.Join(run, "virtvboxd.log"))
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return err
	}
	sock := filepath.Join(run, "virtvboxd-sock")
	s.uri = "vbox:///session?socket=" + sock
	cmd := exec.Command(s.daemon, "-f", conf, "-p", filepath.Join(run, "virtvboxd.pid"))
	cmd.Env = s.env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	s.proc, s.done = cmd.Process, make(chan error, 1)
	go func() { s.done <- cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			return nil
		}
		select {
		case err := <-s.done:
			s.proc = nil
			return fmt.Errorf("virtvboxd exited during start-up (%v): %s", err, strings.TrimSpace(stderr.String()))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stopDaemon()
			return fmt.Errorf("virtvboxd did not create %s within 10s", sock)
		}
	}
}

// stopDaemon sends SIGTERM and waits (SIGKILL after 15 s).
func (s *smoke) stopDaemon() {
	if s.proc == nil {
		return
	}
	s.proc.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		if err != nil {
			s.note(fmt.Sprintf("virtvboxd exited with %v after SIGTERM", err))
		}
	case <-time.After(15 * time.Second):
		s.proc.Kill()
		<-s.done
		s.note("virtvboxd did not exit within 15 s of SIGTERM and was killed")
	}
	s.proc = nil
}

// virshStep runs one virsh command of the workflow and checks its output.
func (s *smoke) virshStep(extraEnv []string, check func(out string) error, args ...string) bool {
	start := time.Now()
	out, errOut, err := s.command(s.virsh, extraEnv, append([]string{"-c", s.uri}, args...)...)
	st := step{what: "virsh " + strings.Join(args, " "), stdout: out, stderr: errOut, dur: time.Since(start), err: err}
	if err == nil && check != nil {
		st.err = check(out)
	}
	s.steps = append(s.steps, st)
	return st.err == nil
}

// has returns a check that out contains every want.
func has(wants ...string) func(string) error {
	return func(out string) error {
		for _, w := range wants {
			if !strings.Contains(out, w) {
				return fmt.Errorf("output lacks %q", w)
			}
		}
		return nil
	}
}

// state returns a check of `virsh domstate`.
func state(want string) func(string) error {
	return func(out string) error {
		if got := strings.TrimSpace(out); got != want {
			return fmt.Errorf("domain is %q, want %q", got, want)
		}
		return nil
	}
}

// workflow is the virsh session of a user trying the daemon out. It stops
// at the first failed step.
func (s *smoke) workflow() bool {
	const memKiB, editedKiB = 131072, 196608
	doc := fmt.Sprintf("<domain type='vbox'>\n  <name>%s</name>\n  <memory unit='KiB'>%d</memory>\n  <vcpu>1</vcpu>\n"+
		"  <os><type>hvm</type></os>\n  <devices>\n    <interface type='user'/>\n  </devices>\n</domain>\n", s.name, memKiB)
	xmlPath := filepath.Join(s.scratch, "smoke.xml")
	if err := os.WriteFile(xmlPath, []byte(doc), 0o600); err != nil {
		s.note("writing the domain XML: " + err.Error())
		return false
	}
	n := s.name
	// virsh runs `sh -c "$EDITOR file"`.
	editor := []string{fmt.Sprintf("EDITOR=sed -i -e 's/>%d</>%d</g'", memKiB, editedKiB)}
	notListed := func(out string) error {
		for _, l := range strings.Split(out, "\n") {
			if strings.TrimSpace(l) == n {
				return fmt.Errorf("%s is still listed", n)
			}
		}
		return nil
	}
	for _, st := range []struct {
		env   []string
		check func(string) error
		args  []string
	}{
		{nil, has("Running hypervisor: VBOX"), []string{"version"}},
		{nil, has("Domain '" + n + "' defined"), []string{"define", xmlPath}},
		{nil, has(n, "shut off"), []string{"list", "--all"}},
		{nil, has("State:          shut off", fmt.Sprintf("Max memory:     %d KiB", memKiB)), []string{"dominfo", n}},
		{nil, has("<name>"+n+"</name>", fmt.Sprintf("<memory unit='KiB'>%d</memory>", memKiB)), []string{"dumpxml", n}},
		{nil, has("Domain '" + n + "' started"), []string{"start", n}},
		{nil, state("running"), []string{"domstate", n}},
		{nil, has("Domain '" + n + "' suspended"), []string{"suspend", n}},
		{nil, state("paused"), []string{"domstate", n}},
		{nil, has("Domain '" + n + "' resumed"), []string{"resume", n}},
		{nil, state("running"), []string{"domstate", n}},
		{nil, has("Domain '" + n + "' destroyed"), []string{"destroy", n}},
		{nil, state("shut off"), []string{"domstate", n}},
		{editor, has("Domain '" + n + "' XML configuration edited"), []string{"edit", n}},
		{nil, has(fmt.Sprintf("Max memory:     %d KiB", editedKiB)), []string{"dominfo", n}},
		{nil, has("Domain '" + n + "' has been undefined"), []string{"undefine", n}},
		{nil, notListed, []string{"list", "--all", "--name"}},
	} {
		if !s.virshStep(st.env, st.check, st.args...) {
			return false
		}
	}
	return true
}

// cleanupVMs removes every machine in the scratch registry (only ours: the
// registry was empty at the start) and reports whether none was left by
// the workflow's own undefine. VBoxManage is run directly.
func (s *smoke) cleanupVMs() bool {
	if !s.isolated {
		return true
	}
	out, err := s.vboxmanage("list", "vms")
	if err != nil {
		s.note("cleanup: cannot list the scratch machines: " + err.Error())
		return false
	}
	clean := true
	uuidRE := regexp.MustCompile(`\{([0-9a-fA-F-]{36})\}\s*$`)
	for _, l := range strings.Split(out, "\n") {
		m := uuidRE.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		clean = false
		u := m[1]
		s.note("cleanup: removing machine " + strings.TrimSpace(l) + " left behind")
		s.vboxmanage("controlvm", u, "poweroff")
		var err error
		for try := 0; try < 10; try++ { // the VM process may still hold the lock after poweroff
			if _, err = s.vboxmanage("unregistervm", u, "--delete"); err == nil {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		if err != nil {
			s.note("cleanup: " + err.Error())
		}
	}
	return clean
}

// cleanupScratch waits for the scratch VBoxSVC to go (VirtualBox ends it
// 5 s after its last client) and removes the scratch directory and the IPC
// directory of our VBOX_IPC_SOCKETID.
func (s *smoke) cleanupScratch() {
	if s.scratch == "" {
		return
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(s.ownProcesses()) > 0 && time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
	}
	if left := s.ownProcesses(); len(left) > 0 {
		fmt.Fprintf(os.Stderr, "vbox-smoke: VirtualBox processes of the scratch home still run (pids %v); they exit on their own\n", left)
	}
	os.RemoveAll(s.scratch)
	os.RemoveAll(filepath.Join(os.TempDir(), ".vbox-"+s.ipcID+"-ipc"))
}

// ownProcesses lists the processes that carry our VBOX_IPC_SOCKETID in
// their environment (VBoxSVC, VBoxXPCOMIPCD, VM processes of the scratch
// home).
func (s *smoke) ownProcesses() []int {
	marker := []byte("VBOX_IPC_SOCKETID=" + s.ipcID + "\x00")
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err == nil && bytes.Contains(env, marker) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func sortCalls(calls []call) {
	sort.SliceStable(calls, func(i, j int) bool { return calls[i].Start.Before(calls[j].Start) })
}
