// Package webhook delivers notifications to any HTTP endpoint as signed JSON.
//
// The body is {"version": "driftplane.notify/v1", "receiver", "group_key", "sent_at",
// "notifications": [{"finding": <finding schema>, "state", "resolution", "resolved_at", ...}]}.
// Every request carries
//
//	X-Driftplane-Timestamp: <unix seconds>
//	X-Driftplane-Signature: sha256=<hex HMAC-SHA256(key, timestamp + "." + body)>
//	X-Driftplane-Delivery:  <hex SHA-256 of the body>  (the same on every retry of one delivery)
//
// To verify, the endpoint recomputes the HMAC over the timestamp header, a ".", and the raw body
// bytes with the shared key, compares it in constant time with the signature header, and rejects
// a timestamp more than a few minutes from its clock: the timestamp is inside the MAC, so a
// captured request cannot be replayed later with a fresh timestamp. Verify does exactly that.
// The delivery id lets an endpoint drop a retry of a delivery it already processed.
//
// Failed requests are retried with exponential backoff and jitter on no answer, 429 and 5xx
// (honouring Retry-After up to a bound), never on another 4xx; each request has a timeout.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/notify"
)

// Version is the body's version field.
const Version = "driftplane.notify/v1"

// Headers of a signed request.
const (
	HeaderSignature = "X-Driftplane-Signature"
	HeaderTimestamp = "X-Driftplane-Timestamp"
	HeaderDelivery  = "X-Driftplane-Delivery"
)

// MinKeyBytes is the shortest shared key accepted: a short key can be guessed offline from one
// captured request.
const MinKeyBytes = 16

// DefaultTolerance is how far a request's timestamp may be from the verifier's clock.
const DefaultTolerance = 5 * time.Minute

// DefaultTimeout bounds one request.
const DefaultTimeout = 10 * time.Second

// Body is what a webhook receives.
type Body struct {
	Version       string                `json:"version"`
	Receiver      string                `json:"receiver"`
	GroupKey      string                `json:"group_key,omitempty"`
	SentAt        string                `json:"sent_at"`
	Notifications []notify.Notification `json:"notifications"`
}

// Option configures a Receiver.
type Option func(*Receiver)

// WithHTTPClient sets the client (TLS, proxies); http.DefaultClient otherwise.
func WithHTTPClient(c *http.Client) Option { return func(r *Receiver) { r.client = c } }

// WithTimeout bounds one request.
func WithTimeout(d time.Duration) Option { return func(r *Receiver) { r.timeout = d } }

// WithRetry sets the tries and waits (notify.DefaultBackoff otherwise).
func WithRetry(b notify.Backoff) Option { return func(r *Receiver) { r.backoff = b } }

// WithHeader adds a header to every request (e.g. an API gateway's key); never in errors.
func WithHeader(name, value string) Option { return func(r *Receiver) { r.header.Add(name, value) } }

// WithClock sets the clock that stamps requests.
func WithClock(now func() time.Time) Option { return func(r *Receiver) { r.now = now } }

// Receiver posts signed notifications to one URL.
type Receiver struct {
	name    string
	url     string
	key     []byte
	client  *http.Client
	timeout time.Duration
	backoff notify.Backoff
	header  http.Header
	now     func() time.Time
}

// New is a receiver named name posting to target, signing with key (at least MinKeyBytes).
func New(name, target string, key []byte, opts ...Option) (*Receiver, error) {
	if name == "" {
		return nil, errors.New("webhook: receiver has no name")
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("webhook receiver %s: %s is not an http(s) URL", name, notify.RedactURL(target))
	}
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("webhook receiver %s: the signing key must be at least %d bytes", name, MinKeyBytes)
	}
	r := &Receiver{name: name, url: target, key: append([]byte(nil), key...), timeout: DefaultTimeout,
		backoff: notify.DefaultBackoff, header: http.Header{}, now: time.Now}
	for _, o := range opts {
		o(r)
	}
	if r.timeout <= 0 {
		r.timeout = DefaultTimeout
	}
	return r, nil
}

// Name is the receiver's name in the routing policy.
func (r *Receiver) Name() string { return r.name }

// Send posts the group as one signed body, retrying as the package says.
func (r *Receiver) Send(ctx context.Context, group []notify.Notification) error {
	if len(group) == 0 {
		return nil
	}
	now := r.now()
	b := Body{Version: Version, Receiver: r.name, GroupKey: group[0].GroupKey, SentAt: now.UTC().Format(time.RFC3339), Notifications: group}
	body, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("webhook receiver %s: %w", r.name, err)
	}
	sum := sha256.Sum256(body)
	delivery := hex.EncodeToString(sum[:])
	_, err = r.backoff.Do(ctx, func(ctx context.Context) error {
		// Each try is signed afresh: a retry after a long Retry-After must not arrive with a
		// timestamp the endpoint already considers stale.
		ts := strconv.FormatInt(r.now().Unix(), 10)
		h := r.header.Clone()
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, Sign(r.key, ts, body))
		h.Set(HeaderDelivery, delivery)
		pctx, cancel := context.WithTimeout(ctx, r.timeout)
		defer cancel()
		return notify.Post(pctx, r.client, r.url, body, h)
	})
	if err != nil {
		return fmt.Errorf("webhook receiver %s: %w", r.name, err)
	}
	return nil
}

// Sign is the signature header's value for body sent at timestamp ts (unix seconds, as sent in
// the timestamp header).
func Sign(key []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Errors of Verify.
var (
	ErrNoSignature    = errors.New("webhook: no signature or timestamp header")
	ErrBadSignature   = errors.New("webhook: signature does not match")
	ErrStaleTimestamp = errors.New("webhook: timestamp outside the accepted window")
)

// Verify checks a request an endpoint received: the timestamp header is within tolerance of now
// (DefaultTolerance when tolerance <= 0) and the signature header is the HMAC of timestamp and
// body under one of keys (several during a key rotation). It is what an endpoint written in Go
// calls; the package comment says how to do the same elsewhere.
func Verify(keys [][]byte, header http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	ts, sig := header.Get(HeaderTimestamp), header.Get(HeaderSignature)
	if ts == "" || sig == "" {
		return ErrNoSignature
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(ts) > 12 {
		return ErrStaleTimestamp
	}
	if d := now.Sub(time.Unix(secs, 0)); d > tolerance || d < -tolerance {
		return ErrStaleTimestamp
	}
	got, ok := strings.CutPrefix(sig, "sha256=")
	if !ok {
		return ErrBadSignature
	}
	gotMAC, err := hex.DecodeString(got)
	// Only the form Sign writes (lowercase hex) is accepted: one signature, one spelling, so a
	// receiver that compares or logs signatures as strings sees a replay as the same one.
	if err != nil || len(gotMAC) != sha256.Size || hex.EncodeToString(gotMAC) != got {
		return ErrBadSignature
	}
	for _, k := range keys {
		if len(k) == 0 {
			continue
		}
		m := hmac.New(sha256.New, k)
		m.Write([]byte(ts))
		m.Write([]byte{'.'})
		m.Write(body)
		if hmac.Equal(m.Sum(nil), gotMAC) {
			return nil
		}
	}
	return ErrBadSignature
}
