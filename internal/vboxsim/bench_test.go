package vboxsim

import (
	"fmt"
	"io"
	"testing"
)

// seeded200 returns an env with 200 seeded VMs (20 running) and one VM name.
func seeded200(b *testing.B) (Env, string) {
	b.Helper()
	env := testEnv(b, "7.0")
	if err := Seed(env, 200, 20, 42); err != nil {
		b.Fatal(err)
	}
	st, _ := OpenStore(env.Home)
	st.Lock(false)
	reg, _ := st.Registry()
	name := reg.VMs[100].UUID
	st.Unlock()
	return env, name
}

func benchRun(b *testing.B, env Env, args ...string) {
	b.Helper()
	for i := 0; i < b.N; i++ {
		if code := Run(env, args, io.Discard, io.Discard); code != 0 {
			b.Fatalf("%v: exit %d", args, code)
		}
	}
}

// The benchmarks measure the simulator's own work per call (latency 0) with
// 200 registered VMs; process start-up is not included.
func BenchmarkListVMs200(b *testing.B) {
	env, _ := seeded200(b)
	b.ResetTimer()
	benchRun(b, env, "list", "vms")
}

func BenchmarkListRunningVMs200(b *testing.B) {
	env, _ := seeded200(b)
	b.ResetTimer()
	benchRun(b, env, "list", "runningvms")
}

func BenchmarkListLongVMs200(b *testing.B) {
	env, _ := seeded200(b)
	b.ResetTimer()
	benchRun(b, env, "list", "-l", "vms")
}

func BenchmarkShowVMInfo200(b *testing.B) {
	env, vm := seeded200(b)
	b.ResetTimer()
	benchRun(b, env, "showvminfo", vm, "--machinereadable")
}

func BenchmarkModifyVM200(b *testing.B) {
	env, _ := seeded200(b)
	run(b, env, 0, "createvm", "--name", "bench", "--register")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if code := Run(env, []string{"modifyvm", "bench", "--memory", fmt.Sprint(512 + i%512)}, io.Discard, io.Discard); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
}
