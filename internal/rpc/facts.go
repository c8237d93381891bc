package rpc

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

// remoteFactsText is libvirt 9.0's facts for every REMOTE procedure, one a
// line: number, REMOTE_PROC_ name, API, the file defining the API, priority
// (remote_protocol.x's @priority) and read-only rule (the API's
// virCheckReadOnly sites). scripts/libvirt-facts.py writes it from a
// libvirt source tree.
//
//go:embed remote_procs-9.0.txt
var remoteFactsText string

// roRule is a procedure's read-only rule.
type roRule uint8

const (
	roAllowed     roRule = iota
	roDenied             // always, for a read-only connection
	roConditional        // for some arguments: see readOnlyArgRules
)

// procFacts are the protocol facts of one REMOTE procedure.
type procFacts struct {
	name     string // REMOTE_PROC_ name without the prefix
	api      string // "-" for events and auth
	file     string // libvirt source file defining api, "-" for none
	high     bool   // @priority: high
	readOnly roRule
	guard    string // for roConditional, libvirt's guarding condition
}

// remoteFacts[proc] are procedure proc's facts.
var remoteFacts = parseFacts(remoteFactsText)

func parseFacts(text string) *[remoteProcMax + 1]procFacts {
	var facts [remoteProcMax + 1]procFacts
	seen := 0
	for _, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.SplitN(line, " ", 6)
		n, err := strconv.Atoi(f[0])
		if err != nil || len(f) != 6 || n < 1 || n > remoteProcMax || (f[4] != "high" && f[4] != "low") {
			panic(fmt.Sprintf("rpc: bad protocol facts line %q", line))
		}
		pf := procFacts{name: f[1], api: f[2], file: f[3], high: f[4] == "high"}
		switch rule := f[5]; {
		case rule == "allowed":
		case rule == "denied":
			pf.readOnly = roDenied
		case strings.HasPrefix(rule, "conditional: "):
			pf.readOnly, pf.guard = roConditional, strings.TrimPrefix(rule, "conditional: ")
		default:
			panic(fmt.Sprintf("rpc: bad read-only rule in %q", line))
		}
		facts[n] = pf
		seen++
	}
	if seen != remoteProcMax {
		panic(fmt.Sprintf("rpc: protocol facts for %d procedures, want %d", seen, remoteProcMax))
	}
	return &facts
}
