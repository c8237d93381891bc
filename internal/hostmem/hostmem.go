// Package hostmem reads and sets the host's huge page pools through Linux's
// sysfs (/sys/kernel/mm/hugepages/hugepages-<size>kB/), the facts behind
// virNodeGetFreePages and virNodeAllocPages. The host is treated as one
// memory cell, as the driver's NodeInfo reports it, so the system-wide pools
// are used (libvirt does the same on a host it sees without NUMA).
package hostmem

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// Pools reads and writes the pools under Root ("/" on a real host; tests
// point it at a directory of their own).
type Pools struct {
	Root string
}

// SystemPageKiB is the size of the host's ordinary pages, in KiB.
func SystemPageKiB() uint32 { return uint32(os.Getpagesize() / 1024) }

func (p Pools) file(sizeKiB uint32, name string) (string, error) {
	f := filepath.Join(p.Root, "sys/kernel/mm/hugepages", fmt.Sprintf("hugepages-%dkB", sizeKiB), name)
	if _, err := os.Stat(f); err != nil {
		return "", errdefs.Newf(errdefs.ErrOperationFailed, "page size %d is not available", sizeKiB)
	}
	return f, nil
}

func readCount(f string) (uint64, error) {
	b, err := os.ReadFile(f)
	if err != nil {
		return 0, errdefs.Wrap(errdefs.ErrSystem, err, "cannot read "+f)
	}
	n, err := strconv.ParseUint(strings.TrimSuffix(string(b), "\n"), 10, 64)
	if err != nil {
		return 0, errdefs.Newf(errdefs.ErrOperationFailed, "invalid number '%s' in '%s'",
			strings.TrimSpace(string(b)), f)
	}
	return n, nil
}

// FreeHuge returns how many huge pages of sizeKiB are free.
func (p Pools) FreeHuge(sizeKiB uint32) (uint64, error) {
	f, err := p.file(sizeKiB, "free_hugepages")
	if err != nil {
		return 0, err
	}
	return readCount(f)
}

// SetHuge sets the pool of sizeKiB pages to count pages, or grows it by
// count when add is set, and checks that the kernel allocated them all.
// The ordinary page pool cannot be changed.
func (p Pools) SetHuge(sizeKiB uint32, count uint64, add bool) error {
	if sizeKiB == SystemPageKiB() {
		return errdefs.New(errdefs.ErrOperationUnsupported, "system pages pool can't be modified")
	}
	f, err := p.file(sizeKiB, "nr_hugepages")
	if err != nil {
		return err
	}
	have, err := readCount(f)
	if err != nil {
		return err
	}
	want := count
	if add {
		if count == 0 {
			return nil
		}
		want = have + count
		if want < have {
			return errdefs.Newf(errdefs.ErrInvalidArg, "%d more pages of %d KiB overflow the pool", count, sizeKiB)
		}
	} else if have == count {
		return nil
	}
	if err := os.WriteFile(f, []byte(strconv.FormatUint(want, 10)), 0); err != nil {
		return errdefs.Wrap(errdefs.ErrSystem, err, "Unable to write to: "+f+": "+errdefs.Strerror(err))
	}
	got, err := readCount(f)
	if err != nil {
		return err
	}
	if got != want {
		return errdefs.Newf(errdefs.ErrOperationFailed, "Unable to allocate %d pages. Allocated only %d", want, got)
	}
	return nil
}
