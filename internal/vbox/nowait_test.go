package vbox

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/virtvboxd/virtvboxd/internal/driver"
)

// TestSimNoWaitReads checks the reads the RPC layer tries on a client's
// connection goroutine (driver.NoWait): with nothing in memory they return
// driver.ErrWouldBlock and start no VBoxManage; once a normal read filled the
// inventory they give the normal answers, again without VBoxManage; a
// machine the daemon changed (dirty) or a name the snapshot lacks sends the
// read back to a worker.
func TestSimNoWaitReads(t *testing.T) {
	s := newSim(t, withMaxAge(time.Hour)) // no expiry during the test
	d := s.create("web")
	s.create("db")
	if !s.conn.(driver.NoWaitReader).HonoursNoWait() {
		t.Fatal("the VirtualBox connection does not honour NoWait")
	}
	reads := map[string]func(ctx context.Context) (any, error){
		"ListAllDomains": func(ctx context.Context) (any, error) { return s.conn.ListAllDomains(ctx, 0) },
		"LookupByName":   func(ctx context.Context) (any, error) { return s.conn.LookupByName(ctx, "web") },
		"LookupByUUID":   func(ctx context.Context) (any, error) { return s.conn.LookupByUUID(ctx, d.UUID) },
		"DomainGetInfo":  func(ctx context.Context) (any, error) { return s.conn.DomainGetInfo(ctx, d) },
		"DomainGetXMLDesc": func(ctx context.Context) (any, error) {
			return s.conn.DomainGetXMLDesc(ctx, d, 0)
		},
	}
	nw := driver.NoWait(context.Background())

	s.drv.inv.Invalidate()
	s.drv.inv.MarkDirty(uuidString(d.UUID)) // no settings, no extradata in memory
	s.runner.reset()
	for name, read := range reads {
		if _, err := read(nw); !errors.Is(err, driver.ErrWouldBlock) {
			t.Errorf("cold %s under NoWait: %v, want ErrWouldBlock", name, err)
		}
	}
	if n := s.runner.reset(); n != 0 {
		t.Fatalf("cold reads under NoWait started %d VBoxManage processes, want 0", n)
	}

	want := map[string]any{}
	for name, read := range reads {
		v, err := read(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want[name] = v
	}
	s.runner.reset()
	for name, read := range reads {
		got, err := read(nw)
		if err != nil {
			t.Errorf("warm %s under NoWait: %v", name, err)
		} else if !reflect.DeepEqual(got, want[name]) {
			t.Errorf("warm %s under NoWait: %v, want %v", name, got, want[name])
		}
	}
	if _, err := s.conn.LookupByName(nw, "nosuch"); !errors.Is(err, driver.ErrWouldBlock) {
		t.Errorf("lookup of a name not in the snapshot under NoWait: %v, want ErrWouldBlock (a miss may refresh)", err)
	}
	s.drv.inv.MarkDirty(uuidString(d.UUID))
	if _, err := s.conn.DomainGetInfo(nw, d); !errors.Is(err, driver.ErrWouldBlock) {
		t.Errorf("info of a dirty machine under NoWait: %v, want ErrWouldBlock", err)
	}
	if n := s.runner.reset(); n != 0 {
		t.Fatalf("reads under NoWait started %d VBoxManage processes, want 0", n)
	}
}
