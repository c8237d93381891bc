// Package keymap translates the key codes of libvirt's code sets
// (virKeycodeSet) into the scan codes VirtualBox's keyboard takes: IBM PC
// XT scan codes, "set 1", with the 0xe0 prefix for the extended keys; a key
// press is the code, its release the code with bit 7 set (0xe0 0x1d, 0xe0
// 0x9d for the right Ctrl key). IKeyboard::putScancodes hands each byte to
// the emulated keyboard's set 1 input (Keyboard::putCAD sends 1d 38 e0 53
// for Ctrl+Alt+Del); VBoxManage's `keyboardputscancode` usage text calls the
// bytes "IBM PC AT set 2", which they are not.
//
// The tables are libvirt 9.0's (keycodemapdb), generated into keymap.gen.go
// from keymaps-9.0.txt; see docs/console.md.
package keymap

//go:generate go run ./internal/genkeymap

import "fmt"

// key is one row of libvirt's tables: the codes of one Linux key code.
type key struct {
	name                                           string
	linux, osx, atset1, atset2, atset3, usb, win32 uint32
}

// Code sets, numbered as libvirt's virKeycodeSet.
const (
	Linux  = 0
	XT     = 1 // libvirt: the same table as AT set 1
	ATSet1 = 2
	ATSet2 = 3
	ATSet3 = 4
	OSX    = 5
	XTKbd  = 6 // Linux's raw XT codes: extended keys as 0x100|code
	USB    = 7
	Win32  = 8
	QNum   = 9 // QEMU's numbers (and RFB's): extended keys as 0x80|code
	nSets  = 10
)

var setNames = [nSets]string{"linux", "xt", "atset1", "atset2", "atset3", "os_x", "xt_kbd", "usb", "win32", "qnum"}

// SetName is libvirt's name of code set set ("linux", "os_x"...).
func SetName(set uint32) string {
	if set < nSets {
		return setNames[set]
	}
	return fmt.Sprintf("%d", set)
}

// value is key k's code in set, as libvirt's table for the set has it.
func (k *key) value(set uint32) uint32 {
	switch set {
	case Linux:
		return k.linux
	case XT, ATSet1:
		return k.atset1
	case ATSet2:
		return k.atset2
	case ATSet3:
		return k.atset3
	case OSX:
		return k.osx
	case XTKbd:
		if k.atset1 > 0x7f {
			return 0x100 | k.atset1&0x7f
		}
		return k.atset1
	case USB:
		return k.usb
	case Win32:
		return k.win32
	case QNum:
		if k.atset1 > 0x7f {
			return 0x80 | k.atset1&0x7f
		}
		return k.atset1
	}
	return 0
}

// Error is a key code that has no scan code.
type Error struct {
	Set  uint32
	Code uint32
	// Known says the code names a key of the set that has no PC
	// keyboard scan code (rather than no key at all).
	Known bool
	Name  string // the key's Linux name when Known
}

func (e *Error) Error() string {
	if e.Known {
		return fmt.Sprintf("key code %d (%#x) of the %s code set (%s) has no PC keyboard scan code", e.Code, e.Code,
			SetName(e.Set), e.Name)
	}
	return fmt.Sprintf("key code %d (%#x) is not a key of the %s code set", e.Code, e.Code, SetName(e.Set))
}

// Scancodes returns the bytes that press and release the key code of set:
// the first row of libvirt's table holding code (as virKeycodeValueTranslate
// looks it up), translated to set 1. A code no row holds, or a key without
// a set 1 code, is an *Error.
func Scancodes(set, code uint32) (press, release []byte, err error) {
	if set >= nSets {
		return nil, nil, fmt.Errorf("unsupported codeset '%d'", set)
	}
	for i := range keys {
		k := &keys[i]
		if k.value(set) != code {
			continue
		}
		at1 := k.atset1
		switch {
		case at1 == 0 || k.linux == 0:
			return nil, nil, &Error{Set: set, Code: code, Known: k.linux != 0, Name: k.name}
		case at1 <= 0x7f:
			return []byte{byte(at1)}, []byte{byte(at1) | 0x80}, nil
		case at1&0xff00 == 0xe000 && at1&0x80 == 0:
			return []byte{0xe0, byte(at1)}, []byte{0xe0, byte(at1) | 0x80}, nil
		}
		return nil, nil, &Error{Set: set, Code: code, Known: true, Name: k.name}
	}
	return nil, nil, &Error{Set: set, Code: code}
}
