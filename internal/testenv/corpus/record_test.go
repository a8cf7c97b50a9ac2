// Package corpus records the project's own conformance corpus from the real programs: the
// `tofu show -json` output of plans of the stacks under testdata/stacks (real OpenTofu, real
// hashicorp/local), and config/live object pairs from the real kube-apiserver + etcd harness
// (internal/testenv/kubetest), into testdata/corpus at the repository root, which the tests read.
//
// `make corpus` runs it:
//
//	go test ./internal/testenv/corpus -run TestRecordCorpus -record
//
// Without -record the recorder does not run (it rewrites committed files).
package corpus

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

var record = flag.Bool("record", false, "re-record testdata/corpus from the real OpenTofu and kube-apiserver")

// Dir is the recorded corpus, relative to the repository root.
const Dir = "testdata/corpus"

func TestRecordCorpus(t *testing.T) {
	if !*record {
		t.Skip("re-records the committed corpus: run `make corpus` (go test ./internal/testenv/corpus -run TestRecordCorpus -record)")
	}
	root := filepath.Join(testtools.Root(), Dir)
	for sub, rec := range map[string]func(*testing.T, string){"tofu-show-json": recordTofu, "k8s-diff": recordKube} {
		dir := filepath.Join(root, sub)
		t.Run(sub, func(t *testing.T) {
			// Recorded afresh: a case removed from the recorder leaves no stale file behind.
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			if sub == "k8s-diff" {
				if err := os.RemoveAll(filepath.Join(root, "k8s-audit")); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			rec(t, dir)
		})
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
