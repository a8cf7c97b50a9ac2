package manifests_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

// TestPrometheusRules: the rules shipped with the plugin load in the real promtool, and their
// unit tests (each alert firing and not firing at the right time) pass.
func TestPrometheusRules(t *testing.T) {
	promtool := testtools.Require(t, "PROMTOOL")
	for _, args := range [][]string{
		{"check", "rules", "driftplane-rules.yaml"},
		{"test", "rules", "driftplane-rules.test.yaml", "driftplane-lifecycle.test.yaml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "prometheus"
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
	}
}

// grafanaVariables are what Grafana substitutes into a query before Prometheus sees it, with
// values that keep the query's PromQL shape.
var grafanaVariables = strings.NewReplacer(
	"$__rate_interval", "5m", "$__interval", "1m", "$__range", "7d",
	"$app", ".*", "$domain", ".*", "$environment", ".*",
)

// dashboardFiles are every Grafana dashboard the plugin ships.
func dashboardFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("grafana/*.json")
	if err != nil {
		t.Fatal(err)
	}
	return append(files, "grafana-dashboard.json")
}

// TestDashboardQueriesParse: every panel query of every dashboard is PromQL the real promtool
// accepts (each is checked as a recording rule), every panel queries something, and every
// variable a query uses is defined by its dashboard.
func TestDashboardQueriesParse(t *testing.T) {
	promtool := testtools.Require(t, "PROMTOOL")
	type rule struct {
		Record string `json:"record"`
		Expr   string `json:"expr"`
	}
	var rules []rule
	uids := map[string]string{}
	for _, f := range dashboardFiles(t) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var dash struct {
			UID        string `json:"uid"`
			Templating struct {
				List []struct {
					Name string `json:"name"`
				} `json:"list"`
			} `json:"templating"`
			Panels []panel `json:"panels"`
		}
		if err := json.Unmarshal(raw, &dash); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if other, ok := uids[dash.UID]; ok || dash.UID == "" {
			t.Errorf("%s: uid %q empty or also %s's", f, dash.UID, other)
		}
		uids[dash.UID] = f
		defined := map[string]bool{}
		for _, v := range dash.Templating.List {
			defined[v.Name] = true
		}
		for _, p := range flatten(dash.Panels) {
			if p.Type == "row" {
				continue
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: panel %q queries nothing", f, p.Title)
			}
			for _, tg := range p.Targets {
				for _, v := range []string{"app", "domain", "environment"} {
					if strings.Contains(tg.Expr, "$"+v) && !defined[v] {
						t.Errorf("%s: panel %q uses $%s, which the dashboard does not define", f, p.Title, v)
					}
				}
				rules = append(rules, rule{Record: fmt.Sprintf("dashboard:query:%d", len(rules)), Expr: grafanaVariables.Replace(tg.Expr)})
			}
		}
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].Record < rules[j].Record })
	doc, err := yaml.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboards", "rules": rules}}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dashboards.yaml")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil {
		t.Fatalf("dashboard queries are not PromQL: %v\n%s", err, out)
	}
	if len(rules) < 40 {
		t.Errorf("only %d dashboard queries", len(rules))
	}
}

type panel struct {
	Title   string  `json:"title"`
	Type    string  `json:"type"`
	Panels  []panel `json:"panels"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

// flatten lists panels with those collapsed rows hold.
func flatten(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, flatten(p.Panels)...)
	}
	return out
}
