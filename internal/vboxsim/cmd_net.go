package vboxsim

import (
	"fmt"
	"net"
	"sort"
	"strings"
)

func (s *Sim) cmdHostOnlyIf(args []string) int {
	if len(args) == 0 {
		return s.syntaxError("hostonlyif", "Not enough parameters", 2)
	}
	reg, err := s.lockRegistry(true)
	if err != nil {
		return s.internalError(err)
	}
	find := func(name string) int {
		for i, h := range reg.HostOnlyIfs {
			if h.Name == name {
				return i
			}
		}
		return -1
	}
	notFound := func(name, ctx string) int {
		return s.api(apiError{Msg: fmt.Sprintf("The host network interface named '%s' could not be found", name), Code: "VBOX_E_OBJECT_NOT_FOUND",
			Component: "HostWrap", Interface: "IHost", Context: ctx, Line: 120, File: "VBoxManageHostonly.cpp"})
	}
	switch args[0] {
	case "create":
		mr := len(args) > 1 && args[1] == "--machinereadable" && !s.p.Is61()
		if len(args) > 1 && !mr {
			return s.syntaxError("hostonlyif", fmt.Sprintf("Invalid parameter '%s'", args[1]), 2)
		}
		n := 0
		for find(fmt.Sprintf("vboxnet%d", n)) >= 0 {
			n++
		}
		h := &HostOnlyIf{Name: fmt.Sprintf("vboxnet%d", n), GUID: fmt.Sprintf("786f6276-656e-%04x-8000-0a00270000%02x", 0x4074+n*0x100, n),
			IP: fmt.Sprintf("192.168.%d.1", 56+n), Mask: "255.255.255.0", MAC: fmt.Sprintf("0a:00:27:00:00:%02x", n), Status: "Down"}
		reg.HostOnlyIfs = append(reg.HostOnlyIfs, h)
		s.st.MarkRegistry()
		if err := s.st.Commit(); err != nil {
			return s.internalError(err)
		}
		s.progress()
		if mr {
			fmt.Fprintln(s.stdout, h.Name)
		} else {
			fmt.Fprintf(s.stdout, "Interface '%s' was successfully created\n", h.Name)
		}
		return 0
	case "remove":
		if len(args) != 2 {
			return s.syntaxError("hostonlyif", "Incorrect number of parameters", 2)
		}
		i := find(args[1])
		if i < 0 {
			return notFound(args[1], "FindHostNetworkInterfaceByName(name.raw(), hif.asOutParam())")
		}
		reg.HostOnlyIfs = append(reg.HostOnlyIfs[:i], reg.HostOnlyIfs[i+1:]...)
		s.st.MarkRegistry()
		if err := s.st.Commit(); err != nil {
			return s.internalError(err)
		}
		s.progress()
		return 0
	case "ipconfig":
		if len(args) < 2 {
			return s.syntaxError("hostonlyif", "Incorrect number of parameters", 2)
		}
		opts, pos, msg := getopt(args[2:], spec("--dhcp", "--ip=", "--netmask=", "--ipv6=", "--netmasklengthv6="))
		if msg != "" {
			return s.getoptError("hostonlyif", msg, 2)
		}
		if len(pos) > 0 {
			return s.syntaxError("hostonlyif", fmt.Sprintf("Invalid parameter '%s'", pos[0]), 2)
		}
		i := find(args[1])
		if i < 0 {
			return notFound(args[1], "FindHostNetworkInterfaceByName(Bstr(pszName).raw(), hif.asOutParam())")
		}
		h := reg.HostOnlyIfs[i]
		for _, o := range opts {
			switch o.name {
			case "--dhcp":
				h.DHCP = true
			case "--ip":
				ip := net.ParseIP(o.val)
				_, allowed, _ := net.ParseCIDR("192.168.56.0/21")
				if ip == nil || ip.To4() == nil {
					return s.syntaxError("hostonlyif", fmt.Sprintf("Invalid IP address '%s'", o.val), 2)
				}
				if !allowed.Contains(ip) {
					fmt.Fprint(s.stderr, "VBoxManage: error: Code E_ACCESSDENIED (0x80070005) - Access denied (extended info not available)\n")
					fmt.Fprint(s.stderr, "VBoxManage: error: Context: \"EnableStaticIPConfig(Bstr(pszIp).raw(), Bstr(pszNetmask).raw())\" at line 242 of file VBoxManageHostonly.cpp\n")
					return 1
				}
				h.IP, h.DHCP = o.val, false
			case "--netmask":
				h.Mask = o.val
			case "--ipv6":
				h.IPv6 = o.val
				if h.IPv6Len == 0 {
					h.IPv6Len = 64
				}
			case "--netmasklengthv6":
				fmt.Sscanf(o.val, "%d", &h.IPv6Len)
			}
		}
		s.st.MarkRegistry()
		if err := s.st.Commit(); err != nil {
			return s.internalError(err)
		}
		return 0
	}
	return s.syntaxError("hostonlyif", fmt.Sprintf("Invalid parameter '%s'", args[0]), 2)
}

func (s *Sim) cmdNATNetwork(args []string) int {
	if len(args) == 0 {
		return s.syntaxError("natnetwork", "Not enough parameters", 2)
	}
	argErr := 1
	if !s.p.Is61() {
		argErr = 2
	}
	sub := args[0]
	opts, pos, msg := getopt(args[1:], spec("-t|--netname=", "-n|--network=", "-e|--enable", "-d|--disable", "-h|--dhcp=",
		"-6|--ipv6=", "-p|--port-forward-4=", "-P|--port-forward-6=", "-l|--loopback-4=", "-L|--loopback-6=", "--ipv6-prefix=", "--ipv6-default="))
	if msg != "" {
		return s.getoptError("natnetwork", msg, 2)
	}
	reg, err := s.lockRegistry(true)
	if err != nil {
		return s.internalError(err)
	}
	if sub == "list" {
		filter := ""
		if len(pos) > 0 {
			filter = pos[0]
		}
		var nets []*NATNetwork
		for _, n := range reg.NATNets {
			if filter == "" || strings.Contains(n.Name, strings.Trim(filter, "*")) {
				nets = append(nets, n)
			}
		}
		fmt.Fprint(s.stdout, "NAT Networks:\n\n")
		s.listNATNets(nets, true)
		if len(nets) == 1 {
			fmt.Fprintln(s.stdout, "1 network found")
		} else {
			fmt.Fprintf(s.stdout, "%d networks found\n", len(nets))
		}
		return 0
	}
	if len(pos) > 0 {
		return s.syntaxError("natnetwork", fmt.Sprintf("Invalid parameter '%s'", pos[0]), 2)
	}
	var name string
	for _, o := range opts {
		if o.name == "--netname" {
			name = o.val
		}
	}
	if name == "" {
		return s.syntaxError("natnetwork", "You need to specify the --netname option", argErr)
	}
	idx := -1
	for i, n := range reg.NATNets {
		if n.Name == name {
			idx = i
		}
	}
	switch sub {
	case "add", "modify":
		var n *NATNetwork
		if sub == "add" {
			if idx >= 0 {
				s.fail("NATNetwork server already exists")
				return argErr // 7.x reports it with errorArgument (exit 2)
			}
			n = &NATNetwork{Name: name, Enabled: true, DHCP: true, Prefix6: "fd17:625c:f037:2::/64"}
		} else {
			if idx < 0 {
				return s.fail("NATNetwork server does not exist")
			}
			n = reg.NATNets[idx]
		}
		for _, o := range opts {
			switch o.name {
			case "--network":
				if _, _, err := net.ParseCIDR(o.val); err != nil {
					return s.fail("Invalid --network argument '%s'", o.val)
				}
				n.Network = o.val
			case "--enable":
				n.Enabled = true
			case "--disable":
				n.Enabled = false
			case "--dhcp", "--ipv6":
				b, ok := parseBool(o.val)
				if !ok {
					return s.syntaxError("natnetwork", fmt.Sprintf("Invalid %s argument '%s'", o.name, o.val), 2)
				}
				if o.name == "--dhcp" {
					n.DHCP = b
				} else {
					n.IPv6 = b
				}
			case "--port-forward-4":
				if strings.HasPrefix(o.val, "delete") {
					ruleName := strings.TrimSpace(strings.TrimPrefix(o.val, "delete"))
					for i, r := range n.Forwards {
						if strings.SplitN(r, ":", 2)[0] == ruleName {
							n.Forwards = append(n.Forwards[:i], n.Forwards[i+1:]...)
							break
						}
					}
					continue
				}
				n.Forwards = append(n.Forwards, o.val)
			case "--loopback-4":
				n.Loopback = append(n.Loopback, o.val)
			}
		}
		if n.Network == "" {
			return s.syntaxError("natnetwork", "You need to specify the --network option", argErr)
		}
		if sub == "add" {
			reg.NATNets = append(reg.NATNets, n)
		}
	case "remove":
		if idx < 0 {
			return s.fail("NATNetwork server does not exist")
		}
		reg.NATNets = append(reg.NATNets[:idx], reg.NATNets[idx+1:]...)
	case "start", "stop":
		if idx < 0 {
			return s.fail("NATNetwork server does not exist")
		}
		n := reg.NATNets[idx]
		if sub == "stop" || !n.Enabled || !n.DHCP {
			return 0
		}
		if _, d := reg.dhcpServer(n.Name); d != nil {
			return 0
		}
		if d := natDHCPServer(n); d != nil {
			reg.DHCPServers = append(reg.DHCPServers, d)
		}
	default:
		return s.syntaxError("natnetwork", fmt.Sprintf("Invalid parameter '%s'", sub), 2)
	}
	s.st.MarkRegistry()
	if err := s.st.Commit(); err != nil {
		return s.internalError(err)
	}
	return 0
}

func (s *Sim) cmdSetExtraData(args []string) int {
	if len(args) < 2 || len(args) > 3 {
		return s.syntaxError("setextradata", "Incorrect number of parameters", 2)
	}
	reg, err := s.lockRegistry(true)
	if err != nil {
		return s.internalError(err)
	}
	set := func(m map[string]string) {
		if len(args) == 3 && args[2] != "" {
			m[args[1]] = args[2]
		} else {
			delete(m, args[1])
		}
	}
	if args[0] == "global" {
		set(reg.ExtraData)
		s.st.MarkRegistry()
	} else {
		vm, err := s.findVM(args[0])
		if err != nil {
			return s.internalError(err)
		}
		if vm == nil {
			return s.notFound(args[0], "FindMachine(Bstr(a->argv[0]).raw(), machine.asOutParam())", "VBoxManageMisc.cpp", 1180)
		}
		if vm.ExtraData == nil {
			vm.ExtraData = map[string]string{}
		}
		set(vm.ExtraData)
		s.st.PutVM(vm)
	}
	if err := s.st.Commit(); err != nil {
		return s.internalError(err)
	}
	return 0
}

func (s *Sim) cmdGetExtraData(args []string) int {
	if len(args) != 2 {
		return s.syntaxError("getextradata", "Incorrect number of parameters", 2)
	}
	reg, err := s.lockRegistry(false)
	if err != nil {
		return s.internalError(err)
	}
	data := reg.ExtraData
	if args[0] != "global" {
		vm, err := s.findVM(args[0])
		if err != nil {
			return s.internalError(err)
		}
		if vm == nil {
			return s.notFound(args[0], "FindMachine(Bstr(a->argv[0]).raw(), machine.asOutParam())", "VBoxManageMisc.cpp", 1110)
		}
		data = vm.ExtraData
	}
	if args[1] == "enumerate" {
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(s.stdout, "Key: %s, Value: %s\n", k, data[k])
		}
		return 0
	}
	if v, ok := data[args[1]]; ok {
		fmt.Fprintf(s.stdout, "Value: %s\n", v)
	} else {
		fmt.Fprintln(s.stdout, "No value set!")
	}
	return 0
}

func (s *Sim) cmdSharedFolder(args []string) int {
	if len(args) < 2 {
		return s.syntaxError("sharedfolder", "Not enough parameters", 2)
	}
	sub, ref := args[0], args[1]
	if sub != "add" && sub != "remove" {
		return s.syntaxError("sharedfolder", fmt.Sprintf("Invalid parameter '%s'", sub), 2)
	}
	opts, pos, msg := getopt(args[2:], spec("--name=", "--hostpath=", "--readonly", "--transient", "--automount", "--auto-mount-point="))
	if msg != "" {
		return s.getoptError("sharedfolder", msg, 2)
	}
	if len(pos) > 0 {
		return s.syntaxError("sharedfolder", fmt.Sprintf("Invalid parameter '%s'", pos[0]), 2)
	}
	f := SharedFolder{}
	for _, o := range opts {
		switch o.name {
		case "--name":
			f.Name = o.val
		case "--hostpath":
			f.Path = o.val
		case "--readonly":
			f.ReadOnly = true
		case "--transient":
			f.Transient = true
		case "--automount":
			f.AutoMount = true
		}
	}
	if f.Name == "" {
		return s.syntaxError("sharedfolder", "Shared folder name (--name) required", 2)
	}
	if sub == "add" && f.Path == "" {
		return s.syntaxError("sharedfolder", "Host path (--hostpath) required", 2)
	}
	apply := func(vm *VM) int {
		idx := -1
		for i, x := range vm.HW.SharedFolders {
			if x.Name == f.Name && x.Transient == f.Transient {
				idx = i
			}
		}
		if sub == "add" {
			if idx >= 0 {
				return s.api(apiError{Msg: fmt.Sprintf("Shared folder named '%s' already exists", f.Name), Code: "VBOX_E_OBJECT_IN_USE",
					Component: "SessionMachine", Interface: "IMachine", Context: "CreateSharedFolder(Bstr(name).raw(), Bstr(hostpath).raw(), fWritable, fAutoMount, Bstr(pszAutoMountPoint).raw())",
					Line: 1230, File: "VBoxManageMisc.cpp"})
			}
			if !strings.HasPrefix(f.Path, "/") {
				return s.api(apiError{Msg: fmt.Sprintf("Shared folder path '%s' is not absolute", f.Path), Code: "E_INVALIDARG",
					Component: "SharedFolderWrap", Interface: "ISharedFolder", Context: "CreateSharedFolder(Bstr(name).raw(), Bstr(hostpath).raw(), fWritable, fAutoMount, Bstr(pszAutoMountPoint).raw())",
					Line: 1230, File: "VBoxManageMisc.cpp"})
			}
			vm.HW.SharedFolders = append(vm.HW.SharedFolders, f)
		} else {
			if idx < 0 {
				return s.api(apiError{Msg: fmt.Sprintf("Could not find a shared folder named '%s'.", f.Name), Code: "VBOX_E_OBJECT_NOT_FOUND",
					Component: "SessionMachine", Interface: "IMachine", Context: "RemoveSharedFolder(Bstr(pszName).raw())", Line: 1290, File: "VBoxManageMisc.cpp"})
			}
			vm.HW.SharedFolders = append(vm.HW.SharedFolders[:idx], vm.HW.SharedFolders[idx+1:]...)
		}
		s.st.PutVM(vm)
		return 0
	}
	if f.Transient {
		vm, err := s.workThenFindVM(ref, true)
		if err != nil {
			return s.internalError(err)
		}
		if vm == nil {
			return s.notFound(ref, "FindMachine(Bstr(pszMachineName).raw(), machine.asOutParam())", "VBoxManageMisc.cpp", 1210)
		}
		if !isOnline(vm.State) {
			return s.fail("Machine '%s' is not currently running.", vm.Name)
		}
		code := apply(vm)
		if code == 0 {
			if err := s.st.Commit(); err != nil {
				return s.internalError(err)
			}
		}
		return code
	}
	return s.writeSession(ref, s.notFoundIn("FindMachine(Bstr(pszMachineName).raw(), machine.asOutParam())", "VBoxManageMisc.cpp", 1210),
		s.lockedWrite("VBoxManageMisc.cpp", 1215), apply)
}
