package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/virtvboxd/virtvboxd/internal/buildinfo"
	"github.com/virtvboxd/virtvboxd/internal/config"
	"github.com/virtvboxd/virtvboxd/internal/daemon"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
	"github.com/virtvboxd/virtvboxd/internal/logging"
	"github.com/virtvboxd/virtvboxd/internal/rpc"
	"github.com/virtvboxd/virtvboxd/internal/sockets"
)

// shutdownGrace bounds how long in-flight calls may take to finish once the
// daemon stops (libvirt's finish timer is also 30 s).
const shutdownGrace = 30 * time.Second

// Server names, as virt-admin srv-list shows them.
const (
	mainServerName  = buildinfo.Name
	adminServerName = "admin"
)

// exitNow asks main to exit with code without printing anything (the
// parent of a daemonized child has already said what there was to say).
type exitNow struct{ code daemon.ExitCode }

func (e *exitNow) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// instance is one running daemon: what reload, the idle timer and the admin
// program act upon.
type instance struct {
	opts       options
	privileged bool
	cfgPath    string
	mustExist  bool   // the file was named with -f
	logFile    string // the default log output's file (daemon.Paths.LogFile)
	child      bool   // started by Daemonize: report to the parent, log like a daemon

	cfg    atomic.Pointer[config.Config] // in force; replaced whole on reload
	logs   *logging.Logging
	log    *logrus.Entry
	notify daemon.Notifier

	ready   atomic.Bool // listening; reload allowed
	stop    context.CancelFunc
	servers map[string]*rpc.Server
	idle    *daemon.IdleTimer
	drv     hypervisor
}

// run starts the daemon and blocks until it stops. The error carries the
// exit status (daemon.CodeOf); cancellation by a signal or the idle timer is
// a normal exit.
func run(ctx context.Context, opts options) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d := &instance{
		opts:       opts,
		privileged: os.Geteuid() == 0,
		logs:       logging.New(),
		stop:       cancel,
	}
	d.log = d.logs.For("daemon")

	// A daemonized child reports to its parent how startup went; any error
	// before that point goes through the pipe as well as to the log.
	status := daemon.ChildStatus()
	d.child = status.IsChild()
	defer d.logs.Close() // after the failure below is logged
	defer func() {
		if err != nil && status != nil {
			d.log.Error(err.Error())
			status.Report(err)
		}
	}()

	// Signals first: a TERM during startup must end the daemon cleanly, not
	// kill it with its pid file and sockets left behind.
	stopSignals := daemon.HandleSignals(daemon.SignalHandlers{
		Stop: func(sig os.Signal) {
			d.log.Infof("Stopping on signal %s", sig)
			cancel()
		},
		Reload: d.reload,
		Dump: func(stacks []byte) {
			d.log.Warnf("Goroutine dump requested by SIGUSR1:\n%s", stacks)
		},
	})
	defer stopSignals()

	paths, cfg, err := d.loadStartupConfig()
	if err != nil {
		return err
	}
	if opts.daemon && status == nil {
		return &exitNow{daemon.Daemonize(opts.argv0, os.Stderr)}
	}
	return d.serve(ctx, paths, cfg, status)
}

// loadStartupConfig does what libvirt does before it forks: compute the
// paths, load and check the config file, set up logging. Its errors exit 1.
func (d *instance) loadStartupConfig() (daemon.Paths, *config.Config, error) {
	paths, err := daemon.DefaultPaths(d.privileged, os.Getenv)
	if err != nil {
		return paths, nil, err
	}
	d.cfgPath, d.mustExist, d.logFile = paths.Config, false, paths.LogFile
	if d.opts.configSet && d.opts.config != "" {
		d.cfgPath, d.mustExist = d.opts.config, true
	}
	cfg, err := config.Load(d.cfgPath, d.mustExist, d.privileged)
	if err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			return paths, nil, errors.New(ce.LoadFailure())
		}
		return paths, nil, fmt.Errorf("Can't load config file: %w: %s", err, d.cfgPath)
	}
	if _, err := cfg.ResolveHostUUID(); err != nil {
		return paths, nil, fmt.Errorf("%w: Can't setup host uuid", err)
	}
	settings, err := d.logSettings(cfg)
	if err != nil {
		return paths, nil, err
	}
	// The parent of a daemonized child only checks; the child opens the
	// outputs (a log file, journald) itself.
	if !d.opts.daemon || d.child {
		if err := d.logs.Apply(settings); err != nil {
			return paths, nil, err
		}
	}
	if err := cfg.CheckAccessDrivers(); err != nil {
		return paths, nil, fmt.Errorf("%w: Can't initialize access manager", err)
	}
	d.cfg.Store(cfg)

	paths = paths.WithSockDir(cfg.UnixSockDir)
	if d.opts.pidFileSet {
		paths.PidFile = d.opts.pidFile
	}
	return paths, cfg, nil
}

// logSettings computes the logging settings for cfg with libvirt's
// precedence (command line over environment over file).
func (d *instance) logSettings(cfg *config.Config) (logging.Settings, error) {
	s, err := logging.Effective(logging.Inputs{
		ConfigLevel:   cfg.LogLevel,
		ConfigFilters: cfg.LogFilters,
		ConfigOutputs: cfg.LogOutputs,
		Verbose:       d.opts.verbose,
	})
	if err != nil {
		return s, err
	}
	s.DefaultOutputs = logging.DefaultOutputs(d.opts.daemon, d.privileged, d.logFile, s.Level)
	return s, nil
}

// serve takes the pid file, binds the sockets, serves until ctx ends and
// cleans up, in libvirt's startup order.
func (d *instance) serve(ctx context.Context, paths daemon.Paths, cfg *config.Config, status *daemon.Status) error {
	if err := makeRunDir(paths); err != nil {
		return daemon.Fail(daemon.ExitRunDir, err)
	}
	pid, err := daemon.AcquirePidFile(paths.PidFile)
	if err != nil {
		return daemon.Fail(daemon.ExitPidFile, err)
	}
	defer func() {
		if err := pid.Release(); err != nil {
			d.log.WithError(err).Warn("releasing the pid file")
		}
	}()

	if err := cfg.CheckClientLimits(); err != nil {
		return daemon.Fail(daemon.ExitInit, err)
	}
	// One descriptor per client, and a margin for the sockets, the log
	// and VBoxManage's pipes.
	raiseFDLimit(d.log, uint64(cfg.MaxClients)+uint64(cfg.AdminMaxClients)+64)
	set, err := openSockets(paths, cfg, d.logs.For("sockets"))
	if err != nil {
		return daemon.Fail(daemon.ExitNetwork, err)
	}
	defer func() {
		if err := set.Close(); err != nil {
			d.log.WithError(err).Warn("closing the sockets")
		}
	}()
	// Like libvirt, build the driver once the sockets are bound (clients
	// wait in the backlog meanwhile). It runs nothing yet.
	drv, err := newDriver(cfg, paths, d.logs.For("vbox"))
	if err != nil {
		return daemon.Fail(daemon.ExitDriver, err)
	}
	d.drv = drv
	defer func() {
		if err := drv.Close(); err != nil {
			d.log.WithError(err).Warn("closing the VirtualBox driver")
		}
	}()
	// The idle timer exists before any server, so that the admin program
	// (daemon-timeout) and the client callbacks always find it.
	d.idle = daemon.NewIdleTimer(time.Duration(d.opts.timeout)*time.Second,
		d.numClients, drv.ActiveDomains, func() {
			d.log.Info("Stopping: no client and no running domain for the idle timeout")
			d.stop()
		})
	mainSrv := rpc.NewServer(mainServerConfig(cfg), d.logs.For("rpc"))
	mainSrv.Register(rpc.NewRemoteProgram(drv, d.logs.For("remote")))
	adminSrv := rpc.NewServer(adminServerConfig(cfg), d.logs.For("rpc"))
	registerAdmin(adminSrv, d)
	d.servers = map[string]*rpc.Server{mainServerName: mainSrv, adminServerName: adminSrv}

	for _, s := range d.servers {
		s.OnClientsChanged(d.idle.Update)
	}

	var wg sync.WaitGroup
	var sockErr atomic.Pointer[error] // the first socket that failed for good
	for _, l := range set.Listeners {
		srv, svc := mainSrv, rpc.Service{Auth: rpc.AuthNone}
		switch l.Kind {
		case sockets.RO:
			svc.ReadOnly = true
		case sockets.Admin:
			srv = adminSrv
		}
		wg.Add(1)
		go func(l *sockets.Listener) {
			defer wg.Done()
			if err := srv.Serve(ctx, l, svc); err != nil {
				// Passing failures (out of descriptors) are retried by
				// Serve; this one will not pass. Exit non-zero, so that
				// Restart=on-failure brings the daemon back.
				d.log.WithError(err).Errorf("%s socket failed; stopping", l.Kind)
				err = fmt.Errorf("%s socket: %w", l.Kind, err)
				sockErr.CompareAndSwap(nil, &err)
				d.stop()
			}
		}(l)
	}

	d.idle.Update()
	d.ready.Store(true)
	status.Report(nil)
	if err := d.notify.Ready(); err != nil {
		d.log.WithError(err).Warn("telling systemd we are ready")
	}
	d.log.WithField("pid", os.Getpid()).Info("virtvboxd is ready")

	<-ctx.Done()

	d.ready.Store(false)
	if err := d.notify.Stopping(); err != nil {
		d.log.WithError(err).Warn("telling systemd we are stopping")
	}
	d.idle.Stop()
	err = d.shutdown()
	wg.Wait()
	if se := sockErr.Load(); se != nil {
		return *se
	}
	return err
}

// shutdown stops both servers at once, giving the calls in flight
// shutdownGrace to finish.
func (d *instance) shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	var wg sync.WaitGroup
	var forced atomic.Bool
	for _, s := range d.servers {
		wg.Add(1)
		go func(s *rpc.Server) {
			defer wg.Done()
			if err := s.Shutdown(ctx); err != nil {
				forced.Store(true)
			}
		}(s)
	}
	wg.Wait()
	if forced.Load() {
		d.log.Warn("Make forcefull daemon shutdown")
		return fmt.Errorf("calls still running %s after the stop request were cut short", shutdownGrace)
	}
	return nil
}

// numClients counts the clients of every server, the admin server included.
func (d *instance) numClients() int {
	n := 0
	for _, s := range d.servers {
		n += s.NumClients()
	}
	return n
}

// makeRunDir creates the run directory as libvirt does: umask 022 for root
// (0755), 077 for a session daemon (0700). An existing directory is left
// as it is.
func makeRunDir(p daemon.Paths) error {
	mask := 0o077
	if p.Privileged {
		mask = 0o022
	}
	old := syscall.Umask(mask)
	err := os.MkdirAll(p.RunDir, 0o777)
	syscall.Umask(old)
	if err != nil {
		return fmt.Errorf("Unable to create rundir %s: %s", p.RunDir, errdefs.Strerror(err))
	}
	return nil
}

// openSockets creates (or adopts from systemd) the sockets the paths name.
func openSockets(p daemon.Paths, cfg *config.Config, log *logrus.Entry) (*sockets.Set, error) {
	rwMode, roMode, adminMode, err := cfg.SocketModes()
	if err != nil {
		return nil, err
	}
	gid, err := sockets.LookupGroup(cfg.UnixSockGroup)
	if err != nil {
		return nil, err
	}
	return sockets.Open([]sockets.Spec{
		{Kind: sockets.RW, Path: p.SockRW, Mode: rwMode, GID: gid, Backlog: int(cfg.MaxQueuedClients)},
		{Kind: sockets.RO, Path: p.SockRO, Mode: roMode, GID: gid, Backlog: int(cfg.MaxQueuedClients)},
		{Kind: sockets.Admin, Path: p.SockAdmin, Mode: adminMode, GID: gid, Backlog: int(cfg.AdminMaxQueuedClients)},
	}, log)
}

func mainServerConfig(c *config.Config) rpc.ServerConfig {
	return rpc.ServerConfig{
		Name:                mainServerName,
		MinWorkers:          c.MinWorkers,
		MaxWorkers:          c.MaxWorkers,
		PrioWorkers:         c.PrioWorkers,
		MaxClients:          c.MaxClients,
		MaxAnonymousClients: c.MaxAnonymousClients,
		RWReservedClients:   c.RWReservedClients,
		MaxClientRequests:   c.MaxClientRequests,
		MaxBufferMemory:     c.BufferMemoryBytes(),
		KeepaliveInterval:   c.KeepaliveInterval,
		KeepaliveCount:      c.KeepaliveCount,
	}
}

func adminServerConfig(c *config.Config) rpc.ServerConfig {
	return rpc.ServerConfig{
		Name:              adminServerName,
		MinWorkers:        c.AdminMinWorkers,
		MaxWorkers:        c.AdminMaxWorkers,
		MaxClients:        c.AdminMaxClients,
		MaxClientRequests: c.AdminMaxClientRequests,
		MaxBufferMemory:   c.BufferMemoryBytes(),
		KeepaliveInterval: c.AdminKeepaliveInterval,
		KeepaliveCount:    c.AdminKeepaliveCount,
	}
}

// reload re-reads the config file (SIGHUP). The new file is parsed and
// validated on its own; only when all of it is good are the logging
// settings, server limits and keepalive applied. Options that need a
// restart are logged as such; a bad file is logged and the running
// configuration kept.
func (d *instance) reload() {
	if !d.ready.Load() {
		d.log.Warn("Daemon is not ready yet, reload ignored")
		return
	}
	if err := d.notify.Reloading(); err != nil {
		d.log.WithError(err).Warn("telling systemd we are reloading")
	}
	defer func() {
		if err := d.notify.Ready(); err != nil {
			d.log.WithError(err).Warn("telling systemd we are ready")
		}
	}()
	d.log.Info("Reloading configuration on SIGHUP")

	fail := func(err error) {
		msg := err.Error()
		var ce *config.Error
		if errors.As(err, &ce) {
			msg = ce.LoadFailure()
		}
		d.log.Errorf("Reload failed, keeping the running configuration: %s", msg)
	}
	cfg, err := config.Load(d.cfgPath, d.mustExist, d.privileged)
	if err != nil {
		fail(err)
		return
	}
	if err := cfg.Validate(); err != nil {
		fail(err)
		return
	}
	if err := logging.Check(cfg.LogLevel, cfg.LogFilters, cfg.LogOutputs); err != nil {
		fail(err)
		return
	}
	settings, err := d.logSettings(cfg)
	if err != nil {
		fail(err)
		return
	}
	if err := d.logs.Apply(settings); err != nil {
		fail(err)
		return
	}
	old := d.cfg.Load()
	d.servers[mainServerName].SetLimits(mainServerConfig(cfg))
	d.servers[adminServerName].SetLimits(adminServerConfig(cfg))
	restart := cfg.RestartNeeded(old)
	for _, name := range restart {
		d.log.Warnf("Option '%s' changed: the new value takes effect at the next start", name)
	}
	// Restart-only options keep their running values, so that the next
	// reload reports them again while the file still differs.
	inForce := cfg.InForce(old)
	if cfg.VBoxManagePath != old.VBoxManagePath || cfg.VBoxManageTimeout != old.VBoxManageTimeout {
		if err := d.reconfigureDriver(cfg); err != nil {
			d.log.WithError(err).Error("Keeping the running VBoxManage settings")
			inForce.VBoxManagePath, inForce.VBoxManageTimeout = old.VBoxManagePath, old.VBoxManageTimeout
		}
	}
	d.cfg.Store(inForce)
	d.log.Info("Configuration reloaded")
}

// reconfigureDriver hands the new vboxmanage_path and vboxmanage_timeout to
// the driver; the next VBoxManage command uses them.
func (d *instance) reconfigureDriver(cfg *config.Config) error {
	path, err := config.FindVBoxManage(cfg.VBoxManagePath)
	if err != nil {
		return err
	}
	if err := d.drv.Reconfigure(path, cfg.VBoxManageTimeoutDuration()); err != nil {
		return err
	}
	d.log.WithField("path", path).WithField("timeout", cfg.VBoxManageTimeoutDuration()).Info("VBoxManage settings changed")
	return nil
}
