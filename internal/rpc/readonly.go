package rpc

import (
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"
)

// The read-only rule, in one place. libvirt enforces it in the public API
// entry points (every virCheckReadOnly site of libvirt 9.0); here the
// protocol facts (remoteFacts) give it per REMOTE procedure, and it is
// checked before any handler runs. Reference: libvirt-daemon-and-rpc.md
// section 7.

// readOnlyDenied[proc] is the API a read-only client is refused whatever
// the arguments, or "": the procedures whose API calls virCheckReadOnly
// unconditionally in libvirt 9.0 (remoteFacts). The APIs denied for some
// arguments only are readOnlyArgRules.
var readOnlyDenied [remoteProcMax + 1]string

func init() {
	for proc, f := range remoteFacts {
		if f.readOnly == roDenied {
			readOnlyDenied[proc] = remoteProcAPI[proc]
		}
	}
}

// roArgRule is a denial that depends on the arguments: decode them into
// args, and the call is refused when denied reports true. msg is libvirt's
// message for it, or "" for "read only access prevents <api>".
type roArgRule struct {
	args   func() any
	denied func(args any) bool
	msg    string
}

// readOnlyArgRules are the procedures a read-only client may call with some
// arguments only, as libvirt 9.0's API entry points decide.
var readOnlyArgRules = map[int32]roArgRule{
	procDomainGetVcpusFlags: {
		args:   func() any { return new(libvirt.DomainGetVcpusFlagsArgs) },
		denied: func(a any) bool { return a.(*libvirt.DomainGetVcpusFlagsArgs).Flags&domainVcpuGuest != 0 },
	},
	procDomainInterfaceAddresses: {
		args: func() any { return new(libvirt.DomainInterfaceAddressesArgs) },
		denied: func(a any) bool {
			return a.(*libvirt.DomainInterfaceAddressesArgs).Source == domainInterfaceAddressesSrcAgent
		},
	},
	procDomainGetXMLDesc: {
		args: func() any { return new(libvirt.DomainGetXMLDescArgs) },
		denied: func(a any) bool {
			return a.(*libvirt.DomainGetXMLDescArgs).Flags&(domainXMLSecure|domainXMLMigratable) != 0
		},
		msg: "virDomainGetXMLDesc with secure flag",
	},
	procDomainManagedSaveGetXMLDesc: {
		args: func() any { return new(libvirt.DomainManagedSaveGetXMLDescArgs) },
		denied: func(a any) bool {
			return a.(*libvirt.DomainManagedSaveGetXMLDescArgs).Flags&domainXMLSecure != 0
		},
		msg: "virDomainManagedSaveGetXMLDesc with secure flag",
	},
	procDomainSnapshotGetXMLDesc: {
		args:   func() any { return new(libvirt.DomainSnapshotGetXMLDescArgs) },
		denied: func(a any) bool { return a.(*libvirt.DomainSnapshotGetXMLDescArgs).Flags&domainXMLSecure != 0 },
		msg:    "virDomainSnapshotGetXMLDesc with secure flag",
	},
	procDomainCheckpointGetXMLDesc: {
		args:   func() any { return new(libvirt.DomainCheckpointGetXMLDescArgs) },
		denied: func(a any) bool { return a.(*libvirt.DomainCheckpointGetXMLDescArgs).Flags&domainXMLSecure != 0 },
		msg:    "virDomainCheckpointGetXMLDesc with secure flag",
	},
}

// checkReadOnly returns the error a read-only client gets for calling proc
// with payload, or nil. A payload that does not decode for an
// argument-dependent rule gets the decoding error, as libvirt decodes before
// its API checks anything.
func checkReadOnly(proc int32, payload []byte) error {
	if proc <= 0 || int(proc) > remoteProcMax {
		return nil
	}
	api := remoteProcAPI[proc]
	if readOnlyDenied[proc] != "" {
		return newError(errOperationDenied, objectDomain(api), "read only access prevents "+api)
	}
	rule, ok := readOnlyArgRules[proc]
	if !ok {
		return nil
	}
	a := rule.args()
	if err := decodeArgs(payload, a); err != nil {
		return err
	}
	if !rule.denied(a) {
		return nil
	}
	if rule.msg != "" {
		return newError(errOperationDenied, objectDomain(api), rule.msg)
	}
	return newError(errOperationDenied, objectDomain(api), "read only access prevents "+api)
}

// objectDomain is the virErrorDomain libvirt's public API layer reports for
// api: the VIR_FROM_THIS of the libvirt-<object>.c file defining it.
func objectDomain(api string) int32 {
	if d, ok := misfiledAPIs[api]; ok {
		return d
	}
	name := strings.TrimPrefix(api, "vir")
	for _, o := range objectFiles {
		if strings.HasPrefix(name, o.word) {
			return o.dom
		}
	}
	if rest, ok := strings.CutPrefix(name, "Connect"); ok {
		for _, o := range connectObjects {
			if strings.Contains(rest, o.word) {
				return o.dom
			}
		}
	}
	// libvirt-host.c (virConnect*, virNode*): its VIR_FROM_THIS is
	// VIR_FROM_DOMAIN. (libvirt.c's are open and close, answered here.)
	return fromDomain
}

// misfiledAPIs are the APIs whose name does not say the file defining them.
var misfiledAPIs = map[string]int32{
	"virNodeNumOfDevices": fromNodedev, "virNodeListDevices": fromNodedev,
	"virDomainHasCurrentSnapshot": fromDomainSnapshot, "virDomainRevertToSnapshot": fromDomainSnapshot,
	"virDomainListAllSnapshots": fromDomainSnapshot, "virDomainListAllCheckpoints": fromDomainCheckpoint,
}

type objectWord struct {
	word string
	dom  int32
}

// objectFiles are the API name prefixes (after "vir") of the
// libvirt-<object>.c files, the longer before those they begin with.
var objectFiles = []objectWord{
	{"DomainSnapshot", fromDomainSnapshot}, {"DomainCheckpoint", fromDomainCheckpoint},
	{"NWFilter", fromNWFilter}, {"Domain", fromDomain}, {"Network", fromNetwork},
	{"Storage", fromStorage}, {"NodeDevice", fromNodedev}, {"Secret", fromSecret},
	{"Interface", fromInterface},
}

// connectObjects are the objects a virConnect* API of an object's file
// names (virConnectListAllNWFilters, virConnectFindStoragePoolSources...),
// in the order they are looked for.
var connectObjects = []objectWord{
	{"NWFilter", fromNWFilter}, {"StoragePool", fromStorage}, {"NodeDevice", fromNodedev},
	{"Network", fromNetwork}, {"Secret", fromSecret}, {"Interface", fromInterface},
	{"Domain", fromDomain},
}
