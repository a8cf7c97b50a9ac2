package scan

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/adversarial"
)

// TestScanReplaysAdversarialTable: every row of the adversarial table a scheduled scan meets (an
// exception in the registry, a plan file) makes the unit unknown with the refusal named, never
// clean or drifted-and-accepted; planted secrets appear in no output format.
func TestScanReplaysAdversarialTable(t *testing.T) {
	network := planPath(t, "secrets-plan.json")
	rows := adversarial.Select(func(r adversarial.Row) bool {
		return !r.Kubernetes && ((r.Exception != nil && r.Exception.EvaluatedAgo == 0) || r.Plan != "")
	})
	if len(rows) == 0 {
		t.Fatal("no rows")
	}
	for _, row := range rows {
		t.Run(row.Name, func(t *testing.T) {
			u := testUnit(t, "payments")
			plan := network
			if row.Plan != "" {
				plan = filepath.Join(t.TempDir(), "plan.json")
				if err := os.WriteFile(plan, []byte(row.Plan), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if x := row.Exception; x != nil {
				e, err := drift.DecodeDocuments("row", []byte(x.YAML("payments")))
				if err != nil {
					t.Fatal(err)
				}
				u.Exceptions = e.Exceptions
			}
			r := Run(context.Background(), []Unit{u}, Options{Tofu: fakeTofu(t), Env: []string{"FAKE_PLAN=" + plan}})[0]
			if len(row.Planted) > 0 {
				for _, format := range []string{"text", "json", "markdown", "sarif"} {
					var buf bytes.Buffer
					if err := Write(&buf, format, []Result{r}); err != nil {
						t.Fatal(err)
					}
					for _, s := range row.Planted {
						if strings.Contains(buf.String(), s) {
							t.Errorf("%s output holds planted %q", format, s)
						}
					}
				}
				return
			}
			if r.Status != StatusUnknown {
				t.Fatalf("status %s, want %s (error %q)", r.Status, StatusUnknown, r.Error)
			}
			for _, w := range row.Want {
				if !strings.Contains(r.Error, w) {
					t.Errorf("error %q lacks %q", r.Error, w)
				}
			}
		})
	}
}
