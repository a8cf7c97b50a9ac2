package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/route"
	"github.com/driftplane/terraform-provider-drift/internal/scan"
)

const examplePolicy = "../../internal/drift/route/testdata/example.yaml"

func runRoute(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"route", "test", "--at", "2026-12-01T12:00:00Z"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestRouteTestLabels: labels on the command line are routed as amtool config routes test does,
// and --expect checks the receivers.
func TestRouteTestLabels(t *testing.T) {
	code, out, errOut := runRoute(t, "--policy", examplePolicy, "domain=identity", "risk=HIGH", "environment=prod")
	if code != 0 || !strings.Contains(out, "security (route.routes[0]) -> security-pager [page,incident,issue]") ||
		!strings.Contains(out, `group route.routes[0]:{domain="identity"} wait 30s interval 5m repeat 1h`) {
		t.Errorf("exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = runRoute(t, "--policy", examplePolicy, "domain=compute", "risk=INFO")
	if code != 0 || !strings.Contains(out, "route -> nothing sent (would be owner-tickets): INFO findings are routed nowhere by default") {
		t.Errorf("INFO: exit %d\n%s", code, out)
	}
	if code, _, errOut := runRoute(t, "--policy", examplePolicy, "--expect", "security-pager", "domain=network", "risk=CRITICAL"); code != 0 {
		t.Errorf("--expect that holds: exit %d %s", code, errOut)
	}
	code, _, errOut = runRoute(t, "--policy", examplePolicy, "--expect", "security-pager", "domain=data", "risk=CRITICAL", "environment=prod")
	if code != 1 || !strings.Contains(errOut, "sent to [team-pager], expected [security-pager]") {
		t.Errorf("--expect that fails: exit %d %s", code, errOut)
	}
}

// TestRouteTestFindings: the JSON driftplane scan prints is routed finding by finding; labels on
// the command line and the registry's unit labels are added to every finding.
func TestRouteTestFindings(t *testing.T) {
	dir := t.TempDir()
	results := []scan.Result{{Unit: "payments", Status: drift.StatusDrifted, Findings: []drift.Finding{
		{Unit: "payments", Owner: "team-payments", Environment: "production", Domain: "data", ResourceRef: "aws_db_instance.main",
			DriftClass: drift.ClassUnauthorizedRuntime, Risk: drift.RiskCritical, ChangedFields: []string{"/instance_class"}},
		{Unit: "payments", Owner: "team-payments", Environment: "production", Domain: "network", ResourceRef: "aws_security_group.db",
			DriftClass: drift.ClassUnauthorizedRuntime, Risk: drift.RiskHigh, ChangedFields: []string{"/ingress"}},
		{Unit: "payments", Owner: "team-payments", Environment: "production", Domain: "compute", ResourceRef: "aws_autoscaling_group.web",
			DriftClass: drift.ClassControllerOwned, Risk: drift.RiskInfo, ChangedFields: []string{"/desired_capacity"}},
	}}}
	var js bytes.Buffer
	if err := scan.Write(&js, "json", results); err != nil {
		t.Fatal(err)
	}
	findings := filepath.Join(dir, "findings.json")
	if err := os.WriteFile(findings, js.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	registry := filepath.Join(dir, "registry")
	if err := os.MkdirAll(filepath.Join(registry, "stack"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(registry, "payments.yaml"), []byte(`apiVersion: drift.driftplane.io/v1alpha1
kind: DriftManagedUnit
metadata: {name: payments, labels: {data-classification: pci}}
spec: {kind: opentofu-stack, owner: team-payments, environment: production, riskTier: critical, source: stack}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runRoute(t, "--policy", examplePolicy, "--findings", findings, "--registry", registry, "--format", "json", "tier=backend")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got []struct {
		Finding   string           `json:"finding"`
		Labels    route.Labels     `json:"labels"`
		Decisions []route.Decision `json:"decisions"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(got) != 3 {
		t.Fatalf("%d findings routed:\n%s", len(got), out)
	}
	want := []struct{ finding, route, receivers, silenced, suppressed string }{
		{"payments aws_db_instance.main", "prod-high", "team-pager", "", ""},
		{"payments aws_security_group.db", "security", "", "payments-sg-migration", "silenced by payments-sg-migration"},
		{"payments aws_autoscaling_group.web", "", "", "", route.InfoUnrouted},
	}
	for i, w := range want {
		d := got[i].Decisions[0]
		if got[i].Finding != w.finding || d.Name != w.route || strings.Join(d.Receivers, ",") != w.receivers ||
			strings.Join(d.SilencedBy, ",") != w.silenced || d.Suppressed != w.suppressed {
			t.Errorf("finding %d: %s %+v", i, got[i].Finding, d)
		}
		if got[i].Labels["data_classification"] != "pci" || got[i].Labels["tier"] != "backend" {
			t.Errorf("finding %d lacks the unit labels: %v", i, got[i].Labels)
		}
	}
	// A plain list of findings is read too.
	list, _ := json.Marshal(results[0].Findings[:1])
	if err := os.WriteFile(findings, list, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runRoute(t, "--policy", examplePolicy, "--findings", findings); code != 0 || !strings.Contains(out, "prod-high (route.routes[1]) -> team-pager [page,issue]") {
		t.Errorf("a list of findings: exit %d\n%s%s", code, out, errOut)
	}
}

// TestRouteTestUsage: every usage error exits 64 and names the flag, argument, file or field.
func TestRouteTestUsage(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(`apiVersion: drift.driftplane.io/v1alpha1
kind: DriftRoutingPolicy
metadata: {name: bad}
spec:
  receivers: [{name: r, type: webhook, url: "http://r.example"}]
  route:
    receivers: [r]
    routes:
      - matchers: ['risk="HIGH"']
        routes:
          - matchers: ['domain=~"identity|network"', 'risk="high"']
`), 0o600); err != nil {
		t.Fatal(err)
	}
	notJSON := filepath.Join(dir, "findings.json")
	if err := os.WriteFile(notJSON, []byte(`{"unit": "x"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"domain=identity"}, "--policy is required"},
		{[]string{"--policy", examplePolicy}, "give the finding as LABEL=VALUE arguments"},
		{[]string{"--policy", examplePolicy, "--format", "yaml", "a=b"}, `--format "yaml": want one of text, json`},
		{[]string{"--policy", examplePolicy, "domain"}, `argument "domain": want LABEL=VALUE`},
		{[]string{"--policy", examplePolicy, "data-class=pci"}, `argument "data-class=pci"`},
		{[]string{"--policy", examplePolicy, "--at", "now", "a=b"}, `--at "now"`},
		{[]string{"--policy", filepath.Join(dir, "missing.yaml"), "a=b"}, "missing.yaml"},
		{[]string{"--policy", bad, "risk=HIGH"}, bad + `: invalid DriftRoutingPolicy "bad": spec.route.routes[0].routes[0].matchers[1]: "risk=\"high\"": it matches no risk`},
		{[]string{"--policy", examplePolicy, "--findings", notJSON}, "findings " + notJSON + ": want the JSON of driftplane scan --format json"},
		{[]string{"--policy", examplePolicy, "--findings", filepath.Join(dir, "none.json")}, "none.json"},
		{[]string{"--policy", examplePolicy, "--registry", dir, "a=b"}, "--registry adds unit labels to --findings"},
	} {
		code, out, errOut := runRoute(t, c.args...)
		if code != exitUsage || out != "" || !strings.Contains(errOut, c.stderr) {
			t.Errorf("%q: exit %d\nstdout %q\nstderr %q (want %q)", c.args, code, out, errOut, c.stderr)
		}
	}
}
