package vbox

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// A dir pool over a directory that does not exist: define succeeds, start
// fails as libvirt's does, build creates the directory with the pool's
// mode, start then works, and delete removes the directory only when the
// pool is inactive and the directory empty.
func TestStoragePoolBuildAndDelete(t *testing.T) {
	s := newSim(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "a", "b", "img")
	doc := "<pool type='dir'><name>img</name><target><path>" + dir +
		"</path><permissions><mode>0750</mode></permissions></target></pool>"
	p, err := s.conn.StoragePoolDefineXML(ctx, doc, 0)
	if err != nil {
		t.Fatalf("define over a missing directory: %v", err)
	}
	if fileExists(dir) {
		t.Fatal("define created the directory")
	}
	wantErr := func(what string, err error, class error, text string) {
		t.Helper()
		if !errors.Is(err, class) || !strings.Contains(err.Error(), text) {
			t.Errorf("%s: %v, want %v with %q", what, err, class, text)
		}
	}
	wantErr("start before build", s.conn.StoragePoolCreate(ctx, p, 0), errdefs.ErrSystem,
		"cannot open directory '"+dir+"': No such file or directory")
	wantErr("build both flags", s.conn.StoragePoolBuild(ctx, p, buildOverwrite|buildNoOverwrite), errdefs.ErrInvalidArg, "mutually exclusive")
	wantErr("build --overwrite", s.conn.StoragePoolBuild(ctx, p, buildOverwrite), errdefs.ErrOperationInvalid, "No source device specified")
	wantErr("build bad flag", s.conn.StoragePoolBuild(ctx, p, 1<<9), errdefs.ErrInvalidArg, "unsupported flags")
	wantErr("delete missing", s.conn.StoragePoolDelete(ctx, p, 0), errdefs.ErrSystem, "No such file or directory")
	wantErr("build registry", s.conn.StoragePoolBuild(ctx, driver.StoragePool{Name: defaultPoolName}, 0), errdefs.ErrOperationInvalid, "media registry")
	if fileExists(filepath.Dir(dir)) {
		t.Fatal("refused calls created directories")
	}

	s.runner.reset()
	if err := s.conn.StoragePoolBuild(ctx, p, 0); err != nil {
		t.Fatal(err)
	}
	if n := s.runner.reset(); n != 0 {
		t.Errorf("build ran %d VBoxManage commands, want 0: %q", n, s.runner.cmds)
	}
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o750 {
		t.Fatalf("built directory: %v, %v", fi, err)
	}
	if err := s.conn.StoragePoolBuild(ctx, p, 0); err != nil { // an existing directory is fine
		t.Errorf("second build: %v", err)
	}
	if err := s.conn.StoragePoolCreate(ctx, p, 0); err != nil {
		t.Fatalf("start after build: %v", err)
	}
	wantErr("build active", s.conn.StoragePoolBuild(ctx, p, 0), errdefs.ErrOperationInvalid, "is already active")
	wantErr("delete active", s.conn.StoragePoolDelete(ctx, p, 0), errdefs.ErrOperationInvalid, "is still active")
	if err := s.conn.StoragePoolDestroy(ctx, p); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "keep.iso")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	wantErr("delete non-empty", s.conn.StoragePoolDelete(ctx, p, 0), errdefs.ErrSystem,
		"failed to remove pool '"+dir+"': Directory not empty")
	wantErr("delete flags", s.conn.StoragePoolDelete(ctx, p, 1), errdefs.ErrInvalidArg, "unsupported flags")
	if !fileExists(file) {
		t.Fatal("a refused delete removed a file")
	}
	os.Remove(file)
	if err := s.conn.StoragePoolDelete(ctx, p, 0); err != nil {
		t.Fatal(err)
	}
	if fileExists(dir) {
		t.Error("pool-delete left the directory")
	}
	if active, err := s.conn.StoragePoolIsActive(ctx, p); err != nil || active {
		t.Errorf("after delete: active %v, %v", active, err)
	}

	_, err = s.conn.StoragePoolCreateXML(ctx, poolDoc("tmp", filepath.Join(filepath.Dir(dir), "tmp")), 0)
	wantErr("create over a missing directory", err, errdefs.ErrSystem, "No such file or directory")
	// Start with VIR_STORAGE_POOL_CREATE_WITH_BUILD builds first; a new
	// directory without a mode gets libvirt's 0711.
	q, err := s.conn.StoragePoolCreateXML(ctx, poolDoc("tmp", filepath.Join(filepath.Dir(dir), "tmp")), createWithBuild)
	if err != nil {
		t.Fatalf("pool-create --build: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(filepath.Dir(dir), "tmp")); err != nil || fi.Mode().Perm() != defaultPoolMode {
		t.Errorf("pool-create --build: %v, %v", fi, err)
	}
	if err := s.conn.StoragePoolDestroy(ctx, q); err != nil {
		t.Fatal(err)
	}
	if err := s.conn.StoragePoolCreate(ctx, p, createWithBuild); err != nil {
		t.Fatalf("pool-start --build: %v", err)
	}
	if !fileExists(dir) {
		t.Error("pool-start --build did not build")
	}
}

// pool-create-as --build with --overwrite or --no-overwrite is refused as
// libvirt's dir backend refuses it, before anything is created.
func TestStoragePoolCreateXMLBuildFlags(t *testing.T) {
	s := newSim(t)
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "new")
	for _, c := range []struct {
		flags uint32
		class error
		text  string
	}{
		{createWithBuild | createWithBuildNoOverwrite, errdefs.ErrOperationInvalid, "No source device specified when formatting pool 'nb'"},
		{createWithBuildOverwrite | createWithBuildNoOverwrite, errdefs.ErrInvalidArg, "mutually exclusive"},
		{1 << 5, errdefs.ErrInvalidArg, "unsupported flags (0x20) in function virStoragePoolCreateXML"},
	} {
		_, err := s.conn.StoragePoolCreateXML(ctx, poolDoc("nb", dir), c.flags)
		if !errors.Is(err, c.class) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("flags %#x: %v, want %v with %q", c.flags, err, c.class, c.text)
		}
	}
	if fileExists(dir) {
		t.Error("refused pool-create --build made the directory")
	}
	if pools, err := s.conn.ListAllStoragePools(ctx, 0); err != nil || len(pools) != 1 {
		t.Errorf("pools after refusals: %v, %v", pools, err)
	}
}
