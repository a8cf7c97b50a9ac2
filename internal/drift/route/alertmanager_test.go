package route

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/alertmanagertest"
)

// differentialPolicy exercises what Alertmanager's routing does: regex and negative matchers,
// continue at two levels, nesting with inheritance, a parent taking what no child takes, group_by
// with "..." and inherited grouping. One receiver per route, as Alertmanager has.
const differentialPolicy = `apiVersion: drift.driftplane.io/v1alpha1
kind: DriftRoutingPolicy
metadata: {name: differential}
spec:
  receivers:
    - {name: root, type: webhook, url: "http://root.example"}
    - {name: security, type: webhook, url: "http://s.example"}
    - {name: security-critical, type: webhook, url: "http://sc.example"}
    - {name: security-nonprod, type: webhook, url: "http://sn.example"}
    - {name: team, type: webhook, url: "http://t.example"}
    - {name: breakglass, type: webhook, url: "http://b.example"}
    - {name: owners, type: webhook, url: "http://o.example"}
  route:
    receivers: [root]
    groupBy: [owner]
    routes:
      - matchers: ['domain=~"identity|network"']
        receivers: [security]
        continue: true
        groupBy: [domain, resource]
        routes:
          - matchers: ['risk="CRITICAL"']
            receivers: [security-critical]
            continue: true
          - matchers: ['environment!~"prod|production"']
            receivers: [security-nonprod]
          - matchers: ['actor="human"']
      - matchers: ['environment_class="prod"', 'risk=~"HIGH|CRITICAL"']
        receivers: [team]
        groupBy: ['...']
      - matchers: ['actor="breakglass"']
        receivers: [breakglass]
        continue: true
      - matchers: ['class!="CONTROLLER_OWNED_DRIFT"', 'owner=~"team-.*"']
        receivers: [owners]
`

// amRoute is the policy's route tree as Alertmanager configuration.
func amRoute(r *v1alpha1.DriftRoute) map[string]any {
	out := map[string]any{}
	if len(r.Receivers) > 0 {
		out["receiver"] = r.Receivers[0]
	}
	if len(r.Matchers) > 0 {
		out["matchers"] = r.Matchers
	}
	if r.Continue {
		out["continue"] = true
	}
	if len(r.GroupBy) > 0 {
		out["group_by"] = r.GroupBy
	}
	var children []any
	for i := range r.Routes {
		children = append(children, amRoute(&r.Routes[i]))
	}
	if children != nil {
		out["routes"] = children
	}
	return out
}

// TestAlertmanagerAgrees: a real Alertmanager, configured with the same route tree, sends every
// label set to the same receivers, in the same order, and groups it by the same labels.
func TestAlertmanagerAgrees(t *testing.T) {
	p := mustDecode(t, differentialPolicy)
	var receivers []any
	for _, r := range p.Spec.Receivers {
		receivers = append(receivers, map[string]any{"name": r.Name})
	}
	cfg, err := yaml.Marshal(map[string]any{"route": amRoute(&p.Spec.Route), "receivers": receivers})
	if err != nil {
		t.Fatal(err)
	}
	am := alertmanagertest.Start(t, string(cfg))

	var sets []Labels
	for _, domain := range []string{"identity", "network", "data"} {
		for _, risk := range []string{"CRITICAL", "HIGH", "LOW"} {
			for _, env := range []string{"prod", "production", "staging"} {
				for _, actor := range []string{"breakglass", "human", "unknown"} {
					for _, class := range []string{"UNAUTHORIZED_RUNTIME_DRIFT", "CONTROLLER_OWNED_DRIFT"} {
						for _, owner := range []string{"team-a", "platform"} {
							sets = append(sets, Labels{"domain": domain, "risk": risk, "environment": env, "actor": actor,
								"class": class, "owner": owner, "resource": fmt.Sprintf("r%d", len(sets))}.Normalize())
						}
					}
				}
			}
		}
	}
	var alerts []map[string]any
	for _, ls := range sets {
		alerts = append(alerts, map[string]any{"labels": ls, "startsAt": time.Now().UTC().Format(time.RFC3339),
			"endsAt": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	}
	body, _ := json.Marshal(alerts)
	resp, err := http.Post(am.URL+"/api/v2/alerts", "application/json", bytes.NewReader(body)) //nolint:noctx // a test's local server
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/v2/alerts: %s", resp.Status)
	}

	got := map[string][]string{}
	for _, a := range am.Alerts(t) {
		for _, r := range a.Receivers {
			got[a.Labels["resource"]] = append(got[a.Labels["resource"]], r.Name)
		}
	}
	if len(got) != len(sets) {
		t.Fatalf("Alertmanager holds %d of %d alerts", len(got), len(sets))
	}
	distinct := map[string]bool{}
	for _, ls := range sets {
		ds, err := p.Route(ls, at)
		if err != nil {
			t.Fatal(err)
		}
		var ours []string
		for _, d := range ds {
			ours = append(ours, d.Receivers...)
			ours = append(ours, d.Held...)
		}
		distinct[strings.Join(ours, ",")] = true
		if !reflect.DeepEqual(ours, got[ls["resource"]]) {
			t.Errorf("%v: we route to %v, Alertmanager to %v", ls, ours, got[ls["resource"]])
		}
	}
	if len(distinct) < 8 {
		t.Errorf("the label sets exercise only %d distinct routings: %v", len(distinct), distinct)
	}
	checkGroups(t, am, p, sets)
}

// checkGroups compares Alertmanager's aggregation groups with our group keys: the same labels
// per receiver and group, and the same alerts in each.
func checkGroups(t *testing.T, am *alertmanagertest.Server, p *Policy, sets []Labels) {
	t.Helper()
	type group struct {
		Labels   map[string]string `json:"labels"`
		Receiver struct {
			Name string `json:"name"`
		} `json:"receiver"`
		Alerts []struct {
			Labels map[string]string `json:"labels"`
		} `json:"alerts"`
	}
	// Ours: receiver + group labels -> resources.
	want := map[string][]string{}
	for _, ls := range sets {
		ds, _ := p.Route(ls, at)
		for _, d := range ds {
			recv := append(append([]string(nil), d.Receivers...), d.Held...)[0]
			key := recv + " " + d.GroupKey[strings.Index(d.GroupKey, ":")+1:]
			want[key] = append(want[key], ls["resource"])
		}
	}
	var got map[string][]string
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(am.URL + "/api/v2/alerts/groups") //nolint:noctx // a test's local server
		if err != nil {
			t.Fatal(err)
		}
		var groups []group
		err = json.NewDecoder(resp.Body).Decode(&groups)
		_ = resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		got = map[string][]string{}
		for _, g := range groups {
			key := g.Receiver.Name + " " + labelSetString(g.Labels)
			for _, a := range g.Alerts {
				got[key] = append(got[key], a.Labels["resource"])
			}
		}
		if len(got) >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, m := range []map[string][]string{want, got} {
		for k := range m {
			sort.Strings(m[k])
		}
	}
	if !reflect.DeepEqual(want, got) {
		for k, v := range want {
			if !reflect.DeepEqual(v, got[k]) {
				t.Errorf("group %s: ours %v, Alertmanager's %v", k, v, got[k])
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("Alertmanager has group %s, we do not", k)
			}
		}
	}
}

func labelSetString(ls map[string]string) string {
	keys := make([]string, 0, len(ls))
	for k := range ls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, ls[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}
