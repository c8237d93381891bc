package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSystemdUnits fills in the unit templates as `make install` does and
// has systemd-analyze verify them, then checks what the daemon relies on.
func TestSystemdUnits(t *testing.T) {
	analyze := needTool(t, "systemd-analyze")
	dir := t.TempDir()
	sub := strings.NewReplacer("@SBINDIR@", filepath.Dir(bin(t)), "@RUNSTATEDIR@", "/run", "@SYSCONFDIR@", "/etc")
	templates, err := filepath.Glob("../../systemd/*.in")
	if err != nil || len(templates) != 4 {
		t.Fatalf("unit templates: %v %v", templates, err)
	}
	units := map[string]string{}
	var paths []string
	for _, tpl := range templates {
		b, err := os.ReadFile(tpl)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(tpl), ".in")
		text := sub.Replace(string(b))
		if m := regexp.MustCompile(`@[A-Z]+@`).FindString(text); m != "" {
			t.Errorf("%s: placeholder %s that make install does not fill in", name, m)
		}
		units[name] = text
		p := filepath.Join(dir, name)
		writeFile(t, p, text)
		paths = append(paths, p)
	}
	cmd := exec.Command(analyze, append([]string{"verify", "--man=no"}, paths...)...)
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_LEVEL=notice")
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	svc := units["virtvboxd.service"]
	for _, want := range []string{"Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "KillMode=process",
		`Environment=VIRTVBOXD_ARGS="--timeout 120"`, "EnvironmentFile=-/etc/default/virtvboxd", "Restart=on-failure",
		"ExecStart=" + filepath.Dir(bin(t)) + "/virtvboxd $VIRTVBOXD_ARGS"} {
		if !strings.Contains(svc, want+"\n") {
			t.Errorf("virtvboxd.service lacks %q", want)
		}
	}
	for name, want := range map[string]string{
		"virtvboxd.socket":       "ListenStream=/run/libvirt/virtvboxd-sock\n",
		"virtvboxd-ro.socket":    "ListenStream=/run/libvirt/virtvboxd-sock-ro\n",
		"virtvboxd-admin.socket": "ListenStream=/run/libvirt/virtvboxd-admin-sock\n",
	} {
		// No FileDescriptorName=: systemd names each fd after its unit,
		// which is how the daemon tells them apart.
		if !strings.Contains(units[name], want) || strings.Contains(units[name], "FileDescriptorName") {
			t.Errorf("%s:\n%s", name, units[name])
		}
	}
}
