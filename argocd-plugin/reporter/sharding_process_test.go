package reporter

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/kubetest"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/procs"
)

// askLog is what the Argo CD API served: which replica (by its token) asked for which
// application, and when.
type askLog struct {
	mu   sync.Mutex
	asks []ask
}

type ask struct {
	replica, app string
	at           time.Time
}

func (l *askLog) add(replica, app string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.asks = append(l.asks, ask{replica, app, time.Now()})
}

// byApp: the replicas that asked for each application since since.
func (l *askLog) byApp(since time.Time) map[string]map[string]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]map[string]bool{}
	for _, a := range l.asks {
		if a.at.Before(since) {
			continue
		}
		if out[a.app] == nil {
			out[a.app] = map[string]bool{}
		}
		out[a.app][a.replica] = true
	}
	return out
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestShardedReplicasSplitAndTakeOver runs three real argocd-driftplane reporter processes with
// --shards=3 against a real kube-apiserver holding 30 Argo CD Applications and their
// DriftReports. The Argo CD API (the recorded managed-resources answer) tells the replicas apart
// by their tokens. Every application is evaluated by exactly one replica (no overlap), every one
// is evaluated (no gap), each replica takes one shard; once one replica is killed (SIGKILL: no
// Lease released), its applications are evaluated by the others within the lease period, and by
// one of them only.
func TestShardedReplicasSplitAndTakeOver(t *testing.T) {
	c := kubetest.Start(t)
	cfg := c.RESTConfig("admin", "system:masters")
	dyn := dynamic.NewForConfigOrDie(cfg)
	kc := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()
	kubetest.InstallArgoCDCRDs(t, dyn, "../manifests/base/crd-driftreport.yaml")
	for _, ns := range []string{"argocd", "web"} {
		if _, err := kc.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	recorded := loadAnswer(t)
	const apps, shards = 30, 3
	var names []string
	for i := 0; i < apps; i++ {
		n := fmt.Sprintf("app-%02d", i)
		names = append(names, n)
		if _, err := dyn.Resource(ApplicationsGVR).Namespace("argocd").Create(ctx, appListing(t, n, n), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		dr := reportFor(t, recorded, n, n)
		// As recorded live: what the API server set is not for a create.
		dr.SetResourceVersion("")
		dr.SetUID("")
		dr.SetManagedFields(nil)
		dr.SetCreationTimestamp(metav1.Time{})
		if _, err := dyn.Resource(DriftReportsGVR).Namespace("web").Create(ctx, dr, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	asked := &askLog{}
	argo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		app, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/api/v1/applications/"), "/managed-resources")
		replica := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || r.Method != http.MethodGet || r.URL.Query().Get("appNamespace") != "argocd" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		asked.add(replica, app)
		_ = json.NewEncoder(w).Encode(map[string]any{"items": answerFor(recorded, app)})
	}))
	defer argo.Close()

	bin := filepath.Join(t.TempDir(), "argocd-driftplane")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/argocd-driftplane").CombinedOutput(); err != nil {
		t.Fatalf("building the reporter: %v\n%s", err, out)
	}
	// Replicas started within LeaseDuration of each other split the shards evenly: 5s leaves room
	// for a loaded machine to start three processes.
	timing := LeaseTiming{LeaseDuration: 5 * time.Second, RenewDeadline: 3 * time.Second, RetryPeriod: 250 * time.Millisecond}
	g := procs.New(t, filepath.Join(t.TempDir(), "logs"))
	g.TailLines = 80
	kubeconfig := c.Kubeconfig("driftplane-reporter", "system:masters")
	replicas := map[string]*procs.Proc{}
	for _, r := range []string{"replica-a", "replica-b", "replica-c"} {
		replicas[r] = g.Start(r, bin, []string{"ARGOCD_AUTH_TOKEN=" + r, "DRIFTPLANE_SHARDS=3"}, "report",
			"--kubeconfig="+kubeconfig, "--argocd-server="+argo.URL, "--argocd-insecure",
			"--namespace=argocd", "--argocd-namespace=argocd", "--lease-namespace=argocd",
			"--metrics-addr=127.0.0.1:"+strconv.Itoa(procs.FreePort(t)), "--replicas=3", "--resync=1h", "--workers=2",
			"--lease-duration="+timing.LeaseDuration.String(), "--renew-deadline="+timing.RenewDeadline.String(), "--retry-period="+timing.RetryPeriod.String())
	}

	// No gap: every application is evaluated and its status written.
	procs.WaitFor(t, 90*time.Second, "every application evaluated", func() (bool, string) {
		seen := asked.byApp(time.Time{})
		var missing []string
		for _, n := range names {
			if len(seen[n]) == 0 {
				missing = append(missing, n)
			}
		}
		return len(missing) == 0, "not asked for: " + strings.Join(missing, ",")
	})
	procs.WaitFor(t, 30*time.Second, "every status written", func() (bool, string) {
		var missing []string
		for _, n := range names {
			dr, err := dyn.Resource(DriftReportsGVR).Namespace("web").Get(ctx, n, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			if c := evaluated(currentStatus(dr)); c == nil || c.Status != "True" {
				missing = append(missing, fmt.Sprintf("%s: %+v", n, c))
			}
		}
		return len(missing) == 0, strings.Join(missing, "; ")
	})
	// No overlap: one replica per application, and each replica keeps to one shard.
	shardOf := map[string]int{} // replica → its shard
	for app, who := range asked.byApp(time.Time{}) {
		if len(who) != 1 {
			t.Errorf("%s evaluated by %v, want exactly one replica", app, keys(who))
			continue
		}
		r, s := keys(who)[0], ShardOf("argocd/"+app, shards)
		if prev, ok := shardOf[r]; ok && prev != s {
			t.Errorf("%s evaluated applications of shards %d and %d; with three replicas each holds one", r, prev, s)
		}
		shardOf[r] = s
	}
	if len(shardOf) != 3 {
		t.Fatalf("replicas that evaluated anything: %v, want all three", shardOf)
	}
	for s := 0; s < shards; s++ {
		lease, err := kc.CoordinationV1().Leases("argocd").Get(ctx, DefaultShardLeasePrefix+strconv.Itoa(s), metav1.GetOptions{})
		if err != nil || lease.Spec.HolderIdentity == nil || !strings.HasSuffix(*lease.Spec.HolderIdentity, ";shards=3") {
			t.Errorf("shard %d Lease: %v %v", s, lease, err)
		}
	}
	if t.Failed() {
		return
	}

	// Kill the replica holding shard of replica-b, without letting it release its Lease.
	victim := replicas["replica-b"]
	lostShard := shardOf["replica-b"]
	killedAt := time.Now()
	if err := victim.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-victim.Exited()
	var orphans []string
	for _, n := range names {
		if ShardOf("argocd/"+n, shards) == lostShard {
			orphans = append(orphans, n)
		}
	}
	// The others hold their shards; the dead one's Lease expires after LeaseDuration and is taken
	// at once (it has not changed for a lease period); evaluating ten applications takes a moment.
	bound := timing.LeaseDuration + 4*timing.RetryPeriod + 10*time.Second
	procs.WaitFor(t, bound, "the killed replica's applications evaluated by another", func() (bool, string) {
		seen := asked.byApp(killedAt)
		var missing []string
		for _, n := range orphans {
			if len(seen[n]) == 0 {
				missing = append(missing, n)
			}
		}
		return len(missing) == 0, "not yet: " + strings.Join(missing, ",")
	})
	var last time.Time
	asked.mu.Lock()
	for _, a := range asked.asks {
		if a.at.After(killedAt) && a.at.After(last) {
			last = a.at
		}
	}
	asked.mu.Unlock()
	t.Logf("shard %d's %d applications re-evaluated %.1fs after the kill (lease duration %s)", lostShard, len(orphans), last.Sub(killedAt).Seconds(), timing.LeaseDuration)
	if took := last.Sub(killedAt); took < timing.LeaseDuration-timing.RenewDeadline {
		t.Errorf("taken over after %s, before the dead replica's Lease could have expired", took)
	}
	after := asked.byApp(killedAt)
	for app, who := range after {
		if who["replica-b"] {
			t.Errorf("%s asked for by the killed replica", app)
		}
		if len(who) != 1 {
			t.Errorf("%s evaluated by %v after the kill, want one replica", app, keys(who))
		}
		if ShardOf("argocd/"+app, shards) != lostShard {
			t.Errorf("%s (shard %d) evaluated again after the kill: only the lost shard moves", app, ShardOf("argocd/"+app, shards))
		}
	}
	procs.WaitFor(t, 30*time.Second, "the killed replica's applications' statuses rewritten", func() (bool, string) {
		var stale []string
		for _, n := range orphans {
			dr, err := dyn.Resource(DriftReportsGVR).Namespace("web").Get(ctx, n, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			if st := currentStatus(dr); st == nil || st.LastEvaluatedEpoch < killedAt.Unix() {
				stale = append(stale, n)
			}
		}
		return len(stale) == 0, "not rewritten: " + strings.Join(stale, ",")
	})
	lease, err := kc.CoordinationV1().Leases("argocd").Get(ctx, DefaultShardLeasePrefix+strconv.Itoa(lostShard), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h := *lease.Spec.HolderIdentity; h == "" || lease.Spec.LeaseTransitions == nil || *lease.Spec.LeaseTransitions < 1 {
		t.Errorf("the lost shard's Lease after the takeover: holder %q transitions %v", h, lease.Spec.LeaseTransitions)
	}
}
