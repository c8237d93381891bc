package vbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"libvirt.org/go/libvirtxml"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// capabilitiesXML is the capabilities document of libvirt's vbox driver for
// a host of the given arch (libvirt's spelling): the host CPU arch, no power
// management, no IOMMU, and one hvm guest of domain type vbox for each of
// x86_64 and i686, the guest arches VirtualBox runs.
func capabilitiesXML(arch string) (string, error) {
	caps := libvirtxml.Caps{
		Host: libvirtxml.CapsHost{
			CPU:             &libvirtxml.CapsHostCPU{Arch: arch},
			PowerManagement: &libvirtxml.CapsHostPowerManagement{},
			IOMMU:           &libvirtxml.CapsHostIOMMU{Support: "no"},
		},
	}
	for _, g := range []struct{ arch, wordsize string }{{"x86_64", "64"}, {"i686", "32"}} {
		caps.Guests = append(caps.Guests, libvirtxml.CapsGuest{
			OSType: "hvm",
			Arch: libvirtxml.CapsGuestArch{
				Name:     g.arch,
				WordSize: g.wordsize,
				Domains:  []libvirtxml.CapsGuestDomain{{Type: "vbox"}},
			},
		})
	}
	doc, err := caps.Marshal()
	if err != nil {
		return "", errdefs.Wrap(errdefs.ErrInternal, err, "cannot format capabilities: "+err.Error())
	}
	return doc + "\n", nil
}

// hostSysinfo builds libvirt's <sysinfo type='smbios'> from the DMI files
// in dmiDir (/sys/class/dmi/id) and the processor and memory lines of
// `list hostinfo`. A value that cannot be read is left out, and so is a
// section left empty (containers have no DMI).
func hostSysinfo(hi Record, dmiDir string) (string, error) {
	dmi := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dmiDir, name))
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	// entries pairs names with values and drops the empty values.
	entries := func(pairs ...string) []libvirtxml.SysInfoEntry {
		var es []libvirtxml.SysInfoEntry
		for i := 0; i+1 < len(pairs); i += 2 {
			if v := pairs[i+1]; v != "" {
				es = append(es, libvirtxml.SysInfoEntry{Name: pairs[i], Value: v})
			}
		}
		return es
	}
	var s libvirtxml.SysInfoSMBIOS
	if es := entries("vendor", dmi("bios_vendor"), "version", dmi("bios_version"), "date", dmi("bios_date"),
		"release", dmi("bios_release")); es != nil {
		s.BIOS = &libvirtxml.SysInfoBIOS{Entry: es}
	}
	if es := entries("manufacturer", dmi("sys_vendor"), "product", dmi("product_name"),
		"version", dmi("product_version"), "serial", dmi("product_serial"), "uuid", dmi("product_uuid"),
		"sku", dmi("product_sku"), "family", dmi("product_family")); es != nil {
		s.System = &libvirtxml.SysInfoSystem{Entry: es}
	}
	if es := entries("manufacturer", dmi("board_vendor"), "product", dmi("board_name"),
		"version", dmi("board_version"), "serial", dmi("board_serial"), "asset", dmi("board_asset_tag")); es != nil {
		s.BaseBoard = []libvirtxml.SysInfoBaseBoard{{Entry: es}}
	}
	if es := entries("manufacturer", dmi("chassis_vendor"), "version", dmi("chassis_version"),
		"serial", dmi("chassis_serial"), "asset", dmi("chassis_asset_tag")); es != nil {
		s.Chassis = &libvirtxml.SysInfoChassis{Entry: es}
	}
	speed := ""
	if mhz := hi.LeadingInt("Processor#0 speed", 0); mhz > 0 {
		speed = fmt.Sprintf("%d MHz", mhz)
	}
	if es := entries("version", hi.Str("Processor#0 description"), "max_speed", speed); es != nil {
		s.Processor = []libvirtxml.SysInfoProcessor{{Entry: es}}
	}
	size := ""
	if mb := hi.LeadingInt("Memory size", 0); mb > 0 {
		size = fmt.Sprintf("%d MB", mb)
	}
	if es := entries("size", size); es != nil {
		s.Memory = []libvirtxml.SysInfoMemory{{Entry: es}}
	}
	si := libvirtxml.SysInfo{SMBIOS: &s}
	doc, err := si.Marshal()
	if err != nil {
		return "", errdefs.Wrap(errdefs.ErrInternal, err, "cannot format sysinfo: "+err.Error())
	}
	return doc + "\n", nil
}
