package notifier_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
	"github.com/driftplane/terraform-provider-drift/internal/drift/route"
	"github.com/driftplane/terraform-provider-drift/internal/notify"
	"github.com/driftplane/terraform-provider-drift/internal/notify/notifier"
	"github.com/driftplane/terraform-provider-drift/internal/notify/webhook"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// planPolicy: identity drift to security (grouped by domain), INFO drift only to the INFO route
// that names it, everything else to the owning team grouped by owner and repeated every 4h; the
// quiet bucket is silenced until the 20th.
const planPolicy = `apiVersion: drift.driftplane.io/v1alpha1
kind: DriftRoutingPolicy
metadata: {name: plan}
spec:
  receivers:
    - {name: team, type: webhook, url: "http://127.0.0.1:9/team", secretRef: {env: K}}
    - {name: security, type: webhook, url: "http://127.0.0.1:9/sec", secretRef: {env: K}}
    - {name: noise, type: webhook, url: "http://127.0.0.1:9/noise", secretRef: {env: K}}
  route:
    receivers: [team]
    groupBy: [owner]
    repeatInterval: 4h
    routes:
      - name: security
        matchers: ['domain="identity"']
        receivers: [security]
        groupBy: [domain]
        repeatInterval: 1h
        page: true
      - name: info
        matchers: ['risk="INFO"', 'domain="cost"']
        receivers: [noise]
  silences:
    - name: quiet-bucket
      matchers: ['resource="aws_s3_bucket.quiet"']
      reason: migration
      createdBy: sre
      expiresAt: "2026-12-20T00:00:00Z"
`

func newPlanner(t *testing.T, policy string) *notifier.Notifier {
	t.Helper()
	p, err := route.Decode("policy", []byte(policy), t0)
	if err != nil {
		t.Fatal(err)
	}
	var rs []notify.Receiver
	for _, rc := range p.Spec.Receivers {
		r, err := webhook.New(rc.Name, rc.URL, []byte("0123456789abcdef0123"))
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	n, err := notifier.New(p, rs, notifier.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func finding(ref, domain string, risk drift.Risk, owner, id string) drift.Finding {
	f := drift.Finding{FindingID: id, Unit: "payments", Owner: owner, Environment: "prod", Domain: domain, ResourceRef: ref,
		DriftClass: drift.ClassUnauthorizedRuntime, Risk: risk, ChangedFields: []string{"/tags"}, RecommendedAction: drift.Actions[0]}
	f.Fingerprint = "fp-" + strings.ReplaceAll(ref, ".", "-")
	return f
}

func report(fs ...drift.Finding) *drift.Report {
	return &drift.Report{Unit: "payments", Status: "drifted", Findings: fs}
}

// due renders a plan's due notifications as receiver:fingerprint:state:reason[:changed], sorted.
func due(p *notifier.Plan) string {
	var out []string
	for _, d := range p.Due {
		s := fmt.Sprintf("%s:%s:%s:%s", d.Receiver, d.Notification.Finding.Fingerprint, d.Notification.State, d.Reason)
		if d.Notification.Changed {
			s += ":changed"
		}
		if d.Notification.Resolution != "" {
			s += ":" + d.Notification.Resolution
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// sendAll is a dispatch where every notification was delivered (or failed, when fail names the
// receiver).
func outcomes(p *notifier.Plan, fail string) []notify.Outcome {
	var out []notify.Outcome
	for _, d := range p.Due {
		o := notify.Outcome{Receiver: d.Receiver, Fingerprint: d.Notification.Finding.Fingerprint, State: d.Notification.State, Outcome: notify.OutcomeSent}
		if d.Receiver == fail {
			o.Outcome, o.Error = notify.OutcomeFailed, "receiver down"
		}
		out = append(out, o)
	}
	return out
}

func TestPlanLifecycle(t *testing.T) {
	n := newPlanner(t, planPolicy)
	role := finding("aws_iam_role.admin", "identity", drift.RiskHigh, "team-a", "F1")
	vmA := finding("aws_instance.a", "compute", drift.RiskMedium, "team-a", "F2")
	vmB := finding("aws_instance.b", "compute", drift.RiskMedium, "team-a", "F3")
	quiet := finding("aws_s3_bucket.quiet", "data", drift.RiskHigh, "team-a", "F4")
	infoIdentity := finding("aws_iam_policy.read", "identity", drift.RiskInfo, "team-a", "F5")
	infoCost := finding("aws_budgets_budget.b", "cost", drift.RiskInfo, "team-a", "F6")
	accepted := finding("aws_instance.c", "compute", drift.RiskHigh, "team-a", "F7")
	accepted.AcceptedBy = "EXC-1"
	expected := finding("aws_instance.d", "compute", drift.RiskLow, "team-a", "F8")
	expected.DriftClass = drift.ClassControllerOwned

	// Run 1: everything is new.
	p, err := n.Notifications(notifier.Input{Report: report(role, vmA, vmB, quiet, infoIdentity, infoCost, accepted, expected), At: t0})
	if err != nil {
		t.Fatal(err)
	}
	want := "noise:fp-aws_budgets_budget-b:firing:new security:fp-aws_iam_role-admin:firing:new team:fp-aws_instance-a:firing:new team:fp-aws_instance-b:firing:new"
	if got := due(p); got != want {
		t.Fatalf("run 1 due:\n got %s\nwant %s", got, want)
	}
	// Grouping: one Send per receiver and group; the two instances of one owner share a group.
	work := p.Work()
	var groups []string
	for _, w := range work {
		groups = append(groups, fmt.Sprintf("%s/%d", w.Receiver, len(w.Group)))
	}
	if fmt.Sprint(groups) != "[security/1 team/2 noise/1]" {
		t.Errorf("work groups %v", groups)
	}
	for _, d := range p.Due {
		if d.Receiver == "security" && (!d.Notification.Page || !strings.Contains(d.Notification.GroupKey, `domain="identity"`)) {
			t.Errorf("security notification: %+v", d.Notification)
		}
	}
	// The silenced bucket is recorded as held at the receiver the silence muted; INFO identity
	// drift (no route names INFO for it) is neither sent nor recorded.
	if len(p.Held) != 1 || p.Held[0].Outcome != notifier.OutcomeSilenced || p.Held[0].Receiver != "team" || p.Held[0].Fingerprint != quiet.Fingerprint {
		t.Fatalf("held: %+v", p.Held)
	}
	dels, st := p.Apply(outcomes(p, ""), t0, 5, 100)
	if len(dels) != 5 {
		t.Errorf("deliveries %+v", dels)
	}

	// Run 2, a minute later, nothing changed: nothing is sent and the silence is not re-recorded.
	p, _ = n.Notifications(notifier.Input{Report: report(role, vmA, vmB, quiet, infoIdentity, infoCost, accepted, expected), State: st, At: t0.Add(time.Minute)})
	if got := due(p); got != "" || len(p.Held) != 0 {
		t.Fatalf("run 2 sent %q held %+v", got, p.Held)
	}

	// Run 3: vmA's values changed (new finding_id), the role drift was reverted, the accepted
	// instance stays accepted, the INFO cost drift is gone.
	vmA2 := vmA
	vmA2.FindingID = "F2b"
	rec := &ledger.Record{Unit: "payments", EvaluatedAt: t0.Add(2 * time.Minute).Format(time.RFC3339), Events: []ledger.Event{
		{Kind: ledger.EventResolved, Fingerprint: role.Fingerprint, Resolution: ledger.ResolutionReverted, At: "2026-12-01T10:02:00Z"},
	}}
	p, _ = n.Notifications(notifier.Input{Report: report(vmA2, vmB, quiet, infoIdentity, accepted, expected), Record: rec, State: st, At: t0.Add(2 * time.Minute)})
	want = "noise:fp-aws_budgets_budget-b:resolved:resolved security:fp-aws_iam_role-admin:resolved:resolved:reverted team:fp-aws_instance-a:firing:changed:changed"
	if got := due(p); got != want {
		t.Fatalf("run 3 due:\n got %s\nwant %s", got, want)
	}
	for _, d := range p.Due {
		n := d.Notification
		if n.Finding.Fingerprint == role.Fingerprint && (n.ResolvedAt != "2026-12-01T10:02:00Z" || n.Finding.ResourceRef != role.ResourceRef ||
			n.Finding.Domain != "identity" || !strings.HasPrefix(n.GroupKey, "route.routes[0]")) {
			t.Errorf("resolved role notification (built from what was told): %+v", n)
		}
	}
	_, st = p.Apply(outcomes(p, ""), t0.Add(2*time.Minute), 5, 100)
	for _, tt := range st.Told {
		if tt.Fingerprint == role.Fingerprint || tt.Fingerprint == infoCost.Fingerprint {
			t.Errorf("a resolved drift is still in the state: %+v", tt)
		}
	}

	// Run 4, five hours after the team was told about vmB (4h repeat): vmB is due again, vmA (told
	// at run 3) too; nothing else.
	p, _ = n.Notifications(notifier.Input{Report: report(vmA2, vmB, quiet, infoIdentity, accepted, expected), State: st, At: t0.Add(4*time.Hour + 3*time.Minute)})
	if got, want := due(p), "team:fp-aws_instance-a:firing:repeat team:fp-aws_instance-b:firing:repeat"; got != want {
		t.Fatalf("run 4 due:\n got %s\nwant %s", got, want)
	}
	_, st = p.Apply(outcomes(p, ""), t0.Add(4*time.Hour+3*time.Minute), 5, 100)

	// Run 5: vmB is accepted now: the team is told it resolved, as accepted.
	vmBAccepted := vmB
	vmBAccepted.AcceptedBy = "EXC-2"
	rec = &ledger.Record{Unit: "payments", EvaluatedAt: "2026-12-01T14:10:00Z", Events: []ledger.Event{
		{Kind: ledger.EventResolved, Fingerprint: vmB.Fingerprint, Resolution: ledger.ResolutionAccepted, At: "2026-12-01T14:10:00Z"},
	}}
	p, _ = n.Notifications(notifier.Input{Report: report(vmA2, vmBAccepted, quiet), Record: rec, State: st, At: t0.Add(4*time.Hour + 10*time.Minute)})
	if got, want := due(p), "team:fp-aws_instance-b:resolved:resolved:accepted"; got != want {
		t.Fatalf("run 5 due:\n got %s\nwant %s", got, want)
	}

	// After the silence expires the quiet bucket is told, once.
	p, _ = n.Notifications(notifier.Input{Report: report(vmA2, quiet), State: st, At: time.Date(2026, 12, 21, 0, 0, 0, 0, time.UTC)})
	if got := due(p); !strings.Contains(got, "team:fp-aws_s3_bucket-quiet:firing:new") {
		t.Errorf("after the silence expired: %s", got)
	}
}

// A receiver that fails is owed the notification: the next runs retry it (counting attempts)
// until it is delivered, or give up visibly after MaxAttempts runs; a drift that ends before its
// firing notification got through is superseded, never resolved at a receiver never told.
func TestPlanRetriesAndGivesUp(t *testing.T) {
	n := newPlanner(t, planPolicy)
	vm := finding("aws_instance.a", "compute", drift.RiskMedium, "team-a", "F1")
	var st notifier.State
	for run := 1; run <= 3; run++ {
		at := t0.Add(time.Duration(run) * time.Minute)
		p, _ := n.Notifications(notifier.Input{Report: report(vm), State: st, At: at})
		wantReason := notifier.ReasonRetry
		if run == 1 {
			wantReason = notifier.ReasonNew
		}
		if len(p.Due) != 1 || p.Due[0].Reason != wantReason || p.Due[0].Attempts != run-1 {
			t.Fatalf("run %d: %+v", run, p.Due)
		}
		var dels []notifier.Delivery
		dels, st = p.Apply(outcomes(p, "team"), at, 3, 100)
		if len(dels) != 1 || dels[0].Outcome != notify.OutcomeFailed || dels[0].Attempts != run || dels[0].GaveUp != (run == 3) {
			t.Fatalf("run %d deliveries %+v", run, dels)
		}
	}
	// Given up: not retried (until its repeat interval says it is due anyway).
	p, _ := n.Notifications(notifier.Input{Report: report(vm), State: st, At: t0.Add(10 * time.Minute)})
	if len(p.Due) != 0 {
		t.Fatalf("a given-up notification was retried: %+v", p.Due)
	}
	p, _ = n.Notifications(notifier.Input{Report: report(vm), State: st, At: t0.Add(5 * time.Hour)})
	if len(p.Due) != 1 || p.Due[0].Reason != notifier.ReasonRepeat {
		t.Fatalf("after the repeat interval: %+v", p.Due)
	}

	// A firing notification owed when the drift ends is superseded: nothing is sent.
	var st2 notifier.State
	p, _ = n.Notifications(notifier.Input{Report: report(vm), At: t0})
	_, st2 = p.Apply(outcomes(p, "team"), t0, 5, 100)
	p, _ = n.Notifications(notifier.Input{Report: report(), State: st2, At: t0.Add(time.Minute)})
	if len(p.Due) != 0 || len(p.Held) != 1 || p.Held[0].Outcome != notifier.OutcomeSuperseded {
		t.Fatalf("ended before told: due %+v held %+v", p.Due, p.Held)
	}
	_, st2 = p.Apply(nil, t0.Add(time.Minute), 5, 100)
	if len(st2.Told) != 0 || len(st2.Findings) != 0 {
		t.Errorf("state after supersede: %+v", st2)
	}

	// A failed resolution is retried with its resolution, although the ledger no longer says it.
	p, _ = n.Notifications(notifier.Input{Report: report(vm), At: t0})
	_, st2 = p.Apply(outcomes(p, ""), t0, 5, 100)
	rec := &ledger.Record{Events: []ledger.Event{{Kind: ledger.EventResolved, Fingerprint: vm.Fingerprint, Resolution: ledger.ResolutionHealed, At: "2026-12-01T10:01:00Z"}}}
	p, _ = n.Notifications(notifier.Input{Report: report(), Record: rec, State: st2, At: t0.Add(time.Minute)})
	_, st2 = p.Apply(outcomes(p, "team"), t0.Add(time.Minute), 5, 100)
	p, _ = n.Notifications(notifier.Input{Report: report(), State: st2, At: t0.Add(2 * time.Minute)})
	if got := due(p); got != "team:fp-aws_instance-a:resolved:retry:healed" || p.Due[0].Notification.ResolvedAt != "2026-12-01T10:01:00Z" {
		t.Fatalf("retried resolution: %s %+v", got, p.Due)
	}

	// Bounded: beyond maxPending owed transitions the oldest give up, visibly.
	var fs []drift.Finding
	for i := range 5 {
		fs = append(fs, finding(fmt.Sprintf("aws_instance.x%d", i), "compute", drift.RiskMedium, fmt.Sprintf("o%d", i), fmt.Sprint(i)))
	}
	p, _ = n.Notifications(notifier.Input{Report: report(fs...), At: t0})
	dels, st3 := p.Apply(outcomes(p, "team"), t0, 5, 3)
	gaveUp := 0
	for _, d := range dels {
		if d.GaveUp {
			gaveUp++
		}
	}
	owed := 0
	for _, tt := range st3.Told {
		if tt.Pending != nil && !tt.Pending.GaveUp {
			owed++
		}
	}
	if gaveUp != 2 || owed != 3 {
		t.Errorf("bounded pending: %d gave up, %d owed; deliveries %+v", gaveUp, owed, dels)
	}
}

// A receiver that is in no route any more still gets the resolution of what it was told (it
// would otherwise keep an open alert or issue forever); a receiver removed from the policy is
// dropped visibly.
func TestPlanResolvesWhereTold(t *testing.T) {
	n := newPlanner(t, planPolicy)
	role := finding("aws_iam_role.admin", "identity", drift.RiskHigh, "team-a", "F1")
	p, _ := n.Notifications(notifier.Input{Report: report(role), At: t0})
	_, st := p.Apply(outcomes(p, ""), t0, 5, 100)
	// The same state, under a policy without the security receiver.
	other := newPlanner(t, strings.Replace(strings.Replace(planPolicy, "    - {name: security, type: webhook, url: \"http://127.0.0.1:9/sec\", secretRef: {env: K}}\n", "", 1),
		"receivers: [security]", "receivers: [team]", 1))
	p, _ = other.Notifications(notifier.Input{Report: report(), State: st, At: t0.Add(time.Minute)})
	if len(p.Due) != 0 || len(p.Held) != 1 || p.Held[0].Outcome != notifier.OutcomeSuperseded || !strings.Contains(p.Held[0].Error, "no longer in the routing policy") {
		t.Fatalf("removed receiver: due %+v held %+v", p.Due, p.Held)
	}
}

// Intervals are in Prometheus' syntax (1d, 1w), as the route package prints them: a day-long
// repeat interval repeats after a day, not never.
func TestPlanRepeatInDays(t *testing.T) {
	n := newPlanner(t, strings.Replace(planPolicy, "repeatInterval: 4h", "repeatInterval: 1d", 1))
	vm := finding("aws_instance.a", "compute", drift.RiskMedium, "team-a", "F1")
	p, _ := n.Notifications(notifier.Input{Report: report(vm), At: t0})
	_, st := p.Apply(outcomes(p, ""), t0, 5, 100)
	if p, _ = n.Notifications(notifier.Input{Report: report(vm), State: st, At: t0.Add(23 * time.Hour)}); len(p.Due) != 0 {
		t.Fatalf("repeated within the day: %+v", p.Due)
	}
	if p, _ = n.Notifications(notifier.Input{Report: report(vm), State: st, At: t0.Add(25 * time.Hour)}); due(p) != "team:fp-aws_instance-a:firing:repeat" {
		t.Fatalf("not repeated after a day: %s", due(p))
	}
}

// A resolution that never got through is dropped when the drift comes back (the receiver's
// "firing" is right again) or when it gives up; either way the drift's next end is told.
func TestPlanResolutionOwedThenDriftReturns(t *testing.T) {
	n := newPlanner(t, planPolicy)
	vm := finding("aws_instance.a", "compute", drift.RiskMedium, "team-a", "F1")
	p, _ := n.Notifications(notifier.Input{Report: report(vm), At: t0})
	_, st := p.Apply(outcomes(p, ""), t0, 2, 100)
	// It ends; the resolution fails.
	p, _ = n.Notifications(notifier.Input{Report: report(), State: st, At: t0.Add(time.Minute)})
	_, st = p.Apply(outcomes(p, "team"), t0.Add(time.Minute), 2, 100)
	// It comes back: nothing to send (the team still has it firing), nothing owed any more.
	p, _ = n.Notifications(notifier.Input{Report: report(vm), State: st, At: t0.Add(2 * time.Minute)})
	if len(p.Due) != 0 || !p.Changed {
		t.Fatalf("drift back: due %+v changed %v", p.Due, p.Changed)
	}
	_, st = p.Apply(nil, t0.Add(2*time.Minute), 2, 100)
	for _, tt := range st.Told {
		if tt.Pending != nil {
			t.Fatalf("still owed: %+v", tt)
		}
	}
	// It ends again: the resolution is told.
	p, _ = n.Notifications(notifier.Input{Report: report(), State: st, At: t0.Add(3 * time.Minute)})
	if due(p) != "team:fp-aws_instance-a:resolved:resolved" {
		t.Fatalf("second end: %s", due(p))
	}
	// Failing twice (maxAttempts 2) gives it up, and forgets it.
	_, st = p.Apply(outcomes(p, "team"), t0.Add(3*time.Minute), 2, 100)
	p, _ = n.Notifications(notifier.Input{Report: report(), State: st, At: t0.Add(4 * time.Minute)})
	dels, st := p.Apply(outcomes(p, "team"), t0.Add(4*time.Minute), 2, 100)
	if len(dels) != 1 || !dels[0].GaveUp || len(st.Told) != 0 || len(st.Findings) != 0 {
		t.Fatalf("given up: %+v state %+v", dels, st)
	}
}

// A route's page and createIncident reach the notification, so a PagerDuty receiver pages or
// only opens an incident as the route says.
func TestPlanCarriesPageAndIncident(t *testing.T) {
	n := newPlanner(t, strings.Replace(planPolicy, "        page: true\n", "        page: true\n      - name: incident\n        matchers: ['domain=\"network\"']\n        receivers: [security]\n        createIncident: true\n", 1))
	role := finding("aws_iam_role.admin", "identity", drift.RiskHigh, "team-a", "F1")
	sg := finding("aws_security_group.web", "network", drift.RiskHigh, "team-a", "F2")
	p, err := n.Notifications(notifier.Input{Report: report(role, sg), At: t0})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]bool{}
	for _, d := range p.Due {
		got[d.Notification.Finding.Fingerprint] = [2]bool{d.Notification.Page, d.Notification.Incident}
	}
	if got["fp-aws_iam_role-admin"] != [2]bool{true, false} || got["fp-aws_security_group-web"] != [2]bool{false, true} {
		t.Fatalf("page/incident by drift: %v", got)
	}
}
