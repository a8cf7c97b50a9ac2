package route

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// Receiver types.
const (
	ReceiverAlertmanager = "alertmanager"
	ReceiverWebhook      = "webhook"
	ReceiverSlack        = "slack"
	ReceiverPagerDuty    = "pagerduty"
	ReceiverGitHub       = "github"
	ReceiverGitLab       = "gitlab"
	ReceiverGitea        = "gitea"
)

// ReceiverTypes lists every receiver type.
var ReceiverTypes = []string{ReceiverAlertmanager, ReceiverWebhook, ReceiverSlack, ReceiverPagerDuty, ReceiverGitHub, ReceiverGitLab, ReceiverGitea}

// Alertmanager's defaults for a root route that sets no intervals.
const (
	DefaultGroupWait      = 30 * time.Second
	DefaultGroupInterval  = 5 * time.Minute
	DefaultRepeatInterval = 4 * time.Hour
)

// GroupByAll in groupBy groups by every label, as in Alertmanager.
const GroupByAll = "..."

// Bounds on a policy's shape: a routing policy is a page of YAML, and one from an application's
// repository must not make the evaluator walk an arbitrarily deep or wide tree per finding.
const (
	MaxRouteDepth = 16
	MaxRoutes     = 1000
)

var (
	nameRE    = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$`)
	envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	keyRE     = regexp.MustCompile(`^[-._A-Za-z0-9]+$`)
	// A setting whose name says it is a credential must come from secretRef: policy files are
	// committed to Git and published as policy_json.
	secretishRE = regexp.MustCompile(`(?i)token|secret|passw|api_?key|routing_?key|^auth$|authoriz|authentic|bearer|credential|hmac|signing|private_?key`)
	// Values in the published formats of the credentials receivers use, whatever the setting is
	// called: GitHub and GitLab tokens, Slack tokens and incoming-webhook URLs, PEM keys.
	credentialValueRE = regexp.MustCompile(`(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{16,}|xox[abposr]-[A-Za-z0-9-]{10,}|hooks\.slack\.com/(services|workflows|triggers)/|-----BEGIN [A-Z ]*PRIVATE KEY)`)
)

type node struct {
	path, name     string
	matchers       labels.Matchers
	infoExplicit   bool
	cont           bool
	receivers      []string
	groupBy        []string
	groupAll       bool
	groupWait      model.Duration
	groupInterval  model.Duration
	repeatInterval model.Duration
	page           bool
	incident       bool
	issue          bool
	children       []*node
}

type silence struct {
	name     string
	matchers labels.Matchers
	starts   time.Time
	expiry   *drift.Exception // carries expiresAt, so expiry is judged exactly as an exception's
}

type validator struct{ errs []drift.FieldError }

func (v *validator) add(field, format string, args ...any) {
	v.errs = append(v.errs, drift.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Validate checks the policy at the evaluation time at (a zero at skips the bound on how far
// ahead silences may expire), reporting every problem at once, and compiles it for Route.
// Fields are named in the YAML spelling: spec.route.routes[1].routes[0].matchers[2].
func (p *Policy) Validate(at time.Time) error {
	if p.APIVersion == "" {
		p.APIVersion = drift.APIVersion
	}
	if p.Kind == "" {
		p.Kind = Kind
	}
	v := &validator{}
	if p.APIVersion != drift.APIVersion {
		v.add("apiVersion", "must be %q", drift.APIVersion)
	}
	if p.Kind != Kind {
		v.add("kind", "must be %q", Kind)
	}
	if p.Metadata.Name == "" {
		v.add("metadata.name", "is required")
	} else if !nameRE.MatchString(p.Metadata.Name) {
		v.add("metadata.name", "%q must be letters, digits, '.', '_' or '-', starting and ending with a letter or digit", p.Metadata.Name)
	}
	s := &p.Spec
	p.unitLabels = map[string]bool{}
	for i, l := range s.UnitLabels {
		f := fmt.Sprintf("spec.unitLabels[%d]", i)
		switch {
		case l == "" || LabelName(l) != l:
			v.add(f, "%q is not a label name (letters, digits and '_', not starting with a digit)", l)
		case l == LabelDataClassification || l == LabelComplianceScope:
			// Unit labels already; naming them is harmless.
		case slices.Contains(FindingLabels, l):
			v.add(f, "%q is a finding label; a unit label cannot replace it", l)
		}
		p.unitLabels[l] = true
	}
	receivers := map[string]bool{}
	for i := range s.Receivers {
		r := &s.Receivers[i]
		f := fmt.Sprintf("spec.receivers[%d]", i)
		if receivers[r.Name] {
			v.add(f+".name", "%q is declared twice", r.Name)
		}
		receivers[r.Name] = true
		validateReceiver(v, f, r)
	}
	if s.MaxSilenceDays < 0 || s.MaxSilenceDays > drift.MaxExceptionDaysLimit {
		v.add("spec.maxSilenceDays", "%d is outside 1..%d (0 or unset means %d)", s.MaxSilenceDays, drift.MaxExceptionDaysLimit, drift.DefaultMaxExceptionDays)
	}
	c := &compiler{v: v, p: p, receivers: receivers}
	root := &node{path: "route", groupWait: model.Duration(DefaultGroupWait),
		groupInterval: model.Duration(DefaultGroupInterval), repeatInterval: model.Duration(DefaultRepeatInterval)}
	r := &s.Route
	if len(r.Matchers) > 0 {
		v.add("spec.route.matchers", "the root route matches every finding and takes no matchers; put them on a child route")
	}
	if r.Continue {
		v.add("spec.route.continue", "the root route has no siblings; continue means nothing here")
	}
	if len(r.Receivers) == 0 {
		v.add("spec.route.receivers", "is required: the root route receives every finding no child route takes, so none is lost")
	}
	p.root = c.compile("spec.route", "route", r, root, 0)
	p.silences = nil
	seen := map[string]bool{}
	for i := range s.Silences {
		if sl, ok := c.silence(fmt.Sprintf("spec.silences[%d]", i), &s.Silences[i], seen, at); ok {
			p.silences = append(p.silences, sl)
		}
	}
	if len(v.errs) > 0 {
		p.root, p.silences = nil, nil
		return &drift.ValidationError{Object: fmt.Sprintf("%s %q", Kind, p.Metadata.Name), Errors: v.errs}
	}
	return nil
}

func validateReceiver(v *validator, f string, r *v1alpha1.RoutingReceiver) {
	if !nameRE.MatchString(r.Name) {
		v.add(f+".name", "%q must be letters, digits, '.', '_' or '-'", r.Name)
	}
	if !slices.Contains(ReceiverTypes, r.Type) {
		v.add(f+".type", "%q is not one of %s", r.Type, quote(ReceiverTypes))
		return
	}
	if r.URL != "" {
		if credentialValueRE.MatchString(r.URL) {
			v.add(f+".url", "holds a credential (a token or a secret webhook URL): reference it with urlFrom")
		} else if why := urlError(r.URL); why != "" {
			v.add(f+".url", "%s", why)
		}
		if r.URLFrom != nil {
			v.add(f+".urlFrom", "set url or urlFrom, not both")
		}
	}
	if r.URLFrom != nil {
		validateSecretRef(v, f+".urlFrom", r.URLFrom)
	}
	if r.SecretRef != nil {
		validateSecretRef(v, f+".secretRef", r.SecretRef)
	}
	hasURL := r.URL != "" || r.URLFrom != nil
	switch r.Type {
	case ReceiverSlack:
		// A Slack incoming-webhook URL is its own credential.
		if r.URL != "" {
			v.add(f+".url", "a Slack incoming-webhook URL is a credential: reference it with urlFrom")
		} else if r.URLFrom == nil {
			v.add(f+".urlFrom", "is required: the Slack incoming-webhook URL, from a secret")
		}
	case ReceiverPagerDuty:
		if r.SecretRef == nil {
			v.add(f+".secretRef", "is required: the PagerDuty Events API v2 routing key")
		}
	case ReceiverAlertmanager, ReceiverWebhook, ReceiverGitea:
		if !hasURL {
			v.add(f+".url", "is required for a %s receiver", r.Type)
		}
	}
	switch r.Type {
	case ReceiverGitHub, ReceiverGitLab, ReceiverGitea:
		if r.SecretRef == nil {
			v.add(f+".secretRef", "is required: the %s API token", r.Type)
		}
		if strings.TrimSpace(r.Settings["repository"]) == "" {
			v.add(f+".settings.repository", "is required: the repository (owner/name, or a GitLab project path) issues are opened in")
		}
	}
	for k, val := range r.Settings {
		switch {
		case !keyRE.MatchString(k):
			v.add(f+".settings", "%q is not a setting name (letters, digits, '.', '_', '-')", k)
		case secretishRE.MatchString(k):
			v.add(f+".settings."+k, "looks like a credential: reference it with secretRef, never inline")
		case credentialValueRE.MatchString(val):
			v.add(f+".settings."+k, "holds a credential (its value has a token's format): reference it with secretRef, never inline")
		case strings.Contains(val, "://") && urlError(val) != "":
			v.add(f+".settings."+k, "%s", urlError(val))
		}
	}
}

// urlError says why an endpoint URL is not acceptable in a policy, or "". User info and query
// strings are where credentials hide in URLs; a policy is committed and published.
func urlError(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "is not an absolute http or https URL"
	}
	if u.User != nil {
		return "carries user info (a credential); reference credentials with secretRef"
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "carries a query or fragment (where tokens hide); reference credentials with secretRef"
	}
	return ""
}

func validateSecretRef(v *validator, f string, r *v1alpha1.SecretRef) {
	switch {
	case r.Env != "" && (r.Name != "" || r.Key != ""):
		v.add(f, "set env, or name and key, not both")
	case r.Env != "":
		if !envNameRE.MatchString(r.Env) {
			v.add(f+".env", "%q is not an environment variable name", r.Env)
		}
	case r.Name != "" && r.Key != "":
		if !nameRE.MatchString(r.Name) {
			v.add(f+".name", "%q is not a Secret name", r.Name)
		}
		if !keyRE.MatchString(r.Key) {
			v.add(f+".key", "%q is not a Secret key", r.Key)
		}
	default:
		v.add(f, "names no secret: set env (an environment variable) or name and key (a Kubernetes Secret)")
	}
}

type compiler struct {
	v         *validator
	p         *Policy
	receivers map[string]bool
	count     int
}

// compile validates one route and returns its compiled node, inheriting from parent.
func (c *compiler) compile(f, path string, r *v1alpha1.DriftRoute, parent *node, depth int) *node {
	c.count++
	if c.count == MaxRoutes+1 {
		c.v.add(f, "the policy has more than %d routes", MaxRoutes)
	}
	n := &node{path: path, name: r.Name, cont: r.Continue, infoExplicit: parent.infoExplicit && depth > 0,
		receivers: parent.receivers, groupBy: parent.groupBy, groupAll: parent.groupAll,
		groupWait: parent.groupWait, groupInterval: parent.groupInterval, repeatInterval: parent.repeatInterval,
		page: parent.page, incident: parent.incident, issue: parent.issue}
	if r.Name != "" && !nameRE.MatchString(r.Name) {
		c.v.add(f+".name", "%q must be letters, digits, '.', '_' or '-'", r.Name)
	}
	for i, raw := range r.Matchers {
		mf := fmt.Sprintf("%s.matchers[%d]", f, i)
		ms, err := c.matchers(mf, raw)
		if err != nil {
			continue
		}
		for _, m := range ms {
			// Explicit means a positive matcher that names INFO: risk=~".*" lets INFO through
			// without anyone having decided that INFO should be sent.
			if (m.Name == LabelRisk || m.Name == LabelSeverity) && (m.Type == labels.MatchEqual || m.Type == labels.MatchRegexp) &&
				m.Matches(string(drift.RiskInfo)) && strings.Contains(m.Value, string(drift.RiskInfo)) {
				n.infoExplicit = true
			}
		}
		n.matchers = append(n.matchers, ms...)
	}
	if len(r.Receivers) > 0 {
		n.receivers = r.Receivers
		seen := map[string]bool{}
		for i, name := range r.Receivers {
			rf := fmt.Sprintf("%s.receivers[%d]", f, i)
			switch {
			case !c.receivers[name]:
				c.v.add(rf, "%q is not a receiver of spec.receivers", name)
			case seen[name]:
				c.v.add(rf, "%q is named twice", name)
			}
			seen[name] = true
		}
	}
	if len(r.GroupBy) > 0 {
		n.groupBy, n.groupAll = nil, false
		for i, l := range r.GroupBy {
			gf := fmt.Sprintf("%s.groupBy[%d]", f, i)
			switch {
			case l == GroupByAll && len(r.GroupBy) > 1:
				c.v.add(gf, "%q groups by every label and cannot be combined with other labels", GroupByAll)
			case l == GroupByAll:
				n.groupAll = true
			case !c.knownLabel(l):
				c.v.add(gf, "%q is not a finding label (%s) nor one of spec.unitLabels", l, quote(FindingLabels))
			case slices.Contains(n.groupBy, l):
				c.v.add(gf, "%q is named twice", l)
			default:
				n.groupBy = append(n.groupBy, l)
			}
		}
		slices.Sort(n.groupBy)
	}
	duration := func(field, raw string, positive bool, into *model.Duration) {
		if raw == "" {
			return
		}
		d, err := model.ParseDuration(raw)
		switch {
		case err != nil:
			c.v.add(f+"."+field, "%q is not a duration such as 30s, 5m, 4h or 1d", raw)
		case positive && d <= 0:
			c.v.add(f+"."+field, "must be positive")
		default:
			*into = d
		}
	}
	duration("groupWait", r.GroupWait, false, &n.groupWait)
	duration("groupInterval", r.GroupInterval, true, &n.groupInterval)
	duration("repeatInterval", r.RepeatInterval, true, &n.repeatInterval)
	if r.Page != nil {
		n.page = *r.Page
	}
	if r.CreateIncident != nil {
		n.incident = *r.CreateIncident
	}
	if r.CreateIssue != nil {
		n.issue = *r.CreateIssue
	}
	if len(r.Routes) > 0 && depth+1 >= MaxRouteDepth {
		c.v.add(f+".routes", "routes nest more than %d deep", MaxRouteDepth)
		return n
	}
	for i := range r.Routes {
		child := c.compile(fmt.Sprintf("%s.routes[%d]", f, i), fmt.Sprintf("%s.routes[%d]", path, i), &r.Routes[i], n, depth+1)
		if len(r.Routes[i].Matchers) == 0 && i < len(r.Routes)-1 && !r.Routes[i].Continue {
			// Alertmanager accepts it; here it is a mistake worth naming, because every later
			// sibling is unreachable.
			c.v.add(fmt.Sprintf("%s.routes[%d].matchers", f, i), "a route without matchers takes every finding, so routes[%d] and later siblings are never reached; add matchers or continue: true", i+1)
		}
		n.children = append(n.children, child)
	}
	return n
}

// matchers parses one matchers entry: one matcher, or a comma-separated list in braces, as
// Alertmanager's classic parser reads them. A label no finding carries is an error, and so is a
// value the label never takes: risk="high" (lower case) would silently match nothing.
func (c *compiler) matchers(f, raw string) (labels.Matchers, error) {
	ms, err := labels.ParseMatchers(raw)
	if err == nil && len(ms) == 0 {
		err = fmt.Errorf("is empty")
	}
	if err != nil {
		c.v.add(f, "%q: %v", raw, err)
		return nil, err
	}
	ok := true
	for _, m := range ms {
		if !c.knownLabel(m.Name) {
			c.v.add(f, "%q: %q is not a finding label (%s) nor one of spec.unitLabels", raw, m.Name, quote(FindingLabels))
			ok = false
			continue
		}
		values := enumerated[m.Name]
		if values == nil {
			continue
		}
		negative := m.Type == labels.MatchNotEqual || m.Type == labels.MatchNotRegexp
		switch {
		case !slices.ContainsFunc(values, m.Matches):
			c.v.add(f, "%q: it matches no %s; %s is one of %s", raw, m.Name, m.Name, quote(values))
			ok = false
		case negative && !slices.ContainsFunc(values, func(s string) bool { return !m.Matches(s) }):
			// risk!="high" excludes nothing: the value was surely meant to be one risk.
			c.v.add(f, "%q: it excludes no %s; %s is one of %s", raw, m.Name, m.Name, quote(values))
			ok = false
		}
	}
	if !ok {
		return nil, fmt.Errorf("invalid")
	}
	return ms, nil
}

func (c *compiler) knownLabel(l string) bool {
	return slices.Contains(FindingLabels, l) || c.p.unitLabels[l]
}

func (c *compiler) silence(f string, s *v1alpha1.DriftSilence, seen map[string]bool, at time.Time) (silence, bool) {
	v := c.v
	before := len(v.errs)
	switch {
	case !nameRE.MatchString(s.Name):
		v.add(f+".name", "%q must be letters, digits, '.', '_' or '-'", s.Name)
	case seen[s.Name]:
		v.add(f+".name", "%q is declared twice", s.Name)
	}
	seen[s.Name] = true
	sl := silence{name: s.Name, expiry: &drift.Exception{Metadata: drift.Metadata{Name: s.Name}, Spec: drift.ExceptionSpec{ExpiresAt: s.ExpiresAt}}}
	if len(s.Matchers) == 0 {
		v.add(f+".matchers", "is required: a silence is scoped to the findings its matchers select")
	}
	for i, raw := range s.Matchers {
		ms, err := c.matchers(fmt.Sprintf("%s.matchers[%d]", f, i), raw)
		if err == nil {
			sl.matchers = append(sl.matchers, ms...)
		}
	}
	if len(s.Matchers) > 0 && len(v.errs) == before && !scoped(sl.matchers) {
		v.add(f+".matchers", "select every finding; a silence must be scoped: at least one matcher must require a value (unit=\"web\", resource=~\"aws_iam_.*\")")
	}
	if strings.TrimSpace(s.Reason) == "" {
		v.add(f+".reason", "is required: say why the findings are silenced")
	}
	if strings.TrimSpace(s.CreatedBy) == "" {
		v.add(f+".createdBy", "is required: who silenced them")
	}
	if s.StartsAt != "" {
		t, err := time.Parse(time.RFC3339, s.StartsAt)
		if err != nil {
			v.add(f+".startsAt", "%q is not an RFC 3339 time (e.g. 2026-12-01T00:00:00Z)", s.StartsAt)
		}
		sl.starts = t
	}
	if s.ExpiresAt == "" {
		v.add(f+".expiresAt", "is required: every silence expires (RFC 3339, e.g. 2026-12-01T00:00:00Z)")
	} else if _, err := time.Parse(time.RFC3339, s.ExpiresAt); err != nil {
		v.add(f+".expiresAt", "%q is not an RFC 3339 time (e.g. 2026-12-01T00:00:00Z)", s.ExpiresAt)
	} else {
		if !sl.starts.IsZero() && !sl.starts.Before(sl.expiry.Expiry()) {
			v.add(f+".startsAt", "%s is not before expiresAt %s", s.StartsAt, s.ExpiresAt)
		}
		if !at.IsZero() {
			// The same bound as an exception's, by the same function; the policy's
			// maxSilenceDays plays the unit's maxExceptionDays.
			if why := sl.expiry.LifetimeError(at, c.p.maxSilenceDays()); why != "" {
				v.add(f+".expiresAt", "%s (for a silence the bound is spec.maxSilenceDays)", why)
			}
		}
	}
	return sl, len(v.errs) == before
}

// scoped reports whether matchers select a part of the findings: some matcher must reject both
// the empty value and an arbitrary one, so risk!="X", unit=~".*" or resource=~".+" alone do not
// scope a silence.
func scoped(ms labels.Matchers) bool {
	for _, m := range ms {
		if !m.Matches("") && !m.Matches("\x00 arbitrary value \x00") {
			return true
		}
	}
	return false
}

func (p *Policy) maxSilenceDays() int {
	if p.Spec.MaxSilenceDays <= 0 {
		return drift.DefaultMaxExceptionDays
	}
	return p.Spec.MaxSilenceDays
}

func quote(set []string) string {
	q := make([]string, len(set))
	for i, s := range set {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
