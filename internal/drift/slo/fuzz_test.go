package slo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
)

// memStore keeps records in memory: the fuzzer runs thousands of ledgers a second, which a
// folder per input would not allow (the folder store is exercised by the other tests).
type memStore map[string][]byte

func (m memStore) PutContext(_ context.Context, key string, data []byte) (string, error) {
	m[key] = data
	return key, nil
}

func (m memStore) Get(_ context.Context, key string) ([]byte, error) {
	d, ok := m[key]
	if !ok {
		return nil, fmt.Errorf("%s: %w", key, os.ErrNotExist)
	}
	return d, nil
}

func (m memStore) List(_ context.Context, prefix string) ([]string, error) {
	var keys []string
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys, nil
}

// FuzzCompute puts arbitrary bytes in a unit's ledger as its newest record, under a key of the
// given kind, after a real record: the computation must never panic, and when it accepts the
// ledger its report prints in every format, its JSON is valid, and computing it again gives the
// same bytes.
func FuzzCompute(f *testing.F) {
	first := synthRecord(0, 5, "")
	firstKey, firstData, err := first.Encode()
	if err != nil {
		f.Fatal(err)
	}
	for _, edit := range []func(r *ledger.Record){
		func(*ledger.Record) {},                         // with transitions
		func(r *ledger.Record) { r.Events = nil },       // quiet
		func(r *ledger.Record) { r.Status = "unknown" }, // unknown
	} {
		rec := synthRecord(0, 15, firstKey)
		edit(rec)
		_, data, err := rec.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "e")
		f.Add(data, "q")
		f.Add(data, "u")
		f.Add(data, "")
	}
	f.Add([]byte(`{"schema_version":"driftplane.ledger/v1","unit":"unit-0000","evaluated_at":"2026-11-01T02:30:00Z","status":"clean","sequence":15,"open":[],"stale_after":"-1h"}`), "q")
	f.Add([]byte(`{"schema_version":"driftplane.ledger/v1","unit":"unit-0000","evaluated_at":"2026-11-01T02:30:00Z","status":"drifted","sequence":15,"open":[{"first_seen":"x","owner":"unowned"}],"events":[{"kind":"resolved","first_seen":"9999-01-01T00:00:00Z","at":"0001-01-01T00:00:00Z"}],"budgets":[{"name":"b","state":"burning"}]}`), "e")
	f.Fuzz(func(t *testing.T, data []byte, kind string) {
		s := memStore{firstKey: firstData}
		at := synthAt(15).Format("20060102T150405Z")
		name := fmt.Sprintf("%012d-%s", 15, at)
		if kind != "" {
			name += "-" + kind
		}
		s[ledger.Prefix+"/unit-0000/"+name+"-000000000000000000000000.json"] = data
		o := Options{From: synthStart, To: synthAt(20), By: "owner", StaleAfter: time.Hour, Table: drift.DefaultTable()}
		rep, err := Compute(context.Background(), s, o)
		if err != nil {
			return
		}
		var a bytes.Buffer
		for _, format := range Formats {
			if err := Write(&a, format, rep); err != nil {
				t.Fatalf("%s: %v", format, err)
			}
		}
		var js bytes.Buffer
		if err := Write(&js, "json", rep); err != nil || !json.Valid(js.Bytes()) {
			t.Fatalf("invalid JSON (%v):\n%s", err, js.String())
		}
		again, err := Compute(context.Background(), s, o)
		if err != nil {
			t.Fatalf("second computation: %v", err)
		}
		var b bytes.Buffer
		for _, format := range Formats {
			if err := Write(&b, format, again); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Fatal("two computations of one ledger differ")
		}
	})
}
