// Package tofuplan reads the JSON of a saved OpenTofu/Terraform plan (`tofu show -json
// plan.out`) into drift observations: the recorded plane from resource_drift[].change.before, the
// actual plane from resource_drift[].change.after, and, in a normal plan, the desired plane from
// resource_changes[].change.after.
package tofuplan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// Plan is what driftplane keeps of a plan file.
type Plan struct {
	// Path is the file the plan was read from (for messages).
	Path             string
	FormatVersion    string
	TerraformVersion string
	// Timestamp is when the plan was made (format 1.2+), else empty.
	Timestamp string
	// RefreshOnly is true when the plan proposes no resource changes, so the desired plane is
	// not known from it.
	RefreshOnly  bool
	Observations []drift.Observation
	// Digest is sha256:<hex> of the file's bytes and Size their count, for evidence records.
	Digest string
	Size   int64
}

// presence records that a key exists without keeping (or copying) its value.
type presence bool

func (p *presence) UnmarshalJSON([]byte) error { *p = true; return nil }

// planDocument is the subset of tfjson.Plan that drift needs. Decoding only these keys keeps
// evaluation within a small factor of terraform-json's own parse: planned_values, prior_state and
// configuration, the bulk of a large plan, are scanned but never materialised.
type planDocument struct {
	FormatVersion    string                   `json:"format_version"`
	TerraformVersion string                   `json:"terraform_version"`
	PlannedValues    presence                 `json:"planned_values"`
	Values           presence                 `json:"values"`
	ResourceDrift    []*tfjson.ResourceChange `json:"resource_drift"`
	ResourceChanges  []*lazyResourceChange    `json:"resource_changes"`
	Timestamp        string                   `json:"timestamp"`
	Errored          bool                     `json:"errored"`
}

// lazyResourceChange decodes a resource change's address eagerly and its values only for the
// drifted resources that need them.
type lazyResourceChange struct {
	Address string         `json:"address"`
	Mode    string         `json:"mode"`
	Change  lazyChangeBody `json:"change"`
}

type lazyChangeBody struct {
	Actions      tfjson.Actions `json:"actions"`
	After        rawValue       `json:"after"`
	AfterUnknown rawValue       `json:"after_unknown"`
}

// rawValue keeps the bytes of a JSON value. encoding/json hands UnmarshalJSON a slice of the
// caller's input, which Read keeps alive and never mutates, so no copy is needed.
type rawValue []byte

func (r *rawValue) UnmarshalJSON(b []byte) error { *r = b; return nil }

// ErrNotPlan is wrapped by errors for input that is JSON but not a plan.
var ErrNotPlan = errors.New("not a plan")

// ReadFile reads and decodes a plan file. Every failure names the file: a plan that cannot be
// read is unknown, never clean.
func ReadFile(path string) (*Plan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("plan file %s does not exist (write it with `tofu plan -out=plan.bin && tofu show -json plan.bin > %s`)", path, path)
		case errors.Is(err, fs.ErrPermission):
			return nil, fmt.Errorf("plan file %s is not readable: %w", path, err)
		}
		return nil, fmt.Errorf("plan file %s: %w", path, err)
	}
	return Read(path, data)
}

// Option configures Read.
type Option func(*options)

type options struct{ digester *drift.Digester }

// WithDigester digests sensitive values with the installation's key (see package digestkey).
func WithDigester(d *drift.Digester) Option { return func(o *options) { o.digester = d } }

// Read decodes plan JSON. name is used in messages.
func Read(name string, data []byte, opts ...Option) (*Plan, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("plan file %s is empty", name)
	}
	if t := bytes.TrimSpace(data); t[0] != '{' {
		return nil, fmt.Errorf("plan file %s is not JSON (is it the binary plan? convert it with `tofu show -json`): %w", name, ErrNotPlan)
	}
	var doc planDocument
	if err := json.Unmarshal(data, &doc); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			if strings.Contains(err.Error(), "unexpected end") {
				return nil, fmt.Errorf("plan file %s is truncated (JSON ends at byte %d): %w", name, len(data), err)
			}
			return nil, fmt.Errorf("plan file %s is not valid JSON at byte %d: %w", name, syn.Offset, err)
		}
		return nil, fmt.Errorf("plan file %s does not have the shape of `tofu show -json` plan output: %w", name, err)
	}
	if err := (&tfjson.Plan{FormatVersion: doc.FormatVersion}).Validate(); err != nil {
		return nil, fmt.Errorf("plan file %s: %w: %w", name, err, ErrNotPlan)
	}
	if !doc.PlannedValues {
		if doc.Values {
			return nil, fmt.Errorf("plan file %s holds a state (`tofu show -json` without a plan file), not a plan: %w", name, ErrNotPlan)
		}
		return nil, fmt.Errorf("plan file %s has no planned_values: %w", name, ErrNotPlan)
	}
	if doc.Errored {
		return nil, fmt.Errorf("plan file %s is from a plan that errored; its drift is unknown, not clean — fix the plan errors and plan again", name)
	}
	sum := sha256.Sum256(data)
	p := &Plan{
		Digest:           "sha256:" + hex.EncodeToString(sum[:]),
		Size:             int64(len(data)),
		Path:             name,
		FormatVersion:    doc.FormatVersion,
		TerraformVersion: doc.TerraformVersion,
		Timestamp:        doc.Timestamp,
	}
	changes := make(map[string]*lazyResourceChange, len(doc.ResourceChanges))
	for _, rc := range doc.ResourceChanges {
		if rc != nil {
			changes[rc.Address] = rc
		}
	}
	// A refresh-only plan has no resource_changes; a normal plan lists every resource, no-ops
	// included, so its after values are the desired plane.
	p.RefreshOnly = len(doc.ResourceChanges) == 0
	for i, rd := range doc.ResourceDrift {
		if rd == nil || rd.Change == nil {
			return nil, fmt.Errorf("plan file %s: resource_drift[%d] has no change", name, i)
		}
		if rd.Mode != "" && rd.Mode != tfjson.ManagedResourceMode {
			continue
		}
		obs, err := observe(o.digester, rd, changes[rd.Address], !p.RefreshOnly)
		if err != nil {
			return nil, fmt.Errorf("plan file %s: resource_drift[%d] (%s): %w", name, i, rd.Address, err)
		}
		if obs != nil {
			p.Observations = append(p.Observations, *obs)
		}
	}
	sort.SliceStable(p.Observations, func(i, j int) bool { return p.Observations[i].Ref < p.Observations[j].Ref })
	return p, nil
}

func observe(dg *drift.Digester, rd *tfjson.ResourceChange, rc *lazyResourceChange, normalPlan bool) (*drift.Observation, error) {
	if rd.Address == "" {
		return nil, fmt.Errorf("missing address")
	}
	a := rd.Change.Actions
	obs := &drift.Observation{Ref: rd.Address, Type: rd.Type}
	if obs.Type == "" {
		obs.Type = drift.ResourceType(rd.Address)
	}
	// The recorded value may hold sensitive values in clear text in the plan file; redact before
	// anything else sees it.
	recorded, sb := dg.Redact(rd.Change.Before, rd.Change.BeforeSensitive, rd.Change.AfterSensitive)
	actual, sa := dg.Redact(rd.Change.After, rd.Change.BeforeSensitive, rd.Change.AfterSensitive)
	obs.Recorded, obs.Actual = recorded, actual
	obs.SensitivePaths = drift.UnionPointers(sb, sa)
	switch {
	case a.Delete():
		obs.Deleted = true
	case a.Update(), a.Replace():
	case a.NoOp(), a.Read():
		return nil, nil
	case a.Create():
		// Drift cannot create a recorded object; seeing one means the file was edited by hand.
		return nil, fmt.Errorf("unexpected action %v in resource_drift", []tfjson.Action(a))
	default:
		return nil, fmt.Errorf("unknown actions %v", []tfjson.Action(a))
	}
	if normalPlan && rc != nil && !obs.Deleted {
		var after, unknown any
		if len(rc.Change.After) > 0 {
			if err := json.Unmarshal(rc.Change.After, &after); err != nil {
				return nil, fmt.Errorf("resource_changes after: %w", err)
			}
		}
		if len(rc.Change.AfterUnknown) > 0 {
			if err := json.Unmarshal(rc.Change.AfterUnknown, &unknown); err != nil {
				return nil, fmt.Errorf("resource_changes after_unknown: %w", err)
			}
		}
		if !rc.Change.Actions.Delete() || rc.Change.Actions.Replace() {
			// Desired values are compared, never stored: redact them the same way.
			desired, _ := dg.Redact(after, rd.Change.BeforeSensitive, rd.Change.AfterSensitive)
			obs.Desired = desired
			obs.DesiredKnown = true
			obs.DesiredUnknown = unknownPaths(unknown, drift.Pointer{})
		}
	}
	return obs, nil
}

// unknownPaths lists the paths marked true in an after_unknown mask.
func unknownPaths(mask any, at drift.Pointer) []drift.Pointer {
	switch m := mask.(type) {
	case bool:
		if m {
			return []drift.Pointer{at}
		}
	case map[string]any:
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var out []drift.Pointer
		for _, k := range keys {
			out = append(out, unknownPaths(m[k], at.Child(k))...)
		}
		return out
	case []any:
		var out []drift.Pointer
		for i, e := range m {
			out = append(out, unknownPaths(e, at.Child(fmt.Sprint(i)))...)
		}
		return out
	}
	return nil
}
