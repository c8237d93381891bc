package config

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

func TestParseMode(t *testing.T) {
	good := map[string]os.FileMode{
		"0700": 0o700, "0777": 0o777, "0": 0, "700": 0o700, "0660": 0o660,
		" 0755": 0o755, "+0700": 0o700, "01777": 0o777, // sticky bit dropped: umask(~mode) keeps 0777 only
	}
	for s, want := range good {
		got, err := ParseMode(s)
		if err != nil || got != want {
			t.Errorf("ParseMode(%q) = %o, %v; want %o", s, got, err, want)
		}
	}
	for _, s := range []string{"0999", "", "rwx", "0700 ", "0x1ff", "7-7", "99999999999999999"} {
		_, err := ParseMode(s)
		if want := "Failed to parse mode '" + s + "'"; err == nil || err.Error() != want {
			t.Errorf("ParseMode(%q) = %v, want %q", s, err, want)
		}
	}
}

func TestSocketModes(t *testing.T) {
	c := Defaults(true)
	rw, ro, admin, err := c.SocketModes()
	if err != nil || rw != 0o700 || ro != 0o777 || admin != 0o700 {
		t.Errorf("SocketModes() = %o %o %o %v", rw, ro, admin, err)
	}
	c.UnixSockRwPerms = "0999"
	if _, _, _, err := c.SocketModes(); err == nil || err.Error() != "Failed to parse mode '0999'" {
		t.Errorf("bad rw perms: %v", err)
	}
	c.UnixSockRoPerms = "x"
	if _, _, _, err := c.SocketModes(); err == nil || err.Error() != "Failed to parse mode 'x'" {
		t.Errorf("bad ro perms are reported first, as in libvirt: %v", err)
	}
	// Load does not check modes: libvirt fails on them only when it
	// creates the sockets (exit status 6).
	path := writeFile(t, `unix_sock_rw_perms = "0999"`)
	cfg, err := Load(path, true, false)
	if err != nil {
		t.Fatalf("Load rejected a bad mode at load time: %v", err)
	}
	if err := cfg.Validate(); err == nil || err.Error() != "Failed to parse mode '0999'" {
		t.Errorf("Validate() = %v", err)
	}
}

func TestCheckClientLimits(t *testing.T) {
	path := writeFile(t, "max_clients = 10\n")
	c, err := Load(path, true, false)
	if err != nil {
		t.Fatal(err)
	}
	want := "internal error: The overall maximum number of clients must not be less than the number of clients waiting for authentication"
	if err := c.CheckClientLimits(); err == nil || err.Error() != want || !errors.Is(err, errdefs.ErrInternal) {
		t.Errorf("CheckClientLimits() = %v, want %q", err, want)
	}
	c.MaxAnonymousClients = 10
	if err := c.CheckClientLimits(); err != nil {
		t.Errorf("equal limits: %v", err)
	}
	c.MaxClients, c.MaxAnonymousClients = 0, 0
	if err := c.CheckClientLimits(); err != nil {
		t.Errorf("zero limits: %v", err)
	}
	for _, c2 := range []struct {
		mib uint
		ok  bool
	}{{0, true}, {1, false}, {31, false}, {32, true}, {4096, true}} {
		c.MaxBufferMemory = c2.mib
		if err := c.CheckClientLimits(); (err == nil) != c2.ok {
			t.Errorf("max_buffer_memory = %d: %v", c2.mib, err)
		}
	}
	c.MaxBufferMemory = 256
	for _, f := range []*uint{&c.MinWorkers, &c.MaxWorkers, &c.PrioWorkers, &c.AdminMinWorkers, &c.AdminMaxWorkers} {
		old := *f
		*f = WorkersMax
		if err := c.CheckClientLimits(); err != nil {
			t.Errorf("workers at the limit: %v", err)
		}
		*f = 50000000
		if err := c.CheckClientLimits(); err == nil || !strings.Contains(err.Error(), "50000000 must not be larger than 4096") {
			t.Errorf("50000000 workers: %v", err)
		}
		*f = old
	}
}

func TestCheckAccessDrivers(t *testing.T) {
	c := Defaults(false)
	for _, ok := range [][]string{{"none"}, {}, {"none", "none"}} {
		c.AccessDrivers = ok
		if err := c.CheckAccessDrivers(); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
	c.AccessDrivers = []string{"nop"}
	if err := c.CheckAccessDrivers(); err == nil || errdefs.Detail(err) != "Cannot find security driver 'nop'" {
		t.Errorf("nop: %v", err)
	}
	c.AccessDrivers = []string{"none", "polkit"}
	err := c.CheckAccessDrivers()
	if err == nil || !errors.Is(err, errdefs.ErrConfigUnsupported) || !strings.Contains(err.Error(), "polkit") {
		t.Errorf("polkit: %v", err)
	}
}

func TestResolveHostUUID(t *testing.T) {
	dir := t.TempDir()
	old := machineIDPath
	t.Cleanup(func() { machineIDPath = old })
	machineIDPath = filepath.Join(dir, "machine-id")
	if err := os.WriteFile(machineIDPath, []byte("0123456789abcdef0123456789ABCDEF\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, uuid, source string
		want, err          string
	}{
		{name: "smbios default", source: "smbios", want: ""},
		{name: "unset source", source: "", want: ""},
		{name: "explicit", uuid: "00112233-4455-6677-8899-aabbccddeeff", source: "smbios", want: "00112233-4455-6677-8899-aabbccddeeff"},
		{name: "liberal form", uuid: " 0011 2233445566778899aabbccddeeff\n", source: "smbios", want: "00112233-4455-6677-8899-aabbccddeeff"},
		{name: "explicit wins over machine-id", uuid: "00112233-4455-6677-8899-aabbccddeeff", source: "machine-id", want: "00112233-4455-6677-8899-aabbccddeeff"},
		{name: "machine-id", source: "machine-id", want: "01234567-89ab-cdef-0123-456789abcdef"},
		{name: "all same digit", uuid: "00000000-0000-0000-0000-000000000000", source: "smbios", err: "invalid host UUID: 00000000-0000-0000-0000-000000000000"},
		{name: "all f", uuid: "ffffffffffffffffffffffffffffffff", err: "invalid host UUID: ffffffffffffffffffffffffffffffff"},
		{name: "too short", uuid: "0011", err: "invalid host UUID: 0011"},
		{name: "too long", uuid: "00112233-4455-6677-8899-aabbccddeeff00", err: "invalid host UUID: 00112233-4455-6677-8899-aabbccddeeff00"},
		{name: "not hex", uuid: "zz112233-4455-6677-8899-aabbccddeeff", err: "invalid host UUID: zz112233-4455-6677-8899-aabbccddeeff"},
		{name: "bad source", source: "foo", err: "invalid UUID source: foo"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Defaults(false)
			c.HostUUID, c.HostUUIDSource = tc.uuid, tc.source
			got, err := c.ResolveHostUUID()
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("ResolveHostUUID() = %q, %v; want error %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ResolveHostUUID() = %q, %v; want %q", got, err, tc.want)
			}
		})
	}

	machineIDPath = filepath.Join(dir, "absent")
	c := Defaults(false)
	c.HostUUIDSource = "machine-id"
	if _, err := c.ResolveHostUUID(); err == nil || !strings.HasPrefix(err.Error(), "Can't read "+machineIDPath) {
		t.Errorf("missing machine-id: %v", err)
	}
}

func TestFindVBoxManage(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "VBoxManage")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	notFound := func(string) (string, error) { return "", exec.ErrNotFound }
	onPath := func(name string) (string, error) {
		if name == "VBoxManage" {
			return "/path/bin/VBoxManage", nil
		}
		return "", exec.ErrNotFound
	}

	tests := []struct {
		name       string
		cfg        string
		look       func(string) (string, error)
		candidates []string
		want, err  string
	}{
		{name: "configured path", cfg: exe, look: onPath, want: exe},
		{name: "configured missing", cfg: filepath.Join(dir, "nope"), look: onPath,
			err: "vboxmanage_path '" + filepath.Join(dir, "nope") + "': No such file or directory"},
		{name: "configured not executable", cfg: plain, look: onPath, err: "vboxmanage_path '" + plain + "': not executable"},
		{name: "configured directory", cfg: dir, look: onPath, err: "vboxmanage_path '" + dir + "': is a directory"},
		{name: "configured bare name", cfg: "VBoxManage", look: onPath, want: "/path/bin/VBoxManage"},
		{name: "configured bare name missing", cfg: "vbm", look: onPath, err: "vboxmanage_path 'vbm': not found on PATH"},
		{name: "PATH first", look: onPath, candidates: []string{exe}, want: "/path/bin/VBoxManage"},
		{name: "then candidates in order", look: notFound, candidates: []string{filepath.Join(dir, "nope"), plain, exe}, want: exe},
		{name: "nowhere", look: notFound, candidates: []string{"/nonexistent/VBoxManage"},
			err: "VBoxManage not found on PATH nor in /nonexistent/VBoxManage: install VirtualBox or set vboxmanage_path"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := findVBoxManage(tc.cfg, tc.look, tc.candidates)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("findVBoxManage() = %q, %v; want error %q", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("findVBoxManage() = %q, %v; want %q", got, err, tc.want)
			}
		})
	}

	// The exported function looks on the real $PATH.
	t.Setenv("PATH", dir)
	if got, err := FindVBoxManage(""); err != nil || got != exe {
		t.Errorf("FindVBoxManage(\"\") with PATH=%s: %q, %v", dir, got, err)
	}
}
