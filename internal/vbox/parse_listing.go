package vbox

import (
	"crypto/sha256"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The inventory reads every machine with one process:
//
//	VBoxManage list --multiple vms --long vms
//
// which prints "[vms]", the compact list (`"name" {uuid}` per machine), a
// blank line, "[vms]" again and the human block of every machine (the same
// as `list --long vms`). Neither part escapes anything: a name or a
// description with newlines can print lines that look like labels, block
// starts or list entries. The two parts are therefore read for what each
// can prove (docs/vbox-driver.md, "Reading list --long vms safely"):
//
//   - a human block is "clean" when its own lines follow the grammar of
//     VBoxManageInfo.cpp exactly: the header labels in order (a name with a
//     newline breaks it), the body fields once each, then the capture or
//     recording section, the description (raw text that runs to the tail),
//     the snapshot tree and the guest section in their fixed shape;
//   - a description can print a fake end of its block and a whole fake
//     block, but not a compact entry: a machine that exists has a compact
//     line, and only a name with a newline (which breaks its own block's
//     header) can print extra compact lines.
//
// A clean block whose UUID has exactly one compact line with the same name
// is taken as is. Everything else (unclean blocks, duplicate UUIDs, names
// that differ, compact lines that are not `"name" {uuid}`) names a few
// machines that the inventory reads alone with `showvminfo <uuid>
// --machinereadable`, where every string is escaped; once those are known,
// their exact compact lines are removed and the rest is judged again. A
// block whose UUID is not in a fully explained compact list is text, not a
// machine, and is dropped without a call.

// labelPrefix is how VBoxManage prints a label: "%-28s " (value at column 29).
func labelPrefix(label string) string {
	if p, ok := labelPrefixes[label]; ok {
		return p
	}
	return fmt.Sprintf("%-28s ", label+":")
}

// labelPrefixes holds the labels the listing grammar looks for.
var labelPrefixes = func() map[string]string {
	m := map[string]string{}
	for _, l := range []string{"Name", "Encryption", "Cipher", "Password ID", "Groups", "Platform Architecture", "Guest OS",
		"UUID", "Config file", "Snapshot folder", "Log folder", "Hardware UUID", "State", "Number of CPUs",
		"Autostart Enabled", "Default Frontend", "Audio", "Capture options", "Recording screens", "    Video FPS",
		"Configured memory balloon"} {
		m[l] = fmt.Sprintf("%-28s ", l+":")
	}
	return m
}()

var (
	namePrefix          = labelPrefix("Name")
	inaccessibleNameRaw = "Name:            <inaccessible!>"
	compactLineRE       = regexp.MustCompile(`^"(.*)" \{([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}$`)
	compactEndRE        = regexp.MustCompile(`" \{([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}$`)
	treeLineRE          = regexp.MustCompile(`^((?:   )+)Name: (.*) \(UUID: ([0-9a-fA-F-]{36})\)( \*)?$`)
	treeDescRE          = regexp.MustCompile(`^((?:   )+)Description:(?: (.*))?$`)
)

// humanBlock is one block of the long list, judged on its own lines.
type humanBlock struct {
	m     Machine
	sig   BlockSig
	clean bool
	why   string // why the block is not clean
	line  int    // first line, 1-based, for warnings
}

// Known is what reading one machine alone (`showvminfo <uuid>
// --machinereadable`) said about it.
type Known struct {
	Machine Machine
	Found   bool  // false: VBoxManage said there is no such machine
	Err     error // the machine could not be read
}

// Listing is the parsed output of `list --multiple vms --long vms` (or of
// `list --long vms` alone, which proves less: see Compact).
type Listing struct {
	blocks []humanBlock
	// Compact reports whether the output had the compact part. Without it
	// a clean block is taken on its own word.
	Compact bool
	compact []string // the compact lines, in order
	// Junk counts lines before the first block that belong to no part.
	Junk int
	// Complete reports the shape of `list --multiple vms --long vms`: the
	// "[vms]" header, the compact part and the second "[vms]" header.
	Complete bool
}

// ParseListing splits the output into its parts and judges every block. It
// never fails and never panics; what it cannot prove shows up in Suspects.
func ParseListing(out []byte) *Listing {
	text := strings.ReplaceAll(string(out), "\r\n", "\n")
	text = strings.TrimSuffix(text, "\n")
	var lines []string
	if text != "" {
		lines = strings.Split(text, "\n")
	}
	l := &Listing{}
	longStart := 0
	if len(lines) > 0 && lines[0] == "[vms]" {
		// The compact part ends at the first "" + "[vms]" pair that is
		// followed by a block start or by nothing.
		for j := 2; j < len(lines); j++ {
			if lines[j] == "[vms]" && lines[j-1] == "" && (j+1 == len(lines) || isBlockStart(lines[j+1])) {
				l.Compact, l.Complete = true, true
				l.compact = lines[1 : j-1]
				longStart = j + 1
				break
			}
		}
		if !l.Compact {
			// No second header: everything is compact text that cannot be
			// matched with blocks.
			l.Compact = true
			l.compact = lines[1:]
			longStart = len(lines)
		}
	}
	start := -1
	for i := longStart; i <= len(lines); i++ {
		atStart := i < len(lines) && isBlockStart(lines[i]) && (i == longStart || lines[i-1] == "")
		if i < len(lines) && !atStart {
			if start < 0 && lines[i] != "" {
				l.Junk++
			}
			continue
		}
		if start >= 0 {
			b := parseBlock(lines[start:i])
			b.line = start + 1
			b.sig = blockSig(lines[start:i])
			l.blocks = append(l.blocks, b)
		}
		start = i
	}
	return l
}

// BlockSig is what the inventory compares between two listings to tell
// whether a machine may have changed: a digest of its whole block (every
// setting the human listing prints, the description, the snapshot tree) and
// the time of its last state change (`State: ... (since <time>)`, the same
// text as machine-readable VMStateChangeTime).
type BlockSig struct {
	Digest [sha256.Size]byte
	Since  string
	// Settings is the settings file's size and time, set by the inventory
	// when it can see the file.
	Settings     string
	SettingsNano int64 // the file's modification time (0: unknown)
}

func blockSig(lines []string) BlockSig {
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	var s BlockSig
	h.Sum(s.Digest[:0])
	for _, l := range lines {
		if strings.HasPrefix(l, "State:") {
			if m := humanSinceRE.FindString(l); m != "" {
				s.Since = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(m), "(since "), ")")
			}
			break
		}
	}
	return s
}

// Sigs returns the signature of each machine's block (the first block that
// names its UUID).
func (l *Listing) Sigs() map[string]BlockSig {
	out := make(map[string]BlockSig, len(l.blocks))
	for _, b := range l.blocks {
		if _, ok := out[b.m.UUID]; !ok {
			out[b.m.UUID] = b.sig
		}
	}
	return out
}

func isBlockStart(line string) bool {
	return strings.HasPrefix(line, namePrefix) || line == inaccessibleNameRaw
}

// Suspects returns the UUIDs to read alone before Machines can answer, given
// what is already known. The inventory calls it until it returns none.
func (l *Listing) Suspects(known map[string]Known) []string {
	var out []string
	seen := map[string]bool{}
	add := func(u string) {
		u = strings.ToLower(u)
		if _, ok := known[u]; ok || seen[u] || !uuidRE.MatchString(u) {
			return
		}
		seen[u] = true
		out = append(out, u)
	}
	entries, owners, unexplained := l.compactEntries(known)
	for _, u := range owners {
		add(u)
	}
	if unexplained {
		// Compact text that cannot be attributed: every machine named
		// anywhere is read alone (only a crafted name gets here).
		for _, b := range l.blocks {
			add(b.m.UUID)
		}
		for _, line := range l.compact {
			if m := compactEndRE.FindStringSubmatch(line); m != nil {
				add(m[1])
			}
		}
		return out
	}
	count := map[string]int{}
	for _, b := range l.blocks {
		count[b.m.UUID]++
	}
	inBlocks := map[string]bool{}
	for _, b := range l.blocks {
		u := b.m.UUID
		if _, ok := known[u]; ok {
			continue
		}
		e, registered := entries[u]
		switch {
		case !b.clean, count[u] > 1:
			// Only a UUID the compact list names can be a machine: a
			// description that prints a thousand broken blocks costs no
			// call.
			if registered || !l.Compact {
				add(u)
			}
		case !l.Compact:
			inBlocks[u] = true
		default:
			switch {
			case !registered:
				// Not a registered machine (dropped by Machines).
			case e.dup || e.name != compactName(b.m):
				add(u)
			default:
				inBlocks[u] = true
			}
		}
	}
	for u := range entries {
		if !inBlocks[u] {
			add(u)
		}
	}
	return out
}

// compactName is the name the compact list prints for a block's machine.
func compactName(m Machine) string {
	if m.Inaccessible {
		return "<inaccessible>"
	}
	return m.Name
}

type compactEntry struct {
	name string
	dup  bool
	pos  int
}

// compactEntries removes the exact compact lines of the known machines and
// reads the rest: clean entries by UUID, the UUIDs owning lines that are not
// clean entries (the last line of a name with newlines ends with its UUID),
// and whether some line has no owner at all.
func (l *Listing) compactEntries(known map[string]Known) (map[string]compactEntry, []string, bool) {
	lines := l.compact
	if len(known) > 0 {
		text := strings.Join(lines, "\n") + "\n"
		// Longest first: a multi-line name's rendering may contain
		// another machine's line.
		var renderings []string
		for u, k := range known {
			if k.Found && k.Err == nil {
				renderings = append(renderings, `"`+compactName(k.Machine)+`" {`+u+"}\n")
			}
		}
		sort.Slice(renderings, func(i, j int) bool {
			if len(renderings[i]) != len(renderings[j]) {
				return len(renderings[i]) > len(renderings[j])
			}
			return renderings[i] < renderings[j]
		})
		for _, r := range renderings {
			text = strings.Replace(text, r, "", 1)
		}
		lines = strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		if len(lines) == 1 && lines[0] == "" {
			lines = nil
		}
	}
	entries := map[string]compactEntry{}
	var owners []string
	unexplained := false
	stray := false
	for i, line := range lines {
		if m := compactLineRE.FindStringSubmatch(line); m != nil && !stray {
			u := strings.ToLower(m[2])
			if e, ok := entries[u]; ok {
				e.dup = true
				entries[u] = e
				continue
			}
			entries[u] = compactEntry{name: m[1], pos: i}
			continue
		}
		// A line of a multi-line name: its entry ends at the first line
		// that ends with `" {uuid}`, this one or a later one.
		if m := compactEndRE.FindStringSubmatch(line); m != nil {
			owners = append(owners, strings.ToLower(m[1]))
			stray = false
			continue
		}
		stray = true
	}
	if stray {
		unexplained = true
	}
	return entries, owners, unexplained
}

// Machines returns the machines the listing proves, in VirtualBox's order,
// with the known ones in place of their blocks; dropped names the blocks
// that are not machines (for a warning), and broken the machines that could
// not be read.
func (l *Listing) Machines(known map[string]Known) (ms []Machine, dropped []string, broken map[string]error) {
	entries, _, _ := l.compactEntries(known)
	count := map[string]int{}
	for _, b := range l.blocks {
		count[b.m.UUID]++
	}
	broken = map[string]error{}
	emitted := map[string]bool{}
	emitKnown := func(u string, b *humanBlock) {
		k := known[u]
		switch {
		case emitted[u]:
		case k.Err != nil:
			broken[u] = k.Err
		case k.Found:
			if k.Machine.Inaccessible && k.Machine.ConfigFile == "" && b != nil && b.m.Inaccessible {
				// Machine-readable output of an inaccessible machine
				// has no settings path; its block has.
				k.Machine.ConfigFile = b.m.ConfigFile
			}
			ms = append(ms, k.Machine)
		}
		emitted[u] = true
	}
	for i, b := range l.blocks {
		u := b.m.UUID
		if _, ok := known[u]; ok {
			emitKnown(u, &l.blocks[i])
			continue
		}
		e, inCompact := entries[u]
		ok := b.clean && count[u] == 1 && !emitted[u]
		if l.Compact {
			ok = ok && inCompact && !e.dup && e.name == compactName(b.m)
		}
		if !ok {
			dropped = append(dropped, fmt.Sprintf("line %d: %q (%s)", b.line, truncate(b.m.Name, 60), b.reason(inCompact || !l.Compact)))
			continue
		}
		emitted[u] = true
		ms = append(ms, b.m)
	}
	var rest []string
	for u := range known {
		if !emitted[u] {
			rest = append(rest, u)
		}
	}
	sort.Strings(rest)
	for _, u := range rest {
		emitKnown(u, nil)
	}
	return ms, dropped, broken
}

func (b humanBlock) reason(registered bool) string {
	switch {
	case !registered:
		return "no such machine in the compact list"
	case b.why != "":
		return b.why
	}
	return "ambiguous"
}

// parseBlock reads one machine's human block (VBoxManageInfo.cpp's
// showVMInfo with VMINFO_STANDARD and no session).
func parseBlock(lines []string) (b humanBlock) {
	b.clean = true
	fail := func(why string, args ...any) {
		if b.clean {
			b.clean = false
			b.why = fmt.Sprintf(why, args...)
		}
	}
	// Lenient extraction first, so that an unclean block still names its
	// UUID for the fallback.
	lenient := lenientMachine(lines)
	b.m = lenient
	defer func() {
		if !b.clean {
			// Untrusted either way; the lenient reading is what
			// ParseListLong reports and names the UUID to verify.
			b.m = lenient
		}
	}()
	if lines[0] == inaccessibleNameRaw {
		parseInaccessible(lines, &b, fail)
		return b
	}
	i := 0
	field := func(label string) (string, bool) {
		if i < len(lines) && strings.HasPrefix(lines[i], labelPrefix(label)) {
			v := lines[i][len(labelPrefix(label)):]
			i++
			return v, true
		}
		return "", false
	}
	need := func(label string) string {
		v, ok := field(label)
		if !ok {
			got := "end of block"
			if i < len(lines) {
				got = truncate(lines[i], 60)
			}
			fail("header: %q where %q was expected", got, label+":")
		}
		return v
	}
	name := need("Name")
	style := "6.1"
	switch {
	case i < len(lines) && strings.HasPrefix(lines[i], "Encryption:     ") && !strings.HasPrefix(lines[i], labelPrefix("Encryption")):
		style = "7.0"
		enabled := lines[i] == "Encryption:     enabled"
		if !enabled && lines[i] != "Encryption:     disabled" {
			fail("header: bad encryption line")
		}
		i++
		if enabled {
			if i+1 < len(lines) && strings.HasPrefix(lines[i], "Cipher:         ") && strings.HasPrefix(lines[i+1], "Password ID:    ") {
				i += 2
			} else {
				fail("header: encryption details")
			}
		}
	case i < len(lines) && strings.HasPrefix(lines[i], labelPrefix("Encryption")):
		style = "7.1"
		v, _ := field("Encryption")
		if v == "enabled" {
			need("Cipher")
			need("Password ID")
		}
	}
	need("Groups")
	if style != "6.1" {
		field("Platform Architecture")
	}
	osType := need("Guest OS")
	uuid := need("UUID")
	cfg := need("Config file")
	need("Snapshot folder")
	need("Log folder")
	need("Hardware UUID")
	if i < len(lines) && strings.HasPrefix(lines[i], "Memory size") {
		i++
	} else {
		fail("header: no memory size")
	}
	if !uuidRE.MatchString(uuid) {
		fail("UUID %q", truncate(uuid, 40))
	}
	if b.clean {
		b.m.Name, b.m.OSType, b.m.UUID, b.m.ConfigFile = name, osType, strings.ToLower(uuid), cfg
	}
	rest := lines[i:]
	b.m.Snapshots = 0 // counted from the tree the grammar finds
	var tailAt int
	if style == "6.1" {
		tailAt = parseBody61(rest, &b, fail)
	} else {
		tailAt = parseBody7x(rest, &b, fail)
	}
	if tailAt < 0 {
		return b
	}
	if style == "6.1" {
		parseTail61(rest[tailAt:], &b, fail)
	} else {
		parseTail7x(rest[tailAt:], &b, fail)
	}
	return b
}

// bodyFields reads the fields the inventory needs from the lines between the
// header and the capture/recording section; each must appear once.
func bodyFields(body []string, b *humanBlock, fail func(string, ...any)) {
	seen := map[string]int{}
	for _, line := range body {
		for _, label := range []string{"State", "Number of CPUs", "Autostart Enabled", "Default Frontend", "Audio"} {
			if strings.HasPrefix(line, labelPrefix(label)) {
				seen[label]++
			}
		}
	}
	for label, n := range seen {
		if n > 1 {
			fail("%q printed %d times", label+":", n)
		}
	}
	if seen["State"] != 1 || seen["Number of CPUs"] != 1 {
		fail("no State or Number of CPUs line")
	}
}

// parseBody61 checks the 6.1 body and returns the index of the tail
// ("Guest:") in body, after the optional description, or -1.
func parseBody61(body []string, b *humanBlock, fail func(string, ...any)) int {
	anchor := -1
	for k, line := range body {
		if strings.HasPrefix(line, labelPrefix("Capture options")) {
			anchor = k
			break
		}
	}
	if anchor < 0 || anchor+1 >= len(body) || body[anchor+1] != "" {
		fail("no capture section")
		return -1
	}
	bodyFields(body[:anchor], b, fail)
	k := anchor + 2
	isTail := func(k int) bool {
		return k+2 < len(body) && body[k] == "Guest:" && body[k+1] == "" && strings.HasPrefix(body[k+2], "Configured memory balloon size: ")
	}
	if k < len(body) && body[k] == "Description:" {
		for j := k + 2; j < len(body); j++ {
			if isTail(j) {
				return j
			}
		}
		fail("description without an end")
		return -1
	}
	if !isTail(k) {
		fail("no guest section after the capture section")
		return -1
	}
	return k
}

// parseBody7x checks the 7.x body and returns the index of the tail
// ("* Snapshots:" or "* Guest:") in body, or -1.
func parseBody7x(body []string, b *humanBlock, fail func(string, ...any)) int {
	anchor := -1
	for k, line := range body {
		if strings.HasPrefix(line, labelPrefix("Recording screens")) {
			anchor = k
			break
		}
	}
	if anchor < 0 {
		fail("no recording section")
		return -1
	}
	bodyFields(body[:anchor], b, fail)
	n, err := strconv.Atoi(body[anchor][len(labelPrefix("Recording screens")):])
	if err != nil || n < 0 || n > 64 {
		fail("recording screens")
		return -1
	}
	k := anchor + 1
	for s := 0; s < n; s++ {
		if k >= len(body) || body[k] != fmt.Sprintf(" Screen %d:", s) {
			fail("recording screen %d", s)
			return -1
		}
		for k++; k < len(body) && !strings.HasPrefix(body[k], labelPrefix("    Video FPS")); k++ {
			if !strings.HasPrefix(body[k], "    ") {
				fail("recording screen %d: %q", s, truncate(body[k], 40))
				return -1
			}
		}
		k++
	}
	isTail := func(k int) bool {
		return k+1 < len(body) && ((body[k] == "* Snapshots:" && treeLineRE.MatchString(body[k+1])) ||
			(body[k] == "* Guest:" && strings.HasPrefix(body[k+1], labelPrefix("Configured memory balloon"))))
	}
	from := k
	if k < len(body) && body[k] == "Description:" {
		from = k + 2
	}
	for j := from; j < len(body); j++ {
		if isTail(j) {
			if from == k {
				// No description: only VMMDev testing lines may come first.
				for _, line := range body[k:j] {
					if !strings.HasPrefix(line, "VMMDev Testing") {
						fail("unexpected %q before the guest section", truncate(line, 40))
					}
				}
			}
			return j
		}
	}
	fail("no guest section")
	return -1
}

// parseTail61: "Guest:", "", balloon, "", ["Snapshots:", "", tree], "".
func parseTail61(t []string, b *humanBlock, fail func(string, ...any)) {
	k := 3 // Guest:, "", balloon (checked by the caller)
	// list -l vms passes no session: no console lines follow.
	if k >= len(t) || t[k] != "" {
		fail("guest section")
		return
	}
	k++
	if k < len(t) && t[k] == "Snapshots:" {
		if k+1 >= len(t) || t[k+1] != "" || t[len(t)-1] != "" {
			fail("snapshot section")
			return
		}
		b.m.Snapshots = parseTree(t[k+2:len(t)-1], false, fail)
		return
	}
	if k != len(t)-1 || t[k] != "" {
		fail("text after the guest section")
	}
}

// parseTail7x: ["* Snapshots:", tree], "* Guest:", balloon, "".
func parseTail7x(t []string, b *humanBlock, fail func(string, ...any)) {
	k := 0
	if t[0] == "* Snapshots:" {
		end := -1
		for j := 1; j+1 < len(t); j++ {
			if t[j] == "* Guest:" && strings.HasPrefix(t[j+1], labelPrefix("Configured memory balloon")) {
				end = j
				break
			}
		}
		if end < 0 {
			fail("snapshot section without an end")
			return
		}
		b.m.Snapshots = parseTree(t[1:end], true, fail)
		k = end
	}
	// "* Guest:", balloon, then the block's blank line.
	if k+3 != len(t) || t[k] != "* Guest:" || t[k+2] != "" {
		fail("text after the guest section")
	}
}

// parseTree checks a snapshot tree (showSnapshots): one root, each level
// three spaces deeper than its parent, unique UUIDs, one current snapshot,
// descriptions under their snapshot (one-line only in 7.x). It returns the
// number of snapshots.
func parseTree(lines []string, v7 bool, fail func(string, ...any)) int {
	n, current, depth := 0, 0, -1
	uuids := map[string]bool{}
	for k := 0; k < len(lines); k++ {
		m := treeLineRE.FindStringSubmatch(lines[k])
		if m == nil {
			fail("snapshot tree: %q", truncate(lines[k], 40))
			return n
		}
		d := len(m[1])/3 - 1
		if (n == 0 && d != 0) || (n > 0 && (d == 0 || d > depth+1)) {
			fail("snapshot tree depth")
		}
		depth = d
		u := strings.ToLower(m[3])
		if !uuidRE.MatchString(u) || uuids[u] {
			fail("snapshot UUID %q", m[3])
		}
		uuids[u] = true
		if m[4] != "" {
			current++
		}
		n++
		if k+1 < len(lines) {
			if dm := treeDescRE.FindStringSubmatch(lines[k+1]); dm != nil && dm[1] == m[1] {
				k++
				if dm[2] != "" {
					if !v7 {
						fail("6.1 prints snapshot descriptions on their own lines")
					}
					continue
				}
				// Raw text to the next snapshot line; at least one line.
				if k+1 >= len(lines) || treeLineRE.MatchString(lines[k+1]) {
					fail("snapshot description")
				}
				for k+1 < len(lines) && !treeLineRE.MatchString(lines[k+1]) {
					k++
				}
			}
		}
	}
	if n > 0 && current != 1 {
		fail("snapshot tree: %d current snapshots", current)
	}
	return n
}

// parseInaccessible: Name, UUID, Config file, [Encryption...], "Access
// error details:", "" (the details themselves go to stderr).
func parseInaccessible(lines []string, b *humanBlock, fail func(string, ...any)) {
	b.m.Inaccessible = true
	b.m.Name = ""
	k := 1
	if k < len(lines) && strings.HasPrefix(lines[k], "UUID:            ") {
		b.m.UUID = strings.ToLower(lines[k][len("UUID:            "):])
		k++
	} else {
		fail("inaccessible block: UUID")
	}
	if k < len(lines) && strings.HasPrefix(lines[k], "Config file:     ") {
		b.m.ConfigFile = lines[k][len("Config file:     "):]
		k++
	} else {
		fail("inaccessible block: config file")
	}
	switch {
	case k < len(lines) && lines[k] == "Encryption:     disabled":
		k++
	case k+2 < len(lines) && lines[k] == "Encryption:     enabled":
		k += 3
	}
	if k+2 != len(lines) || lines[k] != "Access error details:" || lines[k+1] != "" {
		fail("inaccessible block: shape")
	}
	if !uuidRE.MatchString(b.m.UUID) {
		fail("inaccessible block: UUID %q", truncate(b.m.UUID, 40))
	}
}

// lenientMachine extracts the fields from a block without judging it: the
// first occurrence of each label wins. ParseListLong uses it, and it gives
// an unclean block the UUID to verify.
func lenientMachine(lines []string) Machine {
	m := Machine{FoldersKnown: lines[0] != inaccessibleNameRaw}
	inSnapshots := false
	// Shared folders come before the capture/recording section and the
	// description: folder-like lines after those are not folders.
	pastFolders := false
	seen := map[string]bool{}
	first := func(label string) bool {
		if seen[label] {
			return false
		}
		seen[label] = true
		return true
	}
	for k, line := range lines {
		switch {
		case k == 0 && line == inaccessibleNameRaw:
			m.Inaccessible = true
		case k == 0 && strings.HasPrefix(line, "Name:"):
			m.Name = humanValue(line, "Name:")
		case strings.HasPrefix(line, "UUID:") && first("UUID"):
			m.UUID = strings.ToLower(strings.TrimSpace(humanValue(line, "UUID:")))
		case strings.HasPrefix(line, "Config file:") && first("Config file"):
			m.ConfigFile = strings.TrimSpace(humanValue(line, "Config file:"))
		case strings.HasPrefix(line, "State:") && first("State"):
			m.State = humanState(humanValue(line, "State:"))
		case strings.HasPrefix(line, "Memory size") && first("Memory size"):
			v := strings.TrimLeft(strings.TrimPrefix(strings.TrimPrefix(line, "Memory size"), ":"), " ")
			if mm := humanMemoryRE.FindStringSubmatch(v); mm != nil {
				m.MemoryMB, _ = strconv.Atoi(mm[1])
			}
		case strings.HasPrefix(line, "Number of CPUs:") && first("CPUs"):
			m.CPUs, _ = strconv.Atoi(strings.TrimSpace(humanValue(line, "Number of CPUs:")))
		case strings.HasPrefix(line, "Guest OS:") && first("Guest OS"):
			m.OSType = strings.TrimSpace(humanValue(line, "Guest OS:"))
		case (strings.HasPrefix(line, "Autostart Enabled:") || strings.HasPrefix(line, "Autostart enabled:")) && first("Autostart"):
			m.Autostart = parseOnOff(humanValue(line, "Autostart Enabled:"))
		case strings.HasPrefix(line, "Audio:") && first("Audio"):
			if mm := humanAudioRE.FindStringSubmatch(line); mm != nil {
				m.AudioController = strings.ToLower(mm[1])
			}
		case strings.HasPrefix(line, "Default Frontend:") && first("Frontend"):
			m.Frontend = strings.TrimSpace(humanValue(line, "Default Frontend:"))
		case strings.HasPrefix(line, "Capturing:") || strings.HasPrefix(line, "Recording enabled:") ||
			strings.HasPrefix(line, "Recording screens:") || line == "Description:":
			pastFolders = true
		case !pastFolders && humanFolderRE.MatchString(line):
			m.ReadOnlyFolders = append(m.ReadOnlyFolders, humanFolderRE.FindStringSubmatch(line)[1])
		case line == "Snapshots:" || line == "* Snapshots:":
			inSnapshots = true
		case inSnapshots && treeLineRE.MatchString(line):
			m.Snapshots++
		case inSnapshots && (line == "* Guest:" || line == "Guest:"):
			inSnapshots = false
		}
	}
	return m
}
