package rpctest_test

import (
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/virtvboxd/virtvboxd/internal/rpc/rpctest"
)

func adminURI(path string) string { return "virtvboxd:///session?socket=" + path }

// fields turns "key : value" lines into a map.
func fields(out string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(l, ":")
		if ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return m
}

func expectFields(t *testing.T, out string, want map[string]string) {
	t.Helper()
	got := fields(out)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q in:\n%s", k, got[k], v, out)
		}
	}
}

// holdClient connects a REMOTE client and keeps it until the test ends.
func holdClient(t *testing.T, path string) {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
}

func TestVirtAdmin(t *testing.T) {
	va := tool(t, "virt-admin")
	h := rpctest.NewServer(t)
	u := adminURI(h.AdminSocket)
	admin := func(args ...string) string { return mustRun(t, va, append([]string{"-c", u}, args...)...) }
	adminErr := func(args ...string) string {
		t.Helper()
		out, errOut, ok := run(t, va, append([]string{"-c", u}, args...)...)
		if ok {
			t.Fatalf("virt-admin %v succeeded: %s", args, out)
		}
		return errOut
	}

	t.Run("version", func(t *testing.T) {
		out := admin("version")
		if !strings.Contains(out, "Using library: libvirt 9.0.0") || !strings.Contains(out, "Running against daemon: 9.0.0") {
			t.Errorf("version:\n%s", out)
		}
	})
	t.Run("srv-list", func(t *testing.T) {
		out := admin("srv-list")
		if !regexp.MustCompile(`(?m)^ 0 +admin$`).MatchString(out) || !regexp.MustCompile(`(?m)^ 1 +virtvboxd$`).MatchString(out) {
			t.Errorf("srv-list:\n%s", out)
		}
	})
	t.Run("srv-threadpool-info", func(t *testing.T) {
		expectFields(t, admin("srv-threadpool-info", "virtvboxd"), map[string]string{"minWorkers": "5",
			"maxWorkers": "20", "nWorkers": "5", "freeWorkers": "5", "prioWorkers": "5", "jobQueueDepth": "0"})
		// The admin server is busy serving this very call (and the worker
		// that answered the previous one may not be idle again yet).
		out := admin("srv-threadpool-info", "admin")
		expectFields(t, out, map[string]string{"minWorkers": "5", "maxWorkers": "20", "nWorkers": "5",
			"prioWorkers": "0", "jobQueueDepth": "0"})
		if free := fields(out)["freeWorkers"]; free != "4" && free != "3" {
			t.Errorf("admin freeWorkers = %s", free)
		}
		if e := adminErr("srv-threadpool-info", "nosuch"); !strings.Contains(e, "Server not found: No server named 'nosuch'") {
			t.Errorf("unknown server: %s", e)
		}
	})
	t.Run("srv-threadpool-set", func(t *testing.T) {
		admin("srv-threadpool-set", "virtvboxd", "--min-workers", "2", "--max-workers", "10", "--priority-workers", "3")
		expectFields(t, admin("srv-threadpool-info", "virtvboxd"), map[string]string{"minWorkers": "2",
			"maxWorkers": "10", "prioWorkers": "3"})
		if cfg := h.Server.Config(); cfg.MinWorkers != 2 || cfg.MaxWorkers != 10 || cfg.PrioWorkers != 3 {
			t.Errorf("server config = %+v", cfg)
		}
		if e := adminErr("srv-threadpool-set", "virtvboxd", "--min-workers", "30"); !strings.Contains(e,
			"invalid argument: minWorkers cannot be larger than maxWorkers") {
			t.Errorf("min > max: %s", e)
		}
		// Issue 9: 50 million workers took the daemon down (out of memory).
		if e := adminErr("srv-threadpool-set", "virtvboxd", "--min-workers", "50000000", "--max-workers", "50000000"); !strings.Contains(e,
			"invalid argument: maxWorkers 50000000 must not be larger than 4096") {
			t.Errorf("50000000 workers: %s", e)
		}
		if e := adminErr("srv-threadpool-set", "admin", "--priority-workers", "4097"); !strings.Contains(e,
			"invalid argument: prioWorkers 4097 must not be larger than 4096") {
			t.Errorf("4097 priority workers: %s", e)
		}
		expectFields(t, admin("srv-threadpool-info", "virtvboxd"), map[string]string{"minWorkers": "2",
			"maxWorkers": "10", "prioWorkers": "3"})
	})
	t.Run("srv-clients", func(t *testing.T) {
		holdClient(t, h.Socket)
		waitFor(t, func() bool { return h.Server.NumClients() == 1 })
		out := admin("srv-clients-list", "virtvboxd")
		if !regexp.MustCompile(`(?m)^ 1 +unix +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d{4}$`).MatchString(out) {
			t.Errorf("srv-clients-list:\n%s", out)
		}
		expectFields(t, admin("srv-clients-info", "virtvboxd"), map[string]string{"nclients_max": "5000",
			"nclients": "1", "nclients_unauth_max": "20", "nclients_unauth": "0"})
		expectFields(t, admin("srv-clients-info", "admin"), map[string]string{"nclients_max": "5000",
			"nclients": "1", "nclients_unauth_max": "0"})
		admin("srv-clients-set", "virtvboxd", "--max-clients", "100", "--max-unauth-clients", "10")
		expectFields(t, admin("srv-clients-info", "virtvboxd"), map[string]string{"nclients_max": "100",
			"nclients_unauth_max": "10"})
		if e := adminErr("srv-clients-set", "virtvboxd", "--max-clients", "5", "--max-unauth-clients", "10"); e == "" {
			t.Error("max-clients < max-unauth-clients accepted")
		}

		info := admin("client-info", "virtvboxd", "1")
		expectFields(t, info, map[string]string{"id": "1", "transport": "unix", "readonly": "no",
			"unix_user_id": "0", "unix_user_name": "root", "unix_group_id": "0"})
		if !regexp.MustCompile(`unix_process_id: \d+`).MatchString(info) {
			t.Errorf("client-info:\n%s", info)
		}
		if e := adminErr("client-info", "virtvboxd", "9999"); !strings.Contains(e,
			"Client not found: No client with matching ID '9999'") {
			t.Errorf("unknown client: %s", e)
		}
		if out := admin("client-disconnect", "virtvboxd", "1"); !strings.Contains(out, "Client '1' disconnected") {
			t.Errorf("client-disconnect: %s", out)
		}
		waitFor(t, func() bool { return h.Server.NumClients() == 0 })
	})
	t.Run("daemon-log", func(t *testing.T) {
		if out := admin("daemon-log-outputs"); strings.TrimSpace(out) != "Logging outputs: 3:stderr" {
			t.Errorf("outputs: %q", out)
		}
		admin("daemon-log-outputs", "1:file:/tmp/vvd-test.log")
		if out := admin("daemon-log-outputs"); strings.TrimSpace(out) != "Logging outputs: 1:file:/tmp/vvd-test.log" {
			t.Errorf("outputs after set: %q", out)
		}
		if out := admin("daemon-log-filters"); strings.TrimSpace(out) != "Logging filters:" {
			t.Errorf("filters: %q", out)
		}
		admin("daemon-log-filters", "1:rpc 3:util")
		if out := admin("daemon-log-filters"); strings.TrimSpace(out) != "Logging filters: 1:*rpc* 3:*util*" {
			t.Errorf("filters after set: %q", out)
		}
		admin("daemon-log-filters", "")
		if out := admin("daemon-log-filters"); strings.TrimSpace(out) != "Logging filters:" {
			t.Errorf("filters after clear: %q", out)
		}
	})
	t.Run("daemon-timeout", func(t *testing.T) {
		admin("daemon-timeout", "--timeout", "30")
		if got := h.Backend.DaemonTimeout(); got != 30 {
			t.Errorf("timeout = %d", got)
		}
	})
	t.Run("srv-update-tls", func(t *testing.T) {
		if out := admin("srv-update-tls", "virtvboxd"); !strings.Contains(out, "update tls related files succeed") {
			t.Errorf("srv-update-tls: %s", out)
		}
	})
}

// waitFor polls cond; the deadline only guards against a hang.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
