package e2e

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// logCount counts the simulator's logged calls whose argv contains all of
// parts (as JSON strings).
func (s *sim) logCount(t *testing.T, parts ...string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.Home, "invocations.log"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		ok := l != ""
		for _, p := range parts {
			ok = ok && strings.Contains(l, `"`+p+`"`)
		}
		if ok {
			n++
		}
	}
	return n
}

// The watcher, through the daemon: while a client is connected, a change
// made by hand is read once, without any reader, within 2 s, and the next
// read shows it without VBoxManage; once the client has gone (and the
// linger passed) nothing runs.
func TestReadsWatcher(t *testing.T) {
	py := requirePythonLibvirt(t)
	d := startDaemon(t, withDaemonEnv("VIRTVBOXD_TEST_WATCH_INTERVAL=100ms", "VIRTVBOXD_TEST_WATCH_LINGER=100ms"))
	const u = "33333333-0000-4000-8000-00000000000a"
	d.mustVirsh(t, "define", d.writeFile(t, "w.xml", minimalXML("watched", u)))

	cmd := exec.Command(py, filepath.Join("testdata", "holder.py"), d.URI())
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LIBVIRT_AUTOSTART=0")
	in, _ := cmd.StdinPipe()
	outPipe, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewScanner(outPipe)
	line := func() string {
		if !out.Scan() {
			t.Fatalf("holder.py ended: %v", out.Err())
		}
		return out.Text()
	}
	if got := line(); got != "ready" {
		t.Fatalf("holder.py said %q", got)
	}
	xml := func() string { io.WriteString(in, "xml "+u+"\n"); return line() }
	xml()
	reads := d.Sim.logCount(t, "showvminfo", u)

	d.Sim.mustVBoxManage(t, "modifyvm", u, "--memory", "777")
	deadline := time.Now().Add(2 * time.Second)
	for d.Sim.logCount(t, "showvminfo", u) == reads {
		if time.Now().After(deadline) {
			t.Fatal("the change made by hand was not read within 2 s")
		}
		time.Sleep(20 * time.Millisecond) // polling the simulator's log, not waiting for a cache
	}
	before := d.Sim.logCount(t, "showvminfo")
	if got := xml(); got != "<memory unit='KiB'>795648</memory>" {
		t.Errorf("XML after the change made by hand: %s", got)
	}
	if n := d.Sim.logCount(t, "showvminfo") - before; n != 0 {
		t.Errorf("the read after the watcher saw the change ran %d showvminfo", n)
	}
	// Once, or twice when the first re-read started within the inventory's
	// mtime slack of the settings write (docs/vbox-driver.md).
	if n := d.Sim.logCount(t, "showvminfo", u) - reads; n != 1 && n != 2 {
		t.Errorf("the change made by hand was read %d times, want 1 (2 when the read raced the write)", n)
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	// The daemon sees the client go, lingers 100 ms, then stops listing:
	// wait until the simulator's log has been quiet for 5 intervals (at
	// most 3 s: the linger ended), then nothing may run for 10 intervals.
	quietSince, last := time.Now(), d.Sim.logCount(t)
	for limit := time.Now().Add(3 * time.Second); time.Since(quietSince) < 500*time.Millisecond; {
		if time.Now().After(limit) {
			t.Fatal("the watcher still lists 3 s after the last client left (linger 100 ms)")
		}
		time.Sleep(20 * time.Millisecond) // polling the simulator's log
		if n := d.Sim.logCount(t); n != last {
			quietSince, last = time.Now(), n
		}
	}
	m := d.Sim.logCount(t)
	time.Sleep(time.Second)
	if k := d.Sim.logCount(t) - m; k != 0 {
		t.Errorf("%d VBoxManage calls with no client connected, want 0", k)
	}
}
