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
)

// GroupName is driftplane's API group.
const GroupName = "drift.driftplane.io"

// APIVersion is the apiVersion of every policy document.
const APIVersion = GroupName + "/v1alpha1"

// Policy document kinds.
const (
	KindManagedUnit    = "DriftManagedUnit"
	KindOwnershipRule  = "DriftOwnershipRule"
	KindException      = "DriftException"
	KindAutoHealPolicy = "AutoHealPolicy"
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

// UnitSpec is the policy part of a DriftManagedUnit.
type UnitSpec struct {
	// Kind is opentofu-stack or kubernetes; kubernetes when omitted in YAML (the Argo CD side).
	Kind        string `json:"kind,omitempty"`
	Owner       string `json:"owner"`
	Environment string `json:"environment"`
	RiskTier    string `json:"riskTier"`
	// Gate is the lowest risk that fails a plan or degrades an application; "none" never does.
	Gate         string `json:"gate,omitempty"`
	Source       string `json:"source,omitempty"`
	StateBackend string `json:"stateBackend,omitempty"`
	Schedule     string `json:"schedule,omitempty"`
	// AutoHeal lets findings whose decision allows it be healed without a human.
	AutoHeal bool `json:"autoHeal,omitempty"`
	// IncidentRequired makes every unexplained manual change an incident, not just a revert.
	IncidentRequired bool `json:"incidentRequired,omitempty"`
	// BreakGlassGroups are the identity groups whose members make emergency changes.
	BreakGlassGroups []string `json:"breakGlassGroups,omitempty"`
	// MaxExceptionDays bounds how far ahead of the evaluation an exception may expire (default
	// 90, at most 365).
	MaxExceptionDays int `json:"maxExceptionDays,omitempty"`
	// Appliers are extra Kubernetes field managers that apply Git's desired state.
	Appliers []string `json:"appliers,omitempty"`
	// ApplierIdentities are the audit-log usernames (globs) the GitOps applier writes as, e.g.
	// system:serviceaccount:argocd:argocd-application-controller. With an audit log, a write under
	// an applier's field-manager name by any other identity is a person's change, not a pending sync.
	ApplierIdentities []string `json:"applierIdentities,omitempty"`
	// ControllerIdentities maps a controller's field-manager name (glob) to the audit-log usernames
	// (globs) it writes as. With an audit log, a field Git declares is controller-owned only when the
	// write came from a service account or system identity, and, when the manager is listed here,
	// from one of its identities.
	ControllerIdentities map[string][]string `json:"controllerIdentities,omitempty"`
	OwnershipRules       []OwnershipRule     `json:"ownershipRules,omitempty"`
	DomainOverrides      []DomainOverride    `json:"domainOverrides,omitempty"`
	ResourceDomains      map[string]string   `json:"resourceDomains,omitempty"`
}

// OwnershipRule says who owns which paths of the resources it matches. Paths not named by any
// rule are owned by Git.
type OwnershipRule struct {
	Name            string           `json:"name,omitempty"`
	Resource        ResourceMatch    `json:"resource"`
	GitOwned        []string         `json:"gitOwned,omitempty"`
	RuntimeOwned    []string         `json:"runtimeOwned,omitempty"`
	ControllerOwned []ControllerPath `json:"controllerOwned,omitempty"`
}

// ResourceMatch selects resources: OpenTofu ones by type and/or address, Kubernetes ones by
// group, kind, namespace, name and labels. "*" globs within one segment.
type ResourceMatch struct {
	Type      string            `json:"type,omitempty"`
	Address   string            `json:"address,omitempty"`
	Group     string            `json:"group,omitempty"`
	Kind      string            `json:"kind,omitempty"`
	Namespace string            `json:"namespace,omitempty"`
	Name      string            `json:"name,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// MatchesObject reports whether a Kubernetes selector selects an object. OpenTofu selectors
// (type, address) never match Kubernetes objects.
func (m ResourceMatch) MatchesObject(group, kind, namespace, name string, labels map[string]string) bool {
	if m.Type != "" || m.Address != "" || m.Kind == "" {
		return false
	}
	return ruleMatches(m, &Observation{Group: group, Kind: kind, Namespace: namespace, Name: name, Labels: labels})
}

// ControllerPath is a path owned by a named controller, optionally only under a condition
// (documentation for humans today; e.g. "an HPA targets this Deployment").
type ControllerPath struct {
	Path      string `json:"path"`
	Owner     string `json:"owner"`
	Condition string `json:"condition,omitempty"`
}

// DomainOverride replaces the default decision for unexplained drift in one domain.
type DomainOverride struct {
	Domain   string `json:"domain"`
	Risk     string `json:"risk,omitempty"`
	Action   string `json:"action,omitempty"`
	AutoHeal *bool  `json:"autoHeal,omitempty"`
}

// Exception is a DriftException: a scoped, expiring acceptance of drift.
type Exception struct {
	APIVersion string        `json:"apiVersion"`
	Kind       string        `json:"kind"`
	Metadata   Metadata      `json:"metadata"`
	Spec       ExceptionSpec `json:"spec"`
}

// ExceptionSpec is the acceptance itself.
type ExceptionSpec struct {
	Unit string `json:"unit"`
	// Resource is an OpenTofu address or a Kubernetes group/kind/namespace/name reference; "*"
	// globs within one segment.
	Resource   string   `json:"resource"`
	Paths      []string `json:"paths,omitempty"`
	DriftClass string   `json:"driftClass"`
	Reason     string   `json:"reason"`
	Ticket     string   `json:"ticket,omitempty"`
	ApprovedBy string   `json:"approvedBy"`
	ExpiresAt  string   `json:"expiresAt"`
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

// AutoHealPolicySpec is the bound itself.
type AutoHealPolicySpec struct {
	AppliesTo    AutoHealScope `json:"appliesTo"`
	AllowedPaths []string      `json:"allowedPaths,omitempty"`
	DeniedPaths  []string      `json:"deniedPaths,omitempty"`
	// MaxObjectsPerReconcile bounds how many objects one reconcile may heal: unset means
	// DefaultMaxObjectsPerReconcile, 0 means heal nothing (never "unlimited").
	MaxObjectsPerReconcile *int `json:"maxObjectsPerReconcile,omitempty"`
	RequireHealthy         bool `json:"requireHealthyBeforeHeal,omitempty"`
	EvidenceRequired       bool `json:"evidenceRequired,omitempty"`
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

// AutoHealScope selects the objects an AutoHealPolicy applies to.
type AutoHealScope struct {
	Kinds      []string          `json:"kinds,omitempty"`
	Namespaces []string          `json:"namespaces,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
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

// DecodeDocuments decodes one or more YAML (or JSON) policy documents separated by "---".
// Unknown fields are errors, because a misspelt policy field that is silently ignored would
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
			u := &ManagedUnit{}
			if err := strictUnmarshal(js, u); err != nil {
				return nil, fmt.Errorf("%s (%s): %w", where, env.Kind, err)
			}
			b.Unit = u
		case KindException:
			e := &Exception{}
			if err := strictUnmarshal(js, e); err != nil {
				return nil, fmt.Errorf("%s (%s): %w", where, env.Kind, err)
			}
			b.Exceptions = append(b.Exceptions, e)
		case KindAutoHealPolicy:
			p := &AutoHealPolicy{}
			if err := strictUnmarshal(js, p); err != nil {
				return nil, fmt.Errorf("%s (%s): %w", where, env.Kind, err)
			}
			b.AutoHeal = append(b.AutoHeal, p)
		case KindOwnershipRule:
			r := &OwnershipRuleDoc{}
			if err := strictUnmarshal(js, r); err != nil {
				return nil, fmt.Errorf("%s (%s): %w", where, env.Kind, err)
			}
			b.OwnershipRules = append(b.OwnershipRules, r)
		default:
			return nil, fmt.Errorf("%s: unknown kind %q (want %s, %s, %s or %s)", where, env.Kind,
				KindManagedUnit, KindOwnershipRule, KindException, KindAutoHealPolicy)
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
	if b.Unit == nil || len(b.Exceptions)+len(b.AutoHeal)+len(b.OwnershipRules) > 0 {
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
	if len(b.Exceptions) != 1 || b.Unit != nil || len(b.AutoHeal)+len(b.OwnershipRules) > 0 {
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
