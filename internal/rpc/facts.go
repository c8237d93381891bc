package rpc

// roRule is a procedure's read-only rule.
type roRule uint8

const (
	roAllowed     roRule = iota
	roDenied             // always, for a read-only connection
	roConditional        // for some arguments: see readOnlyArgRules
)

// procFacts are the protocol facts of one REMOTE procedure, as
// scripts/libvirt-facts.py read them from libvirt 9.0's sources into
// libvirt-9.0-facts.txt; protocol.gen.go holds them (remoteFacts).
type procFacts struct {
	name     string // REMOTE_PROC_ name without the prefix
	api      string // "-" for events and auth
	file     string // libvirt source file defining api, "-" for none
	high     bool   // @priority: high
	readOnly roRule
	guard    string // for roConditional, libvirt's guarding condition
}
