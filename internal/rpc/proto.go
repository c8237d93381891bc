package rpc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Program numbers and versions, from libvirt's protocol files:
// src/remote/remote_protocol.x (REMOTE_PROGRAM), src/admin/admin_protocol.x
// (ADMIN_PROGRAM) and src/rpc/virkeepaliveprotocol.x (KEEPALIVE_PROGRAM).
// Every program is at version 1.
const (
	RemoteProgram    uint32 = 0x20008086
	AdminProgram     uint32 = 0x06900690
	KeepaliveProgram uint32 = 0x6b656570 // "keep"
	programVersion   uint32 = 1
)

// KEEPALIVE procedures (virkeepaliveprotocol.x).
const (
	keepalivePing int32 = 1
	keepalivePong int32 = 2
)

// MessageType is virNetMessageType (src/rpc/virnetprotocol.x).
type MessageType uint32

// The message types.
const (
	TypeCall         MessageType = 0
	TypeReply        MessageType = 1
	TypeMessage      MessageType = 2
	TypeStream       MessageType = 3
	TypeCallWithFDs  MessageType = 4
	TypeReplyWithFDs MessageType = 5
	TypeStreamHole   MessageType = 6
)

// Status is virNetMessageStatus.
type Status uint32

// The message statuses.
const (
	StatusOK       Status = 0
	StatusError    Status = 1
	StatusContinue Status = 2
)

// Wire limits (virnetprotocol.x, remote_protocol.x).
const (
	headerSize = 24 // VIR_NET_MESSAGE_HEADER_MAX
	lenSize    = 4  // the length word
	// MessageMax is VIR_NET_MESSAGE_MAX: the largest packet, length word excluded.
	MessageMax = 33554432
	// maxLength is the largest length word the reader accepts (MAX + 4).
	maxLength = MessageMax + lenSize
	// minLength is the smallest packet: the length word and a header.
	minLength = lenSize + headerSize
	// stringMax is REMOTE_STRING_MAX and ADMIN_STRING_MAX.
	stringMax = 4194304
	// domainListMax is REMOTE_DOMAIN_LIST_MAX.
	domainListMax = 16384
)

// Header is virNetMessageHeader, the 24 bytes after the length word.
type Header struct {
	Program   uint32
	Version   uint32
	Procedure int32
	Type      MessageType
	Serial    uint32
	Status    Status
}

// errFraming reports a packet whose length word is out of bounds: the
// connection is closed without a reply, as libvirt does.
var errFraming = errors.New("rpc: packet length out of bounds")

func (h *Header) put(b []byte) {
	binary.BigEndian.PutUint32(b[0:], h.Program)
	binary.BigEndian.PutUint32(b[4:], h.Version)
	binary.BigEndian.PutUint32(b[8:], uint32(h.Procedure))
	binary.BigEndian.PutUint32(b[12:], uint32(h.Type))
	binary.BigEndian.PutUint32(b[16:], h.Serial)
	binary.BigEndian.PutUint32(b[20:], uint32(h.Status))
}

func parseHeader(b []byte) Header {
	return Header{
		Program:   binary.BigEndian.Uint32(b[0:]),
		Version:   binary.BigEndian.Uint32(b[4:]),
		Procedure: int32(binary.BigEndian.Uint32(b[8:])),
		Type:      MessageType(binary.BigEndian.Uint32(b[12:])),
		Serial:    binary.BigEndian.Uint32(b[16:]),
		Status:    Status(binary.BigEndian.Uint32(b[20:])),
	}
}

// readPacket reads one packet from r: the length word, the header and the
// payload. The returned payload aliases the returned buffer, which is buf
// when the packet fits in it. The buffer grows (fourfold) as bytes arrive,
// never from the announced length alone: a client that announces 32 MiB and sends 32
// bytes costs what it sent. Growth beyond freeBuffer is first reserved with
// grow (given the extra bytes); its error ends the read. A length below 28
// or above 33554436 returns errFraming; a short read returns the reader's
// error (io.EOF at a packet boundary).
func readPacket(r io.Reader, buf []byte, grow func(extra int64) error) (Header, []byte, []byte, error) {
	var lb [lenSize]byte
	if _, err := io.ReadFull(r, lb[:]); err != nil {
		return Header{}, nil, buf, err
	}
	n := binary.BigEndian.Uint32(lb[:])
	if n < minLength || n > maxLength {
		return Header{}, nil, buf, fmt.Errorf("%w: %d", errFraming, n)
	}
	body := int(n) - lenSize
	buf = buf[:0]
	for len(buf) < body {
		if len(buf) == cap(buf) {
			newCap := min(max(4*cap(buf), 4096), body)
			if extra := reservedFor(newCap) - reservedFor(cap(buf)); extra > 0 {
				if err := grow(extra); err != nil {
					return Header{}, nil, buf, err
				}
			}
			nb := make([]byte, len(buf), newCap)
			copy(nb, buf)
			buf = nb
		}
		m, err := r.Read(buf[len(buf):min(cap(buf), body)])
		buf = buf[:len(buf)+m]
		if err != nil && len(buf) < body {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return Header{}, nil, buf, err
		}
	}
	return parseHeader(buf), buf[headerSize:], buf, nil
}

// packet is an outgoing packet under construction: the length word and the
// header are reserved at the front and filled in by finish.
type packet struct {
	b []byte
}

func (p *packet) reset(h *Header) {
	if cap(p.b) < minLength {
		p.b = make([]byte, minLength, 256)
	}
	p.b = p.b[:minLength]
	h.put(p.b[lenSize:])
}

// setError sets the header's status to StatusError and drops any payload.
func (p *packet) setError() {
	p.b = p.b[:minLength]
	binary.BigEndian.PutUint32(p.b[lenSize+20:], uint32(StatusError))
}

func (p *packet) finish() []byte {
	binary.BigEndian.PutUint32(p.b, uint32(len(p.b)))
	return p.b
}

// Write appends XDR bytes to the payload (packet is an io.Writer for xdr2).
func (p *packet) Write(b []byte) (int, error) {
	p.b = append(p.b, b...)
	return len(b), nil
}

func (p *packet) putU32(v uint32) { p.b = binary.BigEndian.AppendUint32(p.b, v) }
func (p *packet) putU64(v uint64) { p.b = binary.BigEndian.AppendUint64(p.b, v) }

func (p *packet) putString(s string) {
	p.putU32(uint32(len(s)))
	p.b = append(p.b, s...)
	if pad := (4 - len(s)%4) % 4; pad > 0 {
		p.b = append(p.b, make([]byte, pad)...)
	}
}
