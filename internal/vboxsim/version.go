package vboxsim

import (
	"fmt"
	"regexp"
	"strconv"
)

// Personality is the VirtualBox release the simulator impersonates.
type Personality struct {
	Major, Minor, Build int
	// Full is what --version prints, e.g. "7.0.20r163906".
	Full string
}

var defaultRevisions = map[string]string{
	"6.1": "6.1.50r161033",
	"7.0": "7.0.20r163906",
	"7.1": "7.1.4r165100",
}

var reVersion = regexp.MustCompile(`^(\d+)\.(\d+)(?:\.(\d+))?(.*)$`)

// ParsePersonality reads a VBOXSIM_VERSION value: "6.1", "7.0", "7.1" pick a
// concrete default release; "6.1.38", "7.0.14r161095" or "6.1.38_Ubuntur153438"
// are used as given (a revision is added when missing).
func ParsePersonality(v string) (Personality, error) {
	if v == "" {
		v = "7.0"
	}
	if full, ok := defaultRevisions[v]; ok {
		v = full
	}
	m := reVersion.FindStringSubmatch(v)
	if m == nil {
		return Personality{}, fmt.Errorf("VBOXSIM_VERSION %q: want 6.1[.x], 7.0[.x] or 7.1[.x]", v)
	}
	p := Personality{Full: v}
	p.Major, _ = strconv.Atoi(m[1])
	p.Minor, _ = strconv.Atoi(m[2])
	if m[3] != "" {
		p.Build, _ = strconv.Atoi(m[3])
	}
	key := fmt.Sprintf("%d.%d", p.Major, p.Minor)
	if _, ok := defaultRevisions[key]; !ok {
		return Personality{}, fmt.Errorf("VBOXSIM_VERSION %q: only 6.1, 7.0 and 7.1 are simulated", v)
	}
	if m[3] == "" {
		p.Full = defaultRevisions[key]
		p.Build, _ = strconv.Atoi(reVersion.FindStringSubmatch(p.Full)[3])
	} else if m[4] == "" {
		p.Full = v + "r" + map[string]string{"6.1": "160000", "7.0": "161000", "7.1": "164000"}[key]
	}
	return p, nil
}

// Is61 reports a 6.1.x personality.
func (p Personality) Is61() bool { return p.Major == 6 }

// Is70 reports a 7.0.x personality.
func (p Personality) Is70() bool { return p.Major == 7 && p.Minor == 0 }

// Is71 reports a 7.1.x personality.
func (p Personality) Is71() bool { return p.Major == 7 && p.Minor >= 1 }

// Short is major.minor.build.
func (p Personality) Short() string { return fmt.Sprintf("%d.%d.%d", p.Major, p.Minor, p.Build) }

// Revision is the numeric revision from Full (after the last 'r').
func (p Personality) Revision() string {
	for i := len(p.Full) - 1; i >= 0; i-- {
		if p.Full[i] == 'r' {
			return p.Full[i+1:]
		}
	}
	return "0"
}

// APIVersion is the "API version:" of list systemproperties.
func (p Personality) APIVersion() string { return fmt.Sprintf("%d_%d", p.Major, p.Minor) }

// dot is the trailing punctuation 7.x added to several messages.
func (p Personality) dot() string {
	if p.Is61() {
		return ""
	}
	return "."
}

// Logo is the banner printed before classic syntax errors and by help.
func (p Personality) Logo() string {
	if p.Is61() {
		year := "2023"
		switch {
		case p.Build < 32:
			year = "2021"
		case p.Build < 42:
			year = "2022"
		}
		return fmt.Sprintf("Oracle VM VirtualBox Command Line Management Interface Version %s\n(C) 2005-%s Oracle Corporation\nAll rights reserved.\n\n", p.Short(), year)
	}
	year := "2024"
	if p.Is70() && p.Build < 14 {
		year = "2023"
	}
	return fmt.Sprintf("Oracle VM VirtualBox Command Line Management Interface Version %s\nCopyright (C) 2005-%s Oracle and/or its affiliates\n\n", p.Short(), year)
}
