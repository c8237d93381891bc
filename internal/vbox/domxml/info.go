// Package domxml maps a VirtualBox virtual machine's settings to libvirt
// domain XML and back.
//
// It is pure: it runs no process and touches no file. The input of the
// settings→XML direction is the output of `VBoxManage showvminfo
// --machinereadable`, already split into unquoted key/value pairs by the
// caller (internal/vbox), plus a little runtime context. The other direction
// parses domain XML, validates all of it, and turns it into a Plan: the
// VBoxManage argument vectors that create a machine or update an existing one
// in place. Nothing is planned for a document that contains anything the
// package cannot represent, so a bad XML changes nothing.
//
// Both directions go through one intermediate model (vmConfig): fromInfo
// reads it from showvminfo pairs, fromDomain from libvirt XML; ToDomain
// renders it, PlanDefine diffs two of them. Keeping a single model is what
// makes `virsh dumpxml | virsh define` an empty plan.
package domxml

import (
	"strconv"
	"strings"
)

// KV is one `key=value` line of `showvminfo --machinereadable`, with the
// quotes and backslash escapes already removed from both key and value.
type KV struct {
	Key, Value string
}

// Info is the settings of one machine as `showvminfo --machinereadable`
// prints them, in output order (order matters: several keys repeat, and the
// 6.1 DVD markers are recognised by their position).
//
// The zero value is an empty machine; build one with NewInfo to get fast
// lookups. Info is read-only once built and safe for concurrent use.
type Info struct {
	// Pairs are the key/value lines in the order VBoxManage printed them.
	// Lines without '=' (7.0's bare "Encryption:" line) are not pairs; the
	// parser drops them.
	Pairs []KV

	// ExtraData holds the machine's extradata (`getextradata <vm>
	// enumerate`) when the caller fetched it, nil otherwise. Read are
	// FRONTEND/Display (the display of a desktop/sdl front end) and the
	// keys under "virtvboxd/" (title, metadata). Nil means "none set".
	ExtraData map[string]string

	// ReadOnlyFolders names the shared folders that are read-only, when the
	// caller knows (the human showvminfo listing prints it, the
	// machine-readable one does not); nil means unknown, and then a
	// read-only folder in a document is re-created on every define.
	ReadOnlyFolders map[string]bool

	// AudioController is the audio controller ("ac97", "hda", "sb16") when
	// the caller knows it. Machine-readable showvminfo does not print it
	// (only the human format does); "" means unknown, see soundModel.
	AudioController string

	index map[string]int // first position of each key
}

// NewInfo returns an Info over pairs with an index for Get.
func NewInfo(pairs []KV) Info {
	idx := make(map[string]int, len(pairs))
	for i, kv := range pairs {
		if _, dup := idx[kv.Key]; !dup {
			idx[kv.Key] = i
		}
	}
	return Info{Pairs: pairs, index: idx}
}

// Get returns the value of the first pair named key.
func (in *Info) Get(key string) (string, bool) {
	if in.index != nil {
		i, ok := in.index[key]
		if !ok {
			return "", false
		}
		return in.Pairs[i].Value, true
	}
	for _, kv := range in.Pairs {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return "", false
}

// str returns the value of key or "" when it is absent.
func (in *Info) str(key string) string {
	v, _ := in.Get(key)
	return v
}

// on reports whether key is "on" (VBoxManage's boolean spelling).
func (in *Info) on(key string) bool {
	return strings.EqualFold(in.str(key), "on")
}

// uint returns key as an unsigned integer; ok is false when it is absent or
// not a number.
func (in *Info) uint(key string) (uint, bool) {
	v, present := in.Get(key)
	if !present {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
	if err != nil {
		return 0, false
	}
	return uint(n), true
}

// Runtime is the part of a domain's description that is not a setting: it
// comes from the driver's view of the running machine.
type Runtime struct {
	// ID is the domain ID, written as <domain id=...> while Active.
	ID int32
	// Active reports whether the machine is online (running, paused,
	// stuck...). Live values (the VRDE port in use) are only shown then.
	Active bool
}
