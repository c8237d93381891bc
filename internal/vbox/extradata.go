package vbox

import (
	"context"
	"strings"

	"github.com/virtvboxd/virtvboxd/internal/vbox/domxml"
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

// natNetworkLookup returns PlanOptions.IsNATNetwork: it lists VirtualBox's
// NAT networks (`list natnets`) on first use only, so documents without a
// <interface type='network'> cost nothing. A failed listing knows none.
func (d *Driver) natNetworkLookup(ctx context.Context) func(string) bool {
	var names map[string]bool
	return func(name string) bool {
		if names == nil {
			names = map[string]bool{}
			out, _, err := d.runPolicy(ctx, RetryTransient, "list", "natnets")
			if err != nil {
				d.logFor(ctx).WithError(err).Info("cannot list NAT networks; <interface type='network'> means host-only adapters")
				return false
			}
			for _, r := range ParseRecords(out) {
				// 6.1 prints NetworkName:, 7.x Name:.
				for _, k := range []string{"NetworkName", "Name"} {
					if v, ok := r.Get(k); ok && v != "" {
						names[v] = true
						break
					}
				}
			}
		}
		return names[name]
	}
}

// logNotes logs what a define ignored or took as its nearest equivalent.
func (d *Driver) logNotes(ctx context.Context, name string, plan *domxml.Plan) {
	for _, n := range plan.Notes {
		d.logFor(ctx).WithField("vm", name).Info(n)
	}
}
