package drift

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	k8sjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
)

// GroupName is driftplane's API group.
const GroupName = v1alpha1.GroupName

// APIVersion is the apiVersion of every policy document.
const APIVersion = GroupName + "/" + v1alpha1.Version

// Policy document kinds.
const (
	KindManagedUnit    = v1alpha1.KindDriftManagedUnit
	KindOwnershipRule  = v1alpha1.KindDriftOwnershipRule
	KindException      = v1alpha1.KindDriftException
	KindAutoHealPolicy = v1alpha1.KindAutoHealPolicy
)

// Unit kinds.
const (
	UnitOpenTofuStack = "opentofu-stack"
	UnitKubernetes    = "kubernetes"
)

// Metadata is the part of a policy document's envelope we use.
type Metadata struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// ManagedUnit is a DriftManagedUnit: one stack or application whose drift is governed together.
type ManagedUnit struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Metadata   Metadata `json:"metadata"`
	Spec       UnitSpec `json:"spec"`
}

// The policy's spec types are the Kubernetes API's (api/v1alpha1), so a policy document, the
// DriftReport that carries it and the CRDs share one definition. The envelopes below stay here,
// with the core's methods; DecodeDocuments decodes into the API kinds and converts.
type (
	// UnitSpec is the policy part of a DriftManagedUnit.
	UnitSpec = v1alpha1.DriftManagedUnitSpec
	// OwnershipRule says who owns which paths of the resources it matches. Paths not named by any
	// rule are owned by Git.
	OwnershipRule = v1alpha1.OwnershipRule
	// ResourceMatch selects resources: OpenTofu ones by type and/or address, Kubernetes ones by
	// group, kind, namespace, name and labels. "*" globs within one segment.
	ResourceMatch = v1alpha1.ResourceMatch
	// ControllerPath is a path owned by a named controller, optionally only under a condition.
	ControllerPath = v1alpha1.ControllerPath
	// DomainOverride replaces the default decision for unexplained drift in one domain.
	DomainOverride = v1alpha1.DomainOverride
	// Budget is a unit's drift budget (see Budgets).
	Budget = v1alpha1.DriftBudget
	// BudgetObjective is a budget's SLO (target percent over a window).
	BudgetObjective = v1alpha1.BudgetObjective
	// ExceptionSpec is an exception's acceptance itself.
	ExceptionSpec = v1alpha1.DriftExceptionSpec
	// AutoHealPolicySpec is an auto-heal policy's bound itself.
	AutoHealPolicySpec = v1alpha1.AutoHealPolicySpec
	// AutoHealScope selects the objects an AutoHealPolicy applies to.
	AutoHealScope = v1alpha1.AutoHealScope
)

// Exception is a DriftException: a scoped, expiring acceptance of drift.
type Exception struct {
	APIVersion string        `json:"apiVersion"`
	Kind       string        `json:"kind"`
	Metadata   Metadata      `json:"metadata"`
	Spec       ExceptionSpec `json:"spec"`
}

// ID is the exception's name, which findings cite in accepted_by.
func (e *Exception) ID() string { return e.Metadata.Name }

// Expiry returns the parsed expiry; Validate guarantees it parses.
func (e *Exception) Expiry() time.Time {
	t, _ := time.Parse(time.RFC3339, e.Spec.ExpiresAt)
	return t
}

// Expired reports whether the exception has lapsed at now. An exception is inclusive of its
// expiry instant's past, not of the instant itself.
func (e *Exception) Expired(now time.Time) bool { return !now.Before(e.Expiry()) }

// AutoHealPolicy bounds what the Argo CD reporter may heal on its own.
type AutoHealPolicy struct {
	APIVersion string             `json:"apiVersion"`
	Kind       string             `json:"kind"`
	Metadata   Metadata           `json:"metadata"`
	Spec       AutoHealPolicySpec `json:"spec"`
}

// DefaultMaxObjectsPerReconcile bounds an AutoHealPolicy that sets no maxObjectsPerReconcile.
const DefaultMaxObjectsPerReconcile = 5

// MaxObjects is the policy's effective object bound per reconcile.
func (p *AutoHealPolicy) MaxObjects() int {
	if p == nil || p.Spec.MaxObjectsPerReconcile == nil {
		return DefaultMaxObjectsPerReconcile
	}
	if n := *p.Spec.MaxObjectsPerReconcile; n > 0 {
		return n
	}
	return 0
}

// OwnershipRuleDoc is a DriftOwnershipRule document: a rule shipped as its own YAML document and
// merged into the unit it sits beside.
type OwnershipRuleDoc struct {
	APIVersion string        `json:"apiVersion"`
	Kind       string        `json:"kind"`
	Metadata   Metadata      `json:"metadata"`
	Spec       OwnershipRule `json:"spec"`
}

// Bundle is everything decoded from one policy source (a folder of YAML, or HCL blocks).
type Bundle struct {
	Unit           *ManagedUnit
	Exceptions     []*Exception
	AutoHeal       []*AutoHealPolicy
	OwnershipRules []*OwnershipRuleDoc
	// RoutingPolicies are decoded strictly but judged by the routing package (route.New), which
	// sits above the core.
	RoutingPolicies []*v1alpha1.DriftRoutingPolicy
}

// CanonicalJSON is the stable serialisation used for policy_json, exception json, hashes and
// comparisons: encoding/json emits struct fields in declaration order and map keys sorted.
func CanonicalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

type envelope struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// DecodeDocuments decodes one or more YAML (or JSON) policy documents separated by "---" into the
// Kubernetes API's kinds (api/v1alpha1) and converts them. Unknown fields are errors, because a misspelt policy field that is silently ignored would
// weaken a gate. Errors name source, document index and field.
func DecodeDocuments(source string, data []byte) (*Bundle, error) {
	b := &Bundle{}
	for i, doc := range splitYAMLDocuments(data) {
		if len(bytes.TrimSpace(stripYAMLComments(doc))) == 0 {
			continue
		}
		where := fmt.Sprintf("%s: document %d", source, i+1)
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("%s: invalid YAML: %w", where, err)
		}
		if string(js) == "null" {
			continue
		}
		if err := CheckJSONDepth(js, MaxJSONDepth); err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		var env envelope
		if err := json.Unmarshal(js, &env); err != nil {
			return nil, fmt.Errorf("%s: not a policy object: %w", where, err)
		}
		if env.APIVersion != APIVersion {
			return nil, fmt.Errorf("%s: apiVersion %q is not %q", where, env.APIVersion, APIVersion)
		}
		switch env.Kind {
		case KindManagedUnit:
			if b.Unit != nil {
				return nil, fmt.Errorf("%s: a second %s; one source holds one unit", where, KindManagedUnit)
			}
			u := &v1alpha1.DriftManagedUnit{}
			if err := strictUnmarshal(js, u); err != nil {
				return nil, fmt.Errorf("%s (%s): %w", where, env.Kind, err)
			}
			b.Unit = UnitFromAPI(u)
		case KindException:
			e := &v1alpha1.DriftException{}
			if err := strictUnmarshal(js, e); err != nil {
				return nil, fmt.Errorf("%s (%s): %w", where, env.Kind, err)
			}
			b.Exceptions = append(b.Exceptions, ExceptionFromAPI(e))
		case KindAutoHealPolicy:
			p := &v1alpha1.AutoHealPolicy{}
			if err := strictUnmarshal(js, p); err != nil {
				return nil, fmt.Errorf("%s (%s): %w", where, env.Kind, err)
			}
			b.AutoHeal = append(b.AutoHeal, AutoHealPolicyFromAPI(p))
		case KindOwnershipRule:
			r := &v1alpha1.DriftOwnershipRule{}
			if err := strictUnmarshal(js, r); err != nil {
				return nil, fmt.Errorf("%s (%s): %w", where, env.Kind, err)
			}
			b.OwnershipRules = append(b.OwnershipRules, OwnershipRuleDocFromAPI(r))
		case v1alpha1.KindDriftRoutingPolicy:
			p := &v1alpha1.DriftRoutingPolicy{}
			if err := strictUnmarshal(js, p); err != nil {
				return nil, fmt.Errorf("%s (%s): %w", where, env.Kind, err)
			}
			b.RoutingPolicies = append(b.RoutingPolicies, p)
		default:
			return nil, fmt.Errorf("%s: unknown kind %q (want %s, %s, %s, %s or %s)", where, env.Kind,
				KindManagedUnit, KindOwnershipRule, KindException, KindAutoHealPolicy, v1alpha1.KindDriftRoutingPolicy)
		}
	}
	return b, nil
}

// DecodeUnit decodes exactly one DriftManagedUnit (JSON or YAML) and validates it.
func DecodeUnit(source string, data []byte) (*ManagedUnit, error) {
	b, err := DecodeDocuments(source, data)
	if err != nil {
		return nil, err
	}
	if b.Unit == nil || len(b.Exceptions)+len(b.AutoHeal)+len(b.OwnershipRules)+len(b.RoutingPolicies) > 0 {
		return nil, fmt.Errorf("%s: want exactly one %s document", source, KindManagedUnit)
	}
	if err := b.Unit.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return b.Unit, nil
}

// DecodeException decodes exactly one DriftException (JSON or YAML) and validates it.
func DecodeException(source string, data []byte) (*Exception, error) {
	b, err := DecodeDocuments(source, data)
	if err != nil {
		return nil, err
	}
	if len(b.Exceptions) != 1 || b.Unit != nil || len(b.AutoHeal)+len(b.OwnershipRules)+len(b.RoutingPolicies) > 0 {
		return nil, fmt.Errorf("%s: want exactly one %s document", source, KindException)
	}
	if err := b.Exceptions[0].Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return b.Exceptions[0], nil
}

func strictUnmarshal(js []byte, v any) error {
	// sigs.k8s.io/json names the full path of an unknown or duplicate field (spec.riskTeir), which
	// encoding/json does not.
	strict, err := k8sjson.UnmarshalStrict(js, v)
	if err != nil {
		return cleanJSONError(err)
	}
	if len(strict) > 0 {
		msgs := make([]string, len(strict))
		for i, e := range strict {
			msgs[i] = e.Error()
		}
		return fmt.Errorf("%s", strings.Join(msgs, "; "))
	}
	return nil
}

// cleanJSONError turns encoding/json's Go-flavoured messages into ones naming the field.
func cleanJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "(document)"
		}
		return fmt.Errorf("field %s: expected %s, got a %s", field, jsonTypeName(te.Type.Kind().String()), te.Value)
	}
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "json: ")
	return fmt.Errorf("%s", msg)
}

func jsonTypeName(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "a list"
	case "map", "struct", "ptr":
		return "an object"
	case "int", "int64", "float64":
		return "a number"
	}
	return goKind
}

// splitYAMLDocuments splits on lines that are exactly "---" (optionally followed by a comment),
// which is what multi-document YAML files use in practice.
func splitYAMLDocuments(data []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		trimmed := bytes.TrimRight(line, " \t\r\n")
		if bytes.Equal(trimmed, []byte("---")) || bytes.HasPrefix(trimmed, []byte("--- #")) {
			docs = append(docs, append([]byte(nil), cur.Bytes()...))
			cur.Reset()
			continue
		}
		cur.Write(line)
	}
	docs = append(docs, cur.Bytes())
	return docs
}

func stripYAMLComments(doc []byte) []byte {
	var out bytes.Buffer
	for _, line := range bytes.Split(doc, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if len(t) == 0 || t[0] == '#' {
			continue
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// MergeOwnershipRules folds separate DriftOwnershipRule documents into the unit, sorted by name
// so the result does not depend on file order.
func (b *Bundle) MergeOwnershipRules() {
	if b.Unit == nil || len(b.OwnershipRules) == 0 {
		return
	}
	docs := append([]*OwnershipRuleDoc(nil), b.OwnershipRules...)
	sort.SliceStable(docs, func(i, j int) bool { return docs[i].Metadata.Name < docs[j].Metadata.Name })
	for _, d := range docs {
		r := d.Spec
		if r.Name == "" {
			r.Name = d.Metadata.Name
		}
		b.Unit.Spec.OwnershipRules = append(b.Unit.Spec.OwnershipRules, r)
	}
	b.OwnershipRules = nil
}
