package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// HTTPError is a delivery a server answered with a status outside 2xx. It names the server by
// scheme and host only: webhook URLs carry their token in the path (Slack, generic webhooks) and
// an error ends up in logs, outcomes and evidence.
type HTTPError struct {
	// Target is the server, RedactURL of the URL posted to.
	Target string
	// Status is the HTTP status code.
	Status int
	// RetryAfter is the server's Retry-After (zero when absent or unreadable).
	RetryAfter time.Duration
	// Detail is the start of the response body, scrubbed of URLs, for diagnosis.
	Detail string
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("%s answered %d %s", e.Target, e.Status, http.StatusText(e.Status))
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

// maxDetail bounds how much of a response body an error keeps.
const maxDetail = 256

// Post sends body to target once with the given headers and reports the outcome: nil on a 2xx
// answer, an *HTTPError for any other status, and a network error naming the server by RedactURL.
// The response body is read (up to a bound) and closed, so the connection can be reused.
// With a nil client, redirects are not followed: a notification and its signature go to the
// configured endpoint only (a 307 would re-post them wherever the server points), and a 3xx is
// an error to fix in the configuration.
func Post(ctx context.Context, client *http.Client, target string, body []byte, header http.Header) error {
	if client == nil {
		client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	safe := RedactURL(target)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		// url.Parse errors quote the whole URL; say only which server.
		return fmt.Errorf("%s: invalid request URL", safe)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return &netError{target: safe, err: unwrapURLError(err)}
	}
	defer func() { _ = resp.Body.Close() }()
	detail, _ := io.ReadAll(io.LimitReader(resp.Body, maxDetail))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	return &HTTPError{
		Target:     safe,
		Status:     resp.StatusCode,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		Detail:     ScrubError(strings.TrimSpace(strings.ToValidUTF8(string(detail), "?"))),
	}
}

// netError is a request that got no answer (refused, reset, timed out); always worth retrying.
type netError struct {
	target string
	err    error
}

func (e *netError) Error() string { return e.target + ": " + ScrubError(e.err.Error()) }
func (e *netError) Unwrap() error { return e.err }

// unwrapURLError drops *url.Error's wrapping, whose message quotes the full URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// maxRetryAfter bounds what a server can ask for, whatever it sends.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads Retry-After as seconds or as an HTTP date (RFC 9110 §10.2.3), as a wait
// between zero and maxRetryAfter.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return min(time.Duration(min(s, int64(maxRetryAfter/time.Second)))*time.Second, maxRetryAfter)
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter)
	}
	return 0
}

// Retryable says whether a delivery that failed with err may succeed if tried again: no answer
// (network error, a timed-out attempt), 429 and 5xx are; any other answer (a 4xx: bad payload,
// wrong token, unknown hook) is not, and retrying would only repeat it.
func Retryable(err error) bool {
	switch e := err.(type) { //nolint:errorlint // walks the wrapping itself, to see every part of a joined error
	case nil:
		return false
	case *HTTPError:
		return e.Status == http.StatusTooManyRequests || e.Status >= 500
	case *netError:
		return true
	case net.Error: // timeouts, context.DeadlineExceeded among them
		return true
	case interface{ Unwrap() []error }:
		// Joined errors (several peers, several events): worth retrying when any part is.
		for _, x := range e.Unwrap() {
			if Retryable(x) {
				return true
			}
		}
		return false
	case interface{ Unwrap() error }:
		return Retryable(e.Unwrap())
	}
	return false
}

// RetryAfter is the wait a server asked for in err (zero when it asked none).
func RetryAfter(err error) time.Duration {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.RetryAfter
	}
	return 0
}

// Backoff is a bounded retry policy: Attempts tries in all, waiting Base·2ⁿ (at most Max) with
// jitter between them, or what the server asked for with Retry-After when that is longer (still
// at most Max: a server cannot stall a delivery for an hour).
type Backoff struct {
	Attempts int
	Base     time.Duration
	Max      time.Duration
}

// DefaultBackoff is three tries, waiting about 0.5s then 1s.
var DefaultBackoff = Backoff{Attempts: 3, Base: 500 * time.Millisecond, Max: 10 * time.Second}

func (b Backoff) normalized() Backoff {
	if b.Attempts < 1 {
		b.Attempts = 1
	}
	if b.Base <= 0 {
		b.Base = DefaultBackoff.Base
	}
	if b.Max < b.Base {
		b.Max = b.Base
	}
	return b
}

// Delay is how long to wait after the failed attempt-th try (1-based) that ended with err.
// The jitter (between half and all of the exponential step) spreads the retries of many
// drift reporters hitting one recovering server.
func (b Backoff) Delay(attempt int, err error) time.Duration {
	b = b.normalized()
	d := b.Base
	for i := 1; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	d = min(d, b.Max)
	d = d/2 + time.Duration(mrand.Int64N(int64(d/2)+1)) //nolint:gosec // jitter, not a secret
	if ra := RetryAfter(err); ra > d {
		d = min(ra, b.Max)
	}
	return d
}

// Do calls try until it succeeds, fails with an error Retryable says is final, the attempts are
// spent or ctx ends (a wait that would outlast ctx's deadline is not started). It returns the
// number of tries made and the last error.
func (b Backoff) Do(ctx context.Context, try func(context.Context) error) (int, error) {
	b = b.normalized()
	var err error
	for attempt := 1; ; attempt++ {
		if err = try(ctx); err == nil || !Retryable(err) || attempt >= b.Attempts {
			return attempt, err
		}
		wait := b.Delay(attempt, err)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return attempt, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return attempt, err
		case <-t.C:
		}
	}
}

// RedactURL names a server without what may be a credential: scheme and host only (no user
// information, path, query or fragment). Slack and most webhook URLs are bearer tokens.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "<invalid URL>"
	}
	return u.Scheme + "://" + u.Host
}

var urlInText = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>]+`)

// ScrubError rewrites every URL in an error message to its RedactURL form, so an error from a
// receiver (or a library under it) that quotes a webhook URL cannot leak its token into an
// outcome or a log.
func ScrubError(msg string) string {
	return urlInText.ReplaceAllStringFunc(msg, func(u string) string {
		return RedactURL(strings.TrimRight(u, ".,;:)]}"))
	})
}
