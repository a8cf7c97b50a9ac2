package provider

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/s3test"
)

// The plan comes from, and the evidence goes to, an S3-compatible server (gofakes3) on 127.0.0.1.
func TestAccFindingS3(t *testing.T) {
	requireTofu(t)
	s3o := s3test.Start(t)
	ctx := context.Background()
	c, err := blob.Client(ctx, s3o)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := os.ReadFile("testdata/network-plan.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"plans", "evidence", "trail"} {
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("plans"), Key: aws.String("prod/drift-plan.json"), Body: bytes.NewReader(plan)}); err != nil {
		t.Fatal(err)
	}
	// The state names the security group's ARN; the CloudTrail call names only that ARN.
	state := `{"format_version":"1.0","values":{"root_module":{"child_modules":[{"address":"module.net","resources":[
	  {"address":"module.net.aws_security_group.web","mode":"managed","type":"aws_security_group","name":"web",
	   "values":{"id":"sg-1","arn":"arn:aws:ec2:eu-west-1:123456789012:security-group/sg-1"}}]}]}}}`
	trail := `{"Records":[{"eventTime":"2026-11-21T02:40:11Z","eventSource":"ec2.amazonaws.com","eventName":"ModifySecurityGroupRules",
	  "sourceIPAddress":"198.51.100.7","userIdentity":{"type":"IAMUser","userName":"carol","arn":"arn:aws:iam::123456789012:user/carol"},
	  "resources":[{"ARN":"arn:aws:ec2:eu-west-1:123456789012:security-group/sg-1"}]}]}`
	for bucket, objects := range map[string]map[string]string{"plans": {"prod/state.json": state}, "trail": {"AWSLogs/123456789012/CloudTrail/x.json": trail}} {
		for key, body := range objects {
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	cfg := func(planURL string) string {
		return fmt.Sprintf(`
provider "drift" {
  s3 {
    endpoint       = %q
    region         = "us-east-1"
    use_path_style = true
  }
}
`, s3o.Endpoint) + unitHCL("critical") + fmt.Sprintf(`
data "drift_finding" "f" {
  unit            = data.drift_managed_unit.u.policy_json
  plan_json_path  = %q
  state_path      = "s3://plans/prod/state.json"
  cloudtrail_path = "s3://trail/AWSLogs/"
  enforce_gate    = false
  evaluation_time = "2026-11-22T10:00:00Z"
  evidence {
    s3_url = "s3://evidence/prod"
  }
}
`, planURL)
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cfg("s3://plans/prod/drift-plan.json"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.#", "3"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "blocking_count", "2"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.2.resource_ref", "module.net.aws_security_group.web"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.2.actor", "carol"),
					resource.TestMatchResourceAttr("data.drift_finding.f", "evidence_location",
						regexp.MustCompile(`^s3://evidence/prod/payments-prod-network/20261122T100000Z-[0-9a-f]{24}\.json$`)),
				),
			},
			{
				Config:      cfg("s3://plans/prod/missing.json"),
				ExpectError: diagRE("Cannot read plan: drift is unknown", `s3://plans/prod/missing.json: key "prod/missing.json" does not exist in bucket "plans"`),
			},
		},
	})
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("evidence")})
	if err != nil || len(list.Contents) != 1 {
		t.Errorf("evidence bucket holds %v (%v), want one record however often the plan was read", list, err)
	}
}
