package vbox

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The parsers read the simulator's golden output, which follows VirtualBox's
// format strings (docs/simulator.md, "Monitoring").
func readGolden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "vboxsim", "testdata", "golden", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseGuestPropertiesBothFormats(t *testing.T) {
	for _, f := range []string{"guestproperty-enumerate-61.txt", "guestproperty-enumerate-70.txt", "guestproperty-enumerate-71.txt"} {
		p := parseGuestProperties(readGolden(t, f))
		want := map[string]string{
			"/VirtualBox/GuestInfo/Net/Count":        "2",
			"/VirtualBox/GuestInfo/Net/0/V4/IP":      "10.0.2.15",
			"/VirtualBox/GuestInfo/Net/0/MAC":        "080027AABBCC",
			"/VirtualBox/GuestInfo/OS/ServicePack":   "",
			"/VirtualBox/GuestInfo/OS/Product":       "Linux",
			"/VirtualBox/GuestInfo/OS/Version":       "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)",
			"/VirtualBox/GuestInfo/Net/1/V4/Netmask": "255.255.255.0",
		}
		for k, v := range want {
			if got, ok := p[k]; !ok || got != v {
				t.Errorf("%s: %s = %q (present %v), want %q", f, k, got, ok, v)
			}
		}
	}
	// Values with the separators of either format.
	p := parseGuestProperties([]byte("Name: /a, value: x, y, timestamp: 1, flags: z, timestamp: 2, flags: \n" +
		"/b = 'it''s @ here'   @ 2024-05-02T10:00:02.000Z TRANSIENT\n/c = 'plain'\n"))
	if want := map[string]string{"/a": "x, y, timestamp: 1, flags: z", "/b": "it''s @ here", "/c": "plain"}; !reflect.DeepEqual(p, want) {
		t.Errorf("tricky values: %q", p)
	}
	ifs := guestInterfaces(parseGuestProperties(readGolden(t, "guestproperty-enumerate-70.txt")))
	if len(ifs) != 2 || ifs[0].Name != "enp0s3" || ifs[0].HWAddr != "08:00:27:aa:bb:cc" || ifs[0].Addrs[0].Addr != "10.0.2.15" || ifs[0].Addrs[0].Prefix != 24 {
		t.Errorf("interfaces: %+v", ifs)
	}
}

func TestParseMetricsQuery(t *testing.T) {
	m := parseMetricsQuery(readGolden(t, "metrics-query-70.txt"))
	if m["web01"]["CPU/Load/User"] != 4.30 || m["web01"]["Guest/RAM/Usage/Total"] != 2097152 || m["host"]["RAM/Usage/Free"] != 10103860 {
		t.Errorf("metrics: %v", m)
	}
	if _, ok := m["web01"]["CPU/Load/User:avg"]; ok {
		t.Error("aggregates kept")
	}
	// A long object name with spaces, a metric with several samples, one
	// with none yet.
	m = parseMetricsQuery([]byte("Object          Metric                                   Values\n---\n" +
		"my very long vm name RAM/Usage/Used                           100 kB, 200 kB\n" +
		"web01           Guest/RAM/Usage/Free                     \n"))
	if m["my very long vm name"]["RAM/Usage/Used"] != 200 || len(m["web01"]) != 0 {
		t.Errorf("edge lines: %v", m)
	}
}

func TestParseStatistics(t *testing.T) {
	c, err := parseStatistics(readGolden(t, "debugvm-statistics-70.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if c["/Public/NetAdapter/0/BytesReceived"] == 0 || c["/Public/Storage/AHCI0/Port0/BytesRead"] == 0 || c["/TM/CPU/01/cNsExecuting"] == 0 {
		t.Errorf("counters: %v", c)
	}
	s := &vmSample{counters: c}
	total, per := s.cpuTime()
	if len(per) != 2 || total != per[0]+per[1] || total == 0 {
		t.Errorf("cpu time %d %v", total, per)
	}
	if _, err := parseStatistics([]byte("<Statistics><Counter c=")); err == nil {
		t.Error("truncated XML accepted")
	}
}
