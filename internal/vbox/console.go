package vbox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
	"github.com/virtvboxd/virtvboxd/internal/vbox/keymap"
)

// The console area: screenshots (`controlvm screenshotpng`), keys
// (`controlvm keyboardputscancode`), NMIs (`debugvm injectnmi`) and the
// serial console (the UART's host pipe in server mode, a UNIX socket the VM
// process listens on, proxied to an RPC stream). docs/console.md.

// errNotRunning is libvirt's answer (virDomainObjCheckActive) to a call
// that needs the guest running.
func errNotRunning() error { return errdefs.New(errdefs.ErrOperationInvalid, "domain is not running") }

// errNoStream is virCheckStreamGoto's answer.
func errNoStream(api string) error {
	return errdefs.Newf(errdefs.ErrInvalidArg, "stream in %s must not be NULL", api)
}

// guestCmd runs a command on dom's running guest under the machine's lock;
// the machine's settings and state do not change.
func (c *conn) guestCmd(ctx context.Context, dom driver.Domain, op string, args func(m Machine) []string) error {
	return c.d.withVM(ctx, dom, func(m Machine, vop *vmOp) error {
		if !IsOnline(m.State) {
			return errNotRunning()
		}
		if err := c.d.vmCmd(ctx, m, op, args(m)...); err != nil {
			return err
		}
		vop.known(func(*Machine) {})
		return nil
	})
}

// DomainInjectNMI implements driver.Conn: `debugvm VM injectnmi`.
func (c *conn) DomainInjectNMI(ctx context.Context, dom driver.Domain, flags uint32) error {
	if flags != 0 {
		return unsupportedFlags(flags, "virDomainInjectNMI")
	}
	return c.guestCmd(ctx, dom, "cannot inject NMI", func(m Machine) []string {
		return []string{"debugvm", m.UUID, "injectnmi"}
	})
}

// DomainSendKey implements driver.Conn: the keys are translated to set 1
// scan codes (internal/vbox/keymap) before anything runs, so a key without
// one sends nothing. All keys are pressed in the order given and released
// in the reverse order; with a hold time the presses and the releases are
// two `controlvm keyboardputscancode` calls that far apart, without one a
// single call carries both.
func (c *conn) DomainSendKey(ctx context.Context, dom driver.Domain, codeset, holdtime uint32, keycodes []uint32, flags uint32) error {
	if flags != 0 {
		return unsupportedFlags(flags, "virDomainSendKey")
	}
	if len(keycodes) == 0 {
		return errdefs.New(errdefs.ErrInvalidArg, "nkeycodes in virDomainSendKey must be greater than zero")
	}
	var press, release []string
	for _, k := range keycodes {
		p, r, err := keymap.Scancodes(codeset, k)
		if err != nil {
			return errdefs.Newf(errdefs.ErrInvalidArg, "cannot translate keycode %d of %s codeset to a PC scan code: %v",
				k, keymap.SetName(codeset), err)
		}
		press = append(press, hexBytes(p)...)
		release = append(hexBytes(r), release...)
	}
	return c.d.withVM(ctx, dom, func(m Machine, op *vmOp) error {
		if !IsOnline(m.State) {
			return errNotRunning()
		}
		put := func(ctx context.Context, codes []string) error {
			return c.d.vmCmd(ctx, m, "cannot send keys", append([]string{"controlvm", m.UUID, "keyboardputscancode"}, codes...)...)
		}
		op.known(func(*Machine) {})
		if holdtime == 0 {
			return put(ctx, append(press, release...))
		}
		if err := put(ctx, press); err != nil {
			return err
		}
		t := time.NewTimer(time.Duration(holdtime) * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		// Pressed keys are released even when the call was cancelled.
		return put(context.WithoutCancel(ctx), release)
	})
}

func hexBytes(b []byte) []string {
	out := make([]string, len(b))
	for i, x := range b {
		out[i] = fmt.Sprintf("%02x", x)
	}
	return out
}

// DomainScreenshot implements driver.Conn: `controlvm VM screenshotpng
// FILE DISPLAY` into a private temporary directory; the PNG is read, the
// directory removed, and the image sent on st after the call's answer.
func (c *conn) DomainScreenshot(ctx context.Context, dom driver.Domain, st driver.Stream, screen uint32, flags uint32) (string, error) {
	if flags != 0 {
		return "", unsupportedFlags(flags, "virDomainScreenshot")
	}
	if st == nil {
		return "", errNoStream("virDomainScreenshot")
	}
	var png []byte
	err := c.d.withVM(ctx, dom, func(m Machine, op *vmOp) error {
		if !IsOnline(m.State) {
			return errNotRunning()
		}
		info, err := c.d.inv.Detail(ctx, m.UUID)
		if err != nil {
			return vboxError("cannot read machine "+m.Name, err)
		}
		if monitors := info.Int("monitorcount", 1); int64(screen) >= int64(monitors) {
			return errdefs.Newf(errdefs.ErrInvalidArg, "screen ID higher than monitor count (%d)", monitors)
		}
		dir, err := os.MkdirTemp("", "virtvboxd-screenshot-")
		if err != nil {
			return errdefs.Wrap(errdefs.ErrSystem, err, "cannot create a temporary directory for the screenshot: "+err.Error())
		}
		defer os.RemoveAll(dir)
		file := filepath.Join(dir, "screen.png")
		if err := c.d.vmCmd(ctx, m, "failed to take screenshot", "controlvm", m.UUID, "screenshotpng", file,
			strconv.FormatUint(uint64(screen), 10)); err != nil {
			return err
		}
		op.known(func(*Machine) {})
		if png, err = os.ReadFile(file); err != nil {
			return errdefs.Wrap(errdefs.ErrOperationFailed, err, "failed to take screenshot: VBoxManage wrote no image: "+err.Error())
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	go func() {
		ctx := c.d.life
		if err := st.Send(ctx, png); err != nil {
			st.Abort(err)
			return
		}
		st.Finish(ctx)
	}()
	return "image/png", nil
}

// serialPort is one enabled UART of a machine as the domain XML lists it.
type serialPort struct {
	alias string // serialN, N its index among the enabled ports (libvirt's alias)
	slot  int    // 1..4: uartN
	mode  string // uartmodeN
}

// serialPorts lists the machine's enabled UARTs in slot order.
func serialPorts(info *Info) []serialPort {
	var ports []serialPort
	for i := 1; i <= 4; i++ {
		n := strconv.Itoa(i)
		if v := info.Str("uart" + n); v == "" || v == "off" {
			continue
		}
		ports = append(ports, serialPort{alias: fmt.Sprintf("serial%d", len(ports)), slot: i, mode: info.Str("uartmode" + n)})
	}
	return ports
}

// consoleDevice picks the console devName names ("" and "console0": the
// first serial port; "serialN": the N-th enabled one) and returns the path
// of its host pipe, which must be in server mode.
func consoleDevice(m Machine, info *Info, devName string) (serialPort, string, error) {
	ports := serialPorts(info)
	var p *serialPort
	for i := range ports {
		if devName == "" || devName == "console0" && i == 0 || devName == ports[i].alias {
			p = &ports[i]
			break
		}
	}
	if p == nil {
		if devName == "" {
			return serialPort{}, "", errdefs.Newf(errdefs.ErrOperationFailed,
				"domain %s has no serial port to be its console: give it <serial type='unix'><source mode='bind' path='/…'/></serial>", m.Name)
		}
		return serialPort{}, "", errdefs.Newf(errdefs.ErrInternal, "cannot find character device %s", devName)
	}
	kind, path, _ := strings.Cut(p.mode, ",")
	if kind != "server" || path == "" {
		return serialPort{}, "", errdefs.Newf(errdefs.ErrOperationFailed,
			"character device %s (COM%d, uartmode%d '%s') is not a host pipe in server mode: the console needs <serial type='unix'><source mode='bind' path='/…'/></serial>",
			p.alias, p.slot, p.slot, p.mode)
	}
	return *p, path, nil
}

// consoles are the open console sessions, one per machine and port.
type consoles struct {
	mu sync.Mutex
	m  map[string]*consoleSession
}

// consoleSession is one stream connected to one UART's socket.
type consoleSession struct {
	st   driver.Stream
	sock net.Conn
	done chan struct{} // closed once both copies ended
	cs   *consoles
	key  string

	mu  sync.Mutex
	end consoleEnd // why it ends (the first reason wins)
}

type consoleEnd int

const (
	endNone       consoleEnd = iota // still running, or the guest side closed
	endClientEOF                    // the client finished its data
	endClientGone                   // the client aborted or went away
	endTaken                        // another client forced its way in
	endDriver                       // the driver closed
)

// stop records why the session ends and closes the socket, which ends the
// copy from the guest.
func (s *consoleSession) stop(why consoleEnd) {
	s.mu.Lock()
	if s.end == endNone {
		s.end = why
	}
	s.mu.Unlock()
	s.sock.Close()
}

// release forgets the session, so that the console may be opened again
// without force.
func (s *consoleSession) release() {
	s.cs.mu.Lock()
	if s.cs.m[s.key] == s {
		delete(s.cs.m, s.key)
	}
	s.cs.mu.Unlock()
}

func (s *consoleSession) reason() consoleEnd {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.end
}

// errConsoleTaken is what a session's client is told when another client
// opened the console with --force.
var errConsoleTaken = errdefs.New(errdefs.ErrOperationFailed, "the console was taken over by another client (VIR_DOMAIN_CONSOLE_FORCE)")

// consoleDial bounds the connection to the UART's socket; takeOverWait
// bounds how long a --force open waits for the old session to end.
const (
	consoleDial  = 5 * time.Second
	takeOverWait = 2 * time.Second
)

// DomainOpenConsole implements driver.Conn: the machine's UART host pipe
// in server mode is a UNIX socket the running VM listens on; the daemon
// connects to it and copies in both directions. Flow control is the
// stream's: the guest's output is read again only once the previous chunk
// is on the client's wire, and the client's input is read only once the
// previous one is written to the socket.
func (c *conn) DomainOpenConsole(ctx context.Context, dom driver.Domain, devName string, st driver.Stream, flags uint32) error {
	if flags&^(driver.ConsoleForce|driver.ConsoleSafe) != 0 {
		return unsupportedFlags(flags, "virDomainOpenConsole")
	}
	if st == nil {
		return errNoStream("virDomainOpenConsole")
	}
	m, err := c.d.machine(ctx, dom)
	if err != nil {
		return err
	}
	if !IsOnline(m.State) {
		return errNotRunning()
	}
	info, err := c.d.inv.Detail(ctx, m.UUID)
	if err != nil {
		return vboxError("cannot read machine "+m.Name, err)
	}
	port, path, err := consoleDevice(m, info, devName)
	if err != nil {
		return err
	}
	key := m.UUID + "/" + strconv.Itoa(port.slot)
	cs := &c.d.consoles
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if old := cs.m[key]; old != nil {
		if flags&driver.ConsoleForce == 0 {
			return errdefs.New(errdefs.ErrOperationFailed, "Active console session exists for this domain")
		}
		old.stop(endTaken)
		// The guest side sees one connection end before the next begins
		// (unless the old client, not reading, holds its sender).
		t := time.NewTimer(takeOverWait)
		defer t.Stop()
		select {
		case <-old.done:
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	dctx, cancel := context.WithTimeout(ctx, consoleDial)
	defer cancel()
	var dialer net.Dialer
	sock, err := dialer.DialContext(dctx, "unix", path)
	if err != nil {
		return errdefs.Wrap(errdefs.ErrOperationFailed, err, fmt.Sprintf("cannot connect to the console of domain %s (%s, host pipe %s): %v",
			m.Name, port.alias, path, err))
	}
	s := &consoleSession{st: st, sock: sock, done: make(chan struct{}), cs: cs, key: key}
	if cs.m == nil {
		cs.m = map[string]*consoleSession{}
	}
	cs.m[key] = s
	log := c.d.logFor(ctx).WithField("vm", m.Name).WithField("console", port.alias)
	log.Debug("console opened")
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.fromGuest(c.d.life) }()
	go func() { defer wg.Done(); s.toGuest(c.d.life) }()
	go func() {
		select {
		case <-c.d.life.Done():
			s.stop(endDriver)
		case <-s.done:
		}
	}()
	go func() {
		wg.Wait()
		// done first: a --force opener waits for it holding cs.mu.
		close(s.done)
		s.release()
		log.Debug("console closed")
	}()
	return nil
}

// consoleChunk is the most one read from the guest sends in one packet.
const consoleChunk = 64 << 10

// fromGuest copies the guest's output to the client until the socket ends,
// then ends the stream as the reason says.
func (s *consoleSession) fromGuest(ctx context.Context) {
	buf := make([]byte, consoleChunk)
	for {
		n, err := s.sock.Read(buf)
		if n > 0 {
			if serr := s.st.Send(ctx, buf[:n]); serr != nil {
				s.stop(endClientGone)
				return
			}
		}
		if err != nil {
			break
		}
	}
	why := s.reason()
	if why != endTaken {
		// (A --force opener holds cs.mu and replaces the session itself.)
		s.release()
	}
	switch why {
	case endNone, endClientEOF:
		// The guest closed its side (the VM stopped), or the client
		// finished: end of data either way.
		s.stop(endClientEOF)
		s.st.Finish(ctx)
	case endTaken:
		s.st.Abort(errConsoleTaken)
	case endDriver:
		s.st.Abort(errdefs.New(errdefs.ErrOperationFailed, "the VirtualBox driver is closing"))
	}
}

// toGuest copies the client's input to the socket until the client
// finishes, aborts or goes away (or the session ends otherwise).
func (s *consoleSession) toGuest(ctx context.Context) {
	for {
		b, err := s.st.Recv(ctx)
		if err != nil {
			if errors.Is(err, io.EOF) {
				s.stop(endClientEOF)
			} else {
				s.stop(endClientGone)
			}
			return
		}
		if _, err := s.sock.Write(b); err != nil {
			// The guest side closed: fromGuest ends the stream. The
			// client's input is drained meanwhile, so that its finish
			// is read.
			s.sock.Close()
		}
	}
}
