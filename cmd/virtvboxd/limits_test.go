package main

import (
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/config"
	"github.com/virtvboxd/virtvboxd/internal/rpc"
)

// TestWorkerLimitsAgree: the configuration file and the admin setters
// refuse the same worker counts.
func TestWorkerLimitsAgree(t *testing.T) {
	if config.WorkersMax != rpc.WorkersMax {
		t.Fatalf("config.WorkersMax = %d, rpc.WorkersMax = %d", config.WorkersMax, rpc.WorkersMax)
	}
}
