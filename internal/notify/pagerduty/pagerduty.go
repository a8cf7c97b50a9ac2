// Package pagerduty pages through PagerDuty's Events API v2 (POST /v2/enqueue): a firing
// notification triggers an alert, a resolved one resolves it, and the dedup_key is the drift's
// fingerprint, so re-sending a drift at every evaluation adds to the one open alert instead of
// paging again, and the resolution closes exactly that alert.
//
// PagerDuty is for paging: a firing notification whose route did not ask to page (page: false)
// is not sent at all, rather than sent as an info-level alert that would still open an incident
// on most services; route those to a ticket or chat receiver. A resolved notification is always
// sent: resolving a dedup_key that never triggered is a no-op for PagerDuty, and it closes an
// alert whose route stopped paging since it fired.
//
// Severity follows the finding's risk: CRITICAL → critical, HIGH → error, MEDIUM → warning,
// LOW and INFO → info. custom_details carry the finding's schema fields (paths, digests,
// classification), never a changed value.
package pagerduty

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/notify"
)

// DefaultURL is PagerDuty's Events API v2 endpoint.
const DefaultURL = "https://events.pagerduty.com/v2/enqueue"

// DefaultTimeout bounds one request.
const DefaultTimeout = 10 * time.Second

// Limits the Events API documents.
const (
	maxSummary = 1024
	maxDedup   = 255
)

// Event actions.
const (
	ActionTrigger = "trigger"
	ActionResolve = "resolve"
)

// Event is an Events API v2 event.
type Event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"`
	DedupKey    string   `json:"dedup_key"`
	Payload     *Payload `json:"payload,omitempty"`
	Links       []Link   `json:"links,omitempty"`
	Client      string   `json:"client,omitempty"`
	ClientURL   string   `json:"client_url,omitempty"`
}

// Payload is a trigger event's payload.
type Payload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp,omitempty"`
	Component     string         `json:"component,omitempty"`
	Group         string         `json:"group,omitempty"`
	Class         string         `json:"class,omitempty"`
	CustomDetails map[string]any `json:"custom_details,omitempty"`
}

// Link is a link shown on the alert.
type Link struct {
	Href string `json:"href"`
	Text string `json:"text,omitempty"`
}

// Option configures a Receiver.
type Option func(*Receiver)

// WithURL sends to another Events API endpoint (EU service region, a proxy, a test server).
func WithURL(u string) Option { return func(r *Receiver) { r.url = u } }

// WithHTTPClient sets the client (TLS, proxies); http.DefaultClient otherwise.
func WithHTTPClient(c *http.Client) Option { return func(r *Receiver) { r.client = c } }

// WithTimeout bounds one request.
func WithTimeout(d time.Duration) Option { return func(r *Receiver) { r.timeout = d } }

// Receiver sends events to one PagerDuty service integration.
type Receiver struct {
	name       string
	routingKey string
	url        string
	client     *http.Client
	timeout    time.Duration
}

// New is a receiver named name sending with the integration's routing key.
func New(name, routingKey string, opts ...Option) (*Receiver, error) {
	if name == "" {
		return nil, errors.New("pagerduty: receiver has no name")
	}
	if routingKey == "" {
		return nil, fmt.Errorf("pagerduty receiver %s: no routing key", name)
	}
	r := &Receiver{name: name, routingKey: routingKey, url: DefaultURL, timeout: DefaultTimeout}
	for _, o := range opts {
		o(r)
	}
	u, err := url.Parse(r.url)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("pagerduty receiver %s: %s is not an http(s) URL", name, notify.RedactURL(r.url))
	}
	if r.timeout <= 0 {
		r.timeout = DefaultTimeout
	}
	return r, nil
}

// Name is the receiver's name in the routing policy.
func (r *Receiver) Name() string { return r.name }

// Send sends one event per notification (Events lists which); it tries them all and reports
// every failure. Re-sending is safe: events are deduplicated by dedup_key.
func (r *Receiver) Send(ctx context.Context, group []notify.Notification) error {
	var errs []error
	for _, e := range Events(r.routingKey, group) {
		body, err := json.Marshal(e)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, r.timeout)
		err = notify.Post(pctx, r.client, r.url, body, nil)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", e.EventAction, e.DedupKey, err))
		}
		if ctx.Err() != nil {
			break
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("pagerduty receiver %s: %w", r.name, errors.Join(errs...))
	}
	return nil
}

// Severity is the PagerDuty severity of a risk.
func Severity(r drift.Risk) string {
	switch r {
	case drift.RiskCritical:
		return "critical"
	case drift.RiskHigh:
		return "error"
	case drift.RiskMedium:
		return "warning"
	default:
		return "info"
	}
}

// Events are the events a group sends: a trigger for each firing notification that pages, a
// resolve for each resolved one; firing notifications that do not page are left out.
func Events(routingKey string, group []notify.Notification) []Event {
	var out []Event
	for _, n := range group {
		dedup := notify.Truncate(notify.Fingerprint(n), maxDedup)
		if n.State == notify.StateResolved {
			out = append(out, Event{RoutingKey: routingKey, EventAction: ActionResolve, DedupKey: dedup, Client: "driftplane"})
			continue
		}
		if !n.Page && !n.Incident {
			continue
		}
		f := n.Finding
		source := f.ResourceRef
		if f.Unit != "" {
			source = f.Unit + "/" + f.ResourceRef
		}
		if source == "" {
			source = "driftplane" // the Events API rejects an empty source
		}
		e := Event{
			RoutingKey: routingKey, EventAction: ActionTrigger, DedupKey: dedup, Client: "driftplane",
			Payload: &Payload{
				Summary:   notify.Truncate(notify.Summary(n), maxSummary),
				Source:    source,
				Severity:  severityOf(n),
				Timestamp: f.DetectedAt,
				Component: f.ResourceRef,
				Group:     f.Unit,
				Class:     string(f.DriftClass),
				CustomDetails: map[string]any{
					"fingerprint":        notify.Fingerprint(n),
					"finding_id":         f.FindingID,
					"unit":               f.Unit,
					"owner":              f.Owner,
					"domain":             f.Domain,
					"environment":        f.Environment,
					"resource":           f.ResourceRef,
					"drift_class":        string(f.DriftClass),
					"risk":               string(f.Risk),
					"changed_fields":     f.ChangedFields,
					"sensitive_fields":   f.SensitiveFields,
					"deleted":            f.Deleted,
					"recommended_action": string(f.RecommendedAction),
					"actor":              notify.Actor(n),
					"evidence":           f.Evidence,
					"evidence_uri":       n.EvidenceURI,
					"first_seen":         f.FirstSeen,
					"age":                f.Age,
					"blocking":           f.Blocking,
					"rule":               f.Rule,
					"route":              n.Route,
					"explanation":        f.Explanation,
				},
			},
		}
		if _, err := time.Parse(time.RFC3339Nano, f.DetectedAt); err != nil {
			e.Payload.Timestamp = ""
		}
		if u, err := url.Parse(n.Link); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			e.Links = []Link{{Href: n.Link, Text: "Drift finding"}}
			e.ClientURL = n.Link
		}
		out = append(out, e)
	}
	return out
}

// severityOf is the risk's severity when the notification pages, and at most warning when it
// only opens an incident.
func severityOf(n notify.Notification) string {
	s := Severity(n.Finding.Risk)
	if n.Page || s == "info" {
		return s
	}
	return "warning"
}
