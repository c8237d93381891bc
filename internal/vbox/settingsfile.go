package vbox

import (
	"encoding/xml"
	"io"
	"os"
	"strings"
	"syscall"
)

// settingsFileMax bounds the settings file read for extradata: a machine's
// .vbox is kilobytes; anything far larger is not one, and VBoxManage is
// asked instead.
const settingsFileMax = 16 << 20

// settingsExtraData reads machine uuid's extradata from its settings file
// (the .vbox): VirtualBox keeps it there as
//
//	<VirtualBox><Machine uuid="{uuid}"><ExtraData>
//	  <ExtraDataItem name="key" value="value"/>
//
// and rewrites the file on every extradata change (Machine::saveSettings;
// docs/vbox-driver.md), so the file holds what `getextradata <uuid>
// enumerate` would print, without starting a process. ok is false whenever
// the file cannot be read, is not well formed up to the machine's
// extradata, or is not the settings of machine uuid (another machine's, an
// encrypted one's <MachineEncrypted>): the caller then asks VBoxManage.
func settingsExtraData(file, uuid string) (kv map[string]string, ok bool) {
	// Non-blocking: a FIFO in its place must not hang the reader.
	f, err := os.OpenFile(file, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() || st.Size() > settingsFileMax {
		return nil, false
	}
	dec := xml.NewDecoder(io.LimitReader(f, settingsFileMax))
	// open[i] is the local name of the open element at depth i+1.
	var open []string
	kv = map[string]string{}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, false // EOF included: the machine's element never closed
		}
		switch t := tok.(type) {
		case xml.StartElement:
			open = append(open, t.Name.Local)
			switch strings.Join(open, "/") {
			case "VirtualBox/Machine":
				if !strings.EqualFold(attr(t, "uuid"), "{"+uuid+"}") {
					return nil, false
				}
			case "VirtualBox/Machine/ExtraData/ExtraDataItem":
				kv[attr(t, "name")] = attr(t, "value")
			}
		case xml.EndElement:
			closed := strings.Join(open, "/")
			open = open[:len(open)-1]
			switch closed {
			case "VirtualBox/Machine/ExtraData", "VirtualBox/Machine":
				// The machine's only extradata element, or none.
				return kv, true
			case "VirtualBox":
				return nil, false // no Machine element
			}
		}
	}
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}
