package daemon

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
)

func TestExitCodes(t *testing.T) {
	if got := CodeOf(nil); got != ExitOK {
		t.Errorf("CodeOf(nil) = %d", got)
	}
	if got := CodeOf(errors.New("x")); got != 1 {
		t.Errorf("CodeOf(plain) = %d, want 1", got)
	}
	err := fmt.Errorf("context: %w", Fail(ExitNetwork, errors.New("bind")))
	if got := CodeOf(err); got != ExitNetwork {
		t.Errorf("CodeOf(wrapped network error) = %d, want 6", got)
	}
	if Fail(ExitInit, nil) != nil {
		t.Error("Fail(code, nil) must stay nil")
	}
	if ExitPidFile.Text() != "Unable to obtain pidfile" || ExitNetwork.Text() != "Unable to initialize network sockets" {
		t.Error("exit code texts differ from libvirt's")
	}
}

func TestStatusReport(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"ready", nil, "\x00"},
		{"pid file", Fail(ExitPidFile, errors.New("Failed to acquire pid file")), "\x01Failed to acquire pid file"},
		{"sockets", Fail(ExitNetwork, errors.New("bind")), "\x06bind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			s := &Status{f: w}
			s.Report(tc.err)
			s.Report(errors.New("second report is ignored"))
			got, _ := io.ReadAll(r)
			if string(got) != tc.want {
				t.Errorf("pipe got %q, want %q", got, tc.want)
			}
		})
	}
	var none *Status
	none.Report(nil) // must not panic
	if none.IsChild() {
		t.Error("nil status claims to be a child")
	}
}

func TestStacks(t *testing.T) {
	s := Stacks()
	if len(s) == 0 || !containsBytes(s, "goroutine ") || !containsBytes(s, "TestStacks") {
		t.Errorf("Stacks() does not look like a goroutine dump: %.200s", s)
	}
}

func containsBytes(b []byte, s string) bool { return strings.Contains(string(b), s) }
