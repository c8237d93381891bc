package vbox

import (
	"context"
	"errors"
	"strings"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
	"github.com/virtvboxd/virtvboxd/internal/vbox/domxml"
)

// The domain's name, title, description and metadata, where the XML policy
// keeps them: the description is VirtualBox's (`modifyvm --description`),
// the title and the custom metadata elements are extradata
// (virtvboxd/title, virtvboxd/metadata in canonical form). VirtualBox has
// one definition, so AFFECT_LIVE and AFFECT_CONFIG change the same thing.

// VIR_DOMAIN_METADATA_* types.
const (
	metaDescription = 0
	metaTitle       = 1
	metaElement     = 2
)

// checkAffect applies libvirt's AFFECT_LIVE / AFFECT_CONFIG rules.
func checkAffect(flags uint32, api string, online bool) error {
	if flags&^(affectLive|affectConfig) != 0 {
		return unsupportedFlags(flags, api)
	}
	if flags&affectLive != 0 && !online {
		return errdefs.New(errdefs.ErrOperationInvalid, "domain is not running")
	}
	return nil
}

// DomainGetMetadata implements driver.Conn.
func (c *conn) DomainGetMetadata(ctx context.Context, dom driver.Domain, typ int32, uri string, flags uint32) (string, error) {
	const api = "virDomainGetMetadata"
	if flags&affectLive != 0 && flags&affectConfig != 0 {
		return "", errdefs.New(errdefs.ErrInvalidArg, "flags 'affect live' and 'affect config' are mutually exclusive")
	}
	m, err := c.d.machine(ctx, dom)
	if err != nil {
		return "", err
	}
	if err := checkAffect(flags, api, IsOnline(m.State)); err != nil {
		return "", err
	}
	notPresent := errdefs.New(errdefs.ErrNoDomainMetadata, "Requested metadata element is not present")
	var v string
	switch typ {
	case metaDescription:
		info, err := c.d.inv.Detail(ctx, m.UUID)
		if err != nil {
			return "", vboxError("cannot read machine "+m.Name, err)
		}
		v = info.Str("description")
	case metaTitle, metaElement:
		extra, err := c.d.inv.ExtraData(ctx, m.UUID, false)
		if err != nil {
			return "", vboxError("cannot read the extradata of machine "+m.Name, err)
		}
		if typ == metaTitle {
			v = extra[domxml.ExtraTitle]
			break
		}
		el, ok := domxml.MetadataElement(extra[domxml.ExtraMetadata], uri)
		if !ok {
			return "", notPresent
		}
		return domxml.IndentMetadataElement(el), nil
	default:
		return "", errdefs.Newf(errdefs.ErrInvalidArg, "unknown metadata type '%d'", typ)
	}
	if v == "" {
		return "", notPresent
	}
	return v, nil
}

// DomainSetMetadata implements driver.Conn. The description can only change
// while the machine is not running (VBoxManage needs the machine's write
// lock); the title and metadata elements are extradata, which VirtualBox
// changes on a running machine too.
func (c *conn) DomainSetMetadata(ctx context.Context, dom driver.Domain, typ int32, metadata, key, uri string, flags uint32) error {
	const api = "virDomainSetMetadata"
	switch typ {
	case metaDescription:
		if len(metadata) > domxml.MaxDescription {
			return errdefs.Newf(errdefs.ErrConfigUnsupported, "description of %d bytes is longer than the %d bytes VirtualBox can be given", len(metadata), domxml.MaxDescription)
		}
	case metaTitle:
		if strings.ContainsAny(metadata, "\n\r") {
			return errdefs.New(errdefs.ErrInvalidArg, "metadata title can't contain newlines")
		}
	case metaElement:
	default:
		return errdefs.Newf(errdefs.ErrInvalidArg, "unknown metadata type '%d'", typ)
	}
	return c.d.withVM(ctx, dom, func(m Machine, op *vmOp) error {
		if err := checkAffect(flags, api, IsOnline(m.State)); err != nil {
			return err
		}
		switch typ {
		case metaDescription:
			if IsOnline(m.State) {
				return errdefs.New(errdefs.ErrOperationInvalid, "VirtualBox cannot change the description of a running domain")
			}
			return c.d.vmCmd(ctx, m, "cannot set the description", "modifyvm", m.UUID, "--description", metadata)
		case metaTitle:
			return c.d.setExtra(ctx, m, domxml.ExtraTitle, metadata)
		}
		extra, err := c.d.inv.ExtraData(ctx, m.UUID, true)
		if err != nil {
			return vboxError("cannot read the extradata of machine "+m.Name, err)
		}
		canon, err := domxml.SetMetadataElement(extra[domxml.ExtraMetadata], metadata, key, uri)
		if err != nil {
			return err
		}
		if len(canon)+len(extra[domxml.ExtraTitle]) > domxml.MaxDescription {
			return errdefs.Newf(errdefs.ErrConfigUnsupported, "metadata of %d bytes is longer than the %d bytes extradata can be given", len(canon), domxml.MaxDescription)
		}
		return c.d.setExtra(ctx, m, domxml.ExtraMetadata, canon)
	})
}

// setExtra sets (or, with an empty value, removes) one extradata key.
func (d *Driver) setExtra(ctx context.Context, m Machine, key, value string) error {
	args := []string{"setextradata", m.UUID, key}
	if value != "" {
		args = append(args, value)
	}
	return d.vmCmd(ctx, m, "cannot set "+key, args...)
}

// DomainRename implements driver.Conn: `modifyvm --name` on a machine that
// is not running, as libvirt renames only inactive domains.
func (c *conn) DomainRename(ctx context.Context, dom driver.Domain, newName string, flags uint32) error {
	if flags != 0 {
		return unsupportedFlags(flags, "virDomainRename")
	}
	switch {
	case newName == "":
		return errdefs.New(errdefs.ErrInvalidArg, "new domain name must not be empty")
	case strings.ContainsAny(newName, "\n\r"):
		return errdefs.New(errdefs.ErrXML, "name can't contain newlines")
	}
	for _, bad := range inaccessibleMarkers {
		if newName == bad {
			return errdefs.Newf(errdefs.ErrConfigUnsupported,
				"domain name '%s' is what VirtualBox shows for a machine whose settings it cannot read; choose another name", newName)
		}
	}
	unlockName, err := c.d.locks.lock(ctx, "name:"+newName)
	if err != nil {
		return errdefs.Wrap(errdefs.ErrOperationTimeout, err, "cannot acquire the domain name's lock: "+err.Error())
	}
	defer unlockName()
	return c.d.withVM(ctx, dom, func(m Machine, op *vmOp) error {
		if IsOnline(m.State) {
			return errdefs.New(errdefs.ErrOperationInvalid, "cannot rename active domain")
		}
		if m.Name == newName {
			return errdefs.New(errdefs.ErrOperationInvalid, "Can't rename domain to itself")
		}
		if _, err := c.d.inv.Find(ctx, func(o Machine) bool { return o.Name == newName }); err == nil {
			return errdefs.Newf(errdefs.ErrOperationInvalid, "domain with name '%s' already exists", newName)
		} else if !errors.Is(err, errNotFound) {
			return vboxError("cannot look up machines", err)
		}
		return c.d.vmCmd(ctx, m, "cannot rename domain", "modifyvm", m.UUID, "--name", newName)
	})
}
