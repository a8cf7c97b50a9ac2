package drift

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDecodeDocuments feeds arbitrary policy YAML: no panic; errors name the source; and any unit
// or exception that validates survives a round trip through its canonical JSON unchanged.
func FuzzDecodeDocuments(f *testing.F) {
	for _, s := range []string{
		"apiVersion: drift.driftplane.io/v1alpha1\nkind: DriftManagedUnit\nmetadata: {name: payments-web}\nspec: {owner: team, environment: prod, riskTier: high, gate: high}\n",
		"apiVersion: drift.driftplane.io/v1alpha1\nkind: DriftOwnershipRule\nmetadata: {name: hpa}\nspec:\n  resource: {group: apps, kind: Deployment}\n  controllerOwned: [{path: /spec/replicas, owner: hpa}]\n",
		"apiVersion: drift.driftplane.io/v1alpha1\nkind: DriftException\nmetadata: {name: EXC-1}\nspec: {unit: u, resource: aws_security_group.x, paths: [/ingress], driftClass: EMERGENCY_DRIFT, reason: r, ticket: T, approvedBy: a, expiresAt: '2026-12-01T00:00:00Z'}\n",
		"apiVersion: drift.driftplane.io/v1alpha1\nkind: AutoHealPolicy\nmetadata: {name: labels}\nspec: {appliesTo: {kinds: [Deployment]}, allowedPaths: [/metadata/labels], maxObjectsPerReconcile: 5}\n",
		"---\n# comment only\n---\n",
		`{"apiVersion":"drift.driftplane.io/v1alpha1","kind":"DriftManagedUnit","metadata":{"name":"x"},"spec":{"kind":"opentofu-stack","owner":"o","environment":"dev","riskTier":"low"}}`,
		"a: [1, 2\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := DecodeDocuments("policy.yaml", data)
		if err != nil {
			if !strings.Contains(err.Error(), "policy.yaml") {
				t.Fatalf("error does not name the source: %v", err)
			}
			return
		}
		b.MergeOwnershipRules()
		if b.Unit != nil && b.Unit.Validate() == nil {
			js, err := CanonicalJSON(b.Unit)
			if err != nil {
				t.Fatal(err)
			}
			u, err := DecodeUnit("canonical", js)
			if err != nil {
				t.Fatalf("canonical unit does not decode: %v\n%s", err, js)
			}
			again, _ := CanonicalJSON(u)
			if !bytes.Equal(js, again) {
				t.Fatalf("unit round trip changed it:\n%s\n%s", js, again)
			}
		}
		for _, e := range b.Exceptions {
			if e.Validate() != nil {
				continue
			}
			js, _ := CanonicalJSON(e)
			e2, err := DecodeException("canonical", js)
			if err != nil {
				t.Fatalf("canonical exception does not decode: %v\n%s", err, js)
			}
			again, _ := CanonicalJSON(e2)
			if !bytes.Equal(js, again) {
				t.Fatalf("exception round trip changed it:\n%s\n%s", js, again)
			}
		}
	})
}

// FuzzDiff checks the diff's algebra on arbitrary JSON: a value never differs from itself, and
// a difference is seen from both sides at the same paths.
func FuzzDiff(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":[1,2,{"c":"x"}]}`), []byte(`{"a":2,"b":[1,{"c":"y"}],"d":null}`))
	f.Add([]byte(`{"policy":"{\"Statement\":{\"Action\":\"s3:Get\"}}"}`), []byte(`{"policy":"{\"Statement\":[{\"Action\":[\"s3:Get\"]}]}"}`))
	f.Add([]byte(`[]`), []byte(`null`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var va, vb any
		if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
			return
		}
		if d := Diff(va, va); len(d) != 0 {
			t.Fatalf("value differs from itself: %+v", d)
		}
		ab, ba := Diff(va, vb), Diff(vb, va)
		if len(ab) != len(ba) {
			t.Fatalf("asymmetric diff: %d vs %d changes", len(ab), len(ba))
		}
		for i := range ab {
			if ab[i].Path.String() != ba[i].Path.String() || ab[i].Noise != ba[i].Noise {
				t.Fatalf("asymmetric change %d: %+v vs %+v", i, ab[i], ba[i])
			}
			if _, err := ParsePointer(ab[i].Path.String()); err != nil {
				t.Fatalf("diff produced an invalid pointer: %v", err)
			}
		}
	})
}

// FuzzLoadPolicy feeds an application's .drift/ folder (the Argo CD plugin's policy loader):
// no panic, errors name the file, and what loads is valid.
func FuzzLoadPolicy(f *testing.F) {
	f.Add([]byte("apiVersion: drift.driftplane.io/v1alpha1\nkind: DriftManagedUnit\nmetadata: {name: web}\nspec: {owner: t, environment: prod, riskTier: high}\n---\napiVersion: drift.driftplane.io/v1alpha1\nkind: DriftOwnershipRule\nmetadata: {name: hpa}\nspec: {resource: {group: apps, kind: Deployment}, controllerOwned: [{path: /spec/replicas, owner: hpa}]}\n"),
		[]byte("apiVersion: drift.driftplane.io/v1alpha1\nkind: DriftException\nmetadata: {name: EXC-1}\nspec: {unit: web, resource: apps/v1/Deployment/web/web, paths: [/metadata/labels], driftClass: UNAUTHORIZED_RUNTIME_DRIFT, reason: r, approvedBy: a, expiresAt: '2026-12-01T00:00:00Z'}\n"))
	f.Add([]byte("{}"), []byte("---\n"))
	f.Fuzz(func(t *testing.T, unit, more []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "a.yaml"), unit, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "b.yaml"), more, 0o600); err != nil {
			t.Fatal(err)
		}
		b, err := LoadPolicy(dir)
		if err != nil {
			if !strings.Contains(err.Error(), dir) {
				t.Fatalf("error does not name the policy: %v", err)
			}
			return
		}
		if b.Unit == nil || b.Unit.Validate() != nil {
			t.Fatalf("loaded an invalid unit: %+v", b.Unit)
		}
		for _, e := range b.Exceptions {
			if e.Validate() != nil || e.Spec.Unit != b.Unit.Metadata.Name {
				t.Fatalf("loaded an invalid exception: %+v", e)
			}
		}
	})
}
