// Package route decides who is told about a finding: a DriftRoutingPolicy's route tree, walked
// exactly as Alertmanager walks its own (depth-first, first matching child wins unless it says
// continue, settings inherited from the parent, the root matches everything), its grouping and
// intervals, and its scoped, expiring silences. It imports no front end: the CLI, the provider
// and the reporter all decode into the same Policy and call the same Route.
//
// INFO findings (controller-owned drift, provider read noise) are routed nowhere by default:
// a route sends them only when it, or a route above it, has a positive matcher on risk or
// severity that names and accepts INFO (risk="INFO", severity=~"INFO|LOW"). A negative matcher
// such as risk!="HIGH", a catch-all such as risk=~".*", and the root, which matches everything,
// do not count. Without that
// rule the catch-all root would page or ticket owners for drift that is the system working as
// designed, which is the noise the routing policy exists to remove.
package route

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	k8sjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// Kind is the kind of a routing policy document.
const Kind = v1alpha1.KindDriftRoutingPolicy

// Spec is a routing policy's spec: the Kubernetes API type, shared by YAML, HCL and the CRD.
type Spec = v1alpha1.DriftRoutingPolicySpec

// Policy is a DriftRoutingPolicy. One from New, Decode or Load is validated and compiled; its
// exported fields serialise to the policy's canonical JSON.
type Policy struct {
	APIVersion string         `json:"apiVersion"`
	Kind       string         `json:"kind"`
	Metadata   drift.Metadata `json:"metadata"`
	Spec       Spec           `json:"spec"`

	root       *node
	silences   []silence
	unitLabels map[string]bool
}

// MaxPolicyBytes bounds one routing policy file, as drift.MaxPolicyFileBytes bounds the others.
const MaxPolicyBytes = drift.MaxPolicyFileBytes

// New validates a policy given as its parts (the provider's HCL) at the evaluation time at.
func New(name string, spec Spec, at time.Time) (*Policy, error) {
	p := &Policy{APIVersion: drift.APIVersion, Kind: Kind, Metadata: drift.Metadata{Name: name}, Spec: spec}
	if err := p.Validate(at); err != nil {
		return nil, err
	}
	return p, nil
}

// Decode decodes exactly one DriftRoutingPolicy document (YAML or JSON) and validates it at at.
// Unknown fields are errors: a misspelt `contineu: true` silently ignored would send a finding
// to fewer owners than the policy says. Errors name source and field.
func Decode(source string, data []byte, at time.Time) (*Policy, error) {
	if len(data) > MaxPolicyBytes {
		return nil, fmt.Errorf("%s: larger than %d bytes", source, MaxPolicyBytes)
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: invalid YAML: %w", source, err)
	}
	if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
		return nil, fmt.Errorf("%s: empty; want one %s document", source, Kind)
	}
	if err := drift.CheckJSONDepth(js, drift.MaxJSONDepth); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	var env struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := json.Unmarshal(js, &env); err != nil {
		return nil, fmt.Errorf("%s: not a policy object: %w", source, err)
	}
	if env.APIVersion != drift.APIVersion {
		return nil, fmt.Errorf("%s: apiVersion %q is not %q", source, env.APIVersion, drift.APIVersion)
	}
	if env.Kind != Kind {
		return nil, fmt.Errorf("%s: kind %q is not %q", source, env.Kind, Kind)
	}
	api := &v1alpha1.DriftRoutingPolicy{}
	strict, err := k8sjson.UnmarshalStrict(js, api)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	if len(strict) > 0 {
		return nil, fmt.Errorf("%s: %w", source, strict[0])
	}
	p := &Policy{APIVersion: api.APIVersion, Kind: api.Kind,
		Metadata: drift.Metadata{Name: api.Name, Namespace: api.Namespace, Labels: api.Labels}, Spec: api.Spec}
	if err := p.Validate(at); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return p, nil
}

// Load reads and decodes a policy file (see Decode).
func Load(path string, at time.Time) (*Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("routing policy: %w", err)
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, MaxPolicyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("routing policy %s: %w", path, err)
	}
	return Decode(path, data, at)
}

// JSON is the policy's canonical JSON (drift.CanonicalJSON), the provider's policy_json.
func (p *Policy) JSON() ([]byte, error) { return drift.CanonicalJSON(p) }
