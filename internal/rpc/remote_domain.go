package rpc

import (
	"context"
	"github.com/virtvboxd/virtvboxd/internal/driver"

	libvirt "github.com/digitalocean/go-libvirt"
)

// The domain procedures: decode the go-libvirt Args, call one driver.Conn method,
// encode the Ret.

func domainRet(out *packet, d driver.Domain, err error) error {
	if err != nil {
		return err
	}
	return out.encode(fromDomainValue(d))
}

func int32Ret(out *packet, v int32, err error) error {
	if err != nil {
		return err
	}
	out.putU32(uint32(v))
	return nil
}

func boolRet(out *packet, v bool, err error) error { return int32Ret(out, b2i(v), err) }

func domainGetInfo(ctx context.Context, cn driver.Conn, a *libvirt.DomainGetInfoArgs, out *packet) error {
	info, err := cn.DomainGetInfo(ctx, toDomain(a.Dom))
	if err != nil {
		return err
	}
	return out.encode(libvirt.DomainGetInfoRet{State: uint8(info.State), MaxMem: info.MaxMemKiB,
		Memory: info.MemoryKiB, NrVirtCPU: info.NrVirtCPU, CPUTime: info.CPUTime})
}

func domainGetState(ctx context.Context, cn driver.Conn, a *libvirt.DomainGetStateArgs, out *packet) error {
	st, reason, err := cn.DomainGetState(ctx, toDomain(a.Dom), a.Flags)
	if err != nil {
		return err
	}
	return out.encode(libvirt.DomainGetStateRet{State: int32(st), Reason: reason})
}

func domainGetXMLDesc(ctx context.Context, cn driver.Conn, a *libvirt.DomainGetXMLDescArgs, out *packet) error {
	x, err := cn.DomainGetXMLDesc(ctx, toDomain(a.Dom), uint32(a.Flags))
	if err != nil {
		return err
	}
	// By hand: xdr.Marshal would copy the document into a []byte first, a
	// garbage of the XML's size per call on the hottest read.
	out.putString(x)
	if len(out.b) > MessageMax {
		return rpcError("Unable to encode message payload")
	}
	return nil
}

func domainGetOSType(ctx context.Context, cn driver.Conn, a *libvirt.DomainGetOsTypeArgs, out *packet) error {
	t, err := cn.DomainGetOSType(ctx, toDomain(a.Dom))
	if err != nil {
		return err
	}
	return out.encode(libvirt.DomainGetOsTypeRet{Type: t})
}

func domainIsActive(ctx context.Context, cn driver.Conn, a *libvirt.DomainIsActiveArgs, out *packet) error {
	v, err := cn.DomainIsActive(ctx, toDomain(a.Dom))
	return boolRet(out, v, err)
}

func domainIsPersistent(ctx context.Context, cn driver.Conn, a *libvirt.DomainIsPersistentArgs, out *packet) error {
	v, err := cn.DomainIsPersistent(ctx, toDomain(a.Dom))
	return boolRet(out, v, err)
}

func domainIsUpdated(ctx context.Context, cn driver.Conn, a *libvirt.DomainIsUpdatedArgs, out *packet) error {
	v, err := cn.DomainIsUpdated(ctx, toDomain(a.Dom))
	return boolRet(out, v, err)
}

func domainGetAutostart(ctx context.Context, cn driver.Conn, a *libvirt.DomainGetAutostartArgs, out *packet) error {
	v, err := cn.DomainGetAutostart(ctx, toDomain(a.Dom))
	return boolRet(out, v, err)
}

func domainHasManagedSaveImage(ctx context.Context, cn driver.Conn, a *libvirt.DomainHasManagedSaveImageArgs, out *packet) error {
	v, err := cn.DomainHasManagedSaveImage(ctx, toDomain(a.Dom), a.Flags)
	return boolRet(out, v, err)
}

func domainGetMaxVcpus(ctx context.Context, cn driver.Conn, a *libvirt.DomainGetMaxVcpusArgs, out *packet) error {
	v, err := cn.DomainGetMaxVcpus(ctx, toDomain(a.Dom))
	return int32Ret(out, v, err)
}

func domainGetVcpusFlags(ctx context.Context, cn driver.Conn, a *libvirt.DomainGetVcpusFlagsArgs, out *packet) error {
	v, err := cn.DomainGetVcpusFlags(ctx, toDomain(a.Dom), a.Flags)
	return int32Ret(out, v, err)
}

func domainGetMaxMemory(ctx context.Context, cn driver.Conn, a *libvirt.DomainGetMaxMemoryArgs, out *packet) error {
	v, err := cn.DomainGetMaxMemory(ctx, toDomain(a.Dom))
	if err != nil {
		return err
	}
	return out.encode(libvirt.DomainGetMaxMemoryRet{Memory: v})
}

func domainGetSecurityLabel(ctx context.Context, cn driver.Conn, a *libvirt.DomainGetSecurityLabelArgs, out *packet) error {
	// No security driver: an empty label, not enforcing.
	return out.encode(libvirt.DomainGetSecurityLabelRet{})
}

func domainDefineXML(ctx context.Context, cn driver.Conn, a *libvirt.DomainDefineXMLArgs, out *packet) error {
	d, err := cn.DomainDefineXML(ctx, a.XML, 0)
	return domainRet(out, d, err)
}

func domainDefineXMLFlags(ctx context.Context, cn driver.Conn, a *libvirt.DomainDefineXMLFlagsArgs, out *packet) error {
	d, err := cn.DomainDefineXML(ctx, a.XML, uint32(a.Flags))
	return domainRet(out, d, err)
}

func domainUndefine(ctx context.Context, cn driver.Conn, a *libvirt.DomainUndefineArgs, out *packet) error {
	return cn.DomainUndefine(ctx, toDomain(a.Dom), 0)
}

func domainUndefineFlags(ctx context.Context, cn driver.Conn, a *libvirt.DomainUndefineFlagsArgs, out *packet) error {
	return cn.DomainUndefine(ctx, toDomain(a.Dom), uint32(a.Flags))
}

func domainCreateXML(ctx context.Context, cn driver.Conn, a *libvirt.DomainCreateXMLArgs, out *packet) error {
	d, err := cn.DomainCreateXML(ctx, a.XMLDesc, uint32(a.Flags))
	return domainRet(out, d, err)
}

func domainCreate(ctx context.Context, cn driver.Conn, a *libvirt.DomainCreateArgs, out *packet) error {
	_, err := cn.DomainCreate(ctx, toDomain(a.Dom), 0)
	return err
}

func domainCreateWithFlags(ctx context.Context, cn driver.Conn, a *libvirt.DomainCreateWithFlagsArgs, out *packet) error {
	d, err := cn.DomainCreate(ctx, toDomain(a.Dom), a.Flags)
	return domainRet(out, d, err)
}

func domainShutdown(ctx context.Context, cn driver.Conn, a *libvirt.DomainShutdownArgs, out *packet) error {
	return cn.DomainShutdown(ctx, toDomain(a.Dom), 0)
}

func domainShutdownFlags(ctx context.Context, cn driver.Conn, a *libvirt.DomainShutdownFlagsArgs, out *packet) error {
	return cn.DomainShutdown(ctx, toDomain(a.Dom), uint32(a.Flags))
}

func domainReboot(ctx context.Context, cn driver.Conn, a *libvirt.DomainRebootArgs, out *packet) error {
	return cn.DomainReboot(ctx, toDomain(a.Dom), uint32(a.Flags))
}

func domainReset(ctx context.Context, cn driver.Conn, a *libvirt.DomainResetArgs, out *packet) error {
	return cn.DomainReset(ctx, toDomain(a.Dom), a.Flags)
}

func domainDestroy(ctx context.Context, cn driver.Conn, a *libvirt.DomainDestroyArgs, out *packet) error {
	return cn.DomainDestroy(ctx, toDomain(a.Dom), 0)
}

func domainDestroyFlags(ctx context.Context, cn driver.Conn, a *libvirt.DomainDestroyFlagsArgs, out *packet) error {
	return cn.DomainDestroy(ctx, toDomain(a.Dom), uint32(a.Flags))
}

func domainSuspend(ctx context.Context, cn driver.Conn, a *libvirt.DomainSuspendArgs, out *packet) error {
	return cn.DomainSuspend(ctx, toDomain(a.Dom))
}

func domainResume(ctx context.Context, cn driver.Conn, a *libvirt.DomainResumeArgs, out *packet) error {
	return cn.DomainResume(ctx, toDomain(a.Dom))
}

func domainSave(ctx context.Context, cn driver.Conn, a *libvirt.DomainSaveArgs, out *packet) error {
	return cn.DomainSave(ctx, toDomain(a.Dom), a.To, "", 0)
}

func domainSaveFlags(ctx context.Context, cn driver.Conn, a *libvirt.DomainSaveFlagsArgs, out *packet) error {
	var dxml string
	if len(a.Dxml) > 0 {
		dxml = a.Dxml[0]
	}
	return cn.DomainSave(ctx, toDomain(a.Dom), a.To, dxml, a.Flags)
}

func domainManagedSave(ctx context.Context, cn driver.Conn, a *libvirt.DomainManagedSaveArgs, out *packet) error {
	return cn.DomainManagedSave(ctx, toDomain(a.Dom), a.Flags)
}

func domainManagedSaveRemove(ctx context.Context, cn driver.Conn, a *libvirt.DomainManagedSaveRemoveArgs, out *packet) error {
	return cn.DomainManagedSaveRemove(ctx, toDomain(a.Dom), a.Flags)
}

func domainSetMemory(ctx context.Context, cn driver.Conn, a *libvirt.DomainSetMemoryArgs, out *packet) error {
	if err := argMemory("virDomainSetMemory", a.Memory); err != nil {
		return err
	}
	return cn.DomainSetMemory(ctx, toDomain(a.Dom), a.Memory, 0)
}

func domainSetMaxMemory(ctx context.Context, cn driver.Conn, a *libvirt.DomainSetMaxMemoryArgs, out *packet) error {
	if err := argMemory("virDomainSetMaxMemory", a.Memory); err != nil {
		return err
	}
	return cn.DomainSetMemory(ctx, toDomain(a.Dom), a.Memory, domainMemMaximum)
}

func domainSetMemoryFlags(ctx context.Context, cn driver.Conn, a *libvirt.DomainSetMemoryFlagsArgs, out *packet) error {
	if err := argMemory("virDomainSetMemoryFlags", a.Memory); err != nil {
		return err
	}
	return cn.DomainSetMemory(ctx, toDomain(a.Dom), a.Memory, a.Flags)
}

func domainSetVcpus(ctx context.Context, cn driver.Conn, a *libvirt.DomainSetVcpusArgs, out *packet) error {
	if err := argNonZero("virDomainSetVcpus", "nvcpus", uint64(a.Nvcpus)); err != nil {
		return err
	}
	return cn.DomainSetVcpus(ctx, toDomain(a.Dom), a.Nvcpus, 0)
}

func domainSetVcpusFlags(ctx context.Context, cn driver.Conn, a *libvirt.DomainSetVcpusFlagsArgs, out *packet) error {
	if err := argNonZero("virDomainSetVcpusFlags", "nvcpus", uint64(a.Nvcpus)); err != nil {
		return err
	}
	return cn.DomainSetVcpus(ctx, toDomain(a.Dom), a.Nvcpus, a.Flags)
}

func domainSetAutostart(ctx context.Context, cn driver.Conn, a *libvirt.DomainSetAutostartArgs, out *packet) error {
	return cn.DomainSetAutostart(ctx, toDomain(a.Dom), a.Autostart != 0)
}
