// Package alertmanagertest runs a real Prometheus Alertmanager on 127.0.0.1 for tests, and the
// webhook receivers (Sink) its routing tree sends to, so a test asserts what Alertmanager itself
// routed, grouped and resolved. The binary is the one scripts/tools.sh builds into its per-user
// cache (ALERTMANAGER); see testtools for when a missing binary skips and when it fails.
package alertmanagertest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/procs"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

// readyTimeout bounds one start (Alertmanager is ready in well under a second on an idle machine).
const readyTimeout = 60 * time.Second

// attempts is how many times Start tries with a fresh port: a port FreePort found free can be
// taken before Alertmanager binds it.
const attempts = 3

// DomainRiskConfig is an Alertmanager configuration routing drift alerts by domain and risk:
// identity and network drift of HIGH or CRITICAL risk to the receiver "security" (webhook at
// securityURL), everything else to "platform" (platformURL), each alert its own group (by
// fingerprint), resolved alerts sent too. Waits are short so a test takes seconds: 100ms before
// a new group's first notification, 500ms between a group's updates.
func DomainRiskConfig(securityURL, platformURL string) string {
	return fmt.Sprintf(`
route:
  receiver: platform
  group_by: [fingerprint]
  group_wait: 100ms
  group_interval: 500ms
  repeat_interval: 1h
  routes:
    - receiver: security
      matchers:
        - domain=~"identity|network"
        - risk=~"HIGH|CRITICAL"
receivers:
  - name: security
    webhook_configs: [{url: %q, send_resolved: true}]
  - name: platform
    webhook_configs: [{url: %q, send_resolved: true}]
`, securityURL, platformURL)
}

// Server is a running Alertmanager.
type Server struct {
	// URL is its base URL, http://127.0.0.1:PORT, what an Alertmanager receiver is given.
	URL string
	// Dir holds its configuration and storage.
	Dir string
}

// Start runs Alertmanager with the configuration config (YAML) until the test ends, clustering
// off, and waits until it reports ready.
func Start(t testing.TB, config string) *Server {
	t.Helper()
	bin := testtools.Require(t, "ALERTMANAGER")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	procs.WriteFile(t, cfg, config)
	g := procs.New(t, filepath.Join(dir, "logs"))
	g.Grace = 5 * time.Second
	for attempt := 1; ; attempt++ {
		addr := fmt.Sprintf("127.0.0.1:%d", procs.FreePort(t))
		name := fmt.Sprintf("alertmanager-%d", attempt)
		p := g.Start(name, bin, nil,
			"--config.file="+cfg,
			"--storage.path="+filepath.Join(dir, "data"),
			"--web.listen-address="+addr,
			// An empty cluster address turns gossip off: one peer, no port to collide on.
			"--cluster.listen-address=",
			"--log.level=debug")
		s := &Server{URL: "http://" + addr, Dir: dir}
		if p.WaitHTTP(t, s.URL+"/-/ready", readyTimeout) {
			return s
		}
		if attempt == attempts {
			t.Fatalf("alertmanager exited before it was ready (%d attempts); log:\n%s", attempts, g.Tail(name, procs.DefaultTailLines))
		}
	}
}

// GettableAlert is the part of API v2's gettableAlert a test looks at.
type GettableAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	StartsAt    time.Time         `json:"startsAt"`
	EndsAt      time.Time         `json:"endsAt"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
	Receivers []struct {
		Name string `json:"name"`
	} `json:"receivers"`
}

// Alerts is what GET /api/v2/alerts lists (active alerts; resolved ones are not listed).
func (s *Server) Alerts(t testing.TB) []GettableAlert {
	t.Helper()
	resp, err := http.Get(s.URL + "/api/v2/alerts") //nolint:noctx // a test's local server
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	var out []GettableAlert
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("GET /api/v2/alerts: %v", err)
	}
	return out
}

// Message is a notification Alertmanager's webhook_config sends (payload version 4).
type Message struct {
	Version      string            `json:"version"`
	GroupKey     string            `json:"groupKey"`
	Status       string            `json:"status"`
	Receiver     string            `json:"receiver"`
	GroupLabels  map[string]string `json:"groupLabels"`
	CommonLabels map[string]string `json:"commonLabels"`
	Alerts       []Alert           `json:"alerts"`
}

// Alert is one alert in a Message.
type Alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Sink is a webhook receiver served by the test: it records every message Alertmanager sends.
type Sink struct {
	// URL is what a webhook_config's url is set to.
	URL  string
	mu   sync.Mutex
	msgs []Message
}

// NewSink serves a Sink until the test ends.
func NewSink(t testing.TB) *Sink {
	t.Helper()
	s := &Sink{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		var m Message
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.msgs = append(s.msgs, m)
		s.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	s.URL = srv.URL + "/alerts"
	return s
}

// Messages is a copy of what the sink received, in order.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Latest is every alert the sink was told about, by the value of label key, as last told.
func (s *Sink) Latest(key string) map[string]Alert {
	out := map[string]Alert{}
	for _, m := range s.Messages() {
		for _, a := range m.Alerts {
			out[a.Labels[key]] = a
		}
	}
	return out
}

// States renders Latest as "value=status ..." sorted by value, for assertions and messages.
func (s *Sink) States(key string) string {
	latest := s.Latest(key)
	var parts []string
	for v, a := range latest {
		parts = append(parts, v+"="+a.Status)
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}
