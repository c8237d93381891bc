package vboxsim

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// unquoteMR reverses mrQuote: "..." with \" \\ and \n escapes.
func unquoteMR(t *testing.T, v string) string {
	t.Helper()
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		t.Fatalf("not a quoted value: %q", v)
	}
	v = v[1 : len(v)-1]
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c != '\\' {
			if c == '"' {
				t.Fatalf("unescaped quote in %q", v)
			}
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(v) {
			t.Fatalf("dangling backslash in %q", v)
		}
		switch v[i] {
		case 'n':
			b.WriteByte('\n')
		case '"', '\\':
			b.WriteByte(v[i])
		default:
			t.Fatalf("unknown escape \\%c in %q", v[i], v)
		}
	}
	return b.String()
}

// FuzzMachineReadableQuoting: any VM name and description survive
// createvm/modifyvm and come back intact from showvminfo --machinereadable,
// one line per key.
func FuzzMachineReadableQuoting(f *testing.F) {
	for _, s := range [][2]string{{"web01", "plain"}, {`quote"vm`, `say "hi"`}, {`back\slash`, `C:\path\`}, {"a=b", "x=1\ny=2"},
		{"数据库", "ünïcødé"}, {"tab\tname", "\\\"\\"}, {" lead", "trail "}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, name, desc string) {
		if name == "" || !utf8.ValidString(name) || !utf8.ValidString(desc) || strings.ContainsAny(name, "\x00\r\n") ||
			strings.ContainsRune(desc, 0) || strings.Contains(desc, "\r") || strings.Trim(name, ". ") == "" || len(name) > 200 ||
			strings.HasPrefix(name, "-") || strings.HasPrefix(desc, "-") {
			t.Skip()
		}
		env := testEnv(t, "7.0")
		_, _, code := RunCapture(env, "createvm", "--name", name, "--register")
		if code != 0 {
			t.Skip() // e.g. a name that is not a valid file name
		}
		if desc != "" {
			run(t, env, 0, "modifyvm", name, "--description", desc)
		}
		out, _ := run(t, env, 0, "showvminfo", name, "--machinereadable")
		lines := strings.Split(out, "\n")
		if got := unquoteMR(t, strings.TrimPrefix(lines[0], "name=")); got != name {
			t.Fatalf("name round trip: %q -> %q", name, got)
		}
		if desc != "" {
			found := false
			for _, l := range lines {
				if v, ok := strings.CutPrefix(l, "description="); ok {
					found = true
					if got := unquoteMR(t, v); got != desc {
						t.Fatalf("description round trip: %q -> %q", desc, got)
					}
				}
			}
			if !found {
				t.Fatal("description line missing")
			}
		}
		list, _ := run(t, env, 0, "list", "vms")
		if !strings.HasPrefix(list, "\""+name+"\" {") {
			t.Fatalf("list vms: %q", list)
		}
	})
}

// FuzzCommandLine: arbitrary argument vectors to the parsing-heavy commands
// never panic and always give exit 0, 1 or 2.
func FuzzCommandLine(f *testing.F) {
	for _, s := range []string{"list\x00-l\x00vms", "showvminfo\x00vm\x00--machinereadable", "modifyvm\x00vm\x00--nic1\x00nat\x00--nictype1=virtio",
		"modifyvm\x00vm\x00--boot99\x00disk", "storagectl\x00vm\x00--name\x00S\x00--add\x00sata\x00--portcount\x00-1",
		"natnetwork\x00add\x00--netname\x00n\x00--network\x0010.0.0.0/33", "getextradata\x00vm\x00enumerate", "modifyvm\x00vm\x00--uart1=0x3f8",
		"list\x00--sorted", "modifyvm\x00vm\x00--natpf1\x00delete", "snapshot\x00vm\x00list\x00--machinereadable"} {
		f.Add(s)
	}
	safe := map[string]bool{"list": true, "showvminfo": true, "modifyvm": true, "getextradata": true, "setextradata": true,
		"natnetwork": true, "storagectl": true, "snapshot": true, "discardstate": true}
	f.Fuzz(func(t *testing.T, argv string) {
		args := strings.Split(argv, "\x00")
		if !safe[args[0]] || len(args) > 40 {
			t.Skip()
		}
		if len(args) > 1 && args[0] == "snapshot" && len(args) > 2 && args[2] == "take" {
			t.Skip()
		}
		env := testEnv(t, "7.0")
		run(t, env, 0, "createvm", "--name", "vm", "--ostype", "Ubuntu_64", "--default", "--register")
		_, _, code := RunCapture(env, args...)
		if code < 0 || code > 2 {
			t.Fatalf("%q: exit %d", args, code)
		}
		// The state stays readable whatever the command did.
		run(t, env, 0, "list", "-l", "vms")
	})
}

// FuzzGetopt: the option parser never panics.
func FuzzGetopt(f *testing.F) {
	f.Add("--name\x00x\x00--register\x00pos")
	f.Add("--name=\x00-l\x00--")
	f.Fuzz(func(t *testing.T, argv string) {
		sp := spec("--name=", "--register", "-l|--long", "--ostype=")
		opts, pos, msg := getopt(strings.Split(argv, "\x00"), sp)
		if msg == "" && len(opts)+len(pos) == 0 && argv != "" {
			t.Fatalf("%q parsed to nothing", argv)
		}
	})
}
