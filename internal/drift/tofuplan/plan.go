// Package tofuplan reads the JSON of a saved OpenTofu/Terraform plan (`tofu show -json
// plan.out`) into drift observations: the recorded plane from resource_drift[].change.before, the
// actual plane from resource_drift[].change.after, and, in a normal plan, the desired plane from
// resource_changes[].change.after.
package tofuplan

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
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

	// priorState is prior_state's bytes (a slice of the input), decoded only by Resources.
	priorState rawValue
	digester   *drift.Digester
	// changes are resource_changes by address (a normal plan's desired plane), for Resources.
	changes map[string]*lazyResourceChange
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
	PlannedValues    rawValue                 `json:"planned_values"`
	Configuration    rawValue                 `json:"configuration"`
	Values           presence                 `json:"values"`
	ResourceDrift    []*tfjson.ResourceChange `json:"resource_drift"`
	ResourceChanges  []*lazyResourceChange    `json:"resource_changes"`
	Timestamp        string                   `json:"timestamp"`
	Errored          bool                     `json:"errored"`
	PriorState       rawValue                 `json:"prior_state"`
}

// lazyResourceChange decodes a resource change's address eagerly and its values only for the
// drifted resources that need them.
type lazyResourceChange struct {
	Address string         `json:"address"`
	Mode    string         `json:"mode"`
	Change  lazyChangeBody `json:"change"`
	// Type, ProviderName, Deposed and ActionReason are for reconcile (dependency.go).
	Type         string `json:"type"`
	ProviderName string `json:"provider_name"`
	Deposed      string `json:"deposed"`
	ActionReason string `json:"action_reason"`
}

type lazyChangeBody struct {
	Actions      tfjson.Actions `json:"actions"`
	After        rawValue       `json:"after"`
	AfterUnknown rawValue       `json:"after_unknown"`
	// AfterSensitive masks After's sensitive values; only Resources reads it (Observations
	// redact with resource_drift's masks).
	AfterSensitive rawValue `json:"after_sensitive"`
	// Before and BeforeSensitive are read only by reconcile, for a planned change's origin.
	Before          rawValue `json:"before"`
	BeforeSensitive rawValue `json:"before_sensitive"`
}

// rawValue keeps the bytes of a JSON value. encoding/json hands UnmarshalJSON a slice of the
// caller's input, which Read keeps alive and never mutates, so no copy is needed.
type rawValue []byte

func (r *rawValue) UnmarshalJSON(b []byte) error { *r = b; return nil }

// ErrNotPlan is wrapped by errors for input that is JSON but not a plan.
var ErrNotPlan = errors.New("not a plan")

// ErrTooLarge is wrapped by errors for input over the size bound (see WithMaxBytes).
var ErrTooLarge = errors.New("input too large")

// DefaultMaxBytes bounds a plan or state file unless WithMaxBytes says otherwise: far above
// any real plan (a 10,000-resource plan is ~50 MB), far below what would exhaust a runner.
const DefaultMaxBytes int64 = 256 << 20

// MinFormatVersion is the oldest plan format read: 1.0 (Terraform 1.1 and later, every OpenTofu).
// Older formats come from Terraform releases whose drift reporting (resource_drift appeared in
// 0.15.4) driftplane does not rely on: a drift left out would read as clean.
const MinFormatVersion = "1.0"

// ReadFile reads and decodes a plan file of at most the size bound. Every failure names the file:
// a plan that cannot be read is unknown, never clean.
func ReadFile(path string, opts ...Option) (*Plan, error) {
	o := collect(opts)
	data, err := readFile("plan", path, o.maxBytes)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("plan file %s does not exist (write it with `tofu plan -out=plan.bin && tofu show -json plan.bin > %s`)", path, path)
		case errors.Is(err, fs.ErrPermission):
			return nil, fmt.Errorf("plan file %s is not readable: %w", path, err)
		case errors.Is(err, ErrTooLarge):
			return nil, err
		}
		return nil, fmt.Errorf("plan file %s: %w", path, err)
	}
	return Read(path, data, opts...)
}

// readFile reads at most max bytes of a local file and fails, naming it, when there are more.
func readFile(what, path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > max {
		return nil, tooLarge(what, path, max)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, tooLarge(what, path, max)
	}
	return data, nil
}

func tooLarge(what, name string, max int64) error {
	return fmt.Errorf("%s file %s is larger than %d bytes, the bound on %s input: %w", what, name, max, what, ErrTooLarge)
}

// Option configures Read, ReadFile and StateIDs.
type Option func(*options)

type options struct {
	digester *drift.Digester
	maxBytes int64
	schemas  *ProviderSchemas
	// providerVersions, when set, marks drift of resources whose provider was upgraded.
	providerVersions *ProviderVersions
	// providerConstraints reports providers without a version constraint (WithProviderConstraints).
	providerConstraints bool
	// applyLog adds the failures of the unit's last apply (WithApplyLog).
	applyLog *ApplyLog
}

func collect(opts []Option) options {
	o := options{maxBytes: DefaultMaxBytes}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxBytes <= 0 {
		o.maxBytes = DefaultMaxBytes
	}
	return o
}

// WithDigester digests sensitive values with the installation's key (see package digestkey).
func WithDigester(d *drift.Digester) Option { return func(o *options) { o.digester = d } }

// WithMaxBytes bounds the input (DefaultMaxBytes when n <= 0).
func WithMaxBytes(n int64) Option { return func(o *options) { o.maxBytes = n } }

// checkFormatVersion accepts plan format 1.x from MinFormatVersion on: an older plan may leave
// drift out, a newer major may move it where this reader does not look. Either would read clean.
func checkFormatVersion(v string) error {
	if v == "" {
		return errors.New("unexpected plan input, format version is missing")
	}
	maj, min, ok := strings.Cut(v, ".")
	major, err1 := strconv.Atoi(maj)
	minor, err2 := strconv.Atoi(min)
	if !ok || err1 != nil || err2 != nil || major < 0 || minor < 0 {
		return fmt.Errorf("invalid format version %q (want MAJOR.MINOR)", v)
	}
	switch {
	case major < 1:
		return fmt.Errorf("plan format_version %q is older than %s, the oldest plan format driftplane reads (drift may be missing from it): plan again with OpenTofu or Terraform >= 1.1", v, MinFormatVersion)
	case major > 1:
		return fmt.Errorf("unsupported plan format version %q: this driftplane reads format 1.x; a newer major may report drift where it does not look, so upgrade driftplane", v)
	}
	return nil
}

// Read decodes plan JSON. name is used in messages.
func Read(name string, data []byte, opts ...Option) (*Plan, error) {
	o := collect(opts)
	if int64(len(data)) > o.maxBytes {
		return nil, tooLarge("plan", name, o.maxBytes)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("plan file %s is empty", name)
	}
	if t := bytes.TrimSpace(data); t[0] != '{' {
		return nil, fmt.Errorf("plan file %s is not JSON (is it the binary plan? convert it with `tofu show -json`): %w", name, ErrNotPlan)
	}
	// Refuse hostile nesting before the decoder spends memory on it.
	if err := drift.CheckJSONDepth(data, drift.MaxJSONDepth); err != nil {
		return nil, fmt.Errorf("plan file %s: %w: %w", name, err, ErrNotPlan)
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
		return nil, fmt.Errorf("plan file %s does not have the shape of `tofu show -json` plan output: %w: %w", name, err, ErrNotPlan)
	}
	if doc.PlannedValues == nil {
		if doc.Values {
			return nil, fmt.Errorf("plan file %s holds a state (`tofu show -json` without a plan file), not a plan: %w", name, ErrNotPlan)
		}
		if doc.FormatVersion == "" {
			return nil, fmt.Errorf("plan file %s: unexpected plan input, format version is missing: %w", name, ErrNotPlan)
		}
		return nil, fmt.Errorf("plan file %s has no planned_values: %w", name, ErrNotPlan)
	}
	if err := checkFormatVersion(doc.FormatVersion); err != nil {
		return nil, fmt.Errorf("plan file %s: %w: %w", name, err, ErrNotPlan)
	}
	switch {
	case isNull(doc.PlannedValues):
		return nil, fmt.Errorf("plan file %s has planned_values null: %w", name, ErrNotPlan)
	case !isObject(doc.PlannedValues):
		return nil, fmt.Errorf("plan file %s has planned_values that is not an object: %w", name, ErrNotPlan)
	}
	if doc.Errored {
		return nil, fmt.Errorf("plan file %s is from a plan that errored; its drift is unknown, not clean — fix the plan errors and plan again", name)
	}
	if len(doc.ResourceDrift) == 0 && len(doc.ResourceChanges) == 0 {
		// No drift and no changes would read as clean, so the file must show it is a whole plan:
		// `tofu show -json` leaves both lists out when they are empty, but always writes
		// planned_values.root_module and the configuration (checked against OpenTofu 1.10:
		// testdata/clean-*.json).
		if err := wholePlan(doc); err != nil {
			return nil, fmt.Errorf("plan file %s has neither resource_drift nor resource_changes, and %w, so it is not the `tofu show -json` output of a plan: %w", name, err, ErrNotPlan)
		}
	}
	sum := sha256.Sum256(data)
	p := &Plan{
		Digest:           "sha256:" + hex.EncodeToString(sum[:]),
		Size:             int64(len(data)),
		Path:             name,
		FormatVersion:    doc.FormatVersion,
		TerraformVersion: doc.TerraformVersion,
		Timestamp:        doc.Timestamp,
		priorState:       doc.PriorState,
		digester:         o.digester,
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
	p.changes = changes
	var exprs map[string]map[string]any
	if len(doc.ResourceDrift) > 0 {
		exprs = resourceExpressions(doc.Configuration)
	}
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
			attach(obs, rd, exprs, o.schemas)
			p.Observations = append(p.Observations, *obs)
		}
	}
	if err := reconcile(p, &doc, data, o); err != nil {
		return nil, err
	}
	sort.SliceStable(p.Observations, func(i, j int) bool { return p.Observations[i].Ref < p.Observations[j].Ref })
	return p, nil
}

func isNull(b []byte) bool { return bytes.Equal(bytes.TrimSpace(b), []byte("null")) }

func isObject(b []byte) bool {
	t := bytes.TrimSpace(b)
	return len(t) > 0 && t[0] == '{'
}

// wholePlan checks what every real plan carries: planned_values.root_module and a configuration
// with a root_module (objects, never null).
func wholePlan(doc planDocument) error {
	var pv, cfg struct {
		RootModule rawValue `json:"root_module"`
	}
	if err := json.Unmarshal(doc.PlannedValues, &pv); err != nil || !isObject(pv.RootModule) {
		return errors.New("planned_values has no root_module object")
	}
	if !isObject(doc.Configuration) {
		return errors.New("it has no configuration object")
	}
	if err := json.Unmarshal(doc.Configuration, &cfg); err != nil || !isObject(cfg.RootModule) {
		return errors.New("its configuration has no root_module object")
	}
	return nil
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

// ReadLocation reads a plan from a local file (ReadFile, with its messages) or an S3 object.
func ReadLocation(ctx context.Context, loc *blob.Location, opts ...Option) (*Plan, error) {
	if !loc.IsS3() {
		return ReadFile(loc.Path(), opts...)
	}
	data, err := loc.ReadAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("plan file %w", err)
	}
	return Read(loc.String(), data, opts...)
}
