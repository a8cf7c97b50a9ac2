package argodiff

import (
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
)

// ownershipExceptions are the corpus pairs where driftplane's verdict differs from Argo CD's on
// purpose, because field ownership says something a plain diff cannot know.
var ownershipExceptions = map[string]string{
	// The live label delete-me is owned by argocd-controller (the applier) and Git no longer
	// declares it: desired differs from recorded, a pending sync that a server-side apply would
	// remove. Argo's plain (non-server-side) diff ignores live-only fields, so it cannot see it;
	// driftplane reports STALE_DESIRED_STATE from managedFields.
	"gitops-engine/ssd-svc-no-label": "applier-owned label that Git dropped (pending sync)",
	// Recorded pairs where a person (kubectl label / patch / set env) added a field Git never
	// declared: Argo's plain diff applies the config over live and ignores live-only fields, so the
	// application stays Synced; managedFields name a human manager for the added field, and
	// driftplane reports UNAUTHORIZED_RUNTIME_DRIFT for it (internal/drift/kube: a field Git does
	// not declare keeps its manager's word).
	"recorded/cm-label-added":   "label added by a person with kubectl label",
	"recorded/cm-key-added":     "ConfigMap key added by a person with kubectl patch",
	"recorded/deploy-env-added": "container env var added by a person with kubectl set env",
}

var testUnit = &drift.ManagedUnit{
	Metadata: drift.Metadata{Name: "corpus"},
	Spec:     drift.UnitSpec{Kind: drift.UnitKubernetes, Owner: "team", Environment: "prod", RiskTier: "high", Gate: "high"},
}

// driftplaneDrift is driftplane's verdict: does any finding other than provider read noise come
// out of this pair? Controller-owned drift counts: it is drift, only not blocking.
func driftplaneDrift(t testing.TB, config, live *unstructured.Unstructured) (bool, []drift.Finding) {
	t.Helper()
	obs, err := kube.Compare(config.Object, live.Object)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := drift.Evaluate(testUnit, nil, []drift.Observation{obs}, drift.WithNow(time.Unix(0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		if f.DriftClass != drift.ClassProviderReadNoise {
			return true, rep.Findings
		}
	}
	return false, rep.Findings
}

// TestDifferentialAgainstArgoCD: for every corpus pair driftplane reports drift exactly when Argo
// CD's own diff reports Modified, except the pairs listed in ownershipExceptions, which must
// still disagree (an exception that no longer applies is removed, not kept).
func TestDifferentialAgainstArgoCD(t *testing.T) {
	pairs := corpusPairs(t)
	if len(pairs) < 15 {
		t.Fatalf("only %d corpus pairs", len(pairs))
	}
	for _, p := range pairs {
		t.Run(p.name, func(t *testing.T) {
			argo := argoModified(t, p.config.DeepCopy(), p.live.DeepCopy())
			dp, findings := driftplaneDrift(t, p.config, p.live)
			var desc []string
			for _, f := range findings {
				desc = append(desc, string(f.DriftClass)+" "+strings.Join(f.ChangedFields, ","))
			}
			reason, excepted := ownershipExceptions[p.name]
			switch {
			case excepted && dp == argo:
				t.Errorf("listed as an ownership exception (%s) but driftplane now agrees with Argo CD (%v); remove the exception", reason, argo)
			case !excepted && dp != argo:
				t.Errorf("Argo CD Modified=%v, driftplane drift=%v: %v", argo, dp, desc)
			default:
				t.Logf("Argo CD Modified=%v, driftplane drift=%v %v", argo, dp, desc)
			}
		})
	}
}

// BenchmarkDriftplaneDiff is driftplane's normalize + diff + classify over the same pairs as
// BenchmarkArgoDiff.
func BenchmarkDriftplaneDiff(b *testing.B) {
	pairs := corpusPairs(b)
	run := func() {
		for _, p := range pairs {
			obs, err := kube.Compare(p.config.Object, p.live.Object)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := drift.Evaluate(testUnit, nil, []drift.Observation{obs}, drift.WithNow(time.Unix(0, 0))); err != nil {
				b.Fatal(err)
			}
		}
	}
	run()
	b.ReportAllocs()
	for b.Loop() {
		run()
	}
}
