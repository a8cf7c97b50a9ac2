package alertmanager_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/notify"
	"github.com/driftplane/terraform-provider-drift/internal/notify/alertmanager"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/alertmanagertest"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/procs"
)

// Findings pushed through the receiver (by the Dispatcher, as the product delivers) reach a real
// Alertmanager, which routes each to exactly the receiver its domain and risk select; resolving
// findings resolves their alerts there, and the webhooks are told "resolved".
func TestRealAlertmanagerRoutesAndResolves(t *testing.T) {
	security, platform := alertmanagertest.NewSink(t), alertmanagertest.NewSink(t)
	am := alertmanagertest.Start(t, alertmanagertest.DomainRiskConfig(security.URL, platform.URL))

	// A dead peer beside the real one: the HA receiver still delivers.
	r, err := alertmanager.New("alertmanager", []string{"http://127.0.0.1:1", am.URL}, alertmanager.WithTimeout(2*time.Second),
		alertmanager.WithLabels(map[string]string{"source": "driftplane"}))
	if err != nil {
		t.Fatal(err)
	}
	d, err := notify.NewDispatcher([]notify.Receiver{r}, notify.WithDeadline(20*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	findings := map[string]notify.Notification{
		"fp-role":   note("fp-role", "identity", drift.RiskCritical, notify.StateFiring),   // security
		"fp-sg":     note("fp-sg", "network", drift.RiskHigh, notify.StateFiring),          // security
		"fp-label":  note("fp-label", "identity", drift.RiskLow, notify.StateFiring),       // platform: risk too low
		"fp-deploy": note("fp-deploy", "workload", drift.RiskCritical, notify.StateFiring), // platform: other domain
	}
	var group []notify.Notification
	for _, fp := range []string{"fp-role", "fp-sg", "fp-label", "fp-deploy"} {
		group = append(group, findings[fp])
	}
	res := d.Dispatch(context.Background(), []notify.Work{{Receiver: "alertmanager", Group: group}})
	if len(res.Failed()) != 0 {
		t.Fatalf("delivery failed: %+v", res.Failed())
	}

	wait := func(what string, sink *alertmanagertest.Sink, want string) {
		t.Helper()
		procs.WaitFor(t, 20*time.Second, what, func() (bool, string) {
			got := sink.States("fingerprint")
			return got == want, got
		})
	}
	wait("security to get the identity and network drift of high risk", security, "fp-role=firing fp-sg=firing")
	wait("platform to get the rest", platform, "fp-deploy=firing fp-label=firing")

	// What Alertmanager passed on is what the receiver put in: labels and annotations.
	a := security.Latest("fingerprint")["fp-role"]
	for k, v := range map[string]string{"alertname": "DriftFinding", "unit": "payments", "owner": "team-payments", "domain": "identity",
		"environment": "prod", "class": "UNAUTHORIZED_RUNTIME_DRIFT", "risk": "CRITICAL", "resource": "aws_iam_role.fp-role", "source": "driftplane"} {
		if a.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, a.Labels[k], v)
		}
	}
	if a.Annotations["actor"] != "alice (breakglass)" || a.Annotations["recommended_action"] != "INCIDENT" ||
		a.Annotations["evidence_uri"] != "s3://evidence/drift-fp-role.json" || !strings.Contains(a.Annotations["changed_fields"], "/assume_role_policy") ||
		a.GeneratorURL != "https://driftplane.example/f/fp-role" || !a.StartsAt.Equal(time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("alert as Alertmanager sent it: %+v", a)
	}
	for _, m := range append(security.Messages(), platform.Messages()...) {
		for _, x := range m.Alerts {
			if strings.Contains(fmt.Sprint(x.Annotations), "PLANTED") {
				t.Fatal("a value behind a finding reached Alertmanager")
			}
		}
	}

	// The next evaluation: the role and the deployment drift are resolved, the others still fire
	// (re-sent, as every evaluation does, which must not re-notify them).
	resolved := func(fp string) notify.Notification {
		n := findings[fp]
		n.State, n.Resolution, n.ResolvedAt = notify.StateResolved, "reverted", time.Now().UTC().Format(time.RFC3339)
		return n
	}
	res = d.Dispatch(context.Background(), []notify.Work{{Receiver: "alertmanager", Group: []notify.Notification{
		resolved("fp-role"), findings["fp-sg"], findings["fp-label"], resolved("fp-deploy"),
	}}})
	if len(res.Failed()) != 0 {
		t.Fatalf("delivery failed: %+v", res.Failed())
	}
	wait("security to be told the role drift resolved", security, "fp-role=resolved fp-sg=firing")
	wait("platform to be told the deployment drift resolved", platform, "fp-deploy=resolved fp-label=firing")
	if got := security.Latest("fingerprint")["fp-role"]; got.Annotations["resolution"] != "reverted" {
		t.Errorf("resolved alert: %+v", got)
	}

	// Alertmanager's own view: only the two firing drifts are active.
	var active []string
	for _, x := range am.Alerts(t) {
		if x.Status.State == "active" {
			active = append(active, x.Labels["fingerprint"])
		}
	}
	sort.Strings(active)
	if fmt.Sprint(active) != "[fp-label fp-sg]" {
		t.Errorf("active alerts in Alertmanager: %v", active)
	}
	// Each webhook heard of each of its alerts once firing (the re-send did not re-notify within
	// repeat_interval) and once resolved.
	for name, sink := range map[string]*alertmanagertest.Sink{"security": security, "platform": platform} {
		count := map[string]int{}
		for _, m := range sink.Messages() {
			for _, x := range m.Alerts {
				count[x.Labels["fingerprint"]+"/"+x.Status]++
			}
		}
		for k, n := range count {
			if n != 1 {
				t.Errorf("%s heard %s %d times: %v", name, k, n, count)
			}
		}
	}
}
