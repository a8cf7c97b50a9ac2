package drift

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func argoReconcileRow(r Rule) bool {
	for _, c := range r.When.Change {
		if c == ChangeSyncFailed || c == ChangeThrash {
			return true
		}
	}
	return false
}

func argoUnit(mut ...func(*ManagedUnit)) *ManagedUnit {
	return testUnit(append([]func(*ManagedUnit){func(u *ManagedUnit) {
		u.Spec.Kind = UnitKubernetes
		u.Spec.OwnershipRules = nil
		u.Spec.AutoHeal = true
		u.Spec.RiskTier = "high"
		u.Spec.Gate = "high"
	}}, mut...)...)
}

// TestArgoReconcileRows: a failed sync and a thrashing path are decided by their rows, never heal,
// and carry the applier's (sanitized) message or the thrash lead.
func TestArgoReconcileRows(t *testing.T) {
	failed := Observation{Ref: "/v1/ConfigMap/web/flags", Type: "/ConfigMap", Kind: "ConfigMap", Namespace: "web", Name: "flags",
		Failure: &ReconcileFailure{Reason: FailureSyncFailed, Phase: "Failed",
			Message: "ConfigMap \"flags\" is invalid: metadata.labels: Invalid value: \"hunter2!\": a valid label must be an empty string or consist of alphanumeric characters"}}
	thrash := Observation{Ref: "apps/v1/Deployment/web/web", Type: "apps/Deployment", Group: "apps", Kind: "Deployment", Namespace: "web", Name: "web",
		Failure: &ReconcileFailure{Reason: FailureThrash, Thrash: &ReconcileThrashing{
			Path: MustPointer("/metadata/labels/app"), Changes: 4, Window: "30m", Writers: []string{HealWriter, "label-fighter"}}}}
	rep, err := Evaluate(argoUnit(), nil, []Observation{failed, thrash}, atNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 2 {
		t.Fatalf("%+v", rep.Findings)
	}
	byRule := map[string]Finding{}
	for _, f := range rep.Findings {
		byRule[f.Rule] = f
		if f.DriftClass != ClassFailedReconciliation || f.RecommendedAction != ActionInvestigateControlLoop || f.AutoHealAllowed || f.Risk != RiskMedium {
			t.Errorf("%s: %+v", f.Rule, f)
		}
	}
	sf, ok := byRule["sync-failed"]
	if !ok || !strings.Contains(sf.Explanation, `ConfigMap "flags" is invalid: metadata.labels: Invalid value: [redacted]: a valid label`) ||
		strings.Contains(sf.Explanation, "hunter2") || len(sf.ChangedFields) != 0 || sf.ResourceRef != failed.Ref {
		t.Errorf("sync-failed: %+v", sf)
	}
	th, ok := byRule["reconcile-thrash"]
	if !ok || !strings.HasPrefix(th.Explanation, "thrash: /metadata/labels/app changed 4 times in 30m by argocd-driftplane auto-heal, label-fighter; auto-heal") ||
		strings.Join(th.ChangedFields, ",") != "/metadata/labels/app" {
		t.Errorf("reconcile-thrash: %+v", th)
	}
	// The same thrash evaluated again (more changes) keeps its id and fingerprint: one drift.
	thrash.Failure.Thrash.Changes = 7
	again, _ := Evaluate(argoUnit(), nil, []Observation{thrash}, atNow)
	if again.Findings[0].FindingID != th.FindingID || Fingerprint(again.Findings[0]) != Fingerprint(th) {
		t.Errorf("thrash finding id moved with its count: %s → %s", th.FindingID, again.Findings[0].FindingID)
	}
	// The decision is the table's: change the row and the finding follows.
	tab := tableWith(t, "    when: {change: thrash}\n    then: {class: FAILED_RECONCILIATION, risk: computed, risk_min: MEDIUM, action: INVESTIGATE_CONTROL_LOOP}",
		"    when: {change: thrash}\n    then: {class: FAILED_RECONCILIATION, risk: CRITICAL, action: INCIDENT}")
	rep, err = Evaluate(argoUnit(), nil, []Observation{thrash}, atNow, WithTable(tab))
	if err != nil || rep.Findings[0].RecommendedAction != ActionIncident || rep.Findings[0].Risk != RiskCritical || !rep.Findings[0].Blocking {
		t.Errorf("thrash row changed: %v %+v", err, rep.Findings)
	}
	tab = tableWith(t, "    when: {change: sync_failed}\n    then: {class: FAILED_RECONCILIATION, risk: computed, risk_min: MEDIUM",
		"    when: {change: sync_failed}\n    then: {class: FAILED_RECONCILIATION, risk: computed, risk_min: HIGH")
	rep, err = Evaluate(argoUnit(), nil, []Observation{failed}, atNow, WithTable(tab))
	if err != nil || rep.Findings[0].Risk != RiskHigh || !rep.Findings[0].Blocking {
		t.Errorf("sync_failed row changed: %v %+v", err, rep.Findings)
	}
	// A secrets-domain object's message keeps no quoted string at all.
	secret := failed
	secret.Ref, secret.Type, secret.Kind = "/v1/Secret/web/db", "/Secret", "Secret"
	secret.Failure = &ReconcileFailure{Reason: FailureSyncFailed, Phase: "Failed", Message: `Secret "db" is invalid: data[pass word]: something "s3cr3t-value" odd`}
	rep, _ = Evaluate(argoUnit(), nil, []Observation{secret}, atNow)
	if e := rep.Findings[0].Explanation; strings.Contains(e, "s3cr3t") || !strings.Contains(e, `Secret "[redacted]" is invalid`) {
		t.Errorf("secret: %s", e)
	}
}

func TestSyncFailures(t *testing.T) {
	app := SyncResourceResult{Group: "argoproj.io", Version: "v1alpha1", Kind: "Application", Namespace: "argocd", Name: "web"}
	objects := []Observation{{Ref: "/v1/ConfigMap/web/flags", Type: "/ConfigMap", Kind: "ConfigMap", Namespace: "web", Name: "flags", SensitivePaths: []Pointer{MustPointer("/data/x")}}}
	cm := SyncResourceResult{Version: "v1", Kind: "ConfigMap", Namespace: "web", Name: "flags", Status: SyncResultFailed, Message: "rejected"}
	ok := SyncResourceResult{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "web", Name: "web", Status: "Synced", Message: "deployment.apps/web configured"}
	hook := SyncResourceResult{Group: "batch", Version: "v1", Kind: "Job", Namespace: "web", Name: "migrate", Status: SyncResultFailed, Message: "Job has reached the specified backoff limit"}
	for _, phase := range []string{"Succeeded", "Running", "Terminating", ""} {
		if got := SyncFailures(SyncOperation{Phase: phase, Resources: []SyncResourceResult{cm}}, app, objects); got != nil {
			t.Errorf("phase %q: %+v", phase, got)
		}
	}
	got := SyncFailures(SyncOperation{Phase: "Failed", Message: "one or more objects failed to apply", Revision: "abc",
		Resources: []SyncResourceResult{ok, cm, hook, cm}}, app, objects)
	if len(got) != 2 || got[0].Ref != "/v1/ConfigMap/web/flags" || got[0].Failure.Message != "rejected" || got[0].Failure.Revision != "abc" ||
		len(got[0].SensitivePaths) != 1 || got[1].Ref != "batch/v1/Job/web/migrate" || got[1].Type != "batch/Job" {
		t.Errorf("per resource: %+v", got)
	}
	// Failed before any resource (e.g. a manifest that does not parse): the Application itself.
	got = SyncFailures(SyncOperation{Phase: "Error", Message: "ComparisonError: rpc error", Resources: []SyncResourceResult{ok}}, app, objects)
	if len(got) != 1 || got[0].Ref != "argoproj.io/v1alpha1/Application/argocd/web" || got[0].Failure.Message != "ComparisonError: rpc error" || got[0].Failure.Phase != "Error" {
		t.Errorf("whole operation: %+v", got)
	}
}

// TestSanitizeMessage: an applier's message is hostile input. Nothing it holds may forge lines
// or terminal output, carry a secret, or grow without bound.
func TestSanitizeMessage(t *testing.T) {
	const secret = "hunter2-Zq9"
	cases := []struct {
		name, in string
		strict   bool
		want     string   // exact output, when set
		keep     []string // must still be there
	}{
		{name: "plain", in: "one or more objects failed to apply", want: "one or more objects failed to apply"},
		{name: "newlines cannot forge lines", in: "failed\nWARNING: all good\r\n\tok", want: "failed WARNING: all good ok"},
		{name: "terminal escapes and bidi", in: "bad\x1b[31mred\x1b[0m \u202eevil\u200b \x00nul", want: "bad[31mred[0m evil nul"},
		{name: "invalid UTF-8", in: "a\xff\xfeb", want: "ab"},
		{name: "echoed value", in: `spec.template.spec.containers[0].env[0].value: Invalid value: "` + secret + `": must be no more than 63 characters`,
			keep: []string{"Invalid value: [redacted]: must be no more than 63 characters"}},
		{name: "echoed value split by a control character", in: "Invalid value: \"hunter2\x00-Zq9\": bad", keep: []string{"Invalid value: [redacted]: bad"}},
		{name: "echoed number and object", in: `spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535; x: Invalid value: {"password":"` + secret + `","n":{"a":1}}: y`,
			keep: []string{"Invalid value: [redacted]: must be between", "Invalid value: [redacted]: y"}},
		{name: "unsupported and duplicate", in: `Unsupported value: "` + secret + `": supported values: "A"; Duplicate value: "` + secret + `"`, keep: []string{"Unsupported value: [redacted]"}},
		{name: "a manifest's data", in: `error when creating: {"apiVersion":"v1","kind":"Secret","data":{"pw":"aHVudGVyMi1acTk="},"stringData":{"pw":"` + secret + `"}}`,
			keep: []string{`"data":[redacted]`, `"stringData":[redacted]`}},
		{name: "secret-named keys", in: `db_password=` + secret + ` api-key: ` + secret + ` "clientSecret":"` + secret + `" AWS_SECRET_ACCESS_KEY=` + secret, keep: []string{"db_password=[redacted]"}},
		{name: "last-applied", in: `annotations: kubectl.kubernetes.io/last-applied-configuration: "{\"data\":{\"x\":\"` + secret + `\"}}"`, keep: []string{"last-applied-configuration: [redacted]"}},
		{name: "PEM", in: "cert -----BEGIN PRIVATE KEY----- MIIE" + secret + " -----END PRIVATE KEY----- tail", keep: []string{"cert [redacted] tail"}},
		{name: "PEM cut off", in: "cert -----BEGIN RSA PRIVATE KEY-----\nMIIE" + secret, keep: []string{"cert [redacted]"}},
		{name: "JWT and bearer", in: "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc bearer " + secret, keep: []string{"Bearer", "bearer [redacted]"}},
		{name: "URL credentials", in: "git fetch https://bob:" + secret + "@git.example.com/repo.git failed", keep: []string{"https://[redacted]@git.example.com/repo.git"}},
		{name: "opaque run", in: "digest " + strings.Repeat("Zq9x", 10) + " end", keep: []string{"digest [redacted]"}},
		{name: "unterminated quote", in: `Invalid value: "` + secret + ` and the rest`, keep: []string{"Invalid value: [redacted]"}},
		{name: "strict quotes", in: `Secret "db" is invalid: data[a b]: thing '` + secret + `' and "` + secret + `"`, strict: true, keep: []string{`Secret "[redacted]" is invalid`}},
		{name: "strict runs", in: `Secret db: ` + secret + `XYZ0`, strict: true, keep: []string{"Secret db:"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := SanitizeMessage(c.in, c.strict)
			if c.want != "" && got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
			for _, k := range c.keep {
				if k == "Bearer" {
					continue
				}
				if !strings.Contains(got, k) {
					t.Errorf("%q lost %q", got, k)
				}
			}
			for _, leak := range []string{secret, "hunter2", "aHVudGVyMi1acTk", "MIIE", "eyJ"} {
				if strings.Contains(got, leak) {
					t.Errorf("%q leaks %q", got, leak)
				}
			}
			checkClean(t, got)
		})
	}
	long := SanitizeMessage(strings.Repeat("abc ", 100000), false)
	if n := utf8.RuneCountInString(long); n != MaxReconcileMessage || !strings.HasSuffix(long, "…") {
		t.Errorf("long message: %d characters", n)
	}
	if got := SanitizeMessage(strings.Repeat("ä", 1000), false); utf8.RuneCountInString(got) != MaxReconcileMessage || !utf8.ValidString(got) {
		t.Errorf("multi-byte: %d", utf8.RuneCountInString(got))
	}
	if got := SanitizeName("kubectl\x1b[2J\n-evil\u202e" + strings.Repeat("x", 100)); strings.ContainsAny(got, "\x1b\n\u202e") || utf8.RuneCountInString(got) != 65 {
		t.Errorf("SanitizeName: %q", got)
	}
}

func checkClean(t *testing.T, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Errorf("%q is not UTF-8", s)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			t.Errorf("%q holds %U", s, r)
		}
	}
	if utf8.RuneCountInString(s) > MaxReconcileMessage {
		t.Errorf("%d characters", utf8.RuneCountInString(s))
	}
}

// FuzzSanitizeMessage: whatever an applier says, the result is bounded, valid UTF-8, free of
// control and format characters, and a password it echoes as a value is gone.
func FuzzSanitizeMessage(f *testing.F) {
	for _, s := range []string{"", "ok", "Invalid value: \"x\": y", `{"data":{"a":"b"}}`, "-----BEGIN X-----", "\x1b[0m\u202e", `password: "p"`, "Invalid value: {\"a\":[\"b\"", "'"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, strict bool) {
		const planted = "Pl4nted-S3cret-Value"
		// The value comes first: what follows is the attacker's, what the API server echoed is not.
		for _, in := range []string{s, `Invalid value: "` + planted + `": ` + s, `password=` + planted + " " + s} {
			got := SanitizeMessage(in, strict)
			checkClean(t, got)
			if in != s && strings.Contains(got, planted) && !strings.Contains(s, planted) {
				t.Errorf("%q leaks the planted value: %q", in, got)
			}
		}
	})
}

// A sanitized message round-trips through JSON unchanged (no escapes a consumer could misread).
func TestSanitizedMessageIsPlainJSON(t *testing.T) {
	got := SanitizeMessage("a\u2028b\u2029c\x7f", false)
	b, _ := json.Marshal(got)
	if strings.Contains(string(b), `\u`) {
		t.Errorf("%s", b)
	}
}
