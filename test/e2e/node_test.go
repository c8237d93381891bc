package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The host's memory cell and page pools through the stock virsh: freecell
// for cell 0, freepages and allocpages on a huge page pool. The daemon reads
// the pools under a host root of the test's own, so the test changes no
// real kernel setting.
func TestNodePages(t *testing.T) {
	root := t.TempDir()
	pool := filepath.Join(root, "sys/kernel/mm/hugepages/hugepages-2048kB")
	if err := os.MkdirAll(pool, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, v string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(pool, name), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("nr_hugepages", "16\n")
	write("free_hugepages", "12\n")
	d := startDaemon(t, withDaemonEnv("VIRTVBOXD_TEST_HOST_ROOT="+root))

	out := d.mustVirsh(t, "freecell", "--cellno", "0")
	contains(t, "freecell --cellno 0", out, "0: ")
	contains(t, "cell 1 does not exist", d.virshFails(t, "freecell", "--cellno", "1"),
		"start cell 1 out of range (0-0)")

	contains(t, "freepages 2M", d.mustVirsh(t, "freepages", "--cellno", "0", "--pagesize", "2048"), "2048KiB: 12")
	contains(t, "freepages 4K", d.mustVirsh(t, "freepages", "--cellno", "0", "--pagesize", "4"), "4KiB: ")
	contains(t, "freepages of a size the host lacks",
		d.virshFails(t, "freepages", "--cellno", "0", "--pagesize", "1048576"), "page size 1048576 is not available")

	d.mustVirsh(t, "allocpages", "--pagesize", "2048", "--pagecount", "20", "--cellno", "0")
	if got := mustRead(t, filepath.Join(pool, "nr_hugepages")); strings.TrimSpace(got) != "20" {
		t.Fatalf("allocpages set the pool to %q, want 20", got)
	}
	write("nr_hugepages", "20\n")
	d.mustVirsh(t, "allocpages", "--pagesize", "2048", "--pagecount", "4", "--cellno", "0", "--add")
	if got := mustRead(t, filepath.Join(pool, "nr_hugepages")); strings.TrimSpace(got) != "24" {
		t.Fatalf("allocpages --add made the pool %q, want 24", got)
	}
	contains(t, "the system pool", d.virshFails(t, "allocpages", "--pagesize", "4", "--pagecount", "1", "--cellno", "0"),
		"Operation not supported: system pages pool can't be modified")
	before := mustRead(t, filepath.Join(pool, "nr_hugepages"))
	contains(t, "allocpages on the read-only socket",
		d.virshFails(t, "-r", "allocpages", "--pagesize", "2048", "--pagecount", "1", "--cellno", "0"),
		"read only")
	if after := mustRead(t, filepath.Join(pool, "nr_hugepages")); after != before {
		t.Fatalf("a refused allocpages changed the pool from %q to %q", before, after)
	}
}
