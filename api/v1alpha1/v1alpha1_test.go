package v1alpha1_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	k8sjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
	"github.com/driftplane/terraform-provider-drift/argocd-plugin/generate"
	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/kubetest"
)

const (
	reportCRD  = "../../argocd-plugin/manifests/base/crd-driftreport.yaml"
	policyCRDs = "../../argocd-plugin/manifests/crds"
)

// TestSchemeKnowsEveryKind: every kind is registered, and its generated deep copy is equal and
// shares nothing with the original.
func TestSchemeKnowsEveryKind(t *testing.T) {
	s := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{v1alpha1.KindDriftReport, v1alpha1.KindDriftManagedUnit, v1alpha1.KindDriftOwnershipRule,
		v1alpha1.KindDriftException, v1alpha1.KindAutoHealPolicy, v1alpha1.KindDriftRoutingPolicy} {
		for _, k := range []string{kind, kind + "List"} {
			if _, err := s.New(v1alpha1.GroupVersion.WithKind(k)); err != nil {
				t.Errorf("%s: %v", k, err)
			}
		}
	}
	five := 5
	unit := &v1alpha1.DriftManagedUnit{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: map[string]string{"team": "a"}},
		Spec: v1alpha1.DriftManagedUnitSpec{Owner: "a", Environment: "prod", RiskTier: "high",
			ControllerIdentities: map[string][]string{"hpa": {"system:*"}},
			OwnershipRules:       []v1alpha1.OwnershipRule{{Resource: v1alpha1.ResourceMatch{Kind: "Deployment", Labels: map[string]string{"a": "b"}}, GitOwned: []string{"/spec/x"}}}},
	}
	report := &v1alpha1.DriftReport{Spec: v1alpha1.DriftReportSpec{Unit: unit,
		AutoHealPolicies: []*v1alpha1.AutoHealPolicy{{Spec: v1alpha1.AutoHealPolicySpec{MaxObjectsPerReconcile: &five}}}}}
	cp := report.DeepCopyObject().(*v1alpha1.DriftReport)
	if !reflect.DeepEqual(cp, report) {
		t.Fatal("deep copy differs")
	}
	cp.Spec.Unit.Spec.ControllerIdentities["hpa"][0] = "changed"
	cp.Spec.Unit.Spec.OwnershipRules[0].Resource.Labels["a"] = "changed"
	*cp.Spec.AutoHealPolicies[0].Spec.MaxObjectsPerReconcile = 0
	if unit.Spec.ControllerIdentities["hpa"][0] != "system:*" || unit.Spec.OwnershipRules[0].Resource.Labels["a"] != "b" || five != 5 {
		t.Error("deep copy shares data with the original")
	}
}

// generatedReport runs the plugin on a sample application and returns its DriftReport.
func generatedReport(t *testing.T, dir string) []byte {
	t.Helper()
	out, err := generate.Generate(filepath.Join("../../argocd-plugin/generate/testdata", dir), generate.Options{Env: map[string]string{
		generate.EnvAppName: "payments-web", generate.EnvAppNamespace: "argocd", generate.EnvRevision: "0123abc"}})
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(out), "\n---\n")
	js, err := yaml.YAMLToJSON([]byte(docs[len(docs)-1]))
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// TestGeneratedReportIsTheTypedAPI: the DriftReport the plugin writes decodes strictly into
// v1alpha1.DriftReport (no field the type lacks) and converts back unchanged.
func TestGeneratedReportIsTheTypedAPI(t *testing.T) {
	for _, dir := range []string{"plain", "hpa", "kustomize"} {
		t.Run(dir, func(t *testing.T) {
			js := generatedReport(t, dir)
			var rep v1alpha1.DriftReport
			strict, err := k8sjson.UnmarshalStrict(js, &rep)
			if err != nil || len(strict) > 0 {
				t.Fatalf("decode: %v %v", err, strict)
			}
			if rep.Kind != v1alpha1.KindDriftReport || rep.APIVersion != v1alpha1.GroupVersion.String() || rep.Spec.Unit == nil ||
				rep.Spec.Unit.Name == "" || rep.Spec.Application == nil || rep.Spec.Application.Namespace != "argocd" || rep.Spec.Revision != "0123abc" {
				t.Errorf("report %+v", rep)
			}
			back, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&rep)
			if err != nil {
				t.Fatal(err)
			}
			if !jsonEqual(t, js, back) {
				got, _ := json.Marshal(back)
				t.Errorf("the typed report lost or added something:\n wrote %s\n typed %s", js, got)
			}
		})
	}
	var rep v1alpha1.DriftReport
	if err := json.Unmarshal(generatedReport(t, "plain"), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Spec.Exceptions) != 1 || len(rep.Spec.AutoHealPolicies) != 1 || len(rep.Spec.Unit.Spec.OwnershipRules) != 1 {
		t.Errorf("plain: %d exceptions, %d auto-heal policies, %d ownership rules", len(rep.Spec.Exceptions), len(rep.Spec.AutoHealPolicies), len(rep.Spec.Unit.Spec.OwnershipRules))
	}
	if err := json.Unmarshal(generatedReport(t, "hpa"), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Spec.StrippedFields) == 0 {
		t.Error("hpa: no strippedFields")
	}
}

func jsonEqual(t *testing.T, a []byte, b any) bool {
	t.Helper()
	bj, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(bj, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

// jsonNames lists the JSON field names of a struct type.
func jsonNames(typ reflect.Type) []string {
	var out []string
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if f.Anonymous && name == "" {
			out = append(out, jsonNames(f.Type)...)
			continue
		}
		if name != "-" && name != "" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// TestStatusFindingCoversCoreFinding: the status finding carries every field of the core's
// finding (but its evidence-only changes) and the object's group, kind, namespace and name, and
// when the report first showed it.
func TestStatusFindingCoversCoreFinding(t *testing.T) {
	want := append(jsonNames(reflect.TypeOf(drift.Finding{})), "group", "kind", "namespace", "name", "firstObservedAt")
	sort.Strings(want)
	if got := jsonNames(reflect.TypeOf(v1alpha1.Finding{})); !reflect.DeepEqual(got, want) {
		t.Errorf("v1alpha1.Finding fields\n got  %v\n want %v", got, want)
	}
	if got, want := jsonNames(reflect.TypeOf(v1alpha1.ActorDetail{})), jsonNames(reflect.TypeOf(drift.Actor{})); !reflect.DeepEqual(got, want) {
		t.Errorf("v1alpha1.ActorDetail fields\n got  %v\n want %v", got, want)
	}
}

// loadCRD reads a generated CRD (after its comment header).
func loadCRD(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var crd map[string]any
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatal(err)
	}
	return crd
}

// enumAt is the enum of the schema property at a dotted path ("[]" steps into array items).
func enumAt(t *testing.T, crd map[string]any, path string) []string {
	t.Helper()
	versions, _, _ := unstructured.NestedSlice(crd, "spec", "versions")
	node, _, _ := unstructured.NestedMap(versions[0].(map[string]any), "schema", "openAPIV3Schema")
	for _, step := range strings.Split(path, ".") {
		if step == "[]" {
			node, _ = node["items"].(map[string]any)
		} else {
			node, _, _ = unstructured.NestedMap(node, "properties", step)
		}
		if node == nil {
			t.Fatalf("%s: no schema at %s", crd["metadata"].(map[string]any)["name"], path)
		}
	}
	var out []string
	for _, v := range node["enum"].([]any) {
		out = append(out, v.(string))
	}
	sort.Strings(out)
	return out
}

func sorted[T ~string](vs []T) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	sort.Strings(out)
	return out
}

// TestCRDEnumsAreTheCoreVocabulary: the enums the markers put in the CRDs are exactly the core's
// risk tiers, gates, drift classes, risks and actions.
func TestCRDEnumsAreTheCoreVocabulary(t *testing.T) {
	report := loadCRD(t, reportCRD)
	unit := loadCRD(t, filepath.Join(policyCRDs, "drift.driftplane.io_driftmanagedunits.yaml"))
	exc := loadCRD(t, filepath.Join(policyCRDs, "drift.driftplane.io_driftexceptions.yaml"))
	for _, c := range []struct {
		crd  map[string]any
		path string
		want []string
	}{
		{report, "spec.unit.spec.riskTier", sorted(drift.RiskTiers)},
		{report, "spec.unit.spec.gate", sorted(drift.Gates)},
		{report, "spec.unit.spec.kind", sorted([]string{drift.UnitOpenTofuStack, drift.UnitKubernetes})},
		{report, "spec.exceptions.[].spec.driftClass", sorted(drift.Classes)},
		{report, "status.findings.[].drift_class", sorted(drift.Classes)},
		{report, "status.findings.[].risk", sorted(drift.Risks)},
		{report, "status.findings.[].recommended_action", sorted(drift.Actions)},
		{unit, "spec.riskTier", sorted(drift.RiskTiers)},
		{unit, "spec.gate", sorted(drift.Gates)},
		{exc, "spec.driftClass", sorted(drift.Classes)},
	} {
		if got := enumAt(t, c.crd, c.path); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: enum %v, want %v", c.path, got, c.want)
		}
	}
}

// TestPolicyKindsOnAPIServer: the generated CRDs are accepted by a real kube-apiserver, and every
// policy kind, decoded by the core's loader and converted back to the API, is created through
// them unpruned.
func TestPolicyKindsOnAPIServer(t *testing.T) {
	c := kubetest.Start(t)
	dyn, err := dynamic.NewForConfig(c.RESTConfig("admin", "system:masters"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(policyCRDs, "*.yaml"))
	if err != nil || len(files) != 5 {
		t.Fatalf("policy CRDs %v %v", files, err)
	}
	kubetest.InstallArgoCDCRDs(t, dyn, append(files, reportCRD)...)

	b, err := drift.DecodeDocuments("policy.yaml", []byte(`
apiVersion: drift.driftplane.io/v1alpha1
kind: DriftManagedUnit
metadata: {name: payments-web, labels: {team: payments}}
spec:
  owner: team-payments
  environment: prod
  riskTier: high
  gate: medium
  breakGlassGroups: [sre]
  maxExceptionDays: 30
  applierIdentities: ["system:serviceaccount:argocd:*"]
  controllerIdentities: {horizontal-pod-autoscaler: ["system:serviceaccount:kube-system:*"]}
  domainOverrides: [{domain: workload, risk: LOW, action: GIT_UPDATE_PR, autoHeal: false}]
  resourceDomains: {apps/Deployment: workload}
---
apiVersion: drift.driftplane.io/v1alpha1
kind: DriftOwnershipRule
metadata: {name: mesh-annotations}
spec:
  resource: {group: apps, kind: Deployment, labels: {mesh: "on"}}
  gitOwned: [/spec/template/metadata/annotations/team]
  runtimeOwned: [/metadata/annotations]
  controllerOwned: [{path: /spec/replicas, owner: horizontal-pod-autoscaler, condition: an HPA targets it}]
---
apiVersion: drift.driftplane.io/v1alpha1
kind: DriftException
metadata: {name: exc-12}
spec:
  unit: payments-web
  resource: /v1/ConfigMap/*/web-config
  paths: [/data/LOG_LEVEL]
  driftClass: UNAUTHORIZED_RUNTIME_DRIFT
  reason: debug logging during INC-12
  ticket: INC-12
  approvedBy: sre-lead
  expiresAt: "2026-12-01T00:00:00Z"
---
apiVersion: drift.driftplane.io/v1alpha1
kind: AutoHealPolicy
metadata: {name: labels-only}
spec:
  appliesTo: {kinds: [Deployment], namespaces: [web], labels: {tier: web}}
  allowedPaths: [/metadata/labels]
  deniedPaths: [/metadata/labels/owner]
  maxObjectsPerReconcile: 0
  requireHealthyBeforeHeal: true
  evidenceRequired: true
`))
	if err != nil {
		t.Fatal(err)
	}
	rule := b.OwnershipRules[0]
	objs := []runtime.Object{b.Unit.ToAPI(), b.Exceptions[0].ToAPI(), b.AutoHeal[0].ToAPI(), &v1alpha1.DriftOwnershipRule{
		TypeMeta:   metav1.TypeMeta{APIVersion: rule.APIVersion, Kind: rule.Kind},
		ObjectMeta: metav1.ObjectMeta{Name: rule.Metadata.Name}, Spec: rule.Spec,
	}}
	for _, o := range objs {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{Object: m}
		gvk := u.GroupVersionKind()
		plural := map[string]string{v1alpha1.KindDriftManagedUnit: "driftmanagedunits", v1alpha1.KindDriftOwnershipRule: "driftownershiprules",
			v1alpha1.KindDriftException: "driftexceptions", v1alpha1.KindAutoHealPolicy: "autohealpolicies"}[gvk.Kind]
		created, err := dyn.Resource(v1alpha1.GroupVersion.WithResource(plural)).Namespace("default").Create(context.Background(), u, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create %s: %v", gvk.Kind, err)
		}
		want, _ := json.Marshal(m["spec"])
		if !jsonEqual(t, want, created.Object["spec"]) {
			got, _ := json.Marshal(created.Object["spec"])
			t.Errorf("%s: the CRD pruned the spec:\n sent %s\n kept %s", gvk.Kind, want, got)
		}
	}

	// The schema refuses what the markers forbid.
	bad := b.Unit.ToAPI()
	bad.Name, bad.Spec.RiskTier = "bad", "extreme"
	m, _ := runtime.DefaultUnstructuredConverter.ToUnstructured(bad)
	_, err = dyn.Resource(v1alpha1.GroupVersion.WithResource("driftmanagedunits")).Namespace("default").Create(context.Background(), &unstructured.Unstructured{Object: m}, metav1.CreateOptions{})
	if err == nil || !strings.Contains(err.Error(), "spec.riskTier") {
		t.Errorf("a riskTier outside the enum: %v", err)
	}
}
