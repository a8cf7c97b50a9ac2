package kube

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// The desired Deployment: Git declares the image web:1 and two replicas.
const trustDesired = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: web}
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: app
        image: web:1
`

// trustLive is the live Deployment after the applier applied Git and then extra managers
// (name, operation, subresource, fields) wrote: image web:6, replicas 5, and a container "miner"
// Git does not declare.
func trustLive(t *testing.T, extra ...[4]string) map[string]any {
	t.Helper()
	var b strings.Builder
	b.WriteString(`
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: web
  managedFields:
  - manager: argocd-controller
    operation: Apply
    time: "2026-11-01T00:00:00Z"
    fieldsType: FieldsV1
    fieldsV1:
      f:spec:
        f:replicas: {}
        f:template:
          f:spec:
            f:containers:
              k:{"name":"app"}:
                .: {}
                f:name: {}
                f:image: {}
`)
	for i, e := range extra {
		fmt.Fprintf(&b, "  - manager: %s\n    operation: %s\n    time: \"2026-11-0%dT00:00:00Z\"\n", e[0], e[1], i+2)
		if e[2] != "" {
			fmt.Fprintf(&b, "    subresource: %s\n", e[2])
		}
		b.WriteString("    fieldsType: FieldsV1\n    fieldsV1:\n" + e[3])
	}
	b.WriteString(`spec:
  replicas: 5
  template:
    spec:
      containers:
      - name: app
        image: web:6
      - name: miner
        image: miner:1
`)
	return obj(t, b.String())
}

const (
	imageFields = `      f:spec:
        f:template:
          f:spec:
            f:containers:
              k:{"name":"app"}:
                f:image: {}
`
	replicasFields = `      f:spec:
        f:replicas: {}
`
	minerFields = `      f:spec:
        f:template:
          f:spec:
            f:containers:
              k:{"name":"miner"}:
                .: {}
                f:name: {}
                f:image: {}
`
)

func auditEventLine(seq int, user, manager, subresource string) string {
	sub := ""
	if subresource != "" {
		sub = `,"subresource":"` + subresource + `"`
	}
	return fmt.Sprintf(`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"%d","stage":"ResponseComplete",`+
		`"requestURI":"/apis/apps/v1/namespaces/web/deployments/web?fieldManager=%s","verb":"patch","user":{"username":%q,"groups":["system:authenticated"]},`+
		`"userAgent":"kubectl/v1.34.4","objectRef":{"resource":"deployments","namespace":"web","name":"web","apiGroup":"apps"%s},"responseStatus":{"code":200},`+
		`"stageTimestamp":"2026-11-22T10:%02d:00.000000Z"}`, seq, manager, user, sub, seq)
}

// auditOf builds an audit log of writes: user, manager, subresource each.
func auditOf(t *testing.T, writes ...[3]string) *AuditLog {
	t.Helper()
	var lines []string
	for i, w := range writes {
		lines = append(lines, auditEventLine(i+1, w[0], w[1], w[2]))
	}
	a, err := ReadAuditLog("audit.log", strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

var trustUnit = drift.ManagedUnit{
	Metadata: drift.Metadata{Name: "web-prod"},
	Spec:     drift.UnitSpec{Kind: drift.UnitKubernetes, Owner: "team-web", Environment: "prod", RiskTier: "high", Gate: "high"},
}

// evaluate compares and evaluates, returning the finding that changed path.
func evaluate(t *testing.T, unit drift.ManagedUnit, live map[string]any, path string, opts ...CompareOption) drift.Finding {
	t.Helper()
	o, err := Compare(obj(t, trustDesired), live, append(UnitOptions(&unit), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := drift.Evaluate(&unit, nil, []drift.Observation{o}, drift.WithNow(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		for _, c := range f.ChangedFields {
			if c == path {
				return f
			}
		}
	}
	t.Fatalf("no finding changes %s: %+v", path, rep.Findings)
	return drift.Finding{}
}

const imagePath = "/spec/template/spec/containers/name=app/image"

type wantFinding struct {
	class    drift.Class
	blocking bool
	actor    string
	// explain must appear in the explanation; noNote: NoAuditLogNote must not.
	explain string
	noNote  bool
}

func check(t *testing.T, f drift.Finding, w wantFinding) {
	t.Helper()
	if f.DriftClass != w.class || f.Blocking != w.blocking || f.Actor != w.actor {
		t.Errorf("got %s blocking=%v actor=%q (%s), want %s blocking=%v actor=%q", f.DriftClass, f.Blocking, f.Actor, f.Explanation, w.class, w.blocking, w.actor)
	}
	if w.explain != "" && !strings.Contains(f.Explanation, w.explain) {
		t.Errorf("explanation %q lacks %q", f.Explanation, w.explain)
	}
	if w.noNote && strings.Contains(f.Explanation, NoAuditLogNote) {
		t.Errorf("explanation %q carries the no-audit note", f.Explanation)
	}
}

// Class 5 of issue 9: a field manager is a name the client chooses.
func TestSpoofedFieldManagers(t *testing.T) {
	const ctl = "image-updater-controller"
	spoofedImage := trustLive(t, [4]string{ctl, "Update", "", imageFields})
	applierImage := trustLive(t, [4]string{"argocd-controller", "Update", "", imageFields})
	const argoSA = "system:serviceaccount:argocd:argocd-application-controller"
	const botSA = "system:serviceaccount:ops:image-updater"
	blockingHuman := func(actor string) wantFinding {
		return wantFinding{class: drift.ClassUnauthorizedRuntime, blocking: true, actor: actor, noNote: true}
	}
	withRules := trustUnit
	withRules.Spec.ControllerIdentities = map[string][]string{ctl: {"system:serviceaccount:ops:other-bot"}}
	withApplierIDs := trustUnit
	withApplierIDs.Spec.ApplierIdentities = []string{"system:serviceaccount:cd:deployer"}

	for _, tc := range []struct {
		name string
		unit drift.ManagedUnit
		live map[string]any
		opts []CompareOption
		want wantFinding
	}{
		{name: "controller name, no audit log: a person's change", unit: trustUnit, live: spoofedImage,
			want: blockingHuman("")},
		{name: "controller name written by a person: theirs", unit: trustUnit, live: spoofedImage,
			opts: []CompareOption{WithAudit(auditOf(t, [3]string{"mallory", ctl, ""}))},
			want: blockingHuman("mallory")},
		{name: "controller name written by a service account: the controller's", unit: trustUnit, live: spoofedImage,
			opts: []CompareOption{WithAudit(auditOf(t, [3]string{botSA, ctl, ""}))},
			want: wantFinding{class: drift.ClassControllerOwned, actor: botSA, explain: "owned by " + ctl, noNote: true}},
		{name: "a person first, the service account after: still the person's", unit: trustUnit, live: spoofedImage,
			opts: []CompareOption{WithAudit(auditOf(t, [3]string{"mallory", ctl, ""}, [3]string{botSA, ctl, ""}))},
			want: blockingHuman("mallory")},
		{name: "a service account the unit does not map to the controller", unit: withRules, live: spoofedImage,
			opts: []CompareOption{WithAudit(auditOf(t, [3]string{botSA, ctl, ""}))},
			want: blockingHuman(botSA)},
		{name: "the unit's mapped identity", unit: withRules, live: spoofedImage,
			opts: []CompareOption{WithAudit(auditOf(t, [3]string{"system:serviceaccount:ops:other-bot", ctl, ""}))},
			want: wantFinding{class: drift.ClassControllerOwned, actor: "system:serviceaccount:ops:other-bot", noNote: true}},
		{name: "the anonymous user is no system identity", unit: trustUnit, live: spoofedImage,
			opts: []CompareOption{WithAudit(auditOf(t, [3]string{"system:anonymous", ctl, ""}))},
			want: wantFinding{class: drift.ClassUnauthorizedRuntime, blocking: true, actor: "system:anonymous", noNote: true}},
		{name: "an audit log with no write under the name proves nothing", unit: trustUnit, live: spoofedImage,
			opts: []CompareOption{WithAudit(auditOf(t, [3]string{"mallory", "kubectl-edit", ""}))},
			want: blockingHuman("")},

		{name: "applier name, no audit log: a pending sync, said to rest on names", unit: trustUnit, live: applierImage,
			want: wantFinding{class: drift.ClassStaleDesiredState, explain: NoAuditLogNote}},
		{name: "applier name written by a person: theirs", unit: trustUnit, live: applierImage,
			opts: []CompareOption{WithAudit(auditOf(t, [3]string{argoSA, "argocd-controller", ""}, [3]string{"mallory", "argocd-controller", ""}))},
			want: blockingHuman("mallory")},
		{name: "applier name written by Argo CD's service account: a pending sync", unit: trustUnit, live: applierImage,
			opts: []CompareOption{WithAudit(auditOf(t, [3]string{argoSA, "argocd-controller", ""}))},
			want: wantFinding{class: drift.ClassStaleDesiredState, actor: argoSA, noNote: true}},
		{name: "a service account of the applier's name in another namespace is not the applier", unit: trustUnit, live: applierImage,
			opts: []CompareOption{WithAudit(auditOf(t, [3]string{"system:serviceaccount:web:argocd-application-controller", "argocd-controller", ""}))},
			want: blockingHuman("system:serviceaccount:web:argocd-application-controller")},
		{name: "the unit's applier identity", unit: withApplierIDs, live: applierImage,
			opts: []CompareOption{WithAudit(auditOf(t, [3]string{"system:serviceaccount:cd:deployer", "argocd-controller", ""}))},
			want: wantFinding{class: drift.ClassStaleDesiredState, actor: "system:serviceaccount:cd:deployer", noNote: true}},
		{name: "no write under the applier's name in the log: not shown to be the applier", unit: trustUnit, live: applierImage,
			opts: []CompareOption{WithAudit(auditOf(t, [3]string{"mallory", "kubectl-edit", ""}))},
			want: blockingHuman("")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check(t, evaluate(t, tc.unit, tc.live, imagePath, tc.opts...), tc.want)
		})
	}
}

// An ownership rule hands a field Git declares to a controller whatever the audit log says.
func TestOwnershipRuleWinsOverNames(t *testing.T) {
	unit := trustUnit
	unit.Spec.OwnershipRules = []drift.OwnershipRule{{
		Resource:        drift.ResourceMatch{Group: "apps", Kind: "Deployment"},
		ControllerOwned: []drift.ControllerPath{{Path: "/spec/template/spec/containers/*/image", Owner: "image-updater"}},
	}}
	live := trustLive(t, [4]string{"kubectl-set", "Update", "", imageFields})
	check(t, evaluate(t, unit, live, imagePath),
		wantFinding{class: drift.ClassControllerOwned, explain: "owned by image-updater", noNote: true})
}

// The scale subresource and the object are separate writers even under one name: the
// controller's scale is its own, a person's image patch under the same name is the person's.
func TestSubresourceWritesAreJudgedApart(t *testing.T) {
	live := trustLive(t,
		[4]string{"kube-controller-manager", "Update", "scale", replicasFields},
		[4]string{"kube-controller-manager", "Update", "", imageFields})
	audit := WithAudit(auditOf(t,
		[3]string{"system:kube-controller-manager", "kube-controller-manager", "scale"},
		[3]string{"mallory", "kube-controller-manager", ""}))
	check(t, evaluate(t, trustUnit, live, "/spec/replicas", audit),
		wantFinding{class: drift.ClassControllerOwned, actor: "system:kube-controller-manager", noNote: true})
	check(t, evaluate(t, trustUnit, live, imagePath, audit),
		wantFinding{class: drift.ClassUnauthorizedRuntime, blocking: true, actor: "mallory", noNote: true})
	// The decision table maps kube-controller-manager to its own identities: another service
	// account writing under its name is not it.
	audit = WithAudit(auditOf(t, [3]string{"system:serviceaccount:web:builder", "kube-controller-manager", "scale"}))
	check(t, evaluate(t, trustUnit, live, "/spec/replicas", audit),
		wantFinding{class: drift.ClassUnauthorizedRuntime, actor: "system:serviceaccount:web:builder", noNote: true})
}

// Fields Git does not declare keep the name's word, unless the audit log shows a person wrote
// under it.
func TestLiveOnlyFieldsKeepNameAttribution(t *testing.T) {
	live := trustLive(t, [4]string{"istio-sidecar-injector", "Apply", "", minerFields})
	const miner = "/spec/template/spec/containers/name=miner"
	check(t, evaluate(t, trustUnit, live, miner),
		wantFinding{class: drift.ClassControllerOwned, explain: NoAuditLogNote})
	check(t, evaluate(t, trustUnit, live, miner, WithAudit(auditOf(t, [3]string{"mallory", "kubectl-edit", ""}))),
		wantFinding{class: drift.ClassControllerOwned, noNote: true})
	f := evaluate(t, trustUnit, live, miner, WithAudit(auditOf(t, [3]string{"mallory", "istio-sidecar-injector", ""})))
	check(t, f, wantFinding{class: drift.ClassUnauthorizedRuntime, actor: "mallory", noNote: true})
}

func TestOwnershipNoteOnlyWithoutAuditLog(t *testing.T) {
	live := trustLive(t)
	o, err := Compare(obj(t, trustDesired), live)
	if err != nil {
		t.Fatal(err)
	}
	if o.OwnershipNote != NoAuditLogNote {
		t.Errorf("note without an audit log: %q", o.OwnershipNote)
	}
	o, err = Compare(obj(t, trustDesired), live, WithAudit(auditOf(t)))
	if err != nil {
		t.Fatal(err)
	}
	if o.OwnershipNote != "" {
		t.Errorf("note with an audit log: %q", o.OwnershipNote)
	}
}

func TestIdentityGlobs(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"system:serviceaccount:*:argocd-application-controller", "system:serviceaccount:argocd:argocd-application-controller", true},
		{"system:serviceaccount:*:argocd-application-controller", "system:serviceaccount:a:b:argocd-application-controller", false},
		{"system:serviceaccount:kube-system:*", "system:serviceaccount:kube-system:hpa", true},
		{"system:serviceaccount:kube-system:*", "system:serviceaccount:kube-system-x:hpa", false},
		{"system:kube-controller-manager", "system:kube-controller-manager", true},
		{"*", "alice", true},
		{"*", "system:alice", false},
		{"a*b*c", "abxbc", true},
		{"ab*ba", "aba", false},
	} {
		if got := globIdentity(c.pattern, c.s); got != c.want {
			t.Errorf("globIdentity(%q, %q) = %v", c.pattern, c.s, got)
		}
	}
}
