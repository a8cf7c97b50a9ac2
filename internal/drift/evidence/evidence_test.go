package evidence

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/tofuplan"
)

func TestRecordFromPlan(t *testing.T) {
	plan, err := tofuplan.ReadFile("../tofuplan/testdata/normal-sensitive.json")
	if err != nil {
		t.Fatal(err)
	}
	unit := &drift.ManagedUnit{Metadata: drift.Metadata{Name: "payments"}, Spec: drift.UnitSpec{
		Kind: drift.UnitOpenTofuStack, Owner: "o", Environment: "prod", RiskTier: "high", Gate: "high"}}
	exc := &drift.Exception{Metadata: drift.Metadata{Name: "EXC-1"}, Spec: drift.ExceptionSpec{Unit: "payments", Resource: "aws_instance.app",
		Paths: []string{"/instance_type"}, DriftClass: "STATE_DRIFT", Reason: "r", ApprovedBy: "a", ExpiresAt: time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)}} // within the 90-day lifetime (issue 9 class 2)
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	rep, err := drift.Evaluate(unit, []*drift.Exception{exc}, plan.Observations, drift.WithNow(at), drift.WithDetectedAt(plan.Timestamp))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := New("terraform-provider-drift", "test", unit, []*drift.Exception{exc},
		[]Input{{Name: "plan_json_path", Digest: plan.Digest, Bytes: plan.Size}}, rep, at)
	if err != nil {
		t.Fatal(err)
	}
	key, data, err := rec.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(data, []byte("s3cr3t")) {
		t.Fatalf("sensitive value in the evidence record: %s", data)
	}
	var back map[string]any
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for _, want := range []string{`"schema_version":"driftplane.evidence/v1"`, `"exception_digests":{"EXC-1":"sha256:`, plan.Digest,
		`"path":"/ingress/0/cidr_blocks/1","before":null,"after":"0.0.0.0/0"`, `"path":"/password","before":"hmac-sha256:`, `"accepted_by":"EXC-1"`} {
		if !strings.Contains(s, want) {
			t.Errorf("record lacks %s", want)
		}
	}
	if !strings.HasPrefix(key, "payments/20261122T100000Z-") || !strings.HasSuffix(key, ".json") {
		t.Errorf("key %s", key)
	}
	_, again, _ := rec.Encode()
	if !bytes.Equal(data, again) {
		t.Error("encoding is not deterministic")
	}

	dir := Dir(t.TempDir())
	loc, err := dir.Put(key, data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dir.Put(key, data); err != nil {
		t.Errorf("writing the same record again must be a no-op: %v", err)
	}
	if _, err := dir.Put(key, append([]byte(nil), append(data, ' ')...)); err == nil || !strings.Contains(err.Error(), "never overwritten") {
		t.Errorf("different content under the same key: %v", err)
	}
	got, _ := os.ReadFile(loc)
	if !bytes.Equal(got, data) || filepath.Dir(loc) != filepath.Join(string(dir), "payments") {
		t.Errorf("stored at %s: %d bytes", loc, len(got))
	}
}
