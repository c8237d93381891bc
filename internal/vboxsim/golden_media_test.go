package vboxsim

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The media outputs the storage driver reads: `list -l hdds` (reference
// §1.8's -l lines), clonemedium's report (§4.8) and modifymedium's refusal to
// shrink. These samples are [S], composed from VirtualBox's format strings.

func mediaState(t *testing.T, version string) (Env, string) {
	t.Helper()
	env := testEnv(t, version)
	dir := filepath.Join(env.Home, "VirtualBox VMs", "web01")
	os.MkdirAll(dir, 0o755)
	path := filepath.Join(dir, "web01.vdi")
	if err := writeImage(path, "VDI", 20480); err != nil {
		t.Fatal(err)
	}
	putState(t, env, []*Medium{{UUID: "3bc0a6b4-6e0f-4f5f-8d2e-6a2f3c3a9e11", Kind: "hdd", Location: path, Format: "VDI", SizeMB: 20480, Type: "normal"}})
	return env, path
}

func TestGoldenListLongHDDs(t *testing.T) {
	for _, v := range []string{"6.1", "7.0", "7.1"} {
		t.Run(v, func(t *testing.T) {
			env, path := mediaState(t, v)
			out, _ := run(t, env, 0, "list", "-l", "hdds")
			diffText(t, out, strings.Replace(golden(t, "list-l-hdds.txt"), "/home/ci/VirtualBox VMs/web01/web01.vdi", path, 1))
		})
	}
}

var reUUID = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

func TestGoldenCloneMedium(t *testing.T) {
	env, path := mediaState(t, "7.0")
	dst := filepath.Join(filepath.Dir(path), "copy.vmdk")
	out, errOut := run(t, env, 0, "clonemedium", "disk", path, dst, "--format", "VMDK")
	want := golden(t, "clonemedium.txt")
	diffText(t, reUUID.ReplaceAllString(out, "U"), reUUID.ReplaceAllString(want, "U"))
	if !strings.HasPrefix(errOut, "0%...") {
		t.Errorf("no progress on stderr: %q", errOut)
	}
	info, _ := run(t, env, 0, "showmediuminfo", dst)
	for _, l := range []string{"Storage format: VMDK", "Capacity:       20480 MBytes", "Location:       " + dst} {
		if !strings.Contains(info, l+"\n") {
			t.Errorf("clone's showmediuminfo lacks %q:\n%s", l, info)
		}
	}
	_, errOut = run(t, env, 1, "clonemedium", path, dst)
	if !strings.Contains(errOut, "because a hard disk") {
		t.Errorf("clone onto an existing file: %q", errOut)
	}
}

func TestGoldenModifyMedium(t *testing.T) {
	env, path := mediaState(t, "6.1")
	_, errOut := run(t, env, 1, "modifymedium", "disk", path, "--resizebyte", "1048576")
	want := strings.Replace(golden(t, "error-modifymedium-shrink-61.txt"), "/home/ci/VirtualBox VMs/web01/web01.vdi", path, 1)
	diffText(t, maskLines(errOut), maskLines(want))
	run(t, env, 0, "modifymedium", "disk", path, "--resizebyte", "30000000000")
	info, _ := run(t, env, 0, "showmediuminfo", "disk", path)
	if !strings.Contains(info, "Capacity:       28611 MBytes\n") {
		t.Errorf("after --resizebyte 30000000000:\n%s", info)
	}
	env70, path70 := mediaState(t, "7.0")
	_, errOut = run(t, env70, 1, "modifymedium", path70, "--resize", "1")
	if !strings.HasPrefix(errOut, "0%...\nVBOX_E_NOT_SUPPORTED\n") {
		t.Errorf("7.0 progress failure line: %q", errOut)
	}
}
