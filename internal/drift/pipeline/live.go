package pipeline

import (
	"context"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/evidence"
	"github.com/driftplane/terraform-provider-drift/internal/drift/live"
)

// LiveObjects observes a Kubernetes unit through Source (its declared objects), then adds what
// the live-object detectors find in Snapshot (moved image digests, secret delivery, unmanaged
// objects, the live objects its policy rules judge). Context's unit, time and digester come from
// the evaluation. After Observe, Found holds the detectors' result (digests to record, warnings).
type LiveObjects struct {
	Source   Source
	Snapshot live.Snapshot
	Context  live.Context
	// Label names the snapshot in the evidence record.
	Label string
	// Found is set by Observe.
	Found *live.Result
}

// UnitKind implements Source.
func (l *LiveObjects) UnitKind() string { return l.Source.UnitKind() }

// Observe implements Source.
func (l *LiveObjects) Observe(ctx context.Context, env Env) (*Observed, error) {
	out, err := l.Source.Observe(ctx, env)
	if err != nil {
		return nil, err
	}
	c := l.Context
	c.Unit, c.Digester = env.Unit, env.Digester
	if c.Now.IsZero() {
		c.Now = env.At
	}
	res := live.Detect(l.Snapshot, c)
	l.Found = &res
	// Declared objects are judged with their creation time by the base source; these are the
	// live ones Git does not declare.
	if len(res.Resources) > 0 && env.Unit != nil && len(env.Unit.Spec.PolicyRules) > 0 {
		out.Resources = append(append([]drift.Observation(nil), out.Resources...), res.Resources...)
	}
	if out.Inventory != nil {
		inv := *out.Inventory
		inv.Expected += res.Unmanaged
		inv.Unmanaged = res.Unmanaged
		out.Inventory = &inv
	}
	if len(res.Observations) == 0 {
		return out, nil
	}
	// A fresh backing array: the base source's slice is never written through.
	out.Observations = append(out.Observations[:len(out.Observations):len(out.Observations)], res.Observations...)
	out.Inputs = append(out.Inputs, evidence.Input{Name: l.Label, Digest: evidence.ObservationsDigest(res.Observations)})
	return out, nil
}
