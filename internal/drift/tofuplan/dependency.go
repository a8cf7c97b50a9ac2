package tofuplan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// reconcileDocument is what the dependency, failure and mutable-reference checks read of a
// plan: parts of planDocument, whose values stay raw until a resource needs them.
type reconcileDocument struct {
	ResourceChanges []*lazyResourceChange
	Configuration   rawValue
	PriorState      rawValue
}

// reconcile adds to p the observations that are not drift between the planes: failed
// reconciliation (tainted or deposed objects, in any plan), and, in a normal plan, dependency
// drift and mutable references. It also marks drift of resources whose provider was upgraded.
func reconcile(p *Plan, plan *planDocument, data []byte, o options) error {
	// Only a plan that mentions them can hold tainted or deposed objects: the prior state is not
	// decoded for the others.
	failures := bytes.Contains(data, []byte(`"tainted"`)) || bytes.Contains(data, []byte(`"deposed`))
	if p.RefreshOnly && !failures && o.providerVersions == nil && o.applyLog == nil {
		return nil
	}
	doc := reconcileDocument{ResourceChanges: plan.ResourceChanges, Configuration: plan.Configuration, PriorState: plan.PriorState}
	drifted := map[string]bool{}
	providers := map[string]string{}
	for _, rd := range plan.ResourceDrift {
		if rd != nil {
			drifted[rd.Address] = true
			providers[rd.Address] = rd.ProviderName
		}
	}
	var extra []drift.Observation
	if failures {
		fs, err := failedObservations(doc)
		if err != nil {
			return fmt.Errorf("plan file %s: %w", p.Path, err)
		}
		extra = append(extra, fs...)
	}
	if o.applyLog != nil {
		failed := map[string]bool{}
		for _, obs := range extra {
			failed[obs.Ref] = true
		}
		for _, obs := range o.applyLog.Failures() {
			if !failed[obs.Ref] {
				extra = append(extra, obs)
			}
		}
	}
	if !p.RefreshOnly {
		exprs := resourceExpressions(doc.Configuration)
		for _, rc := range doc.ResourceChanges {
			obs, err := dependencyObservation(o.digester, rc, exprs, drifted)
			if err != nil {
				return fmt.Errorf("plan file %s: resource_changes (%s): %w", p.Path, rc.Address, err)
			}
			if obs != nil {
				extra = append(extra, *obs)
			}
		}
		extra = append(extra, mutableReferences(o.digester, doc, o.providerConstraints)...)
	}
	if pv := o.providerVersions; pv != nil {
		for i := range p.Observations {
			obs := &p.Observations[i]
			name := providers[obs.Ref]
			from, to := pv.Recorded[name], pv.Current[name]
			// Either version unknown: not judged (an upgrade is never assumed).
			if from != "" && to != "" && from != to {
				obs.ProviderUpgrade = &drift.ProviderUpgrade{Provider: name, From: from, To: to}
			}
		}
	}
	p.Observations = append(p.Observations, extra...)
	return nil
}

// failedObservations finds the objects the last apply left unconverged: prior_state resources
// recorded as tainted or deposed, and resource_changes that replace a tainted object or destroy
// a deposed one.
func failedObservations(doc reconcileDocument) ([]drift.Observation, error) {
	type key struct{ addr, reason, deposed string }
	seen := map[key]bool{}
	var out []drift.Observation
	add := func(addr, typ, reason, deposed string) {
		k := key{addr, reason, deposed}
		if addr == "" || seen[k] {
			return
		}
		seen[k] = true
		if typ == "" {
			typ = drift.ResourceType(addr)
		}
		out = append(out, drift.Observation{Ref: addr, Type: typ, Failure: &drift.ReconcileFailure{Reason: reason, Deposed: deposed}})
	}
	for _, rc := range doc.ResourceChanges {
		if rc == nil || (rc.Mode != "" && rc.Mode != string(tfjson.ManagedResourceMode)) {
			continue
		}
		switch {
		case rc.Deposed != "":
			add(rc.Address, rc.Type, drift.FailureDeposed, rc.Deposed)
		case rc.ActionReason == string(tfjson.ActionReasonReplaceBecauseTainted):
			add(rc.Address, rc.Type, drift.FailureTainted, "")
		}
	}
	if isObject(doc.PriorState) {
		var st struct {
			Values struct {
				RootModule *stateModule `json:"root_module"`
			} `json:"values"`
		}
		if err := json.Unmarshal(doc.PriorState, &st); err != nil {
			return nil, fmt.Errorf("prior_state: %w", err)
		}
		var walk func(m *stateModule, depth int)
		walk = func(m *stateModule, depth int) {
			if m == nil || depth > 64 {
				return
			}
			for _, r := range m.Resources {
				if r.Mode != "" && r.Mode != string(tfjson.ManagedResourceMode) {
					continue
				}
				switch {
				case r.DeposedKey != "":
					add(r.Address, r.Type, drift.FailureDeposed, r.DeposedKey)
				case r.Tainted:
					add(r.Address, r.Type, drift.FailureTainted, "")
				}
			}
			for _, c := range m.ChildModules {
				walk(c, depth+1)
			}
		}
		walk(st.Values.RootModule, 0)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out, nil
}

type stateModule struct {
	Resources []struct {
		Address    string `json:"address"`
		Mode       string `json:"mode"`
		Type       string `json:"type"`
		Tainted    bool   `json:"tainted"`
		DeposedKey string `json:"deposed_key"`
	} `json:"resources"`
	ChildModules []*stateModule `json:"child_modules"`
}

// dependencyObservation is a DependencyChange for a planned update or replacement that only the
// data sources the resource reads explain, or nil. Every changed attribute the configuration sets
// must reference a data source (attributes it does not set are the provider's consequence of the
// change), and the resource must not have drifted: a planned change that undoes an out-of-band
// edit looks exactly like one a data source causes, so a drifted resource is left to its drift
// finding and never relabelled.
func dependencyObservation(dg *drift.Digester, rc *lazyResourceChange, exprs map[string]map[string]any, drifted map[string]bool) (*drift.Observation, error) {
	if rc == nil || rc.Deposed != "" || drifted[rc.Address] || (rc.Mode != "" && rc.Mode != string(tfjson.ManagedResourceMode)) {
		return nil, nil
	}
	a := rc.Change.Actions
	if (!a.Update() && !a.Replace()) || rc.ActionReason == string(tfjson.ActionReasonReplaceBecauseTainted) ||
		rc.ActionReason == string(tfjson.ActionReasonReplaceByRequest) || rc.ActionReason == string(tfjson.ActionReasonReplaceByTriggers) {
		return nil, nil
	}
	cfg, ok := exprs[configAddress(rc.Address)]
	if !ok {
		// Without the resource's configuration nothing says what explains the change.
		return nil, nil
	}
	var before, after, unknown, bs, as any
	for _, f := range []struct {
		raw rawValue
		to  *any
	}{{rc.Change.Before, &before}, {rc.Change.After, &after}, {rc.Change.AfterUnknown, &unknown}, {rc.Change.BeforeSensitive, &bs}, {rc.Change.AfterSensitive, &as}} {
		if len(f.raw) > 0 {
			if err := json.Unmarshal(f.raw, f.to); err != nil {
				return nil, err
			}
		}
	}
	bm, _ := before.(map[string]any)
	am, _ := after.(map[string]any)
	if bm == nil || am == nil {
		return nil, nil
	}
	um, _ := unknown.(map[string]any)
	names := map[string]bool{}
	for k := range bm {
		names[k] = true
	}
	for k := range am {
		names[k] = true
	}
	sorted := make([]string, 0, len(names))
	for k := range names {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	prefix := modulePrefix(rc.Address)
	sources := map[string]bool{}
	var paths []drift.Pointer
	for _, k := range sorted {
		if !hasTrue(um[k]) && drift.Equivalent(bm[k], am[k]) {
			continue
		}
		e, set := cfg[k]
		if !set {
			continue
		}
		ds := dataSources(e, prefix)
		if len(ds) == 0 {
			// Something else the configuration sets changed: a Git change (or a variable's), not
			// dependency drift.
			return nil, nil
		}
		for _, d := range ds {
			sources[d] = true
		}
		paths = append(paths, drift.Pointer{k})
	}
	if len(paths) == 0 {
		return nil, nil
	}
	rb, sb := dg.Redact(before, bs, as)
	ra, sa := dg.Redact(after, bs, as)
	obs := &drift.Observation{Ref: rc.Address, Type: rc.Type, Recorded: rb, Actual: rb,
		SensitivePaths: drift.UnionPointers(sb, sa)}
	if obs.Type == "" {
		obs.Type = drift.ResourceType(rc.Address)
	}
	dep := &drift.DependencyChange{Paths: paths, Before: rb, After: ra}
	for d := range sources {
		dep.Sources = append(dep.Sources, d)
	}
	sort.Strings(dep.Sources)
	obs.Dependency = dep
	return obs, nil
}

func hasTrue(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case map[string]any:
		for _, e := range x {
			if hasTrue(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if hasTrue(e) {
				return true
			}
		}
	}
	return false
}

// modulePrefix is the module path of a resource instance address, without instance keys
// ("module.a.module.b."), as configuration references inside that module are relative to it.
func modulePrefix(addr string) string {
	c := configAddress(addr)
	if strings.HasPrefix(c, "data.") {
		return ""
	}
	i := strings.LastIndex(c, "module.")
	if i < 0 {
		return ""
	}
	rest := c[i+len("module."):]
	j := strings.IndexByte(rest, '.')
	if j < 0 {
		return ""
	}
	return c[:i+len("module.")+j+1]
}

// dataSources lists the data sources an attribute's expression (or a nested block's
// expressions) references, as configuration addresses under the module prefix. A
// terraform_remote_state output is a data source reference too.
func dataSources(expr any, prefix string) []string {
	set := map[string]bool{}
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > drift.MaxJSONDepth {
			return
		}
		switch x := v.(type) {
		case map[string]any:
			if refs, ok := x["references"].([]any); ok {
				for _, r := range refs {
					s, _ := r.(string)
					if d := dataAddress(s); d != "" {
						set[prefix+d] = true
					}
				}
			}
			for k, e := range x {
				if k != "references" && k != "constant_value" {
					walk(e, depth+1)
				}
			}
		case []any:
			for _, e := range x {
				walk(e, depth+1)
			}
		}
	}
	walk(expr, 0)
	out := make([]string, 0, len(set))
	for d := range set {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// dataAddress is "data.TYPE.NAME" of a reference into a data source, else "".
func dataAddress(ref string) string {
	parts := strings.SplitN(ref, ".", 4)
	if len(parts) < 3 || parts[0] != "data" {
		return ""
	}
	name := parts[2]
	if i := strings.IndexByte(name, '['); i >= 0 {
		name = name[:i]
	}
	if parts[1] == "" || name == "" {
		return ""
	}
	return "data." + parts[1] + "." + name
}

// Mutable references in configuration.

type configModuleCalls struct {
	ModuleCalls map[string]struct {
		Source            string             `json:"source"`
		VersionConstraint string             `json:"version_constraint"`
		Module            *configModuleCalls `json:"module"`
	} `json:"module_calls"`
}

type configProviders struct {
	ProviderConfig map[string]struct {
		FullName          string `json:"full_name"`
		Name              string `json:"name"`
		VersionConstraint string `json:"version_constraint"`
	} `json:"provider_config"`
	RootModule *configModuleCalls `json:"root_module"`
}

// mutableReferences finds what the configuration names that can move without a change in Git:
// module sources without a ref or version, image attributes without a digest whose tag is
// missing or "latest", and, when providers is set (WithProviderConstraints), providers without a
// version constraint.
func mutableReferences(dg *drift.Digester, doc reconcileDocument, providers bool) []drift.Observation {
	var out []drift.Observation
	var cfg configProviders
	if isObject(doc.Configuration) && json.Unmarshal(doc.Configuration, &cfg) == nil {
		if !providers {
			cfg.ProviderConfig = nil
		}
		constrained := map[string]bool{}
		names := map[string]bool{}
		for _, pc := range cfg.ProviderConfig {
			n := pc.FullName
			if n == "" {
				n = pc.Name
			}
			if n == "" || strings.HasPrefix(n, "terraform.io/builtin/") {
				continue
			}
			names[n] = true
			constrained[n] = constrained[n] || strings.TrimSpace(pc.VersionConstraint) != ""
		}
		for n := range names {
			if !constrained[n] {
				out = append(out, drift.Observation{Ref: fmt.Sprintf("provider[%q]", n), Type: "provider",
					MutableRef: &drift.MutableReference{Kind: drift.RefProviderVersion, Reference: n,
						Why: "no version constraint in required_providers, so only a dependency lock file (if one is committed) holds its version"}})
			}
		}
		var walk func(m *configModuleCalls, prefix string, depth int)
		walk = func(m *configModuleCalls, prefix string, depth int) {
			if m == nil || depth > 64 {
				return
			}
			for name, mc := range m.ModuleCalls {
				addr := prefix + "module." + name
				if why := mutableModuleSource(mc.Source, mc.VersionConstraint); why != "" {
					out = append(out, drift.Observation{Ref: addr, Type: "module",
						MutableRef: &drift.MutableReference{Kind: drift.RefModuleSource, Reference: printableSource(mc.Source), Why: why}})
				}
				walk(mc.Module, addr+".", depth+1)
			}
		}
		walk(cfg.RootModule, "", 0)
	}
	for _, rc := range doc.ResourceChanges {
		if rc == nil || (rc.Mode != "" && rc.Mode != string(tfjson.ManagedResourceMode)) || rc.Change.Actions.Delete() && !rc.Change.Actions.Replace() ||
			!bytes.Contains(rc.Change.After, []byte("image")) {
			continue
		}
		var after, as any
		if json.Unmarshal(rc.Change.After, &after) != nil {
			continue
		}
		if len(rc.Change.AfterSensitive) > 0 {
			_ = json.Unmarshal(rc.Change.AfterSensitive, &as)
		}
		// Sensitive values are never read: redacted ones are digests, not images.
		red, _ := dg.Redact(after, as)
		for _, im := range imageReferences(red, drift.Pointer{}, 0) {
			typ := rc.Type
			if typ == "" {
				typ = drift.ResourceType(rc.Address)
			}
			out = append(out, drift.Observation{Ref: rc.Address, Type: typ,
				MutableRef: &drift.MutableReference{Kind: drift.RefImage, Reference: im.ref, Path: im.path, Why: im.why}})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Ref != out[j].Ref {
			return out[i].Ref < out[j].Ref
		}
		return out[i].MutableRef.Path.String() < out[j].MutableRef.Path.String()
	})
	return out
}

// registrySource is a module registry address: [host/]namespace/name/provider.
var registrySource = regexp.MustCompile(`^([A-Za-z0-9.-]+\.[A-Za-z]{2,}(:[0-9]+)?/)?[0-9A-Za-z_-]+/[0-9A-Za-z_-]+/[0-9a-z]+(//.*)?$`)

// mutableModuleSource says why a module source can move, or "" when it cannot (local paths, a
// git ref, an exact registry version).
func mutableModuleSource(source, version string) string {
	s := strings.TrimSpace(source)
	switch {
	case s == "" || strings.HasPrefix(s, "./") || strings.HasPrefix(s, "../"):
		return ""
	case strings.HasPrefix(s, "git::") || strings.HasPrefix(s, "git@") || strings.HasPrefix(s, "hg::") || hasAnyPrefix(s, "github.com/", "bitbucket.org/", "gitlab.com/"):
		if u, err := url.Parse(strings.TrimPrefix(strings.TrimPrefix(s, "git::"), "hg::")); err == nil && u.Query().Get("ref") != "" {
			return ""
		}
		if strings.Contains(s, "?ref=") || strings.Contains(s, "&ref=") {
			return ""
		}
		return "a repository source without ?ref= follows its default branch"
	case registrySource.MatchString(s):
		v := strings.TrimSpace(version)
		if v == "" {
			return "a registry source without a version takes the newest release"
		}
		if !exactVersion(v) {
			return fmt.Sprintf("version constraint %q admits more than one release", v)
		}
		return ""
	}
	return ""
}

var exactVersionRE = regexp.MustCompile(`^=?\s*v?[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]*)?$`)

func exactVersion(v string) bool { return exactVersionRE.MatchString(v) }

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// printableSource drops credentials and query values from a module source: a source URL may
// carry a token (https://user:token@host/...), which never goes into a finding.
func printableSource(s string) string {
	forced := ""
	if i := strings.Index(s, "::"); i > 0 && !strings.Contains(s[:i], "/") {
		forced, s = s[:i+2], s[i+2:]
	}
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		u.User = nil
		u.RawQuery = ""
		return forced + u.String()
	}
	if at := strings.LastIndex(s, "@"); at >= 0 && strings.Contains(s[at:], ":") && !strings.Contains(s[:at], "/") {
		// scp-like git@host:path: the user is not a secret, but keep the rule uniform.
		s = s[at+1:]
	}
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i]
	}
	return forced + s
}

type imageRef struct {
	path drift.Pointer
	ref  string
	why  string
}

// imageName is a container image reference: [registry/]repository[:tag][@digest], no spaces.
var imageName = regexp.MustCompile(`^[a-z0-9]([a-z0-9._/-]*[a-z0-9])?(:[0-9]+)?(/[a-z0-9._-]+)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$`)

// imageReferences finds image attributes (named image, *_image, image_uri, image_url) whose value
// is an image without a digest and with no tag or the tag "latest".
func imageReferences(v any, at drift.Pointer, depth int) []imageRef {
	if depth > drift.MaxJSONDepth {
		return nil
	}
	var out []imageRef
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if s, ok := x[k].(string); ok && imageKey(k) {
				if why := mutableImage(s); why != "" {
					out = append(out, imageRef{path: at.Child(k), ref: s, why: why})
				}
				continue
			}
			out = append(out, imageReferences(x[k], at.Child(k), depth+1)...)
		}
	case []any:
		for i, e := range x {
			out = append(out, imageReferences(e, at.Child(fmt.Sprint(i)), depth+1)...)
		}
	}
	return out
}

func imageKey(k string) bool {
	return k == "image" || strings.HasSuffix(k, "_image") || k == "image_uri" || k == "image_url"
}

// mutableImage says why an image reference can move, or "" (a digest pins it; a tag other than
// latest is taken as a release).
func mutableImage(s string) string {
	if len(s) > 512 || !imageName.MatchString(s) || strings.HasPrefix(s, drift.DigestPrefix) {
		return ""
	}
	if strings.Contains(s, "@sha256:") {
		return ""
	}
	last := s[strings.LastIndexByte(s, '/')+1:]
	i := strings.LastIndexByte(last, ':')
	switch {
	case i < 0:
		return "no tag, so it means latest, which moves with every push"
	case last[i+1:] == "latest":
		return "the tag latest moves with every push"
	}
	return ""
}

// WithProviderConstraints reports providers without a version constraint as mutable references.
// It is not the default because the dependency lock file, which OpenTofu writes on every init and
// which is normally committed, pins a provider's version without one; a unit that does not
// commit its lock file should turn it on.
func WithProviderConstraints() Option { return func(o *options) { o.providerConstraints = true } }

// ProviderVersions are the provider versions a resource's drift is judged against: as recorded
// (the lock file of the last apply) and as planned (the lock file the plan was made with), keyed
// by provider address (registry.opentofu.org/hashicorp/aws).
type ProviderVersions struct {
	Recorded, Current map[string]string
}

// WithProviderVersions marks drift of resources whose provider version differs between
// v.Recorded and v.Current (drift.ProviderUpgrade). A provider missing from either is not judged.
func WithProviderVersions(v *ProviderVersions) Option {
	return func(o *options) { o.providerVersions = v }
}

var (
	lockProvider = regexp.MustCompile(`^\s*provider\s+"([^"]+)"\s*\{\s*$`)
	lockVersion  = regexp.MustCompile(`^\s*version\s*=\s*"([^"]+)"\s*$`)
)

// MaxLockFileBytes bounds a dependency lock file: a real one is a few kilobytes per provider.
const MaxLockFileBytes = 4 << 20

// ReadLockFileAt reads the provider versions of the dependency lock file at path (ParseLockFile).
func ReadLockFileAt(file string) (map[string]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, MaxLockFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("lock file %s: %w", file, err)
	}
	if len(data) > MaxLockFileBytes {
		return nil, fmt.Errorf("lock file %s is larger than %d bytes", file, MaxLockFileBytes)
	}
	v, err := ParseLockFile(data)
	if err != nil {
		return nil, fmt.Errorf("lock file %s: %w", file, err)
	}
	return v, nil
}

// ParseLockFile reads the provider versions of a dependency lock file (.terraform.lock.hcl):
// provider address to version. It reads only the top-level provider blocks' version
// arguments, the part of the file OpenTofu writes in a fixed layout.
func ParseLockFile(data []byte) (map[string]string, error) {
	out := map[string]string{}
	current := ""
	depth := 0
	for n, line := range strings.Split(string(data), "\n") {
		if m := lockProvider.FindStringSubmatch(line); m != nil && depth == 0 {
			current, depth = m[1], 1
			continue
		}
		if depth == 1 {
			if m := lockVersion.FindStringSubmatch(line); m != nil {
				if _, dup := out[current]; dup {
					return nil, fmt.Errorf("line %d: provider %q has two versions", n+1, current)
				}
				out[current] = m[1]
				continue
			}
		}
		depth += strings.Count(line, "{") + strings.Count(line, "[") - strings.Count(line, "}") - strings.Count(line, "]")
		if depth < 0 {
			return nil, fmt.Errorf("line %d: unbalanced braces", n+1)
		}
		if depth == 0 {
			current = ""
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("unbalanced braces at end of file")
	}
	return out, nil
}
