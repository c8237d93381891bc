// Package sockets provides the daemon's listening UNIX sockets: either the
// ones systemd passed (socket activation, matched by unit name) or sockets
// the daemon creates itself with the configured directory, mode, group and
// backlog. It removes only the sockets it created, and never takes over a
// path on which a live daemon still answers.
package sockets

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/virtvboxd/virtvboxd/internal/buildinfo"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// Kind says which service a socket carries.
type Kind int

// The three services of a modular libvirt daemon.
const (
	RW    Kind = iota // read-write remote program
	RO                // read-only remote program
	Admin             // admin program
)

// UnitName is the name systemd gives the fd of this kind (the socket unit's
// name, since the units set no FileDescriptorName=).
func (k Kind) UnitName() string {
	switch k {
	case RW:
		return buildinfo.Name + ".socket"
	case RO:
		return buildinfo.Name + "-ro.socket"
	case Admin:
		return buildinfo.Name + "-admin.socket"
	}
	return fmt.Sprintf("kind-%d", int(k))
}

func (k Kind) String() string {
	switch k {
	case RW:
		return "rw"
	case RO:
		return "ro"
	case Admin:
		return "admin"
	}
	return fmt.Sprintf("kind-%d", int(k))
}

// Spec describes one socket the daemon serves when it creates its own.
type Spec struct {
	Kind    Kind
	Path    string      // filesystem path, or "@name" for the abstract namespace
	Mode    os.FileMode // exact permission bits of the socket file
	GID     int         // group owner; -1 or 0 leaves it alone (as libvirt does)
	Backlog int         // listen() backlog; 0 means libvirt's 30
}

// Listener is a listening socket and where it came from.
type Listener struct {
	net.Listener
	Kind      Kind
	Path      string // empty for an activated socket without a filesystem name
	Activated bool   // passed by systemd; never unlinked by us
}

// Set is the daemon's listening sockets.
type Set struct {
	Listeners []*Listener
	created   []createdSocket
	log       *logrus.Entry
}

type createdSocket struct {
	path     string
	dev, ino uint64
}

// defaultBacklog is libvirt's listen() backlog when the configured one is 0.
const defaultBacklog = 30

// probeTimeout bounds the connect() to an existing socket path.
const probeTimeout = time.Second

// Open returns the daemon's listeners. Under systemd socket activation (see
// Activated) each passed fd is matched by name to a spec of the same kind;
// a kind that was not passed is not served, and an fd no spec claims is an
// error. Otherwise each spec with a non-empty path gets a socket created by
// Create. On error every socket opened so far is closed again.
func Open(specs []Spec, log *logrus.Entry) (*Set, error) {
	set := &Set{log: log}
	files, names, activated, err := activationFiles(log)
	if err != nil {
		return nil, err
	}
	if activated {
		if err := set.adopt(specs, files, names); err != nil {
			set.Close()
			return nil, err
		}
		return set, nil
	}
	for _, sp := range specs {
		if sp.Path == "" {
			continue
		}
		l, c, err := create(sp)
		if err != nil {
			set.Close()
			return nil, err
		}
		set.Listeners = append(set.Listeners, l)
		if c != nil {
			set.created = append(set.created, *c)
		}
		log.WithFields(logrus.Fields{"socket": sp.Kind.String(), "path": sp.Path}).Debug("listening")
	}
	return set, nil
}

// Close closes every listener and unlinks the socket files the set created,
// unless something else has since replaced them. Activated sockets are left
// in place for systemd. Close is idempotent.
func (s *Set) Close() error {
	var errs []error
	for _, l := range s.Listeners {
		if err := l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, fmt.Errorf("close %s socket: %w", l.Kind, err))
		}
	}
	for _, c := range s.created {
		var st syscall.Stat_t
		if err := syscall.Lstat(c.path, &st); err != nil {
			continue // already gone
		}
		if uint64(st.Dev) != c.dev || uint64(st.Ino) != c.ino {
			continue // a newer daemon's socket: not ours to remove
		}
		if err := os.Remove(c.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove socket: %w", err))
		}
	}
	s.created = nil
	return errors.Join(errs...)
}

// ByKind returns the listeners of one kind.
func (s *Set) ByKind(k Kind) []*Listener {
	var out []*Listener
	for _, l := range s.Listeners {
		if l.Kind == k {
			out = append(out, l)
		}
	}
	return out
}

// LookupGroup resolves a unix_sock_group value, a group name or "+GID", to a
// gid. An empty name gives -1 (leave the group alone). An unknown group fails
// with libvirt's "invalid argument: Failed to parse group 'NAME'".
func LookupGroup(name string) (int, error) {
	if name == "" {
		return -1, nil
	}
	if strings.HasPrefix(name, "+") {
		if gid, err := strconv.ParseUint(name[1:], 10, 32); err == nil {
			return int(gid), nil
		}
	} else if g, err := user.LookupGroup(name); err == nil {
		if gid, err := strconv.Atoi(g.Gid); err == nil {
			return gid, nil
		}
	} else if gid, err := strconv.ParseUint(name, 10, 32); err == nil {
		return int(gid), nil
	}
	return -1, fmt.Errorf("invalid argument: Failed to parse group '%s'", name)
}

// umaskMu serialises the process-wide umask changes around bind().
var umaskMu sync.Mutex

// create binds, chowns and listens on one socket and returns the record of
// the file it made (nil for an abstract socket).
func create(sp Spec) (*Listener, *createdSocket, error) {
	path := sp.Path
	bindErr := func(err error) error {
		return fmt.Errorf("Failed to bind socket to '%s': %s", path, errdefs.Strerror(err))
	}
	abstract := strings.HasPrefix(path, "@")
	if len(path) >= len(syscall.RawSockaddrUnix{}.Path) {
		return nil, nil, fmt.Errorf("Path %s too long for unix socket", path)
	}
	if !abstract {
		if err := clearPath(path); err != nil {
			return nil, nil, err
		}
	}

	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("Failed to create socket: %s", errdefs.Strerror(err))
	}
	closeFD := func() { syscall.Close(fd) }
	addr := &syscall.SockaddrUnix{Name: path}
	if abstract {
		addr.Name = "\x00" + path[1:]
	}

	umaskMu.Lock()
	old := syscall.Umask(int(^sp.Mode & 0o777))
	err = syscall.Bind(fd, addr)
	syscall.Umask(old)
	umaskMu.Unlock()
	if err != nil {
		closeFD()
		return nil, nil, bindErr(err)
	}

	var rec *createdSocket
	if !abstract {
		var st syscall.Stat_t
		if err := syscall.Lstat(path, &st); err != nil {
			closeFD()
			return nil, nil, bindErr(err)
		}
		rec = &createdSocket{path: path, dev: uint64(st.Dev), ino: uint64(st.Ino)}
		if sp.GID > 0 {
			if err := os.Lchown(path, -1, sp.GID); err != nil {
				closeFD()
				os.Remove(path)
				return nil, nil, fmt.Errorf("Failed to change group ID of '%s' to %d: %s", path, sp.GID, errdefs.Strerror(err))
			}
		}
	}
	backlog := sp.Backlog
	if backlog <= 0 {
		backlog = defaultBacklog
	}
	if err := syscall.Listen(fd, backlog); err != nil {
		closeFD()
		if rec != nil {
			os.Remove(path)
		}
		return nil, nil, fmt.Errorf("Failed to listen on socket '%s': %s", path, errdefs.Strerror(err))
	}
	ln, err := fileListener(fd, path)
	if err != nil {
		if rec != nil {
			os.Remove(path)
		}
		return nil, nil, err
	}
	return &Listener{Listener: ln, Kind: sp.Kind, Path: path}, rec, nil
}

// fileListener turns a listening fd into a net.Listener and closes fd (the
// listener holds its own duplicate).
func fileListener(fd int, name string) (net.Listener, error) {
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("socket '%s': %w", name, err)
	}
	if ul, ok := ln.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false) // Set.Close decides what to unlink
	}
	return ln, nil
}

// clearPath makes room for a new socket at path. libvirt unlinks whatever is
// there; we first connect to it, and refuse when a live daemon answers, so a
// second daemon (with another pid file) never steals a running one's socket.
// A stale socket (connection refused) or a leftover file is removed.
func clearPath(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("Failed to bind socket to '%s': %s", path, errdefs.Strerror(err))
	}
	if fi.Mode()&os.ModeSocket != 0 && probe(path) {
		return fmt.Errorf("Failed to bind socket to '%s': another daemon is listening on it", path)
	}
	if fi.IsDir() {
		return fmt.Errorf("Failed to bind socket to '%s': %s", path, errdefs.Strerror(syscall.EISDIR))
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("Failed to remove stale socket '%s': %s", path, errdefs.Strerror(err))
	}
	return nil
}

// probe reports whether something accepts connections on the socket at path.
// A refused connection (nobody listening) and most other errors count as
// dead. A full accept backlog (EAGAIN) or a timeout counts as alive: better
// refuse than steal a busy daemon's socket.
func probe(path string) bool {
	c, err := net.DialTimeout("unix", path, probeTimeout)
	if err == nil {
		c.Close()
		return true
	}
	return errors.Is(err, syscall.EAGAIN) || isTimeout(err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
