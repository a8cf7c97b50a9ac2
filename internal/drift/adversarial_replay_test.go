package drift_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
	"github.com/driftplane/terraform-provider-drift/internal/drift/tofuplan"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/adversarial"
)

func replayUnit(kubernetes bool) *drift.ManagedUnit {
	u := &drift.ManagedUnit{Metadata: drift.Metadata{Name: "payments"}, Spec: drift.UnitSpec{
		Kind: drift.UnitOpenTofuStack, Owner: "team", Environment: "prod", RiskTier: "critical", Gate: "high"}}
	if kubernetes {
		u.Spec.Kind = drift.UnitKubernetes
	}
	return u
}

// replayObservation is drift every exception row names: the security group opened to the world,
// or a person's image change in prod.
func replayObservation(kubernetes bool) drift.Observation {
	if kubernetes {
		return drift.Observation{Ref: "apps/v1/Deployment/web/web", Type: "apps/Deployment", Group: "apps", Kind: "Deployment", Namespace: "web", Name: "web",
			Recorded: map[string]any{"spec": map[string]any{"template": map[string]any{"image": "web:1"}}},
			Actual:   map[string]any{"spec": map[string]any{"template": map[string]any{"image": "evil:6"}}}}
	}
	return drift.Observation{Ref: "module.net.aws_security_group.web", Type: "aws_security_group",
		Recorded: map[string]any{"ingress": []any{"10.0.0.0/8"}}, Actual: map[string]any{"ingress": []any{"10.0.0.0/8", "0.0.0.0/0"}}}
}

func wantAll(t *testing.T, what string, got string, wants []string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Errorf("%s %q lacks %q", what, got, w)
		}
	}
}

// TestReplayAdversarialTable runs every row of the adversarial table through the core and the
// readers it applies to. Every row passed the gate (or blinded it) before issue 9.
func TestReplayAdversarialTable(t *testing.T) {
	dg, err := drift.NewDigester([]byte("replay-key-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range adversarial.Rows {
		t.Run(row.Name, func(t *testing.T) {
			switch {
			case row.Exception != nil:
				x := row.Exception
				e, err := drift.DecodeException("row", []byte(x.YAML("payments")))
				if err == nil {
					var opts []drift.Option
					if x.EvaluatedAgo > 0 {
						opts = append(opts, drift.WithNow(time.Now().Add(-x.EvaluatedAgo)))
					}
					var rep *drift.Report
					rep, err = drift.Evaluate(replayUnit(row.Kubernetes), []*drift.Exception{e}, []drift.Observation{replayObservation(row.Kubernetes)}, opts...)
					if err == nil {
						f := rep.Findings[0]
						if !row.Blocks || !f.Blocking || f.AcceptedBy != "" {
							t.Fatalf("the exception was taken: %+v", f)
						}
						wantAll(t, "explanation", f.Explanation, row.Want)
						return
					}
				}
				if row.Blocks {
					t.Fatalf("want a blocking finding, got the error %v", err)
				}
				wantAll(t, "error", err.Error(), row.Want)
			case row.Plan != "":
				p, err := tofuplan.Read("row.json", []byte(row.Plan), tofuplan.WithDigester(dg))
				if len(row.Planted) > 0 {
					if err != nil {
						t.Fatal(err)
					}
					rep, err := drift.Evaluate(replayUnit(false), nil, p.Observations)
					if err != nil {
						t.Fatal(err)
					}
					out, _ := drift.CanonicalJSON(rep)
					for _, s := range row.Planted {
						if bytes.Contains(out, []byte(s)) {
							t.Fatalf("planted %q in the report: %s", s, out)
						}
					}
					return
				}
				if err == nil {
					t.Fatalf("read as a plan with %d observations", len(p.Observations))
				}
				wantAll(t, "error", err.Error(), append([]string{"row.json"}, row.Want...))
			case row.Manifests != "":
				path := filepath.Join(t.TempDir(), "app.yaml")
				if err := os.WriteFile(path, []byte(row.Manifests), 0o600); err != nil {
					t.Fatal(err)
				}
				_, err := kube.LoadManifests(path)
				if err == nil {
					t.Fatal("manifests accepted")
				}
				wantAll(t, "error", err.Error(), append([]string{path}, row.Want...))
			case row.AutoHeal != "":
				b, err := drift.DecodeDocuments("row.yaml", []byte(row.AutoHeal))
				if err == nil {
					err = b.AutoHeal[0].Validate()
				}
				if err == nil {
					t.Fatal("auto-heal policy accepted")
				}
				wantAll(t, "error", err.Error(), row.Want)
			default:
				t.Fatal("a row without input")
			}
		})
	}
	seen := map[int]bool{}
	for _, r := range adversarial.Rows {
		seen[r.Class] = true
	}
	for _, c := range []int{adversarial.ClassExceptionScope, adversarial.ClassTime, adversarial.ClassNotAPlan, adversarial.ClassSecrets, adversarial.ClassAutoHeal, adversarial.ClassBoundedInput} {
		if !seen[c] {
			t.Errorf("class %d has no row", c)
		}
	}
}
