package keymap

import (
	"bytes"
	"errors"
	"testing"
)

// TestScancodes: each code set finds its key as libvirt's tables do and
// yields the set 1 bytes with their releases; extended keys carry 0xe0.
func TestScancodes(t *testing.T) {
	for _, tc := range []struct {
		name           string
		set, code      uint32
		press, release []byte
	}{
		{"linux KEY_A", Linux, 30, []byte{0x1e}, []byte{0x9e}},
		{"xt A", XT, 0x1e, []byte{0x1e}, []byte{0x9e}},
		{"atset1 A", ATSet1, 0x1e, []byte{0x1e}, []byte{0x9e}},
		{"atset2 A", ATSet2, 0x1c, []byte{0x1e}, []byte{0x9e}},
		{"atset3 A", ATSet3, 0x1c, []byte{0x1e}, []byte{0x9e}},
		{"os_x ANSI_A is 0", OSX, 0, []byte{0x1e}, []byte{0x9e}},
		{"usb A", USB, 4, []byte{0x1e}, []byte{0x9e}},
		{"win32 VK_A", Win32, 0x41, []byte{0x1e}, []byte{0x9e}},
		{"linux KEY_ESC", Linux, 1, []byte{0x01}, []byte{0x81}},
		{"linux KEY_RIGHTCTRL", Linux, 97, []byte{0xe0, 0x1d}, []byte{0xe0, 0x9d}},
		{"atset1 right Ctrl", ATSet1, 0xe01d, []byte{0xe0, 0x1d}, []byte{0xe0, 0x9d}},
		{"xt_kbd right Ctrl", XTKbd, 0x11d, []byte{0xe0, 0x1d}, []byte{0xe0, 0x9d}},
		{"qnum right Ctrl", QNum, 0x9d, []byte{0xe0, 0x1d}, []byte{0xe0, 0x9d}},
		{"atset2 keypad Enter", ATSet2, 0xe05a, []byte{0xe0, 0x1c}, []byte{0xe0, 0x9c}},
		{"linux KEY_DELETE", Linux, 111, []byte{0xe0, 0x53}, []byte{0xe0, 0xd3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, r, err := Scancodes(tc.set, tc.code)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(p, tc.press) || !bytes.Equal(r, tc.release) {
				t.Fatalf("got % x / % x, want % x / % x", p, r, tc.press, tc.release)
			}
		})
	}
}

// TestScancodesRefused: codes that are no key of their set, keys without a
// PC scan code and unknown sets are errors, never a byte.
func TestScancodesRefused(t *testing.T) {
	for _, tc := range []struct {
		name      string
		set, code uint32
		known     bool
	}{
		{"linux 0 is KEY_RESERVED", Linux, 0, false},
		{"linux beyond the table", Linux, 0x3000, false},
		{"usb beyond a byte", USB, 0x1ff, false},
		{"os_x 0xff is no key", OSX, 0xff, false},
		{"linux KEY_FN has no set 1 code", Linux, 0x1d0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, r, err := Scancodes(tc.set, tc.code)
			var ke *Error
			if !errors.As(err, &ke) || ke.Known != tc.known || p != nil || r != nil {
				t.Fatalf("got % x / % x, %v; want a key error (known %v)", p, r, err, tc.known)
			}
		})
	}
	if _, _, err := Scancodes(nSets, 30); err == nil {
		t.Fatal("code set 10 accepted")
	}
}

// TestTablesMatchLibvirt: the generated rows are libvirt's tables' shape:
// sorted by Linux code, KEY_RESERVED first with OS X 0xff as the default.
func TestTablesMatchLibvirt(t *testing.T) {
	if keys[0].name != "KEY_RESERVED" || keys[0].osx != 0xff {
		t.Fatalf("first row %+v", keys[0])
	}
	for i := 1; i < len(keys); i++ {
		if keys[i].linux <= keys[i-1].linux {
			t.Fatalf("row %d (%s) out of order", i, keys[i].name)
		}
	}
	if len(keys) < 400 {
		t.Fatalf("only %d keys", len(keys))
	}
}
