package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KindDriftRoutingPolicy is the kind of a routing policy document.
const KindDriftRoutingPolicy = "DriftRoutingPolicy"

// DriftRoutingPolicy says who is told about which drift: an ordered tree of routes with
// Alertmanager matchers over a finding's labels, the receivers they notify, how findings are
// grouped and repeated, and scoped, expiring silences.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Namespaced,categories=driftplane
type DriftRoutingPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec DriftRoutingPolicySpec `json:"spec"`
}

// DriftRoutingPolicyList is a list of DriftRoutingPolicies.
//
// +kubebuilder:object:root=true
type DriftRoutingPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DriftRoutingPolicy `json:"items"`
}

// DriftRoutingPolicySpec is the routing itself. The Go field order is its canonical JSON order.
type DriftRoutingPolicySpec struct {
	// Receivers are the destinations routes name. They hold no secret: a token, signing key or
	// secret webhook URL is referenced by secretRef.
	Receivers []RoutingReceiver `json:"receivers,omitempty"`
	// UnitLabels names the extra unit labels (metadata.labels of the DriftManagedUnit, with
	// characters other than letters, digits and '_' turned into '_') matchers and groupBy may
	// use; data_classification and compliance_scope are always known.
	UnitLabels []string `json:"unitLabels,omitempty"`
	// Route is the root of the route tree; it matches every finding.
	// +required
	Route DriftRoute `json:"route"`
	// Silences mute matching findings until they expire.
	Silences []DriftSilence `json:"silences,omitempty"`
	// MaxSilenceDays bounds how far ahead of the evaluation a silence may expire (default 90, at
	// most 365), as for exceptions.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=365
	MaxSilenceDays int `json:"maxSilenceDays,omitempty"`
}

// RoutingReceiver is one named destination.
type RoutingReceiver struct {
	// +required
	Name string `json:"name"`
	// +required
	// +kubebuilder:validation:Enum=alertmanager;webhook;slack;pagerduty;github;gitlab;gitea
	Type string `json:"type"`
	// URL is the receiver's non-secret endpoint (an Alertmanager, a webhook, an issue tracker's
	// API). Slack and PagerDuty URLs embed their credential, so they come from urlFrom.
	URL string `json:"url,omitempty"`
	// URLFrom reads the endpoint from a secret instead of url.
	URLFrom *SecretRef `json:"urlFrom,omitempty"`
	// SecretRef is the receiver's credential: a token, an HMAC key or a routing key.
	SecretRef *SecretRef `json:"secretRef,omitempty"`
	// Settings are non-secret options (repository, project, labels, ...).
	Settings map[string]string `json:"settings,omitempty"`
}

// SecretRef points at a secret value without holding it: an environment variable of the process
// that sends, or a key of a Kubernetes Secret in the policy's namespace.
type SecretRef struct {
	Env  string `json:"env,omitempty"`
	Name string `json:"name,omitempty"`
	Key  string `json:"key,omitempty"`
}

// DriftRoute is one node of the route tree. Unset receivers, grouping, intervals and the
// page/createIncident/createIssue switches are inherited from the parent route.
type DriftRoute struct {
	// Name labels the route in decisions; the route's path (route.routes[1]) is used when empty.
	Name      string   `json:"name,omitempty"`
	Receivers []string `json:"receivers,omitempty"`
	// Matchers are Alertmanager matchers (domain=~"identity|network", risk!="INFO"), all of which
	// must match. The root route has none.
	Matchers []string `json:"matchers,omitempty"`
	// Continue lets the siblings after a matching route be tried too.
	Continue bool `json:"continue,omitempty"`
	// GroupBy are the labels whose values form a group; "..." groups by every label.
	GroupBy []string `json:"groupBy,omitempty"`
	// GroupWait, GroupInterval and RepeatInterval are durations (30s, 5m, 4h, 1d).
	GroupWait      string `json:"groupWait,omitempty"`
	GroupInterval  string `json:"groupInterval,omitempty"`
	RepeatInterval string `json:"repeatInterval,omitempty"`
	Page           *bool  `json:"page,omitempty"`
	CreateIncident *bool  `json:"createIncident,omitempty"`
	CreateIssue    *bool  `json:"createIssue,omitempty"`
	// Routes are the child routes, tried in order. The CRD does not describe their schema
	// (OpenAPI has no recursive schemas); the core validates them as the root.
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	Routes []DriftRoute `json:"routes,omitempty"`
}

// DriftSilence mutes the findings its matchers select until it expires. It must be scoped and
// must expire, exactly as an exception.
type DriftSilence struct {
	// +required
	Name string `json:"name"`
	// +required
	// +kubebuilder:validation:MinItems=1
	Matchers []string `json:"matchers"`
	// +required
	Reason string `json:"reason"`
	// +required
	CreatedBy string `json:"createdBy"`
	// StartsAt is an RFC 3339 time; the silence is active from it (default: at once).
	// +kubebuilder:validation:Format=date-time
	StartsAt string `json:"startsAt,omitempty"`
	// ExpiresAt is an RFC 3339 time.
	// +required
	// +kubebuilder:validation:Format=date-time
	ExpiresAt string `json:"expiresAt"`
}
