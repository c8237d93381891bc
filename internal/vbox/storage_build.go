package vbox

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"

	"github.com/virtvboxd/virtvboxd/internal/driver"
	"github.com/virtvboxd/virtvboxd/internal/errdefs"
	"github.com/virtvboxd/virtvboxd/internal/vbox/poolxml"
)

// A dir pool's directory: pool-define accepts a target that does not exist
// yet, pool-build creates it, pool-start needs it, pool-delete removes it
// (empty) again, as libvirt 9.0's dir backend does (docs/storage.md).

// libvirt's build flags (virStoragePoolBuildFlags, virStoragePoolCreateFlags).
const (
	buildOverwrite   = 1 << 2
	buildNoOverwrite = 1 << 3

	createWithBuild            = 1 << 0
	createWithBuildOverwrite   = 1 << 1
	createWithBuildNoOverwrite = 1 << 2
)

// defaultPoolMode is the mode pool-build gives a new directory when the
// pool XML names none (libvirt's VIR_STORAGE_DEFAULT_POOL_PERM_MODE).
const defaultPoolMode = 0o711

// checkBuildFlags checks virStoragePoolBuild's flags. libvirt's dir backend
// creates the directory and then, for either flag, tries to format the
// pool's source device, which a dir pool has none of; here the same error
// comes before anything is created.
func checkBuildFlags(name string, flags uint32, over, noOver uint32, overName, noOverName, fn string) error {
	if flags&^(over|noOver) != 0 {
		return unsupportedFlags(flags, fn)
	}
	if flags&over != 0 && flags&noOver != 0 {
		return errdefs.Newf(errdefs.ErrInvalidArg, "Flags '%s' and '%s' are mutually exclusive", overName, noOverName)
	}
	if flags != 0 {
		return errdefs.Newf(errdefs.ErrOperationInvalid, "No source device specified when formatting pool '%s'", name)
	}
	return nil
}

// checkCreateFlags checks virStoragePoolCreate(XML)'s flags and says
// whether the pool is to be built first.
func checkCreateFlags(name string, flags uint32, fn string) (build bool, err error) {
	if flags&^(createWithBuild|createWithBuildOverwrite|createWithBuildNoOverwrite) != 0 {
		return false, unsupportedFlags(flags, fn)
	}
	err = checkBuildFlags(name, flags&^createWithBuild, createWithBuildOverwrite, createWithBuildNoOverwrite,
		"VIR_STORAGE_POOL_CREATE_WITH_BUILD_OVERWRITE", "VIR_STORAGE_POOL_CREATE_WITH_BUILD_NO_OVERWRITE", fn)
	return flags&createWithBuild != 0, err
}

// buildDir creates a dir pool's directory, its parents with the default
// mode, and gives it the pool's permissions: libvirt's
// virStorageBackendBuildLocal. An existing directory only gets the
// permissions the pool names.
func buildDir(target string, perms *poolxml.Perms) error {
	pm := poolxml.NoPerms
	if perms != nil {
		pm = *perms
	}
	if parent := filepath.Dir(target); parent != target {
		if err := os.MkdirAll(parent, 0o777); err != nil {
			return errdefs.Newf(errdefs.ErrSystem, "cannot create path '%s': %s", parent, errText(err))
		}
	}
	mode := pm.Mode
	created := false
	switch err := os.Mkdir(target, 0o700); {
	case err == nil:
		created = true
		if mode < 0 {
			mode = defaultPoolMode
		}
	case !errors.Is(err, os.ErrExist):
		return errdefs.Newf(errdefs.ErrSystem, "failed to create directory '%s': %s", target, errText(err))
	}
	fail := func(err error) error {
		if created {
			os.Remove(target)
		}
		return err
	}
	fi, err := os.Stat(target)
	if err != nil {
		return fail(errdefs.Newf(errdefs.ErrSystem, "stat of '%s' failed: %s", target, errText(err)))
	}
	if !fi.IsDir() {
		return fail(errdefs.Newf(errdefs.ErrSystem, "failed to create directory '%s': File exists", target))
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && (pm.Owner >= 0 && uint32(pm.Owner) != st.Uid || pm.Group >= 0 && uint32(pm.Group) != st.Gid) {
		if err := os.Chown(target, pm.Owner, pm.Group); err != nil {
			return fail(errdefs.Newf(errdefs.ErrSystem, "cannot chown '%s' to (%d, %d): %s", target, pm.Owner, pm.Group, errText(err)))
		}
	}
	if mode >= 0 {
		if err := os.Chmod(target, os.FileMode(mode)); err != nil {
			return fail(errdefs.Newf(errdefs.ErrSystem, "cannot set mode of '%s' to %04o: %s", target, mode, errText(err)))
		}
	}
	return nil
}

// StoragePoolBuild implements driver.Conn: create an inactive dir pool's
// directory (virsh pool-build).
func (c *conn) StoragePoolBuild(ctx context.Context, pool driver.StoragePool, flags uint32) error {
	if err := checkBuildFlags(pool.Name, flags, buildOverwrite, buildNoOverwrite,
		"VIR_STORAGE_POOL_BUILD_OVERWRITE", "VIR_STORAGE_POOL_BUILD_NO_OVERWRITE", "virStoragePoolBuild"); err != nil {
		return err
	}
	return c.d.inactivePool(ctx, pool.Name, "built", func(p *poolDef) error {
		if p.Active {
			return errdefs.Newf(errdefs.ErrOperationInvalid, "storage pool '%s' is already active", p.Name)
		}
		return buildDir(p.Target, p.Perms)
	})
}

// StoragePoolDelete implements driver.Conn: remove an inactive dir pool's
// directory, which must be empty (libvirt rmdirs it; virsh pool-delete).
func (c *conn) StoragePoolDelete(ctx context.Context, pool driver.StoragePool, flags uint32) error {
	return c.d.inactivePool(ctx, pool.Name, "deleted", func(p *poolDef) error {
		if p.Active {
			return errdefs.Newf(errdefs.ErrOperationInvalid, "storage pool '%s' is still active", p.Name)
		}
		if flags != 0 {
			return unsupportedFlags(flags, "virStorageBackendDeleteLocal")
		}
		if err := syscall.Rmdir(p.Target); err != nil {
			return errdefs.Newf(errdefs.ErrSystem, "failed to remove pool '%s': %s", p.Target, errText(err))
		}
		return nil
	})
}

// inactivePool runs fn on a dir pool's definition under the pool lock,
// without saving it (build and delete change the directory, not the
// definition); the registry pool refuses with what.
func (d *Driver) inactivePool(ctx context.Context, name, what string, fn func(p *poolDef) error) error {
	if name == defaultPoolName {
		return errdefs.Newf(errdefs.ErrOperationInvalid,
			"storage pool '%s' is VirtualBox's media registry: it cannot be %s", defaultPoolName, what)
	}
	s, err := d.lockPools(ctx)
	if err != nil {
		return err
	}
	defer s.mu.Unlock()
	p := s.findLocked(name)
	if p == nil {
		return errdefs.Newf(errdefs.ErrNoStoragePool, "no storage pool with matching name '%s'", name)
	}
	return fn(p)
}
