package netxml

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"strings"
)

// ParseUUID reads a UUID in libvirt's accepted forms (with or without
// dashes, or braces as VirtualBox prints GUIDs).
func ParseUUID(s string) ([16]byte, error) {
	var u [16]byte
	h := strings.ReplaceAll(strings.Trim(strings.TrimSpace(s), "{}"), "-", "")
	if len(h) != 32 {
		return u, fmt.Errorf("malformed UUID %q", s)
	}
	if _, err := hex.Decode(u[:], []byte(h)); err != nil {
		return u, fmt.Errorf("malformed UUID %q", s)
	}
	return u, nil
}

// FormatUUID writes u in the 8-4-4-4-12 form.
func FormatUUID(u [16]byte) string {
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// namespace is the name-based UUID namespace of virtvboxd's networks
// (a version 4 UUID chosen once; changing it changes every derived UUID).
var namespace = [16]byte{0x6b, 0x1e, 0x0c, 0x52, 0x8f, 0x3a, 0x4d, 0x21, 0x9a, 0x57, 0x2c, 0x7e, 0x41, 0x90, 0xd3, 0x08}

// DeriveUUID is the name-based (version 5, RFC 4122) UUID of a network that
// VirtualBox gives no identifier of its own (a NAT network): the same name
// gives the same UUID on every host and after every restart.
func DeriveUUID(kind, name string) [16]byte {
	h := sha1.New()
	h.Write(namespace[:])
	h.Write([]byte(kind + "\x00" + name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return u
}
