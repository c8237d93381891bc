package rpc

// snapshotHandlers are the snapshot procedures (see remoteHandlers).
var snapshotHandlers = handlerSet{}
