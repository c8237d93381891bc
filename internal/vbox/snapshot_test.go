package vbox

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"libvirt.org/go/libvirtxml"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

func listSnaps(t *testing.T, c driver.Conn, dom driver.Domain, flags uint32) string {
	t.Helper()
	snaps, err := c.DomainListAllSnapshots(context.Background(), dom, flags)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range snaps {
		names = append(names, s.Name)
	}
	return strings.Join(names, ",")
}

// TestParseSnapTree reads the reference's snapshot keys (§2.3/§2.4), a
// deeper tree and the current node.
func TestParseSnapTree(t *testing.T) {
	out := `name="web01"
SnapshotName="base"
SnapshotUUID="0F4E3D2C-1B0A-4F9E-8D7C-6B5A49382716"
SnapshotName-1="provisioned"
SnapshotUUID-1="7e5b6c4d-3a2f-4e1d-9c8b-7a6f5e4d3c2b"
SnapshotDescription-1="after ansible run"
SnapshotName-1-1="deep"
SnapshotUUID-1-1="11111111-3a2f-4e1d-9c8b-7a6f5e4d3c2b"
CurrentSnapshotName="deep"
CurrentSnapshotUUID="11111111-3a2f-4e1d-9c8b-7a6f5e4d3c2b"
CurrentSnapshotNode="SnapshotName-1-1"
SnapshotName-2="other"
SnapshotUUID-2="22222222-3a2f-4e1d-9c8b-7a6f5e4d3c2b"
`
	tr := parseSnapTree(ParseMachineReadable([]byte(out)))
	if len(tr.Roots) != 1 || tr.Roots[0].Name != "base" || tr.Roots[0].UUID != "0f4e3d2c-1b0a-4f9e-8d7c-6b5a49382716" {
		t.Fatalf("roots: %+v", tr.Roots)
	}
	var got []string
	for _, n := range tr.All {
		p := ""
		if n.Parent != nil {
			p = n.Parent.Name
		}
		got = append(got, n.Name+"<"+p)
	}
	if want := "base<,provisioned<base,deep<provisioned,other<base"; strings.Join(got, ",") != want {
		t.Errorf("tree %s, want %s", strings.Join(got, ","), want)
	}
	if tr.Current == nil || tr.Current.Name != "deep" {
		t.Errorf("current %+v", tr.Current)
	}
	if n := tr.byName("provisioned"); n == nil || n.Description != "after ansible run" {
		t.Errorf("provisioned: %+v", n)
	}
	if tr := parseSnapTree(ParseMachineReadable([]byte("name=\"x\"\n"))); len(tr.All) != 0 || tr.Current != nil {
		t.Errorf("no snapshots: %+v", tr)
	}
}

// TestSimSnapshots drives the snapshot calls against the simulator on
// each version: take (offline and live), list with filters, XML, parent,
// current, revert to a live snapshot (running again) and to an offline
// one, delete with children; bad input changes nothing.
func TestSimSnapshots(t *testing.T) {
	for _, ver := range []string{"6.1", "7.0", "7.1"} {
		t.Run(ver, func(t *testing.T) {
			s := newSim(t, withVersion(ver))
			ctx := context.Background()
			dom := s.create("snappy")
			c := s.conn
			if _, err := c.DomainSnapshotCurrent(ctx, dom, 0); !errors.Is(err, errdefs.ErrNoDomainSnapshot) {
				t.Fatalf("current without snapshots: %v", err)
			}
			s1, err := c.DomainSnapshotCreateXML(ctx, dom, "<domainsnapshot><name>off</name><description>cold</description></domainsnapshot>", 0)
			if err != nil || s1.Name != "off" {
				t.Fatalf("create: %v %+v", err, s1)
			}
			if _, err := c.DomainCreate(ctx, dom, 0); err != nil {
				t.Fatal(err)
			}
			if _, err := c.DomainSnapshotCreateXML(ctx, dom, "<domainsnapshot><name>live</name></domainsnapshot>", snapCreateLive); err != nil {
				t.Fatalf("live: %v", err)
			}
			if st, _ := s.state(dom); st != driver.StateRunning {
				t.Fatalf("after a live snapshot the domain is %d, not running", st)
			}
			if got := listSnaps(t, s.conn, dom, 0); got != "off,live" {
				t.Errorf("list: %s", got)
			}
			if got := listSnaps(t, s.conn, dom, snapListRoots); got != "off" {
				t.Errorf("roots: %s", got)
			}
			if got := listSnaps(t, s.conn, dom, snapListLeaves); got != "live" {
				t.Errorf("leaves: %s", got)
			}
			if got := listSnaps(t, s.conn, dom, snapListActive); got != "live" {
				t.Errorf("active: %s", got)
			}
			if got := listSnaps(t, s.conn, dom, snapListMetadata); got != "" {
				t.Errorf("metadata: %s", got)
			}
			live := driver.DomainSnapshot{Name: "live", Dom: dom}
			x, err := c.DomainSnapshotGetXMLDesc(ctx, live, 0)
			if err != nil {
				t.Fatal(err)
			}
			var doc libvirtxml.DomainSnapshot
			if err := doc.Unmarshal(x); err != nil {
				t.Fatal(err)
			}
			if doc.State != "running" || doc.Parent == nil || doc.Parent.Name != "off" || doc.CreationTime == "" ||
				doc.Domain == nil || doc.Domain.Name != "snappy" || doc.Domain.Memory == nil || doc.Domain.Memory.Value != 512*1024 {
				t.Errorf("live snapshot XML:\n%s", x)
			}
			if p, err := c.DomainSnapshotGetParent(ctx, live, 0); err != nil || p.Name != "off" {
				t.Errorf("parent: %v %v", p, err)
			}
			if _, err := c.DomainSnapshotGetParent(ctx, s1, 0); !errors.Is(err, errdefs.ErrNoDomainSnapshot) {
				t.Errorf("parent of root: %v", err)
			}
			if cur, err := c.DomainSnapshotCurrent(ctx, dom, 0); err != nil || cur.Name != "live" {
				t.Errorf("current: %v %v", cur, err)
			}
			// Revert to the offline snapshot: the running domain is stopped.
			if err := c.DomainRevertToSnapshot(ctx, s1, 0); err != nil {
				t.Fatalf("revert off: %v", err)
			}
			if st, _ := s.state(dom); st != driver.StateShutoff {
				t.Errorf("after revert to off: %d", st)
			}
			// Revert to the live one: running again.
			if err := c.DomainRevertToSnapshot(ctx, live, 0); err != nil {
				t.Fatalf("revert live: %v", err)
			}
			if st, _ := s.state(dom); st != driver.StateRunning {
				t.Errorf("after revert to live: %d", st)
			}
			// Bad input: nothing runs, nothing changes.
			before := s.vbm("snapshot", uuidString(dom.UUID), "list", "--machinereadable")
			for name, err := range map[string]error{
				"unknown":  c.DomainRevertToSnapshot(ctx, driver.DomainSnapshot{Name: "nope", Dom: dom}, 0),
				"metadata": c.DomainSnapshotDelete(ctx, live, snapDeleteMetadataOnly),
				"duplicate": func() error {
					_, e := c.DomainSnapshotCreateXML(ctx, dom, "<domainsnapshot><name>off</name></domainsnapshot>", 0)
					return e
				}(),
				"bad xml": func() error { _, e := c.DomainSnapshotCreateXML(ctx, dom, "<domainsnapshot><name>x", 0); return e }(),
				"redefine": func() error {
					_, e := c.DomainSnapshotCreateXML(ctx, dom, "<domainsnapshot><name>y</name></domainsnapshot>", snapCreateRedefine)
					return e
				}(),
				"disk only": func() error {
					_, e := c.DomainSnapshotCreateXML(ctx, dom, "<domainsnapshot><name>y</name></domainsnapshot>", snapCreateDiskOnly)
					return e
				}(),
				"no memory": func() error {
					_, e := c.DomainSnapshotCreateXML(ctx, dom, "<domainsnapshot><name>y</name><memory snapshot='no'/></domainsnapshot>", 0)
					return e
				}(),
				"dash name": func() error {
					_, e := c.DomainSnapshotCreateXML(ctx, dom, "<domainsnapshot><name>-y</name></domainsnapshot>", 0)
					return e
				}(),
				"bad flags":   c.DomainSnapshotDelete(ctx, live, 1<<10),
				"no snapshot": func() error { _, e := c.DomainSnapshotLookupByName(ctx, dom, "nope", 0); return e }(),
			} {
				if err == nil || errors.Is(err, errdefs.ErrNoSupport) {
					t.Errorf("%s: %v", name, err)
				}
			}
			if after := s.vbm("snapshot", uuidString(dom.UUID), "list", "--machinereadable"); after != before {
				t.Errorf("bad input changed the snapshots:\n%s\n%s", before, after)
			}
			// Redefine changes a description, and only that.
			if _, err := c.DomainSnapshotCreateXML(ctx, dom, "<domainsnapshot><name>off</name><description>re</description></domainsnapshot>", snapCreateRedefine); err != nil {
				t.Fatalf("redefine: %v", err)
			}
			if x, err := c.DomainSnapshotGetXMLDesc(ctx, s1, 0); err != nil || !strings.Contains(x, "<description>re</description>") {
				t.Errorf("after redefine: %v\n%s", err, x)
			}
			for _, doc := range []string{"<domainsnapshot><name>live</name><parent><name>x</name></parent></domainsnapshot>",
				"<domainsnapshot><name>live</name><state>shutoff</state></domainsnapshot>"} {
				if _, err := c.DomainSnapshotCreateXML(ctx, dom, doc, snapCreateRedefine); !errors.Is(err, errdefs.ErrConfigUnsupported) {
					t.Errorf("redefine %s: %v", doc, err)
				}
			}
			if _, err := c.DomainSnapshotCreateXML(ctx, dom, "<domainsnapshot><name>off</name></domainsnapshot>", snapCreateRedefine|snapCreateCurrent); !errors.Is(err, errdefs.ErrArgUnsupported) {
				t.Errorf("redefine current: %v", err)
			}
			// Children only: the snapshot stays, its subtree goes.
			if _, err := c.DomainSnapshotCreateXML(ctx, dom, "<domainsnapshot><name>leaf</name></domainsnapshot>", 0); err != nil {
				t.Fatal(err)
			}
			if err := c.DomainSnapshotDelete(ctx, live, snapDeleteChildrenOnly); err != nil {
				t.Fatal(err)
			}
			if got := listSnaps(t, s.conn, dom, 0); got != "off,live" {
				t.Errorf("after delete --children-only: %s", got)
			}
			// Delete with children: the whole tree goes.
			if err := c.DomainSnapshotDelete(ctx, s1, snapDeleteChildren); err != nil {
				t.Fatal(err)
			}
			if got := listSnaps(t, s.conn, dom, 0); got != "" {
				t.Errorf("after delete --children: %s", got)
			}
		})
	}
}

// TestSimPausedSnapshotRevertsPaused: a snapshot of a paused domain
// reverts to a paused domain; RUNNING overrides it; HALT powers off.
func TestSimPausedSnapshotRevertsPaused(t *testing.T) {
	s := newSim(t)
	ctx := context.Background()
	dom := s.create("pausy")
	c := s.conn
	if _, err := c.DomainCreate(ctx, dom, startPaused); err != nil {
		t.Fatal(err)
	}
	sn, err := c.DomainSnapshotCreateXML(ctx, dom, "<domainsnapshot><name>p</name></domainsnapshot>", 0)
	if err != nil {
		t.Fatal(err)
	}
	if x, err := c.DomainSnapshotGetXMLDesc(ctx, sn, 0); err != nil || !strings.Contains(x, "<state>paused</state>") {
		t.Errorf("paused snapshot XML: %v\n%s", err, x)
	}
	for _, tc := range []struct {
		flags uint32
		want  driver.DomainState
	}{{0, driver.StatePaused}, {snapRevertRunning, driver.StateRunning}} {
		if err := c.DomainRevertToSnapshot(ctx, sn, tc.flags); err != nil {
			t.Fatal(err)
		}
		if st, _ := s.state(dom); st != tc.want {
			t.Errorf("revert flags %#x: state %d, want %d", tc.flags, st, tc.want)
		}
	}
	// HALT: the snapshot holds the running domain, which is then off.
	h, err := c.DomainSnapshotCreateXML(ctx, dom, "<domainsnapshot><name>h</name></domainsnapshot>", snapCreateHalt|snapCreateLive)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := s.state(dom); st != driver.StateShutoff {
		t.Errorf("after --halt: state %d", st)
	}
	if x, err := c.DomainSnapshotGetXMLDesc(ctx, h, 0); err != nil || !strings.Contains(x, "<state>running</state>") {
		t.Errorf("halted snapshot XML: %v\n%s", err, x)
	}
}

// TestSimOutsideSnapshotShows: a snapshot taken with VBoxManage behind the
// daemon's back is listed once the listing shows the machine changed.
func TestSimOutsideSnapshotShows(t *testing.T) {
	s := newSim(t, withWatch(100*time.Millisecond, -1))
	dom := s.create("outside")
	ua := uuidString(dom.UUID)
	if got := listSnaps(t, s.conn, dom, 0); got != "" {
		t.Fatalf("before: %s", got)
	}
	before := s.runner.count("showvminfo " + ua)
	s.vbm("snapshot", ua, "take", "by hand", "--description", "manual")
	deadline := time.Now().Add(2 * time.Second)
	for s.runner.count("showvminfo "+ua) == before {
		waitRefresh(t, s.drv.inv, deadline)
	}
	if got := listSnaps(t, s.conn, dom, 0); got != "by hand" {
		t.Errorf("after an outside take: %q", got)
	}
	// Descriptions VBoxManage prints raw come back whole, and a forged
	// "State:" in one does not become the snapshot's state.
	ctx := context.Background()
	deadline = time.Now().Add(5 * time.Second)
	for _, desc := range []string{"first\nName: ghost\n\nState: running (since 2020-01-01T00:00:00.000000000)", `say "hi"`} {
		before := s.runner.count("showvminfo " + ua)
		s.vbm("snapshot", ua, "take", "d", "--description", desc, "--uniquename", "Number")
		for s.runner.count("showvminfo "+ua) == before {
			waitRefresh(t, s.drv.inv, deadline)
		}
		snaps, err := s.conn.DomainListAllSnapshots(ctx, dom, snapListLeaves)
		if err != nil || len(snaps) != 1 {
			t.Fatalf("leaves: %v %v", snaps, err)
		}
		x, err := s.conn.DomainSnapshotGetXMLDesc(ctx, snaps[0], 0)
		if err != nil {
			t.Fatal(err)
		}
		var doc libvirtxml.DomainSnapshot
		if err := doc.Unmarshal(x); err != nil || doc.Description != desc || doc.State != "shutoff" {
			t.Errorf("snapshot %s: description %q state %q (%v), want %q shutoff", snaps[0].Name, doc.Description, doc.State, err, desc)
		}
	}
}

// TestSimRenameAndMetadata: rename, title, description and metadata
// elements land where the XML policy keeps them and read back.
func TestSimRenameAndMetadata(t *testing.T) {
	s := newSim(t)
	ctx := context.Background()
	dom := s.create("old")
	c := s.conn
	if err := c.DomainRename(ctx, dom, "new", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.LookupByName(ctx, "old"); !errors.Is(err, errdefs.ErrNoDomain) {
		t.Errorf("old name still found: %v", err)
	}
	dom, err := c.LookupByName(ctx, "new")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DomainSetMetadata(ctx, dom, metaTitle, "My title", "", "", 0); err != nil {
		t.Fatal(err)
	}
	if err := c.DomainSetMetadata(ctx, dom, metaDescription, "line 1\nline 2", "", "", affectConfig); err != nil {
		t.Fatal(err)
	}
	if err := c.DomainSetMetadata(ctx, dom, metaElement, "<foo a='1'><bar>x</bar></foo>", "app", "http://example.org/app/", 0); err != nil {
		t.Fatal(err)
	}
	for typ, want := range map[int32]string{metaTitle: "My title", metaDescription: "line 1\nline 2"} {
		if got, err := c.DomainGetMetadata(ctx, dom, typ, "", 0); err != nil || got != want {
			t.Errorf("type %d: %q %v", typ, got, err)
		}
	}
	el, err := c.DomainGetMetadata(ctx, dom, metaElement, "http://example.org/app/", 0)
	if err != nil || !strings.Contains(el, "<app:foo xmlns:app='http://example.org/app/' a='1'>") || !strings.Contains(el, "<app:bar>x</app:bar>") && !strings.Contains(el, "<bar>x</bar>") {
		t.Errorf("element: %v\n%s", err, el)
	}
	x, err := c.DomainGetXMLDesc(ctx, dom, 0)
	if err != nil || !strings.Contains(x, "<title>My title</title>") || !strings.Contains(x, "http://example.org/app/") {
		t.Errorf("domain XML lacks title or metadata: %v\n%s", err, x)
	}
	if extra := s.vbm("getextradata", "new", "virtvboxd/title"); !strings.Contains(extra, "My title") {
		t.Errorf("title not in extradata: %s", extra)
	}
	if err := c.DomainSetMetadata(ctx, dom, metaElement, "", "", "http://example.org/app/", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DomainGetMetadata(ctx, dom, metaElement, "http://example.org/app/", 0); !errors.Is(err, errdefs.ErrNoDomainMetadata) {
		t.Errorf("removed element: %v", err)
	}
	if err := c.DomainRename(ctx, dom, "new", 0); !errors.Is(err, errdefs.ErrOperationInvalid) {
		t.Errorf("rename to itself: %v", err)
	}
	if _, err := c.DomainCreate(ctx, dom, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.DomainRename(ctx, dom, "newer", 0); !errors.Is(err, errdefs.ErrOperationInvalid) {
		t.Errorf("rename running: %v", err)
	}
	if err := c.DomainSetMetadata(ctx, dom, metaDescription, "x", "", "", affectLive); !errors.Is(err, errdefs.ErrOperationInvalid) {
		t.Errorf("live description: %v", err)
	}
	if err := c.DomainSetMetadata(ctx, dom, metaTitle, "live title", "", "", affectLive); err != nil {
		t.Errorf("live title: %v", err)
	}
}

// FuzzSnapTree: any showvminfo output (a crafted description can print
// Snapshot* keys) gives a tree without panics, cycles or lost nodes, and
// any snapshot XML is accepted or refused without panics.
func FuzzSnapTree(f *testing.F) {
	f.Add([]byte("SnapshotName=\"a\"\nSnapshotUUID=\"u1\"\nSnapshotName-1=\"b\"\nSnapshotUUID-1=\"u2\"\nCurrentSnapshotUUID=\"u2\"\n"),
		"<domainsnapshot><name>x</name><memory snapshot='no'/></domainsnapshot>")
	f.Add([]byte("SnapshotName-1-1=\"orphan\"\nSnapshotUUID-1-1=\"u\"\nSnapshotUUID-=\"v\"\n"), "<domainsnapshot><disks><disk name='sda' snapshot='external'/></disks></domainsnapshot>")
	f.Fuzz(func(t *testing.T, out []byte, doc string) {
		tr := parseSnapTree(ParseMachineReadable(out))
		seen := map[*snapNode]bool{}
		for _, n := range tr.All {
			if seen[n] {
				t.Fatalf("node %q listed twice", n.Name)
			}
			seen[n] = true
			depth := 0
			for p := n.Parent; p != nil; p = p.Parent {
				if depth++; depth > len(tr.All) {
					t.Fatal("parent cycle")
				}
			}
		}
		if tr.Current != nil && !seen[tr.Current] {
			t.Fatal("current snapshot not in the tree")
		}
		for _, online := range []bool{false, true} {
			if r, err := parseSnapshotRequest(doc, online, time.Unix(1, 0)); err == nil && (r.Name == "" || strings.HasPrefix(r.Name, "-")) {
				t.Fatalf("accepted name %q", r.Name)
			}
		}
	})
}
