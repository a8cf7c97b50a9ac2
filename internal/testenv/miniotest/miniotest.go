// Package miniotest runs a real MinIO server on 127.0.0.1 for tests: a production S3
// implementation with real conditional writes (If-None-Match), which the in-process fake of
// s3test only imitates. The binary is the one scripts/tools.sh builds into its per-user cache
// (MINIO); see testtools for when a missing binary skips and when it fails.
package miniotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/procs"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

// Region is the region the server answers for and the client signs with.
const Region = "us-east-1"

// readyTimeout bounds one start: MinIO on a single folder is ready in about a second, but the
// machine may be busy building.
const readyTimeout = 60 * time.Second

// attempts is how many times Start tries with fresh ports: a port FreePort found free can be
// taken before MinIO binds it.
const attempts = 3

// Server is a running MinIO. Its credentials are in the test's AWS environment (Start sets
// AWS_ACCESS_KEY_ID and friends), so blob.Client and every product path that builds its client
// from the standard chain reach it with Options alone, and a child process started with
// os.Environ() does too.
type Server struct {
	// Endpoint is the server's URL, http://127.0.0.1:PORT.
	Endpoint string
	// AccessKey is the root user; the secret stays in the environment only.
	AccessKey string
	// Client reaches the server with the root credentials, path-style.
	Client *s3.Client
	// Dir is the folder MinIO keeps its objects in.
	Dir     string
	buckets atomic.Int64
}

// Start runs MinIO until the test ends, waits until it reports ready and points the AWS
// environment of the test at it.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := testtools.Require(t, "MINIO")
	user := "driftplane-test"
	secret := randomHex(t, 20) // a throwaway per server: no fixed credential lives in the tree
	dir := t.TempDir()
	g := procs.New(t, filepath.Join(dir, "logs"))
	// MinIO answers SIGINT promptly; a short grace keeps a wedged one from holding the test up.
	g.Grace = 5 * time.Second
	env := []string{"MINIO_ROOT_USER=" + user, "MINIO_ROOT_PASSWORD=" + secret,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_REGION=" + Region}
	var endpoint string
	for attempt := 1; ; attempt++ {
		addr := fmt.Sprintf("127.0.0.1:%d", procs.FreePort(t))
		console := fmt.Sprintf("127.0.0.1:%d", procs.FreePort(t))
		name := fmt.Sprintf("minio-%d", attempt)
		p := g.Start(name, bin, env, "server", filepath.Join(dir, "data"), "--address", addr, "--console-address", console, "--quiet")
		endpoint = "http://" + addr
		if p.WaitHTTP(t, endpoint+"/minio/health/ready", readyTimeout) {
			break
		}
		if attempt == attempts {
			t.Fatalf("minio exited before it was ready (%d attempts); log:\n%s", attempts, g.Tail(name, procs.DefaultTailLines))
		}
	}
	t.Setenv("AWS_ACCESS_KEY_ID", user)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_REGION", Region)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
	// A developer's own profile or session token would otherwise be sent along and refused.
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_SESSION_TOKEN", "")
	s := &Server{Endpoint: endpoint, AccessKey: user, Dir: filepath.Join(dir, "data")}
	c, err := blob.Client(context.Background(), s.Options())
	if err != nil {
		t.Fatal(err)
	}
	s.Client = c
	return s
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// Options are the S3 options the product takes (--s3-endpoint, path-style) to reach the server.
func (s *Server) Options() blob.S3Options {
	return blob.S3Options{Endpoint: s.Endpoint, PathStyle: true, Region: Region}
}

// NewBucket creates an empty bucket named after the test, so tests sharing one server never see
// each other's objects, and returns its name.
func (s *Server) NewBucket(t testing.TB) string {
	t.Helper()
	n := s.buckets.Add(1)
	name := strings.Trim(strings.Map(bucketRune, strings.ToLower(t.Name())), "-")
	prefix := fmt.Sprintf("b%d-", n)
	if len(prefix)+len(name) > 63 {
		name = strings.TrimRight(name[:63-len(prefix)], "-")
	}
	name = prefix + name
	if _, err := s.Client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
	return name
}

// bucketRune keeps what a bucket name may hold (lower-case letters, digits, hyphens).
func bucketRune(r rune) rune {
	if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
		return r
	}
	return '-'
}

// Location is the s3:// URL of prefix in bucket, as a user would configure it.
func Location(bucket, prefix string) string { return "s3://" + bucket + "/" + prefix }

// Store opens the record store at s3://bucket/prefix the way the front ends do (blob.OpenStore).
func (s *Server) Store(t testing.TB, bucket, prefix string) blob.S3Store {
	t.Helper()
	st, err := blob.OpenStore(context.Background(), Location(bucket, prefix), s.Options())
	if err != nil {
		t.Fatal(err)
	}
	s3s, ok := st.(blob.S3Store)
	if !ok {
		t.Fatalf("%s opened as %T, not an S3 store", Location(bucket, prefix), st)
	}
	return s3s
}
