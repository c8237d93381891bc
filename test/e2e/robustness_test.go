package e2e

// The "3 a.m." scenarios: the daemon against a VBoxManage that hangs,
// crashes or prints garbage, hostile packets on its socket, many clients at
// once, hostile names and documents, and a SIGKILL while guests run. Each
// asserts the libvirt-style outcome and that the daemon keeps serving.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// withFaults makes the daemon run VBoxManage through a wrapper that reads
// VBOXSIM_FAULTS from a file at every call, so that d.setFaults can break
// and mend VirtualBox under a running daemon.
func withFaults() daemonOpt { return func(s *daemonSettings) { s.faults = true } }

// withUncachedReads makes every read of the daemon list the machines (no
// watcher, a cache age of 1 ns), so that a fault set between two calls is
// met by the next one without waiting out a cache age.
func withUncachedReads() daemonOpt {
	return withDaemonEnv("VIRTVBOXD_TEST_WATCH_INTERVAL=-1s", "VIRTVBOXD_TEST_MAX_AGE=1ns")
}

// faultFile is where the wrapper of withFaults reads VBOXSIM_FAULTS.
func (d *daemon) faultFile() string { return filepath.Join(d.Dir, "faults") }

// writeFaultWrapper writes the VBoxManage wrapper of withFaults and returns
// its path. It reads the file with the shell's read builtin and execs the
// simulator, so a VBoxManage call is still exactly one process.
func (d *daemon) writeFaultWrapper(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(d.Dir, "faultbin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "VBoxManage")
	script := fmt.Sprintf("#!/bin/sh\nVBOXSIM_FAULTS=\n[ -r %[1]q ] && IFS= read -r VBOXSIM_FAULTS < %[1]q\n"+
		"[ \"$VBOXSIM_FAULTS\" = endless ] && exec yes VBoxManage\nexport VBOXSIM_FAULTS\nexec %[2]q \"$@\"\n",
		d.faultFile(), filepath.Join(d.Sim.BinDir, "VBoxManage"))
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// setFaults sets VBOXSIM_FAULTS for the daemon's next VBoxManage calls ("" mends;
// "endless": VBoxManage prints lines without end).
func (d *daemon) setFaults(t testing.TB, spec string) {
	t.Helper()
	if err := os.WriteFile(d.faultFile(), []byte(spec+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (d *daemon) pid() int { return d.cmd.Process.Pid }

// alive fails the test unless the daemon process still runs and its log
// shows no panic.
func (d *daemon) alive(t testing.TB) {
	t.Helper()
	select {
	case err := <-d.done:
		d.done <- err
		t.Fatalf("virtvboxd exited: %v", err)
	default:
	}
	if err := d.cmd.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("virtvboxd is gone: %v", err)
	}
	log, err := os.ReadFile(d.Log)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(bytes.ToLower(log), []byte("panic")) {
		t.Errorf("the daemon log mentions a panic:\n%s", log)
	}
}

// procs returns "pid cmdline" of every process whose parent is ppid, or
// whose command line mentions dir (a VBoxManage orphaned by its caller).
func procs(ppid int, dir string) []string {
	ents, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		rest := string(stat[bytes.LastIndexByte(stat, ')')+1:])
		f := strings.Fields(rest)
		if len(f) < 2 {
			continue
		}
		parent, _ := strconv.Atoi(f[1])
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		cl := strings.ReplaceAll(strings.TrimRight(string(cmdline), "\x00"), "\x00", " ")
		if parent == ppid || dir != "" && strings.Contains(cl, dir) && pid != ppid {
			out = append(out, fmt.Sprintf("%d [%s] %s", pid, f[0], cl))
		}
	}
	return out
}

// noLeftovers waits a little for the daemon's VBoxManage children to be
// gone, then fails the test if any process is left: a child of the daemon,
// or anything running from the test's directory (an orphan).
func (d *daemon) noLeftovers(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := procs(d.pid(), d.Dir)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("processes left behind by the daemon:\n%s", strings.Join(left, "\n"))
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitChild waits until the daemon has a child process whose command line
// contains word (a VBoxManage call in progress).
func (d *daemon) waitChild(t testing.TB, word string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, p := range procs(d.pid(), "") {
			if strings.Contains(p, word) {
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no VBoxManage %s started by the daemon within 10s", word)
}

// virshResult is one virsh run.
type virshResult struct {
	out, errs string
	err       error
	took      time.Duration
}

// virshAsync runs virsh in the background.
func (d *daemon) virshAsync(t testing.TB, args ...string) <-chan virshResult {
	ch := make(chan virshResult, 1)
	go func() {
		start := time.Now()
		out, errs, err := d.virsh(t, args...)
		ch <- virshResult{out, errs, err, time.Since(start)}
	}()
	return ch
}

// minimalXML is a small domain with the given name (XML-escaped here) and UUID.
func minimalXML(name, uuid string) string {
	var b strings.Builder
	b.WriteString("<domain type='vbox'>\n  <name>")
	_ = xmlEscape(&b, name)
	b.WriteString("</name>\n")
	if uuid != "" {
		b.WriteString("  <uuid>" + uuid + "</uuid>\n")
	}
	b.WriteString("  <memory unit='MiB'>256</memory>\n  <vcpu>1</vcpu>\n  <os><type>hvm</type></os>\n" +
		"  <devices><interface type='user'><model type='82540em'/></interface></devices>\n</domain>\n")
	return b.String()
}

func xmlEscape(b *strings.Builder, s string) error {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")
	_, err := b.WriteString(r.Replace(s))
	return err
}

// defineFile writes doc to a file in the daemon's directory and runs virsh define.
func (d *daemon) writeFile(t testing.TB, name, doc string) string {
	t.Helper()
	p := filepath.Join(d.Dir, name)
	if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A VBoxManage that never answers: with vboxmanage_timeout = 2 the call
// fails with libvirt's timeout error within bounded time, the daemon keeps
// serving other calls and other machines meanwhile, works again once
// VirtualBox does, and leaves no VBoxManage process behind.
func TestRobustHangingVBoxManage(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, withFaults(), withConfig("vboxmanage_timeout = 2"), withUncachedReads())
	const a, b = "11111111-0000-4000-8000-00000000000a", "11111111-0000-4000-8000-00000000000b"
	d.mustVirsh(t, "define", d.writeFile(t, "a.xml", minimalXML("hang-a", a)))
	d.mustVirsh(t, "define", d.writeFile(t, "b.xml", minimalXML("hang-b", b)))
	d.mustVirsh(t, "version") // the version is read once and cached
	// Settings are kept until the machine changes: change it.
	d.Sim.mustVBoxManage(t, "setextradata", a, "robust/probe", "1")

	// showvminfo hangs: dumpxml of one machine waits for the timeout...
	d.setFaults(t, "showvminfo=hang")
	hung := d.virshAsync(t, "dumpxml", a)
	d.waitChild(t, "showvminfo")
	// ...while everything that does not need showvminfo goes on. (Lifecycle
	// calls read the machine's state back with showvminfo: they wait too.)
	contains(t, "version during a hang", d.mustVirsh(t, "version"), "Running hypervisor: VBOX")
	contains(t, "list during a hang", d.mustVirsh(t, "list", "--all"), "hang-a", "hang-b")
	contains(t, "dominfo of another VM during a hang", d.mustVirsh(t, "dominfo", b), "hang-b", "shut off")
	d.mustVirsh(t, "setmem", b, "524288", "--config")
	contains(t, "dominfo after setmem during a hang", d.mustVirsh(t, "dominfo", b), "Max memory:     524288 KiB")
	var r virshResult
	select {
	case r = <-hung:
	case <-time.After(30 * time.Second):
		t.Fatal("virsh dumpxml on a hanging VBoxManage did not return within 30s (vboxmanage_timeout = 2)")
	}
	if r.err == nil {
		t.Fatalf("dumpxml on a hanging VBoxManage succeeded:\n%s", r.out)
	}
	contains(t, "dumpxml on a hanging VBoxManage", r.errs, "Timed out during operation", "hang-a",
		"VBoxManage showvminfo gave no answer within 2s (vboxmanage_timeout) and was killed")
	d.noLeftovers(t)

	// The machine list hangs: listing fails the same way; the host calls that
	// need no VBoxManage still answer meanwhile.
	d.setFaults(t, "list=hang")
	hung = d.virshAsync(t, "list", "--all")
	d.waitChild(t, "list")
	contains(t, "version while list hangs", d.mustVirsh(t, "version"), "Running hypervisor: VBOX")
	contains(t, "uri while list hangs", d.mustVirsh(t, "uri"), "vbox:///session")
	// A lookup joins the hanging refresh and fails with it: a timeout, never
	// "domain not found" (VIR_ERR_NO_DOMAIN = 42).
	contains(t, "lookup while list hangs", d.python(t, "robust_lookup.py", "--uuid", a), "error 68 ", "Timed out during operation")
	select {
	case r = <-hung:
	case <-time.After(30 * time.Second):
		t.Fatal("virsh list on a hanging VBoxManage did not return within 30s")
	}
	if r.err == nil {
		t.Fatalf("list on a hanging VBoxManage succeeded:\n%s", r.out)
	}
	contains(t, "list on a hanging VBoxManage", r.errs, "Timed out during operation", "cannot list machines",
		"VBoxManage list gave no answer within 2s")
	d.noLeftovers(t)

	// controlvm hangs: destroy fails with the timeout while the machine's
	// lock is held, reads of it go on, and the next destroy works.
	d.setFaults(t, "")
	d.mustVirsh(t, "start", b)
	d.setFaults(t, "controlvm=hang")
	hung = d.virshAsync(t, "destroy", b)
	d.waitChild(t, "controlvm")
	contains(t, "dominfo of a VM whose destroy hangs", d.mustVirsh(t, "dominfo", b), "running")
	if r = <-hung; r.err == nil || !strings.Contains(r.errs, "VBoxManage controlvm gave no answer within 2s") {
		t.Errorf("destroy on a hanging controlvm: %v\n%s", r.err, r.errs)
	}
	d.setFaults(t, "")
	contains(t, "destroy once controlvm answers", d.mustVirsh(t, "destroy", b), "destroyed")
	if got := vmState(t, d.Sim, b); got != "poweroff" {
		t.Errorf("VirtualBox state after destroy = %q", got)
	}
	d.noLeftovers(t)

	// VirtualBox answers again: so does everything.
	d.setFaults(t, "")
	contains(t, "list after the hang", d.mustVirsh(t, "list", "--all"), "hang-a", "hang-b")
	contains(t, "dumpxml after the hang", d.mustVirsh(t, "dumpxml", a), "<name>hang-a</name>")
	contains(t, "start after the hang", d.mustVirsh(t, "start", a), "started")
	if got := vmState(t, d.Sim, a); got != "running" {
		t.Errorf("VirtualBox state after start = %q", got)
	}
	d.mustVirsh(t, "destroy", a)
	d.noLeftovers(t)
	d.alive(t)
}

// A VBoxManage that crashes, prints garbage, fails, or cannot reach VBoxSVC:
// every call fails with a clear libvirt error naming what broke, the daemon
// does not panic, and it works as before once VirtualBox is mended.
func TestRobustBrokenVBoxManage(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, withFaults(), withConfig("vboxmanage_timeout = 10"), withUncachedReads())

	// Before the version is known: --version itself broken.
	for kind, want := range map[string]string{
		"crash":   "terminated abnormally",
		"garbage": "version",
		"error":   "Unspecified error",
		"svcdown": "VirtualBox service unavailable",
	} {
		d.setFaults(t, "--version="+kind)
		contains(t, "version with --version="+kind, d.virshFails(t, "version"), "error: ", want)
	}
	d.setFaults(t, "")
	const u = "22222222-0000-4000-8000-00000000000a"
	d.mustVirsh(t, "define", d.writeFile(t, "a.xml", minimalXML("broken-a", u)))
	before := d.Sim.mustVBoxManage(t, "showvminfo", u, "--machinereadable")

	type probe struct {
		fault string   // VBOXSIM_FAULTS
		args  []string // virsh command
		want  []string // in virsh's stderr
	}
	var probes []probe
	for kind, want := range map[string]string{
		"crash":   "terminated abnormally",
		"error":   "Unspecified error",
		"svcdown": "VirtualBox service unavailable: Failed to create the VirtualBox object!",
	} {
		probes = append(probes,
			probe{"list=" + kind, []string{"list", "--all"}, []string{"cannot list machines", want}},
			probe{"showvminfo=" + kind, []string{"dumpxml", u}, []string{want}},
			probe{"startvm=" + kind, []string{"start", u}, []string{"start", want}},
			probe{"list=" + kind, []string{"nodeinfo"}, []string{"host information", want}},
		)
	}
	probes = append(probes,
		probe{"list=garbage", []string{"list", "--all"}, []string{"cannot list machines", "unexpected"}},
		probe{"list=garbage", []string{"nodeinfo"}, []string{"error: "}},
		probe{"showvminfo=garbage", []string{"dumpxml", u}, []string{"output names machine"}},
		probe{"*=svcdown", []string{"list"}, []string{"VirtualBox service unavailable"}},
		// Killed at the output limit, long before vboxmanage_timeout.
		probe{"endless", []string{"list", "--all"}, []string{"cannot list machines", "printed more than 64 MiB on stdout and was killed"}},
	)
	for i, p := range probes {
		// Every read lists the machines (withUncachedReads); a changed
		// machine's settings are read again, so dumpxml reaches showvminfo.
		d.Sim.mustVBoxManage(t, "setextradata", u, "robust/probe", fmt.Sprint(i))
		d.setFaults(t, p.fault)
		errs := d.virshFails(t, p.args...)
		contains(t, fmt.Sprintf("virsh %s with %s", strings.Join(p.args, " "), p.fault), errs, append([]string{"error: "}, p.want...)...)
		d.setFaults(t, "")
		// Each failure is one call's failure: the next call works.
		contains(t, "list after "+p.fault, d.mustVirsh(t, "list", "--all"), "broken-a")
	}
	// A broken VirtualBox never makes a machine "not found" (VIR_ERR_NO_DOMAIN
	// = 42), which a script would take for the machine being gone.
	for kind, want := range map[string]string{"svcdown": "error 1 ", "crash": "error 1 ", "garbage": "error 1 "} {
		d.setFaults(t, "list="+kind)
		got := d.python(t, "robust_lookup.py", "broken-a")
		contains(t, "lookup with list="+kind, got, want, "cannot look up machines")
	}
	d.setFaults(t, "")
	contains(t, "lookup once mended", d.python(t, "robust_lookup.py", "broken-a"), "ok broken-a")

	// VBoxManage gone mid-upgrade: not executable, then back.
	wrapper := filepath.Join(d.Dir, "faultbin", "VBoxManage")
	if err := os.Chmod(wrapper, 0o644); err != nil {
		t.Fatal(err)
	}
	contains(t, "list with VBoxManage not executable", d.virshFails(t, "list", "--all"), "cannot list machines", "permission denied")
	if err := os.Chmod(wrapper, 0o755); err != nil {
		t.Fatal(err)
	}
	contains(t, "list with VBoxManage back", d.mustVirsh(t, "list", "--all"), "broken-a")

	d.setFaults(t, "")
	if got := vmState(t, d.Sim, u); got != "poweroff" {
		t.Errorf("VirtualBox state after failed starts = %q", got)
	}
	contains(t, "domstate after failed starts", d.mustVirsh(t, "domstate", u), "shut off")
	if after := d.Sim.mustVBoxManage(t, "showvminfo", u, "--machinereadable"); after != before {
		t.Errorf("failed calls changed the machine:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	contains(t, "start once mended", d.mustVirsh(t, "start", u), "started")
	d.mustVirsh(t, "destroy", u)
	d.noLeftovers(t)
	d.alive(t)
	// The endless output was not kept: the daemon's peak memory stayed far
	// below what ten seconds of it would take (gigabytes).
	status := mustRead(t, fmt.Sprintf("/proc/%d/status", d.pid()))
	if m := regexp.MustCompile(`VmHWM:\s+(\d+) kB`).FindStringSubmatch(status); m != nil {
		if kb, _ := strconv.Atoi(m[1]); kb > 1<<20 {
			t.Errorf("the daemon's peak resident memory is %d MiB", kb>>10)
		}
	}
}

// rawClient speaks libvirt's RPC by hand on the daemon's socket.
type rawClient struct {
	t      testing.TB
	c      net.Conn
	r      *bufio.Reader
	serial uint32
}

const (
	remoteProg      = 0x20008086
	procOpen        = 1  // REMOTE_PROC_CONNECT_OPEN
	procGetType     = 3  // REMOTE_PROC_CONNECT_GET_TYPE
	procLookupName  = 23 // REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME
	procGetLibVer   = 157
	errCodeRPC      = 39 // VIR_ERR_RPC
	errCodeNoDomain = 42 // VIR_ERR_NO_DOMAIN
)

func dialRaw(t testing.TB, path string) *rawClient {
	t.Helper()
	c, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawClient{t: t, c: c, r: bufio.NewReader(c)}
}

// xdrString is an XDR string.
func xdrString(s string) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(s)))
	b = append(b, s...)
	return append(b, make([]byte, (4-len(s)%4)%4)...)
}

// call sends one CALL of the remote program and returns its serial.
func (rc *rawClient) send(proc int32, payload []byte) uint32 {
	rc.t.Helper()
	rc.serial++
	b := make([]byte, 28, 28+len(payload))
	binary.BigEndian.PutUint32(b[0:], uint32(28+len(payload)))
	binary.BigEndian.PutUint32(b[4:], remoteProg)
	binary.BigEndian.PutUint32(b[8:], 1)
	binary.BigEndian.PutUint32(b[12:], uint32(proc))
	binary.BigEndian.PutUint32(b[16:], 0) // CALL
	binary.BigEndian.PutUint32(b[20:], rc.serial)
	binary.BigEndian.PutUint32(b[24:], 0) // OK
	rc.write(append(b, payload...))
	return rc.serial
}

func (rc *rawClient) write(b []byte) {
	rc.t.Helper()
	rc.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := rc.c.Write(b); err != nil {
		rc.t.Fatalf("write: %v", err)
	}
}

// reply reads one reply: its serial, status (0 ok, 1 error) and payload;
// for an error, the code and message of the remote_error.
type rawReply struct {
	serial, status uint32
	payload        []byte
	code           int32
	msg            string
}

func (rc *rawClient) reply() (rawReply, error) {
	rc.c.SetReadDeadline(time.Now().Add(20 * time.Second))
	var lb [4]byte
	if _, err := io.ReadFull(rc.r, lb[:]); err != nil {
		return rawReply{}, err
	}
	n := binary.BigEndian.Uint32(lb[:])
	if n < 28 || n > 1<<20 {
		rc.t.Fatalf("reply with length %d", n)
	}
	body := make([]byte, n-4)
	if _, err := io.ReadFull(rc.r, body); err != nil {
		return rawReply{}, err
	}
	r := rawReply{serial: binary.BigEndian.Uint32(body[16:]), status: binary.BigEndian.Uint32(body[20:]), payload: body[24:]}
	if r.status == 1 && len(r.payload) >= 12 {
		p := r.payload
		r.code = int32(binary.BigEndian.Uint32(p[0:]))
		if binary.BigEndian.Uint32(p[8:]) != 0 && len(p) >= 16 {
			l := binary.BigEndian.Uint32(p[12:])
			if int(l) <= len(p)-16 {
				r.msg = string(p[16 : 16+l])
			}
		}
	}
	return r, nil
}

func (rc *rawClient) mustReply(what string, serial uint32) rawReply {
	rc.t.Helper()
	r, err := rc.reply()
	if err != nil {
		rc.t.Fatalf("%s: no reply: %v", what, err)
	}
	if r.serial != serial {
		rc.t.Fatalf("%s: reply to serial %d, want %d", what, r.serial, serial)
	}
	return r
}

// open sends CONNECT_OPEN for the session URI.
func (rc *rawClient) open() {
	rc.t.Helper()
	p := binary.BigEndian.AppendUint32(nil, 1)
	p = append(p, xdrString("vbox:///session")...)
	p = binary.BigEndian.AppendUint32(p, 0)
	if r := rc.mustReply("CONNECT_OPEN", rc.send(procOpen, p)); r.status != 0 {
		rc.t.Fatalf("CONNECT_OPEN failed: %d %s", r.code, r.msg)
	}
}

// works checks that the connection still serves a call.
func (rc *rawClient) works(what string) {
	rc.t.Helper()
	r := rc.mustReply(what, rc.send(procGetType, nil))
	if r.status != 0 || !bytes.Contains(r.payload, []byte("VBOX")) {
		rc.t.Fatalf("%s: CONNECT_GET_TYPE answered status %d %q", what, r.status, r.msg)
	}
}

// closedByServer checks that the daemon dropped the connection.
func (rc *rawClient) closedByServer(what string) {
	rc.t.Helper()
	rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(rc.r)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		rc.t.Fatalf("%s: the daemon kept the connection open", what)
	}
	if len(b) > 0 {
		rc.t.Errorf("%s: the daemon answered %d bytes before closing", what, len(b))
	}
}

// Hostile packets on the real socket: framing errors close that connection
// only; a CALL the daemon cannot decode or does not know gets an error reply
// and the connection stays usable; other clients never notice.
func TestRobustMalformedPackets(t *testing.T) {
	t.Parallel()
	d := startDaemon(t)
	d.mustVirsh(t, "define", "testdata/web01.xml")
	good := dialRaw(t, d.RW)
	good.open()
	good.works("a fresh connection")

	frame := func(n uint32, rest []byte) []byte { return append(binary.BigEndian.AppendUint32(nil, n), rest...) }
	rng := rand.New(rand.NewPCG(9, 9))
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(rng.UintN(256))
	}
	random[0] = 0xde // a length word far out of bounds
	for _, bad := range []struct {
		name string
		data []byte
	}{
		{"length 33554437 (VIR_NET_MESSAGE_MAX + 5)", frame(33554437, make([]byte, 64))},
		{"length 2", frame(2, nil)},
		{"length 0", frame(0, nil)},
		{"length 0xffffffff", frame(0xffffffff, nil)},
		{"random bytes", random},
	} {
		c := dialRaw(t, d.RW)
		c.write(bad.data)
		c.closedByServer(bad.name)
		good.works("after " + bad.name + " on another connection")
	}

	// The admin and read-only sockets frame the same way.
	for _, sock := range []string{d.Admin, d.RO} {
		if !exists(sock) {
			continue
		}
		c := dialRaw(t, sock)
		c.write(frame(2, nil))
		c.closedByServer("length 2 on " + filepath.Base(sock))
	}
	contains(t, "virt-admin after bad packets", d.mustVirtAdmin(t, "srv-list"), "virtvboxd")

	// A packet announcing the largest length, then nothing: the daemon waits
	// for it without blocking anyone else, and lets go when the peer leaves.
	slow := dialRaw(t, d.RW)
	slow.write(frame(33554436, make([]byte, 100)))
	good.works("while another client sends a huge packet slowly")
	contains(t, "virsh while another client sends a huge packet slowly", d.mustVirsh(t, "list", "--all"), "web01")
	slow.c.Close()

	// Undecodable payloads and unknown procedures: an error reply, and the
	// connection goes on.
	c := dialRaw(t, d.RW)
	r := c.mustReply("CONNECT_OPEN with a truncated payload", c.send(procOpen, []byte{0, 0, 0, 1, 0xff, 0xff}))
	if r.status != 1 {
		t.Errorf("CONNECT_OPEN with a truncated payload: status %d, want an error", r.status)
	}
	c.open()
	c.works("after an undecodable CONNECT_OPEN")
	for _, p := range []struct {
		name    string
		proc    int32
		payload []byte
		code    int32
		msg     string
	}{
		{"LOOKUP_BY_NAME without arguments", procLookupName, nil, errCodeRPC, "Unable to decode message payload"},
		{"LOOKUP_BY_NAME with a string longer than the packet", procLookupName, []byte{0x7f, 0xff, 0xff, 0xff, 'a', 'b', 'c', 'd'}, errCodeRPC, "Unable to decode message payload"},
		{"LOOKUP_BY_NAME with a 4 GiB string", procLookupName, []byte{0xff, 0xff, 0xff, 0xff}, errCodeRPC, "Unable to decode message payload"},
		{"unknown procedure 9999", 9999, nil, errCodeRPC, "unknown procedure: 9999"},
		{"procedure 0", 0, nil, errCodeRPC, "unknown procedure: 0"},
		{"negative procedure", -5, nil, errCodeRPC, "unknown procedure: -5"},
		{"LOOKUP_BY_NAME of a missing domain", procLookupName, xdrString("no-such"), errCodeNoDomain, "no-such"},
	} {
		r := c.mustReply(p.name, c.send(p.proc, p.payload))
		if r.status != 1 || r.code != p.code || !strings.Contains(r.msg, p.msg) {
			t.Errorf("%s: status %d code %d %q, want an error with code %d and %q", p.name, r.status, r.code, r.msg, p.code, p.msg)
		}
		c.works("after " + p.name)
	}
	// A whole valid lookup on the same connection.
	r = c.mustReply("LOOKUP_BY_NAME web01", c.send(procLookupName, xdrString("web01")))
	if r.status != 0 || !bytes.Contains(r.payload, []byte("web01")) {
		t.Errorf("LOOKUP_BY_NAME web01 after the bad calls: status %d %q", r.status, r.msg)
	}
	// Another program, a reply instead of a call, and a non-zero status.
	hdr := func(prog, vers, typ, status uint32) []byte {
		b := frame(28, nil)
		for _, v := range []uint32{prog, vers, procGetType, typ, 77, status} {
			b = binary.BigEndian.AppendUint32(b, v)
		}
		return b
	}
	c.write(hdr(0x12345678, 1, 0, 0))
	if r := c.mustReply("unknown program", 77); r.status != 1 || !strings.Contains(r.msg, "Cannot find program") {
		t.Errorf("unknown program: status %d %q", r.status, r.msg)
	}
	c.write(hdr(remoteProg, 1, 1, 0)) // a REPLY from the client is dropped
	c.write(hdr(remoteProg, 1, 0, 2)) // a CALL with status CONTINUE
	if r := c.mustReply("CALL with status CONTINUE", 77); r.status != 1 || !strings.Contains(r.msg, "Unexpected message status") {
		t.Errorf("CALL with status CONTINUE: status %d %q", r.status, r.msg)
	}
	c.works("after the odd headers")
	good.works("at the end")
	contains(t, "virsh at the end", d.mustVirsh(t, "list", "--all"), "web01")
	d.alive(t)
}

// listVMs returns name by UUID from VBoxManage list vms.
func listVMs(t testing.TB, s *sim) (uuids []string, names map[string]string) {
	t.Helper()
	names = map[string]string{}
	re := regexp.MustCompile(`^"(.*)" \{([0-9a-f-]{36})\}$`)
	for _, line := range strings.Split(s.mustVBoxManage(t, "list", "vms"), "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			uuids = append(uuids, m[2])
			names[m[2]] = m[1]
		}
	}
	return uuids, names
}

// libvirtState is what virsh domstate prints for a VirtualBox state.
var libvirtState = map[string]string{
	"running": "running", "paused": "paused", "poweroff": "shut off", "saved": "shut off", "aborted": "crashed",
}

// Sixteen virsh processes at once listing, querying, starting and
// destroying twenty machines: only the expected refusals, and in the end
// every machine's state in virsh is VirtualBox's.
func TestRobustManyClients(t *testing.T) {
	t.Parallel()
	// Flaky sessions, the default session-lock linger after a poweroff.
	d := startDaemon(t, withDaemonEnv("VBOXSIM_LATENCY=10ms", "VBOXSIM_FLAKY=on"))
	d.Sim.Seed(t, 20, 6)
	uuids, names := listVMs(t, d.Sim)
	if len(uuids) != 20 {
		t.Fatalf("seeded %d VMs, want 20", len(uuids))
	}
	expected := []string{"already active", "domain is already running", "domain is not running",
		"machine already powered down", "machine not running"}
	var (
		mu      sync.Mutex
		runs    int
		refused int
	)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 16))
			for range 6 {
				u := uuids[rng.IntN(len(uuids))]
				var args []string
				switch rng.IntN(5) {
				case 0:
					args = []string{"list", "--all"}
				case 1:
					args = []string{"dominfo", u}
				case 2, 3:
					args = []string{"start", u}
				default:
					args = []string{"destroy", u}
				}
				out, errs, err := d.virsh(t, args...)
				mu.Lock()
				runs++
				mu.Unlock()
				if err == nil {
					if args[0] == "list" && strings.Count(out, "\n") < 22 {
						t.Errorf("virsh list --all printed:\n%s", out)
					}
					continue
				}
				ok := false
				for _, e := range expected {
					ok = ok || strings.Contains(errs, e)
				}
				if !ok || args[0] == "list" || args[0] == "dominfo" {
					t.Errorf("virsh %s (%s): unexpected failure: %v\n%s", strings.Join(args, " "), names[u], err, errs)
				}
				mu.Lock()
				refused++
				mu.Unlock()
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(90 * time.Second):
		t.Fatal("16 clients did not finish 96 virsh commands within 90s")
	}
	t.Logf("%d virsh commands, %d expected refusals", runs, refused)

	for _, u := range uuids {
		want := libvirtState[vmState(t, d.Sim, u)]
		if got := strings.TrimSpace(d.mustVirsh(t, "domstate", u)); got != want {
			t.Errorf("VM %q (%s): virsh domstate %q, VirtualBox says %q", names[u], u, got, want)
		}
	}

	// Eight clients define one new name at once: one creates it, the others
	// update it, and VirtualBox ends up with one machine of that name.
	var defs []<-chan virshResult
	for i := range 8 {
		doc := strings.Replace(minimalXML("same-name", ""), "256", strconv.Itoa(256+i), 1)
		defs = append(defs, d.virshAsync(t, "define", d.writeFile(t, fmt.Sprintf("same%d.xml", i), doc)))
	}
	for _, ch := range defs {
		if r := <-ch; r.err != nil {
			t.Errorf("concurrent define of one name: %v\n%s", r.err, r.errs)
		}
	}
	if _, names := listVMs(t, d.Sim); len(names) != 21 {
		t.Errorf("%d machines after 8 defines of one new name, want 21", len(names))
	}
	d.alive(t)
}

// oddNames are VM names hostile to command lines, shells and XML.
var oddNames = []string{
	`it's "quoted"`, "--help", "-leading-dash", "with  two spaces", "  padded  ", "ünïcødé ☃ 名前",
	"xml & <special> chars", "a=b;c|d`$(e)`", strings.Repeat("long-", 40),
}

// Hostile VM names through virsh (addressed by UUID, as a careful script
// does) and through python3-libvirt (by name): every one survives define,
// start, dumpxml, destroy and undefine unchanged.
func TestRobustOddNames(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, withDaemonEnv("VBOXSIM_LOCK_LINGER=100ms"))
	for i, name := range oddNames {
		u := fmt.Sprintf("33333333-0000-4000-8000-%012d", i)
		contains(t, "define "+name, d.mustVirsh(t, "define", d.writeFile(t, fmt.Sprintf("odd%d.xml", i), minimalXML(name, u))), "defined")
		if got := strings.TrimSuffix(d.mustVirsh(t, "domname", u), "\n\n"); got != name {
			t.Errorf("domname %s = %q, want %q", u, got, name)
		}
		if _, names := listVMs(t, d.Sim); names[u] != name {
			t.Errorf("VirtualBox calls %s %q, want %q", u, names[u], name)
		}
		contains(t, "start "+name, d.mustVirsh(t, "start", u), "started")
		if got := vmState(t, d.Sim, u); got != "running" {
			t.Errorf("%q: VirtualBox state after start = %q", name, got)
		}
		var dumped struct {
			Name string `xml:"name"`
		}
		if err := xml.Unmarshal([]byte(d.mustVirsh(t, "dumpxml", u)), &dumped); err != nil || dumped.Name != name {
			t.Errorf("dumpxml %s: name %q (%v), want %q", u, dumped.Name, err, name)
		}
		contains(t, "list "+name, d.mustVirsh(t, "list", "--name"), name+"\n")
		d.mustVirsh(t, "destroy", u)
		contains(t, "undefine "+name, d.mustVirsh(t, "undefine", u), "undefined")
	}
	if uuids, _ := listVMs(t, d.Sim); len(uuids) != 0 {
		t.Errorf("VMs left after undefine: %v", uuids)
	}
	out := d.python(t, "lifecycle.py", oddNames...)
	for _, n := range oddNames {
		contains(t, "lifecycle.py", out, "ok "+n+"\n")
	}
	d.alive(t)
}

// changers are the VBoxManage commands that change machines.
var changers = []string{"createvm", "registervm", "unregistervm", "modifyvm", "storagectl", "storageattach", "createmedium"}

// commandCount counts the simulator's invocations of one command word.
func (s *sim) commandCount(t testing.TB, cmd string) int {
	t.Helper()
	c := exec.Command(filepath.Join(binDir, "vboxsim"), "log", "--count", "--command", cmd)
	c.Env = append(os.Environ(), s.Env()...)
	out, err := c.Output()
	if err != nil {
		t.Fatalf("vboxsim log --count --command %s: %v", cmd, err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("vboxsim log --count printed %q", out)
	}
	return n
}

// Bad documents through virsh define: each is refused with a clear error
// and VirtualBox is left exactly as it was.
func TestRobustBadXML(t *testing.T) {
	t.Parallel()
	d := startDaemon(t)
	const web01 = "6c0b2e4f-2a3b-4f7e-9d1c-1f2e3d4c5b6a"
	d.mustVirsh(t, "define", "testdata/web01.xml")
	d.mustVirsh(t, "define", d.writeFile(t, "other.xml", minimalXML("other", "44444444-0000-4000-8000-000000000001")))
	snapshot := func() string {
		var b strings.Builder
		uuids, _ := listVMs(t, d.Sim)
		for _, u := range uuids {
			b.WriteString(d.Sim.mustVBoxManage(t, "showvminfo", u, "--machinereadable"))
		}
		return b.String()
	}
	before := snapshot()
	calls := map[string]int{}
	for _, cmd := range changers {
		calls[cmd] = d.Sim.commandCount(t, cmd)
	}
	web01XML := mustRead(t, "testdata/web01.xml")
	huge := "<domain type='vbox'><name>huge</name><memory unit='MiB'>256</memory><vcpu>1</vcpu><os><type>hvm</type></os><devices>" +
		strings.Repeat("<disk type='file' device='disk'><source file='/nonexistent/d.vdi'/><target dev='sda' bus='sata'/></disk>\n", 30000) +
		"</devices></domain>"
	for _, c := range []struct {
		name, doc string
		want      []string
	}{
		{"not XML", "this is not XML at all\n", []string{"XML error"}},
		{"empty", "", []string{"XML error: no domain element"}},
		{"truncated", "<domain type='vbox'><name>half", []string{"XML error"}},
		{"wrong root", "<network><name>net</name></network>", []string{"XML error: unexpected root element <network>, expecting <domain>"}},
		{"binary", "\x00\x01\x02<domain>\xff\xfe", []string{"XML error"}},
		{"entity expansion", `<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><domain type='vbox'><name>&c;</name></domain>`, []string{"XML error"}},
		{"unknown device", strings.Replace(web01XML, "</devices>", "<frobnicator model='x'/></devices>", 1), []string{"unsupported configuration", "frobnicator"}},
		{"unsupported device", strings.Replace(web01XML, "</devices>", "<tpm model='tpm-tis'><backend type='emulator'/></tpm></devices>", 1), []string{"unsupported configuration", "tpm"}},
		{"huge (3 MB, 30000 disks on one target)", huge, []string{"unsupported configuration", "same controller slot"}},
		{"huge (5 MB, over the RPC string limit)", "<!--" + strings.Repeat("x", 5<<20) + "-->" + minimalXML("huge5", ""), []string{"Unable to encode message payload"}},
		{"same name, other UUID", minimalXML("web01", "44444444-0000-4000-8000-000000000002"), []string{"web01", "already exists", web01}},
		{"UUID of another VM", minimalXML("renamed", web01), []string{"domain 'web01' is already defined with uuid " + web01}},
		{"domain type kvm", strings.Replace(minimalXML("kvm-guest", ""), "type='vbox'", "type='kvm'", 1), []string{"invalid argument", "domaintype=kvm"}},
		{"more vCPUs than VirtualBox allows", strings.Replace(minimalXML("many-cpus", ""), "<vcpu>1</vcpu>", "<vcpu>9999</vcpu>", 1),
			[]string{"unsupported configuration: 9999 vCPUs requested, but VirtualBox on this host allows at most"}},
		{"description over 64 KiB", strings.Replace(minimalXML("long-desc", ""), "</name>", "</name><description>"+strings.Repeat("d", 200<<10)+"</description>", 1),
			[]string{"unsupported configuration: description of 204800 bytes"}},
	} {
		errs := d.virshFails(t, "define", d.writeFile(t, "bad.xml", c.doc))
		contains(t, "define "+c.name, errs, c.want...)
		if len(errs) > 4000 {
			t.Errorf("define %s: a %d-byte error message", c.name, len(errs))
		}
	}
	if after := snapshot(); after != before {
		t.Errorf("refused documents changed VirtualBox:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// Nothing that changes a machine even ran.
	for _, cmd := range changers {
		if n := d.Sim.commandCount(t, cmd); n != calls[cmd] {
			t.Errorf("refused documents ran VBoxManage %s %d times", cmd, n-calls[cmd])
		}
	}
	contains(t, "dominfo web01 after the bad documents", d.mustVirsh(t, "dominfo", web01), "Name:           web01")
	d.alive(t)
}

// SIGKILL while guests run, then a new daemon: it takes over the stale
// socket and pid file, and the guests still run with the same IDs.
func TestRobustSIGKILL(t *testing.T) {
	t.Parallel()
	d := startDaemon(t)
	ids := map[string]string{}
	for i, name := range []string{"kill-a", "kill-b", "kill-c"} {
		u := fmt.Sprintf("55555555-0000-4000-8000-%012d", i)
		d.mustVirsh(t, "define", d.writeFile(t, name+".xml", minimalXML(name, u)))
		if i < 2 {
			d.mustVirsh(t, "start", name)
			ids[name] = strings.TrimSpace(d.mustVirsh(t, "domid", name))
		}
	}
	d.mustVirsh(t, "suspend", "kill-b")
	oldPid := d.pid()
	if err := d.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-d.done
	d.cmd = nil
	for _, p := range []string{d.RW, d.Admin, d.PidFile} {
		if !exists(p) {
			t.Fatalf("%s is gone after SIGKILL; the test needs it stale", p)
		}
	}
	if _, _, err := d.virsh(t, "version"); err == nil {
		t.Fatal("virsh reached a killed daemon")
	}

	d.start(t) // returns at once: the stale socket file exists
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, _, err := d.virsh(t, "uri"); err == nil {
			break
		}
		select {
		case err := <-d.done:
			t.Fatalf("the new daemon exited: %v\n%s", err, mustRead(t, d.Log))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the new daemon does not answer within 15s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if pf := strings.TrimSpace(mustRead(t, d.PidFile)); pf != strconv.Itoa(d.pid()) || pf == strconv.Itoa(oldPid) {
		t.Errorf("pid file says %q, want the new daemon's %d", pf, d.pid())
	}
	for name, want := range map[string]string{"kill-a": "running", "kill-b": "paused", "kill-c": "poweroff"} {
		if got := vmState(t, d.Sim, name); got != want {
			t.Errorf("%s: VirtualBox state after the restart = %q, want %q", name, got, want)
		}
	}
	for name, id := range ids {
		if got := strings.TrimSpace(d.mustVirsh(t, "domid", name)); got != id {
			t.Errorf("%s: id after SIGKILL and restart = %q, want %q", name, got, id)
		}
		if got := strings.TrimSpace(d.mustVirsh(t, "domname", id)); got != name {
			t.Errorf("domname %s = %q, want %s", id, got, name)
		}
	}
	contains(t, "list after the restart", d.mustVirsh(t, "list"), "kill-a", "running", "kill-b", "paused")
	contains(t, "domstate kill-b", d.mustVirsh(t, "domstate", "--reason", "kill-b"), "paused")
	d.mustVirsh(t, "resume", "kill-b")
	d.mustVirsh(t, "destroy", "kill-a")
	d.mustVirsh(t, "destroy", "kill-b")
	d.alive(t)
}

// Clients that send calls and never read the replies must not stall the
// daemon for everyone: each such client holds at most its own request slots
// (internal/rpc queues replies per client, as libvirt does), so other clients
// go on being served.
func TestRobustClientsThatNeverRead(t *testing.T) {
	t.Parallel()
	d := startDaemon(t)
	var wg sync.WaitGroup
	for range 6 {
		c := dialRaw(t, d.RW)
		c.open()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3000 { // CONNECT_GET_CAPABILITIES: about 600 bytes a reply
				c.serial++
				b := binary.BigEndian.AppendUint32(nil, 28)
				for _, v := range []uint32{remoteProg, 1, 7, 0, c.serial, 0} {
					b = binary.BigEndian.AppendUint32(b, v)
				}
				c.c.SetWriteDeadline(time.Now().Add(3 * time.Second))
				if _, err := c.c.Write(b); err != nil {
					return // the daemon stopped reading us: fine
				}
			}
		}()
	}
	wg.Wait()
	for _, args := range [][]string{{"version"}, {"list", "--all"}} {
		select {
		case r := <-d.virshAsync(t, args...):
			if r.err != nil {
				t.Errorf("virsh %s: %v\n%s", strings.Join(args, " "), r.err, r.errs)
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("virsh %s: no answer within 15s while clients ignore their replies", strings.Join(args, " "))
		}
	}
}
