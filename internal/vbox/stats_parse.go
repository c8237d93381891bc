package vbox

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"regexp"
	"strconv"
	"strings"
)

// parseStatistics reads `debugvm <vm> statistics` output (STAMR3Snapshot's
// XML: <Counter c=...>, <U64 val=...>... elements with a name attribute)
// into name → value. Elements without a numeric value are skipped.
func parseStatistics(out []byte) (map[string]uint64, error) {
	dec := xml.NewDecoder(bytes.NewReader(out))
	m := map[string]uint64{}
	for {
		tok, err := dec.Token()
		if err != nil {
			if err.Error() == "EOF" {
				return m, nil
			}
			return m, err
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local == "Statistics" {
			continue
		}
		var name, val string
		for _, a := range se.Attr {
			switch a.Name.Local {
			case "name":
				name = a.Value
			case "c", "val":
				val = a.Value
			}
		}
		if name == "" || val == "" {
			continue
		}
		if v, err := strconv.ParseUint(val, 0, 64); err == nil {
			m[name] = v
		}
	}
}

// metricLineRE splits a `metrics query` line ("%-15s %-40s <values>"):
// object names may hold spaces and exceed their column, metric names start
// with one of the collector's categories and hold none.
var metricLineRE = regexp.MustCompile(`^(.*?)\s+((?:CPU|RAM|Disk|Net|Guest|FS)/\S+)\s*(.*)$`)

// parseMetricsQuery reads `metrics query` output: values "12.34%",
// "2048 kB" or "10034 B/s", comma separated. It returns object → metric →
// the last value in the metric's unit (per cent, kB, B/s). Lines with no
// value (collected less than one period ago) and the :avg/:min/:max
// aggregates are left out.
func parseMetricsQuery(out []byte) map[string]map[string]float64 {
	res := map[string]map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for line := 1; sc.Scan(); line++ {
		if line <= 2 {
			continue // the header and its underline
		}
		m := metricLineRE.FindStringSubmatch(sc.Text())
		if m == nil || strings.Contains(m[2], ":") || strings.TrimSpace(m[3]) == "" {
			continue
		}
		vals := strings.Split(m[3], ",")
		f := strings.Fields(vals[len(vals)-1])
		if len(f) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimRight(f[0], "%"), 64)
		if err != nil {
			continue
		}
		if res[m[1]] == nil {
			res[m[1]] = map[string]float64{}
		}
		res[m[1]][m[2]] = v
	}
	return res
}

// parseGuestProperties reads `guestproperty enumerate` output in either
// form: 6.1's (and 7.x --old-format) "Name: n, value: v, timestamp: t,
// flags: f" lines, or 7.x's "name = 'value'   @ time flags" table. Values
// are returned as printed.
func parseGuestProperties(out []byte) map[string]string {
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		l := sc.Text()
		if rest, ok := strings.CutPrefix(l, "Name: "); ok {
			name, after, ok := strings.Cut(rest, ", value: ")
			if !ok {
				continue
			}
			// The value may contain ", ": the timestamp field is the last
			// ", timestamp: " in the line.
			i := strings.LastIndex(after, ", timestamp: ")
			if i < 0 {
				continue
			}
			m[name] = after[:i]
			continue
		}
		name, after, ok := strings.Cut(l, " = '")
		if !ok {
			continue
		}
		name = strings.TrimRight(name, " ")
		// The value ends at the last "'" followed by padding and "@ " or
		// flags, or at the line's last "'".
		end := strings.LastIndex(after, "' ")
		if at := strings.LastIndex(after, "'"); end < 0 || !strings.Contains(after[end:], "@ ") && at == len(after)-1 {
			end = at
		}
		if end < 0 {
			continue
		}
		m[name] = after[:end]
	}
	return m
}
