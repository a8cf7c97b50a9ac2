package reporter

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kubefake "k8s.io/client-go/kubernetes/fake"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/notify"
	"github.com/driftplane/terraform-provider-drift/internal/notify/notifier"
	"github.com/driftplane/terraform-provider-drift/internal/notify/webhook"
)

// hookKey is the HMAC key of the test's webhook receivers, kept in a Kubernetes Secret.
const hookKey = "hmac-key-never-published-0123456789"

// hookToken is a credential in a webhook URL, which no log line or Event may carry.
const hookToken = "url-token-never-published"

// hook is a webhook receiver served by the test: it verifies the signature with hookKey and
// records the notifications; with hang set it answers nothing until the client gives up.
type hook struct {
	url  string
	hang atomic.Bool
	mu   sync.Mutex
	got  []notify.Notification
}

func newHook(t *testing.T) *hook {
	t.Helper()
	h := &hook{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if h.hang.Load() {
			select {
			case <-r.Context().Done():
			case <-time.After(20 * time.Second):
			}
			return
		}
		if err := webhook.Verify([][]byte{[]byte(hookKey)}, r.Header, b, time.Now(), time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var body webhook.Body
		if err := json.Unmarshal(b, &body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.got = append(h.got, body.Notifications...)
		h.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL + "/hook?token=" + hookToken
	return h
}

func (h *hook) received() []notify.Notification {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]notify.Notification(nil), h.got...)
}

// hookPolicy routes everything to one webhook receiver whose URL (it carries a token) and HMAC
// key are in the Secret driftplane-notifications, keys url-<receiver> and hmac.
func hookPolicy(receiver string) string {
	return `apiVersion: drift.driftplane.io/v1alpha1
kind: DriftRoutingPolicy
metadata: {name: reporter}
spec:
  receivers:
    - {name: ` + receiver + `, type: webhook, urlFrom: {name: driftplane-notifications, key: url-` + receiver + `}, secretRef: {name: driftplane-notifications, key: hmac}}
  route:
    receivers: [` + receiver + `]
`
}

// notifySecret is the Secret holding the receivers' credentials in the reporter's namespace:
// the HMAC key and, for each receiver name, its URL.
func notifySecret(urls map[string]string) *corev1.Secret {
	data := map[string][]byte{"hmac": []byte(hookKey)}
	for name, u := range urls {
		data["url-"+name] = []byte(u)
	}
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "driftplane-notifications", Namespace: "argocd"}, Data: data}
}

// notifyHarness is the recorded application and report with a ledger in a folder store and a
// notifier built from a policy file whose receiver is h, its secret read from the harness's
// Kubernetes.
func notifyHarness(t *testing.T, argo ManagedResourcesGetter, h *hook, opts notifier.Options) (*harness, *PolicyFile, string) {
	t.Helper()
	recorded := loadAnswer(t)
	dr := liveReport(t, recorded)
	app := application(t, "argocd", "web", "")
	hn := newHarness(t, argo, app, dr)
	hn.index(t, app)
	if _, err := hn.kube.CoreV1().Secrets("argocd").Create(context.Background(), notifySecret(map[string]string{"team": h.url}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	store := blob.Dir(filepath.Join(dir, "evidence"))
	hn.ctrl.SetEvidence(store)
	hn.ctrl.SetLedger(store)
	policy := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(policy, []byte(hookPolicy("team")), 0o600); err != nil {
		t.Fatal(err)
	}
	opts.Store, opts.Counters = store, hn.ctrl.cfg.Metrics
	pf, err := NewPolicyFile(context.Background(), policy, KubeSecrets{Client: hn.kube, Namespace: "argocd"}, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	hn.ctrl.cfg.Notifier = pf
	return hn, pf, policy
}

func recordedArgo(t *testing.T) *fakeArgo {
	recorded := loadAnswer(t)
	return &fakeArgo{answer: func(string, string) ([]ResourceDiff, error) { return recorded, nil }}
}

// An evaluation's drift reaches the routing policy's receiver (its HMAC key read from the
// reporter's Secret), once: the next evaluation of the same drift tells nobody again. Deliveries
// are counted by receiver, state and outcome.
func TestNotifyAfterEvaluation(t *testing.T) {
	h := newHook(t)
	hn, _, _ := notifyHarness(t, recordedArgo(t), h, notifier.Options{})
	for i := 0; i < 2; i++ {
		if err := hn.ctrl.Sync(context.Background(), "argocd/web"); err != nil {
			t.Fatal(err)
		}
	}
	_, st := hn.report(t, "web")
	if c := evaluated(st); c == nil || c.Status != "True" || st.BlockingCount != 1 {
		t.Fatalf("status %+v", st)
	}
	got := h.received()
	if len(got) == 0 {
		t.Fatalf("the receiver heard nothing; log:\n%s", hn.logs.String())
	}
	firing := map[string]int{}
	for _, n := range got {
		if n.State != notify.StateFiring || n.Finding.Unit != "web" || n.Finding.Fingerprint == "" {
			t.Errorf("notification %+v", n)
		}
		firing[n.Finding.Fingerprint]++
	}
	for fp, k := range firing {
		if k != 1 {
			t.Errorf("drift %s told %d times over two evaluations", fp, k)
		}
	}
	want := "driftplane_notifications_total{outcome=sent,receiver=team,state=firing} " + itoa(len(got))
	expect(t, gathered(t, hn.reg, "driftplane_notifications_total"), want)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// spyNotifier records calls.
type spyNotifier struct{ calls atomic.Int32 }

func (s *spyNotifier) Notify(context.Context, *drift.ManagedUnit, *drift.Report, string) (*notifier.Summary, error) {
	s.calls.Add(1)
	return &notifier.Summary{}, nil
}

// A failed evaluation (drift unknown) tells nobody anything: no notification says "resolved" for
// drift that merely could not be seen. Neither does an evaluation without a ledger, which could
// not tell a new drift from an old one.
func TestNoNotifyWithoutASuccessfulEvaluation(t *testing.T) {
	t.Run("evaluation failed", func(t *testing.T) {
		argo := &fakeArgo{answer: func(string, string) ([]ResourceDiff, error) { return nil, errors.New("argocd-server: 503") }}
		hn, _, _ := notifyHarness(t, argo, newHook(t), notifier.Options{})
		spy := &spyNotifier{}
		hn.ctrl.cfg.Notifier = spy
		_ = hn.ctrl.Sync(context.Background(), "argocd/web")
		if _, st := hn.report(t, "web"); evaluated(st) == nil || evaluated(st).Status != "False" {
			t.Fatalf("status %+v", st)
		}
		if n := spy.calls.Load(); n != 0 {
			t.Fatalf("Notify called %d times after a failed evaluation", n)
		}
	})
	t.Run("no ledger", func(t *testing.T) {
		hn, _, _ := notifyHarness(t, recordedArgo(t), newHook(t), notifier.Options{})
		spy := &spyNotifier{}
		hn.ctrl.cfg.Notifier, hn.ctrl.cfg.Ledger = spy, nil
		if err := hn.ctrl.Sync(context.Background(), "argocd/web"); err != nil {
			t.Fatal(err)
		}
		if n := spy.calls.Load(); n != 0 {
			t.Fatalf("Notify called %d times without a ledger", n)
		}
	})
	t.Run("evaluated", func(t *testing.T) {
		hn, _, _ := notifyHarness(t, recordedArgo(t), newHook(t), notifier.Options{})
		spy := &spyNotifier{}
		hn.ctrl.cfg.Notifier = spy
		if err := hn.ctrl.Sync(context.Background(), "argocd/web"); err != nil {
			t.Fatal(err)
		}
		if n := spy.calls.Load(); n != 1 {
			t.Fatalf("Notify called %d times after one evaluation", n)
		}
	})
}

// A receiver that never answers holds the evaluation no longer than the notification deadline:
// the status is written, the evaluation succeeds, the failure is counted, logged and put on the
// Application as a Warning Event, none of which carries the URL's token or the HMAC key; the next
// evaluation retries it and, once the receiver answers, delivers it.
func TestHangingReceiverDoesNotBlockEvaluation(t *testing.T) {
	h := newHook(t)
	h.hang.Store(true)
	const deadline = 500 * time.Millisecond
	hn, _, _ := notifyHarness(t, recordedArgo(t), h, notifier.Options{Deadline: deadline, ReceiverTimeout: 200 * time.Millisecond,
		Retry: notify.Backoff{Attempts: 1}})
	start := time.Now()
	if err := hn.ctrl.Sync(context.Background(), "argocd/web"); err != nil {
		t.Fatalf("a hanging receiver failed the evaluation: %v", err)
	}
	if took := time.Since(start); took > deadline+5*time.Second {
		t.Fatalf("the evaluation took %s with a notification deadline of %s", took, deadline)
	}
	if _, st := hn.report(t, "web"); evaluated(st) == nil || evaluated(st).Status != "True" {
		t.Fatalf("status %+v", st)
	}
	expect(t, gathered(t, hn.reg, "driftplane_notifications_total"), "driftplane_notifications_total{outcome=failed,receiver=team,state=firing} 1")
	var events string
	waitFor(t, "the Warning Event", func() bool {
		list, err := hn.kube.CoreV1().Events("").List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		events = ""
		for _, e := range list.Items {
			if e.Reason == ReasonNotificationFailed && e.Type == corev1.EventTypeWarning && e.InvolvedObject.Name == "web" {
				events += e.Message + "\n"
			}
		}
		return events != ""
	})
	logs := hn.logs.String()
	if !strings.Contains(logs, "notification not delivered") || !strings.Contains(events, "receiver team") {
		t.Errorf("the failure is not reported: events %q, log:\n%s", events, logs)
	}
	for _, secret := range []string{hookToken, hookKey} {
		if strings.Contains(logs, secret) || strings.Contains(events, secret) {
			t.Errorf("a credential was published: events %q, log:\n%s", events, logs)
		}
	}

	h.hang.Store(false)
	if err := hn.ctrl.Sync(context.Background(), "argocd/web"); err != nil {
		t.Fatal(err)
	}
	if got := h.received(); len(got) != 1 || got[0].State != notify.StateFiring {
		t.Fatalf("the owed notification was not delivered by the next evaluation: %+v", got)
	}
	expect(t, gathered(t, hn.reg, "driftplane_notifications_total"),
		"driftplane_notifications_total{outcome=failed,receiver=team,state=firing} 1",
		"driftplane_notifications_total{outcome=sent,receiver=team,state=firing} 1")
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// panickyNotifier is a notifier with a bug.
type panickyNotifier struct{}

func (panickyNotifier) Notify(context.Context, *drift.ManagedUnit, *drift.Report, string) (*notifier.Summary, error) {
	panic("notifier bug")
}

// A bug in the notifications is logged; the evaluation and its status stand.
func TestNotifierPanicDoesNotFailEvaluation(t *testing.T) {
	hn, _, _ := notifyHarness(t, recordedArgo(t), newHook(t), notifier.Options{})
	hn.ctrl.cfg.Notifier = panickyNotifier{}
	if err := hn.ctrl.Sync(context.Background(), "argocd/web"); err != nil {
		t.Fatal(err)
	}
	if _, st := hn.report(t, "web"); evaluated(st) == nil || evaluated(st).Status != "True" {
		t.Fatalf("status %+v", st)
	}
	if !strings.Contains(hn.logs.String(), "notifications panicked") {
		t.Errorf("the panic is not logged:\n%s", hn.logs.String())
	}
}

// Secret references resolve from the environment and from Secrets in the reporter's namespace
// only; every error names the variable or the Secret and key, never a value.
func TestKubeSecrets(t *testing.T) {
	kc := kubefake.NewClientset(notifySecret(nil),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "driftplane-notifications", Namespace: "web"}, Data: map[string][]byte{"other": []byte("web-ns-value")}})
	env := map[string]string{"TOKEN": "env-value"}
	s := KubeSecrets{Client: kc, Namespace: "argocd", Env: notifier.EnvSecrets{Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}}
	ctx := context.Background()
	if v, err := s.Secret(ctx, v1alpha1.SecretRef{Name: "driftplane-notifications", Key: "hmac"}); err != nil || string(v) != hookKey {
		t.Fatalf("Secret: %q %v", v, err)
	}
	if v, err := s.Secret(ctx, v1alpha1.SecretRef{Env: "TOKEN"}); err != nil || string(v) != "env-value" {
		t.Fatalf("env: %q %v", v, err)
	}
	for _, c := range []struct {
		ref  v1alpha1.SecretRef
		want string
	}{
		{v1alpha1.SecretRef{Name: "driftplane-notifications", Key: "other"}, "Secret argocd/driftplane-notifications has no key other"},
		{v1alpha1.SecretRef{Name: "missing", Key: "k"}, "Secret argocd/missing (key k) does not exist"},
		{v1alpha1.SecretRef{Name: "driftplane-notifications"}, "needs env, or name and key"},
		{v1alpha1.SecretRef{Env: "UNSET"}, "environment variable UNSET is not set"},
		{v1alpha1.SecretRef{Env: "TOKEN", Name: "driftplane-notifications", Key: "hmac"}, "name one"},
	} {
		_, err := s.Secret(ctx, c.ref)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.ref, err, c.want)
			continue
		}
		for _, v := range []string{hookKey, "env-value", "web-ns-value"} {
			if strings.Contains(err.Error(), v) {
				t.Errorf("%+v: the error carries a value: %v", c.ref, err)
			}
		}
	}
}

// An edited policy file is in effect by the next evaluation; a broken edit is reported and the
// policy in effect kept, so a typo does not silence every receiver.
func TestPolicyFileReloads(t *testing.T) {
	first, second := newHook(t), newHook(t)
	hn, pf, path := notifyHarness(t, recordedArgo(t), first, notifier.Options{})
	var reloadErrs []string
	pf.onError = func(err error) { reloadErrs = append(reloadErrs, err.Error()) }

	touch := func(content string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		// A distinct modification time even on a coarse file system clock.
		later := time.Now().Add(time.Duration(len(reloadErrs)+1) * time.Hour)
		if err := os.Chtimes(path, later, later); err != nil {
			t.Fatal(err)
		}
	}
	touch("kind: DriftRoutingPolicy\nspec: {receivers: [{name: x, type: nonsense}]}\n")
	if err := hn.ctrl.Sync(context.Background(), "argocd/web"); err != nil {
		t.Fatal(err)
	}
	if len(first.received()) == 0 || len(reloadErrs) != 1 || !strings.Contains(reloadErrs[0], "previous one stays in effect") {
		t.Fatalf("broken edit: first got %d, reload errors %q", len(first.received()), reloadErrs)
	}

	// The new receiver has never been told about the drift, so it hears of it now.
	sec := notifySecret(map[string]string{"team": first.url, "oncall": second.url})
	if _, err := hn.kube.CoreV1().Secrets("argocd").Update(context.Background(), sec, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	touch(hookPolicy("oncall"))
	if err := hn.ctrl.Sync(context.Background(), "argocd/web"); err != nil {
		t.Fatal(err)
	}
	if len(second.received()) == 0 || len(reloadErrs) != 1 {
		t.Fatalf("edited policy not in effect: second got %d, reload errors %q; log:\n%s", len(second.received()), reloadErrs, hn.logs.String())
	}
}
