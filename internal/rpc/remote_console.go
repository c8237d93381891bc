package rpc

import (
	"context"
	"fmt"

	libvirt "github.com/digitalocean/go-libvirt"

	"github.com/virtvboxd/virtvboxd/internal/driver"
)

// consoleHandlers are the console procedures (see remoteHandlers):
// screenshots and the serial console answer with a stream, keys and NMIs
// with nothing. All four are refused to read-only clients (facts table).
var consoleHandlers = handlerSet{
	procDomainScreenshot:  domainScreenshot,
	procDomainSendKey:     withArgs(domainSendKey),
	procDomainOpenConsole: domainOpenConsole,
	procDomainInjectNMI:   withArgs(domainInjectNMI),
}

// domainScreenshot opens the call's stream before the driver runs: the
// image follows the reply (the MIME type) on it.
func domainScreenshot(ctx context.Context, cn driver.Conn, cl *call, out *packet) error {
	var a libvirt.DomainScreenshotArgs
	if err := decodeArgs(cl.payload, &a); err != nil {
		return err
	}
	mime, err := cn.DomainScreenshot(ctx, toDomain(a.Dom), openStream(cl), a.Screen, a.Flags)
	if err != nil {
		return err
	}
	return out.encode(libvirt.DomainScreenshotRet{Mime: libvirt.OptString{mime}})
}

// domainOpenConsole connects the call's stream to the console; the reply
// carries nothing.
func domainOpenConsole(ctx context.Context, cn driver.Conn, cl *call, out *packet) error {
	var a libvirt.DomainOpenConsoleArgs
	if err := decodeArgs(cl.payload, &a); err != nil {
		return err
	}
	dev := ""
	if len(a.DevName) > 0 {
		dev = a.DevName[0]
	}
	return cn.DomainOpenConsole(ctx, toDomain(a.Dom), dev, openStream(cl), a.Flags)
}

func domainSendKey(ctx context.Context, cn driver.Conn, a *libvirt.DomainSendKeyArgs, out *packet) error {
	if err := argSendKey(a.Codeset, len(a.Keycodes)); err != nil {
		return err
	}
	return cn.DomainSendKey(ctx, toDomain(a.Dom), a.Codeset, a.Holdtime, a.Keycodes, a.Flags)
}

func domainInjectNMI(ctx context.Context, cn driver.Conn, a *libvirt.DomainInjectNmiArgs, out *packet) error {
	return cn.DomainInjectNMI(ctx, toDomain(a.Dom), a.Flags)
}

// argSendKey checks DOMAIN_SEND_KEY as libvirt does: the dispatcher's
// REMOTE_DOMAIN_SEND_KEY_MAX (keycodes<16> in remote_protocol.x: XDR
// decoding fails past it), then virDomainSendKey's checks.
func argSendKey(codeset uint32, n int) error {
	const api = "virDomainSendKey"
	if n > driver.SendKeyMaxKeys {
		return rpcError("Unable to decode message payload")
	}
	if n <= 0 {
		return newError(errInvalidArg, objectDomain(api), fmt.Sprintf("nkeycodes in %s must be greater than zero", api))
	}
	if codeset >= driver.KeycodeSetLast {
		return newError(errInvalidArg, objectDomain(api), fmt.Sprintf("Unsupported codeset '%d'", codeset))
	}
	return nil
}
