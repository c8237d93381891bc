package rpc

// networkHandlers are the network procedures (see remoteHandlers).
var networkHandlers = handlerSet{}
