// Command vbox-smoke checks virtvboxd against the VirtualBox installed on
// this host (or, with -vboxmanage bin/vboxsim, against the simulator): it
// starts the daemon on private sockets, with VirtualBox's registry and
// machine folder in a scratch directory, runs the virsh workflow on a
// throwaway VM, writes a report of every VBoxManage call the daemon made
// (user names, home paths and host names masked) for a bug report, and
// removes everything it created, even when a step fails.
//
// Run as VBoxManage (the name of the symlink it puts in the scratch
// directory) it is the tee that records each VBoxManage call.
//
// See docs/vbox-driver.md ("Smoke test on a real VirtualBox host").
package main

import (
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	if filepath.Base(os.Args[0]) == teeName {
		os.Exit(tee(os.Args[1:]))
	}
	code, err := run(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "vbox-smoke:", err)
	}
	os.Exit(code)
}
