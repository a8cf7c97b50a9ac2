// Package notify tells a finding's owners about it: a Notification is one finding's state at one
// evaluation (firing or resolved, with its lifecycle), and a Receiver is one way of telling
// (Alertmanager, a signed webhook, Slack, PagerDuty, an issue on a forge). Receivers see only
// what drift.Finding carries, which never holds a sensitive value: changed fields are paths, the
// evidence is a keyed digest.
package notify

import (
	"context"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// States of a notification.
const (
	StateFiring   = "firing"
	StateResolved = "resolved"
)

// Notification is one finding at one evaluation, as a receiver is told about it.
type Notification struct {
	// Finding is the finding (its schema, with fingerprint, first_seen and age). For a resolved
	// notification it is the finding as last seen.
	Finding drift.Finding `json:"finding"`
	// State is firing or resolved.
	State string `json:"state"`
	// Resolution and ResolvedAt say how and when it ended (resolved only).
	Resolution string `json:"resolution,omitempty"`
	ResolvedAt string `json:"resolved_at,omitempty"`
	// Changed is true when the drift's values changed since it was last told (same fingerprint,
	// new finding_id): issue receivers comment, others re-send.
	Changed bool `json:"changed,omitempty"`
	// Route names the route that chose the receiver, GroupKey the group it was batched in.
	Route    string `json:"route,omitempty"`
	GroupKey string `json:"group_key,omitempty"`
	// Page asks receivers that distinguish paging from ticketing (PagerDuty) to page; Incident
	// asks them to open an incident without paging (PagerDuty: a trigger of at most warning
	// severity, which services route to low urgency).
	Page     bool `json:"page,omitempty"`
	Incident bool `json:"incident,omitempty"`
	// EvidenceURI locates the evidence record; Link is a page a human opens (may be empty).
	EvidenceURI string `json:"evidence_uri,omitempty"`
	Link        string `json:"link,omitempty"`
}

// Receiver delivers notifications. Send is given one group (notifications sharing a group key)
// and returns an error when any could not be delivered; it must honour ctx's deadline and must
// be safe to call again with the same notifications (deduplicated by fingerprint on the far side).
type Receiver interface {
	// Name is the receiver's name in the routing policy.
	Name() string
	Send(ctx context.Context, group []Notification) error
}
