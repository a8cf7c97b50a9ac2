package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/driftplane/terraform-provider-drift/argocd-plugin/reporter"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/kubetest"
)

const plantedToken = "dp-planted-argocd-token-5be1c0de9a"

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func tokenFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(p, []byte(plantedToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// The token never travels in clear, and bad trust configuration stops the reporter before it
// sends anything; none of these errors quotes the token.
func TestReportRefusesUnsafeTransport(t *testing.T) {
	tok := tokenFile(t)
	notPEM := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--argocd-server=http://argocd-server"}, "refusing to send the Argo CD token over plain http"},
		{[]string{"--argocd-server=https://user:pw@argocd-server"}, "must not carry credentials"},
		{[]string{"--argocd-server=argocd-server"}, "want https://host"},
		{[]string{"--argocd-server=https://argocd-server", "--argocd-ca-file=" + notPEM}, "holds no PEM certificate"},
	} {
		var stderr bytes.Buffer
		err := runReport(context.Background(), append([]string{"--argocd-token-file=" + tok}, c.args...), &stderr)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
		if strings.Contains(fmt.Sprint(err)+stderr.String(), plantedToken) {
			t.Errorf("%v: the token was printed", c.args)
		}
	}
}

// selfSigned is a certificate like the one Argo CD generates into argocd-secret: self-signed,
// not a CA, for the names argocd-server answers to.
func selfSigned(t *testing.T) (tls.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{Organization: []string{"Argo CD"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost", "argocd-server"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	pair, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		t.Fatal(err)
	}
	return pair, certPEM
}

// TestReportOnCluster runs `argocd-driftplane report` as shipped against a real kube-apiserver
// and an argocd-server stand-in with a self-signed certificate that echoes the request (token
// included) in its errors: with the certificate trusted through --argocd-ca-file the reporter
// reaches it; without, TLS fails and drift is Unknown; the planted token shows up in no log line,
// Event, DriftReport status or metric; the digest key Secret is created once and reused.
func TestReportOnCluster(t *testing.T) {
	c := kubetest.Start(t)
	cfg := c.RESTConfig("admin", "system:masters")
	dyn := dynamic.NewForConfigOrDie(cfg)
	kc := kubernetes.NewForConfigOrDie(cfg)
	ctx := context.Background()
	for _, ns := range []string{"argocd", "web"} {
		c.KubectlAs("admin", []string{"system:masters"}, "create", "namespace", ns)
	}
	kubetest.InstallArgoCDCRDs(t, dyn, "../../manifests/base/crd-driftreport.yaml")
	create := func(gvr schema.GroupVersionResource, ns, doc string) {
		t.Helper()
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatal(err)
		}
		if _, err := dyn.Resource(gvr).Namespace(ns).Create(ctx, u, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	create(reporter.DriftReportsGVR, "web", `apiVersion: drift.driftplane.io/v1alpha1
kind: DriftReport
metadata:
  name: web
  annotations: {argocd.argoproj.io/tracking-id: "web:drift.driftplane.io/DriftReport:web/web"}
spec:
  application: {name: web, namespace: web}
  freshnessSeconds: 900
  unit: {apiVersion: drift.driftplane.io/v1alpha1, kind: DriftManagedUnit, metadata: {name: web}, spec: {kind: kubernetes, owner: team-web, environment: prod, riskTier: high, gate: high}}
`)
	create(reporter.ApplicationsGVR, "argocd", `apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: web}
spec:
  project: default
  source: {repoURL: "https://git.example.com/web.git", path: web}
  destination: {server: "https://kubernetes.default.svc", namespace: web}
status:
  health: {status: Healthy}
  sync: {status: Synced, revision: 0123abc}
  resources:
  - {group: drift.driftplane.io, version: v1alpha1, kind: DriftReport, namespace: web, name: web}
`)

	var reached atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid session: " + r.Header.Get("Authorization")})
	}))
	pair, certPEM := selfSigned(t)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	defer srv.Close()
	dir := t.TempDir()
	caFile := filepath.Join(dir, "argocd-secret-tls.crt")
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	// The reporter runs as its service account with exactly the shipped RBAC, so the test also
	// proves those grants are enough.
	applyRBAC(t, dyn)
	kubeconfig := c.Kubeconfig("system:serviceaccount:argocd:argocd-driftplane-reporter", "system:serviceaccounts", "system:serviceaccounts:argocd")
	metricsPort := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = l.Close() }()
		return l.Addr().String()
	}

	// run starts the reporter, waits until the report says drift is unknown with want in the
	// reason, scrapes /metrics and stops it.
	run := func(want string, extra ...string) (stderr, metrics string, st map[string]any) {
		t.Helper()
		addr := metricsPort()
		args := append([]string{"--argocd-server=" + srv.URL, "--argocd-token-file=" + tokenFile(t), "--kubeconfig=" + kubeconfig,
			"--namespace=argocd", "--lease-namespace=argocd", "--metrics-addr=" + addr, "--resync=2s"}, extra...)
		var buf lockedBuffer
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- runReport(rctx, args, &buf) }()
		defer func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("report: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("the reporter did not stop")
			}
		}()
		deadline := time.Now().Add(60 * time.Second)
		for time.Now().Before(deadline) {
			dr, err := dyn.Resource(reporter.DriftReportsGVR).Namespace("web").Get(ctx, "web", metav1.GetOptions{})
			if err == nil {
				conds, _, _ := unstructured.NestedSlice(dr.Object, "status", "conditions")
				for _, cd := range conds {
					m := cd.(map[string]any)
					if m["type"] == "Evaluated" && m["status"] == "False" && strings.Contains(fmt.Sprint(m["message"]), want) {
						st = dr.Object["status"].(map[string]any)
					}
				}
			}
			if st != nil {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if st == nil {
			t.Fatalf("the report never said %q; reporter log:\n%s", want, buf.String())
		}
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		return buf.String(), string(b), st
	}

	// Trusted through --argocd-ca-file (a missing optional file beside it is skipped): the
	// reporter reaches argocd-server, whose echo of the token is redacted everywhere.
	logs, metrics, st := run("invalid session: Bearer [redacted]",
		"--argocd-ca-file="+filepath.Join(dir, "absent-ca.crt"), "--argocd-ca-file="+caFile)
	if reached.Load() == 0 {
		t.Fatal("argocd-server was never reached")
	}
	events, err := kc.CoreV1().Events("argocd").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var evs []string
	for _, e := range events.Items {
		evs = append(evs, e.Reason+": "+e.Message)
	}
	status, _ := json.Marshal(st)
	published := logs + metrics + string(status) + strings.Join(evs, "\n")
	if strings.Contains(published, plantedToken) || strings.Contains(published, plantedToken[len(plantedToken)-10:]) {
		t.Errorf("the token was published:\nlogs: %s\nevents: %v\nstatus: %s", logs, evs, status)
	}
	if !strings.Contains(strings.Join(evs, "\n"), "DriftUnknown") {
		t.Errorf("no DriftUnknown Event: %v", evs)
	}
	if !strings.Contains(logs, `"created":true`) {
		t.Errorf("the digest key Secret was not created: %s", logs)
	}
	secret, err := kc.CoreV1().Secrets("argocd").Get(ctx, reporter.DefaultDigestKeySecret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	key := secret.Data[reporter.DigestKeySecretKey]
	if len(key) < 32 || strings.Contains(published, string(key)) {
		t.Errorf("digest key: %d bytes, published: %v", len(key), strings.Contains(published, string(key)))
	}

	// Not trusted: TLS fails, nothing is sent, and drift is unknown (not the last result).
	before := reached.Load()
	logs, _, _ = run("certificate", "--leader-elect=false")
	if reached.Load() != before {
		t.Error("a request reached an unverified argocd-server")
	}
	if !strings.Contains(logs, `"created":false`) {
		t.Errorf("the digest key Secret was not reused: %s", logs)
	}
	again, _ := kc.CoreV1().Secrets("argocd").Get(ctx, reporter.DefaultDigestKeySecret, metav1.GetOptions{})
	if again == nil || !bytes.Equal(again.Data[reporter.DigestKeySecretKey], key) {
		t.Error("the digest key changed between runs")
	}
}

// applyRBAC applies the shipped rbac.yaml, namespaced objects in argocd as kustomize puts them.
func applyRBAC(t *testing.T, dyn dynamic.Interface) {
	t.Helper()
	objs, err := kube.LoadManifests("../../manifests/base/rbac.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range objs {
		o := m.Object
		gvk := o.GroupVersionKind()
		gvr := schema.GroupVersionResource{Group: gvk.Group, Version: gvk.Version, Resource: kube.Resource(gvk.Group, gvk.Kind)}
		var ri dynamic.ResourceInterface = dyn.Resource(gvr)
		switch gvk.Kind {
		case "ServiceAccount", "Role", "RoleBinding":
			ri = dyn.Resource(gvr).Namespace("argocd")
		}
		if _, err := ri.Apply(context.Background(), o.GetName(), o, metav1.ApplyOptions{FieldManager: "test", Force: true}); err != nil {
			t.Fatalf("%s %s: %v", gvk.Kind, o.GetName(), err)
		}
	}
}
