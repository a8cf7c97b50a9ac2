package drift

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// Every test here is an attempt to slip drift past the gate (or blind it) that worked before
// issue 9: each must now fail closed, with an error naming the object and the field, or a
// blocking finding.

func kubeUnit() *ManagedUnit {
	return testUnit(func(u *ManagedUnit) {
		u.Metadata.Name = "payments-web"
		u.Spec.Kind = UnitKubernetes
		u.Spec.OwnershipRules = nil
	})
}

func kubeException(id, resource string, paths ...string) *Exception {
	e := exception(id, resource, "UNAUTHORIZED_RUNTIME_DRIFT", now.Add(7*24*time.Hour).Format(time.RFC3339), paths...)
	e.Spec.Unit = "payments-web"
	e.Spec.Ticket = ""
	return e
}

// The rows of the adversarial table (internal/testenv/adversarial) are replayed by
// TestReplayAdversarialTable; these tests hold the rules' finer points.

func TestScopedPathsStayValid(t *testing.T) {
	// Scoped paths stay valid: an OpenTofu attribute, Kubernetes fields two segments deep, one
	// wildcard below them.
	for _, ok := range []struct{ resource, path string }{
		{"aws_security_group.app_public", "/ingress"},
		{"apps/v1/Deployment/web/web", "/spec/replicas"},
		{"/v1/Secret/web/db", "/data/password"},
		{"apps/v1/Deployment/web/web", "/metadata/labels/team"},
		{"apps/v1/Deployment/web/web", "/metadata/labels/*"},
	} {
		e := exception("EXC-OK", ok.resource, "UNAUTHORIZED_RUNTIME_DRIFT", now.Add(24*time.Hour).Format(time.RFC3339), ok.path)
		unit := testUnit()
		if IsKubernetesRef(ok.resource) {
			unit = kubeUnit()
			e.Spec.Unit = unit.Metadata.Name
		}
		if err := e.ValidateIn(DefaultTable(), unit, now); err != nil {
			t.Errorf("scoped path %s on %s refused: %v", ok.path, ok.resource, err)
		}
	}
}

// A wildcard kind or group stands for every domain it could match; if any of them needs a
// ticket (identity, network, ...), the exception needs one.
func TestAdversarialWildcardKindNeedsTicket(t *testing.T) {
	unit := kubeUnit()
	for _, ref := range []string{"/v1/*/web/web", "*/*/*/web/*", "rbac.authorization.k8s.io/v1/*/web/x", "*/v1/Role/web/x"} {
		e := kubeException("EXC-KIND", ref, "/metadata/labels")
		err := e.ValidateIn(DefaultTable(), unit, now)
		if err == nil || !strings.Contains(err.Error(), "spec.ticket: is required") || !strings.Contains(err.Error(), `"EXC-KIND"`) {
			t.Errorf("%s without a ticket: %v", ref, err)
		}
	}
	// An exact, harmless kind needs none.
	e := kubeException("EXC-KIND", "/v1/ConfigMap/web/settings", "/data/color")
	if err := e.ValidateIn(DefaultTable(), unit, now); err != nil {
		t.Errorf("a ConfigMap colour needs no ticket: %v", err)
	}
	// The repository's own domain mapping cannot take an identity kind out of the identity domain.
	unit.Spec.ResourceDomains = map[string]string{"rbac.authorization.k8s.io/*": DomainWorkload}
	e = kubeException("EXC-KIND", "rbac.authorization.k8s.io/v1/Role/web/x", "/metadata/labels")
	if err := e.ValidateIn(DefaultTable(), unit, now); err == nil {
		t.Error("a unit's resourceDomains moved a Role out of identity and dodged the ticket")
	}
	// Malformed references never silently match nothing.
	for _, ref := range []string{"apps/Deployment/web/web", "apps/v1/Deployment/web/web/extra"} {
		e := kubeException("EXC-REF", ref, "/spec/replicas")
		if err := e.ValidateIn(DefaultTable(), unit, now); err == nil || !strings.Contains(err.Error(), "spec.resource") {
			t.Errorf("%s: %v", ref, err)
		}
	}
}

// An evaluation time in the past must not revive an expired exception: expiry is judged against
// the real clock, and an explicit time may only move the evaluation later.
func TestAdversarialEvaluationTimeInThePast(t *testing.T) {
	real := now
	clock := WithClock(func() time.Time { return real })
	sgObs := Observation{Ref: "aws_security_group.app_public", Type: "aws_security_group", Recorded: sg("10.0.0.0/8"), Actual: sg("10.0.0.0/8", "0.0.0.0/0")}
	expired := exception("EXC-1", "aws_security_group.app_public", "EMERGENCY_DRIFT", real.Add(-time.Hour).Format(time.RFC3339), "/ingress")
	for _, past := range []time.Time{real.Add(-2 * time.Hour), real.Add(-365 * 24 * time.Hour), time.Unix(0, 0)} {
		rep, err := Evaluate(testUnit(), []*Exception{expired}, []Observation{sgObs}, clock, WithNow(past))
		if err != nil {
			t.Fatal(err)
		}
		if f := rep.Findings[0]; f.AcceptedBy != "" || !f.Blocking || !strings.Contains(f.Explanation, "expired") {
			t.Fatalf("evaluation time %s revived the expired exception: %+v", past, f)
		}
	}
	// A later explicit time asks "will this still pass then": an exception valid now but expired by
	// then does not accept.
	valid := exception("EXC-1", "aws_security_group.app_public", "EMERGENCY_DRIFT", real.Add(24*time.Hour).Format(time.RFC3339), "/ingress")
	rep, err := Evaluate(testUnit(), []*Exception{valid}, []Observation{sgObs}, clock, WithNow(real.Add(7*24*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Findings[0].AcceptedBy != "" {
		t.Fatal("an exception expiring tomorrow accepted drift in next week's evaluation")
	}
	rep, _ = Evaluate(testUnit(), []*Exception{valid}, []Observation{sgObs}, clock)
	if rep.Findings[0].AcceptedBy != "EXC-1" {
		t.Fatal("a valid exception stopped accepting")
	}
}

// An exception may not be approved for longer than the unit allows (90 days unless the unit
// says otherwise, never more than a year).
func TestAdversarialExceptionLifetime(t *testing.T) {
	clock := WithClock(func() time.Time { return now })
	sgObs := Observation{Ref: "aws_security_group.app_public", Type: "aws_security_group", Recorded: sg("10.0.0.0/8"), Actual: sg("10.0.0.0/8", "0.0.0.0/0")}
	forever := exception("EXC-FOREVER", "aws_security_group.app_public", "EMERGENCY_DRIFT", "2099-01-01T00:00:00Z", "/ingress")
	_, err := Evaluate(testUnit(), []*Exception{forever}, []Observation{sgObs}, clock)
	if err == nil || !strings.Contains(err.Error(), `DriftException "EXC-FOREVER"`) || !strings.Contains(err.Error(), "more than 90 days") {
		t.Fatalf("a 73-year exception: %v", err)
	}
	long := exception("EXC-LONG", "aws_security_group.app_public", "EMERGENCY_DRIFT", now.Add(200*24*time.Hour).Format(time.RFC3339), "/ingress")
	if _, err := Evaluate(testUnit(), []*Exception{long}, []Observation{sgObs}, clock); err == nil {
		t.Fatal("a 200-day exception passed the default 90-day bound")
	}
	rep, err := Evaluate(testUnit(func(u *ManagedUnit) { u.Spec.MaxExceptionDays = 365 }), []*Exception{long}, []Observation{sgObs}, clock)
	if err != nil || rep.Findings[0].AcceptedBy != "EXC-LONG" {
		t.Fatalf("a unit allowing 365 days refused a 200-day exception: %v", err)
	}
	if err := testUnit(func(u *ManagedUnit) { u.Spec.MaxExceptionDays = 3650 }).Validate(); err == nil || !strings.Contains(err.Error(), "spec.maxExceptionDays") {
		t.Fatalf("a unit allowing ten years: %v", err)
	}
	// An explicit time in the past cannot widen the window either.
	if _, err := Evaluate(testUnit(), []*Exception{long}, []Observation{sgObs}, clock, WithNow(now.Add(-150*24*time.Hour))); err == nil {
		t.Fatal("an evaluation time in the past let a 200-day exception through")
	}
}

func TestAdversarialAutoHealPolicies(t *testing.T) {
	zero := 0
	for _, tc := range []struct {
		name    string
		allowed []string
		denied  []string
		want    string
	}{
		{"root", []string{""}, nil, "spec.allowedPaths[0]"},
		{"whole spec", []string{"/spec"}, nil, "covers the whole spec"},
		{"any depth", []string{"/spec/**"}, nil, `uses "**"`},
		{"spec star", []string{"/spec/*"}, nil, "second segment"},
		{"malformed allow", []string{"spec/replicas"}, nil, "must start with"},
		{"malformed deny", []string{"/metadata/labels/team"}, []string{"/a~9"}, "spec.deniedPaths[0]"},
		{"empty deny", []string{"/metadata/labels/team"}, []string{""}, "spec.deniedPaths[0]"},
	} {
		p := &AutoHealPolicy{APIVersion: APIVersion, Kind: KindAutoHealPolicy, Metadata: Metadata{Name: "heal"},
			Spec: AutoHealPolicySpec{AllowedPaths: tc.allowed, DeniedPaths: tc.denied}}
		if err := p.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `AutoHealPolicy "heal"`) {
			t.Errorf("%s: %v (want %q)", tc.name, err, tc.want)
		}
	}
	p := &AutoHealPolicy{}
	if p.MaxObjects() != DefaultMaxObjectsPerReconcile {
		t.Errorf("unset bound %d, want %d", p.MaxObjects(), DefaultMaxObjectsPerReconcile)
	}
	p.Spec.MaxObjectsPerReconcile = &zero
	if p.MaxObjects() != 0 {
		t.Errorf("maxObjectsPerReconcile: 0 means heal nothing, got %d", p.MaxObjects())
	}
}

// Policy comes from an application's repository: it is bounded in size and depth.
func TestAdversarialPolicyInputBounds(t *testing.T) {
	dir := t.TempDir()
	big := dir + "/big.yaml"
	if err := os.WriteFile(big, append([]byte("# "), bytes.Repeat([]byte("x"), MaxPolicyFileBytes)...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadPolicy(big); err == nil || !strings.Contains(err.Error(), big) || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("a policy file over %d bytes: %v", MaxPolicyFileBytes, err)
	}
	deep := "{\"apiVersion\":\"drift.driftplane.io/v1alpha1\",\"kind\":\"DriftException\",\"metadata\":{\"name\":\"x\"},\"spec\":{\"reason\":" +
		strings.Repeat("[", 600) + strings.Repeat("]", 600) + "}}"
	if _, err := DecodeDocuments("deep.json", []byte(deep)); err == nil || !strings.Contains(err.Error(), "deep.json") || !errors.Is(err, ErrJSONTooDeep) {
		t.Fatalf("a policy nested 600 deep: %v", err)
	}
}

func TestDescribeActorWithoutUsername(t *testing.T) {
	if got := describeActor(&Actor{Manager: "image-updater-controller"}); got != "Changed as field manager image-updater-controller" {
		t.Errorf("%q", got)
	}
}
