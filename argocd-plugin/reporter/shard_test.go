package reporter

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// argoLegacyShard is Argo CD's legacy distribution function (controller/sharding,
// LegacyDistributionFunction) written out from its definition: FNV-1a over the identifier's
// bytes (offset basis 2166136261, prime 16777619, 32 bits), modulo the replicas.
func argoLegacyShard(id string, replicas int) int {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h ^= uint32(id[i])
		h *= 16777619
	}
	return int(int32(h % uint32(replicas))) //nolint:gosec // as Argo CD converts it
}

// TestShardOfIsArgoCDLegacyHash: the shard of an application is Argo CD's legacy hash of
// "namespace/name" modulo the shard count, for every count, and stays what it is today (pinned
// values: a change of algorithm would move every application between replicas on upgrade).
func TestShardOfIsArgoCDLegacyHash(t *testing.T) {
	for n := 1; n <= 16; n++ {
		for i := 0; i < 2000; i++ {
			key := fmt.Sprintf("team-%d/app-%d", i%37, i)
			if got, want := ShardOf(key, n), argoLegacyShard(key, n); got != want {
				t.Fatalf("ShardOf(%q, %d) = %d, Argo CD's legacy function gives %d", key, n, got, want)
			}
		}
	}
	for _, c := range []struct {
		key  string
		n    int
		want int
	}{
		{"argocd/web", 3, argoLegacyShard("argocd/web", 3)},
		{"argocd/guestbook", 7, argoLegacyShard("argocd/guestbook", 7)},
	} {
		if got := ShardOf(c.key, c.n); got != c.want {
			t.Errorf("ShardOf(%q, %d) = %d, want %d", c.key, c.n, got, c.want)
		}
	}
	// Pinned: if these move, every application moves between replicas on upgrade.
	pinned := map[string]int{}
	for _, k := range []string{"argocd/web", "argocd/api", "team-a/billing", "apps/frontend"} {
		pinned[k] = ShardOf(k, 5)
	}
	if got := fmt.Sprint(pinned); got != pinnedShards {
		t.Errorf("shards of pinned keys changed: %s, want %s", got, pinnedShards)
	}
	if ShardOf("anything", 1) != 0 || ShardOf("anything", 0) != 0 {
		t.Error("one shard (or none configured) must hold every application")
	}
}

// pinnedShards are the shards of four keys among 5 as this algorithm assigned them when it was
// introduced.
const pinnedShards = "map[apps/frontend:4 argocd/api:1 argocd/web:3 team-a/billing:4]"

// TestShardOfIsBalanced: over 30,000 applications each shard gets its share within 5% (about three
// standard deviations of a uniform split; FNV modulo an even count is a little uneven), for the
// counts a reporter is likely to run with.
func TestShardOfIsBalanced(t *testing.T) {
	const apps = 30000
	for _, n := range []int{2, 3, 4, 5, 8, 10} {
		counts := make([]int, n)
		for i := 0; i < apps; i++ {
			counts[ShardOf(fmt.Sprintf("ns-%d/app-%d", i%50, i), n)]++
		}
		mean := float64(apps) / float64(n)
		for s, c := range counts {
			if math.Abs(float64(c)-mean)/mean > 0.05 {
				t.Errorf("%d shards: shard %d has %d applications, mean %.0f", n, s, c, mean)
			}
		}
	}
}

func TestLeaseTimingValidate(t *testing.T) {
	if err := DefaultLeaseTiming.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []LeaseTiming{
		{LeaseDuration: 1500 * time.Millisecond, RenewDeadline: time.Second, RetryPeriod: 100 * time.Millisecond},
		{LeaseDuration: 10 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: time.Second},
		{LeaseDuration: 10 * time.Second, RenewDeadline: 5 * time.Second, RetryPeriod: 5 * time.Second},
		{},
	} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// TestShardsHoldLapsesAtRenewDeadline: a held shard is acted on only until the renew deadline
// after its last renewal; a lapsed one is neither evaluated nor written, and a release waits for
// the writes already admitted.
func TestShardsHoldLapsesAtRenewDeadline(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	s := NewShards(2, 2, DefaultLeaseTiming, clock)
	var key string
	for i := 0; ; i++ {
		if key = fmt.Sprintf("argocd/app-%d", i); s.Of(key) == 1 {
			break
		}
	}
	if _, st := s.claim(key); st != claimNotHeld {
		t.Fatalf("before any Lease: %v", st)
	}
	s.renewed(1, clock())
	ctx, st := s.claim(key)
	if st != claimOwned || ctx.Err() != nil {
		t.Fatalf("after acquiring: %v", st)
	}
	advance(DefaultLeaseTiming.RenewDeadline - time.Millisecond)
	if !s.Owns(key) {
		t.Fatal("lapsed before the renew deadline")
	}
	advance(time.Millisecond)
	if _, st := s.claim(key); st != claimLapsed {
		t.Fatalf("at the renew deadline without renewal: %v, want lapsed", st)
	}
	if _, _, ok := s.beginWrite(key); ok {
		t.Fatal("a write admitted after the renew deadline")
	}
	s.renewed(1, clock())
	until, done, ok := s.beginWrite(key)
	if !ok || !until.Equal(clock().Add(DefaultLeaseTiming.RenewDeadline)) {
		t.Fatalf("write after renewal: ok %v until %v", ok, until)
	}
	released := make(chan struct{})
	go func() { s.releasing(1); close(released) }()
	select {
	case <-released:
		t.Fatal("the Lease was released while a write was in flight")
	case <-time.After(100 * time.Millisecond):
	}
	if ctx.Err() == nil || !errors.Is(context.Cause(ctx), errShardLost) {
		t.Error("the shard's evaluations were not told it is lost")
	}
	done()
	<-released
	if _, st := s.claim(key); st != claimNotHeld {
		t.Fatalf("after release: %v", st)
	}
}

// TestShardsFairShare: a replica takes its share at once, and a shard beyond it only once the
// shard's Lease has not changed for a lease period (a dead holder's), never a Lease just released
// or renewed.
func TestShardsFairShare(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	s := NewShards(3, 3, DefaultLeaseTiming, func() time.Time { return now })
	if !s.mayAcquire(now) {
		t.Fatal("a replica holding nothing may not take a shard just released")
	}
	// Two shards' electors at once: the second sees the first's acquisition under way.
	if s.mayAcquire(now) {
		t.Fatal("two acquisitions allowed side by side within a share of one")
	}
	s.renewed(0, now)
	s.acquired()
	if s.mayAcquire(now) {
		t.Fatal("a replica at its share took a shard just released")
	}
	if s.mayAcquire(now.Add(-DefaultLeaseTiming.LeaseDuration + time.Millisecond)) {
		t.Fatal("a replica at its share took a shard whose Lease changed within the lease period")
	}
	if !s.mayAcquire(now.Add(-DefaultLeaseTiming.LeaseDuration)) {
		t.Fatal("a shard whose Lease has not changed for a lease period (its holder is dead) is not taken over")
	}
	one := NewShards(3, 1, DefaultLeaseTiming, func() time.Time { return now })
	for i := 0; i < 3; i++ {
		if !one.mayAcquire(now) {
			t.Fatalf("a single replica may not take shard %d at once", i)
		}
		one.renewed(i, now)
		one.acquired()
	}
}

// shardedHarness runs RunSharded over the fake clients with fast Lease timing.
type shardedHarness struct {
	*harness
	argo  *fakeArgo
	kc    *kubefake.Clientset
	reg   *prometheus.Registry
	apps  []string
	done  chan error
	stop  context.CancelFunc
	shard *Shards
}

var fastTiming = LeaseTiming{LeaseDuration: 2 * time.Second, RenewDeadline: time.Second, RetryPeriod: 100 * time.Millisecond}

func startSharded(t *testing.T, shards, apps int, prepare func(kc *kubefake.Clientset)) *shardedHarness {
	t.Helper()
	recorded := loadAnswer(t)
	var objs []*unstructured.Unstructured
	var names []string
	for i := 0; i < apps; i++ {
		n := fmt.Sprintf("app-%02d", i)
		names = append(names, n)
		objs = append(objs, appListing(t, n, n), reportFor(t, recorded, n, n))
	}
	argo := &fakeArgo{answer: func(app, _ string) ([]ResourceDiff, error) { return answerFor(recorded, app), nil }}
	h := newHarness(t, argo, objs...)
	s := NewShards(shards, 1, fastTiming, nil)
	h.ctrl.cfg.Shards = s
	kc := kubefake.NewClientset()
	if prepare != nil {
		prepare(kc)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sh := &shardedHarness{harness: h, argo: argo, kc: kc, reg: prometheus.NewRegistry(), apps: names, done: make(chan error, 1), stop: cancel, shard: s}
	go func() {
		sh.done <- RunSharded(ctx, h.ctrl, kc, ShardOptions{Namespace: "argocd", Identity: "replica-a", Timing: fastTiming, Registerer: sh.reg, Log: h.ctrl.cfg.Log}, 2)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-sh.done:
			if err != nil {
				t.Errorf("RunSharded: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("RunSharded did not return after its context ended")
		}
	})
	return sh
}

func (sh *shardedHarness) asked(app string) bool {
	for _, c := range sh.argo.Calls() {
		if c == "argocd/"+app {
			return true
		}
	}
	return false
}

func gauge(t *testing.T, reg *prometheus.Registry, name, shard string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if shard == "" || labelValue(m, "shard") == shard {
				return m.GetGauge().GetValue()
			}
		}
	}
	return -1
}

// TestShardLostStopsWithinRenewDeadline (adversarial): once a replica can no longer renew its
// shards' Leases (the API server refuses, as after a network partition), it evaluates none of
// their applications from the renew deadline on, though the applications keep coming back to
// its queue; its series say it owns nothing.
func TestShardLostStopsWithinRenewDeadline(t *testing.T) {
	var refuse atomic.Bool
	sh := startSharded(t, 2, 8, func(kc *kubefake.Clientset) {
		kc.PrependReactor("update", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
			if refuse.Load() {
				return true, nil, apierrors.NewServiceUnavailable("partitioned")
			}
			return false, nil, nil
		})
	})
	waitFor(t, "every application evaluated", func() bool {
		for _, a := range sh.apps {
			if !sh.asked(a) {
				return false
			}
		}
		return true
	})
	if got := sh.shard.Held(); len(got) != 2 {
		t.Fatalf("a single replica holds shards %v, want both", got)
	}
	refuse.Store(true)
	cut := time.Now()
	stopAt := cut.Add(fastTiming.RenewDeadline)
	// The applications keep arriving (changes, resyncs) while the Leases cannot be renewed.
	var late []string
	for time.Now().Before(stopAt.Add(2 * time.Second)) {
		before := len(sh.argo.Calls())
		for _, a := range sh.apps {
			sh.ctrl.queue.Add("argocd/" + a)
		}
		time.Sleep(50 * time.Millisecond)
		if time.Now().After(stopAt.Add(50*time.Millisecond)) && len(sh.argo.Calls()) > before {
			late = append(late, sh.argo.Calls()[before:]...)
		}
	}
	if len(late) > 0 {
		t.Fatalf("evaluated after the renew deadline without a Lease: %v", late)
	}
	waitFor(t, "owned series at 0", func() bool {
		return gauge(t, sh.reg, "driftplane_reporter_shard_owned", "0") == 0 && gauge(t, sh.reg, "driftplane_reporter_shard_owned", "1") == 0
	})
	if !strings.Contains(sh.logs.String(), "shard lease lost") {
		t.Errorf("losing the Leases is not logged:\n%s", sh.logs.String())
	}
	// Renewals work again: the shards are taken back and their applications evaluated.
	refuse.Store(false)
	n := len(sh.argo.Calls())
	waitFor(t, "evaluation after the Leases came back", func() bool { return len(sh.argo.Calls()) >= n+len(sh.apps) })
}

// TestUnheldShardIsVisible (adversarial): a shard whose Lease this replica may not take (and no
// other replica holds) is never silently skipped: it is logged and driftplane_reporter_shard_unheld
// says so, while the other shard's applications are evaluated.
func TestUnheldShardIsVisible(t *testing.T) {
	sh := startSharded(t, 2, 8, func(kc *kubefake.Clientset) {
		kc.PrependReactor("create", "leases", func(a k8stesting.Action) (bool, runtime.Object, error) {
			if l, ok := a.(k8stesting.CreateAction).GetObject().(*coordinationv1.Lease); ok && l.Name == DefaultShardLeasePrefix+"1" {
				return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}, l.Name, fmt.Errorf("not in the Role"))
			}
			return false, nil, nil
		})
	})
	waitFor(t, "shard 1 reported unheld", func() bool { return gauge(t, sh.reg, "driftplane_reporter_shard_unheld", "1") == 1 })
	if gauge(t, sh.reg, "driftplane_reporter_shard_unheld", "0") != 0 || gauge(t, sh.reg, "driftplane_reporter_shard_owned", "0") != 1 {
		t.Error("shard 0 is held and must read so")
	}
	if !strings.Contains(sh.logs.String(), "shard lease held by no replica") {
		t.Errorf("the unheld shard is not logged:\n%s", sh.logs.String())
	}
	for _, a := range sh.apps {
		key := "argocd/" + a
		if want := ShardOf(key, 2) == 0; sh.asked(a) != want {
			t.Errorf("%s (shard %d): evaluated %v", key, ShardOf(key, 2), sh.asked(a))
		}
	}
}

// TestShardCountMismatchPauses (adversarial): a shard Lease held by a replica splitting by another
// count means the two would split the applications differently (overlap and gaps); the replica
// evaluates nothing and says why until the counts agree.
func TestShardCountMismatchPauses(t *testing.T) {
	now := metav1.NewMicroTime(time.Now())
	other := "replica-b;shards=5"
	long := int32(3600)
	sh := startSharded(t, 2, 8, func(kc *kubefake.Clientset) {
		_, _ = kc.CoordinationV1().Leases("argocd").Create(context.Background(), &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: DefaultShardLeasePrefix + "0", Namespace: "argocd"},
			Spec:       coordinationv1.LeaseSpec{HolderIdentity: &other, LeaseDurationSeconds: &long, RenewTime: &now, AcquireTime: &now},
		}, metav1.CreateOptions{})
	})
	waitFor(t, "the mismatch reported", func() bool { return gauge(t, sh.reg, "driftplane_reporter_shard_count_mismatch", "") == 1 })
	// Shard 1 is this replica's, yet nothing may be evaluated while the counts disagree.
	calls := len(sh.argo.Calls())
	for _, a := range sh.apps {
		sh.ctrl.queue.Add("argocd/" + a)
	}
	time.Sleep(500 * time.Millisecond)
	if got := sh.argo.Calls()[calls:]; len(got) > 0 {
		t.Fatalf("evaluated while the replicas disagree on the shard count: %v", got)
	}
	if !strings.Contains(sh.logs.String(), "replicas disagree on the number of shards") {
		t.Errorf("not logged:\n%s", sh.logs.String())
	}
}
