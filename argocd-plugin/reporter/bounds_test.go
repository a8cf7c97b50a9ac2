package reporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"
)

// TestRateLimitedArgo: requests to argocd-server wait for the token bucket (here 10 per second,
// bursts of 1: ten requests take at least 0.9 s), a wait cut short is an error, never an empty
// answer, and errors keep the token redacted.
func TestRateLimitedArgo(t *testing.T) {
	recorded := loadAnswer(t)
	argo := &fakeArgo{answer: func(string, string) ([]ResourceDiff, error) { return recorded, nil }}
	lim := NewRateLimitedArgo(argo, 10, 1)
	start := time.Now()
	for i := 0; i < 10; i++ {
		if got, err := lim.ManagedResources(context.Background(), "web", "argocd"); err != nil || len(got) != len(recorded) {
			t.Fatalf("request %d: %d resources, %v", i, len(got), err)
		}
	}
	if took := time.Since(start); took < 850*time.Millisecond {
		t.Errorf("10 requests at 10/s with bursts of 1 took %s: the bucket does not bound them", took)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got, err := lim.ManagedResources(ctx, "web", "argocd"); err == nil || got != nil {
		t.Errorf("a request whose wait was cut short: %v, %v", got, err)
	}
	if unlimited := NewRateLimitedArgo(argo, 0, 0); unlimited.Limiter.Limit() != rate.Inf {
		t.Errorf("qps 0 must not limit: %v", unlimited.Limiter.Limit())
	}
	client := NewArgoClient("https://argocd.example", "secret-token-123", false)
	red := NewRateLimitedArgo(client, 1, 1)
	if got := red.Redact("echo secret-token-123"); got != "echo [redacted]" {
		t.Errorf("Redact through the limiter: %q", got)
	}
	if err := NewRateLimitedArgo(argo, 1, 1).SyncResources(context.Background(), "web", "argocd", nil); err == nil {
		t.Error("a client that cannot sync claimed a sync")
	}
}

// TestAuditLogReadOncePerResyncWhileStatusesAreWritten (the reporter's wiring): the audit log a
// real API server appends to with every status write is read once for all the applications a
// resync evaluates, not once per application.
func TestAuditLogReadOncePerResyncWhileStatusesAreWritten(t *testing.T) {
	recorded := loadAnswer(t)
	audit := filepath.Join(t.TempDir(), "audit.log")
	event := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","stage":"ResponseComplete","verb":"update","user":{"username":"system:serviceaccount:argocd:argocd-driftplane-reporter"},` +
		`"objectRef":{"resource":"driftreports","namespace":"web","name":"x","apiGroup":"drift.driftplane.io","subresource":"status"},"requestURI":"/apis/drift.driftplane.io/v1alpha1/namespaces/web/driftreports/x/status","stageTimestamp":"2026-11-30T10:00:00.000000Z","responseStatus":{"code":200}}` + "\n"
	if err := os.WriteFile(audit, []byte(event), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(audit, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var objs []runtime.Object
	var keys []string
	for i := 0; i < 12; i++ {
		n := fmt.Sprintf("app-%02d", i)
		objs = append(objs, appListing(t, n, n), reportFor(t, recorded, n, n))
		keys = append(keys, "argocd/"+n)
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{ApplicationsGVR: "ApplicationList", DriftReportsGVR: "DriftReportList"}, objs...)
	argo := &fakeArgo{answer: func(app, _ string) ([]ResourceDiff, error) {
		// Every evaluation's write lands in the log, as on a real API server.
		_, _ = f.WriteString(event)
		return answerFor(recorded, app), nil
	}}
	c := NewController(Config{Dynamic: dyn, Kube: kubefake.NewClientset(), Argo: argo, ArgoNamespace: "argocd", AuditLogPath: audit,
		Metrics: NewMetrics(prometheus.NewRegistry()), Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return fixedNow }})
	t.Cleanup(c.stop)
	for _, k := range keys {
		ns, name, _ := strings.Cut(k, "/")
		obj, err := dyn.Resource(ApplicationsGVR).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.informer.GetIndexer().Add(obj); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range keys {
		if err := c.Sync(context.Background(), k); err != nil {
			var fail *Failure
			if !errors.As(err, &fail) {
				t.Fatalf("%s: %v", k, err)
			}
		}
	}
	if n := len(argo.Calls()); n != len(keys) {
		t.Fatalf("%d evaluations, want %d", n, len(keys))
	}
	if r := c.audit.Reads(); r != 1 {
		t.Fatalf("%d applications read the growing audit log %d times, want once per resync", len(keys), r)
	}
}
