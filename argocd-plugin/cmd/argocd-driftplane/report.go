package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/driftplane/terraform-provider-drift/argocd-plugin/reporter"
	"github.com/driftplane/terraform-provider-drift/internal/cli"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
	"github.com/driftplane/terraform-provider-drift/internal/notify/notifier"
	"github.com/driftplane/terraform-provider-drift/internal/reconcile"
	"github.com/driftplane/terraform-provider-drift/internal/reconcile/forges"
)

// reportOptions are `report`'s flags.
type reportOptions struct {
	server, tokenFile, namespace, argoNamespace, instanceLabel, kubeconfig string
	auditLog, metricsAddr, evidenceAt, s3Endpoint, leaseNamespace          string
	digestSecret, routingPolicy                                            string
	cas                                                                    []string
	insecure, s3PathStyle, autoHeal, leaderElect                           bool
	resync, notifyTimeout                                                  time.Duration
	workers                                                                int
	shards, replicas, argoBurst                                            int
	argoQPS, kubeQPS                                                       float64
	kubeBurst                                                              int
	leaseDuration, renewDeadline, retryPeriod                              time.Duration
	shardLeasePrefix                                                       string
	// Pull requests (issue 13): the forge, its URL, the token's file.
	forgeKind, forgeURL, forgeRepoOrigin, forgeTokenFile, forgeGroup string
	forgeAuthors                                                     []string
	forgeInterval                                                    time.Duration
}

func newReportCommand() *cobra.Command {
	o := &reportOptions{}
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Evaluate applications' drift into their DriftReports (the reporter)",
		Long: `Report is the reporter controller: it watches the applications that carry a DriftReport,
reads their target and live state from the Argo CD API, evaluates the drift against their policy
and writes it to the DriftReport's status, every --resync and on every change. With more than one
replica, only the holder of the Lease writes (--leader-elect).

To scale out, run the same --shards (N > 1) on every replica: the applications are split into N
shards by a hash of namespace/name (Argo CD's legacy sharding), each shard is a Lease of its own
(<--shard-lease-prefix><i>), and a replica evaluates only the applications of the shards whose
Leases it holds. A replica takes its fair share (N / --replicas) of free shards at once, and more
only when a shard's Lease has not changed for --lease-duration: a dead replica's shards go to the
others as soon as its Leases expire, a released one to a replica with less. It stops evaluating
a shard --renew-deadline after its last renewal, before anyone else may take it. A shard nobody
holds is logged and exported (driftplane_reporter_shard_unheld); replicas disagreeing on N
evaluate nothing until they agree. Leases are renewed through a client of their own, so a busy
evaluation never delays a renewal.

Work is bounded: --workers evaluations at a time, --argocd-qps requests per second to
argocd-server (bursts of --argocd-burst), --kube-qps to the Kubernetes API, and the audit log read
once per --resync for all applications.

The Argo CD token comes from $ARGOCD_AUTH_TOKEN, else the file --argocd-token-file. TLS to
argocd-server is verified against the system roots and every --argocd-ca-file; --argocd-insecure
is for labs only. Metrics and /healthz are served on --metrics-addr.

With --routing-policy (a DriftRoutingPolicy file, mounted from a ConfigMap) and --evidence, every
evaluation's drift is sent to the receivers the policy routes it to, after the report's status is
written, within --notify-timeout; what a receiver did not take is retried by the next evaluation.
Receiver secrets come from the reporter's environment ({env: NAME}) or from Secrets in its own
namespace, --lease-namespace ({name, key}). The file is re-read when it changes.

With --forge, --forge-url and --evidence, units whose DriftManagedUnit sets pullRequests: true get
their drift accepted into Git: findings whose recommended action is GIT_UPDATE_PR (an emergency
change under a live exception, stale desired state) get a pull request to the application's
repository, edited at the drifted fields, exactly as "driftplane reconcile" opens them: one per
fingerprint, updated and never duplicated, closed with the reason when the drift ends another
way, and verified once the merge is synced and the drift is gone. The DriftReport's
status.reconciliations shows them. Only repositories on --forge-url's host (or
--forge-repo-origin's) get pull requests: the token goes nowhere an application's spec points.
The token comes from $DRIFTPLANE_FORGE_TOKEN or --forge-token-file and is never logged.

It runs until SIGINT or SIGTERM; it exits 1 when it cannot start or fails.`,
		Example: `  # In the cluster, as the shipped Deployment runs it
  argocd-driftplane report --argocd-server=https://argocd-server \
    --argocd-ca-file=/etc/driftplane/argocd-ca/argocd-server-tls.crt --namespace=argocd

  # From a workstation, against a port-forwarded Argo CD, without leader election
  ARGOCD_AUTH_TOKEN=... argocd-driftplane report --kubeconfig ~/.kube/config \
    --argocd-server=https://localhost:8443 --argocd-ca-file=argocd.crt --leader-elect=false

  # Flags from the environment
  DRIFTPLANE_RESYNC=10m DRIFTPLANE_WORKERS=4 argocd-driftplane report

  # One of three replicas splitting the applications into three shards
  DRIFTPLANE_SHARDS=3 DRIFTPLANE_REPLICAS=3 argocd-driftplane report --argocd-qps=20`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			if err := o.run(ctx, cmd.ErrOrStderr()); err != nil {
				return cli.Fail(1, err)
			}
			return nil
		},
	}
	// A bad flag exits 1, as it did before report was a cobra command.
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cli.Fail(1, err) })
	fs := cmd.Flags()
	fs.StringVar(&o.server, "argocd-server", "https://argocd-server.argocd.svc", "Argo CD API URL (https://; plain http only with --argocd-insecure)")
	fs.StringVar(&o.tokenFile, "argocd-token-file", "/var/run/secrets/driftplane/argocd-token", "file holding an Argo CD API token (mounted from a Secret); $ARGOCD_AUTH_TOKEN wins when set")
	fs.StringArrayVar(&o.cas, "argocd-ca-file", nil, "PEM file of argocd-server's certificate or CA, trusted on top of the system roots (repeatable; a file that does not exist is skipped, for optional Secret keys)")
	fs.BoolVar(&o.insecure, "argocd-insecure", false, "LABS ONLY: skip TLS verification of the Argo CD API (and allow plain http), so anyone on the path can read the token and forge the answers")
	fs.StringVar(&o.namespace, "namespace", "argocd", "namespace of the Applications to watch (empty: all)")
	fs.StringVar(&o.argoNamespace, "argocd-namespace", "argocd", "namespace Argo CD's application controller runs in (applications elsewhere are tracked as namespace_name)")
	fs.StringVar(&o.instanceLabel, "instance-label-key", reporter.DefaultInstanceLabelKey, "Argo CD's application.instanceLabelKey, for label tracking")
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig (empty: in-cluster)")
	fs.DurationVar(&o.resync, "resync", 3*time.Minute, "re-evaluate every application this often")
	fs.IntVar(&o.workers, "workers", 2, "applications evaluated in parallel: the bound on concurrent evaluations")
	fs.IntVar(&o.shards, "shards", 1, "split the applications into this many shards, one Lease each (1: one active replica, the --leader-elect Lease; the same on every replica)")
	fs.IntVar(&o.replicas, "replicas", 0, "replicas expected to share the shards, for each one's fair share (0: as many as --shards)")
	fs.StringVar(&o.shardLeasePrefix, "shard-lease-prefix", reporter.DefaultShardLeasePrefix, "name of the shards' Leases, followed by the shard number")
	fs.DurationVar(&o.leaseDuration, "lease-duration", reporter.DefaultLeaseTiming.LeaseDuration, "how long a dead replica's Lease blocks the others (whole seconds)")
	fs.DurationVar(&o.renewDeadline, "renew-deadline", reporter.DefaultLeaseTiming.RenewDeadline, "a replica stops evaluating a shard this long after its last Lease renewal (shorter than --lease-duration)")
	fs.DurationVar(&o.retryPeriod, "retry-period", reporter.DefaultLeaseTiming.RetryPeriod, "how often Leases are renewed, tried and checked")
	fs.Float64Var(&o.argoQPS, "argocd-qps", 20, "requests per second to argocd-server, across this replica's workers (0: unlimited)")
	fs.IntVar(&o.argoBurst, "argocd-burst", 40, "burst of requests to argocd-server above --argocd-qps")
	fs.Float64Var(&o.kubeQPS, "kube-qps", 20, "requests per second to the Kubernetes API (Leases aside: they have a client of their own)")
	fs.IntVar(&o.kubeBurst, "kube-burst", 40, "burst of requests to the Kubernetes API above --kube-qps")
	fs.StringVar(&o.auditLog, "audit-log", "", "kube-apiserver audit log naming who changed what (optional)")
	fs.StringVar(&o.metricsAddr, "metrics-addr", ":8080", "address of /metrics and /healthz")
	fs.StringVar(&o.evidenceAt, "evidence", "", "folder or s3://bucket/prefix for evidence records of every evaluation (content-addressed, never overwritten)")
	fs.StringVar(&o.s3Endpoint, "s3-endpoint", "", "S3-compatible endpoint for s3:// evidence")
	fs.BoolVar(&o.s3PathStyle, "s3-path-style", false, "path-style S3 addressing")
	fs.BoolVar(&o.autoHeal, "auto-heal", false, "sync back to Git the drift an AutoHealPolicy allows (bounded; never identity, network, data or secrets)")
	fs.BoolVar(&o.leaderElect, "leader-elect", true, "run only while holding the Lease (for more than one replica)")
	fs.StringVar(&o.leaseNamespace, "lease-namespace", "argocd", "the reporter's own namespace: its leader-election Lease and its digest key Secret")
	fs.StringVar(&o.digestSecret, "digest-key-secret", reporter.DefaultDigestKeySecret, "Secret in the reporter's own namespace (--lease-namespace) holding the installation's digest key; created with a random key when absent")
	fs.StringVar(&o.routingPolicy, "routing-policy", "", "DriftRoutingPolicy file (a mounted ConfigMap): tell each drift's receivers (needs --evidence; re-read when it changes)")
	fs.DurationVar(&o.notifyTimeout, "notify-timeout", notifier.DefaultDeadline, "bound on one application's notifications; what a receiver did not take in time is retried by the next evaluation")
	fs.StringVar(&o.forgeKind, "forge", "", "open pull requests accepting drift into Git for units with pullRequests: true, on gitea (also Forgejo), github or gitlab (needs --forge-url and --evidence)")
	fs.StringVar(&o.forgeURL, "forge-url", "", "the forge's URL (github: its API URL, e.g. https://api.github.com); only repositories it serves get pull requests")
	fs.StringVar(&o.forgeRepoOrigin, "forge-repo-origin", "", "scheme and host repositories are cloned from, when it differs from --forge-url (github.com: https://github.com)")
	fs.StringVar(&o.forgeTokenFile, "forge-token-file", "/var/run/secrets/driftplane/forge-token", "file holding the forge token (mounted from a Secret); $DRIFTPLANE_FORGE_TOKEN wins when set")
	fs.StringVar(&o.forgeGroup, "forge-group", reconcile.GroupFingerprint, "one pull request per fingerprint, resource or unit")
	fs.StringSliceVar(&o.forgeAuthors, "forge-authors", nil, "logins whose pull requests are trusted as driftplane's (default: the token's user)")
	fs.DurationVar(&o.forgeInterval, "forge-interval", reporter.DefaultReconcileInterval, "least time between two looks at one application's pull requests while its drift is unchanged")
	_ = cmd.MarkFlagFilename("routing-policy", "yaml", "yml", "json")
	_ = cmd.MarkFlagFilename("argocd-token-file")
	_ = cmd.MarkFlagFilename("argocd-ca-file")
	_ = cmd.MarkFlagFilename("kubeconfig")
	_ = cmd.MarkFlagFilename("audit-log")
	return cmd
}

// runReport runs `argocd-driftplane report` with args (flags, and their $DRIFTPLANE_*
// variables) until ctx ends, and returns its error.
func runReport(ctx context.Context, args []string, stderr io.Writer) error {
	_, err := cli.Run(ctx, newRootCommand(), append([]string{"report"}, args...), stderr, stderr)
	return err
}

// run runs the reporter until ctx ends.
func (o *reportOptions) run(ctx context.Context, stderr io.Writer) error {
	log := slog.New(slog.NewJSONHandler(stderr, nil))

	token := os.Getenv("ARGOCD_AUTH_TOKEN")
	if token == "" {
		b, err := os.ReadFile(o.tokenFile)
		if err != nil {
			return fmt.Errorf("no Argo CD token: set ARGOCD_AUTH_TOKEN or mount it at %s: %w", o.tokenFile, err)
		}
		token = strings.TrimSpace(string(b))
	}
	if token == "" {
		return fmt.Errorf("the Argo CD token is empty")
	}
	u, err := url.Parse(o.server)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return fmt.Errorf("--argocd-server %q: want https://host[:port]", o.server)
	}
	if u.User != nil {
		return fmt.Errorf("--argocd-server must not carry credentials; the token comes from --argocd-token-file or $ARGOCD_AUTH_TOKEN")
	}
	if u.Scheme != "https" && !o.insecure {
		return fmt.Errorf("refusing to send the Argo CD token over plain http to %s: use https:// (--argocd-insecure allows it, in a lab only)", u.Host)
	}
	argo, err := reporter.NewArgoClientTLS(o.server, token, reporter.TLSOptions{CAFiles: o.cas, Insecure: o.insecure})
	if err != nil {
		return err
	}
	if o.insecure {
		log.Warn("argocd-server TLS is NOT verified (--argocd-insecure): anyone on the path can read the token and forge the answers; for labs only")
	}

	cfg, _, err := kube.ClientConfig(o.kubeconfig, "")
	if err != nil {
		return err
	}
	// Lease renewals must never wait behind evaluations' reads and writes: a late renewal loses
	// the shard. They get a client (and rate limiter) of their own.
	leaseCfg := rest.CopyConfig(cfg)
	leaseCfg.QPS, leaseCfg.Burst = 20, 40
	leaseKC, err := kubernetes.NewForConfig(leaseCfg)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = float32(o.kubeQPS), o.kubeBurst
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	// Secrets are read as metadata only: the reporter never fetches a Secret's value.
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		return err
	}
	digester, created, err := reporter.DigestKeyFromSecret(ctx, kc, o.leaseNamespace, o.digestSecret)
	if err != nil {
		return err
	}
	log.Info("digest key", "secret", o.leaseNamespace+"/"+o.digestSecret, "created", created)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := reporter.NewMetrics(reg)
	limited := reporter.NewRateLimitedArgo(argo, o.argoQPS, o.argoBurst)
	rcfg := reporter.Config{
		Dynamic: dyn, Kube: kc, Argo: limited, AutoHeal: o.autoHeal, Healer: limited, Version: version, Digester: digester,
		Namespace: o.namespace, ArgoNamespace: o.argoNamespace, InstanceLabelKey: o.instanceLabel,
		Resync: o.resync, AuditLogPath: o.auditLog, Metrics: metrics, Log: log, Metadata: md,
	}
	if o.routingPolicy != "" && o.evidenceAt == "" {
		return errors.New("--routing-policy needs --evidence: the ledger there says what was told and what ended")
	}
	if o.evidenceAt != "" {
		store, err := blob.OpenStore(ctx, o.evidenceAt, blob.S3Options{Endpoint: o.s3Endpoint, PathStyle: o.s3PathStyle})
		if err != nil {
			return err
		}
		// The lifecycle ledger lives beside the evidence (ledger/<unit>/...), and the
		// notification records beside it (notifications/<unit>/...).
		rcfg.Evidence, rcfg.Ledger = store, store
		if o.routingPolicy != "" {
			n, err := newNotifier(ctx, o.routingPolicy, kc, o.leaseNamespace, store, metrics, o.notifyTimeout, log)
			if err != nil {
				return err
			}
			rcfg.Notifier = n
			log.Info("routing policy", "file", o.routingPolicy, "receivers", strings.Join(n.Receivers(), ","))
		}
	}
	if o.forgeKind != "" {
		rc, err := o.reconcileConfig()
		if err != nil {
			return err
		}
		if rcfg.Ledger == nil {
			return errors.New("--forge needs --evidence: the reconciliation records live beside the ledger there")
		}
		rcfg.Reconcile = rc
		log.Info("pull requests", "forge", o.forgeKind, "url", o.forgeURL)
	}
	timing := reporter.LeaseTiming{LeaseDuration: o.leaseDuration, RenewDeadline: o.renewDeadline, RetryPeriod: o.retryPeriod}
	if o.shards > 1 {
		if err := timing.Validate(); err != nil {
			return err
		}
		rcfg.Shards = reporter.NewShards(o.shards, o.replicas, timing, nil)
	} else if o.shards < 1 {
		return fmt.Errorf("--shards %d: want 1 or more", o.shards)
	}
	if o.workers < 1 {
		return fmt.Errorf("--workers %d: want 1 or more", o.workers)
	}
	ctrl := reporter.NewController(rcfg)
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	srv := &http.Server{Addr: o.metricsAddr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
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
	if o.insecure {
		tlsMode = "INSECURE"
	}
	log.Info("reporter starting", "argocd", u.Redacted(), "tls", tlsMode, "ca_files", strings.Join(o.cas, ","), "namespace", o.namespace, "resync", o.resync.String(),
		"shards", o.shards, "workers", o.workers, "argocd_qps", o.argoQPS)
	if o.shards > 1 {
		host, _ := os.Hostname()
		return reporter.RunSharded(ctx, ctrl, leaseKC, reporter.ShardOptions{Namespace: o.leaseNamespace, LeasePrefix: o.shardLeasePrefix,
			Identity: host + "_" + uuid.NewString(), Timing: timing, Log: log, Registerer: reg}, o.workers)
	}
	if o.leaderElect {
		host, _ := os.Hostname()
		return reporter.RunWithLeaderElection(ctx, ctrl, kc, o.leaseNamespace, host+"_"+uuid.NewString(), o.workers)
	}
	return ctrl.Run(ctx, o.workers)
}

// reconcileConfig is the pull requests' configuration from the flags, with the token.
func (o *reportOptions) reconcileConfig() (*reporter.ReconcileConfig, error) {
	if !slices.Contains(forges.Kinds, o.forgeKind) {
		return nil, fmt.Errorf("--forge %q: want one of %s", o.forgeKind, strings.Join(forges.Kinds, ", "))
	}
	if !slices.Contains(reconcile.Groupings, o.forgeGroup) {
		return nil, fmt.Errorf("--forge-group %q: want one of %s", o.forgeGroup, strings.Join(reconcile.Groupings, ", "))
	}
	if _, err := reconcile.ParseRemoteURL(o.forgeURL); err != nil {
		return nil, fmt.Errorf("--forge-url: %w", err)
	}
	if o.forgeRepoOrigin != "" {
		if _, err := reconcile.ParseRemoteURL(o.forgeRepoOrigin); err != nil {
			return nil, fmt.Errorf("--forge-repo-origin: %w", err)
		}
	}
	token := os.Getenv("DRIFTPLANE_FORGE_TOKEN")
	if token == "" {
		b, err := os.ReadFile(o.forgeTokenFile)
		if err != nil {
			return nil, fmt.Errorf("no forge token: set DRIFTPLANE_FORGE_TOKEN or mount it at %s: %w", o.forgeTokenFile, err)
		}
		token = strings.TrimSpace(string(b))
	}
	if token == "" {
		return nil, errors.New("the forge token is empty")
	}
	return &reporter.ReconcileConfig{Forge: o.forgeKind, URL: o.forgeURL, RepoOrigin: o.forgeRepoOrigin, Token: token,
		Group: o.forgeGroup, Authors: o.forgeAuthors, Interval: o.forgeInterval}, nil
}
