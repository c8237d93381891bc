package rpc

import (
	"context"
	"fmt"

	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/virtvboxd/virtvboxd/internal/driver"
)

// nodeHandlers are the host's memory cell and page pool procedures.
var nodeHandlers = handlerSet{
	procNodeGetCellsFreeMemory: withArgs(nodeGetCellsFreeMemory),
	procNodeGetFreePages:       withArgs(nodeGetFreePages),
	procNodeAllocPages:         withArgs(nodeAllocPages),
}

// nodeMaxCells is REMOTE_NODE_MAX_CELLS: the most cells, page sizes or
// counts one call carries.
const nodeMaxCells = 1024

func nodeGetCellsFreeMemory(ctx context.Context, cn driver.Conn, a *libvirt.NodeGetCellsFreeMemoryArgs, out *packet) error {
	const api = "virNodeGetCellsFreeMemory"
	if a.Maxcells > nodeMaxCells {
		return rpcError("maxCells > REMOTE_NODE_MAX_CELLS")
	}
	if err := argPositive(api, "maxCells", a.Maxcells); err != nil {
		return err
	}
	if err := argNonNegative(api, "startCell", a.StartCell); err != nil {
		return err
	}
	cells, err := cn.NodeCellsFreeMemory(ctx, a.StartCell, a.Maxcells)
	if err != nil {
		return err
	}
	return out.encode(libvirt.NodeGetCellsFreeMemoryRet{Cells: cells})
}

func nodeGetFreePages(ctx context.Context, cn driver.Conn, a *libvirt.NodeGetFreePagesArgs, out *packet) error {
	const api = "virNodeGetFreePages"
	// Computed in 64 bits: libvirt's 32-bit product can wrap.
	if uint64(len(a.Pages))*uint64(a.CellCount) > nodeMaxCells {
		return rpcError("the result won't fit into REMOTE_NODE_MAX_CELLS")
	}
	if err := argNonZero(api, "npages", uint64(len(a.Pages))); err != nil {
		return err
	}
	if err := argNonZero(api, "cellCount", uint64(a.CellCount)); err != nil {
		return err
	}
	counts, err := cn.NodeFreePages(ctx, a.Pages, a.StartCell, a.CellCount, a.Flags)
	if err != nil {
		return err
	}
	return out.encode(libvirt.NodeGetFreePagesRet{Counts: counts})
}

func nodeAllocPages(ctx context.Context, cn driver.Conn, a *libvirt.NodeAllocPagesArgs, out *packet) error {
	const api = "virNodeAllocPages"
	if len(a.PageSizes) > nodeMaxCells || len(a.PageCounts) > nodeMaxCells {
		return rpcError("Unable to decode message payload")
	}
	if err := argNonZero(api, "npages", uint64(len(a.PageSizes))); err != nil {
		return err
	}
	// libvirt's client always sends npages of each; a hand-made call that
	// does not would make libvirtd read past the counts it got.
	if len(a.PageCounts) != len(a.PageSizes) {
		return newError(errInvalidArg, objectDomain(api), fmt.Sprintf(
			"%d page sizes but %d page counts", len(a.PageSizes), len(a.PageCounts)))
	}
	if err := argNonZero(api, "cellCount", uint64(a.CellCount)); err != nil {
		return err
	}
	n, err := cn.NodeAllocPages(ctx, a.PageSizes, a.PageCounts, a.StartCell, a.CellCount, uint32(a.Flags))
	return int32Ret(out, n, err)
}
