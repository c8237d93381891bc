package vboxsim

import (
	"regexp"
	"strings"
	"testing"
)

// TestGoldenSnapshot compares the snapshot command's outputs with the
// reference (§2.3 snapshot keys, §4.9, §5.7) on each version: list in both
// forms, the not-found error, the no-snapshots answer, and the stdout lines
// of take, restore and delete; then the tree rules the daemon relies on: a
// live snapshot leaves the VM running, restoring it gives `saved`, and the
// snapshot's own showvminfo says saved or powered off since it was taken.
func TestGoldenSnapshot(t *testing.T) {
	for _, v := range []string{"6.1", "7.0", "7.1"} {
		t.Run(v, func(t *testing.T) {
			env := testEnv(t, v)
			vm, media := sampleVM61(t, env)
			putState(t, env, media, vm)
			out, _ := run(t, env, 0, "snapshot", "web01", "list", "--machinereadable")
			diffText(t, out, golden(t, "snapshot-list-mr.txt"))
			out, _ = run(t, env, 0, "snapshot", "web01", "list")
			diffText(t, out, golden(t, "snapshot-list-human.txt"))
			_, errOut := run(t, env, 1, "snapshot", "web01", "restore", "snapshot1")
			diffText(t, maskLines(errOut), maskLines(golden(t, "error-snapshot-notfound.txt")))

			run(t, env, 0, "createvm", "--name", "bare", "--register")
			out, _ = run(t, env, 1, "snapshot", "bare", "list")
			if out != "This machine does not have any snapshots\n" {
				t.Errorf("list without snapshots: %q", out)
			}

			uuidRE := `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`
			out, _ = run(t, env, 0, "snapshot", "bare", "take", "cold")
			if !regexp.MustCompile(`^Snapshot taken\. UUID: ` + uuidRE + "\n$").MatchString(out) {
				t.Errorf("take: %q", out)
			}
			run(t, env, 0, "startvm", "bare", "--type", "headless")
			run(t, env, 0, "snapshot", "bare", "take", "warm", "--live")
			if st := mrValue(t, mustOut(t, env, "showvminfo", "bare", "--machinereadable"), "VMState"); st != `"running"` {
				t.Errorf("after a live snapshot: %s", st)
			}
			human, _ := run(t, env, 0, "snapshot", "bare", "showvminfo", "warm")
			if !regexp.MustCompile(`(?m)^State: +saved \(since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}\)$`).MatchString(human) {
				t.Errorf("showvminfo of a live snapshot has no saved State line:\n%s", human)
			}
			human, _ = run(t, env, 0, "snapshot", "bare", "showvminfo", "cold")
			if !regexp.MustCompile(`(?m)^State: +powered off \(since `).MatchString(human) {
				t.Errorf("showvminfo of an offline snapshot has no powered off State line:\n%s", human)
			}
			run(t, env, 0, "controlvm", "bare", "poweroff")
			out, _ = run(t, env, 0, "snapshot", "bare", "restore", "warm")
			if !regexp.MustCompile(`^Restoring snapshot 'warm' \(` + uuidRE + "\\)\n$").MatchString(out) {
				t.Errorf("restore: %q", out)
			}
			if st := mrValue(t, mustOut(t, env, "showvminfo", "bare", "--machinereadable"), "VMState"); st != `"saved"` {
				t.Errorf("after restoring a live snapshot: %s", st)
			}
			out, _ = run(t, env, 0, "snapshot", "bare", "delete", "cold")
			if !regexp.MustCompile(`^Deleting snapshot 'cold' \(` + uuidRE + "\\)\n$").MatchString(out) {
				t.Errorf("delete: %q", out)
			}
			out, _ = run(t, env, 0, "snapshot", "bare", "list")
			if !strings.HasPrefix(out, "   Name: warm (UUID: ") || !strings.HasSuffix(out, ") *\n") {
				t.Errorf("list after deleting the root: %q", out)
			}
		})
	}
}

func mustOut(t *testing.T, env Env, args ...string) string {
	t.Helper()
	out, _ := run(t, env, 0, args...)
	return out
}
