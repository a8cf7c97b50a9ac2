// Package e2e runs driftplane against a real Argo CD: etcd, kube-apiserver and
// kube-controller-manager, Redis, argocd-repo-server with the driftplane CMP sidecar,
// argocd-application-controller and argocd-server, all on 127.0.0.1, with the application's Git
// repository on a real Gitea that Argo CD reads over HTTP. It proves the whole path: the plugin
// renders the application and its DriftReport, the reporter classifies a human's change, Argo CD
// shows it as the application's health, and an emergency change an exception accepts is ported
// to Git by the reporter's pull request, merged, synced and verified.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/driftplane/terraform-provider-drift/argocd-plugin/reporter"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/notify/notifier"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/alertmanagertest"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/giteatest"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/kubetest"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/procs"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

const (
	argoNS        = "argocd"
	appName       = "web"
	adminPassword = "e2e-admin-password"
	argoCDModule  = "github.com/argoproj/argo-cd/v3@v3.2.12"
)

var deploymentsGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}

// deploymentYAML is the team's manifest, comments and flow-style maps included: a pull request
// porting drift to Git must change the image's line and nothing else.
const deploymentYAML = `# The web front end. Releases bump the image; see CHG tickets.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: web
  labels: {app: web}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      # One container, the application itself.
      - name: app
        image: registry.example.com/web:1.0
`

const unitYAML = `apiVersion: drift.driftplane.io/v1alpha1
kind: DriftManagedUnit
metadata: { name: web }
spec: { kind: kubernetes, owner: team-web, environment: prod, riskTier: high, gate: high, pullRequests: true, autoHeal: true }
---
apiVersion: drift.driftplane.io/v1alpha1
kind: DriftOwnershipRule
metadata: { name: replicas }
spec:
  resource: { group: apps, kind: Deployment }
  controllerOwned: [{ path: /spec/replicas, owner: kube-controller-manager }]
---
apiVersion: drift.driftplane.io/v1alpha1
kind: AutoHealPolicy
metadata: { name: labels-only }
spec:
  appliesTo: { kinds: [Deployment] }
  allowedPaths: [/metadata/labels]
  maxObjectsPerReconcile: 5
  requireHealthyBeforeHeal: true
`

func TestArgoCDEndToEnd(t *testing.T) {
	root := testtools.Root()
	kcm := testtools.Require(t, "KUBE_CONTROLLER_MANAGER")
	argocd := testtools.Require(t, "ARGOCD")
	redis := testtools.Command(t, "redis-server")
	git := testtools.Command(t, "git")

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	work := t.TempDir()
	progs := procs.New(t, filepath.Join(work, "logs"))
	progs.Grace = 5 * time.Second

	var c *kubetest.Cluster
	step(t, "etcd + kube-apiserver", func() { c = kubetest.Start(t) })
	admin := c.RESTConfig("e2e-admin", "system:masters")
	dyn := must(dynamic.NewForConfig(admin))

	step(t, "kube-controller-manager", func() {
		// Credentials are the manager's own kubeconfig, not per-controller service accounts, so no
		// token signing key is needed; without it a Deployment would never get a ReplicaSet or status.
		progs.Start("kube-controller-manager", kcm, nil,
			"--kubeconfig", c.Kubeconfig("system:kube-controller-manager", "system:masters"),
			"--controllers=*", "--use-service-account-credentials=false", "--leader-elect=false",
			"--secure-port=0")
	})

	redisAddr := fmt.Sprintf("127.0.0.1:%d", procs.FreePort(t))
	step(t, "redis", func() {
		_, port, _ := net.SplitHostPort(redisAddr)
		progs.Start("redis", redis, nil, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
		procs.WaitTCP(t, redisAddr)
	})

	step(t, "Argo CD CRDs and configuration", func() {
		installArgoCDConfig(t, c, root, argocd, work)
	})

	var gitea *giteatest.Server
	var repo *appRepo
	var bot giteatest.User
	step(t, "gitea + the application's repository", func() {
		gitea = giteatest.Start(t)
		repo = newAppRepo(t, gitea, git, work)
		// The reporter's own identity, with write access only to this repository.
		bot = gitea.NewUser(t, "driftplane-bot", botScopes)
		gitea.AddCollaborator(t, repo.owner.Name, repo.name, bot.Name)
	})
	repoURL := repo.URL()

	serverURL := ""
	step(t, "Argo CD components", func() {
		serverURL = startArgoCD(t, c, progs, root, argocd, redisAddr, work)
	})

	var adminToken string
	step(t, "admin login", func() {
		body := argoPost(t, serverURL, "", "/api/v1/session",
			map[string]string{"username": "admin", "password": adminPassword})
		adminToken = jsonField(t, body, "token")
	})

	apps := dyn.Resource(reporter.ApplicationsGVR).Namespace(argoNS)
	step(t, "create Application and sync", func() {
		app := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
			"metadata": map[string]any{"name": appName, "namespace": argoNS},
			"spec": map[string]any{
				"project": "default",
				"source": map[string]any{
					"repoURL": repoURL, "path": "app", "targetRevision": "HEAD",
					"plugin": map[string]any{"name": "driftplane-v1"},
				},
				"destination": map[string]any{"server": "https://kubernetes.default.svc", "namespace": "web"},
			},
		}}
		if _, err := apps.Create(ctx, app, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		// The sync API refuses an application whose manifests were never generated, so wait for
		// the first comparison before asking.
		procs.WaitFor(t, 3*time.Minute, "first comparison", func() (bool, string) {
			a, err := apps.Get(ctx, appName, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			s, _, _ := unstructured.NestedString(a.Object, "status", "sync", "status")
			return s == "OutOfSync" || s == "Synced", summarize(a)
		})
		argoPost(t, serverURL, adminToken, "/api/v1/applications/"+appName+"/sync", map[string]any{})
		procs.WaitFor(t, 3*time.Minute, "Synced", func() (bool, string) {
			a, err := apps.Get(ctx, appName, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			s, _, _ := unstructured.NestedString(a.Object, "status", "sync", "status")
			phase, _, _ := unstructured.NestedString(a.Object, "status", "operationState", "phase")
			return s == "Synced" && phase == "Succeeded", summarize(a)
		})
		// Deployment health is only as good as its status, which kube-controller-manager writes.
		procs.WaitFor(t, time.Minute, "kube-controller-manager to observe the Deployment", func() (bool, string) {
			d, err := dyn.Resource(deploymentsGVR).Namespace("web").Get(ctx, "web", metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			observed, _, _ := unstructured.NestedInt64(d.Object, "status", "observedGeneration")
			return observed == d.GetGeneration(), fmt.Sprint(d.Object["status"])
		})
	})

	// The reporter's routing policy sends every drift to a real Alertmanager, whose own routing
	// tree sends identity and network drift of high risk to security and the rest to platform.
	security, platform := alertmanagertest.NewSink(t), alertmanagertest.NewSink(t)
	var am *alertmanagertest.Server
	step(t, "alertmanager", func() {
		am = alertmanagertest.Start(t, alertmanagertest.DomainRiskConfig(security.URL, platform.URL))
	})

	var store blob.Dir
	step(t, "driftplane reporter", func() {
		body := argoPost(t, serverURL, adminToken, "/api/v1/account/driftplane-reporter/token", map[string]any{})
		argo := reporter.NewArgoClient(serverURL, jsonField(t, body, "token"), false)
		cfg := c.RESTConfig("driftplane", "system:masters")
		logFile := must(os.Create(filepath.Join(progs.Dir(), "reporter.log")))
		t.Cleanup(func() {
			_ = logFile.Close()
			if t.Failed() {
				t.Logf("--- reporter log tail:\n%s", procs.Tail(logFile.Name(), 30))
			}
		})
		kc := must(kubernetes.NewForConfig(cfg))
		// The evidence and the ledger in a folder, the notification records beside them, as the
		// shipped Deployment keeps them in its --evidence bucket.
		store = blob.Dir(filepath.Join(work, "evidence"))
		policy := filepath.Join(work, "routing.yaml")
		procs.WriteFile(t, policy, fmt.Sprintf(`apiVersion: drift.driftplane.io/v1alpha1
kind: DriftRoutingPolicy
metadata: {name: to-alertmanager}
spec:
  receivers:
    - {name: alertmanager, type: alertmanager, url: %q}
  route:
    receivers: [alertmanager]
`, am.URL))
		n, err := reporter.NewPolicyFile(ctx, policy, reporter.KubeSecrets{Client: kc, Namespace: argoNS},
			notifier.Options{Store: store, Deadline: 10 * time.Second, ReceiverTimeout: 5 * time.Second}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctrl := reporter.NewController(reporter.Config{
			Dynamic: must(dynamic.NewForConfig(cfg)), Kube: kc,
			Argo: argo, Healer: argo, AutoHeal: true,
			Namespace: argoNS, Resync: 5 * time.Second, AuditLogPath: c.AuditLog,
			Evidence: store, Ledger: store, Notifier: n,
			// Pull requests for the units that ask (spec.pullRequests), as the bot, on the Gitea
			// the application's repository is on; a short interval so a merge is seen quickly.
			Reconcile: &reporter.ReconcileConfig{Forge: "gitea", URL: gitea.URL, Token: bot.Token, Username: bot.Name,
				Interval: 3 * time.Second},
			Log: slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelDebug})),
		})
		done := make(chan struct{})
		go func() { defer close(done); _ = ctrl.Run(ctx, 1) }()
		t.Cleanup(func() { cancel(); <-done })
	})

	appHealthy := func() (bool, string) {
		a, err := apps.Get(ctx, appName, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		h, _, _ := unstructured.NestedString(a.Object, "status", "health", "status")
		rh, _ := reportHealth(a)
		return h == "Healthy" && rh == "Healthy", summarize(a)
	}

	// No scheduler or kubelet runs, so the Deployment's pod stays Pending and Argo CD calls it
	// Progressing. A controller scaling it to zero through the scale subresource is what an HPA
	// does; the ownership rule gives /spec/replicas to that controller, so it is not drift.
	step(t, "controller scales to 0 -> Healthy", func() {
		scaler := must(dynamic.NewForConfig(c.RESTConfig("system:kube-controller-manager", "system:masters")))
		_, err := scaler.Resource(deploymentsGVR).Namespace("web").Patch(ctx, "web", types.MergePatchType,
			[]byte(`{"spec":{"replicas":0}}`), metav1.PatchOptions{FieldManager: "kube-controller-manager"}, "scale")
		if err != nil {
			t.Fatal(err)
		}
		procs.WaitFor(t, 2*time.Minute, "application Healthy with an evaluated DriftReport", appHealthy)
	})

	var imageAlert alertmanagertest.Alert
	step(t, "alice changes the image -> Degraded", func() {
		c.KubectlAs("e2e-admin", []string{"system:masters"}, "-n", "web", "create", "role", "deploy-editor",
			"--verb=get,list,patch,update", "--resource=deployments.apps")
		c.KubectlAs("e2e-admin", []string{"system:masters"}, "-n", "web", "create", "rolebinding", "alice",
			"--role=deploy-editor", "--user=alice")
		c.KubectlAs("alice", nil, "-n", "web", "set", "image", "deployment/web", "app=registry.example.com/web:1.1-hotfix")
		want := []string{"Deployment/web", "UNAUTHORIZED_RUNTIME_DRIFT", "/spec/template/spec/containers/name=app/image"}
		procs.WaitFor(t, 2*time.Minute, "application Degraded naming the drift", func() (bool, string) {
			a, err := apps.Get(ctx, appName, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			h, _, _ := unstructured.NestedString(a.Object, "status", "health", "status")
			// Argo CD v3 keeps no application-level message, so the report's own health carries it.
			msg, _, _ := unstructured.NestedString(a.Object, "status", "health", "message")
			if _, rm := reportHealth(a); msg == "" {
				msg = rm
			}
			for _, w := range want {
				if !strings.Contains(msg, w) {
					return false, summarize(a)
				}
			}
			t.Logf("health %s: %s", h, msg)
			return h == "Degraded", summarize(a)
		})
		imageAlert = waitImageAlert(t, security, platform, "firing")
		a := imageAlert
		if a.Labels["alertname"] != "DriftFinding" || a.Labels["unit"] != "web" || a.Labels["owner"] != "team-web" ||
			a.Labels["environment"] != "prod" || a.Annotations["evidence_uri"] == "" {
			t.Errorf("the image drift's alert as Alertmanager sent it: %+v", a)
		}
		// Record Argo CD's real managed-resources answer for the reporter's unit tests
		// (DRIFTPLANE_RECORD_ARGO_DIR=argocd-plugin/reporter/testdata).
		if dir := os.Getenv("DRIFTPLANE_RECORD_ARGO_DIR"); dir != "" {
			req := must(http.NewRequest(http.MethodGet, serverURL+"/api/v1/applications/"+appName+"/managed-resources", nil))
			req.Header.Set("Authorization", "Bearer "+adminToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, body, "", "  "); err != nil {
				t.Fatalf("managed-resources answer is not JSON: %v", err)
			}
			if err := os.WriteFile(filepath.Join(dir, "managed-resources-image-patched.json"), pretty.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})

	liveDeployment := func() *unstructured.Unstructured {
		return must(dyn.Resource(deploymentsGVR).Namespace("web").Get(ctx, "web", metav1.GetOptions{}))
	}

	// The on-call accepts the hotfix as an emergency change: an exception lands in Git, Argo CD
	// re-renders, and only the DriftReport is synced so the patched image stays as alice left it.
	// The drift is now EMERGENCY_DRIFT, to be ported to Git by a pull request.
	step(t, "emergency exception for the image -> Healthy, finding accepted", func() {
		procs.WriteFile(t, filepath.Join(repo.dir, "app", ".drift", "exceptions.yaml"), `apiVersion: drift.driftplane.io/v1alpha1
kind: DriftException
metadata: { name: EXC-E2E }
spec:
  unit: web
  resource: apps/v1/Deployment/web/web
  paths: [/spec/template/spec/containers/name=app/image]
  driftClass: EMERGENCY_DRIFT
  reason: hotfix 1.1 until the release lands in Git
  ticket: CHG-1001
  approvedBy: web-lead
  expiresAt: "`+time.Now().UTC().Add(30*24*time.Hour).Format(time.RFC3339)+`"
`)
		repo.commit(t, "accept hotfix")
		argoRefresh(t, serverURL, adminToken, "hard")
		argoPost(t, serverURL, adminToken, "/api/v1/applications/"+appName+"/sync", map[string]any{
			"resources": []map[string]any{{"group": "drift.driftplane.io", "kind": "DriftReport", "name": appName, "namespace": "web"}},
		})
		reports := dyn.Resource(schema.GroupVersionResource{Group: "drift.driftplane.io", Version: "v1alpha1", Resource: "driftreports"}).Namespace("web")
		procs.WaitFor(t, 2*time.Minute, "the image finding accepted and the application Healthy", func() (bool, string) {
			r, err := reports.Get(ctx, appName, metav1.GetOptions{})
			if err != nil {
				return false, err.Error()
			}
			findings, _, _ := unstructured.NestedSlice(r.Object, "status", "findings")
			accepted := false
			for _, f := range findings {
				m, _ := f.(map[string]any)
				if m["accepted_by"] == "EXC-E2E" && m["drift_class"] == "EMERGENCY_DRIFT" && m["recommended_action"] == "GIT_UPDATE_PR" {
					accepted = true
				}
			}
			if !accepted {
				return false, fmt.Sprint(findings)
			}
			containers, _, _ := unstructured.NestedSlice(liveDeployment().Object, "spec", "template", "spec", "containers")
			if len(containers) != 1 || containers[0].(map[string]any)["image"] != "registry.example.com/web:1.1-hotfix" {
				return false, "the partial sync touched the Deployment: " + fmt.Sprint(containers)
			}
			return appHealthy()
		})
		// Accepting the drift ends it: the reporter posts the alert resolved, and Alertmanager
		// tells the same receiver.
		if a := waitImageAlert(t, security, platform, "resolved"); a.Labels["fingerprint"] != imageAlert.Labels["fingerprint"] {
			t.Errorf("resolved %+v, fired %+v", a.Labels, imageAlert.Labels)
		}
	})

	// The reporter ports the hotfix to Git by a pull request, the owner merges it, Argo CD syncs
	// (e2e_pullrequest_test.go).
	testEmergencyPullRequest(t, ctx, pullRequestEnv{
		apps: apps, reports: dyn.Resource(schema.GroupVersionResource{Group: "drift.driftplane.io", Version: "v1alpha1", Resource: "driftreports"}).Namespace("web"),
		serverURL: serverURL, adminToken: adminToken, repo: repo, bot: bot, store: store, appHealthy: appHealthy,
		scanned: []string{progs.Dir(), string(store)},
		liveImage: func() string {
			containers, _, _ := unstructured.NestedSlice(liveDeployment().Object, "spec", "template", "spec", "containers")
			if len(containers) != 1 {
				return fmt.Sprint(containers)
			}
			return fmt.Sprint(containers[0].(map[string]any)["image"])
		},
	})

	step(t, "alice relabels -> auto-healed", func() {
		c.KubectlAs("alice", nil, "-n", "web", "label", "deployment/web", "app=hacked", "--overwrite")
		// Nothing else syncs (automated sync is off), so a restored label is the reporter's heal. The
		// report's status.autoHeal only holds the latest evaluation, which after a heal has nothing
		// left to heal, so the DriftHealed Event is the lasting record of what was healed.
		kube := must(kubernetes.NewForConfig(admin))
		procs.WaitFor(t, 2*time.Minute, "the reporter to sync the label back to Git's", func() (bool, string) {
			labels := liveDeployment().GetLabels()
			events, err := kube.CoreV1().Events(argoNS).List(ctx, metav1.ListOptions{FieldSelector: "reason=DriftHealed"})
			if err != nil {
				return false, err.Error()
			}
			for _, e := range events.Items {
				if labels["app"] == "web" && strings.Contains(e.Message, "Deployment/web /metadata/labels") {
					t.Logf("event DriftHealed: %s", e.Message)
					return true, ""
				}
			}
			return false, fmt.Sprintf("labels %v, %d DriftHealed events", labels, len(events.Items))
		})
		procs.WaitFor(t, time.Minute, "application Healthy after the heal", appHealthy)
	})
	// A failed sync and reconcile thrash (e2e_failed_sync_test.go).
	testFailedSyncAndThrash(t, ctx, failedSyncEnv{c: c, dyn: dyn, serverURL: serverURL, adminToken: adminToken, repo: repo})
	captureForUI(t, c, serverURL, adminToken) // only with DRIFTPLANE_E2E_CAPTURE set
}

// waitImageAlert waits until Alertmanager told a receiver that the drift of the Deployment's image
// is in state (firing, resolved), and checks it was the receiver its own routing tree chooses by
// domain and risk.
func waitImageAlert(t *testing.T, security, platform *alertmanagertest.Sink, state string) alertmanagertest.Alert {
	t.Helper()
	var got alertmanagertest.Alert
	var at *alertmanagertest.Sink
	procs.WaitFor(t, time.Minute, "Alertmanager to send the image drift "+state, func() (bool, string) {
		for _, sink := range []*alertmanagertest.Sink{security, platform} {
			for _, a := range sink.Latest("fingerprint") {
				if a.Labels["class"] == "UNAUTHORIZED_RUNTIME_DRIFT" && strings.Contains(a.Labels["resource"], "Deployment") && a.Status == state {
					got, at = a, sink
					return true, ""
				}
			}
		}
		return false, "security: " + security.States("resource") + "; platform: " + platform.States("resource")
	})
	want := platform
	if d, r := got.Labels["domain"], got.Labels["risk"]; (d == "identity" || d == "network") && (r == "HIGH" || r == "CRITICAL") {
		want = security
	}
	if at != want {
		t.Errorf("Alertmanager sent the image drift (%s) to the wrong receiver", got.Labels)
	}
	return got
}

// step runs one stage and logs how long it took, so a slow component shows up in the test output.
func step(t *testing.T, name string, fn func()) {
	t.Helper()
	start := time.Now()
	fn()
	t.Logf("step %-45s %s", name, time.Since(start).Round(time.Millisecond))
}

// installArgoCDConfig installs what Argo CD's install.yaml would, minus the workloads: CRDs,
// namespaces, argocd-cm / argocd-rbac-cm / argocd-secret with driftplane's additions, the default
// project, and driftplane's DriftReport CRD.
func installArgoCDConfig(t *testing.T, c *kubetest.Cluster, root, argocd, work string) {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", argoCDModule).Output()
	if err != nil {
		t.Fatalf("go mod download %s: %v", argoCDModule, err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download %s: no directory in %s", argoCDModule, out)
	}
	kubectl := func(args ...string) { c.KubectlAs("e2e-admin", []string{"system:masters"}, args...) }
	// The Application CRD is larger than the last-applied annotation allows, hence server-side.
	for _, crd := range []string{"application-crd.yaml", "appproject-crd.yaml"} {
		kubectl("apply", "--server-side", "-f", filepath.Join(mod.Dir, "manifests", "crds", crd))
	}
	kubectl("apply", "--server-side", "-f", filepath.Join(root, "argocd-plugin", "manifests", "base", "crd-driftreport.yaml"))
	kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/applications.argoproj.io",
		"crd/appprojects.argoproj.io", "crd/driftreports.drift.driftplane.io")

	hash, err := exec.Command(argocd, "account", "bcrypt", "--password", adminPassword).Output()
	if err != nil {
		t.Fatalf("argocd account bcrypt: %v", err)
	}
	lua := string(must(os.ReadFile(filepath.Join(root, "argocd-plugin", "manifests", "base", "health.lua"))))
	// The settings manager only sees objects with this label.
	labels := func(name string) map[string]any {
		return map[string]any{"name": name, "namespace": argoNS,
			"labels": map[string]any{"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "argocd"}}
	}
	objects := []map[string]any{
		{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": argoNS}},
		{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "web"}},
		{"apiVersion": "v1", "kind": "ConfigMap", "metadata": labels("argocd-cm"), "data": map[string]any{
			"accounts.driftplane-reporter":                                   "apiKey",
			"resource.customizations.health.drift.driftplane.io_DriftReport": lua,
			"timeout.reconciliation":                                         "30s",
		}},
		{"apiVersion": "v1", "kind": "ConfigMap", "metadata": labels("argocd-rbac-cm"), "data": map[string]any{
			"policy.driftplane.csv": "p, driftplane-reporter, applications, get, */*, allow\np, driftplane-reporter, applications, sync, */*, allow",
		}},
		{"apiVersion": "v1", "kind": "Secret", "metadata": labels("argocd-secret"), "type": "Opaque", "stringData": map[string]any{
			"admin.password":      strings.TrimSpace(string(hash)),
			"admin.passwordMtime": time.Now().UTC().Format(time.RFC3339),
			"server.secretkey":    "e2e-server-secret-key-0123456789",
		}},
		{"apiVersion": "argoproj.io/v1alpha1", "kind": "AppProject", "metadata": map[string]any{"name": "default", "namespace": argoNS},
			"spec": map[string]any{
				"sourceRepos":              []any{"*"},
				"destinations":             []any{map[string]any{"server": "*", "namespace": "*"}},
				"clusterResourceWhitelist": []any{map[string]any{"group": "*", "kind": "*"}},
			}},
	}
	dir := filepath.Join(work, "argocd-config")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, o := range objects {
		// Namespaces go first: kubectl applies a directory in file-name order.
		procs.WriteFile(t, filepath.Join(dir, fmt.Sprintf("%02d.json", i)), string(must(json.Marshal(o))))
	}
	kubectl("apply", "-f", dir)
}

// startArgoCD runs the CMP server, repo-server, application controller and API server and returns
// the API server's URL once it answers.
func startArgoCD(t *testing.T, c *kubetest.Cluster, p *procs.Group, root, argocd, redisAddr, work string) string {
	t.Helper()
	// The plugin binary is built from this checkout, so the test exercises the code under review.
	bin := filepath.Join(work, "bin")
	build := exec.Command("go", "build", "-o", filepath.Join(bin, "argocd-driftplane"), "./argocd-plugin/cmd/argocd-driftplane")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building argocd-driftplane: %v\n%s", err, out)
	}

	// Unix socket paths are capped at 108 bytes, which t.TempDir() paths can exceed.
	sockDir, err := os.MkdirTemp("", "cmp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(sockDir) })
	configDir := filepath.Join(work, "cmp-config")
	procs.WriteFile(t, filepath.Join(configDir, "plugin.yaml"),
		string(must(os.ReadFile(filepath.Join(root, "argocd-plugin", "manifests", "base", "plugin.yaml")))))
	cmpWork := filepath.Join(work, "cmp-work")
	if err := os.MkdirAll(cmpWork, 0o755); err != nil {
		t.Fatal(err)
	}
	p.Start("argocd-cmp-server", argocd, []string{
		"ARGOCD_BINARY_NAME=argocd-cmp-server",
		"ARGOCD_PLUGINSOCKFILEPATH=" + sockDir,
		"ARGOCD_CMP_WORKDIR=" + cmpWork,
		"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
	}, "--config-dir-path", configDir, "--logformat", "text")
	procs.WaitFile(t, filepath.Join(sockDir, "driftplane-v1.sock"))

	// Everything that would live under /app/config or /home/argocd in a container goes to work.
	for _, d := range []string{"ssh", "tls", "gpg"} {
		if err := os.MkdirAll(filepath.Join(work, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	repoAddr := fmt.Sprintf("127.0.0.1:%d", procs.FreePort(t))
	_, repoPort, _ := net.SplitHostPort(repoAddr)
	p.Start("argocd-repo-server", argocd, []string{
		"ARGOCD_BINARY_NAME=argocd-repo-server",
		"ARGOCD_PLUGINSOCKFILEPATH=" + sockDir,
		"ARGOCD_GPG_ENABLED=false",
		"ARGOCD_SSH_DATA_PATH=" + filepath.Join(work, "ssh"),
		"ARGOCD_TLS_DATA_PATH=" + filepath.Join(work, "tls"),
		"ARGOCD_GNUPGHOME=" + filepath.Join(work, "gpg"),
	}, "--address", "127.0.0.1", "--port", repoPort, "--disable-tls",
		"--metrics-address", "127.0.0.1", "--metrics-port", fmt.Sprint(procs.FreePort(t)),
		"--redis", redisAddr, "--logformat", "text")
	procs.WaitTCP(t, repoAddr)

	// https://kubernetes.default.svc means "the cluster I run in"; out of a cluster Argo CD takes
	// that cluster from KUBECONFIG when ARGOCD_FAKE_IN_CLUSTER is set.
	kubeconfig := c.Kubeconfig(kubetest.ApplierUser, "system:masters")
	inCluster := []string{"KUBECONFIG=" + kubeconfig, "ARGOCD_FAKE_IN_CLUSTER=true",
		"ARGOCD_SSH_DATA_PATH=" + filepath.Join(work, "ssh"), "ARGOCD_TLS_DATA_PATH=" + filepath.Join(work, "tls")}
	p.Start("argocd-application-controller", argocd, append([]string{"ARGOCD_BINARY_NAME=argocd-application-controller"}, inCluster...),
		"--kubeconfig", kubeconfig, "--namespace", argoNS,
		"--repo-server", repoAddr, "--repo-server-plaintext", "--redis", redisAddr,
		"--metrics-port", fmt.Sprint(procs.FreePort(t)), "--persist-resource-health",
		"--status-processors", "2", "--operation-processors", "2", "--logformat", "text")

	serverPort := procs.FreePort(t)
	p.Start("argocd-server", argocd, append([]string{"ARGOCD_BINARY_NAME=argocd-server"}, inCluster...),
		"--insecure", "--address", "127.0.0.1", "--port", fmt.Sprint(serverPort),
		"--metrics-address", "127.0.0.1", "--metrics-port", fmt.Sprint(procs.FreePort(t)),
		"--kubeconfig", kubeconfig, "--namespace", argoNS,
		"--repo-server", repoAddr, "--repo-server-plaintext", "--redis", redisAddr,
		"--staticassets", filepath.Join(work, "static"), "--logformat", "text")
	serverURL := fmt.Sprintf("http://127.0.0.1:%d", serverPort)
	procs.WaitFor(t, time.Minute, "argocd-server /healthz", func() (bool, string) {
		resp, err := http.Get(serverURL + "/healthz")
		if err != nil {
			return false, err.Error()
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	return serverURL
}

// reportHealth is the DriftReport's health as the application controller recorded it.
func reportHealth(app *unstructured.Unstructured) (status, message string) {
	resources, _, _ := unstructured.NestedSlice(app.Object, "status", "resources")
	for _, r := range resources {
		m, _ := r.(map[string]any)
		if m["kind"] == "DriftReport" {
			status, _, _ = unstructured.NestedString(m, "health", "status")
			message, _, _ = unstructured.NestedString(m, "health", "message")
		}
	}
	return status, message
}

// summarize is what a timeout reports about the application, to say where it got stuck.
func summarize(app *unstructured.Unstructured) string {
	status, _, _ := unstructured.NestedMap(app.Object, "status")
	delete(status, "history")
	return string(must(json.Marshal(status)))
}

// argoPost calls argocd-server's REST API; every call the test makes is a POST.
func argoPost(t *testing.T, serverURL, token, path string, body any) []byte {
	t.Helper()
	const method = http.MethodPost
	for attempt := 0; ; attempt++ {
		req := must(http.NewRequest(method, serverURL+path, bytes.NewReader(must(json.Marshal(body)))))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		out, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		// A sync while another operation runs (the previous sync, or the reporter's heal) is
		// refused until it ends: wait for it, as a person would.
		if resp.StatusCode == http.StatusBadRequest && bytes.Contains(out, []byte("another operation is already in progress")) && attempt < 60 {
			time.Sleep(time.Second)
			continue
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %s: %s", method, path, resp.Status, out)
		}
		return out
	}
}

func jsonField(t *testing.T, body []byte, field string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	s, _ := m[field].(string)
	if s == "" {
		t.Fatalf("no %q in %s", field, body)
	}
	return s
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
