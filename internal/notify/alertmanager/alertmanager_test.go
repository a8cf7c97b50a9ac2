package alertmanager_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/notify"
	"github.com/driftplane/terraform-provider-drift/internal/notify/alertmanager"
)

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func note(fp, domain string, risk drift.Risk, state string) notify.Notification {
	return notify.Notification{
		Finding: drift.Finding{FindingID: "drift-" + fp, Fingerprint: fp, Unit: "payments", Owner: "team-payments",
			Domain: domain, Environment: "prod", ResourceRef: "aws_iam_role." + fp, DriftClass: drift.ClassUnauthorizedRuntime,
			Risk: risk, ChangedFields: []string{"/assume_role_policy", "/tags/token"}, SensitiveFields: []string{"/tags/token"},
			RecommendedAction: drift.ActionIncident, Actor: "alice", ActorDetail: &drift.Actor{Username: "alice", Kind: "breakglass"},
			Evidence: "sha256:1111", FirstSeen: "2026-12-01T10:00:00Z", DetectedAt: "2026-12-01T11:59:00Z",
			Changes: []drift.Change{{Before: "PLANTED-SECRET-BEFORE", After: "PLANTED-SECRET-AFTER"}}},
		State: state, EvidenceURI: "s3://evidence/drift-" + fp + ".json", Link: "https://driftplane.example/f/" + fp,
	}
}

func TestAlerts(t *testing.T) {
	firing := note("fp-a", "identity", drift.RiskHigh, notify.StateFiring)
	firing.Finding.Environment = "" // an empty label is left out, not sent as ""
	resolved := note("fp-b", "network", drift.RiskCritical, notify.StateResolved)
	resolved.Resolution, resolved.ResolvedAt = "reverted", "2026-12-01T11:30:00Z"
	future := note("fp-c", "network", drift.RiskCritical, notify.StateResolved)
	future.ResolvedAt = "2026-12-01T13:00:00Z" // a skewed clock must not keep it firing an hour
	as := alertmanager.Alerts([]notify.Notification{firing, resolved, future}, now, 15*time.Minute, map[string]string{"source": "driftplane", "unit": "static-loses"})

	a := as[0]
	want := map[string]string{"alertname": "DriftFinding", "unit": "payments", "owner": "team-payments", "domain": "identity",
		"class": "UNAUTHORIZED_RUNTIME_DRIFT", "risk": "HIGH", "resource": "aws_iam_role.fp-a", "fingerprint": "fp-a", "source": "driftplane"}
	if len(a.Labels) != len(want) {
		t.Errorf("labels %v, want %v", a.Labels, want)
	}
	for k, v := range want {
		if a.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, a.Labels[k], v)
		}
	}
	if a.StartsAt != "2026-12-01T10:00:00Z" || a.EndsAt != "2026-12-01T13:00:00Z" {
		t.Errorf("firing startsAt %s endsAt %s, want first_seen and now + 4 × 15m", a.StartsAt, a.EndsAt)
	}
	if a.GeneratorURL != "https://driftplane.example/f/fp-a" || a.Annotations["actor"] != "alice (breakglass)" ||
		a.Annotations["recommended_action"] != "INCIDENT" || a.Annotations["evidence_uri"] != "s3://evidence/drift-fp-a.json" ||
		!strings.Contains(a.Annotations["changed_fields"], "values withheld: /tags/token") || a.Annotations["summary"] == "" {
		t.Errorf("annotations %v", a.Annotations)
	}
	if as[1].EndsAt != "2026-12-01T11:30:00Z" || as[1].Annotations["resolution"] != "reverted" {
		t.Errorf("resolved %+v", as[1])
	}
	if as[2].EndsAt != now.Format(time.RFC3339Nano) {
		t.Errorf("resolved in the future: endsAt %s, want now", as[2].EndsAt)
	}
	b, _ := json.Marshal(as)
	if strings.Contains(string(b), "PLANTED") {
		t.Fatal("a value behind the finding reached Alertmanager")
	}
}

// Several URLs are peers: one accepting is enough; none accepting is an error naming servers by
// host only.
func TestPeers(t *testing.T) {
	var accepted atomic.Int32
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var as []alertmanager.PostableAlert
		if r.URL.Path != "/prefix/api/v2/alerts" || json.Unmarshal(b, &as) != nil || len(as) != 1 {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		accepted.Add(1)
	}))
	defer ok.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer down.Close()
	group := []notify.Notification{note("fp-a", "identity", drift.RiskHigh, notify.StateFiring)}

	r, err := alertmanager.New("am", []string{down.URL + "/secret-path", ok.URL + "/prefix/"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Send(context.Background(), group); err != nil || accepted.Load() != 1 {
		t.Fatalf("one peer up: %v (accepted %d)", err, accepted.Load())
	}
	r, _ = alertmanager.New("am", []string{down.URL + "/secret-path", "http://127.0.0.1:1"})
	err = r.Send(context.Background(), group)
	if err == nil || strings.Contains(err.Error(), "secret-path") || !notify.Retryable(err) {
		t.Fatalf("all peers down: %v", err)
	}
	if _, err := alertmanager.New("am", []string{"ftp://x"}); err == nil {
		t.Error("a non-http URL was accepted")
	}
	if _, err := alertmanager.New("am", []string{ok.URL}, alertmanager.WithLabels(map[string]string{"team-name": "x"})); err == nil {
		t.Error("a label name Alertmanager refuses was accepted")
	}
}
