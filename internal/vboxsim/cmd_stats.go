package vboxsim

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// The monitoring commands: guestproperty, metrics and debugvm statistics.
// What a running guest does is derived from the simulated time since its
// start (deterministic: two calls at the same instant print the same), so
// counters grow and rates move while a VM runs. Sources of each format are
// listed in docs/simulator.md ("Monitoring").

// guestProp is one guest property (IMachine::EnumerateGuestProperties).
type guestProp struct {
	Value     string `json:"value"`
	Timestamp int64  `json:"timestamp"` // ns since the epoch
	Flags     string `json:"flags,omitempty"`
}

// propsFile holds the properties set with "guestproperty set", per VM UUID:
// a file of its own so that the VM files keep their shape.
const propsFile = "guestprops.json"

func (s *Sim) loadProps() map[string]map[string]guestProp {
	out := map[string]map[string]guestProp{}
	if b, err := os.ReadFile(filepath.Join(s.env.Home, propsFile)); err == nil {
		_ = json.Unmarshal(b, &out)
	}
	return out
}

func (s *Sim) saveProps(p map[string]map[string]guestProp) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(s.env.Home, propsFile), b, 0o644)
}

// uptime is how long vm has been running, as the simulated guest sees it.
func (s *Sim) uptime(vm *VM) time.Duration {
	if !isOnline(vm.State) {
		return 0
	}
	start := vm.StartedAt
	if start.IsZero() {
		start = vm.StateChange // a machine seeded online (vboxsim seed, set-state)
	}
	d := s.now().Sub(start)
	if d < 0 {
		return 0
	}
	return d
}

// hasGuestAdditions reports whether the simulated guest runs the Guest
// Additions (extradata vboxsim/GuestAdditions=<version string>) and is up.
func hasGuestAdditions(vm *VM) bool {
	return isOnline(vm.State) && vm.ExtraData["vboxsim/GuestAdditions"] != ""
}

// guestIPv4 is the address a simulated guest gets on NIC slot (1-based):
// VirtualBox's NAT engine hands out 10.0.<slot+1>.15; other attachments get
// a stable address of their own.
func guestIPv4(vm *VM, slot int, n NIC) (ip, mask, bcast string) {
	switch n.Attach {
	case "nat":
		return fmt.Sprintf("10.0.%d.15", slot+1), "255.255.255.0", fmt.Sprintf("10.0.%d.255", slot+1)
	case "hostonly":
		return fmt.Sprintf("192.168.56.%d", 100+int(hash8(vm.UUID))%100), "255.255.255.0", "192.168.56.255"
	}
	return fmt.Sprintf("10.%d.%d.%d", 100+slot, hash8(vm.UUID), 10+slot), "255.255.255.0", fmt.Sprintf("10.%d.%d.255", 100+slot, hash8(vm.UUID))
}

func hash8(s string) uint8 {
	var h uint8
	for i := 0; i < len(s); i++ {
		h = h*31 + s[i]
	}
	return h
}

// guestProps returns the VM's properties: those the Guest Additions publish
// while the guest runs (VBoxService's VMInfo names) and those set with
// "guestproperty set", which win.
func (s *Sim) guestProps(vm *VM) map[string]guestProp {
	out := map[string]guestProp{}
	if hasGuestAdditions(vm) {
		ts := vm.StartedAt.Add(2 * time.Second).UnixNano()
		put := func(k, v, flags string) { out[k] = guestProp{Value: v, Timestamp: ts, Flags: flags} }
		ga := vm.ExtraData["vboxsim/GuestAdditions"]
		ver, rev, _ := strings.Cut(ga, " r")
		put("/VirtualBox/GuestAdd/Version", ver, "")
		if rev != "" {
			put("/VirtualBox/GuestAdd/Revision", rev, "")
		}
		put("/VirtualBox/GuestInfo/OS/Product", "Linux", "")
		put("/VirtualBox/GuestInfo/OS/Release", "6.1.0-18-amd64", "")
		put("/VirtualBox/GuestInfo/OS/Version", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)", "")
		put("/VirtualBox/GuestInfo/OS/ServicePack", "", "")
		put("/VirtualBox/GuestInfo/OS/LoggedInUsers", "0", "TRANSIENT, TRANSRESET")
		put("/VirtualBox/GuestInfo/OS/NoLoggedInUsers", "true", "TRANSIENT, TRANSRESET")
		count := 0
		for i, n := range vm.HW.NICs {
			if n.Attach == "" || n.Attach == "none" || n.Attach == "null" {
				continue
			}
			ip, mask, bcast := guestIPv4(vm, i+1, n)
			p := fmt.Sprintf("/VirtualBox/GuestInfo/Net/%d", count)
			put(p+"/V4/IP", ip, "TRANSIENT, TRANSRESET")
			put(p+"/V4/Broadcast", bcast, "TRANSIENT, TRANSRESET")
			put(p+"/V4/Netmask", mask, "TRANSIENT, TRANSRESET")
			put(p+"/MAC", strings.ToUpper(n.MAC), "TRANSIENT, TRANSRESET")
			status := "Up"
			if !n.Cable {
				status = "Down"
			}
			put(p+"/Status", status, "TRANSIENT, TRANSRESET")
			put(p+"/Name", fmt.Sprintf("enp0s%d", 3+i), "TRANSIENT, TRANSRESET")
			count++
		}
		put("/VirtualBox/GuestInfo/Net/Count", fmt.Sprint(count), "TRANSIENT, TRANSRESET")
	}
	for k, v := range s.loadProps()[vm.UUID] {
		out[k] = v
	}
	return out
}

// simplePatternMatch is IPRT's RTStrSimplePatternMultiMatch: patterns
// separated by '|', '*' any run, '?' one character.
func simplePatternMatch(patterns, name string) bool {
	if patterns == "" {
		return true
	}
	for _, p := range strings.Split(patterns, "|") {
		if globAny(p, name) {
			return true
		}
	}
	return false
}

// globAny matches a simple pattern: '*' any run (across '/' too), '?' one
// character.
func globAny(p, s string) bool {
	if p == "" {
		return s == ""
	}
	switch p[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if globAny(p[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && globAny(p[1:], s[1:])
	}
	return s != "" && s[0] == p[0] && globAny(p[1:], s[1:])
}

func (s *Sim) cmdGuestProperty(args []string) int {
	sub, rest := args[0], args[1:]
	bad := func() int { return s.syntaxError("guestproperty", "Incorrect parameters", 2) }
	switch sub {
	case "get", "enumerate", "set", "delete", "unset":
	default:
		return bad()
	}
	if len(rest) == 0 {
		if sub == "enumerate" && !s.p.Is61() {
			return s.syntaxError("guestproperty", "No VM name or UUID was specified", 2)
		}
		return bad()
	}
	exclusive := sub == "set" || sub == "delete" || sub == "unset"
	if _, err := s.lockRegistry(exclusive); err != nil {
		return s.internalError(err)
	}
	vm, err := s.findVM(rest[0])
	if err != nil {
		return s.internalError(err)
	}
	if vm == nil {
		return s.notFound(rest[0], "FindMachine(Bstr(a->argv[0]).raw(), machine.asOutParam())", "VBoxManageGuestProp.cpp", 106)
	}
	switch sub {
	case "get":
		verbose := len(rest) == 3 && (rest[2] == "--verbose" || rest[2] == "-verbose")
		if len(rest) != 2 && !verbose {
			return bad()
		}
		p, ok := s.guestProps(vm)[rest[1]]
		if !ok || p.Value == "" {
			fmt.Fprintln(s.stdout, "No value set!")
			return 0
		}
		fmt.Fprintf(s.stdout, "Value: %s\n", p.Value)
		if verbose {
			fmt.Fprintf(s.stdout, "Timestamp: %d\nFlags: %s\n", p.Timestamp, p.Flags)
		}
		return 0
	case "set", "delete", "unset":
		var value, flags string
		del := sub != "set"
		switch {
		case del && len(rest) == 2:
		case !del && len(rest) == 2:
			del = true // set without a value deletes
		case !del && len(rest) == 3:
			value = rest[2]
		case !del && len(rest) == 5 && (rest[3] == "--flags" || rest[3] == "-flags"):
			value, flags = rest[2], rest[4]
		default:
			return bad()
		}
		all := s.loadProps()
		m := all[vm.UUID]
		if m == nil {
			m = map[string]guestProp{}
			all[vm.UUID] = m
		}
		if del {
			delete(m, rest[1])
		} else {
			m[rest[1]] = guestProp{Value: value, Timestamp: s.now().UnixNano(), Flags: flags}
		}
		if err := s.saveProps(all); err != nil {
			return s.internalError(err)
		}
		return 0
	}
	return s.enumerateProps(vm, rest[1:])
}

// enumerateProps prints "guestproperty enumerate": 6.1's one line per
// property in store order, 7.x's sorted table (or the old lines with
// --old-format).
func (s *Sim) enumerateProps(vm *VM, opts []string) int {
	var patterns []string
	oldFormat, stamps, flags := s.p.Is61(), true, true
	for i := 0; i < len(opts); i++ {
		o := opts[i]
		switch {
		case o == "--patterns" || o == "-patterns":
			if i+1 >= len(opts) {
				return s.syntaxError("guestproperty", "Incorrect parameters", 2)
			}
			patterns = append(patterns, opts[i+1:]...)
			i = len(opts)
		case s.p.Is61():
			return s.syntaxError("guestproperty", "Incorrect parameters", 2)
		case o == "--old-format":
			oldFormat = true
		case o == "--no-timestamp" || o == "--no-ts":
			stamps = false
		case o == "--no-flags":
			flags = false
		case o == "--timestamp" || o == "--ts" || o == "--abs" || o == "--absolute" || o == "--sort":
		case o == "--flags":
			flags = true
		case strings.HasPrefix(o, "-"):
			return s.syntaxError("guestproperty", fmt.Sprintf("Unknown option: %s", o), 2)
		default:
			patterns = append(patterns, o)
		}
	}
	props := s.guestProps(vm)
	var names []string
	for k := range props {
		if simplePatternMatch(strings.Join(patterns, "|"), k) {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		fmt.Fprintln(s.stdout, "No properties found.")
		return 0
	}
	if oldFormat {
		for _, k := range names {
			p := props[k]
			fmt.Fprintf(s.stdout, "Name: %s, value: %s, timestamp: %d, flags: %s\n", k, p.Value, p.Timestamp, p.Flags)
		}
		return 0
	}
	wName, wValue := 1, 1
	for _, k := range names {
		wName = max(wName, len(k))
		wValue = max(wValue, len(props[k].Value))
	}
	wName, wValue = min(wName, 48), min(wValue, 28)
	for _, k := range names {
		p := props[k]
		line := fmt.Sprintf("%-*s = '%s'", wName, k, p.Value)
		f := p.Flags
		if !flags {
			f = ""
		}
		if stamps || f != "" {
			pad := wName + wValue + 6 - len(line)
			if pad < 1 {
				pad = 1
			}
			line += strings.Repeat(" ", pad)
			if stamps {
				line += "@ " + time.Unix(0, p.Timestamp).UTC().Format("2006-01-02T15:04:05.000Z")
			}
			if f != "" {
				line += " " + f
			}
		}
		fmt.Fprintln(s.stdout, line)
	}
	return 0
}

// --- metrics ---

// metricsState is what "metrics setup" leaves in VBoxSVC: the period and,
// per VM, when its metrics were set up (a VM started later has none until
// the next setup, as the collector only configures existing objects).
type metricsState struct {
	Period  int                  `json:"period"`
	Samples int                  `json:"samples"`
	Host    time.Time            `json:"host"`
	VMs     map[string]time.Time `json:"vms"`
}

const metricsFile = "metrics.json"

func (s *Sim) loadMetrics() metricsState {
	var m metricsState
	if b, err := os.ReadFile(filepath.Join(s.env.Home, metricsFile)); err == nil {
		_ = json.Unmarshal(b, &m)
	}
	if m.VMs == nil {
		m.VMs = map[string]time.Time{}
	}
	return m
}

// metric is one base metric: name, unit, scale, and its value at uptime t
// (in units/scale).
type metric struct {
	name  string
	unit  string
	scale int
	val   func(vm *VM, t float64) int64
}

// wave is a deterministic load between lo and hi (per cent) with a period of
// about a minute.
func wave(lo, hi, t, phase float64) float64 {
	return lo + (hi-lo)*(0.5+0.5*math.Sin(t/9.5+phase))
}

// cpuShare is the fraction of one host CPU a guest's vCPUs use at uptime t.
func cpuShare(vm *VM, t float64) float64 {
	return wave(5, 35, t, float64(hash8(vm.UUID))) / 100
}

// cpuSeconds is the integral of cpuShare over [0, t]: the CPU time the
// guest's vCPUs have used, which only grows.
func cpuSeconds(vm *VM, t float64) float64 {
	ph := float64(hash8(vm.UUID))
	lo, hi := 0.05, 0.35
	return lo*t + (hi-lo)*(0.5*t-0.5*9.5*(math.Cos(t/9.5+ph)-math.Cos(ph)))
}

// guestRAMUsedKB is what the guest kernel uses: grows over the first minutes.
func guestRAMUsedKB(vm *VM, t float64) int64 {
	total := int64(vm.HW.Memory) * 1024
	used := total/5 + int64(t)*512
	if used > total*7/10 {
		used = total * 7 / 10
	}
	return used
}

var vmMetrics = []metric{
	{"CPU/Load/User", "%", 1000, func(vm *VM, t float64) int64 { return int64(cpuShare(vm, t) * 0.8 * 100000) }},
	{"CPU/Load/Kernel", "%", 1000, func(vm *VM, t float64) int64 { return int64(cpuShare(vm, t) * 0.2 * 100000) }},
	{"RAM/Usage/Used", "kB", 1, func(vm *VM, t float64) int64 { return guestRAMUsedKB(vm, t) + 65536 }},
	{"Disk/Usage/Used", "mB", 1, func(vm *VM, t float64) int64 { return 1800 + int64(t)/60 }},
	{"Net/Rate/Rx", "B/s", 1, func(vm *VM, t float64) int64 { return int64(wave(8000, 16000, t, 1)) }},
	{"Net/Rate/Tx", "B/s", 1, func(vm *VM, t float64) int64 { return int64(wave(2000, 4000, t, 2)) }},
}

// Guest/* metrics need the Guest Additions.
var guestMetrics = []metric{
	{"Guest/CPU/Load/User", "%", 1000, func(vm *VM, t float64) int64 { return int64(cpuShare(vm, t) * 0.7 * 100000) }},
	{"Guest/CPU/Load/Kernel", "%", 1000, func(vm *VM, t float64) int64 { return int64(cpuShare(vm, t) * 0.3 * 100000) }},
	{"Guest/CPU/Load/Idle", "%", 1000, func(vm *VM, t float64) int64 { return int64((1 - cpuShare(vm, t)) * 100000) }},
	{"Guest/RAM/Usage/Total", "kB", 1, func(vm *VM, t float64) int64 { return int64(vm.HW.Memory) * 1024 }},
	{"Guest/RAM/Usage/Free", "kB", 1, func(vm *VM, t float64) int64 {
		return int64(vm.HW.Memory)*1024 - guestRAMUsedKB(vm, t) - int64(vm.HW.Balloon)*1024
	}},
	{"Guest/RAM/Usage/Balloon", "kB", 1, func(vm *VM, t float64) int64 { return int64(vm.HW.Balloon) * 1024 }},
	{"Guest/RAM/Usage/Shared", "kB", 1, func(vm *VM, t float64) int64 { return 0 }},
	{"Guest/RAM/Usage/Cache", "kB", 1, func(vm *VM, t float64) int64 { return guestRAMUsedKB(vm, t) / 4 }},
	{"Guest/Pagefile/Usage/Total", "kB", 1, func(vm *VM, t float64) int64 { return 1048572 }},
}

var hostMetrics = []metric{
	{"CPU/Load/User", "%", 1000, func(*VM, float64) int64 { return 12000 }},
	{"CPU/Load/Kernel", "%", 1000, func(*VM, float64) int64 { return 3000 }},
	{"CPU/Load/Idle", "%", 1000, func(*VM, float64) int64 { return 85000 }},
	{"RAM/Usage/Total", "kB", 1, func(*VM, float64) int64 { return 16305704 }},
	{"RAM/Usage/Used", "kB", 1, func(*VM, float64) int64 { return 6201844 }},
	{"RAM/Usage/Free", "kB", 1, func(*VM, float64) int64 { return 10103860 }},
}

// metricMatches applies a metrics filter (comma-separated names, '*'
// patterns, a base name covering its sub-metrics and aggregates).
func metricMatches(filter, name string) bool {
	if filter == "" || filter == "*" {
		return true
	}
	for _, f := range strings.Split(filter, ",") {
		f = strings.TrimSpace(f)
		if globAny(f, name) || strings.HasPrefix(name, f+"/") || strings.HasPrefix(name, f+":") {
			return true
		}
	}
	return false
}

func formatMetric(v int64, scale int, unit string) string {
	if scale == 1 {
		return fmt.Sprintf("%d %s", v, unit)
	}
	return fmt.Sprintf("%d.%02d%s", v/int64(scale), (v*100/int64(scale))%100, unit)
}

func (s *Sim) cmdMetrics(args []string) int {
	sub, rest := args[0], args[1:]
	switch sub {
	case "setup":
		return s.metricsSetup(rest)
	case "query":
		return s.metricsQuery(rest)
	case "list", "enable", "disable", "collect":
		fmt.Fprintf(s.stderr, "VBoxManage: error: vboxsim: metrics %s is not simulated\n", sub)
		return 1
	}
	return s.syntaxError("metrics", fmt.Sprintf("Invalid subcommand '%s'", sub), 2)
}

// metricsObjects resolves the object argument ("*", "host" or a VM); nil
// VMs with host false means "all".
func (s *Sim) metricsObjects(reg *Registry, obj string) (vms []*VM, host bool, code int) {
	if obj == "" || obj == "*" {
		for _, e := range reg.VMs {
			if e.Inaccessible {
				continue
			}
			vm, err := s.loadVM(e.UUID)
			if err != nil {
				return nil, false, s.internalError(err)
			}
			vms = append(vms, vm)
		}
		return vms, true, -1
	}
	if obj == "host" {
		return nil, true, -1
	}
	vm, err := s.findVM(obj)
	if err != nil {
		return nil, false, s.internalError(err)
	}
	if vm == nil {
		fmt.Fprintf(s.stderr, "VBoxManage: error: Invalid machine name: '%s'\n", obj)
		return nil, false, 1
	}
	return []*VM{vm}, false, -1
}

func (s *Sim) metricsSetup(args []string) int {
	period, samples, list := 1, 1, false
	i := 0
	for ; i < len(args); i++ {
		switch args[i] {
		case "--period", "-period", "--samples", "-samples":
			if i+1 >= len(args) {
				fmt.Fprintf(s.stderr, "VBoxManage: error: Missing argument to '%s'\n", args[i])
				return 1
			}
			var n int
			if _, err := fmt.Sscan(args[i+1], &n); err != nil || n <= 0 {
				fmt.Fprintf(s.stderr, "VBoxManage: error: Invalid value for '%s' parameter: '%s'\n", strings.TrimLeft(args[i], "-"), args[i+1])
				return 1
			}
			if strings.Contains(args[i], "period") {
				period = n
			} else {
				samples = n
			}
			i++
			continue
		case "--list", "-list":
			list = true
			continue
		}
		break
	}
	reg, err := s.lockRegistry(true)
	if err != nil {
		return s.internalError(err)
	}
	obj := ""
	if i < len(args) {
		obj = args[i]
	}
	vms, host, code := s.metricsObjects(reg, obj)
	if code >= 0 {
		return code
	}
	st := s.loadMetrics()
	st.Period, st.Samples = period, samples
	now := s.now()
	if host {
		st.Host = now
	}
	var names []string
	for _, vm := range vms {
		if isOnline(vm.State) {
			st.VMs[vm.UUID] = now
			names = append(names, vm.Name)
		}
	}
	b, err := json.Marshal(st)
	if err == nil {
		err = os.WriteFile(filepath.Join(s.env.Home, metricsFile), b, 0o644)
	}
	if err != nil {
		return s.internalError(err)
	}
	if list {
		fmt.Fprint(s.stdout, "The following metrics were modified:\n\nObject     Metric\n---------- --------------------\n")
		if host {
			for _, m := range hostMetrics {
				fmt.Fprintf(s.stdout, "%-10s %-20s\n", "host", m.name)
			}
		}
		for _, n := range names {
			for _, m := range vmMetrics {
				fmt.Fprintf(s.stdout, "%-10s %-20s\n", n, m.name)
			}
		}
		fmt.Fprintln(s.stdout)
	}
	return 0
}

func (s *Sim) metricsQuery(args []string) int {
	reg, err := s.lockRegistry(false)
	if err != nil {
		return s.internalError(err)
	}
	obj, filter := "", ""
	if len(args) > 0 {
		obj = args[0]
	}
	if len(args) > 1 {
		filter = args[1]
	}
	vms, host, code := s.metricsObjects(reg, obj)
	if code >= 0 {
		return code
	}
	st := s.loadMetrics()
	now := s.now()
	period := time.Duration(max(st.Period, 1)) * time.Second
	fmt.Fprint(s.stdout, "Object          Metric                                   Values\n"+
		"--------------- ---------------------------------------- --------------------------------------------\n")
	print := func(object string, ms []metric, vm *VM, t float64, since time.Time) {
		// No value before the first period after setup has passed.
		ready := now.Sub(since) >= period
		for _, m := range ms {
			for _, agg := range []string{"", ":avg", ":min", ":max"} {
				name := m.name + agg
				if !metricMatches(filter, name) {
					continue
				}
				vals := ""
				if ready {
					vals = formatMetric(m.val(vm, t), m.scale, m.unit)
				}
				fmt.Fprintf(s.stdout, "%-15s %-40s %s\n", object, name, vals)
			}
		}
	}
	if host && !st.Host.IsZero() {
		print("host", hostMetrics, nil, 0, st.Host)
	}
	for _, vm := range vms {
		since, ok := st.VMs[vm.UUID]
		if !ok || !isOnline(vm.State) || since.Before(vm.StartedAt) {
			continue // not set up since this VM process started
		}
		t := s.uptime(vm).Seconds()
		ms := vmMetrics
		if hasGuestAdditions(vm) {
			ms = append(append([]metric{}, vmMetrics...), guestMetrics...)
		}
		print(vm.Name, ms, vm, t, since)
	}
	return 0
}

// --- debugvm statistics ---

// storageDevice is the PDM device name of a controller type, upper-cased as
// the /Public/Storage/ statistics name it.
var storageDevice = map[string]string{
	"piix3": "PIIX3IDE", "piix4": "PIIX3IDE", "ich6": "PIIX3IDE", "intelahci": "AHCI", "lsilogic": "LSILOGICSCSI",
	"buslogic": "BUSLOGIC", "lsilogicsas": "LSILOGICSAS", "nvme": "NVME", "virtioscsi": "VIRTIO-SCSI", "i82078": "I82078",
	"usb": "MSD",
}

type statCounter struct {
	kind  string // Counter or U64
	unit  string
	name  string
	value uint64
	desc  string
}

// vmStatistics lists the counters a running VM has: the /Public/ ones the
// GUI's session information reads, and the TM's per-vCPU time accounting.
func (s *Sim) vmStatistics(vm *VM) []statCounter {
	t := s.uptime(vm).Seconds()
	var out []statCounter
	inst := map[string]int{}
	ctlName := map[string]string{}
	for _, c := range vm.HW.Controllers {
		dev := storageDevice[strings.ToLower(c.Type)]
		if dev == "" {
			dev = strings.ToUpper(c.Type)
		}
		ctlName[c.Name] = fmt.Sprintf("%s%d", dev, inst[dev])
		inst[dev]++
	}
	ctlBus := map[string]string{}
	for _, c := range vm.HW.Controllers {
		ctlBus[c.Name] = c.Bus
	}
	for i, a := range vm.HW.Attachments {
		if a.Medium == "" {
			continue
		}
		lun := a.Port
		if ctlBus[a.Controller] == "ide" {
			lun = a.Port*2 + a.Device
		}
		p := fmt.Sprintf("/Public/Storage/%s/Port%d/", ctlName[a.Controller], lun)
		seed := float64(i + 1)
		rd := uint64(t*(180000+seed*4096)) + 4<<20
		wr := uint64(t * (60000 + seed*1024))
		if a.Type != "hdd" {
			wr = 0
		}
		out = append(out,
			statCounter{"Counter", "bytes", p + "BytesRead", rd, "Amount of data read."},
			statCounter{"Counter", "bytes", p + "BytesWritten", wr, "Amount of data written."})
	}
	for i, n := range vm.HW.NICs {
		if n.Attach == "" || n.Attach == "none" {
			continue
		}
		p := fmt.Sprintf("/Public/NetAdapter/%d/", i)
		rx := uint64(t * (12000 + float64(i)*500))
		tx := uint64(t * (3000 + float64(i)*100))
		out = append(out,
			statCounter{"Counter", "bytes", p + "BytesReceived", rx, "Amount of data received"},
			statCounter{"Counter", "bytes", p + "BytesTransmitted", tx, "Amount of data transmitted"})
	}
	for c := 0; c < max(vm.HW.CPUs, 1); c++ {
		total := uint64(t * 1e9)
		exec := uint64(cpuSeconds(vm, t) * 1e9 / float64(max(vm.HW.CPUs, 1)))
		halted := total - exec - exec/20
		p := fmt.Sprintf("/TM/CPU/%02d/", c)
		out = append(out,
			statCounter{"U64", "ns", p + "cNsExecuting", exec, "Resettable: Total CPU run time."},
			statCounter{"U64", "ns", p + "cNsHalted", halted, "Resettable: Total halted time."},
			statCounter{"U64", "ns", p + "cNsOther", exec / 20, "Resettable: Total other time."},
			statCounter{"U64", "ns", p + "cNsTotal", total, "Resettable: Total CPU time."})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].name < out[b].name })
	return out
}

// debugVMStatistics is `debugvm <vm> statistics [options]` (cmdDebugVM
// hands it the whole argument list).
func (s *Sim) debugVMStatistics(args []string) int {
	if len(args) < 2 {
		return s.syntaxError("debugvm", "Missing the subcommand", 2)
	}
	ref, sub, opts := args[0], args[1], args[2:]
	if sub != "statistics" {
		fmt.Fprintf(s.stderr, "VBoxManage: error: vboxsim: debugvm %s is not simulated\n", sub)
		return 1
	}
	pattern, withDesc, reset := "", false, false
	for i := 0; i < len(opts); i++ {
		switch o := opts[i]; {
		case o == "--reset" || o == "-r":
			reset = true
		case o == "--descriptions" || o == "-d":
			withDesc = true
		case o == "--pattern" || o == "-p":
			if i+1 >= len(opts) {
				return s.syntaxError("debugvm", fmt.Sprintf("Missing the 1st value for option %s", o), 2)
			}
			pattern = opts[i+1]
			i++
		case strings.HasPrefix(o, "--pattern="):
			pattern = strings.TrimPrefix(o, "--pattern=")
		default:
			return s.syntaxError("debugvm", fmt.Sprintf("Unknown option: %s", o), 2)
		}
	}
	if _, err := s.lockRegistry(false); err != nil {
		return s.internalError(err)
	}
	vm, err := s.findVM(ref)
	if err != nil {
		return s.internalError(err)
	}
	if vm == nil {
		return s.notFound(ref, "FindMachine(Bstr(pszVMName).raw(), ptrMachine.asOutParam())", "VBoxManageDebugVM.cpp", 1392)
	}
	if !isOnline(vm.State) {
		return s.fail("Machine '%s' is not currently running%s", vm.Name, s.p.dot())
	}
	if reset {
		return 0 // counters are derived from uptime: a reset is not kept
	}
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n<Statistics>\n")
	for _, c := range s.vmStatistics(vm) {
		if !simplePatternMatch(pattern, c.name) {
			continue
		}
		attr := "c"
		if c.kind != "Counter" {
			attr = "val"
		}
		fmt.Fprintf(&b, "<%s %s=\"%d\" unit=\"%s\" name=\"%s\"", c.kind, attr, c.value, c.unit, c.name)
		if withDesc {
			fmt.Fprintf(&b, " desc=\"%s\"", c.desc)
		}
		b.WriteString("/>\n")
	}
	b.WriteString("</Statistics>\n")
	fmt.Fprintln(s.stdout, b.String())
	return 0
}

// nowFunc is the simulator's clock (tests fix it to print golden output).
var nowFunc = time.Now
