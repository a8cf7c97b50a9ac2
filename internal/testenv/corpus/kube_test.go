package corpus

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/kubetest"
)

const kubeNamespace = "corpus"

// kubeCase is one recorded config/live pair: config is applied as the GitOps applier, then a
// person or a controller changes the live object (change, when set), then the live object is read
// back as the API server returns it.
type kubeCase struct {
	name, config string
	// ssa applies with server-side apply (the config then carries Argo CD's ServerSideApply=true
	// sync option); otherwise with client-side kubectl apply, as Argo CD syncs by default.
	ssa    bool
	change func(t *testing.T, r *kubeRecorder)
}

// People and controllers that change live objects behind Git's back.
var (
	alice = []string{kubetest.WritersGroup, "devs"}
	bob   = []string{kubetest.WritersGroup, "devs"}
)

func kubectl(user string, groups []string, args ...string) func(t *testing.T, r *kubeRecorder) {
	return func(t *testing.T, r *kubeRecorder) {
		t.Helper()
		r.c.KubectlAs(user, groups, append([]string{"-n", kubeNamespace}, args...)...)
	}
}

func deployment(name, extraMeta string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
  namespace: corpus
  labels:
    app: %[1]s
    app.kubernetes.io/part-of: shop
%[2]sspec:
  replicas: 2
  selector:
    matchLabels:
      app: %[1]s
  template:
    metadata:
      labels:
        app: %[1]s
    spec:
      containers:
      - name: app
        image: registry.example.com/shop/%[1]s:1.4.2
        ports:
        - containerPort: 8080
          name: http
        env:
        - name: MODE
          value: production
        - name: LOG_LEVEL
          value: info
        resources:
          requests:
            cpu: 250m
            memory: 128Mi
          limits:
            cpu: "1"
            memory: 256Mi
`, name, extraMeta)
}

const ssaAnnotation = "  annotations:\n    argocd.argoproj.io/sync-options: ServerSideApply=true\n"

func configMap(name string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
  namespace: corpus
  labels:
    app: shop
data:
  MAX_CONNECTIONS: "500"
  FEATURE_CHECKOUT_V2: "false"
`, name)
}

func service(name string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: %s
  namespace: corpus
  labels:
    app: shop
spec:
  selector:
    app: shop
  ports:
  - name: http
    port: 80
    targetPort: 8080
  - name: metrics
    port: 9090
    targetPort: 9090
`, name)
}

func role(name string) string {
	return fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: %s
  namespace: corpus
rules:
- apiGroups: [""]
  resources: ["configmaps"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get"]
`, name)
}

func networkPolicy(name string) string {
	return fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: %s
  namespace: corpus
spec:
  podSelector:
    matchLabels:
      app: shop
  policyTypes: ["Ingress"]
  ingress:
  - from:
    - podSelector:
        matchLabels:
          role: frontend
    ports:
    - protocol: TCP
      port: 8080
`, name)
}

// The Secret's values are dummies: the pairs are committed.
func secret(name string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata:
  name: %s
  namespace: corpus
type: Opaque
stringData:
  username: shop-service
  password: dummy-password-not-a-secret
`, name)
}

var kubeCases = []kubeCase{
	{name: "deploy-clean", config: deployment("deploy-clean", "")},
	{name: "deploy-image", config: deployment("deploy-image", ""),
		change: kubectl("alice", alice, "set", "image", "deployment/deploy-image", "app=registry.example.com/shop/deploy-image:1.4.3-hotfix")},
	{name: "deploy-scale", config: deployment("deploy-scale", ""),
		change: kubectl("alice", alice, "scale", "deployment/deploy-scale", "--replicas=5")},
	{name: "deploy-scale-controller", config: deployment("deploy-scale-controller", ""),
		change: func(t *testing.T, r *kubeRecorder) { r.scaleAsController(t, "deploy-scale-controller", 4) }},
	{name: "deploy-env-added", config: deployment("deploy-env-added", ""),
		change: kubectl("alice", alice, "set", "env", "deployment/deploy-env-added", "DEBUG=true")},
	{name: "deploy-env-removed", config: deployment("deploy-env-removed", ""),
		change: kubectl("alice", alice, "set", "env", "deployment/deploy-env-removed", "LOG_LEVEL-")},
	{name: "deploy-label-changed", config: deployment("deploy-label-changed", ""),
		change: kubectl("bob", bob, "label", "--overwrite", "deployment/deploy-label-changed", "app.kubernetes.io/part-of=checkout")},
	{name: "deploy-ssa-clean", ssa: true, config: deployment("deploy-ssa-clean", ssaAnnotation)},
	{name: "deploy-ssa-image", ssa: true, config: deployment("deploy-ssa-image", ssaAnnotation),
		change: kubectl("alice", alice, "set", "image", "deployment/deploy-ssa-image", "app=registry.example.com/shop/deploy-ssa-image:1.5.0-rc1")},
	{name: "deploy-ssa-resources-removed", ssa: true, config: deployment("deploy-ssa-resources-removed", ssaAnnotation),
		change: kubectl("bob", bob, "patch", "deployment/deploy-ssa-resources-removed", "--type=json",
			"-p", `[{"op":"remove","path":"/spec/template/spec/containers/0/resources/limits"}]`)},
	{name: "cm-clean", config: configMap("cm-clean")},
	{name: "cm-value-changed", config: configMap("cm-value-changed"),
		change: kubectl("bob", bob, "patch", "configmap/cm-value-changed", "--type=merge", "-p", `{"data":{"MAX_CONNECTIONS":"5000"}}`)},
	{name: "cm-key-added", config: configMap("cm-key-added"),
		change: kubectl("bob", bob, "patch", "configmap/cm-key-added", "--type=merge", "-p", `{"data":{"EXTRA_TIMEOUT":"30s"}}`)},
	{name: "cm-key-removed", config: configMap("cm-key-removed"),
		change: kubectl("bob", bob, "patch", "configmap/cm-key-removed", "--type=json", "-p", `[{"op":"remove","path":"/data/FEATURE_CHECKOUT_V2"}]`)},
	{name: "cm-label-added", config: configMap("cm-label-added"),
		change: kubectl("bob", bob, "label", "configmap/cm-label-added", "debug=true")},
	{name: "svc-clean", config: service("svc-clean")},
	{name: "svc-port-changed", config: service("svc-port-changed"),
		change: kubectl("alice", alice, "patch", "service/svc-port-changed", "--type=json", "-p", `[{"op":"replace","path":"/spec/ports/1/port","value":9100}]`)},
	{name: "svc-selector-changed", config: service("svc-selector-changed"),
		change: kubectl("alice", alice, "patch", "service/svc-selector-changed", "--type=merge", "-p", `{"spec":{"selector":{"app":"shop-canary"}}}`)},
	{name: "role-clean", config: role("role-clean")},
	{name: "role-verbs-changed", config: role("role-verbs-changed"),
		change: kubectl("bob", bob, "patch", "role/role-verbs-changed", "--type=json", "-p", `[{"op":"add","path":"/rules/1/verbs/-","value":"update"}]`)},
	{name: "netpol-clean", config: networkPolicy("netpol-clean")},
	{name: "netpol-ingress-changed", config: networkPolicy("netpol-ingress-changed"),
		change: kubectl("bob", bob, "patch", "networkpolicy/netpol-ingress-changed", "--type=json",
			"-p", `[{"op":"replace","path":"/spec/ingress/0/from/0/podSelector/matchLabels/role","value":"anyone"}]`)},
	{name: "secret-clean", config: secret("secret-clean")},
	{name: "secret-data-changed", config: secret("secret-data-changed"),
		change: kubectl("alice", alice, "patch", "secret/secret-data-changed", "--type=merge", "-p", `{"stringData":{"password":"dummy-rotated-by-hand"}}`)},
}

type kubeRecorder struct {
	c     *kubetest.Cluster
	admin dynamic.Interface
}

var gvrs = map[string]schema.GroupVersionResource{
	"Deployment":    {Group: "apps", Version: "v1", Resource: "deployments"},
	"ConfigMap":     {Version: "v1", Resource: "configmaps"},
	"Service":       {Version: "v1", Resource: "services"},
	"Role":          {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"},
	"NetworkPolicy": {Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"},
	"Secret":        {Version: "v1", Resource: "secrets"},
}

func dynamicAs(t *testing.T, c *kubetest.Cluster, user string, groups ...string) dynamic.Interface {
	t.Helper()
	d, err := dynamic.NewForConfig(c.RESTConfig(user, groups...))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// scaleAsController scales through the scale subresource as kube-controller-manager, as the HPA
// does.
func (r *kubeRecorder) scaleAsController(t *testing.T, name string, replicas int64) {
	t.Helper()
	ctx := context.Background()
	hpa := dynamicAs(t, r.c, "system:kube-controller-manager", kubetest.WritersGroup).Resource(gvrs["Deployment"]).Namespace(kubeNamespace)
	scale, err := hpa.Get(ctx, name, metav1.GetOptions{}, "scale")
	if err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedField(scale.Object, replicas, "spec", "replicas"); err != nil {
		t.Fatal(err)
	}
	if _, err := hpa.Update(ctx, scale, metav1.UpdateOptions{FieldManager: "kube-controller-manager"}, "scale"); err != nil {
		t.Fatal(err)
	}
}

// recordKube records each case's <name>-config.yaml and <name>-live.yaml into dir.
func recordKube(t *testing.T, dir string) {
	c := kubetest.Start(t)
	admin := []string{"system:masters"}
	c.KubectlAs("admin", admin, "create", "namespace", kubeNamespace)
	c.KubectlAs("admin", admin, "create", "clusterrolebinding", "writers", "--clusterrole=cluster-admin", "--group="+kubetest.WritersGroup)
	r := &kubeRecorder{c: c, admin: dynamicAs(t, c, "admin", admin...)}
	ctx := context.Background()
	work := t.TempDir()
	for _, kc := range kubeCases {
		t.Run(kc.name, func(t *testing.T) {
			obj := &unstructured.Unstructured{}
			if err := yaml.Unmarshal([]byte(kc.config), &obj.Object); err != nil {
				t.Fatal(err)
			}
			gvr, ok := gvrs[obj.GetKind()]
			if !ok {
				t.Fatalf("no resource for kind %s", obj.GetKind())
			}
			if obj.GetName() != kc.name {
				t.Fatalf("object %s in case %s", obj.GetName(), kc.name)
			}
			// Git's state, applied by the GitOps applier under its field manager.
			if kc.ssa {
				applier := dynamicAs(t, c, kubetest.ApplierUser, kubetest.WritersGroup)
				if _, err := applier.Resource(gvr).Namespace(kubeNamespace).Apply(ctx, kc.name, obj,
					metav1.ApplyOptions{FieldManager: kubetest.ApplierManager, Force: true}); err != nil {
					t.Fatal(err)
				}
			} else {
				f := filepath.Join(work, kc.name+".yaml")
				writeFile(t, f, []byte(kc.config))
				c.KubectlAs(kubetest.ApplierUser, []string{kubetest.WritersGroup}, "apply", "--field-manager="+kubetest.ApplierManager, "-f", f)
			}
			if kc.change != nil {
				kc.change(t, r)
			}
			live, err := r.admin.Resource(gvr).Namespace(kubeNamespace).Get(ctx, kc.name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			scrub(live)
			out, err := yaml.Marshal(live.Object)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, kc.name+"-config.yaml"), []byte(kc.config))
			writeFile(t, filepath.Join(dir, kc.name+"-live.yaml"), out)
		})
	}
	last := kubeCases[len(kubeCases)-1].name
	c.WaitForAuditLine(t, `"stage":"ResponseComplete"`, `"verb":"patch"`, `"name":"`+last+`"`)
	recordAudit(t, c.AuditLog, filepath.Join(filepath.Dir(dir), "k8s-audit", "audit.log"))
}

// recordAudit keeps the audit events of the writes to the corpus namespace's objects (who
// applied and who changed each object, under which field manager), with the audit IDs and
// timestamps replaced by a sequence that keeps their order.
func recordAudit(t *testing.T, from, to string) {
	t.Helper()
	raw, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	base, _ := time.Parse(time.RFC3339, recordedAt)
	var out bytes.Buffer
	n := 0
	for _, line := range bytes.Split(raw, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatalf("audit log: %v", err)
		}
		ref, _ := ev["objectRef"].(map[string]any)
		switch {
		case ev["stage"] != "ResponseComplete", ref == nil, ref["namespace"] != kubeNamespace:
			continue
		case ev["verb"] != "create" && ev["verb"] != "update" && ev["verb"] != "patch":
			continue
		}
		n++
		// As in the live objects (scrub).
		if _, ok := ref["uid"]; ok {
			ref["uid"] = scrubbedUID
		}
		if _, ok := ref["resourceVersion"]; ok {
			ref["resourceVersion"] = "1"
		}
		ev["auditID"] = fmt.Sprintf("00000000-0000-0000-0000-%012d", n)
		at := metav1.NewMicroTime(base.Add(time.Duration(n) * time.Second)).Format("2006-01-02T15:04:05.000000Z07:00")
		ev["requestReceivedTimestamp"], ev["stageTimestamp"] = at, at
		// The hash of the client certificate, issued afresh by every run.
		if user, ok := ev["user"].(map[string]any); ok {
			if extra, ok := user["extra"].(map[string]any); ok {
				if _, ok := extra["authentication.kubernetes.io/credential-id"]; ok {
					extra["authentication.kubernetes.io/credential-id"] = []string{"X509SHA256=recorded"}
				}
			}
		}
		enc := json.NewEncoder(&out)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(ev); err != nil {
			t.Fatal(err)
		}
	}
	if n == 0 {
		t.Fatal("the audit log holds no write to the corpus namespace")
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, out.Bytes())
}

// scrub replaces what differs between two recordings of the same case and carries no meaning for
// a diff (identifiers, resource versions, timestamps, the allocated cluster IP) with fixed
// values, so re-recording changes the files only where the API server's behaviour changed.
func scrub(live *unstructured.Unstructured) {
	live.SetUID(scrubbedUID)
	live.SetResourceVersion("1")
	live.SetCreationTimestamp(metav1.Time{})
	_ = unstructured.SetNestedField(live.Object, recordedAt, "metadata", "creationTimestamp")
	mf, _, _ := unstructured.NestedSlice(live.Object, "metadata", "managedFields")
	for _, e := range mf {
		if m, ok := e.(map[string]any); ok {
			if _, ok := m["time"]; ok {
				m["time"] = recordedAt
			}
		}
	}
	if len(mf) > 0 {
		_ = unstructured.SetNestedSlice(live.Object, mf, "metadata", "managedFields")
	}
	if live.GetKind() == "Service" {
		if _, ok, _ := unstructured.NestedString(live.Object, "spec", "clusterIP"); ok {
			_ = unstructured.SetNestedField(live.Object, "10.96.0.100", "spec", "clusterIP")
			_ = unstructured.SetNestedStringSlice(live.Object, []string{"10.96.0.100"}, "spec", "clusterIPs")
		}
	}
}

const (
	recordedAt  = "2026-01-01T00:00:00Z"
	scrubbedUID = "00000000-0000-0000-0000-000000000000"
)
