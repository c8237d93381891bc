// Package logging gives virtvboxd libvirt's logging model on top of logrus:
// a default priority (log_level), per-module filters (log_filters) and a set
// of outputs (log_outputs), with libvirt's syntax, error texts and line
// format.
//
// Packages log through entries that carry a "module" field:
//
//	log := lg.For("rpc")
//	log.WithField("serial", 7).Debug("dispatching call")
//
// and log_filters match that field (and the "func" field, when present):
// "1:rpc" lets debug messages of module rpc through while the rest stays at
// the default priority.
//
// The daemon computes the settings with libvirt's precedence and applies
// them:
//
//	s, err := logging.Effective(logging.Inputs{
//		ConfigLevel: cfg.LogLevel, ConfigFilters: cfg.LogFilters, ConfigOutputs: cfg.LogOutputs,
//		Verbose: verbose,
//	})
//	s.DefaultOutputs = logging.DefaultOutputs(daemonMode, privileged, paths.LogFile, s.Level)
//	err = lg.Apply(s)
//
// Apply validates everything and opens every output before it swaps the new
// settings in; when anything fails the settings in force stay as they were.
// Logging may go on from any goroutine while Apply, SetOutputs or SetFilters
// run: a line is written either entirely under the old settings or entirely
// under the new ones, and outputs are closed only once no writer can still
// be using them.
package logging

import (
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/virtvboxd/virtvboxd/internal/buildinfo"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// The entry fields this package gives a meaning to.
const (
	FieldModule = "module" // the package or subsystem: "rpc", "vbox", "daemon", "config"...
	FieldFunc   = "func"   // optional: the operation, also matched by filters
)

// Settings are logging settings in libvirt's terms.
type Settings struct {
	// Level is the default priority, 1 (debug) to 4 (error); 0 means 3.
	Level int
	// Filters is a log_filters string; "" means none.
	Filters string
	// Outputs is a log_outputs string; "" means DefaultOutputs.
	Outputs string
	// DefaultOutputs is what an empty Outputs means, here and for a later
	// SetOutputs(""). "" means "<Level>:stderr".
	DefaultOutputs string
}

// Logging owns the process's logrus logger and routes its entries to the
// configured outputs. Its methods are safe for concurrent use.
type Logging struct {
	logger *logrus.Logger

	// applyMu serialises Apply, SetOutputs and SetFilters.
	applyMu sync.Mutex

	// mu guards st. Writers hold it for reading while they write a line,
	// so that a swap (which takes it for writing) knows that no writer
	// still uses the outputs it is about to close.
	mu sync.RWMutex
	st *state

	// Fixed at New; tests may replace stderr before the first Apply.
	stderr   io.Writer
	pid      int
	hostname string
}

// New returns a Logging that writes warnings and errors to stderr until
// Apply is called.
func New() *Logging {
	host, err := os.Hostname()
	if err != nil {
		host = "localhost"
	}
	l := &Logging{
		logger:   logrus.New(),
		stderr:   os.Stderr,
		pid:      os.Getpid(),
		hostname: host,
	}
	l.logger.Out = io.Discard
	l.logger.Formatter = discardFormatter{}
	l.logger.ReportCaller = false
	l.logger.AddHook(hook{l})
	// logrus's own mutex only guards Out, Formatter and Hooks, which never
	// change after this point; the hook does its own locking.
	l.logger.SetNoLock()
	l.st = &state{
		level:          DefaultLevel,
		outputs:        []*output{{spec: OutputSpec{Priority: DefaultLevel, Dest: DestStderr}, sink: stderrSink{}}},
		defaultOutputs: "",
	}
	l.logger.SetLevel(l.st.logrusLevel())
	return l
}

// Logger returns the underlying logrus logger. Entries logged through it
// follow the current settings; do not change its Out, Formatter, Hooks or
// Level.
func (l *Logging) Logger() *logrus.Logger { return l.logger }

// For returns an entry for module: every line logged through it carries
// module=<module>, which log_filters match.
func (l *Logging) For(module string) *logrus.Entry {
	return l.logger.WithField(FieldModule, module)
}

// Level returns the default priority in force (1-4).
func (l *Logging) Level() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.st.level
}

// Outputs returns the outputs in force as the admin protocol reports them,
// e.g. "3:file:/var/log/libvirt/virtvboxd.log 2:stderr".
func (l *Logging) Outputs() string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	specs := make([]OutputSpec, len(l.st.outputs))
	for i, o := range l.st.outputs {
		specs[i] = o.spec
	}
	return FormatOutputs(specs)
}

// NumOutputs returns how many outputs are in force.
func (l *Logging) NumOutputs() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.st.outputs)
}

// Filters returns the filters in force as the admin protocol reports them:
// "1:*rpc* 3:*util* " (each match wrapped in '*', each entry followed by a
// space), or "" when there are none.
func (l *Logging) Filters() string {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return FormatFilters(l.st.filters)
}

// NumFilters returns how many filters are in force.
func (l *Logging) NumFilters() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.st.filters)
}

// Apply validates s, opens its outputs and only then puts it in force,
// closing the outputs it replaces. On any error nothing changes. Errors
// carry libvirt's texts ("invalid argument: Invalid priority '9' for filter
// '9:foo'").
func (l *Logging) Apply(s Settings) error {
	l.applyMu.Lock()
	defer l.applyMu.Unlock()

	level := s.Level
	if level == 0 {
		level = DefaultLevel
	}
	if level < LevelDebug || level > LevelError {
		return errdefs.Newf(errdefs.ErrInvalidArg,
			"Failed to set logging priority, argument '%d' is invalid", level)
	}
	filters, err := ParseFilters(s.Filters)
	if err != nil {
		return err
	}
	def := s.DefaultOutputs
	if def == "" {
		def = stderrAt(level)
	}
	outputs, err := l.openOutputs(s.Outputs, def)
	if err != nil {
		return err
	}
	l.swap(&state{level: level, filters: filters, outputs: outputs, defaultOutputs: def})
	return nil
}

// SetOutputs replaces the outputs (virt-admin daemon-log-outputs). An
// empty string restores the default outputs. On error nothing changes.
func (l *Logging) SetOutputs(outputs string) error {
	l.applyMu.Lock()
	defer l.applyMu.Unlock()
	cur := l.current()
	def := cur.defaultOutputs
	if def == "" {
		def = stderrAt(cur.level)
	}
	outs, err := l.openOutputs(outputs, def)
	if err != nil {
		return err
	}
	l.swap(&state{level: cur.level, filters: cur.filters, outputs: outs, defaultOutputs: cur.defaultOutputs})
	return nil
}

// SetFilters replaces the filters (virt-admin daemon-log-filters). An
// empty string removes them all. On error nothing changes.
func (l *Logging) SetFilters(filters string) error {
	l.applyMu.Lock()
	defer l.applyMu.Unlock()
	fs, err := ParseFilters(filters)
	if err != nil {
		return err
	}
	cur := l.current()
	l.swap(&state{level: cur.level, filters: fs, outputs: cur.outputs, defaultOutputs: cur.defaultOutputs})
	return nil
}

// Close closes every output. Logging after Close goes nowhere.
func (l *Logging) Close() error {
	l.applyMu.Lock()
	defer l.applyMu.Unlock()
	l.swap(&state{level: LevelError + 1})
	return nil
}

// stderrAt is the log_outputs string of stderr at level.
func stderrAt(level int) string { return strconv.Itoa(level) + ":" + DestStderr }

func (l *Logging) current() *state {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.st
}

// openOutputs parses spec (or def when spec has no entry) and opens every
// output; on failure it closes those it opened. An output identical to one
// in force is reused, except files, which are always reopened so that a
// reload after the file was rotated writes to a new file at the path.
func (l *Logging) openOutputs(spec, def string) ([]*output, error) {
	cur := l.current()
	specs, err := ParseOutputs(spec)
	if err != nil {
		return nil, err
	}
	if len(specs) == 0 {
		if specs, err = ParseOutputs(def); err != nil {
			return nil, err
		}
	}
	outs := make([]*output, 0, len(specs))
next:
	for _, sp := range specs {
		if sp.Dest != DestFile {
			for _, o := range cur.outputs {
				if o.spec == sp {
					outs = append(outs, o)
					continue next
				}
			}
		}
		sk, err := l.openSink(sp)
		if err != nil {
			for _, o := range outs {
				if !slices.Contains(cur.outputs, o) {
					_ = o.sink.close()
				}
			}
			return nil, err
		}
		outs = append(outs, &output{spec: sp, sink: sk})
	}
	return outs, nil
}

// swap puts st in force and closes the outputs of the previous state that
// st does not share.
func (l *Logging) swap(st *state) {
	l.mu.Lock()
	old := l.st
	l.st = st
	l.logger.SetLevel(st.logrusLevel())
	l.mu.Unlock()

	// No writer holds the read lock on old any more: close what st dropped.
	for _, o := range old.outputs {
		if !slices.Contains(st.outputs, o) {
			_ = o.sink.close()
		}
	}
}

// state is one immutable set of settings with its open outputs.
type state struct {
	level          int
	filters        []Filter
	outputs        []*output
	defaultOutputs string

	// thresholds caches the priority that applies to a module/func pair.
	thresholds sync.Map // string -> int
}

// threshold returns the priority a message from module (and fn) must
// reach: that of the first filter matching module or fn, else the default.
func (st *state) threshold(module, fn string) int {
	if len(st.filters) == 0 {
		return st.level
	}
	key := module + "\x00" + fn
	if v, ok := st.thresholds.Load(key); ok {
		return v.(int)
	}
	p := st.level
	for _, f := range st.filters {
		if globMatch(f.Match, module) || (fn != "" && globMatch(f.Match, fn)) {
			p = f.Priority
			break
		}
	}
	st.thresholds.Store(key, p)
	return p
}

// logrusLevel is the least severe logrus level any message could pass at,
// so that logrus drops the rest before building them.
func (st *state) logrusLevel() logrus.Level {
	min := st.level
	for _, f := range st.filters {
		if f.Priority < min {
			min = f.Priority
		}
	}
	switch min {
	case LevelDebug:
		return logrus.TraceLevel
	case LevelInfo:
		return logrus.InfoLevel
	case LevelWarning:
		return logrus.WarnLevel
	case LevelError:
		return logrus.ErrorLevel
	}
	return logrus.PanicLevel
}

// priorityOf maps a logrus level to a libvirt priority.
func priorityOf(lv logrus.Level) int {
	switch lv {
	case logrus.TraceLevel, logrus.DebugLevel:
		return LevelDebug
	case logrus.InfoLevel:
		return LevelInfo
	case logrus.WarnLevel:
		return LevelWarning
	}
	return LevelError
}

// output is one open destination.
type output struct {
	spec OutputSpec
	sink sink

	mu       sync.Mutex // serialises writes to sink and guards initDone
	initDone bool       // the version and hostname lines were written
}

// record is one message ready for the outputs.
type record struct {
	time     time.Time
	priority int
	module   string
	msg      string // message with fields appended
	fields   logrus.Fields
}

// sink writes records to one destination.
type sink interface {
	write(l *Logging, r *record) error
	close() error
}

// hook routes every logrus entry through the current state.
type hook struct{ l *Logging }

func (hook) Levels() []logrus.Level { return logrus.AllLevels }

func (h hook) Fire(e *logrus.Entry) error {
	h.l.dispatch(e)
	return nil
}

func (l *Logging) dispatch(e *logrus.Entry) {
	prio := priorityOf(e.Level)
	module := fieldString(e.Data[FieldModule])
	fn := fieldString(e.Data[FieldFunc])

	l.mu.RLock()
	defer l.mu.RUnlock()
	st := l.st
	if prio < st.threshold(module, fn) {
		return
	}
	var r *record
	for _, o := range st.outputs {
		if prio < o.spec.Priority {
			continue
		}
		if r == nil {
			r = &record{time: e.Time, priority: prio, module: module,
				msg: e.Message + formatFields(e.Data), fields: e.Data}
		}
		o.mu.Lock()
		if !o.initDone {
			o.initDone = true
			for _, m := range l.initMessages() {
				_ = o.sink.write(l, &record{time: r.time, priority: LevelInfo, msg: m})
			}
		}
		_ = o.sink.write(l, r)
		o.mu.Unlock()
	}
}

// initMessages are the two lines written before the first message on each
// output, as libvirt writes them.
func (l *Logging) initMessages() []string {
	v := buildinfo.LibVersion
	return []string{
		fmt.Sprintf("libvirt version: %d.%d.%d, package: virtvboxd %s",
			v/1000000, v/1000%1000, v%1000, buildinfo.Version),
		"hostname: " + l.hostname,
	}
}

// formatLine renders r in libvirt's file format without the timestamp:
// "<pid>: <level> : <module> : <message> k=v".
func (l *Logging) formatLine(r *record) string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(l.pid))
	b.WriteString(": ")
	b.WriteString(levelName(r.priority))
	b.WriteString(" : ")
	if r.module != "" {
		b.WriteString(r.module)
		b.WriteString(" : ")
	}
	b.WriteString(r.msg)
	return b.String()
}

// timedLine is the line stderr and file outputs write for r:
// "<timestamp>: <formatLine>\n".
func (l *Logging) timedLine(r *record) []byte {
	return []byte(timestamp(r.time) + ": " + l.formatLine(r) + "\n")
}

// timestamp renders t as libvirt does: "2026-11-25 10:46:52.123+0000" (UTC).
func timestamp(t time.Time) string {
	if t.IsZero() {
		t = time.Now()
	}
	return t.UTC().Format("2006-01-02 15:04:05.000") + "+0000"
}

// formatFields renders the entry's fields other than module as
// " key=value" pairs in key order, quoting values that need it.
func formatFields(data logrus.Fields) string {
	if len(data) == 0 || (len(data) == 1 && data[FieldModule] != nil) {
		return ""
	}
	keys := make([]string, 0, len(data))
	for k := range data {
		if k != FieldModule {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteByte(' ')
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(quoteIfNeeded(fieldString(data[k])))
	}
	return b.String()
}

func fieldString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case error:
		return x.Error()
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

func quoteIfNeeded(s string) string {
	if s == "" {
		return `""`
	}
	for _, c := range s {
		if c <= ' ' || c == '"' || c == '=' || c == 0x7f || c == '\\' {
			return strconv.Quote(s)
		}
	}
	return s
}

// globMatch matches s against pattern with '*' (any run) and '?' (any one
// character), as GLib's g_pattern_match_simple does.
func globMatch(pattern, s string) bool {
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[n]):
			p++
			n++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case star >= 0:
			p = star + 1
			mark++
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// discardFormatter keeps logrus from formatting entries: the hook has
// already written them.
type discardFormatter struct{}

func (discardFormatter) Format(*logrus.Entry) ([]byte, error) { return nil, nil }

// errOutput wraps an output failure with the output it concerns.
func errOutput(class error, cause error, format string, args ...any) error {
	return errdefs.Wrap(class, cause, fmt.Sprintf(format, args...))
}
