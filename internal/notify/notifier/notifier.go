// Package notifier closes the loop from findings to the people who own them: it builds the
// receivers a DriftRoutingPolicy declares, plans each evaluation's notifications from the report
// and the lifecycle ledger (firing when a drift appears, changes or is due again; resolved when
// it ends, with the ledger's resolution), routes and groups them by the policy, delivers them
// with the notify.Dispatcher under a deadline, and records every outcome in the evidence store
// beside the ledger, under notifications/<unit>/, as append-only content-addressed records.
//
// The newest record carries the state that makes delivery exactly-once per transition across
// runs (at least once on a crash between send and record): what each receiver was last told
// about each drift, and what is still owed to it. A failed delivery is owed to the next run,
// retried there, and given up visibly after Options.MaxAttempts runs. Nothing is sent twice for
// the same transition unless the route's repeatInterval elapsed (or, for an Alertmanager
// receiver, its resend interval: Alertmanager forgets alerts that are not re-posted, and
// deduplicates the re-posts itself).
//
// `driftplane scan --routing-policy` calls it after each unit's evaluation; the Argo CD reporter
// calls the same Notify with its own SecretSource and Counters.
package notifier

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
	"github.com/driftplane/terraform-provider-drift/internal/drift/pipeline"
	"github.com/driftplane/terraform-provider-drift/internal/drift/route"
	"github.com/driftplane/terraform-provider-drift/internal/notify"
)

// Defaults of Options.
const (
	DefaultDeadline        = 30 * time.Second
	DefaultReceiverTimeout = 10 * time.Second
	DefaultMaxAttempts     = 5
	DefaultMaxPending      = 1000
	// recordTimeout bounds writing the run's record, which happens even after the unit's own
	// time ran out: an unrecorded delivery would be sent again.
	recordTimeout = 30 * time.Second
)

// Counters counts deliveries for metrics (sent, failed, silenced by receiver). The Argo CD
// reporter implements it with Prometheus counters; it must be safe for concurrent use.
type Counters interface {
	// Count adds one delivery of a notification in state (firing, resolved) at receiver with
	// outcome (sent, failed, silenced, superseded).
	Count(receiver, state, outcome string)
}

// Options configure a Notifier.
type Options struct {
	// Store is the evidence store holding the ledger; notification records are written beside it.
	Store ledger.Store
	// Deadline bounds one Notify's delivery, whatever the receivers do (DefaultDeadline).
	Deadline time.Duration
	// ReceiverTimeout bounds one try at one receiver (DefaultReceiverTimeout).
	ReceiverTimeout time.Duration
	// Retry is the tries within one run (zero: two tries, a second apart).
	Retry notify.Backoff
	// MaxAttempts is how many runs try one transition before it gives up (DefaultMaxAttempts).
	MaxAttempts int
	// MaxPending bounds the transitions owed per unit; beyond it the oldest give up
	// (DefaultMaxPending).
	MaxPending int
	// HTTPClient is used by every receiver built from the policy (nil: each receiver's own).
	HTTPClient *http.Client
	// Counters, when set, counts every delivery.
	Counters Counters
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Table is the decision table, which says which classes are expected (drift.DefaultTable).
	Table *drift.Table
}

// Notifier sends one routing policy's notifications. It is safe for concurrent use by units.
type Notifier struct {
	policy    *route.Policy
	receivers map[string]notify.Receiver
	resend    map[string]time.Duration
	opts      Options
	table     *drift.Table
}

// FromPolicy builds the receivers policy declares, reading their secrets from secrets. Errors
// name the receiver and the field or reference; a secret's value is never in one.
func FromPolicy(ctx context.Context, policy *route.Policy, secrets SecretSource, opts Options) (*Notifier, error) {
	if policy == nil {
		return nil, errors.New("notifier: no routing policy")
	}
	if secrets == nil {
		secrets = EnvSecrets{}
	}
	timeout := opts.ReceiverTimeout
	if timeout <= 0 {
		timeout = DefaultReceiverTimeout
	}
	var rs []notify.Receiver
	resend := map[string]time.Duration{}
	var errs []error
	for _, rc := range policy.Spec.Receivers {
		b, err := build(ctx, rc, secrets, opts.HTTPClient, timeout)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rs = append(rs, b.receiver)
		if b.resend > 0 {
			resend[rc.Name] = b.resend
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("routing policy %s: %w", policy.Metadata.Name, errors.Join(errs...))
	}
	n, err := New(policy, rs, opts)
	if err != nil {
		return nil, err
	}
	n.resend = resend
	return n, nil
}

// New is a Notifier over receivers already built, one for each receiver the policy declares
// (by name).
func New(policy *route.Policy, receivers []notify.Receiver, opts Options) (*Notifier, error) {
	if policy == nil {
		return nil, errors.New("notifier: no routing policy")
	}
	n := &Notifier{policy: policy, receivers: map[string]notify.Receiver{}, resend: map[string]time.Duration{}, opts: opts, table: opts.Table}
	if n.table == nil {
		n.table = drift.DefaultTable()
	}
	for _, r := range receivers {
		if r == nil || r.Name() == "" {
			return nil, errors.New("notifier: a receiver has no name")
		}
		if _, dup := n.receivers[r.Name()]; dup {
			return nil, fmt.Errorf("notifier: two receivers are named %q", r.Name())
		}
		n.receivers[r.Name()] = r
	}
	for _, rc := range policy.Spec.Receivers {
		if n.receivers[rc.Name] == nil {
			return nil, fmt.Errorf("notifier: receiver %q of the routing policy was not built", rc.Name)
		}
	}
	if n.opts.Deadline <= 0 {
		n.opts.Deadline = DefaultDeadline
	}
	if n.opts.ReceiverTimeout <= 0 {
		n.opts.ReceiverTimeout = DefaultReceiverTimeout
	}
	if n.opts.Retry.Attempts == 0 {
		n.opts.Retry = notify.Backoff{Attempts: 2, Base: time.Second, Max: 5 * time.Second}
	}
	if n.opts.MaxAttempts <= 0 {
		n.opts.MaxAttempts = DefaultMaxAttempts
	}
	if n.opts.MaxPending <= 0 {
		n.opts.MaxPending = DefaultMaxPending
	}
	if n.opts.Now == nil {
		n.opts.Now = time.Now
	}
	return n, nil
}

// Summary is what one Notify did.
type Summary struct {
	Unit string
	// Deliveries are this run's, as recorded.
	Deliveries []Delivery
	// Record is the key of the notification record written ("" when there was nothing to record).
	Record string
}

// Count is how many deliveries had outcome.
func (s *Summary) Count(outcome string) int {
	c := 0
	for _, d := range s.Deliveries {
		if d.Outcome == outcome {
			c++
		}
	}
	return c
}

// Warnings are one line per receiver with failed deliveries, for a scan's stderr: the receiver,
// how many failed, whether they will be retried, and the (scrubbed) error.
func (s *Summary) Warnings() []string {
	type agg struct {
		failed, gaveUp int
		err            string
	}
	by := map[string]*agg{}
	for _, d := range s.Deliveries {
		if d.Outcome != notify.OutcomeFailed {
			continue
		}
		a := by[d.Receiver]
		if a == nil {
			a = &agg{}
			by[d.Receiver] = a
		}
		a.failed++
		if d.GaveUp {
			a.gaveUp++
		}
		if d.Error != "" {
			a.err = d.Error
		}
	}
	var out []string
	for _, r := range sortedKeys(by) {
		a := by[r]
		line := fmt.Sprintf("unit %s: receiver %s: %d notification(s) not delivered", s.Unit, r, a.failed)
		switch {
		case a.gaveUp == a.failed:
			line += " and given up"
		case a.gaveUp > 0:
			line += fmt.Sprintf(" (%d given up, the rest retried by the next run)", a.gaveUp)
		default:
			line += " (retried by the next run)"
		}
		if a.err != "" {
			line += ": " + a.err
		}
		out = append(out, line)
	}
	return out
}

// Notify notifies about one evaluation of unit whose report is rep: it reads the unit's newest
// ledger and notification records from the store, plans, delivers within the deadline and
// records the outcomes. Delivery failures are in the Summary (and owed to the next run); the
// error is for a store that cannot be read or written, after which nothing was sent or the
// outcome could not be recorded (so the next run sends it again).
func (n *Notifier) Notify(ctx context.Context, unit *drift.ManagedUnit, rep *drift.Report, evidenceURI string) (*Summary, error) {
	if n.opts.Store == nil {
		return nil, errors.New("notifier: no store (notifications need the ledger in the evidence store)")
	}
	if unit == nil || rep == nil {
		return nil, errors.New("notifier: no unit or report")
	}
	name := unit.Metadata.Name
	sum := &Summary{Unit: name}
	prev, prevKey, err := Latest(ctx, n.opts.Store, name)
	if err != nil {
		return nil, err
	}
	lrec, lkey, err := ledger.Latest(ctx, n.opts.Store, name)
	if err != nil {
		return nil, err
	}
	at := n.opts.Now().UTC()
	in := Input{Report: rep, Record: lrec, UnitLabels: unit.Metadata.Labels, At: at, EvidenceURI: evidenceURI}
	seq := int64(1)
	if prev != nil {
		in.State, seq = prev.State, prev.Sequence+1
	}
	plan, err := n.Notifications(in)
	if err != nil {
		return nil, err
	}
	if len(plan.Due) == 0 && len(plan.Held) == 0 && !plan.Changed {
		return sum, nil
	}
	var outcomes []notify.Outcome
	if work := plan.Work(); len(work) > 0 {
		d, err := notify.NewDispatcher(n.receiverList(), notify.WithDeadline(n.opts.Deadline), notify.WithReceiverTimeout(n.opts.ReceiverTimeout),
			notify.WithRetry(n.opts.Retry), notify.WithQueueLimit(0), notify.WithClock(n.opts.Now))
		if err != nil {
			return nil, err
		}
		// The record below is the queue: a dispatcher per run keeps no notification in memory
		// that the store does not know about.
		res := d.Dispatch(ctx, work)
		outcomes = res.Outcomes
	}
	done := n.opts.Now().UTC()
	deliveries, state := plan.Apply(outcomes, done, n.opts.MaxAttempts, n.opts.MaxPending)
	sum.Deliveries = deliveries
	if n.opts.Counters != nil {
		for _, d := range deliveries {
			n.opts.Counters.Count(d.Receiver, d.State, d.Outcome)
		}
	}
	rec := &Record{SchemaVersion: SchemaVersion, Unit: name, At: done.Format(time.RFC3339), Sequence: seq, Previous: prevKey,
		Ledger: lkey, Deliveries: deliveries, State: state}
	key, data, err := rec.Encode()
	if err != nil {
		return sum, err
	}
	// Recorded even when ctx ended (SIGTERM, the unit's timeout): what was sent must be known,
	// or the next run sends it again.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if _, err := n.opts.Store.PutContext(wctx, key, data); err != nil {
		return sum, fmt.Errorf("notifications of %s: recording the outcomes: %w", name, err)
	}
	sum.Record = key
	return sum, nil
}

// ScanHook is Notify as `driftplane scan` calls it after each unit's evaluation: its warnings
// (failed deliveries, a store that failed) are printed, never the unit's status or exit code.
func (n *Notifier) ScanHook() func(ctx context.Context, unit *drift.ManagedUnit, res *pipeline.Result) []string {
	return func(ctx context.Context, unit *drift.ManagedUnit, res *pipeline.Result) (out []string) {
		if res == nil || res.Report == nil {
			return nil
		}
		// A bug here must not turn the unit's known drift into an unknown one (scan treats a
		// panicking unit as unknown): it is a warning like any failed delivery.
		defer func() {
			if p := recover(); p != nil {
				out = append(out, fmt.Sprintf("unit %s: notifications: internal error: %v", unit.Metadata.Name, p))
			}
		}()
		sum, err := n.Notify(ctx, unit, res.Report, res.EvidenceLocation)
		if sum != nil {
			out = sum.Warnings()
		}
		if err != nil {
			out = append(out, fmt.Sprintf("unit %s: notifications: %s", unit.Metadata.Name, notify.ScrubError(err.Error())))
		}
		return out
	}
}

func (n *Notifier) receiverList() []notify.Receiver {
	out := make([]notify.Receiver, 0, len(n.receivers))
	for _, name := range sortedKeys(n.receivers) {
		out = append(out, n.receivers[name])
	}
	return out
}

// Receivers names the receivers built, sorted.
func (n *Notifier) Receivers() []string {
	names := sortedKeys(n.receivers)
	sort.Strings(names)
	return names
}
