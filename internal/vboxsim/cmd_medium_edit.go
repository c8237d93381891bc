package vboxsim

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// modifymedium and clonemedium (reference §4.8; VirtualBox's manual,
// "VBoxManage modifymedium" and "VBoxManage clonemedium"): see
// docs/simulator.md for what the simulator relies on.

func (s *Sim) cmdModifyMedium(args []string) int {
	args = withoutMediumType(args)
	opts, pos, msg := getopt(args, spec("--type=", "--autoreset=", "--property=", "--compact", "--resize=", "--resizebyte=",
		"--move=", "--setlocation=", "--description="))
	if msg != "" {
		return s.getoptError("modifymedium", msg, 2)
	}
	if len(pos) != 1 {
		return s.syntaxError("modifymedium", "Disk name or UUID required", 2)
	}
	newSize := int64(-1)
	var typ string
	compact := false
	for _, o := range opts {
		switch o.name {
		case "--resize", "--resizebyte":
			n, err := strconv.ParseInt(o.val, 10, 64)
			if err != nil || n < 0 {
				return s.getoptError("modifymedium", fmt.Sprintf("Invalid parameter '%s'", o.val), 2)
			}
			if o.name == "--resizebyte" {
				n = (n + 1<<20 - 1) >> 20
			}
			newSize = n
		case "--type":
			typ = strings.ToLower(o.val)
			switch typ {
			case "normal", "writethrough", "immutable", "shareable", "readonly", "multiattach":
			default:
				return s.fail("Invalid medium type '%s'", o.val)
			}
		case "--compact":
			compact = true
		}
	}
	reg, err := s.lockRegistry(true)
	if err != nil {
		return s.internalError(err)
	}
	m := s.findMedium(pos[0])
	if m == nil {
		if m, _ = s.openMedium(pos[0], "hdd"); m == nil {
			return s.mediumNotFound(pos[0], "VBoxManageDisk.cpp", 780)
		}
	}
	if newSize >= 0 || compact {
		for _, vm := range s.mediumUsers(reg, m.UUID) {
			if isOnline(vm.State) {
				return s.api(apiError{Msg: fmt.Sprintf("Medium '%s' is locked for writing by another task", m.Location),
					Code: "VBOX_E_INVALID_OBJECT_STATE", Component: "MediumWrap", Interface: "IMedium",
					Context: "pMedium->ResizeWithProgress(cbNewSize, pProgress.asOutParam())", Line: 833, File: "VBoxManageDisk.cpp"})
			}
		}
	}
	if newSize >= 0 {
		if newSize < m.SizeMB {
			label := "Progress state: "
			if !s.p.Is61() {
				label = ""
			}
			fmt.Fprintf(s.stderr, "0%%...\n%sVBOX_E_NOT_SUPPORTED\n", label)
			fmt.Fprintf(s.stderr, "VBoxManage: error: Failed to resize medium\n")
			fmt.Fprintf(s.stderr, "VBoxManage: error: Resizing to new size %d is not yet supported for medium '%s'\n", newSize<<20, m.Location)
			fmt.Fprintf(s.stderr, "VBoxManage: error: Details: code VBOX_E_NOT_SUPPORTED (0x80bb0009), component MediumWrap, interface IMedium\n")
			fmt.Fprintf(s.stderr, "VBoxManage: error: Context: \"RTEXITCODE handleModifyMedium(HandlerArg*)\" at line 840 of file VBoxManageDisk.cpp\n")
			return 1
		}
		m.SizeMB = newSize
		if err := writeImage(m.Location, m.Format, newSize); err != nil {
			return s.fail("Failed to resize medium")
		}
		s.progress()
	}
	if compact {
		s.progress()
	}
	if typ != "" {
		m.Type = typ
	}
	s.st.MarkRegistry()
	if err := s.st.Commit(); err != nil {
		return s.internalError(err)
	}
	return 0
}

func (s *Sim) cmdCloneMedium(args []string) int {
	kind := "hdd"
	if len(args) > 0 {
		switch args[0] {
		case "disk":
			args = args[1:]
		case "dvd", "floppy":
			kind, args = args[0], args[1:]
		}
	}
	opts, pos, msg := getopt(args, spec("--format=", "--variant=", "--existing"))
	if msg != "" {
		return s.getoptError("clonemedium", msg, 2)
	}
	if len(pos) != 2 {
		return s.syntaxError("clonemedium", "Mandatory UUID or input file parameter missing", 2)
	}
	format, variant := "", ""
	for _, o := range opts {
		switch o.name {
		case "--format":
			format = strings.ToUpper(o.val)
			if format != "VDI" && format != "VMDK" && format != "VHD" && format != "RAW" {
				return s.fail("Invalid format '%s'", o.val)
			}
		case "--variant":
			for _, v := range strings.Split(o.val, ",") {
				switch strings.ToLower(v) {
				case "standard", "fixed", "split2g", "stream", "esx", "formatted":
				default:
					return s.fail("Invalid medium variant '%s'", o.val)
				}
			}
			variant = o.val
		case "--existing":
			return s.fail("--existing is not supported by the simulator")
		}
	}
	reg, err := s.lockRegistry(true)
	if err != nil {
		return s.internalError(err)
	}
	src := s.findMedium(pos[0])
	if src == nil {
		if src, _ = s.openMedium(pos[0], kind); src == nil {
			return s.mediumNotFound(pos[0], "VBoxManageDisk.cpp", 1050)
		}
	}
	if format == "" {
		format = src.Format
	}
	dst, _ := filepath.Abs(pos[1])
	if _, err := os.Stat(dst); err == nil || s.findMedium(dst) != nil {
		return s.api(apiError{Msg: fmt.Sprintf("Cannot register the hard disk '%s' {%s} because a hard disk '%s' with UUID {%s} already exists",
			dst, s.newUUID(), dst, src.UUID), Code: "NS_ERROR_INVALID_ARG", Component: "VirtualBoxWrap", Interface: "IVirtualBox",
			Context: "CreateMedium(Bstr(format).raw(), Bstr(pszDst).raw(), AccessMode_ReadWrite, DeviceType_HardDisk, pDstMedium.asOutParam())",
			Line:    1101, File: "VBoxManageDisk.cpp"})
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return s.fail("Failed to clone medium")
	}
	if err := writeImage(dst, format, src.SizeMB); err != nil {
		return s.fail("Failed to clone medium")
	}
	m := &Medium{UUID: s.newUUID(), Kind: src.Kind, Location: dst, Format: format, Variant: variant, SizeMB: src.SizeMB, Type: "normal"}
	if m.Kind != "hdd" {
		m.Type = "readonly"
	}
	reg.Media = append(reg.Media, m)
	s.st.MarkRegistry()
	if err := s.st.Commit(); err != nil {
		return s.internalError(err)
	}
	s.progress()
	fmt.Fprintf(s.stdout, "Clone medium created in format '%s'. UUID: %s\n", format, m.UUID)
	return 0
}
