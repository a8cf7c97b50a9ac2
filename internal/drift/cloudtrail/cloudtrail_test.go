package cloudtrail

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/s3test"
)

func TestReadFixtures(t *testing.T) {
	trail, err := ReadPath("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name            string
		ids             []string
		user, kind      string
		groups, manager string
	}{
		{"IAM user writes a role policy (gzipped log; reads and denied calls ignored)", []string{"arn:aws:iam::123456789012:role/payments-app"},
			"alice", drift.ActorHuman, "", "iam.amazonaws.com PutRolePolicy from 203.0.113.10"},
		{"the role by name", []string{"payments-app"}, "alice", drift.ActorHuman, "", "iam.amazonaws.com PutRolePolicy from 203.0.113.10"},
		{"break-glass assumed role opens a security group", []string{"sg-0a1b2c3d4e5f"},
			"arn:aws:sts::123456789012:assumed-role/sre-breakglass/bob@example.com", drift.ActorHuman,
			"sre-breakglass,arn:aws:iam::123456789012:role/sre-breakglass", "ec2.amazonaws.com AuthorizeSecurityGroupIngress from 198.51.100.7"},
		{"last write wins: a developer stopped the instance after autoscaling resized it", []string{"i-0123456789abcdef0"},
			"arn:aws:sts::123456789012:assumed-role/developer/carol", drift.ActorHuman, "developer,arn:aws:iam::123456789012:role/developer", "ec2.amazonaws.com StopInstances from 198.51.100.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := trail.LastWrite(tc.ids...)
			if a == nil {
				t.Fatalf("no writer for %v", tc.ids)
			}
			if a.Username != tc.user || a.Kind != tc.kind || strings.Join(a.Groups, ",") != tc.groups || a.Manager != tc.manager {
				t.Errorf("got %+v", a)
			}
		})
	}
	if a := trail.LastWrite("i-0fedcba9876543210"); a == nil || !strings.HasSuffix(a.Username, "/carol") {
		t.Errorf("an id inside instancesSet.items must be indexed: %+v", a)
	}
	if a := trail.LastWrite("sg-unknown", ""); a != nil {
		t.Errorf("unknown resource: %+v", a)
	}
}

func TestServicePrincipal(t *testing.T) {
	trail := &Trail{byID: map[string][]event{}}
	doc := `{"Records":[{"eventTime":"2026-11-21T11:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"ModifyInstanceAttribute",
	  "sourceIPAddress":"autoscaling.amazonaws.com","userIdentity":{"type":"AWSService","invokedBy":"autoscaling.amazonaws.com"},
	  "requestParameters":{"instanceId":"i-1"}}]}`
	if err := trail.Add("x.json", strings.NewReader(doc)); err != nil {
		t.Fatal(err)
	}
	trail.sort()
	if a := trail.LastWrite("i-1"); a == nil || a.Kind != drift.ActorService || a.Username != "autoscaling.amazonaws.com" || a.Manager != "ec2.amazonaws.com ModifyInstanceAttribute" {
		t.Errorf("service principal: %+v", a)
	}
}

func TestErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"Records": [{"eventTime": "yesterday", "eventName": "PutRolePolicy"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	notGzip := filepath.Join(dir, "x.json.gz")
	if err := os.WriteFile(notGzip, []byte("plain"), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{bad: `Records[0].eventTime "yesterday"`, notGzip: "not gzip", filepath.Join(dir, "none"): "do not exist"} {
		if _, err := ReadPath(path); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want it to name the file and say %q", path, err, want)
		}
	}
	if err := (&Trail{byID: map[string][]event{}}).Add("state.json", strings.NewReader(`{"version": 4}`)); err == nil || !strings.Contains(err.Error(), "no Records array") {
		t.Errorf("a non-CloudTrail document: %v", err)
	}
}

// FuzzAdd: arbitrary log bytes never panic and errors name the file.
func FuzzAdd(f *testing.F) {
	for _, name := range []string{"testdata/sg.json", "testdata/instance.json"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	if gz, err := os.ReadFile("testdata/iam.json.gz"); err == nil {
		if r, err := gzip.NewReader(bytes.NewReader(gz)); err == nil {
			var buf bytes.Buffer
			_, _ = buf.ReadFrom(r)
			f.Add(buf.Bytes())
		}
	}
	f.Add([]byte(`{"Records":[{"eventTime":"2026-01-01T00:00:00Z","requestParameters":{"a":[{"groupId":"sg"}]},"resources":[{"ARN":"x"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		trail := &Trail{byID: map[string][]event{}}
		if err := trail.Add("log.json", bytes.NewReader(data)); err != nil {
			if !strings.Contains(err.Error(), "log.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		trail.sort()
		_ = trail.LastWrite("sg", "x")
	})
}

// A break-glass role opening a security group: EMERGENCY_DRIFT, accepted only with a live,
// ticketed exception; a developer's change with no exception stays unauthorized.
func TestAttributeAndClassify(t *testing.T) {
	trail, err := ReadPath("testdata")
	if err != nil {
		t.Fatal(err)
	}
	obs := []drift.Observation{
		{Ref: "aws_security_group.ssh", Type: "aws_security_group",
			Recorded: map[string]any{"id": "sg-0a1b2c3d4e5f", "ingress": []any{}},
			Actual:   map[string]any{"id": "sg-0a1b2c3d4e5f", "ingress": []any{map[string]any{"cidr_blocks": []any{"0.0.0.0/0"}}}}},
		{Ref: "aws_instance.web", Type: "aws_instance",
			Recorded: map[string]any{"id": "i-0123456789abcdef0", "instance_state": "running"},
			Actual:   map[string]any{"id": "i-0123456789abcdef0", "instance_state": "stopped"}},
	}
	trail.Attribute(obs)
	unit := &drift.ManagedUnit{Metadata: drift.Metadata{Name: "edge"}, Spec: drift.UnitSpec{Kind: drift.UnitOpenTofuStack,
		Owner: "net", Environment: "prod", RiskTier: "high", Gate: "high", BreakGlassGroups: []string{"sre-breakglass"}}}
	exc := &drift.Exception{Metadata: drift.Metadata{Name: "EXC-5"}, Spec: drift.ExceptionSpec{Unit: "edge", Resource: "aws_security_group.ssh",
		Paths: []string{"/ingress"}, DriftClass: "EMERGENCY_DRIFT", Reason: "INC-5", Ticket: "INC-5", ApprovedBy: "lead", ExpiresAt: time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)}} // within the 90-day lifetime (issue 9 class 2)
	for _, withException := range []bool{false, true} {
		var excs []*drift.Exception
		if withException {
			excs = []*drift.Exception{exc}
		}
		rep, err := drift.Evaluate(unit, excs, obs)
		if err != nil {
			t.Fatal(err)
		}
		sg, inst := rep.Findings[1], rep.Findings[0]
		if sg.ResourceRef != "aws_security_group.ssh" || sg.DriftClass != drift.ClassEmergency || !strings.Contains(sg.Actor, "sre-breakglass/bob") {
			t.Errorf("security group: %+v", sg)
		}
		if withException != (sg.AcceptedBy == "EXC-5") {
			t.Errorf("exception %v: accepted by %q", withException, sg.AcceptedBy)
		}
		if inst.DriftClass != drift.ClassUnauthorizedRuntime || !strings.HasSuffix(inst.Actor, "/carol") || inst.ActorDetail.Kind != drift.ActorHuman {
			t.Errorf("instance: %+v", inst)
		}
	}
}

// The trail's own bucket, on an S3-compatible server on 127.0.0.1.
func TestReadS3(t *testing.T) {
	ctx := context.Background()
	c, err := blob.Client(ctx, s3test.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("trail")}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"iam.json.gz", "sg.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		key := "AWSLogs/123456789012/CloudTrail/us-east-1/2026/11/21/" + f
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("trail"), Key: aws.String(key), Body: bytes.NewReader(b)}); err != nil {
			t.Fatal(err)
		}
	}
	trail, err := ReadS3(ctx, c, "s3://trail/AWSLogs/")
	if err != nil {
		t.Fatal(err)
	}
	if a := trail.LastWrite("payments-app"); a == nil || a.Username != "alice" {
		t.Errorf("gzipped log from S3: %+v", a)
	}
	if a := trail.LastWrite("sg-0a1b2c3d4e5f"); a == nil || !strings.Contains(a.Username, "sre-breakglass") {
		t.Errorf("plain log from S3: %+v", a)
	}
	if _, err := ReadS3(ctx, c, "s3://trail/nothing-here/"); err == nil || !strings.Contains(err.Error(), "no .json or .json.gz objects") {
		t.Errorf("empty prefix: %v", err)
	}
}
