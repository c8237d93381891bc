package domxml

import (
	"testing"
)

var samples = []string{"showvminfo-6.1.txt", "showvminfo-7.0.txt", "showvminfo-7.1.txt"}

// TestRoundTripEmptyPlan is `virsh dumpxml | virsh define` and an unchanged
// `virsh edit`: the XML of a machine, defined over that machine, changes
// nothing.
func TestRoundTripEmptyPlan(t *testing.T) {
	for _, name := range samples {
		for _, version := range []string{"6.1.38", "7.0.14", "7.1.4"} {
			t.Run(name+"/"+version, func(t *testing.T) {
				info := loadInfo(t, name)
				for _, rt := range []Runtime{{ID: -1}, {ID: 4, Active: true}} {
					dom, err := ToDomain(info, rt)
					if err != nil {
						t.Fatal(err)
					}
					s, err := FormatXML(dom)
					if err != nil {
						t.Fatal(err)
					}
					parsed, err := ParseDomain(s)
					if err != nil {
						t.Fatalf("ParseDomain of our own XML: %v\n%s", err, s)
					}
					plan, err := PlanDefine(parsed, &info, PlanOptions{Version: version})
					if err != nil {
						t.Fatal(err)
					}
					if !plan.Empty() || plan.Create {
						for _, st := range plan.Steps {
							t.Log(st)
						}
						t.Fatalf("plan for an unchanged document is not empty (active=%v)", rt.Active)
					}
				}
			})
		}
	}
}
