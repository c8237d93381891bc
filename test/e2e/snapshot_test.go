package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// snapKeys reads the snapshot tree straight from the simulated VirtualBox:
// "name<parent" per snapshot, depth first, and the current snapshot.
func snapKeys(t *testing.T, s *sim, vm string) (tree []string, current string) {
	t.Helper()
	out := s.mustVBoxManage(t, "showvminfo", vm, "--machinereadable")
	names := map[string]string{}
	var order []string
	for _, m := range regexp.MustCompile(`(?m)^SnapshotName((?:-[0-9]+)*)="(.*)"$`).FindAllStringSubmatch(out, -1) {
		names[m[1]] = m[2]
		order = append(order, m[1])
	}
	for _, p := range order {
		parent := ""
		if i := strings.LastIndex(p, "-"); i >= 0 {
			parent = names[p[:i]]
		}
		tree = append(tree, names[p]+"<"+parent)
	}
	if m := regexp.MustCompile(`(?m)^CurrentSnapshotName="(.*)"$`).FindStringSubmatch(out); m != nil {
		current = m[1]
	}
	return tree, current
}

func wantTree(t *testing.T, s *sim, step, vm, tree, current string) {
	t.Helper()
	got, cur := snapKeys(t, s, vm)
	if strings.Join(got, ",") != tree || cur != current {
		t.Errorf("%s: VirtualBox has snapshots %q (current %q), want %q (current %q)", step, strings.Join(got, ","), cur, tree, current)
	}
}

func wantVMState(t *testing.T, s *sim, step, vm, want string) {
	t.Helper()
	if got := vmState(t, s, vm); got != want {
		t.Errorf("%s: VirtualBox state %q, want %q", step, got, want)
	}
}

// TestVirshSnapshots drives every snapshot command of virsh, and desc,
// metadata and domrename, on each VirtualBox personality, checking
// VirtualBox's resulting state after each change.
func TestVirshSnapshots(t *testing.T) {
	for _, v := range simVersions {
		t.Run(v, func(t *testing.T) { virshSnapshots(t, v) })
	}
}

func virshSnapshots(t *testing.T, version string) {
	d := startDaemon(t, withSimVersion(version))
	s := d.Sim
	d.mustVirsh(t, "define", "testdata/web01.xml")

	// snapshot-create-as of a shut-off domain, then of a running one, live.
	contains(t, "snapshot-create-as", d.mustVirsh(t, "snapshot-create-as", "web01", "cold", "before boot"), "Domain snapshot cold created")
	wantTree(t, s, "create cold", "web01", "cold<", "cold")
	d.mustVirsh(t, "start", "web01")
	d.mustVirsh(t, "snapshot-create-as", "web01", "--name", "warm", "--description", "booted", "--live")
	wantTree(t, s, "create warm", "web01", "cold<,warm<cold", "warm")
	wantVMState(t, s, "live snapshot", "web01", "running")

	// snapshot-create from an XML file, on the running domain.
	x := filepath.Join(d.Dir, "snap.xml")
	if err := os.WriteFile(x, []byte("<domainsnapshot><name>fromxml</name><description>file</description></domainsnapshot>"), 0o644); err != nil {
		t.Fatal(err)
	}
	contains(t, "snapshot-create", d.mustVirsh(t, "snapshot-create", "web01", x), "Domain snapshot fromxml created")
	wantTree(t, s, "create fromxml", "web01", "cold<,warm<cold,fromxml<warm", "fromxml")
	wantVMState(t, s, "snapshot of a running domain", "web01", "running")

	// Listing.
	list := d.mustVirsh(t, "snapshot-list", "web01")
	contains(t, "snapshot-list", list, "Creation Time", "State")
	for _, l := range []string{`(?m)^ cold +\S+ \S+ \S+ +shutoff$`, `(?m)^ warm +\S+ \S+ \S+ +running$`, `(?m)^ fromxml +\S+ \S+ \S+ +running$`} {
		if !regexp.MustCompile(l).MatchString(list) {
			t.Errorf("snapshot-list: no line %s in\n%s", l, list)
		}
	}
	if got := d.mustVirsh(t, "snapshot-list", "web01", "--tree"); !regexp.MustCompile(`(?s)^cold\n.*\+- warm\n.*\+- fromxml\n`).MatchString(got) {
		t.Errorf("snapshot-list --tree:\n%s", got)
	}
	contains(t, "snapshot-list --parent", d.mustVirsh(t, "snapshot-list", "web01", "--parent"), "Parent")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--name"}, "cold\nfromxml\nwarm"},
		{[]string{"--roots", "--name"}, "cold"},
		{[]string{"--leaves", "--name"}, "fromxml"},
		{[]string{"--from", "cold", "--name"}, "warm"},
		{[]string{"--from", "cold", "--descendants", "--name"}, "fromxml\nwarm"},
		{[]string{"--current", "--name"}, ""}, // the current snapshot has no children
		{[]string{"--inactive", "--name"}, "cold"},
		{[]string{"--active", "--name"}, "fromxml\nwarm"},
		{[]string{"--metadata", "--name"}, ""},
		{[]string{"--no-metadata", "--name"}, "cold\nfromxml\nwarm"},
	} {
		if got := strings.TrimSpace(d.mustVirsh(t, append([]string{"snapshot-list", "web01"}, tc.args...)...)); got != tc.want {
			t.Errorf("snapshot-list %v = %q, want %q", tc.args, got, tc.want)
		}
	}

	// snapshot-edit (a redefine) changes a description through VirtualBox.
	editor := filepath.Join(d.Dir, "editor.sh")
	if err := os.WriteFile(editor, []byte("#!/bin/sh\nsed -i 's#before boot#edited by virsh#' \"$1\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("EDITOR", editor)
	t.Setenv("VISUAL", editor)
	contains(t, "snapshot-edit", d.mustVirsh(t, "snapshot-edit", "web01", "cold"), "Snapshot cold edited")
	contains(t, "description after snapshot-edit", s.mustVBoxManage(t, "snapshot", "web01", "list", "--machinereadable"),
		`SnapshotDescription="edited by virsh"`)

	// Info, XML, current, parent.
	contains(t, "snapshot-info", d.mustVirsh(t, "snapshot-info", "web01", "warm"), "Name:           warm", "Domain:         web01",
		"Current:        no", "State:          running", "Parent:         cold", "Children:       1", "Descendants:    1", "Metadata:       no")
	contains(t, "snapshot-info --current", d.mustVirsh(t, "snapshot-info", "web01", "--current"), "Name:           fromxml", "Current:        yes")
	contains(t, "snapshot-dumpxml", d.mustVirsh(t, "snapshot-dumpxml", "web01", "cold"), "<name>cold</name>",
		"<description>edited by virsh</description>", "<state>shutoff</state>", "<creationTime>", `<domain type="vbox">`,
		"<name>web01</name>", "<uuid>6c0b2e4f-2a3b-4f7e-9d1c-1f2e3d4c5b6a</uuid>", `<memory unit="KiB">2097152</memory>`)
	if got := strings.TrimSpace(d.mustVirsh(t, "snapshot-current", "web01", "--name")); got != "fromxml" {
		t.Errorf("snapshot-current --name = %q", got)
	}
	contains(t, "snapshot-current", d.mustVirsh(t, "snapshot-current", "web01"), "<name>fromxml</name>", "<parent>")
	if got := strings.TrimSpace(d.mustVirsh(t, "snapshot-parent", "web01", "warm")); got != "cold" {
		t.Errorf("snapshot-parent = %q", got)
	}
	contains(t, "snapshot-parent of the root", d.virshFails(t, "snapshot-parent", "web01", "cold"), "has no parent")

	// Reverts: to the state each snapshot holds, or as the flags ask.
	for _, tc := range []struct {
		snap  string
		flags []string
		virsh string // domstate
		vbox  string // VMState
	}{
		{"cold", nil, "shut off", "poweroff"},
		{"warm", nil, "running", "running"},
		{"warm", []string{"--paused"}, "paused", "paused"},
		{"cold", []string{"--running"}, "running", "running"},
	} {
		step := "snapshot-revert " + tc.snap + " " + strings.Join(tc.flags, " ")
		contains(t, step, d.mustVirsh(t, append([]string{"snapshot-revert", "web01", tc.snap}, tc.flags...)...), "reverted")
		if got := strings.TrimSpace(d.mustVirsh(t, "domstate", "web01")); got != tc.virsh {
			t.Errorf("%s: domstate %q, want %q", step, got, tc.virsh)
		}
		wantVMState(t, s, step, "web01", tc.vbox)
		wantTree(t, s, step, "web01", "cold<,warm<cold,fromxml<warm", tc.snap)
	}

	// Deletes: one snapshot (its child moves up), then a subtree.
	d.mustVirsh(t, "snapshot-create-as", "web01", "side")
	wantTree(t, s, "create side", "web01", "cold<,warm<cold,fromxml<warm,side<cold", "side")
	contains(t, "snapshot-delete", d.mustVirsh(t, "snapshot-delete", "web01", "warm"), "Domain snapshot warm deleted")
	wantTree(t, s, "delete warm", "web01", "cold<,fromxml<cold,side<cold", "side")
	contains(t, "snapshot-delete --children", d.mustVirsh(t, "snapshot-delete", "web01", "cold", "--children"), "Domain snapshot cold deleted")
	wantTree(t, s, "delete cold --children", "web01", "", "")
	if got := strings.TrimSpace(d.mustVirsh(t, "snapshot-list", "web01", "--name")); got != "" {
		t.Errorf("snapshot-list after deleting all: %q", got)
	}

	// A snapshot taken with VBoxManage behind the daemon's back shows.
	// The daemon's watcher notices within its interval (1 s) plus a listing.
	s.mustVBoxManage(t, "snapshot", "web01", "take", "by hand")
	deadline := time.Now().Add(10 * time.Second)
	for got := ""; got != "by hand"; got = strings.TrimSpace(d.mustVirsh(t, "snapshot-list", "web01", "--name")) {
		if time.Now().After(deadline) {
			t.Fatalf("snapshot-list after an outside take = %q", got)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// desc, metadata, domrename.
	d.mustVirsh(t, "destroy", "web01")
	contains(t, "desc --title", d.mustVirsh(t, "desc", "web01", "--title", "--new-desc", "Web server"), "Domain title updated successfully")
	contains(t, "desc --config", d.mustVirsh(t, "desc", "web01", "--config", "--new-desc", "serves\nthe web"), "Domain description updated successfully")
	if got := strings.TrimSpace(d.mustVirsh(t, "desc", "web01")); got != "serves\nthe web" {
		t.Errorf("desc = %q", got)
	}
	if got := strings.TrimSpace(d.mustVirsh(t, "desc", "web01", "--title")); got != "Web server" {
		t.Errorf("desc --title = %q", got)
	}
	contains(t, "VirtualBox description", s.mustVBoxManage(t, "showvminfo", "web01", "--machinereadable"), "description=\"serves\nthe web\"")
	contains(t, "title extradata", s.mustVBoxManage(t, "getextradata", "web01", "virtvboxd/title"), "Value: Web server")
	d.mustVirsh(t, "metadata", "web01", "http://example.org/app/", "--key", "app", "--set", "<cfg role='web'><tier>front</tier></cfg>")
	contains(t, "metadata", d.mustVirsh(t, "metadata", "web01", "http://example.org/app/"),
		"<app:cfg xmlns:app='http://example.org/app/' role='web'>", "<tier>front</tier>")
	contains(t, "metadata extradata", s.mustVBoxManage(t, "getextradata", "web01", "virtvboxd/metadata"), "xmlns:app='http://example.org/app/'")
	contains(t, "dumpxml", d.mustVirsh(t, "dumpxml", "web01"), "<title>Web server</title>", "<description>serves&#xA;the web</description>", "role='web'")
	d.mustVirsh(t, "metadata", "web01", "http://example.org/app/", "--remove")
	contains(t, "metadata removed", d.virshFails(t, "metadata", "web01", "http://example.org/app/"), "metadata not found")
	contains(t, "domrename", d.mustVirsh(t, "domrename", "web01", "web02"), "Domain successfully renamed")
	contains(t, "VirtualBox name", s.mustVBoxManage(t, "showvminfo", "6c0b2e4f-2a3b-4f7e-9d1c-1f2e3d4c5b6a", "--machinereadable"), `name="web02"`)
	contains(t, "list --title", d.mustVirsh(t, "list", "--all", "--title"), "web02", "Web server")
	contains(t, "snapshots follow the rename", d.mustVirsh(t, "snapshot-list", "web02", "--name"), "by hand")
}

// TestVirshSnapshotBadInput: unknown snapshots, bad XML and what VirtualBox
// cannot do give a clear libvirt error, and VirtualBox is left as it was.
func TestVirshSnapshotBadInput(t *testing.T) {
	d := startDaemon(t)
	s := d.Sim
	d.mustVirsh(t, "define", "testdata/web01.xml")
	d.mustVirsh(t, "snapshot-create-as", "web01", "a")
	d.mustVirsh(t, "snapshot-create-as", "web01", "b")
	d.mustVirsh(t, "snapshot-revert", "web01", "a")
	d.mustVirsh(t, "snapshot-create-as", "web01", "c")
	d.mustVirsh(t, "start", "web01")
	const tree, current = "a<,b<a,c<a", "c"
	wantTree(t, s, "setup", "web01", tree, current)
	bad := filepath.Join(d.Dir, "bad.xml")
	if err := os.WriteFile(bad, []byte("<domainsnapshot><name>x</name"), 0o644); err != nil {
		t.Fatal(err)
	}
	ext := filepath.Join(d.Dir, "ext.xml")
	if err := os.WriteFile(ext, []byte("<domainsnapshot><name>x</name><memory snapshot='external' file='/tmp/m'/></domainsnapshot>"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := len(modifyingCalls(t, s))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"snapshot-revert", "web01", "nope"}, "Domain snapshot not found: no domain snapshot with matching name 'nope'"},
		{[]string{"snapshot-delete", "web01", "nope"}, "Domain snapshot not found"},
		{[]string{"snapshot-info", "web01", "nope"}, "Domain snapshot not found"},
		{[]string{"snapshot-dumpxml", "web01", "nope"}, "Domain snapshot not found"},
		{[]string{"snapshot-create", "web01", bad}, "XML error"},
		{[]string{"snapshot-create", "web01", ext}, "unsupported configuration: VirtualBox keeps a snapshot's memory itself"},
		{[]string{"snapshot-create-as", "web01", "a"}, "domain snapshot a already exists"},
		{[]string{"snapshot-create-as", "web01", "x", "--disk-only"}, "argument unsupported: disk-only and external snapshots are not supported"},
		{[]string{"snapshot-create-as", "web01", "x", "--no-metadata"}, "argument unsupported: a snapshot without metadata is not supported"},
		{[]string{"snapshot-create-as", "web01", "x", "--quiesce"}, "argument unsupported"},
		{[]string{"snapshot-create", "web01", ext, "--redefine"}, "argument unsupported: redefining snapshot 'x' is not supported"},
		{[]string{"snapshot-delete", "web01", "a", "--metadata"}, "argument unsupported: deleting only the metadata of a snapshot is not supported"},
		{[]string{"snapshot-delete", "web01", "a"}, "VirtualBox cannot delete snapshot 'a': it has 2 child snapshots"},
		{[]string{"snapshot-revert", "web01", "a", "--reset-nvram"}, "unsupported flags"},
		{[]string{"desc", "web01", "--live", "--new-desc", "x"}, "VirtualBox cannot change the description of a running domain"},
		{[]string{"domrename", "web01", "web03"}, "cannot rename active domain"},
	} {
		contains(t, strings.Join(tc.args, " "), d.virshFails(t, tc.args...), tc.want)
		wantTree(t, s, strings.Join(tc.args, " "), "web01", tree, current)
		wantVMState(t, s, strings.Join(tc.args, " "), "web01", "running")
	}
	// Nothing was attempted: only reads ran (snapshot showvminfo reads too).
	for _, c := range modifyingCalls(t, s)[before:] {
		if !strings.Contains(c, `"showvminfo"`) {
			t.Errorf("bad input ran %s", c)
		}
	}
}

// TestPythonSnapshots: python3-libvirt takes, lists, reverts and deletes
// snapshots of a running VM.
func TestPythonSnapshots(t *testing.T) {
	d := startDaemon(t)
	out := d.python(t, "snapshots.py")
	contains(t, "snapshots.py", out, "ok listed\n", "ok missing\n", "ok reverted\n", "ok deleted\n", "ok done\n")
}
