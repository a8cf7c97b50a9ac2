package reporter

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/digestkey"
)

// DigestKeySecretKey is the data key of the digest key Secret.
const DigestKeySecretKey = "key"

// DefaultDigestKeySecret is the Secret, in the reporter's own namespace, holding the
// installation's digest key.
const DefaultDigestKeySecret = "driftplane-digest-key"

// DigestKeyFromSecret returns the Digester keyed by the Secret namespace/name (data key "key"),
// creating the Secret with a fresh random key (32 random bytes) when it does not exist yet; two
// replicas starting together agree on whichever was created first. The key never leaves the
// Secret and the Digester: it is not logged or returned in errors. created says whether this
// call made the Secret.
func DigestKeyFromSecret(ctx context.Context, kc kubernetes.Interface, namespace, name string) (d *drift.Digester, created bool, err error) {
	secrets := kc.CoreV1().Secrets(namespace)
	s, err := secrets.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		s, err = secrets.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{"app.kubernetes.io/part-of": "driftplane"},
				Annotations: map[string]string{"driftplane.io/purpose": "key of the keyed digests (HMAC-SHA-256) that stand in for secret values in DriftReports, Events and evidence"}},
			Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{DigestKeySecretKey: digestkey.New()},
		}, metav1.CreateOptions{FieldManager: "argocd-driftplane"})
		if err == nil {
			created = true
		} else if apierrors.IsAlreadyExists(err) {
			s, err = secrets.Get(ctx, name, metav1.GetOptions{})
		}
	}
	if err != nil {
		return nil, false, fmt.Errorf("digest key Secret %s/%s: %w", namespace, name, err)
	}
	key, ok := s.Data[DigestKeySecretKey]
	if !ok {
		return nil, false, fmt.Errorf("digest key Secret %s/%s has no %q key", namespace, name, DigestKeySecretKey)
	}
	d, err = drift.NewDigester(key)
	if err != nil {
		return nil, false, fmt.Errorf("digest key Secret %s/%s: %w", namespace, name, err)
	}
	return d, created, nil
}
