package provider

import (
	"reflect"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// unmanaged_allowed in HCL is spec.unmanagedAllowed in .drift/ YAML: the same unit either way,
// validated by the same code, and a file's entries are kept when HCL adds its own.
func TestUnmanagedAllowedSameSchemaAsYAML(t *testing.T) {
	m := &managedUnitModel{
		Name: types.StringValue("shop"), Kind: types.StringValue(drift.UnitKubernetes), Owner: types.StringValue("team"),
		Environment: types.StringValue("prod"), RiskTier: types.StringValue("high"),
		UnmanagedAllowed: []unmanagedAllowModel{{Kind: types.StringValue("ConfigMap"), ResourceName: types.StringValue("istio-ca-*"),
			Namespace: types.StringValue("shop"), Labels: map[string]string{"app": "mesh"}, Reason: types.StringValue("the mesh writes it")}},
	}
	fromHCL := m.toUnit()
	b, err := drift.DecodeDocuments("unit.yaml", []byte(`apiVersion: drift.driftplane.io/v1alpha1
kind: DriftManagedUnit
metadata: {name: shop}
spec:
  kind: kubernetes
  owner: team
  environment: prod
  riskTier: high
  unmanagedAllowed:
  - resource: {kind: ConfigMap, name: "istio-ca-*", namespace: shop, labels: {app: mesh}}
    reason: the mesh writes it
`))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromHCL.Spec.UnmanagedAllowed, b.Unit.Spec.UnmanagedAllowed) {
		t.Errorf("HCL %+v\nYAML %+v", fromHCL.Spec.UnmanagedAllowed, b.Unit.Spec.UnmanagedAllowed)
	}
	if err := fromHCL.Validate(); err != nil {
		t.Errorf("valid allowance refused: %v", err)
	}
	m.UnmanagedAllowed[0].Reason = types.StringValue("")
	if err := m.toUnit().Validate(); err == nil {
		t.Error("an allowance without a reason is accepted")
	}
	m.UnmanagedAllowed[0].Reason = types.StringValue("extra")
	merged := m.overlay(b.Unit)
	if len(merged.Spec.UnmanagedAllowed) != 2 {
		t.Errorf("overlay: %+v", merged.Spec.UnmanagedAllowed)
	}
}
