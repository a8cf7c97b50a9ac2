package notify_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
	"github.com/driftplane/terraform-provider-drift/internal/notify"
	"github.com/driftplane/terraform-provider-drift/internal/notify/alertmanager"
	"github.com/driftplane/terraform-provider-drift/internal/notify/pagerduty"
	"github.com/driftplane/terraform-provider-drift/internal/notify/slack"
	"github.com/driftplane/terraform-provider-drift/internal/notify/webhook"
)

// Findings the core made from a drifted Kubernetes Secret (sensitive: its values enter the
// finding only as digests) and a drifted ConfigMap (not sensitive: the finding's Changes hold the
// clear values, for the evidence store only) go out through every receiver, firing and resolved;
// no planted value reaches any request, in clear text or base64.
func TestNoValueReachesAnyReceiver(t *testing.T) {
	const secretGit, secretLive, cmGit, cmLive = "git-secret-4f1d", "live-secret-9a2c", "git-config-77e0", "live-config-3b5e"
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	planted := []string{secretGit, secretLive, cmGit, cmLive, b64(secretGit), b64(secretLive), b64(cmGit), b64(cmLive)}
	object := func(kind string, data map[string]any) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": kind, "metadata": map[string]any{"name": "db", "namespace": "shop"}, "data": data}
	}
	var obs []drift.Observation
	for _, pair := range [][2]map[string]any{
		{object("Secret", map[string]any{"password": b64(secretGit)}), object("Secret", map[string]any{"password": b64(secretLive)})},
		{object("ConfigMap", map[string]any{"mode": cmGit}), object("ConfigMap", map[string]any{"mode": cmLive})},
	} {
		o, err := kube.Compare(pair[0], pair[1])
		if err != nil {
			t.Fatal(err)
		}
		obs = append(obs, o)
	}
	unit := drift.ManagedUnit{Metadata: drift.Metadata{Name: "shop"}, Spec: drift.UnitSpec{Kind: drift.UnitKubernetes, Owner: "team-shop", Environment: "prod", RiskTier: "high", Gate: "high"}}
	rep, err := drift.Evaluate(&unit, nil, obs, drift.WithNow(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 2 {
		t.Fatalf("%d findings, want the Secret's and the ConfigMap's: %+v", len(rep.Findings), rep.Findings)
	}
	carried := false
	var group []notify.Notification
	for _, f := range rep.Findings {
		for _, c := range f.Changes {
			if c.After == cmLive {
				carried = true
			}
		}
		for _, state := range []string{notify.StateFiring, notify.StateResolved} {
			group = append(group, notify.Notification{Finding: f, State: state, Page: true, Resolution: "reverted", ResolvedAt: "2026-12-01T01:00:00Z"})
		}
	}
	if !carried {
		t.Fatal("the ConfigMap finding does not carry its clear value in Changes: the test would prove nothing")
	}

	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
	}))
	defer srv.Close()
	am, _ := alertmanager.New("am", []string{srv.URL})
	wh, _ := webhook.New("wh", srv.URL, []byte("0123456789abcdef0123"))
	sl, _ := slack.New("slack", srv.URL)
	pd, _ := pagerduty.New("pd", "routing-key", pagerduty.WithURL(srv.URL))
	for _, r := range []notify.Receiver{am, wh, sl, pd} {
		if err := r.Send(context.Background(), group); err != nil {
			t.Fatalf("%s: %v", r.Name(), err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) < 4 {
		t.Fatalf("%d requests", len(bodies))
	}
	all := strings.Join(bodies, "\n")
	if !strings.Contains(all, "/data/password") || !strings.Contains(all, "/data/mode") {
		t.Fatalf("the receivers did not say which fields changed: %s", all)
	}
	for _, b := range bodies {
		for _, p := range planted {
			if strings.Contains(b, p) {
				t.Errorf("planted value %q reached a receiver: %s", p, b)
			}
		}
	}
}
