package rpc

// statsHandlers are the stats procedures (see remoteHandlers).
var statsHandlers = handlerSet{}
