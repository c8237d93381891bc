package rpc

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// unhex turns a commented hex fixture into bytes: everything after "//" on a
// line is a comment, whitespace is ignored. The external tests call it as
// rpc.Fixture.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	var clean strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		clean.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(clean.String())
	if err != nil {
		t.Fatalf("bad fixture: %v", err)
	}
	return b
}

// TestXDREncoding checks how xdr2 encodes go-libvirt's types against the
// wire layouts of reference 6.1.
func TestXDREncoding(t *testing.T) {
	uuid := libvirt.UUID{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00}
	cases := []struct {
		name string
		v    any
		want string
	}{
		{"domain_get_info_ret: uchar and ushort take 4 bytes", libvirt.DomainGetInfoRet{State: 5, MaxMem: 1024,
			Memory: 512, NrVirtCPU: 2, CPUTime: 7}, `
			00000005          // state (uchar)
			00000000 00000400 // maxMem
			00000000 00000200 // memory
			00000002          // nrVirtCpu (ushort)
			00000000 00000007 // cpuTime`},
		{"remote_nonnull_domain: uuid is 16 raw bytes, inactive id -1", libvirt.Domain{Name: "vm1", UUID: uuid, ID: -1}, `
			00000003 766d3100                   // name "vm1" padded
			11223344 55667788 99aabbcc ddeeff00 // uuid, no length word
			ffffffff                            // id -1`},
		{"remote_string present", libvirt.OptString{"ab"}, `
			00000001          // present
			00000002 61620000 // "ab"`},
		{"remote_string absent", libvirt.OptString{}, `
			00000000 // absent`},
		{"connect_list_all_domains_ret", libvirt.ConnectListAllDomainsRet{Domains: []libvirt.Domain{{Name: "a", UUID: uuid, ID: 3}}, Ret: 1}, `
			00000001                            // one domain
			00000001 61000000                   // "a"
			11223344 55667788 99aabbcc ddeeff00 // uuid
			00000003                            // id
			00000001                            // ret`},
		{"typed param uint", uintParam("maxWorkers", 20), `
			0000000a 6d6178576f726b6572730000 // "maxWorkers"
			00000002                          // VIR_TYPED_PARAM_UINT
			00000014                          // 20`},
		{"typed param string", stringParam("u", "root"), `
			00000001 75000000 // "u"
			00000007          // VIR_TYPED_PARAM_STRING
			00000004 726f6f74 // "root"`},
		{"node_get_info_ret: char model[32] is 32 ints", libvirt.NodeGetInfoRet{Model: [32]int8{'x'}}, `
			00000078` + strings.Repeat(" 00000000", 31) + `
			00000000 00000000 // memory
			00000000 00000000 00000000 00000000 00000000 00000000 // cpus mhz nodes sockets cores threads`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p packet
			p.b = nil
			if err := p.encode(c.v); err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, c.want); !bytes.Equal(p.b, want) {
				t.Errorf("got  %x\nwant %x", p.b, want)
			}
		})
	}
}

// TestHandEncodingMatchesXDR checks the hand-written fast paths against xdr2.
func TestHandEncodingMatchesXDR(t *testing.T) {
	var a, b packet
	a.putU64(9000000)
	a.putString("hello")
	a.putU32(1)
	if err := b.encode(struct {
		V uint64
		S string
		I int32
	}{9000000, "hello", 1}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.b, b.b) {
		t.Errorf("hand %x\nxdr2 %x", a.b, b.b)
	}
}

func TestDecodeArgsBounds(t *testing.T) {
	// A count of 2^31 domains in a 12-byte payload must fail, not allocate.
	var a libvirt.ConnectListAllDomainsRet
	if err := decodeArgs(unhex(t, "80000000 00000000 00000000"), &a); err == nil {
		t.Fatal("huge count accepted")
	}
	var s libvirt.DomainLookupByNameArgs
	if err := decodeArgs(unhex(t, "7fffffff 41424344"), &s); err == nil {
		t.Fatal("huge string accepted")
	}
	if err := decodeArgs(unhex(t, "00000001 41000000 ffffffff"), &s); err != nil || s.Name != "A" {
		t.Fatalf("trailing bytes: %v %q", err, s.Name)
	}
}

func TestConnectOpenArgsOptional(t *testing.T) {
	for _, c := range []struct{ hex, name string }{
		{"00000001 00000001 61000000 00000006", "a"},
		{"01000000 00000001 61000000 00000000", "a"}, // go-libvirt's encoding
		{"00000000 00000006", ""},
	} {
		a, err := decodeConnectOpenArgs(unhex(t, c.hex))
		if err != nil {
			t.Fatalf("%s: %v", c.hex, err)
		}
		if got := strings.Join(a.Name, ""); got != c.name {
			t.Errorf("%s: name %q", c.hex, got)
		}
	}
}

func TestProcTable(t *testing.T) {
	for proc := 1; proc <= remoteProcMax; proc++ {
		if !strings.HasPrefix(remoteProcAPI[proc], "vir") {
			t.Errorf("procedure %d has no API name", proc)
		}
	}
	for proc, want := range map[int]string{1: "virConnectOpen", 14: "virDomainGetXMLDesc",
		110: "virConnectGetURI", 23: "virDomainLookupByName", 22: "virDomainLookupByID",
		24: "virDomainLookupByUUID", 273: "virConnectListAllDomains", 443: "virDomainFDAssociate",
		252: "virDomainSetBlockIoTune", 175: "virNWFilterLookupByName"} {
		if remoteProcAPI[proc] != want {
			t.Errorf("procedure %d = %s, want %s", proc, remoteProcAPI[proc], want)
		}
	}
}

// TestReadOnlyTable sweeps every REMOTE procedure of libvirt 9.0 against
// the protocol facts extracted from libvirt's sources (libvirt-9.0-facts.txt,
// scripts/libvirt-facts.py): the API names agree with ours, denied
// procedures answer OPERATION_DENIED in the error domain of the file that
// defines their API, allowed ones pass, and the argument-dependent ones pass
// with harmless arguments and are denied with the guarded ones.
func TestReadOnlyTable(t *testing.T) {
	// VIR_FROM_THIS of each libvirt-<object>.c file (libvirt.c's two APIs,
	// open and close, never reach objectDomain).
	fileDomains := map[string]int32{
		"libvirt-domain.c": fromDomain, "libvirt-host.c": fromDomain,
		"libvirt-domain-snapshot.c": fromDomainSnapshot, "libvirt-domain-checkpoint.c": fromDomainCheckpoint,
		"libvirt-network.c": fromNetwork, "libvirt-storage.c": fromStorage, "libvirt-nodedev.c": fromNodedev,
		"libvirt-secret.c": fromSecret, "libvirt-interface.c": fromInterface, "libvirt-nwfilter.c": fromNWFilter,
	}
	// Arguments that trip each argument-dependent rule: a domain (name "",
	// 16-byte UUID, id) or a snapshot/checkpoint (name, domain), then the
	// guarded word.
	dom := make([]byte, 4+16+4)
	named := append(make([]byte, 4), dom...)
	word := func(prefix []byte, words ...uint32) []byte {
		b := append([]byte{}, prefix...)
		for _, w := range words {
			b = binary.BigEndian.AppendUint32(b, w)
		}
		return b
	}
	guarded := map[int32][2][]byte{ // allowed payload, denied payload
		procDomainGetVcpusFlags:         {word(dom, 0), word(dom, domainVcpuGuest)},
		procDomainInterfaceAddresses:    {word(dom, 0, 0), word(dom, domainInterfaceAddressesSrcAgent, 0)},
		procDomainGetXMLDesc:            {word(dom, 0), word(dom, domainXMLMigratable)},
		procDomainManagedSaveGetXMLDesc: {word(dom, 0), word(dom, domainXMLSecure)},
		procDomainSnapshotGetXMLDesc:    {word(named, 0), word(named, domainXMLSecure)},
		procDomainCheckpointGetXMLDesc:  {word(named, 0), word(named, domainXMLSecure)},
	}
	denied := 0
	for n := 1; n <= remoteProcMax; n++ {
		proc, f := int32(n), remoteFacts[n]
		api := f.api
		if api != "-" && remoteProcAPI[proc] != api {
			t.Errorf("procedure %d: API %s here, %s in libvirt", proc, remoteProcAPI[proc], api)
		}
		if dom, ok := fileDomains[f.file]; ok && objectDomain(api) != dom {
			t.Errorf("%s: error domain %d, want %d (%s)", api, objectDomain(api), dom, f.file)
		}
		payload := []byte(nil)
		if g, ok := guarded[proc]; ok {
			payload = g[0]
			if err := checkReadOnly(proc, g[1]); err == nil {
				t.Errorf("%d %s with guarded arguments: allowed", proc, api)
			} else if we := toWire(err, 0); we.Code != errOperationDenied || we.Domain != objectDomain(api) {
				t.Errorf("%d %s with guarded arguments: %+v", proc, api, we)
			}
			if f.readOnly != roConditional && proc != procDomainGetXMLDesc && proc != procDomainManagedSaveGetXMLDesc &&
				proc != procDomainSnapshotGetXMLDesc && proc != procDomainCheckpointGetXMLDesc {
				t.Errorf("%d %s: an argument rule here, none in libvirt", proc, api)
			}
			delete(guarded, proc)
		} else if f.readOnly == roConditional {
			t.Errorf("%d %s: argument-dependent in libvirt (%s), no rule here", proc, api, f.guard)
		}
		err := checkReadOnly(proc, payload)
		if (err != nil) != (f.readOnly == roDenied) {
			t.Errorf("%d %s: denied = %v, libvirt: %v", proc, api, err != nil, f.readOnly)
			continue
		}
		if err != nil {
			denied++
			we := toWire(err, 0)
			want := "operation forbidden: read only access prevents " + api
			if we.Code != errOperationDenied || we.Domain != objectDomain(api) || we.Message() != want {
				t.Errorf("%s: %+v %q", api, we, we.Message())
			}
		}
	}
	if denied != 197 { // libvirt 9.0: 199 virCheckReadOnly APIs, 2 of them conditional
		t.Errorf("%d procedures denied, libvirt 9.0 denies 197", denied)
	}
	for proc := range guarded {
		t.Errorf("rule for %d not in the table", proc)
	}
}

// TestPriorityTable checks the priority workers' table against libvirt's
// @priority: high annotations: 184 procedures in libvirt 9.0, among them
// the connection setup, lookups and DOMAIN_GET_STATE.
func TestPriorityTable(t *testing.T) {
	var p remoteProgram
	high := 0
	for proc := int32(1); proc <= remoteProcMax; proc++ {
		if p.highPriority(proc) {
			high++
		}
	}
	if high != 184 {
		t.Errorf("%d high-priority procedures, libvirt 9.0 has 184", high)
	}
	for _, proc := range []int32{procConnectOpen, procConnectGetVersion, procDomainLookupByName,
		procDomainLookupByUUID, procDomainLookupByID, procDomainGetState, procConnectListAllDomains} {
		if !p.highPriority(proc) {
			t.Errorf("%s is @priority: high in libvirt", remoteProcAPI[proc])
		}
	}
	for _, proc := range []int32{procDomainCreate, procDomainGetXMLDesc, procConnectGetCapabilities, 0, remoteProcMax + 1} {
		if p.highPriority(proc) {
			t.Errorf("procedure %d is not high priority in libvirt", proc)
		}
	}
}

// TestObjectDomain checks the error domain of APIs whose name could match
// more than one object.
func TestObjectDomain(t *testing.T) {
	for _, c := range []struct {
		api  string
		want int32
	}{
		{"virDomainSnapshotDelete", fromDomainSnapshot},
		{"virDomainCheckpointCreateXML", fromDomainCheckpoint},
		{"virDomainDefineXML", fromDomain},
		{"virNWFilterBindingDelete", fromNWFilter},
		{"virNetworkPortDelete", fromNetwork},
		{"virStorageVolResize", fromStorage},
		{"virNodeDeviceCreateXML", fromNodedev},
		{"virNodeGetInfo", fromDomain},
		{"virConnectListAllNWFilterBindings", fromNWFilter},
		{"virConnectListAllNetworks", fromNetwork},
		{"virConnectFindStoragePoolSources", fromStorage},
		{"virConnectGetDomainCapabilities", fromDomain},
		{"virConnectBaselineHypervisorCPU", fromDomain},
	} {
		if got := objectDomain(c.api); got != c.want {
			t.Errorf("objectDomain(%s) = %d, want %d", c.api, got, c.want)
		}
	}
}

// TestUintParams checks the validation of server_set_* params against
// virTypedParamsValidate's: params are checked in field name order, and a
// repeated one is refused.
func TestUintParams(t *testing.T) {
	for _, c := range []struct {
		name   string
		params []typedParam
		want   map[string]uint
		code   int32
		msg    string
	}{
		{"none", nil, map[string]uint{}, 0, ""},
		{"two", []typedParam{uintParam("b", 2), uintParam("a", 1)}, map[string]uint{"a": 1, "b": 2}, 0, ""},
		{"unknown", []typedParam{uintParam("a", 1), uintParam("zz", 1)}, nil,
			errArgumentUnsupported, "argument unsupported: parameter 'zz' not supported"},
		{"bad type", []typedParam{intParam("a", 1)}, nil,
			errInvalidArg, "invalid argument: invalid type 'int' for parameter 'a', expected 'uint'"},
		{"repeated", []typedParam{uintParam("a", 1), uintParam("b", 2), uintParam("a", 3)}, nil,
			errInvalidArg, "invalid argument: parameter 'a' occurs multiple times"},
		{"first by name: bad type before unknown", []typedParam{uintParam("zz", 1), intParam("b", 1)}, nil,
			errInvalidArg, "invalid argument: invalid type 'int' for parameter 'b', expected 'uint'"},
		{"first by name: unknown before bad type", []typedParam{intParam("b", 1), uintParam("aa", 1)}, nil,
			errArgumentUnsupported, "argument unsupported: parameter 'aa' not supported"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := uintParams(c.params, "a", "b")
			if c.msg == "" {
				if err != nil || !reflect.DeepEqual(got, c.want) {
					t.Fatalf("got %v, %v; want %v", got, err, c.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("got %v, want code %d %q", got, c.code, c.msg)
			}
			if we := toWire(err, 0); we.Code != c.code || we.Domain != fromNone || we.Message() != c.msg {
				t.Fatalf("got %+v %q, want code %d %q", we, we.Message(), c.code, c.msg)
			}
		})
	}
}

func TestErrorMapping(t *testing.T) {
	cases := []struct {
		err  error
		code int32
		msg  string
	}{
		{errdefs.New(errdefs.ErrNoDomain, "no domain with matching name 'x'"), 42, "Domain not found: no domain with matching name 'x'"},
		{errdefs.New(errdefs.ErrNoSupport, "virDomainReboot"), 3, "this function is not supported by the connection driver: virDomainReboot"},
		{errdefs.New(errdefs.ErrNoConnect, "qemu:///system"), 5, "no connection driver available for qemu:///system"},
		{errdefs.New(errdefs.ErrOperationInvalid, "domain is not running"), 55, "Requested operation is not valid: domain is not running"},
		{errdefs.New(errdefs.ErrOperationFailed, "x"), 9, "operation failed: x"},
		{errdefs.New(errdefs.ErrInvalidArg, "x"), 8, "invalid argument: x"},
		{errdefs.New(errdefs.ErrXML, "x"), 27, "XML error: x"},
		{errdefs.New(errdefs.ErrConfigUnsupported, "x"), 67, "unsupported configuration: x"},
		{errdefs.New(errdefs.ErrInternal, "x"), 1, "internal error: x"},
		{errdefs.New(errdefs.ErrOperationDenied, "x"), 29, "operation forbidden: x"},
		{errdefs.New(errdefs.ErrDomainExists, "'vm1'"), 28, "domain 'vm1' exists already"},
		{errdefs.New(errdefs.ErrOperationTimeout, "x"), 68, "Timed out during operation: x"},
		{errdefs.New(errdefs.ErrNoDomainSnapshot, "x"), 72, "Domain snapshot not found: x"},
		{errdefs.New(errdefs.ErrArgUnsupported, "x"), 74, "argument unsupported: x"},
		{errdefs.New(errdefs.ErrSystem, "x"), 38, "x"},
		{errors.New("plain"), 1, "internal error: plain"},
		{fmtWrap(errdefs.New(errdefs.ErrNoDomain, "d")), 42, "Domain not found: d"},
	}
	for _, c := range cases {
		we := toWire(c.err, fromVBox)
		if we.Code != c.code || we.Message() != c.msg || we.Domain != fromVBox {
			t.Errorf("%v: got code %d domain %d %q", c.err, we.Code, we.Domain, we.Message())
		}
	}
	// Every class has a code and a template.
	for class, code := range classCodes {
		if _, ok := templates[code]; !ok {
			t.Errorf("class %v: code %d has no template", class, code)
		}
	}
	// Driver "not supported" errors take the API's object domain.
	we := driverError(procDomainReboot, errdefs.New(errdefs.ErrNoSupport, "virDomainReboot")).(*wireError)
	if we.Domain != fromDomain {
		t.Errorf("no-support domain = %d", we.Domain)
	}
}

func fmtWrap(err error) error { return &wrapped{err} }

type wrapped struct{ err error }

func (w *wrapped) Error() string { return "context: " + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }

func FuzzReadPacket(f *testing.F) {
	f.Add(unhex(f, "0000001c 20008086 00000001 00000042 00000000 00000000 00000000"))
	f.Add(unhex(f, "00000020 20008086 00000001 0000003c 00000000 00000001 00000000 0000000a"))
	f.Add(unhex(f, "0000001c 6b656570 00000001 00000001 00000002 00000000 00000000"))
	f.Add(unhex(f, "00000002"))
	f.Add(unhex(f, "02000005 20008086"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		var buf []byte
		for {
			h, payload, b, err := readPacket(r, buf, noBudget)
			buf = b
			if err != nil {
				return
			}
			if len(payload) > MessageMax {
				t.Fatalf("payload of %d bytes", len(payload))
			}
			_ = h
		}
	})
}

func TestReadPacketLimits(t *testing.T) {
	for _, c := range []struct {
		in      string
		framing bool
	}{
		{"00000002", true},
		{"0000001b" + strings.Repeat("00", 23), true},
		{"02000005", true},
		{"0000001c 20008086", false}, // short body: unexpected EOF
	} {
		_, _, _, err := readPacket(bytes.NewReader(unhex(t, c.in)), nil, noBudget)
		if errors.Is(err, errFraming) != c.framing || err == nil {
			t.Errorf("%s: %v", c.in, err)
		}
	}
	b := unhex(t, "00000020 20008086 00000001 0000003c 00000000 00000009 00000000 0000000a ffff")
	h, payload, _, err := readPacket(bytes.NewReader(b), nil, noBudget)
	if err != nil || h.Procedure != 60 || h.Serial != 9 || !bytes.Equal(payload, unhex(t, "0000000a")) {
		t.Errorf("%+v %x %v", h, payload, err)
	}
}

func noBudget(int64) error { return nil }

// TestReadPacketGrowsWithData checks that the read buffer follows the bytes
// that arrived, not the announced length: a 32 MiB announcement followed by
// 32 bytes leaves a 4 KiB buffer and reserves no budget; a whole 1 MiB
// packet reserves exactly what its buffer holds beyond freeBuffer.
func TestReadPacketGrowsWithData(t *testing.T) {
	var reserved int64
	grow := func(n int64) error { reserved += n; return nil }
	hdr := unhex(t, "02000004 20008086 00000001 0000000b 00000000 00000001 00000000")
	in := io.MultiReader(bytes.NewReader(hdr), bytes.NewReader(make([]byte, 8)))
	_, _, buf, err := readPacket(in, nil, grow)
	if err != io.ErrUnexpectedEOF || cap(buf) > 4096 || reserved != 0 {
		t.Fatalf("32 bytes of a 32 MiB packet: err %v, buffer %d bytes, %d reserved", err, cap(buf), reserved)
	}
	const size = 1 << 20
	pkt := append(binary.BigEndian.AppendUint32(nil, size), hdr[4:]...)
	pkt = append(pkt, make([]byte, size-len(pkt))...)
	_, payload, buf, err := readPacket(bytes.NewReader(pkt), make([]byte, 0, 4096), grow)
	if err != nil || len(payload) != size-28 {
		t.Fatalf("1 MiB packet: %v, %d payload bytes", err, len(payload))
	}
	if reserved != reservedFor(cap(buf)) || cap(buf) != size-4 {
		t.Fatalf("1 MiB packet: buffer %d bytes, %d reserved", cap(buf), reserved)
	}
	// A refused reservation ends the read with its error.
	_, _, _, err = readPacket(bytes.NewReader(pkt), nil, func(int64) error { return errNoBudget })
	if err != errNoBudget {
		t.Fatalf("refused budget: %v", err)
	}
}

// TestMemBudget checks the budget: reservations up to the limit pass, the
// next waits until one is returned, gives up after budgetWait or when its
// client goes, and one larger than the whole budget fails at once.
func TestMemBudget(t *testing.T) {
	never := func() bool { return false }
	b := newMemBudget(100)
	if err := b.reserve(60, never); err != nil {
		t.Fatal(err)
	}
	if err := b.reserve(101, never); err != errNoBudget {
		t.Fatalf("over the whole budget: %v", err)
	}
	got := make(chan error)
	go func() { got <- b.reserve(60, never) }()
	select {
	case err := <-got:
		t.Fatalf("reserved past the limit: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	b.release(60)
	if err := <-got; err != nil || b.Used() != 60 {
		t.Fatalf("after a release: %v, %d used", err, b.Used())
	}
	var gone atomic.Bool
	go func() { got <- b.reserve(60, gone.Load) }()
	gone.Store(true)
	b.wake()
	if err := <-got; err != errNoBudget {
		t.Fatalf("client gone: %v", err)
	}
	old := budgetWait
	budgetWait = 10 * time.Millisecond
	defer func() { budgetWait = old }()
	if err := b.reserve(60, never); err != errNoBudget {
		t.Fatalf("after budgetWait: %v", err)
	}
}

func TestWorkerPool(t *testing.T) {
	p := newWorkerPool(1, 2, 1)
	defer p.stop()
	block := make(chan struct{})
	var started sync.WaitGroup
	started.Add(2)
	for i := 0; i < 2; i++ {
		p.submit(job{owner: uint32(i), run: func() { started.Done(); <-block }})
	}
	started.Wait() // the pool grew to max_workers, both blocked
	if info := p.info(); info.NWorkers != 2 || info.FreeWorkers != 0 {
		t.Errorf("info = %+v", info)
	}
	// A normal job waits; a priority job runs on the priority worker.
	normalDone := make(chan struct{})
	p.submit(job{run: func() { close(normalDone) }})
	prioDone := make(chan struct{})
	p.submit(job{prio: true, run: func() { close(prioDone) }})
	select {
	case <-prioDone:
	case <-time.After(10 * time.Second):
		t.Fatal("priority job did not run while normal workers were busy")
	}
	if info := p.info(); info.NWorkers != 2 {
		t.Errorf("pool grew past max_workers: %+v", info)
	}
	close(block)
	<-normalDone
}

// TestWorkerPoolFairness checks the owners' shares: with 4 normal and 2
// priority workers, one owner whose jobs never end gets 3 and 1 of them,
// and another owner's jobs, normal and high-priority, still run at once.
func TestWorkerPoolFairness(t *testing.T) {
	p := newWorkerPool(0, 4, 2)
	defer p.stop()
	block := make(chan struct{})
	defer close(block)
	started := make(chan struct{}, 10)
	for i := 0; i < 10; i++ { // owner 1 floods with high-priority jobs that hang
		p.submit(job{prio: true, owner: 1, run: func() { started <- struct{}{}; <-block }})
	}
	for i := 0; i < 4; i++ { // 3 normal workers and 1 priority worker
		<-started
	}
	for _, prio := range []bool{false, true} {
		done := make(chan struct{})
		p.submit(job{prio: prio, owner: 2, run: func() { close(done) }})
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("owner 2's job (prio %v) waited behind owner 1's", prio)
		}
	}
	if info := p.info(); info.JobQueueDepth != 6 {
		t.Errorf("queue depth %d, want owner 1's 6 jobs beyond its share", info.JobQueueDepth)
	}
	for n, want := range map[int]int{1: 1, 2: 1, 4: 3, 5: 4, 20: 15} {
		if got := ownerShare(n); got != want {
			t.Errorf("ownerShare(%d) = %d, want %d", n, got, want)
		}
	}
}

// TestPeerUIDRefused checks that a session daemon drops peers of another uid.
func TestPeerUIDRefused(t *testing.T) {
	dir, err := os.MkdirTemp("", "vvd")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := logrus.New()
	logger.SetOutput(writerFunc(func(b []byte) (int, error) { logMu.Lock(); defer logMu.Unlock(); return logs.Write(b) }))
	s := NewServer(ServerConfig{Name: "virtvboxd", MinWorkers: 1, MaxWorkers: 2, MaxClients: 10,
		MaxClientRequests: 5}, logrus.NewEntry(logger))
	s.euid = uint32(os.Geteuid()) + 4242 // pretend we run as another user
	s.Register(NewRemoteProgram(nil, nil))
	ln, err := net.Listen("unix", filepath.Join(dir, "s"))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background(), ln, Service{}) }()
	c, err := net.Dial("unix", filepath.Join(dir, "s"))
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read = %v, want EOF", err)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	logMu.Lock()
	defer logMu.Unlock()
	if !strings.Contains(logs.String(), "Disallowing client") {
		t.Errorf("log: %s", logs.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// TestPanicLogRateLimited checks that a client repeating a call that panics
// gets one stack in the log, at error level, and then only debug lines
// without a stack; the count of the quiet ones comes with the next stack.
func TestPanicLogRateLimited(t *testing.T) {
	logger, hook := logtest.NewNullLogger()
	logger.SetLevel(logrus.DebugLevel)
	var p panicLog
	for i := 0; i < 1000; i++ {
		p.log(logrus.NewEntry(logger), "boom", []byte("goroutine 1 [running]:\n..."))
	}
	var errs, debugs int
	for _, e := range hook.AllEntries() {
		switch e.Level {
		case logrus.ErrorLevel:
			errs++
			if !strings.Contains(e.Message, "goroutine 1") {
				t.Errorf("the first panic is logged without its stack: %q", e.Message)
			}
		case logrus.DebugLevel:
			debugs++
			if strings.Contains(e.Message, "goroutine") {
				t.Errorf("a repeated panic is logged with its stack: %q", e.Message)
			}
		}
	}
	if errs != 1 || debugs != 999 {
		t.Fatalf("%d error and %d debug lines, want 1 and 999", errs, debugs)
	}
	// Once the interval has passed, the next stack is logged with the count.
	p.last = p.last.Add(-panicLogInterval)
	hook.Reset()
	p.log(logrus.NewEntry(logger), "boom", []byte("stack"))
	if e := hook.LastEntry(); e == nil || e.Level != logrus.ErrorLevel || e.Data["suppressed"] != 999 {
		t.Fatalf("after the interval: %+v", e)
	}
}
