package vboxsim

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Fault kinds for VBOXSIM_FAULTS.
const (
	FaultHang    = "hang"    // sleep forever (the caller's timeout must fire)
	FaultCrash   = "crash"   // killed by SIGKILL (abnormal exit, no output)
	FaultGarbage = "garbage" // random bytes on stdout, exit 0
	FaultError   = "error"   // an API error block on stderr, exit 1
	FaultSvcDown = "svcdown" // "Failed to create the VirtualBox object!", exit 1
	FaultNoop    = "noop"    // exit 0, no output, and nothing done
	FaultError0  = "error0"  // the error block of FaultError, but exit 0 and nothing done (reference §6)
)

// parseFaults reads "showvminfo=hang,startvm=crash@0.5,*=error@0.01": command
// (or * for any) = kind, optionally @probability (default 1).
func parseFaults(v string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(v) == "" {
		return out, nil
	}
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		cmd, spec, ok := strings.Cut(item, "=")
		if !ok || cmd == "" {
			return nil, fmt.Errorf("VBOXSIM_FAULTS: %q: want command=kind[@probability]", item)
		}
		kind, prob, _ := strings.Cut(spec, "@")
		switch kind {
		case FaultHang, FaultCrash, FaultGarbage, FaultError, FaultSvcDown, FaultNoop, FaultError0:
		default:
			return nil, fmt.Errorf("VBOXSIM_FAULTS: %q: unknown fault %q (hang, crash, garbage, error, svcdown, noop, error0)", item, kind)
		}
		if prob != "" {
			p, err := strconv.ParseFloat(prob, 64)
			if err != nil || p < 0 || p > 1 {
				return nil, fmt.Errorf("VBOXSIM_FAULTS: %q: bad probability", item)
			}
		}
		out[cmd] = spec
	}
	return out, nil
}

// commandName is the command word of an argv (after global options).
func commandName(args []string) string {
	for _, a := range args {
		if a == "-q" || a == "--nologo" {
			continue
		}
		return a
	}
	return ""
}

// withFaults applies an injected fault for this command, or runs it.
func (s *Sim) withFaults(args []string) int {
	cmd := commandName(args)
	spec, ok := s.env.Faults[cmd]
	if !ok {
		spec, ok = s.env.Faults["*"]
	}
	if !ok {
		return s.dispatch(args)
	}
	kind, prob, _ := strings.Cut(spec, "@")
	if prob != "" {
		p, _ := strconv.ParseFloat(prob, 64)
		if s.rng.Float64() >= p {
			return s.dispatch(args)
		}
	}
	s.work()
	switch kind {
	case FaultHang:
		for {
			time.Sleep(time.Hour)
		}
	case FaultCrash:
		s.logInvocation(time.Now(), args, -9)
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(time.Second)
		os.Exit(134)
	case FaultGarbage:
		b := make([]byte, 64+s.rng.IntN(512))
		for i := range b {
			b[i] = byte(s.rng.UintN(256))
		}
		s.stdout.Write(b)
		return 0
	case FaultSvcDown:
		fmt.Fprint(s.stderr, "VBoxManage: error: Failed to create the VirtualBox object!\n"+
			"VBoxManage: error: Code NS_ERROR_ABORT (0x80004004) - Operation aborted (extended info not available)\n"+
			"VBoxManage: error: Most likely, the VirtualBox COM server is not running or failed to start.\n")
		return 1
	case FaultNoop:
		return 0
	}
	fmt.Fprintf(s.stderr, "VBoxManage: error: Code E_FAIL (0x80004005) - Unspecified error (extended info not available)\n"+
		"VBoxManage: error: Context: \"%s\" at line 100 of file VBoxManage.cpp\n", "injected fault ("+cmd+")")
	if kind == FaultError0 {
		return 0
	}
	return 1
}
