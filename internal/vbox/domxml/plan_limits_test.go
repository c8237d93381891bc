package domxml

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/virtvboxd/virtvboxd/internal/errdefs"
)

func TestPlanDefineHostLimits(t *testing.T) {
	doc := func(vcpu, memMiB int, desc string) string {
		return "<domain type='vbox'><name>lim</name><description>" + desc + "</description>" +
			"<memory unit='MiB'>" + strconv.Itoa(memMiB) + "</memory><vcpu>" + strconv.Itoa(vcpu) + "</vcpu>" +
			"<os><type>hvm</type></os></domain>"
	}
	limits := &Limits{MaxCPUs: 64, MinRAMMiB: 4, MaxRAMMiB: 2097152}
	for _, tc := range []struct {
		name, xml string
		want      string // "" = plans
	}{
		{"within", doc(64, 2048, "ok"), ""},
		{"too many vCPUs", doc(9999, 2048, ""), "9999 vCPUs requested, but VirtualBox on this host allows at most 64"},
		{"too little RAM", doc(1, 2, ""), "memory 2 MiB is below VirtualBox's minimum guest RAM size of 4 MiB"},
		{"too much RAM", doc(1, 4194304, ""), "memory 4194304 MiB is above VirtualBox's maximum guest RAM size of 2097152 MiB"},
		{"huge description", doc(1, 512, strings.Repeat("x", 200<<10)), "description of 204800 bytes is longer than the 65536 bytes VirtualBox can be given"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dom, err := ParseDomain(tc.xml)
			if err != nil {
				t.Fatal(err)
			}
			p, err := PlanDefine(dom, nil, PlanOptions{Version: "7.0.20", Limits: limits})
			if tc.want == "" {
				if err != nil || p == nil || !p.Create {
					t.Fatalf("PlanDefine: %v", err)
				}
				return
			}
			if !errors.Is(err, errdefs.ErrConfigUnsupported) || errdefs.Detail(err) != tc.want {
				t.Fatalf("PlanDefine error %v, want unsupported configuration %q", err, tc.want)
			}
		})
	}
	// Without limits (they could not be read) only the description is checked.
	dom, err := ParseDomain(doc(9999, 2048, ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := PlanDefine(dom, nil, PlanOptions{Version: "7.0.20"}); err != nil {
		t.Errorf("PlanDefine without limits: %v", err)
	}
}
