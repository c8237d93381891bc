// Command clientfloor is the fastest server a libvirt client can talk to: it
// answers the calls `virsh list --all` and python3-libvirt's getLibVersion()
// loop make, inline on the connection's goroutine, and does nothing else (no
// domains, no driver). Measured with the same client as a real daemon, it
// gives the client's own ceiling: the rate no daemon can exceed, however fast
// (bench/compare.sh runs compare-daemons.py against it as a third "daemon").
//
// Usage: clientfloor [SOCKET]  (default $XDG_RUNTIME_DIR/libvirt/virtvboxd-sock)
package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

func main() {
	path := filepath.Join(os.Getenv("XDG_RUNTIME_DIR"), "libvirt", "virtvboxd-sock")
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		fmt.Fprintln(os.Stderr, "clientfloor:", err)
		os.Exit(1)
	}
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "clientfloor:", err)
		os.Exit(1)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sig; ln.Close(); os.Remove(path); os.Exit(0) }()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go serve(c)
	}
}

// The REMOTE procedures answered with something other than an empty reply.
const (
	procConnectSupportsFeature = 60
	procAuthList               = 66
	procConnectGetLibVersion   = 157
	procConnectListAllDomains  = 273
	procConnectClose           = 2
	featureProgramKeepalive    = 10
)

func serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c) // one read(2) per call, as a daemon should
	buf := make([]byte, 1<<16)
	out := make([]byte, 0, 256)
	for {
		if _, err := io.ReadFull(r, buf[:4]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(buf)
		if n < 28 || n > uint32(len(buf)) {
			return
		}
		if _, err := io.ReadFull(r, buf[4:n]); err != nil {
			return
		}
		proc := binary.BigEndian.Uint32(buf[12:])
		out = append(out[:0], buf[:28]...)
		binary.BigEndian.PutUint32(out[16:], 1) // type REPLY, status OK
		switch proc {
		case procAuthList: // one auth type: NONE
			out = binary.BigEndian.AppendUint32(out, 1)
			out = binary.BigEndian.AppendUint32(out, 0)
		case procConnectSupportsFeature: // yes, but no server keepalive
			supported := uint32(1)
			if n >= 32 && binary.BigEndian.Uint32(buf[28:]) == featureProgramKeepalive {
				supported = 0
			}
			out = binary.BigEndian.AppendUint32(out, supported)
		case procConnectGetLibVersion:
			out = binary.BigEndian.AppendUint64(out, 9000000)
		case procConnectListAllDomains: // no domains, ret 0
			out = binary.BigEndian.AppendUint64(out, 0)
		}
		binary.BigEndian.PutUint32(out, uint32(len(out)))
		if _, err := c.Write(out); err != nil {
			return
		}
		if proc == procConnectClose {
			return
		}
	}
}
