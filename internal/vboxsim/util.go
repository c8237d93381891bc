package vboxsim

import (
	"fmt"
	"strings"
	"time"
)

// newUUID returns a random (version 4) UUID.
func (s *Sim) newUUID() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(s.rng.UintN(256))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// newMAC returns a VirtualBox-style MAC: 080027 + 6 random hex digits.
func (s *Sim) newMAC() string {
	return fmt.Sprintf("080027%06X", s.rng.UintN(1<<24))
}

// vboxTime formats a time like RTTimeSpecToString cut by VBoxManage's buffer:
// nanosecond digits with millisecond precision, no trailing Z.
func vboxTime(t time.Time) string {
	t = t.UTC()
	return t.Format("2006-01-02T15:04:05") + fmt.Sprintf(".%03d000000", t.Nanosecond()/1e6)
}

// onOff prints a boolean the way showvminfo does.
func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// enabledDisabled prints a boolean the way the human showvminfo does.
func enabledDisabled(b bool) string {
	if b {
		return "enabled"
	}
	return "disabled"
}

// yesNo prints a boolean the way list hostonlyifs and natnets do.
func yesNo(b bool) string {
	if b {
		return "Yes"
	}
	return "No"
}

// parseBool accepts VBoxManage's on/off spellings.
func parseBool(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "on", "true", "yes", "1", "enable", "enabled":
		return true, true
	case "off", "false", "no", "0", "disable", "disabled":
		return false, true
	}
	return false, false
}

// mrQuote quotes a machine-readable string value, escaping " and \ as
// VBoxManage's outputMachineReadableString does. Nothing else is escaped: a
// newline in the value is printed as is, so the value continues on the
// next lines (reference §3.1).
func mrQuote(v string) string {
	if !strings.ContainsAny(v, "\"\\") {
		return "\"" + v + "\""
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range v {
		if r == '"' || r == '\\' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// isOnline reports the VMStates with a VM process (listed by runningvms,
// holding the session lock).
func isOnline(state string) bool {
	switch state {
	case "running", "paused", "stuck", "gurumeditation", "teleporting", "livesnapshotting", "starting",
		"stopping", "saving", "restoring", "teleportingpausedvm", "teleportingin", "onlinesnapshotting":
		return true
	}
	return false
}

// stateCamel is the API spelling used in error messages.
func stateCamel(state string) string {
	switch state {
	case "poweroff":
		return "PoweredOff"
	case "running":
		return "Running"
	case "paused":
		return "Paused"
	case "saved":
		return "Saved"
	case "aborted":
		return "Aborted"
	case "aborted-saved":
		return "AbortedSaved"
	}
	return strings.ToUpper(state[:1]) + state[1:]
}

// stateHuman is the human showvminfo spelling.
func stateHuman(state string) string {
	switch state {
	case "poweroff":
		return "powered off"
	case "gurumeditation":
		return "guru meditation"
	case "livesnapshotting":
		return "live snapshotting"
	case "teleportingin":
		return "teleporting (incoming)"
	case "settingup":
		return "setting up"
	case "snapshotting":
		return "offline snapshotting"
	}
	return state
}
