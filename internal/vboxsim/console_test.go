package vboxsim

import (
	"bytes"
	"errors"
	"image/png"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestGoldenDebugVM: debugvm's failures as VBoxManageDebugVM.cpp prints
// them: a machine without a running console names the VM as given, with
// the dot, in every version; injectnmi takes no argument.
func TestGoldenDebugVM(t *testing.T) {
	for _, v := range []string{"6.1", "7.0", "7.1"} {
		t.Run(v, func(t *testing.T) {
			env := testEnv(t, v)
			run(t, env, 0, "createvm", "--name", "p", "--register")
			out, errOut := run(t, env, 1, "debugvm", "p", "injectnmi")
			if out != "" {
				t.Errorf("stdout: %q", out)
			}
			diffText(t, errOut, golden(t, "error-debugvm-notrunning.txt"))
			run(t, env, 0, "startvm", "p", "--type", "headless")
			if out, errOut := run(t, env, 0, "debugvm", "p", "injectnmi"); out != "" || errOut != "" {
				t.Fatalf("injectnmi printed %q / %q", out, errOut)
			}
			_, errOut = run(t, env, 2, "debugvm", "p", "injectnmi", "now")
			if v == "7.0" {
				diffText(t, errOut, golden(t, "error-debugvm-params-70.txt"))
			}
			if _, errOut = run(t, env, 2, "debugvm", "p", "stack2"); !bytes.Contains([]byte(errOut), []byte("Unknown subcommand: stack2")) {
				t.Fatalf("unknown sub-command: %q", errOut)
			}
		})
	}
}

// TestScreenshotPNG: screenshotpng writes a PNG that image/png decodes, at
// the video mode showvminfo reports (1024x768), one picture per display.
func TestScreenshotPNG(t *testing.T) {
	env := testEnv(t, "7.0")
	run(t, env, 0, "createvm", "--name", "s", "--register")
	run(t, env, 0, "modifyvm", "s", "--monitorcount", "2")
	run(t, env, 0, "startvm", "s", "--type", "headless")
	var imgs [][]byte
	for _, display := range []string{"0", "1"} {
		file := filepath.Join(t.TempDir(), "shot.png")
		run(t, env, 0, "controlvm", "s", "screenshotpng", file, display)
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if r := img.Bounds(); r.Dx() != 1024 || r.Dy() != 768 {
			t.Fatalf("display %s: %v", display, r)
		}
		imgs = append(imgs, b)
	}
	if bytes.Equal(imgs[0], imgs[1]) {
		t.Fatal("both displays show the same picture")
	}
	run(t, env, 1, "controlvm", "s", "screenshotpng", filepath.Join(t.TempDir(), "x.png"), "2")
}

// TestScancodesLogged: keyboardputscancode's bytes reach the invocation
// log as given; a bad byte is refused and nothing else is.
func TestScancodesLogged(t *testing.T) {
	env := testEnv(t, "6.1")
	run(t, env, 0, "createvm", "--name", "k", "--register")
	run(t, env, 0, "startvm", "k", "--type", "headless")
	run(t, env, 0, "controlvm", "k", "keyboardputscancode", "e0", "1d", "e0", "9d")
	_, errOut := run(t, env, 1, "controlvm", "k", "keyboardputscancode", "1e", "zz")
	if errOut != "VBoxManage: error: Error: 'zz' is not a hex byte!\n" {
		t.Fatalf("bad byte: %q", errOut)
	}
	log, err := ReadLog(env.Home)
	if err != nil {
		t.Fatal(err)
	}
	last := log[len(log)-2]
	if want := []string{"controlvm", "k", "keyboardputscancode", "e0", "1d", "e0", "9d"}; !slices.Equal(last.Argv, want) || last.Exit != 0 {
		t.Fatalf("log: %v exit %d", last.Argv, last.Exit)
	}
}

// TestUARTEcho: the UART process of a VM whose port 1 is a host pipe in
// server mode listens on the pipe, echoes what a client writes, serves the
// next client once the first has gone, and ends, removing its socket, when
// the VM powers off.
func TestUARTEcho(t *testing.T) {
	env := testEnv(t, "7.1")
	sock := filepath.Join(env.Home, "com1")
	run(t, env, 0, "createvm", "--name", "u", "--register")
	run(t, env, 0, "modifyvm", "u", "--uart1", "0x3f8", "4", "--uartmode1", "server", sock)
	run(t, env, 0, "startvm", "u", "--type", "headless")
	st, err := OpenStore(env.Home)
	if err != nil {
		t.Fatal(err)
	}
	st.Lock(false)
	s := newSim(env, st, nil, nil, nil)
	vm, err := s.findVM("u")
	st.Unlock()
	if err != nil || vm == nil {
		t.Fatal(err)
	}
	spec := uartSpec{Home: env.Home, UUID: vm.UUID, Slot: 1, Started: vm.StartedAt, Path: sock}
	ln, err := listenUART(spec)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan int)
	go func() { done <- serveUARTOn(spec, ln) }()
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, msg := range []string{"hello\r\n", "second client\n"} {
		c := dial()
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, len(msg))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != msg {
			t.Fatalf("echo %q: %q %v", msg, buf, err)
		}
		c.Close()
	}
	run(t, env, 0, "controlvm", "u", "poweroff")
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the UART process outlived its VM")
	}
	if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket left behind: %v", err)
	}
}
