package domxml

import (
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// PlanOptions tunes the VBoxManage command lines a plan uses.
type PlanOptions struct {
	// Version is the VirtualBox version ("6.1", "7.0.14", "7.1.4r165100");
	// only major.minor matters. 7.x gets the option spellings 7.0
	// introduced (--audio-enabled, --nic-type<N>...); "" means 6.1's.
	Version string
	// AudioDriver is the host audio driver 6.1 needs to enable sound
	// (`--audio <driver>`); "" means "pulse". 7.x keeps its own default.
	AudioDriver string
	// FileExists, when set, is asked about every disk source before any
	// step is planned, so a missing image fails the define with nothing
	// changed. Nil skips the check (VBoxManage then reports it).
	FileExists func(path string) bool
	// NewUUID makes the UUID of a new machine whose XML has none; nil uses
	// a random version 4 UUID.
	NewUUID func() string
	// Limits, when set, are the host's bounds (`list systemproperties`),
	// checked before any step is planned.
	Limits *Limits
	// IsNATNetwork, when set, tells whether a name is one of VirtualBox's
	// NAT networks: <interface type='network'> naming one attaches to it
	// instead of to a host-only adapter of that name. Nil knows none.
	IsNATNetwork func(name string) bool
}

// Limits are what VirtualBox accepts for a guest on this host. A zero field
// is not checked.
type Limits struct {
	MaxCPUs              uint // "Maximum guest CPU count"
	MinRAMMiB, MaxRAMMiB uint // "Minimum/Maximum guest RAM size"
}

// maxDescription bounds <description>: it travels as one argv element of
// `modifyvm --description`, and Linux refuses an argument over 128 KiB.
const maxDescription = 64 << 10

// check refuses settings this host's VirtualBox cannot take, so that a define
// fails before createvm instead of part-way through.
func (l *Limits) check(w *desired) error {
	if l == nil {
		return nil
	}
	if l.MaxCPUs > 0 && w.CPUs > l.MaxCPUs {
		return unsupported("%d vCPUs requested, but VirtualBox on this host allows at most %d", w.CPUs, l.MaxCPUs)
	}
	if l.MinRAMMiB > 0 && w.MemoryMiB < l.MinRAMMiB {
		return unsupported("memory %d MiB is below VirtualBox's minimum guest RAM size of %d MiB", w.MemoryMiB, l.MinRAMMiB)
	}
	if l.MaxRAMMiB > 0 && w.MemoryMiB > l.MaxRAMMiB {
		return unsupported("memory %d MiB is above VirtualBox's maximum guest RAM size of %d MiB", w.MemoryMiB, l.MaxRAMMiB)
	}
	return nil
}

// Step is one VBoxManage invocation: Args are its arguments (without the
// program name), each one argv element.
type Step struct {
	Args []string
}

// String returns the step as a readable command line (for logs).
func (s Step) String() string {
	q := make([]string, len(s.Args))
	for i, a := range s.Args {
		if a == "" || strings.ContainsAny(a, " \t\"'\\") {
			a = strconv.Quote(a)
		}
		q[i] = a
	}
	return "VBoxManage " + strings.Join(q, " ")
}

// Plan is what defining a domain takes. Steps run in order and stop at the
// first failure; every step after createvm names the machine by UUID.
type Plan struct {
	// Create reports that the first step creates and registers the machine.
	Create bool
	// UUID and Name are the machine's after the plan has run.
	UUID, Name string
	// Steps are the VBoxManage invocations, in order.
	Steps []Step
	// Rollback undoes a failed creation: it removes the controllers the
	// plan added (which detaches, but never deletes, the caller's images)
	// and then unregisters and deletes the new machine's own files. Run
	// every step, ignoring failures, only when Create is true and a step
	// failed. Updates have no rollback: VBoxManage applies each step
	// atomically and the plan lists the cheapest order.
	Rollback []Step
	// Notes say what of the document was ignored or taken as its nearest
	// VirtualBox equivalent (see Policy); the caller logs them at info
	// level.
	Notes []string
}

// Empty reports whether the plan changes nothing.
func (p *Plan) Empty() bool { return len(p.Steps) == 0 }

// PlanDefine returns the steps that make a machine match dom: a new
// machine when existing is nil, otherwise an in-place update of existing
// that touches only what differs (an unchanged document gives an empty
// plan). All of dom is validated before any step is planned; errors are
// classed as ParseDomain's are. An existing machine whose UUID differs from
// dom's is errdefs.ErrOperationFailed.
func PlanDefine(dom *libvirtxml.Domain, existing *Info, opts PlanOptions) (*Plan, error) {
	if dom == nil {
		return nil, errdefs.New(errdefs.ErrXML, "no domain")
	}
	notes, err := checkStruct(dom)
	if err != nil {
		return nil, err
	}
	w, err := fromDomain(dom)
	if err != nil {
		return nil, err
	}
	notes = append(notes, w.Notes...)
	v7, err := parseVersion(opts.Version)
	if err != nil {
		return nil, err
	}
	if len(w.Description) > maxDescription {
		return nil, unsupported("description of %d bytes is longer than the %d bytes VirtualBox can be given", len(w.Description), maxDescription)
	}
	if len(w.Metadata)+len(w.Title) > maxDescription {
		return nil, unsupported("metadata and title of %d bytes are longer than the %d bytes extradata can be given", len(w.Metadata)+len(w.Title), maxDescription)
	}
	if err := opts.Limits.check(w); err != nil {
		return nil, err
	}
	if opts.FileExists != nil {
		for _, d := range w.WantDisks {
			if d.Source != "" && !opts.FileExists(d.Source) {
				return nil, errdefs.Newf(errdefs.ErrOperationFailed, "cannot access storage file '%s' (disk '%s'): no such file", d.Source, d.Target)
			}
		}
	}
	if !v7 {
		for _, c := range w.Ctls {
			if c.Model == "virtio-scsi" {
				return nil, unsupported("virtio-scsi controllers need VirtualBox 7.0 or later: 6.1 cannot report them back")
			}
		}
	}
	p := &Plan{Name: w.Name, Notes: notes}
	var cur *vmConfig
	fresh := existing == nil
	if fresh {
		p.Create = true
		p.UUID = w.UUID
		if p.UUID == "" {
			p.UUID = newUUID(opts)
		}
		ostype := "Other"
		switch w.Arch {
		case "x86_64":
			ostype = "Other_64"
		case "aarch64":
			return nil, unsupported("creating aarch64 machines is not supported")
		}
		p.Steps = append(p.Steps, Step{[]string{"createvm", "--name", w.Name, "--uuid", p.UUID, "--ostype", ostype, "--register"}})
		cur = &vmConfig{Name: w.Name, UUID: p.UUID, NICSlots: 8, Unmanaged: map[int]bool{}, Arch: w.Arch}
	} else {
		if cur, err = fromInfo(existing); err != nil {
			return nil, err
		}
		cu, _ := normUUID(cur.UUID)
		if w.UUID != "" && w.UUID != cu {
			return nil, errdefs.Newf(errdefs.ErrOperationFailed, "domain '%s' already exists with uuid %s", cur.Name, cur.UUID)
		}
		if w.ArchSet && w.Arch != cur.Arch {
			return nil, unsupported("changing the architecture of an existing machine (%s to %s) is not supported", cur.Arch, w.Arch)
		}
		p.UUID = cur.UUID
	}
	pl := &planner{p: p, cur: cur, w: w, fresh: fresh, v7: v7, audioDriver: opts.AudioDriver, isNATNetwork: opts.IsNATNetwork}
	if err := pl.run(); err != nil {
		return nil, err
	}
	return p, nil
}

// parseVersion reports whether version is 7.x or later.
func parseVersion(v string) (bool, error) {
	if v == "" {
		return false, nil
	}
	maj, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(maj)
	if err != nil || n < 1 {
		return false, errdefs.Newf(errdefs.ErrInternal, "unrecognised VirtualBox version '%s'", v)
	}
	return n >= 7, nil
}

func newUUID(opts PlanOptions) string {
	if opts.NewUUID != nil {
		return opts.NewUUID()
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand.Read never fails on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// planner diffs the current and the wanted configuration.
type planner struct {
	p            *Plan
	cur          *vmConfig
	w            *desired
	fresh        bool
	v7           bool
	audioDriver  string
	isNATNetwork func(string) bool

	mv       []string // modifyvm options
	storage  []Step
	attaches []Step
	tail     []Step
}

func (pl *planner) opt(args ...string) { pl.mv = append(pl.mv, args...) }

// name returns the option spelling for this VirtualBox version.
func (pl *planner) name(old, new string) string {
	if pl.v7 && new != "" {
		return new
	}
	return old
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func (pl *planner) run() error {
	c, w := pl.cur, pl.w
	u := pl.p.UUID
	if !pl.fresh && w.Name != c.Name {
		pl.opt("--name", w.Name)
	}
	if (pl.fresh && w.Description != "") || (!pl.fresh && w.Description != c.Description) {
		pl.opt("--description", w.Description)
	}
	if pl.fresh || w.MemoryMiB != c.MemoryMiB {
		pl.opt("--memory", strconv.FormatUint(uint64(w.MemoryMiB), 10))
	}
	if (pl.fresh && w.BalloonMiB > 0) || (!pl.fresh && w.BalloonMiB != c.BalloonMiB) {
		pl.opt(pl.name("--guestmemoryballoon", "--guest-memory-balloon"), strconv.FormatUint(uint64(w.BalloonMiB), 10))
	}
	if pl.fresh || w.CPUs != c.CPUs {
		pl.opt("--cpus", strconv.FormatUint(uint64(w.CPUs), 10))
	}
	if (pl.fresh && w.Firmware != "bios") || (!pl.fresh && w.Firmware != c.Firmware) {
		pl.opt("--firmware", w.Firmware)
	}
	for _, f := range []struct {
		opt       string
		want, cur bool
	}{{"--pae", w.PAE, c.PAE}, {"--acpi", w.ACPI, c.ACPI}, {"--ioapic", w.IOAPIC, c.IOAPIC}, {"--rtcuseutc", w.RTCUTC, c.RTCUTC}} {
		if pl.fresh || f.want != f.cur {
			pl.opt(f.opt, onOff(f.want))
		}
	}
	if !w.Keep.OnCrash && (w.TripleFaultReset != c.TripleFaultReset || (pl.fresh && w.TripleFaultReset)) {
		pl.opt("--triplefaultreset", onOff(w.TripleFaultReset))
	}
	for _, h := range []struct{ opt, want, cur string }{
		{"--mouse", w.Pointing, c.Pointing}, {"--keyboard", w.Keyboard, c.Keyboard},
	} {
		if h.want == "" || h.want == h.cur {
			continue
		}
		arg, ok := hidArg[h.want]
		if !ok {
			return unsupported("VBoxManage cannot select the %s input combination; choose one %s input", h.want, strings.TrimPrefix(h.opt, "--"))
		}
		pl.opt(h.opt, arg)
	}
	pl.boot()
	pl.video()
	pl.audio()
	pl.vrde()
	pl.frontend()
	pl.usb()
	if err := pl.nics(); err != nil {
		return err
	}
	pl.ports()
	if err := pl.storagePlan(); err != nil {
		return err
	}
	pl.extradata(extraTitle, w.Title, c.Title)
	pl.extradata(extraMetadata, w.Metadata, c.Metadata)
	pl.folders()
	pl.filters()

	if len(pl.mv) > 0 {
		pl.p.Steps = append(pl.p.Steps, Step{append([]string{"modifyvm", u}, pl.mv...)})
	}
	pl.p.Steps = append(pl.p.Steps, pl.storage...)
	pl.p.Steps = append(pl.p.Steps, pl.attaches...)
	pl.p.Steps = append(pl.p.Steps, pl.tail...)
	if pl.fresh {
		pl.p.Rollback = append(pl.p.Rollback, Step{[]string{"unregistervm", u, "--delete"}})
	}
	return nil
}

// extradata sets (or, with want "", deletes) one extradata key that differs.
func (pl *planner) extradata(key, want, cur string) {
	if want == cur {
		return
	}
	args := []string{"setextradata", pl.p.UUID, key}
	if want != "" {
		args = append(args, want)
	}
	pl.tail = append(pl.tail, Step{args})
}

func (pl *planner) boot() {
	w, c := pl.w, pl.cur
	want := w.Boot
	if !w.BootSet {
		if !pl.fresh {
			return
		}
		want = []string{"disk"} // libvirt's default <boot dev='hd'/>
	}
	if !pl.fresh && strings.Join(want, ",") == strings.Join(c.Boot, ",") {
		return
	}
	for i := 0; i < 4; i++ {
		v := "none"
		if i < len(want) {
			v = want[i]
		}
		pl.opt(fmt.Sprintf("--boot%d", i+1), v)
	}
}

func (pl *planner) video() {
	w, c := pl.w, pl.cur
	if !w.HasVideo {
		return
	}
	wv, cv := w.Video, c.Video
	// "vbox" stands for VirtualBox's own adapters and for any adapter
	// without a libvirt name (ToDomain shows those as vbox too).
	same := wv.Controller == cv.Controller ||
		(wv.Controller == "vboxvga" && cv.Controller != "vmsvga" && cv.Controller != "none")
	if pl.fresh || !same {
		pl.opt("--graphicscontroller", wv.Controller)
	}
	if wv.Controller == "none" {
		return
	}
	if !w.Keep.VRAM && (pl.fresh || wv.VRAMMiB != cv.VRAMMiB) {
		pl.opt("--vram", strconv.FormatUint(uint64(wv.VRAMMiB), 10))
	}
	if !w.Keep.Monitors && (pl.fresh || wv.Monitors != cv.Monitors) {
		pl.opt("--monitorcount", strconv.FormatUint(uint64(wv.Monitors), 10))
	}
	if pl.fresh || wv.Accel3D != cv.Accel3D {
		pl.opt("--accelerate3d", onOff(wv.Accel3D))
	}
	if (pl.fresh && wv.Accel2D) || (!pl.fresh && wv.Accel2D != cv.Accel2D) {
		pl.opt("--accelerate2dvideo", onOff(wv.Accel2D))
	}
}

func (pl *planner) audio() {
	w, c := pl.w.Audio, pl.cur.Audio
	if !w.Enabled {
		if pl.fresh || c.Enabled {
			if pl.v7 {
				pl.opt("--audio-enabled", "off")
			} else {
				pl.opt("--audio", "none")
			}
		}
		return
	}
	if pl.fresh || !c.Enabled {
		if pl.v7 {
			pl.opt("--audio-enabled", "on")
		} else {
			drv := pl.audioDriver
			if drv == "" {
				drv = "pulse"
			}
			pl.opt("--audio", drv)
		}
	}
	// ToDomain shows an unknown controller as ac97: asking for ac97 then
	// changes nothing.
	change := pl.fresh || !c.Enabled || (c.Controller != "" && c.Controller != w.Controller) ||
		(c.Controller == "" && w.Controller != "ac97")
	if change {
		pl.opt(pl.name("--audiocontroller", "--audio-controller"), w.Controller)
	}
}

func (pl *planner) vrde() {
	w, c := pl.w.VRDE, pl.cur.VRDE
	if !w.Enabled {
		if !pl.fresh && c.Enabled {
			pl.opt("--vrde", "off")
		}
		return
	}
	all := pl.fresh || !c.Enabled
	if all {
		pl.opt("--vrde", "on")
	}
	_, curSingle := singlePort(c.Ports)
	if w.Ports == "" {
		if all || curSingle {
			pl.opt(pl.name("--vrdeport", "--vrde-port"), "3389-3689")
		}
	} else if all || w.Ports != strings.TrimSpace(c.Ports) {
		pl.opt(pl.name("--vrdeport", "--vrde-port"), w.Ports)
	}
	if (all && w.Address != "") || (!all && w.Address != c.Address) {
		pl.opt("--vrdeaddress", w.Address)
	}
	if all || w.Multi != c.Multi {
		pl.opt("--vrdemulticon", onOff(w.Multi))
	}
	if all || w.Reuse != c.Reuse {
		pl.opt("--vrdereusecon", onOff(w.Reuse))
	}
}

func (pl *planner) frontend() {
	w, c := pl.w, pl.cur
	u := pl.p.UUID
	same := w.Frontend == c.Frontend ||
		(w.Frontend == "gui" && c.Frontend == "separate") ||
		(w.Frontend == "" && c.Frontend != "gui" && c.Frontend != "separate" && c.Frontend != "sdl")
	if !same || (pl.fresh && w.Frontend != "") {
		v := w.Frontend
		if v == "" {
			v = "default"
		}
		pl.opt("--defaultfrontend", v)
	}
	if !same || (pl.fresh && (w.Frontend != "" || w.VRDE.Enabled)) {
		// libvirt's own driver reads FRONTEND/Type; keep it in step.
		args := []string{"setextradata", u, "FRONTEND/Type"}
		switch {
		case w.Frontend != "":
			args = append(args, w.Frontend)
		case w.VRDE.Enabled:
			args = append(args, "vrdp")
		}
		if len(args) == 4 || !pl.fresh {
			pl.tail = append(pl.tail, Step{args})
		}
	}
	if w.Display != "" && (!c.DisplayOK || c.Display != w.Display) {
		pl.tail = append(pl.tail, Step{[]string{"setextradata", u, "FRONTEND/Display", w.Display}})
	} else if w.Display == "" && c.DisplayOK && c.Display != "" {
		pl.tail = append(pl.tail, Step{[]string{"setextradata", u, "FRONTEND/Display"}})
	}
}

func (pl *planner) usb() {
	w, c := pl.w, pl.cur
	if !w.HasUSB {
		// libvirt gives a document with USB devices and no USB
		// <controller> an implicit one: so does a machine without any.
		usbDevices := len(w.Filters) > 0 || strings.HasPrefix(w.Pointing, "usb") || w.Keyboard == "usbkbd"
		if usbDevices && !c.USB.OHCI && !c.USB.EHCI && !c.USB.XHCI {
			pl.opt(pl.name("--usb", "--usb-ohci"), "on")
		}
		return
	}
	for _, x := range []struct {
		old, new  string
		want, cur bool
	}{
		{"--usb", "--usb-ohci", w.USB.OHCI, c.USB.OHCI},
		{"--usbehci", "", w.USB.EHCI, c.USB.EHCI},
		{"--usbxhci", "", w.USB.XHCI, c.USB.XHCI},
	} {
		if (pl.fresh && x.want) || (!pl.fresh && x.want != x.cur) {
			pl.opt(pl.name(x.old, x.new), onOff(x.want))
		}
	}
}

func (pl *planner) nics() error {
	w, c := pl.w, pl.cur
	max := c.NICSlots
	bySlot := map[int]nic{}
	for _, n := range w.NICs {
		if n.Slot == 0 {
			continue
		}
		if n.Slot > max {
			return unsupported("interface ua-nic%d: the machine has %d network adapters", n.Slot, max)
		}
		bySlot[n.Slot] = n
	}
	next := 1
	for _, n := range w.NICs {
		if n.Slot != 0 {
			continue
		}
		for next <= max && (c.Unmanaged[next] || hasSlot(bySlot, next)) {
			next++
		}
		if next > max {
			return unsupported("no free network adapter for interface %d (the machine has %d)", len(bySlot)+1, max)
		}
		n.Slot = next
		bySlot[next] = n
	}
	curBy := map[int]nic{}
	for _, n := range c.NICs {
		curBy[n.Slot] = n
	}
	for s := 1; s <= max; s++ {
		n := strconv.Itoa(s)
		want, wok := bySlot[s]
		cn, cok := curBy[s]
		if !wok {
			if cok || (pl.fresh && s == 1) {
				pl.opt("--nic"+n, "none")
			}
			continue
		}
		switch want.Attach {
		case "network":
			want.Attach = pl.resolveNetwork(want.Source, cn, cok && !pl.fresh)
		case "ethernet":
			if !cok || pl.fresh || (cn.Attach != "generic" && cn.Attach != "cloudnetwork") {
				return unsupported("interface ua-nic%d: type 'ethernet' only stands for an existing generic or cloud adapter, and adapter %d is not one", s, s)
			}
			want.Attach, want.Source = cn.Attach, cn.Source
		}
		newSlot := !cok || pl.fresh
		if newSlot || want.Attach != cn.Attach {
			pl.opt("--nic"+n, want.Attach)
		}
		if k, ok := nicSourceKey[want.Attach]; ok && (newSlot || want.Attach != cn.Attach || want.Source != cn.Source) {
			pl.opt(pl.nicOpt(k)+n, want.Source)
		}
		model := want.Model
		if model == "" && newSlot {
			model = "Am79C973" // libvirt's default adapter type
		}
		if model != "" && (newSlot || model != cn.Model) {
			pl.opt(pl.name("--nictype", "--nic-type")+n, model)
		}
		if want.MAC != "" && (newSlot || want.MAC != cn.MAC) {
			pl.opt(pl.name("--macaddress", "--mac-address")+n, want.MAC)
		}
		if newSlot || want.Cable != cn.Cable {
			pl.opt(pl.name("--cableconnected", "--cable-connected")+n, onOff(want.Cable))
		}
	}
	return nil
}

func hasSlot(m map[int]nic, s int) bool { _, ok := m[s]; return ok }

// resolveNetwork decides what <interface type='network'> names: the
// adapter's current host-only interface or NAT network of that name, else
// a NAT network (IsNATNetwork), else libvirt's "default" network, which is
// NAT (VirtualBox's NAT is the nearest: the guest reaches out through the
// host), else a host-only adapter, as libvirt's vbox driver does.
func (pl *planner) resolveNetwork(name string, cur nic, have bool) string {
	if have && (cur.Attach == "hostonly" || cur.Attach == "natnetwork") && cur.Source == name {
		return cur.Attach
	}
	switch {
	case pl.isNATNetwork != nil && pl.isNATNetwork(name):
		return "natnetwork"
	case name == "default":
		pl.p.Notes = append(pl.p.Notes, "interface on libvirt's network 'default' taken as VirtualBox NAT")
		return "nat"
	}
	return "hostonly"
}

// nicOpt is the modifyvm option (without slot number) setting a source.
func (pl *planner) nicOpt(key string) string {
	switch key {
	case "bridgeadapter":
		return pl.name("--bridgeadapter", "--bridge-adapter")
	case "hostonlyadapter":
		return pl.name("--hostonlyadapter", "--host-only-adapter")
	}
	return "--" + key
}

func (pl *planner) ports() {
	w, c := pl.w, pl.cur
	for s := 1; s <= 4; s++ {
		n := strconv.Itoa(s)
		want, wok := portInSlot(w.Serials, s)
		cs, cok := portInSlot(c.Serials, s)
		if !wok {
			if cok {
				pl.opt("--uart"+n, "off")
			}
			continue
		}
		if c.UnmanagedPorts["uart"+n] {
			cok = false // replaced by the document's port
		}
		if !cok || pl.fresh || want.IOBase != cs.IOBase || want.IRQ != cs.IRQ {
			pl.opt("--uart"+n, fmt.Sprintf("%#x", want.IOBase), strconv.FormatUint(uint64(want.IRQ), 10))
		}
		if !cok || pl.fresh || want.Mode != cs.Mode || want.Path != cs.Path {
			pl.opt("--uartmode" + n)
			switch want.Mode {
			case "disconnected":
				pl.opt("disconnected")
			case "device":
				pl.opt(want.Path)
			default:
				pl.opt(want.Mode, want.Path)
			}
		}
	}
	for s := 1; s <= 2; s++ {
		n := strconv.Itoa(s)
		want, wok := portInSlot(w.Parallels, s)
		cp, cok := portInSlot(c.Parallels, s)
		switch {
		case !wok && cok:
			pl.opt("--lpt"+n, "off")
		case wok:
			if !cok || pl.fresh || want.IOBase != cp.IOBase || want.IRQ != cp.IRQ {
				pl.opt("--lpt"+n, fmt.Sprintf("%#x", want.IOBase), strconv.FormatUint(uint64(want.IRQ), 10))
			}
			if !cok || pl.fresh || want.Path != cp.Path {
				pl.opt("--lptmode"+n, want.Path)
			}
		}
	}
}

// portInSlot finds the serial or parallel port of list in slot.
func portInSlot[P interface{ isa() isaPort }](list []P, slot int) (P, bool) {
	for _, p := range list {
		if p.isa().Slot == slot {
			return p, true
		}
	}
	var none P
	return none, false
}

// storagePlan matches wanted controllers to existing ones (k-th controller
// of a libvirt type is index k), then diffs attachments slot by slot.
func (pl *planner) storagePlan() error {
	c, w := pl.cur, pl.w
	u := pl.p.UUID
	byType := map[string][]controller{}
	names := map[string]bool{}
	for _, ctl := range c.Controllers {
		names[ctl.Name] = true
		if ctl.Managed {
			k, _ := kindByVBoxType(ctl.VBoxType)
			byType[k.LvType] = append(byType[k.LvType], ctl)
		}
	}
	type target struct {
		name     string
		kind     storageKind
		existing *controller // nil: created by the plan
		recreate bool
	}
	targets := map[string]*target{} // wantCtl key → controller to use
	kept := map[string]bool{}       // existing controller names kept
	var removes, adds, changes []Step
	var recreated []string // existing controllers removed to be added again
	// Ports needed per wanted controller.
	needPorts := map[string]uint{}
	for _, d := range w.WantDisks {
		if d.Port+1 > needPorts[d.Ctl] {
			needPorts[d.Ctl] = d.Port + 1
		}
	}
	for _, wc := range w.Ctls {
		list := byType[wc.LvType]
		t := &target{}
		if int(wc.Index) < len(list) {
			ex := list[wc.Index]
			exKind, _ := kindByVBoxType(ex.VBoxType)
			t.name, t.existing, t.kind = ex.Name, &ex, exKind
			kept[ex.Name] = true
			if wc.Model != "" {
				want, _ := kindByLibvirt(wc.LvType, wc.Model)
				if want.AddBus != exKind.AddBus {
					// Another bus: remove the controller (which detaches
					// its media) and add one of the new type. A default
					// name follows the type ("SAS Controller" becomes
					// "SCSI Controller").
					t.recreate, t.kind = true, want
					removes = append(removes, Step{[]string{"storagectl", u, "--name", ex.Name, "--remove"}})
					recreated = append(recreated, ex.Name)
					if ex.Name == exKind.DefName {
						delete(names, ex.Name)
						t.name = uniqueName(want.DefName, names)
						names[t.name] = true
					}
				} else if want.VBoxType != exKind.VBoxType {
					t.kind = want
					changes = append(changes, Step{[]string{"storagectl", u, "--name", ex.Name, "--controller", want.controllerArg()}})
				}
			}
		} else {
			t.kind, _ = kindByLibvirt(wc.LvType, wc.Model)
			t.name = uniqueName(t.kind.DefName, names)
			names[t.name] = true
		}
		if t.existing == nil || t.recreate {
			args := []string{"storagectl", u, "--name", t.name, "--add", t.kind.AddBus, "--controller", t.kind.controllerArg()}
			if t.kind.MaxPorts > 2 {
				pc := needPorts[wc.key()]
				if pc == 0 {
					pc = 1
				}
				args = append(args, "--portcount", strconv.FormatUint(uint64(pc), 10))
			}
			adds = append(adds, Step{args})
			if pl.fresh {
				pl.p.Rollback = append(pl.p.Rollback, Step{[]string{"storagectl", u, "--name", t.name, "--remove"}})
			}
		} else if t.kind.MaxPorts > 2 && t.existing.PortCount > 0 && needPorts[wc.key()] > t.existing.PortCount {
			changes = append(changes, Step{[]string{"storagectl", u, "--name", t.name, "--portcount", strconv.FormatUint(uint64(needPorts[wc.key()]), 10)}})
		}
		targets[wc.key()] = t
	}
	var removed []string
	for _, ctl := range c.Controllers {
		if ctl.Managed && !kept[ctl.Name] {
			removed = append(removed, ctl.Name)
			removes = append(removes, Step{[]string{"storagectl", u, "--name", ctl.Name, "--remove"}})
		}
	}

	// Attachments.
	type slotKey struct {
		ctl       string
		port, dev uint
	}
	curDisks := map[slotKey]disk{}
	gone := map[string]bool{}
	for _, n := range removed {
		gone[n] = true
	}
	for _, n := range recreated {
		gone[n] = true
	}
	for _, d := range c.Disks {
		if !gone[d.Controller] {
			curDisks[slotKey{d.Controller, d.Port, d.Device}] = d
		}
	}
	var detaches []Step
	wanted := map[slotKey]bool{}
	for _, d := range w.WantDisks {
		t := targets[d.Ctl]
		k := slotKey{t.name, d.Port, d.Device}
		wanted[k] = true
		cd, present := curDisks[k]
		if present && cd.Kind == d.Kind && cd.Source == d.Source {
			continue
		}
		if present && (cd.Kind != d.Kind || d.Kind == "disk") {
			detaches = append(detaches, detachStep(u, k.ctl, k.port, k.dev))
		}
		medium := d.Source
		if medium == "" {
			medium = "emptydrive"
		}
		pl.attaches = append(pl.attaches, Step{[]string{"storageattach", u, "--storagectl", t.name,
			"--port", strconv.FormatUint(uint64(d.Port), 10), "--device", strconv.FormatUint(uint64(d.Device), 10),
			"--type", map[string]string{"disk": "hdd", "cdrom": "dvddrive", "floppy": "fdd"}[d.Kind], "--medium", medium}})
	}
	for _, d := range c.Disks {
		k := slotKey{d.Controller, d.Port, d.Device}
		if _, ok := curDisks[k]; ok && !wanted[k] {
			detaches = append(detaches, detachStep(u, k.ctl, k.port, k.dev))
		}
	}
	pl.storage = append(pl.storage, detaches...)
	pl.storage = append(pl.storage, removes...)
	pl.storage = append(pl.storage, changes...)
	pl.storage = append(pl.storage, adds...)
	return nil
}

func detachStep(u, ctl string, port, dev uint) Step {
	return Step{[]string{"storageattach", u, "--storagectl", ctl, "--port", strconv.FormatUint(uint64(port), 10),
		"--device", strconv.FormatUint(uint64(dev), 10), "--medium", "none"}}
}

// uniqueName returns base, or base with " 1", " 2"... appended, whichever
// is not taken.
func uniqueName(base string, taken map[string]bool) string {
	if !taken[base] {
		return base
	}
	for i := 1; ; i++ {
		n := fmt.Sprintf("%s %d", base, i)
		if !taken[n] {
			return n
		}
	}
}

func (pl *planner) folders() {
	u := pl.p.UUID
	cur := map[string]folder{}
	for _, f := range pl.cur.Folders {
		cur[f.Name] = f
	}
	want := map[string]bool{}
	for _, f := range pl.w.Folders {
		want[f.Name] = true
	}
	for _, f := range pl.cur.Folders {
		if !want[f.Name] {
			pl.tail = append(pl.tail, Step{[]string{"sharedfolder", "remove", u, "--name", f.Name}})
		}
	}
	for _, f := range pl.w.Folders {
		cf, ok := cur[f.Name]
		same := ok && cf.Path == f.Path
		if pl.cur.FoldersRO {
			same = same && cf.ReadOnly == f.ReadOnly
		} else {
			// Machine-readable showvminfo does not print whether a
			// folder is read-only: unless the caller knows, a read-only
			// folder is re-created.
			same = same && !f.ReadOnly
		}
		if same {
			continue
		}
		if ok {
			pl.tail = append(pl.tail, Step{[]string{"sharedfolder", "remove", u, "--name", f.Name}})
		}
		args := []string{"sharedfolder", "add", u, "--name", f.Name, "--hostpath", f.Path}
		if f.ReadOnly {
			args = append(args, "--readonly")
		}
		pl.tail = append(pl.tail, Step{args})
	}
}

func (pl *planner) filters() {
	u := pl.p.UUID
	var active []usbFilter
	for _, f := range pl.cur.Filters {
		if f.representable() {
			active = append(active, f)
		}
	}
	same := len(active) == len(pl.w.Filters)
	for i := 0; same && i < len(active); i++ {
		same = active[i].Vendor == pl.w.Filters[i].Vendor && active[i].Product == pl.w.Filters[i].Product
	}
	if same {
		return
	}
	for i := len(active) - 1; i >= 0; i-- {
		pl.tail = append(pl.tail, Step{[]string{"usbfilter", "remove", strconv.Itoa(active[i].Index - 1), "--target", u}})
	}
	base := len(pl.cur.Filters) - len(active)
	for i, f := range pl.w.Filters {
		idx := strconv.Itoa(base + i)
		args := []string{"usbfilter", "add", idx, "--target", u, "--name", fmt.Sprintf("filter%04d", base+i), "--vendorid", f.Vendor}
		if f.Product != "" {
			args = append(args, "--productid", f.Product)
		}
		args = append(args, "--active", "yes")
		pl.tail = append(pl.tail, Step{args})
	}
}
