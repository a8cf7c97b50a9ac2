package reporter

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/evidence"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
)

func TestDigestKeyFromSecret(t *testing.T) {
	ctx := context.Background()
	kc := kubefake.NewClientset()
	d1, created, err := DigestKeyFromSecret(ctx, kc, "argocd", DefaultDigestKeySecret)
	if err != nil || !created || d1 == nil {
		t.Fatalf("first call: %v %v", created, err)
	}
	s, err := kc.CoreV1().Secrets("argocd").Get(ctx, DefaultDigestKeySecret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if key := s.Data[DigestKeySecretKey]; len(key) != 64 { // 32 random bytes, hex
		t.Errorf("key of %d bytes", len(key))
	}
	d2, created, err := DigestKeyFromSecret(ctx, kc, "argocd", DefaultDigestKeySecret)
	if err != nil || created || d2.Digest("x") != d1.Digest("x") {
		t.Errorf("second call must reuse the key: created=%v err=%v", created, err)
	}

	// Another replica creates it between our Get and Create: use theirs.
	race := kubefake.NewClientset()
	theirs := []byte("their-key-0123456789abcdef0123456789")
	race.PrependReactor("create", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
		_ = race.Tracker().Add(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: DefaultDigestKeySecret, Namespace: "argocd"}, Data: map[string][]byte{DigestKeySecretKey: theirs}})
		return true, nil, apierrors.NewAlreadyExists(schema.GroupResource{Resource: "secrets"}, DefaultDigestKeySecret)
	})
	d3, created, err := DigestKeyFromSecret(ctx, race, "argocd", DefaultDigestKeySecret)
	want, _ := drift.NewDigester(theirs)
	if err != nil || created || d3.Digest("x") != want.Digest("x") {
		t.Errorf("racing replicas must agree on one key: created=%v err=%v", created, err)
	}

	for name, data := range map[string]map[string][]byte{"no key": {"other": []byte("x")}, "short key": {DigestKeySecretKey: []byte("short")}} {
		bad := kubefake.NewClientset(&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "k", Namespace: "argocd"}, Data: data})
		if _, _, err := DigestKeyFromSecret(ctx, bad, "argocd", "k"); err == nil || strings.Contains(err.Error(), "short") { // never the key itself
			t.Errorf("%s: %v", name, err)
		}
	}
}

// The reporter's digests are keyed by the installation: the same key gives the same evidence
// across processes, another key another.
func TestEvaluateUsesInstallationKey(t *testing.T) {
	recorded := loadAnswer(t)
	answer := append(append([]ResourceDiff(nil), recorded...), ResourceDiff{Kind: "Secret", Namespace: "web", Name: "db",
		TargetState: `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"web"},"data":{"password":"YQ=="}}`,
		LiveState:   `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"web"},"data":{"password":"Yg=="}}`})
	spec := liveReport(t, recorded).Object["spec"].(map[string]any)
	policy, err := PolicyFromSpec(spec)
	if err != nil {
		t.Fatal(err)
	}
	digest := func(key string) string {
		d, err := drift.NewDigester([]byte(key))
		if err != nil {
			t.Fatal(err)
		}
		_, obs, err := Evaluate(policy, answer, nil, time.Now(), kube.WithDigester(d))
		if err != nil {
			t.Fatal(err)
		}
		return evidence.ObservationsDigest(obs)
	}
	a, b, c := digest("installation-key-A-0123456789"), digest("installation-key-A-0123456789"), digest("installation-key-B-0123456789")
	if a != b || a == c {
		t.Errorf("digests: same key %v, other key differs %v", a == b, a != c)
	}
}
