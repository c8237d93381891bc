package vboxsim

import (
	"fmt"
	"strconv"
	"strings"
)

// cmdUSBFilter implements usbfilter add/modify/remove for machine filters
// (global host filters are accepted and ignored).
func (s *Sim) cmdUSBFilter(args []string) int {
	if len(args) < 2 {
		return s.syntaxError("usbfilter", "Not enough parameters", 2)
	}
	sub := args[0]
	if sub != "add" && sub != "modify" && sub != "remove" {
		return s.syntaxError("usbfilter", fmt.Sprintf("Invalid parameter '%s'", sub), 2)
	}
	index, err := strconv.Atoi(args[1])
	if err != nil || index < 0 {
		return s.syntaxError("usbfilter", fmt.Sprintf("Invalid index '%s'", args[1]), 2)
	}
	opts, pos, msg := getopt(args[2:], spec("-t|--target=", "-n|--name=", "-a|--active=", "-v|--vendorid=", "-p|--productid=",
		"-r|--revision=", "-m|--manufacturer=", "-P|--product=", "-R|--remote=", "-s|--serialnumber=", "-M|--maskedinterfaces=",
		"-A|--action=", "--port="))
	if msg != "" {
		return s.getoptError("usbfilter", msg, 2)
	}
	if len(pos) > 0 {
		return s.syntaxError("usbfilter", fmt.Sprintf("Invalid parameter '%s'", pos[0]), 2)
	}
	target, name := "", ""
	for _, o := range opts {
		switch o.name {
		case "--target":
			target = o.val
		case "--name":
			name = o.val
		}
	}
	if target == "" {
		return s.syntaxError("usbfilter", "Mandatory options not specified", 2)
	}
	if sub == "add" && name == "" {
		return s.syntaxError("usbfilter", "Mandatory options not specified", 2)
	}
	if target == "global" {
		s.work()
		return 0
	}
	// VBoxManageUSB.cpp takes a shared lock: on a machine without a session
	// it is a write lock; a running machine's filters change live (its
	// console applies them) and are saved.
	apply := func(vm *VM) int {
		fl := &vm.HW.USBFilters
		if sub == "remove" {
			if index >= len(*fl) {
				return s.api(apiError{Msg: "Invalid index", Code: "E_INVALIDARG", Component: "USBDeviceFiltersWrap",
					Interface: "IUSBDeviceFilters", Context: "RemoveDeviceFilter(cmd.mIndex, aFilter.asOutParam())", Line: 500, File: "VBoxManageUSB.cpp"})
			}
			*fl = append((*fl)[:index], (*fl)[index+1:]...)
			s.st.PutVM(vm)
			return 0
		}
		var f USBFilter
		if sub == "modify" {
			if index >= len(*fl) {
				return s.api(apiError{Msg: "Invalid index", Code: "E_INVALIDARG", Component: "USBDeviceFiltersWrap",
					Interface: "IUSBDeviceFilters", Context: "COMGETTER(DeviceFilters)(ComSafeArrayAsOutParam(coll))", Line: 470, File: "VBoxManageUSB.cpp"})
			}
			f = (*fl)[index]
		} else {
			f.Active = true
		}
		for _, o := range opts {
			switch o.name {
			case "--name":
				f.Name = o.val
			case "--active":
				b, ok := parseBool(o.val)
				if !ok {
					return s.syntaxError("usbfilter", fmt.Sprintf("Invalid --active argument '%s'", o.val), 2)
				}
				f.Active = b
			case "--vendorid":
				f.VendorID = strings.ToLower(o.val)
			case "--productid":
				f.ProductID = strings.ToLower(o.val)
			case "--revision":
				f.Revision = o.val
			case "--manufacturer":
				f.Manufacturer = o.val
			case "--product":
				f.Product = o.val
			case "--remote":
				f.Remote = o.val
			case "--serialnumber":
				f.Serial = o.val
			}
		}
		if sub == "modify" {
			(*fl)[index] = f
		} else {
			if index > len(*fl) {
				index = len(*fl)
			}
			*fl = append((*fl)[:index], append([]USBFilter{f}, (*fl)[index:]...)...)
		}
		s.st.PutVM(vm)
		return 0
	}
	if err := s.st.Lock(true); err != nil {
		return s.internalError(err)
	}
	vm, err := s.findVM(target)
	if err != nil {
		return s.internalError(err)
	}
	s.st.Unlock()
	if vm != nil && isOnline(vm.State) {
		if vm, err = s.workThenFindVM(target, true); err != nil {
			return s.internalError(err)
		}
		if vm == nil {
			return s.notFound(target, "FindMachine(Bstr(cmd.mMachine).raw(), machine.asOutParam())", "VBoxManageUSB.cpp", 380)
		}
		code := apply(vm)
		if code == 0 {
			if err := s.st.Commit(); err != nil {
				return s.internalError(err)
			}
		}
		return code
	}
	return s.writeSession(target, s.notFoundIn("FindMachine(Bstr(cmd.mMachine).raw(), machine.asOutParam())", "VBoxManageUSB.cpp", 380),
		s.lockedWrite("VBoxManageUSB.cpp", 390), apply)
}
