package rpc

import (
	"bytes"

	xdr "github.com/davecgh/go-xdr/xdr2"
)

// decodeArgs decodes a CALL payload into v (a go-libvirt <Proc>Args or one
// of our admin types). Lengths and counts are bounded by the payload size so
// that a hostile count cannot make the decoder allocate more than the packet
// could hold. Trailing bytes are ignored, as libvirt does.
func decodeArgs(payload []byte, v any) (err error) {
	defer func() {
		// xdr2 reflects over v; a malformed payload must never take the
		// daemon down.
		if r := recover(); r != nil {
			err = rpcError("Unable to decode message payload")
		}
	}()
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

// encode appends the XDR of v to the packet's payload.
func (p *packet) encode(v any) error {
	if _, err := xdr.Marshal(p, v); err != nil {
		return rpcError("Unable to encode message payload")
	}
	if len(p.b) > MessageMax {
		return rpcError("Unable to encode message payload")
	}
	return nil
}
