package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The console area (issue 11) with the stock virsh and python3-libvirt on
// each VirtualBox personality: screenshot, send-key, inject-nmi and the
// serial console, each checked against what reached the simulator.

func TestConsoleArea61(t *testing.T) { consoleArea(t, "6.1") }
func TestConsoleArea70(t *testing.T) { consoleArea(t, "7.0") }
func TestConsoleArea71(t *testing.T) { consoleArea(t, "7.1") }

// simCalls returns the argv of each logged VBoxManage call holding word.
func (s *sim) simCalls(t *testing.T, word string) [][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.Home, "invocations.log"))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]string
	for _, l := range strings.Split(string(b), "\n") {
		_, rest, ok := strings.Cut(l, " argv=")
		if !ok {
			continue
		}
		js, _, _ := strings.Cut(rest, " exit=")
		var argv []string
		if err := json.Unmarshal([]byte(js), &argv); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		if slices.Contains(argv, word) {
			out = append(out, argv)
		}
	}
	return out
}

func consoleArea(t *testing.T, version string) {
	d := startDaemon(t, withSimVersion(version))
	sock := filepath.Join(d.Dir, "com1.sock")
	d.Sim.mustVBoxManage(t, "createvm", "--name", "con", "--register")
	d.Sim.mustVBoxManage(t, "modifyvm", "con", "--uart1", "0x3f8", "4", "--uartmode1", "server", sock)
	d.Sim.mustVBoxManage(t, "createvm", "--name", "plain", "--register")
	d.Sim.mustVBoxManage(t, "createvm", "--name", "off", "--register")
	d.mustVirsh(t, "start", "con")
	d.mustVirsh(t, "start", "plain")
	t.Cleanup(func() {
		// The simulated VM's UART process ends with the VM.
		d.Sim.VBoxManage(t, "controlvm", "con", "poweroff")
	})
	uuid := strings.TrimSpace(d.mustVirsh(t, "domuuid", "con"))

	t.Run("screenshot", func(t *testing.T) {
		file := filepath.Join(d.Dir, "shot.png")
		contains(t, "screenshot", d.mustVirsh(t, "screenshot", "con", file), "with type of image/png")
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("virsh's file is no PNG: %v", err)
		}
		if r := img.Bounds(); r.Dx() != 1024 || r.Dy() != 768 {
			t.Fatalf("picture %v, want the VM's 1024x768", r)
		}
		if n := len(d.Sim.simCalls(t, "screenshotpng")); n != 1 {
			t.Fatalf("%d screenshotpng calls", n)
		}
		contains(t, "screen 1", d.virshFails(t, "screenshot", "con", filepath.Join(d.Dir, "x.png"), "--screen", "1"),
			"invalid argument: screen ID higher than monitor count (1)")
	})

	t.Run("send-key", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			args []string
			want [][]string // the bytes of each keyboardputscancode call
		}{
			{"KEY_A", []string{"KEY_A"}, [][]string{{"1e", "9e"}}},
			{"ctrl-alt-del", []string{"KEY_LEFTCTRL", "KEY_LEFTALT", "KEY_DELETE"},
				[][]string{{"1d", "38", "e0", "53", "e0", "d3", "b8", "9d"}}},
			{"usb held", []string{"--codeset", "usb", "--holdtime", "100", "4"}, [][]string{{"1e"}, {"9e"}}},
			{"rfb right ctrl", []string{"--codeset", "rfb", "0x9d"}, [][]string{{"e0", "1d", "e0", "9d"}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := len(d.Sim.simCalls(t, "keyboardputscancode"))
				d.mustVirsh(t, append([]string{"send-key", "con"}, tc.args...)...)
				got := d.Sim.simCalls(t, "keyboardputscancode")[before:]
				if len(got) != len(tc.want) {
					t.Fatalf("calls %q, want bytes %q", got, tc.want)
				}
				for i, w := range tc.want {
					if want := append([]string{"controlvm", uuid, "keyboardputscancode"}, w...); !slices.Equal(got[i], want) {
						t.Fatalf("call %d: %q, want %q", i, got[i], want)
					}
				}
			})
		}
		before := len(d.Sim.simCalls(t, "keyboardputscancode"))
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"KEY_A", "KEY_FN"}, "invalid argument: cannot translate keycode 464 of linux codeset to a PC scan code"},
			{[]string{"--codeset", "win32", "0xffff"}, "is not a key of the win32 code set"},
		} {
			contains(t, "send-key "+strings.Join(tc.args, " "), d.virshFails(t, append([]string{"send-key", "con"}, tc.args...)...), tc.want)
		}
		if n := len(d.Sim.simCalls(t, "keyboardputscancode")); n != before {
			t.Fatalf("refused keys sent %d calls", n-before)
		}
	})

	t.Run("inject-nmi", func(t *testing.T) {
		d.mustVirsh(t, "inject-nmi", "con")
		if got := d.Sim.simCalls(t, "injectnmi"); len(got) != 1 || !slices.Equal(got[0], []string{"debugvm", uuid, "injectnmi"}) {
			t.Fatalf("calls %q", got)
		}
	})

	t.Run("not running", func(t *testing.T) {
		for _, args := range [][]string{
			{"screenshot", "off", filepath.Join(d.Dir, "off.png")},
			{"send-key", "off", "KEY_A"},
			{"inject-nmi", "off"},
		} {
			contains(t, args[0], d.virshFails(t, args...), "Requested operation is not valid: domain is not running")
		}
		// virsh console checks the state itself before it opens anything.
		contains(t, "console", d.virshFails(t, "console", "off"), "The domain is not running")
	})

	t.Run("console", func(t *testing.T) {
		out := d.python(t, "console_stream.py", "vbox:///session?socket="+d.RO, "con", "plain")
		contains(t, "console_stream.py", out,
			"first echo 'ping\\r\\n'",
			"second refused: 9 operation failed: Active console session exists for this domain",
			"first after force: operation failed: the console was taken over by another client",
			"forced echo 'pong\\n'",
			"finished",
			"again echo 'été\\n'",
			"operation forbidden: read only access prevents virDomainOpenConsole",
			"plain refused: 9 operation failed: domain plain has no serial port")
		py := requireTool(t, "python3")
		virsh := requireTool(t, "virsh")
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, py, filepath.Join("testdata", "console_pty.py"), virsh, d.URI(), "con")
		b, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("console_pty.py: %v\n%s", err, b)
		}
		contains(t, "virsh console", string(b), "echoed", "virsh exit 0")
	})
}
