package route

import (
	"os"
	"testing"
)

// FuzzDecode: the routing policy parser never panics on untrusted YAML (an application's
// repository holds it), and whatever it accepts routes every label set to at least one route and
// survives its own canonical JSON.
func FuzzDecode(f *testing.F) {
	example, err := os.ReadFile("testdata/example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example, "identity", "HIGH")
	f.Add([]byte(head+"  route:\n    receivers: [root]\n    routes:\n      - {matchers: ['{domain=~\"a|b\", risk!=\"INFO\"}'], receivers: [a], continue: true}\n"), "a", "INFO")
	f.Add([]byte(head+"  route: {receivers: [root], groupBy: ['...']}\n  silences:\n    - {name: s, matchers: ['unit=\"x\"'], reason: r, createdBy: me, expiresAt: \"2026-12-02T00:00:00Z\"}\n"), "x", "LOW")
	f.Add([]byte("apiVersion: drift.driftplane.io/v1alpha1\nkind: DriftRoutingPolicy\nspec: {route: {routes: [{routes: [{}]}]}}\n"), "", "")
	f.Add([]byte("{]"), "", "")
	f.Fuzz(func(t *testing.T, data []byte, domain, risk string) {
		p, err := Decode("fuzz.yaml", data, at)
		if err != nil {
			return
		}
		for _, ls := range []Labels{{}, Labels{"domain": domain, "risk": risk, "unit": "x"}.Normalize()} {
			ds, err := p.Route(ls, at)
			if err != nil || len(ds) == 0 {
				t.Fatalf("an accepted policy routes %v nowhere: %v %v", ls, ds, err)
			}
			for _, d := range ds {
				if d.Notify == (len(d.Receivers) == 0) {
					t.Fatalf("notify %v with receivers %v", d.Notify, d.Receivers)
				}
			}
		}
		js, err := p.JSON()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode("policy_json", js, at); err != nil {
			t.Fatalf("the canonical JSON of an accepted policy is refused: %v\n%s", err, js)
		}
	})
}
