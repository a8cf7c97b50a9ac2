package reporter

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/pipeline"
	"github.com/driftplane/terraform-provider-drift/internal/drift/route"
	"github.com/driftplane/terraform-provider-drift/internal/notify"
	"github.com/driftplane/terraform-provider-drift/internal/notify/notifier"
)

// ReasonNotificationFailed is the reason of the Warning Event an Application gets when a
// notification about its drift was not delivered.
const ReasonNotificationFailed = "DriftNotificationFailed"

// Notifier tells a DriftRoutingPolicy's receivers about one evaluation (notifier.Notifier, or
// PolicyFile, which rebuilds it when the policy file changes).
type Notifier interface {
	Notify(ctx context.Context, unit *drift.ManagedUnit, rep *drift.Report, evidenceURI string) (*notifier.Summary, error)
}

// KubeSecrets resolves a routing policy's secret references for the reporter: {env: NAME} from
// the process environment, {name, key} from a Secret in Namespace (the reporter's own, the only
// one its Role lets it read). A Secret is read on every use, so a rotated credential is picked up
// by the next build of the receivers; its value is never logged or put in an error.
type KubeSecrets struct {
	Client    kubernetes.Interface
	Namespace string
	// Env resolves env references (notifier.EnvSecrets{} when zero).
	Env notifier.EnvSecrets
}

// Secret returns the value ref points at. Errors name the variable, or the Secret and key.
func (k KubeSecrets) Secret(ctx context.Context, ref v1alpha1.SecretRef) ([]byte, error) {
	if ref.Env != "" {
		if ref.Name != "" || ref.Key != "" {
			return nil, fmt.Errorf("the secret reference names both environment variable %s and Secret %s; name one", ref.Env, ref.Name)
		}
		return k.Env.Secret(ctx, ref)
	}
	if ref.Name == "" || ref.Key == "" {
		return nil, fmt.Errorf("the secret reference needs env, or name and key of a Secret in namespace %s", k.Namespace)
	}
	if k.Client == nil {
		return nil, fmt.Errorf("Secret %s/%s (key %s): no Kubernetes client to read it", k.Namespace, ref.Name, ref.Key)
	}
	s, err := k.Client.CoreV1().Secrets(k.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil, fmt.Errorf("Secret %s/%s (key %s) does not exist", k.Namespace, ref.Name, ref.Key)
	case apierrors.IsForbidden(err):
		return nil, fmt.Errorf("Secret %s/%s (key %s): the reporter may not read it (its Role grants get on secrets in its own namespace only)", k.Namespace, ref.Name, ref.Key)
	case err != nil:
		// An API error carries a status message, never the Secret's data.
		return nil, fmt.Errorf("Secret %s/%s (key %s): %w", k.Namespace, ref.Name, ref.Key, err)
	}
	v, ok := s.Data[ref.Key]
	if !ok || len(v) == 0 {
		return nil, fmt.Errorf("Secret %s/%s has no key %s (or it is empty)", k.Namespace, ref.Name, ref.Key)
	}
	return v, nil
}

// PolicyFile is a Notifier over a routing policy file, typically a mounted ConfigMap: it builds
// the receivers at start and again whenever the file's modification time or size changes (a
// ConfigMap update swaps the file), so an edited policy is in effect by the next evaluation
// without a restart. A changed policy that does not load or build is logged and the previous one
// kept: a typo in a route must not silence every receiver.
type PolicyFile struct {
	path    string
	secrets notifier.SecretSource
	opts    notifier.Options
	onError func(error)

	mu      sync.Mutex
	current *notifier.Notifier
	mtime   time.Time
	size    int64
}

// NewPolicyFile loads the policy at path and builds its receivers with secrets and opts; an error
// here (unreadable, invalid, a secret missing) stops the reporter from starting. onError (may be
// nil) hears about a later reload that failed.
func NewPolicyFile(ctx context.Context, path string, secrets notifier.SecretSource, opts notifier.Options, onError func(error)) (*PolicyFile, error) {
	p := &PolicyFile{path: path, secrets: secrets, opts: opts, onError: onError}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("routing policy: %w", err)
	}
	if err := p.load(ctx, fi); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *PolicyFile) load(ctx context.Context, fi os.FileInfo) error {
	pol, err := route.Load(p.path, time.Now())
	if err != nil {
		return err
	}
	n, err := notifier.FromPolicy(ctx, pol, p.secrets, p.opts)
	if err != nil {
		return err
	}
	p.current, p.mtime, p.size = n, fi.ModTime(), fi.Size()
	return nil
}

// Receivers names the receivers of the policy in effect.
func (p *PolicyFile) Receivers() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.current.Receivers()
}

// Notify reloads the policy when its file changed, then notifies with the policy in effect.
func (p *PolicyFile) Notify(ctx context.Context, unit *drift.ManagedUnit, rep *drift.Report, evidenceURI string) (*notifier.Summary, error) {
	p.mu.Lock()
	if fi, err := os.Stat(p.path); err == nil && (!fi.ModTime().Equal(p.mtime) || fi.Size() != p.size) {
		if err := p.load(ctx, fi); err != nil {
			// Remember the broken version so it is reported once, not on every evaluation.
			p.mtime, p.size = fi.ModTime(), fi.Size()
			if p.onError != nil {
				p.onError(fmt.Errorf("routing policy %s changed but was not loaded; the previous one stays in effect: %w", p.path, err))
			}
		}
	}
	n := p.current
	p.mu.Unlock()
	return n.Notify(ctx, unit, rep, evidenceURI)
}

// notify tells the routing policy's receivers about an evaluation of app whose result is res.
// It never fails the evaluation: delivery failures are owed to the next evaluation by the
// notifier, logged (redacted) and reported as a Warning Event on the Application; a bug in it is
// a logged error, not a crash.
func (c *Controller) notify(ctx context.Context, app *unstructured.Unstructured, key string, unit *drift.ManagedUnit, res *pipeline.Result) {
	if c.cfg.Notifier == nil || res == nil || res.Report == nil || unit == nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			c.cfg.Log.Error("notifications panicked", "app", key, "panic", fmt.Sprint(r))
		}
	}()
	sum, err := c.cfg.Notifier.Notify(ctx, unit, res.Report, res.EvidenceLocation)
	var lines []string
	if sum != nil {
		lines = sum.Warnings()
		c.cfg.Log.Debug("notifications", "app", key, "unit", unit.Metadata.Name,
			"sent", sum.Count(notify.OutcomeSent), "failed", sum.Count(notify.OutcomeFailed), "record", sum.Record)
	}
	if err != nil {
		lines = append(lines, "notifications: "+err.Error())
	}
	for _, line := range lines {
		// Receivers' errors are scrubbed of URLs by the notifier; the Argo CD token is not its to know.
		msg := notify.ScrubError(c.redact(errors.New(line)).Error())
		c.cfg.Log.Warn("notification not delivered", "app", key, "detail", msg)
		c.recorder.Event(app, corev1.EventTypeWarning, ReasonNotificationFailed, msg)
	}
}
