package main

import "github.com/virtvboxd/virtvboxd/internal/rpc"

// registerAdmin registers the admin program on srv, backed by d.
//
// Interim: internal/rpc's admin program is being written; until it lands the
// admin socket accepts connections (they count for --timeout) but serves no
// program.
func registerAdmin(srv *rpc.Server, d *instance) {}
