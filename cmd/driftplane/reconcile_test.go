package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdk "code.gitea.io/sdk/gitea"

	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/reconcile"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/giteatest"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/kubetest"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

// kubernetesProviderVersion is the version scripts/tools.sh gives its hashicorp/kubernetes build.
const kubernetesProviderVersion = "2.99.0-dev"

// reconcileStack keeps a setting in a ConfigMap. hashicorp/local cannot show a changed field (a
// file changed out of band is read as deleted), so the field-level emergency change is made on a
// real kube-apiserver through the real hashicorp/kubernetes provider.
const reconcileStack = `terraform {
  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "` + kubernetesProviderVersion + `"
    }
  }
}

variable "kubeconfig" { type = string }

provider "kubernetes" {
  config_path = var.kubeconfig
}

# Payment workers' settings: the operators tune mode during incidents.
resource "kubernetes_config_map_v1" "settings" {
  metadata {
    name      = "settings"
    namespace = "default"
  }
  data = {
    mode = "strict" # strict unless an incident says otherwise
  }
}
`

// TestReconcileEndToEnd: an emergency change accepted by an exception becomes a pull request on a
// real Gitea whose diff edits the .tf; re-running opens no second one; merged but not applied it
// is pending; pulled and applied, the next evaluation finds no drift and the record says
// "accepted into Git by PR #1, verified at …". Real OpenTofu, real hashicorp/kubernetes, real
// kube-apiserver, real Gitea.
func TestReconcileEndToEnd(t *testing.T) {
	tofu := testtools.Require(t, "TOFU")
	mirror := testtools.Require(t, "KUBERNETES_PROVIDER_MIRROR")
	gitBin := testtools.Command(t, "git")
	srv := giteatest.Start(t)
	cluster := kubetest.Start(t)
	const scopes = "write:repository,write:issue,read:user"
	team, bot := srv.NewUser(t, "platform", scopes), srv.NewUser(t, "drift-bot", scopes)
	repo := srv.NewRepo(t, team.Name)
	srv.AddCollaborator(t, team.Name, repo, bot.Name)
	tc := srv.Client(t, team.Token)
	if _, _, err := tc.CreateFile(team.Name, repo, "stacks/payments/main.tf", sdk.CreateFileOptions{Content: base64.StdEncoding.EncodeToString([]byte(reconcileStack))}); err != nil {
		t.Fatal(err)
	}

	root := t.TempDir()
	cli := filepath.Join(root, "cli.tfrc")
	write(t, cli, `provider_installation {
  filesystem_mirror {
    path    = "`+mirror+`"
    include = ["registry.opentofu.org/hashicorp/kubernetes"]
  }
  direct { exclude = ["registry.opentofu.org/hashicorp/kubernetes"] }
}
`)
	t.Setenv("TF_CLI_CONFIG_FILE", cli)
	t.Setenv("CHECKPOINT_DISABLE", "1")
	t.Setenv("TF_VAR_kubeconfig", cluster.Kubeconfig("tofu", "system:masters"))
	checkout := filepath.Join(root, "checkout")
	gitRun(t, gitBin, root, "clone", "-q", srv.CloneURL(team.Name, repo, team), checkout)
	stack := filepath.Join(checkout, "stacks", "payments")
	tf := func(args ...string) {
		t.Helper()
		cmd := exec.Command(tofu, args...)
		cmd.Dir = stack
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("tofu %v: %v\n%s", args, err, out)
		}
	}
	tf("init", "-input=false", "-no-color")
	tf("apply", "-auto-approve", "-input=false", "-no-color")

	// The emergency: mode relaxed by hand, accepted by an exception until it reaches Git.
	cluster.KubectlAs("oncall", []string{"system:masters"}, "-n", "default", "patch", "configmap", "settings", "--type=merge", `-p={"data":{"mode":"permissive"}}`)
	registry := filepath.Join(root, "registry")
	expires := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second).Format(time.RFC3339)
	write(t, filepath.Join(registry, "payments.yaml"), `apiVersion: drift.driftplane.io/v1alpha1
kind: DriftManagedUnit
metadata: {name: payments}
spec: {kind: opentofu-stack, owner: payments-team, environment: prod, riskTier: high, gate: medium, source: ../checkout/stacks/payments}
---
apiVersion: drift.driftplane.io/v1alpha1
kind: DriftException
metadata: {name: EXC-7}
spec:
  unit: payments
  resource: kubernetes_config_map_v1.settings
  paths: [/data/mode]
  driftClass: EMERGENCY_DRIFT
  reason: permissive mode during INC-7
  ticket: INC-7
  approvedBy: oncall-lead
  expiresAt: "`+expires+`"
`)
	evidence := filepath.Join(root, "evidence")
	t.Setenv(defaultTokenEnv, bot.Token)
	repoURL := srv.URL + "/" + team.Name + "/" + repo + ".git"
	reconcileRun := func() reconcile.Outcome {
		t.Helper()
		var stdout, stderr bytes.Buffer
		code := run([]string{"reconcile", "--registry", registry, "--evidence", evidence, "--tofu", tofu, "--forge", "gitea",
			"--repo-url", repoURL, "--format", "json"}, &stdout, &stderr)
		for _, out := range []string{stdout.String(), stderr.String()} {
			if strings.Contains(out, bot.Token) {
				t.Fatalf("the token was printed:\n%s", out)
			}
		}
		if code != 0 {
			t.Fatalf("reconcile exit %d\n%s\n%s", code, stdout.String(), stderr.String())
		}
		var rep reconcile.Report
		if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
			t.Fatalf("%v\n%s", err, stdout.String())
		}
		if len(rep.Outcomes) != 1 {
			t.Fatalf("outcomes %+v\n%s", rep.Outcomes, stderr.String())
		}
		return rep.Outcomes[0]
	}
	o := reconcileRun()
	if o.Status != reconcile.StatusProposed || o.PR != 1 {
		t.Fatalf("first run: %+v", o)
	}
	diff, _, err := tc.GetPullRequestDiff(team.Name, repo, o.PR, sdk.PullRequestDiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(diff), "stacks/payments/main.tf") || !strings.Contains(string(diff), `+    mode = "permissive" # strict unless an incident says otherwise`) ||
		!strings.Contains(string(diff), `-    mode = "strict" # strict unless an incident says otherwise`) {
		t.Fatalf("the pull request does not edit the .tf:\n%s", diff)
	}
	pr, _, err := tc.GetPullRequest(team.Name, repo, o.PR)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"`EXC-7`", "This rule expires on `" + expires + "`", "`/data/mode`", "`EMERGENCY_DRIFT`", "`payments-team`", "`prod`"} {
		if !strings.Contains(pr.Body, want) {
			t.Errorf("pull request body lacks %s:\n%s", want, pr.Body)
		}
	}
	// Running reconcile twice opens one pull request.
	if o2 := reconcileRun(); o2.PR != o.PR || o2.Status != reconcile.StatusProposed {
		t.Errorf("second run: %+v", o2)
	}
	prs, _, err := tc.ListRepoPullRequests(team.Name, repo, sdk.ListPullRequestsOptions{State: sdk.StateAll})
	if err != nil || len(prs) != 1 {
		t.Fatalf("%d pull requests after two runs (%v), want 1", len(prs), err)
	}

	// Merged through the API, pulled, not yet applied: pending, not resolved.
	giteatest.Merge(t, tc, team.Name, repo, o.PR)
	gitRun(t, gitBin, checkout, "pull", "-q", "--ff-only")
	if o3 := reconcileRun(); o3.Status != reconcile.StatusPending {
		t.Errorf("merged, not applied: %+v", o3)
	}
	// Applied: Git, the state and the runtime agree. Re-plan: no drift; closure verified.
	tf("apply", "-auto-approve", "-input=false", "-no-color")
	o4 := reconcileRun()
	if o4.Status != reconcile.StatusVerified || !strings.HasPrefix(o4.Summary, "accepted into Git by PR #1, verified at ") || !o4.BranchDeleted {
		t.Errorf("after apply: %+v", o4)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"scan", "--registry", registry, "--tofu", tofu, "--format", "json"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), `"status": "clean"`) {
		t.Errorf("re-plan after the merge: exit %d\n%s", code, stdout.String())
	}
	// The records beside the ledger tell the whole closure, with both evaluations' evidence.
	store, err := blob.OpenStore(t.Context(), evidence, blob.S3Options{})
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	var verified reconcile.Event
	if err := reconcile.Records(t.Context(), store, "payments", func(_ string, r *reconcile.Record) error {
		for _, e := range r.Events {
			events = append(events, e.Kind)
			if e.Kind == reconcile.EventVerified {
				verified = e
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(events, ",") != "proposed,merged,verified,branch_deleted" || verified.PR != 1 || !strings.Contains(verified.Detail, "accepted into Git by PR #1, verified at") {
		t.Errorf("reconciliation events %v, verified %+v", events, verified)
	}
	comments, _, err := tc.ListIssueComments(team.Name, repo, o.PR, sdk.ListIssueCommentOptions{})
	if err != nil || len(comments) != 2 || !strings.Contains(comments[1].Body, "verified at") {
		t.Errorf("pull request comments %v %v", comments, err)
	}
}

func gitRun(t *testing.T, bin, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %s: %v\n%s", args[0], err, out)
	}
}

// Usage errors name what is wrong and never echo a credential.
func TestReconcileUsage(t *testing.T) {
	registry := t.TempDir()
	for _, tc := range []struct {
		args  []string
		token string
		want  string
	}{
		{[]string{"reconcile", "--evidence", "e", "--forge", "gitea"}, "tok-0123456789", "--registry is required"},
		{[]string{"reconcile", "--registry", registry, "--forge", "gitea"}, "tok-0123456789", "--evidence is required"},
		{[]string{"reconcile", "--registry", registry, "--evidence", "e", "--forge", "svn"}, "t", `--forge "svn"`},
		{[]string{"reconcile", "--registry", registry, "--evidence", "e", "--forge", "gitea", "--group", "x"}, "t", `--group "x"`},
		{[]string{"reconcile", "--registry", registry, "--evidence", "e", "--forge", "gitea", "--repo-url", "https://h/o/r.git"}, "", "DRIFTPLANE_FORGE_TOKEN is empty"},
		{[]string{"reconcile", "--registry", registry, "--evidence", "e", "--forge", "gitea", "--repo-url", "https://bot:hunter2-password@h/o/r.git"}, "tok-0123456789", "carries credentials"},
		{[]string{"reconcile", "--registry", registry, "--evidence", "e", "--forge", "github", "--repo-url", "file:///tmp/x"}, "tok-0123456789", "http(s) URL"},
	} {
		t.Setenv(defaultTokenEnv, tc.token)
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		if code != exitUsage || !strings.Contains(stderr.String(), tc.want) || strings.Contains(stderr.String(), "hunter2") {
			t.Errorf("%v: exit %d\n%s", tc.args, code, stderr.String())
		}
	}
}
