package rpc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"

	xdr "github.com/davecgh/go-xdr/xdr2"
)

// decodeArgs decodes a CALL payload into v (a go-libvirt <Proc>Args or one
// of our admin types). Before anything is allocated, checkShape walks the
// payload against v's type, so that no string is longer than
// REMOTE_STRING_MAX or the bytes left, and no array count announces more
// elements than the bytes left could hold: a hostile count costs an error
// reply, not memory. Trailing bytes are ignored, as libvirt does.
func decodeArgs(payload []byte, v any) (err error) {
	if handled, err := decodeFast(payload, v); handled {
		return err
	}
	return decodeArgsXDR(payload, v)
}

// decodeArgsXDR is decodeArgs through go-xdr, for every type.
func decodeArgsXDR(payload []byte, v any) (err error) {
	defer func() {
		// xdr2 reflects over v; a malformed payload must never take the
		// daemon down.
		if r := recover(); r != nil {
			err = rpcError("Unable to decode message payload")
		}
	}()
	if _, err := checkShape(payload, reflect.TypeOf(v).Elem()); err != nil {
		return rpcError("Unable to decode message payload")
	}
	limit := uint(len(payload))
	if limit > stringMax {
		limit = stringMax
	}
	dec := xdr.NewDecoderLimited(bytes.NewReader(payload), limit)
	if _, err := dec.Decode(v); err != nil {
		return rpcError("Unable to decode message payload")
	}
	return nil
}

var errShape = errors.New("rpc: payload does not fit its type")

// checkShape returns the bytes of b left after one XDR value of type t, or
// errShape when a length or count does not fit. Types it cannot size (xdr2
// unions, interfaces) end the walk early without error: xdr2's own limits
// then apply.
func checkShape(b []byte, t reflect.Type) ([]byte, error) {
	switch t.Kind() {
	case reflect.Bool, reflect.Int8, reflect.Uint8, reflect.Int16, reflect.Uint16,
		reflect.Int32, reflect.Uint32, reflect.Int, reflect.Uint, reflect.Float32:
		if len(b) < 4 {
			return nil, errShape
		}
		return b[4:], nil
	case reflect.Int64, reflect.Uint64, reflect.Float64:
		if len(b) < 8 {
			return nil, errShape
		}
		return b[8:], nil
	case reflect.String:
		return skipOpaque(b)
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 { // fixed opaque, padded
			n := (t.Len() + 3) &^ 3
			if len(b) < n {
				return nil, errShape
			}
			return b[n:], nil
		}
		var err error
		for i := 0; i < t.Len(); i++ {
			if b, err = checkShape(b, t.Elem()); err != nil || b == nil {
				return b, err
			}
		}
		return b, nil
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return skipOpaque(b)
		}
		if len(b) < 4 {
			return nil, errShape
		}
		n := uint64(binary.BigEndian.Uint32(b))
		b = b[4:]
		min := minSize(t.Elem())
		if min == 0 {
			return nil, nil // unsized: stop checking here
		}
		if n*min > uint64(len(b)) {
			return nil, errShape
		}
		var err error
		for i := uint64(0); i < n; i++ {
			if b, err = checkShape(b, t.Elem()); err != nil || b == nil {
				return b, err
			}
		}
		return b, nil
	case reflect.Struct:
		var err error
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() || f.Tag.Get("xdr") != "" {
				return nil, nil // a union or an xdr2 option: stop checking here
			}
			if b, err = checkShape(b, f.Type); err != nil || b == nil {
				return b, err
			}
		}
		return b, nil
	default:
		return nil, nil
	}
}

// skipOpaque skips a variable-length string or opaque: its length word, its
// bytes and their padding.
func skipOpaque(b []byte) ([]byte, error) {
	if len(b) < 4 {
		return nil, errShape
	}
	n := uint64(binary.BigEndian.Uint32(b))
	padded := (n + 3) &^ 3
	if n > stringMax || padded > uint64(len(b)-4) {
		return nil, errShape
	}
	return b[4+padded:], nil
}

// minSize is the fewest bytes an XDR value of type t takes, or 0 when
// unknown.
func minSize(t reflect.Type) uint64 {
	switch t.Kind() {
	case reflect.Bool, reflect.Int8, reflect.Uint8, reflect.Int16, reflect.Uint16,
		reflect.Int32, reflect.Uint32, reflect.Int, reflect.Uint, reflect.Float32,
		reflect.String, reflect.Slice:
		return 4
	case reflect.Int64, reflect.Uint64, reflect.Float64:
		return 8
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return uint64((t.Len() + 3) &^ 3)
		}
		return uint64(t.Len()) * minSize(t.Elem())
	case reflect.Struct:
		var n uint64
		for i := 0; i < t.NumField(); i++ {
			m := minSize(t.Field(i).Type)
			if m == 0 {
				return 0
			}
			n += m
		}
		return n
	}
	return 0
}

// encode appends the XDR of v to the packet's payload.
func (p *packet) encode(v any) error {
	if !p.encodeFast(v) {
		if _, err := xdr.Marshal(p, v); err != nil {
			return rpcError("Unable to encode message payload")
		}
	}
	if len(p.b) > MessageMax {
		return rpcError("Unable to encode message payload")
	}
	return nil
}
