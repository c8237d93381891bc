package rpc

import (
	"net"
	"syscall"
)

// peerCred reads the peer's credentials of a UNIX connection (SO_PEERCRED).
// Any connection exposing its socket (syscall.Conn) will do.
func peerCred(c net.Conn) (PeerCred, bool) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return PeerCred{}, false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return PeerCred{}, false
	}
	var cred *syscall.Ucred
	var serr error
	if err := raw.Control(func(fd uintptr) {
		cred, serr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil || serr != nil {
		return PeerCred{}, false
	}
	return PeerCred{UID: cred.Uid, GID: cred.Gid, PID: cred.Pid}, true
}
