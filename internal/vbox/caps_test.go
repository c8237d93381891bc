package vbox

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden files")

// golden compares got with testdata/name, or rewrites the file under -update.
func golden(t testing.TB, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// TestCapabilitiesGolden is the capabilities document a seeded simulator's
// connection returns.
func TestCapabilitiesGolden(t *testing.T) {
	s := newSim(t)
	s.seed(3, 1)
	doc, err := s.conn.Capabilities(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "capabilities.golden", doc)
}

// TestSysinfoGolden is the sysinfo document for a fixed DMI directory and
// a captured `list hostinfo` (the simulator's reports the host's memory).
func TestSysinfoGolden(t *testing.T) {
	hi, err := ParseHostInfo(readTestdata(t, "hostinfo.txt"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := hostSysinfo(hi, filepath.Join("testdata", "dmi"))
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "sysinfo.golden", doc)
}
