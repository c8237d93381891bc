package vbox

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// fakeStream is the client's end of a driver.Stream: what the driver sends
// arrives on out, what the client sends goes through in (closed: the
// client's end of data).
type fakeStream struct {
	in       chan []byte
	out      chan []byte
	finished chan struct{}
	aborted  chan error
	ended    chan struct{}
	once     sync.Once
}

func newFakeStream() *fakeStream {
	return &fakeStream{in: make(chan []byte), out: make(chan []byte, 64), finished: make(chan struct{}),
		aborted: make(chan error, 1), ended: make(chan struct{})}
}

var errFakeClosed = errors.New("fake stream closed")

func (f *fakeStream) Send(ctx context.Context, data []byte) error {
	select {
	case f.out <- append([]byte(nil), data...):
		return nil
	case <-f.ended:
		return errFakeClosed
	}
}

func (f *fakeStream) Recv(ctx context.Context) ([]byte, error) {
	select {
	case b, ok := <-f.in:
		if !ok {
			return nil, io.EOF
		}
		return b, nil
	case <-f.ended:
		return nil, errFakeClosed
	}
}

func (f *fakeStream) Finish(ctx context.Context) error {
	f.once.Do(func() { close(f.finished); close(f.ended) })
	return nil
}

func (f *fakeStream) Abort(err error) {
	f.once.Do(func() { f.aborted <- err; close(f.ended) })
}

// recvUntil collects what the driver sends until it holds want.
func (f *fakeStream) recvUntil(t *testing.T, want string) {
	t.Helper()
	var got []byte
	timeout := time.After(10 * time.Second)
	for !bytes.Contains(got, []byte(want)) {
		select {
		case b := <-f.out:
			got = append(got, b...)
		case <-timeout:
			t.Fatalf("waited for %q, got %q", want, got)
		}
	}
}

// cmdsWith returns the VBoxManage calls whose arguments contain word.
func (s *simEnv) cmdsWith(word string) []string {
	s.runner.mu.Lock()
	defer s.runner.mu.Unlock()
	var out []string
	for _, c := range s.runner.cmds {
		if strings.Contains(c, word) {
			out = append(out, c)
		}
	}
	return out
}

func (s *simEnv) started(name string) driver.Domain {
	s.t.Helper()
	d := s.create(name)
	d, err := s.conn.DomainCreate(context.Background(), d, 0)
	if err != nil {
		s.t.Fatal(err)
	}
	return d
}

// TestSendKey: libvirt's key codes reach VBoxManage as set 1 scan codes,
// presses then releases (in reverse order); a hold time splits them into two
// calls that far apart; a key without a scan code sends nothing.
func TestSendKey(t *testing.T) {
	s := newSim(t)
	d := s.started("keys")
	ctx := context.Background()
	uuid := uuidString(d.UUID)
	for _, tc := range []struct {
		name     string
		set      uint32
		codes    []uint32
		holdtime uint32
		want     []string
	}{
		{"linux KEY_A", driver.KeycodeSetLinux, []uint32{30}, 0, []string{"1e 9e"}},
		{"ctrl+alt+del", driver.KeycodeSetLinux, []uint32{29, 56, 111}, 0, []string{"1d 38 e0 53 e0 d3 b8 9d"}},
		{"usb A held", driver.KeycodeSetUSB, []uint32{4}, 60, []string{"1e", "9e"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(s.cmdsWith("keyboardputscancode"))
			start := time.Now()
			if err := s.conn.DomainSendKey(ctx, d, tc.set, tc.holdtime, tc.codes, 0); err != nil {
				t.Fatal(err)
			}
			if el := time.Since(start); el < time.Duration(tc.holdtime)*time.Millisecond {
				t.Fatalf("returned after %v, before the hold time", el)
			}
			got := s.cmdsWith("keyboardputscancode")[before:]
			if len(got) != len(tc.want) {
				t.Fatalf("calls %q, want %q", got, tc.want)
			}
			for i, w := range tc.want {
				if got[i] != "controlvm "+uuid+" keyboardputscancode "+w {
					t.Fatalf("call %d: %q, want bytes %q", i, got[i], w)
				}
			}
		})
	}
	before := len(s.cmdsWith("keyboardputscancode"))
	err := s.conn.DomainSendKey(ctx, d, driver.KeycodeSetLinux, 0, []uint32{30, 0x1d0}, 0)
	wantClass(t, err, errdefs.ErrInvalidArg, "cannot translate keycode 464 of linux codeset")
	err = s.conn.DomainSendKey(ctx, d, driver.KeycodeSetWin32, 0, []uint32{0xffff}, 0)
	wantClass(t, err, errdefs.ErrInvalidArg, "is not a key of the win32 code set")
	if n := len(s.cmdsWith("keyboardputscancode")); n != before {
		t.Fatalf("a refused key sent %d calls", n-before)
	}
	off := s.create("keys-off")
	err = s.conn.DomainSendKey(ctx, off, driver.KeycodeSetLinux, 0, []uint32{30}, 0)
	wantClass(t, err, errdefs.ErrOperationInvalid, "domain is not running")
}

// TestInjectNMI: `debugvm VM injectnmi` on a running machine; refused
// before any command on a stopped one.
func TestInjectNMI(t *testing.T) {
	s := newSim(t)
	d := s.started("nmi")
	ctx := context.Background()
	if err := s.conn.DomainInjectNMI(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	if got := s.cmdsWith("injectnmi"); len(got) != 1 || got[0] != "debugvm "+uuidString(d.UUID)+" injectnmi" {
		t.Fatalf("calls %q", got)
	}
	off := s.create("nmi-off")
	wantClass(t, s.conn.DomainInjectNMI(ctx, off, 0), errdefs.ErrOperationInvalid, "domain is not running")
	wantClass(t, s.conn.DomainInjectNMI(ctx, d, 1), errdefs.ErrInvalidArg, "unsupported flags")
}

// TestScreenshot: the PNG VBoxManage writes arrives on the stream after the
// answer, then the stream finishes; a screen beyond the monitors is refused.
func TestScreenshot(t *testing.T) {
	s := newSim(t)
	d := s.started("shot")
	st := newFakeStream()
	mime, err := s.conn.DomainScreenshot(context.Background(), d, st, 0, 0)
	if err != nil || mime != "image/png" {
		t.Fatalf("%q %v", mime, err)
	}
	var img []byte
	for done := false; !done; {
		select {
		case b := <-st.out:
			img = append(img, b...)
		case <-st.finished:
			for len(st.out) > 0 {
				img = append(img, <-st.out...)
			}
			done = true
		case err := <-st.aborted:
			t.Fatal(err)
		}
	}
	pic, err := png.Decode(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	if r := pic.Bounds(); r.Dx() != 1024 || r.Dy() != 768 {
		t.Fatalf("%v", r)
	}
	_, err = s.conn.DomainScreenshot(context.Background(), d, newFakeStream(), 1, 0)
	wantClass(t, err, errdefs.ErrInvalidArg, "screen ID higher than monitor count (1)")
}

// TestConsole: the console proxies the UART's host pipe (the simulator
// echoes) both ways; one reader at a time, --force takes over and the old
// reader's stream is aborted; the client's end of data finishes the
// stream; machines without a server-mode UART are refused clearly.
func TestConsole(t *testing.T) {
	s := newSim(t)
	ctx := context.Background()
	sock := filepath.Join(s.home, "com1.sock")
	d := s.create("con")
	s.vbm("modifyvm", "con", "--uart1", "0x3f8", "4", "--uartmode1", "server", sock)
	d, err := s.conn.DomainCreate(ctx, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	first := newFakeStream()
	if err := s.conn.DomainOpenConsole(ctx, d, "", first, 0); err != nil {
		t.Fatal(err)
	}
	first.in <- []byte("ping\r")
	first.recvUntil(t, "ping\r")
	err = s.conn.DomainOpenConsole(ctx, d, "serial0", newFakeStream(), 0)
	wantClass(t, err, errdefs.ErrOperationFailed, "Active console session exists for this domain")

	second := newFakeStream()
	if err := s.conn.DomainOpenConsole(ctx, d, "console0", second, driver.ConsoleForce); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-first.aborted:
		wantClass(t, err, errdefs.ErrOperationFailed, "taken over")
	case <-time.After(10 * time.Second):
		t.Fatal("the first reader was not ended")
	}
	second.in <- []byte("pong\n")
	second.recvUntil(t, "pong\n")
	close(second.in)
	select {
	case <-second.finished:
	case <-time.After(10 * time.Second):
		t.Fatal("the client's end of data did not finish the stream")
	}
	// The session is gone once finished: a new reader needs no force.
	third := newFakeStream()
	if err := s.conn.DomainOpenConsole(ctx, d, "", third, 0); err != nil {
		t.Fatal(err)
	}
	// Powering the VM off closes the pipe: the stream ends with the data.
	if err := s.conn.DomainDestroy(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	select {
	case <-third.finished:
	case <-time.After(10 * time.Second):
		t.Fatal("the VM's power-off did not end the console")
	}

	wantClass(t, s.conn.DomainOpenConsole(ctx, d, "", newFakeStream(), 0), errdefs.ErrOperationInvalid, "domain is not running")
	plain := s.started("plain")
	wantClass(t, s.conn.DomainOpenConsole(ctx, plain, "", newFakeStream(), 0), errdefs.ErrOperationFailed, "has no serial port")
	wantClass(t, s.conn.DomainOpenConsole(ctx, plain, "serial3", newFakeStream(), 0), errdefs.ErrInternal, "cannot find character device serial3")
	file := s.create("file")
	s.vbm("modifyvm", "file", "--uart1", "0x3f8", "4", "--uartmode1", "file", filepath.Join(s.home, "com1.log"))
	file, err = s.conn.DomainCreate(ctx, file, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantClass(t, s.conn.DomainOpenConsole(ctx, file, "", newFakeStream(), 0), errdefs.ErrOperationFailed, "is not a host pipe in server mode")
}
