package route

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// Decision is what one matched route does with a finding.
type Decision struct {
	// Route is the route's path in the tree (route, route.routes[1].routes[0]); Name its name.
	Route string `json:"route"`
	Name  string `json:"name,omitempty"`
	// Receivers are told about the finding; empty when Notify is false, and Held then names who
	// would have been told, so no consumer can send a silenced or INFO finding by forgetting to
	// look at Notify.
	Receivers []string `json:"receivers"`
	Held      []string `json:"held,omitempty"`
	Notify    bool     `json:"notify"`
	// GroupBy and GroupKey: findings with one group key are sent together, as one notification.
	GroupBy        []string `json:"group_by"`
	GroupKey       string   `json:"group_key"`
	GroupWait      string   `json:"group_wait"`
	GroupInterval  string   `json:"group_interval"`
	RepeatInterval string   `json:"repeat_interval"`
	Page           bool     `json:"page"`
	CreateIncident bool     `json:"create_incident"`
	CreateIssue    bool     `json:"create_issue"`
	// Declined are the issue receivers (github, gitlab, gitea) the route names but whose
	// createIssue is off: they open no issue for it.
	Declined []string `json:"declined,omitempty"`
	// SilencedBy names the active silences that mute the finding.
	SilencedBy []string `json:"silenced_by,omitempty"`
	// InactiveSilences are silences whose matchers select the finding but which are expired or
	// not started, so silence nothing; each says why.
	InactiveSilences []string `json:"inactive_silences,omitempty"`
	// Suppressed says why Notify is false.
	Suppressed string `json:"suppressed,omitempty"`
}

// InfoUnrouted is the Suppressed reason of an INFO finding no route takes explicitly.
const InfoUnrouted = `INFO findings are routed nowhere by default; a route whose matchers accept risk="INFO" explicitly sends them`

// ErrNotValidated is returned by Route for a policy that did not come from New, Decode or Load
// (or whose Validate failed).
var ErrNotValidated = errors.New("route: the routing policy was not validated")

// Match routes a finding of a unit with the given metadata.labels at time at.
func (p *Policy) Match(f drift.Finding, unitLabels map[string]string, at time.Time) ([]Decision, error) {
	return p.Route(LabelsOf(f, unitLabels), at)
}

// Route routes a label set at time at: the routes Alertmanager's algorithm selects, each with
// its inherited receivers, grouping and switches, and the silences that apply. There is always
// at least one decision, because the root matches everything.
func (p *Policy) Route(ls Labels, at time.Time) ([]Decision, error) {
	if p == nil || p.root == nil {
		return nil, ErrNotValidated
	}
	lset := model.LabelSet{}
	for k, v := range ls {
		lset[model.LabelName(k)] = model.LabelValue(v)
	}
	var silencedBy, inactive []string
	for _, s := range p.silences {
		if !s.matchers.Matches(lset) {
			continue
		}
		switch {
		case s.expiry.Expired(at):
			inactive = append(inactive, fmt.Sprintf("%s: expired at %s; it silences nothing", s.name, s.expiry.Spec.ExpiresAt))
		case !s.starts.IsZero() && at.Before(s.starts):
			inactive = append(inactive, fmt.Sprintf("%s: starts at %s; it silences nothing yet", s.name, s.starts.UTC().Format(time.RFC3339)))
		default:
			silencedBy = append(silencedBy, s.name)
		}
	}
	var out []Decision
	for _, n := range p.root.match(lset) {
		// Copies: a consumer that edits a decision must not edit the policy.
		d := Decision{Route: n.path, Name: n.name, Receivers: slices.Clone(n.receivers), Notify: true,
			GroupBy: slices.Clone(n.groupBy), GroupKey: n.groupKey(lset),
			GroupWait: n.groupWait.String(), GroupInterval: n.groupInterval.String(), RepeatInterval: n.repeatInterval.String(),
			Page: n.page, CreateIncident: n.incident, CreateIssue: n.issue,
			SilencedBy: slices.Clone(silencedBy), InactiveSilences: slices.Clone(inactive)}
		if n.groupAll {
			d.GroupBy = []string{GroupByAll}
		}
		if !n.issue {
			d.Receivers, d.Declined = p.splitIssueReceivers(d.Receivers)
		}
		switch {
		case len(silencedBy) > 0:
			d.Suppressed = "silenced by " + strings.Join(silencedBy, ", ")
		case ls[LabelRisk] == string(drift.RiskInfo) && !n.infoExplicit:
			d.Suppressed = InfoUnrouted
		}
		if d.Suppressed != "" {
			d.Notify, d.Held, d.Receivers = false, d.Receivers, nil
			d.Page, d.CreateIncident, d.CreateIssue = false, false, false
		}
		out = append(out, d)
	}
	return out, nil
}

// match is Alertmanager's Route.Match: the deepest matching routes, depth-first; the first
// matching child ends the search among its siblings unless it has continue; a route none of
// whose children match takes the labels itself.
func (n *node) match(lset model.LabelSet) []*node {
	if !n.matchers.Matches(lset) {
		return nil
	}
	var all []*node
	for _, c := range n.children {
		m := c.match(lset)
		all = append(all, m...)
		if m != nil && !c.cont {
			break
		}
	}
	if len(all) == 0 {
		all = append(all, n)
	}
	return all
}

// groupKey is the route's path and the values of its group labels, as Alertmanager keys an
// aggregation group by route and group labels.
func (n *node) groupKey(lset model.LabelSet) string {
	names := n.groupBy
	if n.groupAll {
		names = names[:0:0]
		for k := range lset {
			names = append(names, string(k))
		}
		sort.Strings(names)
	}
	parts := make([]string, 0, len(names))
	for _, l := range names {
		if v, ok := lset[model.LabelName(l)]; ok {
			parts = append(parts, fmt.Sprintf("%s=%q", l, string(v)))
		}
	}
	return n.path + ":{" + strings.Join(parts, ",") + "}"
}

// IssueReceiverTypes are the receiver types that open issues, and act only where a route's
// createIssue is on.
func IssueReceiverTypes() []string { return []string{"github", "gitlab", "gitea"} }

// splitIssueReceivers separates the issue receivers from the others.
func (p *Policy) splitIssueReceivers(names []string) (others, issues []string) {
	for _, name := range names {
		isIssue := false
		for _, r := range p.Spec.Receivers {
			if r.Name == name && slices.Contains(IssueReceiverTypes(), r.Type) {
				isIssue = true
			}
		}
		if isIssue {
			issues = append(issues, name)
		} else {
			others = append(others, name)
		}
	}
	return others, issues
}
