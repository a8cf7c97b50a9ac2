package reporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/client-go/tools/record"
	"k8s.io/client-go/util/workqueue"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/evidence"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
	"github.com/driftplane/terraform-provider-drift/internal/drift/pipeline"
)

// Resources the reporter reads and writes.
var (
	ApplicationsGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}
	DriftReportsGVR = v1alpha1.GroupVersion.WithResource("driftreports")
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
	// EvaluationTimeout bounds one application's evaluation (default 2 minutes).
	EvaluationTimeout time.Duration
	// AuditLogPath, when set, names people behind changes.
	AuditLogPath string
	// Evidence, when set, receives a record of every successful evaluation.
	Evidence evidence.Store
	// Ledger, when set, keeps the lifecycle of every application's findings (the reporter keeps it
	// beside the evidence, shared with the provider and driftplane scan).
	Ledger ledger.Store
	// Notifier, when set (with Ledger), tells a routing policy's receivers about every successful
	// evaluation, after its status is written; its failures never fail the evaluation.
	Notifier Notifier
	// Version is recorded in evidence.
	Version string
	// AutoHeal enables bounded auto-heal through Healer; off by default.
	AutoHeal bool
	Healer   Healer
	Metrics  *Metrics
	Log      *slog.Logger
	Now      func() time.Time
	// ArgoNamespace is the namespace Argo CD's application controller runs in, which decides the
	// instance name it tracks an application under: the bare name there, "namespace_name" in any
	// other namespace. Default: Namespace when set, else "argocd".
	ArgoNamespace string
	// Digester digests Secret data and other sensitive values with the installation's key
	// (DigestKeyFromSecret), so no status, Event or evidence record carries a value or a plain hash
	// of it. Without one, digests use a random per-process key (unstable across restarts).
	Digester *drift.Digester
	// InstanceLabelKey is Argo CD's application.instanceLabelKey, read for label tracking when a
	// report carries no tracking annotation (default app.kubernetes.io/instance).
	InstanceLabelKey string
	// Metadata, when set, lists Secrets as metadata only (PartialObjectMetadata), so no Secret
	// value ever reaches the reporter; without it Secrets listed through Dynamic lose everything
	// but their metadata at once.
	Metadata metadata.Interface
	// Reconcile, when set (with Ledger), opens pull requests accepting drift into Git for the
	// units whose spec.pullRequests is true, after the status is written.
	Reconcile *ReconcileConfig
	// Shards, when set, limits this replica to the applications of the shards whose Leases it
	// holds (RunSharded); nil evaluates every application.
	Shards *Shards
}

const indexByReport = "driftreport"

// Controller evaluates applications that carry a DriftReport.
type Controller struct {
	cfg      Config
	audit    *kube.AuditCache
	queue    workqueue.TypedRateLimitingInterface[string]
	informer cache.SharedIndexInformer
	recorder record.EventRecorder
	stop     func()
	// reconciled is when each application's reconciliation last ran, and on what drift.
	reconciled reconcileRuns
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
	if cfg.EvaluationTimeout == 0 {
		cfg.EvaluationTimeout = 2 * time.Minute
	}
	if cfg.ArgoNamespace == "" {
		cfg.ArgoNamespace = cfg.Namespace
	}
	if cfg.ArgoNamespace == "" {
		cfg.ArgoNamespace = DefaultArgoNamespace
	}
	if cfg.InstanceLabelKey == "" {
		cfg.InstanceLabelKey = DefaultInstanceLabelKey
	}
	factory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(cfg.Dynamic, cfg.Resync, cfg.Namespace, nil)
	c := &Controller{
		cfg:      cfg,
		audit:    &kube.AuditCache{Path: cfg.AuditLogPath, MaxAge: cfg.Resync, Now: cfg.Now, OncePerPeriod: true},
		queue:    workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](), workqueue.TypedRateLimitingQueueConfig[string]{Name: "driftplane"}),
		informer: factory.ForResource(ApplicationsGVR).Informer(),
	}
	// Applications by the DriftReports they list, to refuse a report two applications claim.
	_ = c.informer.AddIndexers(cache.Indexers{indexByReport: reportIndex})
	enqueue := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			c.queue.Add(key)
		}
	}
	// Another replica's applications stay out of the queue (Sync checks again: the shard may go
	// between the two).
	enqueueOwn := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil && (cfg.Shards == nil || cfg.Shards.Holds(key)) {
			c.queue.Add(key)
		}
	}
	_, _ = c.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueueOwn,
		UpdateFunc: func(_, obj any) { enqueueOwn(obj) }, // resyncs arrive as updates too
		DeleteFunc: enqueue,                              // to release the application's metrics
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

// SetLedger keeps the lifecycle of findings in store.
func (c *Controller) SetLedger(store ledger.Store) { c.cfg.Ledger = store }

// Run processes applications until ctx ends, then stops taking work, waits for every worker
// and the informer to finish, and stops the event recorder.
func (c *Controller) Run(ctx context.Context, workers int) error {
	defer utilruntime.HandleCrash()
	defer c.stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer c.queue.ShutDown()
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.informer.Run(ctx.Done())
	}()
	if !cache.WaitForCacheSync(ctx.Done(), c.informer.HasSynced) {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("applications informer did not sync")
	}
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
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
	if err := c.syncRecovered(ctx, key); err != nil {
		c.cfg.Log.Warn("evaluation failed; retrying", "app", key, "err", err)
		c.queue.AddRateLimited(key)
		return true
	}
	c.queue.Forget(key)
	return true
}

// syncRecovered is Sync that turns a panic into an error: one application's bad data never
// stops the reporter. (A panic while evaluating is already caught inside Sync and written to the
// report as Evaluated=False; this catches the rest.)
func (c *Controller) syncRecovered(ctx context.Context, key string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c.cfg.Log.Error("sync panicked", "app", key, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			c.cfg.Metrics.Failed(key)
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return c.Sync(ctx, key)
}

// enqueueShard queues every application of shard, whose Lease this replica just took.
func (c *Controller) enqueueShard(shard int) {
	for _, key := range c.informer.GetIndexer().ListKeys() {
		if c.cfg.Shards.Of(key) == shard {
			c.queue.Add(key)
		}
	}
}

// forget releases what the reporter holds for an application it no longer evaluates.
func (c *Controller) forget(key string) {
	c.cfg.Metrics.Forget(key)
	c.reconciled.forget(key)
}

// Sync evaluates one application ("namespace/name") and writes its DriftReport status. An
// application without a DriftReport is not ours and is skipped; a deleted one is forgotten.
func (c *Controller) Sync(ctx context.Context, key string) error {
	if _, _, err := cache.SplitMetaNamespaceKey(key); err != nil {
		return fmt.Errorf("bad queue key %q: %w", key, err)
	}
	obj, exists, err := c.informer.GetIndexer().GetByKey(key)
	if err != nil {
		return err
	}
	if !exists {
		c.forget(key)
		return nil
	}
	app := obj.(*unstructured.Unstructured)
	if s := c.cfg.Shards; s != nil {
		shardCtx, st := s.claim(key)
		switch st {
		case claimNotHeld:
			c.forget(key) // the replica holding the shard exports its series
			return nil
		case claimLapsed:
			c.queue.AddAfter(key, s.timing.RetryPeriod)
			return nil
		}
		var cancel context.CancelCauseFunc
		ctx, cancel = context.WithCancelCause(ctx)
		defer cancel(nil)
		defer context.AfterFunc(shardCtx, func() { cancel(context.Cause(shardCtx)) })()
	}
	// One application's evaluation never holds a worker forever: a hung argocd-server or API
	// server makes that application's drift unknown, and the next resync tries again.
	ctx, cancel := context.WithTimeout(ctx, c.cfg.EvaluationTimeout)
	defer cancel()
	refs := driftReportsOf(app)
	switch len(refs) {
	case 0:
		c.forget(key)
		return nil
	case 1:
		return c.syncReport(ctx, app, key, refs[0], nil)
	}
	// One application, one DriftReport: with two, either could carry the looser policy, so
	// neither decides.
	names := make([]string, len(refs))
	for i, r := range refs {
		names[i] = r.String()
	}
	many := failf(ReasonNotOwnReport, "application %s lists %d DriftReports (%s); an application has one, so drift is unknown",
		key, len(refs), strings.Join(names, ", "))
	var firstErr error
	for _, r := range refs {
		if err := c.syncReport(ctx, app, key, r, many); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// syncReport evaluates the application against one DriftReport (or records refusal, when set,
// as the failure) and writes the report's status.
func (c *Controller) syncReport(ctx context.Context, app *unstructured.Unstructured, key string, ref reportRef, refusal error) error {
	reports := c.cfg.Dynamic.Resource(DriftReportsGVR).Namespace(ref.Namespace)
	dr, err := reports.Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil // not synced yet; the application's next change brings us back
	}
	if err != nil {
		return err
	}
	prev := currentStatus(dr)
	start := c.cfg.Now()
	var notice func()
	next, evalErr := c.evaluateGuarded(ctx, app, dr, key, ref, prev, start, refusal, &notice)
	// Receivers are told after the status is written (deferred before the write's own cancel, so
	// it runs after it), whether or not the write worked: the ledger already holds the evaluation.
	defer func() {
		if notice != nil {
			notice()
		}
	}()
	if c.cfg.Shards != nil && !c.cfg.Shards.Owns(key) {
		// The shard went to another replica during the evaluation: its result is not this
		// replica's to publish (the new holder evaluates the application itself).
		c.cfg.Log.Info("shard lease lost during the evaluation; not writing", "app", key)
		notice = nil
		return nil
	}
	if evalErr != nil {
		c.cfg.Metrics.Failed(key)
		c.cfg.Metrics.Stale(key, prev == nil || start.Sub(time.Unix(prev.LastEvaluatedEpoch, 0)) > staleBoundOf(dr))
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
	// The status is written even when the evaluation ran out of time: "unknown" must reach the
	// health check, so the write gets its own deadline.
	writeCtx, cancelWrite := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancelWrite()
	if s := c.cfg.Shards; s != nil {
		// The write must be done while this replica's hold on the shard is good, never after
		// another replica may have taken it.
		until, done, ok := s.beginWrite(key)
		if !ok {
			c.cfg.Log.Info("shard lease lost before the status write; not writing", "app", key)
			notice = nil
			return nil
		}
		defer done()
		var cancelHeld context.CancelFunc
		writeCtx, cancelHeld = context.WithDeadline(writeCtx, until)
		defer cancelHeld()
	}
	if _, err := reports.UpdateStatus(writeCtx, dr, metav1.UpdateOptions{FieldManager: "argocd-driftplane"}); err != nil {
		return fmt.Errorf("writing DriftReport %s status: %w", ref, err)
	}
	if f := (*Failure)(nil); errors.As(evalErr, &f) {
		// A refusal is a decision (drift is unknown, and the report says why), not a transient
		// error to retry fast; the next change or resync re-evaluates.
		return nil
	}
	return evalErr
}

// evaluateGuarded runs the evaluation and the auto-heal, turning a panic into a failed
// evaluation of this application alone.
func (c *Controller) evaluateGuarded(ctx context.Context, app, dr *unstructured.Unstructured, key string, ref reportRef, prev *Status, now time.Time, refusal error, notice *func()) (st Status, err error) {
	defer func() {
		if r := recover(); r != nil {
			c.cfg.Log.Error("evaluation panicked", "app", key, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = failf(ReasonPanic, "evaluation panicked, so drift is unknown: %v", r)
			st = StatusFromError(err, dr.GetGeneration(), now, prev)
			// Unknown drift tells nobody anything and reconciles nothing.
			*notice = nil
		}
	}()
	if refusal != nil {
		return StatusFromError(refusal, dr.GetGeneration(), now, prev), refusal
	}
	next, policy, err := c.evaluate(ctx, app, dr, key, ref, prev, now, notice)
	if err == nil {
		c.cfg.Metrics.Configured(key, policy)
	}
	if err == nil && c.cfg.AutoHeal && c.cfg.Healer != nil {
		c.heal(ctx, app, policy, &next, now)
	}
	return next, err
}

// evaluate sets *notice to the notification of a successful evaluation, for the caller to run
// once the status is written.
func (c *Controller) evaluate(ctx context.Context, app, dr *unstructured.Unstructured, key string, ref reportRef, prev *Status, now time.Time, notice *func()) (Status, *Policy, error) {
	fail := func(err error) (Status, *Policy, error) {
		return StatusFromError(c.redact(err), dr.GetGeneration(), now, prev), nil, c.redact(err)
	}
	ns, name := app.GetNamespace(), app.GetName()
	if err := checkOwnReport(app, dr, c.cfg.ArgoNamespace, c.cfg.InstanceLabelKey); err != nil {
		return fail(err)
	}
	claimants, err := c.informer.GetIndexer().IndexKeys(indexByReport, ref.String())
	if err != nil {
		return fail(err)
	}
	if err := checkSoleClaim(key, ref, claimants); err != nil {
		return fail(err)
	}
	if err := checkAppCompared(app); err != nil {
		return fail(err)
	}
	resources, err := c.cfg.Argo.ManagedResources(ctx, name, ns)
	if err != nil {
		return fail(err)
	}
	if err := checkTargets(resources); err != nil {
		return fail(err)
	}
	spec, err := reportTargetSpec(resources, ref, key)
	if err != nil {
		return fail(err)
	}
	policy, err := PolicyFromSpec(spec)
	if err != nil {
		return fail(err)
	}
	audit, err := c.audit.Get(ctx)
	if err != nil {
		return fail(err)
	}
	var extra []kube.CompareOption
	if c.cfg.Digester != nil {
		extra = append(extra, kube.WithDigester(c.cfg.Digester))
	}
	req, err := evaluationRequest(policy, resources, audit, now, "managed resources of application "+ns+"/"+name, extra...)
	if err != nil {
		return fail(err)
	}
	req.Evidence, req.Ledger, req.Version = c.cfg.Evidence, c.cfg.Ledger, c.cfg.Version
	req.Healed, req.HealFailed = healedBefore(prev), healFailedBefore(prev)
	reconcile := c.withReconcile(&req, app, resources, prev, policy, now)
	liveSrc, err := c.withLive(ctx, &req, app, resources, prev, now)
	if err != nil {
		return fail(err)
	}
	res, err := pipeline.Run(ctx, req)
	if err != nil {
		if st := pipeline.StageOf(err); st == pipeline.StageEvidence || st == pipeline.StageLedger {
			err = fmt.Errorf("evidence: %w", err)
		}
		return fail(err)
	}
	// Without the ledger the notifier cannot tell a new drift from one already told.
	if c.cfg.Notifier != nil && c.cfg.Ledger != nil {
		*notice = func() { c.notify(ctx, app, key, policy.Unit, res) }
	}
	// Pull requests are opened after the status is written, like notifications; the status shows
	// the reconciliations as the last run left them.
	run, shown := c.planReconcile(ctx, app, key, policy, res, prev, now)
	if run != nil {
		told := *notice
		*notice = func() {
			if told != nil {
				told()
			}
			run()
		}
	}
	rep, obs := res.Report, res.Observations
	revision, _, _ := unstructured.NestedString(app.Object, "status", "sync", "revision")
	st := StatusFromReport(rep, obs, dr.GetGeneration(), revision, now, prev)
	st.Reconcile = reconcile.tracking
	st.Reconciliations = shown
	liveStatus(&st, liveSrc)
	return st, policy, nil
}

// redact removes the Argo CD token from an error before it reaches a status, an Event or a log:
// a proxy or server that echoes the request back must not publish the credential.
func (c *Controller) redact(err error) error {
	type redactor interface{ Redact(string) string }
	r, ok := c.cfg.Argo.(redactor)
	if !ok || err == nil {
		return err
	}
	msg := err.Error()
	clean := r.Redact(msg)
	if clean == msg {
		return err
	}
	var f *Failure
	if errors.As(err, &f) {
		return &Failure{Reason: f.Reason, Message: clean}
	}
	return errors.New(clean)
}

// heal runs the bounded auto-heal and records it in the status and as an Event.
func (c *Controller) heal(ctx context.Context, app *unstructured.Unstructured, policy *Policy, st *Status, now time.Time) {
	health, _, _ := unstructured.NestedString(app.Object, "status", "health", "status")
	plan := PlanHeal(policy, *st, AppState{Healthy: health == "Healthy", AutomatedSync: automatedSync(app), Suspended: healSuspended(st)})
	rec := &HealRecord{At: now.UTC().Format(time.RFC3339), Skipped: plan.Skipped}
	if len(plan.Targets) > 0 {
		if err := c.cfg.Healer.SyncResources(ctx, app.GetName(), app.GetNamespace(), plan.Targets); err != nil {
			rec.Error = c.redact(err).Error()
			rec.Failed = plan.Targets
		} else {
			rec.Healed = plan.Targets
			drift.MarkHealed(st.Reconcile, plan.Targets) // reconcile thrash counts the heal once it lands
			var what []string
			for _, t := range plan.Targets {
				what = append(what, t.Kind+"/"+t.Name+" "+strings.Join(t.Paths, ","))
			}
			c.recorder.Event(app, corev1.EventTypeNormal, "DriftHealed", "Synced back to Git under AutoHealPolicy: "+strings.Join(what, "; "))
		}
	}
	st.AutoHeal = rec
}

// currentStatus is the status a DriftReport holds, read through the typed API; nil when it has
// none or it does not decode. Only the status is converted: the live spec is never trusted (the
// policy comes from Git's), so a hand-edited one must not stop the status from being written.
func currentStatus(dr *unstructured.Unstructured) *Status {
	raw, ok := dr.Object["status"].(map[string]any)
	if !ok {
		return nil
	}
	var st v1alpha1.DriftReportStatus
	if runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &st) != nil {
		return nil
	}
	s := StatusFromAPI(&st)
	return &s
}

// toUnstructured is the DriftReport status, as the typed API writes it, for the dynamic client.
func toUnstructured(s Status) (map[string]any, error) {
	st := StatusToAPI(s)
	return runtime.DefaultUnstructuredConverter.ToUnstructured(&st)
}

// RunWithLeaderElection runs the controller only while this replica holds the Lease, so more
// than one replica can run for availability without double writes.
func RunWithLeaderElection(ctx context.Context, c *Controller, kc kubernetes.Interface, leaseNamespace, identity string, workers int) error {
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Name: "argocd-driftplane-reporter", Namespace: leaseNamespace},
		Client:     kc.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: identity},
	}
	// RunOrDie starts OnStartedLeading in a goroutine of its own and returns without waiting for
	// it, so wait here: the controller's workers are done before this returns.
	var (
		mu     sync.Mutex
		closed bool
		wg     sync.WaitGroup
		runErr error
	)
	leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
		Lock:            lock,
		LeaseDuration:   15 * time.Second,
		RenewDeadline:   10 * time.Second,
		RetryPeriod:     2 * time.Second,
		ReleaseOnCancel: true,
		Name:            "argocd-driftplane-reporter",
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) {
				mu.Lock()
				if closed {
					mu.Unlock()
					return
				}
				wg.Add(1)
				mu.Unlock()
				defer wg.Done()
				err := c.Run(ctx, workers)
				mu.Lock()
				runErr = err
				mu.Unlock()
			},
			OnStoppedLeading: func() {},
		},
	})
	mu.Lock()
	closed = true
	mu.Unlock()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	return runErr
}

// healedBefore are the findings the previous evaluation's auto-heal synced back, so the ledger
// records their end as healed, not reverted.
func healedBefore(prev *Status) map[string]bool {
	if prev == nil || prev.AutoHeal == nil {
		return nil
	}
	return findingsOf(prev.AutoHeal.Healed)
}

// healFailedBefore are the findings whose sync the previous evaluation's auto-heal asked for and
// that failed: the ledger counts them as failed reconciliations (M6).
func healFailedBefore(prev *Status) map[string]bool {
	if prev == nil || prev.AutoHeal == nil {
		return nil
	}
	return findingsOf(prev.AutoHeal.Failed)
}

func findingsOf(targets []HealTarget) map[string]bool {
	out := map[string]bool{}
	for _, t := range targets {
		for _, id := range t.Findings {
			out[id] = true
		}
	}
	return out
}
