package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/notify"
	"github.com/driftplane/terraform-provider-drift/internal/notify/webhook"
)

var key = []byte("a-shared-key-of-32-bytes-length!")

func finding() notify.Notification {
	return notify.Notification{
		Finding: drift.Finding{FindingID: "drift-1", Fingerprint: "fp-1", Unit: "payments", Owner: "team-payments",
			Domain: "identity", Environment: "prod", ResourceRef: "kubernetes_secret.db", DriftClass: drift.ClassUnauthorizedRuntime,
			Risk: drift.RiskHigh, ChangedFields: []string{"/data/password"}, SensitiveFields: []string{"/data/password"},
			RecommendedAction: drift.ActionRuntimeRevert, Evidence: "sha256:abc",
			// Changes hold what the evidence store keeps; they are never serialised anywhere else.
			Changes: []drift.Change{{Before: "PLANTED-OLD-SECRET-VALUE", After: "PLANTED-NEW-SECRET-VALUE"}}},
		State: notify.StateFiring, GroupKey: "g1", Route: "security",
	}
}

type request struct {
	header http.Header
	body   []byte
	at     time.Time
}

// server answers with statuses in turn (the last one repeats) and records every request.
func server(t *testing.T, answer func(w http.ResponseWriter, n int)) (string, func() []request) {
	var mu sync.Mutex
	var got []request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, request{r.Header.Clone(), b, time.Now()})
		n := len(got)
		mu.Unlock()
		answer(w, n)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/drift", func() []request { mu.Lock(); defer mu.Unlock(); return append([]request(nil), got...) }
}

func fast(attempts int) webhook.Option {
	return webhook.WithRetry(notify.Backoff{Attempts: attempts, Base: 20 * time.Millisecond, Max: 3 * time.Second})
}

// The signature is checked by an independent computation (crypto/hmac over timestamp "." body,
// as the package documents), then by Verify, which must refuse a wrong key, a tampered body,
// a replay with an old timestamp and a forged timestamp.
func TestSignature(t *testing.T) {
	u, got := server(t, func(w http.ResponseWriter, _ int) { w.WriteHeader(http.StatusNoContent) })
	r, err := webhook.New("hook", u, key, fast(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Send(context.Background(), []notify.Notification{finding()}); err != nil {
		t.Fatal(err)
	}
	req := got()[0]
	ts := req.header.Get(webhook.HeaderTimestamp)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(ts + "." + string(req.body)))
	if want := "sha256=" + hex.EncodeToString(m.Sum(nil)); req.header.Get(webhook.HeaderSignature) != want {
		t.Fatalf("signature %q, independent computation %q", req.header.Get(webhook.HeaderSignature), want)
	}
	sum := sha256.Sum256(req.body)
	if req.header.Get(webhook.HeaderDelivery) != hex.EncodeToString(sum[:]) {
		t.Errorf("delivery id %q", req.header.Get(webhook.HeaderDelivery))
	}
	now := req.at
	if err := webhook.Verify([][]byte{[]byte("old-key-rotated-away!!"), key}, req.header, req.body, now, 0); err != nil {
		t.Fatalf("Verify of a genuine request: %v", err)
	}
	if err := webhook.Verify([][]byte{[]byte("another-key-of-enough-bytes")}, req.header, req.body, now, 0); !errors.Is(err, webhook.ErrBadSignature) {
		t.Errorf("wrong key: %v", err)
	}
	tampered := []byte(strings.Replace(string(req.body), `"HIGH"`, `"LOW"`, 1))
	if string(tampered) == string(req.body) {
		t.Fatal("tampering changed nothing")
	}
	if err := webhook.Verify([][]byte{key}, req.header, tampered, now, 0); !errors.Is(err, webhook.ErrBadSignature) {
		t.Errorf("tampered body: %v", err)
	}
	if err := webhook.Verify([][]byte{key}, req.header, req.body, now.Add(10*time.Minute), 0); !errors.Is(err, webhook.ErrStaleTimestamp) {
		t.Errorf("replayed 10 minutes later: %v", err)
	}
	// A replay with a fresh timestamp header: the old signature does not cover it.
	forged := req.header.Clone()
	forged.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Add(10*time.Minute).Unix(), 10))
	if err := webhook.Verify([][]byte{key}, forged, req.body, now.Add(10*time.Minute), 0); !errors.Is(err, webhook.ErrBadSignature) {
		t.Errorf("fresh timestamp on an old signature: %v", err)
	}
	if err := webhook.Verify([][]byte{key}, http.Header{}, req.body, now, 0); !errors.Is(err, webhook.ErrNoSignature) {
		t.Errorf("unsigned: %v", err)
	}
	if _, err := webhook.New("hook", u, []byte("short")); err == nil {
		t.Error("a 5-byte key was accepted")
	}
}

// The body is the finding schema plus lifecycle; the values behind a finding (Changes) and the
// values of a Secret never appear in it.
func TestBodyIsTheSchemaWithoutValues(t *testing.T) {
	u, got := server(t, func(w http.ResponseWriter, _ int) {})
	r, _ := webhook.New("hook", u, key, fast(1))
	n := finding()
	n.State, n.Resolution, n.ResolvedAt = notify.StateResolved, "reverted", "2026-12-01T12:00:00Z"
	if err := r.Send(context.Background(), []notify.Notification{n}); err != nil {
		t.Fatal(err)
	}
	body := got()[0].body
	if strings.Contains(string(body), "PLANTED") {
		t.Fatalf("a value reached the webhook body: %s", body)
	}
	var b webhook.Body
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatal(err)
	}
	if b.Version != webhook.Version || b.Receiver != "hook" || b.GroupKey != "g1" || len(b.Notifications) != 1 {
		t.Fatalf("body %+v", b)
	}
	got0 := b.Notifications[0]
	if got0.State != notify.StateResolved || got0.Resolution != "reverted" || got0.Finding.Fingerprint != "fp-1" ||
		got0.Finding.SensitiveFields[0] != "/data/password" || got0.Route != "security" {
		t.Fatalf("notification %+v", got0)
	}
}

func TestRetries(t *testing.T) {
	t.Run("5xx then 200", func(t *testing.T) {
		u, got := server(t, func(w http.ResponseWriter, n int) {
			if n < 3 {
				w.WriteHeader([]int{http.StatusBadGateway, http.StatusServiceUnavailable}[n-1])
			}
		})
		r, _ := webhook.New("hook", u, key, fast(3))
		if err := r.Send(context.Background(), []notify.Notification{finding()}); err != nil {
			t.Fatal(err)
		}
		reqs := got()
		if len(reqs) != 3 {
			t.Fatalf("%d requests, want 3", len(reqs))
		}
		// One delivery: the same id and body every time, each try signed on its own.
		for _, q := range reqs {
			if q.header.Get(webhook.HeaderDelivery) != reqs[0].header.Get(webhook.HeaderDelivery) ||
				webhook.Verify([][]byte{key}, q.header, q.body, q.at, 0) != nil {
				t.Errorf("try %+v", q.header)
			}
		}
	})
	t.Run("400 is not retried", func(t *testing.T) {
		u, got := server(t, func(w http.ResponseWriter, _ int) { w.WriteHeader(http.StatusBadRequest) })
		r, _ := webhook.New("hook", u, key, fast(5))
		err := r.Send(context.Background(), []notify.Notification{finding()})
		var he *notify.HTTPError
		if !errors.As(err, &he) || he.Status != 400 || len(got()) != 1 {
			t.Fatalf("err %v after %d requests, want one 400", err, len(got()))
		}
		if strings.Contains(err.Error(), "/drift") {
			t.Errorf("error names the URL's path: %v", err)
		}
	})
	t.Run("Retry-After is honoured", func(t *testing.T) {
		u, got := server(t, func(w http.ResponseWriter, n int) {
			if n == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
			}
		})
		r, _ := webhook.New("hook", u, key, fast(2))
		if err := r.Send(context.Background(), []notify.Notification{finding()}); err != nil {
			t.Fatal(err)
		}
		reqs := got()
		if len(reqs) != 2 || reqs[1].at.Sub(reqs[0].at) < 900*time.Millisecond {
			t.Fatalf("%d requests; the retry came %s after the 429 asking for 1s", len(reqs), reqs[len(reqs)-1].at.Sub(reqs[0].at))
		}
	})
	t.Run("Retry-After beyond the deadline gives up at once", func(t *testing.T) {
		u, got := server(t, func(w http.ResponseWriter, _ int) {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusServiceUnavailable)
		})
		r, _ := webhook.New("hook", u, key, fast(3))
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		if err := r.Send(ctx, []notify.Notification{finding()}); err == nil {
			t.Fatal("no error")
		}
		if time.Since(start) > 500*time.Millisecond || len(got()) != 1 {
			t.Fatalf("waited %s over %d requests for a retry the deadline could not allow", time.Since(start), len(got()))
		}
	})
	t.Run("a hanging server times out", func(t *testing.T) {
		stop := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-stop:
			case <-r.Context().Done():
			}
		}))
		defer func() { close(stop); srv.Close() }()
		r, _ := webhook.New("hook", srv.URL, key, fast(2), webhook.WithTimeout(200*time.Millisecond))
		start := time.Now()
		err := r.Send(context.Background(), []notify.Notification{finding()})
		if err == nil || !notify.Retryable(err) || time.Since(start) > 2*time.Second {
			t.Fatalf("err %v after %s", err, time.Since(start))
		}
	})
}

func FuzzVerify(f *testing.F) {
	f.Add("1764590400", "sha256=00", []byte(`{}`))
	f.Add("", "", []byte(nil))
	f.Add("-99999999999", "sha256=zz", []byte("x"))
	f.Add("1764590400", webhook.Sign(key, "1764590400", []byte(`{"a":1}`)), []byte(`{"a":1}`))
	now := time.Unix(1764590400, 0)
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(webhook.HeaderTimestamp, ts)
		h.Set(webhook.HeaderSignature, sig)
		err := webhook.Verify([][]byte{key}, h, body, now, 0)
		// Only the genuine signature over this exact timestamp and body may pass.
		if err == nil && sig != webhook.Sign(key, h.Get(webhook.HeaderTimestamp), body) {
			t.Fatalf("accepted a forged signature %q for ts %q", sig, ts)
		}
	})
}
