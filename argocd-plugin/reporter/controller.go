package reporter

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/evidence"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
)

// Resources the reporter reads and writes.
var (
	ApplicationsGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}
	DriftReportsGVR = schema.GroupVersionResource{Group: drift.GroupName, Version: "v1alpha1", Resource: "driftreports"}
)

// ManagedResourcesGetter is the part of the Argo CD API the reporter needs.
type ManagedResourcesGetter interface {
	ManagedResources(ctx context.Context, app, appNamespace string) ([]ResourceDiff, error)
}

// Healer asks Argo CD to sync chosen objects back to Git.
type Healer interface {
	SyncResources(ctx context.Context, app, appNamespace string, targets []HealTarget) error
}

// Config wires a Controller.
type Config struct {
	Dynamic dynamic.Interface
	Kube    kubernetes.Interface
	Argo    ManagedResourcesGetter
	// Namespace holds the Applications to watch ("" for all namespaces).
	Namespace string
	// Resync re-evaluates every application this often even when nothing changed, because live
	// drift does not change the Application object.
	Resync time.Duration
	// AuditLogPath, when set, names people behind changes.
	AuditLogPath string
	// Evidence, when set, receives a record of every successful evaluation.
	Evidence evidence.Store
	// Version is recorded in evidence.
	Version string
	// AutoHeal enables bounded auto-heal through Healer; off by default.
	AutoHeal bool
	Healer   Healer
	Metrics  *Metrics
	Log      *slog.Logger
	Now      func() time.Time
}

// Controller evaluates applications that carry a DriftReport.
type Controller struct {
	cfg      Config
	queue    workqueue.TypedRateLimitingInterface[string]
	informer cache.SharedIndexInformer
	recorder record.EventRecorder
	stop     func()
}

// NewController builds the informer, queue and event recorder.
func NewController(cfg Config) *Controller {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Resync == 0 {
		cfg.Resync = 3 * time.Minute
	}
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(cfg.Dynamic, cfg.Resync, cfg.Namespace, nil)
	c := &Controller{
		cfg:      cfg,
		queue:    workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](), workqueue.TypedRateLimitingQueueConfig[string]{Name: "driftplane"}),
		informer: factory.ForResource(ApplicationsGVR).Informer(),
	}
	enqueue := func(obj any) {
		if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
			c.queue.Add(key)
		}
	}
	_, _ = c.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) }, // resyncs arrive as updates too
	})
	broadcaster := record.NewBroadcaster()
	if cfg.Kube != nil {
		broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: cfg.Kube.CoreV1().Events("")})
	}
	c.recorder = broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: "argocd-driftplane"})
	c.stop = broadcaster.Shutdown
	return c
}

// SetEvidence sends a record of every successful evaluation to store.
func (c *Controller) SetEvidence(store evidence.Store) { c.cfg.Evidence = store }

// Run processes applications until ctx ends, then drains and stops.
func (c *Controller) Run(ctx context.Context, workers int) error {
	defer utilruntime.HandleCrash()
	defer c.queue.ShutDown()
	defer c.stop()
	go c.informer.Run(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), c.informer.HasSynced) {
		return fmt.Errorf("applications informer did not sync")
	}
	for i := 0; i < workers; i++ {
		go func() {
			for c.next(ctx) {
			}
		}()
	}
	<-ctx.Done()
	return nil
}

func (c *Controller) next(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	if err := c.Sync(ctx, key); err != nil {
		c.cfg.Log.Warn("evaluation failed; retrying", "app", key, "err", err)
		c.queue.AddRateLimited(key)
		return true
	}
	c.queue.Forget(key)
	return true
}

// Sync evaluates one application ("namespace/name") and writes its DriftReport status. An
// application without a DriftReport is not ours and is skipped.
func (c *Controller) Sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return fmt.Errorf("bad queue key %q: %w", key, err)
	}
	obj, exists, err := c.informer.GetIndexer().GetByKey(key)
	if err != nil || !exists {
		return err
	}
	app := obj.(*unstructured.Unstructured)
	reportNS, reportName, ok := driftReportOf(app)
	if !ok {
		return nil
	}
	reports := c.cfg.Dynamic.Resource(DriftReportsGVR).Namespace(reportNS)
	dr, err := reports.Get(ctx, reportName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil // not synced yet; the application's next change brings us back
	}
	if err != nil {
		return err
	}
	prev := currentStatus(dr)
	start := c.cfg.Now()
	next, policy, evalErr := c.evaluate(ctx, app, dr, ns, name, prev, start)
	if evalErr == nil && c.cfg.AutoHeal && c.cfg.Healer != nil {
		c.heal(ctx, app, policy, &next, ns, name, start)
	}
	if evalErr != nil {
		c.cfg.Metrics.Failed(key)
		freshness, _, _ := unstructured.NestedInt64(dr.Object, "spec", "freshnessSeconds")
		if freshness <= 0 {
			freshness = 900
		}
		c.cfg.Metrics.Stale(key, prev == nil || start.Unix()-prev.LastEvaluatedEpoch > freshness)
	} else {
		c.cfg.Metrics.Evaluated(key, next, c.cfg.Now().Sub(start), start)
	}
	for _, tr := range Transitions(prev, next) {
		c.recorder.Event(app, tr.Type, tr.Reason, tr.Message)
	}
	raw, err := toUnstructured(next)
	if err != nil {
		return err
	}
	dr.Object["status"] = raw
	if _, err := reports.UpdateStatus(ctx, dr, metav1.UpdateOptions{FieldManager: "argocd-driftplane"}); err != nil {
		return fmt.Errorf("writing DriftReport %s/%s status: %w", reportNS, reportName, err)
	}
	return evalErr
}

func (c *Controller) evaluate(ctx context.Context, app, dr *unstructured.Unstructured, ns, name string, prev *Status, now time.Time) (Status, *Policy, error) {
	fail := func(err error) (Status, *Policy, error) {
		return StatusFromError(err, dr.GetGeneration(), now, prev), nil, err
	}
	spec, _, _ := unstructured.NestedMap(dr.Object, "spec")
	policy, err := PolicyFromSpec(spec)
	if err != nil {
		return fail(err)
	}
	resources, err := c.cfg.Argo.ManagedResources(ctx, name, ns)
	if err != nil {
		return fail(err)
	}
	var audit *kube.AuditLog
	if c.cfg.AuditLogPath != "" {
		if audit, err = kube.ReadAuditLogFile(c.cfg.AuditLogPath); err != nil {
			return fail(err)
		}
	}
	rep, obs, err := Evaluate(policy, resources, audit, now)
	if err != nil {
		return fail(err)
	}
	if c.cfg.Evidence != nil {
		rec, err := evidence.New("argocd-driftplane report", c.cfg.Version, policy.Unit, policy.Exceptions,
			[]evidence.Input{{Name: "managed resources of application " + ns + "/" + name, Digest: evidence.ObservationsDigest(obs)}}, rep, now)
		if err == nil {
			var key string
			var data []byte
			if key, data, err = rec.Encode(); err == nil {
				_, err = c.cfg.Evidence.Put(key, data)
			}
		}
		if err != nil {
			return fail(fmt.Errorf("evidence: %w", err))
		}
	}
	revision, _, _ := unstructured.NestedString(app.Object, "status", "sync", "revision")
	return StatusFromReport(rep, obs, dr.GetGeneration(), revision, now, prev), policy, nil
}

// heal runs the bounded auto-heal and records it in the status and as an Event.
func (c *Controller) heal(ctx context.Context, app *unstructured.Unstructured, policy *Policy, st *Status, ns, name string, now time.Time) {
	health, _, _ := unstructured.NestedString(app.Object, "status", "health", "status")
	plan := PlanHeal(policy, *st, health == "Healthy")
	rec := &HealRecord{At: now.UTC().Format(time.RFC3339), Skipped: plan.Skipped}
	if len(plan.Targets) > 0 {
		if err := c.cfg.Healer.SyncResources(ctx, name, ns, plan.Targets); err != nil {
			rec.Error = err.Error()
		} else {
			rec.Healed = plan.Targets
			var what []string
			for _, t := range plan.Targets {
				what = append(what, t.Kind+"/"+t.Name+" "+strings.Join(t.Paths, ","))
			}
			c.recorder.Event(app, corev1.EventTypeNormal, "DriftHealed", "Synced back to Git under AutoHealPolicy: "+strings.Join(what, "; "))
		}
	}
	st.AutoHeal = rec
}

// driftReportOf finds the application's DriftReport among the resources Argo CD manages for it.
func driftReportOf(app *unstructured.Unstructured) (namespace, name string, ok bool) {
	resources, _, _ := unstructured.NestedSlice(app.Object, "status", "resources")
	for _, r := range resources {
		m, _ := r.(map[string]any)
		if m["group"] == drift.GroupName && m["kind"] == "DriftReport" {
			ns, _ := m["namespace"].(string)
			n, _ := m["name"].(string)
			return ns, n, n != ""
		}
	}
	return "", "", false
}

func currentStatus(dr *unstructured.Unstructured) *Status {
	raw, ok := dr.Object["status"]
	if !ok {
		return nil
	}
	js, err := json.Marshal(raw)
	if err != nil {
		return nil
	}
	var s Status
	if json.Unmarshal(js, &s) != nil {
		return nil
	}
	return &s
}

func toUnstructured(s Status) (map[string]any, error) {
	return kube.ToObject(s)
}

// RunWithLeaderElection runs the controller only while this replica holds the Lease, so more
// than one replica can run for availability without double writes.
func RunWithLeaderElection(ctx context.Context, c *Controller, kc kubernetes.Interface, leaseNamespace, identity string, workers int) error {
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Name: "argocd-driftplane-reporter", Namespace: leaseNamespace},
		Client:     kc.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: identity},
	}
	var runErr error
	leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   15 * time.Second,
		RenewDeadline:   10 * time.Second,
		RetryPeriod:     2 * time.Second,
		ReleaseOnCancel: true,
		Name:            "argocd-driftplane-reporter",
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) { runErr = c.Run(ctx, workers) },
			OnStoppedLeading: func() {},
		},
	})
	return runErr
}
