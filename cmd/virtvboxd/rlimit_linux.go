package main

import (
	"syscall"

	"github.com/sirupsen/logrus"
)

// raiseFDLimit raises the soft limit on open files to the hard limit, so
// that many clients exhaust descriptors as late as the administrator allows
// (the Go runtime does it too; this makes it explicit and logged), and logs
// the limit in force: at it, accepts fail with EMFILE and the servers back
// off instead of stopping.
func raiseFDLimit(log *logrus.Entry) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		log.WithError(err).Warn("reading the open files limit")
		return
	}
	if lim.Cur < lim.Max {
		old := lim.Cur
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			log.WithError(err).Warnf("raising the open files limit from %d to %d", old, lim.Max)
			return
		}
	}
	log.WithField("nofile", lim.Cur).Infof("Open files limit: %d (RLIMIT_NOFILE raised to its hard limit)", lim.Cur)
}
