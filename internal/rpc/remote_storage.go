package rpc

// storageHandlers are the storage procedures (see remoteHandlers).
var storageHandlers = handlerSet{}
