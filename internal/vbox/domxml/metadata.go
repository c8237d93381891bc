package domxml

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// Custom metadata elements (virDomainGetMetadata and virDomainSetMetadata
// with VIR_DOMAIN_METADATA_ELEMENT): the canonical metadata kept in
// extradata (see canonicalMetadata) holds one top-level element per
// namespace URI, each declaring its own prefix, as libvirt keeps them.

// metaElement is one top-level element of canonical metadata.
type metaElement struct {
	URI  string
	Text string // canonical
}

// splitMetadata cuts canonical metadata into its top-level elements.
func splitMetadata(canon string) []metaElement {
	const wrap = "<m>"
	dec := xml.NewDecoder(strings.NewReader(wrap + canon + "</m>"))
	var out []metaElement
	depth := 0
	var start int64
	var uri string
	for {
		off := dec.InputOffset()
		tok, err := dec.RawToken()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 {
				start, uri = off, ""
				for _, a := range t.Attr {
					if a.Name.Space == "xmlns" && a.Name.Local == t.Name.Space {
						uri = a.Value
					}
				}
			}
		case xml.EndElement:
			if depth == 2 {
				end := dec.InputOffset()
				out = append(out, metaElement{URI: uri, Text: canon[start-int64(len(wrap)) : end-int64(len(wrap))]})
			}
			depth--
		}
	}
	return out
}

// MetadataElement returns the element of canonical metadata in namespace
// uri, and whether there is one.
func MetadataElement(canon, uri string) (string, bool) {
	for _, e := range splitMetadata(canon) {
		if e.URI == uri {
			return e.Text, true
		}
	}
	return "", false
}

// SetMetadataElement returns canon with the element in namespace uri
// replaced by doc (one element, put in namespace uri with prefix key), or
// removed when doc is empty.
func SetMetadataElement(canon, doc, key, uri string) (string, error) {
	var b strings.Builder
	for _, e := range splitMetadata(canon) {
		if e.URI != uri {
			b.WriteString(e.Text)
		}
	}
	if strings.TrimSpace(doc) == "" {
		return b.String(), nil
	}
	if key == "" || strings.ContainsAny(key, ": <>&'\"") {
		return "", errdefs.Newf(errdefs.ErrInvalidArg, "invalid metadata key '%s'", key)
	}
	el, err := namespaced(doc, key, uri)
	if err != nil {
		return "", err
	}
	one, err := canonicalMetadata(el)
	if err != nil {
		return "", err
	}
	b.WriteString(one)
	return b.String(), nil
}

// namespaced rewrites a document of one element so that the element is in
// namespace uri with prefix key.
func namespaced(doc, key, uri string) (string, error) {
	dec := xml.NewDecoder(strings.NewReader(doc))
	dec.Strict = true
	var b strings.Builder
	depth, roots := 0, 0
	pending := false
	closeOpen := func() {
		if pending {
			b.WriteByte('>')
			pending = false
		}
	}
	for {
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", errdefs.Wrap(errdefs.ErrXML, err, "metadata: "+err.Error())
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				roots++
				if roots > 1 {
					return "", errdefs.New(errdefs.ErrXML, "metadata: more than one element")
				}
				t.Name.Space = key
				attrs := []xml.Attr{{Name: xml.Name{Space: "xmlns", Local: key}, Value: uri}}
				for _, a := range t.Attr {
					if a.Name.Space == "" && a.Name.Local == "xmlns" || a.Name.Space == "xmlns" && a.Name.Local == key {
						continue
					}
					attrs = append(attrs, a)
				}
				t.Attr = attrs
			}
			closeOpen()
			b.WriteString("<" + qname(t.Name))
			for _, a := range t.Attr {
				b.WriteString(" " + qname(a.Name) + "='" + escapeMeta(a.Value) + "'")
			}
			pending = true
		case xml.EndElement:
			if depth == 1 {
				t.Name.Space = key
			}
			depth--
			if pending {
				b.WriteString("/>")
				pending = false
				continue
			}
			b.WriteString("</" + qname(t.Name) + ">")
		case xml.CharData:
			if depth == 0 {
				if strings.TrimSpace(string(t)) != "" {
					return "", errdefs.New(errdefs.ErrXML, "metadata: text outside an element")
				}
				continue
			}
			closeOpen()
			b.WriteString(escapeMeta(string(t)))
		}
	}
	if roots == 0 {
		return "", errdefs.New(errdefs.ErrXML, "metadata: no element")
	}
	return b.String(), nil
}

// IndentMetadataElement lays one canonical element out as libvirt prints
// it (virsh metadata).
func IndentMetadataElement(el string) string {
	s := indentMetadata(el)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "\n"), "\n  ")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "    ")
	}
	return strings.Join(lines, "\n")
}

// The extradata keys of the title and the canonical metadata, for the
// driver's virDomainSetMetadata.
const (
	ExtraTitle    = extraTitle
	ExtraMetadata = extraMetadata
)

// MaxDescription bounds a description (see maxDescription).
const MaxDescription = maxDescription
