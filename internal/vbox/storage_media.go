package vbox

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// MediumLong is one entry of `list -l hdds|dvds` or of showmediuminfo
// (reference §1.8): the short block plus the -l lines the storage driver
// reads (Size on disk, Format variant, In use by VMs).
type MediumLong struct {
	Medium
	Kind      string   // hdd or dvd
	Variant   string   // "dynamic default", "fixed default"...
	OnDiskMB  int64    // Size on disk
	InUseBy   []string // "name (UUID: ...)" per VM
	Children  []string // child UUIDs
	Encrypted bool
}

// ParseMediaLong reads `list -l hdds` / `list -l dvds` / showmediuminfo:
// blank-line separated blocks of "Label: value" lines, where a line starting
// with white space continues the previous label's list (In use by VMs,
// Child UUIDs).
func ParseMediaLong(out []byte, kind string) ([]MediumLong, error) {
	var ms []MediumLong
	var cur *MediumLong
	var last string
	flush := func() error {
		if cur == nil {
			return nil
		}
		if !uuidRE.MatchString(cur.UUID) {
			return fmt.Errorf("list %ss: record without a valid UUID (%q)", kind, truncate(cur.UUID, 60))
		}
		ms = append(ms, *cur)
		cur = nil
		return nil
	}
	for _, line := range strings.Split(strings.ReplaceAll(string(out), "\r", ""), "\n") {
		if strings.TrimSpace(line) == "" {
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		if cur == nil {
			cur = &MediumLong{Kind: kind}
		}
		if line[0] == ' ' || line[0] == '\t' {
			cur.add(last, strings.TrimSpace(line))
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		last = strings.TrimSpace(k)
		cur.add(last, strings.TrimSpace(v))
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return ms, nil
}

func (m *MediumLong) add(label, v string) {
	leading := func() int64 {
		var n int64
		fmt.Sscanf(v, "%d", &n)
		return n
	}
	switch label {
	case "UUID":
		m.UUID = strings.ToLower(v)
	case "Parent UUID":
		m.ParentUUID = v
	case "State":
		m.State = v
	case "Type":
		m.Type = v
	case "Location":
		m.Location = v
	case "Storage format":
		m.Format = v
	case "Format variant":
		m.Variant = v
	case "Capacity":
		m.CapacityMB = leading()
	case "Size on disk":
		m.OnDiskMB = leading()
	case "In use by VMs":
		m.InUseBy = append(m.InUseBy, v)
	case "Child UUIDs":
		m.Children = append(m.Children, v)
	case "Encryption":
		m.Encrypted = v == "enabled"
	}
}

// base reports whether the medium is a base image (not a differencing
// child): the ones libvirt's vbox driver lists as volumes.
func (m MediumLong) base() bool {
	return m.Kind != "hdd" || m.ParentUUID == "" || m.ParentUUID == "base"
}

// mediaCache is the driver's picture of VirtualBox's media registry: one
// `list -l hdds` and one `list -l dvds`, re-read when older than maxAge or
// after a change (ours, or a domain define/undefine that attaches or
// detaches media). Concurrent readers of a stale picture share one read.
type mediaCache struct {
	mu    sync.Mutex // held across a refresh: readers wait for it
	media []MediumLong
	at    time.Time
	dirty bool
}

// invalidate marks the picture stale: the next reader re-reads it.
func (c *mediaCache) invalidate() {
	c.mu.Lock()
	c.dirty = true
	c.mu.Unlock()
}

// media returns the registry's hard disks and DVD images, from memory while
// fresh.
func (d *Driver) media(ctx context.Context) ([]MediumLong, error) {
	c := &d.stor.media
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.dirty && !c.at.IsZero() && time.Since(c.at) < d.mediaMaxAge() {
		return c.media, nil
	}
	var all []MediumLong
	for _, kind := range []string{"hdd", "dvd"} {
		out, _, err := d.runPolicy(ctx, RetryTransient, "list", "-l", kind+"s")
		if err != nil {
			return nil, vboxError("cannot list VirtualBox media", err)
		}
		ms, err := ParseMediaLong(out, kind)
		if err != nil {
			return nil, vboxError("cannot list VirtualBox media", err)
		}
		all = append(all, ms...)
	}
	c.media, c.at, c.dirty = all, time.Now(), false
	return all, nil
}

// mediaMaxAge is how long the media picture serves reads: the inventory's
// age, but at least a few seconds, as nothing but a user at the GUI or
// another VBoxManage changes the registry behind the daemon's back.
func (d *Driver) mediaMaxAge() time.Duration {
	return max(d.opts.MaxAge, 5*time.Second)
}

// mediumAt returns the registered medium whose location is path.
func mediumAt(media []MediumLong, path string) (MediumLong, bool) {
	path = filepath.Clean(path)
	for _, m := range media {
		if filepath.Clean(m.Location) == path {
			return m, true
		}
	}
	return MediumLong{}, false
}
