// Package kubetest starts a real etcd and kube-apiserver on 127.0.0.1 for integration tests:
// client-certificate authentication (CN = user, O = groups), RBAC authorization and an audit log,
// using the binaries scripts/tools.sh builds from the Go module proxy into its per-user cache.
package kubetest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/procs"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

// Cluster is a running etcd + kube-apiserver pair.
type Cluster struct {
	t        testing.TB
	dir      string
	procs    *procs.Group
	serial   atomic.Int64 // of the certificates the CA issues
	URL      string
	AuditLog string
	Kubectl  string
	caCert   *x509.Certificate
	caKey    *ecdsa.PrivateKey
	caPEM    []byte
}

// Binaries are the programs a Cluster runs.
type Binaries struct{ Etcd, APIServer, Kubectl string }

// FindBinaries finds the programs scripts/tools.sh builds (see testtools for skip and fail).
func FindBinaries(t testing.TB) Binaries {
	t.Helper()
	return Binaries{Etcd: testtools.Require(t, "ETCD"), APIServer: testtools.Require(t, "KUBE_APISERVER"), Kubectl: testtools.Require(t, "KUBECTL")}
}

const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
`

// Start runs etcd and kube-apiserver until the test ends.
func Start(t testing.TB) *Cluster {
	t.Helper()
	bins := FindBinaries(t)
	dir, err := os.MkdirTemp("", "kubetest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	c := &Cluster{t: t, dir: dir, procs: procs.New(t, dir), AuditLog: filepath.Join(dir, "audit.log"), Kubectl: bins.Kubectl}
	c.makeCA()
	serverCert, serverKey := c.issue("kube-apiserver", nil, []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")}, x509.ExtKeyUsageServerAuth)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caFile := write("ca.crt", c.caPEM)
	certFile := write("apiserver.crt", serverCert)
	keyFile := write("apiserver.key", serverKey)
	saKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	saDER, _ := x509.MarshalECPrivateKey(saKey)
	saKeyFile := write("sa.key", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: saDER}))
	policy := write("audit-policy.yaml", []byte(auditPolicy))

	etcdPort, peerPort, apiPort := procs.FreePort(t), procs.FreePort(t), procs.FreePort(t)
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", etcdPort)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	c.procs.Start("etcd", bins.Etcd, nil,
		"--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "default="+peerURL, "--log-level", "warn")
	c.procs.Start("kube-apiserver", bins.APIServer, nil,
		"--etcd-servers", etcdURL,
		"--bind-address", "127.0.0.1", "--advertise-address", "127.0.0.1",
		"--secure-port", fmt.Sprint(apiPort),
		"--cert-dir", filepath.Join(dir, "certs"),
		"--tls-cert-file", certFile, "--tls-private-key-file", keyFile,
		"--client-ca-file", caFile,
		"--service-account-key-file", saKeyFile, "--service-account-signing-key-file", saKeyFile,
		"--service-account-issuer", "https://kubernetes.default.svc",
		"--service-cluster-ip-range", "10.96.0.0/24",
		"--authorization-mode", "RBAC",
		"--audit-policy-file", policy, "--audit-log-path", c.AuditLog, "--audit-log-format", "json",
		"--audit-log-mode", "blocking",
		"--disable-admission-plugins", "ServiceAccount")
	c.URL = fmt.Sprintf("https://127.0.0.1:%d", apiPort)
	c.waitReady()
	return c
}

func (c *Cluster) waitReady() {
	cfg := c.RESTConfig("admin", "system:masters")
	client, err := rest.HTTPClientFor(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := client.Get(c.URL + "/readyz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	c.t.Fatalf("kube-apiserver not ready after 90s; log tail:\n%s", c.procs.Tail("kube-apiserver", 40))
}

// RESTConfig is a client configuration authenticating as user in groups.
func (c *Cluster) RESTConfig(user string, groups ...string) *rest.Config {
	cert, key := c.issue(user, groups, nil, nil, x509.ExtKeyUsageClientAuth)
	return &rest.Config{
		Host:            c.URL,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.caPEM, CertData: cert, KeyData: key},
		QPS:             100,
		Burst:           200,
	}
}

// Kubeconfig writes a kubeconfig file for user in groups and returns its path.
func (c *Cluster) Kubeconfig(user string, groups ...string) string {
	cert, key := c.issue(user, groups, nil, nil, x509.ExtKeyUsageClientAuth)
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: c.URL, CertificateAuthorityData: c.caPEM}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{ClientCertificateData: cert, ClientKeyData: key}
	cfg.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: user}
	cfg.CurrentContext = "test"
	p := filepath.Join(c.dir, "kubeconfig-"+strings.NewReplacer(":", "_", "/", "_").Replace(user))
	if err := clientcmd.WriteToFile(*cfg, p); err != nil {
		c.t.Fatal(err)
	}
	return p
}

// KubectlAs runs the real kubectl as user in groups and returns its combined output.
func (c *Cluster) KubectlAs(user string, groups []string, args ...string) string {
	c.t.Helper()
	kc := c.Kubeconfig(user, groups...)
	cmd := exec.CommandContext(context.Background(), c.Kubectl, append([]string{"--kubeconfig", kc}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		c.t.Fatalf("kubectl %v as %s: %v\n%s", args, user, err, out.String())
	}
	return out.String()
}

// AuditEvents returns the number of complete events in the audit log, so tests can wait for the
// log to hold a request they just made.
func (c *Cluster) AuditEvents() int {
	f, err := os.Open(c.AuditLog)
	if err != nil {
		return 0
	}
	defer func() { _ = f.Close() }()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for sc.Scan() {
		n++
	}
	return n
}

func (c *Cluster) makeCA() {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		c.t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kubetest-ca"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		c.t.Fatal(err)
	}
	c.caCert, _ = x509.ParseCertificate(der)
	c.caKey = key
	c.caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func (c *Cluster) issue(cn string, orgs, dns []string, ips []net.IP, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		c.t.Fatal(err)
	}

	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(c.serial.Add(1) + 1),
		Subject:      pkix.Name{CommonName: cn, Organization: orgs},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		DNSNames:     dns,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.caCert, &key.PublicKey, c.caKey)
	if err != nil {
		c.t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
}
