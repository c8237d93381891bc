package vbox

import (
	"fmt"
	"regexp"
	"strings"
)

// VMRef is one line of `list vms` / `list runningvms`.
type VMRef struct {
	Name         string
	UUID         string
	Inaccessible bool // listed as "<inaccessible>"
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// ParseListVMs reads `list vms` or `list runningvms` output: one
// `"name" {uuid}` per line. Names are printed unescaped and may contain
// quotes, braces and spaces, so the UUID is taken from the end of the line
// and the name is everything between the first and the last quote before it.
func ParseListVMs(out []byte) ([]VMRef, error) {
	var refs []VMRef
	for n, line := range strings.Split(strings.ReplaceAll(string(out), "\r", ""), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		i := strings.LastIndex(line, " {")
		if i < 0 || !strings.HasSuffix(line, "}") {
			return nil, fmt.Errorf("list vms: line %d: %q is not `\"name\" {uuid}`", n+1, truncate(line, 80))
		}
		uuid := line[i+2 : len(line)-1]
		quoted := line[:i]
		if !uuidRE.MatchString(uuid) || len(quoted) < 2 || quoted[0] != '"' || quoted[len(quoted)-1] != '"' {
			return nil, fmt.Errorf("list vms: line %d: %q is not `\"name\" {uuid}`", n+1, truncate(line, 80))
		}
		name := quoted[1 : len(quoted)-1]
		refs = append(refs, VMRef{Name: name, UUID: strings.ToLower(uuid), Inaccessible: name == "<inaccessible>"})
	}
	return refs, nil
}
