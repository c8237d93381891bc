// Package buildinfo holds the values fixed when the binaries are built. The
// Makefile sets them with -ldflags "-X ..."; the defaults suit `go build` and
// `go test` in a checkout.
package buildinfo

// Name is the daemon's name: it names the configuration file, the sockets
// and their systemd units, the pid file, the default log file and the main
// RPC server.
const Name = "virtvboxd"

// Version is virtvboxd's own version, printed by --version.
var Version = "0.1.0"

// LibVersion is the libvirt API level we speak, returned by
// CONNECT_GET_LIB_VERSION and the admin program (major*1e6+minor*1e3+micro).
const LibVersion uint64 = 9000000

// SysconfDir is the system configuration directory (root's config lives in
// SysconfDir/libvirt/virtvboxd.conf).
var SysconfDir = "/etc"

// RunstateDir is the system run-state directory (root's sockets live in
// RunstateDir/libvirt, its pid file is RunstateDir/virtvboxd.pid).
var RunstateDir = "/run"

// LocalStateDir is the system state directory (root's default log file is
// LocalStateDir/log/libvirt/virtvboxd.log).
var LocalStateDir = "/var"
