package blob_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/s3test"
)

func TestS3ReadAndEvidence(t *testing.T) {
	o := s3test.Start(t)
	ctx := context.Background()
	c, err := blob.Client(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("plans")}); err != nil {
		t.Fatal(err)
	}
	plan := []byte(`{"format_version":"1.2","planned_values":{}}`)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("plans"), Key: aws.String("prod/drift-plan.json"), Body: bytes.NewReader(plan)}); err != nil {
		t.Fatal(err)
	}
	got, err := blob.ReadAll(ctx, "s3://plans/prod/drift-plan.json", o)
	if err != nil || !bytes.Equal(got, plan) {
		t.Fatalf("read %q, %v", got, err)
	}
	for loc, want := range map[string]string{
		"s3://nope/x.json":          `s3://nope/x.json: bucket "nope" does not exist`,
		"s3://plans/prod/gone.json": `s3://plans/prod/gone.json: key "prod/gone.json" does not exist in bucket "plans"`,
		"s3://plans":                "no key",
		"s3:///key":                 "no bucket",
	} {
		if _, err := blob.ReadAll(ctx, loc, o); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", loc, err, want)
		}
	}
	store := blob.S3Store{Client: c, Bucket: "plans", Prefix: "evidence"}
	loc, err := store.Put("unit/rec.json", []byte(`{"a":1}`))
	if err != nil || loc != "s3://plans/evidence/unit/rec.json" {
		t.Fatalf("put: %s %v", loc, err)
	}
	if _, err := store.Put("unit/rec.json", []byte(`{"a":1}`)); err != nil {
		t.Errorf("the same record again must be a no-op: %v", err)
	}
	if _, err := store.Put("unit/rec.json", []byte(`{"a":2}`)); err == nil || !strings.Contains(err.Error(), "never overwritten") {
		t.Errorf("overwrite: %v", err)
	}
	if got, _ := blob.ReadAll(ctx, loc, o); string(got) != `{"a":1}` {
		t.Errorf("record changed: %s", got)
	}
}

func TestS3WithoutCredentials(t *testing.T) {
	o := s3test.Start(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	_ = os.Unsetenv("AWS_ACCESS_KEY_ID") // t.Setenv above restores it
	_ = os.Unsetenv("AWS_SECRET_ACCESS_KEY")
	_, err := blob.ReadAll(context.Background(), "s3://plans/x.json", o)
	if err == nil || !strings.Contains(err.Error(), "s3://plans/x.json") || !strings.Contains(err.Error(), "credentials") {
		t.Errorf("error %v should name the location and the missing credentials", err)
	}
}
