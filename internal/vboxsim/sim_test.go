package vboxsim

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// testEnv returns an Env with a fresh state dir and no artificial delays.
func testEnv(t testing.TB, version string) Env {
	t.Helper()
	p, err := ParsePersonality(version)
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	return Env{Home: home, Personality: p, ACPIDelay: time.Hour, LockLinger: 0,
		Faults: map[string]string{}, MachineFolder: home + "/VirtualBox VMs"}
}

// run runs one command and fails the test on an unexpected exit code.
func run(t testing.TB, env Env, want int, args ...string) (string, string) {
	t.Helper()
	out, errOut, code := RunCapture(env, args...)
	if code != want {
		t.Fatalf("VBoxManage %q: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, code, want, out, errOut)
	}
	return out, errOut
}

// mrValue returns a key's raw value from showvminfo --machinereadable output.
func mrValue(t testing.TB, out, key string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, key+"="); ok {
			return v
		}
	}
	t.Fatalf("key %q not in output:\n%s", key, out)
	return ""
}

func TestLifecycle(t *testing.T) {
	env := testEnv(t, "7.0")
	out, _ := run(t, env, 0, "createvm", "--name", "web01", "--ostype", "Ubuntu_64", "--register")
	if !strings.HasPrefix(out, "Virtual machine 'web01' is created and registered.\nUUID: ") {
		t.Fatalf("createvm output:\n%s", out)
	}
	run(t, env, 0, "modifyvm", "web01", "--memory", "2048", "--cpus", "2", "--description", `say "hi"`)
	out, _ = run(t, env, 0, "showvminfo", "web01", "--machinereadable")
	for k, want := range map[string]string{"memory": "2048", "cpus": "2", "description": `"say \"hi\""`,
		"VMState": `"poweroff"`, "ostype": `"Ubuntu (64-bit)"`} {
		if got := mrValue(t, out, k); got != want {
			t.Errorf("%s=%s, want %s", k, got, want)
		}
	}
	out, _ = run(t, env, 0, "startvm", "web01", "--type", "headless")
	if out != "Waiting for VM \"web01\" to power on...\nVM \"web01\" has been successfully started.\n" {
		t.Errorf("startvm output %q", out)
	}
	out, _ = run(t, env, 0, "list", "runningvms")
	if !strings.HasPrefix(out, `"web01" {`) {
		t.Errorf("runningvms: %q", out)
	}
	_, errOut := run(t, env, 1, "modifyvm", "web01", "--memory", "1024")
	if !strings.Contains(errOut, "is already locked for a session") {
		t.Errorf("modifyvm on running VM: %s", errOut)
	}
	run(t, env, 0, "controlvm", "web01", "pause")
	out, _ = run(t, env, 0, "list", "runningvms")
	if out == "" {
		t.Error("a paused VM must be listed by runningvms")
	}
	run(t, env, 0, "controlvm", "web01", "resume")
	_, errOut = run(t, env, 0, "controlvm", "web01", "poweroff")
	if !strings.HasSuffix(errOut, "100%\n") {
		t.Errorf("poweroff progress: %q", errOut)
	}
	_, errOut = run(t, env, 1, "controlvm", "web01", "poweroff")
	if errOut != "VBoxManage: error: Machine 'web01' is not currently running.\n" {
		t.Errorf("not running: %q", errOut)
	}
	run(t, env, 0, "unregistervm", "web01", "--delete")
	out, _ = run(t, env, 0, "list", "vms")
	if out != "" {
		t.Errorf("list vms after delete: %q", out)
	}
}

func newTestRand() *rand.Rand { return rand.New(rand.NewPCG(1, 2)) }
