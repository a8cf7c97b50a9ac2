package route

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

var at = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func mustDecode(t *testing.T, y string) *Policy {
	t.Helper()
	p, err := Decode("test.yaml", []byte(y), at)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const head = `apiVersion: drift.driftplane.io/v1alpha1
kind: DriftRoutingPolicy
metadata: {name: t}
spec:
  receivers:
    - {name: a, type: webhook, url: "http://a.example"}
    - {name: b, type: webhook, url: "http://b.example"}
    - {name: c, type: webhook, url: "http://c.example"}
    - {name: root, type: webhook, url: "http://root.example"}
`

// routed returns the receivers (sent or held) of every decision, in order.
func routed(t *testing.T, p *Policy, ls Labels) (receivers []string) {
	t.Helper()
	ds, err := p.Route(ls.Normalize(), at)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		receivers = append(receivers, strings.Join(append(append([]string(nil), d.Receivers...), d.Held...), "+"))
	}
	return receivers
}

// TestMatchers: each operator as Alertmanager defines it, with regexes anchored at both ends.
func TestMatchers(t *testing.T) {
	for _, tc := range []struct {
		matcher string
		labels  Labels
		match   bool
	}{
		{`domain="identity"`, Labels{"domain": "identity"}, true},
		{`domain="identity"`, Labels{"domain": "network"}, false},
		{`domain=identity`, Labels{"domain": "identity"}, true},
		{`domain!="identity"`, Labels{"domain": "network"}, true},
		{`domain!="identity"`, Labels{"domain": "identity"}, false},
		{`domain!="identity"`, Labels{}, true}, // an absent label is the empty value
		{`domain=~"identity|network"`, Labels{"domain": "network"}, true},
		{`owner=~"team"`, Labels{"owner": "team-a"}, false}, // anchored: no substring match
		{`owner=~"team.*"`, Labels{"owner": "team-a"}, true},
		{`owner=~"eam-a"`, Labels{"owner": "team-a"}, false},
		{`owner=~"team-a|team-b"`, Labels{"owner": "team-b"}, true},
		{`domain!~"identity|network"`, Labels{"domain": "data"}, true},
		{`domain!~"identity|network"`, Labels{"domain": "identity"}, false},
		{`resource=~"aws_iam_.*"`, Labels{"resource": "aws_iam_role.admin"}, true},
		{`resource=~"aws_iam_.*"`, Labels{"resource": "module.x.aws_iam_role.admin"}, false},
		{`{domain="data", risk="HIGH"}`, Labels{"domain": "data", "risk": "HIGH"}, true},
		{`{domain="data", risk="HIGH"}`, Labels{"domain": "data", "risk": "LOW"}, false},
		{`owner="team \"a\""`, Labels{"owner": `team "a"`}, true},
		{`tier="web"`, Labels{"tier": "web"}, true},
	} {
		p := mustDecode(t, head+`  unitLabels: [tier]
  route:
    receivers: [root]
    routes:
      - matchers: ['`+strings.ReplaceAll(tc.matcher, `'`, `''`)+`']
        receivers: [a]
`)
		got := routed(t, p, tc.labels)
		want := "root"
		if tc.match {
			want = "a"
		}
		if len(got) != 1 || got[0] != want {
			t.Errorf("%s on %v: routed to %v, want %s", tc.matcher, tc.labels, got, want)
		}
	}
}

// TestContinueAndOrder: the first matching sibling wins; continue lets the next ones be tried; a
// route none of whose children match takes the finding itself; the root takes what no child does.
func TestContinueAndOrder(t *testing.T) {
	p := mustDecode(t, head+`  route:
    receivers: [root]
    routes:
      - matchers: ['domain="identity"']
        receivers: [a]
        continue: true
      - matchers: ['risk=~"HIGH|CRITICAL"']
        receivers: [b]
      - matchers: ['risk="CRITICAL"']
        receivers: [c]
`)
	for _, tc := range []struct {
		labels Labels
		want   []string
	}{
		{Labels{"domain": "identity", "risk": "HIGH"}, []string{"a", "b"}},
		{Labels{"domain": "identity", "risk": "LOW"}, []string{"a"}},
		{Labels{"domain": "data", "risk": "CRITICAL"}, []string{"b"}}, // b wins, c never tried
		{Labels{"domain": "data", "risk": "LOW"}, []string{"root"}},
	} {
		if got := routed(t, p, tc.labels); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v: %v, want %v", tc.labels, got, tc.want)
		}
	}
}

// TestNestingInheritance: a child inherits receivers, grouping, intervals and switches it does
// not set, and overrides those it does.
func TestNestingInheritance(t *testing.T) {
	p := mustDecode(t, head+`  route:
    receivers: [root]
    groupBy: [owner]
    repeatInterval: 2h
    routes:
      - name: prod
        matchers: ['environment="prod"']
        receivers: [a]
        page: true
        groupWait: 10s
        routes:
          - name: prod-identity
            matchers: ['domain="identity"']
            createIncident: true
            groupBy: ['...']
          - name: prod-quiet
            matchers: ['domain="cost"']
            page: false
            receivers: [b, c]
`)
	ds, err := p.Route(Labels{"environment": "prod", "domain": "identity", "owner": "team-a", "risk": "HIGH"}, at)
	if err != nil || len(ds) != 1 {
		t.Fatal(ds, err)
	}
	d := ds[0]
	if d.Route != "route.routes[0].routes[0]" || d.Name != "prod-identity" || !reflect.DeepEqual(d.Receivers, []string{"a"}) ||
		!d.Page || !d.CreateIncident || d.CreateIssue || d.GroupWait != "10s" || d.GroupInterval != "5m" || d.RepeatInterval != "2h" ||
		!reflect.DeepEqual(d.GroupBy, []string{"..."}) {
		t.Errorf("inherited decision: %+v", d)
	}
	ds, _ = p.Route(Labels{"environment": "prod", "domain": "cost", "owner": "team-a", "risk": "LOW"}, at)
	if d := ds[0]; d.Name != "prod-quiet" || d.Page || !reflect.DeepEqual(d.Receivers, []string{"b", "c"}) || d.GroupKey != `route.routes[0].routes[1]:{owner="team-a"}` {
		t.Errorf("overriding decision: %+v", d)
	}
	ds, _ = p.Route(Labels{"environment": "prod", "domain": "data", "owner": "team-a", "risk": "LOW"}, at)
	if d := ds[0]; d.Name != "prod" || d.CreateIncident || !d.Page {
		t.Errorf("no child matches, the parent takes it: %+v", d)
	}
	ds, _ = p.Route(Labels{"environment": "dev", "risk": "LOW"}, at)
	if d := ds[0]; d.Route != "route" || d.GroupWait != "30s" || d.Page {
		t.Errorf("root with Alertmanager's defaults: %+v", d)
	}
}

// TestGrouping: the group key is the route and its group labels' values; "..." is every label;
// labels outside groupBy do not split groups.
func TestGrouping(t *testing.T) {
	p := mustDecode(t, head+`  route:
    receivers: [root]
    groupBy: [unit, domain]
    routes:
      - matchers: ['domain="cost"']
        receivers: [a]
        groupBy: ['...']
`)
	key := func(ls Labels) string {
		ds, err := p.Route(ls, at)
		if err != nil {
			t.Fatal(err)
		}
		return ds[0].GroupKey
	}
	k1 := key(Labels{"unit": "web", "domain": "data", "resource": "aws_db_instance.a"})
	k2 := key(Labels{"unit": "web", "domain": "data", "resource": "aws_db_instance.b"})
	k3 := key(Labels{"unit": "api", "domain": "data", "resource": "aws_db_instance.a"})
	if k1 != k2 || k1 == k3 || k1 != `route:{domain="data",unit="web"}` {
		t.Errorf("group keys %q %q %q", k1, k2, k3)
	}
	if k := key(Labels{"unit": "web", "domain": "cost", "resource": "x"}); k != `route.routes[0]:{domain="cost",resource="x",unit="web"}` {
		t.Errorf("group by every label: %q", k)
	}
	if k := key(Labels{"domain": "data"}); k != `route:{domain="data"}` {
		t.Errorf("a missing group label is left out, as in Alertmanager: %q", k)
	}
}

// TestSilences: an active silence mutes what its matchers select and nothing else; an expired or
// not yet started one mutes nothing and says so.
func TestSilences(t *testing.T) {
	p := mustDecode(t, head+`  route:
    receivers: [root]
    routes:
      - {matchers: ['domain="identity"'], receivers: [a], page: true}
  silences:
    - {name: active, matchers: ['unit="web"'], reason: r, createdBy: me, expiresAt: "2026-12-02T00:00:00Z"}
    - {name: expired, matchers: ['unit="api"'], reason: r, createdBy: me, expiresAt: "2026-11-30T00:00:00Z"}
    - {name: later, matchers: ['unit="db"'], reason: r, createdBy: me, startsAt: "2026-12-05T00:00:00Z", expiresAt: "2026-12-06T00:00:00Z"}
    - {name: at-expiry, matchers: ['unit="edge"'], reason: r, createdBy: me, expiresAt: "2026-12-01T12:00:00Z"}
`)
	for _, tc := range []struct {
		unit       string
		notify     bool
		silencedBy []string
		inactive   string
	}{
		{"web", false, []string{"active"}, ""},
		{"api", true, nil, "expired: expired at 2026-11-30T00:00:00Z; it silences nothing"},
		{"db", true, nil, "later: starts at 2026-12-05T00:00:00Z; it silences nothing yet"},
		{"edge", true, nil, "at-expiry: expired at 2026-12-01T12:00:00Z; it silences nothing"},
		{"other", true, nil, ""},
	} {
		ds, err := p.Route(Labels{"unit": tc.unit, "domain": "identity", "risk": "HIGH"}, at)
		if err != nil {
			t.Fatal(err)
		}
		d := ds[0]
		if d.Notify != tc.notify || !reflect.DeepEqual(d.SilencedBy, tc.silencedBy) || strings.Join(d.InactiveSilences, "") != tc.inactive {
			t.Errorf("%s: %+v", tc.unit, d)
		}
		if !d.Notify && (len(d.Receivers) > 0 || d.Page || !reflect.DeepEqual(d.Held, []string{"a"}) || d.Suppressed != "silenced by active") {
			t.Errorf("%s: a silenced decision still sends or pages: %+v", tc.unit, d)
		}
	}
	// The same silence, evaluated after it expired, silences nothing.
	ds, _ := p.Route(Labels{"unit": "web", "domain": "identity", "risk": "HIGH"}, at.Add(24*time.Hour))
	if !ds[0].Notify || len(ds[0].InactiveSilences) != 1 {
		t.Errorf("after expiry: %+v", ds[0])
	}
}

// TestInfoRoutedNowhere: INFO findings are held unless a route (or an ancestor) accepts INFO with
// a positive risk or severity matcher that names it; a negative matcher or a catch-all regex that
// happens to let INFO through does not count.
func TestInfoRoutedNowhere(t *testing.T) {
	p := mustDecode(t, head+`  route:
    receivers: [root]
    routes:
      - matchers: ['risk!="HIGH"', 'domain="cost"']
        receivers: [a]
      - matchers: ['risk=~".*"', 'domain="secrets"']
        receivers: [c]
      - matchers: ['severity=~"INFO|LOW"', 'domain="workload"']
        receivers: [b]
        routes:
          - {matchers: ['unit="web"'], receivers: [c]}
`)
	for _, tc := range []struct {
		labels Labels
		notify bool
		recv   string
	}{
		{Labels{"risk": "INFO", "domain": "data"}, false, "root"},
		{Labels{"risk": "INFO", "domain": "cost"}, false, "a"},
		{Labels{"risk": "LOW", "domain": "cost"}, true, "a"},
		{Labels{"risk": "INFO", "domain": "secrets"}, false, "c"}, // a catch-all regex does not name INFO
		{Labels{"risk": "LOW", "domain": "secrets"}, true, "c"},
		{Labels{"risk": "INFO", "domain": "workload"}, true, "b"},
		{Labels{"risk": "INFO", "domain": "workload", "unit": "web"}, true, "c"}, // inherits the parent's explicit INFO
	} {
		ds, err := p.Route(tc.labels.Normalize(), at)
		if err != nil {
			t.Fatal(err)
		}
		d := ds[0]
		got := append(append([]string(nil), d.Receivers...), d.Held...)
		if d.Notify != tc.notify || strings.Join(got, "+") != tc.recv {
			t.Errorf("%v: %+v", tc.labels, d)
		}
		if !tc.notify && d.Suppressed != InfoUnrouted {
			t.Errorf("%v: suppressed %q", tc.labels, d.Suppressed)
		}
	}
}

// TestLabelsOf: a finding's labels, and a unit label never replaces one of them.
func TestLabelsOf(t *testing.T) {
	f := drift.Finding{Unit: "web", Owner: "team-a", Environment: "production", Domain: "identity",
		ResourceRef: "module.iam.aws_iam_role.admin", DriftClass: drift.ClassUnauthorizedRuntime, Risk: drift.RiskHigh,
		RecommendedAction: drift.ActionIncident, ActorDetail: &drift.Actor{Kind: drift.ActorBreakGlass}, ChangedFields: []string{"/assume_role_policy"}}
	ls := LabelsOf(f, map[string]string{"data-classification": "pii", "risk": "LOW", "driftplane.io/tier": "web"})
	want := Labels{"class": "UNAUTHORIZED_RUNTIME_DRIFT", "domain": "identity", "environment": "production", "environment_class": "prod",
		"risk": "HIGH", "severity": "HIGH", "owner": "team-a", "unit": "web", "resource": "module.iam.aws_iam_role.admin",
		"kind": "aws_iam_role", "type": "aws_iam_role", "actor": "breakglass", "action": "INCIDENT", "accepted": "false",
		"blocking": "false", "fingerprint": drift.Fingerprint(f), "data_classification": "pii", "driftplane_io_tier": "web"}
	if !reflect.DeepEqual(ls, want) {
		t.Errorf("labels\n got %v\nwant %v", ls, want)
	}
	k := LabelsOf(drift.Finding{ResourceRef: "apps/v1/Deployment/web/api", Risk: drift.RiskLow}, nil)
	if k["group"] != "apps" || k["kind"] != "Deployment" || k["type"] != "Deployment" || k["namespace"] != "web" || k["actor"] != "unknown" {
		t.Errorf("kubernetes labels: %v", k)
	}
}

// TestExamplePolicy: the seed's example works as written.
func TestExamplePolicy(t *testing.T) {
	p, err := Load("testdata/example.yaml", at)
	if err != nil {
		t.Fatal(err)
	}
	finding := func(env, domain, ref string, risk drift.Risk, class drift.Class) drift.Finding {
		return drift.Finding{Unit: "payments", Owner: "team-payments", Environment: env, Domain: domain, ResourceRef: ref, DriftClass: class, Risk: risk}
	}
	for _, tc := range []struct {
		name             string
		f                drift.Finding
		route, receivers string
		page, incident   bool
		issue, notify    bool
		groupKey         string
	}{
		{"identity drift pages security", finding("staging", "identity", "aws_iam_role.app", drift.RiskMedium, drift.ClassUnauthorizedRuntime),
			"security", "security-pager", true, true, true, true, `route.routes[0]:{domain="identity",resource="aws_iam_role.app"}`},
		{"prod HIGH pages the owner", finding("production", "data", "aws_db_instance.main", drift.RiskHigh, drift.ClassUnauthorizedRuntime),
			"prod-high", "team-pager", true, false, true, true, `route.routes[1]:{owner="team-payments"}`},
		{"staging HIGH is a ticket", finding("staging", "data", "aws_db_instance.main", drift.RiskHigh, drift.ClassUnauthorizedRuntime),
			"", "owner-tickets", false, false, true, true, `route:{owner="team-payments",unit="payments"}`},
		{"prod MEDIUM is a ticket", finding("prod", "compute", "aws_instance.web", drift.RiskMedium, drift.ClassEmergency),
			"", "owner-tickets", false, false, true, true, `route:{owner="team-payments",unit="payments"}`},
		{"INFO goes nowhere", finding("prod", "identity", "aws_iam_role.app", drift.RiskInfo, drift.ClassProviderReadNoise),
			"", "owner-tickets", false, false, false, false, `route:{owner="team-payments",unit="payments"}`},
		{"the silence holds the migrating security group", finding("prod", "network", "aws_security_group.db", drift.RiskHigh, drift.ClassUnauthorizedRuntime),
			"security", "security-pager", false, false, false, false, `route.routes[0]:{domain="network",resource="aws_security_group.db"}`},
	} {
		ds, err := p.Match(tc.f, map[string]string{"tier": "backend"}, at)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 1 {
			t.Fatalf("%s: %d decisions", tc.name, len(ds))
		}
		d := ds[0]
		recv := append(append([]string(nil), d.Receivers...), d.Held...)
		if d.Name != tc.route || strings.Join(recv, ",") != tc.receivers || d.Page != tc.page || d.CreateIncident != tc.incident ||
			d.CreateIssue != tc.issue || d.Notify != tc.notify || d.GroupKey != tc.groupKey {
			t.Errorf("%s: %+v", tc.name, d)
		}
	}
	// The canonical JSON decodes to the same policy.
	js, err := p.JSON()
	if err != nil {
		t.Fatal(err)
	}
	q, err := Decode("policy_json", js, at)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(q.Spec, p.Spec) {
		t.Error("policy_json does not round-trip")
	}
}

// TestValidationErrors: every mistake is named by its field, with the route's path.
func TestValidationErrors(t *testing.T) {
	for _, tc := range []struct {
		name, spec string
		want       []string
	}{
		{"matcher syntax, nested", `  route:
    receivers: [root]
    routes:
      - matchers: ['domain="data"']
        receivers: [a]
      - matchers: ['domain="identity"']
        routes:
          - matchers: ['unit="a"', 'risk="HIGH"', 'domain=~"("']
`, []string{`spec.route.routes[1].routes[0].matchers[2]: "domain=~\"(\"": error parsing regexp`}},
		{"unknown label and impossible values", `  route:
    receivers: [root]
    routes:
      - matchers: ['domian="identity"']
      - matchers: ['risk="high"']
      - matchers: ['class=~"DRIFT"']
      - matchers: ['actor!~".*"']
      - matchers: ['risk!="high"']
`, []string{`spec.route.routes[0].matchers[0]: "domian=\"identity\"": "domian" is not a finding label`,
			`spec.route.routes[1].matchers[0]: "risk=\"high\"": it matches no risk`,
			`spec.route.routes[2].matchers[0]: "class=~\"DRIFT\"": it matches no class`,
			`spec.route.routes[3].matchers[0]: "actor!~\".*\"": it matches no actor`,
			`spec.route.routes[4].matchers[0]: "risk!=\"high\"": it excludes no risk`}},
		{"unit labels", `  unitLabels: [tier, risk, data_classification, "9lives", data-class]
  route: {receivers: [root]}
`, []string{`spec.unitLabels[1]: "risk" is a finding label`, `spec.unitLabels[3]: "9lives" is not a label name`, `spec.unitLabels[4]: "data-class" is not a label name`}},
		{"root", `  route:
    matchers: ['risk="HIGH"']
    continue: true
`, []string{"spec.route.matchers: the root route", "spec.route.continue", "spec.route.receivers: is required"}},
		{"receivers", `  route:
    receivers: [root, nobody, root]
`, []string{`spec.route.receivers[1]: "nobody" is not a receiver`, `spec.route.receivers[2]: "root" is named twice`}},
		{"durations and grouping", `  route:
    receivers: [root]
    groupWait: soon
    repeatInterval: 0s
    groupBy: [owner, '...', colour]
`, []string{`spec.route.groupWait: "soon" is not a duration`, "spec.route.repeatInterval: must be positive",
			`spec.route.groupBy[1]: "..." groups by every label`, `spec.route.groupBy[2]: "colour" is not a finding label`}},
		{"unreachable sibling", `  route:
    receivers: [root]
    routes:
      - receivers: [a]
      - matchers: ['risk="HIGH"']
`, []string{"spec.route.routes[0].matchers: a route without matchers takes every finding"}},
		{"silences", `  route: {receivers: [root]}
  silences:
    - {name: no-expiry, matchers: ['unit="web"'], reason: r, createdBy: me}
    - {name: unscoped, matchers: ['risk!="INFO"', 'unit=~".*"', 'resource=~".+"'], reason: r, createdBy: me, expiresAt: "2026-12-02T00:00:00Z"}
    - {name: no-matchers, reason: r, createdBy: me, expiresAt: "2026-12-02T00:00:00Z"}
    - {name: forever, matchers: ['unit="web"'], reason: r, createdBy: me, expiresAt: "2030-01-01T00:00:00Z"}
    - {name: bad-time, matchers: ['unit="web"'], expiresAt: "tomorrow", startsAt: "2026-12-02T00:00:00Z"}
    - {name: backwards, matchers: ['unit="web"'], reason: r, createdBy: me, startsAt: "2026-12-03T00:00:00Z", expiresAt: "2026-12-02T00:00:00Z"}
`, []string{"spec.silences[0].expiresAt: is required: every silence expires",
			"spec.silences[1].matchers: select every finding",
			"spec.silences[2].matchers: is required",
			"spec.silences[3].expiresAt: 2030-01-01T00:00:00Z is more than 90 days after the evaluation time",
			`spec.silences[4].expiresAt: "tomorrow" is not an RFC 3339 time`, "spec.silences[4].reason: is required", "spec.silences[4].createdBy: is required",
			"spec.silences[5].startsAt: 2026-12-03T00:00:00Z is not before expiresAt"}},
	} {
		_, err := Decode("bad.yaml", []byte(head+tc.spec), at)
		var ve *drift.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: want %q in\n%v", tc.name, w, err)
			}
		}
		if strings.Contains(err.Error(), "unitLabels[0]") || strings.Contains(err.Error(), "unitLabels[2]") {
			t.Errorf("%s: a valid unit label refused: %v", tc.name, err)
		}
		if !strings.HasPrefix(err.Error(), `bad.yaml: invalid DriftRoutingPolicy "t"`) {
			t.Errorf("%s: the error does not name the file and policy: %v", tc.name, err)
		}
	}
}

// TestReceiverSecrets: a receiver never holds a credential inline.
func TestReceiverSecrets(t *testing.T) {
	for _, tc := range []struct{ receiver, want string }{
		{`{name: s, type: slack, url: "https://hooks.slack.com/services/T0/B0/XXXX"}`, "spec.receivers[0].url: a Slack incoming-webhook URL is a credential"},
		{`{name: s, type: slack}`, "spec.receivers[0].urlFrom: is required"},
		{`{name: w, type: webhook, url: "https://user:pass@hooks.example/x"}`, "spec.receivers[0].url: carries user info"},
		{`{name: w, type: webhook, url: "https://hooks.example/x?token=abc"}`, "spec.receivers[0].url: carries a query"},
		{`{name: w, type: webhook, url: "http://h.example", settings: {hmac_key: abc}}`, "spec.receivers[0].settings.hmac_key: looks like a credential"},
		{`{name: w, type: webhook, url: "http://h.example", settings: {Authorization: "Bearer abc"}}`, "spec.receivers[0].settings.Authorization: looks like a credential"},
		{`{name: p, type: pagerduty}`, "spec.receivers[0].secretRef: is required: the PagerDuty"},
		{`{name: w, type: webhook, url: "https://hooks.slack.com/services/T0/B0/XXXX"}`, "spec.receivers[0].url: holds a credential"},
		{`{name: g, type: github, secretRef: {env: T}, settings: {repository: a/b, extra: ghp_XXXX0123456789abcdefABCDEF}}`, "spec.receivers[0].settings.extra: holds a credential"},
		{`{name: g, type: gitlab, secretRef: {env: T}, settings: {repository: a/b, note: "glpat-XXXX0123456789abcdef"}}`, "spec.receivers[0].settings.note: holds a credential"},
		{`{name: w, type: webhook, url: "http://h.example", settings: {header: "xoxb-XXXX-0123456789"}}`, "spec.receivers[0].settings.header: holds a credential"},
		{`{name: g, type: github, secretRef: {env: GH_TOKEN}}`, "spec.receivers[0].settings.repository: is required"},
		{`{name: g, type: gitea, secretRef: {env: "1BAD"}, settings: {repository: a/b}}`, `spec.receivers[0].secretRef.env: "1BAD" is not`},
		{`{name: g, type: gitlab, secretRef: {env: X, name: s, key: k}, settings: {repository: a/b}}`, "spec.receivers[0].secretRef: set env, or name and key, not both"},
		{`{name: x, type: email, url: "http://h.example"}`, `spec.receivers[0].type: "email" is not one of`},
	} {
		_, err := Decode("r.yaml", []byte(`apiVersion: drift.driftplane.io/v1alpha1
kind: DriftRoutingPolicy
metadata: {name: t}
spec:
  receivers: [`+tc.receiver+`]
  route: {receivers: [`+strings.Split(strings.TrimPrefix(tc.receiver, "{name: "), ",")[0]+`]}
`), at)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want %q, got %v", tc.receiver, tc.want, err)
		}
		if err != nil && (strings.Contains(err.Error(), "XXXX") || strings.Contains(err.Error(), "pass") || strings.Contains(err.Error(), "Bearer")) {
			t.Errorf("the error repeats the credential: %v", err)
		}
	}
}

// TestReceiverSettingsAccepted: the settings receivers use are not mistaken for credentials.
func TestReceiverSettingsAccepted(t *testing.T) {
	_, err := Decode("r.yaml", []byte(`apiVersion: drift.driftplane.io/v1alpha1
kind: DriftRoutingPolicy
metadata: {name: t}
spec:
  receivers:
    - name: g
      type: gitea
      url: https://gitea.example/api
      secretRef: {name: gitea, key: token}
      settings: {repository: acme/drift, label: drift, labels: "drift,infra", authors: "driftplane-bot", resendInterval: 1h}
  route: {receivers: [g]}
`), at)
	if err != nil {
		t.Fatal(err)
	}
}

// TestDecodeStrict: unknown fields, other kinds and empty documents are errors.
func TestDecodeStrict(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{head + "  route:\n    receivers: [root]\n    contineu: true\n", `unknown field "spec.route.contineu"`},
		{strings.Replace(head, "DriftRoutingPolicy", "DriftException", 1) + "  route: {receivers: [root]}\n", `kind "DriftException" is not "DriftRoutingPolicy"`},
		{"", "empty"},
		{"apiVersion: v1\nkind: DriftRoutingPolicy\n", `apiVersion "v1"`},
	} {
		if _, err := Decode("s.yaml", []byte(tc.doc), at); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want %q, got %v", tc.want, err)
		}
	}
	if _, err := (&Policy{}).Route(Labels{}, at); !errors.Is(err, ErrNotValidated) {
		t.Errorf("an unvalidated policy routes: %v", err)
	}
}

// TestDepthBound: a deeply nested tree is refused, not walked.
func TestDepthBound(t *testing.T) {
	var b strings.Builder
	b.WriteString(head + "  route:\n    receivers: [root]\n")
	indent := "    "
	for i := 0; i < MaxRouteDepth+2; i++ {
		b.WriteString(indent + "routes:\n" + indent + "  - matchers: ['unit=\"x\"']\n")
		indent += "    "
	}
	if _, err := Decode("deep.yaml", []byte(b.String()), at); err == nil || !strings.Contains(err.Error(), "nest more than") {
		t.Errorf("deep tree: %v", err)
	}
}

// Issue receivers open issues only where a route's createIssue is on: a route that names one
// without it declines it (and says so), while its other receivers are told.
func TestIssueReceiversNeedCreateIssue(t *testing.T) {
	p := mustDecode(t, `apiVersion: drift.driftplane.io/v1alpha1
kind: DriftRoutingPolicy
metadata: {name: t}
spec:
  receivers:
    - {name: hook, type: webhook, url: "http://hook.example"}
    - {name: tracker, type: gitea, url: "http://gitea.example", secretRef: {env: GITEA_TOKEN}, settings: {repository: team/infra}}
  route:
    receivers: [hook, tracker]
    routes:
      - matchers: ['domain="identity"']
        createIssue: true
`)
	ds, err := p.Route(Labels{"domain": "network", "risk": "HIGH"}.Normalize(), at)
	if err != nil || len(ds) != 1 || !reflect.DeepEqual(ds[0].Receivers, []string{"hook"}) || !reflect.DeepEqual(ds[0].Declined, []string{"tracker"}) {
		t.Fatalf("without createIssue: %+v %v", ds, err)
	}
	ds, err = p.Route(Labels{"domain": "identity", "risk": "HIGH"}.Normalize(), at)
	if err != nil || len(ds) != 1 || !reflect.DeepEqual(ds[0].Receivers, []string{"hook", "tracker"}) || len(ds[0].Declined) != 0 {
		t.Fatalf("with createIssue: %+v %v", ds, err)
	}
}
