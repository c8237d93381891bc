package daemon

import (
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

// SignalHandlers are the daemon's reactions to signals. Each runs in the one
// signal goroutine, so two reloads never overlap. Nil handlers are skipped.
type SignalHandlers struct {
	Stop   func(os.Signal) // SIGTERM, SIGINT, SIGQUIT; may be called again on a second signal
	Reload func()          // SIGHUP
	Dump   func([]byte)    // SIGUSR1, with every goroutine's stack
}

// HandleSignals installs the handlers and ignores SIGPIPE. Call it first,
// before any slow setup, so a signal during startup is never lost to the
// default action. The returned function uninstalls them and waits for the
// signal goroutine to finish its current handler.
func HandleSignals(h SignalHandlers) (stop func()) {
	signal.Ignore(syscall.SIGPIPE)
	ch := make(chan os.Signal, 8)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP, syscall.SIGUSR1)
	quit := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-quit:
				return
			case sig := <-ch:
				switch sig {
				case syscall.SIGHUP:
					if h.Reload != nil {
						h.Reload()
					}
				case syscall.SIGUSR1:
					if h.Dump != nil {
						h.Dump(Stacks())
					}
				default:
					if h.Stop != nil {
						h.Stop(sig)
					}
				}
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(quit)
		<-done
	}
}

// Stacks returns the stacks of every goroutine, as a panic would print them.
func Stacks() []byte {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return buf[:n]
		}
		if len(buf) >= 64<<20 {
			return buf
		}
		buf = make([]byte, 2*len(buf))
	}
}
