package domxml

import (
	"fmt"

	"libvirt.org/go/libvirtxml"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// ParseDomain parses and validates domain XML for define. Errors are
// classed: malformed XML is errdefs.ErrXML with the parser's message; a
// missing name is errdefs.ErrXML; a domain type other than vbox is
// errdefs.ErrInvalidArg (libvirt's "could not find capabilities" text);
// every element, attribute or value VirtualBox cannot represent is
// errdefs.ErrConfigUnsupported naming it. What is accepted, kept, ignored
// or refused is decided by the Policy table: an element outside it is an
// error, never silently dropped. The UUID of
// the result is in canonical lower-case 8-4-4-4-12 form.
func ParseDomain(doc string) (*libvirtxml.Domain, error) {
	if _, err := checkElements(doc); err != nil {
		return nil, err
	}
	dom := &libvirtxml.Domain{}
	if err := dom.Unmarshal(doc); err != nil {
		return nil, errdefs.Wrap(errdefs.ErrXML, err, err.Error())
	}
	w, err := fromDomain(dom)
	if err != nil {
		return nil, err
	}
	dom.UUID = w.UUID // canonical form, so callers can compare it with VirtualBox's
	return dom, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// unsupported returns an ErrConfigUnsupported error.
func unsupported(format string, args ...any) error {
	return errdefs.Newf(errdefs.ErrConfigUnsupported, format, args...)
}

// checkStruct validates a domain given as a value (not parsed from text) by
// formatting it and applying the same element check: a caller that built a
// Domain with, say, a <channel> gets the same error as one that wrote it.
func checkStruct(dom *libvirtxml.Domain) ([]string, error) {
	s, err := dom.Marshal()
	if err != nil {
		return nil, errdefs.Wrap(errdefs.ErrXML, err, fmt.Sprintf("cannot format the domain: %v", err))
	}
	return checkElements(s)
}
