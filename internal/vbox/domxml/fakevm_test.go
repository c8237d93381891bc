package domxml

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// fakeVM is a tiny stand-in for VirtualBox: it applies the VBoxManage
// vectors a Plan contains and prints the machine as showvminfo
// --machinereadable (7.0 layout) would. It knows only the options the
// planner may emit; anything else fails the test, which is how the tests
// check that plans use real options with the right arity.
type fakeVM struct {
	t        testing.TB
	kv       map[string]string
	ctls     []fakeCtl
	media    map[string]string // "<ctl>-<p>-<d>" → path or emptydrive
	dvd      map[string]bool
	folders  []folder
	filters  []usbFilter
	extra    map[string]string
	audioCtl string
}

type fakeCtl struct {
	name, typ string
	ports     uint
}

var ostypes = map[string]string{"Other": "Other/Unknown", "Other_64": "Other/Unknown (64-bit)"}

func newFakeVM(t testing.TB) *fakeVM {
	return &fakeVM{t: t, kv: map[string]string{}, media: map[string]string{}, dvd: map[string]bool{}, extra: map[string]string{}}
}

// apply runs the plan's steps in order.
func (f *fakeVM) apply(p *Plan) {
	f.t.Helper()
	for _, s := range p.Steps {
		f.run(s.Args)
	}
}

func (f *fakeVM) fail(args []string, format string, a ...any) {
	f.t.Helper()
	f.t.Fatalf("VBoxManage %q: %s", args, fmt.Sprintf(format, a...))
}

func (f *fakeVM) run(args []string) {
	f.t.Helper()
	if len(args) < 2 {
		f.fail(args, "too few arguments")
	}
	switch args[0] {
	case "createvm":
		opts := pairsOf(f, args[1:])
		f.kv = map[string]string{
			"name": opts["--name"], "UUID": opts["--uuid"], "ostype": ostypes[opts["--ostype"]],
			"memory": "128", "cpus": "1", "firmware": "BIOS", "boot1": "floppy", "boot2": "dvd", "boot3": "disk", "boot4": "none",
			"acpi": "on", "ioapic": "off", "pae": "off", "rtcuseutc": "off", "graphicscontroller": "vboxvga", "vram": "8",
			"monitorcount": "1", "accelerate3d": "off", "accelerate2dvideo": "off", "audio": "none", "vrde": "off",
			"usb": "off", "ehci": "off", "xhci": "off", "defaultfrontend": "", "nic1": "nat", "nictype1": "Am79C973",
			"cableconnected1": "on", "hidpointing": "ps2mouse", "hidkeyboard": "ps2kbd",
		}
		for i := 1; i <= 8; i++ {
			f.kv[fmt.Sprintf("macaddress%d", i)] = fmt.Sprintf("08002700000%d", i)
		}
		if _, ok := ostypes[opts["--ostype"]]; !ok || opts["--register"] != "" {
			f.fail(args, "bad createvm")
		}
	case "modifyvm":
		f.checkUUID(args)
		f.modifyvm(args, args[2:])
	case "storagectl":
		f.checkUUID(args)
		f.storagectl(args)
	case "storageattach":
		f.checkUUID(args)
		o := pairsOf(f, args[2:])
		key := fmt.Sprintf("%s-%s-%s", o["--storagectl"], o["--port"], o["--device"])
		if f.ctl(o["--storagectl"]) == nil {
			f.fail(args, "Could not find a controller named '%s'", o["--storagectl"])
		}
		switch o["--medium"] {
		case "none":
			delete(f.media, key)
			delete(f.dvd, key)
		default:
			f.media[key] = o["--medium"]
			f.dvd[key] = o["--type"] == "dvddrive"
		}
	case "sharedfolder":
		f.checkUUID(args[1:])
		o := pairsOf(f, args[3:])
		switch args[1] {
		case "add":
			f.folders = append(f.folders, folder{Name: o["--name"], Path: o["--hostpath"], ReadOnly: slices.Contains(args, "--readonly")})
		case "remove":
			for i, x := range f.folders {
				if x.Name == o["--name"] {
					f.folders = append(f.folders[:i], f.folders[i+1:]...)
					return
				}
			}
			f.fail(args, "no shared folder")
		}
	case "usbfilter":
		idx, err := strconv.Atoi(args[2])
		if err != nil || idx > len(f.filters) {
			f.fail(args, "bad filter index")
		}
		o := pairsOf(f, args[3:])
		if o["--target"] != f.kv["UUID"] {
			f.fail(args, "wrong target")
		}
		switch args[1] {
		case "add":
			nf := usbFilter{Active: o["--active"] != "no", Vendor: o["--vendorid"], Product: o["--productid"]}
			f.filters = append(f.filters[:idx], append([]usbFilter{nf}, f.filters[idx:]...)...)
		case "remove":
			f.filters = append(f.filters[:idx], f.filters[idx+1:]...)
		}
	case "setextradata":
		f.checkUUID(args)
		if len(args) == 4 {
			f.extra[args[2]] = args[3]
		} else {
			delete(f.extra, args[2])
		}
	default:
		f.fail(args, "unknown command")
	}
}

func (f *fakeVM) checkUUID(args []string) {
	f.t.Helper()
	if args[1] != f.kv["UUID"] {
		f.fail(args, "refers to %q, not the machine's UUID", args[1])
	}
}

// pairsOf reads "--opt value" pairs; "--register" and "--readonly" take none.
func pairsOf(f *fakeVM, args []string) map[string]string {
	f.t.Helper()
	m := map[string]string{}
	for i := 0; i < len(args); i++ {
		if args[i] == "--register" || args[i] == "--readonly" {
			continue
		}
		if !strings.HasPrefix(args[i], "--") || i+1 >= len(args) {
			f.fail(args, "bad option at %d", i)
		}
		m[args[i]] = args[i+1]
		i++
	}
	return m
}

func (f *fakeVM) ctl(name string) *fakeCtl {
	for i := range f.ctls {
		if f.ctls[i].name == name {
			return &f.ctls[i]
		}
	}
	return nil
}

func (f *fakeVM) storagectl(args []string) {
	f.t.Helper()
	remove := args[len(args)-1] == "--remove"
	if remove {
		args = args[:len(args)-1]
	}
	o := pairsOf(f, args[2:])
	name := o["--name"]
	if remove {
		for i, c := range f.ctls {
			if c.name == name {
				f.ctls = append(f.ctls[:i], f.ctls[i+1:]...)
				for k := range f.media {
					if strings.HasPrefix(k, name+"-") {
						delete(f.media, k)
						delete(f.dvd, k)
					}
				}
				return
			}
		}
		f.fail(args, "no controller")
	}
	c := f.ctl(name)
	if bus, ok := o["--add"]; ok {
		if c != nil {
			f.fail(args, "Storage controller named '%s' already exists", name)
		}
		f.ctls = append(f.ctls, fakeCtl{name: name, typ: vboxTypeOf(o["--controller"]), ports: 1})
		c = &f.ctls[len(f.ctls)-1]
		k, _ := kindByVBoxType(c.typ)
		if k.AddBus != bus {
			f.fail(args, "controller type %s on bus %s", c.typ, bus)
		}
		c.ports = k.MaxPorts
		if k.MaxPorts > 2 {
			c.ports = 1
		}
	} else if c == nil {
		f.fail(args, "no controller")
	} else if t, ok := o["--controller"]; ok {
		c.typ = vboxTypeOf(t)
	}
	if pc, ok := o["--portcount"]; ok {
		n, _ := strconv.Atoi(pc)
		c.ports = uint(n)
	}
}

var slotOpt = regexp.MustCompile(`^--([a-z-]+?)([0-9]+)$`)

func (f *fakeVM) modifyvm(all, args []string) {
	f.t.Helper()
	simple := map[string]string{
		"--name": "name", "--description": "description", "--memory": "memory", "--cpus": "cpus",
		"--pae": "pae", "--acpi": "acpi", "--triplefaultreset": "triplefaultreset", "--ioapic": "ioapic", "--rtcuseutc": "rtcuseutc",
		"--graphicscontroller": "graphicscontroller", "--vram": "vram", "--monitorcount": "monitorcount",
		"--accelerate3d": "accelerate3d", "--accelerate2dvideo": "accelerate2dvideo",
		"--vrde": "vrde", "--vrdeport": "vrdeports", "--vrde-port": "vrdeports", "--vrdeaddress": "vrdeaddress",
		"--vrdemulticon": "vrdemulticon", "--vrdereusecon": "vrdereusecon",
		"--usb": "usb", "--usb-ohci": "usb", "--usbehci": "ehci", "--usbxhci": "xhci", "--audio": "audio",
		"--guestmemoryballoon": "GuestMemoryBalloon", "--guest-memory-balloon": "GuestMemoryBalloon",
	}
	perSlot := map[string]string{
		"boot": "boot", "nic": "nic", "nictype": "nictype", "nic-type": "nictype", "macaddress": "macaddress",
		"mac-address": "macaddress", "cableconnected": "cableconnected", "cable-connected": "cableconnected",
		"bridgeadapter": "bridgeadapter", "bridge-adapter": "bridgeadapter", "hostonlyadapter": "hostonlyadapter",
		"host-only-adapter": "hostonlyadapter", "intnet": "intnet", "lptmode": "lptmode", "nat-network": "nat-network",
	}
	for i := 0; i < len(args); i++ {
		o := args[i]
		val := func() string {
			if i+1 >= len(args) {
				f.fail(all, "%s lacks a value", o)
			}
			i++
			return args[i]
		}
		if k, ok := simple[o]; ok {
			f.kv[k] = val()
			continue
		}
		switch o {
		case "--firmware":
			f.kv["firmware"] = strings.ToUpper(val())
			continue
		case "--audio-enabled":
			if val() == "on" {
				f.kv["audio"] = "default"
			} else {
				f.kv["audio"] = "none"
			}
			continue
		case "--audiocontroller", "--audio-controller":
			f.audioCtl = val()
			continue
		case "--mouse", "--keyboard":
			v := val()
			f.kv["hid"+map[string]string{"--mouse": "pointing", "--keyboard": "keyboard"}[o]] =
				map[string]string{"ps2": map[string]string{"--mouse": "ps2mouse", "--keyboard": "ps2kbd"}[o],
					"usb": map[string]string{"--mouse": "usbmouse", "--keyboard": "usbkbd"}[o], "usbtablet": "usbtablet"}[v]
			continue
		case "--defaultfrontend":
			v := val()
			if v == "default" {
				v = ""
			}
			f.kv["defaultfrontend"] = v
			continue
		}
		m := slotOpt.FindStringSubmatch(o)
		if m == nil {
			f.fail(all, "unknown option %s", o)
		}
		n := m[2]
		if k, ok := perSlot[m[1]]; ok {
			f.kv[k+n] = val()
			continue
		}
		switch m[1] {
		case "uart", "lpt":
			v := val()
			if v != "off" {
				v = fmt.Sprintf("0x%04x,%s", mustHex(f, v), val())
			}
			f.kv[m[1]+n] = v
		case "uartmode":
			v := val()
			switch v {
			case "server", "client", "file", "tcpserver", "tcpclient":
				v += "," + val()
			}
			f.kv["uartmode"+n] = v
		default:
			f.fail(all, "unknown option %s", o)
		}
	}
}

func mustHex(f *fakeVM, s string) uint64 {
	v, err := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 16)
	if err != nil {
		f.t.Fatalf("bad I/O base %q", s)
	}
	return v
}

// info prints the machine in 7.0's machine-readable layout.
func (f *fakeVM) info() Info {
	var p []KV
	add := func(k, v string) { p = append(p, KV{k, v}) }
	for _, k := range []string{"name", "UUID", "ostype", "memory", "vram", "firmware", "cpus", "pae", "boot1", "boot2", "boot3", "boot4",
		"acpi", "ioapic", "rtcuseutc", "triplefaultreset", "hidpointing", "hidkeyboard", "graphicscontroller", "monitorcount", "accelerate3d", "accelerate2dvideo", "defaultfrontend"} {
		add(k, f.kv[k])
	}
	for i, c := range f.ctls {
		n := strconv.Itoa(i)
		add("storagecontrollername"+n, c.name)
		add("storagecontrollertype"+n, c.typ)
		add("storagecontrollerportcount"+n, strconv.Itoa(int(c.ports)))
	}
	for _, c := range f.ctls {
		k, _ := kindByVBoxType(c.typ)
		for port := uint(0); port < c.ports; port++ {
			for dev := uint(0); dev < k.Devices; dev++ {
				sfx := fmt.Sprintf("-%d-%d", port, dev)
				key := c.name + sfx
				v, ok := f.media[key]
				if !ok {
					add(key, "none")
					continue
				}
				add(key, v)
				if v != "emptydrive" {
					add(c.name+"-ImageUUID"+sfx, "00000000-0000-4000-8000-000000000000")
				}
				if f.dvd[key] {
					add(c.name+"-IsEjected"+sfx, "off")
				}
			}
		}
	}
	for i := 1; i <= 8; i++ {
		n := strconv.Itoa(i)
		nicv := f.kv["nic"+n]
		if nicv == "" {
			nicv = "none"
		}
		if nicv != "none" {
			switch nicv {
			case "bridged", "hostonly", "intnet", "natnetwork":
				k := nicSourceKey[nicv]
				add(k+n, f.kv[k+n])
			}
			add("macaddress"+n, f.kv["macaddress"+n])
			add("cableconnected"+n, f.kv["cableconnected"+n])
		}
		add("nic"+n, nicv)
		if nicv != "none" {
			add("nictype"+n, f.kv["nictype"+n])
		}
	}
	for i := 1; i <= 4; i++ {
		n := strconv.Itoa(i)
		v := f.kv["uart"+n]
		if v == "" {
			v = "off"
		}
		add("uart"+n, v)
		if v != "off" {
			add("uartmode"+n, f.kv["uartmode"+n])
		}
	}
	for i := 1; i <= 2; i++ {
		n := strconv.Itoa(i)
		v := f.kv["lpt"+n]
		if v == "" {
			v = "off"
		}
		add("lpt"+n, v)
		if v != "off" {
			add("lptmode"+n, f.kv["lptmode"+n])
		}
	}
	add("audio", f.kv["audio"])
	add("vrde", f.kv["vrde"])
	if f.kv["vrde"] == "on" {
		add("vrdeport", "-1")
		for _, k := range []string{"vrdeports", "vrdeaddress", "vrdemulticon", "vrdereusecon"} {
			add(k, f.kv[k])
		}
	}
	for _, k := range []string{"usb", "ehci", "xhci"} {
		add(k, f.kv[k])
	}
	for i, x := range f.filters {
		n := strconv.Itoa(i + 1)
		add("USBFilterActive"+n, onOff(x.Active))
		add("USBFilterVendorId"+n, x.Vendor)
		add("USBFilterProductId"+n, x.Product)
	}
	for i, x := range f.folders {
		n := strconv.Itoa(i + 1)
		add("SharedFolderNameMachineMapping"+n, x.Name)
		add("SharedFolderPathMachineMapping"+n, x.Path)
	}
	if d := f.kv["description"]; d != "" {
		add("description", d)
	}
	if b := f.kv["GuestMemoryBalloon"]; b != "" {
		add("GuestMemoryBalloon", b)
	}
	in := NewInfo(p)
	in.AudioController = f.audioCtl
	in.ReadOnlyFolders = map[string]bool{}
	for _, x := range f.folders {
		if x.ReadOnly {
			in.ReadOnlyFolders[x.Name] = true
		}
	}
	in.ExtraData = map[string]string{}
	keys := make([]string, 0, len(f.extra))
	for k := range f.extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		in.ExtraData[k] = f.extra[k]
	}
	return in
}

// vboxTypeOf maps a storagectl --controller argument to the type showvminfo
// prints ("VirtIO" → "VirtioSCSI").
func vboxTypeOf(arg string) string {
	for _, k := range storageKinds {
		if strings.EqualFold(k.controllerArg(), arg) {
			return k.VBoxType
		}
	}
	return arg
}
