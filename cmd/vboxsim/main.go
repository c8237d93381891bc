// Command vboxsim is a VBoxManage simulator for tests, demos and benchmarks.
// Installed (linked or copied) under the name VBoxManage it behaves like
// VirtualBox's VBoxManage; run as vboxsim it also offers the admin commands
// seed, log, reset and set-state. See docs/simulator.md.
package main

import (
	"os"

	"github.com/virtvboxd/virtvboxd/internal/vboxsim"
)

func main() {
	os.Exit(vboxsim.Main(os.Args, os.Stdout, os.Stderr))
}
