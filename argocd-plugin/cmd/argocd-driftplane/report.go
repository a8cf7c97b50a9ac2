package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/driftplane/terraform-provider-drift/argocd-plugin/reporter"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/drift/evidence"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
)

// caFiles is a repeatable flag.
type caFiles []string

func (c *caFiles) String() string     { return strings.Join(*c, ",") }
func (c *caFiles) Set(v string) error { *c = append(*c, v); return nil }

func report(args []string, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return runReport(ctx, args, stderr)
}

// runReport runs the reporter until ctx ends.
func runReport(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("argocd-server", "https://argocd-server.argocd.svc", "Argo CD API URL (https://; plain http only with --argocd-insecure)")
	tokenFile := fs.String("argocd-token-file", "/var/run/secrets/driftplane/argocd-token", "file holding an Argo CD API token (mounted from a Secret); $ARGOCD_AUTH_TOKEN wins when set")
	var cas caFiles
	fs.Var(&cas, "argocd-ca-file", "PEM file of argocd-server's certificate or CA, trusted on top of the system roots (repeatable; a file that does not exist is skipped, for optional Secret keys)")
	insecure := fs.Bool("argocd-insecure", false, "LABS ONLY: skip TLS verification of the Argo CD API (and allow plain http), so anyone on the path can read the token and forge the answers")
	namespace := fs.String("namespace", "argocd", "namespace of the Applications to watch (empty: all)")
	argoNamespace := fs.String("argocd-namespace", "argocd", "namespace Argo CD's application controller runs in (applications elsewhere are tracked as namespace_name)")
	instanceLabel := fs.String("instance-label-key", reporter.DefaultInstanceLabelKey, "Argo CD's application.instanceLabelKey, for label tracking")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig (empty: in-cluster)")
	resync := fs.Duration("resync", 3*time.Minute, "re-evaluate every application this often")
	workers := fs.Int("workers", 2, "applications evaluated in parallel")
	auditLog := fs.String("audit-log", "", "kube-apiserver audit log naming who changed what (optional)")
	metricsAddr := fs.String("metrics-addr", ":8080", "address of /metrics and /healthz")
	evidenceAt := fs.String("evidence", "", "folder or s3://bucket/prefix for evidence records of every evaluation (content-addressed, never overwritten)")
	s3Endpoint := fs.String("s3-endpoint", "", "S3-compatible endpoint for s3:// evidence")
	s3PathStyle := fs.Bool("s3-path-style", false, "path-style S3 addressing")
	autoHeal := fs.Bool("auto-heal", false, "sync back to Git the drift an AutoHealPolicy allows (bounded; never identity, network, data or secrets)")
	leaderElect := fs.Bool("leader-elect", true, "run only while holding the Lease (for more than one replica)")
	leaseNamespace := fs.String("lease-namespace", "argocd", "the reporter's own namespace: its leader-election Lease and its digest key Secret")
	digestSecret := fs.String("digest-key-secret", reporter.DefaultDigestKeySecret, "Secret in the reporter's own namespace (--lease-namespace) holding the installation's digest key; created with a random key when absent")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))

	token := os.Getenv("ARGOCD_AUTH_TOKEN")
	if token == "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			return fmt.Errorf("no Argo CD token: set ARGOCD_AUTH_TOKEN or mount it at %s: %w", *tokenFile, err)
		}
		token = strings.TrimSpace(string(b))
	}
	if token == "" {
		return fmt.Errorf("the Argo CD token is empty")
	}
	u, err := url.Parse(*server)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("--argocd-server %q: want https://host[:port]", *server)
	}
	if u.User != nil {
		return fmt.Errorf("--argocd-server must not carry credentials; the token comes from --argocd-token-file or $ARGOCD_AUTH_TOKEN")
	}
	if u.Scheme != "https" && !*insecure {
		return fmt.Errorf("refusing to send the Argo CD token over plain http to %s: use https:// (--argocd-insecure allows it, in a lab only)", u.Host)
	}
	argo, err := reporter.NewArgoClientTLS(*server, token, reporter.TLSOptions{CAFiles: cas, Insecure: *insecure})
	if err != nil {
		return err
	}
	if *insecure {
		log.Warn("argocd-server TLS is NOT verified (--argocd-insecure): anyone on the path can read the token and forge the answers; for labs only")
	}

	cfg, _, err := kube.ClientConfig(*kubeconfig, "")
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	digester, created, err := reporter.DigestKeyFromSecret(ctx, kc, *leaseNamespace, *digestSecret)
	if err != nil {
		return err
	}
	log.Info("digest key", "secret", *leaseNamespace+"/"+*digestSecret, "created", created)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ctrl := reporter.NewController(reporter.Config{
		Dynamic: dyn, Kube: kc, Argo: argo, AutoHeal: *autoHeal, Healer: argo, Version: version, Digester: digester,
		Namespace: *namespace, ArgoNamespace: *argoNamespace, InstanceLabelKey: *instanceLabel,
		Resync: *resync, AuditLogPath: *auditLog, Metrics: reporter.NewMetrics(reg), Log: log,
	})

	switch {
	case blob.IsS3(*evidenceAt):
		bucket, prefix, err := blob.ParseS3(*evidenceAt)
		if err != nil {
			return err
		}
		c, err := blob.Client(ctx, blob.S3Options{Endpoint: *s3Endpoint, PathStyle: *s3PathStyle})
		if err != nil {
			return err
		}
		ctrl.SetEvidence(blob.S3Store{Client: c, Bucket: bucket, Prefix: prefix})
	case *evidenceAt != "":
		ctrl.SetEvidence(evidence.Dir(*evidenceAt))
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	srv := &http.Server{Addr: *metricsAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics server", "err", err)
			stop()
		}
	}()
	defer func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	tlsMode := "verified"
	if *insecure {
		tlsMode = "INSECURE"
	}
	log.Info("reporter starting", "argocd", u.Redacted(), "tls", tlsMode, "ca_files", cas.String(), "namespace", *namespace, "resync", resync.String())
	if *leaderElect {
		host, _ := os.Hostname()
		return reporter.RunWithLeaderElection(ctx, ctrl, kc, *leaseNamespace, host+"_"+uuid.NewString(), *workers)
	}
	return ctrl.Run(ctx, *workers)
}
