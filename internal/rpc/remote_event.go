package rpc

// eventHandlers are the event procedures (see remoteHandlers).
var eventHandlers = handlerSet{}
