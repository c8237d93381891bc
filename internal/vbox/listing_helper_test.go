package vbox

import (
	"fmt"
	"strings"
)

// testListing renders `list --multiple vms --long vms` for test runners:
// the compact list and, per machine, the smallest block the grammar accepts
// as clean (7.0 shape, no recording screen).
func testListing(ms []Machine) string {
	var b strings.Builder
	b.WriteString("[vms]\n")
	for _, m := range ms {
		fmt.Fprintf(&b, "\"%s\" {%s}\n", m.Name, m.UUID)
	}
	b.WriteString("\n[vms]\n")
	for _, m := range ms {
		b.WriteString(testBlock(m))
	}
	return b.String()
}

func testBlock(m Machine) string {
	var b strings.Builder
	pad := func(l, v string) { fmt.Fprintf(&b, "%-28s %s\n", l+":", v) }
	pad("Name", m.Name)
	b.WriteString("Encryption:     disabled\n")
	pad("Groups", "/")
	pad("Guest OS", "Other/Unknown")
	pad("UUID", m.UUID)
	pad("Config file", "/vms/"+m.UUID+".vbox")
	pad("Snapshot folder", "/vms/Snapshots")
	pad("Log folder", "/vms/Logs")
	pad("Hardware UUID", m.UUID)
	pad("Memory size", fmt.Sprintf("%dMB", m.MemoryMB))
	pad("Number of CPUs", fmt.Sprint(m.CPUs))
	pad("State", humanOf(m.State)+" (since 2024-05-02T10:01:07.118000000)")
	pad("Autostart Enabled", map[bool]string{true: "on", false: "off"}[m.Autostart])
	pad("Recording screens", "0")
	b.WriteString("* Guest:\n")
	pad("Configured memory balloon", "0MB")
	b.WriteString("\n")
	return b.String()
}
