package pagerduty_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/notify"
	"github.com/driftplane/terraform-provider-drift/internal/notify/pagerduty"
)

func note(fp string, risk drift.Risk, state string, page bool) notify.Notification {
	return notify.Notification{
		Finding: drift.Finding{FindingID: "drift-" + fp, Fingerprint: fp, Unit: "payments", Owner: "team-payments",
			Domain: "identity", Environment: "prod", ResourceRef: "aws_iam_role.app", DriftClass: drift.ClassUnauthorizedRuntime,
			Risk: risk, ChangedFields: []string{"/assume_role_policy"}, SensitiveFields: []string{"/tags/token"},
			RecommendedAction: drift.ActionIncident, DetectedAt: "2026-12-01T10:00:00Z", Evidence: "sha256:1111",
			Changes: []drift.Change{{Before: "PLANTED-SECRET-BEFORE", After: "PLANTED-SECRET-AFTER"}}},
		State: state, Page: page, Link: "https://driftplane.example/f/" + fp,
	}
}

// events is an Events API v2 endpoint shaped as PagerDuty documents it: 202 with
// {"status":"success","dedup_key":...}; it records every event.
func events(t *testing.T) (string, func() []map[string]any) {
	var mu sync.Mutex
	var got []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if strings.Contains(string(b), "PLANTED") {
			t.Errorf("a value behind the finding reached PagerDuty: %s", b)
		}
		var e map[string]any
		if err := json.Unmarshal(b, &e); err != nil || r.URL.Path != "/v2/enqueue" || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, e)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(map[string]any{"status": "success", "message": "Event processed", "dedup_key": e["dedup_key"]})
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v2/enqueue", func() []map[string]any { mu.Lock(); defer mu.Unlock(); return got }
}

func TestTriggerAndResolve(t *testing.T) {
	u, got := events(t)
	r, err := pagerduty.New("oncall", "R0UT1NGKEY0123456789ABCDEFGHIJKL", pagerduty.WithURL(u))
	if err != nil {
		t.Fatal(err)
	}
	group := []notify.Notification{
		note("fp-crit", drift.RiskCritical, notify.StateFiring, true),
		note("fp-quiet", drift.RiskHigh, notify.StateFiring, false), // its route does not page
		note("fp-old", drift.RiskHigh, notify.StateResolved, false),
	}
	if err := r.Send(context.Background(), group); err != nil {
		t.Fatal(err)
	}
	evs := got()
	if len(evs) != 2 {
		t.Fatalf("%d events, want a trigger and a resolve (the non-paging firing one is not sent): %v", len(evs), evs)
	}
	trig, res := evs[0], evs[1]
	if trig["routing_key"] != "R0UT1NGKEY0123456789ABCDEFGHIJKL" || trig["event_action"] != "trigger" || trig["dedup_key"] != "fp-crit" {
		t.Errorf("trigger %v", trig)
	}
	p := trig["payload"].(map[string]any)
	if p["severity"] != "critical" || p["source"] != "payments/aws_iam_role.app" || p["timestamp"] != "2026-12-01T10:00:00Z" ||
		!strings.Contains(p["summary"].(string), "aws_iam_role.app") || p["class"] != "UNAUTHORIZED_RUNTIME_DRIFT" {
		t.Errorf("payload %v", p)
	}
	cd := p["custom_details"].(map[string]any)
	if cd["fingerprint"] != "fp-crit" || cd["owner"] != "team-payments" || cd["sensitive_fields"].([]any)[0] != "/tags/token" {
		t.Errorf("custom_details %v", cd)
	}
	if links := trig["links"].([]any); links[0].(map[string]any)["href"] != "https://driftplane.example/f/fp-crit" {
		t.Errorf("links %v", links)
	}
	if res["event_action"] != "resolve" || res["dedup_key"] != "fp-old" || res["payload"] != nil {
		t.Errorf("resolve %v", res)
	}
}

func TestSeverityFromRisk(t *testing.T) {
	for risk, want := range map[drift.Risk]string{
		drift.RiskCritical: "critical", drift.RiskHigh: "error", drift.RiskMedium: "warning",
		drift.RiskLow: "info", drift.RiskInfo: "info", "": "info",
	} {
		if got := pagerduty.Severity(risk); got != want {
			t.Errorf("Severity(%q) = %q, want %q", risk, got, want)
		}
		evs := pagerduty.Events("k", []notify.Notification{note("fp", risk, notify.StateFiring, true)})
		if evs[0].Payload.Severity != want {
			t.Errorf("event for %q has severity %q", risk, evs[0].Payload.Severity)
		}
	}
}

// A fingerprint-less finding (no ledger) still gets a stable dedup_key: the core's fingerprint,
// the same at every evaluation, so PagerDuty keeps one alert.
func TestDedupKeyWithoutLedger(t *testing.T) {
	n := note("", drift.RiskHigh, notify.StateFiring, true)
	a := pagerduty.Events("k", []notify.Notification{n})[0].DedupKey
	n.Finding.FindingID = "drift-other-values"
	b := pagerduty.Events("k", []notify.Notification{n})[0].DedupKey
	if a == "" || a != b || a != drift.Fingerprint(n.Finding) {
		t.Fatalf("dedup keys %q, %q", a, b)
	}
}

// A rejected event (PagerDuty's 400 "invalid event") is an error that names neither the routing
// key nor the URL.
func TestRejectedEvent(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"status":"invalid event","message":"Event object is invalid","errors":["Length of 'routing_key' is incorrect"]}`))
	}))
	defer srv.Close()
	r, _ := pagerduty.New("oncall", "SECRETROUTINGKEY", pagerduty.WithURL(srv.URL+"/v2/enqueue"))
	err := r.Send(context.Background(), []notify.Notification{note("fp", drift.RiskHigh, notify.StateFiring, true)})
	if err == nil || notify.Retryable(err) || strings.Contains(err.Error(), "SECRETROUTINGKEY") || strings.Contains(err.Error(), "/v2/enqueue") {
		t.Fatalf("err = %v", err)
	}
}

// A route that opens an incident without paging triggers PagerDuty at most at warning (services
// route that to low urgency); one that pages keeps the risk's severity; neither, nothing.
func TestIncidentWithoutPaging(t *testing.T) {
	n := note("fp", drift.RiskCritical, notify.StateFiring, false)
	if evs := pagerduty.Events("k", []notify.Notification{n}); len(evs) != 0 {
		t.Fatalf("neither page nor incident: %+v", evs)
	}
	n.Incident = true
	evs := pagerduty.Events("k", []notify.Notification{n})
	if len(evs) != 1 || evs[0].EventAction != pagerduty.ActionTrigger || evs[0].Payload.Severity != "warning" {
		t.Fatalf("incident only: %+v", evs)
	}
	n.Page = true
	if evs := pagerduty.Events("k", []notify.Notification{n}); evs[0].Payload.Severity != "critical" {
		t.Fatalf("paging: %+v", evs[0].Payload)
	}
}
