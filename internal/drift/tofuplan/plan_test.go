package tofuplan

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

func TestReadRealRefreshOnlyPlan(t *testing.T) {
	// Written by OpenTofu 1.10.10 after both local files were changed out of band: the local
	// provider reports a changed file as gone.
	p, err := ReadFile("testdata/local-refresh-only.json")
	if err != nil {
		t.Fatal(err)
	}
	if !p.RefreshOnly || p.Timestamp != "2026-11-22T04:37:54Z" || len(p.Observations) != 2 {
		t.Fatalf("plan: refresh-only %v timestamp %q observations %d", p.RefreshOnly, p.Timestamp, len(p.Observations))
	}
	for _, o := range p.Observations {
		if !o.Deleted {
			t.Errorf("%s: want deleted", o.Ref)
		}
	}
	sens := p.Observations[1]
	if sens.Ref != "local_sensitive_file.s" || len(sens.SensitivePaths) != 1 || sens.SensitivePaths[0].String() != "/content" {
		t.Fatalf("sensitive observation: %+v", sens)
	}
	b, _ := json.Marshal(sens.Recorded)
	if bytes.Contains(b, []byte("topsecret")) {
		t.Fatalf("sensitive content survived redaction: %s", b)
	}
}

func TestReadNormalPlanPlanes(t *testing.T) {
	p, err := ReadFile("testdata/normal-sensitive.json")
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, o := range p.Observations {
		refs = append(refs, o.Ref)
	}
	if got := strings.Join(refs, " "); got != "aws_db_instance.main aws_instance.app module.net.aws_security_group.web" {
		t.Fatalf("observations %s (data sources must be skipped)", got)
	}
	unit := &drift.ManagedUnit{Metadata: drift.Metadata{Name: "u"}, Spec: drift.UnitSpec{
		Kind: drift.UnitOpenTofuStack, Owner: "o", Environment: "prod", RiskTier: "high", Gate: "high"}}
	rep, err := drift.Evaluate(unit, nil, p.Observations, drift.WithNow(time.Unix(0, 0)), drift.WithDetectedAt(p.Timestamp))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range rep.Findings {
		got[f.ResourceRef] = string(f.DriftClass) + " " + string(f.Risk) + " " + strings.Join(f.ChangedFields, ",") + " sensitive=" + strings.Join(f.SensitiveFields, ",")
		if f.DetectedAt != p.Timestamp {
			t.Errorf("detected_at %q", f.DetectedAt)
		}
	}
	want := map[string]string{
		"aws_db_instance.main":              "UNAUTHORIZED_RUNTIME_DRIFT HIGH /instance_class,/password sensitive=/password",
		"aws_instance.app":                  "STATE_DRIFT LOW /instance_type sensitive=",
		"module.net.aws_security_group.web": "UNAUTHORIZED_RUNTIME_DRIFT CRITICAL /ingress/0/cidr_blocks/1 sensitive=",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s:\n got %s\nwant %s", k, got[k], v)
		}
	}
	out, _ := drift.CanonicalJSON(rep)
	if bytes.Contains(out, []byte("s3cr3t")) {
		t.Fatalf("sensitive value leaked: %s", out)
	}
}

func TestReadErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, _ := os.ReadFile("testdata/normal-sensitive.json")
	unreadable := write("unreadable.json", string(good))
	if err := os.Chmod(unreadable, 0); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		filepath.Join(dir, "missing.json"):                                                             "does not exist",
		write("empty.json", ""):                                                                        "is empty",
		write("truncated.json", string(good[:len(good)/2])):                                            "truncated",
		write("binary.json", "PK\x03\x04tfplan"):                                                       "not JSON",
		write("array.json", `[1,2]`):                                                                   "not JSON",
		write("noversion.json", `{"planned_values":{}}`):                                               "format version is missing",
		write("future.json", `{"format_version":"2.0","planned_values":{}}`):                           "unsupported plan format",
		write("state.json", `{"format_version":"1.0","values":{"root_module":{}}}`):                    "holds a state",
		write("errored.json", `{"format_version":"1.2","planned_values":{},"errored":true}`):           "errored",
		write("badtype.json", `{"format_version":"1.2","planned_values":{},"resource_drift":{"a":1}}`): "shape",
		write("create.json", `{"format_version":"1.2","planned_values":{},"resource_drift":[{"address":"a.b","mode":"managed","type":"a","change":{"actions":["create"]}}]}`): "unexpected action",
		write("garbage.json", `{"format_version":"1.2",`+"\x00"+`}`): "not valid JSON",
	}
	if os.Geteuid() != 0 { // root reads anything
		cases[unreadable] = "not readable"
	}
	for path, want := range cases {
		_, err := ReadFile(path)
		if err == nil {
			t.Errorf("%s: no error, want %q", path, want)
			continue
		}
		if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %q should name the file and say %q", path, err, want)
		}
	}
	_, err := ReadFile(filepath.Join(dir, "state.json"))
	if !errors.Is(err, ErrNotPlan) {
		t.Errorf("state file error should wrap ErrNotPlan: %v", err)
	}
}

// corpora are the conformance corpora of plan JSON: the project's own, recorded from the real
// OpenTofu by `make corpus` (internal/testenv/corpus) and committed, which always runs; and
// OpenTofu's own show-json test outputs in ../shared/corpus, which run in addition when present.
var corpora = []struct {
	name, dir string
	required  bool
}{
	{"recorded", "../../../testdata/corpus/tofu-show-json", true},
	{"shared", "../../../../shared/corpus/tofu-show-json", false},
}

func TestCorpus(t *testing.T) {
	for _, c := range corpora {
		t.Run(c.name, func(t *testing.T) {
			entries, err := os.ReadDir(c.dir)
			if err != nil && !c.required {
				t.Skipf("the extra corpus %s is absent (%v)", c.dir, err)
			}
			if err != nil {
				t.Fatalf("the recorded corpus is missing: %v (make corpus records it)", err)
			}
			if len(entries) == 0 {
				t.Fatalf("corpus %s is empty", c.dir)
			}
			if n := testCorpus(t, c.dir, entries); c.required && n == 0 {
				t.Errorf("the recorded corpus holds no sensitive value to check for leaks")
			}
		})
	}
}

// testCorpus checks every plan of a corpus and returns how many sensitive values it checked the
// reports for.
func testCorpus(t *testing.T, corpus string, entries []os.DirEntry) (sensitiveChecked int) {
	unit := &drift.ManagedUnit{Metadata: drift.Metadata{Name: "corpus"}, Spec: drift.UnitSpec{
		Kind: drift.UnitOpenTofuStack, Owner: "o", Environment: "prod", RiskTier: "high"}}
	for _, e := range entries {
		name := filepath.Join(corpus, e.Name())
		t.Run(e.Name(), func(t *testing.T) {
			raw, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Errored       bool `json:"errored"`
				ResourceDrift []struct {
					Address string `json:"address"`
				} `json:"resource_drift"`
				ResourceChanges []struct {
					Change struct {
						Before          any `json:"before"`
						After           any `json:"after"`
						BeforeSensitive any `json:"before_sensitive"`
						AfterSensitive  any `json:"after_sensitive"`
					} `json:"change"`
				} `json:"resource_changes"`
			}
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			p, err := ReadFile(name)
			if doc.Errored {
				if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "errored") {
					t.Fatalf("errored plan must be an error naming the file, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("valid plan rejected: %v", err)
			}
			var want, got []string
			for _, d := range doc.ResourceDrift {
				want = append(want, d.Address)
			}
			rep, err := drift.Evaluate(unit, nil, p.Observations)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range rep.Findings {
				got = append(got, f.ResourceRef)
			}
			sort.Strings(want)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("findings for %v, want exactly the drifted addresses %v", got, want)
			}
			if len(want) > 0 && rep.Status != drift.StatusDrifted {
				t.Errorf("status %s with drift", rep.Status)
			}
			// No value the plan marks sensitive reaches the report.
			var secrets []string
			var drifted struct {
				ResourceDrift []struct {
					Change struct {
						Before          any `json:"before"`
						After           any `json:"after"`
						BeforeSensitive any `json:"before_sensitive"`
						AfterSensitive  any `json:"after_sensitive"`
					} `json:"change"`
				} `json:"resource_drift"`
			}
			_ = json.Unmarshal(raw, &drifted)
			for _, c := range append(drifted.ResourceDrift, doc.ResourceChanges...) {
				sensitiveStrings(c.Change.Before, c.Change.BeforeSensitive, &secrets)
				sensitiveStrings(c.Change.After, c.Change.AfterSensitive, &secrets)
			}
			out, err := drift.CanonicalJSON(rep)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range secrets {
				if strings.Contains(string(out), v) {
					t.Errorf("the report leaks a sensitive value %q", v)
				}
			}
			sensitiveChecked += len(secrets)
		})
	}
	return sensitiveChecked
}

// sensitiveStrings collects the strings (of 4 bytes or more) of val that mark (a plan's
// *_sensitive shape) marks sensitive.
func sensitiveStrings(val, mark any, out *[]string) {
	switch m := mark.(type) {
	case bool:
		if m {
			allStrings(val, out)
		}
	case map[string]any:
		v, _ := val.(map[string]any)
		for k, mk := range m {
			sensitiveStrings(v[k], mk, out)
		}
	case []any:
		v, _ := val.([]any)
		for i, mk := range m {
			if i < len(v) {
				sensitiveStrings(v[i], mk, out)
			}
		}
	}
}

func allStrings(val any, out *[]string) {
	switch v := val.(type) {
	case string:
		if len(v) >= 4 {
			*out = append(*out, v)
		}
	case map[string]any:
		for _, x := range v {
			allStrings(x, out)
		}
	case []any:
		for _, x := range v {
			allStrings(x, out)
		}
	}
}
