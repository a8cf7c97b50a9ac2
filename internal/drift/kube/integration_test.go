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
	"github.com/driftplane/terraform-provider-drift/internal/testenv/kubetest"
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
	src := &kube.Source{Cluster: cluster, Audit: audit, Options: kube.UnitOptions(unit)}
	obs, err := src.Observe(context.Background(), manifests)
	if err != nil {
		t.Fatal(err)
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

	// The controller's scale is non-blocking for the right reason: the unit's ownership rule...
	replicas := findingOf(t, rep, "/spec/replicas")
	if !strings.Contains(replicas.Explanation, "owned by horizontal-pod-autoscaler") || strings.Contains(replicas.Explanation, kube.NoAuditLogNote) {
		t.Errorf("replicas should be the autoscaler's by rule: %s", replicas.Explanation)
	}
	// ...or, without the rule, the audit log showing kube-controller-manager's own identity wrote
	// it. Without either, nothing but a name says so, and Git's /spec/replicas stays Git's.
	noRules := *unit
	noRules.Spec.OwnershipRules = nil
	for _, tc := range []struct {
		name  string
		audit *kube.AuditLog
		class drift.Class
		actor string
	}{
		{"audited system identity", audit, drift.ClassControllerOwned, "system:kube-controller-manager"},
		{"no audit log", nil, drift.ClassUnauthorizedRuntime, ""},
	} {
		o, err := (&kube.Source{Cluster: cluster, Audit: tc.audit, Options: kube.UnitOptions(&noRules)}).Observe(context.Background(), manifests)
		if err != nil {
			t.Fatal(err)
		}
		r, err := drift.Evaluate(&noRules, nil, o)
		if err != nil {
			t.Fatal(err)
		}
		if f := findingOf(t, r, "/spec/replicas"); f.DriftClass != tc.class || f.Actor != tc.actor {
			t.Errorf("%s: replicas %s actor %q: %s", tc.name, f.DriftClass, f.Actor, f.Explanation)
		}
		// The sidecar is a field Git does not declare: the injector's name keeps its word.
		if f := findingOf(t, r, "/spec/template/spec/containers/name=istio-proxy"); f.DriftClass != drift.ClassControllerOwned || f.Blocking {
			t.Errorf("%s: sidecar %s: %s", tc.name, f.DriftClass, f.Explanation)
		} else if tc.audit == nil && !strings.Contains(f.Explanation, kube.NoAuditLogNote) {
			t.Errorf("%s: the sidecar's ownership rests on a name and must say so: %s", tc.name, f.Explanation)
		}
	}

	t.Run("spoofed field managers", func(t *testing.T) { testSpoofedFieldManagers(t, c, cluster) })
}

// testSpoofedFieldManagers: a person sets a Git-declared image in production with kubectl under a
// controller's or the applier's field-manager name (issue 9, class 5).
func testSpoofedFieldManagers(t *testing.T, c *kubetest.Cluster, cluster *kube.Cluster) {
	sp := kubetest.SetUpSpoofScenario(t, c)
	manifests, err := kube.LoadManifests(sp.Dir)
	if err != nil {
		t.Fatal(err)
	}
	audit, err := kube.ReadAuditLogFile(c.AuditLog)
	if err != nil {
		t.Fatal(err)
	}
	unit := &drift.ManagedUnit{
		Metadata: drift.Metadata{Name: "spoof-prod"},
		Spec:     drift.UnitSpec{Kind: drift.UnitKubernetes, Owner: "team-web", Environment: "prod", RiskTier: "high", Gate: "high"},
	}
	type want struct {
		class    drift.Class
		blocking bool
		actor    string
		note     bool
	}
	person := want{drift.ClassUnauthorizedRuntime, true, kubetest.ImpostorUser, false}
	for _, tc := range []struct {
		name  string
		audit *kube.AuditLog
		want  map[string]want
	}{
		{"with the audit log", audit, map[string]want{
			"name-controller": person,
			"name-applier":    person,
			"bot":             {drift.ClassControllerOwned, false, kubetest.BotUser, false},
			"pending":         {drift.ClassStaleDesiredState, false, kubetest.ApplierUser, false},
		}},
		{"without an audit log", nil, map[string]want{
			"name-controller": {drift.ClassUnauthorizedRuntime, true, "", false},
			// Residual trust, said in the finding: without an audit log the applier's name is
			// taken at its word.
			"name-applier": {drift.ClassStaleDesiredState, false, "", true},
			"bot":          {drift.ClassUnauthorizedRuntime, true, "", false},
			"pending":      {drift.ClassStaleDesiredState, false, "", true},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs, err := (&kube.Source{Cluster: cluster, Audit: tc.audit, Options: kube.UnitOptions(unit)}).Observe(context.Background(), manifests)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := drift.Evaluate(unit, nil, obs)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Findings) != len(tc.want) {
				t.Errorf("%d findings, want %d", len(rep.Findings), len(tc.want))
			}
			for _, f := range rep.Findings {
				t.Logf("%s %s %s %v actor=%q blocking=%v: %s", f.ResourceRef, f.DriftClass, f.Risk, f.ChangedFields, f.Actor, f.Blocking, f.Explanation)
				name := f.ResourceRef[strings.LastIndex(f.ResourceRef, "/")+1:]
				w, ok := tc.want[name]
				if !ok {
					t.Errorf("unexpected finding %s", f.ResourceRef)
					continue
				}
				if f.DriftClass != w.class || f.Blocking != w.blocking || f.Actor != w.actor ||
					strings.Join(f.ChangedFields, ",") != "/spec/template/spec/containers/name=app/image" ||
					strings.Contains(f.Explanation, kube.NoAuditLogNote) != w.note {
					t.Errorf("%s: got %s blocking=%v actor=%q %v (%s), want %+v", name, f.DriftClass, f.Blocking, f.Actor, f.ChangedFields, f.Explanation, w)
				}
			}
		})
	}
}

func findingOf(t *testing.T, rep *drift.Report, field string) drift.Finding {
	t.Helper()
	for _, f := range rep.Findings {
		for _, c := range f.ChangedFields {
			if c == field {
				return f
			}
		}
	}
	t.Fatalf("no finding changes %s", field)
	return drift.Finding{}
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
