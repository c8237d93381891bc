package domxml

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzRoundTrip: for any showvminfo output ToDomain accepts, the XML it
// produces must parse, and defining it over the same machine must change
// nothing. The input is showvminfo text (one key=value per line).
func FuzzRoundTrip(f *testing.F) {
	for _, s := range samples {
		b, err := os.ReadFile(filepath.Join("testdata", s))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, text string) {
		var pairs []KV
		for _, line := range strings.Split(text, "\n") {
			if k, v, ok := splitLine(line); ok {
				pairs = append(pairs, KV{k, v})
			}
		}
		info := NewInfo(pairs)
		if unrepresentable(info) {
			return
		}
		dom, err := ToDomain(info, Runtime{ID: 1, Active: true})
		if err != nil {
			return
		}
		doc, err := FormatXML(dom)
		if err != nil {
			t.Fatalf("FormatXML: %v", err)
		}
		parsed, err := ParseDomain(doc)
		if err != nil {
			t.Fatalf("our own XML does not parse: %v\n%s", err, doc)
		}
		p, err := PlanDefine(parsed, &info, PlanOptions{Version: "7.0"})
		if err != nil {
			t.Fatalf("PlanDefine over the same machine: %v\n%s", err, doc)
		}
		if !p.Empty() {
			t.Fatalf("redefining the machine's own XML is not a no-op: %v\n%s", p.Steps, doc)
		}
	})
}

// unrepresentable reports showvminfo values that no domain XML can carry
// (XML 1.0 has no control characters; invalid UTF-8 becomes U+FFFD).
// VirtualBox prints neither.
func unrepresentable(in Info) bool {
	for _, kv := range in.Pairs {
		for _, r := range kv.Value {
			if r < 0x20 && r != '\t' || r == 0xfffd {
				return true
			}
		}
	}
	return false
}
