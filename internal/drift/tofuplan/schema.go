package tofuplan

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
)

// DefaultMaxSchemaBytes bounds a provider schema file: the largest real one (hashicorp/aws, with
// every resource and data source) is a few tens of MB.
const DefaultMaxSchemaBytes int64 = 128 << 20

// ProviderSchemas is what driftplane keeps of `tofu providers schema -json`: per provider and
// resource type, the attributes the provider computes and never takes from configuration. A
// schema file is input like a plan: its claims only drop changes on the terms of
// drift.ComputedAttr.
type ProviderSchemas struct {
	// Path names the input in messages and evidence.
	Path string
	// Digest is sha256:<hex> of the file's bytes and Size their count, for evidence records.
	Digest string
	Size   int64

	byProvider map[string]map[string][]drift.ComputedAttr
	// byType is for a plan whose provider addresses differ from the schema's (a different
	// registry host); a type two providers define is left out of it.
	byType map[string][]drift.ComputedAttr
}

type schemaDocument struct {
	FormatVersion   string                     `json:"format_version"`
	ProviderSchemas map[string]*providerSchema `json:"provider_schemas"`
}

type providerSchema struct {
	ResourceSchemas map[string]*resourceSchema `json:"resource_schemas"`
}

type resourceSchema struct {
	Block *schemaBlock `json:"block"`
}

type schemaBlock struct {
	Attributes map[string]*schemaAttribute `json:"attributes"`
	BlockTypes map[string]*schemaBlockType `json:"block_types"`
}

type schemaAttribute struct {
	Type       json.RawMessage `json:"type"`
	NestedType *nestedType     `json:"nested_type"`
	Computed   bool            `json:"computed"`
	Optional   bool            `json:"optional"`
	Required   bool            `json:"required"`
}

type nestedType struct {
	Attributes  map[string]*schemaAttribute `json:"attributes"`
	NestingMode string                      `json:"nesting_mode"`
}

type schemaBlockType struct {
	NestingMode string       `json:"nesting_mode"`
	Block       *schemaBlock `json:"block"`
}

// ReadProviderSchemasFile reads `tofu providers schema -json` output of at most the size bound
// (WithMaxBytes, else DefaultMaxSchemaBytes).
func ReadProviderSchemasFile(path string, opts ...Option) (*ProviderSchemas, error) {
	o := collectSchema(opts)
	data, err := readFile("provider schema", path, o.maxBytes)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("provider schema file %s does not exist (write it with `tofu providers schema -json > %s` in the stack after `tofu init`)", path, path)
		case errors.Is(err, ErrTooLarge):
			return nil, err
		}
		return nil, fmt.Errorf("provider schema file %s: %w", path, err)
	}
	return ReadProviderSchemas(path, data, opts...)
}

// ReadProviderSchemasLocation reads a provider schema from a local file or an S3 object.
func ReadProviderSchemasLocation(ctx context.Context, loc *blob.Location, opts ...Option) (*ProviderSchemas, error) {
	if !loc.IsS3() {
		return ReadProviderSchemasFile(loc.Path(), opts...)
	}
	data, err := loc.ReadAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("provider schema file %w", err)
	}
	return ReadProviderSchemas(loc.String(), data, opts...)
}

func collectSchema(opts []Option) options {
	o := options{maxBytes: DefaultMaxSchemaBytes}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxBytes <= 0 {
		o.maxBytes = DefaultMaxSchemaBytes
	}
	return o
}

// ReadProviderSchemas decodes `tofu providers schema -json` output. name is used in messages.
func ReadProviderSchemas(name string, data []byte, opts ...Option) (*ProviderSchemas, error) {
	o := collectSchema(opts)
	if int64(len(data)) > o.maxBytes {
		return nil, tooLarge("provider schema", name, o.maxBytes)
	}
	t := bytes.TrimSpace(data)
	if len(t) == 0 || t[0] != '{' {
		return nil, fmt.Errorf("provider schema file %s is not a JSON object (`tofu providers schema -json` output)", name)
	}
	if err := drift.CheckJSONDepth(data, drift.MaxJSONDepth); err != nil {
		return nil, fmt.Errorf("provider schema file %s: %w", name, err)
	}
	var doc schemaDocument
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("provider schema file %s does not have the shape of `tofu providers schema -json` output: %w", name, err)
	}
	maj, _, _ := strings.Cut(doc.FormatVersion, ".")
	if doc.FormatVersion == "" || maj != "1" {
		return nil, fmt.Errorf("provider schema file %s: format_version %q is not 1.x (is it `tofu providers schema -json` output?)", name, doc.FormatVersion)
	}
	// A stack without providers has none: OpenTofu then leaves provider_schemas out, and the
	// document holds nothing but its format_version. Any other document without them (a plan
	// given by mistake) is refused.
	if doc.ProviderSchemas == nil {
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(data, &keys); err != nil || len(keys) != 1 {
			return nil, fmt.Errorf("provider schema file %s has no provider_schemas (is it `tofu providers schema -json` output?)", name)
		}
	}
	sum := sha256.Sum256(data)
	s := &ProviderSchemas{
		Path:       name,
		Digest:     "sha256:" + hex.EncodeToString(sum[:]),
		Size:       int64(len(data)),
		byProvider: map[string]map[string][]drift.ComputedAttr{},
		byType:     map[string][]drift.ComputedAttr{},
	}
	ambiguous := map[string]bool{}
	providers := make([]string, 0, len(doc.ProviderSchemas))
	for p := range doc.ProviderSchemas {
		providers = append(providers, p)
	}
	sort.Strings(providers)
	for _, p := range providers {
		ps := doc.ProviderSchemas[p]
		if ps == nil {
			continue
		}
		types := map[string][]drift.ComputedAttr{}
		for typ, rs := range ps.ResourceSchemas {
			if rs == nil || rs.Block == nil {
				continue
			}
			attrs := computedInBlock(rs.Block, drift.Pointer{})
			sort.Slice(attrs, func(i, j int) bool { return attrs[i].Path.String() < attrs[j].Path.String() })
			types[typ] = attrs
			if _, dup := s.byType[typ]; dup {
				ambiguous[typ] = true
			}
			s.byType[typ] = attrs
		}
		s.byProvider[p] = types
	}
	for typ := range ambiguous {
		delete(s.byType, typ)
	}
	return s, nil
}

// computedInBlock lists a block's computed, not optional attributes as path patterns ("*" for
// a list, set or map nesting), down its nested blocks and nested attribute types.
func computedInBlock(b *schemaBlock, at drift.Pointer) []drift.ComputedAttr {
	var out []drift.ComputedAttr
	for name, a := range b.Attributes {
		out = append(out, computedAttribute(name, a, at)...)
	}
	for name, bt := range b.BlockTypes {
		if bt == nil || bt.Block == nil {
			continue
		}
		if p, ok := nested(at.Child(name), bt.NestingMode); ok {
			out = append(out, computedInBlock(bt.Block, p)...)
		}
	}
	return out
}

func computedAttribute(name string, a *schemaAttribute, at drift.Pointer) []drift.ComputedAttr {
	if a == nil {
		return nil
	}
	p := at.Child(name)
	if a.NestedType != nil {
		np, ok := nested(p, a.NestedType.NestingMode)
		if !ok {
			return nil
		}
		var out []drift.ComputedAttr
		for n, na := range a.NestedType.Attributes {
			if a.Computed && !a.Optional && !a.Required && na != nil {
				// Every attribute of a computed-only nested attribute is the provider's.
				na = &schemaAttribute{Type: na.Type, NestedType: na.NestedType, Computed: true}
			}
			out = append(out, computedAttribute(n, na, np)...)
		}
		return out
	}
	if !a.Computed || a.Optional || a.Required {
		return nil
	}
	shape, ok := attributeShape(a.Type)
	if !ok {
		// An object or a collection of objects is never taken for bookkeeping: that is the
		// shape of what a fake schema would claim to hide a block (rules, ingress).
		return nil
	}
	return []drift.ComputedAttr{{Path: p, Shape: shape}}
}

// nested extends a path by a nesting mode's index token.
func nested(p drift.Pointer, mode string) (drift.Pointer, bool) {
	switch mode {
	case "single", "group":
		return p, true
	case "list", "set", "map":
		return p.Child("*"), true
	}
	return nil, false
}

// attributeShape classifies a cty type in its JSON form: a primitive is a scalar, a map, list or
// set of a primitive a collection; anything else is not learned.
func attributeShape(raw json.RawMessage) (drift.ComputedShape, bool) {
	var prim string
	if json.Unmarshal(raw, &prim) == nil {
		return drift.ComputedScalar, isPrimitive(prim)
	}
	var coll []json.RawMessage
	if json.Unmarshal(raw, &coll) != nil || len(coll) != 2 {
		return 0, false
	}
	var kind, elem string
	if json.Unmarshal(coll[0], &kind) != nil || json.Unmarshal(coll[1], &elem) != nil {
		return 0, false
	}
	switch kind {
	case "map", "list", "set":
		return drift.ComputedCollection, isPrimitive(elem)
	}
	return 0, false
}

func isPrimitive(t string) bool { return t == "string" || t == "number" || t == "bool" }

// ComputedFor returns the computed attributes of a resource type of a provider (its address as
// plans write it, registry.opentofu.org/hashicorp/kubernetes); when the schema has no such
// provider, those of the one provider that defines the type.
func (s *ProviderSchemas) ComputedFor(provider, resourceType string) []drift.ComputedAttr {
	if s == nil {
		return nil
	}
	if types, ok := s.byProvider[provider]; ok {
		return types[resourceType]
	}
	if alt, ok := s.byProvider[otherRegistry(provider)]; ok {
		return alt[resourceType]
	}
	return s.byType[resourceType]
}

// otherRegistry maps a provider address between the OpenTofu and Terraform registries, which
// serve the same providers under the same names.
func otherRegistry(provider string) string {
	const tofu, tf = "registry.opentofu.org/", "registry.terraform.io/"
	switch {
	case strings.HasPrefix(provider, tofu):
		return tf + strings.TrimPrefix(provider, tofu)
	case strings.HasPrefix(provider, tf):
		return tofu + strings.TrimPrefix(provider, tf)
	}
	return provider
}

// Count is how many resource types carry learned computed attributes, for messages.
func (s *ProviderSchemas) Count() int {
	n := 0
	for _, types := range s.byProvider {
		for _, attrs := range types {
			if len(attrs) > 0 {
				n++
			}
		}
	}
	return n
}

// attach gives an observation its resource's configuration expressions and the computed
// attributes its provider's schema names.
func attach(obs *drift.Observation, rd *tfjson.ResourceChange, exprs map[string]map[string]any, schemas *ProviderSchemas) {
	if e, ok := exprs[configAddress(rd.Address)]; ok {
		obs.Configuration = e
	}
	obs.Computed = schemas.ComputedFor(rd.ProviderName, obs.Type)
}

// WithProviderSchemas lets Read learn computed attributes from the providers' schemas.
func WithProviderSchemas(s *ProviderSchemas) Option { return func(o *options) { o.schemas = s } }

// configAddress is a resource instance address without instance keys, as the plan's configuration
// section names the resource: module.a["x"].aws_s3_bucket.b[0] is module.a.aws_s3_bucket.b.
func configAddress(addr string) string {
	var b strings.Builder
	depth := 0
	inQuote := false
	for i := 0; i < len(addr); i++ {
		c := addr[i]
		switch {
		case inQuote:
			switch c {
			case '\\':
				i++
			case '"':
				inQuote = false
			}
			continue
		case depth > 0 && c == '"':
			inQuote = true
			continue
		case c == '[':
			depth++
			continue
		case c == ']':
			if depth > 0 {
				depth--
			}
			continue
		}
		if depth == 0 {
			b.WriteByte(c)
		}
	}
	return b.String()
}

type configModule struct {
	Resources []struct {
		Address     string         `json:"address"`
		Mode        string         `json:"mode"`
		Expressions map[string]any `json:"expressions"`
	} `json:"resources"`
	ModuleCalls map[string]struct {
		Module *configModule `json:"module"`
	} `json:"module_calls"`
}

// resourceExpressions maps each managed resource's configuration address to its expressions.
// A configuration that does not decode yields none: every computed claim then needs the table.
func resourceExpressions(raw rawValue) map[string]map[string]any {
	if !isObject(raw) {
		return nil
	}
	var cfg struct {
		RootModule *configModule `json:"root_module"`
	}
	if json.Unmarshal(raw, &cfg) != nil || cfg.RootModule == nil {
		return nil
	}
	out := map[string]map[string]any{}
	var walk func(m *configModule, prefix string)
	walk = func(m *configModule, prefix string) {
		for _, r := range m.Resources {
			if r.Mode != "" && r.Mode != "managed" {
				continue
			}
			if r.Expressions == nil {
				// A resource with no arguments at all: nothing is set.
				r.Expressions = map[string]any{}
			}
			out[prefix+r.Address] = r.Expressions
		}
		names := make([]string, 0, len(m.ModuleCalls))
		for n := range m.ModuleCalls {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if mc := m.ModuleCalls[n]; mc.Module != nil {
				walk(mc.Module, prefix+"module."+n+".")
			}
		}
	}
	walk(cfg.RootModule, "")
	return out
}
