package rpc

// deviceHandlers are the device procedures (see remoteHandlers).
var deviceHandlers = handlerSet{}
