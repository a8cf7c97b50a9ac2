package drift

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/ext"
	"cel.dev/cel-go/interpreter"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
)

// PolicyRule is a unit's CEL rule over the actual resource (DriftManagedUnitSpec.PolicyRules).
type PolicyRule = v1alpha1.PolicyRule

// Policy verdicts: the decision table's `policy` condition.
const (
	// PolicyNone is every finding that is not a policy rule's.
	PolicyNone = "none"
	// PolicyMigrating: the recorded state already violated the rule and its migration window is
	// open (or the rule is not in effect yet).
	PolicyMigrating = "migrating"
	// PolicyOverdue: a pre-existing violation outlived since + migration window.
	PolicyOverdue = "overdue"
	// PolicyIntroduced: the recorded value complied and the actual value, changed out of band
	// while the rule was in effect, does not.
	PolicyIntroduced = "introduced"
	// PolicyError: the rule could not be evaluated over the resource.
	PolicyError = "error"
)

// PolicyStates lists the values of the decision table's `policy` condition.
var PolicyStates = []string{PolicyNone, PolicyMigrating, PolicyOverdue, PolicyIntroduced, PolicyError}

// Values of a decision's `blocking`; empty leaves it to the unit's gate.
const (
	BlockingNever  = "never"
	BlockingAlways = "always"
)

// Bounds on policy rules. The cost limit is Kubernetes' per-expression limit for validation
// rules; the static estimate assumes every list, map and string of a resource holds at most
// PolicyAssumedSize elements, so a rule that nests comprehensions three deep is refused at
// validation instead of timing out a plan.
const (
	PolicyCostLimit           uint64 = 1_000_000
	PolicyAssumedSize         uint64 = 100
	MaxPolicyExpressionLength        = 4096
	MaxPolicyRules                   = 100
	// maxPolicyErrorLength bounds an evaluation error quoted in a finding.
	maxPolicyErrorLength = 200
)

// policyEnv is built once: a cel.Env is safe for concurrent use and never changes after this.
var policyEnv = mustPolicyEnv()

func mustPolicyEnv() *cel.Env {
	env, err := cel.NewEnv(
		// resource: {values, type, address}; unit: {name, environment, tier}. Values are JSON
		// shaped (maps, lists, strings, doubles, bools, null) so they are dyn.
		cel.Variable("resource", cel.MapType(cel.StringType, cel.DynType)),
		// object: the resource's values, as a ValidatingAdmissionPolicy names the object it
		// judges, so a Kubernetes rule reads object.spec... either way.
		cel.Variable("object", cel.DynType),
		cel.Variable("unit", cel.MapType(cel.StringType, cel.StringType)),
		// The options Kubernetes validation rules use: standard macros (has, all, exists,
		// exists_one, map, filter), strings, lists, sets and optional types; a parse depth and
		// size bound against hostile expressions.
		ext.Strings(ext.StringsVersion(2)),
		ext.Lists(),
		ext.Sets(),
		cel.OptionalTypes(),
		cel.DefaultUTCTimeZone(true),
		cel.CrossTypeNumericComparisons(true),
		cel.ParserRecursionLimit(64),
		cel.ParserExpressionSizeLimit(MaxPolicyExpressionLength),
	)
	if err != nil {
		panic("drift: policy CEL environment: " + err.Error())
	}
	return env
}

// assumedSizes bounds every size the cost estimator asks about: resource values come from a
// provider with no declared maximum, and an unbounded estimate would refuse every comprehension.
type assumedSizes struct{}

func (assumedSizes) EstimateSize(cost.AstNode) *cost.SizeEstimate {
	return &cost.SizeEstimate{Min: 0, Max: PolicyAssumedSize}
}

func (assumedSizes) EstimateCallCost(string, string, *cost.AstNode, []cost.AstNode) *cost.CallEstimate {
	return nil
}

// compiledRule is one policy rule ready to run.
type compiledRule struct {
	rule     PolicyRule
	program  cel.Program
	since    time.Time // zero: in effect from the start
	deadline time.Time // since + migration window
}

// PolicyProgram is a unit's policy rules, compiled once (one program per distinct expression).
type PolicyProgram struct {
	rules []compiledRule
	// byType caches which rules apply to a resource type (indexes into rules): globbing every
	// rule for every resource costs more than many rules do. Built during one evaluation.
	byType map[string][]int
}

// rulesFor returns the indexes of the rules that apply to a resource type.
func (p *PolicyProgram) rulesFor(resourceType string) []int {
	if idx, ok := p.byType[resourceType]; ok {
		return idx
	}
	if p.byType == nil {
		p.byType = map[string][]int{}
	}
	idx := []int{}
	for i := range p.rules {
		if p.rules[i].appliesTo(resourceType) {
			idx = append(idx, i)
		}
	}
	p.byType[resourceType] = idx
	return idx
}

// Len is the number of rules.
func (p *PolicyProgram) Len() int {
	if p == nil {
		return 0
	}
	return len(p.rules)
}

// CompilePolicyRules compiles and checks a unit's policy rules; its error is a *ValidationError
// naming each bad field (spec.policyRules[2].expression).
func CompilePolicyRules(rules []PolicyRule) (*PolicyProgram, error) {
	v := &validator{}
	p := compilePolicyRules(v, rules)
	if err := v.result("policy rules"); err != nil {
		return nil, err
	}
	return p, nil
}

func compilePolicyRules(v *validator, rules []PolicyRule) *PolicyProgram {
	p := &PolicyProgram{}
	if len(rules) > MaxPolicyRules {
		v.add("spec.policyRules", "%d rules; at most %d", len(rules), MaxPolicyRules)
		return p
	}
	seen := map[string]bool{}
	programs := map[string]cel.Program{}
	for i, r := range rules {
		f := fmt.Sprintf("spec.policyRules[%d]", i)
		ok := true
		switch {
		case !nameRE.MatchString(r.ID):
			v.add(f+".id", "%q: want letters, digits, '.', '_' or '-', starting and ending with a letter or digit", r.ID)
			ok = false
		case seen[r.ID]:
			v.add(f+".id", "%q is declared twice", r.ID)
			ok = false
		}
		seen[r.ID] = true
		for j, g := range r.AppliesTo {
			if strings.TrimSpace(g) == "" || strings.ContainsAny(g, " \t\n") {
				v.add(fmt.Sprintf("%s.appliesTo[%d]", f, j), "%q is not a resource type glob (aws_s3_*) or group/Kind glob (apps/*)", g)
				ok = false
			}
		}
		c := compiledRule{rule: r}
		if r.Since != "" {
			t, err := time.Parse(time.RFC3339, r.Since)
			if err != nil {
				v.add(f+".since", "%q is not an RFC 3339 time such as 2026-06-01T00:00:00Z", r.Since)
				ok = false
			}
			c.since = t.UTC()
		}
		var window time.Duration
		if r.MigrationWindow != "" {
			d, err := time.ParseDuration(r.MigrationWindow)
			if err != nil || d < 0 {
				v.add(f+".migrationWindow", "%q is not a duration such as 720h", r.MigrationWindow)
				ok = false
			}
			window = d
			if r.Since == "" {
				v.add(f+".migrationWindow", "needs since: the window is counted from when the rule took effect")
				ok = false
			}
		}
		c.deadline = c.since.Add(window)
		prg, found := programs[r.Expression]
		if !found {
			var msg string
			prg, msg = compileExpression(r.Expression)
			if msg != "" {
				v.add(f+".expression", "rule %q: %s", r.ID, msg)
				ok = false
			} else {
				programs[r.Expression] = prg
			}
		}
		if ok {
			c.program = prg
			p.rules = append(p.rules, c)
		}
	}
	return p
}

// compileExpression returns the program, or why the expression is refused.
func compileExpression(src string) (cel.Program, string) {
	if strings.TrimSpace(src) == "" {
		return nil, "is required"
	}
	if len(src) > MaxPolicyExpressionLength {
		return nil, fmt.Sprintf("is %d bytes; at most %d", len(src), MaxPolicyExpressionLength)
	}
	ast, iss := policyEnv.Compile(src)
	if iss != nil && iss.Err() != nil {
		return nil, "does not compile: " + oneLine(iss.Err().Error())
	}
	if !ast.OutputType().IsExactType(types.BoolType) {
		return nil, fmt.Sprintf("must return bool, returns %s (compare explicitly, e.g. `== true`)", ast.OutputType())
	}
	est, err := policyEnv.EstimateCost(ast, assumedSizes{})
	if err != nil {
		return nil, "cost cannot be estimated: " + oneLine(err.Error())
	}
	if est.Max > PolicyCostLimit {
		return nil, fmt.Sprintf("estimated cost %s exceeds the limit %d (lists, maps and strings assumed to hold up to %d elements): nest fewer comprehensions", costString(est.Max), PolicyCostLimit, PolicyAssumedSize)
	}
	prg, err := policyEnv.Program(ast,
		cel.CostLimit(PolicyCostLimit),
		cel.InterruptCheckFrequency(100),
		cel.EvalOptions(cel.OptOptimize),
	)
	if err != nil {
		return nil, "does not compile: " + oneLine(err.Error())
	}
	return prg, ""
}

func costString(c uint64) string {
	if c == math.MaxUint64 {
		return "unbounded"
	}
	return fmt.Sprint(c)
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxPolicyErrorLength {
		s = s[:maxPolicyErrorLength] + "…"
	}
	return s
}

// appliesTo reports whether the rule judges resources of this type (an OpenTofu resource type
// or a Kubernetes group/Kind).
func (c *compiledRule) appliesTo(resourceType string) bool {
	if len(c.rule.AppliesTo) == 0 {
		return true
	}
	for _, g := range c.rule.AppliesTo {
		if globSegment(g, resourceType) {
			return true
		}
	}
	return false
}

// policyVars is the activation of one resource: built once, shared by every rule.
type policyVars struct {
	resource map[string]any
	unit     map[string]string
	// object is resource.values as the API serves it (objectView), made on first use.
	object     any
	objectDone bool
}

func (a *policyVars) ResolveName(name string) (any, bool) {
	switch name {
	case "resource":
		return a.resource, true
	case "object":
		if !a.objectDone {
			t, _ := a.resource["type"].(string)
			a.object, a.objectDone = objectView(t, a.resource["values"]), true
		}
		return a.object, true
	case "unit":
		return a.unit, true
	}
	return nil, false
}

func (a *policyVars) Parent() interpreter.Activation { return nil }

// check evaluates the rule: (complies, nil) or (false, why it could not be evaluated).
func (c *compiledRule) check(vars *policyVars) (bool, error) {
	out, _, err := c.program.Eval(vars)
	if err != nil {
		return false, err
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("returned %s, not bool", out.Type())
	}
	return b, nil
}

// PolicyVerdict is one rule's judgement of one resource that does not comply.
type PolicyVerdict struct {
	Rule  PolicyRule
	State string // PolicyMigrating, PolicyOverdue, PolicyIntroduced or PolicyError
	// Deadline is since + migration window, zero when the rule has no since.
	Deadline time.Time
	// Err is why the rule could not be evaluated (PolicyError).
	Err error
	// Created is set when the object was created once the rule was in effect (a live object's
	// creation time at or after since), so no migration window applies to it.
	Created time.Time
}

// judgePolicy is the core of policy drift (safe for concurrent use once every resource type
// it will see has been looked up by rulesFor): every rule that applies to the resource, evaluated
// over its actual values with sensitive values removed, and what a violation means at time at.
// drifted says the observation's recorded and actual planes may differ. A violation is
// pre-existing when the recorded value violates the rule too and Git (when the desired value is
// known) does not declare a complying one; otherwise out-of-band change introduced it.
func (p *PolicyProgram) judgePolicy(unit *ManagedUnit, obs *Observation, drifted bool, at time.Time) []PolicyVerdict {
	if p.Len() == 0 || obs.Deleted || len(p.rulesFor(obs.Type)) == 0 {
		return nil
	}
	uv := map[string]string{"name": unit.Metadata.Name, "environment": unit.Spec.Environment, "tier": unit.Spec.RiskTier}
	actual := &policyVars{unit: uv, resource: map[string]any{
		"values": withoutSensitive(obs.Actual, obs.SensitivePaths), "type": obs.Type, "address": obs.Ref,
	}}
	var recorded, desired *policyVars
	var out []PolicyVerdict
	for _, i := range p.rulesFor(obs.Type) {
		c := &p.rules[i]
		ok, err := c.check(actual)
		if err == nil && ok {
			continue
		}
		v := PolicyVerdict{Rule: c.rule}
		if !c.since.IsZero() {
			v.Deadline = c.deadline
		}
		switch {
		case err != nil:
			v.State, v.Err = PolicyError, err
		case !c.since.IsZero() && at.Before(c.since):
			// Not in effect yet: every violation is one to migrate.
			v.State = PolicyMigrating
		default:
			pre := true
			if drifted {
				if recorded == nil {
					recorded = &policyVars{unit: uv, resource: map[string]any{
						"values": withoutSensitive(obs.Recorded, obs.SensitivePaths), "type": obs.Type, "address": obs.Ref,
					}}
				}
				// A recorded value that complied, or that the rule cannot judge, was not a
				// violation the rule's window was meant for: the drift brought it.
				rok, rerr := c.check(recorded)
				pre = rerr == nil && !rok
			}
			if pre && obs.DesiredKnown {
				if desired == nil {
					// Values known only after apply are absent, so a rule reading one cannot
					// count as complied with.
					hidden := append(append([]Pointer(nil), obs.SensitivePaths...), obs.DesiredUnknown...)
					desired = &policyVars{unit: uv, resource: map[string]any{
						"values": withoutSensitive(obs.Desired, hidden), "type": obs.Type, "address": obs.Ref,
					}}
				}
				// Git declares a value that complies: the violating value that runs did not come
				// from Git (an apply from outside it, a hand change the state took in).
				if dok, derr := c.check(desired); derr == nil && dok {
					pre = false
				}
			}
			// The window is for objects that predate the rule, as an admission policy lets
			// existing objects stay: one created once the rule was in effect gets none.
			createdAfter := pre && !c.since.IsZero() && !obs.Created.IsZero() && !obs.Created.Before(c.since)
			if createdAfter {
				v.Created = obs.Created
			}
			switch {
			case !pre:
				v.State = PolicyIntroduced
			case createdAfter:
				v.State = PolicyOverdue
			case at.Before(c.deadline) && !c.since.IsZero():
				v.State = PolicyMigrating
			default:
				v.State = PolicyOverdue
			}
		}
		out = append(out, v)
	}
	return out
}

// withoutSensitive copies v without the values at the sensitive paths: a rule sees that they are
// absent, never their digests. Only the maps and lists on the way to a removed path are copied.
func withoutSensitive(v any, paths []Pointer) any {
	for _, p := range paths {
		v = removePath(v, p)
	}
	return v
}

func removePath(v any, p Pointer) any {
	if len(p) == 0 {
		return nil
	}
	switch x := v.(type) {
	case map[string]any:
		child, ok := x[p[0]]
		if !ok {
			return v
		}
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = e
		}
		if len(p) == 1 {
			delete(m, p[0])
		} else {
			m[p[0]] = removePath(child, p[1:])
		}
		return m
	case []any:
		i := -1
		if _, err := fmt.Sscan(p[0], &i); err != nil || i < 0 || i >= len(x) {
			return v
		}
		l := append([]any(nil), x...)
		l[i] = removePath(x[i], p[1:])
		return l
	}
	return v
}

// checkPolicyRow checks a table row's policy condition and blocking value.
func checkPolicyRow(r *Rule) error {
	for _, s := range r.When.Policy {
		if !oneOf(s, PolicyStates) {
			return fmt.Errorf("rule %s: unknown policy verdict %q (%s)", r.ID, s, strings.Join(PolicyStates, ", "))
		}
	}
	switch r.Then.Blocking {
	case "", BlockingNever, BlockingAlways:
	default:
		return fmt.Errorf("rule %s: blocking %q is not %q or %q (leave it out for the unit's gate)", r.ID, r.Then.Blocking, BlockingNever, BlockingAlways)
	}
	return nil
}

// blocks decides whether an unaccepted finding of an unexpected class blocks: the row's
// blocking, else the gate. A unit whose gate is "none" is never blocked.
func blocks(mode string, gated bool, gate, risk Risk) bool {
	switch {
	case !gated || mode == BlockingNever:
		return false
	case mode == BlockingAlways:
		return true
	}
	return risk.Level() >= gate.Level()
}

// policyFindings judges every resource (the observations, and the source's inventory of
// resources that did not drift) by the unit's policy rules. It returns the findings and, per
// finding id, the row's blocking.
func (ev *evaluator) policyFindings(observations []Observation, warnings *[]string) ([]Finding, map[string]string) {
	prog := ev.policy
	if prog.Len() == 0 {
		return nil, nil
	}
	defer func() {
		// A rule that judged nothing passes silently; say so, so a typo in appliesTo or a source
		// that gave no inventory is seen rather than read as compliance.
		if len(ev.opts.Resources) == 0 {
			*warnings = append(*warnings, fmt.Sprintf("policy rules judged only the %d drifted resource(s): the source gave no inventory of the unit's resources", len(observations)))
			return
		}
		judged := map[int]bool{}
		for _, idx := range prog.byType {
			for _, i := range idx {
				judged[i] = true
			}
		}
		for i := range prog.rules {
			if !judged[i] {
				*warnings = append(*warnings, fmt.Sprintf("policy rule %s applies to none of the unit's resources (appliesTo %s)", prog.rules[i].rule.ID, strings.Join(prog.rules[i].rule.AppliesTo, ", ")))
			}
		}
	}()
	type subject struct {
		obs     *Observation
		drifted bool
	}
	var subjects []subject
	drifted := map[string]bool{}
	for i := range observations {
		if o := &observations[i]; o.Live != nil || (o.MutableRef != nil && o.Actual == nil && o.Recorded == nil) {
			// A detector's fact about the resource, not the resource: its own observation or
			// inventory entry is what the rules judge.
			continue
		}
		drifted[observations[i].Ref] = true
		subjects = append(subjects, subject{&observations[i], true})
	}
	for i := range ev.opts.Resources {
		if r := &ev.opts.Resources[i]; !drifted[r.Ref] {
			subjects = append(subjects, subject{r, false})
		}
	}
	// Fill the per-type cache first, so the workers below only read it.
	for _, s := range subjects {
		prog.rulesFor(s.obs.Type)
	}
	// Programs are safe for concurrent use: judging spreads over the CPUs, each worker writing
	// its own slots, and findings are made in input order so the report stays deterministic.
	verdicts := make([][]PolicyVerdict, len(subjects))
	workers := runtime.GOMAXPROCS(0)
	if n := len(subjects) / policyChunk; n < workers {
		workers = max(n, 1)
	}
	var wg sync.WaitGroup
	var next atomic.Int64
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				start := int(next.Add(policyChunk)) - policyChunk
				if start >= len(subjects) {
					return
				}
				for i := start; i < min(start+policyChunk, len(subjects)); i++ {
					verdicts[i] = prog.judgePolicy(ev.unit, subjects[i].obs, subjects[i].drifted, ev.at)
				}
			}
		}()
	}
	wg.Wait()
	var out []Finding
	modes := map[string]string{}
	for i, vs := range verdicts {
		for _, v := range vs {
			f, mode := ev.policyFinding(subjects[i].obs, v)
			out = append(out, f)
			modes[f.FindingID] = mode
		}
	}
	return out, modes
}

// policyChunk is how many resources a worker judges at a time.
const policyChunk = 256

func (ev *evaluator) policyFinding(obs *Observation, v PolicyVerdict) (Finding, string) {
	t := ev.opts.Table
	domain := t.DomainFor(obs.Type, ev.unit.Spec.ResourceDomains)
	g := group{change: ChangeModified, ownership: OwnerGit, policy: v.State}
	d := t.Decide(ev.input(domain, g, ExceptionNone), ev.unit.Spec.DomainOverrides)
	f := Finding{
		DetectedAt:    ev.opts.DetectedAt,
		Unit:          ev.unit.Metadata.Name,
		Owner:         ev.unit.Spec.Owner,
		Environment:   ev.unit.Spec.Environment,
		Domain:        domain,
		ResourceRef:   obs.Ref,
		ChangedFields: []string{},
		PolicyRule:    v.Rule.ID,
	}
	f.Evidence = ContentDigest(struct {
		Ref, Rule, Expression, State string
	}{obs.Ref, v.Rule.ID, v.Rule.Expression, v.State})
	f.FindingID = findingID(f.Unit, f.ResourceRef, []string{"policy_rule", v.Rule.ID}, f.Evidence)
	ev.apply(&f, d, obs)
	f.AutoHealAllowed = false
	f.Explanation = policyExplanation(v, ev.at)
	if !t.Expected(f.DriftClass) {
		ev.applyExceptions(&f, obs, domain, g)
	}
	return f, d.Blocking
}

func policyExplanation(v PolicyVerdict, at time.Time) string {
	r := v.Rule
	s := fmt.Sprintf("Policy rule %s", r.ID)
	if r.Message != "" {
		s += fmt.Sprintf(" (%s)", r.Message)
	}
	deadline := v.Deadline.UTC().Format(time.RFC3339)
	switch v.State {
	case PolicyError:
		why := "unknown error"
		if v.Err != nil {
			why = oneLine(v.Err.Error())
		}
		return s + " could not be evaluated over the actual resource, so compliance is unknown: " + why
	case PolicyIntroduced:
		return s + " is violated: the recorded or Git-declared value complies, the value that runs does not, so an out-of-band change brought the violation"
	case PolicyMigrating:
		if !v.Deadline.IsZero() && at.Before(v.Deadline) {
			return s + fmt.Sprintf(" is violated by a resource that predates it; migrate it before %s, when the violation starts to block", deadline)
		}
		return s + " is violated by a resource that predates it"
	case PolicyOverdue:
		if !v.Created.IsZero() {
			return s + fmt.Sprintf(" is violated by an object created at %s, after the rule took effect at %s: the migration window (until %s) is only for objects that predate the rule", v.Created.UTC().Format(time.RFC3339), r.Since, deadline)
		}
		if v.Deadline.IsZero() {
			return s + " is violated, and the rule has no migration window"
		}
		return s + fmt.Sprintf(" is violated, and its migration window ended at %s", deadline)
	}
	return s + " is violated"
}
