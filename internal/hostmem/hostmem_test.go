package hostmem

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// fakeSys makes root/sys/kernel/mm/hugepages/hugepages-2048kB with the given
// pool size and free count.
func fakeSys(t *testing.T, nr, free string) (Pools, string) {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "sys/kernel/mm/hugepages/hugepages-2048kB")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]string{"nr_hugepages": nr, "free_hugepages": free} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return Pools{Root: root}, filepath.Join(dir, "nr_hugepages")
}

func TestFreeHuge(t *testing.T) {
	p, _ := fakeSys(t, "4\n", "3\n")
	if n, err := p.FreeHuge(2048); err != nil || n != 3 {
		t.Fatalf("FreeHuge(2048) = %d, %v; want 3", n, err)
	}
	_, err := p.FreeHuge(1048576)
	if !errors.Is(err, errdefs.ErrOperationFailed) || errdefs.Detail(err) != "page size 1048576 is not available" {
		t.Fatalf("FreeHuge(1G) error = %v", err)
	}
	bad, _ := fakeSys(t, "4\n", "x\n")
	if _, err := bad.FreeHuge(2048); !errors.Is(err, errdefs.ErrOperationFailed) {
		t.Fatalf("a garbled count: %v", err)
	}
}

func TestSetHuge(t *testing.T) {
	p, nr := fakeSys(t, "4\n", "4\n")
	read := func() string {
		b, err := os.ReadFile(nr)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// sysfs answers with a newline; a plain file keeps what was written,
	// so the check after the write reads it back as written.
	if err := p.SetHuge(2048, 6, false); err != nil || read() != "6" {
		t.Fatalf("set to 6: %v, pool %q", err, read())
	}
	if err := os.WriteFile(nr, []byte("6\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := p.SetHuge(2048, 2, true); err != nil || read() != "8" {
		t.Fatalf("add 2: %v, pool %q", err, read())
	}
	if err := p.SetHuge(SystemPageKiB(), 1, false); !errors.Is(err, errdefs.ErrOperationUnsupported) {
		t.Fatalf("the system pool: %v", err)
	}
	if err := p.SetHuge(1048576, 1, false); !errors.Is(err, errdefs.ErrOperationFailed) {
		t.Fatalf("a size the host lacks: %v", err)
	}
}
