package vbox

import (
	"strconv"
	"strings"
	"sync"
)

// KV is one line of `showvminfo --machinereadable`, in output order.
type KV struct {
	Key   string
	Value string
	// Bare marks a line without '=' (7.0's "Encryption:     disabled", the
	// recording section's " rec_screen0"): Key is the text before the first
	// ':' (or the whole trimmed line) and Value the trimmed rest.
	Bare bool
}

// Info is parsed `showvminfo --machinereadable` output: the pairs in order
// plus an index by key (the first occurrence wins).
type Info struct {
	Pairs []KV
	index map[string]int
	// machine memoizes MachineFromInfo: an Info never changes once parsed,
	// and every dumpxml asks for its Machine.
	machineOnce sync.Once
	machine     Machine
}

// Machine returns MachineFromInfo(in), computed once per Info.
func (in *Info) Machine() Machine {
	in.machineOnce.Do(func() { in.machine = MachineFromInfo(in) })
	return in.machine
}

// Get returns the value of key and whether it was present.
func (in *Info) Get(key string) (string, bool) {
	if in == nil {
		return "", false
	}
	i, ok := in.index[key]
	if !ok {
		return "", false
	}
	return in.Pairs[i].Value, true
}

// Str returns the value of key or "".
func (in *Info) Str(key string) string {
	v, _ := in.Get(key)
	return v
}

// Int returns the integer value of key, or def when absent or not a number.
func (in *Info) Int(key string, def int) int {
	v, ok := in.Get(key)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return def
	}
	return n
}

// Bool reports whether key is "on" (or "enabled", "true", "yes").
func (in *Info) Bool(key string) bool {
	return parseOnOff(in.Str(key))
}

// Map returns the pairs as a map (the first occurrence of a key wins).
func (in *Info) Map() map[string]string {
	m := make(map[string]string, len(in.Pairs))
	for _, kv := range in.Pairs {
		if _, ok := m[kv.Key]; !ok {
			m[kv.Key] = kv.Value
		}
	}
	return m
}

func parseOnOff(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on", "enabled", "true", "yes", "1":
		return true
	}
	return false
}

// ParseMachineReadable parses `showvminfo --machinereadable` output of
// VirtualBox 6.1, 7.0 and 7.1 (reference §2). It never fails: lines it
// cannot split are kept as Bare pairs. The rules:
//
//   - a key is either a double-quoted string (with \" and \\ escapes; 7.x
//     quotes keys containing '=') or the text up to the FIRST '=' (never the
//     last: a value may contain '=', as in name="a=b" or captureopts=...);
//   - a quoted value ends at its first quote not escaped by a backslash,
//     however many lines that takes and whatever those lines look like
//     (outputMachineReadableString escapes only " and \, so a description's
//     newlines are printed raw and a line of it may read name="x");
//   - values VBoxManage prints raw between quotes (showSnapshots' names and
//     descriptions in every version, 6.1's paths and adapter names) are
//     recognised by text after the closing quote, or by their key for the
//     snapshot keys: such a value ends at the last quote of a line that is
//     followed by a line starting a pair, or by the end;
//   - VRDEClients==0 is read as VRDEClients = "0";
//   - VideoMode="1024,768,32"@0,0 1 keeps the text after the closing quote:
//     "1024,768,32@0,0 1";
//   - lines without '=' become Bare pairs.
func ParseMachineReadable(out []byte) *Info {
	in := &Info{index: map[string]int{}}
	text := strings.ReplaceAll(string(out), "\r\n", "\n")
	// Reading a value across lines scans ahead; crafted text could make
	// every line scan to the end. Past a budget of scanned bytes, values
	// end at their line (no output VBoxManage prints needs that much).
	budget := 16*len(text) + 1<<20
	for len(text) > 0 {
		line, rest, _ := strings.Cut(text, "\n")
		if strings.TrimSpace(line) == "" {
			text = rest
			continue
		}
		kv, ok := splitKeyValue(line)
		if !ok {
			in.add(bareKV(line))
			text = rest
			continue
		}
		// valueText: the value and everything after it.
		valueText := text[len(line)-len(kv.Value):]
		if budget -= len(valueText); budget < 0 {
			// Single-line values only from here on.
			valueText = kv.Value
		}
		switch {
		case strings.HasPrefix(kv.Value, `"`) && rawKey(kv.Key):
			kv.Value, text = rawValue(valueText)
		case strings.HasPrefix(kv.Value, `"`):
			val, after, closed := unquote(valueText)
			tail, next, _ := strings.Cut(after, "\n")
			switch {
			case closed && tail == "":
				kv.Value, text = val, next
			case closed && strings.HasPrefix(tail, "@") && !strings.Contains(val, "\n"):
				kv.Value, text = val+tail, next
			default:
				// Text after the closing quote, or no closing quote: a
				// value printed raw.
				kv.Value, text = rawValue(valueText)
			}
		case strings.HasPrefix(kv.Value, "=") && kv.Key == "VRDEClients":
			kv.Value, text = kv.Value[1:], rest
		default:
			text = rest
		}
		if budget < 0 {
			text = rest
		}
		in.add(kv)
	}
	return in
}

// rawKey reports the keys whose values showSnapshots prints with "%ls",
// without escaping, in every version.
func rawKey(key string) bool {
	if key == "CurrentSnapshotName" {
		return true
	}
	for _, p := range []string{"SnapshotName", "SnapshotDescription"} {
		if rest, ok := strings.CutPrefix(key, p); ok {
			return rest == "" || strings.Trim(rest, "-0123456789") == ""
		}
	}
	return false
}

// rawValue reads a value printed raw between quotes from s (which starts at
// the opening quote): it ends at the last quote of the first line that ends
// with one and is followed by a line that starts a pair (or by nothing).
// Without such a line the value is the rest of the first line. It returns
// the value and the text after it.
func rawValue(s string) (string, string) {
	body := s[1:]
	pos := 0
	for {
		nl := strings.IndexByte(body[pos:], '\n')
		lineEnd := len(body)
		if nl >= 0 {
			lineEnd = pos + nl
		}
		line := body[pos:lineEnd]
		if strings.HasSuffix(line, `"`) && (lineEnd > 0 || pos > 0) {
			after := ""
			if nl >= 0 {
				after = body[lineEnd+1:]
			}
			next, _, _ := strings.Cut(after, "\n")
			if after == "" || looksLikeKeyLine(next) {
				return body[:lineEnd-1], after
			}
		}
		if nl < 0 {
			break
		}
		pos = lineEnd + 1
	}
	first, after, _ := strings.Cut(body, "\n")
	return first, after
}

func (in *Info) add(kv KV) {
	if _, ok := in.index[kv.Key]; !ok {
		in.index[kv.Key] = len(in.Pairs)
	}
	in.Pairs = append(in.Pairs, kv)
}

// splitKeyValue splits a line into its key and the raw text after '='.
func splitKeyValue(line string) (KV, bool) {
	if strings.HasPrefix(line, `"`) {
		key, tail, closed := unquote(line)
		if !closed || !strings.HasPrefix(tail, "=") {
			return KV{}, false
		}
		return KV{Key: key, Value: tail[1:]}, true
	}
	i := strings.IndexByte(line, '=')
	if i <= 0 {
		return KV{}, false
	}
	key := line[:i]
	if strings.ContainsAny(key, " \t") && !strings.Contains(key, "[") {
		// "Encryption:     disabled" and similar never contain '=', but a
		// bare line with '=' in its text must not become a key with spaces.
		if strings.Contains(key, ":") {
			return KV{}, false
		}
	}
	return KV{Key: key, Value: line[i+1:]}, true
}

// looksLikeKeyLine reports whether line can start a pair or is one of the
// known bare lines; it ends a raw value.
func looksLikeKeyLine(line string) bool {
	if strings.HasPrefix(line, `"`) {
		_, tail, closed := unquote(line)
		return closed && strings.HasPrefix(tail, "=")
	}
	if strings.HasPrefix(line, " rec_screen") || strings.HasPrefix(line, "Encryption:") {
		return true
	}
	i := strings.IndexByte(line, '=')
	return i > 0 && !strings.ContainsAny(line[:i], "\"\t") && line[0] != ' '
}

// unquote reads a double-quoted string at the start of s, undoing \" and \\.
// It returns the string, the text after the closing quote, and whether a
// closing quote was found.
func unquote(s string) (val, tail string, closed bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\'):
			b.WriteByte(s[i+1])
			i++
		case c == '"':
			return b.String(), s[i+1:], true
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), "", false
}

func bareKV(line string) KV {
	t := strings.TrimSpace(line)
	if k, v, ok := strings.Cut(t, ":"); ok {
		return KV{Key: strings.TrimSpace(k), Value: strings.TrimSpace(v), Bare: true}
	}
	return KV{Key: t, Bare: true}
}
