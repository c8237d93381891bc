package daemon

import (
	"fmt"
	"os"
	"strconv"
	"syscall"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// PidFile is a held pid file: an open descriptor with an exclusive fcntl
// write lock on its first byte, as libvirt's daemons take it. The lock, not
// the file's content, says that a daemon is running; it goes away with the
// process, so a file left behind by a crash is simply taken over.
type PidFile struct {
	path string
	f    *os.File
}

// AcquirePidFile creates or opens path, takes the lock without waiting and
// writes the current pid (decimal, no newline). When another process holds
// the lock it fails with libvirt's text:
//
//	Failed to acquire pid file 'PATH': Resource temporarily unavailable
//
// An empty path means no pid file: it returns (nil, nil).
func AcquirePidFile(path string) (*PidFile, error) {
	if path == "" {
		return nil, nil
	}
	fail := func(err error) error {
		return fmt.Errorf("Failed to acquire pid file '%s': %s", path, errdefs.Strerror(err))
	}
	for {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|syscall.O_CLOEXEC, 0o644)
		if err != nil {
			return nil, fail(err)
		}
		lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: 0, Len: 1}
		if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lk); err != nil {
			f.Close()
			if err == syscall.EACCES { // POSIX allows either errno for a held lock
				err = syscall.EAGAIN
			}
			return nil, fail(err)
		}
		// The previous holder may have unlinked the file between our open and
		// our lock: then we hold a lock on a file nobody else will look at.
		var held, now syscall.Stat_t
		if err := syscall.Fstat(int(f.Fd()), &held); err != nil {
			f.Close()
			return nil, fail(err)
		}
		if err := syscall.Stat(path, &now); err != nil || now.Ino != held.Ino || now.Dev != held.Dev {
			f.Close()
			continue
		}
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, fail(err)
		}
		if _, err := f.WriteString(strconv.Itoa(os.Getpid())); err != nil {
			f.Close()
			return nil, fail(err)
		}
		return &PidFile{path: path, f: f}, nil
	}
}

// Path returns the pid file's path.
func (p *PidFile) Path() string { return p.path }

// Release unlinks the pid file, then closes it, dropping the lock. Unlinking
// first means no other daemon can lock the file and then lose it. Release on
// a nil *PidFile does nothing.
func (p *PidFile) Release() error {
	if p == nil || p.f == nil {
		return nil
	}
	err := os.Remove(p.path)
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	p.f = nil
	if err != nil {
		return fmt.Errorf("release pid file %s: %w", p.path, err)
	}
	return nil
}
