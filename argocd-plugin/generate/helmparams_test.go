package generate

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseHelmParams(t *testing.T) {
	p, err := ParseHelmParams(map[string]string{
		EnvHelmValuesFiles: "a.yaml, b.yaml",
		EnvHelmReleaseName: "from-env",
		EnvHelmSet:         "x=1,y=2",
		EnvAppParameters: `[{"name":"values-files","array":["c.yaml"]},{"name":"set","map":{"b":"1,2","a":"{x,y}","c":"d\\,e"}},` +
			`{"name":"set-string","map":{"n":"007"}},{"name":"release-name","string":" rel "},{"name":"skip-crds","string":"true"},` +
			`{"name":"values","string":"k: v\n"},{"name":"set-file","map":{"f":"files/f.txt"}},{"name":"ignore-missing-value-files","string":"false"}]`,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := HelmParams{
		ValuesFiles: []string{"c.yaml"}, // the parameter replaces the variable's list
		Values:      "k: v\n",
		// The variable's raw --set first, then one assignment per map entry, by name; commas
		// in a value are literal unless it is a {list} or already escaped.
		Set:         []string{"x=1,y=2", "a={x,y}", `b=1\,2`, `c=d\,e`},
		SetString:   []string{"n=007"},
		SetFile:     map[string]string{"f": "files/f.txt"},
		ReleaseName: "rel",
		SkipCRDs:    true,
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("got  %+v\nwant %+v", p, want)
	}
	env, err := ParseHelmParams(map[string]string{EnvHelmValuesFiles: "a.yaml,,b.yaml", EnvHelmReleaseName: "r"})
	if err != nil || !reflect.DeepEqual(env.ValuesFiles, []string{"a.yaml", "b.yaml"}) || env.ReleaseName != "r" {
		t.Errorf("variables alone: %+v %v", env, err)
	}
	for _, empty := range []string{"", "null", " [] "} {
		if p, err := ParseHelmParams(map[string]string{EnvAppParameters: empty}); err != nil || len(p.given()) != 0 {
			t.Errorf("%q: %+v %v", empty, p, err)
		}
	}
}

// TestParseHelmParamsRefuses: every malformed or unknown parameter is an error naming it, never
// a render with the parameter dropped.
func TestParseHelmParamsRefuses(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{`{"name":"values-files"}`, "want a JSON array"},
		{`[{"name":"value-files","array":["a"]}]`, `parameter "value-files": unknown parameter`},
		{`[{"name":"values-files","string":"a.yaml"}]`, "want an array"},
		{`[{"name":"values-files","array":[""]}]`, "element 0 is empty"},
		{`[{"name":"set","array":["a=1"]}]`, "want a map"},
		{`[{"name":"set","map":{"a=b":"1"}}]`, "cannot be part of a name"},
		{`[{"name":"set","map":{"a,b":"1"}}]`, "cannot be part of a name"},
		{`[{"name":"set","map":{"":"1"}}]`, "empty name"},
		{`[{"name":"set-file","map":{"a":" "}}]`, "empty path"},
		{`[{"name":"skip-crds","string":"yes please"}]`, "want true or false"},
		{`[{"name":"release-name","map":{}}]`, "want a string"},
		{`[{"name":"set","map":{},"array":[]}]`, "exactly one of"},
		{`[{"name":"set"}]`, "exactly one of"},
		{`[{"string":"x"}]`, "has no name"},
		{`[{"name":"values","string":"a"},{"name":"values","string":"b"}]`, "given twice"},
		{`[{"name":"values","string":"a","extra":1}]`, "unknown field"},
		{`[] []`, "trailing data"},
		{`[{"name":"values","string":"a"}`, "want a JSON array"},
	} {
		_, err := ParseHelmParams(map[string]string{EnvAppParameters: tc.raw})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.raw, err, tc.want)
		}
	}
}

// FuzzParseHelmParams: ARGOCD_APP_PARAMETERS comes from whoever may edit the Application. The
// parser never panics, and what it accepts is well-formed: one assignment per set entry whose
// name survives helm's parsing, values files non-empty.
func FuzzParseHelmParams(f *testing.F) {
	for _, seed := range []string{
		``, `null`, `[]`,
		`[{"name":"values-files","array":["values-prod.yaml","/envs/prod.yaml"]}]`,
		`[{"name":"set","map":{"image.tag":"2.8.0","list":"{a,b}","c":"a\\,b"}}]`,
		`[{"name":"set-string","map":{"a":"007"}},{"name":"release-name","string":"x"}]`,
		`[{"name":"set-file","map":{"cfg":"../../etc/passwd"}},{"name":"skip-crds","string":"TRUE"}]`,
		`[{"name":"values","string":"a: {b: c}"},{"name":"ignore-missing-value-files","string":"1"}]`,
		`[{"name":"set","map":{"a=b":"c"}}]`, `[{"name":"x"}]`, `[1]`, `[{"name":null}]`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := ParseHelmParams(map[string]string{EnvAppParameters: raw})
		if err != nil {
			return
		}
		for _, s := range append(append([]string{}, p.Set...), p.SetString...) {
			name, _, ok := strings.Cut(s, "=")
			if !ok || name == "" || strings.ContainsAny(name, ",\n") {
				t.Fatalf("accepted assignment %q", s)
			}
		}
		for _, v := range p.ValuesFiles {
			if strings.TrimSpace(v) == "" {
				t.Fatalf("accepted an empty values file: %q", raw)
			}
		}
		for k, v := range p.SetFile {
			if strings.ContainsAny(k, "=,") || strings.TrimSpace(v) == "" {
				t.Fatalf("accepted set-file %q=%q", k, v)
			}
		}
	})
}
