package rpc

import "strings"

// The read-only rule, in one place. libvirt enforces it in the public API
// entry points (every virCheckReadOnly site of libvirt 9.0); here a table
// keyed by REMOTE procedure, built from those API names, is checked before
// any handler runs. Reference: libvirt-daemon-and-rpc.md section 7.

// readOnlyDeniedAPIs are the APIs a read-only connection may not call.
var readOnlyDeniedAPIs = []string{
	// virConnect*
	"virConnectBaselineHypervisorCPU", "virConnectCompareHypervisorCPU",
	"virConnectDomainXMLFromNative", "virConnectDomainXMLToNative",
	"virConnectFindStoragePoolSources", "virConnectGetDomainCapabilities",
	// virDomain* (virDomainMigrate* are matched by prefix below)
	"virDomainAbortJob", "virDomainAbortJobFlags", "virDomainAddIOThread",
	"virDomainAgentSetResponseTimeout", "virDomainAttachDevice", "virDomainAttachDeviceFlags",
	"virDomainAuthorizedSSHKeysGet", "virDomainAuthorizedSSHKeysSet", "virDomainBackupBegin",
	"virDomainBlockCommit", "virDomainBlockCopy", "virDomainBlockJobAbort",
	"virDomainBlockJobSetSpeed", "virDomainBlockPeek", "virDomainBlockPull",
	"virDomainBlockRebase", "virDomainBlockResize", "virDomainCoreDump",
	"virDomainCoreDumpWithFormat", "virDomainCreate", "virDomainCreateWithFiles",
	"virDomainCreateWithFlags", "virDomainCreateXML", "virDomainCreateXMLWithFiles",
	"virDomainDefineXML", "virDomainDefineXMLFlags", "virDomainDelIOThread",
	"virDomainDestroy", "virDomainDestroyFlags", "virDomainDetachDevice",
	"virDomainDetachDeviceAlias", "virDomainDetachDeviceFlags", "virDomainFDAssociate",
	"virDomainFSFreeze", "virDomainFSThaw", "virDomainFSTrim", "virDomainGetFSInfo",
	"virDomainGetGuestVcpus", "virDomainGetHostname", "virDomainGetTime",
	"virDomainGetVcpusFlags", "virDomainInjectNMI", "virDomainInterfaceAddresses",
	"virDomainManagedSave", "virDomainManagedSaveDefineXML", "virDomainManagedSaveRemove",
	"virDomainMemoryPeek", "virDomainOpenChannel", "virDomainOpenConsole",
	"virDomainOpenGraphics", "virDomainOpenGraphicsFD", "virDomainPMSuspendForDuration",
	"virDomainPMWakeup", "virDomainPinEmulator", "virDomainPinIOThread", "virDomainPinVcpu",
	"virDomainPinVcpuFlags", "virDomainReboot", "virDomainRename", "virDomainReset",
	"virDomainRestore", "virDomainRestoreFlags", "virDomainRestoreParams", "virDomainResume",
	"virDomainRevertToSnapshot", "virDomainSave", "virDomainSaveFlags", "virDomainSaveParams",
	"virDomainSaveImageDefineXML", "virDomainSaveImageGetXMLDesc", "virDomainScreenshot",
	"virDomainSendKey", "virDomainSendProcessSignal", "virDomainSetAutostart",
	"virDomainSetBlkioParameters", "virDomainSetBlockIoTune", "virDomainSetBlockThreshold",
	"virDomainSetGuestVcpus", "virDomainSetIOThreadParams", "virDomainSetInterfaceParameters",
	"virDomainSetMaxMemory", "virDomainSetMemory", "virDomainSetMemoryFlags",
	"virDomainSetMemoryParameters", "virDomainSetMemoryStatsPeriod", "virDomainSetMetadata",
	"virDomainSetNumaParameters", "virDomainSetSchedulerParameters",
	"virDomainSetSchedulerParametersFlags", "virDomainSetTime", "virDomainSetUserPassword",
	"virDomainSetVcpu", "virDomainSetVcpus", "virDomainSetVcpusFlags", "virDomainShutdown",
	"virDomainShutdownFlags", "virDomainStartDirtyRateCalc", "virDomainSuspend",
	"virDomainUndefine", "virDomainUndefineFlags", "virDomainUpdateDeviceFlags",
	// snapshots and checkpoints
	"virDomainSnapshotCreateXML", "virDomainSnapshotDelete",
	"virDomainCheckpointCreateXML", "virDomainCheckpointDelete",
	// networks and ports
	"virNetworkCreate", "virNetworkCreateXML", "virNetworkCreateXMLFlags", "virNetworkDefineXML",
	"virNetworkDefineXMLFlags", "virNetworkDestroy", "virNetworkSetAutostart",
	"virNetworkUndefine", "virNetworkUpdate", "virNetworkPortCreateXML", "virNetworkPortDelete",
	"virNetworkPortSetParameters",
	// storage
	"virStoragePoolBuild", "virStoragePoolCreate", "virStoragePoolCreateXML",
	"virStoragePoolDefineXML", "virStoragePoolDelete", "virStoragePoolDestroy",
	"virStoragePoolRefresh", "virStoragePoolSetAutostart", "virStoragePoolUndefine",
	"virStorageVolCreateXML", "virStorageVolCreateXMLFrom", "virStorageVolDelete",
	"virStorageVolDownload", "virStorageVolResize", "virStorageVolUpload", "virStorageVolWipe",
	"virStorageVolWipePattern",
	// secrets
	"virSecretDefineXML", "virSecretGetValue", "virSecretSetValue", "virSecretUndefine",
	// interfaces, node devices, nwfilters
	"virInterfaceDefineXML", "virInterfaceUndefine", "virInterfaceCreate", "virInterfaceDestroy",
	"virInterfaceChangeBegin", "virInterfaceChangeCommit", "virInterfaceChangeRollback",
	"virNodeDeviceCreateXML", "virNodeDeviceDefineXML", "virNodeDeviceDestroy",
	"virNodeDeviceUndefine", "virNodeDeviceCreate", "virNodeDeviceDettach",
	"virNodeDeviceDetachFlags", "virNodeDeviceReAttach", "virNodeDeviceReset",
	"virNodeDeviceGetAutostart", "virNodeDeviceSetAutostart",
	"virNWFilterDefineXML", "virNWFilterDefineXMLFlags", "virNWFilterUndefine",
	"virNWFilterBindingCreateXML", "virNWFilterBindingDelete",
	// host
	"virNodeAllocPages", "virNodeGetSEVInfo", "virNodeSetMemoryParameters",
	"virNodeSuspendForDuration",
}

// readOnlyDenied[proc] is the API a read-only client is refused, or "".
var readOnlyDenied [remoteProcMax + 1]string

func init() {
	denied := make(map[string]bool, len(readOnlyDeniedAPIs))
	for _, api := range readOnlyDeniedAPIs {
		denied[api] = true
	}
	for proc, api := range remoteProcAPI {
		if denied[api] || strings.HasPrefix(api, "virDomainMigrate") {
			readOnlyDenied[proc] = api
		}
	}
}

// VIR_DOMAIN_XML_SECURE and VIR_DOMAIN_XML_MIGRATABLE: a read-only client
// may not ask for them.
const (
	domainXMLSecure     = 1
	domainXMLMigratable = 8
)

// checkReadOnly returns the error a read-only client gets for proc, or nil.
func checkReadOnly(proc int32) error {
	if proc <= 0 || int(proc) > remoteProcMax || readOnlyDenied[proc] == "" {
		return nil
	}
	api := readOnlyDenied[proc]
	return newError(errOperationDenied, objectDomain(api), "read only access prevents "+api)
}

// checkReadOnlyXMLFlags is the flag-dependent part of the rule for
// virDomainGetXMLDesc.
func checkReadOnlyXMLFlags(flags uint32) error {
	if flags&(domainXMLSecure|domainXMLMigratable) != 0 {
		return newError(errOperationDenied, fromDomain, "virDomainGetXMLDesc with secure flag")
	}
	return nil
}

// objectDomain is the virErrorDomain libvirt's public API layer reports for
// api: the VIR_FROM_THIS of the libvirt-<object>.c file defining it.
func objectDomain(api string) int32 {
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
	// libvirt.c and libvirt-host.c (virConnect*, virNode*).
	return fromDom
}

type objectWord struct {
	word string
	dom  int32
}

// objectFiles are the API name prefixes (after "vir") of the
// libvirt-<object>.c files, the longer before those they begin with.
var objectFiles = []objectWord{
	{"DomainSnapshot", fromDomainSnapshot}, {"DomainCheckpoint", fromCheckpoint},
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
