package vboxsim

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// mediumInfo renders a medium block of list hdds/dvds (long: showmediuminfo).
func (s *Sim) mediumInfo(m *Medium, long bool) string {
	var b strings.Builder
	l := func(label, v string) { fmt.Fprintf(&b, "%-15s %s\n", label+":", v) }
	reg, _ := s.st.Registry()
	l("UUID", m.UUID)
	if m.Kind == "hdd" {
		if m.Parent == "" {
			l("Parent UUID", "base")
		} else {
			l("Parent UUID", m.Parent)
		}
	}
	state := "created"
	if _, err := os.Stat(m.Location); err != nil {
		state = "inaccessible"
	}
	l("State", state)
	typ := m.Type
	if m.Kind == "hdd" && typ == "normal" {
		if m.Parent == "" {
			typ = "normal (base)"
		} else {
			typ = "normal (differencing)"
		}
	}
	l("Type", typ)
	if m.Kind == "hdd" && m.Parent != "" && long {
		l("Auto-Reset", "off")
	}
	l("Location", m.Location)
	l("Storage format", m.Format)
	if long {
		variant := "dynamic default"
		if strings.EqualFold(m.Variant, "Fixed") {
			variant = "fixed default"
		}
		if m.Kind != "hdd" {
			variant = "fixed default"
		}
		l("Format variant", variant)
	}
	l("Capacity", fmt.Sprintf("%d MBytes", m.SizeMB))
	if long {
		onDisk := int64(0)
		if fi, err := os.Stat(m.Location); err == nil {
			onDisk = fi.Size() / (1 << 20)
		}
		l("Size on disk", fmt.Sprintf("%d MBytes", onDisk))
	}
	l("Encryption", "disabled")
	if long && reg != nil {
		var users []string
		for _, vm := range s.mediumUsers(reg, m.UUID) {
			users = append(users, fmt.Sprintf("%s (UUID: %s)", vm.Name, vm.UUID))
		}
		if len(users) > 0 {
			l("In use by VMs", strings.Join(users, "\n"+strings.Repeat(" ", 16)))
		}
		var kids []string
		for _, c := range reg.Media {
			if c.Parent == m.UUID {
				kids = append(kids, c.UUID)
			}
		}
		if len(kids) > 0 {
			l("Child UUIDs", strings.Join(kids, "\n"+strings.Repeat(" ", 16)))
		}
	}
	return b.String()
}

// findMedium finds a registered medium by UUID or (absolute) location.
func (s *Sim) findMedium(ref string) *Medium {
	reg, err := s.st.Registry()
	if err != nil {
		return nil
	}
	u := strings.Trim(strings.ToLower(ref), "{}")
	abs, _ := filepath.Abs(ref)
	for _, m := range reg.Media {
		if m.UUID == u || m.Location == ref || m.Location == abs {
			return m
		}
	}
	return nil
}

func (s *Sim) mediumNotFound(path, file string, line int) int {
	abs, _ := filepath.Abs(path)
	return s.api(apiError{Msg: fmt.Sprintf("Could not find file for the medium '%s' (VERR_FILE_NOT_FOUND)", abs),
		Code: "VBOX_E_FILE_ERROR", Component: "MediumWrap", Interface: "IMedium",
		Context: "OpenMedium(Bstr(pszFilenameOrUuid).raw(), enmDevType, enmAccessMode, fForceNewUuidOnOpen, pMedium.asOutParam())",
		Line:    line, File: file})
}

// openMedium registers an existing image file implicitly, as OpenMedium does.
func (s *Sim) openMedium(path, kind string) (*Medium, bool) {
	abs, _ := filepath.Abs(path)
	fi, err := os.Stat(abs)
	if err != nil || fi.IsDir() {
		return nil, false
	}
	reg, _ := s.st.Registry()
	format := strings.ToUpper(strings.TrimPrefix(filepath.Ext(abs), "."))
	switch format {
	case "VDI", "VMDK", "VHD":
	default:
		format = "RAW"
	}
	m := &Medium{UUID: s.newUUID(), Kind: kind, Location: abs, Format: format, SizeMB: fi.Size() >> 20, Type: "normal"}
	if kind != "hdd" {
		m.Type = "readonly"
	}
	if kind == "hdd" && format == "VDI" {
		m.SizeMB = vdiCapacity(abs)
	}
	reg.Media = append(reg.Media, m)
	s.st.MarkRegistry()
	return m, true
}

const vdiMagic = "<<< vboxsim Virtual Disk Image >>>"

// writeImage writes a stand-in disk image of the given format and capacity,
// which vdiCapacity reads back.
func writeImage(path, format string, sizeMB int64) error {
	return os.WriteFile(path, []byte(fmt.Sprintf("%s\nformat: %s\ncapacity-mb: %d\n", vdiMagic, format, sizeMB)), 0o644)
}

// vdiCapacity reads the capacity recorded by createmedium in its stand-in image.
func vdiCapacity(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "capacity-mb: "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return int64(len(b)) >> 20
}

func (s *Sim) cmdCreateMedium(args []string) int {
	kind := "hdd"
	if len(args) > 0 {
		switch args[0] {
		case "disk", "hdd":
			args = args[1:]
		case "dvd":
			kind, args = "dvd", args[1:]
		case "floppy":
			kind, args = "floppy", args[1:]
		}
	}
	opts, pos, msg := getopt(args, spec("--filename=", "--size=", "--sizebyte=", "--diffparent=", "--format=", "--variant=", "-m|--property=", "--property-file="))
	if msg != "" {
		return s.getoptError("createmedium", msg, 2)
	}
	if len(pos) > 0 {
		return s.syntaxError("createmedium", fmt.Sprintf("Invalid parameter '%s'", pos[0]), 2)
	}
	var filename, diffParent, variant string
	format := "VDI"
	size := int64(-1)
	for _, o := range opts {
		switch o.name {
		case "--filename":
			filename = o.val
		case "--size":
			n, err := strconv.ParseInt(o.val, 10, 64)
			if err != nil || n < 0 {
				return s.getoptError("createmedium", fmt.Sprintf("Invalid parameter '%s'", o.val), 2)
			}
			size = n
		case "--sizebyte":
			n, err := strconv.ParseInt(o.val, 10, 64)
			if err != nil || n < 0 {
				return s.getoptError("createmedium", fmt.Sprintf("Invalid parameter '%s'", o.val), 2)
			}
			size = n >> 20
		case "--diffparent":
			diffParent = o.val
		case "--format":
			format = strings.ToUpper(o.val)
			if format != "VDI" && format != "VMDK" && format != "VHD" {
				return s.fail("Invalid format '%s'", o.val)
			}
		case "--variant":
			for _, v := range strings.Split(o.val, ",") {
				switch strings.ToLower(v) {
				case "standard", "fixed", "split2g", "stream", "esx", "formatted", "rawdisk":
				default:
					return s.fail("Invalid medium variant '%s'", o.val)
				}
			}
			variant = o.val
		}
	}
	if filename == "" {
		return s.syntaxError("createmedium", "Parameters --filename is required", 2)
	}
	if size < 0 && diffParent == "" {
		return s.syntaxError("createmedium", "Parameters --size is required", 2)
	}
	if filepath.Ext(filename) == "" {
		filename += "." + strings.ToLower(format)
	}
	abs, _ := filepath.Abs(filename)
	reg, err := s.lockRegistry(true)
	if err != nil {
		return s.internalError(err)
	}
	var parent *Medium
	if diffParent != "" {
		if parent = s.findMedium(diffParent); parent == nil {
			return s.mediumNotFound(diffParent, "VBoxManageDisk.cpp", 440)
		}
		size = parent.SizeMB
	}
	if _, err := os.Stat(abs); err == nil || s.findMedium(abs) != nil {
		label := "Progress state: "
		if !s.p.Is61() {
			label = ""
		}
		fmt.Fprintf(s.stderr, "0%%...\n%sVBOX_E_FILE_ERROR\n", label)
		fmt.Fprintf(s.stderr, "VBoxManage: error: Failed to create medium\n")
		fmt.Fprintf(s.stderr, "VBoxManage: error: Could not create the medium storage unit '%s'.\n", abs)
		fmt.Fprintf(s.stderr, "VBoxManage: error: %s: cannot create image '%s' (VERR_ALREADY_EXISTS)\n", format, abs)
		fmt.Fprintf(s.stderr, "VBoxManage: error: Details: code VBOX_E_FILE_ERROR (0x80bb0004), component MediumWrap, interface IMedium\n")
		fmt.Fprintf(s.stderr, "VBoxManage: error: Context: \"RTEXITCODE handleCreateMedium(HandlerArg*)\" at line 510 of file VBoxManageDisk.cpp\n")
		return 1
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return s.fail("Failed to create medium\nVBoxManage: error: Could not create the medium storage unit '%s'.", abs)
	}
	if err := writeImage(abs, format, size); err != nil {
		return s.fail("Failed to create medium\nVBoxManage: error: Could not create the medium storage unit '%s'.", abs)
	}
	if strings.Contains(strings.ToLower(variant), "fixed") {
		s.slow(int(min(20, 1+size/4096)))
	}
	m := &Medium{UUID: s.newUUID(), Kind: kind, Location: abs, Format: format, Variant: variant, SizeMB: size, Type: "normal"}
	if parent != nil {
		m.Parent = parent.UUID
	}
	reg.Media = append(reg.Media, m)
	s.st.MarkRegistry()
	if err := s.st.Commit(); err != nil {
		return s.internalError(err)
	}
	s.progress()
	fmt.Fprintf(s.stdout, "Medium created. UUID: %s\n", m.UUID)
	return 0
}

// mediumUsers returns the registered VMs that attach the medium uuid.
func (s *Sim) mediumUsers(reg *Registry, uuid string) []*VM {
	var users []*VM
	for _, e := range reg.VMs {
		vm, err := s.st.VM(e.UUID)
		if err != nil {
			continue
		}
		for _, a := range vm.HW.Attachments {
			if a.Medium == uuid {
				users = append(users, vm)
				break
			}
		}
	}
	return users
}

// withoutMediumType drops the optional disk|dvd|floppy word that may come
// first in closemedium and showmediuminfo arguments.
func withoutMediumType(args []string) []string {
	if len(args) > 0 {
		switch args[0] {
		case "disk", "dvd", "floppy":
			return args[1:]
		}
	}
	return args
}

func (s *Sim) cmdCloseMedium(args []string) int {
	opts, pos, msg := getopt(withoutMediumType(args), spec("--delete"))
	if msg != "" {
		return s.getoptError("closemedium", msg, 2)
	}
	if len(pos) != 1 {
		return s.syntaxError("closemedium", "Disk name or UUID required", 2)
	}
	del := len(opts) > 0
	reg, err := s.lockRegistry(true)
	if err != nil {
		return s.internalError(err)
	}
	m := s.findMedium(pos[0])
	if m == nil {
		if _, err := os.Stat(pos[0]); err != nil {
			return s.mediumNotFound(pos[0], "VBoxManageDisk.cpp", 1780)
		}
		if m, _ = s.openMedium(pos[0], "hdd"); m == nil {
			return s.mediumNotFound(pos[0], "VBoxManageDisk.cpp", 1780)
		}
	}
	if n := len(s.mediumUsers(reg, m.UUID)); n > 0 {
		return s.api(apiError{Msg: fmt.Sprintf("Medium '%s' cannot be closed because it is still attached to %d virtual machines", m.Location, n),
			Code: "VBOX_E_OBJECT_IN_USE", Component: "MediumWrap", Interface: "IMedium", Context: "Close()", Line: 1812, File: "VBoxManageDisk.cpp"})
	}
	kids := 0
	for _, c := range reg.Media {
		if c.Parent == m.UUID {
			kids++
		}
	}
	if kids > 0 {
		return s.api(apiError{Msg: fmt.Sprintf("Cannot close medium '%s' because it has %d child media", m.Location, kids),
			Code: "VBOX_E_OBJECT_IN_USE", Component: "MediumWrap", Interface: "IMedium", Context: "Close()", Line: 1812, File: "VBoxManageDisk.cpp"})
	}
	if del {
		s.progress()
		os.Remove(m.Location)
	}
	for i, x := range reg.Media {
		if x == m {
			reg.Media = append(reg.Media[:i], reg.Media[i+1:]...)
			break
		}
	}
	s.st.MarkRegistry()
	if err := s.st.Commit(); err != nil {
		return s.internalError(err)
	}
	return 0
}

func (s *Sim) cmdShowMediumInfo(args []string) int {
	args = withoutMediumType(args)
	if len(args) != 1 {
		return s.syntaxError("showmediuminfo", "Disk name or UUID required", 2)
	}
	if err := s.st.Lock(false); err != nil {
		return s.internalError(err)
	}
	s.work()
	m := s.findMedium(args[0])
	if m == nil {
		return s.mediumNotFound(args[0], "VBoxManageDisk.cpp", 1600)
	}
	fmt.Fprint(s.stdout, s.mediumInfo(m, true))
	return 0
}

var busDefaults = map[string]struct {
	typ   string
	ports int
}{
	"ide": {"PIIX4", 2}, "sata": {"IntelAhci", 30}, "scsi": {"LsiLogic", 16}, "sas": {"LsiLogicSas", 8},
	"floppy": {"I82078", 1}, "usb": {"USB", 8}, "pcie": {"NVMe", 1}, "virtio": {"VirtioSCSI", 1},
}

var controllerTypes = map[string]struct{ typ, bus string }{
	"lsilogic": {"LsiLogic", "scsi"}, "lsilogicsas": {"LsiLogicSas", "sas"}, "buslogic": {"BusLogic", "scsi"},
	"intelahci": {"IntelAhci", "sata"}, "piix3": {"PIIX3", "ide"}, "piix4": {"PIIX4", "ide"}, "ich6": {"ICH6", "ide"},
	"i82078": {"I82078", "floppy"}, "usb": {"USB", "usb"}, "nvme": {"NVMe", "pcie"}, "virtio": {"VirtioSCSI", "virtio"},
	"virtioscsi": {"VirtioSCSI", "virtio"},
}

func (s *Sim) cmdStorageCtl(args []string) int {
	if len(args) < 1 {
		return s.syntaxError("storagectl", "Not enough parameters", 2)
	}
	opts, pos, msg := getopt(args[1:], spec("--name=", "--add=", "--controller=", "--portcount=", "--hostiocache=", "--bootable=", "--remove", "--rename="))
	if msg != "" {
		return s.getoptError("storagectl", msg, 2)
	}
	if len(pos) > 0 {
		return s.syntaxError("storagectl", fmt.Sprintf("Invalid parameter '%s'", pos[0]), 2)
	}
	var name, add, ctlType, rename string
	portCount := -1
	var hostIO, bootable *bool
	remove, haveName := false, false
	for _, o := range opts {
		switch o.name {
		case "--name":
			name, haveName = o.val, true
		case "--add":
			add = strings.ToLower(o.val)
			if _, ok := busDefaults[add]; !ok {
				return s.fail("Invalid --add argument '%s'", o.val)
			}
		case "--controller":
			ctlType = o.val
		case "--portcount":
			n, err := strconv.Atoi(o.val)
			if err != nil {
				return s.fail("Invalid --portcount argument '%s'", o.val)
			}
			portCount = n
		case "--hostiocache", "--bootable":
			b, ok := parseBool(o.val)
			if !ok {
				return s.fail("Invalid %s argument '%s'", o.name, o.val)
			}
			if o.name == "--hostiocache" {
				hostIO = &b
			} else {
				bootable = &b
			}
		case "--remove":
			remove = true
		case "--rename":
			rename = o.val
		}
	}
	if !haveName {
		return s.syntaxError("storagectl", "Storage controller name not specified", 2)
	}
	return s.writeSession(args[0], s.notFoundIn("FindMachine(Bstr(a->argv[0]).raw(), machine.asOutParam())", "VBoxManageStorageController.cpp", 1030),
		s.lockedWrite("VBoxManageStorageController.cpp", 1048), func(vm *VM) int {
			idx := -1
			for i, c := range vm.HW.Controllers {
				if c.Name == name {
					idx = i
				}
			}
			if remove {
				if idx < 0 {
					return s.fail("Couldn't find the controller with the name: '%s'", name)
				}
				vm.HW.Controllers = append(vm.HW.Controllers[:idx], vm.HW.Controllers[idx+1:]...)
				var keep []Attachment
				for _, a := range vm.HW.Attachments {
					if a.Controller != name {
						keep = append(keep, a)
					}
				}
				vm.HW.Attachments = keep
				s.st.PutVM(vm)
				return 0
			}
			if add != "" {
				if idx >= 0 {
					return s.api(apiError{Msg: fmt.Sprintf("Storage controller named '%s' already exists", name), Code: "VBOX_E_OBJECT_IN_USE",
						Component: "SessionMachine", Interface: "IMachine",
						Context: fmt.Sprintf("AddStorageController(Bstr(pszCtl).raw(), StorageBus_%s, ctl.asOutParam())", busAPIName(add)),
						Line:    1044, File: "VBoxManageStorageController.cpp"})
				}
				d := busDefaults[add]
				vm.HW.Controllers = append(vm.HW.Controllers, Controller{Name: name, Bus: add, Type: d.typ, PortCount: d.ports,
					Bootable: true, HostIO: add == "ide" || add == "floppy"})
				idx = len(vm.HW.Controllers) - 1
			}
			if idx < 0 {
				return s.fail("Couldn't find the controller with the name: '%s'", name)
			}
			c := &vm.HW.Controllers[idx]
			if ctlType != "" {
				t, ok := controllerTypes[strings.ToLower(ctlType)]
				if !ok || t.bus != c.Bus {
					return s.fail("Invalid --type argument '%s'", ctlType)
				}
				c.Type = t.typ
			}
			if portCount >= 0 {
				maxPorts, _ := controllerLimits(c.Bus)
				if portCount < 1 || portCount > maxPorts {
					return s.api(apiError{Msg: fmt.Sprintf("Invalid port count: %d (must be in range [%d, %d])", portCount, 1, maxPorts),
						Code: "E_INVALIDARG", Component: "StorageControllerWrap", Interface: "IStorageController",
						Context: "COMSETTER(PortCount)(portcount)", Line: 1130, File: "VBoxManageStorageController.cpp"})
				}
				if c.Bus != "ide" && c.Bus != "floppy" {
					c.PortCount = portCount
				}
			}
			if hostIO != nil {
				c.HostIO = *hostIO
			}
			if bootable != nil {
				c.Bootable = *bootable
			}
			if rename != "" {
				for i := range vm.HW.Attachments {
					if vm.HW.Attachments[i].Controller == c.Name {
						vm.HW.Attachments[i].Controller = rename
					}
				}
				c.Name = rename
			}
			s.st.PutVM(vm)
			return 0
		})
}

func busAPIName(bus string) string {
	return map[string]string{"ide": "IDE", "sata": "SATA", "scsi": "SCSI", "sas": "SAS", "floppy": "Floppy", "usb": "USB",
		"pcie": "PCIe", "virtio": "VirtioSCSI"}[bus]
}

func (s *Sim) cmdStorageAttach(args []string) int {
	if len(args) < 1 {
		return s.syntaxError("storageattach", "Not enough parameters", 2)
	}
	opts, pos, msg := getopt(args[1:], spec("--storagectl=", "--port=", "--device=", "--type=", "--medium=", "--mtype=",
		"--nonrotational=", "--discard=", "--hotpluggable=", "--tempeject=", "--passthrough=", "--comment=", "--setuuid=",
		"--setparentuuid=", "--forceunmount", "--bandwidthgroup=", "--encodedlun=", "--username=", "--password=",
		"--passwordfile=", "--initiator=", "--intnet", "--server=", "--target=", "--tport=", "--lun="))
	if msg != "" {
		return s.getoptError("storageattach", msg, 2)
	}
	if len(pos) > 0 {
		return s.syntaxError("storageattach", fmt.Sprintf("Invalid parameter '%s'", pos[0]), 2)
	}
	var ctl, typ, medium, mtype string
	port, dev := 0, 0
	flags := map[string]*bool{}
	for _, o := range opts {
		switch o.name {
		case "--storagectl":
			ctl = o.val
		case "--port", "--device":
			n, err := strconv.Atoi(o.val)
			if err != nil {
				return s.getoptError("storageattach", fmt.Sprintf("Invalid parameter '%s'", o.val), 2)
			}
			if o.name == "--port" {
				port = n
			} else {
				dev = n
			}
		case "--type":
			typ = strings.ToLower(o.val)
			if typ != "hdd" && typ != "dvddrive" && typ != "fdd" {
				return s.fail("Invalid --type argument '%s'", o.val)
			}
		case "--medium":
			medium = o.val
		case "--mtype":
			mtype = strings.ToLower(o.val)
		case "--nonrotational", "--discard", "--hotpluggable", "--tempeject", "--passthrough":
			b, ok := parseBool(o.val)
			if !ok {
				return s.fail("Invalid %s argument '%s'", o.name, o.val)
			}
			flags[o.name] = &b
		}
	}
	if ctl == "" {
		return s.syntaxError("storageattach", "Storage controller name not specified", 2)
	}
	apply := func(vm *VM) int {
		var c *Controller
		for i := range vm.HW.Controllers {
			if vm.HW.Controllers[i].Name == ctl {
				c = &vm.HW.Controllers[i]
			}
		}
		if c == nil {
			return s.fail("Could not find a controller named '%s'", ctl)
		}
		_, devs := controllerLimits(c.Bus)
		if port < 0 || port >= c.PortCount || dev < 0 || dev >= devs {
			return s.api(apiError{Msg: fmt.Sprintf("The port and/or device parameter are out of range: port=%d (must be in range [0, %d]), device=%d (must be in range [0, %d])",
				port, c.PortCount-1, dev, devs-1), Code: "E_INVALIDARG", Component: "SessionMachine", Interface: "IMachine",
				Context: "AttachDevice(Bstr(pszCtl).raw(), port, device, DeviceType_HardDisk, pMedium2Mount)", Line: 820, File: "VBoxManageStorageController.cpp"})
		}
		existing := vm.attachmentAt(ctl, port, dev)
		online := isOnline(vm.State)
		if typ == "" && existing != nil {
			typ = existing.Type
		}
		// A running machine changes the medium of an existing DVD or floppy
		// drive (MountMedium); anything else is AttachDevice/DetachDevice,
		// which VirtualBox allows live only on a hot-plug capable
		// controller and, to remove a device, a hot-pluggable slot.
		detach := strings.EqualFold(medium, "none")
		mount := (typ == "dvddrive" || typ == "fdd") && existing != nil && existing.Type == typ && !detach
		hotplug := false
		if online && !mount && !(medium == "" && existing != nil) {
			call := "AttachDevice(Bstr(pszCtl).raw(), port, device, DeviceType_HardDisk, pMedium2Mount)"
			if detach {
				call = "DetachDevice(Bstr(pszCtl).raw(), port, device)"
			}
			if !hotplugCapable(c) {
				return s.api(apiError{Msg: fmt.Sprintf("Controller '%s' does not support hot-plugging", ctl), Code: "VBOX_E_INVALID_VM_STATE",
					Component: "SessionMachine", Interface: "IMachine", Context: call, Line: 732, File: "VBoxManageStorageController.cpp"})
			}
			if existing != nil && !existing.HotPluggable {
				return s.api(apiError{Msg: fmt.Sprintf("Device slot %d on port %d of controller '%s' does not support hot-plugging", dev, port, ctl),
					Code: "VBOX_E_NOT_SUPPORTED", Component: "SessionMachine", Interface: "IMachine",
					Context: "DetachDevice(Bstr(pszCtl).raw(), port, device)", Line: 425, File: "VBoxManageStorageController.cpp"})
			}
			hotplug = true
		}
		switch strings.ToLower(medium) {
		case "none", "":
			if medium == "" && existing != nil {
				break // only flags change
			}
			if existing == nil {
				return s.api(apiError{Msg: fmt.Sprintf("No storage device attached to device slot %d on port %d of controller '%s'", dev, port, ctl),
					Code: "VBOX_E_OBJECT_NOT_FOUND", Component: "SessionMachine", Interface: "IMachine",
					Context: "DetachDevice(Bstr(pszCtl).raw(), port, device)", Line: 425, File: "VBoxManageStorageController.cpp"})
			}
			s.removeAttachment(vm, ctl, port, dev)
			s.st.PutVM(vm)
			return 0
		case "emptydrive":
			if typ != "dvddrive" && typ != "fdd" {
				return s.fail("Invalid --medium argument 'emptydrive' for a hard disk")
			}
			a := Attachment{Controller: ctl, Port: port, Device: dev, Type: typ, HotPluggable: hotplug}
			if existing != nil && existing.Type == typ {
				a.HotPluggable, a.TempEject, a.Passthrough = existing.HotPluggable || hotplug, existing.TempEject, existing.Passthrough
			}
			s.removeAttachment(vm, ctl, port, dev)
			vm.HW.Attachments = append(vm.HW.Attachments, a)
			existing = vm.attachmentAt(ctl, port, dev)
		default:
			if typ == "" {
				return s.syntaxError("storageattach", "Argument --type must be specified", 2)
			}
			kind := map[string]string{"hdd": "hdd", "dvddrive": "dvd", "fdd": "floppy"}[typ]
			path := medium
			if strings.EqualFold(medium, "additions") {
				path = "/usr/share/virtualbox/VBoxGuestAdditions.iso"
			}
			m := s.findMedium(path)
			if m == nil {
				if strings.HasPrefix(strings.ToLower(medium), "host:") {
					m = &Medium{UUID: s.newUUID(), Kind: kind, Location: medium[5:], Format: "RAW", Type: "readonly"}
				} else if m, _ = s.openMedium(path, kind); m == nil {
					return s.mediumNotFound(path, "VBoxManageStorageController.cpp", 560)
				}
			}
			if mtype != "" {
				m.Type = mtype
				s.st.MarkRegistry()
			}
			old := existing
			s.removeAttachment(vm, ctl, port, dev)
			a := Attachment{Controller: ctl, Port: port, Device: dev, Type: typ, Medium: m.UUID}
			if old != nil && old.Type == typ {
				a.NonRotational, a.Discard, a.HotPluggable, a.TempEject = old.NonRotational, old.Discard, old.HotPluggable, old.TempEject
			}
			a.HotPluggable = a.HotPluggable || hotplug
			vm.HW.Attachments = append(vm.HW.Attachments, a)
			existing = vm.attachmentAt(ctl, port, dev)
		}
		if existing != nil {
			for name, v := range flags {
				switch name {
				case "--nonrotational":
					existing.NonRotational = *v
				case "--discard":
					existing.Discard = *v
				case "--hotpluggable":
					existing.HotPluggable = *v
				case "--tempeject":
					existing.TempEject = *v
				case "--passthrough":
					existing.Passthrough = *v
				}
			}
		}
		s.st.PutVM(vm)
		return 0
	}
	// A running VM is changed through a shared lock (DVD change, hot-plug);
	// otherwise storageattach needs the write lock.
	if err := s.st.Lock(true); err != nil {
		return s.internalError(err)
	}
	vm, err := s.findVM(args[0])
	if err != nil {
		return s.internalError(err)
	}
	if vm != nil && isOnline(vm.State) {
		s.st.Unlock()
		if vm, err = s.workThenFindVM(args[0], true); err != nil {
			return s.internalError(err)
		}
		if vm == nil {
			return s.notFound(args[0], "FindMachine(Bstr(a->argv[0]).raw(), machine.asOutParam())", "VBoxManageStorageController.cpp", 345)
		}
		code := apply(vm)
		if code == 0 {
			if err := s.st.Commit(); err != nil {
				return s.internalError(err)
			}
		}
		return code
	}
	s.st.Unlock()
	return s.writeSession(args[0], s.notFoundIn("FindMachine(Bstr(a->argv[0]).raw(), machine.asOutParam())", "VBoxManageStorageController.cpp", 345),
		s.lockedWrite("VBoxManageStorageController.cpp", 364), apply)
}

// hotplugCapable reports whether VirtualBox attaches to and detaches from
// controller c while its machine runs: SATA (IntelAhci) and USB controllers
// (Machine::i_isControllerHotplugCapable).
func hotplugCapable(c *Controller) bool { return c.Type == "IntelAhci" || c.Type == "USB" }

func (s *Sim) removeAttachment(vm *VM, ctl string, port, dev int) {
	for i, a := range vm.HW.Attachments {
		if a.Controller == ctl && a.Port == port && a.Device == dev {
			vm.HW.Attachments = append(vm.HW.Attachments[:i], vm.HW.Attachments[i+1:]...)
			return
		}
	}
}
