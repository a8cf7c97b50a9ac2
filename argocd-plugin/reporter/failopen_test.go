package reporter

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/yaml"
)

var updateFixtures = flag.Bool("update", false, "rewrite the health-check fixtures the fail-open tests write")

// The recorded argocd-server answer (see TestRecordedArgoAnswer) and the objects around it.
const recordedAnswer = "testdata/managed-resources-image-patched.json"

func loadAnswer(t *testing.T) []ResourceDiff {
	t.Helper()
	raw, err := os.ReadFile(recordedAnswer)
	if err != nil {
		t.Fatal(err)
	}
	var answer struct {
		Items []ResourceDiff `json:"items"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		t.Fatal(err)
	}
	return answer.Items
}

// liveReport is the DriftReport as the recorded answer shows it live (tracking annotation,
// spec.application and the status the reporter wrote in the end-to-end run).
func liveReport(t *testing.T, items []ResourceDiff) *unstructured.Unstructured {
	t.Helper()
	for _, r := range items {
		if r.Kind == "DriftReport" {
			u := &unstructured.Unstructured{}
			if err := u.UnmarshalJSON([]byte(r.LiveState)); err != nil {
				t.Fatal(err)
			}
			return u
		}
	}
	t.Fatal("no DriftReport in the recorded answer")
	return nil
}

func application(t *testing.T, namespace, name string, extra string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	doc := fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: %s, namespace: %s}
spec:
  project: default
  source: {repoURL: "https://git.example.com/web.git", path: web, plugin: {name: driftplane-v1}}
  destination: {server: "https://kubernetes.default.svc", namespace: web}
status:
  health: {status: Healthy}
  sync: {status: OutOfSync, revision: 3e64fde}
  resources:
  - {group: drift.driftplane.io, version: v1alpha1, kind: DriftReport, namespace: web, name: web}
  - {group: apps, version: v1, kind: Deployment, namespace: web, name: web}
`, name, namespace)
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	if extra != "" {
		var patch map[string]any
		if err := yaml.Unmarshal([]byte(extra), &patch); err != nil {
			t.Fatal(err)
		}
		merge(u.Object, patch)
	}
	return u
}

func merge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

// fakeArgo answers managed-resources from a function, counting calls.
type fakeArgo struct {
	mu     sync.Mutex
	calls  []string
	answer func(app, ns string) ([]ResourceDiff, error)
}

func (f *fakeArgo) ManagedResources(_ context.Context, app, ns string) ([]ResourceDiff, error) {
	f.mu.Lock()
	f.calls = append(f.calls, ns+"/"+app)
	f.mu.Unlock()
	return f.answer(app, ns)
}

func (f *fakeArgo) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

type harness struct {
	ctrl *Controller
	dyn  *dynamicfake.FakeDynamicClient
	kube *kubefake.Clientset
	reg  *prometheus.Registry
	logs *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fixedNow is far in the future, so statuses written here read as fresh to the health check.
var fixedNow = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)

func newHarness(t *testing.T, argo ManagedResourcesGetter, objs ...*unstructured.Unstructured) *harness {
	t.Helper()
	var ros []runtime.Object
	for _, o := range objs {
		ros = append(ros, o.DeepCopy())
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{ApplicationsGVR: "ApplicationList", DriftReportsGVR: "DriftReportList"}, ros...)
	kc := kubefake.NewClientset()
	reg := prometheus.NewRegistry()
	logs := &syncBuffer{}
	ctrl := NewController(Config{Dynamic: dyn, Kube: kc, Argo: argo, Namespace: "", ArgoNamespace: "argocd", Metrics: NewMetrics(reg),
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Now: func() time.Time { return fixedNow }})
	t.Cleanup(ctrl.stop)
	return &harness{ctrl: ctrl, dyn: dyn, kube: kc, reg: reg, logs: logs}
}

// index puts applications in the informer's cache, as a watch would.
func (h *harness) index(t *testing.T, apps ...*unstructured.Unstructured) {
	t.Helper()
	for _, a := range apps {
		if err := h.ctrl.informer.GetIndexer().Add(a); err != nil {
			t.Fatal(err)
		}
	}
}

// report reads the DriftReport web/name.
func (h *harness) report(t *testing.T, name string) (*unstructured.Unstructured, *Status) {
	t.Helper()
	dr, err := h.dyn.Resource(DriftReportsGVR).Namespace("web").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return dr, currentStatus(dr)
}

func evaluated(st *Status) *Condition {
	if st == nil {
		return nil
	}
	for i := range st.Conditions {
		if st.Conditions[i].Type == ConditionEvaluated {
			return &st.Conditions[i]
		}
	}
	return nil
}

// writeHealthFixture keeps the status the reporter wrote as a fixture of the Lua health check
// (argocd-plugin/health/testdata), which tests/argocd runs in Argo CD's own Lua VM and expects to
// read Unknown. With -update it rewrites the fixture; otherwise the fixture must match, so the
// health check is tested on exactly what the reporter writes.
func writeHealthFixture(t *testing.T, name string, dr *unstructured.Unstructured) {
	t.Helper()
	fixture := map[string]any{
		"apiVersion": dr.GetAPIVersion(), "kind": dr.GetKind(),
		"metadata": map[string]any{"name": dr.GetName(), "namespace": dr.GetNamespace(), "generation": dr.GetGeneration()},
		"spec":     map[string]any{"freshnessSeconds": dr.Object["spec"].(map[string]any)["freshnessSeconds"]},
		"status":   dr.Object["status"],
	}
	out, err := yaml.Marshal(fixture)
	if err != nil {
		t.Fatal(err)
	}
	out = append([]byte("# Written by the argocd-plugin/reporter tests (go test ./argocd-plugin/reporter -update): the status\n# the reporter writes for this fail-open shape. Do not edit by hand.\n"), out...)
	path := filepath.Join("..", "health", "testdata", name+".yaml")
	if *updateFixtures {
		if err := os.WriteFile(path, out, 0o600); err != nil {
			t.Fatal(err)
		}
		return
	}
	have, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("health fixture %s: %v (run with -update)", path, err)
	}
	if !bytes.Equal(have, out) {
		t.Errorf("health fixture %s differs from what the reporter writes now (run with -update):\n%s", path, out)
	}
}

// TestFailOpenShapes: every shape in which the reporter cannot tell (an answer that is empty or
// has no target state, an application Argo CD could not compare, a DriftReport that is not the
// application's own) writes Evaluated=False with its reason, which the health check turns
// Unknown, never Healthy. The answers are the one recorded from a real argocd-server and variants
// of it.
func TestFailOpenShapes(t *testing.T) {
	recorded := loadAnswer(t)
	nullTargets := func() []ResourceDiff {
		out := append([]ResourceDiff(nil), recorded...)
		for i := range out {
			out[i].TargetState = "null"
		}
		return out
	}
	withoutReport := func() []ResourceDiff {
		var out []ResourceDiff
		for _, r := range recorded {
			if r.Kind != "DriftReport" {
				out = append(out, r)
			}
		}
		return out
	}
	reportTargetNull := func() []ResourceDiff {
		out := append([]ResourceDiff(nil), recorded...)
		for i := range out {
			if out[i].Kind == "DriftReport" {
				out[i].TargetState = ""
			}
		}
		return out
	}
	type tc struct {
		name     string
		answer   func() []ResourceDiff
		app      string                              // YAML merged into the Application
		report   func(dr *unstructured.Unstructured) // edits the live DriftReport
		appNS    string
		reason   string
		message  string
		fixture  string // health fixture name, when this shape gets one
		noArgoOK bool   // Argo CD must not even be asked
		never    bool   // the report was never evaluated before (else: last evaluated clean)
	}
	cases := []tc{
		{name: "all target states null", answer: nullTargets, reason: ReasonIncompleteAnswer,
			message: "no target state for any of the 2 managed resources", fixture: "reporter-null-targets"},
		{name: "empty answer", answer: func() []ResourceDiff { return nil }, reason: ReasonIncompleteAnswer,
			message: "returned no managed resources", fixture: "reporter-empty-answer", never: true},
		{name: "answer without the DriftReport", answer: withoutReport, reason: ReasonIncompleteAnswer,
			message: "does not hold its DriftReport web/web"},
		{name: "DriftReport not a target", answer: reportTargetNull, reason: ReasonIncompleteAnswer,
			message: "no target state for its DriftReport web/web"},
		{name: "ComparisonError", app: `status: {conditions: [{type: ComparisonError, message: "rpc error: manifest generation failed"}]}`,
			reason: ReasonComparisonError, message: "manifest generation failed", fixture: "reporter-comparison-error", noArgoOK: true},
		{name: "InvalidSpecError", app: `status: {conditions: [{type: InvalidSpecError, message: "application destination is not permitted"}]}`,
			reason: ReasonInvalidSpec, message: "not permitted", noArgoOK: true},
		{name: "sync status Unknown", app: `status: {sync: {status: Unknown}}`, reason: ReasonSyncUnknown,
			message: "sync status of application argocd/web as Unknown", fixture: "reporter-sync-unknown", noArgoOK: true},
		{name: "report of another application", report: func(dr *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(dr.Object, "payments", "spec", "application", "name")
		}, reason: ReasonNotOwnReport, message: `belongs to application "payments", not argocd/web`, fixture: "reporter-not-own", noArgoOK: true},
		{name: "report without spec.application", report: func(dr *unstructured.Unstructured) {
			unstructured.RemoveNestedField(dr.Object, "spec", "application")
		}, reason: ReasonNotOwnReport, message: "names no application", noArgoOK: true},
		{name: "report tracked for another application", report: func(dr *unstructured.Unstructured) {
			dr.SetAnnotations(map[string]string{TrackingAnnotation: "payments:drift.driftplane.io/DriftReport:web/web"})
		}, reason: ReasonNotOwnReport, message: `tracked by Argo CD for application "payments"`, noArgoOK: true},
		{name: "tracking copied from another object", report: func(dr *unstructured.Unstructured) {
			dr.SetAnnotations(map[string]string{TrackingAnnotation: "web:drift.driftplane.io/DriftReport:payments/web"})
		}, reason: ReasonNotOwnReport, message: "carries tracking", noArgoOK: true},
		{name: "report without tracking", report: func(dr *unstructured.Unstructured) {
			dr.SetAnnotations(nil)
		}, reason: ReasonNotOwnReport, message: "carries no Argo CD tracking", noArgoOK: true},
		{name: "label tracking for another application", report: func(dr *unstructured.Unstructured) {
			dr.SetAnnotations(nil)
			dr.SetLabels(map[string]string{DefaultInstanceLabelKey: "payments"})
		}, reason: ReasonNotOwnReport, message: `(label app.kubernetes.io/instance)`, noArgoOK: true},
		// Apps in any namespace: Argo CD tracks team-a/web as "team-a_web"; a report written for
		// the "web" of Argo CD's own namespace is not its.
		{name: "unqualified name for an application in another namespace", appNS: "team-a", reason: ReasonNotOwnReport,
			message: `belongs to application "web", not team-a/web (instance "team-a_web")`, noArgoOK: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dr := liveReport(t, recorded)
			// The worst case: the last evaluation found nothing, so a fail-open would stay Healthy.
			delete(dr.Object, "status")
			if !c.never {
				dr.Object["status"] = cleanStatus(t)
			}
			if c.report != nil {
				c.report(dr)
			}
			ns := c.appNS
			if ns == "" {
				ns = "argocd"
			}
			app := application(t, ns, "web", c.app)
			answer := c.answer
			if answer == nil {
				answer = func() []ResourceDiff { return recorded }
			}
			argo := &fakeArgo{answer: func(string, string) ([]ResourceDiff, error) { return answer(), nil }}
			h := newHarness(t, argo, app, dr)
			h.index(t, app)
			if err := h.ctrl.Sync(context.Background(), ns+"/web"); err != nil {
				t.Fatalf("a refusal is recorded in the report, not retried as an error: %v", err)
			}
			written, st := h.report(t, "web")
			cond := evaluated(st)
			if cond == nil || cond.Status != "False" || cond.Reason != c.reason || !strings.Contains(cond.Message, c.message) {
				t.Fatalf("Evaluated condition %+v, want False/%s containing %q", cond, c.reason, c.message)
			}
			if c.noArgoOK && len(argo.Calls()) != 0 {
				t.Errorf("argocd-server was asked %v although the answer could not be used", argo.Calls())
			}
			if v := metric(t, h.reg, "driftplane_evaluation_errors_total", ns+"/web"); v != 1 {
				t.Errorf("driftplane_evaluation_errors_total = %v", v)
			}
			if c.fixture != "" {
				writeHealthFixture(t, c.fixture, written)
			}
		})
	}

	t.Run("recorded answer evaluates", func(t *testing.T) {
		// The baseline the shapes above vary: the real answer, the real report, its own application.
		dr := liveReport(t, recorded)
		app := application(t, "argocd", "web", "")
		h := newHarness(t, &fakeArgo{answer: func(string, string) ([]ResourceDiff, error) { return recorded, nil }}, app, dr)
		h.index(t, app)
		if err := h.ctrl.Sync(context.Background(), "argocd/web"); err != nil {
			t.Fatal(err)
		}
		_, st := h.report(t, "web")
		if cond := evaluated(st); cond == nil || cond.Status != "True" || st.BlockingCount != 1 {
			t.Fatalf("status %+v", st)
		}
	})

	t.Run("namespace-qualified application evaluates", func(t *testing.T) {
		dr := liveReport(t, recorded)
		_ = unstructured.SetNestedField(dr.Object, "team-a_web", "spec", "application", "name")
		dr.SetAnnotations(map[string]string{TrackingAnnotation: "team-a_web:drift.driftplane.io/DriftReport:web/web"})
		app := application(t, "team-a", "web", "")
		h := newHarness(t, &fakeArgo{answer: func(string, string) ([]ResourceDiff, error) { return recorded, nil }}, app, dr)
		h.index(t, app)
		if err := h.ctrl.Sync(context.Background(), "team-a/web"); err != nil {
			t.Fatal(err)
		}
		if _, st := h.report(t, "web"); evaluated(st) == nil || evaluated(st).Status != "True" {
			t.Fatalf("status %+v", st)
		}
	})

	// Two applications list the same DriftReport: it is no one's, whichever is evaluated, and its
	// policy never judges the other application.
	t.Run("report listed by two applications", func(t *testing.T) {
		dr := liveReport(t, recorded)
		web := application(t, "argocd", "web", "")
		other := application(t, "argocd", "payments", "")
		argo := &fakeArgo{answer: func(string, string) ([]ResourceDiff, error) { return recorded, nil }}
		h := newHarness(t, argo, web, other, dr)
		h.index(t, web, other)
		for _, key := range []string{"argocd/web", "argocd/payments"} {
			if err := h.ctrl.Sync(context.Background(), key); err != nil {
				t.Fatal(err)
			}
			_, st := h.report(t, "web")
			if cond := evaluated(st); cond == nil || cond.Status != "False" || cond.Reason != ReasonNotOwnReport {
				t.Fatalf("after %s: condition %+v", key, cond)
			}
		}
		if len(argo.Calls()) != 0 {
			t.Errorf("argocd-server asked %v", argo.Calls())
		}
	})

	t.Run("application listing two DriftReports", func(t *testing.T) {
		dr := liveReport(t, recorded)
		second := dr.DeepCopy()
		second.SetName("web-loose")
		app := application(t, "argocd", "web", "")
		res, _, _ := unstructured.NestedSlice(app.Object, "status", "resources")
		res = append(res, map[string]any{"group": "drift.driftplane.io", "version": "v1alpha1", "kind": "DriftReport", "namespace": "web", "name": "web-loose"})
		_ = unstructured.SetNestedSlice(app.Object, res, "status", "resources")
		h := newHarness(t, &fakeArgo{answer: func(string, string) ([]ResourceDiff, error) { return recorded, nil }}, app, dr, second)
		h.index(t, app)
		if err := h.ctrl.Sync(context.Background(), "argocd/web"); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"web", "web-loose"} {
			_, st := h.report(t, name)
			if cond := evaluated(st); cond == nil || cond.Status != "False" || !strings.Contains(cond.Message, "lists 2 DriftReports") {
				t.Errorf("%s: condition %+v", name, cond)
			}
		}
	})
}

// cleanStatus is a successful evaluation with no drift, a minute before fixedNow.
func cleanStatus(t *testing.T) map[string]any {
	t.Helper()
	at := fixedNow.Add(-time.Minute)
	st := Status{LastEvaluatedAt: at.Format(time.RFC3339), LastEvaluatedEpoch: at.Unix(), ObservedGeneration: 1, Gate: "high",
		Summary: "no drift", Findings: []StatusFinding{},
		Conditions: []Condition{{Type: ConditionEvaluated, Status: "True", Reason: ReasonEvaluated, Message: "no drift", LastTransitionTime: metav1.NewTime(at), ObservedGeneration: 1}}}
	m, err := toUnstructured(st)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
