package vboxsim

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// mrQuoted reads the machine-readable value of key from out the way a
// consumer must: from the opening quote to the first quote not escaped by a
// backslash, across newlines (only \" and \\ are escapes).
func mrQuoted(t *testing.T, out, key string) (string, bool) {
	t.Helper()
	var rest string
	switch {
	case strings.HasPrefix(out, key+"=\""):
		rest = out[len(key)+2:]
	case strings.Contains(out, "\n"+key+"=\""):
		rest = out[strings.Index(out, "\n"+key+"=\"")+len(key)+3:]
	default:
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(rest); i++ {
		switch c := rest[i]; c {
		case '\\':
			i++
			if i == len(rest) || (rest[i] != '"' && rest[i] != '\\') {
				t.Fatalf("bad escape in %q", rest)
			}
			b.WriteByte(rest[i])
		case '"':
			if !strings.HasPrefix(rest[i+1:], "\n") {
				t.Fatalf("text after the closing quote of %s: %q", key, rest[i:])
			}
			return b.String(), true
		default:
			b.WriteByte(c)
		}
	}
	t.Fatalf("%s: no closing quote", key)
	return "", false
}

// FuzzMachineReadableQuoting: any VM name and description survive
// createvm/modifyvm and come back intact from showvminfo --machinereadable,
// read from the opening to the closing quote (a description's newlines are
// printed raw, as VBoxManage does).
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
		if got, _ := mrQuoted(t, out, "name"); got != name {
			t.Fatalf("name round trip: %q -> %q", name, got)
		}
		if desc != "" {
			got, found := mrQuoted(t, out, "description")
			if !found {
				t.Fatal("description line missing")
			}
			if got != desc {
				t.Fatalf("description round trip: %q -> %q", desc, got)
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
		"list\x00--sorted", "modifyvm\x00vm\x00--natpf1\x00delete", "snapshot\x00vm\x00list\x00--machinereadable",
		"dhcpserver\x00add\x00--netname=n\x00--ip=10.0.0.2\x00--netmask=255.255.255.0\x00--lowerip=10.0.0.3\x00--upperip=10.0.0.9\x00--mac-address=08:00:27:00:00:01\x00--fixed-address=10.0.0.5"} {
		f.Add(s)
	}
	safe := map[string]bool{"list": true, "showvminfo": true, "modifyvm": true, "getextradata": true, "setextradata": true,
		"natnetwork": true, "storagectl": true, "snapshot": true, "discardstate": true, "dhcpserver": true}
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
