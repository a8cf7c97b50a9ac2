package evidence

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
)

// Both stores stop with the context (the S3 one is tested against a stalled server in blob).
var (
	_ ContextStore = Dir("")
	_ ContextStore = blob.S3Store{}
)

func TestPutHonoursContext(t *testing.T) {
	dir := Dir(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Put(ctx, dir, "u/r.json", []byte(`{}`)); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(string(dir), "u", "r.json")); !os.IsNotExist(err) {
		t.Fatalf("a record was written after the cancel: %v", err)
	}
	if loc, err := Put(context.Background(), dir, "u/r.json", []byte(`{}`)); err != nil || !strings.HasSuffix(loc, "r.json") {
		t.Fatalf("put: %s %v", loc, err)
	}
	// A plain Store still works through Put.
	var plain Store = plainStore{}
	if loc, err := Put(context.Background(), plain, "k", nil); err != nil || loc != "plain:k" {
		t.Fatalf("plain: %s %v", loc, err)
	}
}

type plainStore struct{}

func (plainStore) Put(key string, _ []byte) (string, error) { return "plain:" + key, nil }

func TestDecode(t *testing.T) {
	unit := &drift.ManagedUnit{Metadata: drift.Metadata{Name: "u"}, Spec: drift.UnitSpec{
		Kind: drift.UnitOpenTofuStack, Owner: "o", Environment: "prod", RiskTier: "high", Gate: "high"}}
	rep, err := drift.Evaluate(unit, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := New("t", "v", unit, nil, nil, rep, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	_, data, err := rec.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode("r.json", data)
	if err != nil || back.Unit != "u" || back.Decision.Status != rep.Status {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	deep := []byte(`{"schema_version":"driftplane.evidence/v1","findings":` + strings.Repeat("[", 10_000) + strings.Repeat("]", 10_000) + `}`)
	if _, err := Decode("deep.json", deep); !errors.Is(err, drift.ErrJSONTooDeep) || !strings.Contains(err.Error(), "deep.json") {
		t.Fatalf("deep: %v", err)
	}
	if _, err := Decode("other.json", []byte(`{"schema_version":"x"}`)); err == nil || !strings.Contains(err.Error(), "other.json") {
		t.Fatalf("schema: %v", err)
	}
}
