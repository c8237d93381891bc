package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// TestGeneratedFileCurrent: protocol.gen.go is what the facts file gives,
// as `make generate-check` checks.
func TestGeneratedFileCurrent(t *testing.T) {
	fs, err := parse("../../libvirt-9.0-facts.txt")
	if err != nil {
		t.Fatal(err)
	}
	src, err := generate(fs, "libvirt-9.0-facts.txt")
	if err != nil {
		t.Fatal(err)
	}
	cur, err := os.ReadFile("../../protocol.gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(src, cur) {
		t.Fatal("internal/rpc/protocol.gen.go is not current: run `go generate ./internal/rpc`")
	}
	if len(fs.remote) != 443 || len(fs.admin) != 19 {
		t.Errorf("%d REMOTE and %d ADMIN procedures, want libvirt 9.0's 443 and 19", len(fs.remote), len(fs.admin))
	}
}

func TestNames(t *testing.T) {
	for in, want := range map[[3]string]string{
		{"proc", "DOMAIN_GET_XML_DESC", ""}:          "procDomainGetXMLDesc",
		{"err", "VIR_ERR_NO_DOMAIN", "VIR_ERR_"}:     "errNoDomain",
		{"from", "VIR_FROM_RPC", "VIR_FROM_"}:        "fromRPC",
		{"", "VIR_CONNECT_RO", "VIR_"}:               "connectRO",
		{"", "VIR_DRV_FEATURE_FD_PASSING", "VIR_"}:   "drvFeatureFDPassing",
		{"adminProc", "SERVER_UPDATE_TLS_FILES", ""}: "adminProcServerUpdateTLSFiles",
	} {
		if got := constName(in[0], in[1], in[2]); got != want {
			t.Errorf("%v: %s, want %s", in, got, want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for name, text := range map[string]string{
		"gap":          "[remote]\n2 X virX libvirt.c low allowed\n[admin]\n1 Y low\n",
		"bad priority": "[remote]\n1 X virX libvirt.c medium allowed\n[admin]\n1 Y low\n",
		"bad rule":     "[remote]\n1 X virX libvirt.c low maybe\n[admin]\n1 Y low\n",
		"no section":   "1 X virX libvirt.c low allowed\n",
		"bad value":    "[remote]\n1 X virX libvirt.c low allowed\n[admin]\n1 Y low\n[error]\nVIR_ERR_X one\n",
		"no admin":     "[remote]\n1 X virX libvirt.c low allowed\n",
	} {
		path := t.TempDir() + "/facts.txt"
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := parse(path); err == nil || !strings.Contains(err.Error(), "facts.txt") {
			t.Errorf("%s: err = %v, want a parse error naming the file", name, err)
		}
	}
}
