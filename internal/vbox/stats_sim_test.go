package vbox

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// TestSimStatsOneRound checks what statistics cost: a GetAllDomainStats of
// every domain is one round (metrics setup and query, one debugvm per
// running machine), the per-domain calls that follow within the round's
// age start nothing, and dominfo reports the round's CPU time without a
// process of its own.
func TestSimStatsOneRound(t *testing.T) {
	s := newSim(t, withMaxAge(time.Minute))
	s.seed(12, 3)
	ctx := context.Background()
	all, err := s.conn.ListAllDomains(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	online := 0
	for _, d := range all {
		if d.ID > 0 {
			online++
		}
	}
	// The machines' settings are read once (the inventory keeps them),
	// as a first dumpxml would.
	for _, d := range all {
		if d.ID > 0 {
			if _, err := s.conn.DomainGetXMLDesc(ctx, d, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	s.runner.reset()
	recs, err := s.conn.GetAllDomainStats(ctx, nil, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(all) {
		t.Fatalf("%d records for %d domains", len(recs), len(all))
	}
	if n := s.runner.reset(); n != int64(2+online) {
		t.Errorf("a round started %d processes, want %d (setup, query, %d debugvm): %q", n, 2+online, online, s.runner.cmds)
	}
	var run driver.Domain
	for _, r := range recs {
		params := map[string]any{}
		for _, p := range r.Params {
			params[p.Field] = p.Value
		}
		if r.Dom.ID > 0 {
			if params["state.state"] == int32(driver.StateRunning) {
				run = r.Dom
			}
			if params["cpu.time"] == nil || params["block.count"] == nil || params["net.count"] == nil {
				t.Errorf("%s: %v", r.Dom.Name, params)
			}
		} else if params["state.state"] != int32(driver.StateShutoff) && params["cpu.time"] != nil {
			t.Errorf("inactive %s: %v", r.Dom.Name, params)
		}
	}
	if _, err := s.conn.DomainBlockStats(ctx, run, ""); err != nil {
		t.Error(err)
	}
	if _, err := s.conn.DomainInterfaceStats(ctx, run, "vboxnic1"); err != nil {
		t.Error(err)
	}
	if _, err := s.conn.DomainMemoryStats(ctx, run, 16, 0); err != nil {
		t.Error(err)
	}
	info, err := s.conn.DomainGetInfo(ctx, run)
	if err != nil || info.CPUTime == 0 {
		t.Errorf("dominfo CPU time %d, %v", info.CPUTime, err)
	}
	if n := s.runner.reset(); n != 0 {
		t.Errorf("calls within the round's age started %d processes: %q", n, s.runner.cmds)
	}
	// No Guest Additions: the agent is not responding; with them, addresses.
	_, err = s.conn.DomainInterfaceAddresses(ctx, run, addrSrcAgent, 0)
	wantClass(t, err, errdefs.ErrAgentUnresponsive, "publish no guest information")
	s.vbm("setextradata", run.Name, "vboxsim/GuestAdditions", "7.0.14 r161095")
	ifs, err := s.conn.DomainInterfaceAddresses(ctx, run, addrSrcAgent, 0)
	if err != nil || len(ifs) == 0 || len(ifs[0].Addrs) != 1 || !strings.HasPrefix(ifs[0].HWAddr, "08:00:27:") {
		t.Errorf("addresses %+v, %v", ifs, err)
	}
	_, err = s.conn.DomainGetHostname(ctx, run, 0)
	wantClass(t, err, errdefs.ErrOperationFailed, "publishes no host name")
	_, err = s.conn.DomainInterfaceAddresses(ctx, run, addrSrcARP, 0)
	wantClass(t, err, errdefs.ErrArgUnsupported, "arp")
	caps, err := s.conn.DomainCapabilities(ctx, "", "", "", "vbox", 0)
	if err != nil || !strings.Contains(caps, "<value>efi</value>") {
		t.Errorf("domcapabilities %v:\n%s", err, caps)
	}
	_, err = s.conn.DomainCapabilities(ctx, "", "aarch64x", "", "", 0)
	wantClass(t, err, errdefs.ErrInvalidArg, "architecture")
}
