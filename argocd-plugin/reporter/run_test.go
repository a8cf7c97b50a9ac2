package reporter

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/evidence"
)

// reportFor is the recorded live DriftReport renamed to name and tied to application app (in
// Argo CD's own namespace), with a clean last evaluation.
func reportFor(t *testing.T, recorded []ResourceDiff, name, app string) *unstructured.Unstructured {
	t.Helper()
	dr := liveReport(t, recorded)
	dr.SetName(name)
	_ = unstructured.SetNestedField(dr.Object, app, "spec", "application", "name")
	dr.SetAnnotations(map[string]string{TrackingAnnotation: app + ":drift.driftplane.io/DriftReport:web/" + name})
	dr.Object["status"] = cleanStatus(t)
	return dr
}

// appListing is an application in argocd listing the DriftReport web/report.
func appListing(t *testing.T, name, report string) *unstructured.Unstructured {
	t.Helper()
	app := application(t, "argocd", name, "")
	_ = unstructured.SetNestedSlice(app.Object, []any{
		map[string]any{"group": "drift.driftplane.io", "version": "v1alpha1", "kind": "DriftReport", "namespace": "web", "name": report},
		map[string]any{"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "web", "name": "web"},
	}, "status", "resources")
	return app
}

// answerFor is the recorded answer with its DriftReport renamed to report.
func answerFor(recorded []ResourceDiff, report string) []ResourceDiff {
	out := append([]ResourceDiff(nil), recorded...)
	for i := range out {
		if out[i].Kind == "DriftReport" {
			out[i].Name = report
		}
	}
	return out
}

func waitStatus(t *testing.T, h *harness, name string, ok func(*Status) bool) *Status {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var st *Status
	for time.Now().Before(deadline) {
		dr, err := h.dyn.Resource(DriftReportsGVR).Namespace("web").Get(context.Background(), name, metav1.GetOptions{})
		if err == nil {
			if st = currentStatus(dr); ok(st) {
				return st
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("DriftReport web/%s: status never came: %+v", name, st)
	return nil
}

// TestRunSurvivesPanicsAndForgetsDeletedApps runs the controller loop with several workers
// (under -race in CI): an application whose evaluation panics is marked Evaluated=False with the
// panic's reason while the others are evaluated; a deleted application's metric series and state
// go away; and Run returns only once its workers are done.
func TestRunSurvivesPanicsAndForgetsDeletedApps(t *testing.T) {
	recorded := loadAnswer(t)
	names := []string{"web", "boom", "api", "jobs"}
	var objs []*unstructured.Unstructured
	for _, n := range names {
		objs = append(objs, appListing(t, n, n), reportFor(t, recorded, n, n))
	}
	var returned atomic.Bool
	var lateCalls atomic.Int32
	argo := &fakeArgo{answer: func(app, _ string) ([]ResourceDiff, error) {
		if returned.Load() {
			lateCalls.Add(1)
		}
		if app == "boom" {
			var m map[string]any
			_ = m["x"].(string) // a bug deep in an evaluation: interface conversion panic
		}
		return answerFor(recorded, app), nil
	}}
	h := newHarness(t, argo, objs...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.ctrl.Run(ctx, 3) }()

	boom := waitStatus(t, h, "boom", func(s *Status) bool { c := evaluated(s); return c != nil && c.Status == "False" })
	if c := evaluated(boom); c.Reason != ReasonPanic || !strings.Contains(c.Message, "evaluation panicked") || !strings.Contains(c.Message, "interface conversion") {
		t.Errorf("panicking application: condition %+v", c)
	}
	for _, n := range []string{"web", "api", "jobs"} {
		st := waitStatus(t, h, n, func(s *Status) bool { return s != nil && s.BlockingCount == 1 })
		if c := evaluated(st); c == nil || c.Status != "True" {
			t.Errorf("%s: condition %+v", n, c)
		}
	}
	if !strings.Contains(h.logs.String(), "evaluation panicked") {
		t.Errorf("the panic is not logged:\n%s", h.logs.String())
	}
	dr, err := h.dyn.Resource(DriftReportsGVR).Namespace("web").Get(context.Background(), "boom", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	writeHealthFixture(t, "reporter-panic", dr)

	// web's series exist; once the application is deleted they are gone, the others' stay.
	if v := metric(t, h.reg, "driftplane_blocking_findings", "argocd/web"); v != 1 {
		t.Fatalf("driftplane_blocking_findings{app=argocd/web} = %v before deletion", v)
	}
	if err := h.dyn.Resource(ApplicationsGVR).Namespace("argocd").Delete(ctx, "web", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && len(seriesOf(t, h, "argocd/web")) > 0 {
		time.Sleep(20 * time.Millisecond)
	}
	if left := seriesOf(t, h, "argocd/web"); len(left) > 0 {
		t.Errorf("series of the deleted application remain:\n%s", strings.Join(left, "\n"))
	}
	if len(seriesOf(t, h, "argocd/api")) == 0 || len(seriesOf(t, h, "argocd/boom")) == 0 {
		t.Error("the other applications' series went too")
	}
	h.ctrl.cfg.Metrics.mu.Lock()
	_, kept := h.ctrl.cfg.Metrics.firstSeen["argocd/web"]
	h.ctrl.cfg.Metrics.mu.Unlock()
	if kept {
		t.Error("the deleted application's first-seen state is kept")
	}

	cancel()
	select {
	case err := <-done:
		returned.Store(true)
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	time.Sleep(100 * time.Millisecond)
	if n := lateCalls.Load(); n != 0 {
		t.Errorf("%d evaluations ran after Run returned: its workers were not waited for", n)
	}
}

// seriesOf lists the metric series labelled with app.
func seriesOf(t *testing.T, h *harness, app string) []string {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if labelValue(m, "app") == app {
				out = append(out, mf.GetName()+" "+m.String())
			}
		}
	}
	return out
}

// TestTokenNeverPublished plants an Argo CD token and has argocd-server (or a proxy in front of
// it) echo the request back in its errors: the token appears in no log line, Event, DriftReport
// status or metric, while the echo itself is visible, redacted.
func TestTokenNeverPublished(t *testing.T) {
	const token = "dp-planted-token-7f3a9c51e2"
	recorded := loadAnswer(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid session: " + r.Header.Get("Authorization"), "url": r.URL.String()})
	}))
	defer srv.Close()
	argo := NewArgoClient(srv.URL, token, false)
	app := appListing(t, "web", "web")
	h := newHarness(t, argo, app, reportFor(t, recorded, "web", "web"))
	h.ctrl.cfg.Healer, h.ctrl.cfg.AutoHeal = argo, true
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.ctrl.Run(ctx, 2) }()
	st := waitStatus(t, h, "web", func(s *Status) bool { c := evaluated(s); return c != nil && c.Status == "False" })
	if c := evaluated(st); !strings.Contains(c.Message, "invalid session: Bearer [redacted]") {
		t.Errorf("the server's echo should show, redacted: %q", c.Message)
	}
	// Let a retry or two run, so the warning log lines exist.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(h.logs.String(), "evaluation failed") {
		time.Sleep(20 * time.Millisecond)
	}
	// And a heal request failing the same way.
	if err := argo.SyncResources(ctx, "web", "argocd", []HealTarget{{Kind: "Deployment", Name: "web"}}); err == nil || strings.Contains(err.Error(), token) {
		t.Errorf("sync error %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}

	var published bytes.Buffer
	published.WriteString(h.logs.String())
	dr, err := h.dyn.Resource(DriftReportsGVR).Namespace("web").Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(dr.Object["status"])
	published.Write(js)
	events, err := h.kube.CoreV1().Events("").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range events.Items {
		fmt.Fprintln(&published, e.Reason, e.Message)
	}
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		published.WriteString(mf.String())
	}
	if !strings.Contains(h.logs.String(), "evaluation failed") {
		t.Fatalf("no failure was logged, so the log check proves nothing:\n%s", h.logs.String())
	}
	if strings.Contains(published.String(), token) || strings.Contains(published.String(), token[len(token)-12:]) {
		t.Errorf("the token was published:\n%s", published.String())
	}
}

// TestSecretValuesNeverPublished plants Secret values that differ between Git and the cluster:
// the finding names the changed key, but no status, Event, log line, metric or evidence record
// carries a value, its base64 form or a plain SHA-256 of either; the digests are keyed with the
// installation's key.
func TestSecretValuesNeverPublished(t *testing.T) {
	const gitValue, liveValue = "planted-Git-Passw0rd-91c2", "planted-Live-Passw0rd-4e7a"
	recorded := loadAnswer(t)
	secret := func(v string, live bool) string {
		md := map[string]any{"name": "db", "namespace": "web"}
		if live {
			md["managedFields"] = []any{map[string]any{"manager": "kubectl-edit", "operation": "Update", "apiVersion": "v1", "time": "2026-11-22T06:10:08Z",
				"fieldsType": "FieldsV1", "fieldsV1": map[string]any{"f:data": map[string]any{"f:password": map[string]any{}}}}}
		}
		b, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": md, "type": "Opaque",
			"data": map[string]any{"password": base64.StdEncoding.EncodeToString([]byte(v))}})
		return string(b)
	}
	answer := append(append([]ResourceDiff(nil), recorded...),
		ResourceDiff{Kind: "Secret", Namespace: "web", Name: "db", TargetState: secret(gitValue, false), LiveState: secret(liveValue, true)})
	app := appListing(t, "web", "web")
	h := newHarness(t, &fakeArgo{answer: func(string, string) ([]ResourceDiff, error) { return answer, nil }}, app, reportFor(t, recorded, "web", "web"))
	d, err := drift.NewDigester([]byte("installation-key-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	evidenceDir := t.TempDir()
	h.ctrl.cfg.Digester, h.ctrl.cfg.Evidence = d, evidence.Dir(evidenceDir)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.ctrl.Run(ctx, 1) }()
	st := waitStatus(t, h, "web", func(s *Status) bool { c := evaluated(s); return c != nil && c.Status == "True" && s.BlockingCount > 0 })
	var found bool
	for _, f := range st.Findings {
		if f.Kind == "Secret" && strings.Join(f.ChangedFields, ",") == "/data/password" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no finding for the Secret's changed password: %+v", st.Findings)
	}
	time.Sleep(200 * time.Millisecond) // let the Event sink write
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}

	var published bytes.Buffer
	published.WriteString(h.logs.String())
	dr, _ := h.dyn.Resource(DriftReportsGVR).Namespace("web").Get(context.Background(), "web", metav1.GetOptions{})
	js, _ := json.Marshal(dr.Object["status"])
	published.Write(js)
	events, _ := h.kube.CoreV1().Events("").List(context.Background(), metav1.ListOptions{})
	for _, e := range events.Items {
		fmt.Fprintln(&published, e.Reason, e.Message)
	}
	mfs, _ := h.reg.Gather()
	for _, mf := range mfs {
		published.WriteString(mf.String())
	}
	records, _ := filepath.Glob(filepath.Join(evidenceDir, "*", "*.json"))
	if len(records) == 0 {
		t.Fatal("no evidence record")
	}
	for _, r := range records {
		b, _ := os.ReadFile(r)
		published.Write(b)
	}
	for _, v := range []string{gitValue, liveValue} {
		b64 := base64.StdEncoding.EncodeToString([]byte(v))
		for _, form := range []string{v, b64, sha256hex(v), sha256hex(b64), sha256hex(`"` + v + `"`), sha256hex(`"` + b64 + `"`)} {
			if strings.Contains(published.String(), form) {
				t.Errorf("a form of the planted value %q is published: %q", v, form)
			}
		}
	}
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestRunWaitsForWorkers: when its context ends, Run returns only after the evaluation in flight
// has finished, so nothing writes after the reporter (or a lost leadership) stopped.
func TestRunWaitsForWorkers(t *testing.T) {
	recorded := loadAnswer(t)
	started, release := make(chan struct{}), make(chan struct{})
	var once atomic.Bool
	argo := &fakeArgo{answer: func(string, string) ([]ResourceDiff, error) {
		if once.CompareAndSwap(false, true) {
			close(started)
		}
		<-release
		return recorded, nil
	}}
	h := newHarness(t, argo, appListing(t, "web", "web"), reportFor(t, recorded, "web", "web"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.ctrl.Run(ctx, 2) }()
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("no evaluation started")
	}
	cancel()
	select {
	case err := <-done:
		t.Fatalf("Run returned (%v) while an evaluation was still in flight", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return once the evaluation finished")
	}
}
