package vboxsim

import (
	"encoding/json"
	"time"
)

// VM is one virtual machine as the simulator stores it (one JSON file per VM).
// Hardware holds everything a snapshot captures; the other fields are identity
// and runtime state that a snapshot restore does not touch.
type VM struct {
	Name         string            `json:"name"`
	UUID         string            `json:"uuid"`
	Groups       []string          `json:"groups"`
	CfgFile      string            `json:"cfgFile"`
	HardwareUUID string            `json:"hardwareUUID"`
	Description  string            `json:"description,omitempty"`
	HW           Hardware          `json:"hw"`
	State        string            `json:"state"` // VMState= value: poweroff, running, paused, saved, aborted, aborted-saved
	StateChange  time.Time         `json:"stateChange"`
	SessionType  string            `json:"sessionType,omitempty"` // headless, gui... while a VM process runs
	StateFile    string            `json:"stateFile,omitempty"`   // saved-state file while saved
	StartedAt    time.Time         `json:"startedAt,omitempty"`
	ACPIAt       time.Time         `json:"acpiAt,omitempty"`          // acpipowerbutton pressed at
	ReleaseAt    time.Time         `json:"releaseAt,omitempty"`       // VM process releases its session lock at
	ExtraData    map[string]string `json:"extraData,omitempty"`       // setextradata/getextradata
	Snapshot     *Snapshot         `json:"snapshot,omitempty"`        // root of the snapshot tree
	CurrentSnap  string            `json:"currentSnapshot,omitempty"` // UUID of the current snapshot
	SnapFolder   string            `json:"snapFolder"`
	AutostartOn  bool              `json:"autostart,omitempty"`
	AutostartDel int               `json:"autostartDelay,omitempty"`

	// inaccessible is set by findVM from the registry: the settings file
	// could not be read (simulated with "vboxsim set-state VM inaccessible").
	inaccessible bool
}

// Hardware is the part of a machine's settings a snapshot captures.
type Hardware struct {
	OSType             string            `json:"osType"`
	Memory             int               `json:"memory"`
	Balloon            int               `json:"balloon,omitempty"` // MiB (--guestmemoryballoon)
	VRAM               int               `json:"vram"`
	CPUs               int               `json:"cpus"`
	CPUExecCap         int               `json:"cpuExecCap"`
	Firmware           string            `json:"firmware"` // BIOS, EFI, EFI32, EFI64, EFIDUAL
	Chipset            string            `json:"chipset"`  // piix3, ich9
	Flags              map[string]bool   `json:"flags"`    // pae, longmode, acpi, ioapic...
	Boot               [4]string         `json:"boot"`
	BootMenu           string            `json:"bootMenu"`
	GraphicsController string            `json:"graphicsController"`
	MonitorCount       int               `json:"monitorCount"`
	ParavirtProvider   string            `json:"paravirtProvider"`
	Controllers        []Controller      `json:"controllers"`
	Attachments        []Attachment      `json:"attachments"`
	NICs               []NIC             `json:"nics"` // always 8 entries
	UARTs              [4]UART           `json:"uarts"`
	LPTs               [2]LPT            `json:"lpts"`
	USBFilters         []USBFilter       `json:"usbFilters,omitempty"`
	DefaultFrontend    string            `json:"defaultFrontend,omitempty"`
	Audio              Audio             `json:"audio"`
	Clipboard          string            `json:"clipboard"`
	DragAndDrop        string            `json:"dragAndDrop"`
	VRDE               VRDE              `json:"vrde"`
	USB                USB               `json:"usb"`
	SharedFolders      []SharedFolder    `json:"sharedFolders,omitempty"`
	HIDPointing        string            `json:"hidPointing"`
	HIDKeyboard        string            `json:"hidKeyboard"`
	Extra              map[string]string `json:"extra,omitempty"`
}

// Controller is a storage controller.
type Controller struct {
	Name      string `json:"name"`
	Bus       string `json:"bus"`  // ide, sata, scsi, sas, floppy, usb, pcie, virtio
	Type      string `json:"type"` // IntelAhci, PIIX4, LsiLogic...
	PortCount int    `json:"portCount"`
	Bootable  bool   `json:"bootable"`
	HostIO    bool   `json:"hostIOCache"`
}

// Attachment is a device slot with (or without) a medium.
type Attachment struct {
	Controller    string `json:"controller"`
	Port          int    `json:"port"`
	Device        int    `json:"device"`
	Type          string `json:"type"`             // hdd, dvddrive, fdd
	Medium        string `json:"medium,omitempty"` // medium UUID; empty = empty drive
	NonRotational bool   `json:"nonRotational,omitempty"`
	Discard       bool   `json:"discard,omitempty"`
	HotPluggable  bool   `json:"hotPluggable,omitempty"`
	TempEject     bool   `json:"tempEject,omitempty"`
	Passthrough   bool   `json:"passthrough,omitempty"`
}

// NIC is one network adapter slot.
type NIC struct {
	Attach     string   `json:"attach"` // none, null, nat, bridged, intnet, hostonly, generic, natnetwork
	Type       string   `json:"type"`   // 82540EM, virtio...
	MAC        string   `json:"mac"`
	Cable      bool     `json:"cable"`
	Bridge     string   `json:"bridge,omitempty"`
	HostOnly   string   `json:"hostOnly,omitempty"`
	IntNet     string   `json:"intNet,omitempty"`
	Generic    string   `json:"generic,omitempty"`
	NATNetwork string   `json:"natNetwork,omitempty"`
	NATNet     string   `json:"natNet,omitempty"` // natnetN: "nat" or a CIDR
	Forwarding []string `json:"forwarding,omitempty"`
	Speed      int      `json:"speed,omitempty"`
	// the last non-none attachment remembered for "nicN none" then back
}

// UART is a serial port.
type UART struct {
	Enabled bool   `json:"enabled"`
	IOBase  string `json:"ioBase,omitempty"` // 0x03f8
	IRQ     int    `json:"irq,omitempty"`
	Mode    string `json:"mode,omitempty"` // disconnected, file,<p>, tcpserver,<port>...
	Type    string `json:"type,omitempty"` // 16550A
}

// LPT is a parallel port.
type LPT struct {
	Enabled bool   `json:"enabled"`
	IOBase  string `json:"ioBase,omitempty"`
	IRQ     int    `json:"irq,omitempty"`
	Path    string `json:"path,omitempty"`
}

// USBFilter is a machine USB device filter.
type USBFilter struct {
	Name         string `json:"name"`
	Active       bool   `json:"active"`
	VendorID     string `json:"vendorId,omitempty"`
	ProductID    string `json:"productId,omitempty"`
	Revision     string `json:"revision,omitempty"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Product      string `json:"product,omitempty"`
	Remote       string `json:"remote,omitempty"`
	Serial       string `json:"serial,omitempty"`
}

// Audio is the audio adapter.
type Audio struct {
	Enabled    bool   `json:"enabled"`
	Driver     string `json:"driver"`
	Controller string `json:"controller"`
	Codec      string `json:"codec"`
	Out        bool   `json:"out"`
	In         bool   `json:"in"`
}

// VRDE is the remote display server.
type VRDE struct {
	Enabled  bool   `json:"enabled"`
	Ports    string `json:"ports"`
	Address  string `json:"address"`
	AuthType string `json:"authType"`
	MultiCon bool   `json:"multiCon"`
	ReuseCon bool   `json:"reuseCon"`
}

// USB holds the USB controllers.
type USB struct {
	OHCI bool `json:"ohci"`
	EHCI bool `json:"ehci"`
	XHCI bool `json:"xhci"`
}

// SharedFolder is a machine shared folder.
type SharedFolder struct {
	Name      string `json:"name"`
	Path      string `json:"path"`
	ReadOnly  bool   `json:"readOnly,omitempty"`
	AutoMount bool   `json:"autoMount,omitempty"`
	Transient bool   `json:"transient,omitempty"`
}

// Snapshot is a node of a VM's snapshot tree.
type Snapshot struct {
	Name        string      `json:"name"`
	UUID        string      `json:"uuid"`
	Description string      `json:"description,omitempty"`
	Taken       time.Time   `json:"taken"`
	Online      bool        `json:"online,omitempty"`
	HW          Hardware    `json:"hw"`
	Children    []*Snapshot `json:"children,omitempty"`
}

// Medium is a registered disk, DVD or floppy image.
type Medium struct {
	UUID     string `json:"uuid"`
	Kind     string `json:"kind"` // hdd, dvd, floppy
	Location string `json:"location"`
	Format   string `json:"format"` // VDI, VMDK, VHD, RAW
	Variant  string `json:"variant,omitempty"`
	SizeMB   int64  `json:"sizeMB"`
	Parent   string `json:"parent,omitempty"`
	Type     string `json:"type"` // normal, immutable, ...
}

// HostOnlyIf is a host-only network interface.
type HostOnlyIf struct {
	Name    string `json:"name"`
	GUID    string `json:"guid"`
	DHCP    bool   `json:"dhcp"`
	IP      string `json:"ip"`
	Mask    string `json:"mask"`
	MAC     string `json:"mac"`
	Status  string `json:"status"`
	IPv6    string `json:"ipv6,omitempty"`
	IPv6Len int    `json:"ipv6Len,omitempty"`
}

// NATNetwork is a NAT network service.
type NATNetwork struct {
	Name     string   `json:"name"`
	Network  string   `json:"network"`
	Enabled  bool     `json:"enabled"`
	DHCP     bool     `json:"dhcp"`
	IPv6     bool     `json:"ipv6"`
	Prefix6  string   `json:"prefix6"`
	Forwards []string `json:"forwards,omitempty"`
	Loopback []string `json:"loopback,omitempty"`
}

// Registry is the small index file: the registered VMs in registration order,
// media, host networking and global extradata.
type Registry struct {
	VMs         []RegEntry        `json:"vms"`
	Media       []*Medium         `json:"media"`
	HostOnlyIfs []*HostOnlyIf     `json:"hostOnlyIfs"`
	NATNets     []*NATNetwork     `json:"natNets"`
	DHCPServers []*DHCPServer     `json:"dhcpServers,omitempty"`
	ExtraData   map[string]string `json:"extraData,omitempty"`
}

// RegEntry is one registered VM in the registry. Name and State are copies kept
// in sync with the VM file so that list commands need not open every VM.
type RegEntry struct {
	UUID         string `json:"uuid"`
	Name         string `json:"name"`
	State        string `json:"state"`
	Inaccessible bool   `json:"inaccessible,omitempty"`
}

func cloneHardware(h Hardware) Hardware {
	b, err := json.Marshal(h)
	if err != nil {
		return h
	}
	var out Hardware
	if err := json.Unmarshal(b, &out); err != nil {
		return h
	}
	return out
}
