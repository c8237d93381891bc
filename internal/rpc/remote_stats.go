package rpc

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// statsHandlers are the stats procedures (see remoteHandlers).
var statsHandlers = handlerSet{
	procDomainMemoryStats:            withArgs(domainMemoryStats),
	procDomainBlockStats:             withArgs(domainBlockStats),
	procDomainBlockStatsFlags:        withArgs(domainBlockStatsFlags),
	procDomainInterfaceStats:         withArgs(domainInterfaceStats),
	procConnectGetAllDomainStats:     withArgs(connectGetAllDomainStats),
	procDomainInterfaceAddresses:     withArgs(domainInterfaceAddresses),
	procDomainGetGuestInfo:           withArgs(domainGetGuestInfo),
	procDomainGetHostname:            withArgs(domainGetHostname),
	procConnectGetDomainCapabilities: withArgs(connectGetDomainCapabilities),
}

// remoteDomainMemoryStatsMax, remoteDomainInterfaceMax, remoteIPAddrMax,
// remoteDomainGuestInfoParamsMax, remoteDomainBlockStatsParametersMax and
// remoteConnectGetAllDomainStatsMax are libvirt's REMOTE_*_MAX bounds on
// the replies (remote_protocol.x).
const (
	remoteDomainMemoryStatsMax          = 1024
	remoteDomainBlockStatsParametersMax = 16
	remoteDomainInterfaceMax            = 2048
	remoteIPAddrMax                     = 2048
	remoteDomainGuestInfoParamsMax      = 2048
	remoteConnectGetAllDomainStatsMax   = 262144
)

// typedParams turns driver values into remote_typed_param, choosing the
// wire type from the Go type.
func typedParams(in []driver.TypedParam) ([]libvirt.TypedParam, error) {
	out := make([]libvirt.TypedParam, 0, len(in))
	for _, p := range in {
		var v libvirt.TypedParamValue
		switch x := p.Value.(type) {
		case int32:
			v = *libvirt.NewTypedParamValueInt(x)
		case uint32:
			v = *libvirt.NewTypedParamValueUint(x)
		case int64:
			v = *libvirt.NewTypedParamValueLlong(x)
		case uint64:
			v = *libvirt.NewTypedParamValueUllong(x)
		case float64:
			v = *libvirt.NewTypedParamValueDouble(x)
		case bool:
			v = libvirt.TypedParamValue{D: typedParamBoolean, I: b2i(x)}
		case string:
			v = *libvirt.NewTypedParamValueString(x)
		default:
			return nil, errdefs.Newf(errdefs.ErrInternal, "typed parameter %s of type %T", p.Field, p.Value)
		}
		out = append(out, libvirt.TypedParam{Field: p.Field, Value: v})
	}
	return out, nil
}

func domainMemoryStats(ctx context.Context, cn driver.Conn, a *libvirt.DomainMemoryStatsArgs, out *packet) error {
	if a.MaxStats > remoteDomainMemoryStatsMax {
		return errdefs.Newf(errdefs.ErrInvalidArg, "maxStats > REMOTE_DOMAIN_MEMORY_STATS_MAX")
	}
	st, err := cn.DomainMemoryStats(ctx, toDomain(a.Dom), a.MaxStats, a.Flags)
	if err != nil {
		return err
	}
	ret := libvirt.DomainMemoryStatsRet{Stats: make([]libvirt.DomainMemoryStat, 0, len(st))}
	for _, s := range st {
		ret.Stats = append(ret.Stats, libvirt.DomainMemoryStat{Tag: s.Tag, Val: s.Val})
	}
	return out.encode(ret)
}

func domainBlockStats(ctx context.Context, cn driver.Conn, a *libvirt.DomainBlockStatsArgs, out *packet) error {
	s, err := cn.DomainBlockStats(ctx, toDomain(a.Dom), a.Path)
	if err != nil {
		return err
	}
	return out.encode(libvirt.DomainBlockStatsRet{RdReq: s.RdReq, RdBytes: s.RdBytes, WrReq: s.WrReq, WrBytes: s.WrBytes, Errs: s.Errs})
}

// domainBlockStatsFlags follows libvirt's two-step protocol: nparams 0 asks
// how many fields there are; otherwise at most nparams are returned.
func domainBlockStatsFlags(ctx context.Context, cn driver.Conn, a *libvirt.DomainBlockStatsFlagsArgs, out *packet) error {
	if a.Nparams < 0 || a.Nparams > remoteDomainBlockStatsParametersMax {
		return errdefs.Newf(errdefs.ErrInvalidArg, "nparams too large")
	}
	ps, err := cn.DomainBlockStatsFlags(ctx, toDomain(a.Dom), a.Path, a.Flags&^typedParamStringOkay)
	if err != nil {
		return err
	}
	if a.Nparams == 0 {
		return out.encode(libvirt.DomainBlockStatsFlagsRet{Nparams: int32(len(ps))})
	}
	if int(a.Nparams) < len(ps) {
		ps = ps[:a.Nparams]
	}
	tp, err := typedParams(ps)
	if err != nil {
		return err
	}
	return out.encode(libvirt.DomainBlockStatsFlagsRet{Params: tp, Nparams: int32(len(tp))})
}

// typedParamStringOkay is VIR_TYPED_PARAM_STRING_OKAY, which clients add to
// the flags of calls that return typed parameters.
const typedParamStringOkay = 1 << 2

func domainInterfaceStats(ctx context.Context, cn driver.Conn, a *libvirt.DomainInterfaceStatsArgs, out *packet) error {
	s, err := cn.DomainInterfaceStats(ctx, toDomain(a.Dom), a.Device)
	if err != nil {
		return err
	}
	return out.encode(libvirt.DomainInterfaceStatsRet{RxBytes: s.RxBytes, RxPackets: s.RxPackets, RxErrs: s.RxErrs,
		RxDrop: s.RxDrop, TxBytes: s.TxBytes, TxPackets: s.TxPackets, TxErrs: s.TxErrs, TxDrop: s.TxDrop})
}

// connectGetAllDomainStats serves virConnectGetAllDomainStats (no domains)
// and virDomainListGetStats (the domains given).
func connectGetAllDomainStats(ctx context.Context, cn driver.Conn, a *libvirt.ConnectGetAllDomainStatsArgs, out *packet) error {
	doms := make([]driver.Domain, 0, len(a.Doms))
	for _, d := range a.Doms {
		doms = append(doms, toDomain(d))
	}
	recs, err := cn.GetAllDomainStats(ctx, doms, a.Stats, a.Flags)
	if err != nil {
		return err
	}
	if len(recs) > remoteConnectGetAllDomainStatsMax {
		return errdefs.Newf(errdefs.ErrInternal, "too many records (%d)", len(recs))
	}
	ret := libvirt.ConnectGetAllDomainStatsRet{RetStats: make([]libvirt.DomainStatsRecord, 0, len(recs))}
	for _, r := range recs {
		tp, err := typedParams(r.Params)
		if err != nil {
			return err
		}
		ret.RetStats = append(ret.RetStats, libvirt.DomainStatsRecord{Dom: fromDomainValue(r.Dom), Params: tp})
	}
	return out.encode(ret)
}

func domainInterfaceAddresses(ctx context.Context, cn driver.Conn, a *libvirt.DomainInterfaceAddressesArgs, out *packet) error {
	ifs, err := cn.DomainInterfaceAddresses(ctx, toDomain(a.Dom), a.Source, a.Flags)
	if err != nil {
		return err
	}
	if len(ifs) > remoteDomainInterfaceMax {
		return errdefs.Newf(errdefs.ErrInternal, "too many interfaces (%d)", len(ifs))
	}
	ret := libvirt.DomainInterfaceAddressesRet{Ifaces: make([]libvirt.DomainInterface, 0, len(ifs))}
	for _, i := range ifs {
		if len(i.Addrs) > remoteIPAddrMax {
			return errdefs.Newf(errdefs.ErrInternal, "too many addresses on %s", i.Name)
		}
		x := libvirt.DomainInterface{Name: i.Name, Addrs: make([]libvirt.DomainIPAddr, 0, len(i.Addrs))}
		if i.HWAddr != "" {
			x.Hwaddr = libvirt.OptString{i.HWAddr}
		}
		for _, ad := range i.Addrs {
			x.Addrs = append(x.Addrs, libvirt.DomainIPAddr{Type: ad.Type, Addr: ad.Addr, Prefix: ad.Prefix})
		}
		ret.Ifaces = append(ret.Ifaces, x)
	}
	return out.encode(ret)
}

func domainGetGuestInfo(ctx context.Context, cn driver.Conn, a *libvirt.DomainGetGuestInfoArgs, out *packet) error {
	ps, err := cn.DomainGetGuestInfo(ctx, toDomain(a.Dom), a.Types, a.Flags)
	if err != nil {
		return err
	}
	if len(ps) > remoteDomainGuestInfoParamsMax {
		return errdefs.Newf(errdefs.ErrInternal, "too many parameters (%d)", len(ps))
	}
	tp, err := typedParams(ps)
	if err != nil {
		return err
	}
	return out.encode(libvirt.DomainGetGuestInfoRet{Params: tp})
}

func domainGetHostname(ctx context.Context, cn driver.Conn, a *libvirt.DomainGetHostnameArgs, out *packet) error {
	h, err := cn.DomainGetHostname(ctx, toDomain(a.Dom), uint32(a.Flags))
	if err != nil {
		return err
	}
	return out.encode(libvirt.DomainGetHostnameRet{Hostname: h})
}

func optStr(o libvirt.OptString) string {
	if len(o) == 0 {
		return ""
	}
	return o[0]
}

func connectGetDomainCapabilities(ctx context.Context, cn driver.Conn, a *libvirt.ConnectGetDomainCapabilitiesArgs, out *packet) error {
	x, err := cn.DomainCapabilities(ctx, optStr(a.Emulatorbin), optStr(a.Arch), optStr(a.Machine), optStr(a.Virttype), uint32(a.Flags))
	if err != nil {
		return err
	}
	return out.encode(libvirt.ConnectGetDomainCapabilitiesRet{Capabilities: x})
}
