package rpc

// consoleHandlers are the console procedures (see remoteHandlers).
var consoleHandlers = handlerSet{}
