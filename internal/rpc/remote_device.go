package rpc

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/virtvboxd/virtvboxd/internal/driver"
)

// deviceHandlers are the device procedures (see remoteHandlers).
var deviceHandlers = handlerSet{
	procDomainAttachDevice:      withArgs(domainAttachDevice),
	procDomainAttachDeviceFlags: withArgs(domainAttachDeviceFlags),
	procDomainDetachDevice:      withArgs(domainDetachDevice),
	procDomainDetachDeviceFlags: withArgs(domainDetachDeviceFlags),
	procDomainDetachDeviceAlias: withArgs(domainDetachDeviceAlias),
	procDomainUpdateDeviceFlags: withArgs(domainUpdateDeviceFlags),
	procDomainGetBlockInfo:      withArgs(domainGetBlockInfo),
}

// domainAttachDevice is virDomainAttachDevice: flags 0 (AFFECT_CURRENT), as
// libvirt's VirtualBox driver treats it.
func domainAttachDevice(ctx context.Context, cn driver.Conn, a *libvirt.DomainAttachDeviceArgs, out *packet) error {
	return cn.DomainAttachDevice(ctx, toDomain(a.Dom), a.XML, 0)
}

func domainAttachDeviceFlags(ctx context.Context, cn driver.Conn, a *libvirt.DomainAttachDeviceFlagsArgs, out *packet) error {
	return cn.DomainAttachDevice(ctx, toDomain(a.Dom), a.XML, a.Flags)
}

// domainDetachDevice is virDomainDetachDevice: flags 0, as domainAttachDevice.
func domainDetachDevice(ctx context.Context, cn driver.Conn, a *libvirt.DomainDetachDeviceArgs, out *packet) error {
	return cn.DomainDetachDevice(ctx, toDomain(a.Dom), a.XML, 0)
}

func domainDetachDeviceFlags(ctx context.Context, cn driver.Conn, a *libvirt.DomainDetachDeviceFlagsArgs, out *packet) error {
	return cn.DomainDetachDevice(ctx, toDomain(a.Dom), a.XML, a.Flags)
}

func domainDetachDeviceAlias(ctx context.Context, cn driver.Conn, a *libvirt.DomainDetachDeviceAliasArgs, out *packet) error {
	return cn.DomainDetachDeviceAlias(ctx, toDomain(a.Dom), a.Alias, a.Flags)
}

func domainUpdateDeviceFlags(ctx context.Context, cn driver.Conn, a *libvirt.DomainUpdateDeviceFlagsArgs, out *packet) error {
	return cn.DomainUpdateDevice(ctx, toDomain(a.Dom), a.XML, uint32(a.Flags))
}

func domainGetBlockInfo(ctx context.Context, cn driver.Conn, a *libvirt.DomainGetBlockInfoArgs, out *packet) error {
	bi, err := cn.DomainGetBlockInfo(ctx, toDomain(a.Dom), a.Path, a.Flags)
	if err != nil {
		return err
	}
	return out.encode(libvirt.DomainGetBlockInfoRet{Allocation: bi.Allocation, Capacity: bi.Capacity, Physical: bi.Physical})
}
