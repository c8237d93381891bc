package vbox

import (
	"context"
	"strings"

	"libvirt.org/go/libvirtxml"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// DomainCapabilities implements driver.Conn: what domain XML the driver
// accepts on this host (docs/domain-xml.md): BIOS and EFI firmware, the
// disk buses of the controllers it maps, VirtualBox's adapter types, its
// graphics adapters, VRDE (rdp) and the GUI front ends, USB host devices.
func (c *conn) DomainCapabilities(ctx context.Context, emulator, arch, machine, virtType string, flags uint32) (string, error) {
	if flags != 0 {
		return "", unsupportedFlags(flags, "virConnectGetDomainCapabilities")
	}
	host := hostArch()
	if virtType != "" && !strings.EqualFold(virtType, "vbox") {
		return "", errdefs.Newf(errdefs.ErrInvalidArg, "unknown virttype: %s", virtType)
	}
	if arch != "" && arch != host {
		return "", errdefs.Newf(errdefs.ErrInvalidArg, "architecture %s is not supported by VirtualBox on this host (%s)", arch, host)
	}
	if machine != "" {
		return "", errdefs.Newf(errdefs.ErrInvalidArg, "VirtualBox has no machine types (%s)", machine)
	}
	maxCPU, err := c.MaxVcpus(ctx, "vbox")
	if err != nil {
		return "", err
	}
	path := emulator
	if path == "" {
		path = c.d.opts.VBoxManagePath
	}
	enum := func(name string, vals ...string) libvirtxml.DomainCapsEnum {
		return libvirtxml.DomainCapsEnum{Name: name, Values: vals}
	}
	dev := func(enums ...libvirtxml.DomainCapsEnum) *libvirtxml.DomainCapsDevice {
		return &libvirtxml.DomainCapsDevice{Supported: "yes", Enums: enums}
	}
	no := &libvirtxml.DomainCapsDevice{Supported: "no"}
	caps := libvirtxml.DomainCaps{
		Path:      path,
		Domain:    "vbox",
		Arch:      host,
		VCPU:      &libvirtxml.DomainCapsVCPU{Max: uint(maxCPU)},
		IOThreads: &libvirtxml.DomainCapsIOThreads{Supported: "no"},
		OS: &libvirtxml.DomainCapsOS{Supported: "yes", Enums: []libvirtxml.DomainCapsEnum{enum("firmware", "bios", "efi")},
			Loader: &libvirtxml.DomainCapsOSLoader{Supported: "no"}},
		Devices: &libvirtxml.DomainCapsDevices{
			Disk:       dev(enum("diskDevice", "disk", "cdrom", "floppy"), enum("bus", "ide", "fdc", "scsi", "sata")),
			Graphics:   dev(enum("type", "desktop", "rdp", "sdl")),
			Video:      dev(enum("modelType", "vbox", "vmvga", "none")),
			HostDev:    dev(enum("mode", "subsystem"), enum("startupPolicy"), enum("subsysType", "usb"), enum("capsType"), enum("pciBackend")),
			Interface:  dev(enum("model", "82540em", "82543gc", "82545em", "am79c970a", "am79c973", "virtio")),
			FileSystem: dev(enum("driverType", "path")),
			RNG:        no,
			TPM:        no,
		},
	}
	return caps.Marshal()
}
