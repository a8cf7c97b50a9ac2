package notifier_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
	"github.com/driftplane/terraform-provider-drift/internal/drift/pipeline"
	"github.com/driftplane/terraform-provider-drift/internal/drift/route"
	"github.com/driftplane/terraform-provider-drift/internal/notify"
	"github.com/driftplane/terraform-provider-drift/internal/notify/notifier"
	"github.com/driftplane/terraform-provider-drift/internal/notify/webhook"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

const hmacKey = "k3y-PLANTED-0123456789abcdef"

// endpoint is a webhook endpoint that verifies signatures and records what it was told; hang
// makes it answer nothing until the request is abandoned.
type endpoint struct {
	t    *testing.T
	url  string
	mu   sync.Mutex
	got  []notify.Notification
	hang bool
}

func newEndpoint(t *testing.T) *endpoint {
	e := &endpoint{t: t}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		hang := e.hang
		e.mu.Unlock()
		// The body is read first: the server notices a client that gave up only once it has.
		b, _ := io.ReadAll(r.Body)
		if hang {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
			return
		}
		if err := webhook.Verify([][]byte{[]byte(hmacKey)}, r.Header, b, time.Now(), time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var body webhook.Body
		if err := json.Unmarshal(b, &body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		e.mu.Lock()
		e.got = append(e.got, body.Notifications...)
		e.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	e.url = srv.URL + "/hook"
	return e
}

func (e *endpoint) setHang(h bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.hang = h
}

// take returns what the endpoint was told since the last take, as fingerprint/state.
func (e *endpoint) take() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, n := range e.got {
		s := n.Finding.Fingerprint + "/" + n.State
		if n.Resolution != "" {
			s += "/" + n.Resolution
		}
		out = append(out, s)
	}
	e.got = nil
	return out
}

func storePolicy(team, security string) string {
	return `apiVersion: drift.driftplane.io/v1alpha1
kind: DriftRoutingPolicy
metadata: {name: store}
spec:
  receivers:
    - {name: team, type: webhook, url: "` + team + `", secretRef: {env: HOOK_KEY}}
    - {name: security, type: webhook, url: "` + security + `", secretRef: {env: HOOK_KEY}}
  route:
    receivers: [team]
    groupBy: [owner]
    repeatInterval: 4h
    routes:
      - matchers: ['domain="identity"']
        receivers: [security]
`
}

type counters struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counters) Count(receiver, state, outcome string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[receiver+"/"+state+"/"+outcome]++
}

// lab is a unit with a ledger in a folder store and a notifier over real webhook endpoints.
type lab struct {
	t              *testing.T
	dir            string
	store          blob.Dir
	unit           *drift.ManagedUnit
	team, security *endpoint
	n              *notifier.Notifier
	counters       *counters
	now            time.Time
}

func newLab(t *testing.T, opts notifier.Options) *lab {
	l := &lab{t: t, dir: t.TempDir(), team: newEndpoint(t), security: newEndpoint(t), now: t0, counters: &counters{n: map[string]int{}}}
	l.store = blob.Dir(l.dir)
	l.unit = &drift.ManagedUnit{Metadata: drift.Metadata{Name: "payments"}}
	p, err := route.Decode("policy", []byte(storePolicy(l.team.url, l.security.url)), t0)
	if err != nil {
		t.Fatal(err)
	}
	opts.Store, opts.Counters = l.store, l.counters
	opts.Now = func() time.Time { return l.now }
	env := map[string]string{"HOOK_KEY": hmacKey}
	l.n, err = notifier.FromPolicy(context.Background(), p, notifier.EnvSecrets{Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// evaluate appends an evaluation of fs to the ledger (as the pipeline does) and notifies.
func (l *lab) evaluate(fs ...drift.Finding) *notifier.Summary {
	l.t.Helper()
	ctx := context.Background()
	rep := &drift.Report{Unit: "payments", Status: "drifted", Findings: fs}
	for i := range rep.Findings {
		rep.Findings[i].Fingerprint = drift.Fingerprint(rep.Findings[i])
	}
	prev, prevKey, err := ledger.Latest(ctx, l.store, "payments")
	if err != nil {
		l.t.Fatal(err)
	}
	rec := ledger.Next(prev, prevKey, rep, l.now, ledger.Outcome{})
	if _, _, err := ledger.Append(ctx, l.store, rec, prev); err != nil {
		l.t.Fatal(err)
	}
	sum, err := l.n.Notify(ctx, l.unit, rep, "file:///evidence/x.json")
	if err != nil {
		l.t.Fatal(err)
	}
	return sum
}

func (l *lab) records() []*notifier.Record {
	var out []*notifier.Record
	if err := notifier.Records(context.Background(), l.store, "payments", func(_ string, r *notifier.Record) error {
		out = append(out, r)
		return nil
	}); err != nil {
		l.t.Fatal(err)
	}
	return out
}

func fpOf(f drift.Finding) string { return drift.Fingerprint(f) }

// Two scans over the same ledger state send nothing the second time; resolving the drift sends
// the resolution once, with the ledger's resolution; every delivery is recorded with receiver,
// time and outcome, and counted.
func TestNotifyOncePerTransition(t *testing.T) {
	l := newLab(t, notifier.Options{})
	role := finding("aws_iam_role.admin", "identity", drift.RiskHigh, "team-a", "F1")
	vm := finding("aws_instance.a", "compute", drift.RiskMedium, "team-a", "F2")
	role.Fingerprint, vm.Fingerprint = "", ""

	sum := l.evaluate(role, vm)
	if sum.Count(notify.OutcomeSent) != 2 || sum.Record == "" {
		t.Fatalf("first run: %+v", sum)
	}
	if got := l.security.take(); strings.Join(got, " ") != fpOf(role)+"/firing" {
		t.Errorf("security got %v", got)
	}
	if got := l.team.take(); strings.Join(got, " ") != fpOf(vm)+"/firing" {
		t.Errorf("team got %v", got)
	}

	l.now = l.now.Add(time.Minute)
	sum = l.evaluate(role, vm)
	if len(sum.Deliveries) != 0 || sum.Record != "" {
		t.Fatalf("second run over the same state: %+v", sum)
	}
	if a, b := l.security.take(), l.team.take(); len(a)+len(b) != 0 {
		t.Fatalf("sent twice: %v %v", a, b)
	}

	// The role is reverted: security hears it resolved, once.
	l.now = l.now.Add(time.Minute)
	l.evaluate(vm)
	if got := l.security.take(); strings.Join(got, " ") != fpOf(role)+"/resolved/reverted" {
		t.Errorf("security got %v", got)
	}
	l.now = l.now.Add(time.Minute)
	l.evaluate(vm)
	if got := l.security.take(); len(got) != 0 {
		t.Errorf("resolution sent twice: %v", got)
	}

	// Past the root's repeat interval the team is reminded.
	l.now = l.now.Add(5 * time.Hour)
	l.evaluate(vm)
	if got := l.team.take(); strings.Join(got, " ") != fpOf(vm)+"/firing" {
		t.Errorf("repeat: team got %v", got)
	}

	recs := l.records()
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3 (first run, resolution, repeat)", len(recs))
	}
	for i, r := range recs {
		if r.Sequence != int64(i+1) || r.Unit != "payments" || !strings.HasPrefix(r.Ledger, "ledger/payments/") {
			t.Errorf("record %d: %+v", i, r)
		}
		for _, d := range r.Deliveries {
			if d.Receiver == "" || d.At == "" || d.Outcome != notify.OutcomeSent {
				t.Errorf("record %d delivery %+v", i, d)
			}
		}
	}
	if recs[1].Deliveries[0].Resolution != ledger.ResolutionReverted || recs[2].Deliveries[0].Reason != notifier.ReasonRepeat {
		t.Errorf("records: %+v %+v", recs[1].Deliveries, recs[2].Deliveries)
	}
	if l.counters.n["security/firing/sent"] != 1 || l.counters.n["security/resolved/sent"] != 1 || l.counters.n["team/firing/sent"] != 2 {
		t.Errorf("counters %v", l.counters.n)
	}
	// The records are beside the ledger, not in it: the ledger still reads.
	if _, _, err := ledger.Latest(context.Background(), l.store, "payments"); err != nil {
		t.Fatal(err)
	}
	assertNoSecret(t, l.dir)
}

// Chaos at the notifier: every receiver hangs. Notify returns by its deadline with every
// delivery recorded failed and owed; nothing is lost: the next run, with the receivers back,
// delivers exactly what was owed, and the run after sends nothing.
func TestNotifyEveryReceiverTimesOut(t *testing.T) {
	l := newLab(t, notifier.Options{Deadline: time.Second, ReceiverTimeout: 300 * time.Millisecond,
		Retry: notify.Backoff{Attempts: 2, Base: 50 * time.Millisecond, Max: 100 * time.Millisecond}})
	l.team.setHang(true)
	l.security.setHang(true)
	role := finding("aws_iam_role.admin", "identity", drift.RiskHigh, "team-a", "F1")
	vm := finding("aws_instance.a", "compute", drift.RiskMedium, "team-a", "F2")
	role.Fingerprint, vm.Fingerprint = "", ""

	start := time.Now()
	sum := l.evaluate(role, vm)
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Notify took %s with hanging receivers (deadline 1s)", took)
	}
	if sum.Count(notify.OutcomeFailed) != 2 || sum.Record == "" {
		t.Fatalf("hanging receivers: %+v", sum)
	}
	ws := sum.Warnings()
	if len(ws) != 2 || !strings.Contains(ws[0], "retried by the next run") {
		t.Errorf("warnings %q", ws)
	}
	st := l.records()[0].State
	owed := 0
	for _, tt := range st.Told {
		if tt.Pending != nil && tt.Pending.Attempts == 1 && !tt.Pending.GaveUp && tt.State == "" {
			owed++
		}
	}
	if owed != 2 {
		t.Fatalf("state after the failures: %+v", st)
	}

	l.team.setHang(false)
	l.security.setHang(false)
	l.now = l.now.Add(time.Minute)
	sum = l.evaluate(role, vm)
	if sum.Count(notify.OutcomeSent) != 2 {
		t.Fatalf("recovery run: %+v", sum)
	}
	for _, d := range sum.Deliveries {
		if d.Reason != notifier.ReasonRetry || d.Attempts != 2 {
			t.Errorf("recovery delivery %+v", d)
		}
	}
	if a, b := l.security.take(), l.team.take(); len(a) != 1 || len(b) != 1 {
		t.Errorf("delivered after recovery: security %v team %v", a, b)
	}
	l.now = l.now.Add(time.Minute)
	if sum = l.evaluate(role, vm); len(sum.Deliveries) != 0 {
		t.Errorf("third run sent again: %+v", sum.Deliveries)
	}
	if l.counters.n["team/firing/failed"] != 1 || l.counters.n["team/firing/sent"] != 1 {
		t.Errorf("counters %v", l.counters.n)
	}
	assertNoSecret(t, l.dir)
}

// assertNoSecret: no record in the store holds the receivers' key.
func assertNoSecret(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), "PLANTED") {
			t.Errorf("%s holds the receivers' secret", p)
		}
		return nil
	})
}

// Receivers are built from the policy with secrets from the source; a missing secret, a
// Kubernetes Secret without a cluster, or an unknown setting is an error naming the receiver and
// the reference, and never the value of any secret.
func TestFromPolicyErrors(t *testing.T) {
	p, err := route.Decode("policy", []byte(storePolicy("http://127.0.0.1:9/a", "http://127.0.0.1:9/b")), t0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = notifier.FromPolicy(context.Background(), p, notifier.EnvSecrets{Lookup: func(string) (string, bool) { return "", false }}, notifier.Options{})
	if err == nil || !strings.Contains(err.Error(), "receiver team (webhook): secretRef: environment variable HOOK_KEY is not set") {
		t.Errorf("missing env: %v", err)
	}
	// A key too short for the webhook: the error says so without quoting it.
	_, err = notifier.FromPolicy(context.Background(), p, notifier.EnvSecrets{Lookup: func(string) (string, bool) { return "PLANTED", true }}, notifier.Options{})
	if err == nil || strings.Contains(err.Error(), "PLANTED") {
		t.Errorf("short key: %v", err)
	}
	if _, err := (notifier.EnvSecrets{}).Secret(context.Background(), v1alpha1.SecretRef{Name: "gh", Key: "token"}); err == nil || !strings.Contains(err.Error(), "the Kubernetes Secret gh") {
		t.Errorf("secret ref: %v", err)
	}
	bad, err := route.Decode("policy", []byte(strings.Replace(storePolicy("http://127.0.0.1:9/a", "http://127.0.0.1:9/b"),
		"secretRef: {env: HOOK_KEY}}", "secretRef: {env: HOOK_KEY}, settings: {lables: triage}}", 1)), t0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = notifier.FromPolicy(context.Background(), bad, notifier.EnvSecrets{Lookup: func(string) (string, bool) { return hmacKey, true }}, notifier.Options{})
	if err == nil || !strings.Contains(err.Error(), "settings.lables is not a setting") {
		t.Errorf("unknown setting: %v", err)
	}
}

// A foreign key in a unit's notifications folder is an error (as in the ledger), and a record
// whose content disagrees with its key is refused.
func TestRecordsRefuseForeignKeys(t *testing.T) {
	dir := t.TempDir()
	s := blob.Dir(dir)
	ctx := context.Background()
	rec := &notifier.Record{SchemaVersion: notifier.SchemaVersion, Unit: "payments", At: "2026-12-01T10:00:00Z", Sequence: 1, Deliveries: []notifier.Delivery{}}
	key, data, err := rec.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, "notifications/payments/000000000001-20261201T100000Z-") {
		t.Errorf("key %s", key)
	}
	if _, err := s.PutContext(ctx, key, data); err != nil {
		t.Fatal(err)
	}
	if got, k, err := notifier.Latest(ctx, s, "payments"); err != nil || k != key || got.Sequence != 1 {
		t.Fatalf("latest: %v %s %v", got, k, err)
	}
	// The same record under a later key: refused.
	if _, err := s.PutContext(ctx, "notifications/payments/000000000002-20261201T100000Z-000000000000000000000000.json", data); err != nil {
		t.Fatal(err)
	}
	if _, _, err := notifier.Latest(ctx, s, "payments"); err == nil {
		t.Error("a record under another record's key was read")
	}
	if _, err := s.PutContext(ctx, "notifications/payments/notes.txt", []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := notifier.Latest(ctx, s, "payments"); err == nil || !strings.Contains(err.Error(), "not a notification record's key") {
		t.Errorf("foreign key: %v", err)
	}
	if _, _, err := notifier.Latest(ctx, s, "../ledger"); err == nil {
		t.Error("a unit name left its folder")
	}
}

// The guide's example policy decodes and every receiver it declares builds from the environment.
func TestExamplePolicyBuilds(t *testing.T) {
	p, err := route.Load(filepath.Join(testtools.Root(), "examples", "scan", "routing.yaml"), t0)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"PAGERDUTY_SECURITY_ROUTING_KEY": "R0UTINGKEY-PLANTED",
		"SLACK_SECURITY_WEBHOOK_URL":     "https://hooks.slack.com/services/T000/B000/PLANTED",
		"DRIFT_WEBHOOK_HMAC_KEY":         "0123456789abcdef-PLANTED",
		"GITHUB_TOKEN":                   "ghp_PLANTED",
	}
	n, err := notifier.FromPolicy(context.Background(), p, notifier.EnvSecrets{Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}, notifier.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(n.Receivers(), " "); got != "drift-webhook owner-tickets security-pager security-slack team-alertmanager" {
		t.Errorf("receivers %s", got)
	}
	// Without its variables, each receiver that needs one is named with the variable it lacks.
	_, err = notifier.FromPolicy(context.Background(), p, notifier.EnvSecrets{Lookup: func(string) (string, bool) { return "", false }}, notifier.Options{})
	for _, v := range []string{"PAGERDUTY_SECURITY_ROUTING_KEY", "SLACK_SECURITY_WEBHOOK_URL", "DRIFT_WEBHOOK_HMAC_KEY", "GITHUB_TOKEN"} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("missing %s not named: %v", v, err)
		}
	}
}

// brokenStore fails every call, quoting a URL with a credential as some SDK errors do.
type brokenStore struct{}

func (brokenStore) PutContext(context.Context, string, []byte) (string, error) {
	return "", errors.New("put https://user:PLANTED@s3.example/bucket failed")
}
func (brokenStore) Get(context.Context, string) ([]byte, error) {
	return nil, errors.New("get https://user:PLANTED@s3.example/bucket failed")
}
func (brokenStore) List(context.Context, string) ([]string, error) {
	return nil, errors.New("list https://user:PLANTED@s3.example/bucket failed")
}

// The scan hook turns a store that fails into a warning with the URL cut to scheme and host,
// never into a failed unit.
func TestScanHookWarns(t *testing.T) {
	p, err := route.Decode("policy", []byte(storePolicy("http://127.0.0.1:9/a", "http://127.0.0.1:9/b")), t0)
	if err != nil {
		t.Fatal(err)
	}
	n, err := notifier.FromPolicy(context.Background(), p, notifier.EnvSecrets{Lookup: func(string) (string, bool) { return hmacKey, true }}, notifier.Options{Store: brokenStore{}})
	if err != nil {
		t.Fatal(err)
	}
	unit := &drift.ManagedUnit{Metadata: drift.Metadata{Name: "payments"}}
	ws := n.ScanHook()(context.Background(), unit, &pipeline.Result{Report: report(finding("aws_instance.a", "compute", drift.RiskMedium, "o", "F"))})
	if len(ws) != 1 || !strings.Contains(ws[0], "unit payments: notifications:") || !strings.Contains(ws[0], "https://s3.example") || strings.Contains(ws[0], "PLANTED") {
		t.Errorf("warnings %q", ws)
	}
	if ws := n.ScanHook()(context.Background(), unit, &pipeline.Result{}); len(ws) != 0 {
		t.Errorf("no report: %q", ws)
	}
}
