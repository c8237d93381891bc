// Command virtvboxd is libvirt's VirtualBox management daemon: it serves the
// libvirt RPC protocol on UNIX sockets so that the stock virsh, virt-admin
// and libvirt client libraries manage VirtualBox virtual machines.
//
// See docs/virtvboxd.rst (virtvboxd(8)) for the command line, files and
// signals.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/virtvboxd/virtvboxd/internal/buildinfo"
	"github.com/virtvboxd/virtvboxd/internal/daemon"
)

func main() {
	argv0 := os.Args[0]
	opts, what, err := parseArgs(argv0, os.Args[1:])
	privileged := os.Geteuid() == 0
	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		if ue, ok := err.(*usageError); ok && ue.withUsage {
			fmt.Fprint(os.Stderr, daemon.Usage(argv0, privileged))
		}
		os.Exit(1)
	case what == showHelp:
		fmt.Fprint(os.Stderr, daemon.Usage(argv0, privileged))
		os.Exit(0)
	case what == showVersion:
		fmt.Printf("%s (libvirt) %s\n", argv0, buildinfo.Version)
		os.Exit(0)
	}
	if err := run(context.Background(), opts); err != nil {
		var quiet *exitNow
		if errors.As(err, &quiet) {
			os.Exit(int(quiet.code))
		}
		fmt.Fprintf(os.Stderr, "%s: %v\n", argv0, err)
		os.Exit(int(daemon.CodeOf(err)))
	}
}
