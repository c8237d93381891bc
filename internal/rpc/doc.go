// Package rpc is virtvboxd's libvirt RPC server: the wire framing of
// src/rpc/virnetprotocol.x, the REMOTE, ADMIN and KEEPALIVE programs, the
// worker pool and client limits of libvirt's virnetserver, the read-only rule
// and the one mapping from errdefs classes to libvirt errors.
//
// Stock clients (virsh, virt-admin, python3-libvirt, go-libvirt) talk to it
// unmodified. The hypervisor is reached through driver.Driver and driver.Conn (internal/driver),
// which carry plain Go values; nothing outside this package sees XDR.
package rpc

//go:generate go run ./internal/genfacts
