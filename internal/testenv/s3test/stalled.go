package s3test

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
)

// Stalled counts what a server whose object PUTs never get an answer saw: Arrived receives one
// value per PUT (buffered), Puts counts them, Cancelled counts those the client abandoned.
type Stalled struct {
	Arrived         chan struct{}
	Puts, Cancelled atomic.Int32
}

// StartStalledPuts runs the server with bucket created, answering everything but object PUTs,
// which it reads and then holds until the client gives up (or a minute passes).
func StartStalledPuts(t *testing.T, bucket string) (blob.S3Options, *Stalled) {
	t.Helper()
	st := &Stalled{Arrived: make(chan struct{}, 16)}
	o := StartWith(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPut || r.URL.Path == "/"+bucket {
				h.ServeHTTP(w, r)
				return
			}
			st.Puts.Add(1)
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case st.Arrived <- struct{}{}:
			default:
			}
			select {
			case <-r.Context().Done():
				st.Cancelled.Add(1)
			case <-time.After(time.Minute):
			}
		})
	})
	c, err := blob.Client(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	return o, st
}
