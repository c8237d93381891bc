package vbox

import (
	"strconv"
	"strings"
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
//   - a value is a double-quoted string, or the raw rest of the line
//     (integers, <not set>, 6.1's unquoted BandwidthGroup lines);
//   - VRDEClients==0 is read as VRDEClients = "0";
//   - VideoMode="1024,768,32"@0,0 1 keeps the text after the closing quote:
//     "1024,768,32@0,0 1";
//   - a quoted value whose closing quote is on a later line (a description
//     with a newline) continues over the following lines;
//   - lines without '=' become Bare pairs.
func ParseMachineReadable(out []byte) *Info {
	in := &Info{index: map[string]int{}}
	lines := strings.Split(strings.ReplaceAll(string(out), "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if strings.TrimSpace(line) == "" {
			continue
		}
		kv, ok := splitKeyValue(line)
		if !ok {
			in.add(bareKV(line))
			continue
		}
		rest := kv.Value
		if strings.HasPrefix(rest, `"`) {
			val, tail, closed := unquote(rest)
			for !closed && i+1 < len(lines) && !looksLikeKeyLine(lines[i+1]) {
				i++
				rest += "\n" + lines[i]
				val, tail, closed = unquote(rest)
			}
			switch {
			case !closed:
				// An unterminated quote: keep the raw text.
				kv.Value = strings.TrimPrefix(rest, `"`)
			case tail == "":
				kv.Value = val
			case strings.HasSuffix(tail, `"`):
				// 6.1 prints some values raw inside quotes; a quote in
				// such a value ends the string early. Take everything up
				// to the last quote, unescaped as printed.
				kv.Value = rest[1 : len(rest)-1]
			default:
				kv.Value = val + tail
			}
		} else if strings.HasPrefix(rest, "=") && kv.Key == "VRDEClients" {
			kv.Value = rest[1:]
		}
		in.add(kv)
	}
	return in
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

// looksLikeKeyLine guesses whether line starts a new pair; used to stop a
// runaway multi-line quoted value.
func looksLikeKeyLine(line string) bool {
	if strings.HasPrefix(line, `"`) {
		_, tail, closed := unquote(line)
		return closed && strings.HasPrefix(tail, "=")
	}
	i := strings.IndexByte(line, '=')
	return i > 0 && !strings.ContainsAny(line[:i], " \t\"")
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
