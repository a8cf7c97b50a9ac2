package pipeline_test

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/drift/evidence"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
	"github.com/driftplane/terraform-provider-drift/internal/drift/pipeline"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/s3test"
)

const refreshOnlyPlan = "../tofuplan/testdata/local-refresh-only.json"

func stackUnit(t *testing.T) *drift.ManagedUnit {
	t.Helper()
	u, err := drift.DecodeUnit("unit", []byte(`{"apiVersion":"drift.driftplane.io/v1alpha1","kind":"DriftManagedUnit",
		"metadata":{"name":"files"},"spec":{"kind":"opentofu-stack","owner":"platform","environment":"prod","riskTier":"high","gate":"low"}}`))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func kubeUnit(t *testing.T) *drift.ManagedUnit {
	t.Helper()
	u, err := drift.DecodeUnit("unit", []byte(`{"apiVersion":"drift.driftplane.io/v1alpha1","kind":"DriftManagedUnit",
		"metadata":{"name":"web"},"spec":{"kind":"kubernetes","owner":"team-web","environment":"prod","riskTier":"high","gate":"medium"}}`))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// The one pipeline gives the same report whether the plan comes from a file or from memory, and
// the record it leaves names the plan by digest.
func TestRunPlanSourcesAgreeAndLeaveEvidence(t *testing.T) {
	ctx := context.Background()
	data, err := os.ReadFile(refreshOnlyPlan)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	fromFile, err := pipeline.Run(ctx, pipeline.Request{Unit: stackUnit(t), Tool: "test", Version: "1",
		Source:   pipeline.PlanFile{Location: refreshOnlyPlan, Label: "plan_json_path"},
		Evidence: blob.Dir(dir)})
	if err != nil {
		t.Fatal(err)
	}
	fromMemory, err := pipeline.Run(ctx, pipeline.Request{Unit: stackUnit(t),
		Source: pipeline.PlanJSON{Name: "mem", Data: data, Label: "refresh-only plan"}})
	if err != nil {
		t.Fatal(err)
	}
	if fromFile.Report.Summary != fromMemory.Report.Summary || len(fromFile.Report.Findings) != 2 || fromFile.Report.BlockingCount == 0 {
		t.Fatalf("file: %q (%d findings, %d blocking); memory: %q", fromFile.Report.Summary, len(fromFile.Report.Findings), fromFile.Report.BlockingCount, fromMemory.Report.Summary)
	}
	for i, f := range fromFile.Report.Findings {
		if f.DetectedAt != "2026-11-22T04:37:54Z" || f.FindingID != fromMemory.Report.Findings[i].FindingID {
			t.Errorf("finding %d: detected_at %q id %q vs %q: the plan's timestamp stamps findings", i, f.DetectedAt, f.FindingID, fromMemory.Report.Findings[i].FindingID)
		}
	}
	if fromFile.EvidenceLocation == "" || fromMemory.EvidenceLocation != "" {
		t.Fatalf("evidence locations %q / %q", fromFile.EvidenceLocation, fromMemory.EvidenceLocation)
	}
	raw, err := os.ReadFile(fromFile.EvidenceLocation)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := evidence.Decode(fromFile.EvidenceLocation, raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Inputs) != 1 || rec.Inputs[0].Name != "plan_json_path "+refreshOnlyPlan || rec.Inputs[0].Digest != evidence.Digest(data) {
		t.Fatalf("inputs %+v", rec.Inputs)
	}
	if strings.Contains(string(raw), "topsecret") {
		t.Fatal("a sensitive value reached the evidence record")
	}
}

// Every failure is an *Error naming its stage, and no report comes with it: drift unknown.
func TestRunFailuresNameTheirStage(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		req  pipeline.Request
		want pipeline.Stage
		msg  string
	}{
		{"no source", pipeline.Request{Unit: stackUnit(t)}, pipeline.StageSource, "no drift source"},
		{"wrong kind", pipeline.Request{Unit: kubeUnit(t), Source: pipeline.PlanFile{Location: refreshOnlyPlan}}, pipeline.StageUnitKind, `unit "web" is of kind "kubernetes"`},
		{"missing plan", pipeline.Request{Unit: stackUnit(t), Source: pipeline.PlanFile{Location: filepath.Join(t.TempDir(), "nope.json")}}, pipeline.StagePlan, "does not exist"},
		{"not a plan", pipeline.Request{Unit: stackUnit(t), Source: pipeline.PlanJSON{Name: "x", Data: []byte(`{"format_version":"1.2"}`)}}, pipeline.StagePlan, "x"},
		{"missing trail", pipeline.Request{Unit: stackUnit(t), Source: pipeline.PlanFile{Location: refreshOnlyPlan},
			Attribution: []pipeline.Attributor{pipeline.CloudTrail{Trail: filepath.Join(t.TempDir(), "trail")}}}, pipeline.StageCloudTrail, "do not exist"},
		{"manifests path", pipeline.Request{Unit: kubeUnit(t), Source: pipeline.KubernetesLive{}}, pipeline.StageKubernetes, "manifests_path is required"},
		{"evidence refused", pipeline.Request{Unit: stackUnit(t), Source: pipeline.PlanFile{Location: refreshOnlyPlan}, Evidence: refusingStore{}}, pipeline.StageEvidence, "disk full"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := pipeline.Run(ctx, c.req)
			if err == nil || res != nil {
				t.Fatalf("want an error and no result, got %v, %+v", err, res)
			}
			if got := pipeline.StageOf(err); got != c.want || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("stage %q error %q; want stage %q containing %q", got, err, c.want, c.msg)
			}
		})
	}
}

type refusingStore struct{}

func (refusingStore) Put(string, []byte) (string, error) { return "", errors.New("disk full") }

func configMapPair() pipeline.ObjectPair {
	desired := map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "cfg", "namespace": "web"}, "data": map[string]any{"mode": "safe"}}
	live := map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "cfg", "namespace": "web"}, "data": map[string]any{"mode": "debug"}}
	return pipeline.ObjectPair{Desired: desired, Live: live}
}

func exceptionUntil(t *testing.T, expires time.Time) *drift.Exception {
	t.Helper()
	e, err := drift.DecodeException("exc", []byte(`{"apiVersion":"drift.driftplane.io/v1alpha1","kind":"DriftException",
		"metadata":{"name":"EXC-1"},"spec":{"unit":"web","resource":"/v1/ConfigMap/web/cfg","paths":["/data/mode"],
		"driftClass":"UNAUTHORIZED_RUNTIME_DRIFT","reason":"debugging","ticket":"INC-1","approvedBy":"lead",
		"expiresAt":"`+expires.UTC().Format(time.RFC3339)+`"}}`))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// An evaluation time in the past cannot revive an expired exception; a live one still applies.
func TestRunPastTimeDoesNotReviveExceptions(t *testing.T) {
	now := time.Now().UTC()
	run := func(e *drift.Exception, at time.Time) (*pipeline.Result, error) {
		return pipeline.Run(context.Background(), pipeline.Request{Unit: kubeUnit(t), Exceptions: []*drift.Exception{e}, At: at,
			Source: pipeline.KubernetesObjects{Pairs: []pipeline.ObjectPair{configMapPair()}}})
	}
	live, err := run(exceptionUntil(t, now.Add(48*time.Hour)), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if live.Report.Findings[0].AcceptedBy != "EXC-1" {
		t.Fatalf("control: a live exception was not applied: %+v", live.Report.Findings[0])
	}
	expired, err := run(exceptionUntil(t, now.Add(-time.Hour)), now.Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if f := expired.Report.Findings[0]; f.AcceptedBy != "" || !f.Blocking {
		t.Fatalf("an explicit past time revived an expired exception: %+v", f)
	}
}

// blob.Open is the one choice between local and S3: the same request reads its plan from S3 and
// writes its evidence to S3.
func TestRunPlanAndEvidenceInS3(t *testing.T) {
	ctx := context.Background()
	o := s3test.Start(t)
	c, err := blob.Client(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(refreshOnlyPlan)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("plans")}); err != nil {
		t.Fatal(err)
	}
	if _, err := (blob.S3Store{Client: c, Bucket: "plans"}).Put("prod/plan.json", data); err != nil {
		t.Fatal(err)
	}
	store, err := blob.OpenStore(ctx, "s3://plans/evidence", o)
	if err != nil {
		t.Fatal(err)
	}
	res, err := pipeline.Run(ctx, pipeline.Request{Unit: stackUnit(t), Tool: "test",
		Source: pipeline.PlanFile{Location: "s3://plans/prod/plan.json", S3: o, Label: "plan_json_path"}, Evidence: store})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.EvidenceLocation, "s3://plans/evidence/files/") || len(res.Report.Findings) != 2 {
		t.Fatalf("evidence %q, %d findings", res.EvidenceLocation, len(res.Report.Findings))
	}
	rec, err := blob.ReadAll(ctx, res.EvidenceLocation, o)
	if err != nil || !strings.Contains(string(rec), `"plan_json_path s3://plans/prod/plan.json"`) {
		t.Fatalf("record %s: %v", rec, err)
	}
}

// The Kubernetes plane from pairs another system fetched: a value a person changed is a finding.
func TestRunKubernetesObjects(t *testing.T) {
	res, err := pipeline.Run(context.Background(), pipeline.Request{Unit: kubeUnit(t),
		Source: pipeline.KubernetesObjects{Pairs: []pipeline.ObjectPair{configMapPair()}, Label: "app web/web"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Report.Findings) != 1 || res.Report.Findings[0].ResourceRef != "/v1/ConfigMap/web/cfg" || len(res.Inputs) != 1 {
		t.Fatalf("findings %+v inputs %+v", res.Report.Findings, res.Inputs)
	}
}

// With a ledger, findings carry their fingerprint, first sighting and age across evaluations, the
// evidence record carries them too, and an evaluation that cannot observe leaves an unknown
// record that resolves nothing.
func TestRunKeepsTheLifecycle(t *testing.T) {
	ctx := context.Background()
	store := blob.Dir(t.TempDir())
	t1 := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
	run := func(at time.Time, src pipeline.Source) (*pipeline.Result, error) {
		return pipeline.Run(ctx, pipeline.Request{Unit: kubeUnit(t), At: at, Source: src, Ledger: store, Evidence: store, Tool: "test"})
	}
	pair := pipeline.KubernetesObjects{Pairs: []pipeline.ObjectPair{configMapPair()}}
	first, err := run(t1, pair)
	if err != nil {
		t.Fatal(err)
	}
	f := first.Report.Findings[0]
	if f.Fingerprint == "" || f.FirstSeen != t1.Format(time.RFC3339) || f.Age != "0s" || first.LedgerLocation == "" {
		t.Fatalf("first evaluation: %+v, ledger %q", f, first.LedgerLocation)
	}
	if _, err := run(t1.Add(time.Minute), pipeline.KubernetesLive{}); pipeline.StageOf(err) != pipeline.StageKubernetes {
		t.Fatalf("want an unobservable evaluation, got %v", err)
	}
	second, err := run(t1.Add(2*time.Hour), pair)
	if err != nil {
		t.Fatal(err)
	}
	g := second.Report.Findings[0]
	if g.Fingerprint != f.Fingerprint || g.FirstSeen != f.FirstSeen || g.Age != "2h0m0s" {
		t.Fatalf("second evaluation: %+v", g)
	}
	rec, err := os.ReadFile(second.EvidenceLocation)
	if err != nil || !strings.Contains(string(rec), `"first_seen":"`+f.FirstSeen+`"`) {
		t.Fatalf("evidence record lacks the lifecycle: %v", err)
	}
	keys, err := store.List(ctx, "ledger/web/")
	if err != nil || len(keys) != 3 {
		t.Fatalf("ledger records %v (%v), want the two evaluations and the unknown one", keys, err)
	}
}

// An evaluation time in the past cannot make a drift younger than it is: a drift first seen 3h
// ago exhausts a 1h budget even when the evaluation claims to run 10 minutes after that sighting.
func TestRunPastTimeDoesNotShortenAges(t *testing.T) {
	ctx := context.Background()
	store := blob.Dir(t.TempDir())
	unit := kubeUnit(t)
	maxOpen := 5
	unit.Spec.Budgets = []drift.Budget{{Name: "healed-1h", MaxAge: "1h", MaxOpen: &maxOpen}}
	unit.Spec.Gate = drift.GateNone
	seen := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second)
	first, err := pipeline.Run(ctx, pipeline.Request{Unit: unit, Source: pipeline.KubernetesObjects{Pairs: []pipeline.ObjectPair{configMapPair()}}})
	if err != nil {
		t.Fatal(err)
	}
	// Plant the history: the same drift first seen three hours ago.
	rec := ledger.Next(nil, "", first.Report, seen, ledger.Outcome{})
	if _, _, err := ledger.Append(ctx, store, rec, nil); err != nil {
		t.Fatal(err)
	}
	res, err := pipeline.Run(ctx, pipeline.Request{Unit: unit, Ledger: store, At: seen.Add(10 * time.Minute),
		Source: pipeline.KubernetesObjects{Pairs: []pipeline.ObjectPair{configMapPair()}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Report.Budgets) != 1 || res.Report.Budgets[0].State != drift.BudgetExhausted || res.Report.BlockingCount != 1 {
		t.Fatalf("budgets %+v, blocking %d: a past evaluation time let an aged drift slip under its budget", res.Report.Budgets, res.Report.BlockingCount)
	}
}

// When a drift ends, the ledger tells Git adopting what runs (the live value unchanged) from the
// runtime going back to Git (the live value changed).
func TestRunTellsAcceptedIntoGitFromReverted(t *testing.T) {
	ctx := context.Background()
	cm := func(desired, live string) pipeline.KubernetesObjects {
		obj := func(mode string) map[string]any {
			return map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
				"metadata": map[string]any{"name": "cfg", "namespace": "web"}, "data": map[string]any{"mode": mode}}
		}
		return pipeline.KubernetesObjects{Pairs: []pipeline.ObjectPair{{Desired: obj(desired), Live: obj(live)}}}
	}
	for _, c := range []struct {
		name          string
		desired, live string
		want          string
	}{
		{"Git adopts the live value", "debug", "debug", ledger.ResolutionAcceptedIntoGit},
		{"the runtime goes back", "safe", "safe", ledger.ResolutionReverted},
	} {
		t.Run(c.name, func(t *testing.T) {
			store := blob.Dir(t.TempDir())
			for _, src := range []pipeline.KubernetesObjects{cm("safe", "debug"), cm(c.desired, c.live)} {
				if _, err := pipeline.Run(ctx, pipeline.Request{Unit: kubeUnit(t), Source: src, Ledger: store}); err != nil {
					t.Fatal(err)
				}
			}
			rec, _, err := ledger.Latest(ctx, store, "web")
			if err != nil || len(rec.Events) != 1 || rec.Events[0].Kind != ledger.EventResolved || rec.Events[0].Resolution != c.want {
				t.Fatalf("latest record %+v (%v), want one %s resolution", rec, err, c.want)
			}
		})
	}
}

// No Secret value, in clear text or base64, reaches what the pipeline writes: the ledger (which
// keeps a digest of what runs at the drifted fields, over the already-digested values) and the
// evidence, across a drift that appears and one that ends.
func TestRunWritesNoSecretToLedgerOrEvidence(t *testing.T) {
	ctx := context.Background()
	const gitValue, liveValue = "git-secret-value-8c1f", "live-secret-value-3e9a"
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	secret := func(v string) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "db", "namespace": "web"},
			"data": map[string]any{"password": b64(v)}}
	}
	store := blob.Dir(t.TempDir())
	for _, live := range []string{liveValue, gitValue} {
		_, err := pipeline.Run(ctx, pipeline.Request{Unit: kubeUnit(t), Ledger: store, Evidence: store, Tool: "test",
			Source: pipeline.KubernetesObjects{Pairs: []pipeline.ObjectPair{{Desired: secret(gitValue), Live: secret(live)}}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	keys, err := store.List(ctx, "")
	if err != nil || len(keys) < 4 {
		t.Fatalf("records %v (%v): want evidence and ledger records of both evaluations", keys, err)
	}
	for _, k := range keys {
		data, err := store.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{gitValue, liveValue, b64(gitValue), b64(liveValue)} {
			if strings.Contains(string(data), v) {
				t.Fatalf("%s holds the Secret value %q", k, v)
			}
		}
	}
}

// A budget objective is judged on the unit's own ledger: a drift resolved within maxAge is
// good, one resolved after it is bad, and the hours the unit went without an evaluation beyond
// its schedule are bad too; the record keeps the budgets as judged and the unit's staleness bound.
func TestRunJudgesBudgetObjectivesOnTheLedger(t *testing.T) {
	ctx := context.Background()
	store := blob.Dir(t.TempDir())
	unit, err := drift.DecodeUnit("unit", []byte(`{"apiVersion":"drift.driftplane.io/v1alpha1","kind":"DriftManagedUnit",
		"metadata":{"name":"web"},"spec":{"kind":"kubernetes","owner":"team-web","environment":"prod","riskTier":"high","gate":"none",
		"schedule":"1h","budgets":[{"name":"config-30m","domain":"workload","maxAge":"30m","objective":{"target":"50","window":"24h"}}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	drifted := pipeline.KubernetesObjects{Pairs: []pipeline.ObjectPair{configMapPair()}}
	same := configMapPair()
	same.Live = same.Desired
	clean := pipeline.KubernetesObjects{Pairs: []pipeline.ObjectPair{same}}
	t1 := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
	var last *pipeline.Result
	for _, step := range []struct {
		after time.Duration
		src   pipeline.Source
	}{
		{0, drifted}, {20 * time.Minute, clean}, // resolved in 20m: good
		{time.Hour, drifted}, {2 * time.Hour, clean}, // resolved in 1h: bad
		{6 * time.Hour, clean}, // 4h without an evaluation, 2h allowed: stale since 4h, bad
	} {
		if last, err = pipeline.Run(ctx, pipeline.Request{Unit: unit, At: t1.Add(step.after), Source: step.src, Ledger: store}); err != nil {
			t.Fatal(err)
		}
	}
	b := last.Report.Budgets[0]
	if b.State != drift.BudgetExhausted || b.Judged != 3 || b.Bad != 2 || b.BurnRate != "1.33" || b.Since != t1.Add(2*time.Hour).Format(time.RFC3339) ||
		!strings.Contains(b.Reason, "objective 50% over 24h missed") {
		t.Fatalf("budget %+v", b)
	}
	rec, _, err := ledger.Latest(ctx, store, "web")
	if err != nil || len(rec.Budgets) != 1 || rec.Budgets[0].State != drift.BudgetExhausted || rec.StaleAfter != "2h0m0s" {
		t.Fatalf("ledger record %+v (%v)", rec, err)
	}
}

// With a ledger, each record counts what the unit declares and what was found running (M7):
// every object of a Kubernetes unit; the managed resources of a stack's state, from the plan.
func TestRunRecordsTheInventory(t *testing.T) {
	ctx := context.Background()
	store := blob.Dir(t.TempDir())
	gone := configMapPair()
	gone.Live = nil
	gone.Desired = map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "gone", "namespace": "web"}}
	src := pipeline.KubernetesObjects{Pairs: []pipeline.ObjectPair{configMapPair(), gone}}
	if _, err := pipeline.Run(ctx, pipeline.Request{Unit: kubeUnit(t), Source: src, Ledger: store}); err != nil {
		t.Fatal(err)
	}
	rec, _, err := ledger.Latest(ctx, store, "web")
	if err != nil || rec.Inventory == nil || *rec.Inventory != (drift.Inventory{Expected: 2, Observed: 1}) {
		t.Fatalf("kubernetes inventory %+v (%v)", rec, err)
	}
	if _, err := pipeline.Run(ctx, pipeline.Request{Unit: stackUnit(t), Source: pipeline.PlanFile{Location: refreshOnlyPlan}, Ledger: store}); err != nil {
		t.Fatal(err)
	}
	rec, _, err = ledger.Latest(ctx, store, "files")
	// Both files of that stack were deleted out of band: the refresh found neither.
	if err != nil || rec.Inventory == nil || *rec.Inventory != (drift.Inventory{Expected: 2, Observed: 0}) {
		t.Fatalf("stack inventory %+v (%v)", rec.Inventory, err)
	}
}

// A unit that requires pinned providers gets a PIN_REFERENCE finding for a provider its
// configuration uses without a version constraint; without the switch, none.
func TestRunRequirePinnedProviders(t *testing.T) {
	plan := []byte(`{"format_version":"1.2","terraform_version":"1.10.10","planned_values":{"root_module":{}},
	 "resource_changes":[{"address":"local_file.a","mode":"managed","type":"local_file","name":"a","provider_name":"registry.opentofu.org/hashicorp/local",
	   "change":{"actions":["no-op"],"before":{"content":"x"},"after":{"content":"x"}}}],
	 "configuration":{"provider_config":{"local":{"name":"local","full_name":"registry.opentofu.org/hashicorp/local"}},"root_module":{}}}`)
	pins := func(require bool) int {
		unit := stackUnit(t)
		unit.Spec.RequirePinnedProviders = require
		res, err := pipeline.Run(context.Background(), pipeline.Request{Unit: unit, Source: pipeline.PlanJSON{Name: "plan.json", Data: plan}})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range res.Report.Findings {
			if f.RecommendedAction == drift.ActionPinReference && strings.Contains(f.ResourceRef, "hashicorp/local") {
				n++
			}
		}
		return n
	}
	if got := pins(false); got != 0 {
		t.Errorf("without the switch: %d provider findings", got)
	}
	if got := pins(true); got != 1 {
		t.Errorf("with requirePinnedProviders: %d provider findings, want 1", got)
	}
}
