package rpc

import (
	"fmt"
	"math"
	"slices"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"
)

// admin_protocol.x's list limits.
const (
	adminServerListMax       = 16384 // ADMIN_SERVER_LIST_MAX
	adminClientListMax       = 16384 // ADMIN_CLIENT_LIST_MAX
	adminThreadpoolParamsMax = 32    // ADMIN_SERVER_THREADPOOL_PARAMETERS_MAX
	adminClientLimitsMax     = 32    // ADMIN_SERVER_CLIENT_LIMITS_MAX
)

// The admin_protocol.x types. go-libvirt has none; field order is the
// protocol's.

type adminServer struct { // admin_nonnull_server
	Name string
}

type adminClient struct { // admin_nonnull_client
	Srv       adminServer
	ID        uint64
	Timestamp int64
	Transport uint32
}

type adminConnectOpenArgs struct{ Flags uint32 }

type adminFlagsArgs struct{ Flags uint32 } // the *_logging_*_args and others with flags only

type adminConnectListServersArgs struct {
	NeedResults uint32
	Flags       uint32
}

type adminConnectListServersRet struct {
	Servers []adminServer
	Ret     uint32
}

type adminConnectLookupServerArgs struct {
	Name  string
	Flags uint32
}

type adminServerArgs struct { // {srv, flags}: threadpool get, client limits get, update TLS
	Srv   adminServer
	Flags uint32
}

type adminServerListClientsArgs struct {
	Srv         adminServer
	NeedResults uint32
	Flags       uint32
}

type adminServerListClientsRet struct {
	Clients []adminClient
	Ret     uint32
}

type adminServerLookupClientArgs struct {
	Srv   adminServer
	ID    uint64
	Flags uint32
}

type adminClientArgs struct { // {clnt, flags}: client info, client close
	Clnt  adminClient
	Flags uint32
}

type adminGetLoggingOutputsRet struct {
	Outputs  string
	NOutputs uint32
}

type adminGetLoggingFiltersRet struct {
	Filters  libvirt.OptString
	NFilters uint32
}

type adminSetLoggingArgs struct { // set outputs / filters
	Value libvirt.OptString
	Flags uint32
}

type adminSetDaemonTimeoutArgs struct {
	Timeout uint32
	Flags   uint32
}

// typedParam is admin_typed_param (the same layout as remote_typed_param).
type typedParam = libvirt.TypedParam

func uintParam(field string, v uint) typedParam {
	return typedParam{Field: field, Value: *libvirt.NewTypedParamValueUint(uint32(v))}
}

func intParam(field string, v int32) typedParam {
	return typedParam{Field: field, Value: *libvirt.NewTypedParamValueInt(v)}
}

func boolParam(field string, v bool) typedParam {
	return typedParam{Field: field, Value: libvirt.TypedParamValue{D: typedParamBoolean, I: b2i(v)}}
}

func stringParam(field, v string) typedParam {
	return typedParam{Field: field, Value: *libvirt.NewTypedParamValueString(v)}
}

// adminSetParamsArgs is the server_set_{threadpool,client_limits}_args:
// {srv, params<>, flags}. xdr2 cannot decode the params' union, so it is
// read by hand.
type adminSetParamsArgs struct {
	Srv    adminServer
	Params []typedParam
	Flags  uint32
}

func decodeSetParamsArgs(payload []byte, max int) (adminSetParamsArgs, error) {
	r := &xdrReader{b: payload}
	var a adminSetParamsArgs
	a.Srv.Name = r.str()
	n := r.u32()
	if r.err == nil && n > uint32(max) {
		return a, rpcError("Unable to decode message payload")
	}
	for i := uint32(0); i < n && r.err == nil; i++ {
		p := typedParam{Field: r.str()}
		p.Value.D = r.u32()
		switch p.Value.D {
		case typedParamInt, typedParamBoolean:
			p.Value.I = int32(r.u32())
		case typedParamUint:
			p.Value.I = r.u32()
		case typedParamLlong:
			p.Value.I = int64(r.u64())
		case typedParamUllong:
			p.Value.I = r.u64()
		case typedParamDouble:
			p.Value.I = math.Float64frombits(r.u64())
		case typedParamString:
			p.Value.I = r.str()
		default:
			r.fail()
		}
		a.Params = append(a.Params, p)
	}
	a.Flags = r.u32()
	return a, r.err
}

var paramTypeNames = map[uint32]string{typedParamInt: "int", typedParamUint: "uint", typedParamLlong: "llong",
	typedParamUllong: "ullong", typedParamDouble: "double", typedParamBoolean: "boolean", typedParamString: "string"}

// uintParams validates params against the allowed UINT fields as
// virTypedParamsValidate does, in field name order: the first param that is
// not allowed, repeats an earlier one or is not a UINT fails. It returns the
// values by name.
func uintParams(params []typedParam, allowed ...string) (map[string]uint, error) {
	sorted := slices.Clone(params)
	slices.SortStableFunc(sorted, func(a, b typedParam) int { return strings.Compare(a.Field, b.Field) })
	out := map[string]uint{}
	for _, p := range sorted {
		if !slices.Contains(allowed, p.Field) {
			return nil, newError(errArgumentUnsupported, fromNone,
				fmt.Sprintf("parameter '%s' not supported", p.Field))
		}
		if _, seen := out[p.Field]; seen {
			return nil, newError(errInvalidArg, fromNone,
				fmt.Sprintf("parameter '%s' occurs multiple times", p.Field))
		}
		v, isUint := p.Value.I.(uint32)
		if p.Value.D != typedParamUint || !isUint {
			return nil, newError(errInvalidArg, fromNone, fmt.Sprintf(
				"invalid type '%s' for parameter '%s', expected 'uint'", paramTypeNames[p.Value.D], p.Field))
		}
		out[p.Field] = uint(v)
	}
	return out, nil
}
