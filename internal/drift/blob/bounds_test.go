package blob_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/s3test"
)

// chunked hides Content-Length so the client cannot rely on it: the size bound must hold on the
// bytes themselves.
type chunked struct{ http.ResponseWriter }

func (c chunked) WriteHeader(code int) {
	c.Header().Del("Content-Length")
	c.ResponseWriter.WriteHeader(code)
}

func (c chunked) Write(b []byte) (int, error) {
	c.Header().Del("Content-Length")
	return c.ResponseWriter.Write(b)
}

// TestS3SizeBound: an object over the bound is an error naming it, whether the server says its
// length or not, and the default bound refuses a 300 MiB object from its length alone.
func TestS3SizeBound(t *testing.T) {
	o := s3test.StartWith(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/huge.json"):
				// Claims 300 MiB and sends nothing: the client must refuse from the header.
				w.Header().Set("Content-Length", strconv.Itoa(300<<20))
				w.WriteHeader(http.StatusOK)
				return
			case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/liar.json"):
				h.ServeHTTP(chunked{w}, r)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	ctx := context.Background()
	c, err := blob.Client(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("plans")}); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("x"), 2048)
	for _, k := range []string{"big.json", "liar.json"} {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("plans"), Key: aws.String(k), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	small := o
	small.MaxBytes = 1024
	for _, loc := range []string{"s3://plans/big.json", "s3://plans/liar.json"} {
		_, err := blob.ReadAll(ctx, loc, small)
		if !errors.Is(err, blob.ErrTooLarge) || !strings.Contains(err.Error(), loc) || !strings.Contains(err.Error(), "larger than 1024 bytes") {
			t.Errorf("%s: %v", loc, err)
		}
	}
	small.MaxBytes = 2048
	if got, err := blob.ReadAll(ctx, "s3://plans/liar.json", small); err != nil || len(got) != 2048 {
		t.Errorf("at the bound: %d bytes, %v", len(got), err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = blob.ReadAll(ctx, "s3://plans/huge.json", o)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, blob.ErrTooLarge) || !strings.Contains(err.Error(), "s3://plans/huge.json is larger than 268435456 bytes") {
		t.Errorf("default bound: %v", err)
	}
	if used := after.TotalAlloc - before.TotalAlloc; used > 16<<20 {
		t.Errorf("refusing a 300 MiB object allocated %d bytes", used)
	}

	// Local files are bounded the same way.
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	small.MaxBytes = 1024
	if _, err := blob.ReadAll(ctx, path, small); !errors.Is(err, blob.ErrTooLarge) || !strings.Contains(err.Error(), path) {
		t.Errorf("local: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := blob.ReadAll(cancelled, path, o); !errors.Is(err, context.Canceled) {
		t.Errorf("local read after cancel: %v", err)
	}
}

// stall holds requests of one method until the client goes away (or a minute passes), and
// counts the ones whose cancellation it saw.
func stall(method string, seen *atomic.Int32) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != method || r.URL.Path == "/evidence" { // CreateBucket passes
				h.ServeHTTP(w, r)
				return
			}
			// Read the request, then never answer: the server notices the client going away
			// only once the body is consumed.
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
				seen.Add(1)
			case <-time.After(time.Minute):
				h.ServeHTTP(w, r)
			}
		})
	}
}

// TestS3UploadStopsOnCancel: an evidence upload to a server that never answers returns, with the
// context's error, promptly after the context is cancelled (a scan's --timeout or SIGTERM),
// and the server sees the request go away.
func TestS3UploadStopsOnCancel(t *testing.T) {
	var seen atomic.Int32
	o := s3test.StartWith(t, stall(http.MethodPut, &seen))
	c, err := blob.Client(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("evidence")}); err != nil {
		t.Fatal(err)
	}
	store := blob.S3Store{Client: c, Bucket: "evidence", Prefix: "nightly"}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	_, err = store.PutContext(ctx, "unit/rec.json", []byte(`{"a":1}`))
	took := time.Since(start)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "s3://evidence/nightly/unit/rec.json") {
		t.Fatalf("err = %v", err)
	}
	if took > 3*time.Second {
		t.Fatalf("upload returned %s after the cancel", took-300*time.Millisecond)
	}
	t.Logf("upload stopped %s after start (cancelled at 300ms)", took.Round(time.Millisecond))
	deadline := time.Now().Add(2 * time.Second)
	for seen.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if seen.Load() == 0 {
		t.Error("the server never saw the upload cancelled")
	}

	// A deadline does the same, and S3Store.Timeout bounds a write without one.
	ctx, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	if _, err := store.PutContext(ctx, "unit/rec2.json", []byte(`{"a":2}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: %v", err)
	}
	store.Timeout = 200 * time.Millisecond
	start = time.Now()
	if _, err := store.Put("unit/rec3.json", []byte(`{"a":3}`)); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Errorf("store timeout: %v after %s", err, time.Since(start))
	}
}

// TestS3ReadStopsOnCancel: a download from a server that never answers stops with the context.
func TestS3ReadStopsOnCancel(t *testing.T) {
	var seen atomic.Int32
	o := s3test.StartWith(t, stall(http.MethodGet, &seen))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := blob.ReadAll(ctx, "s3://plans/drift-plan.json", o)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "s3://plans/drift-plan.json") {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Fatalf("read returned after %s", time.Since(start))
	}
	o.Timeout = 200 * time.Millisecond
	if _, err := blob.ReadAll(context.Background(), "s3://plans/drift-plan.json", o); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("S3Options.Timeout: %v", err)
	}
}
