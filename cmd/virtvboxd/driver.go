package main

import (
	"fmt"
	"github.com/virtvboxd/virtvboxd/internal/driver"
	"os"
	"path/filepath"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/virtvboxd/virtvboxd/internal/config"
	"github.com/virtvboxd/virtvboxd/internal/daemon"
	"github.com/virtvboxd/virtvboxd/internal/vbox"
)

// hypervisor is what the daemon needs from the VirtualBox driver: the RPC
// seam, the count of running domains that keeps --timeout from firing,
// new VBoxManage settings on reload, and Close at exit.
type hypervisor interface {
	driver.Driver
	ActiveDomains() int
	Reconfigure(path string, timeout time.Duration) error
	Close() error
}

var _ hypervisor = (*vbox.Driver)(nil)

// newDriver builds the VirtualBox driver. It runs nothing: VBoxManage is
// looked for here (a path lookup), but first run by the first client.
// A VBoxManage that cannot be found is not fatal, as in libvirt: the
// daemon starts and CONNECT_OPEN reports the problem to clients.
//
// The driver keeps its domain ID table in a "vbox" directory beside the rw
// socket (/run/libvirt/vbox for root), so two daemons on different socket
// directories never share one.
func newDriver(cfg *config.Config, paths daemon.Paths, log *logrus.Entry) (hypervisor, error) {
	path, err := config.FindVBoxManage(cfg.VBoxManagePath)
	if err != nil {
		log.WithError(err).Warn("VBoxManage not found; clients will be told when they connect")
		path = cfg.VBoxManagePath
	}
	state := ""
	if paths.SockRW != "" && paths.SockRW[0] != '@' {
		state = filepath.Join(filepath.Dir(paths.SockRW), "vbox")
		// The socket directory exists by now; never create it here.
		if err := os.Mkdir(state, paths.RunDirMode()); err != nil && !os.IsExist(err) {
			log.WithError(err).Warn("no directory for the domain ID table; domain IDs will not survive a restart")
			state = ""
		}
	}
	drv, err := vbox.NewDriver(vbox.Options{
		VBoxManagePath: path,
		Timeout:        cfg.VBoxManageTimeoutDuration(),
		Privileged:     paths.Privileged,
		StateDir:       state,
		Log:            log,
	})
	if err != nil {
		return nil, fmt.Errorf("Unable to initialize the VirtualBox driver: %w", err)
	}
	return drv, nil
}
