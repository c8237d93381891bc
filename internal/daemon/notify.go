package daemon

import (
	"fmt"

	sddaemon "github.com/coreos/go-systemd/v22/daemon"
)

// Notifier sends service state changes to systemd through $NOTIFY_SOCKET. It
// does nothing when the variable is unset (the daemon was not started by a
// Type=notify unit).
type Notifier struct{}

func (Notifier) send(state string) error {
	if _, err := sddaemon.SdNotify(false, state); err != nil {
		return fmt.Errorf("sd_notify %q: %w", state, err)
	}
	return nil
}

// Ready says that the sockets listen and the daemon serves clients.
func (n Notifier) Ready() error { return n.send(sddaemon.SdNotifyReady) }

// Reloading says that a configuration reload has started; Ready ends it.
// MONOTONIC_USEC lets systemd match the reload to its own request
// (Type=notify-reload requires it; Type=notify accepts it).
func (n Notifier) Reloading() error {
	return n.send(sddaemon.SdNotifyReloading + "\n" + sddaemon.SdNotifyMonotonicUsec())
}

// Stopping says that the daemon has begun to shut down.
func (n Notifier) Stopping() error { return n.send(sddaemon.SdNotifyStopping) }
