package vbox

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Machine is what the driver keeps about one VM between calls: the facts
// that listing, lookups and dominfo need, read either from one `list -l vms`
// block or from `showvminfo --machinereadable`.
type Machine struct {
	Name      string
	UUID      string // lower case
	State     string // machine-readable VMState token: "poweroff", "running", "aborted-saved"...
	MemoryMB  int
	CPUs      int
	OSType    string // description, e.g. "Ubuntu (64-bit)"
	Autostart bool
	Frontend  string // default front end ("" when not set)
	// AudioController is "ac97", "hda" or "sb16" from the human Audio
	// line; machine-readable output does not print it ("" = unknown).
	AudioController string
	// ReadOnlyFolders names the read-only shared folders; FoldersKnown
	// says the human listing was read (machine-readable output lacks the
	// flag).
	ReadOnlyFolders []string
	FoldersKnown    bool
	Snapshots       int
	// Inaccessible marks a machine whose settings VirtualBox cannot read,
	// told by the shape of the output (never by its name, which a user
	// chooses): the human "<inaccessible!>" block, or machine-readable
	// output with only name="<inaccessible>" and UUID.
	Inaccessible bool
	ConfigFile   string // settings file (.vbox)
}

// humanLabelWidth is the column where values start in human showvminfo
// output: labels are printed with "%-28s %s" (reference §3).
const humanLabelWidth = 29

var (
	humanSinceRE    = regexp.MustCompile(`\s*\(since .*\)\s*$`)
	humanMemoryRE   = regexp.MustCompile(`^(\d+)\s*MB`)
	humanAudioRE    = regexp.MustCompile(`^Audio:\s+enabled \(.*Controller: ([A-Za-z0-9]+)`)
	humanFolderRE   = regexp.MustCompile(`^Name: '(.*)', Host path: '.*' \((?:machine|transient) mapping\), readonly`)
	humanStateNames = map[string]string{
		"powered off":                   "poweroff",
		"saved":                         "saved",
		"teleported":                    "teleported",
		"aborted":                       "aborted",
		"aborted-saved":                 "aborted-saved",
		"aborted (saved)":               "aborted-saved",
		"running":                       "running",
		"paused":                        "paused",
		"guru meditation":               "gurumeditation",
		"teleporting":                   "teleporting",
		"live snapshotting":             "livesnapshotting",
		"starting":                      "starting",
		"stopping":                      "stopping",
		"saving":                        "saving",
		"restoring":                     "restoring",
		"teleporting paused vm":         "teleportingpausedvm",
		"teleporting (incoming)":        "teleportingin",
		"deleting snapshot live":        "deletingsnapshotlive",
		"deleting snapshot live paused": "deletingsnapshotlivepaused",
		"online snapshotting":           "onlinesnapshotting",
		"restoring snapshot":            "restoringsnapshot",
		"deleting snapshot":             "deletingsnapshot",
		"setting up":                    "settingup",
		"offline snapshotting":          "snapshotting",
		"unknown":                       "unknown",
	}
)

// humanValue returns the value of a "Label:   value" line: the text from the
// value column when the label is padded to it (so that leading spaces in a
// VM name survive), else the text after the label with spaces trimmed.
func humanValue(line, label string) string {
	rest := line[len(label):]
	if len(line) > humanLabelWidth && strings.TrimLeft(line[len(label):humanLabelWidth], " ") == "" {
		return line[humanLabelWidth:]
	}
	return strings.TrimLeft(rest, " \t")
}

// humanState maps the human State text ("powered off (since ...)") to the
// machine-readable token.
func humanState(v string) string {
	v = strings.ToLower(strings.TrimSpace(humanSinceRE.ReplaceAllString(v, "")))
	if tok, ok := humanStateNames[v]; ok {
		return tok
	}
	return strings.ReplaceAll(v, " ", "")
}

// ParseListLong reads the human blocks of `list --long vms` leniently, as
// tools and tests want them: every block with a UUID, each label's first
// occurrence. The inventory does not use it: it reads `list --multiple vms
// --long vms` with ParseListing, which proves what it takes. It fails on
// text before the first block and on a block without a UUID.
func ParseListLong(out []byte) ([]Machine, error) {
	l := ParseListing(out)
	if l.Junk > 0 {
		return nil, fmt.Errorf("list -l vms: %d unexpected lines before the first Name:", l.Junk)
	}
	ms := make([]Machine, 0, len(l.blocks))
	for _, b := range l.blocks {
		if !uuidRE.MatchString(b.m.UUID) {
			return nil, fmt.Errorf("list -l vms: machine %q has no UUID line", truncate(b.m.Name, 60))
		}
		ms = append(ms, b.m)
	}
	return ms, nil
}

// MachineFromInfo builds the cached facts from machine-readable showvminfo.
func MachineFromInfo(in *Info) Machine {
	m := Machine{
		Name:      in.Str("name"),
		UUID:      strings.ToLower(in.Str("UUID")),
		State:     in.Str("VMState"),
		MemoryMB:  in.Int("memory", 0),
		CPUs:      in.Int("cpus", 0),
		OSType:    in.Str("ostype"),
		Autostart: in.Bool("autostart-enabled"),
		Frontend:  strings.TrimSpace(in.Str("defaultfrontend")),
	}
	m.ConfigFile = in.Str("CfgFile")
	_, hasState := in.Get("VMState")
	m.Inaccessible = m.Name == "<inaccessible>" && !hasState
	if m.Inaccessible {
		m.Name = ""
	}
	for _, kv := range in.Pairs {
		if kv.Key == "SnapshotUUID" || strings.HasPrefix(kv.Key, "SnapshotUUID-") {
			m.Snapshots++
		}
	}
	return m
}

// Record is one block of "Label: value" lines (list hostinfo, list
// systemproperties, list hdds...), in order, with the first occurrence of a
// label indexed.
type Record struct {
	Pairs []KV
	index map[string]int
}

// Get returns the value for label.
func (r Record) Get(label string) (string, bool) {
	i, ok := r.index[label]
	if !ok {
		return "", false
	}
	return r.Pairs[i].Value, true
}

// Str returns the value for label or "".
func (r Record) Str(label string) string { v, _ := r.Get(label); return v }

// LeadingInt returns the integer at the start of label's value ("32014 MByte"
// → 32014), or def.
func (r Record) LeadingInt(label string, def int64) int64 {
	v := strings.TrimSpace(r.Str(label))
	end := 0
	for end < len(v) && v[end] >= '0' && v[end] <= '9' {
		end++
	}
	n, err := strconv.ParseInt(v[:end], 10, 64)
	if err != nil {
		return def
	}
	return n
}

// ParseRecords reads blank-line separated blocks of "Label: value" lines,
// splitting each line at its FIRST colon (bridged interface names contain
// ": "). Lines without a colon are ignored; an empty value is kept.
func ParseRecords(out []byte) []Record {
	var recs []Record
	var cur *Record
	for _, line := range strings.Split(strings.ReplaceAll(string(out), "\r", ""), "\n") {
		if strings.TrimSpace(line) == "" {
			if cur != nil {
				recs = append(recs, *cur)
				cur = nil
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if cur == nil {
			cur = &Record{index: map[string]int{}}
		}
		k = strings.TrimSpace(k)
		if _, seen := cur.index[k]; !seen {
			cur.index[k] = len(cur.Pairs)
		}
		cur.Pairs = append(cur.Pairs, KV{Key: k, Value: strings.TrimSpace(v)})
	}
	if cur != nil {
		recs = append(recs, *cur)
	}
	return recs
}

// ParseHostInfo reads `list hostinfo` (reference §1.10) as one record; the
// "Host Information:" header is skipped.
func ParseHostInfo(out []byte) (Record, error) {
	merged := Record{index: map[string]int{}}
	for _, r := range ParseRecords(out) {
		for _, kv := range r.Pairs {
			if kv.Key == "Host Information" && kv.Value == "" {
				continue
			}
			if _, seen := merged.index[kv.Key]; !seen {
				merged.index[kv.Key] = len(merged.Pairs)
			}
			merged.Pairs = append(merged.Pairs, kv)
		}
	}
	if _, ok := merged.Get("Memory size"); !ok {
		return merged, fmt.Errorf("list hostinfo: no \"Memory size\" line")
	}
	return merged, nil
}

// ParseSystemProperties reads `list systemproperties` as one record.
func ParseSystemProperties(out []byte) (Record, error) {
	recs := ParseRecords(out)
	merged := Record{index: map[string]int{}}
	for _, r := range recs {
		for _, kv := range r.Pairs {
			if _, seen := merged.index[kv.Key]; !seen {
				merged.index[kv.Key] = len(merged.Pairs)
			}
			merged.Pairs = append(merged.Pairs, kv)
		}
	}
	if len(merged.Pairs) == 0 {
		return merged, fmt.Errorf("list systemproperties: empty output")
	}
	return merged, nil
}

// Medium is one entry of `list hdds` (reference §1.8).
type Medium struct {
	UUID, ParentUUID, State, Type, Location, Format string
	CapacityMB                                      int64
}

// ParseHDDs reads `list hdds`.
func ParseHDDs(out []byte) ([]Medium, error) {
	var ms []Medium
	for _, r := range ParseRecords(out) {
		m := Medium{
			UUID: strings.ToLower(r.Str("UUID")), ParentUUID: r.Str("Parent UUID"), State: r.Str("State"),
			Type: r.Str("Type"), Location: r.Str("Location"), Format: r.Str("Storage format"),
			CapacityMB: r.LeadingInt("Capacity", 0),
		}
		if !uuidRE.MatchString(m.UUID) {
			return nil, fmt.Errorf("list hdds: record without a valid UUID (%q)", truncate(m.UUID, 60))
		}
		ms = append(ms, m)
	}
	return ms, nil
}
