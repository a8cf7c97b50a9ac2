package kubetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/procs"
)

// Users of the drift scenario.
const (
	Namespace    = "web"
	WritersGroup = "test:writers"
	BreakGlass   = "sre-breakglass"
	// ApplierUser is who the GitOps applier authenticates as: Argo CD's application controller
	// service account, which the decision table maps to its field managers.
	ApplierUser    = "system:serviceaccount:argocd:argocd-application-controller"
	ApplierManager = "argocd-controller"
	ReaderUser     = "driftplane"
)

// Scenario is a namespace where Git's manifests were applied and then changed by a human, a
// controller, a sidecar injector and a break-glass engineer.
type Scenario struct {
	// GateDir holds the Deployment and ConfigMap manifests (plus one never applied); AllDir adds a
	// Secret that a human edited.
	GateDir, AllDir string
	// ReaderKubeconfig authenticates as a read-only user (get, list, watch).
	ReaderKubeconfig string
	// ResourceVersions of the live objects after the scenario, to prove reads change nothing.
	ResourceVersions map[string]string
}

var manifests = map[string]string{
	"deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: registry.example.com/web:1.0
        ports:
        - containerPort: 8080
        env:
        - {name: MODE, value: production}
        resources:
          requests: {cpu: 500m, memory: 128Mi}
          limits: {cpu: "1", memory: 256Mi}
`,
	"configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: web
data:
  MAX_CONNECTIONS: "500"
`,
	"missing.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: web-feature-flags
  namespace: web
data:
  NEW_CHECKOUT: "true"
`,
}

const secretManifest = `apiVersion: v1
kind: Secret
metadata:
  name: web-secret
  namespace: web
type: Opaque
stringData:
  password: initial-password-value
`

// SecretValues are the values the scenario writes into the Secret; they must never leave it.
var SecretValues = []string{"initial-password-value", "rotated-by-hand-9c1f"}

var (
	gvrDeployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	gvrConfigMaps  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	gvrSecrets     = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
)

// SetUpScenario builds the scenario on a running cluster.
func SetUpScenario(t testing.TB, c *Cluster) *Scenario {
	t.Helper()
	ctx := context.Background()
	admin := c.KubectlAs
	admin("admin", []string{"system:masters"}, "create", "namespace", Namespace)
	admin("admin", []string{"system:masters"}, "create", "clusterrolebinding", "writers", "--clusterrole=cluster-admin", "--group="+WritersGroup)
	// The reader may only read: no verb that writes is granted. (The built-in view role is an
	// aggregated role, empty without kube-controller-manager's aggregation controller.)
	admin("admin", []string{"system:masters"}, "create", "clusterrole", "driftplane-reader", "--verb=get,list,watch", "--resource=*.*")
	admin("admin", []string{"system:masters"}, "create", "clusterrolebinding", "driftplane-reader", "--clusterrole=driftplane-reader", "--user="+ReaderUser)

	dir := t.TempDir()
	s := &Scenario{GateDir: filepath.Join(dir, "gate"), AllDir: filepath.Join(dir, "all"), ResourceVersions: map[string]string{}}
	for _, d := range []string{s.GateDir, s.AllDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, body := range manifests {
			procs.WriteFile(t, filepath.Join(d, name), body)
		}
	}
	procs.WriteFile(t, filepath.Join(s.AllDir, "secret.yaml"), secretManifest)

	// Git's state, applied by the GitOps applier with server-side apply.
	applier := dynamicAs(t, c, ApplierUser, WritersGroup)
	for _, body := range []string{manifests["deployment.yaml"], manifests["configmap.yaml"], secretManifest} {
		obj := decode(t, body)
		gvr := map[string]schema.GroupVersionResource{"Deployment": gvrDeployments, "ConfigMap": gvrConfigMaps, "Secret": gvrSecrets}[obj.GetKind()]
		if _, err := applier.Resource(gvr).Namespace(Namespace).Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: ApplierManager, Force: true}); err != nil {
			t.Fatalf("apply %s: %v", obj.GetName(), err)
		}
	}

	// A human patches the image in production with kubectl.
	c.KubectlAs("alice", []string{WritersGroup, "devs"}, "-n", Namespace, "set", "image", "deployment/web", "app=registry.example.com/web:1.1-hotfix")

	// A controller scales the Deployment through the scale subresource, as the HPA does.
	hpa := dynamicAs(t, c, "system:kube-controller-manager", WritersGroup)
	scale, err := hpa.Resource(gvrDeployments).Namespace(Namespace).Get(ctx, "web", metav1.GetOptions{}, "scale")
	if err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedField(scale.Object, int64(5), "spec", "replicas"); err != nil {
		t.Fatal(err)
	}
	if _, err := hpa.Resource(gvrDeployments).Namespace(Namespace).Update(ctx, scale, metav1.UpdateOptions{FieldManager: "kube-controller-manager"}, "scale"); err != nil {
		t.Fatalf("scale: %v", err)
	}

	// A mesh injector adds its sidecar under its own field manager.
	injector := dynamicAs(t, c, "system:serviceaccount:istio-system:istiod", WritersGroup)
	sidecar := decode(t, `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: web}
spec:
  template:
    spec:
      containers:
      - name: istio-proxy
        image: docker.io/istio/proxyv2:1.27.0
`)
	if _, err := injector.Resource(gvrDeployments).Namespace(Namespace).Apply(ctx, "web", sidecar, metav1.ApplyOptions{FieldManager: "istio-sidecar-injector", Force: true}); err != nil {
		t.Fatalf("inject sidecar: %v", err)
	}

	// A break-glass engineer raises a limit during an incident.
	c.KubectlAs("bob", []string{WritersGroup, BreakGlass}, "-n", Namespace, "patch", "configmap", "web-config", "--type=merge", "-p", `{"data":{"MAX_CONNECTIONS":"5000"}}`)

	// Someone rotates the password by hand.
	c.KubectlAs("carol", []string{WritersGroup}, "-n", Namespace, "patch", "secret", "web-secret", "--type=merge", "-p", `{"stringData":{"password":"`+SecretValues[1]+`"}}`)

	reader := dynamicAs(t, c, "admin", "system:masters")
	for name, gvr := range map[string]schema.GroupVersionResource{"web": gvrDeployments, "web-config": gvrConfigMaps, "web-secret": gvrSecrets} {
		obj, err := reader.Resource(gvr).Namespace(Namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s.ResourceVersions[gvr.Resource+"/"+name] = obj.GetResourceVersion()
	}
	s.ReaderKubeconfig = c.Kubeconfig(ReaderUser)
	c.WaitForAudit(t, "kubectl-patch", "kubectl-set", "kube-controller-manager", "istio-sidecar-injector")
	return s
}

// CurrentResourceVersions reads the scenario's objects' resourceVersions again.
func (s *Scenario) CurrentResourceVersions(t testing.TB, c *Cluster) map[string]string {
	t.Helper()
	reader := dynamicAs(t, c, "admin", "system:masters")
	out := map[string]string{}
	for key := range s.ResourceVersions {
		res, name, _ := strings.Cut(key, "/")
		gvr := map[string]schema.GroupVersionResource{"deployments": gvrDeployments, "configmaps": gvrConfigMaps, "secrets": gvrSecrets}[res]
		obj, err := reader.Resource(gvr).Namespace(Namespace).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out[key] = obj.GetResourceVersion()
	}
	return out
}

// WaitForAudit waits until the audit log holds a completed request by each field manager.
func (c *Cluster) WaitForAudit(t testing.TB, managers ...string) {
	t.Helper()
	procs.WaitFor(t, 30*time.Second, fmt.Sprintf("audit log %s to hold requests by %v", c.AuditLog, managers), func() (bool, string) {
		b, _ := os.ReadFile(c.AuditLog)
		var missing []string
		for _, m := range managers {
			if !strings.Contains(string(b), "fieldManager="+m) {
				missing = append(missing, m)
			}
		}
		return len(missing) == 0, fmt.Sprintf("no request by %v", missing)
	})
}

func dynamicAs(t testing.TB, c *Cluster, user string, groups ...string) dynamic.Interface {
	t.Helper()
	d, err := dynamic.NewForConfig(c.RESTConfig(user, groups...))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func decode(t testing.TB, body string) *unstructured.Unstructured {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

// The spoofed-field-manager scenario (issue 9, class 5): a field manager is a name the client
// chooses.
const (
	SpoofNamespace = "spoof"
	// ImpostorUser is a person who writes under other programs' field-manager names.
	ImpostorUser = "mallory"
	// BotUser is a genuine controller's service account, writing images as SpoofController.
	BotUser         = "system:serviceaccount:spoof-ops:image-updater"
	SpoofController = "image-updater-controller"
)

// SpoofScenario is a namespace of four Deployments Git declares with image :1.0, applied by the
// applier, then:
//   - name-controller: the impostor sets the image with kubectl --field-manager=image-updater-controller;
//   - name-applier: the impostor sets the image with kubectl --field-manager=argocd-controller;
//   - bot: the image updater's service account sets the image as image-updater-controller;
//   - pending: untouched, but Git now declares :2.0 (a sync is pending).
type SpoofScenario struct {
	// Dir holds the Deployments as Git declares them now.
	Dir string
}

// SpoofImage is the image a Deployment of the spoof scenario runs at version v.
func SpoofImage(name, v string) string { return "registry.example.com/" + name + ":" + v }

func spoofDeployment(name, version string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %[1]s, namespace: %[2]s, labels: {app: %[1]s}}
spec:
  replicas: 1
  selector: {matchLabels: {app: %[1]s}}
  template:
    metadata: {labels: {app: %[1]s}}
    spec:
      containers:
      - name: app
        image: %[3]s
`, name, SpoofNamespace, SpoofImage(name, version))
}

// SetUpSpoofScenario builds the spoof scenario on a running cluster (SetUpScenario's RBAC first).
func SetUpSpoofScenario(t testing.TB, c *Cluster) *SpoofScenario {
	t.Helper()
	ctx := context.Background()
	c.KubectlAs("admin", []string{"system:masters"}, "create", "namespace", SpoofNamespace)
	s := &SpoofScenario{Dir: filepath.Join(t.TempDir(), "spoof")}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	applier := dynamicAs(t, c, ApplierUser, WritersGroup)
	names := []string{"name-controller", "name-applier", "bot", "pending"}
	for _, name := range names {
		obj := decode(t, spoofDeployment(name, "1.0"))
		if _, err := applier.Resource(gvrDeployments).Namespace(SpoofNamespace).Apply(ctx, name, obj, metav1.ApplyOptions{FieldManager: ApplierManager, Force: true}); err != nil {
			t.Fatalf("apply %s: %v", name, err)
		}
		version := "1.0"
		if name == "pending" {
			version = "2.0"
		}
		procs.WriteFile(t, filepath.Join(s.Dir, name+".yaml"), spoofDeployment(name, version))
	}
	setImage := func(user, name, manager string) {
		c.KubectlAs(user, []string{WritersGroup}, "-n", SpoofNamespace, "set", "image", "deployment/"+name,
			"app="+SpoofImage(name, "6.6.6"), "--field-manager="+manager)
	}
	setImage(ImpostorUser, "name-controller", SpoofController)
	setImage(ImpostorUser, "name-applier", ApplierManager)
	setImage(BotUser, "bot", SpoofController)
	c.WaitForAuditLine(t, `"username":"`+ImpostorUser+`"`, "deployments/name-controller?", "fieldManager="+SpoofController)
	c.WaitForAuditLine(t, `"username":"`+ImpostorUser+`"`, "deployments/name-applier?", "fieldManager="+ApplierManager)
	c.WaitForAuditLine(t, `"username":"`+BotUser+`"`, "deployments/bot?", "fieldManager="+SpoofController)
	return s
}

// WaitForAuditLine waits until one line of the audit log holds every one of parts.
func (c *Cluster) WaitForAuditLine(t testing.TB, parts ...string) {
	t.Helper()
	procs.WaitFor(t, 30*time.Second, fmt.Sprintf("a line of audit log %s with all of %q", c.AuditLog, parts), func() (bool, string) {
		b, _ := os.ReadFile(c.AuditLog)
		for _, line := range strings.Split(string(b), "\n") {
			all := true
			for _, p := range parts {
				if !strings.Contains(line, p) {
					all = false
					break
				}
			}
			if all {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d bytes, no such line", len(b))
	})
}
