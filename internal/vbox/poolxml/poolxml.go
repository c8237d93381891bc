// Package poolxml maps virtvboxd's storage pools and VirtualBox media to
// libvirt's storage pool and volume XML, and parses the documents clients
// send (pool-define, vol-create). Pure functions, built on libvirtxml; see
// docs/storage.md.
package poolxml

import (
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// Pool is a storage pool as the driver keeps it. Sizes are in bytes.
type Pool struct {
	Name, UUID, Target              string
	Capacity, Allocation, Available uint64
	Perms                           Perms // what pool-build gives the directory
}

// Perms is a pool's <target><permissions>: the mode, owner and group
// pool-build gives the directory it creates, each -1 when not given.
type Perms struct {
	Mode  int `json:"mode"`
	Owner int `json:"owner"`
	Group int `json:"group"`
}

// NoPerms asks for nothing.
var NoPerms = Perms{Mode: -1, Owner: -1, Group: -1}

// Vol is a volume as vol-dumpxml shows it. Format is libvirt's name
// (vdi, vmdk, vpc, iso, raw). Sizes are in bytes.
type Vol struct {
	Name, Key, Path, Format string
	Capacity, Allocation    uint64
}

// VolSpec is what a vol-create document asks for. Format is "" when the
// document names none.
type VolSpec struct {
	Name, Format         string
	Capacity, Allocation uint64
	Fixed                bool // an allocation as large as the capacity was asked for
}

// CheckName refuses the names the driver will not pass on to VirtualBox or
// the file system: empty ones, ones with a slash, a quote or a control
// character, and ones starting with a dash (they would read as options).
func CheckName(kind, name string) error {
	switch {
	case name == "":
		return errdefs.Newf(errdefs.ErrXML, "missing %s name", kind)
	case strings.HasPrefix(name, "-"):
		return errdefs.Newf(errdefs.ErrInvalidArg, "%s name '%s' must not start with '-'", kind, name)
	case name == "." || name == "..":
		return errdefs.Newf(errdefs.ErrInvalidArg, "%s name '%s' is not allowed", kind, name)
	case strings.ContainsAny(name, "/'\"`\\"):
		return errdefs.Newf(errdefs.ErrInvalidArg, "%s name '%s' must not contain '/', '\\', quotes or backquotes", kind, name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return errdefs.Newf(errdefs.ErrInvalidArg, "%s name %q must not contain control characters", kind, name)
		}
	}
	return nil
}

// ParsePool reads a pool-define / pool-create document: a dir pool with a
// name and an absolute target path. UUID is "" when the document has none.
func ParsePool(doc string) (Pool, error) {
	var x libvirtxml.StoragePool
	if err := x.Unmarshal(doc); err != nil {
		return Pool{}, errdefs.Newf(errdefs.ErrXML, "(storage_source_specification): %v", err)
	}
	if x.Type != "dir" {
		return Pool{}, errdefs.Newf(errdefs.ErrConfigUnsupported,
			"storage pool type '%s' is not supported: VirtualBox's media live in files, only 'dir' pools are", x.Type)
	}
	if err := CheckName("storage pool", x.Name); err != nil {
		return Pool{}, err
	}
	p := Pool{Name: x.Name, UUID: strings.ToLower(x.UUID)}
	if x.Target == nil || x.Target.Path == "" {
		return Pool{}, errdefs.New(errdefs.ErrXML, "missing storage pool target path")
	}
	if !filepath.IsAbs(x.Target.Path) {
		return Pool{}, errdefs.Newf(errdefs.ErrXML, "storage pool target path '%s' must be absolute", x.Target.Path)
	}
	p.Target = filepath.Clean(x.Target.Path)
	perms, err := parsePerms(x.Target.Permissions)
	if err != nil {
		return Pool{}, err
	}
	p.Perms = perms
	return p, nil
}

// parsePerms reads <permissions>: an octal mode and numeric owner and
// group ids, as libvirt's virStorageDefParsePerms accepts them.
func parsePerms(x *libvirtxml.StoragePoolTargetPermissions) (Perms, error) {
	p := NoPerms
	if x == nil {
		return p, nil
	}
	if x.Mode != "" {
		m, err := strconv.ParseUint(x.Mode, 8, 32)
		if err != nil || m > 0o777 {
			return Perms{}, errdefs.New(errdefs.ErrXML, "malformed octal mode")
		}
		p.Mode = int(m)
	}
	for _, f := range []struct {
		s, what string
		to      *int
	}{{x.Owner, "owner", &p.Owner}, {x.Group, "group", &p.Group}} {
		if f.s == "" || f.s == "-1" {
			continue
		}
		id, err := strconv.ParseUint(f.s, 10, 31)
		if err != nil {
			return Perms{}, errdefs.Newf(errdefs.ErrXML, "malformed %s element", f.what)
		}
		*f.to = int(id)
	}
	return p, nil
}

// FormatPool writes a pool's XML as pool-dumpxml shows it.
func FormatPool(p Pool) (string, error) {
	x := libvirtxml.StoragePool{Type: "dir", Name: p.Name, UUID: p.UUID,
		Capacity:   &libvirtxml.StoragePoolSize{Unit: "bytes", Value: p.Capacity},
		Allocation: &libvirtxml.StoragePoolSize{Unit: "bytes", Value: p.Allocation},
		Available:  &libvirtxml.StoragePoolSize{Unit: "bytes", Value: p.Available},
		Source:     &libvirtxml.StoragePoolSource{},
		Target:     &libvirtxml.StoragePoolTarget{Path: p.Target, Permissions: formatPerms(p.Perms)}}
	s, err := x.Marshal()
	if err != nil {
		return "", errdefs.Wrap(errdefs.ErrInternal, err, "cannot format pool XML: "+err.Error())
	}
	return libvirtStyle(s), nil
}

// formatPerms writes the permissions a pool names (nil when none).
func formatPerms(p Perms) *libvirtxml.StoragePoolTargetPermissions {
	if p == NoPerms || p == (Perms{}) {
		return nil
	}
	x := &libvirtxml.StoragePoolTargetPermissions{}
	if p.Mode >= 0 {
		x.Mode = fmt.Sprintf("%04o", p.Mode)
	}
	if p.Owner >= 0 {
		x.Owner = strconv.Itoa(p.Owner)
	}
	if p.Group >= 0 {
		x.Group = strconv.Itoa(p.Group)
	}
	return x
}

// FormatVol writes a volume's XML as vol-dumpxml shows it.
func FormatVol(v Vol) (string, error) {
	x := libvirtxml.StorageVolume{Type: "file", Name: v.Name, Key: v.Key,
		Capacity:   &libvirtxml.StorageVolumeSize{Unit: "bytes", Value: v.Capacity},
		Allocation: &libvirtxml.StorageVolumeSize{Unit: "bytes", Value: v.Allocation},
		Target: &libvirtxml.StorageVolumeTarget{Path: v.Path,
			Format: &libvirtxml.StorageVolumeTargetFormat{Type: v.Format}}}
	s, err := x.Marshal()
	if err != nil {
		return "", errdefs.Wrap(errdefs.ErrInternal, err, "cannot format volume XML: "+err.Error())
	}
	return libvirtStyle(s), nil
}

// ParseVol reads a vol-create document: a file volume with a name and a
// capacity.
func ParseVol(doc string) (VolSpec, error) {
	var x libvirtxml.StorageVolume
	if err := x.Unmarshal(doc); err != nil {
		return VolSpec{}, errdefs.Newf(errdefs.ErrXML, "(storage_volume_specification): %v", err)
	}
	if x.Type != "" && x.Type != "file" {
		return VolSpec{}, errdefs.Newf(errdefs.ErrConfigUnsupported, "volume type '%s' is not supported: only 'file'", x.Type)
	}
	if err := CheckName("volume", x.Name); err != nil {
		return VolSpec{}, err
	}
	s := VolSpec{Name: x.Name}
	if x.Capacity == nil {
		return VolSpec{}, errdefs.New(errdefs.ErrXML, "missing capacity element")
	}
	var err error
	if s.Capacity, err = Scale(x.Capacity.Value, x.Capacity.Unit); err != nil {
		return VolSpec{}, err
	}
	if x.Allocation != nil {
		if s.Allocation, err = Scale(x.Allocation.Value, x.Allocation.Unit); err != nil {
			return VolSpec{}, err
		}
		s.Fixed = s.Allocation >= s.Capacity
	}
	if x.Target != nil && x.Target.Format != nil {
		s.Format = strings.ToLower(x.Target.Format.Type)
	}
	return s, nil
}

// Scale applies one of libvirt's size units (virScaleInteger: b/bytes,
// KB/MB/... powers of 1000, k/KiB/M/MiB/... powers of 1024; none is bytes).
func Scale(v uint64, unit string) (uint64, error) {
	mult := uint64(1)
	switch u := unit; {
	case u == "" || u == "b" || u == "byte" || u == "bytes":
	default:
		prefix := strings.ToLower(u[:1])
		exp := strings.Index("kmgtpe", prefix) + 1
		if exp == 0 {
			return 0, errdefs.Newf(errdefs.ErrInvalidArg, "unknown suffix '%s'", unit)
		}
		base := uint64(1024)
		switch strings.ToLower(u[1:]) {
		case "", "ib":
		case "b":
			base = 1000
		default:
			return 0, errdefs.Newf(errdefs.ErrInvalidArg, "unknown suffix '%s'", unit)
		}
		for range exp {
			mult *= base
		}
	}
	if v > math.MaxUint64/mult {
		return 0, errdefs.Newf(errdefs.ErrInvalidArg, "value too large: %d%s", v, unit)
	}
	return v * mult, nil
}

// FormatFor returns the libvirt format of a file name's extension.
func FormatFor(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".vdi":
		return "vdi"
	case ".vmdk":
		return "vmdk"
	case ".vhd":
		return "vpc"
	case ".iso":
		return "iso"
	}
	return "raw"
}

// VBoxFormat returns VBoxManage's --format for a libvirt volume format, or
// "" when VirtualBox cannot create it.
func VBoxFormat(format string) string {
	return map[string]string{"vdi": "VDI", "vmdk": "VMDK", "vpc": "VHD", "vhd": "VHD"}[format]
}

// FromVBoxFormat returns libvirt's name of VirtualBox's storage format.
func FromVBoxFormat(f string) string {
	switch strings.ToUpper(f) {
	case "VDI":
		return "vdi"
	case "VMDK":
		return "vmdk"
	case "VHD":
		return "vpc"
	}
	return "raw"
}

// CreateFormat decides the VBoxManage format of a new volume: the
// document's format, or the name's extension when the document says raw or
// nothing (virt-install asks for raw on every hypervisor but QEMU). It
// refuses what VirtualBox cannot create and a format that contradicts the
// extension.
func CreateFormat(spec VolSpec) (string, error) {
	ext := FormatFor(spec.Name)
	f := spec.Format
	if f == "" || f == "raw" {
		if v := VBoxFormat(ext); v != "" {
			return v, nil
		}
		if f == "" {
			return "VDI", nil
		}
	}
	v := VBoxFormat(f)
	if v == "" {
		return "", errdefs.Newf(errdefs.ErrConfigUnsupported,
			"volume format '%s' is not supported by VirtualBox: use vdi, vmdk or vpc", f)
	}
	if e := VBoxFormat(ext); e != "" && e != v {
		return "", errdefs.Newf(errdefs.ErrConfigUnsupported, "volume name '%s' does not fit format '%s'", spec.Name, f)
	}
	return v, nil
}

// Describe is a short text of a volume for logs and errors.
func (v Vol) Describe() string { return fmt.Sprintf("%s (%s)", v.Name, v.Path) }

// libvirtStyle writes encoding/xml's output as libvirt does: empty elements
// as <x/>, attributes in single quotes, quote entities by name (the same
// rewrite as domxml.FormatXML's).
func libvirtStyle(s string) string {
	s = emptyElement.ReplaceAllStringFunc(s, func(m string) string {
		g := emptyElement.FindStringSubmatch(m)
		if g[1] != g[3] {
			return m
		}
		return "<" + g[1] + g[2] + "/>"
	})
	s = doubleQuoted.ReplaceAllString(s, "$1='$2'")
	return libvirtEntities.Replace(s) + "\n"
}

var (
	emptyElement    = regexp.MustCompile(`<([A-Za-z_][-A-Za-z0-9_.:]*)((?:\s+[^<>]*?[^<>/])?)></([A-Za-z_][-A-Za-z0-9_.:]*)>`)
	doubleQuoted    = regexp.MustCompile(`(\s[A-Za-z_][-A-Za-z0-9_.:]*)="([^"]*)"`)
	libvirtEntities = strings.NewReplacer("&#39;", "&apos;", "&#34;", "&quot;")
)
