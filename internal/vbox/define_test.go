package vbox

import (
	"context"
	"encoding/xml"
	"github.com/virtvboxd/virtvboxd/internal/driver"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

func escapeXML(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func minimalXML(name string, memKiB int) string {
	return `<domain type='vbox'><name>` + escapeXML(name) + `</name><memory unit='KiB'>` +
		itoa(memKiB) + `</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>`
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestSimOddNamesEndToEnd(t *testing.T) {
	s := newSim(t)
	ctx := context.Background()
	for _, name := range []string{"--help", "a=b", `x"y`, "with space", "ünïcødé", "-leading-dash", "--name"} {
		t.Run(name, func(t *testing.T) {
			d, err := s.conn.DomainDefineXML(ctx, minimalXML(name, 262144), 0)
			if err != nil {
				t.Fatalf("define: %v", err)
			}
			if d.Name != name {
				t.Fatalf("defined name %q", d.Name)
			}
			got, err := s.conn.LookupByName(ctx, name)
			if err != nil || got.UUID != d.UUID {
				t.Fatalf("lookup: %+v %v", got, err)
			}
			if _, err := s.conn.DomainCreate(ctx, d, 0); err != nil {
				t.Fatalf("start: %v", err)
			}
			doc, err := s.conn.DomainGetXMLDesc(ctx, d, 0)
			if err != nil {
				t.Fatalf("dumpxml: %v", err)
			}
			var back struct {
				Name string `xml:"name"`
			}
			if err := xml.Unmarshal([]byte(doc), &back); err != nil || back.Name != name {
				t.Errorf("dumpxml gives the name %q (%v), want %q:\n%s", back.Name, err, name, doc)
			}
			if err := s.conn.DomainDestroy(ctx, d, 0); err != nil {
				t.Fatalf("destroy: %v", err)
			}
			if err := s.conn.DomainUndefine(ctx, d, 0); err != nil {
				t.Fatalf("undefine: %v", err)
			}
			_, err = s.conn.LookupByName(ctx, name)
			wantClass(t, err, errdefs.ErrNoDomain, "no domain with matching name")
			// The name is free again.
			d2, err := s.conn.DomainDefineXML(ctx, minimalXML(name, 131072), 0)
			if err != nil {
				t.Fatalf("re-define after undefine: %v", err)
			}
			if err := s.conn.DomainUndefine(ctx, d2, 0); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestSimDefineRoundTripAndEdit(t *testing.T) {
	for _, ver := range []string{"6.1", "7.0", "7.1"} {
		t.Run(ver, func(t *testing.T) {
			s := newSim(t, withVersion(ver))
			s.seed(3, 0)
			ctx := context.Background()
			all, err := s.conn.ListAllDomains(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range all {
				doc, err := s.conn.DomainGetXMLDesc(ctx, d, 0)
				if err != nil {
					t.Fatalf("dumpxml %s: %v", d.Name, err)
				}
				s.runner.reset()
				d2, err := s.conn.DomainDefineXML(ctx, doc, 0)
				if err != nil {
					t.Fatalf("define of dumpxml %s: %v\n%s", d.Name, err, doc)
				}
				if d2.UUID != d.UUID {
					t.Fatalf("round trip changed the UUID")
				}
				for _, c := range s.runner.cmds {
					if strings.HasPrefix(c, "modifyvm") || strings.HasPrefix(c, "createvm") || strings.HasPrefix(c, "storage") {
						t.Errorf("round trip of %s ran %q", d.Name, c)
					}
				}
				s.runner.mu.Lock()
				s.runner.cmds = nil
				s.runner.mu.Unlock()
				doc2, err := s.conn.DomainGetXMLDesc(ctx, d, 0)
				if err != nil || doc2 != doc {
					t.Errorf("dumpxml changed after define:\n%s\n---\n%s", doc, doc2)
				}
			}
			// Edit in place: change the memory of a powered-off machine.
			d := all[0]
			doc, _ := s.conn.DomainGetXMLDesc(ctx, d, 0)
			st, _ := s.state(d)
			edited := replaceMemory(t, doc, 3145728)
			if _, err := s.conn.DomainDefineXML(ctx, edited, 0); err != nil {
				if st == driver.StateShutoff {
					t.Fatalf("edit: %v", err)
				}
				return
			}
			info, err := s.conn.DomainGetInfo(ctx, d)
			if err != nil || info.MemoryKiB != 3145728 {
				t.Fatalf("after edit: %+v %v", info, err)
			}
		})
	}
}

func replaceMemory(t *testing.T, doc string, kib int) string {
	t.Helper()
	out := doc
	for _, tag := range []string{"memory", "currentMemory"} {
		i := strings.Index(out, "<"+tag+" ")
		j := strings.Index(out, "</"+tag+">")
		if i < 0 || j < i {
			t.Fatalf("no <%s> in\n%s", tag, doc)
		}
		out = out[:i] + "<" + tag + " unit='KiB'>" + itoa(kib) + out[j:]
	}
	return out
}

func TestSimDefineErrorsChangeNothing(t *testing.T) {
	s := newSim(t)
	ctx := context.Background()
	s.create("keep")
	before := s.vbm("list", "vms")
	for _, tc := range []struct {
		name, doc string
		class     error
	}{
		{"malformed", "<domain type='vbox'><name>x</name", errdefs.ErrXML},
		{"unknown device", "<domain type='vbox'><name>x</name><memory>1048576</memory><os><type>hvm</type></os><devices><tpm model='tpm-tis'/></devices></domain>", errdefs.ErrConfigUnsupported},
		{"missing disk image", "<domain type='vbox'><name>x</name><memory>1048576</memory><os><type>hvm</type></os><devices><disk type='file' device='disk'><source file='/nonexistent/disk.vdi'/><target dev='sda' bus='sata'/></disk></devices></domain>", errdefs.ErrOperationFailed},
		{"name taken by another uuid", "<domain type='vbox'><name>keep</name><uuid>11111111-2222-3333-4444-555555555555</uuid><memory>1048576</memory><os><type>hvm</type></os></domain>", errdefs.ErrOperationFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.conn.DomainDefineXML(ctx, tc.doc, 0)
			if err == nil || !errorsIs(err, tc.class) {
				t.Fatalf("got %v, want class %v", err, tc.class)
			}
			if after := s.vbm("list", "vms"); after != before {
				t.Errorf("machines changed:\n%s\n---\n%s", before, after)
			}
		})
	}
	// Another name with keep's UUID would rename keep: libvirt refuses that.
	d, _ := s.conn.LookupByName(ctx, "keep")
	_, err := s.conn.DomainDefineXML(ctx, "<domain type='vbox'><name>renamed</name><uuid>"+uuidString(d.UUID)+
		"</uuid><memory>1024</memory><os><type>hvm</type></os></domain>", 0)
	wantClass(t, err, errdefs.ErrOperationFailed, "domain 'keep' is already defined with uuid "+uuidString(d.UUID))
	if after := s.vbm("list", "vms"); after != before {
		t.Errorf("a define with a taken UUID changed the machines:\n%s\n---\n%s", before, after)
	}

	// A running machine is not edited: an unchanged document is fine, a
	// changed one waits for the power-off (pending_test.go).
	if _, err := s.conn.DomainCreate(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	doc, _ := s.conn.DomainGetXMLDesc(ctx, d, xmlInactive)
	if _, err := s.conn.DomainDefineXML(ctx, doc, 0); err != nil {
		t.Errorf("unchanged define of a running machine: %v", err)
	}
	if up, err := s.conn.DomainIsUpdated(ctx, d); err != nil || up {
		t.Errorf("unchanged define of a running machine: updated %v, %v", up, err)
	}
	info := s.vbm("showvminfo", uuidString(d.UUID), "--machinereadable")
	if _, err := s.conn.DomainDefineXML(ctx, replaceMemory(t, doc, 2097152), 0); err != nil {
		t.Errorf("changed define of a running machine: %v", err)
	}
	if after := s.vbm("showvminfo", uuidString(d.UUID), "--machinereadable"); after != info {
		t.Errorf("a define changed the running machine:\n%s\n---\n%s", info, after)
	}
	wantClass(t, s.conn.DomainUndefine(ctx, d, 0), errdefs.ErrOperationInvalid, "running")
}

func TestSimCreateXML(t *testing.T) {
	s := newSim(t)
	ctx := context.Background()
	d, err := s.conn.DomainCreateXML(ctx, minimalXML("fresh", 524288), 0)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID <= 0 {
		t.Errorf("created domain has id %d", d.ID)
	}
	if st, _ := s.state(d); st != driver.StateRunning {
		t.Errorf("state %d after create", st)
	}
	if err := s.conn.DomainManagedSave(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	wantClass(t, s.conn.DomainUndefine(ctx, d, 0), errdefs.ErrOperationInvalid, "managed save image exists")
	if err := s.conn.DomainManagedSaveRemove(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.state(d); st != driver.StateShutoff {
		t.Errorf("state %d after managedsave-remove", st)
	}
	if err := s.conn.DomainUndefine(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
}

func errorsIs(err, class error) bool { return errdefs.ClassOf(err) == class }

func TestSimAudioControllerRoundTrip(t *testing.T) {
	s := newSim(t)
	ctx := context.Background()
	d := s.create("sound")
	u := uuidString(d.UUID)
	s.vbm("modifyvm", u, "--audio-enabled", "on", "--audio-controller", "hda")
	s.drv.inv.Invalidate()
	doc, err := s.conn.DomainGetXMLDesc(ctx, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(doc, `<sound model="ich6"`) && !strings.Contains(doc, `<sound model='ich6'`) {
		t.Fatalf("HDA not shown as ich6:\n%s", doc)
	}
	s.runner.mu.Lock()
	s.runner.cmds = nil
	s.runner.mu.Unlock()
	if _, err := s.conn.DomainDefineXML(ctx, doc, 0); err != nil {
		t.Fatal(err)
	}
	s.runner.mu.Lock()
	defer s.runner.mu.Unlock()
	for _, c := range s.runner.cmds {
		if strings.HasPrefix(c, "modifyvm") {
			t.Errorf("round trip of an HDA machine ran %q", c)
		}
	}
}

// Concurrent defines of one new name: one creates the machine, the others
// update it in place, as libvirt serialises them; none races createvm into
// "already exists", and one machine results.
func TestSimConcurrentDefinesOfOneName(t *testing.T) {
	s := newSim(t, withEnv("VBOXSIM_LATENCY=20ms"))
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.conn.DomainDefineXML(ctx, minimalXML("race", (512+i)*1024), 0)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent define: %v", err)
		}
	}
	if n := strings.Count(s.vbm("list", "vms"), `"race"`); n != 1 {
		t.Errorf("%d machines named race:\n%s", n, s.vbm("list", "vms"))
	}
}
