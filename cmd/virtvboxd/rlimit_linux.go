package main

import (
	"syscall"

	"github.com/sirupsen/logrus"
)

// raiseFDLimit raises the soft limit on open files to the hard limit, so
// that many clients exhaust descriptors as late as the administrator allows
// (the Go runtime does it too; this makes it explicit and logged), and logs
// the limit in force: at it, accepts fail with EMFILE and the servers back
// off instead of stopping. A limit below want (the descriptors the client
// limits may take) is logged as a warning.
func raiseFDLimit(log *logrus.Entry, want uint64) {
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
	if lim.Cur < want {
		log.WithField("nofile", lim.Cur).Warnf("Open files limit %d is below what max_clients and admin_max_clients "+
			"allow (%d): beyond it, new clients wait until others leave (raise LimitNOFILE=)", lim.Cur, want)
		return
	}
	log.WithField("nofile", lim.Cur).Infof("Open files limit: %d (RLIMIT_NOFILE raised to its hard limit)", lim.Cur)
}
