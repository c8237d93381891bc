package sockets

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/coreos/go-systemd/v22/activation"
	"github.com/sirupsen/logrus"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// Activated reports whether systemd passed sockets to this process:
// LISTEN_PID is our pid and LISTEN_FDS a positive count.
func Activated() bool {
	pid, err := strconv.Atoi(os.Getenv("LISTEN_PID"))
	if err != nil || pid != os.Getpid() {
		return false
	}
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	return err == nil && n > 0
}

// activationFiles takes the fds systemd passed, with their names. Like
// libvirt 9.0 it treats a missing LISTEN_FDNAMES, or one with the wrong
// number of names, as no activation at all (with a warning), so the daemon
// creates its own sockets.
func activationFiles(log *logrus.Entry) (files []*os.File, names []string, ok bool, err error) {
	if !Activated() {
		return nil, nil, false, nil
	}
	n, _ := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	rawNames, have := os.LookupEnv("LISTEN_FDNAMES")
	ignore := func() {
		// The fds stay open, as in libvirt, but children must not
		// inherit them nor believe they were activated.
		for fd := 3; fd < 3+n; fd++ {
			syscall.CloseOnExec(fd)
		}
		os.Unsetenv("LISTEN_PID")
		os.Unsetenv("LISTEN_FDS")
	}
	switch {
	case !have:
		log.Warn("Missing LISTEN_FDNAMES env from systemd socket activation")
		ignore()
		return nil, nil, false, nil
	case len(strings.Split(rawNames, ":")) != n:
		log.Warnf("Expecting %d FD names but got %d", n, len(strings.Split(rawNames, ":")))
		ignore()
		return nil, nil, false, nil
	}
	// activation.Files checks LISTEN_PID again, marks the fds close-on-exec
	// and unsets the variables so that children do not see them.
	files = activation.Files(true)
	if len(files) != n {
		return nil, nil, false, fmt.Errorf("systemd passed %d sockets but %d could be used", n, len(files))
	}
	names = make([]string, len(files))
	for i, f := range files {
		names[i] = f.Name()
	}
	return files, names, true, nil
}

// adopt matches the passed fds to the specs by name. Several fds may carry
// one name; a spec's kind with no fd is not served; an fd of a name no spec
// wants is fatal, as in libvirt.
func (s *Set) adopt(specs []Spec, files []*os.File, names []string) error {
	want := map[string]Spec{}
	for _, sp := range specs {
		if sp.Path != "" { // a socket this daemon does not serve claims nothing
			want[sp.Kind.UnitName()] = sp
		}
	}
	claimed := make([]bool, len(files))
	for i, f := range files {
		sp, ok := want[names[i]]
		if !ok {
			continue
		}
		claimed[i] = true
		backlog := sp.Backlog
		if backlog <= 0 {
			backlog = defaultBacklog
		}
		// Like libvirt, apply our backlog to the socket systemd made.
		if err := syscall.Listen(int(f.Fd()), backlog); err != nil {
			return fmt.Errorf("Failed to listen on activated socket %s: %s", names[i], errdefs.Strerror(err))
		}
		ln, err := net.FileListener(f)
		if err != nil {
			return fmt.Errorf("activated socket %s: %w", names[i], err)
		}
		if ul, ok := ln.(*net.UnixListener); ok {
			ul.SetUnlinkOnClose(false)
		}
		path := ""
		if a, ok := ln.Addr().(*net.UnixAddr); ok {
			path = a.Name
		}
		s.Listeners = append(s.Listeners, &Listener{Listener: ln, Kind: sp.Kind, Path: path, Activated: true})
		s.log.WithFields(logrus.Fields{"socket": sp.Kind.String(), "fdname": names[i], "path": path}).Debug("adopted activated socket")
	}
	for _, f := range files {
		f.Close() // the listeners hold duplicates
	}
	for i := range files {
		if !claimed[i] {
			return fmt.Errorf("Some activation file descriptors are unclaimed")
		}
	}
	return nil
}
