package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/scan"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/s3test"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

// TestScanRealStacks: three real OpenTofu stacks — clean, drifted (state in an S3-compatible
// server), broken — scanned by `driftplane scan`. Unknown must win the exit code, the broken stack
// must be reported unknown, and evidence must be written for the others.
func TestScanRealStacks(t *testing.T) {
	tofu, mirror := testtools.Require(t, "TOFU"), testtools.Require(t, "LOCAL_MIRROR")
	s3o := s3test.Start(t)
	c, err := blob.Client(context.Background(), s3o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("state")}); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	cli := filepath.Join(root, "cli.tfrc")
	write(t, cli, fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.opentofu.org/hashicorp/local"]
  }
  direct { exclude = ["registry.opentofu.org/hashicorp/local"] }
}
`, mirror))
	t.Setenv("TF_CLI_CONFIG_FILE", cli)
	t.Setenv("CHECKPOINT_DISABLE", "1")
	stack := func(name, backend, body string) string {
		dir := filepath.Join(root, "stacks", name)
		write(t, filepath.Join(dir, "main.tf"), backend+body)
		return dir
	}
	file := `resource "local_file" "conf" {
  filename = "${path.module}/app.conf"
  content  = "replicas=3\n"
}
`
	s3Backend := fmt.Sprintf(`terraform {
  backend "s3" {
    bucket                      = "state"
    key                         = "drifted.tfstate"
    region                      = "us-east-1"
    endpoints                   = { s3 = %q }
    use_path_style              = true
    use_lockfile                = true
    skip_credentials_validation = true
    skip_requesting_account_id  = true
    skip_metadata_api_check     = true
    skip_region_validation      = true
  }
}
`, s3o.Endpoint)
	clean := stack("clean", "", file)
	drifted := stack("drifted", s3Backend, file)
	stack("broken", "", `resource "local_file" "conf" {
  filename = "${path.module}/app.conf"
  content  = var.missing
}
`)
	for _, dir := range []string{clean, drifted} {
		for _, args := range [][]string{{"init", "-input=false"}, {"apply", "-auto-approve", "-input=false"}} {
			cmd := exec.Command(tofu, args...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("tofu %v in %s: %v\n%s", args, dir, err, out)
			}
		}
	}
	if list, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("state")}); err != nil || len(list.Contents) == 0 {
		t.Fatalf("the drifted stack's state is not in S3: %v %v", list, err)
	}
	write(t, filepath.Join(drifted, "app.conf"), "replicas=30\n")

	registry := filepath.Join(root, "registry")
	for _, name := range []string{"clean", "drifted", "broken"} {
		write(t, filepath.Join(registry, name+".yaml"), fmt.Sprintf(`apiVersion: drift.driftplane.io/v1alpha1
kind: DriftManagedUnit
metadata: {name: %s}
spec: {kind: opentofu-stack, owner: team, environment: prod, riskTier: critical, gate: medium, source: ../stacks/%s}
`, name, name))
	}
	evidenceDir := filepath.Join(root, "evidence")
	var stdout, stderr bytes.Buffer
	code := run([]string{"scan", "--registry", registry, "--tofu", tofu, "--format", "json", "--evidence", evidenceDir}, &stdout, &stderr)
	if code != 3 {
		t.Errorf("exit %d, want 3 (a unit is unknown)\n%s", code, stderr.String())
	}
	var results []scan.Result
	if err := json.Unmarshal(stdout.Bytes(), &results); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	got := map[string]scan.Result{}
	for _, r := range results {
		got[r.Unit] = r
	}
	if r := got["clean"]; r.Status != "clean" || r.Evidence == "" {
		t.Errorf("clean: %+v", r)
	}
	if r := got["drifted"]; r.Status != "drifted" || r.Blocking != 1 || r.Evidence == "" || len(r.Findings) != 1 || r.Findings[0].DriftClass != "STATE_DRIFT" {
		t.Errorf("drifted: %+v", r)
	}
	if r := got["broken"]; r.Status != "unknown" || !strings.Contains(r.Error, "tofu plan -refresh-only") || r.Evidence != "" {
		t.Errorf("broken: %+v", r)
	}
	if !strings.Contains(stderr.String(), "[3/3]") {
		t.Errorf("no progress output:\n%s", stderr.String())
	}
	records, _ := filepath.Glob(filepath.Join(evidenceDir, "*", "*.json"))
	if len(records) != 2 {
		t.Errorf("evidence records %v, want one each for clean and drifted", records)
	}
	// With evidence, findings carry their lifecycle from the ledger kept beside it.
	if f := got["drifted"].Findings; len(f) == 1 && (f[0].Fingerprint == "" || f[0].FirstSeen == "" || f[0].Age != "0s") {
		t.Errorf("drifted finding without its lifecycle: %+v", f[0])
	}
	// The ledger beside the evidence gives the SLIs: the drifted unit's drift appeared, and the
	// broken unit, never evaluated successfully, is stale rather than clean (so slo exits 2).
	stdout.Reset()
	if code := run([]string{"slo", "--evidence", evidenceDir, "--by", "unit", "--format", "json"}, &stdout, &stderr); code != 2 {
		t.Fatalf("slo exit %d, want 2 (a unit is stale)\n%s", code, stderr.String())
	}
	var slis struct {
		Rows []struct {
			Group  string `json:"group"`
			Events int    `json:"drift_events"`
			Open   int    `json:"open"`
		} `json:"rows"`
		Units []struct {
			Unit  string `json:"unit"`
			Stale bool   `json:"stale"`
		} `json:"units"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &slis); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	// Every unit evaluated successfully has a row (its inventory coverage, M7, at least); the
	// broken one, never evaluated, has none.
	if len(slis.Rows) != 2 || slis.Rows[0].Group != "clean" || slis.Rows[0].Events != 0 || slis.Rows[0].Open != 0 ||
		slis.Rows[1].Group != "drifted" || slis.Rows[1].Events != 1 || slis.Rows[1].Open != 1 {
		t.Errorf("slo rows %+v", slis.Rows)
	}
	stale := map[string]bool{}
	for _, u := range slis.Units {
		stale[u.Unit] = u.Stale
	}
	if len(stale) != 3 || !stale["broken"] || stale["clean"] || stale["drifted"] {
		t.Errorf("slo units %+v: the broken unit must be stale, the others fresh", slis.Units)
	}

	// Without the broken unit: blocking drift exits 2; SARIF names the finding.
	if err := os.Remove(filepath.Join(registry, "broken.yaml")); err != nil {
		t.Fatal(err)
	}
	stdout.Reset()
	if code := run([]string{"scan", "--registry", registry, "--tofu", tofu, "--format", "sarif"}, &stdout, &stderr); code != 2 {
		t.Errorf("exit %d, want 2 (blocking drift)", code)
	}
	if !strings.Contains(stdout.String(), `"ruleId": "STATE_DRIFT"`) || !strings.Contains(stdout.String(), `"level": "error"`) {
		t.Errorf("sarif:\n%s", stdout.String())
	}
	// A unit over its time limit is unknown, never clean.
	stdout.Reset()
	if code := run([]string{"scan", "--registry", registry, "--tofu", tofu, "--format", "json", "--timeout", "1ms"}, &stdout, &stderr); code != 3 {
		t.Errorf("timeout: exit %d, want 3", code)
	}
	if !strings.Contains(stdout.String(), "timed out") || !strings.Contains(stdout.String(), `"status": "unknown"`) {
		t.Errorf("timeout results:\n%s", stdout.String())
	}
	// Shard 1 of 2 holds only the second unit in name order.
	stdout.Reset()
	if code := run([]string{"scan", "--registry", registry, "--tofu", tofu, "--format", "markdown", "--shard", "1/2"}, &stdout, &stderr); code != 2 {
		t.Errorf("shard 1/2: exit %d", code)
	}
	if !strings.Contains(stdout.String(), "| drifted | drifted | 1 |") || strings.Contains(stdout.String(), "| clean |") {
		t.Errorf("shard 1/2 markdown:\n%s", stdout.String())
	}
}

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		flag, job            string
		shards, index, count int
		err                  bool
	}{
		{"", "", 1, 0, 1, false},
		{"2/4", "", 1, 2, 4, false},
		{"", "3", 5, 3, 5, false},
		{"4/4", "", 1, 0, 0, true},
		{"x", "", 1, 0, 0, true},
		{"", "7", 5, 0, 0, true},
	} {
		i, c, err := parseShard(tc.flag, tc.shards, tc.job)
		if (err != nil) != tc.err || (!tc.err && (i != tc.index || c != tc.count)) {
			t.Errorf("parseShard(%q, %d, %q) = %d, %d, %v", tc.flag, tc.shards, tc.job, i, c, err)
		}
	}
	if run(nil, &bytes.Buffer{}, &bytes.Buffer{}) != 64 {
		t.Error("usage error must exit 64")
	}
}

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
