package vbox

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Version is a VirtualBox version as `VBoxManage --version` prints it.
type Version struct {
	Major, Minor, Micro int
	Suffix              string // distro suffix such as "_Ubuntu", "_OSE" (may be empty)
	Revision            int    // the number after 'r', 0 when absent
	Raw                 string // the line it was read from
}

// Number is the version as libvirt encodes it: major*1e6 + minor*1e3 + micro.
func (v Version) Number() uint64 {
	return uint64(v.Major)*1000000 + uint64(v.Minor)*1000 + uint64(v.Micro)
}

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Micro) }

// AtLeast reports whether v is major.minor or newer.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major > major || v.Major == major && v.Minor >= minor
}

var versionRE = regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)(_[A-Za-z0-9_~.-]*?)?(?:r(\d+))?$`)

// ParseVersion reads `VBoxManage --version` output. It takes the last
// non-empty line, since a kernel-module warning may precede the version on
// stdout (reference §1.1). Distro suffixes (6.1.38_Ubuntur153438,
// 4.1.8_OSEr1234) are accepted.
func ParseVersion(out []byte) (Version, error) {
	lines := strings.Split(strings.ReplaceAll(string(out), "\r", ""), "\n")
	line := ""
	for i := len(lines) - 1; i >= 0; i-- {
		if s := strings.TrimSpace(lines[i]); s != "" {
			line = s
			break
		}
	}
	m := versionRE.FindStringSubmatch(line)
	if m == nil {
		return Version{}, fmt.Errorf("unrecognised VBoxManage version %q", truncate(line, 80))
	}
	v := Version{Raw: line, Suffix: m[4]}
	v.Major, _ = strconv.Atoi(m[1])
	v.Minor, _ = strconv.Atoi(m[2])
	v.Micro, _ = strconv.Atoi(m[3])
	if m[5] != "" {
		v.Revision, _ = strconv.Atoi(m[5])
	}
	return v, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
