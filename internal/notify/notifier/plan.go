package notifier

import (
	"fmt"
	"sort"
	"time"

	"github.com/prometheus/common/model"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
	"github.com/driftplane/terraform-provider-drift/internal/drift/route"
	"github.com/driftplane/terraform-provider-drift/internal/notify"
)

// Why a notification is due.
const (
	ReasonNew      = "new"      // the receiver was never told this drift is firing (or it came back)
	ReasonChanged  = "changed"  // same drift, new values (a new finding_id)
	ReasonRepeat   = "repeat"   // the route's repeatInterval (or Alertmanager's resend) elapsed
	ReasonRetry    = "retry"    // an earlier run failed to deliver it
	ReasonResolved = "resolved" // the drift ended
)

// ResolvedGroup is the group key of a resolved notification whose drift no route takes any more.
const ResolvedGroup = "resolved"

// Input is one evaluation of one unit to notify about.
type Input struct {
	// Report is the evaluation's report; its findings carry fingerprints (a ledger is kept).
	Report *drift.Report
	// Record is the ledger record of the evaluation: its resolved events give each ended drift's
	// resolution and time (nil: resolutions unknown, resolved at At).
	Record *ledger.Record
	// UnitLabels are the unit's metadata.labels, for matchers on unit labels.
	UnitLabels map[string]string
	// State is the newest notification record's state (zero for a unit's first).
	State State
	// At is the evaluation's time: silences and repeat intervals are judged at it.
	At time.Time
	// EvidenceURI locates the evaluation's evidence record, given to receivers.
	EvidenceURI string
}

// Planned is one notification due at one receiver.
type Planned struct {
	Receiver     string
	Notification notify.Notification
	Reason       string
	// Attempts counts the earlier runs that tried this transition at this receiver.
	Attempts int
	// since is when the transition first failed ("" when it never did).
	since string
}

// Plan is what one evaluation owes its receivers.
type Plan struct {
	// Due are the notifications to send, in a stable order.
	Due []Planned
	// Held are recorded without being sent: silenced, or superseded before delivery.
	Held []Delivery
	// State is the state before delivery, with the holds applied.
	State State
	// Changed is true when State differs from the input's (a record is due even if nothing is
	// sent).
	Changed bool
}

type tkey struct{ receiver, fingerprint string }

type desire struct {
	finding  drift.Finding
	decision route.Decision
	held     bool
}

// Notifications plans an evaluation's notifications: firing for each open drift that is not
// accepted and not expected (new, changed, due again by its route's repeatInterval, or owed by a
// failed run), resolved for each drift a receiver was told firing that is no longer open (with
// the ledger's resolution). A silenced notification is held and recorded once; an INFO finding no
// route names goes nowhere (the route package decides both). It is a pure function of its input
// and the policy.
func (n *Notifier) Notifications(in Input) (*Plan, error) {
	at := in.At.UTC()
	stamp := at.Format(time.RFC3339)
	told := map[tkey]*Told{}
	for i := range in.State.Told {
		t := in.State.Told[i]
		if t.Pending != nil {
			p := *t.Pending
			t.Pending = &p
		}
		told[tkey{t.Receiver, t.Fingerprint}] = &t
	}
	seen := map[string]Seen{}
	for _, s := range in.State.Findings {
		seen[s.Fingerprint] = s
	}
	plan := &Plan{}
	open := map[string]drift.Finding{}
	desired := map[tkey]*desire{}
	var order []tkey
	if in.Report != nil {
		for _, f := range in.Report.Findings {
			if f.AcceptedBy != "" || n.table.Expected(f.DriftClass) {
				continue
			}
			if f.Fingerprint == "" {
				f.Fingerprint = drift.Fingerprint(f)
			}
			if _, dup := open[f.Fingerprint]; dup {
				continue
			}
			open[f.Fingerprint] = f
			ds, err := n.policy.Match(f, in.UnitLabels, at)
			if err != nil {
				return nil, err
			}
			// A receiver told by any route is told; held only when every route naming it holds.
			for _, notifying := range []bool{true, false} {
				for _, d := range ds {
					if d.Notify != notifying {
						continue
					}
					names := d.Receivers
					if !notifying {
						if len(d.SilencedBy) == 0 {
							continue // INFO no route names: nowhere, and nothing to record
						}
						names = d.Held
					}
					for _, r := range names {
						k := tkey{r, f.Fingerprint}
						if desired[k] == nil {
							desired[k] = &desire{finding: f, decision: d, held: !notifying}
							order = append(order, k)
						}
					}
				}
			}
		}
	}

	for _, k := range order {
		d := desired[k]
		f := d.finding
		t := told[k]
		if t == nil {
			t = &Told{Receiver: k.receiver, Fingerprint: k.fingerprint}
		}
		if t.Pending != nil && t.Pending.State == notify.StateResolved {
			// The drift came back before its resolution got through: the receiver's last word,
			// firing, is right again, and the resolution is owed no more.
			t.Pending = nil
			told[k] = t
			plan.Changed = true
		}
		reason, attempts, since := n.firingDue(t, f, d.decision, k.receiver, at)
		if reason == "" {
			continue
		}
		if d.held {
			if t.Silenced != f.FindingID {
				t.Silenced = f.FindingID
				told[k] = t
				plan.Changed = true
				plan.Held = append(plan.Held, Delivery{Receiver: k.receiver, Fingerprint: k.fingerprint, FindingID: f.FindingID,
					State: notify.StateFiring, Reason: reason, Route: d.decision.Route, GroupKey: d.decision.GroupKey, At: stamp,
					Outcome: OutcomeSilenced, Error: d.decision.Suppressed})
			}
			continue
		}
		told[k] = t
		plan.Due = append(plan.Due, Planned{Receiver: k.receiver, Reason: reason, Attempts: attempts, since: since,
			Notification: notify.Notification{Finding: f, State: notify.StateFiring,
				Changed: t.State == notify.StateFiring && t.FindingID != f.FindingID,
				Route:   d.decision.Route, GroupKey: d.decision.GroupKey, Page: d.decision.Page, Incident: d.decision.CreateIncident,
				EvidenceURI: in.EvidenceURI}})
	}

	// Drifts no longer open: resolve them where they were told firing.
	for _, k := range sortedTold(told) {
		t := told[k]
		if _, still := open[k.fingerprint]; still {
			continue
		}
		if t.State != notify.StateFiring {
			// Never told firing: nothing to resolve. A firing notification still owed is moot.
			if t.Pending != nil && !t.Pending.GaveUp {
				plan.Held = append(plan.Held, Delivery{Receiver: k.receiver, Fingerprint: k.fingerprint, FindingID: t.Pending.FindingID,
					State: t.Pending.State, Reason: ReasonRetry, At: stamp, Outcome: OutcomeSuperseded, Attempts: t.Pending.Attempts,
					Error: "the drift ended before it could be told"})
			}
			delete(told, k)
			plan.Changed = true
			continue
		}
		if _, ok := n.receivers[k.receiver]; !ok {
			plan.Held = append(plan.Held, Delivery{Receiver: k.receiver, Fingerprint: k.fingerprint, FindingID: t.FindingID,
				State: notify.StateResolved, Reason: ReasonResolved, At: stamp, Outcome: OutcomeSuperseded,
				Error: "the receiver is no longer in the routing policy"})
			delete(told, k)
			plan.Changed = true
			continue
		}
		reason, attempts, since := ReasonResolved, 0, ""
		resolution, resolvedAt := resolutionOf(in.Record, k.fingerprint, stamp)
		if p := t.Pending; p != nil && p.State == notify.StateResolved {
			if p.GaveUp {
				continue
			}
			reason, attempts, since = ReasonRetry, p.Attempts, p.Since
			resolution, resolvedAt = p.Resolution, p.ResolvedAt
		}
		f := findingOf(seen[k.fingerprint], k.fingerprint, t.FindingID, in.Report)
		note := notify.Notification{Finding: f, State: notify.StateResolved, Resolution: resolution, ResolvedAt: resolvedAt, GroupKey: ResolvedGroup}
		if ds, err := n.policy.Match(f, in.UnitLabels, at); err == nil {
			for _, d := range ds {
				if contains(d.Receivers, k.receiver) || contains(d.Held, k.receiver) {
					note.Route, note.GroupKey = d.Route, d.GroupKey
					break
				}
			}
		}
		plan.Due = append(plan.Due, Planned{Receiver: k.receiver, Notification: note, Reason: reason, Attempts: attempts, since: since})
	}
	plan.State = stateOf(told, seen)
	return plan, nil
}

// firingDue says why a firing notification of f is due at a receiver ("" when it is not), with
// the runs that already tried it.
func (n *Notifier) firingDue(t *Told, f drift.Finding, d route.Decision, receiver string, at time.Time) (string, int, string) {
	repeat := parseInterval(d.RepeatInterval)
	if r := n.resend[receiver]; r > 0 && (repeat <= 0 || r < repeat) {
		repeat = r
	}
	elapsed := func(since string) bool {
		t0, err := time.Parse(time.RFC3339, since)
		return repeat > 0 && err == nil && !at.Before(t0.Add(repeat))
	}
	if p := t.Pending; p != nil && p.State == notify.StateFiring && p.FindingID == f.FindingID {
		if !p.GaveUp {
			return ReasonRetry, p.Attempts, p.Since
		}
		// Given up: tried again only when the repeat interval says it is due anyway.
		if elapsed(p.Since) {
			return ReasonRepeat, 0, ""
		}
		return "", 0, ""
	}
	switch {
	case t.State != notify.StateFiring:
		return ReasonNew, 0, ""
	case t.FindingID != f.FindingID:
		return ReasonChanged, 0, ""
	case elapsed(t.At):
		return ReasonRepeat, 0, ""
	}
	return "", 0, ""
}

// parseInterval reads a decision's interval, printed in Prometheus' duration syntax (4h, 1d, 1w).
func parseInterval(s string) time.Duration {
	d, err := model.ParseDuration(s)
	if err != nil {
		return 0
	}
	return time.Duration(d)
}

// resolutionOf finds how a drift ended in the evaluation's ledger record: its resolved event,
// else accepted when it is still open under an exception, else unknown ("") at the evaluation.
func resolutionOf(rec *ledger.Record, fp, stamp string) (string, string) {
	if rec == nil {
		return "", stamp
	}
	for _, e := range rec.Events {
		if e.Kind == ledger.EventResolved && e.Fingerprint == fp {
			return e.Resolution, e.At
		}
	}
	for _, e := range rec.Open {
		if e.Fingerprint == fp && e.AcceptedBy != "" {
			return ledger.ResolutionAccepted, rec.EvaluatedAt
		}
	}
	return "", stamp
}

// findingOf is the finding a resolved notification carries: as the report still has it (an
// accepted drift), else as last told firing.
func findingOf(s Seen, fp, findingID string, rep *drift.Report) drift.Finding {
	if rep != nil {
		for _, f := range rep.Findings {
			if f.Fingerprint == fp {
				return f
			}
		}
	}
	if s.Fingerprint == "" {
		f := drift.Finding{Fingerprint: fp, FindingID: findingID, ChangedFields: []string{}}
		if rep != nil {
			f.Unit = rep.Unit
		}
		return f
	}
	return drift.Finding{Fingerprint: fp, FindingID: s.FindingID, Unit: s.Unit, ResourceRef: s.ResourceRef,
		DriftClass: drift.Class(s.DriftClass), Risk: drift.Risk(s.Risk), Domain: s.Domain, Owner: s.Owner,
		Environment: s.Environment, ChangedFields: append([]string{}, s.Fields...), FirstSeen: s.FirstSeen}
}

func seenOf(f drift.Finding) Seen {
	return Seen{Fingerprint: f.Fingerprint, FindingID: f.FindingID, Unit: f.Unit, ResourceRef: f.ResourceRef,
		DriftClass: string(f.DriftClass), Risk: string(f.Risk), Domain: f.Domain, Owner: f.Owner,
		Environment: f.Environment, Fields: append([]string{}, f.ChangedFields...), FirstSeen: f.FirstSeen}
}

func sortedTold(told map[tkey]*Told) []tkey {
	keys := make([]tkey, 0, len(told))
	for k := range told {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].receiver != keys[j].receiver {
			return keys[i].receiver < keys[j].receiver
		}
		return keys[i].fingerprint < keys[j].fingerprint
	})
	return keys
}

// stateOf is the state from the told map, keeping a snapshot of each drift told firing.
func stateOf(told map[tkey]*Told, seen map[string]Seen) State {
	st := State{Told: []Told{}}
	need := map[string]bool{}
	for _, k := range sortedTold(told) {
		t := told[k]
		st.Told = append(st.Told, *t)
		if t.State == notify.StateFiring || (t.Pending != nil && t.Pending.State == notify.StateFiring) {
			need[k.fingerprint] = true
		}
	}
	for _, fp := range sortedKeys(need) {
		if s, ok := seen[fp]; ok {
			st.Findings = append(st.Findings, s)
		}
	}
	return st
}

// Work groups the due notifications for the dispatcher: one group per receiver and route group
// key, so each receiver gets one Send per group.
func (p *Plan) Work() []notify.Work {
	index := map[[2]string]int{}
	var work []notify.Work
	for _, d := range p.Due {
		k := [2]string{d.Receiver, d.Notification.GroupKey}
		i, ok := index[k]
		if !ok {
			i = len(work)
			index[k] = i
			work = append(work, notify.Work{Receiver: d.Receiver})
		}
		work[i].Group = append(work[i].Group, d.Notification)
	}
	return work
}

// Apply folds the dispatcher's final outcomes into the plan: what was sent is now what the
// receiver was told; what failed is owed to the next run, until maxAttempts runs tried it (then
// it gives up, visibly); beyond maxPending owed transitions the oldest give up. It returns the
// run's deliveries (holds included) and the state to record.
func (p *Plan) Apply(outcomes []notify.Outcome, at time.Time, maxAttempts, maxPending int) ([]Delivery, State) {
	stamp := at.UTC().Format(time.RFC3339)
	final := map[tkey]notify.Outcome{}
	for _, o := range outcomes {
		if o.Outcome == notify.OutcomeSent || o.Outcome == notify.OutcomeFailed {
			final[tkey{o.Receiver, o.Fingerprint}] = o
		}
	}
	told := map[tkey]*Told{}
	for i := range p.State.Told {
		t := p.State.Told[i]
		told[tkey{t.Receiver, t.Fingerprint}] = &t
	}
	seen := map[string]Seen{}
	for _, s := range p.State.Findings {
		seen[s.Fingerprint] = s
	}
	deliveries := append([]Delivery{}, p.Held...)
	for _, d := range p.Due {
		n := d.Notification
		fp := n.Finding.Fingerprint
		k := tkey{d.Receiver, fp}
		t := told[k]
		if t == nil {
			t = &Told{Receiver: d.Receiver, Fingerprint: fp}
			told[k] = t
		}
		o, ok := final[k]
		if !ok {
			o = notify.Outcome{Outcome: notify.OutcomeFailed, Error: "no outcome: the delivery was not attempted"}
		}
		del := Delivery{Receiver: d.Receiver, Fingerprint: fp, FindingID: n.Finding.FindingID, State: n.State, Reason: d.Reason,
			Resolution: n.Resolution, Route: n.Route, GroupKey: n.GroupKey, At: stamp, Outcome: o.Outcome, Attempts: d.Attempts + 1, Error: o.Error}
		if o.Outcome == notify.OutcomeSent {
			if n.State == notify.StateResolved {
				delete(told, k)
			} else {
				*t = Told{Receiver: d.Receiver, Fingerprint: fp, State: n.State, FindingID: n.Finding.FindingID, At: stamp}
				seen[fp] = seenOf(n.Finding)
			}
		} else {
			since := d.since
			if since == "" {
				since = stamp
			}
			t.Pending = &Pending{State: n.State, FindingID: n.Finding.FindingID, Resolution: n.Resolution, ResolvedAt: n.ResolvedAt,
				Attempts: d.Attempts + 1, Since: since, Error: o.Error}
			if maxAttempts > 0 && t.Pending.Attempts >= maxAttempts {
				t.Pending.GaveUp, del.GaveUp = true, true
				if n.State == notify.StateResolved {
					// A drift that ended and could not be told so is forgotten once it gives up
					// (the record says so): nothing more is owed, and a drift that comes back
					// later is new.
					delete(told, k)
				}
			}
			if n.State == notify.StateFiring {
				seen[fp] = seenOf(n.Finding)
			}
		}
		deliveries = append(deliveries, del)
	}
	// Bound what is owed: the oldest owed transitions give up first.
	var owed []*Told
	for _, t := range told {
		if t.Pending != nil && !t.Pending.GaveUp {
			owed = append(owed, t)
		}
	}
	if maxPending > 0 && len(owed) > maxPending {
		sort.Slice(owed, func(i, j int) bool {
			if owed[i].Pending.Since != owed[j].Pending.Since {
				return owed[i].Pending.Since < owed[j].Pending.Since
			}
			return owed[i].Receiver+owed[i].Fingerprint < owed[j].Receiver+owed[j].Fingerprint
		})
		for _, t := range owed[:len(owed)-maxPending] {
			t.Pending.GaveUp = true
			t.Pending.Error = fmt.Sprintf("more than %d notifications owed; the oldest gave up", maxPending)
			deliveries = append(deliveries, Delivery{Receiver: t.Receiver, Fingerprint: t.Fingerprint, FindingID: t.Pending.FindingID,
				State: t.Pending.State, Reason: ReasonRetry, At: stamp, Outcome: notify.OutcomeFailed, Attempts: t.Pending.Attempts,
				Error: t.Pending.Error, GaveUp: true})
		}
	}
	return deliveries, stateOf(told, seen)
}
