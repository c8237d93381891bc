package driver

import "context"

// DeviceConn is the part of Conn for device attach/detach/update, media changes and the device listings.
// Methods are added here with an Unsupported fallback below.
//
// Flags are libvirt's VIR_DOMAIN_AFFECT_* (CURRENT 0, LIVE 1, CONFIG 2) and, for
// DomainUpdateDevice, VIR_DOMAIN_DEVICE_MODIFY_FORCE (4). The legacy
// virDomainAttachDevice and virDomainDetachDevice reach the driver with
// flags 0 (VIR_DOMAIN_AFFECT_CURRENT), as in libvirt's own VirtualBox driver.
type DeviceConn interface {
	// DomainAttachDevice adds the device described by xml (one device
	// element: <disk>, <interface>, <filesystem>, <hostdev>...).
	DomainAttachDevice(ctx context.Context, d Domain, xml string, flags uint32) error
	// DomainDetachDevice removes the device xml names.
	DomainDetachDevice(ctx context.Context, d Domain, xml string, flags uint32) error
	// DomainDetachDeviceAlias removes the device whose <alias name> is
	// alias.
	DomainDetachDeviceAlias(ctx context.Context, d Domain, alias string, flags uint32) error
	// DomainUpdateDevice changes a device in place (CD/DVD and floppy
	// media, an interface's link state).
	DomainUpdateDevice(ctx context.Context, d Domain, xml string, flags uint32) error
	// DomainGetBlockInfo describes the disk named by path (its target, as
	// "sda", or its source file).
	DomainGetBlockInfo(ctx context.Context, d Domain, path string, flags uint32) (BlockInfo, error)
}

// BlockInfo is virDomainBlockInfo, in bytes.
type BlockInfo struct {
	Capacity   uint64 // the size the guest sees
	Allocation uint64 // the bytes the image uses on the host
	Physical   uint64 // the size of the image file
}

func (Unsupported) DomainAttachDevice(context.Context, Domain, string, uint32) error {
	return noSupport("virDomainAttachDeviceFlags")
}
func (Unsupported) DomainDetachDevice(context.Context, Domain, string, uint32) error {
	return noSupport("virDomainDetachDeviceFlags")
}
func (Unsupported) DomainDetachDeviceAlias(context.Context, Domain, string, uint32) error {
	return noSupport("virDomainDetachDeviceAlias")
}
func (Unsupported) DomainUpdateDevice(context.Context, Domain, string, uint32) error {
	return noSupport("virDomainUpdateDeviceFlags")
}
func (Unsupported) DomainGetBlockInfo(context.Context, Domain, string, uint32) (BlockInfo, error) {
	return BlockInfo{}, noSupport("virDomainGetBlockInfo")
}
