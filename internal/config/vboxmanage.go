package config

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

// VBoxManageCandidates are the install locations FindVBoxManage tries after
// $PATH, in order.
var VBoxManageCandidates = []string{
	"/usr/bin/VBoxManage",
	"/usr/local/bin/VBoxManage",
	"/opt/VirtualBox/VBoxManage",
	"/Applications/VirtualBox.app/Contents/MacOS/VBoxManage",
}

// FindVBoxManage returns the VBoxManage executable to run. cfgPath is
// vboxmanage_path: when set it is used as given (a bare name is looked up on
// $PATH) and must be an executable file. When it is empty, VBoxManage is
// looked up on $PATH, then in VBoxManageCandidates. The error says where it
// looked.
func FindVBoxManage(cfgPath string) (string, error) {
	return findVBoxManage(cfgPath, exec.LookPath, VBoxManageCandidates)
}

func findVBoxManage(cfgPath string, lookPath func(string) (string, error), candidates []string) (string, error) {
	if cfgPath != "" {
		if !strings.ContainsRune(cfgPath, filepath.Separator) {
			p, err := lookPath(cfgPath)
			if err != nil {
				return "", fmt.Errorf("vboxmanage_path '%s': not found on PATH", cfgPath)
			}
			return p, nil
		}
		if err := checkExecutable(cfgPath); err != nil {
			return "", fmt.Errorf("vboxmanage_path '%s': %w", cfgPath, err)
		}
		return cfgPath, nil
	}
	if p, err := lookPath("VBoxManage"); err == nil {
		return p, nil
	}
	for _, p := range candidates {
		if checkExecutable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("VBoxManage not found on PATH nor in %s: install VirtualBox or set vboxmanage_path",
		strings.Join(candidates, ", "))
}

func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("%s", errdefs.Strerror(err))
	}
	if fi.IsDir() {
		return fmt.Errorf("is a directory")
	}
	if fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("not executable")
	}
	return nil
}
