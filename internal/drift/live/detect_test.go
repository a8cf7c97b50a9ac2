package live

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

var now = time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)

func digest(c string) string { return "sha256:" + strings.Repeat(c, 64) }

func obj(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	return m
}

func unit(env string) *drift.ManagedUnit {
	return &drift.ManagedUnit{Metadata: drift.Metadata{Name: "web"}, Spec: drift.UnitSpec{Kind: drift.UnitKubernetes, Owner: "team-web", Environment: env, RiskTier: "high", Gate: "high"}}
}

// pod is a Running Pod of Deployment web (ReplicaSet web-7d9f) running image with imageID.
func pod(t *testing.T, name, image, imageID string) map[string]any {
	return obj(t, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"`+name+`","namespace":"shop","creationTimestamp":"2026-08-01T00:00:00Z",
		"labels":{"pod-template-hash":"7d9f"},
		"ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-7d9f","uid":"rs-1","controller":true}]},
	 "spec":{"containers":[{"name":"app","image":"`+image+`"}]},
	 "status":{"phase":"Running","startTime":"2026-08-01T00:00:05Z","containerStatuses":[{"name":"app","image":"`+image+`","imageID":"`+imageID+`","state":{"running":{"startedAt":"2026-08-01T00:00:10Z"}}}]}}`)
}

func only(t *testing.T, r Result, change string) []drift.Observation {
	t.Helper()
	var out []drift.Observation
	for _, o := range r.Observations {
		if o.Live != nil && o.Live.Change == change {
			out = append(out, o)
		}
	}
	return out
}

func TestImagesTwoDigestsForOneTag(t *testing.T) {
	s := Snapshot{Pods: []map[string]any{
		pod(t, "web-7d9f-a", "registry.example.com/web:1.4", "registry.example.com/web@"+digest("a")),
		pod(t, "web-7d9f-b", "registry.example.com/web:1.4", "docker-pullable://registry.example.com/web@"+digest("b")),
		pod(t, "web-7d9f-c", "registry.example.com/web:1.4", "registry.example.com/web@"+digest("a")),
	}}
	r := Detect(s, Context{Unit: unit("staging"), Now: now, Revision: "abc"})
	obs := only(t, r, drift.ChangeImageDigest)
	if len(obs) != 1 {
		t.Fatalf("observations %+v", r.Observations)
	}
	o := obs[0]
	if o.Ref != "apps/v1/Deployment/shop/web" || len(o.Live.Changes) != 1 || o.Live.Changes[0].Before != digest("a") || o.Live.Changes[0].After != digest("b") {
		t.Errorf("%s %+v", o.Ref, o.Live.Changes)
	}
	for _, want := range []string{"registry.example.com/web:1.4", "tag 1.4", digest("a"), digest("b"), "web-7d9f-b"} {
		if !strings.Contains(o.Live.Explanation, want) {
			t.Errorf("explanation lacks %q: %s", want, o.Live.Explanation)
		}
	}
	if len(r.Digests) != 0 {
		t.Errorf("an ambiguous digest was recorded: %v", r.Digests)
	}
	// Through the decision table: DEPENDENCY_DRIFT, PIN_REFERENCE.
	rep, err := drift.Evaluate(unit("staging"), nil, r.Observations)
	if err != nil {
		t.Fatal(err)
	}
	if f := rep.Findings[0]; f.DriftClass != drift.ClassDependency || f.RecommendedAction != drift.ActionPinReference || f.Rule != "image-digest-moved" {
		t.Errorf("%+v", f)
	}
}

func TestImagesDigestMovedSinceRecord(t *testing.T) {
	s := Snapshot{Pods: []map[string]any{pod(t, "web-7d9f-a", "web:1.4", "docker.io/library/web@"+digest("c"))}}
	key := RecordKey("apps/v1/Deployment/shop/web", "app", "web:1.4", "abc")
	r := Detect(s, Context{Unit: unit("staging"), Now: now, Revision: "abc", Recorded: map[string]string{key: digest("a")}})
	obs := only(t, r, drift.ChangeImageDigest)
	if len(obs) != 1 || !strings.Contains(obs[0].Live.Explanation, digest("a")+" was recorded") || r.Digests[key] != digest("c") {
		t.Fatalf("%+v %v", r.Observations, r.Digests)
	}
	// While the Pods disagree the record stands, so the move is still seen once the old Pods are gone.
	mixed := Snapshot{Pods: []map[string]any{pod(t, "web-7d9f-a", "web:1.4", "web@"+digest("a")), pod(t, "web-7d9f-b", "web:1.4", "web@"+digest("c"))}}
	if r := Detect(mixed, Context{Unit: unit("staging"), Now: now, Revision: "abc", Recorded: map[string]string{key: digest("a")}}); r.Digests[key] != digest("a") {
		t.Errorf("the record was dropped while the Pods disagree: %v", r.Digests)
	}
	// The same digest, or a record of another revision, is no finding.
	r = Detect(s, Context{Unit: unit("staging"), Now: now, Revision: "abc", Recorded: map[string]string{key: digest("c")}})
	r2 := Detect(s, Context{Unit: unit("staging"), Now: now, Revision: "def", Recorded: map[string]string{key: digest("a")}})
	if len(r.Observations)+len(r2.Observations) != 0 {
		t.Errorf("%+v %+v", r.Observations, r2.Observations)
	}
}

func TestImagesUnpinnedInProd(t *testing.T) {
	s := Snapshot{Pods: []map[string]any{
		pod(t, "web-7d9f-a", "web:1.4", "web@"+digest("a")),
		pod(t, "web-7d9f-b", "web:1.4", "web@"+digest("a")),
		pod(t, "web-7d9f-p", "web@"+digest("a"), "web@"+digest("a")),
	}}
	r := Detect(s, Context{Unit: unit("production"), Now: now})
	var refs []drift.Observation
	for _, o := range r.Observations {
		if o.MutableRef != nil {
			refs = append(refs, o)
		}
	}
	if len(refs) != 1 || refs[0].MutableRef.Reference != "web:1.4" || refs[0].MutableRef.Path.String() != "/spec/template/spec/containers/name=app/image" {
		t.Fatalf("%+v", r.Observations)
	}
	rep, _ := drift.Evaluate(unit("production"), nil, r.Observations)
	if f := rep.Findings[0]; f.RecommendedAction != drift.ActionPinReference || f.DriftClass != drift.ClassDependency {
		t.Errorf("%+v", f)
	}
	if r := Detect(s, Context{Unit: unit("staging"), Now: now}); len(r.Observations) != 0 {
		t.Errorf("staging: %+v", r.Observations)
	}
}

// Adversarial: Pods that lie in their status or give none are unknown, never clean; a Pending
// Pod runs nothing yet.
func TestImagesLyingOrMissingStatus(t *testing.T) {
	noStatus := pod(t, "web-7d9f-n", "web:1.4", "")
	delete(noStatus, "status")
	wrongRepo := pod(t, "web-7d9f-w", "web:1.4", "evil.example.com/other@"+digest("e"))
	garbage := pod(t, "web-7d9f-g", "web:1.4", "sha256:"+strings.Repeat("Z", 64))
	noContainer := pod(t, "web-7d9f-x", "web:1.4", "web@"+digest("a"))
	noContainer["status"].(map[string]any)["containerStatuses"] = []any{}
	pending := pod(t, "web-7d9f-p", "web:1.4", "")
	pending["status"] = map[string]any{"phase": "Pending"}
	r := Detect(Snapshot{Pods: []map[string]any{noStatus, wrongRepo, garbage, noContainer, pending}}, Context{Unit: unit("staging"), Now: now})
	obs := only(t, r, drift.ChangeUnobserved)
	got := map[string]string{}
	for _, o := range obs {
		got[o.Name] = o.Live.Explanation
	}
	for name, want := range map[string]string{
		"web-7d9f-n": "no status", "web-7d9f-w": "names repository evil.example.com/other", "web-7d9f-g": "not a digest", "web-7d9f-x": "no status",
	} {
		if !strings.Contains(got[name], want) {
			t.Errorf("%s: %q lacks %q", name, got[name], want)
		}
	}
	if _, ok := got["web-7d9f-p"]; ok || len(obs) != 4 {
		t.Errorf("%v", got)
	}
	rep, _ := drift.Evaluate(unit("staging"), nil, r.Observations)
	if rep.Status != drift.StatusDrifted || rep.Findings[0].DriftClass != drift.ClassUnknown {
		t.Errorf("%s %+v", rep.Status, rep.Findings)
	}
}

func externalSecret(t *testing.T, name, readyStatus, refreshTime, interval string) map[string]any {
	st := `{}`
	if readyStatus != "" {
		st = `{"refreshTime":"` + refreshTime + `","syncedResourceVersion":"1-abc","conditions":[{"type":"Ready","status":"` + readyStatus + `","reason":"SecretSyncedError","message":"could not get secret data from provider: hunter2"}]}`
	}
	return obj(t, `{"apiVersion":"external-secrets.io/v1","kind":"ExternalSecret","metadata":{"name":"`+name+`","namespace":"shop","creationTimestamp":"2026-08-01T00:00:00Z"},
		"spec":{"refreshInterval":"`+interval+`","target":{"name":"db"}},"status":`+st+`}`)
}

func TestSecretSync(t *testing.T) {
	fresh := now.Add(-10 * time.Minute).Format(time.RFC3339)
	stale := now.Add(-3 * time.Hour).Format(time.RFC3339)
	s := Snapshot{ExternalSecrets: []map[string]any{
		externalSecret(t, "ok", "True", fresh, "1h"),
		externalSecret(t, "not-ready", "False", fresh, "1h"),
		externalSecret(t, "stale", "True", stale, "1h"),
		externalSecret(t, "never", "", "", "1h"),
		externalSecret(t, "no-refresh", "True", stale, "0"),
		externalSecret(t, "bad-interval", "True", fresh, "soon"),
		externalSecret(t, "from-the-future", "True", now.Add(24*time.Hour).Format(time.RFC3339), "1h"),
	}, SealedSecrets: []map[string]any{
		obj(t, `{"apiVersion":"bitnami.com/v1alpha1","kind":"SealedSecret","metadata":{"name":"api","namespace":"shop","creationTimestamp":"2026-08-01T00:00:00Z"},"status":{"conditions":[{"type":"Synced","status":"False","reason":"ErrUnsealFailed"}]}}`),
		obj(t, `{"apiVersion":"bitnami.com/v1alpha1","kind":"SealedSecret","metadata":{"name":"gone","namespace":"shop","creationTimestamp":"2026-08-01T00:00:00Z"},"status":{"conditions":[{"type":"Synced","status":"True"}]}}`),
		obj(t, `{"apiVersion":"bitnami.com/v1alpha1","kind":"SealedSecret","metadata":{"name":"fine","namespace":"shop","creationTimestamp":"2026-08-01T00:00:00Z"},"status":{"conditions":[{"type":"Synced","status":"True"}]}}`),
	}, Secrets: []map[string]any{
		obj(t, `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"api","namespace":"shop"}}`),
		obj(t, `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"fine","namespace":"shop"}}`),
	}, SecretsListed: true}
	r := Detect(s, Context{Unit: unit("prod"), Now: now})
	got := map[string]string{}
	for _, o := range only(t, r, drift.ChangeSecretSync) {
		got[o.Kind+"/"+o.Name] = o.Live.Explanation
	}
	want := map[string]string{
		"ExternalSecret/not-ready":       "Ready condition is False (reason SecretSyncedError)",
		"ExternalSecret/stale":           "beyond its refreshInterval 1h0m0s plus 10m0s",
		"ExternalSecret/never":           "no Ready condition",
		"ExternalSecret/bad-interval":    `refreshInterval "soon" is not a duration`,
		"ExternalSecret/from-the-future": "is in the future",
		"SealedSecret/api":               "Synced condition is False (reason ErrUnsealFailed)",
		"SealedSecret/gone":              "Secret shop/gone does not exist",
	}
	for k, w := range want {
		if !strings.Contains(got[k], w) {
			t.Errorf("%s: %q lacks %q", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("findings %v", got)
	}
	// The condition's message (which may quote what the provider read) is never copied.
	b := dump(t, r)
	if !strings.Contains(b, "SecretSyncedError") {
		t.Fatalf("the result does not print: %s", b)
	}
	if strings.Contains(b, "hunter2") || strings.Contains(b, "could not get secret data") {
		t.Errorf("a condition message leaked: %s", b)
	}
}

func TestSecretConsumers(t *testing.T) {
	secret := func(name, changed string) map[string]any {
		return obj(t, `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"`+name+`","namespace":"shop","resourceVersion":"42","creationTimestamp":"2026-07-01T00:00:00Z",
			"managedFields":[{"manager":"external-secrets","operation":"Update","time":"2026-07-01T00:00:00Z"},{"manager":"external-secrets","operation":"Update","time":"`+changed+`"}]}}`)
	}
	consumer := func(name, how string) map[string]any {
		p := pod(t, name, "web:1", "web@"+digest("a"))
		spec := p["spec"].(map[string]any)
		ctr := spec["containers"].([]any)[0].(map[string]any)
		switch how {
		case "volume":
			spec["volumes"] = []any{map[string]any{"name": "creds", "secret": map[string]any{"secretName": "db"}}}
		case "envFrom":
			ctr["envFrom"] = []any{map[string]any{"secretRef": map[string]any{"name": "db"}}}
		case "env":
			ctr["env"] = []any{map[string]any{"name": "PASSWORD", "valueFrom": map[string]any{"secretKeyRef": map[string]any{"name": "db", "key": "password"}}}}
		}
		return p
	}
	late := consumer("web-7d9f-late", "env")
	late["status"].(map[string]any)["containerStatuses"].([]any)[0].(map[string]any)["state"] = map[string]any{"running": map[string]any{"startedAt": "2026-08-20T00:00:00Z"}}
	s := Snapshot{Secrets: []map[string]any{secret("db", "2026-08-15T00:00:00Z"), secret("other", "2026-08-15T00:00:00Z")},
		Pods: []map[string]any{consumer("web-7d9f-v", "volume"), consumer("web-7d9f-e", "envFrom"), late, consumer("web-7d9f-none", "")}, SecretsListed: true}
	r := Detect(s, Context{Unit: unit("prod"), Now: now})
	obs := only(t, r, drift.ChangeSecretConsumer)
	if len(obs) != 1 || obs[0].Ref != "/v1/Secret/shop/db" {
		t.Fatalf("%+v", r.Observations)
	}
	e := obs[0].Live.Explanation
	for _, w := range []string{"web-7d9f-v", "web-7d9f-e", "volume creds", "envFrom of app", "resourceVersion 42", "by external-secrets", "2026-08-15T00:00:00Z", "2 consumer(s)"} {
		if !strings.Contains(e, w) {
			t.Errorf("explanation lacks %q: %s", w, e)
		}
	}
	if strings.Contains(e, "web-7d9f-late") || strings.Contains(e, "none") {
		t.Errorf("a Pod started after the change, or one not reading the Secret, is named: %s", e)
	}
	// A Pod whose status claims it started in the future, or before it existed, hides nothing:
	// it is unknown.
	future := consumer("web-7d9f-future", "volume")
	future["status"].(map[string]any)["containerStatuses"].([]any)[0].(map[string]any)["state"] = map[string]any{"running": map[string]any{"startedAt": "2030-01-01T00:00:00Z"}}
	early := consumer("web-7d9f-early", "volume")
	early["status"].(map[string]any)["containerStatuses"].([]any)[0].(map[string]any)["state"] = map[string]any{"running": map[string]any{"startedAt": "2020-01-01T00:00:00Z"}}
	liars := Detect(Snapshot{Secrets: s.Secrets, Pods: []map[string]any{future, early}, SecretsListed: true}, Context{Unit: unit("prod"), Now: now})
	if u := only(t, liars, drift.ChangeUnobserved); len(u) != 2 || len(only(t, liars, drift.ChangeSecretConsumer)) != 0 {
		t.Errorf("lying start times: %+v", liars.Observations)
	}
	rep, _ := drift.Evaluate(unit("prod"), nil, r.Observations)
	if f := rep.Findings[0]; f.DriftClass != drift.ClassSecretDelivery || f.RecommendedAction != drift.ActionRestartConsumers {
		t.Errorf("%+v", f)
	}
	// Without Secrets' metadata nothing is judged, and the result says so.
	s.SecretsListed = false
	r = Detect(s, Context{Unit: unit("prod"), Now: now})
	if len(only(t, r, drift.ChangeSecretConsumer)) != 0 || len(r.Warnings) != 1 {
		t.Errorf("%+v %v", r.Observations, r.Warnings)
	}
}

func configMap(t *testing.T, name, extraMeta string) map[string]any {
	if extraMeta != "" {
		extraMeta = "," + extraMeta
	}
	return obj(t, `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"`+name+`","namespace":"shop","uid":"uid-`+name+`","creationTimestamp":"2026-08-01T00:00:00Z"`+extraMeta+`},"data":{"k":"v"}}`)
}

func TestUnmanaged(t *testing.T) {
	u := unit("prod")
	u.Spec.UnmanagedAllowed = []drift.UnmanagedAllowance{{Resource: drift.ResourceMatch{Kind: "ConfigMap", Name: "istio-ca-*"}, Reason: "the mesh writes it"}}
	objs := []map[string]any{
		configMap(t, "declared", ""),
		configMap(t, "stray", ""),
		configMap(t, "owned", `"ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"declared","uid":"uid-declared"}]`),
		configMap(t, "forged-owner", `"ownerReferences":[{"apiVersion":"apps/v1","kind":"Deployment","name":"ghost","uid":"nope"}]`),
		configMap(t, "other-app", `"annotations":{"argocd.argoproj.io/tracking-id":"billing:/ConfigMap:shop/other-app"}`),
		configMap(t, "fake-app", `"annotations":{"argocd.argoproj.io/tracking-id":"ghost-app:/ConfigMap:shop/fake-app"}`),
		configMap(t, "copied-id", `"annotations":{"argocd.argoproj.io/tracking-id":"billing:/ConfigMap:shop/other-app"}`),
		configMap(t, "claims-us", `"annotations":{"argocd.argoproj.io/tracking-id":"web:/ConfigMap:shop/claims-us"}`),
		configMap(t, "label-us", `"labels":{"app.kubernetes.io/instance":"web"}`),
		configMap(t, "label-billing", `"labels":{"app.kubernetes.io/instance":"billing"}`),
		configMap(t, "extraneous", ""),
		configMap(t, "istio-ca-root-cert", ""),
		configMap(t, "kube-root-ca.crt", ""),
	}
	c := Context{Unit: u, Now: now, App: "web",
		Declared:    map[ObjectKey]bool{{"", "ConfigMap", "shop", "declared"}: true},
		Extraneous:  map[ObjectKey]bool{{"", "ConfigMap", "shop", "extraneous"}: true},
		KnownApps:   func(n string) bool { return n == "web" || n == "billing" },
		OwnerExists: func(string, OwnerRef) bool { return false },
	}
	r := Detect(Snapshot{Objects: objs}, c)
	got := map[string]string{}
	for _, o := range only(t, r, drift.ChangeUnmanaged) {
		got[o.Name] = o.Live.Explanation
	}
	want := map[string]string{
		"stray":        "no Git source declares it",
		"forged-owner": "Deployment ghost, which do not exist",
		"fake-app":     `application "ghost-app", which does not exist`,
		"copied-id":    "names /ConfigMap shop/other-app, not this object",
		"claims-us":    "names this application, which does not list it",
		"label-us":     "label names this application",
	}
	for k, w := range want {
		if !strings.Contains(got[k], w) {
			t.Errorf("%s: %q lacks %q", k, got[k], w)
		}
	}
	if len(got) != len(want) || r.Unmanaged != len(want) || r.Allowed != 1 {
		t.Errorf("unmanaged %d allowed %d: %v", r.Unmanaged, r.Allowed, got)
	}
	rep, _ := drift.Evaluate(u, nil, r.Observations)
	for _, f := range rep.Findings {
		if f.DriftClass != drift.ClassUnmanaged || f.RecommendedAction != drift.ActionImport || f.AutoHealAllowed {
			t.Errorf("%+v", f)
		}
	}
	// A unit must say why an object may run outside Git, and name a kind.
	bad := unit("prod")
	bad.APIVersion, bad.Kind = drift.APIVersion, drift.KindManagedUnit
	bad.Spec.UnmanagedAllowed = []drift.UnmanagedAllowance{{Resource: drift.ResourceMatch{Kind: "*"}}}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "unmanagedAllowed[0].resource.kind") || !strings.Contains(err.Error(), "unmanagedAllowed[0].reason") {
		t.Errorf("validation: %v", err)
	}
}

// Live objects Git does not declare join the policy rules' inventory with their creation time;
// declared ones are judged through their own observations.
func TestPolicyResources(t *testing.T) {
	u := unit("prod")
	u.Spec.PolicyRules = []drift.PolicyRule{{ID: "non-root", AppliesTo: []string{"/Pod"}, Since: "2026-07-01T00:00:00Z", MigrationWindow: "2160h",
		Expression: `has(object.spec.securityContext) && object.spec.securityContext.runAsNonRoot == true`}}
	p := pod(t, "web-7d9f-a", "web:1", "web@"+digest("a"))
	r := Detect(Snapshot{Pods: []map[string]any{p}, Objects: []map[string]any{configMap(t, "declared", "")}},
		Context{Unit: u, Now: now, Declared: map[ObjectKey]bool{{"", "ConfigMap", "shop", "declared"}: true}})
	if len(r.Resources) != 1 || r.Resources[0].Ref != "/v1/Pod/shop/web-7d9f-a" || !r.Resources[0].Created.Equal(time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("%+v", r.Resources)
	}
	rep, err := drift.Evaluate(u, nil, nil, drift.WithResources(r.Resources))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != 1 || rep.Findings[0].DriftClass != drift.ClassPolicy || !rep.Findings[0].Blocking || !strings.Contains(rep.Findings[0].Explanation, "after the rule took effect") {
		t.Errorf("%+v", rep.Findings)
	}
}

// dump renders everything a Result holds (observations' facts, changes and explanations, the
// live objects for policy rules, digests, warnings) so a test can search it for a leak.
func dump(t *testing.T, r Result) string {
	t.Helper()
	type obs struct {
		Ref              string
		Live             *drift.LiveCheck
		MutableRef       *drift.MutableReference
		Recorded, Actual any
	}
	var view struct {
		Observations, Resources []obs
		Digests                 map[string]string
		Warnings                []string
	}
	for _, o := range r.Observations {
		view.Observations = append(view.Observations, obs{o.Ref, o.Live, o.MutableRef, o.Recorded, o.Actual})
	}
	for _, o := range r.Resources {
		view.Resources = append(view.Resources, obs{o.Ref, o.Live, o.MutableRef, o.Recorded, o.Actual})
	}
	view.Digests, view.Warnings = r.Digests, r.Warnings
	b, err := json.Marshal(view)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
