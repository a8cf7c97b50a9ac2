package notify

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// Outcomes of one delivery.
const (
	// OutcomeSent: the receiver accepted the notification.
	OutcomeSent = "sent"
	// OutcomeRetrying: a try failed and another follows in the same Dispatch.
	OutcomeRetrying = "retrying"
	// OutcomeFailed: every try of this Dispatch failed; Requeued says whether the notification
	// waits for the next Dispatch.
	OutcomeFailed = "failed"
	// OutcomeSuperseded: a queued notification that a newer one of the same drift at the same
	// receiver replaced before it could be delivered.
	OutcomeSuperseded = "superseded"
)

// Outcome is what became of one notification at one receiver. It never carries a secret: the
// error names servers by scheme and host only (ScrubError), and a notification holds no value.
type Outcome struct {
	Receiver    string `json:"receiver"`
	Fingerprint string `json:"fingerprint"`
	FindingID   string `json:"finding_id,omitempty"`
	State       string `json:"state"`
	Route       string `json:"route,omitempty"`
	GroupKey    string `json:"group_key,omitempty"`
	// At is when the outcome was reached (RFC 3339, UTC).
	At      string `json:"at"`
	Outcome string `json:"outcome"`
	// Attempts counts the tries of this notification at this receiver, over every Dispatch that
	// carried it (a requeued notification keeps counting).
	Attempts int    `json:"attempts"`
	Error    string `json:"error,omitempty"`
	// Requeued is true when a failed notification is kept for the next Dispatch (false when the
	// queue had no room).
	Requeued bool `json:"requeued,omitempty"`
}

// OutcomeSink records outcomes (ledger, evidence, metrics). The Dispatcher calls it from one
// goroutine at a time: with retrying outcomes as they happen and with a Dispatch's final ones at
// its end. It must be quick (the Dispatch waits for it); an error is returned to Dispatch's
// caller in Result.SinkErrors and never stops delivery.
type OutcomeSink interface {
	RecordOutcomes(ctx context.Context, outcomes []Outcome) error
}

// Work is one group to deliver to one receiver (what the routing policy decided).
type Work struct {
	Receiver string
	Group    []Notification
}

// Result is what one Dispatch did.
type Result struct {
	// Outcomes has one final outcome (sent, failed or superseded) per notification and receiver.
	Outcomes []Outcome
	// Pending is how many notifications wait in the queue for the next Dispatch.
	Pending int
	// SinkErrors are the OutcomeSink's failures (the deliveries themselves went on).
	SinkErrors []error
}

// Failed is the final outcomes that are failures.
func (r *Result) Failed() []Outcome {
	var out []Outcome
	for _, o := range r.Outcomes {
		if o.Outcome == OutcomeFailed {
			out = append(out, o)
		}
	}
	return out
}

// Defaults of a Dispatcher.
const (
	DefaultDeadline        = 30 * time.Second
	DefaultReceiverTimeout = 10 * time.Second
	DefaultConcurrency     = 4
	DefaultQueueLimit      = 10000
)

// DispatcherOption configures a Dispatcher.
type DispatcherOption func(*Dispatcher)

// WithDeadline bounds how long Dispatch may take, whatever the receivers do.
func WithDeadline(d time.Duration) DispatcherOption { return func(p *Dispatcher) { p.deadline = d } }

// WithReceiverTimeout bounds one try at one receiver.
func WithReceiverTimeout(d time.Duration) DispatcherOption {
	return func(p *Dispatcher) { p.receiverTimeout = d }
}

// WithRetry sets the tries per Dispatch and the waits between them.
func WithRetry(b Backoff) DispatcherOption { return func(p *Dispatcher) { p.backoff = b } }

// WithConcurrency bounds how many groups are delivered at once.
func WithConcurrency(n int) DispatcherOption { return func(p *Dispatcher) { p.concurrency = n } }

// WithQueueLimit bounds how many failed notifications are kept for the next Dispatch.
func WithQueueLimit(n int) DispatcherOption { return func(p *Dispatcher) { p.queueLimit = n } }

// WithSink records every outcome in sink.
func WithSink(sink OutcomeSink) DispatcherOption { return func(p *Dispatcher) { p.sink = sink } }

// WithClock sets the clock outcomes are stamped with.
func WithClock(now func() time.Time) DispatcherOption { return func(p *Dispatcher) { p.now = now } }

// Dispatcher delivers notifications to receivers so that evaluation never waits on them for
// long and no notification is lost to a failing receiver: every try has a timeout, a Dispatch
// has a deadline it returns by even when a receiver ignores its context, failures are retried
// with backoff, and what still failed is kept (in memory, bounded) and sent first by the next
// Dispatch. A newer notification of the same fingerprint at the same receiver replaces a queued
// one, so a drift that resolved while its firing notification waited is told resolved, once.
// A Dispatcher is safe for concurrent use; Dispatch calls are serialised.
type Dispatcher struct {
	receivers       map[string]Receiver
	deadline        time.Duration
	receiverTimeout time.Duration
	backoff         Backoff
	concurrency     int
	queueLimit      int
	sink            OutcomeSink
	now             func() time.Time

	run    chan struct{} // one Dispatch at a time (a channel, so waiting for it keeps the deadline)
	mu     sync.Mutex
	q      []queued // oldest first
	sinkMu sync.Mutex
}

type queued struct {
	receiver string
	n        Notification
	attempts int
}

// NewDispatcher is a Dispatcher over receivers (each reached by its Name).
func NewDispatcher(receivers []Receiver, opts ...DispatcherOption) (*Dispatcher, error) {
	p := &Dispatcher{
		run:             make(chan struct{}, 1),
		receivers:       map[string]Receiver{},
		deadline:        DefaultDeadline,
		receiverTimeout: DefaultReceiverTimeout,
		backoff:         Backoff{Attempts: 2, Base: time.Second, Max: 5 * time.Second},
		concurrency:     DefaultConcurrency,
		queueLimit:      DefaultQueueLimit,
		now:             time.Now,
	}
	for _, r := range receivers {
		if r == nil || r.Name() == "" {
			return nil, errors.New("notify: a receiver has no name")
		}
		if _, dup := p.receivers[r.Name()]; dup {
			return nil, fmt.Errorf("notify: two receivers are named %q", r.Name())
		}
		p.receivers[r.Name()] = r
	}
	for _, o := range opts {
		o(p)
	}
	if p.deadline <= 0 {
		p.deadline = DefaultDeadline
	}
	if p.receiverTimeout <= 0 || p.receiverTimeout > p.deadline {
		p.receiverTimeout = min(DefaultReceiverTimeout, p.deadline)
	}
	if p.concurrency < 1 {
		p.concurrency = 1
	}
	if p.queueLimit < 0 {
		p.queueLimit = 0
	}
	return p, nil
}

// UseReceivers replaces the receivers of the same names and adds the others (a configuration
// reload): the queue is kept and goes to the new ones.
func (p *Dispatcher) UseReceivers(receivers ...Receiver) error {
	p.run <- struct{}{}
	defer func() { <-p.run }()
	next := make(map[string]Receiver, len(p.receivers)+len(receivers))
	for k, v := range p.receivers {
		next[k] = v
	}
	seen := map[string]bool{}
	for _, r := range receivers {
		if r == nil || r.Name() == "" {
			return errors.New("notify: a receiver has no name")
		}
		if seen[r.Name()] {
			return fmt.Errorf("notify: two receivers are named %q", r.Name())
		}
		seen[r.Name()] = true
		next[r.Name()] = r
	}
	p.receivers = next
	return nil
}

// Pending is a copy of the notifications waiting for the next Dispatch, as failed outcomes (what
// a status page or `driftplane` shows as failed deliveries).
func (p *Dispatcher) Pending() []Outcome {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Outcome, 0, len(p.q))
	for _, q := range p.q {
		o := outcomeOf(q.receiver, q.n, "", OutcomeFailed, q.attempts, nil)
		o.Requeued = true
		out = append(out, o)
	}
	return out
}

// key identifies a notification at a receiver across Dispatches.
type key struct{ receiver, fingerprint string }

func fingerprintOf(n Notification) string {
	if n.Finding.Fingerprint != "" {
		return n.Finding.Fingerprint
	}
	return drift.Fingerprint(n.Finding)
}

type job struct {
	receiver string
	groupKey string
	items    []queued
}

// Dispatch delivers work (and what earlier Dispatches left queued) and returns by ctx's deadline
// or the Dispatcher's, whichever is sooner, with one final outcome per notification and receiver.
// The sink sees retrying outcomes as they happen and the final ones in one call at the end.
// Called while another Dispatch runs, it waits for it only until its own deadline, and then
// queues its work untried (failed outcomes) for the next.
func (p *Dispatcher) Dispatch(ctx context.Context, work []Work) Result {
	ctx, cancel := context.WithTimeout(ctx, p.deadline)
	defer cancel()
	select {
	case p.run <- struct{}{}:
		defer func() { <-p.run }()
	case <-ctx.Done():
		return p.busy(ctx, work)
	}

	jobs, superseded := p.plan(work)
	var res Result
	var resMu sync.Mutex
	res.Outcomes = append(res.Outcomes, superseded...)
	retrying := func(os []Outcome) { p.emit(ctx, os, &res, &resMu) }

	// errs[i] is job i's final error; jobs keep their order (queued ones first) so a full queue
	// drops the oldest.
	errs := make([]error, len(jobs))
	sem := make(chan struct{}, p.concurrency)
	var wg sync.WaitGroup
	for i := range jobs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			// Out of time before this group got a worker: it fails untried and stays queued.
			errs[i] = fmt.Errorf("not tried: %w", ctx.Err())
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = p.deliver(ctx, &jobs[i], retrying)
		}()
	}
	wg.Wait()

	var failed []queued
	for i, j := range jobs {
		if errs[i] != nil {
			failed = append(failed, j.items...)
		}
	}
	kept := p.requeue(failed)
	for i, j := range jobs {
		os := p.outcomes(j, OutcomeSent, nil)
		if errs[i] != nil {
			os = p.outcomes(j, OutcomeFailed, errs[i])
			for k := range os {
				os[k].Requeued = kept[key{os[k].Receiver, os[k].Fingerprint}]
			}
		}
		res.Outcomes = append(res.Outcomes, os...)
	}
	p.emit(ctx, res.Outcomes, &res, &resMu)
	res.Pending = len(p.Pending())
	return res
}

// plan merges the queue with new work into jobs, one per (receiver, group key). A queued
// notification whose fingerprint the new work carries again for the same receiver is superseded
// (the newer state is what matters); the rest are delivered before the new work.
func (p *Dispatcher) plan(work []Work) ([]job, []Outcome) {
	fresh := map[key]bool{}
	for _, w := range work {
		for _, n := range w.Group {
			fresh[key{w.Receiver, fingerprintOf(n)}] = true
		}
	}
	p.mu.Lock()
	old := p.q
	p.q = nil
	p.mu.Unlock()

	var jobs []job
	index := map[[2]string]int{}
	attempts := map[key]int{}
	add := func(receiver string, q queued) {
		k := [2]string{receiver, q.n.GroupKey}
		i, ok := index[k]
		if !ok {
			i = len(jobs)
			index[k] = i
			jobs = append(jobs, job{receiver: receiver, groupKey: q.n.GroupKey})
		}
		jobs[i].items = append(jobs[i].items, q)
	}
	var superseded []Outcome
	for _, q := range old {
		k := key{q.receiver, fingerprintOf(q.n)}
		if fresh[k] {
			attempts[k] = q.attempts
			o := outcomeOf(q.receiver, q.n, p.stamp(), OutcomeSuperseded, q.attempts, nil)
			superseded = append(superseded, o)
			continue
		}
		add(q.receiver, q)
	}
	// New work after the queue; new groups keep their own grouping even without a group key.
	for wi, w := range work {
		if len(w.Group) == 0 {
			continue
		}
		k := [2]string{w.Receiver, fmt.Sprintf("\x00work-%d", wi)}
		index[k] = len(jobs)
		j := job{receiver: w.Receiver, groupKey: w.Group[0].GroupKey}
		for _, n := range w.Group {
			j.items = append(j.items, queued{receiver: w.Receiver, n: n, attempts: attempts[key{w.Receiver, fingerprintOf(n)}]})
		}
		jobs = append(jobs, j)
	}
	return jobs, superseded
}

// deliver tries one job until it is sent, a final error, the tries are spent or time is out.
func (p *Dispatcher) deliver(ctx context.Context, j *job, retrying func([]Outcome)) error {
	r, ok := p.receivers[j.receiver]
	if !ok {
		for i := range j.items {
			j.items[i].attempts++
		}
		return fmt.Errorf("no receiver named %q", j.receiver)
	}
	group := make([]Notification, len(j.items))
	for i, q := range j.items {
		group[i] = q.n
	}
	b := p.backoff.normalized()
	for attempt := 1; ; attempt++ {
		for i := range j.items {
			j.items[i].attempts++
		}
		err := p.try(ctx, r, group)
		if err == nil {
			return nil
		}
		if !Retryable(err) || attempt >= b.Attempts || ctx.Err() != nil {
			return err
		}
		wait := b.Delay(attempt, err)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return err
		}
		retrying(p.outcomes(*j, OutcomeRetrying, err))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// try is one Send bounded by the receiver timeout. A receiver that ignores its context is
// abandoned at the timeout (its goroutine ends when Send does): Dispatch's deadline holds
// whatever a receiver does, and receivers are idempotent by fingerprint, so a late delivery of
// an abandoned try is harmless.
func (p *Dispatcher) try(ctx context.Context, r Receiver, group []Notification) error {
	tctx, cancel := context.WithTimeout(ctx, p.receiverTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- fmt.Errorf("receiver panicked: %v", v)
			}
		}()
		done <- r.Send(tctx, group)
	}()
	select {
	case err := <-done:
		if err != nil && tctx.Err() != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
		}
		return err
	case <-tctx.Done():
		return fmt.Errorf("receiver %s did not answer within %s: %w", r.Name(), p.receiverTimeout, context.DeadlineExceeded)
	}
}

// requeue keeps failed notifications for the next Dispatch (a newer one of the same drift at the
// same receiver replacing an older), dropping the oldest beyond the queue limit, and says which
// drifts it kept.
func (p *Dispatcher) requeue(failed []queued) map[key]bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	var q []queued
	at := map[key]int{}
	// What is already queued was queued after this Dispatch took the queue (by a Dispatch that
	// found it busy), so it is newer than failed: it goes after, and wins for its drift.
	all := make([]queued, 0, len(failed)+len(p.q))
	all = append(append(all, failed...), p.q...)
	for _, x := range all {
		k := key{x.receiver, fingerprintOf(x.n)}
		if i, ok := at[k]; ok {
			q[i] = x
			continue
		}
		at[k] = len(q)
		q = append(q, x)
	}
	if drop := len(q) - p.queueLimit; drop > 0 {
		q = q[drop:]
	}
	kept := make(map[key]bool, len(q))
	for _, x := range q {
		kept[key{x.receiver, fingerprintOf(x.n)}] = true
	}
	p.q = q
	return kept
}

// busy queues work that could not start before its deadline because another Dispatch held the
// queue, with failed outcomes saying so.
func (p *Dispatcher) busy(ctx context.Context, work []Work) Result {
	var items []queued
	for _, w := range work {
		for _, n := range w.Group {
			items = append(items, queued{receiver: w.Receiver, n: n})
		}
	}
	kept := p.requeue(items)
	var res Result
	err := errors.New("not tried: another delivery ran past this one's deadline")
	for _, x := range items {
		o := outcomeOf(x.receiver, x.n, p.stamp(), OutcomeFailed, 0, err)
		o.Requeued = kept[key{o.Receiver, o.Fingerprint}]
		res.Outcomes = append(res.Outcomes, o)
	}
	var mu sync.Mutex
	p.emit(ctx, res.Outcomes, &res, &mu)
	res.Pending = len(p.Pending())
	return res
}

func (p *Dispatcher) stamp() string { return p.now().UTC().Format(time.RFC3339) }

func (p *Dispatcher) outcomes(j job, outcome string, err error) []Outcome {
	at := p.stamp()
	out := make([]Outcome, len(j.items))
	for i, q := range j.items {
		out[i] = outcomeOf(j.receiver, q.n, at, outcome, q.attempts, err)
	}
	return out
}

func outcomeOf(receiver string, n Notification, at, outcome string, attempts int, err error) Outcome {
	o := Outcome{
		Receiver: receiver, Fingerprint: fingerprintOf(n), FindingID: n.Finding.FindingID, State: n.State,
		Route: n.Route, GroupKey: n.GroupKey, At: at, Outcome: outcome, Attempts: attempts,
	}
	if err != nil {
		o.Error = ScrubError(err.Error())
	}
	return o
}

// emit hands outcomes to the sink, one call at a time.
func (p *Dispatcher) emit(ctx context.Context, os []Outcome, res *Result, resMu *sync.Mutex) {
	if p.sink == nil || len(os) == 0 {
		return
	}
	p.sinkMu.Lock()
	// The final outcomes are recorded after the deadline may have passed: the sink gets a
	// context of its own, bounded like one try.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.receiverTimeout)
	err := p.sink.RecordOutcomes(sctx, os)
	cancel()
	p.sinkMu.Unlock()
	if err != nil {
		resMu.Lock()
		res.SinkErrors = append(res.SinkErrors, err)
		resMu.Unlock()
	}
}
