package reporter

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	sdk "code.gitea.io/sdk/gitea"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/reconcile"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/giteatest"
)

const prDeployment = `# The web application: bump the tag through a pull request.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: web
  labels: {app: web}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: registry.example.com/web:1.0 # pinned by the release train
`

// prAnswer is the recorded managed-resources answer with the unit asking for pull requests and an
// emergency exception for the patched image; with converged, Git declares what runs (after the
// pull request is merged and synced).
func prAnswer(t *testing.T, pullRequests, converged bool) []ResourceDiff {
	t.Helper()
	out := append([]ResourceDiff(nil), loadAnswer(t)...)
	for i := range out {
		var target map[string]any
		if err := json.Unmarshal([]byte(out[i].TargetState), &target); err != nil {
			t.Fatal(err)
		}
		switch out[i].Kind {
		case "DriftReport":
			_ = unstructured.SetNestedField(target, pullRequests, "spec", "unit", "spec", "pullRequests")
			_ = unstructured.SetNestedSlice(target, []any{map[string]any{
				"apiVersion": "drift.driftplane.io/v1alpha1", "kind": "DriftException", "metadata": map[string]any{"name": "EXC-PR"},
				"spec": map[string]any{"unit": "web", "resource": "apps/v1/Deployment/web/web",
					"paths": []any{"/spec/template/spec/containers/name=app/image"}, "driftClass": "EMERGENCY_DRIFT",
					"reason": "hotfix until the release lands in Git", "ticket": "INC-7", "approvedBy": "web-lead",
					"expiresAt": fixedNow.Add(30 * 24 * time.Hour).Format(time.RFC3339)},
			}}, "spec", "exceptions")
		case "Deployment":
			if !converged {
				continue
			}
			var live map[string]any
			if err := json.Unmarshal([]byte(out[i].LiveState), &live); err != nil {
				t.Fatal(err)
			}
			image, _, _ := unstructured.NestedSlice(live, "spec", "template", "spec", "containers")
			_ = unstructured.SetNestedSlice(target, image, "spec", "template", "spec", "containers")
		}
		b, err := json.Marshal(target)
		if err != nil {
			t.Fatal(err)
		}
		out[i].TargetState = string(b)
	}
	return out
}

// prFixture is the reporter over the recorded application, whose repository is on a real Gitea.
type prFixture struct {
	srv        *giteatest.Server
	team, bot  giteatest.User
	repo       string
	hn         *harness
	store      blob.Store
	answer     atomic.Pointer[[]ResourceDiff]
	repoURL    string
	reconciler *ReconcileConfig
}

func newPRFixture(t *testing.T, srv *giteatest.Server, repoURL string, specExtra ...string) *prFixture {
	t.Helper()
	x := &prFixture{srv: srv, team: srv.NewUser(t, "web-team", "write:repository,write:issue,read:user"),
		bot: srv.NewUser(t, "drift-bot", "write:repository,write:issue,read:user")}
	x.repo = srv.NewRepo(t, x.team.Name)
	srv.AddCollaborator(t, x.team.Name, x.repo, x.bot.Name)
	c := srv.Client(t, x.team.Token)
	if _, _, err := c.CreateFile(x.team.Name, x.repo, "app/deployment.yaml", sdk.CreateFileOptions{Content: base64.StdEncoding.EncodeToString([]byte(prDeployment))}); err != nil {
		t.Fatal(err)
	}
	x.repoURL = repoURL
	if x.repoURL == "" {
		x.repoURL = srv.URL + "/" + x.team.Name + "/" + x.repo + ".git"
	}
	recorded := loadAnswer(t)
	app := application(t, "argocd", "web", "spec: {source: {repoURL: "+x.repoURL+", path: app, targetRevision: HEAD}"+strings.Join(specExtra, "")+"}")
	x.hn = newHarness(t, &fakeArgo{answer: func(string, string) ([]ResourceDiff, error) { return *x.answer.Load(), nil }}, app, liveReport(t, recorded))
	x.hn.index(t, app)
	store, err := blob.OpenStore(context.Background(), filepath.Join(t.TempDir(), "evidence"), blob.S3Options{})
	if err != nil {
		t.Fatal(err)
	}
	x.store = store
	x.hn.ctrl.SetEvidence(store)
	x.hn.ctrl.SetLedger(store)
	// Every evaluation looks at the pull requests, as a long-running reporter does each interval.
	x.reconciler = &ReconcileConfig{Forge: "gitea", URL: srv.URL, Token: x.bot.Token, Interval: time.Nanosecond}
	x.hn.ctrl.cfg.Reconcile = x.reconciler
	// The harness's clock stands still; reconciliation's interval needs one that moves.
	var tick atomic.Int64
	x.hn.ctrl.cfg.Now = func() time.Time { return fixedNow.Add(time.Duration(tick.Add(1)) * time.Second) }
	return x
}

func (x *prFixture) evaluate(t *testing.T, answer []ResourceDiff) *Status {
	t.Helper()
	x.answer.Store(&answer)
	if err := x.hn.ctrl.Sync(context.Background(), "argocd/web"); err != nil {
		t.Fatal(err)
	}
	_, st := x.hn.report(t, "web")
	return st
}

func (x *prFixture) pulls(t *testing.T) []*sdk.PullRequest {
	t.Helper()
	return giteatest.Pulls(t, x.srv.Client(t, x.team.Token), x.team.Name, x.repo)
}

func (x *prFixture) events(t *testing.T, reason string) []string {
	t.Helper()
	// The recorder writes Events asynchronously.
	var out []string
	deadline := time.Now().Add(5 * time.Second)
	for {
		list, err := x.hn.kube.CoreV1().Events("").List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out = out[:0]
		for _, e := range list.Items {
			if e.Reason == reason {
				out = append(out, e.Message)
			}
		}
		if len(out) > 0 || time.Now().After(deadline) {
			return out
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestReporterPullRequests (issue 13): for a unit with pullRequests, the reporter accepts an
// emergency image patch into Git with one pull request on a real Gitea, edited at the drifted field
// with the file's comments kept, never a second on the next evaluations; once it is merged and
// Argo CD reports Git and the runtime agree, the reconciliation is verified, and the DriftReport
// shows it.
func TestReporterPullRequests(t *testing.T) {
	srv := giteatest.Start(t)
	t.Run("accepted into Git and verified", func(t *testing.T) {
		x := newPRFixture(t, srv, "")
		st := x.evaluate(t, prAnswer(t, true, false))
		if c := evaluated(st); c == nil || c.Status != "True" {
			t.Fatalf("status %+v", st)
		}
		prs := x.pulls(t)
		if len(prs) != 1 {
			t.Fatalf("%d pull requests after the first evaluation; findings %+v; log:\n%s", len(prs), st.Findings, x.hn.logs.String())
		}
		pr := prs[0]
		diff, _, err := x.srv.Client(t, x.team.Token).GetPullRequestDiff(x.team.Name, x.repo, pr.Index, sdk.PullRequestDiffOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"-        image: registry.example.com/web:1.0 # pinned by the release train", "+        image: registry.example.com/web:1.1-hotfix # pinned by the release train"} {
			if !strings.Contains(string(diff), want) {
				t.Errorf("the pull request's diff lacks %q:\n%s", want, diff)
			}
		}
		if strings.Count(string(diff), "\n+") != 2 { // the file header and the one line
			t.Errorf("the pull request changes more than the image:\n%s", diff)
		}
		if !strings.Contains(pr.Body, "INC-7") || !strings.Contains(pr.Body, "EXC-PR") {
			t.Errorf("the body does not name the exception and its ticket:\n%s", pr.Body)
		}
		// The status shows what the last run left: the next evaluation has the pull request.
		x.evaluate(t, prAnswer(t, true, false))
		st = x.evaluate(t, prAnswer(t, true, false))
		if n := len(x.pulls(t)); n != 1 {
			t.Fatalf("%d pull requests after three evaluations", n)
		}
		if len(st.Reconciliations) != 1 || st.Reconciliations[0].Status != reconcile.StatusProposed || st.Reconciliations[0].PullRequest != pr.Index ||
			st.Reconciliations[0].URL == "" {
			t.Fatalf("status.reconciliations %+v", st.Reconciliations)
		}
		if ev := x.events(t, ReasonPullRequest); len(ev) == 0 {
			t.Errorf("no %s Event", ReasonPullRequest)
		}

		giteatest.Merge(t, x.srv.Client(t, x.team.Token), x.team.Name, x.repo, pr.Index)
		// Merged but Argo CD has not synced: Git still differs from what the runtime's exception
		// covers, so the drift is still found: pending, not resolved.
		x.evaluate(t, prAnswer(t, true, false))
		st = x.evaluate(t, prAnswer(t, true, false))
		if len(st.Reconciliations) != 1 || st.Reconciliations[0].Status != reconcile.StatusPending {
			t.Fatalf("merged, not synced: %+v", st.Reconciliations)
		}
		// Synced: Argo CD's target is Git's new image, the runtime runs it.
		x.evaluate(t, prAnswer(t, true, true))
		st = x.evaluate(t, prAnswer(t, true, true))
		for _, f := range st.Findings {
			if strings.Contains(strings.Join(f.ChangedFields, ","), "image") {
				t.Errorf("the image drift is still reported: %+v", f)
			}
		}
		r := st.Reconciliations
		if len(r) != 1 || r[0].Status != reconcile.StatusVerified || r[0].VerifiedAt == "" ||
			!strings.Contains(r[0].Summary, "accepted into Git by PR #") || !strings.Contains(r[0].Summary, "verified at") {
			t.Fatalf("after the sync: %+v", r)
		}
		rec, _, err := reconcile.Latest(context.Background(), x.store, "web")
		if err != nil || rec == nil {
			t.Fatalf("the reconciliation record: %+v, %v", rec, err)
		}
		verified := false
		for _, e := range rec.Events {
			verified = verified || e.Kind == reconcile.EventVerified && e.PR == pr.Index && strings.HasPrefix(e.Detail, "accepted into Git by PR #")
		}
		for _, s := range rec.State {
			verified = verified || s.Status == reconcile.StatusVerified && s.PR == pr.Index
		}
		if !verified {
			t.Fatalf("the reconciliation record does not say the pull request was verified: %+v", rec)
		}
		// The closure stays visible in the DriftReport on later evaluations.
		st = x.evaluate(t, prAnswer(t, true, true))
		if len(st.Reconciliations) != 1 || st.Reconciliations[0].Status != reconcile.StatusVerified {
			t.Fatalf("a later evaluation dropped the closure: %+v", st.Reconciliations)
		}
		if n := len(x.pulls(t)); n != 1 {
			t.Fatalf("%d pull requests at the end", n)
		}
	})

	// A unit that does not ask for pull requests gets none, whatever the reporter is given.
	t.Run("unit without pullRequests", func(t *testing.T) {
		x := newPRFixture(t, srv, "")
		st := x.evaluate(t, prAnswer(t, false, false))
		if n := len(x.pulls(t)); n != 0 {
			t.Fatalf("%d pull requests for a unit that did not ask", n)
		}
		if len(st.Reconciliations) != 0 {
			t.Fatalf("status.reconciliations %+v", st.Reconciliations)
		}
		if rec, _, _ := reconcile.Latest(context.Background(), x.store, "web"); rec != nil {
			t.Fatalf("a reconciliation record was written: %+v", rec)
		}
	})
}

// An application whose repository is on another host than the reporter's forge gets no pull
// request, and the forge's token never reaches that host: an application's spec must not be able
// to send the credential where it points.
func TestReporterPullRequestsRefuseForeignHost(t *testing.T) {
	srv := giteatest.Start(t)
	var sawToken atomic.Bool
	var hits atomic.Int32
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if strings.Contains(r.Header.Get("Authorization"), "token") || r.Header.Get("Authorization") != "" || strings.Contains(r.URL.String(), "token") {
			sawToken.Store(true)
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(foreign.Close)
	x := newPRFixture(t, srv, foreign.URL+"/web-team/web.git")
	x.evaluate(t, prAnswer(t, true, false))
	if hits.Load() != 0 || sawToken.Load() {
		t.Fatalf("the reporter reached the application's host (%d requests, token seen: %v)", hits.Load(), sawToken.Load())
	}
	if n := len(x.pulls(t)); n != 0 {
		t.Fatalf("%d pull requests", n)
	}
	ev := x.events(t, ReasonReconcileFailed)
	if len(ev) == 0 || !strings.Contains(ev[0], "is not on the forge") {
		t.Fatalf("Events %q", ev)
	}
	for _, e := range ev {
		if strings.Contains(e, x.bot.Token) {
			t.Fatal("an Event carries the token")
		}
	}
	if strings.Contains(x.hn.logs.String(), x.bot.Token) {
		t.Fatal("the log carries the token")
	}
}

// gitSource refuses what cannot take a pull request, so no run guesses where a field lives.
func TestApplicationSource(t *testing.T) {
	for name, tc := range map[string]struct {
		extra, want string
		dir, base   string
	}{
		"several sources": {extra: "spec: {sources: [{repoURL: 'https://git.example.com/a.git'}, {repoURL: 'https://git.example.com/b.git'}]}", want: "several sources"},
		"ssh":             {extra: "spec: {source: {repoURL: 'git@git.example.com:web.git'}}", want: "http(s)"},
		"credentials":     {extra: "spec: {source: {repoURL: 'https://bot:pw@git.example.com/web.git'}}", want: "carries credentials"},
		"helm repository": {extra: "spec: {source: {repoURL: 'https://charts.example.com', chart: web}}", want: "Helm repository"},
		"branch":          {extra: "spec: {source: {path: /apps/web/, targetRevision: release-1}}", dir: "apps/web", base: "release-1"},
		"HEAD":            {extra: "spec: {source: {path: '', targetRevision: HEAD}}", dir: ".", base: ""},
	} {
		t.Run(name, func(t *testing.T) {
			src, err := applicationSource(application(t, "argocd", "web", tc.extra))
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err %v, want %q", err, tc.want)
				}
				if strings.Contains(tc.extra, "pw@") && strings.Contains(err.Error(), "pw@") {
					t.Fatalf("the error repeats the credential: %v", err)
				}
				return
			}
			if err != nil || src.dir != tc.dir || src.base != tc.base {
				t.Fatalf("%+v, %v", src, err)
			}
		})
	}
}

// The interval holds runs back only while the drift is unchanged; a change runs at once. Failed
// runs are retried after a backoff that doubles up to the interval, and a success resets it.
func TestReconcileRunsDue(t *testing.T) {
	var r reconcileRuns
	t0 := time.Unix(0, 0)
	const interval = 10 * time.Minute
	type step struct {
		sig    string
		at     time.Duration
		want   bool
		failed bool
	}
	steps := []step{
		{sig: "a", at: 0, want: true}, {sig: "a", at: time.Minute, want: false}, {sig: "b", at: 2 * time.Minute, want: true},
		{sig: "b", at: 11 * time.Minute, want: false}, {sig: "b", at: 13 * time.Minute, want: true, failed: true},
		{sig: "b", at: 13*time.Minute + 20*time.Second, want: false}, {sig: "b", at: 13*time.Minute + 31*time.Second, want: true, failed: true},
		{sig: "b", at: 14*time.Minute + 30*time.Second, want: false}, {sig: "b", at: 14*time.Minute + 32*time.Second, want: true, failed: true},
		// The backoff never exceeds the interval.
		{sig: "b", at: 14*time.Minute + 32*time.Second + interval, want: true},
		{sig: "b", at: 15*time.Minute + interval, want: false},
	}
	for i, s := range steps {
		got := r.due("argocd/web", s.sig, t0.Add(s.at), interval)
		if got != s.want {
			t.Fatalf("step %d (%s at %s): due %v, want %v", i, s.sig, s.at, got, s.want)
		}
		if got {
			r.done("argocd/web", s.failed)
		}
	}
	r.forget("argocd/web")
	if !r.due("argocd/web", "b", t0.Add(16*time.Minute), interval) {
		t.Fatal("a forgotten application is not run")
	}
}

// panickyHealer is a Healer with a bug.
type panickyHealer struct{}

func (panickyHealer) SyncResources(context.Context, string, string, []HealTarget) error {
	panic("healer bug")
}

// An evaluation that panics after its drift was computed (here in the auto-heal) is unknown: its
// status says so, and nothing is reconciled on the strength of it.
func TestReporterPanicReconcilesNothing(t *testing.T) {
	srv := giteatest.Start(t)
	// With automated sync, the label Argo CD has not yet synced back is the reporter's to heal.
	x := newPRFixture(t, srv, "", ", syncPolicy: {automated: {}}")
	x.hn.ctrl.cfg.AutoHeal, x.hn.ctrl.cfg.Healer = true, panickyHealer{}
	answer := prAnswer(t, true, false)
	for i := range answer {
		if answer[i].Kind != "Deployment" {
			continue
		}
		var live map[string]any
		if err := json.Unmarshal([]byte(answer[i].LiveState), &live); err != nil {
			t.Fatal(err)
		}
		// A label the AutoHealPolicy lets the reporter sync back, so the heal runs (and panics).
		_ = unstructured.SetNestedField(live, "hacked", "metadata", "labels", "app")
		b, err := json.Marshal(live)
		if err != nil {
			t.Fatal(err)
		}
		answer[i].LiveState = string(b)
	}
	x.answer.Store(&answer)
	_ = x.hn.ctrl.Sync(context.Background(), "argocd/web")
	_, st := x.hn.report(t, "web")
	if c := evaluated(st); c == nil || c.Status != "False" || c.Reason != ReasonPanic {
		t.Fatalf("status after the panic: %+v; log:\n%s", st, x.hn.logs.String())
	}
	if n := len(x.pulls(t)); n != 0 {
		t.Fatalf("%d pull requests opened on an evaluation that panicked", n)
	}
	if rec, _, _ := reconcile.Latest(context.Background(), x.store, "web"); rec != nil {
		t.Fatalf("a reconciliation record was written: %+v", rec)
	}
}
