package vbox

// testListing renders `list --multiple vms --long vms` for test runners
// that only know Machine values: renderFake's clean 7.0 shape, no free text.
func testListing(ms []Machine) string {
	fs := make([]fakeMachine, len(ms))
	for i, m := range ms {
		fs[i] = fakeMachine{m: m}
	}
	return renderFake(fs, false)
}
