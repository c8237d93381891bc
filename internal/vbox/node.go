package vbox

import (
	"context"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
	"github.com/virtvboxd/virtvboxd/internal/hostmem"
)

// The host's memory cells and page pools. The driver reports the host as
// one cell (NodeInfo), as libvirt does on a host it sees without NUMA: cell
// 0's free memory is what VirtualBox reports available (NodeFreeMemory),
// its ordinary pages are that memory in pages, and its huge page pools are
// the system-wide ones in sysfs (package hostmem).

// allocPagesSet is VIR_NODE_ALLOC_PAGES_SET.
const allocPagesSet = 1

// lastCell is the host's last cell number.
const lastCell = 0

func cellRange(start int32) error {
	if start > lastCell {
		return errdefs.Newf(errdefs.ErrInternal, "start cell %d out of range (0-%d)", start, lastCell)
	}
	return nil
}

// NodeCellsFreeMemory implements driver.Conn.
func (c *conn) NodeCellsFreeMemory(ctx context.Context, start, max int32) ([]uint64, error) {
	if err := cellRange(start); err != nil {
		return nil, err
	}
	free, err := c.NodeFreeMemory(ctx)
	if err != nil {
		return nil, err
	}
	return []uint64{free}, nil
}

// NodeFreePages implements driver.Conn.
func (c *conn) NodeFreePages(ctx context.Context, sizes []uint32, start int32, count uint32, flags uint32) ([]uint64, error) {
	if flags != 0 {
		return nil, unsupportedFlags(flags, "virNodeGetFreePages")
	}
	if err := cellRange(start); err != nil {
		return nil, err
	}
	pools := hostmem.Pools{Root: c.d.opts.HostRoot}
	counts := make([]uint64, 0, len(sizes))
	for _, size := range sizes {
		if size == hostmem.SystemPageKiB() {
			free, err := c.NodeFreeMemory(ctx)
			if err != nil {
				return nil, err
			}
			counts = append(counts, free/(uint64(size)*1024))
			continue
		}
		n, err := pools.FreeHuge(size)
		if err != nil {
			return nil, err
		}
		counts = append(counts, n)
	}
	return counts, nil
}

// NodeAllocPages implements driver.Conn. Every size is checked before any
// pool changes, so a bad size changes nothing.
func (c *conn) NodeAllocPages(ctx context.Context, sizes []uint32, counts []uint64, start int32, count uint32, flags uint32) (int32, error) {
	if flags&^allocPagesSet != 0 {
		return 0, unsupportedFlags(flags&^allocPagesSet, "virNodeAllocPages")
	}
	if err := cellRange(start); err != nil {
		return 0, err
	}
	pools := hostmem.Pools{Root: c.d.opts.HostRoot}
	for _, size := range sizes {
		if size == hostmem.SystemPageKiB() {
			return 0, errdefs.New(errdefs.ErrOperationUnsupported, "system pages pool can't be modified")
		}
		if _, err := pools.FreeHuge(size); err != nil {
			return 0, err
		}
	}
	for i, size := range sizes {
		if err := pools.SetHuge(size, counts[i], flags&allocPagesSet == 0); err != nil {
			return int32(i), err
		}
	}
	return int32(len(sizes)), nil
}

var _ driver.NodeConn = (*conn)(nil)
