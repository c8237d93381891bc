package domxml

import (
	"fmt"
	"strings"
)

// DiskRef is one attached medium, named as the domain XML names it and as
// VirtualBox's /Public/Storage/ statistics do.
type DiskRef struct {
	Target string // "sda", "hdc"... (the XML's <target dev>)
	Source string // image path ("" for an empty drive)
	Kind   string // disk, cdrom, floppy
	// Stat is the statistics prefix of the attachment in the VM process:
	// "/Public/Storage/<DEVICE><instance>/Port<lun>/" (DrvVD names it after
	// the controller's PDM device, upper-cased; IDE LUNs are port*2+device).
	Stat string
}

// NICRef is one network adapter of the domain XML.
type NICRef struct {
	Slot   int    // 1-based adapter number
	MAC    string // "08:00:27:a1:b2:c3"
	Model  string // VirtualBox adapter type
	Target string // the live <target dev> (LiveNICName)
	Alias  string // "ua-nicN"
}

// pdmStorageDevice is the PDM device of each controller type.
var pdmStorageDevice = map[string]string{
	"piix3": "PIIX3IDE", "piix4": "PIIX3IDE", "ich6": "PIIX3IDE", "intelahci": "AHCI", "lsilogic": "LSILOGICSCSI",
	"buslogic": "BUSLOGIC", "lsilogicsas": "LSILOGICSAS", "virtioscsi": "VIRTIO-SCSI", "i82078": "I82078", "nvme": "NVME",
}

// LiveNICName is the interface name a running domain's XML gives adapter
// slot (VirtualBox has no host-side device per adapter; the name only
// identifies it to virDomainInterfaceStats and monitoring tools).
func LiveNICName(slot int) string { return fmt.Sprintf("vboxnic%d", slot) }

// Devices lists the disks and network adapters of a machine in XML order.
func Devices(info Info) ([]DiskRef, []NICRef, error) {
	c, err := fromInfo(&info)
	if err != nil {
		return nil, nil, err
	}
	inst := map[string]int{}
	stat := map[string]string{}
	for _, ctl := range c.Controllers {
		dev := pdmStorageDevice[strings.ToLower(ctl.VBoxType)]
		if dev == "" {
			dev = strings.ToUpper(ctl.VBoxType)
		}
		stat[ctl.Name] = fmt.Sprintf("/Public/Storage/%s%d/", dev, inst[dev])
		inst[dev]++
	}
	var disks []DiskRef
	sdCount := 0
	for _, dk := range c.Disks {
		var ctl controller
		for _, x := range c.Controllers {
			if x.Name == dk.Controller {
				ctl = x
			}
		}
		k, _ := kindByVBoxType(ctl.VBoxType)
		lun := dk.Port
		var target string
		switch k.DiskBus {
		case "ide":
			target = "hd" + diskLetters(int(dk.Port*2+dk.Device))
			lun = dk.Port*2 + dk.Device
		case "fdc":
			target = "fd" + diskLetters(int(dk.Device))
			lun = dk.Device
		default:
			target = "sd" + diskLetters(sdCount)
			sdCount++
		}
		disks = append(disks, DiskRef{Target: target, Source: dk.Source, Kind: dk.Kind,
			Stat: fmt.Sprintf("%sPort%d/", stat[dk.Controller], lun)})
	}
	var nics []NICRef
	for _, n := range c.NICs {
		nics = append(nics, NICRef{Slot: n.Slot, MAC: formatMAC(n.MAC), Model: n.Model, Target: LiveNICName(n.Slot),
			Alias: fmt.Sprintf("ua-nic%d", n.Slot)})
	}
	return disks, nics, nil
}
