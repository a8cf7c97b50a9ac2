package drift

import (
	"strings"
	"testing"
)

// Issue 10 point 3: every decision is data in decisions.yaml. These tests load the built-in table
// with one line changed and show the decision follows the table, so no Go code still holds it.

// tableWith is the built-in table with old (which must occur once) replaced by new.
func tableWith(t *testing.T, old, new string) *Table {
	t.Helper()
	tab, err := LoadTable(decisionsWith(t, old, new))
	if err != nil {
		t.Fatalf("%s → %s: %v", old, new, err)
	}
	return tab
}

func decisionsWith(t *testing.T, old, new string) []byte {
	t.Helper()
	src := string(decisionsYAML)
	if n := strings.Count(src, old); n != 1 {
		t.Fatalf("decisions.yaml holds %q %d times, want once", old, n)
	}
	return []byte(strings.Replace(src, old, new, 1))
}

func TestTableDecidesTicketDomains(t *testing.T) {
	narrow := tableWith(t, "ticket_domains: [identity, network]", "ticket_domains: [identity]")
	if !DefaultTable().NeedsTicket(DomainNetwork, nil) || narrow.NeedsTicket(DomainNetwork, nil) {
		t.Error("NeedsTicket(network) does not follow ticket_domains")
	}
	exc := func() *Exception {
		e := exception("EXC-1", "aws_security_group.app", "UNAUTHORIZED_RUNTIME_DRIFT", "2026-12-01T00:00:00Z", "/description")
		e.Spec.Ticket = ""
		return e
	}
	if err := exc().ValidateWith(DefaultTable()); err == nil || !strings.Contains(err.Error(), "spec.ticket: is required: the exception touches network") {
		t.Errorf("built-in table: a network exception without a ticket: %v", err)
	}
	if err := exc().ValidateWith(narrow); err != nil {
		t.Errorf("ticket_domains without network still asks a network exception for a ticket: %v", err)
	}
	wide := tableWith(t, "ticket_domains: [identity, network]", "ticket_domains: [identity, network, compute]")
	e := exception("EXC-2", "aws_instance.web", "UNAUTHORIZED_RUNTIME_DRIFT", "2026-12-01T00:00:00Z", "/instance_type")
	e.Spec.Ticket = ""
	if err := e.ValidateWith(DefaultTable()); err != nil {
		t.Errorf("built-in table: a compute exception off the ticket paths needs no ticket: %v", err)
	}
	if err := e.ValidateWith(wide); err == nil || !strings.Contains(err.Error(), "touches compute (aws_instance.web)") {
		t.Errorf("ticket_domains with compute: %v", err)
	}
}

func TestTableDecidesExceptionClasses(t *testing.T) {
	emergency := []*Exception{exception("EXC-1", "aws_security_group.app_public", "EMERGENCY_DRIFT", "2026-12-01T00:00:00Z", "/ingress")}
	open := Observation{Ref: "aws_security_group.app_public", Type: "aws_security_group", Recorded: sg("10.0.0.0/8"), Actual: sg("10.0.0.0/8", "0.0.0.0/0")}
	eval := func(tab *Table) Finding {
		t.Helper()
		rep, err := Evaluate(testUnit(), emergency, []Observation{open}, atNow, WithTable(tab))
		if err != nil || len(rep.Findings) != 1 {
			t.Fatalf("%v %+v", err, rep)
		}
		return rep.Findings[0]
	}
	if f := eval(DefaultTable()); f.AcceptedBy != "EXC-1" || f.Rule != "emergency-network-exposure" {
		t.Errorf("built-in table: %+v", f)
	}
	// EMERGENCY_DRIFT no longer accepts unauthorized drift: the exception does not apply.
	own := tableWith(t, "accepts: [UNAUTHORIZED_RUNTIME_DRIFT, EMERGENCY_DRIFT]", "accepts: [EMERGENCY_DRIFT]")
	if own.ExceptionAccepts(ClassEmergency, ClassUnauthorizedRuntime) || !own.ExceptionAccepts(ClassEmergency, ClassEmergency) {
		t.Error("ExceptionAccepts does not follow exception_classes")
	}
	if f := eval(own); f.AcceptedBy != "" || f.Rule != "network-exposure" ||
		!strings.Contains(f.Explanation, "exception EXC-1 accepts EMERGENCY_DRIFT, but this is UNAUTHORIZED_RUNTIME_DRIFT") {
		t.Errorf("exception_classes without UNAUTHORIZED_RUNTIME_DRIFT: %+v", f)
	}
	// Without `exception: emergency` the exception accepts the drift but the decision stands.
	stands := tableWith(t, "    exception: emergency\n", "")
	if f := eval(stands); f.AcceptedBy != "EXC-1" || f.Rule != "network-exposure" || f.DriftClass != ClassUnauthorizedRuntime {
		t.Errorf("exception_classes without exception: %+v", f)
	}
}

func TestTableDecidesSignals(t *testing.T) {
	widened := []Change{{Path: MustPointer("/policy"), Before: policyV1, After: policyWider}}
	opened := []Change{{Path: MustPointer("/ingress/0/cidr_blocks/1"), Before: nil, After: "0.0.0.0/0"}}
	def := DefaultTable()
	if got := def.DetectSignals(DomainIdentity, widened); len(got) != 1 || got[0] != SignalIdentityWidened {
		t.Errorf("built-in table, identity: %v", got)
	}
	if got := def.DetectSignals(DomainData, widened); len(got) != 0 {
		t.Errorf("built-in table runs identity_widened on data: %v", got)
	}
	if got := def.DetectSignals(DomainCompute, opened); len(got) != 1 || got[0] != SignalNetworkOpenWorld {
		t.Errorf("built-in table, network_open_world on any domain: %v", got)
	}
	moved := tableWith(t, "identity_widened: [identity]", "identity_widened: [data]")
	if got := moved.DetectSignals(DomainIdentity, widened); len(got) != 0 {
		t.Errorf("signals.identity_widened: [data] still runs on identity: %v", got)
	}
	if got := moved.DetectSignals(DomainData, widened); len(got) != 1 {
		t.Errorf("signals.identity_widened: [data] does not run on data: %v", got)
	}
	narrow := tableWith(t, "network_open_world: []", "network_open_world: [network]")
	if got := narrow.DetectSignals(DomainCompute, opened); len(got) != 0 {
		t.Errorf("signals.network_open_world: [network] runs on compute: %v", got)
	}
}

func TestTableDecidesNeverOverridableAutoHeal(t *testing.T) {
	heal := true
	unit := func(domain string) *ManagedUnit {
		return testUnit(func(u *ManagedUnit) {
			u.Spec.DomainOverrides = []DomainOverride{{Domain: domain, AutoHeal: &heal}}
		})
	}
	if err := unit(DomainIdentity).Validate(); err == nil || !strings.Contains(err.Error(), "identity drift never heals silently") {
		t.Errorf("built-in table: %v", err)
	}
	none := tableWith(t, "never_overridable: [identity]", "never_overridable: []")
	if err := unit(DomainIdentity).ValidateWith(none); err != nil {
		t.Errorf("never_overridable: [] still refuses identity: %v", err)
	}
	network := tableWith(t, "never_overridable: [identity]", "never_overridable: [network]")
	if err := unit(DomainNetwork).ValidateWith(network); err == nil || !strings.Contains(err.Error(), "spec.domainOverrides[0].autoHeal: network drift never heals silently") {
		t.Errorf("never_overridable: [network]: %v", err)
	}
}

func TestTableDecidesHealBlocker(t *testing.T) {
	secret := &Finding{Domain: DomainSecrets, DriftClass: ClassUnauthorizedRuntime, AutoHealAllowed: true, Rule: "unexplained", ChangedFields: []string{"/data/password"}}
	c := HealCandidate{Finding: secret, Type: "/Secret", AppHealthy: true}
	if why := DefaultTable().HealBlocker(c); why != "secrets drift is never auto-healed" {
		t.Errorf("built-in table: %q", why)
	}
	// The unit mapped the Secret elsewhere: the table's own domain for /Secret still counts.
	other := *secret
	other.Domain = DomainOther
	if why := DefaultTable().HealBlocker(HealCandidate{Finding: &other, Type: "/Secret", AppHealthy: true}); !strings.HasPrefix(why, "secrets drift is never auto-healed (/Secret in the built-in decision table") {
		t.Errorf("built-in table, Secret mapped to other: %q", why)
	}
	healSecrets := tableWith(t, "never_heal_domains: [identity, network, data, secrets]", "never_heal_domains: [identity, network, data]")
	if why := healSecrets.HealBlocker(c); why != "" {
		t.Errorf("never_heal_domains without secrets: %q", why)
	}
	neverCompute := tableWith(t, "never_heal_domains: [identity, network, data, secrets]", "never_heal_domains: [identity, network, data, secrets, compute]")
	node := &Finding{Domain: DomainWorkload, DriftClass: ClassUnauthorizedRuntime, AutoHealAllowed: true, ChangedFields: []string{"/metadata/labels/x"}}
	if why := DefaultTable().HealBlocker(HealCandidate{Finding: node, Type: "/Node", AppHealthy: true}); why != "" {
		t.Errorf("built-in table, /Node: %q", why)
	}
	if why := neverCompute.HealBlocker(HealCandidate{Finding: node, Type: "/Node", AppHealthy: true}); !strings.HasPrefix(why, "compute drift is never auto-healed") {
		t.Errorf("never_heal_domains with compute, /Node: %q", why)
	}

	pending := &Finding{Domain: DomainWorkload, DriftClass: ClassStaleDesiredState, AutoHealAllowed: true, ChangedFields: []string{"/spec/template/spec/containers/name=app/image"}}
	p := HealCandidate{Finding: pending, Type: "apps/Deployment", AppHealthy: true}
	if why := DefaultTable().HealBlocker(p); !strings.Contains(why, "a pending sync is healed only when the application itself syncs automatically") {
		t.Errorf("built-in table, pending sync: %q", why)
	}
	if why := tableWith(t, "automated_sync_only: [STALE_DESIRED_STATE]", "automated_sync_only: []").HealBlocker(p); why != "" {
		t.Errorf("automated_sync_only: []: %q", why)
	}
	unexplained := *pending
	unexplained.DriftClass = ClassUnauthorizedRuntime
	both := tableWith(t, "automated_sync_only: [STALE_DESIRED_STATE]", "automated_sync_only: [STALE_DESIRED_STATE, UNAUTHORIZED_RUNTIME_DRIFT]")
	if why := both.HealBlocker(HealCandidate{Finding: &unexplained, Type: "apps/Deployment", AppHealthy: true}); !strings.HasPrefix(why, "UNAUTHORIZED_RUNTIME_DRIFT is healed only when") {
		t.Errorf("automated_sync_only with UNAUTHORIZED_RUNTIME_DRIFT: %q", why)
	}
}

// A malformed decision section is an error that names the field.
func TestTableDecisionSectionsAreChecked(t *testing.T) {
	for _, c := range []struct{ old, new, want string }{
		{"expected_classes: [CONTROLLER_OWNED_DRIFT, PROVIDER_READ_NOISE]", "expected_classes: [CONTROLLER_OWNED]", `expected_classes: unknown class "CONTROLLER_OWNED"`},
		{"ticket_domains: [identity, network]", "ticket_domains: [identity, netwrk]", `ticket_domains: unknown domain "netwrk"`},
		{"ticket_domains: [identity, network]", "ticket_domains: []", "ticket_domains: is required"},
		{"ticket_domains: [identity, network]", "ticket_domain: [identity, network]", `unknown field "ticket_domain"`},
		{"  EMERGENCY_DRIFT:\n", "  EMERGENCY:\n", `exception_classes: unknown class "EMERGENCY"`},
		{"accepts: [UNAUTHORIZED_RUNTIME_DRIFT, EMERGENCY_DRIFT]", "accepts: [UNAUTHORISED]", `exception_classes.EMERGENCY_DRIFT.accepts: unknown class "UNAUTHORISED"`},
		{"    exception: emergency\n", "    exception: none\n", "exception_classes.EMERGENCY_DRIFT.exception"},
		{"    exception: emergency\n", "    exceptions: emergency\n", `unknown field "exceptions"`},
		{"  identity_widened: [identity]\n", "  identity_widenend: [identity]\n", `signals: unknown detector "identity_widenend"`},
		{"  network_open_world: []\n", "", `signals: no entry for detector "network_open_world"`},
		{"  identity_widened: [identity]\n", "  identity_widened: [iam]\n", `signals.identity_widened: unknown domain "iam"`},
		{"never_heal_domains: [identity, network, data, secrets]", "never_heal_domains: [identity, network, data, secret]", `auto_heal.never_heal_domains: unknown domain "secret"`},
		{"never_heal_domains: [identity, network, data, secrets]", "never_heal_domains: []", "auto_heal.never_heal_domains: is required"},
		{"automated_sync_only: [STALE_DESIRED_STATE]", "automated_sync_only: [PENDING_SYNC]", `auto_heal.automated_sync_only: unknown class "PENDING_SYNC"`},
		{"never_overridable: [identity]", "never_overridable: [identities]", `auto_heal.never_overridable: unknown domain "identities"`},
		{"never_overridable: [identity]", "never_overrideable: [identity]", `unknown field "never_overrideable"`},
		{"kind: autoscaling/HorizontalPodAutoscaler", "kind: HorizontalPodAutoscaler", "target_owners[0].kind"},
		{"target: /spec/scaleTargetRef", "target: spec/scaleTargetRef", "target_owners[0].target"},
		{"paths: [/spec/replicas]", "paths: [/spec]", "target_owners[0].paths"},
		{"paths: [/spec/replicas]", "paths: []", "target_owners[0].paths: is required"},
		{"    owner: horizontal-pod-autoscaler\n", "", "target_owners[0]: owner and reason are required"},
	} {
		_, err := LoadTable(decisionsWith(t, c.old, c.new))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q → %q: got %v, want an error with %q", c.old, c.new, err, c.want)
		}
	}
}

func TestTableDecidesExpectedClasses(t *testing.T) {
	noise := Observation{Ref: "aws_iam_policy.p", Type: "aws_iam_policy",
		Recorded: map[string]any{"policy": policyV1}, Actual: map[string]any{"policy": policyV1Reorder}}
	unit := testUnit(func(u *ManagedUnit) { u.Spec.Gate = "info" })
	rep, err := Evaluate(unit, nil, []Observation{noise}, atNow)
	if err != nil || rep.Status != StatusClean || rep.BlockingCount != 0 || len(rep.Findings) != 1 || rep.Findings[0].DriftClass != ClassProviderReadNoise {
		t.Fatalf("built-in table: %v %+v", err, rep)
	}
	tab := tableWith(t, "expected_classes: [CONTROLLER_OWNED_DRIFT, PROVIDER_READ_NOISE]", "expected_classes: [CONTROLLER_OWNED_DRIFT]")
	rep, err = Evaluate(unit, nil, []Observation{noise}, atNow, WithTable(tab))
	if err != nil || rep.Status != StatusDrifted || rep.BlockingCount != 1 || !strings.Contains(rep.Findings[0].Explanation, "no exception matches") {
		t.Errorf("expected_classes without PROVIDER_READ_NOISE: %v %+v", err, rep)
	}
	e := exception("EXC-1", "aws_iam_policy.p", "PROVIDER_READ_NOISE", "2026-12-01T00:00:00Z", "/policy")
	if err := e.ValidateWith(DefaultTable()); err == nil || !strings.Contains(err.Error(), "PROVIDER_READ_NOISE is never blocking and needs no exception") {
		t.Errorf("built-in table: an exception for expected drift: %v", err)
	}
	if err := e.ValidateWith(tab); err != nil {
		t.Errorf("expected_classes without PROVIDER_READ_NOISE: an exception for it: %v", err)
	}
}
