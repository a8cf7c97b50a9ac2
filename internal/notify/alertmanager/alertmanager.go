// Package alertmanager pushes drift findings to Prometheus Alertmanager through its API v2
// (POST /api/v2/alerts), so shops that already route with Alertmanager keep doing so: one alert
// per drift fingerprint, labelled alertname=DriftFinding with unit, owner, domain, environment,
// class, risk, resource and fingerprint, annotated with what changed (paths only), who changed
// it, the recommended action, the evidence and a link.
//
// Firing and resolving follow Alertmanager's own model, the one Prometheus uses. An alert posted
// without endsAt is resolved by Alertmanager after its global resolve_timeout (5m by default)
// unless it is posted again, which would flap a drift that a scan every hour reports. So a
// firing alert carries an explicit endsAt of now + 4 × the resend interval (the interval at which
// driftplane evaluates and re-posts, WithResendInterval; Prometheus uses the same factor): it
// stays firing as long as driftplane keeps evaluating, and resolves by itself only when
// driftplane has stopped telling Alertmanager for four intervals (the DriftEvaluationStale rule
// tells that story). A resolved notification posts the same labels with endsAt = resolved_at,
// which resolves the alert at once.
//
// Several URLs are peers of one Alertmanager cluster: each alert is posted to all of them (the
// cluster deduplicates notifications), and a delivery succeeds when any peer accepted it.
package alertmanager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/notify"
)

// AlertName is the alertname label of every alert this receiver posts.
const AlertName = "DriftFinding"

// DefaultResendInterval is the assumed evaluation interval when none is given.
const DefaultResendInterval = 15 * time.Minute

// DefaultTimeout bounds one POST to one peer.
const DefaultTimeout = 10 * time.Second

// maxAnnotation bounds an annotation's bytes: Alertmanager keeps alerts in memory and a
// receiver's template may paste them into a chat message.
const maxAnnotation = 4096

var labelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// PostableAlert is Alertmanager API v2's postableAlert.
type PostableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     string            `json:"startsAt,omitempty"`
	EndsAt       string            `json:"endsAt,omitempty"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// Option configures a Receiver.
type Option func(*Receiver)

// WithHTTPClient sets the client (TLS, proxies); http.DefaultClient otherwise.
func WithHTTPClient(c *http.Client) Option { return func(r *Receiver) { r.client = c } }

// WithTimeout bounds one POST to one peer.
func WithTimeout(d time.Duration) Option { return func(r *Receiver) { r.timeout = d } }

// WithResendInterval is how often driftplane evaluates and re-posts firing alerts; a firing
// alert's endsAt is four of them ahead.
func WithResendInterval(d time.Duration) Option { return func(r *Receiver) { r.resend = d } }

// WithHeader adds a header to every request (Authorization for an Alertmanager behind a proxy).
// Header values never appear in errors.
func WithHeader(name, value string) Option {
	return func(r *Receiver) { r.header.Add(name, value) }
}

// WithLabels adds static labels to every alert (e.g. source=driftplane, cluster=prod); a finding
// label of the same name wins.
func WithLabels(labels map[string]string) Option {
	return func(r *Receiver) {
		for k, v := range labels {
			r.static[k] = v
		}
	}
}

// WithClock sets the clock that dates alerts.
func WithClock(now func() time.Time) Option { return func(r *Receiver) { r.now = now } }

// Receiver posts notifications to Alertmanager.
type Receiver struct {
	name    string
	urls    []string
	client  *http.Client
	timeout time.Duration
	resend  time.Duration
	header  http.Header
	static  map[string]string
	now     func() time.Time
}

// New is a receiver named name posting to the Alertmanagers at urls (base URLs, such as
// http://alertmanager:9093; a path prefix for --web.route-prefix is kept).
func New(name string, urls []string, opts ...Option) (*Receiver, error) {
	r := &Receiver{name: name, timeout: DefaultTimeout, resend: DefaultResendInterval,
		header: http.Header{}, static: map[string]string{}, now: time.Now}
	if name == "" {
		return nil, errors.New("alertmanager: receiver has no name")
	}
	if len(urls) == 0 {
		return nil, fmt.Errorf("alertmanager receiver %s: no URL", name)
	}
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("alertmanager receiver %s: %s is not an http(s) URL", name, notify.RedactURL(raw))
		}
		u.Path = strings.TrimSuffix(u.Path, "/") + "/api/v2/alerts"
		r.urls = append(r.urls, u.String())
	}
	for _, o := range opts {
		o(r)
	}
	for k := range r.static {
		// Alertmanager's classic label names; anything else would have every alert refused.
		if !labelName.MatchString(k) {
			return nil, fmt.Errorf("alertmanager receiver %s: %q is not a label name", name, k)
		}
	}
	if r.resend <= 0 {
		r.resend = DefaultResendInterval
	}
	if r.timeout <= 0 {
		r.timeout = DefaultTimeout
	}
	return r, nil
}

// Name is the receiver's name in the routing policy.
func (r *Receiver) Name() string { return r.name }

// Send posts one alert per notification to every peer, and succeeds when any peer accepted all.
func (r *Receiver) Send(ctx context.Context, group []notify.Notification) error {
	if len(group) == 0 {
		return nil
	}
	body, err := json.Marshal(Alerts(group, r.now(), r.resend, r.static))
	if err != nil {
		return fmt.Errorf("alertmanager receiver %s: %w", r.name, err)
	}
	errs := make([]error, len(r.urls))
	var wg sync.WaitGroup
	for i, u := range r.urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, r.timeout)
			defer cancel()
			errs[i] = notify.Post(pctx, r.client, u, body, r.header)
		}()
	}
	wg.Wait()
	for _, e := range errs {
		if e == nil {
			return nil
		}
	}
	return fmt.Errorf("alertmanager receiver %s: no peer accepted the alerts: %w", r.name, errors.Join(errs...))
}

// Alerts turns notifications into postable alerts at now: firing ones end 4 × resend ahead,
// resolved ones at their resolution time (never in the future, so Alertmanager resolves them at
// once whatever the clocks say). Empty labels are left out (Alertmanager drops them anyway, and
// a matcher on an empty value is how Alertmanager spells "absent").
func Alerts(group []notify.Notification, now time.Time, resend time.Duration, static map[string]string) []PostableAlert {
	now = now.UTC()
	out := make([]PostableAlert, 0, len(group))
	for _, n := range group {
		f := n.Finding
		labels := map[string]string{}
		for k, v := range static {
			labels[k] = v
		}
		for k, v := range map[string]string{
			"alertname":   AlertName,
			"unit":        f.Unit,
			"owner":       f.Owner,
			"domain":      f.Domain,
			"environment": f.Environment,
			"class":       string(f.DriftClass),
			"risk":        string(f.Risk),
			"resource":    f.ResourceRef,
			"fingerprint": notify.Fingerprint(n),
		} {
			labels[k] = v
		}
		for k, v := range labels {
			if v == "" {
				delete(labels, k)
			}
		}
		ann := map[string]string{
			"summary":            notify.Summary(n),
			"description":        f.Describe(),
			"changed_fields":     notify.ChangedFields(n),
			"actor":              notify.Actor(n),
			"recommended_action": string(f.RecommendedAction),
			"evidence":           f.Evidence,
			"evidence_uri":       n.EvidenceURI,
			"link":               n.Link,
			"finding_id":         f.FindingID,
			"first_seen":         f.FirstSeen,
			"accepted_by":        f.AcceptedBy,
			"route":              n.Route,
		}
		if f.Blocking {
			ann["blocking"] = "true"
		}
		if n.State == notify.StateResolved {
			ann["resolution"] = n.Resolution
		}
		for k, v := range ann {
			if v == "" {
				delete(ann, k)
			} else {
				ann[k] = notify.Truncate(v, maxAnnotation)
			}
		}
		start := parseTime(f.FirstSeen)
		if start.IsZero() {
			start = parseTime(f.DetectedAt)
		}
		var end time.Time
		if n.State == notify.StateResolved {
			end = parseTime(n.ResolvedAt)
			if end.IsZero() || end.After(now) {
				end = now
			}
		} else {
			end = now.Add(4 * resend)
		}
		if start.IsZero() || start.After(end) {
			start = now
			if end.Before(now) {
				start = end
			}
		}
		a := PostableAlert{Labels: labels, Annotations: ann, StartsAt: start.Format(time.RFC3339Nano), EndsAt: end.Format(time.RFC3339Nano)}
		if u, err := url.Parse(n.Link); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
			a.GeneratorURL = n.Link
		}
		out = append(out, a)
	}
	return out
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}
