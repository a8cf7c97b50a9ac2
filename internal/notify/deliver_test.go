package notify_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/notify"
	"github.com/driftplane/terraform-provider-drift/internal/notify/alertmanager"
	"github.com/driftplane/terraform-provider-drift/internal/notify/pagerduty"
	"github.com/driftplane/terraform-provider-drift/internal/notify/slack"
	"github.com/driftplane/terraform-provider-drift/internal/notify/webhook"
)

func note(fp, state string) notify.Notification {
	return notify.Notification{
		Finding: drift.Finding{FindingID: "drift-" + fp, Fingerprint: fp, Unit: "payments", Owner: "team-payments",
			Domain: "identity", Environment: "prod", ResourceRef: "aws_iam_role.app", DriftClass: drift.ClassUnauthorizedRuntime,
			Risk: drift.RiskHigh, ChangedFields: []string{"/assume_role_policy"}, RecommendedAction: drift.ActionIncident},
		State: state, GroupKey: "g-" + fp, Page: true,
	}
}

// fake is a receiver whose behaviour a test sets per call.
type fake struct {
	name  string
	mu    sync.Mutex
	calls int
	got   []string // fingerprint/state of what was delivered
	send  func(ctx context.Context, call int) error
}

func (f *fake) Name() string { return f.name }

func (f *fake) Send(ctx context.Context, group []notify.Notification) error {
	f.mu.Lock()
	f.calls++
	call := f.calls
	send := f.send
	f.mu.Unlock()
	var err error
	if send != nil {
		err = send(ctx, call)
	}
	if err == nil {
		f.mu.Lock()
		for _, n := range group {
			f.got = append(f.got, n.Finding.Fingerprint+"/"+n.State)
		}
		f.mu.Unlock()
	}
	return err
}

func (f *fake) delivered() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

type sink struct {
	mu  sync.Mutex
	all []notify.Outcome
}

func (s *sink) RecordOutcomes(_ context.Context, os []notify.Outcome) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.all = append(s.all, os...)
	return nil
}

func (s *sink) count(outcome string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, o := range s.all {
		if o.Outcome == outcome {
			n++
		}
	}
	return n
}

func fastRetry(attempts int) notify.DispatcherOption {
	return notify.WithRetry(notify.Backoff{Attempts: attempts, Base: 10 * time.Millisecond, Max: 50 * time.Millisecond})
}

func TestDispatchRetriesThenSends(t *testing.T) {
	r := &fake{name: "r", send: func(_ context.Context, call int) error {
		if call == 1 {
			return &notify.HTTPError{Target: "https://hooks.example", Status: 503}
		}
		return nil
	}}
	s := &sink{}
	d, err := notify.NewDispatcher([]notify.Receiver{r}, fastRetry(3), notify.WithSink(s))
	if err != nil {
		t.Fatal(err)
	}
	res := d.Dispatch(context.Background(), []notify.Work{{Receiver: "r", Group: []notify.Notification{note("fp-1", notify.StateFiring)}}})
	if len(res.Outcomes) != 1 || res.Outcomes[0].Outcome != notify.OutcomeSent || res.Outcomes[0].Attempts != 2 {
		t.Fatalf("outcomes = %+v, want one sent after 2 attempts", res.Outcomes)
	}
	if s.count(notify.OutcomeRetrying) != 1 || s.count(notify.OutcomeSent) != 1 {
		t.Fatalf("sink saw %+v, want one retrying then one sent", s.all)
	}
	if res.Pending != 0 {
		t.Fatalf("pending = %d", res.Pending)
	}
}

func TestDispatchNoRetryOnClientError(t *testing.T) {
	r := &fake{name: "r", send: func(context.Context, int) error {
		return &notify.HTTPError{Target: "https://hooks.example", Status: 400, Detail: "invalid_payload"}
	}}
	d, _ := notify.NewDispatcher([]notify.Receiver{r}, fastRetry(5))
	res := d.Dispatch(context.Background(), []notify.Work{{Receiver: "r", Group: []notify.Notification{note("fp-1", notify.StateFiring)}}})
	o := res.Outcomes[0]
	if o.Outcome != notify.OutcomeFailed || o.Attempts != 1 || r.calls != 1 || !o.Requeued {
		t.Fatalf("outcome = %+v after %d calls, want failed once and requeued", o, r.calls)
	}
	if !strings.Contains(o.Error, "400") {
		t.Fatalf("error %q does not say what the server answered", o.Error)
	}
}

// A notification that failed is delivered by the next Dispatch, and a newer notification of the
// same drift replaces it in the queue: the drift is told resolved, once, never stale-firing.
func TestDispatchRequeueAndSupersede(t *testing.T) {
	var healthy atomic.Bool
	r := &fake{name: "r", send: func(context.Context, int) error {
		if !healthy.Load() {
			return errors.New("connection refused")
		}
		return nil
	}}
	s := &sink{}
	d, _ := notify.NewDispatcher([]notify.Receiver{r}, fastRetry(1), notify.WithSink(s))
	res := d.Dispatch(context.Background(), []notify.Work{{Receiver: "r", Group: []notify.Notification{note("fp-1", notify.StateFiring), note("fp-2", notify.StateFiring)}}})
	if res.Pending != 2 || len(res.Failed()) != 2 {
		t.Fatalf("first run: %+v", res)
	}
	if p := d.Pending(); len(p) != 2 || p[0].Outcome != notify.OutcomeFailed || p[0].Attempts != 1 {
		t.Fatalf("pending = %+v", p)
	}
	healthy.Store(true)
	res = d.Dispatch(context.Background(), []notify.Work{{Receiver: "r", Group: []notify.Notification{note("fp-2", notify.StateResolved)}}})
	byFP := map[string]notify.Outcome{}
	for _, o := range res.Outcomes {
		byFP[o.Fingerprint+"/"+o.State] = o
	}
	if byFP["fp-1/firing"].Outcome != notify.OutcomeSent || byFP["fp-1/firing"].Attempts != 2 {
		t.Errorf("queued fp-1: %+v", byFP["fp-1/firing"])
	}
	if byFP["fp-2/firing"].Outcome != notify.OutcomeSuperseded {
		t.Errorf("queued fp-2 firing: %+v, want superseded", byFP["fp-2/firing"])
	}
	if byFP["fp-2/resolved"].Outcome != notify.OutcomeSent || byFP["fp-2/resolved"].Attempts != 2 {
		t.Errorf("fp-2 resolved: %+v, want sent, attempts counted across runs", byFP["fp-2/resolved"])
	}
	got := r.delivered()
	sort.Strings(got)
	if fmt.Sprint(got) != "[fp-1/firing fp-2/resolved]" {
		t.Errorf("delivered %v", got)
	}
	if res.Pending != 0 || len(d.Pending()) != 0 {
		t.Errorf("still pending: %+v", d.Pending())
	}
}

func TestDispatchQueueIsBounded(t *testing.T) {
	r := &fake{name: "r", send: func(context.Context, int) error { return errors.New("down") }}
	d, _ := notify.NewDispatcher([]notify.Receiver{r}, fastRetry(1), notify.WithQueueLimit(2))
	d.Dispatch(context.Background(), []notify.Work{{Receiver: "r", Group: []notify.Notification{note("fp-old", notify.StateFiring)}}})
	res := d.Dispatch(context.Background(), []notify.Work{{Receiver: "r", Group: []notify.Notification{note("fp-a", notify.StateFiring), note("fp-b", notify.StateFiring)}}})
	if res.Pending != 2 {
		t.Fatalf("pending = %d, want the limit 2", res.Pending)
	}
	for _, o := range res.Outcomes {
		// The oldest is the one dropped, and its outcome says so: a dropped delivery is visible.
		if want := o.Fingerprint != "fp-old"; o.Requeued != want || o.Outcome != notify.OutcomeFailed {
			t.Errorf("%s: %+v, requeued want %v", o.Fingerprint, o, want)
		}
	}
}

// Errors from receivers (or the libraries under them) may quote a webhook URL whose path is the
// credential; outcomes are recorded in the ledger and logs, so the URL is cut to its host.
func TestOutcomeErrorNeverCarriesAToken(t *testing.T) {
	const token = "T000/B000/XXXXsecrettokenXXXX"
	r := &fake{name: "r", send: func(context.Context, int) error {
		return fmt.Errorf(`Post "https://hooks.slack.com/services/%s": dial tcp: i/o timeout`, token)
	}}
	d, _ := notify.NewDispatcher([]notify.Receiver{r}, fastRetry(2))
	res := d.Dispatch(context.Background(), []notify.Work{{Receiver: "r", Group: []notify.Notification{note("fp-1", notify.StateFiring)}}})
	if e := res.Outcomes[0].Error; strings.Contains(e, "secrettoken") || !strings.Contains(e, "https://hooks.slack.com") {
		t.Fatalf("outcome error %q", e)
	}
}

func TestDispatchSurvivesPanicsAndUnknownReceivers(t *testing.T) {
	r := &fake{name: "r", send: func(context.Context, int) error { panic("boom") }}
	d, _ := notify.NewDispatcher([]notify.Receiver{r}, fastRetry(1))
	res := d.Dispatch(context.Background(), []notify.Work{
		{Receiver: "r", Group: []notify.Notification{note("fp-1", notify.StateFiring)}},
		{Receiver: "nobody", Group: []notify.Notification{note("fp-2", notify.StateFiring)}},
	})
	if len(res.Failed()) != 2 || res.Pending != 2 {
		t.Fatalf("%+v", res)
	}
	if _, err := notify.NewDispatcher([]notify.Receiver{r, &fake{name: "r"}}); err == nil {
		t.Fatal("two receivers of one name accepted")
	}
}

// hang is a server that never answers until the test ends.
func hang(t *testing.T) string {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stop:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(stop); srv.CloseClientConnections(); srv.Close() })
	return srv.URL
}

// stuck is a receiver that ignores its context: only abandoning it keeps the deadline.
type stuck struct {
	name    string
	release chan struct{}
	healthy atomic.Bool
}

func (s *stuck) Name() string { return s.name }
func (s *stuck) Send(context.Context, []notify.Notification) error {
	if s.healthy.Load() {
		return nil
	}
	<-s.release
	return errors.New("released")
}

// Chaos: every receiver times out or hangs. Dispatch still returns by its deadline, every
// notification has a failed outcome and is queued, and a later healthy run delivers them all.
func TestChaosEveryReceiverHangs(t *testing.T) {
	hung := hang(t)
	am, err := alertmanager.New("am", []string{hung, hang(t)})
	if err != nil {
		t.Fatal(err)
	}
	wh, err := webhook.New("wh", hung+"/hook", []byte("0123456789abcdef0123"), webhook.WithRetry(notify.Backoff{Attempts: 5, Base: 50 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	sl, err := slack.New("slack", hung+"/services/T/B/secret")
	if err != nil {
		t.Fatal(err)
	}
	pd, err := pagerduty.New("pd", "routing-key-0123456789", pagerduty.WithURL(hung+"/v2/enqueue"))
	if err != nil {
		t.Fatal(err)
	}
	st := &stuck{name: "stuck", release: make(chan struct{})}
	t.Cleanup(func() { close(st.release) })

	receivers := []notify.Receiver{am, wh, sl, pd, st}
	var work []notify.Work
	for i, r := range receivers {
		a, b := note(fmt.Sprintf("fp-%d-a", i), notify.StateFiring), note(fmt.Sprintf("fp-%d-b", i), notify.StateFiring)
		a.GroupKey, b.GroupKey = fmt.Sprintf("g-%d", i), fmt.Sprintf("g-%d", i)
		work = append(work, notify.Work{Receiver: r.Name(), Group: []notify.Notification{a, b}})
	}
	const deadline = 2 * time.Second
	d, err := notify.NewDispatcher(receivers, notify.WithDeadline(deadline), notify.WithReceiverTimeout(400*time.Millisecond),
		notify.WithConcurrency(2), fastRetry(3))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res := d.Dispatch(context.Background(), work)
	if took := time.Since(start); took > deadline+500*time.Millisecond {
		t.Fatalf("Dispatch took %s, deadline %s", took, deadline)
	}
	if len(res.Outcomes) != 2*len(receivers) {
		t.Fatalf("%d outcomes, want %d: %+v", len(res.Outcomes), 2*len(receivers), res.Outcomes)
	}
	for _, o := range res.Outcomes {
		if o.Outcome != notify.OutcomeFailed || !o.Requeued || o.Error == "" {
			t.Errorf("%s at %s: %+v, want failed and requeued", o.Fingerprint, o.Receiver, o)
		}
		if strings.Contains(o.Error, "secret") || strings.Contains(o.Error, "routing-key") {
			t.Errorf("outcome error leaks a credential: %q", o.Error)
		}
	}
	if res.Pending != 2*len(receivers) {
		t.Fatalf("pending = %d, want all %d", res.Pending, 2*len(receivers))
	}

	// The receivers recover (new healthy servers at the same names) and nothing new happens:
	// the next Dispatch delivers everything the queue kept, in the groups it was routed in (one
	// request per group; PagerDuty has one event per drift).
	got := map[string]int{}
	var mu sync.Mutex
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.URL.Path]++
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(ok.Close)
	am2, _ := alertmanager.New("am", []string{ok.URL})
	wh2, _ := webhook.New("wh", ok.URL+"/hook", []byte("0123456789abcdef0123"))
	sl2, _ := slack.New("slack", ok.URL+"/services/T/B/secret")
	pd2, _ := pagerduty.New("pd", "routing-key-0123456789", pagerduty.WithURL(ok.URL+"/v2/enqueue"))
	st.healthy.Store(true)
	if err := d.UseReceivers(am2, wh2, sl2, pd2); err != nil {
		t.Fatal(err)
	}
	res = d.Dispatch(context.Background(), nil)
	if len(res.Outcomes) != 2*len(receivers) || len(res.Failed()) != 0 || res.Pending != 0 {
		t.Fatalf("healthy run: %+v", res)
	}
	mu.Lock()
	defer mu.Unlock()
	if got["/api/v2/alerts"] != 1 || got["/hook"] != 1 || got["/services/T/B/secret"] != 1 || got["/v2/enqueue"] != 2 {
		t.Fatalf("healthy servers got %v", got)
	}
}

func TestBackoffHonoursRetryAfterWithinBound(t *testing.T) {
	b := notify.Backoff{Attempts: 3, Base: 100 * time.Millisecond, Max: 2 * time.Second}
	if d := b.Delay(1, &notify.HTTPError{Status: 429, RetryAfter: time.Second}); d != time.Second {
		t.Errorf("Retry-After 1s: waited %s", d)
	}
	if d := b.Delay(1, &notify.HTTPError{Status: 429, RetryAfter: time.Hour}); d != 2*time.Second {
		t.Errorf("Retry-After 1h: waited %s, want the bound", d)
	}
	for attempt := 1; attempt < 10; attempt++ {
		if d := b.Delay(attempt, errors.New("x")); d > b.Max || d < b.Base/2 {
			t.Errorf("attempt %d: %s outside [%s, %s]", attempt, d, b.Base/2, b.Max)
		}
	}
}

func TestRetryable(t *testing.T) {
	bad := &notify.HTTPError{Status: 400}
	for _, c := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{bad, false},
		{&notify.HTTPError{Status: 429}, true},
		{&notify.HTTPError{Status: 502}, true},
		{context.DeadlineExceeded, true},
		{context.Canceled, false},
		{fmt.Errorf("wrapped: %w", &notify.HTTPError{Status: 503}), true},
		// One peer refused the payload, another did not answer: the second may recover.
		{fmt.Errorf("peers: %w", errors.Join(bad, fmt.Errorf("x: %w", context.DeadlineExceeded))), true},
		{errors.Join(bad, errors.New("plain")), false},
	} {
		if got := notify.Retryable(c.err); got != c.want {
			t.Errorf("Retryable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// A Dispatch called while another runs past its deadline returns by its own deadline; its work
// is queued, not lost, and the next Dispatch delivers it.
func TestDispatchWhileBusyKeepsItsDeadline(t *testing.T) {
	release := make(chan struct{})
	var slow atomic.Bool
	slow.Store(true)
	r := &fake{name: "r", send: func(ctx context.Context, _ int) error {
		if slow.Load() {
			select {
			case <-release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}}
	d, _ := notify.NewDispatcher([]notify.Receiver{r}, notify.WithDeadline(2*time.Second), notify.WithReceiverTimeout(2*time.Second), fastRetry(1))
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Dispatch(context.Background(), []notify.Work{{Receiver: "r", Group: []notify.Notification{note("fp-1", notify.StateFiring)}}})
	}()
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	res := d.Dispatch(ctx, []notify.Work{{Receiver: "r", Group: []notify.Notification{note("fp-2", notify.StateResolved)}}})
	if took := time.Since(start); took > time.Second {
		t.Fatalf("the second Dispatch took %s", took)
	}
	if len(res.Outcomes) != 1 || res.Outcomes[0].Outcome != notify.OutcomeFailed || !res.Outcomes[0].Requeued {
		t.Fatalf("busy outcome %+v", res.Outcomes)
	}
	close(release)
	<-done
	slow.Store(false)
	res = d.Dispatch(context.Background(), nil)
	if len(res.Failed()) != 0 || res.Pending != 0 {
		t.Fatalf("later run: %+v", res)
	}
	got := r.delivered()
	sort.Strings(got)
	if fmt.Sprint(got) != "[fp-1/firing fp-2/resolved]" {
		t.Fatalf("delivered %v", got)
	}
}

// A receiver's endpoint cannot bounce a notification (and its signature or routing key) to
// another server: redirects are not followed, and the 3xx is a final error.
func TestPostFollowsNoRedirect(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	bounce := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/collect", http.StatusTemporaryRedirect)
	}))
	defer bounce.Close()
	wh, _ := webhook.New("wh", bounce.URL, []byte("0123456789abcdef0123"))
	pd, _ := pagerduty.New("pd", "routing-key", pagerduty.WithURL(bounce.URL))
	for _, r := range []notify.Receiver{wh, pd} {
		err := r.Send(context.Background(), []notify.Notification{note("fp-1", notify.StateFiring)})
		var he *notify.HTTPError
		if !errors.As(err, &he) || he.Status != http.StatusTemporaryRedirect || notify.Retryable(err) {
			t.Errorf("%s: %v", r.Name(), err)
		}
	}
	if elsewhere.Load() != 0 {
		t.Fatalf("the redirect target got %d requests", elsewhere.Load())
	}
}
