package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	sdk "code.gitea.io/sdk/gitea"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
	"github.com/driftplane/terraform-provider-drift/internal/reconcile"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/giteatest"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/procs"
)

// hotfixImage is the image alice patched in and the emergency exception accepts.
const hotfixImage = "registry.example.com/web:1.1-hotfix"

// pullRequestEnv is what the pull request steps use of TestArgoCDEndToEnd's set-up.
type pullRequestEnv struct {
	apps, reports         dynamic.ResourceInterface
	serverURL, adminToken string
	repo                  *appRepo
	// bot is the reporter's forge identity: its pull requests are driftplane's.
	bot giteatest.User
	// store holds the ledger and the reconciliation records beside it.
	store ledger.Store
	// appHealthy says whether the application and its DriftReport are Healthy.
	appHealthy func() (bool, string)
	// liveImage is the image the Deployment runs.
	liveImage func() string
	// scanned are the folders (logs, evidence) the forge tokens must never be written to.
	scanned []string
}

// testEmergencyPullRequest (issue 13): the emergency image patch an exception accepted is ported
// to Git by the reporter's pull request; once someone merges it and Argo CD syncs, the drift is
// gone, the reconciliation verified and the finding's life closed, and the hotfix keeps running.
func testEmergencyPullRequest(t *testing.T, ctx context.Context, e pullRequestEnv) {
	owner, name := e.repo.owner.Name, e.repo.name
	gitea := e.repo.srv.Client(t, e.repo.owner.Token)
	allPulls := func() []*sdk.PullRequest { return giteatest.Pulls(t, gitea, owner, name) }
	want := strings.Replace(deploymentYAML, "registry.example.com/web:1.0", hotfixImage, 1)
	if want == deploymentYAML {
		t.Fatal("deploymentYAML does not declare registry.example.com/web:1.0")
	}

	var pr *sdk.PullRequest
	step(t, "the reporter opens one pull request porting the hotfix to Git", func() {
		procs.WaitFor(t, 2*time.Minute, "a pull request from the reporter", func() (bool, string) {
			prs := allPulls()
			if len(prs) == 0 {
				return false, "no pull request on " + owner + "/" + name
			}
			pr = prs[0]
			return true, ""
		})
		if prs := allPulls(); len(prs) != 1 {
			t.Fatalf("%d pull requests, want one: %v", len(prs), titles(prs))
		}
		t.Logf("pull request #%d %q from %s", pr.Index, pr.Title, pr.Head.Ref)
		if pr.Poster == nil || pr.Poster.UserName != e.bot.Name {
			t.Errorf("pull request #%d opened by %v, want the reporter's %s", pr.Index, pr.Poster, e.bot.Name)
		}
		if pr.State != sdk.StateOpen || pr.Base == nil || pr.Base.Ref != "main" {
			t.Errorf("pull request #%d: state %s, base %v; want open against main", pr.Index, pr.State, pr.Base)
		}
		files, _, err := gitea.ListPullRequestFiles(owner, name, pr.Index, sdk.ListPullRequestFilesOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var changed []string
		for _, f := range files {
			changed = append(changed, f.Filename)
		}
		if !slices.Equal(changed, []string{"app/deployment.yaml"}) {
			t.Errorf("pull request #%d changes %v, want app/deployment.yaml only", pr.Index, changed)
		}
		// Only the image's line changes: the comments, the flow-style maps and the order of the
		// rest of the file are the team's and stay as they wrote them.
		got, _, err := gitea.GetFile(owner, name, pr.Head.Sha, "app/deployment.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("app/deployment.yaml in pull request #%d:\n%s\nwant:\n%s", pr.Index, got, want)
		}
		diff, _, err := gitea.GetPullRequestDiff(owner, name, pr.Index, sdk.PullRequestDiffOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var removed, added []string
		for _, l := range strings.Split(string(diff), "\n") {
			switch {
			case strings.HasPrefix(l, "---"), strings.HasPrefix(l, "+++"):
			case strings.HasPrefix(l, "-"):
				removed = append(removed, l)
			case strings.HasPrefix(l, "+"):
				added = append(added, l)
			}
		}
		if !slices.Equal(removed, []string{"-        image: registry.example.com/web:1.0"}) ||
			!slices.Equal(added, []string{"+        image: " + hotfixImage}) {
			t.Errorf("pull request #%d's diff:\n%s", pr.Index, diff)
		}
		procs.WaitFor(t, time.Minute, "the DriftReport to show the pull request proposed", func() (bool, string) {
			r, ok := reconciliationOf(ctx, e.reports, pr.Index)
			return ok && r["status"] == reconcile.StatusProposed, fmt.Sprint(r)
		})
	})

	step(t, "later evaluations open no second pull request", func() {
		// Several resyncs (5s) and reconcile intervals (3s) with the drift unchanged and its pull
		// request open: each run finds the pull request it opened, by its marker.
		time.Sleep(20 * time.Second)
		prs := allPulls()
		if len(prs) != 1 || prs[0].Index != pr.Index || prs[0].State != sdk.StateOpen {
			t.Fatalf("after several evaluations: %v, want #%d open alone", titles(prs), pr.Index)
		}
	})

	step(t, "the owner merges it, Argo CD syncs -> clean, verified, closed", func() {
		merged, _, err := gitea.MergePullRequest(owner, name, pr.Index, sdk.MergePullRequestOption{Style: sdk.MergeStyleMerge})
		if err != nil || !merged {
			t.Fatalf("merging #%d: merged %v, %v", pr.Index, merged, err)
		}
		e.repo.pull(t)
		waitIdle(t, ctx, e.apps)
		argoRefresh(t, e.serverURL, e.adminToken, "hard")
		argoPost(t, e.serverURL, e.adminToken, "/api/v1/applications/"+appName+"/sync", map[string]any{})
		summary := fmt.Sprintf("accepted into Git by PR #%d, verified at ", pr.Index)
		var lastRefresh time.Time
		procs.WaitFor(t, 3*time.Minute, "no image finding, the application Healthy and the pull request verified", func() (bool, string) {
			if time.Since(lastRefresh) > 10*time.Second {
				// Argo CD recomputes the DriftReport's health on a refresh, not on a status write.
				lastRefresh = time.Now()
				argoRefresh(t, e.serverURL, e.adminToken, "normal")
			}
			r, err := e.reports.Get(ctx, appName, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			findings, _, _ := unstructured.NestedSlice(r.Object, "status", "findings")
			for _, f := range findings {
				m, _ := f.(map[string]any)
				if m["kind"] == "Deployment" {
					return false, fmt.Sprint("still ", m["drift_class"], " ", m["changed_fields"])
				}
			}
			rec, ok := reconciliationOf(ctx, e.reports, pr.Index)
			s, _ := rec["summary"].(string)
			if !ok || rec["status"] != reconcile.StatusVerified || !strings.HasPrefix(s, summary) || rec["verifiedAt"] == nil {
				return false, fmt.Sprint("reconciliation ", rec)
			}
			if img := e.liveImage(); img != hotfixImage {
				return false, "the Deployment runs " + img
			}
			return e.appHealthy()
		})

		// The reconciliation records: the pull request was tracked (with the fingerprints it
		// accepts) while open, one run verified it, and the newest record no longer tracks it as
		// anything but ended (a verified key leaves the state once its branch is gone; its history
		// stays in the events).
		var fingerprints []string
		var verified, branchDeleted bool
		if err := reconcile.Records(ctx, e.store, "web", func(_ string, r *reconcile.Record) error {
			for _, tr := range r.State {
				if tr.PR == pr.Index && len(tr.Fingerprints) > 0 {
					fingerprints = tr.Fingerprints
				}
			}
			for _, ev := range r.Events {
				switch {
				case ev.PR == pr.Index && ev.Kind == reconcile.EventVerified:
					verified = true
					t.Logf("reconciliation %s verified: %s", ev.Key, ev.Detail)
				case ev.PR == pr.Index && ev.Kind == reconcile.EventBranchDeleted:
					branchDeleted = true
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !verified || len(fingerprints) == 0 {
			t.Fatalf("reconciliation records: #%d verified %v, fingerprints %v", pr.Index, verified, fingerprints)
		}
		latest, _, err := reconcile.Latest(ctx, e.store, "web")
		if err != nil || latest == nil {
			t.Fatalf("the unit's latest reconciliation record: %v, %v", latest, err)
		}
		for _, tr := range latest.State {
			if tr.PR == pr.Index && tr.Status != reconcile.StatusVerified {
				t.Errorf("latest reconciliation record tracks #%d as %s", pr.Index, tr.Status)
			}
		}
		// The branch was driftplane's alone, so it goes once the merge is verified (a failed
		// deletion is retried by the next run).
		procs.WaitFor(t, 30*time.Second, "the pull request's branch deleted", func() (bool, string) {
			_, resp, err := gitea.GetRepoBranch(owner, name, pr.Head.Ref)
			return err != nil && resp != nil && resp.StatusCode == http.StatusNotFound, fmt.Sprint(err)
		})
		if !branchDeleted {
			t.Logf("branch %s deleted by a run after the one that verified", pr.Head.Ref)
		}

		// The finding's life in the ledger ended with the merge: resolved as accepted into Git, and
		// open no more.
		resolved := map[string]string{}
		var open []ledger.Entry
		if err := ledger.Walk(ctx, e.store, "web", func(_ string, r *ledger.Record) error {
			for _, ev := range r.Events {
				if ev.Kind == ledger.EventResolved {
					resolved[ev.Fingerprint] = ev.Resolution
				}
			}
			open = r.Open
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, fp := range fingerprints {
			res, ok := resolved[fp]
			// What runs never changed: Git adopted it.
			if !ok || res != ledger.ResolutionAcceptedIntoGit {
				t.Errorf("finding %s: resolution %q in the ledger, want %s", fp, res, ledger.ResolutionAcceptedIntoGit)
			}
			for _, o := range open {
				if o.Fingerprint == fp {
					t.Errorf("finding %s is still open in the ledger", fp)
				}
			}
		}

		if prs := allPulls(); len(prs) != 1 || !prs[0].HasMerged {
			t.Errorf("after the merge: %v, want #%d merged alone", titles(prs), pr.Index)
		}

		// The tokens went to the forge only: not into the DriftReport, the logs, the evidence or
		// the reconciliation records.
		r, err := e.reports.Get(ctx, appName, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		secrets := map[string]string{"the reporter's token": e.bot.Token, "the owner's token": e.repo.owner.Token}
		for what, tok := range secrets {
			if strings.Contains(fmt.Sprint(r.Object), tok) {
				t.Errorf("the DriftReport holds %s", what)
			}
		}
		for _, dir := range e.scanned {
			if err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				data, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				for what, tok := range secrets {
					if bytes.Contains(data, []byte(tok)) {
						t.Errorf("%s holds %s", path, what)
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// reconciliationOf is the DriftReport's status.reconciliations entry of pull request n.
func reconciliationOf(ctx context.Context, reports dynamic.ResourceInterface, n int64) (map[string]any, bool) {
	r, err := reports.Get(ctx, appName, metav1.GetOptions{})
	if err != nil {
		return nil, false
	}
	recs, _, _ := unstructured.NestedSlice(r.Object, "status", "reconciliations")
	for _, x := range recs {
		m, _ := x.(map[string]any)
		if pr, ok := m["pullRequest"].(int64); ok && pr == n {
			return m, true
		}
	}
	return map[string]any{"all": recs}, false
}

// waitIdle waits until no sync operation runs: Argo CD refuses a second one until it ends.
func waitIdle(t *testing.T, ctx context.Context, apps dynamic.ResourceInterface) {
	t.Helper()
	procs.WaitFor(t, time.Minute, "the previous sync operation to end", func() (bool, string) {
		a, err := apps.Get(ctx, appName, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		phase, _, _ := unstructured.NestedString(a.Object, "status", "operationState", "phase")
		return phase != "Running" && phase != "Terminating", "sync operation " + phase
	})
}

// argoRefresh asks argocd-server to refresh the application (mode normal or hard: re-read Git).
func argoRefresh(t *testing.T, serverURL, token, mode string) {
	t.Helper()
	req := must(http.NewRequest(http.MethodGet, serverURL+"/api/v1/applications/"+appName+"?refresh="+mode, nil))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
}

func titles(prs []*sdk.PullRequest) []string {
	var out []string
	for _, p := range prs {
		out = append(out, fmt.Sprintf("#%d %s (%s, merged %v)", p.Index, p.Title, p.State, p.HasMerged))
	}
	return out
}
