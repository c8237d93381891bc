package vboxsim

import (
	"fmt"
	"strings"
)

// opt is one parsed option.
type opt struct {
	name string // canonical long name, e.g. "--name"
	val  string
}

// optSpec describes a command's options: long (or short) spelling → canonical
// name and whether it takes a value.
type optSpec map[string]struct {
	canon string
	value bool
}

func spec(entries ...string) optSpec {
	// entries: "--name=", "--register", "-l|--long" (aliases separated by |, trailing = takes a value)
	s := optSpec{}
	for _, e := range entries {
		value := strings.HasSuffix(e, "=")
		e = strings.TrimSuffix(e, "=")
		names := strings.Split(e, "|")
		canon := names[len(names)-1]
		for _, n := range names {
			s[n] = struct {
				canon string
				value bool
			}{canon, value}
		}
	}
	return s
}

// getopt parses args the way IPRT's RTGetOpt does for VBoxManage: long
// options with a separate value, "--opt=value" or "--opt:value"; anything not
// starting with '-' is positional. errMsg is the VBoxManage message.
func getopt(args []string, sp optSpec) (opts []opt, pos []string, errMsg string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' {
			pos = append(pos, a)
			continue
		}
		name, val, hasVal := a, "", false
		if strings.HasPrefix(a, "--") {
			if k := strings.IndexAny(a, "=:"); k > 0 {
				name, val, hasVal = a[:k], a[k+1:], true
			}
		}
		e, ok := sp[name]
		if !ok {
			if !strings.HasPrefix(a, "--") {
				return opts, pos, fmt.Sprintf("Invalid option -%s", strings.TrimPrefix(a, "-"))
			}
			return opts, pos, fmt.Sprintf("Unknown option: %s", name)
		}
		if e.value && !hasVal {
			if i+1 >= len(args) {
				return opts, pos, fmt.Sprintf("Missing the 1st value for option %s", name)
			}
			i++
			val = args[i]
		}
		opts = append(opts, opt{e.canon, val})
	}
	return opts, pos, ""
}
