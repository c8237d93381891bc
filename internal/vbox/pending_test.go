package vbox

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// pendingEnv is a running machine "dev" (devMachine) and an ISO beside its
// disks.
type pendingEnv struct {
	*simEnv
	dom driver.Domain
	u   string
	iso string
}

func newPendingEnv(t *testing.T, opts ...simOpt) *pendingEnv {
	t.Helper()
	s := newSim(t, opts...)
	dir := devMachine(t, s)
	iso := filepath.Join(dir, "boot.iso")
	if err := os.WriteFile(iso, make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dom, err := s.conn.LookupByName(ctx, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.conn.DomainCreate(ctx, dom, 0); err != nil {
		t.Fatal(err)
	}
	return &pendingEnv{simEnv: s, dom: dom, u: uuidString(dom.UUID), iso: iso}
}

// changed is the machine's inactive XML with 512 MiB and the ISO in hdc.
func (p *pendingEnv) changed(t *testing.T) string {
	t.Helper()
	x, err := p.conn.DomainGetXMLDesc(context.Background(), p.dom, xmlInactive)
	if err != nil {
		t.Fatal(err)
	}
	x = strings.Replace(x, "<memory unit='KiB'>262144</memory>", "<memory unit='KiB'>524288</memory>", 1)
	x = strings.Replace(x, "<currentMemory unit='KiB'>262144</currentMemory>", "<currentMemory unit='KiB'>524288</currentMemory>", 1)
	x = strings.Replace(x, "<target dev='hdc' bus='ide'/>", "<source file='"+p.iso+"'/><target dev='hdc' bus='ide'/>", 1)
	if !strings.Contains(x, "524288") || !strings.Contains(x, p.iso) {
		t.Fatalf("cannot change the XML:\n%s", x)
	}
	return x
}

// memory is the machine's memory size as VirtualBox has it now.
func (p *pendingEnv) memory() string {
	return ParseMachineReadable([]byte(p.vbm("showvminfo", p.u, "--machinereadable"))).Str("memory")
}

func (p *pendingEnv) updated(t *testing.T) bool {
	t.Helper()
	up, err := p.conn.DomainIsUpdated(context.Background(), p.dom)
	if err != nil {
		t.Fatal(err)
	}
	return up
}

func (p *pendingEnv) pendingStored() bool {
	return strings.Contains(p.vbm("getextradata", p.u, "enumerate"), pendingKey)
}

// TestSimPendingDefine: a define of a running machine changes nothing of
// it (only its extradata), IsUpdated says so, dumpxml --inactive shows the
// new definition and dumpxml the running one; the daemon's destroy returns
// with the definition applied and nothing pending.
func TestSimPendingDefine(t *testing.T) {
	p := newPendingEnv(t)
	ctx := context.Background()
	if p.updated(t) {
		t.Fatal("updated before any define")
	}
	doc := p.changed(t)
	p.commandsSince()
	if _, err := p.conn.DomainDefineXML(ctx, doc, 0); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range p.commandsSince() {
		for _, w := range changingCommands {
			if strings.HasPrefix(cmd, w+" ") && !strings.HasPrefix(cmd, "setextradata "+p.u+" "+pendingKey+" ") {
				t.Errorf("define of a running machine ran %q", cmd)
			}
		}
	}
	if got := p.memory(); got != "256" {
		t.Errorf("running machine's memory %s MiB, want 256 until power-off", got)
	}
	if st, _ := p.state(p.dom); st != driver.StateRunning {
		t.Errorf("state %d after the define, want running", st)
	}
	if !p.updated(t) {
		t.Error("DomainIsUpdated false with a pending definition")
	}
	live, _ := p.conn.DomainGetXMLDesc(ctx, p.dom, 0)
	inactive, _ := p.conn.DomainGetXMLDesc(ctx, p.dom, xmlInactive)
	if !strings.Contains(live, "262144") || strings.Contains(live, p.iso) {
		t.Errorf("live XML shows the pending definition:\n%s", live)
	}
	if !strings.Contains(inactive, "524288") || !strings.Contains(inactive, p.iso) {
		t.Errorf("inactive XML lacks the pending definition:\n%s", inactive)
	}
	// Defining the running settings again drops the pending definition.
	if _, err := p.conn.DomainDefineXML(ctx, live, 0); err != nil {
		t.Fatal(err)
	}
	if p.updated(t) || p.pendingStored() {
		t.Error("a define of the running settings left a definition pending")
	}
	if _, err := p.conn.DomainDefineXML(ctx, doc, 0); err != nil {
		t.Fatal(err)
	}
	if err := p.conn.DomainDestroy(ctx, p.dom, 0); err != nil {
		t.Fatal(err)
	}
	if got := p.memory(); got != "512" {
		t.Errorf("memory %s MiB after destroy, want the pending 512", got)
	}
	if !strings.Contains(p.vbm("showvminfo", p.u, "--machinereadable"), p.iso) {
		t.Error("the pending ISO is not in the drive after destroy")
	}
	if p.pendingStored() {
		t.Error("the pending definition stays after it was applied")
	}
	x, _ := p.conn.DomainGetXMLDesc(ctx, p.dom, 0)
	if !strings.Contains(x, "524288") {
		t.Errorf("dumpxml after destroy:\n%s", x)
	}
	if p.updated(t) {
		t.Error("updated after the pending definition was applied")
	}
	// A bad document is refused with nothing stored.
	_, err := p.conn.DomainCreate(ctx, p.dom, 0)
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(doc, p.iso, filepath.Join(filepath.Dir(p.iso), "missing.iso"), 1)
	if _, err := p.conn.DomainDefineXML(ctx, bad, 0); err == nil {
		t.Error("a define naming a missing image was accepted")
	}
	if p.pendingStored() {
		t.Error("a refused define stored a pending definition")
	}
}

// TestSimPendingPowerOffByHand: a machine powered off behind the daemon's
// back (VBoxManage by hand) gets its pending definition from the watcher.
func TestSimPendingPowerOffByHand(t *testing.T) {
	p := newPendingEnv(t, withWatch(30*time.Millisecond, -1))
	ctx := context.Background()
	if _, err := p.conn.DomainDefineXML(ctx, p.changed(t), 0); err != nil {
		t.Fatal(err)
	}
	p.vbm("controlvm", p.u, "poweroff")
	for i := 0; i < 100 && p.pendingStored(); i++ {
		<-p.drv.inv.Refreshed()
	}
	if p.pendingStored() {
		t.Fatal("the pending definition was not applied within 100 listings of the watcher")
	}
	if got := p.memory(); got != "512" {
		t.Errorf("memory %s MiB, want the pending 512", got)
	}
}

// TestSimPendingAppliedBeforeStart: without a watcher, a machine powered
// off by hand gets its pending definition before the daemon starts it.
func TestSimPendingAppliedBeforeStart(t *testing.T) {
	p := newPendingEnv(t)
	ctx := context.Background()
	if _, err := p.conn.DomainDefineXML(ctx, p.changed(t), 0); err != nil {
		t.Fatal(err)
	}
	p.vbm("controlvm", p.u, "poweroff")
	p.drv.inv.Invalidate()
	if got := p.memory(); got != "256" {
		t.Fatalf("memory %s MiB before the start, want 256 (no watcher)", got)
	}
	if _, err := p.conn.DomainCreate(ctx, p.dom, 0); err != nil {
		t.Fatal(err)
	}
	if got := p.memory(); got != "512" {
		t.Errorf("memory %s MiB after the start, want the pending 512", got)
	}
	if st, _ := p.state(p.dom); st != driver.StateRunning {
		t.Errorf("state %d, want running", st)
	}
	if p.pendingStored() || p.updated(t) {
		t.Error("still pending after the start applied it")
	}
}

// TestSimPendingRollback: an application that fails half-way leaves the
// old settings and the pending definition; the next start fails with the
// reason, and once VirtualBox cooperates the start applies it.
func TestSimPendingRollback(t *testing.T) {
	p := newPendingEnv(t)
	ctx := context.Background()
	if _, err := p.conn.DomainDefineXML(ctx, p.changed(t), 0); err != nil {
		t.Fatal(err)
	}
	// The plan's second step (the ISO) fails after its first (the memory)
	// ran: the memory must be set back.
	p.injectFaults(firstAfter("modifyvm", "storageattach", "error"))
	if err := p.conn.DomainDestroy(ctx, p.dom, 0); err != nil {
		t.Fatalf("destroy: %v (a failed pending definition is not the destroy's failure)", err)
	}
	p.injectFaults(nil)
	if got := p.memory(); got != "256" {
		t.Errorf("memory %s MiB after the failed application, want the old 256", got)
	}
	if strings.Contains(p.vbm("showvminfo", p.u, "--machinereadable"), p.iso) {
		t.Error("the ISO stayed in the drive after the failed application")
	}
	if !p.pendingStored() {
		t.Fatal("the failed pending definition was dropped")
	}
	p.injectFaults(nth("modifyvm", 1, "error"))
	_, err := p.conn.DomainCreate(ctx, p.dom, 0)
	wantClass(t, err, errdefs.ErrInternal, "the pending definition of domain 'dev' could not be applied")
	if st, _ := p.state(p.dom); st != driver.StateShutoff {
		t.Errorf("state %d after the refused start, want shut off", st)
	}
	p.injectFaults(nil)
	// A device change of the powered-off machine is made to its pending
	// definition, applied first.
	if err := p.conn.DomainDetachDevice(ctx, p.dom, "<interface type='user'><mac address='08:00:27:00:00:01'/></interface>", affectConfig); err != nil {
		t.Fatal(err)
	}
	if got := p.memory(); got != "512" || p.pendingStored() {
		t.Errorf("memory %s MiB after a device change, want the pending 512 applied first", got)
	}
	if _, err := p.conn.DomainCreate(ctx, p.dom, 0); err != nil {
		t.Fatal(err)
	}
	info := p.vbm("showvminfo", p.u, "--machinereadable")
	if !strings.Contains(info, "memory=512") || !strings.Contains(info, `nic1="none"`) || !strings.Contains(info, p.iso) {
		t.Errorf("after the start, want the pending definition and the device change:\n%s", info)
	}
}

// TestSimPendingDevices: attach-device/detach-device --config on a running
// machine change its pending definition only; undefine drops it with the
// machine.
func TestSimPendingDevices(t *testing.T) {
	p := newPendingEnv(t)
	ctx := context.Background()
	p.commandsSince()
	folder := t.TempDir()
	fs := "<filesystem type='mount'><source dir='" + folder + "'/><target dir='share'/></filesystem>"
	if err := p.conn.DomainAttachDevice(ctx, p.dom, fs, affectConfig); err != nil {
		t.Fatal(err)
	}
	if err := p.conn.DomainDetachDevice(ctx, p.dom, "<interface type='user'><mac address='08:00:27:00:00:01'/></interface>", affectConfig); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range p.commandsSince() {
		for _, w := range changingCommands {
			if strings.HasPrefix(cmd, w+" ") && !strings.HasPrefix(cmd, "setextradata "+p.u+" "+pendingKey) {
				t.Errorf("--config on a running machine ran %q", cmd)
			}
		}
	}
	// --live --config: a transient folder now, a permanent one pending.
	both := "<filesystem type='mount'><source dir='" + folder + "'/><target dir='both'/></filesystem>"
	if err := p.conn.DomainAttachDevice(ctx, p.dom, both, affectLive|affectConfig); err != nil {
		t.Fatal(err)
	}
	if info := p.vbm("showvminfo", p.u, "--machinereadable"); !strings.Contains(info, `SharedFolderNameTransientMapping1="both"`) {
		t.Errorf("no transient folder after attach --live --config:\n%s", info)
	}
	inactive, _ := p.conn.DomainGetXMLDesc(ctx, p.dom, xmlInactive)
	live, _ := p.conn.DomainGetXMLDesc(ctx, p.dom, 0)
	if !strings.Contains(inactive, "<target dir='both'/>") {
		t.Errorf("the pending definition lacks the --live --config folder:\n%s", inactive)
	}
	if !strings.Contains(inactive, "<target dir='share'") || strings.Contains(inactive, "08:00:27:00:00:01") {
		t.Errorf("inactive XML lacks the --config changes:\n%s", inactive)
	}
	if strings.Contains(live, "share") || !strings.Contains(live, "08:00:27:00:00:01") {
		t.Errorf("live XML shows the --config changes:\n%s", live)
	}
	if !p.updated(t) {
		t.Error("not updated after --config changes")
	}
	if err := p.conn.DomainDestroy(ctx, p.dom, 0); err != nil {
		t.Fatal(err)
	}
	info := p.vbm("showvminfo", p.u, "--machinereadable")
	if !strings.Contains(info, `SharedFolderNameMachineMapping1="share"`) || !strings.Contains(info, `SharedFolderNameMachineMapping2="both"`) ||
		!strings.Contains(info, `nic1="none"`) {
		t.Errorf("the --config changes were not applied at power-off:\n%s", info)
	}
	// Pending again, then undefine: the machine goes with it.
	if _, err := p.conn.DomainCreate(ctx, p.dom, 0); err != nil {
		t.Fatal(err)
	}
	if err := p.conn.DomainDetachDevice(ctx, p.dom, fs, affectConfig); err != nil {
		t.Fatal(err)
	}
	p.vbm("controlvm", p.u, "savestate")
	p.drv.inv.Invalidate()
	if !p.pendingStored() {
		t.Fatal("a saved machine lost its pending definition")
	}
	if err := p.conn.DomainUndefine(ctx, p.dom, undefineManagedSave); err != nil {
		t.Fatal(err)
	}
	if _, err := p.conn.LookupByName(ctx, "dev"); err == nil {
		t.Error("dev still defined")
	}
	if p.drv.pend.armed(p.u) {
		t.Error("the undefined machine's pending definition is still armed")
	}
}
