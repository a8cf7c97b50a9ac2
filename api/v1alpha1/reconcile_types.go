package v1alpha1

// ReconcileThrash bounds reconcile-thrash detection for a Kubernetes unit: one field of one object
// changing at least Changes times within Window, with more than one writer, is a control loop
// fighting another (FAILED_RECONCILIATION, INVESTIGATE_CONTROL_LOOP), and auto-heal of the object
// is suspended while it lasts.
type ReconcileThrash struct {
	// Window is how far back changes count, as a Go duration (default 30m, 1m to 24h).
	Window string `json:"window,omitempty"`
	// Changes is how many changes of one path within Window make it thrash (default 3, 2 to 50).
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=50
	Changes int `json:"changes,omitempty"`
}

// ReconcileTracking is what the reporter keeps between evaluations to see reconcile thrash: per
// path, the keyed digest of its live value at each evaluation, never the value.
type ReconcileTracking struct {
	// KeyID identifies the digest key the samples were taken with (a keyed digest of a constant):
	// samples taken with another key are not compared.
	KeyID string `json:"keyId,omitempty"`
	// Paths are the tracked paths, at most 50.
	Paths []PathHistory `json:"paths,omitempty"`
	// Overflow: more paths changed than can be tracked; auto-heal of the application is
	// suspended until they fit again.
	Overflow bool `json:"overflow,omitempty"`
}

// PathHistory is one field of one object across evaluations.
type PathHistory struct {
	// +required
	Ref       string `json:"ref"`
	Group     string `json:"group,omitempty"`
	Kind      string `json:"kind,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
	// +required
	Path string `json:"path"`
	// Samples are the path's values at successive evaluations, oldest first.
	Samples []PathSample `json:"samples"`
}

// PathSample is one path's value at one evaluation, as a keyed digest.
type PathSample struct {
	// +required
	At string `json:"at"`
	// Digest is the keyed digest (hmac-sha256:...) of the value, or of its absence.
	// +required
	Digest string `json:"digest"`
	// Manager is the field manager that owned the path then, when managedFields say.
	Manager string `json:"manager,omitempty"`
	// Drifted: the value differed from Git's.
	Drifted bool `json:"drifted,omitempty"`
	// Healed: the reporter's auto-heal synced the path back to Git after this sample.
	Healed bool `json:"healed,omitempty"`
}
