// Package blob reads inputs and writes evidence at a location that is either a local path or an
// S3 URL (s3://bucket/key), so every path driftplane accepts can live in S3.
package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3Options configure S3 access beyond the standard AWS chain (credentials and region from the
// environment, shared config and instance roles): an endpoint and path-style addressing for
// S3-compatible stores, and the bounds on what is read.
type S3Options struct {
	Endpoint  string
	Region    string
	PathStyle bool
	// MaxBytes bounds one object or file read (DefaultMaxBytes when 0).
	MaxBytes int64
	// Timeout bounds one read when the caller's context has no earlier deadline (DefaultTimeout
	// when 0).
	Timeout time.Duration
}

// DefaultMaxBytes bounds one input (plan, state, trail object) unless S3Options.MaxBytes says
// otherwise.
const DefaultMaxBytes int64 = 256 << 20

// DefaultTimeout bounds one S3 operation whose context has no deadline of its own.
const DefaultTimeout = 5 * time.Minute

// Network bounds of the S3 client: a stalled endpoint fails instead of hanging a plan or a scan.
const (
	dialTimeout           = 10 * time.Second
	responseHeaderTimeout = time.Minute
	readIdleTimeout       = time.Minute
)

// ErrTooLarge is wrapped by errors for input over the size bound.
var ErrTooLarge = errors.New("input too large")

func (o S3Options) maxBytes() int64 {
	if o.MaxBytes > 0 {
		return o.MaxBytes
	}
	return DefaultMaxBytes
}

// WithTimeout returns ctx bounded by timeout (DefaultTimeout when 0) unless it already ends
// sooner.
func WithTimeout(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= timeout {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, timeout)
}

// TooLarge is the error for location over max bytes.
func TooLarge(location string, max int64) error {
	return fmt.Errorf("%s is larger than %d bytes, the bound on one input: %w", location, max, ErrTooLarge)
}

// ReadFileLimit reads a local file of at most max bytes (DefaultMaxBytes when max <= 0),
// stopping when ctx ends. Errors name the file.
func ReadFileLimit(ctx context.Context, path string, max int64) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxBytes
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	st, err := f.Stat()
	if err == nil && st.Mode().IsRegular() {
		if st.Size() > max {
			return nil, TooLarge(path, max)
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// One read into a buffer of the file's size (plus one byte to see a file that grew):
		// readers of a ledger open many small files, and growing a buffer from 512 bytes
		// costs more than the read.
		buf := make([]byte, 0, st.Size()+1)
		return readLimitInto(path, buf, ContextReader(ctx, f), max)
	}
	return readLimit(path, ContextReader(ctx, f), max)
}

// readLimitInto reads r to its end after what buf holds, growing buf as append does, and fails
// with ErrTooLarge past max bytes instead of truncating.
func readLimitInto(location string, buf []byte, r io.Reader, max int64) ([]byte, error) {
	lr := io.LimitReader(r, max+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: reading: %w", location, err)
		}
	}
	if int64(len(buf)) > max {
		return nil, TooLarge(location, max)
	}
	return buf, nil
}

// readLimit reads r to its end, failing with ErrTooLarge past max bytes instead of truncating.
func readLimit(location string, r io.Reader, max int64) ([]byte, error) {
	return readLimitInto(location, make([]byte, 0, 512), r, max)
}

// ContextReader returns r that fails with ctx's error once ctx ends.
func ContextReader(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx, r} }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// IsS3 reports whether a location is an S3 URL.
func IsS3(location string) bool { return strings.HasPrefix(location, "s3://") }

// ParseS3 splits s3://bucket/key.
func ParseS3(location string) (bucket, key string, err error) {
	rest := strings.TrimPrefix(location, "s3://")
	bucket, key, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%s: no bucket (want s3://bucket/key)", location)
	}
	return bucket, key, nil
}

// Client builds an S3 client from the standard chain plus o.
func Client(ctx context.Context, o S3Options) (*s3.Client, error) {
	var opts []func(*config.LoadOptions) error
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	opts = append(opts, config.WithHTTPClient(awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = dialTimeout }).
		WithTransportOptions(func(t *http.Transport) { t.ResponseHeaderTimeout = responseHeaderTimeout }).
		WithReadTimeout(readIdleTimeout)))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1" // S3-compatible stores rarely care; AWS itself redirects
	}
	return s3.NewFromConfig(cfg, func(so *s3.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
		so.UsePathStyle = o.PathStyle
	}), nil
}

// ReadAll reads a local file or an S3 object in one pass, refusing more than o.MaxBytes and
// stopping when ctx ends or, for S3 without an earlier deadline, after o.Timeout.
func ReadAll(ctx context.Context, location string, o S3Options) ([]byte, error) {
	max := o.maxBytes()
	if !IsS3(location) {
		return ReadFileLimit(ctx, location, max)
	}
	ctx, cancel := WithTimeout(ctx, o.Timeout)
	defer cancel()
	bucket, key, err := ParseS3(location)
	if err != nil {
		return nil, err
	}
	if key == "" {
		return nil, fmt.Errorf("%s: no key (want s3://bucket/key)", location)
	}
	c, err := Client(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", location, err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, fmt.Errorf("%s: %w", location, cerr)
		}
		return nil, fmt.Errorf("%s: %s", location, describe(err, bucket, key))
	}
	defer func() { _ = out.Body.Close() }()
	if out.ContentLength != nil && *out.ContentLength > max {
		return nil, TooLarge(location, max)
	}
	// The length is the server's word; the limit holds even when it is absent or wrong.
	data, err := readLimit(location, out.Body, max)
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("%s: %w", location, ctx.Err())
	}
	return data, err
}

// describe turns S3 errors into what the user has to fix.
func describe(err error, bucket, key string) string {
	var nsb *s3types.NoSuchBucket
	var nsk *s3types.NoSuchKey
	var api smithy.APIError
	switch {
	case errors.As(err, &nsb):
		return fmt.Sprintf("bucket %q does not exist", bucket)
	case errors.As(err, &nsk):
		return fmt.Sprintf("key %q does not exist in bucket %q", key, bucket)
	case errors.As(err, &api):
		switch api.ErrorCode() {
		case "NoSuchBucket":
			return fmt.Sprintf("bucket %q does not exist", bucket)
		case "NoSuchKey", "NotFound":
			return fmt.Sprintf("key %q does not exist in bucket %q", key, bucket)
		case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken":
			return fmt.Sprintf("access denied (%s): check the AWS credentials", api.ErrorCode())
		}
		return api.ErrorCode() + ": " + api.ErrorMessage()
	}
	if strings.Contains(err.Error(), "failed to retrieve credentials") || strings.Contains(err.Error(), "no EC2 IMDS role found") {
		return "no AWS credentials found (environment, shared config or instance role)"
	}
	return err.Error()
}

// S3Store writes evidence records under s3://bucket/prefix. Writes are conditional
// (If-None-Match: *) so a record is never overwritten; an existing record with the same bytes
// is accepted, since keys are content-addressed.
type S3Store struct {
	Client *s3.Client
	Bucket string
	Prefix string
	// Timeout bounds one write whose context has no earlier deadline (DefaultTimeout when 0).
	Timeout time.Duration
}

// Put writes data at prefix/key unless something is there, within s.Timeout.
func (s S3Store) Put(key string, data []byte) (string, error) {
	return s.PutContext(context.Background(), key, data)
}

// PutContext is Put that stops, with ctx's error, when ctx ends (a scan's --timeout or SIGTERM).
func (s S3Store) PutContext(ctx context.Context, key string, data []byte) (string, error) {
	ctx, cancel := WithTimeout(ctx, s.Timeout)
	defer cancel()
	full := s.key(key)
	loc := "s3://" + s.Bucket + "/" + full
	// sameAs says whether the object at the key holds data: keys are content-addressed, so an
	// existing record with the same bytes (another writer's identical evaluation) is this one.
	sameAs := func() (exists, same bool, err error) {
		head, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(full)})
		if err != nil {
			return false, false, nil
		}
		defer func() { _ = head.Body.Close() }()
		// Only a record of the same length can be the same record: read no more than that.
		old, rerr := io.ReadAll(io.LimitReader(head.Body, int64(len(data))+1))
		if rerr != nil {
			if cerr := ctx.Err(); cerr != nil {
				return true, false, fmt.Errorf("evidence record %s: upload stopped: %w", loc, cerr)
			}
			return true, false, fmt.Errorf("evidence record %s exists and cannot be read back: %s", loc, describe(rerr, s.Bucket, full))
		}
		return true, bytes.Equal(old, data), nil
	}
	exists, same, err := sameAs()
	switch {
	case err != nil:
		return "", err
	case same:
		return loc, nil
	case exists:
		return "", fmt.Errorf("evidence record %s exists with other content; records are never overwritten", loc)
	}
	if cerr := ctx.Err(); cerr != nil {
		return "", fmt.Errorf("evidence record %s: upload stopped: %w", loc, cerr)
	}
	_, err = s.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(full),
		Body: bytes.NewReader(data), IfNoneMatch: aws.String("*"), ContentType: aws.String("application/json")})
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return "", fmt.Errorf("evidence record %s: upload stopped: %w", loc, cerr)
		}
		var re interface{ HTTPStatusCode() int }
		if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusPreconditionFailed {
			// Another writer got there first: accepted only when it wrote these very bytes.
			if _, same, serr := sameAs(); serr != nil {
				return "", serr
			} else if same {
				return loc, nil
			}
			return "", fmt.Errorf("evidence record %s appeared concurrently; records are never overwritten", loc)
		}
		return "", fmt.Errorf("evidence record %s: %s", loc, describe(err, s.Bucket, full))
	}
	return loc, nil
}

func (s S3Store) key(key string) string {
	full := strings.TrimSuffix(s.Prefix, "/")
	if full != "" {
		full += "/"
	}
	return full + key
}

// Get reads the record at prefix/key, within the bound on one read.
func (s S3Store) Get(ctx context.Context, key string) ([]byte, error) {
	ctx, cancel := WithTimeout(ctx, s.Timeout)
	defer cancel()
	full := s.key(key)
	loc := "s3://" + s.Bucket + "/" + full
	out, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(full)})
	if err != nil {
		return nil, fmt.Errorf("%s: %s", loc, describe(err, s.Bucket, full))
	}
	defer func() { _ = out.Body.Close() }()
	return readLimit(loc, out.Body, DefaultMaxBytes)
}

// List returns the keys below prefix/<prefix>, relative to the store's prefix, sorted.
func (s S3Store) List(ctx context.Context, prefix string) ([]string, error) {
	ctx, cancel := WithTimeout(ctx, s.Timeout)
	defer cancel()
	base := s.key("")
	p := s3.NewListObjectsV2Paginator(s.Client, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(base + prefix)})
	var keys []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing s3://%s/%s: %s", s.Bucket, base+prefix, describe(err, s.Bucket, base+prefix))
		}
		for _, o := range page.Contents {
			keys = append(keys, strings.TrimPrefix(aws.ToString(o.Key), base))
		}
	}
	sort.Strings(keys)
	return keys, nil
}

// ListFolders lists the names of the "folders" directly under prefix (a prefix ending in "/"):
// the common prefixes of a delimited listing, without listing every key under them.
func (s S3Store) ListFolders(ctx context.Context, prefix string) ([]string, error) {
	ctx, cancel := WithTimeout(ctx, s.Timeout)
	defer cancel()
	base := s.key("")
	p := s3.NewListObjectsV2Paginator(s.Client, &s3.ListObjectsV2Input{Bucket: aws.String(s.Bucket), Prefix: aws.String(base + prefix), Delimiter: aws.String("/")})
	var names []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing s3://%s/%s: %s", s.Bucket, base+prefix, describe(err, s.Bucket, base+prefix))
		}
		for _, cp := range page.CommonPrefixes {
			name := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cp.Prefix), base+prefix), "/")
			if name != "" {
				names = append(names, name)
			}
		}
	}
	sort.Strings(names)
	return names, nil
}
