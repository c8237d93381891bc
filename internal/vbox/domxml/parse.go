package domxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"libvirt.org/go/libvirtxml"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// ParseDomain parses and validates domain XML for define. Errors are
// classed: malformed XML is errdefs.ErrXML with the parser's message; a
// missing name is errdefs.ErrXML; a domain type other than vbox is
// errdefs.ErrInvalidArg (libvirt's "could not find capabilities" text);
// every element, attribute or value VirtualBox cannot represent is
// errdefs.ErrConfigUnsupported naming it. Nothing is silently dropped: an
// element the package does not know is an error, not ignored. The UUID of
// the result is in canonical lower-case 8-4-4-4-12 form.
func ParseDomain(doc string) (*libvirtxml.Domain, error) {
	if err := checkElements(doc); err != nil {
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

// allowed lists, for each element path below <domain>, the attributes the
// package understands. An element or attribute missing here is rejected.
var allowed = map[string][]string{
	"domain":                                  {"type", "id"},
	"domain/name":                             nil,
	"domain/uuid":                             nil,
	"domain/description":                      nil,
	"domain/memory":                           {"unit"},
	"domain/currentMemory":                    {"unit"},
	"domain/vcpu":                             {"placement", "current"},
	"domain/os":                               {"firmware"},
	"domain/os/type":                          {"arch"},
	"domain/os/boot":                          {"dev"},
	"domain/features":                         nil,
	"domain/features/acpi":                    nil,
	"domain/features/apic":                    nil,
	"domain/features/pae":                     nil,
	"domain/clock":                            {"offset"},
	"domain/on_poweroff":                      nil,
	"domain/on_reboot":                        nil,
	"domain/on_crash":                         nil,
	"domain/devices":                          nil,
	"domain/devices/disk":                     {"type", "device"},
	"domain/devices/disk/source":              {"file"},
	"domain/devices/disk/target":              {"dev", "bus"},
	"domain/devices/disk/readonly":            nil,
	"domain/devices/disk/address":             {"type", "controller", "bus", "target", "unit"},
	"domain/devices/controller":               {"type", "index", "model"},
	"domain/devices/filesystem":               {"type"},
	"domain/devices/filesystem/source":        {"dir"},
	"domain/devices/filesystem/target":        {"dir"},
	"domain/devices/filesystem/readonly":      nil,
	"domain/devices/interface":                {"type"},
	"domain/devices/interface/mac":            {"address"},
	"domain/devices/interface/source":         {"bridge", "network", "name"},
	"domain/devices/interface/model":          {"type"},
	"domain/devices/interface/link":           {"state"},
	"domain/devices/interface/alias":          {"name"},
	"domain/devices/serial":                   {"type"},
	"domain/devices/serial/source":            {"path", "mode", "host", "service"},
	"domain/devices/serial/protocol":          {"type"},
	"domain/devices/serial/target":            {"port"},
	"domain/devices/serial/address":           {"type", "iobase", "irq"},
	"domain/devices/parallel":                 {"type"},
	"domain/devices/parallel/source":          {"path"},
	"domain/devices/parallel/target":          {"port"},
	"domain/devices/parallel/address":         {"type", "iobase", "irq"},
	"domain/devices/input":                    {"type", "bus"},
	"domain/devices/graphics":                 {"type", "port", "autoport", "multiUser", "replaceUser", "listen", "display"},
	"domain/devices/graphics/listen":          {"type", "address"},
	"domain/devices/sound":                    {"model"},
	"domain/devices/video":                    nil,
	"domain/devices/video/model":              {"type", "vram", "heads", "primary"},
	"domain/devices/video/model/acceleration": {"accel3d", "accel2d"},
	"domain/devices/hostdev":                  {"mode", "type", "managed"},
	"domain/devices/hostdev/source":           nil,
	"domain/devices/hostdev/source/vendor":    {"id"},
	"domain/devices/hostdev/source/product":   {"id"},
}

// checkElements walks the document and rejects what the package does not
// understand, before any of it is interpreted.
func checkElements(doc string) error {
	dec := xml.NewDecoder(strings.NewReader(doc))
	dec.Strict = true
	var path []string
	seenRoot := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return errdefs.Wrap(errdefs.ErrXML, err, err.Error())
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(path) == 0 {
				if seenRoot {
					return errdefs.New(errdefs.ErrXML, "extra content at the end of the document")
				}
				seenRoot = true
				if t.Name.Local != "domain" || t.Name.Space != "" {
					return errdefs.Newf(errdefs.ErrXML, "unexpected root element <%s>, expecting <domain>", t.Name.Local)
				}
			}
			if t.Name.Space != "" {
				return errdefs.Newf(errdefs.ErrConfigUnsupported, "element <%s> in namespace '%s' is not supported", t.Name.Local, t.Name.Space)
			}
			path = append(path, t.Name.Local)
			p := strings.Join(path, "/")
			attrs, ok := allowed[p]
			if !ok {
				return errdefs.Newf(errdefs.ErrConfigUnsupported, "element <%s> (%s) is not supported by the VirtualBox driver", t.Name.Local, p)
			}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue // namespace declarations
				}
				if a.Name.Space != "" || !contains(attrs, a.Name.Local) {
					return errdefs.Newf(errdefs.ErrConfigUnsupported, "attribute '%s' of element <%s> (%s) is not supported by the VirtualBox driver", a.Name.Local, t.Name.Local, p)
				}
			}
		case xml.EndElement:
			path = path[:len(path)-1]
		case xml.CharData:
			if len(path) == 0 && len(bytes.TrimSpace(t)) > 0 {
				return errdefs.New(errdefs.ErrXML, "content outside the root element")
			}
		}
	}
	if !seenRoot {
		return errdefs.New(errdefs.ErrXML, "no domain element in the document")
	}
	return nil
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
func checkStruct(dom *libvirtxml.Domain) error {
	s, err := dom.Marshal()
	if err != nil {
		return errdefs.Wrap(errdefs.ErrXML, err, fmt.Sprintf("cannot format the domain: %v", err))
	}
	return checkElements(s)
}
