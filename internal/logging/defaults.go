package logging

import (
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// DefaultOutputs returns the default log_outputs string, chosen as libvirt
// chooses it for its daemons, at priority level:
//
//   - daemon mode (-d): "L:journald" when journald accepts messages (the one
//     test the journald output makes too), else "L:file:logFile" (the
//     daemon's paths give it: /var/log/libvirt/virtvboxd.log for root,
//     $XDG_CACHE_HOME/libvirt/virtvboxd.log for other users);
//   - foreground: "L:journald" when stdin is not a terminal and journald is
//     there, else "L:stderr".
//
// journald never gets debug by default: level 1 becomes 2 there, as in
// libvirt. For a user's (unprivileged) log file, the directory is created
// (mode 0700) as libvirt does; if that fails, opening the file will report
// it.
func DefaultOutputs(daemonMode, privileged bool, logFile string, level int) string {
	if level < LevelDebug || level > LevelError {
		level = DefaultLevel
	}
	haveJournald := journaldEnabled()
	journald := func() string {
		p := level
		if p == LevelDebug {
			p = LevelInfo
		}
		return strconv.Itoa(p) + ":" + DestJournald
	}
	if daemonMode {
		if haveJournald {
			return journald()
		}
		if !privileged {
			_ = os.MkdirAll(filepath.Dir(logFile), 0o700)
		}
		return strconv.Itoa(level) + ":" + DestFile + ":" + logFile
	}
	if !stdinIsTerminal() && haveJournald {
		return journald()
	}
	return stderrAt(level)
}

func stdinIsTerminal() bool {
	_, err := unix.IoctlGetTermios(0, unix.TCGETS)
	return err == nil
}
