// Package blob reads inputs and writes evidence at a location that is either a local path or an
// S3 URL (s3://bucket/key), so every path driftplane accepts can live in S3.
package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3Options configure S3 access beyond the standard AWS chain (credentials and region from the
// environment, shared config and instance roles): an endpoint and path-style addressing for
// S3-compatible stores.
type S3Options struct {
	Endpoint  string
	Region    string
	PathStyle bool
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

// ReadAll reads a local file or an S3 object in one pass.
func ReadAll(ctx context.Context, location string, o S3Options) ([]byte, error) {
	if !IsS3(location) {
		return os.ReadFile(location)
	}
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
		return nil, fmt.Errorf("%s: %s", location, describe(err, bucket, key))
	}
	defer func() { _ = out.Body.Close() }()
	var buf bytes.Buffer
	if out.ContentLength != nil && *out.ContentLength > 0 {
		buf.Grow(int(*out.ContentLength))
	}
	if _, err := io.Copy(&buf, out.Body); err != nil {
		return nil, fmt.Errorf("%s: reading: %w", location, err)
	}
	return buf.Bytes(), nil
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
}

// Put writes data at prefix/key unless something is there.
func (s S3Store) Put(key string, data []byte) (string, error) {
	ctx := context.Background()
	full := strings.TrimSuffix(s.Prefix, "/")
	if full != "" {
		full += "/"
	}
	full += key
	loc := "s3://" + s.Bucket + "/" + full
	if head, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(full)}); err == nil {
		old, _ := io.ReadAll(head.Body)
		_ = head.Body.Close()
		if bytes.Equal(old, data) {
			return loc, nil
		}
		return "", fmt.Errorf("evidence record %s exists with other content; records are never overwritten", loc)
	}
	_, err := s.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(s.Bucket), Key: aws.String(full),
		Body: bytes.NewReader(data), IfNoneMatch: aws.String("*"), ContentType: aws.String("application/json")})
	if err != nil {
		var re interface{ HTTPStatusCode() int }
		if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusPreconditionFailed {
			return "", fmt.Errorf("evidence record %s appeared concurrently; records are never overwritten", loc)
		}
		return "", fmt.Errorf("evidence record %s: %s", loc, describe(err, s.Bucket, full))
	}
	return loc, nil
}
