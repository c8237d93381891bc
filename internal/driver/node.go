package driver

import "context"

// NodeConn is the part of Conn for the host's memory cells and page pools
// (virNodeGetCellsFreeMemory, virNodeGetFreePages, virNodeAllocPages). Page
// sizes are in KiB; counts are in pages. The host is one cell (cell 0), as
// NodeInfo reports.
type NodeConn interface {
	// NodeCellsFreeMemory returns the free memory, in bytes, of up to max
	// cells from start.
	NodeCellsFreeMemory(ctx context.Context, start, max int32) ([]uint64, error)
	// NodeFreePages returns, for each cell from start (count cells) and each
	// page size in turn, how many pages of that size are free.
	NodeFreePages(ctx context.Context, sizes []uint32, start int32, count uint32, flags uint32) ([]uint64, error)
	// NodeAllocPages sets (VIR_NODE_ALLOC_PAGES_SET) or grows the huge page
	// pools of sizes[i] to or by counts[i] pages on each cell from start
	// (count cells), and returns how many pools it changed.
	NodeAllocPages(ctx context.Context, sizes []uint32, counts []uint64, start int32, count uint32, flags uint32) (int32, error)
}

func (Unsupported) NodeCellsFreeMemory(context.Context, int32, int32) ([]uint64, error) {
	return nil, noSupport("virNodeGetCellsFreeMemory")
}
func (Unsupported) NodeFreePages(context.Context, []uint32, int32, uint32, uint32) ([]uint64, error) {
	return nil, noSupport("virNodeGetFreePages")
}
func (Unsupported) NodeAllocPages(context.Context, []uint32, []uint64, int32, uint32, uint32) (int32, error) {
	return 0, noSupport("virNodeAllocPages")
}
