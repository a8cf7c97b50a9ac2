package webhook_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/notify/webhook"
)

// An endpoint verifies a request before it trusts the body: the signature covers the timestamp
// header and the raw body, and the timestamp must be recent.
func ExampleVerify() {
	key := []byte("a-shared-key-of-32-bytes-length!")
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "unreadable", http.StatusBadRequest)
			return
		}
		if err := webhook.Verify([][]byte{key}, r.Header, body, time.Now(), 0); err != nil {
			http.Error(w, "unauthenticated", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})

	body := `{"version":"driftplane.notify/v1","notifications":[]}`
	ts := fmt.Sprint(time.Now().Unix())
	for _, sig := range []string{webhook.Sign(key, ts, []byte(body)), "sha256=00"} {
		req := httptest.NewRequest(http.MethodPost, "/drift", strings.NewReader(body))
		req.Header.Set(webhook.HeaderTimestamp, ts)
		req.Header.Set(webhook.HeaderSignature, sig)
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}
	// Output:
	// 204
	// 401
}
