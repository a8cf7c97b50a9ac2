package kube

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// Issue 9, class 4: planted Secret values (in data, in stringData, and in the
// last-applied-configuration annotation, which holds the whole Secret in clear text) never appear
// in an observation or in the findings, in clear text or base64, with or without an installation
// key.
func TestSecretValuesNeverLeave(t *testing.T) {
	const gitData, gitString, liveData, liveString = "git-data-value-51d0", "git-string-value-a7e3", "live-data-value-0b4c", "live-string-value-c9d2"
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	planted := []string{gitData, gitString, liveData, liveString, b64(gitData), b64(gitString), b64(liveData), b64(liveString)}
	lastApplied := func(data, str string) string {
		b, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "db", "namespace": "shop"},
			"data": map[string]any{"password": b64(data)}, "stringData": map[string]any{"token": str}})
		return string(b)
	}
	desired := map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": "db", "namespace": "shop", "annotations": map[string]any{
			"kubectl.kubernetes.io/last-applied-configuration": lastApplied(gitData, gitString)}},
		"data":       map[string]any{"password": b64(gitData)},
		"stringData": map[string]any{"token": gitString},
	}
	live := obj(t, fmt.Sprintf(`
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: shop
  labels: {team: payments}
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '%s'
  managedFields:
  - manager: kubectl-client-side-apply
    operation: Update
    time: "2026-11-01T00:00:00Z"
    fieldsType: FieldsV1
    fieldsV1:
      f:data:
        f:password: {}
        f:token: {}
      f:metadata:
        f:annotations:
          f:kubectl.kubernetes.io/last-applied-configuration: {}
data:
  password: %s
  token: %s
`, lastApplied(liveData, liveString), b64(liveData), b64(liveString)))
	unit := drift.ManagedUnit{Metadata: drift.Metadata{Name: "shop"}, Spec: drift.UnitSpec{Kind: drift.UnitKubernetes, Owner: "team", Environment: "prod", RiskTier: "high", Gate: "high"}}
	key, err := drift.NewDigester([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	for name, opts := range map[string][]CompareOption{"process key": nil, "installation key": {WithDigester(key)}} {
		t.Run(name, func(t *testing.T) {
			for _, l := range []map[string]any{live, nil} {
				o, err := Compare(desired, l, append(opts, WithAudit(auditOf(t)))...)
				if err != nil {
					t.Fatal(err)
				}
				view := map[string]any{"recorded": o.Recorded, "actual": o.Actual, "desired": o.Desired, "labels": o.Labels,
					"sensitive": o.SensitivePaths, "note": o.OwnershipNote}
				rep, err := drift.Evaluate(&unit, nil, []drift.Observation{o}, drift.WithNow(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)))
				if err != nil {
					t.Fatal(err)
				}
				var owners []any
				for _, c := range drift.Diff(o.Recorded, o.Actual) {
					if o.FieldOwner != nil {
						owner, kind := o.FieldOwner(c.Path)
						owners = append(owners, owner, kind, o.ActorOf(c.Path))
					}
				}
				js, err := json.Marshal(map[string]any{"observation": view, "owners": owners, "report": rep})
				if err != nil {
					t.Fatal(err)
				}
				out := string(js) + fmt.Sprintf("%v", o)
				for _, v := range planted {
					if strings.Contains(out, v) {
						t.Errorf("planted value %q leaked (live=%v):\n%s", v, l != nil, out)
					}
				}
				if l != nil && (len(rep.Findings) == 0 || len(rep.Findings[0].SensitiveFields) == 0) {
					t.Errorf("the rotated secret must be a finding naming its sensitive fields: %s", js)
				}
			}
		})
	}
}
