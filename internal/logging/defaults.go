package logging

import (
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// journaldSocket is the socket whose writability means "journald is here",
// as libvirt tests it.
var journaldSocket = "/run/systemd/journal/socket"

// LocalStateDir is where root's default log file lives
// (<LocalStateDir>/log/libvirt/virtvboxd.log).
var LocalStateDir = "/var"

// DaemonName names the default log file.
const DaemonName = "virtvboxd"

// DefaultOutputs returns the default log_outputs string, chosen as libvirt
// chooses it for its daemons, at priority level:
//
//   - daemon mode (-d): "L:journald" when /run/systemd/journal/socket is
//     writable, else a file: /var/log/libvirt/virtvboxd.log for root,
//     $XDG_CACHE_HOME/libvirt/virtvboxd.log (~/.cache/...) for other users;
//   - foreground: "L:journald" when stdin is not a terminal and journald is
//     there, else "L:stderr".
//
// journald never gets debug by default: level 1 becomes 2 there, as in
// libvirt. For a user's log file, the directory is created (mode 0700) as
// libvirt does; if that fails, opening the file will report it.
func DefaultOutputs(daemonMode, privileged bool, level int) string {
	if level < LevelDebug || level > LevelError {
		level = DefaultLevel
	}
	haveJournald := unix.Access(journaldSocket, unix.W_OK) == nil
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
		return strconv.Itoa(level) + ":" + DestFile + ":" + defaultLogFile(privileged)
	}
	if !stdinIsTerminal() && haveJournald {
		return journald()
	}
	return stderrAt(level)
}

func defaultLogFile(privileged bool) string {
	if privileged {
		return filepath.Join(LocalStateDir, "log", "libvirt", DaemonName+".log")
	}
	dir := os.Getenv("XDG_CACHE_HOME")
	if dir == "" || !filepath.IsAbs(dir) {
		home := os.Getenv("HOME")
		if home == "" {
			if h, err := os.UserHomeDir(); err == nil {
				home = h
			}
		}
		dir = filepath.Join(home, ".cache")
	}
	dir = filepath.Join(dir, "libvirt")
	_ = os.MkdirAll(dir, 0o700)
	return filepath.Join(dir, DaemonName+".log")
}

func stdinIsTerminal() bool {
	_, err := unix.IoctlGetTermios(0, unix.TCGETS)
	return err == nil
}
