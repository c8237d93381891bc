// Command clientfloor is the fastest server a libvirt client can talk to: it
// answers AUTH_LIST, SUPPORTS_FEATURE, CONNECT_OPEN/CLOSE and GET_LIB_VERSION
// inline on the connection's goroutine and does nothing else. Measuring a
// client against it gives the client's own ceiling, the figure a daemon's
// "calls per second" cannot exceed however fast it is (bench/client-floor.sh).
//
// Usage: clientfloor SOCKET
package main

import (
	"encoding/binary"
	"io"
	"net"
	"os"
)

func main() {
	os.Remove(os.Args[1])
	ln, err := net.Listen("unix", os.Args[1])
	if err != nil {
		panic(err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go serve(c)
	}
}

func serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 1<<20)
	out := make([]byte, 0, 256)
	for {
		if _, err := io.ReadFull(c, buf[:4]); err != nil {
			return
		}
		n := binary.BigEndian.Uint32(buf)
		if _, err := io.ReadFull(c, buf[4:n]); err != nil {
			return
		}
		proc := binary.BigEndian.Uint32(buf[12:])
		out = append(out[:0], buf[:28]...)
		binary.BigEndian.PutUint32(out[16:], 1) // REPLY
		switch proc {                           // replies with empty payloads for everything else (CONNECT_OPEN, CLOSE...)
		case 66: // AUTH_LIST: one type, NONE
			out = binary.BigEndian.AppendUint32(out, 1)
			out = binary.BigEndian.AppendUint32(out, 0)
		case 60: // CONNECT_SUPPORTS_FEATURE: yes
			out = binary.BigEndian.AppendUint32(out, 1)
		case 157: // CONNECT_GET_LIB_VERSION
			out = binary.BigEndian.AppendUint64(out, 9000000)
		}
		binary.BigEndian.PutUint32(out, uint32(len(out)))
		if _, err := c.Write(out); err != nil {
			return
		}
		if proc == 2 {
			return
		}
	}
}
