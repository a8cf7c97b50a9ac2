package drift

import "testing"

// A path both Git and a controller claim is Git's, in generate's stripping as in the evaluation:
// stripping it would hide a person's change to a field the evaluation holds to Git.
func TestNotGitOwnedAgreesWithOwnerOfOnTies(t *testing.T) {
	rules := []OwnershipRule{{
		Resource:        ResourceMatch{Group: "apps", Kind: "Deployment", Name: "web"},
		GitOwned:        []string{"/spec/replicas", "/metadata/labels/team"},
		ControllerOwned: []ControllerPath{{Path: "/spec/replicas", Owner: "hpa"}, {Path: "/metadata/labels", Owner: "labeler"}, {Path: "/spec/paused", Owner: "rollouts"}},
	}}
	got := map[string]bool{}
	for _, p := range NotGitOwned(rules, "apps", "Deployment", "web", "web", nil) {
		got[p.Path] = true
	}
	if got["/spec/replicas"] || got["/metadata/labels"] || !got["/spec/paused"] || len(got) != 1 {
		t.Fatalf("given away: %v; want only /spec/paused", got)
	}
	unit := &ManagedUnit{Metadata: Metadata{Name: "u"}, Spec: UnitSpec{Kind: UnitKubernetes, Owner: "o", Environment: "prod", RiskTier: "high", OwnershipRules: rules}}
	ev := &evaluator{unit: unit}
	obs := &Observation{Group: "apps", Kind: "Deployment", Namespace: "web", Name: "web"}
	for path, want := range map[string]string{"/spec/replicas": OwnerGit, "/metadata/labels/team": OwnerGit, "/spec/paused": OwnerController} {
		if kind, _, _ := ev.ownerOf(obs, MustPointer(path)); kind != want {
			t.Errorf("ownerOf(%s) = %s, want %s", path, kind, want)
		}
	}
}
