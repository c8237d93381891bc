package logging

import (
	"log/syslog"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/coreos/go-systemd/v22/journal"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// syslogAddr is the syslog socket; "" means the local default (/dev/log).
// Tests point it at a socket of their own.
var syslogAddr = ""

// journaldEnabled reports whether journald accepts messages: the one test
// of journald's presence, for the default outputs and the journald output
// alike, so they never disagree. Tests replace it, with journaldSend.
var (
	journaldEnabled = journal.Enabled
	journaldSend    = journal.Send
)

func (l *Logging) openSink(sp OutputSpec) (sink, error) {
	switch sp.Dest {
	case DestStderr:
		return stderrSink{}, nil
	case DestFile:
		f, err := os.OpenFile(sp.Name, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, errOutput(errdefs.ErrSystem, err, "failed to open %s: %s", sp.Name, errdefs.Strerror(err))
		}
		return &fileSink{f: f}, nil
	case DestSyslog:
		network := ""
		if syslogAddr != "" {
			network = "unixgram"
		}
		w, err := syslog.Dial(network, syslogAddr, syslog.LOG_DAEMON|syslog.LOG_INFO, sp.Name)
		if err != nil {
			return nil, errOutput(errdefs.ErrOperationFailed, err,
				"log output '%s': cannot connect to syslog: %v", sp, err)
		}
		return &syslogSink{w: w}, nil
	case DestJournald:
		if !journaldEnabled() {
			return nil, errdefs.Newf(errdefs.ErrOperationFailed,
				"log output '%s': journald is not available (cannot send to /run/systemd/journal/socket)", sp)
		}
		return journaldSink{}, nil
	}
	return nil, errdefs.Newf(errdefs.ErrInvalidArg, "Invalid log destination '%s' for log output '%s'", sp.Dest, sp)
}

// stderrSink writes libvirt-format lines to the Logging's stderr.
type stderrSink struct{}

func (stderrSink) write(l *Logging, r *record) error {
	_, err := l.stderr.Write(l.timedLine(r))
	return err
}

func (stderrSink) close() error { return nil }

// fileSink appends libvirt-format lines to a file it owns.
type fileSink struct{ f *os.File }

func (s *fileSink) write(l *Logging, r *record) error {
	_, err := s.f.Write(l.timedLine(r))
	return err
}

func (s *fileSink) close() error { return s.f.Close() }

// syslogSink sends lines without the timestamp (syslog adds its own) with
// the facility daemon and the message's priority, as libvirt does.
type syslogSink struct{ w *syslog.Writer }

func (s *syslogSink) write(l *Logging, r *record) error {
	line := l.formatLine(r)
	switch r.priority {
	case LevelDebug:
		return s.w.Debug(line)
	case LevelInfo:
		return s.w.Info(line)
	case LevelWarning:
		return s.w.Warning(line)
	}
	return s.w.Err(line)
}

func (s *syslogSink) close() error { return s.w.Close() }

// journaldSink sends structured entries: MESSAGE, PRIORITY, SYSLOG_FACILITY
// and LIBVIRT_SOURCE as libvirt does, plus CODE_FUNC from the func field and
// every other field under its upper-cased name.
type journaldSink struct{}

var journalFieldBad = regexp.MustCompile(`[^A-Z0-9_]`)

func (journaldSink) write(l *Logging, r *record) error {
	vars := map[string]string{
		"SYSLOG_FACILITY": "3",
		"SYSLOG_PID":      strconv.Itoa(l.pid),
	}
	if r.module != "" {
		vars["LIBVIRT_SOURCE"] = r.module
	}
	for k, v := range r.fields {
		switch k {
		case FieldModule:
			continue
		case FieldFunc:
			vars["CODE_FUNC"] = fieldString(v)
			continue
		}
		name := strings.TrimLeft(journalFieldBad.ReplaceAllString(strings.ToUpper(k), "_"), "_")
		if name == "" || (name[0] >= '0' && name[0] <= '9') {
			name = "F_" + name
		}
		if _, taken := vars[name]; !taken {
			vars[name] = fieldString(v)
		}
	}
	return journaldSend(r.msg, journalPriority(r.priority), vars)
}

func (journaldSink) close() error { return nil }

func journalPriority(p int) journal.Priority {
	switch p {
	case LevelDebug:
		return journal.PriDebug
	case LevelInfo:
		return journal.PriInfo
	case LevelWarning:
		return journal.PriWarning
	}
	return journal.PriErr
}
