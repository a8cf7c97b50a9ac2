package ledger

import (
	"context"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// History gathers what budget objectives judge from a unit's ledger since from: the lives of
// the drifts that resolved or were first seen since then, those open in cur (the record being
// written), and each time the unit went stale (a gap between successful evaluations, or up to
// cur, longer than staleAfter; 0 judges none). It opens only records with transitions: the
// others' keys say all it needs.
func History(ctx context.Context, s Store, unit string, from time.Time, cur *Record, staleAfter time.Duration) (*drift.History, error) {
	infos, err := Keys(ctx, s, unit)
	if err != nil {
		return nil, err
	}
	h := &drift.History{}
	lives := map[string]int{} // fingerprint|first_seen → index in h.Lives
	put := func(fp string, l drift.Life) {
		k := fp + "|" + l.FirstSeen.UTC().Format(time.RFC3339)
		if i, ok := lives[k]; ok {
			h.Lives[i] = l
			return
		}
		lives[k] = len(h.Lives)
		h.Lives = append(h.Lives, l)
	}
	var lastOK time.Time
	stale := func(next time.Time) {
		if staleAfter > 0 && !lastOK.IsZero() && next.Sub(lastOK) > staleAfter {
			if since := lastOK.Add(staleAfter); since.After(from) {
				h.StaleSince = append(h.StaleSince, since)
			}
		}
	}
	for _, info := range infos {
		if info.Kind != KindUnknown && info.Kind != "" {
			stale(info.EvaluatedAt)
		}
		if info.Kind == KindQuiet || info.Kind == KindUnknown || !info.EvaluatedAt.After(from) {
			if info.Kind != KindUnknown && info.Kind != "" {
				lastOK = info.EvaluatedAt
			}
			continue
		}
		r, err := ReadTransitions(ctx, s, unit, info)
		if err != nil {
			return nil, err
		}
		if info.Kind == "" { // a key from before kinds: its content says
			if r.Status == statusUnknown {
				continue
			}
			stale(info.EvaluatedAt)
		}
		lastOK = info.EvaluatedAt
		for _, e := range r.Events {
			if l, ok := eventLife(e); ok {
				put(e.Fingerprint, l)
			}
		}
	}
	if cur != nil && cur.Status != statusUnknown {
		at, err := time.Parse(time.RFC3339, cur.EvaluatedAt)
		if err == nil {
			stale(at)
		}
		for _, e := range cur.Events {
			if l, ok := eventLife(e); ok {
				put(e.Fingerprint, l)
			}
		}
		for _, e := range cur.Open {
			first, err := time.Parse(time.RFC3339, e.FirstSeen)
			if err != nil || e.AcceptedBy != "" {
				continue // an accepted drift was judged when it was accepted
			}
			put(e.Fingerprint, drift.Life{Domain: e.Domain, Class: drift.Class(e.DriftClass), Risk: drift.Risk(e.Risk), ChangedAt: parseOr(e.ChangedAt), FirstSeen: first})
		}
	}
	return h, nil
}

// eventLife is the life an appearance or resolution tells of.
func eventLife(e Event) (drift.Life, bool) {
	first, err := time.Parse(time.RFC3339, e.FirstSeen)
	if err != nil {
		return drift.Life{}, false
	}
	l := drift.Life{Domain: e.Domain, Class: drift.Class(e.DriftClass), Risk: drift.Risk(e.Risk), ChangedAt: parseOr(e.ChangedAt), FirstSeen: first}
	switch e.Kind {
	case EventAppeared, EventReopened, EventChanged:
		return l, true
	case EventResolved:
		l.ResolvedAt = parseOr(e.At)
		l.Accepted = e.Resolution == ResolutionAccepted
		return l, !l.ResolvedAt.IsZero()
	}
	return drift.Life{}, false
}

func parseOr(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}
