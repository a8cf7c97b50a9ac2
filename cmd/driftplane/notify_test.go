package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "code.gitea.io/sdk/gitea"

	"github.com/driftplane/terraform-provider-drift/internal/scan"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/alertmanagertest"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/giteatest"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/procs"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

// notifyStacks are two real OpenTofu stacks (hashicorp/local from the mirror), applied, and a
// registry: unit iam, whose local_file counts as identity (CRITICAL drift in prod with a critical
// tier), and unit app (other domain, standard tier: LOW drift).
type notifyStacks struct {
	tofu, root, registry, evidence string
	conf                           map[string]string // unit -> the file its stack manages
}

const appConf = "replicas=3\n"

func newNotifyStacks(t *testing.T) *notifyStacks {
	t.Helper()
	tofu, mirror := testtools.Require(t, "TOFU"), testtools.Require(t, "LOCAL_MIRROR")
	root := t.TempDir()
	cli := filepath.Join(root, "cli.tfrc")
	write(t, cli, fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.opentofu.org/hashicorp/local"]
  }
  direct { exclude = ["registry.opentofu.org/hashicorp/local"] }
}
`, mirror))
	t.Setenv("TF_CLI_CONFIG_FILE", cli)
	t.Setenv("CHECKPOINT_DISABLE", "1")
	s := &notifyStacks{tofu: tofu, root: root, registry: filepath.Join(root, "registry"), evidence: filepath.Join(root, "evidence"), conf: map[string]string{}}
	units := map[string]string{
		"iam": `{kind: opentofu-stack, owner: team-identity, environment: prod, riskTier: critical, gate: high, source: ../stacks/iam, resourceDomains: {local_file: identity}}`,
		"app": `{kind: opentofu-stack, owner: team-app, environment: prod, riskTier: standard, gate: high, source: ../stacks/app}`,
	}
	for name, spec := range units {
		dir := filepath.Join(root, "stacks", name)
		write(t, filepath.Join(dir, "main.tf"), `resource "local_file" "conf" {
  filename = "${path.module}/app.conf"
  content  = "replicas=3\n"
}
`)
		for _, args := range [][]string{{"init", "-input=false"}, {"apply", "-auto-approve", "-input=false"}} {
			cmd := exec.Command(tofu, args...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("tofu %v in %s: %v\n%s", args, dir, err, out)
			}
		}
		s.conf[name] = filepath.Join(dir, "app.conf")
		write(t, filepath.Join(s.registry, name+".yaml"), fmt.Sprintf("apiVersion: drift.driftplane.io/v1alpha1\nkind: DriftManagedUnit\nmetadata: {name: %s}\nspec: %s\n", name, spec))
	}
	return s
}

// scan runs driftplane scan with the routing policy and returns the exit code, results and
// stderr.
func (s *notifyStacks) scan(t *testing.T, policy string, extra ...string) (int, map[string]scan.Result, string, time.Duration) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	args := append([]string{"scan", "--registry", s.registry, "--tofu", s.tofu, "--format", "json", "--evidence", s.evidence}, extra...)
	if policy != "" {
		args = append(args, "--routing-policy", policy)
	}
	start := time.Now()
	code := run(args, &stdout, &stderr)
	took := time.Since(start)
	var results []scan.Result
	if err := json.Unmarshal(stdout.Bytes(), &results); err != nil {
		t.Fatalf("exit %d: %v\n%s\n%s", code, err, stdout.String(), stderr.String())
	}
	out := map[string]scan.Result{}
	for _, r := range results {
		out[r.Unit] = r
	}
	return code, out, stderr.String(), took
}

// notificationRecords lists a unit's notification records in the evidence folder.
func (s *notifyStacks) notificationRecords(t *testing.T, unit string) []map[string]any {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(s.evidence, "notifications", unit, "*.json"))
	var out []map[string]any
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// The issue's first CI test: `driftplane scan` over real OpenTofu stacks with a routing policy
// whose receiver is a real Alertmanager. Alertmanager's own routing tree sends the identity drift
// to security and the other to platform; a second scan of the same drift tells nobody again;
// fixing the identity drift resolves its alert, and security is told "resolved".
func TestScanNotifiesRealAlertmanager(t *testing.T) {
	s := newNotifyStacks(t)
	security, platform := alertmanagertest.NewSink(t), alertmanagertest.NewSink(t)
	am := alertmanagertest.Start(t, alertmanagertest.DomainRiskConfig(security.URL, platform.URL))
	policy := filepath.Join(s.root, "routing.yaml")
	write(t, policy, fmt.Sprintf(`apiVersion: drift.driftplane.io/v1alpha1
kind: DriftRoutingPolicy
metadata: {name: to-alertmanager}
spec:
  receivers:
    - {name: alertmanager, type: alertmanager, url: %q}
  route:
    receivers: [alertmanager]
    groupBy: [unit]
`, am.URL))
	// Drift both stacks.
	for _, f := range s.conf {
		write(t, f, "replicas=30\n")
	}
	// The exit code without notifications is the reference.
	refCode, _, _, _ := s.scan(t, "")
	code, res, stderr, _ := s.scan(t, policy)
	if code != refCode {
		t.Fatalf("exit %d with notifications, %d without\n%s", code, refCode, stderr)
	}
	if strings.Contains(stderr, "warning") {
		t.Errorf("warnings:\n%s", stderr)
	}
	iam, app := res["iam"], res["app"]
	if len(iam.Findings) != 1 || len(app.Findings) != 1 || iam.Findings[0].Domain != "identity" || iam.Findings[0].Risk != "CRITICAL" ||
		app.Findings[0].Domain == "identity" {
		t.Fatalf("findings: iam %+v\napp %+v", iam.Findings, app.Findings)
	}
	wait := func(what string, sink *alertmanagertest.Sink, want string) {
		t.Helper()
		procs.WaitFor(t, 30*time.Second, what, func() (bool, string) {
			got := sink.States("unit")
			return got == want, got
		})
	}
	wait("security to get the identity drift", security, "iam=firing")
	wait("platform to get the app drift", platform, "app=firing")
	a := security.Latest("unit")["iam"]
	if a.Labels["alertname"] != "DriftFinding" || a.Labels["fingerprint"] != iam.Findings[0].Fingerprint || a.Labels["risk"] != "CRITICAL" ||
		a.Labels["owner"] != "team-identity" || a.Labels["resource"] != "local_file.conf" || a.Annotations["evidence_uri"] == "" {
		t.Errorf("alert as Alertmanager sent it: %+v", a)
	}

	// The same drift scanned again: nothing new is posted (the records say so), and the webhooks
	// hear nothing new.
	before := len(security.Messages()) + len(platform.Messages())
	if c, _, stderr, _ := s.scan(t, policy); c != refCode || strings.Contains(stderr, "warning") {
		t.Fatalf("second scan: exit %d\n%s", c, stderr)
	}
	for _, unit := range []string{"iam", "app"} {
		if recs := s.notificationRecords(t, unit); len(recs) != 1 {
			t.Errorf("%s: %d notification records after two scans of one drift, want 1", unit, len(recs))
		}
	}

	// Fix the identity drift: the file is back as the stack declares it.
	write(t, s.conf["iam"], appConf)
	if c, res, stderr, _ := s.scan(t, policy); c == 3 || res["iam"].Status != "clean" || strings.Contains(stderr, "warning") {
		t.Fatalf("scan after the fix: exit %d %+v\n%s", c, res["iam"], stderr)
	}
	wait("security to be told the identity drift resolved", security, "iam=resolved")
	if got := platform.States("unit"); got != "app=firing" {
		t.Errorf("platform: %s", got)
	}
	time.Sleep(time.Second) // a group interval: anything re-notified would have arrived
	counts := map[string]int{}
	for _, m := range append(security.Messages(), platform.Messages()...) {
		for _, x := range m.Alerts {
			counts[x.Labels["unit"]+"/"+x.Status]++
		}
	}
	if counts["iam/firing"] != 1 || counts["iam/resolved"] != 1 || counts["app/firing"] != 1 || len(counts) != 3 {
		t.Errorf("what the webhooks heard (once each): %v (before the second scan: %d messages)", counts, before)
	}
	recs := s.notificationRecords(t, "iam")
	if len(recs) != 2 {
		t.Fatalf("iam: %d notification records, want 2", len(recs))
	}
	last := recs[len(recs)-1]["deliveries"].([]any)[0].(map[string]any)
	if last["state"] != "resolved" || last["outcome"] != "sent" || last["receiver"] != "alertmanager" || last["resolution"] == "" {
		t.Errorf("resolution recorded as %v", last)
	}
}

// Chaos through scan: the only receiver never answers. The scan finishes in bounded time with
// the exit code it has without notifications, every finding reported, a warning per unit and the
// failures recorded; the next scan, with the receiver back, delivers them, and the one after
// sends nothing.
func TestScanNotifyReceiverTimesOut(t *testing.T) {
	s := newNotifyStacks(t)
	var mu sync.Mutex
	hang := true
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		h := hang
		mu.Unlock()
		if h {
			select {
			case <-r.Context().Done():
			case <-time.After(20 * time.Second):
			}
			return
		}
		var body struct {
			Notifications []struct {
				Finding struct {
					Unit string `json:"unit"`
				} `json:"finding"`
				State string `json:"state"`
			} `json:"notifications"`
		}
		_ = json.Unmarshal(b, &body)
		mu.Lock()
		for _, n := range body.Notifications {
			got = append(got, n.Finding.Unit+"/"+n.State)
		}
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	t.Setenv("DRIFTPLANE_TEST_HOOK_KEY", "0123456789abcdef0123456789")
	policy := filepath.Join(s.root, "routing.yaml")
	write(t, policy, fmt.Sprintf(`apiVersion: drift.driftplane.io/v1alpha1
kind: DriftRoutingPolicy
metadata: {name: to-a-dead-hook}
spec:
  receivers:
    - {name: hook, type: webhook, url: %q, secretRef: {env: DRIFTPLANE_TEST_HOOK_KEY}}
  route:
    receivers: [hook]
    groupBy: [unit]
`, srv.URL+"/drift"))
	for _, f := range s.conf {
		write(t, f, "replicas=30\n")
	}
	refCode, ref, _, refTook := s.scan(t, "")
	code, res, stderr, took := s.scan(t, policy, "--notify-timeout", "2s")
	if code != refCode {
		t.Fatalf("exit %d with a dead receiver, %d without\n%s", code, refCode, stderr)
	}
	// Bounded: two units at once, each waits at most its 2s notify deadline.
	if took > refTook+15*time.Second {
		t.Errorf("scan took %s with a dead receiver (%s without)", took, refTook)
	}
	for unit, r := range ref {
		if res[unit].Status != r.Status || len(res[unit].Findings) != len(r.Findings) {
			t.Errorf("%s: %+v, without notifications %+v", unit, res[unit], r)
		}
		if !strings.Contains(stderr, "warning: unit "+unit+": receiver hook: 1 notification(s) not delivered (retried by the next run)") {
			t.Errorf("no warning for %s:\n%s", unit, stderr)
		}
		recs := s.notificationRecords(t, unit)
		if len(recs) != 1 {
			t.Fatalf("%s: %d records", unit, len(recs))
		}
		d := recs[0]["deliveries"].([]any)[0].(map[string]any)
		if d["outcome"] != "failed" || d["error"] == "" || d["receiver"] != "hook" {
			t.Errorf("%s: failure recorded as %v", unit, d)
		}
	}
	if strings.Contains(stderr, "0123456789abcdef0123456789") {
		t.Error("the receiver's key reached stderr")
	}

	mu.Lock()
	hang = false
	mu.Unlock()
	if c, _, stderr, _ := s.scan(t, policy, "--notify-timeout", "2s"); c != refCode || strings.Contains(stderr, "warning") {
		t.Fatalf("recovery scan: exit %d\n%s", c, stderr)
	}
	mu.Lock()
	delivered := strings.Join(got, " ")
	mu.Unlock()
	if delivered != "app/firing iam/firing" && delivered != "iam/firing app/firing" {
		t.Errorf("delivered after recovery: %q", delivered)
	}
	if c, _, _, _ := s.scan(t, policy, "--notify-timeout", "2s"); c != refCode {
		t.Fatalf("third scan: exit %d", c)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Errorf("the third scan sent again: %v", got)
	}
}

// --routing-policy without --evidence is a usage error: there would be no ledger to say what
// ended and what was already told.
func TestScanRoutingPolicyNeedsEvidence(t *testing.T) {
	dir, policyDir := t.TempDir(), t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"scan", "--registry", dir, "--routing-policy", filepath.Join(policyDir, "p.yaml")}, &stdout, &stderr); code != exitUsage ||
		!strings.Contains(stderr.String(), "--routing-policy needs --evidence") {
		t.Errorf("exit %d\n%s", code, stderr.String())
	}
	write(t, filepath.Join(policyDir, "p.yaml"), `apiVersion: drift.driftplane.io/v1alpha1
kind: DriftRoutingPolicy
metadata: {name: p}
spec:
  receivers:
    - {name: pd, type: pagerduty, secretRef: {env: DRIFTPLANE_TEST_UNSET_PD_KEY}}
  route: {receivers: [pd]}
`)
	stderr.Reset()
	if code := run([]string{"scan", "--registry", dir, "--evidence", filepath.Join(dir, "ev"), "--routing-policy", filepath.Join(policyDir, "p.yaml")}, &stdout, &stderr); code != exitUsage ||
		!strings.Contains(stderr.String(), "receiver pd (pagerduty): secretRef: environment variable DRIFTPLANE_TEST_UNSET_PD_KEY is not set") {
		t.Errorf("exit %d\n%s", code, stderr.String())
	}
}

// The issue receiver through scan, against a real Gitea: three scans of one drift keep one issue
// (opened by the first, left alone by the second), and the scan after the fix closes it with the
// resolution.
func TestScanKeepsOneGiteaIssuePerDrift(t *testing.T) {
	s := newNotifyStacks(t)
	srv := giteatest.Start(t)
	team := srv.NewUser(t, "team", "write:issue,read:user")
	repo := srv.NewRepo(t, team.Name)
	t.Setenv("DRIFTPLANE_TEST_GITEA_TOKEN", team.Token)
	policy := filepath.Join(s.root, "routing.yaml")
	write(t, policy, fmt.Sprintf(`apiVersion: drift.driftplane.io/v1alpha1
kind: DriftRoutingPolicy
metadata: {name: to-gitea}
spec:
  receivers:
    - name: tickets
      type: gitea
      url: %q
      secretRef: {env: DRIFTPLANE_TEST_GITEA_TOKEN}
      settings: {repository: %s/%s, labels: triage}
  route:
    receivers: [tickets]
    createIssue: true
`, srv.URL, team.Name, repo))
	write(t, s.conf["iam"], "replicas=30\n")
	client := srv.Client(t, team.Token)
	list := func() []*sdk.Issue {
		t.Helper()
		got, _, err := client.ListRepoIssues(team.Name, repo, sdk.ListIssueOption{State: sdk.StateAll})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	for i := 1; i <= 2; i++ {
		if _, res, stderr, _ := s.scan(t, policy); res["iam"].Status != "drifted" || strings.Contains(stderr, "warning") {
			t.Fatalf("scan %d: %+v\n%s", i, res["iam"], stderr)
		}
		issues := list()
		if len(issues) != 1 || issues[0].State != sdk.StateOpen || !strings.Contains(issues[0].Body, "local_file.conf") {
			t.Fatalf("after scan %d: %d issue(s) %+v", i, len(issues), issues)
		}
		if i == 2 && issues[0].Comments != 0 {
			t.Errorf("the second scan of the same drift commented %d time(s)", issues[0].Comments)
		}
	}
	write(t, s.conf["iam"], appConf)
	if _, res, stderr, _ := s.scan(t, policy); res["iam"].Status != "clean" || strings.Contains(stderr, "warning") {
		t.Fatalf("scan after the fix: %+v\n%s", res["iam"], stderr)
	}
	issues := list()
	if len(issues) != 1 || issues[0].State != sdk.StateClosed {
		t.Fatalf("after the fix: %d issue(s) %+v", len(issues), issues)
	}
	comments, _, err := client.ListIssueComments(team.Name, repo, issues[0].Index, sdk.ListIssueCommentOptions{})
	if err != nil || len(comments) == 0 || !strings.Contains(comments[len(comments)-1].Body, "**Resolved**") {
		t.Errorf("closing comment: %v %+v", err, comments)
	}
	for _, c := range comments {
		if strings.Contains(c.Body, team.Token) {
			t.Fatal("the token reached an issue comment")
		}
	}
}
