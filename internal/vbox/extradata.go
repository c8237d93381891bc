package vbox

import (
	"context"
	"strings"

	"github.com/virtvboxd/virtvboxd/internal/vbox/domxml"
	"github.com/virtvboxd/virtvboxd/internal/vbox/netxml"
)

// ParseExtraData reads `getextradata <vm> enumerate`: one
// "Key: <k>, Value: <v>" line per key. Values are single lines (the
// daemon's own values are; a multi-line value set by hand keeps its first
// line).
func ParseExtraData(out []byte) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(strings.ReplaceAll(string(out), "\r", ""), "\n") {
		rest, ok := strings.CutPrefix(line, "Key: ")
		if !ok {
			continue
		}
		k, v, ok := strings.Cut(rest, ", Value: ")
		if !ok {
			continue
		}
		m[k] = v
	}
	return m
}

// domxmlInfo is what domxml needs of a machine: the machine-readable
// settings plus what only other listings give (the audio controller and the
// shared folders' read-only flags from the human listing m came from, the
// extradata, read now when fresh, else as the inventory caches it).
func (d *Driver) domxmlInfo(ctx context.Context, m Machine, info *Info, fresh bool) (domxml.Info, error) {
	extra, err := d.inv.ExtraData(ctx, m.UUID, fresh)
	if err != nil {
		return domxml.Info{}, err
	}
	return domxmlInfoWith(m, info, extra), nil
}

// domxmlInfoWith is domxmlInfo with the extradata already read.
func domxmlInfoWith(m Machine, info *Info, extra map[string]string) domxml.Info {
	di := toDomxmlInfo(info)
	di.AudioController = m.AudioController
	if m.FoldersKnown {
		di.ReadOnlyFolders = map[string]bool{}
		for _, f := range m.ReadOnlyFolders {
			di.ReadOnlyFolders[f] = true
		}
	}
	di.ExtraData = extra
	return di
}

// natNetworkLookup returns PlanOptions.IsNATNetwork from the networks the
// network driver lists (network.go), read on first use only, so documents
// without a <interface type='network'> cost nothing: a name is a NAT network
// when the network of that name is one (a host-only interface of the same
// name wins, as in the network list). A failed reading knows none.
func (d *Driver) natNetworkLookup(ctx context.Context) func(string) bool {
	var s *netSnap
	return func(name string) bool {
		if s == nil {
			var err error
			if s, err = d.networks(ctx); err != nil {
				d.logFor(ctx).WithError(err).Info("cannot list the networks; <interface type='network'> means host-only adapters")
				s = &netSnap{}
			}
		}
		n := s.byName(name)
		return n != nil && n.Kind == netxml.NAT
	}
}

// logNotes logs what a define ignored or took as its nearest equivalent.
func (d *Driver) logNotes(ctx context.Context, name string, plan *domxml.Plan) {
	for _, n := range plan.Notes {
		d.logFor(ctx).WithField("vm", name).Info(n)
	}
}
