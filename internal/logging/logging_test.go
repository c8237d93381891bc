package logging

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/journal"
	"github.com/sirupsen/logrus"

	"github.com/virtvboxd/virtvboxd/internal/buildinfo"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newTest returns a Logging whose stderr is a buffer, closed at cleanup.
func newTest(t *testing.T) (*Logging, *syncBuffer) {
	t.Helper()
	l := New()
	buf := &syncBuffer{}
	l.stderr = buf
	t.Cleanup(func() { _ = l.Close() })
	return l, buf
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSuffix(string(data), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// messages drops the two init lines written at the top of each output.
func messages(lines []string) []string {
	var out []string
	for _, l := range lines {
		if strings.Contains(l, ": info : libvirt version: ") || strings.Contains(l, ": info : hostname: ") {
			continue
		}
		out = append(out, l)
	}
	return out
}

func TestFileOutputFormat(t *testing.T) {
	l, _ := newTest(t)
	path := filepath.Join(t.TempDir(), "d.log")
	if err := l.Apply(Settings{Level: 1, Outputs: "1:file:" + path}); err != nil {
		t.Fatal(err)
	}
	l.For("rpc").WithField("serial", 7).WithField("proc", "DOMAIN GET INFO").Info("hello world")
	l.For("vbox").WithError(errors.New("boom")).Error("VBoxManage failed")
	l.Logger().Warn("no module")

	lines := readLines(t, path)
	if len(lines) != 5 {
		t.Fatalf("got %d lines, want 2 init lines and 3 messages:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	ts := `\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\+0000`
	pid := strconv.Itoa(os.Getpid())
	host, _ := os.Hostname()
	want := []string{
		`^` + ts + `: ` + pid + `: info : libvirt version: 9\.0\.0, package: virtvboxd ` + regexp.QuoteMeta(buildinfo.Version) + `$`,
		`^` + ts + `: ` + pid + `: info : hostname: ` + regexp.QuoteMeta(host) + `$`,
		`^` + ts + `: ` + pid + `: info : rpc : hello world proc="DOMAIN GET INFO" serial=7$`,
		`^` + ts + `: ` + pid + `: error : vbox : VBoxManage failed error=boom$`,
		`^` + ts + `: ` + pid + `: warning : no module$`,
	}
	for i, re := range want {
		if !regexp.MustCompile(re).MatchString(lines[i]) {
			t.Errorf("line %d = %q, want match for %s", i+1, lines[i], re)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("log file mode %o, want 0600", fi.Mode().Perm())
	}
}

func TestTimestampIsUTCWithMilliseconds(t *testing.T) {
	tm := time.Date(2026, 11, 25, 11, 46, 52, 123456789, time.FixedZone("X", 3600))
	if got, want := timestamp(tm), "2026-11-25 10:46:52.123+0000"; got != want {
		t.Errorf("timestamp() = %q, want %q", got, want)
	}
}

func TestStderrOutputAndInitLinesOnce(t *testing.T) {
	l, buf := newTest(t)
	// Nothing is written, not even the init lines, until a message passes.
	l.For("daemon").Info("below the default level")
	if buf.String() != "" {
		t.Fatalf("stderr got %q before any message passed", buf.String())
	}
	l.For("daemon").Warn("first")
	l.For("daemon").Warn("second")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %q, want 2 init lines and 2 messages", buf.String())
	}
	if !strings.Contains(lines[0], ": info : libvirt version: 9.0.0, package: virtvboxd ") ||
		!strings.Contains(lines[1], ": info : hostname: ") ||
		!strings.HasSuffix(lines[2], ": warning : daemon : first") ||
		!strings.HasSuffix(lines[3], ": warning : daemon : second") {
		t.Errorf("unexpected stderr:\n%s", buf.String())
	}
	if got := l.Outputs(); got != "3:stderr" {
		t.Errorf("initial Outputs() = %q, want 3:stderr", got)
	}
}

func TestFiltersRouteByModuleAndFunc(t *testing.T) {
	l, _ := newTest(t)
	path := filepath.Join(t.TempDir(), "f.log")
	err := l.Apply(Settings{
		Level:   LevelWarning,
		Filters: "4:rpc.keepalive 1:rpc 2:+domainGetInfo",
		Outputs: "1:file:" + path,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l.Filters(), "4:*rpc.keepalive* 1:*rpc* 2:*domainGetInfo* "; got != want {
		t.Errorf("Filters() = %q, want %q", got, want)
	}
	l.For("rpc").Debug("rpc debug passes")
	l.For("rpc.server").Debug("rpc.server debug passes")
	l.For("rpc.keepalive").Warn("first match wins: keepalive warning dropped")
	l.For("rpc.keepalive").Error("keepalive error passes")
	l.For("vbox").Info("vbox info dropped")
	l.For("vbox").Warn("vbox warning passes")
	l.For("vbox").WithField(FieldFunc, "domainGetInfo").Info("func info passes")
	l.For("vbox").WithField(FieldFunc, "domainGetInfo").Debug("func debug dropped")
	l.For("vbox").Trace("trace counts as debug: dropped")
	l.For("rpc").Trace("rpc trace passes")

	var got []string
	for _, line := range messages(readLines(t, path)) {
		got = append(got, line[strings.Index(line, ": ")+2:])
	}
	pid := strconv.Itoa(os.Getpid())
	want := []string{
		pid + ": debug : rpc : rpc debug passes",
		pid + ": debug : rpc.server : rpc.server debug passes",
		pid + ": error : rpc.keepalive : keepalive error passes",
		pid + ": warning : vbox : vbox warning passes",
		pid + ": info : vbox : func info passes func=domainGetInfo",
		pid + ": debug : rpc : rpc trace passes",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("file got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestOutputPriorities(t *testing.T) {
	l, _ := newTest(t)
	dir := t.TempDir()
	warn, debug := filepath.Join(dir, "warn.log"), filepath.Join(dir, "debug.log")
	if err := l.Apply(Settings{Level: 1, Outputs: "3:file:" + warn + " 1:file:" + debug}); err != nil {
		t.Fatal(err)
	}
	if got, want := l.Outputs(), "3:file:"+warn+" 1:file:"+debug; got != want {
		t.Errorf("Outputs() = %q, want %q", got, want)
	}
	l.For("daemon").Debug("d")
	l.For("daemon").Warn("w")
	if got := messages(readLines(t, warn)); len(got) != 1 || !strings.HasSuffix(got[0], "warning : daemon : w") {
		t.Errorf("warning output got %q", got)
	}
	if got := messages(readLines(t, debug)); len(got) != 2 {
		t.Errorf("debug output got %q", got)
	}
}

func TestLevelPrecedenceOverOutputs(t *testing.T) {
	// The default priority drops a message before any output sees it,
	// even an output that would take debug.
	l, _ := newTest(t)
	path := filepath.Join(t.TempDir(), "p.log")
	if err := l.Apply(Settings{Level: LevelWarning, Outputs: "1:file:" + path}); err != nil {
		t.Fatal(err)
	}
	l.For("daemon").Info("dropped")
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	if got := readLines(t, path); len(got) != 0 {
		t.Errorf("got %q, want nothing", got)
	}
	if l.Logger().IsLevelEnabled(logrus.InfoLevel) {
		t.Error("logrus still builds info entries that nothing can take")
	}
	if err := l.SetFilters("1:rpc"); err != nil {
		t.Fatal(err)
	}
	if !l.Logger().IsLevelEnabled(logrus.DebugLevel) {
		t.Error("a debug filter did not enable debug entries in logrus")
	}
}

func TestApplyKeepsOldSettingsOnError(t *testing.T) {
	l, _ := newTest(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.log")
	if err := l.Apply(Settings{Level: 2, Filters: "1:rpc", Outputs: "2:file:" + good}); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.log")
	bad := []struct {
		name string
		s    Settings
		want string
	}{
		{"level", Settings{Level: 7, Outputs: "1:file:" + other}, "invalid argument: Failed to set logging priority, argument '7' is invalid"},
		{"filter", Settings{Filters: "9:foo", Outputs: "1:file:" + other}, "invalid argument: Invalid priority '9' for filter '9:foo'"},
		{"output syntax", Settings{Outputs: "1:file:" + other + " 1:nosuch"}, "invalid argument: Invalid log destination 'nosuch' for log output '1:nosuch'"},
		{"unopenable file", Settings{Outputs: "1:file:" + other + " 1:file:" + dir + "/missing/x.log"},
			"system error: failed to open " + dir + "/missing/x.log: No such file or directory"},
		{"journald absent", Settings{Outputs: "1:file:" + other + " 1:journald"}, ""},
	}
	oldEnabled := journaldEnabled
	journaldEnabled = func() bool { return false }
	t.Cleanup(func() { journaldEnabled = oldEnabled })

	for _, tc := range bad {
		err := l.Apply(tc.s)
		if err == nil {
			t.Fatalf("%s: Apply succeeded", tc.name)
		}
		if tc.want != "" && err.Error() != tc.want {
			t.Errorf("%s: Apply() = %q, want %q", tc.name, err, tc.want)
		}
		if tc.name == "journald absent" && (!errors.Is(err, errdefs.ErrOperationFailed) || !strings.Contains(err.Error(), "journald")) {
			t.Errorf("journald absent: %v", err)
		}
		if l.Level() != 2 || l.Filters() != "1:*rpc* " || l.Outputs() != "2:file:"+good {
			t.Fatalf("%s: settings changed to level %d filters %q outputs %q", tc.name, l.Level(), l.Filters(), l.Outputs())
		}
	}
	// The old output is still open and in use; the new file was opened and
	// closed again, never written.
	l.For("daemon").Info("still here")
	if got := messages(readLines(t, good)); len(got) != 1 || !strings.HasSuffix(got[0], "still here") {
		t.Errorf("old output got %q", got)
	}
	if got := readLines(t, other); len(got) != 0 {
		t.Errorf("the refused output was written: %q", got)
	}

	if err := l.SetFilters("1:ok 7:bad"); err == nil {
		t.Error("SetFilters accepted a bad filter")
	}
	if err := l.SetOutputs("1:stderr 1:file"); err == nil {
		t.Error("SetOutputs accepted a bad output")
	}
	if l.Filters() != "1:*rpc* " || l.Outputs() != "2:file:"+good {
		t.Errorf("failed admin calls changed filters %q outputs %q", l.Filters(), l.Outputs())
	}
}

func TestAdminSetters(t *testing.T) {
	l, _ := newTest(t)
	dir := t.TempDir()
	def := "2:file:" + filepath.Join(dir, "default.log")
	if err := l.Apply(Settings{Level: 2, DefaultOutputs: def}); err != nil {
		t.Fatal(err)
	}
	if l.Outputs() != def || l.NumOutputs() != 1 {
		t.Fatalf("Outputs() = %q, want the default %q", l.Outputs(), def)
	}
	if l.Filters() != "" || l.NumFilters() != 0 {
		t.Fatalf("Filters() = %q, want none", l.Filters())
	}
	other := "1:file:" + filepath.Join(dir, "other.log") + " 4:stderr"
	if err := l.SetOutputs(other); err != nil {
		t.Fatal(err)
	}
	if l.Outputs() != other || l.NumOutputs() != 2 {
		t.Errorf("after SetOutputs: %q", l.Outputs())
	}
	if err := l.SetOutputs(""); err != nil {
		t.Fatal(err)
	}
	if l.Outputs() != def {
		t.Errorf("SetOutputs(\"\") gave %q, want the default %q", l.Outputs(), def)
	}
	if err := l.SetFilters("1:rpc 3:util"); err != nil {
		t.Fatal(err)
	}
	if got := l.Filters(); got != "1:*rpc* 3:*util* " || l.NumFilters() != 2 {
		t.Errorf("Filters() = %q", got)
	}
	if err := l.SetFilters(""); err != nil {
		t.Fatal(err)
	}
	if l.Filters() != "" {
		t.Errorf("SetFilters(\"\") left %q", l.Filters())
	}
	if l.Level() != 2 {
		t.Errorf("admin setters changed the level to %d", l.Level())
	}

	// Without DefaultOutputs, the default is stderr at the level.
	if err := l.Apply(Settings{Level: 4}); err != nil {
		t.Fatal(err)
	}
	if err := l.SetOutputs("   "); err != nil {
		t.Fatal(err)
	}
	if l.Outputs() != "4:stderr" {
		t.Errorf("blank outputs gave %q, want 4:stderr", l.Outputs())
	}
}

func TestReapplyReopensFiles(t *testing.T) {
	// A reload after logrotate moved the file must write to a new file at
	// the configured path, without losing the lines already written.
	l, _ := newTest(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "r.log")
	s := Settings{Level: 2, Outputs: "2:file:" + path}
	if err := l.Apply(s); err != nil {
		t.Fatal(err)
	}
	l.For("daemon").Info("one")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	l.For("daemon").Info("two") // still goes to the renamed file
	if err := l.Apply(s); err != nil {
		t.Fatal(err)
	}
	l.For("daemon").Info("three")
	if got := messages(readLines(t, path+".1")); len(got) != 2 {
		t.Errorf("rotated file got %q", got)
	}
	lines := readLines(t, path)
	if len(lines) != 3 || !strings.Contains(lines[0], "libvirt version") || !strings.HasSuffix(lines[2], "three") {
		t.Errorf("new file got %q, want init lines then three", lines)
	}
}

func TestConcurrentLoggingDuringApply(t *testing.T) {
	l, _ := newTest(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	if err := l.Apply(Settings{Level: 2, Outputs: "2:file:" + a}); err != nil {
		t.Fatal(err)
	}
	const writers, perWriter = 8, 300
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			log := l.For(fmt.Sprintf("w%d", w))
			for i := 0; i < perWriter; i++ {
				log.WithField("i", i).Info("line")
			}
		}(w)
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	swaps := 0
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
			path := a
			if swaps%2 == 0 {
				path = b
			}
			filters := ""
			if swaps%3 == 0 {
				filters = "1:w1"
			}
			if err := l.Apply(Settings{Level: 2, Filters: filters, Outputs: "2:file:" + path}); err != nil {
				t.Error(err)
				running = false
			}
			_ = l.SetFilters("2:w")
			_ = l.Outputs()
			_ = l.Filters()
			swaps++
		}
	}
	<-done
	total := len(messages(readLines(t, a))) + len(messages(readLines(t, b)))
	if total != writers*perWriter {
		t.Errorf("%d lines written across %d swaps, want %d: lines were lost or duplicated", total, swaps, writers*perWriter)
	}
	for _, p := range []string{a, b} {
		for _, line := range readLines(t, p) {
			if !strings.Contains(line, ": info : ") {
				t.Fatalf("torn or foreign line in %s: %q", p, line)
			}
		}
	}
}

func TestSyslogOutput(t *testing.T) {
	dir, err := os.MkdirTemp("", "vvd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "log")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	old := syslogAddr
	syslogAddr = sock
	t.Cleanup(func() { syslogAddr = old })

	l, _ := newTest(t)
	if err := l.Apply(Settings{Level: 1, Outputs: "1:syslog:vvdtest"}); err != nil {
		t.Fatal(err)
	}
	if got := l.Outputs(); got != "1:syslog:vvdtest" {
		t.Errorf("Outputs() = %q", got)
	}
	l.For("vbox").WithField("vm", "web").Warning("VM stopped")

	var got []string
	buf := make([]byte, 4096)
	for len(got) < 3 {
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("reading syslog datagrams (got %q): %v", got, err)
		}
		got = append(got, string(buf[:n]))
	}
	// facility daemon (3) * 8 + severity: info 6, warning 4.
	pid := strconv.Itoa(os.Getpid())
	if !strings.HasPrefix(got[0], "<30>") || !strings.Contains(got[0], "vvdtest["+pid+"]: "+pid+": info : libvirt version: 9.0.0") {
		t.Errorf("first datagram %q", got[0])
	}
	if !strings.HasPrefix(got[2], "<28>") || !strings.HasSuffix(strings.TrimSpace(got[2]), pid+": warning : vbox : VM stopped vm=web") {
		t.Errorf("message datagram %q", got[2])
	}

	syslogAddr = filepath.Join(dir, "absent")
	if err := l.Apply(Settings{Outputs: "1:syslog:x"}); err == nil || !strings.Contains(err.Error(), "cannot connect to syslog") {
		t.Errorf("Apply with no syslog: %v", err)
	}
	if l.Outputs() != "1:syslog:vvdtest" {
		t.Errorf("failed Apply changed outputs to %q", l.Outputs())
	}
}

func TestJournaldOutput(t *testing.T) {
	type sent struct {
		msg  string
		prio journal.Priority
		vars map[string]string
	}
	var mu sync.Mutex
	var got []sent
	oldEnabled, oldSend := journaldEnabled, journaldSend
	journaldEnabled = func() bool { return true }
	journaldSend = func(msg string, p journal.Priority, vars map[string]string) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, sent{msg, p, vars})
		return nil
	}
	t.Cleanup(func() { journaldEnabled, journaldSend = oldEnabled, oldSend })

	l, _ := newTest(t)
	if err := l.Apply(Settings{Level: 1, Outputs: "2:journald"}); err != nil {
		t.Fatal(err)
	}
	l.For("rpc").Debug("below the output's priority")
	l.For("rpc").WithField(FieldFunc, "dispatch").WithField("client-id", 3).WithField("_x", 1).Error("call failed")

	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 {
		t.Fatalf("sent %d entries, want 2 init lines and 1 message: %+v", len(got), got)
	}
	if !strings.HasPrefix(got[0].msg, "libvirt version: 9.0.0, package: virtvboxd ") || got[0].prio != journal.PriInfo ||
		!strings.HasPrefix(got[1].msg, "hostname: ") {
		t.Errorf("init entries %+v", got[:2])
	}
	m := got[2]
	if m.msg != "call failed _x=1 client-id=3 func=dispatch" || m.prio != journal.PriErr {
		t.Errorf("message %q priority %d", m.msg, m.prio)
	}
	want := map[string]string{
		"LIBVIRT_SOURCE": "rpc", "CODE_FUNC": "dispatch", "CLIENT_ID": "3", "X": "1",
		"SYSLOG_FACILITY": "3", "SYSLOG_PID": strconv.Itoa(os.Getpid()),
	}
	for k, v := range want {
		if m.vars[k] != v {
			t.Errorf("field %s = %q, want %q (all: %v)", k, m.vars[k], v, m.vars)
		}
	}
}

func TestDefaultOutputs(t *testing.T) {
	dir := t.TempDir()
	journald := false
	old := journaldEnabled
	journaldEnabled = func() bool { return journald }
	t.Cleanup(func() { journaldEnabled = old })
	userLog := filepath.Join(dir, "cache", "libvirt", "virtvboxd.log")

	// No journald.
	if got := DefaultOutputs(true, true, "/var/log/libvirt/virtvboxd.log", 3); got != "3:file:/var/log/libvirt/virtvboxd.log" {
		t.Errorf("daemon, root: %q", got)
	}
	if got, want := DefaultOutputs(true, false, userLog, 1), "1:file:"+userLog; got != want {
		t.Errorf("daemon, user: %q, want %q", got, want)
	}
	if fi, err := os.Stat(filepath.Dir(userLog)); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("the user's log directory was not created 0700: %v, %v", fi, err)
	}
	if got := DefaultOutputs(false, true, userLog, 2); got != "2:stderr" {
		t.Errorf("foreground without journald: %q", got)
	}
	if got := DefaultOutputs(false, false, userLog, 9); got != "3:stderr" {
		t.Errorf("an invalid level falls back to 3: %q", got)
	}

	journald = true
	if got := DefaultOutputs(true, false, userLog, 3); got != "3:journald" {
		t.Errorf("daemon with journald: %q", got)
	}
	if got := DefaultOutputs(true, true, userLog, 1); got != "2:journald" {
		t.Errorf("journald never gets debug by default: %q", got)
	}
	want := "2:journald"
	if stdinIsTerminal() {
		want = "2:stderr"
	}
	if got := DefaultOutputs(false, false, userLog, 2); got != want {
		t.Errorf("foreground with journald (stdin terminal: %v): %q, want %q", stdinIsTerminal(), got, want)
	}
}

func TestReapplyKeepsIdenticalStreamOutputs(t *testing.T) {
	// Re-applying the same settings (a SIGHUP with an unchanged file) keeps
	// stderr as it is: no second pair of init lines.
	l, buf := newTest(t)
	s := Settings{Level: 3, Outputs: "3:stderr"}
	if err := l.Apply(s); err != nil {
		t.Fatal(err)
	}
	l.For("daemon").Warn("one")
	if err := l.Apply(s); err != nil {
		t.Fatal(err)
	}
	l.For("daemon").Warn("two")
	if n := strings.Count(buf.String(), "libvirt version"); n != 1 {
		t.Errorf("init lines written %d times:\n%s", n, buf.String())
	}
	// A different priority is a different output.
	if err := l.Apply(Settings{Level: 3, Outputs: "4:stderr"}); err != nil {
		t.Fatal(err)
	}
	l.For("daemon").Error("three")
	if n := strings.Count(buf.String(), "libvirt version"); n != 2 {
		t.Errorf("init lines written %d times after a change:\n%s", n, buf.String())
	}
}
