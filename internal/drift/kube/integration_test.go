package kube_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube/kubetest"
)

// TestKubeIntegration runs the Kubernetes plane against a real etcd + kube-apiserver: Git's
// manifests applied by the applier, then an image patched by a human with kubectl, a scale by a
// controller, a sidecar by an injector, a ConfigMap change by a break-glass engineer under an
// exception, a Secret rotated by hand, and one declared object never applied.
func TestKubeIntegration(t *testing.T) {
	c := kubetest.Start(t)
	sc := kubetest.SetUpScenario(t, c)

	cfg, ns, err := kube.ClientConfig(sc.ReaderKubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := kube.NewCluster(cfg, ns)
	if err != nil {
		t.Fatal(err)
	}
	audit, err := kube.ReadAuditLogFile(c.AuditLog)
	if err != nil {
		t.Fatal(err)
	}
	manifests, err := kube.LoadManifests(sc.AllDir)
	if err != nil {
		t.Fatal(err)
	}
	src := &kube.Source{Cluster: cluster, Audit: audit}
	obs, err := src.Observe(context.Background(), manifests)
	if err != nil {
		t.Fatal(err)
	}
	unit := &drift.ManagedUnit{
		Metadata: drift.Metadata{Name: "web-prod"},
		Spec: drift.UnitSpec{
			Kind: drift.UnitKubernetes, Owner: "team-web", Environment: "prod", RiskTier: "high", Gate: "high",
			BreakGlassGroups: []string{kubetest.BreakGlass},
			OwnershipRules: []drift.OwnershipRule{{
				Resource:        drift.ResourceMatch{Group: "apps", Kind: "Deployment"},
				ControllerOwned: []drift.ControllerPath{{Path: "/spec/replicas", Owner: "horizontal-pod-autoscaler"}},
			}},
		},
	}
	exc := &drift.Exception{Metadata: drift.Metadata{Name: "EXC-77"}, Spec: drift.ExceptionSpec{
		Unit: "web-prod", Resource: "/v1/ConfigMap/web/web-config", Paths: []string{"/data/MAX_CONNECTIONS"},
		DriftClass: "EMERGENCY_DRIFT", Reason: "connection storm during INC-77", Ticket: "INC-77", ApprovedBy: "sre-lead",
		ExpiresAt: time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339),
	}}
	rep, err := drift.Evaluate(unit, []*drift.Exception{exc}, obs)
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		class, risk, fields, actor, accepted string
		blocking                             bool
	}
	var all []got
	for _, f := range rep.Findings {
		all = append(all, got{string(f.DriftClass), string(f.Risk), strings.Join(f.ChangedFields, ","), f.Actor, f.AcceptedBy, f.Blocking})
		t.Logf("%s %s %s %v actor=%q accepted=%q blocking=%v: %s", f.ResourceRef, f.DriftClass, f.Risk, f.ChangedFields, f.Actor, f.AcceptedBy, f.Blocking, f.Explanation)
	}
	want := []got{
		{"STATE_DRIFT", "MEDIUM", "", "", "", false},                                                               // web-feature-flags: declared, never applied
		{"EMERGENCY_DRIFT", "MEDIUM", "/data/MAX_CONNECTIONS", "bob", "EXC-77", false},                             // break-glass, accepted
		{"UNAUTHORIZED_RUNTIME_DRIFT", "HIGH", "/data/password", "carol", "", true},                                // secret rotated by hand
		{"UNAUTHORIZED_RUNTIME_DRIFT", "HIGH", "/spec/template/spec/containers/name=app/image", "alice", "", true}, // image patched
		{"CONTROLLER_OWNED_DRIFT", "INFO", "/spec/replicas", "system:kube-controller-manager", "", false},
		{"CONTROLLER_OWNED_DRIFT", "INFO", "/spec/template/spec/containers/name=istio-proxy", "system:serviceaccount:istio-system:istiod", "", false},
	}
	if len(all) != len(want) {
		t.Fatalf("got %d findings, want %d", len(all), len(want))
	}
	byFields := map[string]got{}
	for _, g := range all {
		byFields[g.fields] = g
	}
	for _, w := range want {
		if byFields[w.fields] != w {
			t.Errorf("finding for %q:\n got %+v\nwant %+v", w.fields, byFields[w.fields], w)
		}
	}
	var image drift.Finding
	for _, f := range rep.Findings {
		if f.Actor == "alice" {
			image = f
		}
	}
	if d := image.ActorDetail; d == nil || d.Kind != drift.ActorHuman || d.Manager != "kubectl-set" ||
		!strings.HasPrefix(d.UserAgent, "kubectl/") || strings.Join(d.Groups, ",") != "devs,"+kubetest.WritersGroup+",system:authenticated" || d.Time == "" {
		t.Errorf("image actor detail: %+v", image.ActorDetail)
	}
	if rep.BlockingCount != 2 || rep.Status != drift.StatusDrifted {
		t.Errorf("blocking %d status %s", rep.BlockingCount, rep.Status)
	}
	out, _ := json.Marshal(rep)
	for _, v := range kubetest.SecretValues {
		if bytes.Contains(out, []byte(v)) {
			t.Fatalf("secret value %q leaked into the report", v)
		}
	}
	if got := sc.CurrentResourceVersions(t, c); !equalMaps(got, sc.ResourceVersions) {
		t.Errorf("observing changed live objects: before %v after %v", sc.ResourceVersions, got)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
