package reporter

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"
	"sigs.k8s.io/yaml"
)

const (
	benchApps      = 1000
	benchResources = 30 // per application: 29 Deployments and the DriftReport
)

// benchAnswer is an application's managed-resources answer built from the recorded one: its
// Deployment (target and live, image patched live) under 29 names, and its DriftReport renamed to
// the application's. Only the report's entry differs between applications, so the server writes
// the shared part as is.
type benchAnswer struct {
	deployments []byte // the 29 Deployments' items, JSON, comma-separated
	report      ResourceDiff
}

func loadBenchAnswer(b *testing.B) *benchAnswer {
	b.Helper()
	raw, err := os.ReadFile(recordedAnswer)
	if err != nil {
		b.Fatal(err)
	}
	var answer struct {
		Items []ResourceDiff `json:"items"`
	}
	if err := json.Unmarshal(raw, &answer); err != nil {
		b.Fatal(err)
	}
	out := &benchAnswer{}
	var deps []string
	for _, r := range answer.Items {
		if r.Kind == "DriftReport" {
			out.report = r
			continue
		}
		for i := 0; i < benchResources-1; i++ {
			name := fmt.Sprintf("%s-%02d", r.Name, i)
			d := r
			d.Name = name
			d.TargetState, d.LiveState = renamed(b, r.TargetState, name), renamed(b, r.LiveState, name)
			js, _ := json.Marshal(d)
			deps = append(deps, string(js))
		}
	}
	out.deployments = []byte(strings.Join(deps, ","))
	return out
}

func renamed(b *testing.B, state, name string) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(state), &m); err != nil {
		b.Fatal(err)
	}
	_ = unstructured.SetNestedField(m, name, "metadata", "name")
	js, _ := json.Marshal(m)
	return string(js)
}

func (a *benchAnswer) write(w io.Writer, app string) {
	r := a.report
	r.Name = app
	js, _ := json.Marshal(r)
	_, _ = io.WriteString(w, `{"items":[`)
	_, _ = w.Write(a.deployments)
	_, _ = io.WriteString(w, ",")
	_, _ = w.Write(js)
	_, _ = io.WriteString(w, "]}")
}

// benchObjects are the Application and its DriftReport (live, tracked for it, as recorded).
func benchObjects(b *testing.B, a *benchAnswer, name string) (app, report *unstructured.Unstructured) {
	b.Helper()
	app = &unstructured.Unstructured{}
	doc := fmt.Sprintf(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: %s, namespace: argocd}
spec:
  project: default
  source: {repoURL: "https://git.example.com/web.git", path: web, plugin: {name: driftplane-v1}}
  destination: {server: "https://kubernetes.default.svc", namespace: web}
status:
  health: {status: Healthy}
  sync: {status: OutOfSync, revision: 3e64fde}
  resources:
  - {group: drift.driftplane.io, version: v1alpha1, kind: DriftReport, namespace: web, name: %s}
`, name, name)
	if err := yaml.Unmarshal([]byte(doc), &app.Object); err != nil {
		b.Fatal(err)
	}
	report = &unstructured.Unstructured{}
	if err := report.UnmarshalJSON([]byte(a.report.LiveState)); err != nil {
		b.Fatal(err)
	}
	report.SetName(name)
	_ = unstructured.SetNestedField(report.Object, name, "spec", "application", "name")
	report.SetAnnotations(map[string]string{TrackingAnnotation: name + ":drift.driftplane.io/DriftReport:web/" + name})
	delete(report.Object, "status")
	return app, report
}

// BenchmarkReporterPass1000 is one replica's full pass over 1,000 applications of 30 managed
// resources each: the Controller (informer, queue, its default two workers) asks a local
// argocd-server for every application's recorded managed-resources answer through the real HTTP
// client, evaluates it and writes the DriftReport status (to client-go's in-memory dynamic API,
// which copies objects as a real client decodes them). One op is one
// pass; apps/s and the peak heap are reported (target: a pass under 60 s, under 500 MB).
// argocd-server's request budget is lifted (--argocd-qps=0), so this measures the reporter.
func BenchmarkReporterPass1000(b *testing.B) {
	answer := loadBenchAnswer(b)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		app := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v1/applications/"), "/managed-resources")
		answer.write(w, app)
	}))
	defer srv.Close()

	var objs []k8sruntime.Object
	var keys []string
	for i := 0; i < benchApps; i++ {
		name := fmt.Sprintf("app-%04d", i)
		app, report := benchObjects(b, answer, name)
		objs = append(objs, app, report)
		keys = append(keys, "argocd/"+name)
	}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(k8sruntime.NewScheme(),
		map[schema.GroupVersionResource]string{ApplicationsGVR: "ApplicationList", DriftReportsGVR: "DriftReportList"}, objs...)
	var written, failed atomic.Int64
	// Status writes are checked and counted, not stored: the statuses live in the API server, not
	// in the replica whose memory this measures (stored here they would be most of the heap).
	var last atomic.Pointer[unstructured.Unstructured]
	dyn.PrependReactor("update", "driftreports", func(a k8stesting.Action) (bool, k8sruntime.Object, error) {
		u, ok := a.(k8stesting.UpdateAction)
		if !ok || u.GetSubresource() != "status" {
			return false, nil, nil
		}
		obj := u.GetObject().(*unstructured.Unstructured)
		if c := evaluated(currentStatus(obj)); c == nil || c.Status != "True" {
			failed.Add(1)
		}
		last.Store(obj)
		written.Add(1)
		return true, obj, nil
	})
	// No Kube: Events are recorded but not sent (client-go's fake clientset builds a REST mapper
	// per Event it stores, which would be most of what this measures).
	ctrl := NewController(Config{Dynamic: dyn, Argo: NewRateLimitedArgo(NewArgoClient(srv.URL, "tok", false), 0, 0),
		Namespace: "argocd", ArgoNamespace: "argocd", Resync: time.Hour, Metrics: NewMetrics(prometheus.NewRegistry()),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ctrl.Run(ctx, 2) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			b.Error(err)
		}
	}()
	// The informer's first listing queues every application: that pass is the warm-up.
	// client-go's fake keeps a copy of every request it served: dropped as the pass goes, since
	// no real client keeps them.
	waitWritten := func(n int64) {
		for written.Load() < n {
			time.Sleep(5 * time.Millisecond)
			dyn.ClearActions()
		}
	}
	waitWritten(benchApps)
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d evaluations failed: the benchmark would time failures", f, written.Load())
	}

	var peak atomic.Uint64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	b.ResetTimer()
	cpuStart := cpuSeconds()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		target := written.Load() + benchApps
		for _, k := range keys {
			ctrl.queue.Add(k)
		}
		waitWritten(target)
	}
	elapsed := time.Since(start)
	cpu := cpuSeconds() - cpuStart
	b.StopTimer()
	close(stopSampling)
	<-sampled
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d evaluations failed", f)
	}
	b.ReportMetric(float64(benchApps*b.N)/elapsed.Seconds(), "apps/s")
	b.ReportMetric(float64(peak.Load())/1e6, "peak-heap-MB")
	// Wall time waits for whatever else shares the machine; CPU time is what the pass costs (the
	// local argocd-server and in-memory API included).
	b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
	// The statuses carry the drift: every Deployment's patched image, blocking at the gate.
	if st := currentStatus(last.Load()); st == nil || st.BlockingCount != benchResources-1 {
		b.Fatalf("last status written: %+v", st)
	}
}

// cpuSeconds is the CPU time this process has used, user and system.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
