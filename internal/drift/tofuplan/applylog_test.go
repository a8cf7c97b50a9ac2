package tofuplan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

func readApplyLogFile(t *testing.T, name string) *ApplyLog {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "applylog", name))
	if err != nil {
		t.Fatal(err)
	}
	l, err := ReadApplyLog(name, data)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Logs of real OpenTofu 1.10 applies: one whose create of local_file.broken errored (its
// folder is a file), one that completed.
func TestReadApplyLog(t *testing.T) {
	failed := readApplyLogFile(t, "create-errored.jsonl")
	obs := failed.Failures()
	if len(obs) != 1 || obs[0].Ref != "local_file.broken" || obs[0].Type != "local_file" || obs[0].Failure == nil ||
		obs[0].Failure.Reason != drift.FailureApplyFailed || obs[0].Failure.Message != "Create local file error" {
		t.Fatalf("failures of the errored apply: %+v", obs)
	}
	if failed.Completed {
		t.Error("an apply that errored reads as completed")
	}
	ok := readApplyLogFile(t, "ok.jsonl")
	if got := ok.Failures(); len(got) != 0 || !ok.Completed {
		t.Errorf("a completed apply: failures %+v, completed %v", got, ok.Completed)
	}
}

// What a log cannot say is never a clean apply, and what it quotes of the configuration is
// never read.
func TestReadApplyLogAdversarial(t *testing.T) {
	line := func(s string) string { return s + "\n" }
	diag := func(summary, addr string) string {
		return line(`{"type":"diagnostic","diagnostic":{"severity":"error","summary":` + summary + `,"address":"` + addr + `",` +
			`"detail":"password=hunter2","snippet":{"code":"password = \"hunter2\"","values":[{"traversal":"var.pw","statement":"is \"hunter2\""}]}}}`)
	}
	for name, c := range map[string]struct {
		log     string
		wantErr string
		refs    []string
	}{
		"empty":              {log: "", wantErr: "empty"},
		"blank lines":        {log: "\n\n  \n", wantErr: "empty"},
		"not json":           {log: line(`{"type":"version"}`) + line("Error: boom"), wantErr: "line 2"},
		"json without type":  {log: line(`{"@level":"error"}`), wantErr: "line 1"},
		"an array":           {log: line(`[1,2]`), wantErr: "line 1"},
		"deep nesting":       {log: line(`{"type":"x","a":` + strings.Repeat("[", drift.MaxJSONDepth+1) + strings.Repeat("]", drift.MaxJSONDepth+1) + `}`), wantErr: "line 1"},
		"line too long":      {log: line(`{"type":"x","a":"` + strings.Repeat("a", maxApplyLogLine) + `"}`), wantErr: "too long"},
		"stopped midway":     {log: line(`{"type":"version"}`) + line(`{"type":"apply_start","hook":{"resource":{"addr":"local_file.a"}}}`), refs: []string{ApplyRef}},
		"whole apply failed": {log: line(`{"type":"version"}`) + diag(`"Failed to configure provider"`, ""), refs: []string{ApplyRef}},
		"errored and diagnosed": {log: line(`{"type":"apply_errored","hook":{"resource":{"addr":"module.m.aws_iam_role.r[\"x\"]"}}}`) +
			diag(`"creating IAM role"`, `module.m.aws_iam_role.r[\"x\"]`), refs: []string{`module.m.aws_iam_role.r["x"]`}},
		"diagnosed only": {log: diag(`"bad"`, "local_file.a") + line(`{"type":"change_summary","changes":{"operation":"apply"}}`), refs: []string{"local_file.a"}},
		"warning is not a failure": {log: line(`{"type":"diagnostic","diagnostic":{"severity":"warning","summary":"deprecated","address":"local_file.a"}}`) +
			line(`{"type":"change_summary","changes":{"operation":"apply"}}`)},
		"a plan's summary is not an apply's": {log: line(`{"type":"change_summary","changes":{"operation":"plan"}}`), refs: []string{ApplyRef}},
	} {
		t.Run(name, func(t *testing.T) {
			l, err := ReadApplyLog("x.jsonl", []byte(c.log))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), "x.jsonl") {
					t.Fatalf("error %v, want one naming x.jsonl and %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var refs []string
			for _, o := range l.Failures() {
				refs = append(refs, o.Ref)
				if strings.Contains(o.Failure.Message, "hunter2") {
					t.Errorf("a diagnostic's detail or snippet reached the failure: %q", o.Failure.Message)
				}
			}
			if strings.Join(refs, ",") != strings.Join(c.refs, ",") {
				t.Errorf("failures on %q, want %q", refs, c.refs)
			}
		})
	}
}

// FuzzReadApplyLog: any bytes as an apply log never panic; an accepted log's failures each name a
// resource and carry the failed-apply reason, and never a diagnostic's detail.
func FuzzReadApplyLog(f *testing.F) {
	for _, name := range []string{"create-errored.jsonl", "ok.jsonl"} {
		data, err := os.ReadFile(filepath.Join("testdata", "applylog", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"type":"diagnostic","diagnostic":{"severity":"error","summary":"s","detail":"SECRETDETAIL"}}`))
	f.Add([]byte("{\"type\":\"apply_errored\",\"hook\":{\"resource\":{\"addr\":\"\"}}}\n\n{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ReadApplyLog("f", data)
		if err != nil {
			return
		}
		for _, o := range l.Failures() {
			if o.Ref == "" || o.Failure == nil || o.Failure.Reason != drift.FailureApplyFailed {
				t.Fatalf("failure %+v", o)
			}
			if strings.Contains(o.Failure.Message, "SECRETDETAIL") {
				t.Fatalf("a detail reached the message: %q", o.Failure.Message)
			}
		}
	})
}
