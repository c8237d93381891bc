package domxml

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// Action is what define does with an element of domain XML.
type Action string

const (
	// Mapped elements become VirtualBox settings and dumpxml prints them
	// back from those settings.
	Mapped Action = "mapped"
	// Kept elements have no VirtualBox setting but users expect them back:
	// they are stored in the machine's extradata (keys under "virtvboxd/")
	// and dumpxml prints them from there.
	Kept Action = "kept"
	// Ignored elements have no VirtualBox equivalent and change nothing for
	// the guest (host-side plumbing, hints for other hypervisors). They are
	// accepted, with their whole content, and logged at info level through
	// Plan.Notes; dumpxml does not print them.
	Ignored Action = "ignored"
	// Refused is every element and attribute not in the policy table, and
	// every value the Note of a rule names as refused: define fails with
	// errdefs.ErrConfigUnsupported naming it, before anything runs.
	Refused Action = "refused"
)

// Rule is the policy for one element, named by its path below the root.
type Rule struct {
	Path   string
	Action Action
	// Attrs are the attributes the element may carry (any other is
	// refused). IgnoredAttrs are accepted and ignored, with a note.
	Attrs, IgnoredAttrs []string
	// Note says what the element maps to, or why it is kept or ignored,
	// and which of its values are refused. It is mirrored in
	// docs/domain-xml.md ("Policy").
	Note string
}

// Policy is the one table that decides, element by element, what define
// does with domain XML written by libvirt's tools and by libvirt's own vbox
// driver. Paths of Kept and Ignored rules cover their whole content.
var Policy = []Rule{
	{Path: "domain", Action: Mapped, Attrs: []string{"type", "id"}, Note: "type must be vbox; id is output only"},
	{Path: "domain/name", Action: Mapped, Note: "machine name"},
	{Path: "domain/uuid", Action: Mapped, Note: "machine UUID"},
	{Path: "domain/title", Action: Kept, Note: "extradata virtvboxd/title"},
	{Path: "domain/description", Action: Mapped, Note: "VirtualBox description (--description)"},
	{Path: "domain/metadata", Action: Kept, Note: "extradata virtvboxd/metadata, in a canonical form (libosinfo's OS id from virt-install)"},
	{Path: "domain/memory", Action: Mapped, Attrs: []string{"unit"}, Note: "RAM size (--memory), rounded up to MiB"},
	{Path: "domain/currentMemory", Action: Mapped, Attrs: []string{"unit"}, Note: "below memory: the memory balloon (--guestmemoryballoon memory-currentMemory MiB); above memory: taken as memory, as libvirt does"},
	{Path: "domain/vcpu", Action: Mapped, Attrs: []string{"placement", "current"}, Note: "CPU count; placement other than static and current below the count refused"},
	{Path: "domain/cpu", Action: Mapped, Attrs: []string{"mode", "match", "check", "migratable"}, Note: "host-passthrough, host-model, maximum: nothing to set (VirtualBox passes the host CPU through); custom with a <model> refused"},
	{Path: "domain/cpu/topology", Action: Mapped, Attrs: []string{"sockets", "dies", "clusters", "cores", "threads"}, Note: "accepted when the product equals the vcpu count (VirtualBox CPUs are flat); else refused"},
	{Path: "domain/cpu/model", Action: Mapped, Attrs: []string{"fallback"}, Note: "only an empty model (host-model's fallback) is accepted"},
	{Path: "domain/cpu/cache", Action: Ignored, Note: "cache topology hint"},
	{Path: "domain/os", Action: Mapped, Attrs: []string{"firmware"}, Note: "firmware efi/bios (--firmware)"},
	{Path: "domain/os/type", Action: Mapped, Attrs: []string{"arch"}, IgnoredAttrs: []string{"machine"}, Note: "hvm only; arch x86_64/i686 (OS type Other_64/Other); machine (a QEMU machine type) ignored"},
	{Path: "domain/os/boot", Action: Mapped, Attrs: []string{"dev"}, Note: "boot order (--boot1..4)"},
	{Path: "domain/os/bootmenu", Action: Ignored, Note: "boot menu prompt"},
	{Path: "domain/features", Action: Mapped},
	{Path: "domain/features/acpi", Action: Mapped, Note: "--acpi"},
	{Path: "domain/features/apic", Action: Mapped, Note: "--ioapic"},
	{Path: "domain/features/pae", Action: Mapped, Note: "--pae"},
	{Path: "domain/features/vmport", Action: Ignored, Note: "VMware backdoor port: VirtualBox has none"},
	{Path: "domain/features/hyperv", Action: Ignored, Note: "Hyper-V enlightenments for KVM: VirtualBox's paravirtualisation provider picks them itself"},
	{Path: "domain/features/kvm", Action: Ignored, Note: "KVM-specific hints"},
	{Path: "domain/features/pvspinlock", Action: Ignored, Note: "KVM-specific hint"},
	{Path: "domain/features/smm", Action: Ignored, Note: "QEMU firmware detail"},
	{Path: "domain/features/vmcoreinfo", Action: Ignored, Note: "QEMU crash-dump helper"},
	{Path: "domain/features/hap", Action: Ignored, Note: "VirtualBox uses nested paging when the host has it"},
	{Path: "domain/clock", Action: Mapped, Attrs: []string{"offset"}, Note: "utc/localtime (--rtcuseutc)"},
	{Path: "domain/clock/timer", Action: Ignored, Note: "timer tick policies: VirtualBox has fixed timers"},
	{Path: "domain/on_poweroff", Action: Mapped, Note: "destroy only"},
	{Path: "domain/on_reboot", Action: Mapped, Note: "restart; destroy accepted and taken as restart (VirtualBox resets on a guest reboot; virt-install's install phase and libvirt's vbox driver write destroy)"},
	{Path: "domain/on_crash", Action: Mapped, Note: "preserve/destroy: guru meditation (--triplefaultreset off); restart: reset (on); coredump-* and rename-restart refused"},
	{Path: "domain/pm", Action: Ignored, Note: "guest suspend states: VirtualBox offers them through ACPI as it is"},
	{Path: "domain/seclabel", Action: Ignored, Note: "host security label: VirtualBox runs as the user"},
	{Path: "domain/resource", Action: Ignored, Note: "host cgroup partition"},
	{Path: "domain/devices", Action: Mapped},
	{Path: "domain/devices/emulator", Action: Ignored, Note: "VirtualBox is the emulator"},
	{Path: "domain/devices/disk", Action: Mapped, Attrs: []string{"type", "device"}, Note: "file disks, cdroms and floppies (storageattach); other types refused"},
	{Path: "domain/devices/disk/driver", Action: Ignored, Note: "QEMU driver name, format and cache mode: VirtualBox detects the image format"},
	{Path: "domain/devices/disk/source", Action: Mapped, Attrs: []string{"file"}},
	{Path: "domain/devices/disk/target", Action: Mapped, Attrs: []string{"dev", "bus"}, Note: "bus ide/sata/scsi/fdc; others refused"},
	{Path: "domain/devices/disk/readonly", Action: Mapped, Note: "cdrom only; read-only hard disks refused"},
	{Path: "domain/devices/disk/address", Action: Mapped, Attrs: []string{"type", "controller", "bus", "target", "unit"}, Note: "drive addresses only"},
	{Path: "domain/devices/controller", Action: Mapped, Attrs: []string{"type", "index", "model"}, IgnoredAttrs: []string{"ports", "vectors"}, Note: "ide/sata/scsi/fdc storage controllers and usb; pci and virtio-serial ignored (VirtualBox's PCI bus is fixed); others refused"},
	{Path: "domain/devices/filesystem", Action: Mapped, Attrs: []string{"type"}, Note: "mount only: shared folders"},
	{Path: "domain/devices/filesystem/source", Action: Mapped, Attrs: []string{"dir"}},
	{Path: "domain/devices/filesystem/target", Action: Mapped, Attrs: []string{"dir"}},
	{Path: "domain/devices/filesystem/readonly", Action: Mapped, Note: "sharedfolder add --readonly"},
	{Path: "domain/devices/interface", Action: Mapped, Attrs: []string{"type"}, Note: "user (NAT), network (host-only adapter or NAT network; network 'default' is NAT), bridge, internal, null; ethernet keeps an existing generic or cloud adapter; others refused"},
	{Path: "domain/devices/interface/mac", Action: Mapped, Attrs: []string{"address"}},
	{Path: "domain/devices/interface/source", Action: Mapped, Attrs: []string{"bridge", "network", "name"}},
	{Path: "domain/devices/interface/model", Action: Mapped, Attrs: []string{"type"}, Note: "VirtualBox adapter types (any case); e1000 is 82540EM, e1000e 82545EM, pcnet Am79C970A, virtio-(non-)transitional virtio; others (rtl8139...) refused"},
	{Path: "domain/devices/interface/link", Action: Mapped, Attrs: []string{"state"}, Note: "cable connected"},
	{Path: "domain/devices/interface/alias", Action: Mapped, Attrs: []string{"name"}, Note: "ua-nicN picks adapter N"},
	{Path: "domain/devices/interface/target", Action: Ignored, Attrs: []string{"dev"}, Note: "the live name vboxnicN of a running domain's adapter N"},
	{Path: "domain/devices/serial", Action: Mapped, Attrs: []string{"type"}, Note: "null, file, dev, unix/pipe (host pipe), tcp; pty and others refused"},
	{Path: "domain/devices/serial/source", Action: Mapped, Attrs: []string{"path", "mode", "host", "service"}},
	{Path: "domain/devices/serial/protocol", Action: Mapped, Attrs: []string{"type"}, Note: "raw only"},
	{Path: "domain/devices/serial/target", Action: Mapped, Attrs: []string{"port"}},
	{Path: "domain/devices/serial/address", Action: Mapped, Attrs: []string{"type", "iobase", "irq"}},
	{Path: "domain/devices/parallel", Action: Mapped, Attrs: []string{"type"}, Note: "dev or file: the host device path"},
	{Path: "domain/devices/parallel/source", Action: Mapped, Attrs: []string{"path"}},
	{Path: "domain/devices/parallel/target", Action: Mapped, Attrs: []string{"port"}},
	{Path: "domain/devices/parallel/address", Action: Mapped, Attrs: []string{"type", "iobase", "irq"}},
	{Path: "domain/devices/console", Action: Ignored, Note: "a pty console has no VirtualBox equivalent; serial ports are explicit <serial> elements"},
	{Path: "domain/devices/channel", Action: Ignored, Note: "guest agent channels: VirtualBox's Guest Additions use their own device"},
	{Path: "domain/devices/input", Action: Mapped, Attrs: []string{"type", "bus"}, Note: "mouse/tablet/keyboard: --mouse, --keyboard"},
	{Path: "domain/devices/graphics", Action: Mapped, Attrs: []string{"type", "port", "autoport", "multiUser", "replaceUser", "listen", "display"}, IgnoredAttrs: []string{"keymap"}, Note: "rdp, vnc and spice: the VRDE remote display (one); desktop/sdl: the default front end; others refused"},
	{Path: "domain/devices/graphics/listen", Action: Mapped, Attrs: []string{"type", "address"}},
	{Path: "domain/devices/sound", Action: Mapped, Attrs: []string{"model"}, Note: "ac97, sb16, ich6/ich7/ich9 (HDA); others refused"},
	{Path: "domain/devices/video", Action: Mapped},
	{Path: "domain/devices/video/model", Action: Mapped, Attrs: []string{"type", "vram", "heads", "primary"}, IgnoredAttrs: []string{"ram", "vgamem", "vram64"}, Note: "vbox, vga, cirrus, bochs: VBoxVGA; vmvga, qxl, virtio: VMSVGA; none; others refused"},
	{Path: "domain/devices/video/model/acceleration", Action: Mapped, Attrs: []string{"accel3d", "accel2d"}},
	{Path: "domain/devices/hostdev", Action: Mapped, Attrs: []string{"mode", "type", "managed"}, Note: "USB devices by vendor/product: USB filters"},
	{Path: "domain/devices/hostdev/source", Action: Mapped},
	{Path: "domain/devices/hostdev/source/vendor", Action: Mapped, Attrs: []string{"id"}},
	{Path: "domain/devices/hostdev/source/product", Action: Mapped, Attrs: []string{"id"}},
	{Path: "domain/devices/memballoon", Action: Ignored, Note: "VirtualBox's balloon needs no device (it is set through currentMemory)"},
	{Path: "domain/devices/rng", Action: Ignored, Note: "VirtualBox has no entropy device"},
}

var policyByPath = func() map[string]*Rule {
	m := make(map[string]*Rule, len(Policy))
	for i := range Policy {
		m[Policy[i].Path] = &Policy[i]
	}
	return m
}()

// checkElements walks the document and applies the policy table before any
// of it is interpreted: elements and attributes outside the table are
// refused; ignored ones give notes (one per element path and attribute).
func checkElements(doc string) (notes []string, err error) {
	dec := xml.NewDecoder(strings.NewReader(doc))
	dec.Strict = true
	var path []string
	skip := 0 // depth inside a kept or ignored element
	seenRoot := false
	noted := map[string]bool{}
	note := func(s string) {
		if !noted[s] {
			noted[s] = true
			notes = append(notes, s)
		}
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, errdefs.Wrap(errdefs.ErrXML, err, err.Error())
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if skip > 0 {
				skip++
				continue
			}
			if len(path) == 0 {
				if seenRoot {
					return nil, errdefs.New(errdefs.ErrXML, "extra content at the end of the document")
				}
				seenRoot = true
				if t.Name.Local != "domain" || t.Name.Space != "" {
					return nil, errdefs.Newf(errdefs.ErrXML, "unexpected root element <%s>, expecting <domain>", t.Name.Local)
				}
			}
			if t.Name.Space != "" {
				return nil, errdefs.Newf(errdefs.ErrConfigUnsupported, "element <%s> in namespace '%s' is not supported", t.Name.Local, t.Name.Space)
			}
			path = append(path, t.Name.Local)
			p := strings.Join(path, "/")
			r, ok := policyByPath[p]
			if !ok {
				return nil, errdefs.Newf(errdefs.ErrConfigUnsupported, "element <%s> (%s) is not supported by the VirtualBox driver", t.Name.Local, p)
			}
			switch r.Action {
			case Kept:
				skip = 1
				continue
			case Ignored:
				note(fmt.Sprintf("ignored <%s> (%s): %s", t.Name.Local, p, r.Note))
				skip = 1
				continue
			}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue // namespace declarations
				}
				switch {
				case a.Name.Space == "" && contains(r.Attrs, a.Name.Local):
				case a.Name.Space == "" && contains(r.IgnoredAttrs, a.Name.Local):
					note(fmt.Sprintf("ignored attribute '%s' of <%s> (%s)", a.Name.Local, t.Name.Local, p))
				default:
					return nil, errdefs.Newf(errdefs.ErrConfigUnsupported, "attribute '%s' of element <%s> (%s) is not supported by the VirtualBox driver", a.Name.Local, t.Name.Local, p)
				}
			}
		case xml.EndElement:
			if skip > 0 {
				skip--
				if skip > 0 {
					continue
				}
			}
			path = path[:len(path)-1]
		case xml.CharData:
			if len(path) == 0 && len(bytes.TrimSpace(t)) > 0 {
				return nil, errdefs.New(errdefs.ErrXML, "content outside the root element")
			}
		}
	}
	if !seenRoot {
		return nil, errdefs.New(errdefs.ErrXML, "no domain element in the document")
	}
	return notes, nil
}

// canonicalMetadata returns the content of a <metadata> element in the form
// it is stored in and compared by: no whitespace between elements, names
// with the prefixes the document used, namespace declarations and attributes
// in document order, values quoted with ' and every line break escaped, so
// the result is one line that survives extradata. Every element must be in
// a namespace, as libvirt requires.
func canonicalMetadata(inner string) (string, error) {
	dec := xml.NewDecoder(strings.NewReader("<m>" + inner + "</m>"))
	dec.Strict = true
	var b strings.Builder
	depth := 0
	var scopes []map[string]bool // namespace prefixes declared, per open element
	declared := func(prefix string) bool {
		for _, sc := range scopes {
			if sc[prefix] {
				return true
			}
		}
		return prefix == "xml"
	}
	pendingOpen := false // a start tag written without its '>'
	closeOpen := func() {
		if pendingOpen {
			b.WriteByte('>')
			pendingOpen = false
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
				continue // the wrapper
			}
			if depth == 2 && t.Name.Space == "" {
				return "", errdefs.Newf(errdefs.ErrXML, "metadata element <%s> has no namespace prefix", t.Name.Local)
			}
			sc := map[string]bool{}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" {
					sc[a.Name.Local] = true
				}
			}
			scopes = append(scopes, sc)
			for _, n := range append([]xml.Name{t.Name}, attrNames(t.Attr)...) {
				if n.Space != "" && n.Space != "xmlns" && !declared(n.Space) {
					return "", errdefs.Newf(errdefs.ErrXML, "metadata: namespace prefix '%s' of <%s> is not declared inside <metadata>", n.Space, qname(t.Name))
				}
			}
			closeOpen()
			b.WriteByte('<')
			b.WriteString(qname(t.Name))
			for _, a := range t.Attr {
				b.WriteByte(' ')
				b.WriteString(qname(a.Name))
				b.WriteString("='")
				b.WriteString(escapeMeta(a.Value))
				b.WriteByte('\'')
			}
			pendingOpen = true
		case xml.EndElement:
			depth--
			if depth == 0 {
				continue
			}
			scopes = scopes[:len(scopes)-1]
			if pendingOpen {
				b.WriteString("/>")
				pendingOpen = false
				continue
			}
			b.WriteString("</")
			b.WriteString(qname(t.Name))
			b.WriteByte('>')
		case xml.CharData:
			if len(bytes.TrimSpace(t)) == 0 {
				continue
			}
			if depth <= 1 {
				return "", errdefs.New(errdefs.ErrXML, "metadata: text outside an element")
			}
			closeOpen()
			b.WriteString(escapeMeta(string(t)))
		case xml.Comment, xml.ProcInst, xml.Directive:
			// libvirt does not keep them either.
		}
	}
	return b.String(), nil
}

func attrNames(attrs []xml.Attr) []xml.Name {
	names := make([]xml.Name, len(attrs))
	for i, a := range attrs {
		names[i] = a.Name
	}
	return names
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}

// escapeMeta escapes metadata text and attribute values. Quotes are
// escaped in text too: FormatXML relies on a raw " only ever delimiting an
// attribute, as encoding/xml writes them.
func escapeMeta(s string) string {
	return metaEscaper.Replace(s)
}

var metaEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\"", "&quot;", "'", "&apos;",
	"\n", "&#10;", "\r", "&#13;", "\t", "&#9;")

// indentMetadata lays canonical metadata out as libvirt does: one element
// per line, indented by two spaces per level below <metadata>, which sits
// at depth 1. It returns the inner XML including the newlines around it.
func indentMetadata(canon string) string {
	dec := xml.NewDecoder(strings.NewReader("<m>" + canon + "</m>"))
	var b strings.Builder
	depth := 0
	open := false    // a start tag lacks its '>'
	textual := false // the innermost open element has text
	for {
		tok, err := dec.RawToken()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				continue
			}
			if open {
				b.WriteByte('>')
			}
			b.WriteString("\n" + strings.Repeat("  ", depth))
			b.WriteString("<" + qname(t.Name))
			for _, a := range t.Attr {
				b.WriteString(" " + qname(a.Name) + "='" + escapeMeta(a.Value) + "'")
			}
			open, textual = true, false
		case xml.CharData:
			if open {
				b.WriteByte('>')
				open = false
			}
			b.WriteString(escapeMeta(string(t)))
			textual = true
		case xml.EndElement:
			depth--
			if depth == 0 {
				continue
			}
			switch {
			case open:
				b.WriteString("/>")
			case textual:
				b.WriteString("</" + qname(t.Name) + ">")
			default:
				b.WriteString("\n" + strings.Repeat("  ", depth+1) + "</" + qname(t.Name) + ">")
			}
			open, textual = false, false
		}
	}
	return b.String() + "\n  "
}
