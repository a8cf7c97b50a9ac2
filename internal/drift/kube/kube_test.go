package kube

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

func obj(t *testing.T, y string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(y), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestNormalize(t *testing.T) {
	n := Normalize(obj(t, `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  uid: 123
  resourceVersion: "9"
  generation: 3
  creationTimestamp: "2026-01-01T00:00:00Z"
  managedFields: [{manager: x}]
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: "{}"
spec:
  template:
    spec:
      containers:
      - name: app
        ports: [{containerPort: 8080}]
        env: [{name: B, value: "2"}, {name: A, value: "1"}]
        resources: {requests: {cpu: "0.5", memory: 1Gi}, limits: {cpu: 1}}
        livenessProbe: {httpGet: {port: "8080"}}
status: {replicas: 1}
`))
	got, _ := json.Marshal(n.Object)
	want := `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"template":{"spec":{"containers":{"name=app":` +
		`{"env":{"name=A":{"name":"A","value":"1"},"name=B":{"name":"B","value":"2"}},"livenessProbe":{"httpGet":{"port":8080}},"name":"app",` +
		`"ports":{"containerPort=8080":{"containerPort":8080}},"resources":{"limits":{"cpu":"1"},"requests":{"cpu":"0.5","memory":"1073741824"}}}}}}}}`
	if string(got) != want {
		t.Errorf("Normalize:\n got %s\nwant %s", got, want)
	}
}

func TestQuantitiesCompareByValue(t *testing.T) {
	for _, pair := range [][2]any{{"500m", "0.5"}, {"1Gi", "1073741824"}, {"1", int64(1)}, {"1000m", 1.0}, {"2Ki", "2048"}} {
		if a, b := canonicalQuantity(pair[0]), canonicalQuantity(pair[1]); a != b {
			t.Errorf("%v (%v) != %v (%v)", pair[0], a, pair[1], b)
		}
	}
	if canonicalQuantity("500m") == canonicalQuantity("501m") {
		t.Error("different quantities compare equal")
	}
}

func TestNormalizeSecretAndCustomResource(t *testing.T) {
	a := Normalize(obj(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {password: hunter2}\n"))
	b := Normalize(obj(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {password: aHVudGVyMg==}\n"))
	if !drift.Equivalent(a.Object, b.Object) {
		t.Errorf("stringData and data of the same secret differ: %v vs %v", a.Object, b.Object)
	}
	js, _ := json.Marshal(a.Object)
	if strings.Contains(string(js), "hunter2") || strings.Contains(string(js), "aHVudGVyMg") {
		t.Errorf("secret value survived normalization: %s", js)
	}
	if len(a.SensitivePaths) != 1 || a.SensitivePaths[0].String() != "/data/password" {
		t.Errorf("sensitive paths %v", a.SensitivePaths)
	}
	cr := Normalize(obj(t, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {parts: [{name: a, size: 1}, {name: b}], tags: [p, q], dup: [{name: a}, {name: a}]}\n"))
	js, _ = json.Marshal(cr.Object["spec"])
	if string(js) != `{"dup":[{"name":"a"},{"name":"a"}],"parts":{"name=a":{"name":"a","size":1},"name=b":{"name":"b"}},"tags":["p","q"]}` {
		t.Errorf("custom resource lists: %s", js)
	}
}

const managedLive = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: web
  managedFields:
  - manager: argocd-controller
    operation: Apply
    time: "2026-11-01T00:00:00Z"
    fieldsType: FieldsV1
    fieldsV1:
      f:spec:
        f:replicas: {}
        f:template:
          f:spec:
            f:containers:
              k:{"name":"app"}:
                .: {}
                f:name: {}
                f:image: {}
                f:ports:
                  k:{"containerPort":8080,"protocol":"TCP"}:
                    .: {}
                    f:containerPort: {}
  - manager: kubectl-edit
    operation: Update
    time: "2026-11-02T00:00:00Z"
    fieldsType: FieldsV1
    fieldsV1:
      f:spec:
        f:template:
          f:spec:
            f:containers:
              k:{"name":"app"}:
                f:env:
                  .: {}
                  k:{"name":"DEBUG"}:
                    .: {}
                    f:name: {}
                    f:value: {}
  - manager: kube-controller-manager
    operation: Update
    subresource: scale
    time: "2026-11-03T00:00:00Z"
    fieldsType: FieldsV1
    fieldsV1:
      f:spec:
        f:replicas: {}
spec:
  replicas: 7
  progressDeadlineSeconds: 600
  template:
    spec:
      dnsPolicy: ClusterFirst
      containers:
      - name: app
        image: web:1
        imagePullPolicy: IfNotPresent
        terminationMessagePath: /dev/termination-log
        env: [{name: DEBUG, value: "true"}]
        ports: [{containerPort: 8080, protocol: TCP}]
`

func TestOwnership(t *testing.T) {
	ms, err := ReadManagers(obj(t, managedLive))
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/spec/replicas": "kube-controller-manager", // both own it; the latest writer wins
		"/spec/template/spec/containers/name=app/image":                          "argocd-controller",
		"/spec/template/spec/containers/name=app/env/name=DEBUG":                 "kubectl-edit",
		"/spec/template/spec/containers/name=app/env/name=DEBUG/value":           "kubectl-edit",
		"/spec/template/spec/containers/name=app/ports/containerPort=8080":       "argocd-controller",
		"/spec/template/spec/containers/name=app/terminationMessagePath":         "",
		"/spec/template/spec/containers/name=app/ports/containerPort=8080/proto": "",
		"/spec/progressDeadlineSeconds":                                          "",
	} {
		got, _ := ms.Owner(drift.MustPointer(path))
		if got != want {
			t.Errorf("Owner(%s) = %q, want %q", path, got, want)
		}
	}
}

func TestCompareDropsDefaultsKeepsOwnedAdditions(t *testing.T) {
	desired := obj(t, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: web}
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: app
        image: web:1
        ports: [{containerPort: 8080}]
`)
	o, err := Compare(desired, obj(t, managedLive))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range drift.Diff(o.Recorded, o.Actual) {
		owner, kind := o.FieldOwner(c.Path)
		got = append(got, c.Path.String()+" "+owner+" "+kind)
	}
	// Git declares /spec/replicas, and without an audit log nothing but the name says a controller
	// wrote it: a name is the client's choice, so the field stays Git's (issue 9, class 5; see
	// trust_test.go for the audited and ruled cases).
	want := "/spec/replicas kube-controller-manager ," +
		"/spec/template/spec/containers/name=app/env kubectl-edit human"
	if strings.Join(got, ",") != want {
		t.Errorf("changes:\n got %s\nwant %s", strings.Join(got, ","), want)
	}
	if o.Ref != "apps/v1/Deployment/web/web" || o.Type != "apps/Deployment" {
		t.Errorf("ref %s type %s", o.Ref, o.Type)
	}
	missing, _ := Compare(desired, nil)
	if !missing.Deleted {
		t.Error("a declared object that is not live must be a deleted observation")
	}
}

func TestLoadManifests(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("plain/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n# only a comment\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b}}\n")
	write("plain/b.json", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"}}`)
	write("plain/.drift/unit.yaml", "apiVersion: drift.driftplane.io/v1alpha1\nkind: DriftManagedUnit\n")
	write("plain/README.md", "not a manifest")
	ms, err := LoadManifests(filepath.Join(dir, "plain"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range ms {
		names = append(names, m.Object.GetKind()+"/"+m.Object.GetName())
	}
	if strings.Join(names, ",") != "ConfigMap/a,ConfigMap/b,Service/s" {
		t.Errorf("loaded %v", names)
	}
	write("kust/kustomization.yaml", "namespace: shop\nresources: [cm.yaml]\nlabels: [{pairs: {team: shop}}]\n")
	write("kust/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {k: v}\n")
	ms, err = LoadManifests(filepath.Join(dir, "kust"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].Object.GetNamespace() != "shop" || ms[0].Object.GetLabels()["team"] != "shop" {
		t.Errorf("kustomize render: %+v", ms)
	}
	for name, body := range map[string]string{
		"bad/nokind.yaml":  "apiVersion: v1\nmetadata: {name: a}\n",
		"bad2/noname.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n",
		"bad3/broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a\n",
		"bad4/dup.yaml":    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
	} {
		write(name, body)
		_, err := LoadManifests(filepath.Join(dir, filepath.Dir(name)))
		if err == nil || !strings.Contains(err.Error(), filepath.Base(name)) {
			t.Errorf("%s: error %v should name the file", name, err)
		}
	}
	if _, err := LoadManifests(filepath.Join(dir, "nope")); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing path: %v", err)
	}
}

func TestAuditLog(t *testing.T) {
	log := strings.Join([]string{
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"1","stage":"ResponseComplete","requestURI":"/apis/apps/v1/namespaces/web/deployments/web?fieldManager=kubectl-set","verb":"patch","user":{"username":"alice","groups":["devs","system:authenticated"]},"userAgent":"kubectl/v1.34.4 (linux/amd64) kubernetes/$Format","objectRef":{"resource":"deployments","namespace":"web","name":"web","apiGroup":"apps","apiVersion":"v1"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2026-11-22T10:00:00.000000Z","stageTimestamp":"2026-11-22T10:00:00.100000Z"}`,
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"2","stage":"ResponseComplete","requestURI":"/apis/apps/v1/namespaces/web/deployments/web","verb":"update","user":{"username":"system:serviceaccount:kube-system:hpa"},"userAgent":"kube-controller-manager/v1.34.4","objectRef":{"resource":"deployments","namespace":"web","name":"web","apiGroup":"apps","subresource":"scale"},"responseStatus":{"code":200},"stageTimestamp":"2026-11-22T10:05:00.000000Z"}`,
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"3","stage":"ResponseComplete","requestURI":"/apis/apps/v1/namespaces/web/deployments/web?fieldManager=kubectl-set","verb":"patch","user":{"username":"mallory"},"objectRef":{"resource":"deployments","namespace":"web","name":"web","apiGroup":"apps"},"responseStatus":{"code":403},"stageTimestamp":"2026-11-22T10:06:00.000000Z"}`,
		`{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"4","stage":"ResponseComplete","verb":"get","user":{"username":"reader"},"objectRef":{"resource":"deployments","namespace":"web","name":"web","apiGroup":"apps"},"responseStatus":{"code":200},"stageTimestamp":"2026-11-22T10:07:00.000000Z"}`,
		``,
	}, "\n")
	a, err := ReadAuditLog("audit.log", strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if got := a.LastWrite("apps", "deployments", "web", "web", "kubectl-set"); got == nil || got.Username != "alice" || got.Kind != drift.ActorHuman || got.Time != "2026-11-22T10:00:00Z" {
		t.Errorf("kubectl-set writer: %+v (a failed request must not count)", got)
	}
	if got := a.LastWrite("apps", "deployments", "web", "web", "kube-controller-manager"); got == nil || got.Kind != drift.ActorService {
		t.Errorf("defaulted manager from user agent: %+v", got)
	}
	if got := a.LastWrite("apps", "deployments", "web", "web", ""); got == nil || got.Username != "system:serviceaccount:kube-system:hpa" {
		t.Errorf("last writer: %+v (reads are not writes)", got)
	}
	if got := a.LastWrite("apps", "deployments", "web", "other", ""); got != nil {
		t.Errorf("unknown object: %+v", got)
	}
	_, err = ReadAuditLog("audit.log", strings.NewReader(log+"\nnot json\n"))
	if err == nil || !strings.Contains(err.Error(), "audit.log:6") {
		t.Errorf("bad line error %v should name audit.log:6", err)
	}
}

// Issue 9, class 3: a manifests path that renders no object is an error naming the path, never
// "Git declares nothing, so nothing drifted".
func TestLoadManifestsRefusesEmptyRender(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("nofiles/README.md", "no manifests here")
	write("nofiles/.drift/unit.yaml", "apiVersion: drift.driftplane.io/v1alpha1\nkind: DriftManagedUnit\n")
	write("comments/a.yaml", "# nothing but a comment\n---\n---\n# and another\n")
	write("comments/b.json", "  \n")
	write("emptylist/list.yaml", "apiVersion: v1\nkind: List\nitems: []\n")
	write("kust/kustomization.yaml", "resources: []\n")
	write("file.yaml", "# only a comment\n")
	if err := os.MkdirAll(filepath.Join(dir, "emptydir"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"nofiles", "comments", "emptylist", "kust", "file.yaml", "emptydir"} {
		path := filepath.Join(dir, p)
		ms, err := LoadManifests(path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "no Kubernetes objects") {
			t.Errorf("%s: %d manifests, error %v; want an error naming the path", p, len(ms), err)
		}
	}
}

// Issue 9, class 9: deeply nested manifests are refused before they cost quadratic memory (a
// 10,000-level document must not take more than 50 MB), and errors name the file.
func TestDeepManifestsAreRefused(t *testing.T) {
	const n = 9990 // just under the YAML and JSON decoders' own limits
	docs := map[string]string{
		"deep.json":      `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"},"data":{"x":` + strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) + `}}`,
		"deep-flow.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: " + strings.Repeat("[", n) + strings.Repeat("]", n) + "}\n",
		"deep-10k.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {x: " + strings.Repeat("{a: ", 10000) + "1" + strings.Repeat("}", 10000) + "}\n",
	}
	for name, body := range docs {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err := DecodeManifests(name, []byte(body))
		runtime.ReadMemStats(&after)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %v should refuse it and name the file", name, err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 50<<20 {
			t.Errorf("%s: refusing it allocated %d MB", name, alloc>>20)
		}
	}
	// Compare refuses deep objects from any front end (the reporter decodes Argo CD's answers
	// itself), before normalizing them.
	deep := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
	v := any("leaf")
	for i := 0; i < 1000; i++ {
		v = map[string]any{"a": v}
	}
	deep["data"] = v
	if _, err := Compare(obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"), deep); !errors.Is(err, drift.ErrJSONTooDeep) {
		t.Errorf("deep live object: %v", err)
	}
	// Real objects are nowhere near the bound.
	ok := obj(t, managedLive)
	if _, err := Compare(ok, ok); err != nil {
		t.Error(err)
	}
}
