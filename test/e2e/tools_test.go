package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// domxmlTestdata holds the documents real tools write, shared with the
// domxml unit tests.
const domxmlTestdata = "../../internal/vbox/domxml/testdata"

// TestRealTools drives virt-install, virt-xml and Ansible's
// community.libvirt.virt against one daemon, with the XML they write by
// themselves, and checks the simulated VirtualBox after each.
func TestRealTools(t *testing.T) {
	virtInstall := requireTool(t, "virt-install")
	virtXML := requireTool(t, "virt-xml")
	playbook := requireTool(t, "ansible-playbook")
	requirePythonModule(t, "lxml", "python3-lxml")
	requirePythonLibvirt(t)
	d := startDaemon(t, withConfig("log_level = 2"))
	d.Sim.Seed(t, 12, 3)
	home := t.TempDir()
	files := t.TempDir() // disk images of the machines: they outlive the subtests
	tool := func(t *testing.T, prog string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, prog, args...)
		cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "HOME="+home, "XDG_CACHE_HOME="+filepath.Join(home, "cache"),
			"XDG_CONFIG_HOME="+filepath.Join(home, "config"), "ANSIBLE_LOCAL_TEMP="+filepath.Join(home, "ansible-tmp"),
			"ANSIBLE_STDOUT_CALLBACK=json", "ANSIBLE_LOCALHOST_WARNING=false", "ANSIBLE_INVENTORY_UNPARSED_WARNING=false")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s %s: %v\nstdout: %s\nstderr: %s", filepath.Base(prog), strings.Join(args, " "), err, out.String(), errb.String())
		}
		return out.String()
	}
	vm := func(t *testing.T, name string) map[string]string {
		t.Helper()
		return machineReadable(d.Sim.mustVBoxManage(t, "showvminfo", name, "--machinereadable"))
	}
	expect := func(t *testing.T, what string, got map[string]string, want map[string]string) {
		t.Helper()
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", what, k, got[k], v)
			}
		}
	}

	t.Run("virt-install import", func(t *testing.T) {
		// virt-install's own default XML: libosinfo <metadata>, a pty
		// console, an e1000 on network 'default', vnc, vga.
		tool(t, virtInstall, "--connect", d.URI(), "--name", "vi", "--memory", "512", "--osinfo", "debian11",
			"--import", "--disk", "none", "--noautoconsole")
		expect(t, "vi", vm(t, "vi"), map[string]string{"memory": "512", "cpus": "2", "nic1": "nat", "nictype1": "82540EM",
			"VMState": "running", "vrde": "on", "graphicscontroller": "vboxvga", "hidpointing": "usbtablet", "usb": "on"})
		xml := d.mustVirsh(t, "dumpxml", "vi")
		contains(t, "dumpxml vi", xml, "<libosinfo:os id='http://debian.org/debian/11'/>", "<model type='82540em'/>")
		logs, err := os.ReadFile(d.Log)
		if err != nil {
			t.Fatal(err)
		}
		contains(t, "daemon log", string(logs), "ignored <console> (domain/devices/console)", "vnc graphics taken as the VRDE remote display")
	})

	t.Run("virt-xml memory", func(t *testing.T) {
		d.mustVirsh(t, "destroy", "vi")
		tool(t, virtXML, "--connect", d.URI(), "vi", "--edit", "--memory", "1024")
		expect(t, "after --memory 1024", vm(t, "vi"), map[string]string{"memory": "1024", "GuestMemoryBalloon": "0"})
		// Below <memory>, currentMemory is VirtualBox's balloon.
		tool(t, virtXML, "--connect", d.URI(), "vi", "--edit", "--memory", "768")
		expect(t, "after --memory 768", vm(t, "vi"), map[string]string{"memory": "1024", "GuestMemoryBalloon": "256"})
		contains(t, "dumpxml vi", d.mustVirsh(t, "dumpxml", "vi"), "<currentMemory unit='KiB'>786432</currentMemory>")
	})

	t.Run("ansible define", func(t *testing.T) {
		dir := files
		for _, f := range []string{"web01.vdi", "debian-12.iso"} {
			if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		// The dumpxml of libvirt's own vbox driver, with this test's files.
		doc := strings.NewReplacer("/home/ci/VirtualBox VMs/web01/web01.vdi", dir+"/web01.vdi",
			"/srv/iso/debian-12.iso", dir+"/debian-12.iso", "/srv/share", dir).
			Replace(readDomxmlTestdata(t, "libvirt-vbox-dumpxml.xml"))
		if err := os.WriteFile(filepath.Join(dir, "web01.xml"), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		play := `- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: define
      community.libvirt.virt: {command: define, xml: "{{ lookup('file', 'web01.xml') }}", uri: "{{ uri }}"}
    - name: list_vms
      community.libvirt.virt: {command: list_vms, uri: "{{ uri }}"}
    - name: status
      community.libvirt.virt: {command: status, name: web01, uri: "{{ uri }}"}
`
		if err := os.WriteFile(filepath.Join(dir, "play.yml"), []byte(play), 0o644); err != nil {
			t.Fatal(err)
		}
		out := tool(t, playbook, "-i", "localhost,", "-e", "uri="+d.URI(), "-e", "ansible_python_interpreter=/usr/bin/python3",
			filepath.Join(dir, "play.yml"))
		res := ansibleResults(t, out)
		if res["define"]["created"] != "web01" || res["define"]["changed"] != true {
			t.Errorf("define: %v", res["define"])
		}
		if vms, _ := res["list_vms"]["list_vms"].([]any); !containsAny(vms, "web01") || !containsAny(vms, "vi") {
			t.Errorf("list_vms: %v", res["list_vms"])
		}
		if res["status"]["status"] != "shutdown" {
			t.Errorf("status: %v", res["status"])
		}
		expect(t, "web01", vm(t, "web01"), map[string]string{"memory": "2048", "nic1": "nat", "nictype1": "82540EM",
			"nic2": "hostonly", "hostonlyadapter2": "vboxnet0", "uartmode1": "server,/run/web01-com1",
			"lptmode1": "/dev/parport0", "boot1": "dvd", "boot2": "disk", "IDE Controller-1-0": dir + "/debian-12.iso"})
		contains(t, "dumpxml web01", d.mustVirsh(t, "dumpxml", "web01"), "<readonly/>\n    </filesystem>",
			"<graphics type='desktop' display=':0'/>")
	})

	t.Run("cdrom document", func(t *testing.T) {
		// virt-install --cdrom's install-phase document, defined with
		// virsh (virt-install itself, which now finds the ISO through
		// the storage pools, runs in storage_test.go's TestStorageTools).
		dir := files
		iso := filepath.Join(dir, "debian-11.iso")
		if err := os.WriteFile(iso, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		doc := strings.ReplaceAll(readDomxmlTestdata(t, "virt-install-cdrom.xml"), "/srv/iso/debian-11.iso", iso)
		contains(t, "the document", doc, "<on_reboot>destroy</on_reboot>")
		f := filepath.Join(dir, "t2.xml")
		if err := os.WriteFile(f, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		d.mustVirsh(t, "define", f)
		expect(t, "t2", vm(t, "t2"), map[string]string{"boot1": "dvd", "IDE Controller-0-0": iso, "nic1": "nat"})
	})

	t.Run("dumpxml | define changes nothing", func(t *testing.T) {
		uuids, names := listVMs(t, d.Sim)
		before := modifyingCalls(t, d.Sim)
		dir := t.TempDir()
		for _, u := range uuids {
			f := filepath.Join(dir, u+".xml")
			if err := os.WriteFile(f, []byte(d.mustVirsh(t, "dumpxml", "--inactive", u)), 0o644); err != nil {
				t.Fatal(err)
			}
			d.mustVirsh(t, "define", f)
			if after := modifyingCalls(t, d.Sim); len(after) != len(before) {
				t.Errorf("defining the dumpxml of %s changed it: %q", names[u], after[len(before):])
				before = after
			}
		}
		if len(uuids) < 15 {
			t.Errorf("only %d machines", len(uuids))
		}
	})
}

// requirePythonModule fails under make check (skips elsewhere) unless
// Debian's python3 can import module.
func requirePythonModule(t testing.TB, module, pkg string) {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import "+module).Run(); err == nil {
		return
	}
	if os.Getenv("VIRTVBOXD_E2E_REQUIRE") == "1" {
		t.Fatalf("/usr/bin/python3 cannot import %s (apt-get install %s)", module, pkg)
	}
	t.Skipf("%s not installed", pkg)
}

func readDomxmlTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(domxmlTestdata, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// machineReadable reads showvminfo --machinereadable into a map (first
// value of each key, quotes removed).
func machineReadable(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k, v = strings.Trim(k, `"`), strings.Trim(v, `"`)
		if _, dup := m[k]; !dup {
			m[k] = v
		}
	}
	return m
}

// ansibleResults maps task name to the result of the json stdout callback.
func ansibleResults(t testing.TB, out string) map[string]map[string]any {
	t.Helper()
	var doc struct {
		Plays []struct {
			Tasks []struct {
				Task  struct{ Name string }
				Hosts map[string]map[string]any
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("ansible-playbook output: %v\n%s", err, out)
	}
	res := map[string]map[string]any{}
	for _, p := range doc.Plays {
		for _, task := range p.Tasks {
			res[task.Task.Name] = task.Hosts["localhost"]
		}
	}
	return res
}

func containsAny(list []any, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// modifyingCalls lists the simulator's logged VBoxManage calls that change
// a machine (anything but listings and reads).
func modifyingCalls(t testing.TB, s *sim) []string {
	t.Helper()
	cmd := exec.Command(filepath.Join(binDir, "vboxsim"), "log")
	cmd.Env = append(os.Environ(), s.Env()...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("vboxsim log: %v", err)
	}
	var calls []string
	for _, line := range strings.Split(string(out), "\n") {
		_, argv, ok := strings.Cut(line, " argv=[")
		if !ok {
			continue
		}
		first, _, _ := strings.Cut(argv, ",")
		switch strings.Trim(first, `"]`) {
		case "list", "showvminfo", "getextradata", "--version", "showmediuminfo":
			continue
		}
		calls = append(calls, argv)
	}
	return calls
}
