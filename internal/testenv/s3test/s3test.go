// Package s3test runs an S3-compatible server (gofakes3) on 127.0.0.1 for tests, with the AWS
// chain pointed at throwaway credentials and nothing else.
package s3test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
)

// Start runs the server until the test ends and returns the options that reach it.
func Start(t testing.TB) blob.S3Options { return StartWith(t, nil) }

// StartWith is Start with the server's handler wrapped by wrap (nil: unwrapped), for tests of
// slow, failing or lying servers: wrap sees every request before gofakes3 does.
func StartWith(t testing.TB, wrap func(http.Handler) http.Handler) blob.S3Options {
	t.Helper()
	h := gofakes3.New(s3mem.New()).Server()
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		// A handler still blocked on a cancelled request must not hold the test up.
		srv.CloseClientConnections()
		srv.Close()
	})
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	return blob.S3Options{Endpoint: srv.URL, PathStyle: true, Region: "us-east-1"}
}

// MustCreateBucket creates a bucket on the test server or fails the test.
func MustCreateBucket(t testing.TB, c *s3.Client, bucket string) {
	t.Helper()
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket %s: %v", bucket, err)
	}
}
