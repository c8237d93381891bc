package main

import (
	"regexp"
	"strings"
	"testing"
)

func TestMaskerWholeWords(t *testing.T) {
	m := &masker{paths: strings.NewReplacer("/tmp/vbox-smoke-1", "<scratch>", "/home/alice", "<home>"),
		repl: map[string]string{"vm": "<host>", "alice": "<user>", "vm.example.org": "<host>"}}
	m.names = regexp.MustCompile(`vm\.example\.org|alice|vm`)
	for in, want := range map[string]string{
		`args: ["list","vms"]`:                   `args: ["list","vms"]`,
		`tracing-allow-vm-access="off"`:          `tracing-allow-vm-access="off"`,
		`controlvm x poweroff`:                   `controlvm x poweroff`,
		"host vm, user alice.":                   "host <host>, user <user>.",
		"vm.example.org: /home/alice/VirtualBox": "<host>: <home>/VirtualBox",
		"/tmp/vbox-smoke-1/home alice@vm":        "<scratch>/home <user>@<host>",
		"malice vmware":                          "malice vmware",
	} {
		if got := m.mask(in); got != want {
			t.Errorf("mask(%q) = %q, want %q", in, got, want)
		}
	}
}
