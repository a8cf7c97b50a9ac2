package kube

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// recordedCorpus holds the config/live pairs `make corpus` records from the real kube-apiserver
// harness (internal/testenv/corpus): <case>-config.yaml applied as the GitOps applier, then
// changed as the case says, and <case>-live.yaml as the API server returned it; and the API
// server's audit log of those writes.
const (
	recordedCorpus = "../../../testdata/corpus/k8s-diff"
	recordedAudit  = "../../../testdata/corpus/k8s-audit/audit.log"
)

// recordedVerdicts is what driftplane says of each recorded pair: nothing for a clean pair,
// whatever the API server defaulted; otherwise one finding with these changed fields. Every
// change is a person's, UNAUTHORIZED_RUNTIME_DRIFT, and the recorded audit log names who made it
// (actor). The exception is the replicas kube-controller-manager wrote through the scale
// subresource (controller): with the audit log it is CONTROLLER_OWNED_DRIFT, which does not
// block; without it a field-manager name does not make a field Git declares a controller's, so it
// is a person's change too (fail closed).
var recordedVerdicts = map[string]struct {
	fields     []string
	actor      string
	controller bool
}{
	"cm-clean":                     {},
	"cm-key-added":                 {[]string{"/data/EXTRA_TIMEOUT"}, "bob", false},
	"cm-key-removed":               {[]string{"/data/FEATURE_CHECKOUT_V2"}, "bob", false},
	"cm-label-added":               {[]string{"/metadata/labels/debug"}, "bob", false},
	"cm-value-changed":             {[]string{"/data/MAX_CONNECTIONS"}, "bob", false},
	"deploy-clean":                 {},
	"deploy-env-added":             {[]string{"/spec/template/spec/containers/name=app/env/name=DEBUG"}, "alice", false},
	"deploy-env-removed":           {[]string{"/spec/template/spec/containers/name=app/env/name=LOG_LEVEL"}, "alice", false},
	"deploy-image":                 {[]string{"/spec/template/spec/containers/name=app/image"}, "alice", false},
	"deploy-label-changed":         {[]string{"/metadata/labels/app.kubernetes.io~1part-of"}, "bob", false},
	"deploy-scale":                 {[]string{"/spec/replicas"}, "alice", false},
	"deploy-scale-controller":      {[]string{"/spec/replicas"}, "system:kube-controller-manager", true},
	"deploy-ssa-clean":             {},
	"deploy-ssa-image":             {[]string{"/spec/template/spec/containers/name=app/image"}, "alice", false},
	"deploy-ssa-resources-removed": {[]string{"/spec/template/spec/containers/name=app/resources/limits"}, "bob", false},
	"netpol-clean":                 {},
	"netpol-ingress-changed":       {[]string{"/spec/ingress/0/from/0/podSelector/matchLabels/role"}, "bob", false},
	"role-clean":                   {},
	"role-verbs-changed":           {[]string{"/rules/1/verbs/1"}, "bob", false},
	"secret-clean":                 {},
	"secret-data-changed":          {[]string{"/data/password"}, "alice", false},
	"svc-clean":                    {},
	"svc-port-changed":             {[]string{"/spec/ports/port=9090", "/spec/ports/port=9100"}, "alice", false},
	"svc-selector-changed":         {[]string{"/spec/selector/app"}, "alice", false},
}

func TestRecordedCorpus(t *testing.T) {
	configs, err := filepath.Glob(filepath.Join(recordedCorpus, "*-config.yaml"))
	if err != nil || len(configs) == 0 {
		t.Fatalf("the recorded corpus %s is missing (%v): `make corpus` records it", recordedCorpus, err)
	}
	unit := &drift.ManagedUnit{Metadata: drift.Metadata{Name: "corpus"}, Spec: drift.UnitSpec{
		Kind: drift.UnitKubernetes, Owner: "team", Environment: "prod", RiskTier: "high", Gate: "high"}}
	audit, err := ReadAuditLogFile(recordedAudit)
	if err != nil {
		t.Fatalf("the recorded audit log: %v (`make corpus` records it)", err)
	}
	seen := map[string]bool{}
	for _, cf := range configs {
		name := strings.TrimSuffix(filepath.Base(cf), "-config.yaml")
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			want, ok := recordedVerdicts[name]
			if !ok {
				t.Fatalf("recorded pair %s has no expected verdict in recordedVerdicts", name)
			}
			read := func(p string) map[string]any {
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				var m map[string]any
				if err := yaml.Unmarshal(b, &m); err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				return m
			}
			desired, live := read(cf), read(filepath.Join(recordedCorpus, name+"-live.yaml"))
			for _, withAudit := range []bool{false, true} {
				var opts []CompareOption
				if withAudit {
					opts = append(opts, WithAudit(audit))
				}
				obs, err := Compare(desired, live, opts...)
				if err != nil {
					t.Fatal(err)
				}
				rep, err := drift.Evaluate(unit, nil, []drift.Observation{obs}, drift.WithNow(time.Unix(0, 0)))
				if err != nil {
					t.Fatal(err)
				}
				if want.fields == nil {
					if len(rep.Findings) != 0 || rep.Status != drift.StatusClean {
						t.Fatalf("audit log %v: clean pair: status %s, findings %+v", withAudit, rep.Status, rep.Findings)
					}
					continue
				}
				if len(rep.Findings) != 1 {
					t.Fatalf("audit log %v: want one finding, got %+v", withAudit, rep.Findings)
				}
				f := rep.Findings[0]
				got := append([]string(nil), f.ChangedFields...)
				sort.Strings(got)
				wantClass, wantStatus := drift.ClassUnauthorizedRuntime, drift.StatusDrifted
				if withAudit && want.controller {
					wantClass, wantStatus = drift.ClassControllerOwned, drift.StatusClean
				}
				if f.DriftClass != wantClass || strings.Join(got, ",") != strings.Join(want.fields, ",") || rep.Status != wantStatus {
					t.Errorf("audit log %v: got %s %v (status %s), want %s %v (status %s)", withAudit, f.DriftClass, got, rep.Status, wantClass, want.fields, wantStatus)
				}
				if withAudit && f.Actor != want.actor {
					t.Errorf("actor %q, want %q from the audit log", f.Actor, want.actor)
				}
				// Secret values, as written and as the API server stores them, never reach the report.
				if live["kind"] == "Secret" {
					out, err := drift.CanonicalJSON(rep)
					if err != nil {
						t.Fatal(err)
					}
					data, _ := live["data"].(map[string]any)
					for k, v := range data {
						enc, _ := v.(string)
						dec, _ := base64.StdEncoding.DecodeString(enc)
						if strings.Contains(string(out), enc) || strings.Contains(string(out), string(dec)) {
							t.Errorf("the report leaks Secret data %s", k)
						}
					}
				}
			}
		})
	}
	for name := range recordedVerdicts {
		if !seen[name] {
			t.Errorf("expected pair %s is not in the recorded corpus", name)
		}
	}
}
