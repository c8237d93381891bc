package vbox

import (
	"encoding/hex"
	"math/rand"
	"strings"
	"testing"
)

// parseUUIDRef is the obvious reading parseUUID must agree with: drop the
// dashes, then 32 hex digits.
func parseUUIDRef(s string) ([16]byte, bool) {
	var u [16]byte
	h := strings.ReplaceAll(s, "-", "")
	if len(h) != 32 {
		return u, false
	}
	if _, err := hex.Decode(u[:], []byte(h)); err != nil {
		return [16]byte{}, false
	}
	return u, true
}

func TestParseUUID(t *testing.T) {
	cases := []string{"", "-", "870e57aa-f230-42c8-a2e0-d26f1fcb2d4d", "870E57AA-F230-42C8-A2E0-D26F1FCB2D4D",
		"870e57aaf23042c8a2e0d26f1fcb2d4d", "870e57aa-f230-42c8-a2e0-d26f1fcb2d4", "870e57aa-f230-42c8-a2e0-d26f1fcb2d4d0",
		"870e57aa-f230-42c8-a2e0-d26f1fcb2d4g", "{870e57aa-f230-42c8-a2e0-d26f1fcb2d4d}", "870e57aa--f230-42c8-a2e0-d26f1fcb2d4d-"}
	rnd := rand.New(rand.NewSource(3))
	const alphabet = "0123456789abcdefABCDEF-xg{} "
	for i := 0; i < 20000; i++ {
		b := make([]byte, 28+rnd.Intn(12))
		for j := range b {
			b[j] = alphabet[rnd.Intn(len(alphabet)-6*(rnd.Intn(20)/19))]
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		got, gok := parseUUID(s)
		want, wok := parseUUIDRef(s)
		if got != want || gok != wok {
			t.Fatalf("parseUUID(%q) = %x %v, want %x %v", s, got, gok, want, wok)
		}
	}
}
