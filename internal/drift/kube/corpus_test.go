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
// changed as the case says, and <case>-live.yaml as the API server returned it.
const recordedCorpus = "../../../testdata/corpus/k8s-diff"

// recordedVerdicts is what driftplane says of each recorded pair without an audit log: the changed
// fields of its one finding (every one a person's change judged UNAUTHORIZED_RUNTIME_DRIFT; the
// replicas written through the scale subresource under kube-controller-manager's name too,
// because without an audit log a name does not make a field Git declares a controller's), or
// nothing for a clean pair, whatever the API server defaulted.
var recordedVerdicts = map[string][]string{
	"cm-clean":                     nil,
	"cm-key-added":                 {"/data/EXTRA_TIMEOUT"},
	"cm-key-removed":               {"/data/FEATURE_CHECKOUT_V2"},
	"cm-label-added":               {"/metadata/labels/debug"},
	"cm-value-changed":             {"/data/MAX_CONNECTIONS"},
	"deploy-clean":                 nil,
	"deploy-env-added":             {"/spec/template/spec/containers/name=app/env/name=DEBUG"},
	"deploy-env-removed":           {"/spec/template/spec/containers/name=app/env/name=LOG_LEVEL"},
	"deploy-image":                 {"/spec/template/spec/containers/name=app/image"},
	"deploy-label-changed":         {"/metadata/labels/app.kubernetes.io~1part-of"},
	"deploy-scale":                 {"/spec/replicas"},
	"deploy-scale-controller":      {"/spec/replicas"},
	"deploy-ssa-clean":             nil,
	"deploy-ssa-image":             {"/spec/template/spec/containers/name=app/image"},
	"deploy-ssa-resources-removed": {"/spec/template/spec/containers/name=app/resources/limits"},
	"netpol-clean":                 nil,
	"netpol-ingress-changed":       {"/spec/ingress/0/from/0/podSelector/matchLabels/role"},
	"role-clean":                   nil,
	"role-verbs-changed":           {"/rules/1/verbs/1"},
	"secret-clean":                 nil,
	"secret-data-changed":          {"/data/password"},
	"svc-clean":                    nil,
	"svc-port-changed":             {"/spec/ports/port=9090", "/spec/ports/port=9100"},
	"svc-selector-changed":         {"/spec/selector/app"},
}

func TestRecordedCorpus(t *testing.T) {
	configs, err := filepath.Glob(filepath.Join(recordedCorpus, "*-config.yaml"))
	if err != nil || len(configs) == 0 {
		t.Fatalf("the recorded corpus %s is missing (%v): `make corpus` records it", recordedCorpus, err)
	}
	unit := &drift.ManagedUnit{Metadata: drift.Metadata{Name: "corpus"}, Spec: drift.UnitSpec{
		Kind: drift.UnitKubernetes, Owner: "team", Environment: "prod", RiskTier: "high", Gate: "high"}}
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
			obs, err := Compare(desired, live)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := drift.Evaluate(unit, nil, []drift.Observation{obs}, drift.WithNow(time.Unix(0, 0)))
			if err != nil {
				t.Fatal(err)
			}
			if want == nil {
				if len(rep.Findings) != 0 || rep.Status != drift.StatusClean {
					t.Fatalf("clean pair: status %s, findings %+v", rep.Status, rep.Findings)
				}
				return
			}
			if len(rep.Findings) != 1 {
				t.Fatalf("want one finding, got %+v", rep.Findings)
			}
			f := rep.Findings[0]
			got := append([]string(nil), f.ChangedFields...)
			sort.Strings(got)
			if f.DriftClass != drift.ClassUnauthorizedRuntime || strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("got %s %v, want %s %v", f.DriftClass, got, drift.ClassUnauthorizedRuntime, want)
			}
			if rep.Status != drift.StatusDrifted {
				t.Errorf("status %s with drift", rep.Status)
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
		})
	}
	for name := range recordedVerdicts {
		if !seen[name] {
			t.Errorf("expected pair %s is not in the recorded corpus", name)
		}
	}
}
