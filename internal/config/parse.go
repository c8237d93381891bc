package config

import (
	"fmt"
)

// Type is the type of a parsed configuration value, as libvirt's virconf
// distinguishes them.
type Type int

// The value types. An integer written with a leading '-' is Signed; any other
// integer is Unsigned, which is how libvirt tells "-5" from "5" when an
// option wants an unsigned number.
const (
	Unsigned Type = iota + 1 // 5, +5
	Signed                   // -5
	String                   // "x", 'x', """x"""
	List                     // [ v, v ]
)

// String returns the name of the type.
func (t Type) String() string {
	switch t {
	case Unsigned:
		return "unsigned integer"
	case Signed:
		return "signed integer"
	case String:
		return "string"
	case List:
		return "list"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Value is one parsed value. Int holds both integer kinds: libvirt keeps
// them in a long long, wrapping on overflow, and so do we.
type Value struct {
	Type Type
	Int  int64
	Str  string
	List []Value
}

// Entry is one `name = value` statement of a file.
type Entry struct {
	Name  string
	Value Value
	Line  int // line of the name
}

// File is a parsed configuration file: its statements in file order.
type File struct {
	Name    string // the path used in error messages
	Entries []Entry
}

// Get returns the value of the first statement named name, as libvirt does
// (the first duplicate wins).
func (f *File) Get(name string) (Value, bool) {
	for _, e := range f.Entries {
		if e.Name == name {
			return e.Value, true
		}
	}
	return Value{}, false
}

// SyntaxError is a virconf syntax error. Its text is libvirt's:
// "configuration file syntax error: FILE:LINE: what".
type SyntaxError struct {
	File string
	Line int
	What string // "expecting a value", "unterminated string", ...
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("configuration file syntax error: %s:%d: %s", e.File, e.Line, e.What)
}

// Parse parses data in libvirt's configuration syntax (virconf). name is
// used in error messages only. The grammar, the error texts and the line
// numbers follow libvirt 9.0's src/util/virconf.c, including its corners:
// a statement may not follow blanks at the very end of a file that has no
// statement yet, integers wrap silently, and lists may not contain comments.
func Parse(name string, data []byte) (*File, error) {
	p := &parser{file: &File{Name: name}, data: data, line: 1}
	for p.pos < len(p.data) {
		if err := p.statement(); err != nil {
			return nil, err
		}
		if err := p.separator(); err != nil {
			return nil, err
		}
	}
	return p.file, nil
}

type parser struct {
	file *File
	data []byte
	pos  int
	line int
}

// cur returns the current byte, or 0 at the end (libvirt reads the NUL
// terminator there).
func (p *parser) cur() byte {
	if p.pos < len(p.data) {
		return p.data[p.pos]
	}
	return 0
}

func (p *parser) next() {
	if p.pos < len(p.data) {
		p.pos++
	}
}

func (p *parser) atEnd() bool { return p.pos >= len(p.data) }

func (p *parser) hasPrefix(s string) bool {
	return p.pos+len(s) <= len(p.data) && string(p.data[p.pos:p.pos+len(s)]) == s
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }
func isEOL(c byte) bool   { return c == '\n' || c == '\r' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

func (p *parser) skipBlanks() {
	for !p.atEnd() && isBlank(p.cur()) {
		p.pos++
	}
}

func (p *parser) skipBlanksAndEOL() {
	for !p.atEnd() && (isBlank(p.cur()) || isEOL(p.cur())) {
		if p.cur() == '\n' {
			p.line++
		}
		p.pos++
	}
}

func (p *parser) errorf(what string) error {
	return &SyntaxError{File: p.file.Name, Line: p.line, What: what}
}

func (p *parser) skipComment() {
	for !p.atEnd() && !isEOL(p.cur()) {
		p.pos++
	}
}

func (p *parser) statement() error {
	p.skipBlanksAndEOL()
	if p.cur() == '#' {
		p.skipComment()
		return nil
	}
	line := p.line
	name, err := p.name()
	if err != nil {
		return err
	}
	p.skipBlanks()
	if p.cur() != '=' {
		return p.errorf("expecting an assignment")
	}
	p.next()
	p.skipBlanks()
	v, err := p.value()
	if err != nil {
		return err
	}
	p.skipBlanks()
	if p.cur() == '#' {
		p.skipComment()
	}
	p.file.Entries = append(p.file.Entries, Entry{Name: name, Value: v, Line: line})
	return nil
}

func (p *parser) name() (string, error) {
	p.skipBlanks()
	start := p.pos
	if !isAlpha(p.cur()) {
		return "", p.errorf("expecting a name")
	}
	for !p.atEnd() && (isAlpha(p.cur()) || isDigit(p.cur()) || p.cur() == '_') {
		p.pos++
	}
	return string(p.data[start:p.pos]), nil
}

func (p *parser) separator() error {
	p.skipBlanks()
	if p.atEnd() {
		return nil
	}
	switch {
	case isEOL(p.cur()):
		p.skipBlanksAndEOL()
	case p.cur() == ';':
		p.next()
		p.skipBlanksAndEOL()
	default:
		return p.errorf("expecting a separator")
	}
	return nil
}

func (p *parser) value() (Value, error) {
	p.skipBlanks()
	if p.atEnd() {
		return Value{}, p.errorf("expecting a value")
	}
	c := p.cur()
	switch {
	case c == '"' || c == '\'':
		s, err := p.str()
		if err != nil {
			return Value{}, err
		}
		return Value{Type: String, Str: s}, nil
	case c == '[':
		return p.list()
	case isDigit(c) || c == '-' || c == '+':
		t := Unsigned
		if c == '-' {
			t = Signed
		}
		n, err := p.integer()
		if err != nil {
			return Value{}, err
		}
		return Value{Type: t, Int: n}, nil
	}
	return Value{}, p.errorf("expecting a value")
}

func (p *parser) list() (Value, error) {
	v := Value{Type: List, List: []Value{}}
	p.next() // '['
	p.skipBlanksAndEOL()
	if !p.atEnd() && p.cur() != ']' {
		first, err := p.value()
		if err != nil {
			return Value{}, err
		}
		v.List = append(v.List, first)
		p.skipBlanksAndEOL()
	}
	for !p.atEnd() && p.cur() != ']' {
		if p.cur() != ',' {
			return Value{}, p.errorf("expecting a separator in list")
		}
		p.next()
		p.skipBlanksAndEOL()
		if p.cur() == ']' {
			break
		}
		item, err := p.value()
		if err != nil {
			return Value{}, err
		}
		v.List = append(v.List, item)
		p.skipBlanksAndEOL()
	}
	if p.cur() != ']' {
		return Value{}, p.errorf("list is not closed with ]")
	}
	p.next()
	return v, nil
}

// integer parses [+-]digits. Like libvirt it does no overflow check: the
// value wraps in 64 bits, and the typed accessors then reject it by range.
func (p *parser) integer() (int64, error) {
	neg := false
	switch p.cur() {
	case '-':
		neg = true
		p.next()
	case '+':
		p.next()
	}
	if p.atEnd() || !isDigit(p.cur()) {
		return 0, p.errorf("unterminated number")
	}
	var n uint64
	for !p.atEnd() && isDigit(p.cur()) {
		n = n*10 + uint64(p.cur()-'0')
		p.pos++
	}
	if neg {
		n = -n
	}
	return int64(n), nil
}

func (p *parser) str() (string, error) {
	switch {
	case p.cur() == '\'':
		return p.quoted('\'')
	case p.pos+6 < len(p.data) && p.hasPrefix(`"""`):
		// Triple quotes may span lines. libvirt only recognises them when
		// at least seven bytes remain, so `""""""` at the very end of a
		// file is read as an empty string followed by junk.
		p.pos += 3
		start := p.pos
		for p.pos+2 < len(p.data) && !p.hasPrefix(`"""`) {
			if p.cur() == '\n' {
				p.line++
			}
			p.pos++
		}
		if !p.hasPrefix(`"""`) {
			return "", p.errorf("unterminated string")
		}
		s := string(p.data[start:p.pos])
		p.pos += 3
		return s, nil
	default:
		return p.quoted('"')
	}
}

// quoted reads a one-line string delimited by q, with no escapes.
func (p *parser) quoted(q byte) (string, error) {
	p.next()
	start := p.pos
	for !p.atEnd() && p.cur() != q && !isEOL(p.cur()) {
		p.pos++
	}
	if p.cur() != q {
		return "", p.errorf("unterminated string")
	}
	s := string(p.data[start:p.pos])
	p.next()
	return s, nil
}
