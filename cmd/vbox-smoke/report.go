package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"time"
)

// logTail is how much of the daemon's log the report keeps.
const logTail = 200

// verdict says in one line how the run went.
func (s *smoke) verdict(code int) string {
	switch code {
	case exitPass:
		return "PASS"
	case exitRefused:
		return "REFUSED (setup failed; nothing was run)"
	}
	for i, st := range s.steps {
		if st.err != nil {
			return fmt.Sprintf("FAIL at step %d, %s: %v", i+1, st.what, st.err)
		}
	}
	if len(s.notes) > 0 {
		return "FAIL: " + s.notes[len(s.notes)-1]
	}
	return "FAIL"
}

// report is the text a user attaches to a bug: the verdict, the versions,
// every workflow step and every VBoxManage call with its arguments,
// output and exit status, and the end of the daemon's log, with the user's
// name, home directory, the host name and the scratch path masked.
func (s *smoke) report(code int) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("virtvboxd smoke test report (make vbox-smoke)\n")
	w("date:        %s\n", time.Now().UTC().Format(time.RFC3339))
	w("result:      %s\n", s.verdict(code))
	w("host:        %s/%s, kernel %s\n", runtime.GOOS, runtime.GOARCH, firstLine(readFile("/proc/sys/kernel/osrelease")))
	w("virtvboxd:   %s\n", firstLine(output(s.daemon, "--version")))
	w("virsh:       %s\n", firstLine(output(s.virsh, "--version")))
	w("VBoxManage:  %s\n", s.real)
	w("scratch:     %s (VBOX_USER_HOME=<scratch>/home, machine folder <scratch>/machines, VBOX_IPC_SOCKETID=%s)\n", s.scratch, s.ipcID)

	w("\n== workflow (%d steps) ==\n", len(s.steps))
	for i, st := range s.steps {
		mark := "ok"
		if st.err != nil {
			mark = "FAIL"
		}
		w("[%-4s] %2d %s (%s)\n", mark, i+1, st.what, st.dur.Round(time.Millisecond))
		if st.err != nil {
			w("       error: %v\n", st.err)
			block(&b, "stdout", st.stdout)
			block(&b, "stderr", st.stderr)
		}
	}
	if len(s.notes) > 0 {
		w("\n== setup and cleanup ==\n")
		for _, n := range s.notes {
			w("- %s\n", n)
		}
	}

	calls := readRecords(filepath.Join(s.scratch, "calls"))
	w("\n== VBoxManage calls (%d), in order ==\n", len(calls))
	for i, c := range calls {
		args, _ := json.Marshal(c.Args)
		status := fmt.Sprintf("exit %d", c.Exit)
		switch {
		case c.Open:
			status = "no end recorded (killed together with the tee, e.g. on vboxmanage_timeout)"
		case c.Signal != "":
			status = "killed by " + c.Signal
		}
		w("--- #%d %s, %s, %s\nargs: %s\n", i+1, c.Start.UTC().Format("15:04:05.000"), status, c.Dur.Round(time.Millisecond), args)
		block(&b, "stdout", c.Stdout)
		block(&b, "stderr", c.Stderr)
	}

	log := strings.Split(strings.TrimRight(readFile(filepath.Join(s.scratch, "run", "virtvboxd.log")), "\n"), "\n")
	if len(log) > logTail {
		log = log[len(log)-logTail:]
	}
	w("\n== virtvboxd log (last %d lines) ==\n", len(log))
	for _, l := range log {
		w("%s\n", l)
	}
	return newMasker(s.scratch).mask(b.String())
}

// block writes text indented under a label, or "(empty)".
func block(b *strings.Builder, label, text string) {
	if text == "" {
		fmt.Fprintf(b, "%s: (empty)\n", label)
		return
	}
	fmt.Fprintf(b, "%s:\n", label)
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		fmt.Fprintf(b, "  | %s\n", l)
	}
	if !strings.HasSuffix(text, "\n") {
		fmt.Fprintf(b, "  (no newline at the end)\n")
	}
}

// masker replaces what identifies the user and the host.
type masker struct {
	paths *strings.Replacer // scratch and home paths
	names *regexp.Regexp    // user and host names, as whole words
	repl  map[string]string
}

// newMasker masks the scratch path and the home directory anywhere, and
// the user's and the host's names as whole words (a host called "vm" must
// not turn `list vms` into `list <host>s`). Longer strings go first, so
// that a home inside the scratch path or a name inside another is masked
// as the larger thing.
func newMasker(scratch string) *masker {
	m := &masker{repl: map[string]string{}}
	var paths []string
	addPath := func(p string) {
		if len(p) > 1 {
			paths = append(paths, p)
		}
	}
	addPath(scratch)
	if real, err := filepath.EvalSymlinks(scratch); err == nil && real != scratch {
		addPath(real)
	}
	home, _ := os.UserHomeDir()
	if home != "/" {
		addPath(home)
	}
	sort.SliceStable(paths, func(i, j int) bool { return len(paths[i]) > len(paths[j]) })
	var args []string
	for _, p := range paths {
		to := "<home>"
		if strings.HasPrefix(p, scratch) || p != home {
			to = "<scratch>"
		}
		args = append(args, p, to)
	}
	m.paths = strings.NewReplacer(args...)

	addName := func(n, to string) {
		if len(n) >= 2 {
			m.repl[n] = to
		}
	}
	if u, err := user.Current(); err == nil {
		addName(u.Username, "<user>")
		addName(u.Name, "<user>")
	}
	for _, v := range []string{"USER", "LOGNAME"} {
		addName(os.Getenv(v), "<user>")
	}
	if h, err := os.Hostname(); err == nil {
		addName(h, "<host>")
		if short, _, ok := strings.Cut(h, "."); ok {
			addName(short, "<host>")
		}
	}
	var names []string
	for n := range m.repl {
		names = append(names, n)
	}
	sort.SliceStable(names, func(i, j int) bool { return len(names[i]) > len(names[j]) })
	for i, n := range names {
		names[i] = regexp.QuoteMeta(n)
	}
	if len(names) > 0 {
		m.names = regexp.MustCompile(strings.Join(names, "|"))
	}
	return m
}

func (m *masker) mask(s string) string {
	s = m.paths.Replace(s)
	if m.names == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, loc := range m.names.FindAllStringIndex(s, -1) {
		if wordByte(s, loc[0]-1) || wordByte(s, loc[1]) {
			continue // part of a longer word
		}
		b.WriteString(s[last:loc[0]])
		b.WriteString(m.repl[s[loc[0]:loc[1]]])
		last = loc[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// wordByte reports whether s[i] exists and can be part of a user or host
// name (letters, digits, '_', '-').
func wordByte(s string, i int) bool {
	if i < 0 || i >= len(s) {
		return false
	}
	c := s[i]
	return c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

func output(prog string, args ...string) string {
	out, err := exec.Command(prog, args...).Output()
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return string(out)
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return l
}
