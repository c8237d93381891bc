package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"
)

// teeName is the name the daemon runs the tee under (vboxmanage_path).
const teeName = "VBoxManage"

// Environment of the tee: the real VBoxManage and where the records go.
const (
	envReal    = "VBOX_SMOKE_VBOXMANAGE"
	envRecords = "VBOX_SMOKE_RECORDS"
)

// call is one VBoxManage invocation as the tee saw it.
type call struct {
	Start  time.Time     `json:"start"`
	Dur    time.Duration `json:"dur"`
	Args   []string      `json:"args"`
	Stdout string        `json:"stdout"`
	Stderr string        `json:"stderr"`
	Exit   int           `json:"exit"`             // -1: killed by Signal
	Signal string        `json:"signal,omitempty"` // the signal that ended it
	Open   bool          `json:"open,omitempty"`   // no end recorded: killed with the tee
}

// tee runs the real VBoxManage with args, passes its output and exit status
// through, and saves a record of the call. A VBoxManage killed by a signal
// is passed through as such (the tee kills itself with it), so that the
// daemon classifies it as it would the real one.
func tee(args []string) int {
	real := os.Getenv(envReal)
	if real == "" {
		fmt.Fprintf(os.Stderr, "vbox-smoke: run as %s without %s\n", teeName, envReal)
		return 1
	}
	cmd := exec.Command(real, args...)
	var out, errb bytes.Buffer
	cmd.Stdin = os.Stdin
	cmd.Stdout = io.MultiWriter(os.Stdout, &out)
	cmd.Stderr = io.MultiWriter(os.Stderr, &errb)
	// The daemon kills the whole process group on its timeout; anything
	// else sent to the tee goes on to VBoxManage.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	c := call{Start: time.Now(), Args: args, Exit: -1, Open: true}
	// A first record, replaced at the end: a call the daemon kills on its
	// timeout (with the tee: the whole process group) still shows.
	saveRecord(c)
	c.Exit, c.Open = 0, false
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "vbox-smoke: %v\n", err)
		return 127
	}
	go func() {
		for s := range sigs {
			cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	signal.Stop(sigs)
	c.Dur = time.Since(c.Start)
	c.Stdout, c.Stderr = out.String(), errb.String()
	var ee *exec.ExitError
	var sig syscall.Signal
	switch {
	case err == nil:
	case errors.As(err, &ee):
		c.Exit = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			sig = ws.Signal()
			c.Exit, c.Signal = -1, sig.String()
		}
	default:
		c.Exit, c.Stderr = 127, c.Stderr+err.Error()
	}
	saveRecord(c)
	if sig != 0 {
		signal.Reset(sig)
		syscall.Kill(os.Getpid(), sig)
		time.Sleep(time.Second)
		return 128 + int(sig)
	}
	return c.Exit
}

// saveRecord writes c as one JSON file in the records directory; a
// failure only loses the record.
func saveRecord(c call) {
	dir := os.Getenv(envRecords)
	if dir == "" {
		return
	}
	b, err := json.Marshal(c)
	if err != nil {
		return
	}
	name := fmt.Sprintf("%d-%d.json", c.Start.UnixNano(), os.Getpid())
	tmp := filepath.Join(dir, "."+name)
	if os.WriteFile(tmp, b, 0o600) == nil {
		os.Rename(tmp, filepath.Join(dir, name))
	}
}

// readRecords returns the calls recorded in dir, oldest first.
func readRecords(dir string) []call {
	ents, _ := os.ReadDir(dir)
	var calls []call
	for _, e := range ents {
		if e.IsDir() || filepath.Ext(e.Name()) != ".json" || e.Name()[0] == '.' {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue
		}
		var c call
		if json.Unmarshal(b, &c) == nil {
			calls = append(calls, c)
		}
	}
	sortCalls(calls)
	return calls
}
