package rpc

// Fixture is unhex, for the tests of package rpc_test.
var Fixture = unhex
