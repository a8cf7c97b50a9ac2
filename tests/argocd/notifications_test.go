package argocd

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	argonotif "github.com/argoproj/argo-cd/v3/notification_controller/controller"
	"github.com/argoproj/argo-cd/v3/util/notification/settings"
	"github.com/argoproj/notifications-engine/pkg/api"
	"github.com/argoproj/notifications-engine/pkg/controller"
	"github.com/argoproj/notifications-engine/pkg/services"
	"github.com/argoproj/notifications-engine/pkg/templates"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// The secrets a notification service is configured with; no notification may carry them.
const (
	slackToken   = "xoxb-canary-slack-token-5f1e"
	webhookToken = "canary-webhook-bearer-9c2d"
)

// builtInstall renders the stock Argo CD install with driftplane's base and notifications
// components, the way a user's kustomization does, with the stock install read from the module
// cache (the test cannot fetch the release URL).
func builtInstall(t *testing.T) []*unstructured.Unstructured {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-json", "github.com/argoproj/argo-cd/v3").Output()
	if err != nil {
		t.Fatalf("go list argo-cd: %v", err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil {
		t.Fatal(err)
	}
	install, err := os.ReadFile(filepath.Join(mod.Dir, "manifests", "install.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "install.yaml"), install, 0o600); err != nil {
		t.Fatal(err)
	}
	var components []string
	for _, c := range []string{"base", "notifications"} {
		abs, _ := filepath.Abs(filepath.Join(root, "argocd-plugin/manifests", c))
		rel, err := filepath.Rel(dir, abs) // kustomize refuses absolute component paths
		if err != nil {
			t.Fatal(err)
		}
		components = append(components, rel)
	}
	k := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: argocd\nresources: [install.yaml]\ncomponents: [" + strings.Join(components, ", ") + "]\n"
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = types.LoadRestrictionsNone
	rm, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build: %v", err)
	}
	var objs []*unstructured.Unstructured
	for _, r := range rm.Resources() {
		js, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(js); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, u)
	}
	return objs
}

func configMap(t *testing.T, objs []*unstructured.Unstructured, name string) *corev1.ConfigMap {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == "ConfigMap" && o.GetName() == name {
			cm := &corev1.ConfigMap{}
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, cm); err != nil {
				t.Fatal(err)
			}
			return cm
		}
	}
	t.Fatalf("no ConfigMap %s in the install", name)
	return nil
}

// notificationsConfig is the shipped argocd-notifications-cm as installed (merged into the stock
// one), plus the services a user adds: a Slack app and a webhook, both pointed at test servers
// and both holding a secret from argocd-notifications-secret.
func notificationsConfig(t *testing.T, slackURL, webhookURL string) (*corev1.ConfigMap, *corev1.Secret) {
	t.Helper()
	objs := builtInstall(t)
	if got := configMap(t, objs, "argocd-cmd-params-cm").Data["controller.resource.health.persist"]; got != "true" {
		t.Errorf("the notifications component leaves controller.resource.health.persist %q: the DriftReport's health would not be in the Application", got)
	}
	if configMap(t, objs, "argocd-cm").Data["resource.customizations.health.drift.driftplane.io_DriftReport"] == "" {
		t.Error("the base component's DriftReport health check is gone with the notifications component")
	}
	cm := configMap(t, objs, "argocd-notifications-cm")
	for _, k := range []string{"trigger.on-drift-blocking", "trigger.on-drift-resolved", "template.drift-blocking", "template.drift-resolved"} {
		if cm.Data[k] == "" {
			t.Fatalf("argocd-notifications-cm has no %s", k)
		}
	}
	cm.Data["service.slack"] = "token: $slack-token\napiURL: " + slackURL + "/api/\n"
	cm.Data["service.webhook.driftplane"] = "url: " + webhookURL + "\nheaders:\n- name: Authorization\n  value: Bearer $webhook-token\n"
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "argocd-notifications-secret", Namespace: "argocd"},
		Data:       map[string][]byte{"slack-token": []byte(slackToken), "webhook-token": []byte(webhookToken)},
	}
	return cm, secret
}

// reportHealth is what Argo CD's Lua VM makes of a DriftReport fixture with the shipped health
// check: the exact status and message the application controller persists for it.
func reportHealth(t *testing.T, fixture string) map[string]any {
	t.Helper()
	script, err := os.ReadFile(filepath.Join(root, "argocd-plugin/manifests/base/health.lua"))
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.ReadFile(filepath.Join(root, "argocd-plugin/health/testdata", fixture))
	if err != nil {
		t.Fatal(err)
	}
	js, err := yaml.YAMLToJSON(in)
	if err != nil {
		t.Fatal(err)
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(js); err != nil {
		t.Fatal(err)
	}
	hs, err := runHealthLua(t, string(script), obj)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"status": string(hs.Status), "message": hs.Message}
}

// appState is an Application's status as the application controller writes it with
// controller.resource.health.persist=true: the overall health and each resource's.
type appState struct {
	report     map[string]any // the DriftReport's health; nil when it is not persisted
	deployment string         // the Deployment's health status
}

func (s appState) apply(app *unstructured.Unstructured) {
	worst := map[string]int{"Healthy": 0, "Progressing": 2, "Unknown": 3, "Degraded": 4}
	overall := s.deployment
	if s.report != nil && worst[s.report["status"].(string)] > worst[overall] {
		overall = s.report["status"].(string)
	}
	dr := map[string]any{"group": "drift.driftplane.io", "version": "v1alpha1", "kind": "DriftReport", "namespace": "payments", "name": "payments-web", "status": "Synced"}
	deploy := map[string]any{"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "payments", "name": "web", "status": "Synced",
		"health": map[string]any{"status": s.deployment}}
	svc := map[string]any{"version": "v1", "kind": "Service", "namespace": "payments", "name": "web", "status": "Synced", "health": map[string]any{"status": "Healthy"}}
	status := map[string]any{
		"health":    map[string]any{"status": overall, "lastTransitionTime": "2026-11-22T10:00:00Z"},
		"sync":      map[string]any{"status": "Synced", "revision": "0123abcd"},
		"resources": []any{svc, deploy, dr},
	}
	if s.report != nil {
		dr["health"] = s.report
		status["resourceHealthSource"] = "inline"
	} else {
		delete(deploy, "health")
		delete(svc, "health")
		status["resourceHealthSource"] = "appTree"
	}
	app.Object["status"] = status
}

func newApplication(annotations map[string]string) *unstructured.Unstructured {
	app := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
		"metadata": map[string]any{"name": "payments-web", "namespace": "argocd"},
		"spec":     map[string]any{"project": "default", "destination": map[string]any{"namespace": "payments", "server": "https://kubernetes.default.svc"}},
	}}
	app.SetAnnotations(annotations)
	return app
}

// engine is what the notification controller builds from the two objects: Argo CD's variables
// (app, context, secrets, helpers) around notifications-engine's triggers and templates.
type engine struct {
	api       api.API
	getVars   api.GetVars
	templates interface {
		FormatNotification(vars map[string]any, templates ...string) (*services.Notification, error)
	}
}

func newEngine(t *testing.T, cm *corev1.ConfigMap, secret *corev1.Secret) engine {
	t.Helper()
	cm.Namespace = "argocd"
	cfg, err := api.ParseConfig(cm, secret)
	if err != nil {
		t.Fatal(err)
	}
	getVars, err := settings.GetFactorySettings(nil, secret.Name, cm.Name, false).InitGetVars(cfg, cm, secret)
	if err != nil {
		t.Fatal(err)
	}
	a, err := api.NewAPI(*cfg, getVars)
	if err != nil {
		t.Fatalf("the engine rejects the shipped triggers or templates: %v", err)
	}
	ts, err := templates.NewService(cfg.Templates)
	if err != nil {
		t.Fatal(err)
	}
	return engine{api: a, getVars: getVars, templates: ts}
}

// fires runs a trigger on app and returns whether its one condition fired and its oncePer value.
func (e engine) fires(t *testing.T, trigger string, app *unstructured.Unstructured) (bool, string) {
	t.Helper()
	res, err := e.api.RunTrigger(trigger, app.Object)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 {
		t.Fatalf("%s has %d conditions, want 1", trigger, len(res))
	}
	if res[0].Triggered && res[0].OncePer == "" {
		t.Fatalf("%s fired with no oncePer value: its oncePer expression failed", trigger)
	}
	return res[0].Triggered, res[0].OncePer
}

// render formats a template for a destination of the given service, as api.Send does.
func (e engine) render(t *testing.T, template, service string, app *unstructured.Unstructured) *services.Notification {
	t.Helper()
	vars := e.getVars(app.Object, services.Destination{Service: service})
	vars["serviceType"] = service
	n, err := e.templates.FormatNotification(vars, template)
	if err != nil {
		t.Fatalf("render %s: %v", template, err)
	}
	return n
}

// notified is the state annotation the controller would write after sending trigger's
// notification with oncePer value once to one Slack channel at time at.
func notified(state map[string]int64, once, trigger string, at int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range state {
		out[k] = v
	}
	out[once+":"+trigger+":[0].x:slack:drift"] = at
	return out
}

func withState(app *unstructured.Unstructured, state map[string]int64) *unstructured.Unstructured {
	app = app.DeepCopy()
	js, _ := json.Marshal(state)
	ann := app.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann["notified.notifications.argoproj.io"] = string(js)
	app.SetAnnotations(ann)
	return app
}

// TestDriftTriggersInNotificationsEngine evaluates the shipped triggers and templates with
// notifications-engine and Argo CD's notification variables over the states the Lua health
// check gives a DriftReport: which trigger fires, what its oncePer is, and what it says.
func TestDriftTriggersInNotificationsEngine(t *testing.T) {
	cm, secret := notificationsConfig(t, "http://127.0.0.1:1", "http://127.0.0.1:1")
	cm.Data["context"] = "argocdUrl: https://argocd.example.com\n"
	e := newEngine(t, cm, secret)

	clean := reportHealth(t, "clean.yaml")
	blocking := reportHealth(t, "degraded.yaml")
	budget := reportHealth(t, "degraded-budget.yaml")
	stale := reportHealth(t, "stale.yaml")
	failed := reportHealth(t, "evaluation-failed.yaml")
	if clean["status"] != "Healthy" || blocking["status"] != "Degraded" || budget["status"] != "Degraded" || stale["status"] != "Progressing" || failed["status"] != "Unknown" {
		t.Fatalf("health fixtures changed: %v %v %v %v %v", clean, blocking, budget, stale, failed)
	}
	at := func(s appState, state map[string]int64) *unstructured.Unstructured {
		app := newApplication(nil)
		s.apply(app)
		if state != nil {
			app = withState(app, state)
		}
		return app
	}

	// Healthy, no drift, nothing sent yet: neither fires (no "resolved" for what never blocked).
	for _, s := range []appState{{clean, "Healthy"}, {stale, "Healthy"}, {failed, "Healthy"}} {
		for _, trig := range []string{"on-drift-blocking", "on-drift-resolved"} {
			if fired, _ := e.fires(t, trig, at(s, nil)); fired {
				t.Errorf("%s fires with the DriftReport %v", trig, s.report["status"])
			}
		}
	}
	// The application is Degraded by a Deployment, not by drift: not a drift notification. Nor
	// when the DriftReport's health is not persisted in the Application (Argo CD 3's default).
	for _, s := range []appState{{clean, "Degraded"}, {nil, "Degraded"}} {
		if fired, _ := e.fires(t, "on-drift-blocking", at(s, nil)); fired {
			t.Errorf("on-drift-blocking fires for a Degraded Deployment (report %v)", s.report)
		}
	}

	// Blocking drift fires, once per message.
	fired, once1 := e.fires(t, "on-drift-blocking", at(appState{blocking, "Healthy"}, nil))
	if !fired {
		t.Fatal("on-drift-blocking does not fire on a Degraded DriftReport")
	}
	if !strings.HasPrefix(once1, "drift-blocking-after-0|payments/payments-web: ") || !strings.Contains(once1, blocking["message"].(string)) {
		t.Errorf("oncePer %q", once1)
	}
	if _, again := e.fires(t, "on-drift-blocking", at(appState{blocking, "Degraded"}, nil)); again != once1 {
		t.Errorf("the same drift gives another oncePer when a Deployment degrades too: %q vs %q", again, once1)
	}
	state := notified(nil, once1, "on-drift-blocking", 1000)
	// An exhausted budget is a different blocking state: it notifies again.
	fired, once2 := e.fires(t, "on-drift-blocking", at(appState{budget, "Healthy"}, state))
	if !fired || once2 == once1 || !strings.Contains(once2, "Drift budget exhausted: identity-zero") {
		t.Errorf("budget exhausted: fired %v oncePer %q", fired, once2)
	}
	state = notified(state, once2, "on-drift-blocking", 1100)
	// Still blocking with the earlier message (after a stale spell): the oncePer seen before.
	if _, again := e.fires(t, "on-drift-blocking", at(appState{blocking, "Healthy"}, state)); again != once1 {
		t.Errorf("oncePer changed for drift already notified: %q vs %q", again, once1)
	}
	// Stale or failed evaluation resolves nothing.
	for _, s := range []appState{{stale, "Healthy"}, {failed, "Healthy"}} {
		if fired, _ := e.fires(t, "on-drift-resolved", at(s, state)); fired {
			t.Errorf("on-drift-resolved fires with the DriftReport %v", s.report["status"])
		}
	}
	// Back to Healthy: resolved fires, once per last blocking notification.
	fired, onceR := e.fires(t, "on-drift-resolved", at(appState{clean, "Healthy"}, state))
	if !fired || onceR != "drift-resolved-after-1100" {
		t.Errorf("on-drift-resolved: fired %v oncePer %q", fired, onceR)
	}
	state = notified(state, onceR, "on-drift-resolved", 1200)
	if _, again := e.fires(t, "on-drift-resolved", at(appState{clean, "Healthy"}, state)); again != onceR {
		t.Errorf("resolved oncePer moved without new blocking drift: %q", again)
	}
	// The same drift again after it was resolved is news: a new oncePer.
	_, once3 := e.fires(t, "on-drift-blocking", at(appState{blocking, "Healthy"}, state))
	if once3 == once1 || !strings.HasPrefix(once3, "drift-blocking-after-1200|") {
		t.Errorf("recurring drift oncePer %q (was %q)", once3, once1)
	}
	// A malformed state annotation must not silence blocking drift.
	bad := at(appState{blocking, "Healthy"}, nil)
	bad.SetAnnotations(map[string]string{"notified.notifications.argoproj.io": "{not json"})
	if res, err := e.api.RunTrigger("on-drift-blocking", bad.Object); err != nil || !res[0].Triggered {
		t.Errorf("on-drift-blocking with a malformed state annotation: %v %v", res, err)
	}

	// What they say, for each kind of destination.
	for _, c := range []struct {
		template, word string
		report         map[string]any
	}{{"drift-blocking", "Blocking drift", blocking}, {"drift-blocking", "Blocking drift", budget}, {"drift-resolved", "Drift resolved", clean}} {
		app := at(appState{c.report, "Healthy"}, nil)
		msg := c.report["message"].(string)
		n := e.render(t, c.template, "slack", app)
		for _, want := range []string{c.word + " in Argo CD application argocd/payments-web", "DriftReport payments/payments-web is " + c.report["status"].(string) + ": " + msg,
			"Revision: 0123abcd", "https://argocd.example.com/applications/argocd/payments-web"} {
			if !strings.Contains(n.Message, want) {
				t.Errorf("%s message lacks %q:\n%s", c.template, want, n.Message)
			}
		}
		var attachments []struct {
			Title     string
			TitleLink string `json:"title_link"`
			Fields    []struct{ Title, Value string }
		}
		if err := json.Unmarshal([]byte(n.Slack.Attachments), &attachments); err != nil {
			t.Fatalf("%s slack attachments are not JSON: %v\n%s", c.template, err, n.Slack.Attachments)
		}
		if len(attachments) != 1 || len(attachments[0].Fields) != 1 || attachments[0].Fields[0].Value != msg ||
			attachments[0].TitleLink != "https://argocd.example.com/applications/argocd/payments-web" {
			t.Errorf("%s slack attachments: %+v", c.template, attachments)
		}
		n = e.render(t, c.template, "driftplane", app)
		body := webhookBody(t, n.Webhook["driftplane"].Body)
		if body.Event != c.template || body.Application.Name != "payments-web" || len(body.DriftReports) != 1 || body.DriftReports[0].Message != msg {
			t.Errorf("%s webhook body: %+v", c.template, body)
		}
		if n.Email == nil || !strings.Contains(n.Email.Subject, "payments-web") {
			t.Errorf("%s email subject: %+v", c.template, n.Email)
		}
		for _, s := range []string{n.Message, n.Slack.Attachments, n.Webhook["driftplane"].Body, n.Email.Subject} {
			if strings.Contains(s, slackToken) || strings.Contains(s, webhookToken) {
				t.Errorf("%s renders a notification secret", c.template)
			}
		}
	}
	// The health message quotes names and paths from the cluster, which whoever can create
	// resources there chooses: it stays data (valid JSON, no template evaluated, no state forged).
	hostile := map[string]any{"status": "Degraded", "message": "1 unaccepted drift finding(s) at or above gate high: " +
		"ConfigMap/x\"}],\"event\":\"drift-resolved\" UNAUTHORIZED_RUNTIME_DRIFT HIGH /data/{{.secrets}}\n" +
		"drift-resolved-after-9999999999:on-drift-resolved:[0].x:slack:drift"}
	fired, onceH := e.fires(t, "on-drift-blocking", at(appState{hostile, "Healthy"}, state))
	if !fired || !strings.HasPrefix(onceH, "drift-blocking-after-1200|") {
		t.Errorf("hostile message: fired %v oncePer %q", fired, onceH)
	}
	state = notified(state, onceH, "on-drift-blocking", 1300)
	if _, once := e.fires(t, "on-drift-resolved", at(appState{clean, "Healthy"}, state)); once != "drift-resolved-after-1300" {
		t.Errorf("a blocking message forged the resolved state: %q", once)
	}
	for _, svc := range []string{"slack", "driftplane"} {
		n := e.render(t, "drift-blocking", svc, at(appState{hostile, "Healthy"}, nil))
		if !strings.Contains(n.Message, hostile["message"].(string)) {
			t.Errorf("message does not carry the health message verbatim:\n%s", n.Message)
		}
		if svc == "slack" {
			var att []struct{ Fields []struct{ Value string } }
			if err := json.Unmarshal([]byte(n.Slack.Attachments), &att); err != nil || att[0].Fields[0].Value != hostile["message"] {
				t.Errorf("slack attachments with a hostile message: %v\n%s", err, n.Slack.Attachments)
			}
			continue
		}
		if p := webhookBody(t, n.Webhook["driftplane"].Body); p.Event != "drift-blocking" || p.DriftReports[0].Message != hostile["message"] {
			t.Errorf("webhook body with a hostile message: %+v", p)
		}
	}

	// No Argo CD URL configured: no link, and still valid JSON.
	delete(cm.Data, "context")
	e = newEngine(t, cm, secret)
	n := e.render(t, "drift-blocking", "slack", at(appState{blocking, "Healthy"}, nil))
	if strings.Contains(n.Message, "/applications/") || !json.Valid([]byte(n.Slack.Attachments)) {
		t.Errorf("without context.argocdUrl:\n%s\n%s", n.Message, n.Slack.Attachments)
	}
}

type webhookPayload struct {
	Event       string
	Application struct{ Namespace, Name string }
	Revision    string
	// DriftReports are the application's DriftReports with their health.
	DriftReports []struct{ Namespace, Name, Health, Message string } `json:"driftReports"`
}

func webhookBody(t *testing.T, body string) webhookPayload {
	t.Helper()
	var p webhookPayload
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("webhook body is not JSON: %v\n%s", err, body)
	}
	return p
}

// delivery is one notification a test server received.
type delivery struct {
	service string // slack or webhook
	text    string // slack: the attachments; webhook: the body
	auth    string
	channel string
}

type receivers struct {
	mu  sync.Mutex
	got []delivery
}

func (r *receivers) all() []delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]delivery(nil), r.got...)
}

func (r *receivers) servers(t *testing.T) (slackURL, webhookURL string) {
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !strings.HasSuffix(req.URL.Path, "/chat.postMessage") {
			http.Error(w, "unexpected "+req.URL.Path, http.StatusNotFound)
			return
		}
		raw, _ := io.ReadAll(req.Body)
		form, _ := url.ParseQuery(string(raw))
		r.mu.Lock()
		r.got = append(r.got, delivery{service: "slack", text: form.Get("attachments"), auth: req.Header.Get("Authorization") + form.Get("token"), channel: form.Get("channel")})
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true,"channel":"C1","ts":"1700000000.000100"}`)
	}))
	t.Cleanup(slack.Close)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		raw, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, delivery{service: "webhook", text: string(raw), auth: req.Header.Get("Authorization")})
		r.mu.Unlock()
	}))
	t.Cleanup(hook.Close)
	return slack.URL, hook.URL
}

var applicationsGVR = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "applications"}

// TestDriftNotificationsThroughArgoCDController runs Argo CD's notification controller (its
// informers, notifications-engine's controller and state annotation) over a fake API server, with
// the shipped ConfigMap, a real Slack client and webhook client sending to test servers, and walks
// an application through the DriftReport health states the application controller persists.
func TestDriftNotificationsThroughArgoCDController(t *testing.T) {
	var rcv receivers
	slackURL, webhookURL := rcv.servers(t)
	cm, secret := notificationsConfig(t, slackURL, webhookURL)
	cm.Namespace = "argocd"

	app := newApplication(map[string]string{
		"notifications.argoproj.io/subscribe.on-drift-blocking.slack":      "drift-alerts",
		"notifications.argoproj.io/subscribe.on-drift-resolved.slack":      "drift-alerts",
		"notifications.argoproj.io/subscribe.on-drift-blocking.driftplane": "",
		"notifications.argoproj.io/subscribe.on-drift-resolved.driftplane": "",
	})
	clean := reportHealth(t, "clean.yaml")
	blocking := reportHealth(t, "degraded.yaml")
	budget := reportHealth(t, "degraded-budget.yaml")
	stale := reportHealth(t, "stale.yaml")
	appState{clean, "Healthy"}.apply(app)

	scheme := runtime.NewScheme()
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(scheme, map[schema.GroupVersionResource]string{
		applicationsGVR: "ApplicationList",
		{Group: "argoproj.io", Version: "v1alpha1", Resource: "appprojects"}: "AppProjectList",
	}, app)
	kube := k8sfake.NewClientset(cm, secret)
	registry := controller.NewMetricsRegistry("argocd")
	ctrl := argonotif.NewController(kube, dyn, nil, "argocd", nil, "", registry, "argocd-notifications-secret", "argocd-notifications-cm", false)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := ctrl.Init(ctx); err != nil {
		t.Fatal(err)
	}
	go ctrl.Run(ctx, 1)

	apps := dyn.Resource(applicationsGVR).Namespace("argocd")
	evaluations := func() float64 {
		mfs, err := registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		var n float64
		for _, mf := range mfs {
			if mf.GetName() == "argocd_notifications_trigger_eval_total" {
				for _, m := range mf.GetMetric() {
					n += m.GetCounter().GetValue()
				}
			}
		}
		return n
	}
	// settle waits until the controller has evaluated the triggers since before and then been
	// idle for a while (its own annotation patch makes it evaluate once more).
	settle := func(before float64) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		last, lastChange := evaluations(), time.Now()
		for time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			n := evaluations()
			if n != last {
				last, lastChange = n, time.Now()
			}
			if last > before && time.Since(lastChange) > 700*time.Millisecond {
				return
			}
		}
		t.Fatalf("the notification controller did not evaluate the application (evaluations %v, before %v)", last, before)
	}
	seen := 0
	step := func(name string, s appState, want ...string) {
		t.Helper()
		before := evaluations()
		cur, err := apps.Get(ctx, "payments-web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s.apply(cur)
		if _, err := apps.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		settle(before)
		got := rcv.all()[seen:]
		seen += len(got)
		var events []string
		for _, d := range got {
			if strings.Contains(d.text, slackToken) || strings.Contains(d.text, webhookToken) {
				t.Errorf("%s: a %s notification carries a notification secret", name, d.service)
			}
			switch d.service {
			case "slack":
				if d.channel != "drift-alerts" || !strings.Contains(d.auth, slackToken) {
					t.Errorf("%s: slack delivery to %q without the bot token", name, d.channel)
				}
				var att []struct{ Title string }
				if err := json.Unmarshal([]byte(d.text), &att); err != nil || len(att) != 1 {
					t.Fatalf("%s: slack attachments %q: %v", name, d.text, err)
				}
				events = append(events, "slack:"+att[0].Title)
			case "webhook":
				if d.auth != "Bearer "+webhookToken {
					t.Errorf("%s: webhook delivery without its configured header", name)
				}
				p := webhookBody(t, d.text)
				events = append(events, "webhook:"+p.Event+":"+p.DriftReports[0].Message)
			}
		}
		if !slices.Equal(slices.Sorted(slices.Values(events)), slices.Sorted(slices.Values(want))) {
			t.Errorf("%s: delivered\n  %s\nwant\n  %s", name, strings.Join(slices.Sorted(slices.Values(events)), "\n  "), strings.Join(slices.Sorted(slices.Values(want)), "\n  "))
		}
	}
	blocked := func(h map[string]any) []string {
		return []string{"slack:Blocking drift in payments-web", "webhook:drift-blocking:" + h["message"].(string)}
	}
	resolved := []string{"slack:Drift resolved in payments-web", "webhook:drift-resolved:" + clean["message"].(string)}

	step("healthy, no drift", appState{clean, "Healthy"})
	step("blocking drift", appState{blocking, "Healthy"}, blocked(blocking)...)
	step("still blocking, refreshed", appState{blocking, "Healthy"})
	step("report stale", appState{stale, "Healthy"})
	step("blocking again after the stale spell", appState{blocking, "Healthy"})
	step("a Deployment degrades too", appState{blocking, "Degraded"})
	step("budget exhausted", appState{budget, "Healthy"}, blocked(budget)...)
	step("back to healthy", appState{clean, "Healthy"}, resolved...)
	step("report stale while healthy", appState{stale, "Healthy"})
	step("healthy after the stale spell", appState{clean, "Healthy"})
	step("a Deployment degrades, no drift", appState{clean, "Degraded"})
	step("the budget exhausted again", appState{budget, "Healthy"}, blocked(budget)...)
	step("resolved again", appState{clean, "Healthy"}, resolved...)
}
