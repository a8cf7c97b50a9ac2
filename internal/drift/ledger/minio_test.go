package ledger

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/miniotest"
)

// The child side of the two-process test: where to write and what to report.
const (
	envMinIOEndpoint = "LEDGER_MINIO_ENDPOINT"
	envMinIOBucket   = "LEDGER_MINIO_BUCKET"
	envMinIOName     = "LEDGER_MINIO_NAME"
	envMinIOOut      = "LEDGER_MINIO_OUT"
	minioPrefix      = "nightly"
)

// TestLedgerOnMinIO runs the ledger on a production S3 server (MinIO, one for every subtest, a
// bucket each): the single-writer lifecycle, two OS processes appending to one unit at once, and
// many goroutines doing the same. Concurrent writers never lose or rewrite a record: each one
// written is there with its bytes, the count is the number of writes, the history reads back in
// key order with every link intact, and Latest is the tip of one of its branches.
func TestLedgerOnMinIO(t *testing.T) {
	if bucket := os.Getenv(envMinIOBucket); bucket != "" {
		minioWriterProcess(t, bucket)
		return
	}
	srv := miniotest.Start(t)
	ctx := context.Background()

	t.Run("lifecycle", func(t *testing.T) {
		exercise(t, srv.Store(t, srv.NewBucket(t), minioPrefix))
	})

	t.Run("two-processes", func(t *testing.T) {
		bucket := srv.NewBucket(t)
		dir := t.TempDir()
		const procs = 2
		var wg sync.WaitGroup
		errs := make([]error, procs)
		outs := make([][]byte, procs)
		start := time.Now()
		for i := range procs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command(os.Args[0], "-test.run", "^TestLedgerOnMinIO$", "-test.count=1")
				// The AWS credentials Start put in this process's environment go along.
				cmd.Env = append(os.Environ(), envMinIOEndpoint+"="+srv.Endpoint, envMinIOBucket+"="+bucket,
					fmt.Sprintf("%s=p%d", envMinIOName, i), fmt.Sprintf("%s=%s", envMinIOOut, filepath.Join(dir, fmt.Sprintf("p%d", i))))
				outs[i], errs[i] = cmd.CombinedOutput()
			}()
		}
		wg.Wait()
		for i := range errs {
			if errs[i] != nil {
				t.Fatalf("writer process %d: %v\n%s", i, errs[i], outs[i])
			}
		}
		t.Logf("%d processes appended %d records each in %s", procs, writes, time.Since(start).Round(time.Millisecond))
		var written []writtenRecord
		for i := range procs {
			written = append(written, readWritten(t, filepath.Join(dir, fmt.Sprintf("p%d", i)))...)
		}
		checkHistory(t, srv.Store(t, bucket, minioPrefix), written, procs*writes)
	})

	t.Run("goroutines", func(t *testing.T) {
		store := srv.Store(t, srv.NewBucket(t), minioPrefix)
		const writers, each = 8, 15
		var wg sync.WaitGroup
		errs := make([]error, writers)
		got := make([][]writtenRecord, writers)
		start := time.Now()
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i], errs[i] = appendMany(ctx, store, fmt.Sprintf("g%d", i), each)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("writer %d: %v", i, err)
			}
		}
		t.Logf("%d goroutines appended %d records each in %s", writers, each, time.Since(start).Round(time.Millisecond))
		checkHistory(t, store, slices.Concat(got...), writers*each)
	})
}

// minioWriterProcess is one writer of the two-process test: it appends `writes` evaluations and
// reports each record it wrote (key and digest of its bytes) in the file the parent named.
func minioWriterProcess(t *testing.T, bucket string) {
	ctx := context.Background()
	o := blob.S3Options{Endpoint: os.Getenv(envMinIOEndpoint), PathStyle: true, Region: miniotest.Region}
	store, err := blob.OpenStore(ctx, miniotest.Location(bucket, minioPrefix), o)
	if err != nil {
		t.Fatal(err)
	}
	written, err := appendMany(ctx, store, os.Getenv(envMinIOName), writes)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, w := range written {
		fmt.Fprintf(&b, "%s %s\n", w.key, w.digest)
	}
	if err := os.WriteFile(os.Getenv(envMinIOOut), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// writtenRecord is what a writer put: the key and the SHA-256 of the bytes.
type writtenRecord struct{ key, digest string }

// appendMany is writeMany's loop returning errors instead of failing, so it runs in goroutines
// and reports what it wrote. Each writer's findings are its own, so no two writers ever build
// the same record and every Append writes one.
func appendMany(ctx context.Context, s Store, name string, n int) ([]writtenRecord, error) {
	var out []writtenRecord
	for i := range n {
		prev, key, err := Latest(ctx, s, "web")
		if err != nil {
			return out, err
		}
		rep := report(finding(name, drift.ClassUnauthorizedRuntime, fmt.Sprint(i), "/x"))
		rec := Next(prev, key, rep, t0.Add(time.Duration(i)*time.Second), Outcome{})
		k, loc, err := Append(ctx, s, rec, prev)
		if err != nil {
			return out, fmt.Errorf("%s, write %d: %w", name, i, err)
		}
		if loc == "" {
			return out, fmt.Errorf("%s, write %d: Append wrote nothing (taken for a re-read of %s)", name, i, k)
		}
		_, data, err := rec.Encode()
		if err != nil {
			return out, err
		}
		sum := sha256.Sum256(data)
		out = append(out, writtenRecord{k, hex.EncodeToString(sum[:])})
	}
	return out, nil
}

func readWritten(t *testing.T, path string) []writtenRecord {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var out []writtenRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, d, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			t.Fatalf("%s: line %q", path, sc.Text())
		}
		out = append(out, writtenRecord{k, d})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkHistory holds a unit's ledger after concurrent writers: exactly the records written, each
// with the bytes its writer wrote (none overwritten) and decoding; Walk reads them in key order;
// every record continues one that exists, one sequence on; Latest is a head (a record nothing
// continues).
func checkHistory(t *testing.T, s Store, written []writtenRecord, want int) {
	t.Helper()
	ctx := context.Background()
	if len(written) != want {
		t.Fatalf("writers report %d records, want %d", len(written), want)
	}
	digests := map[string]string{}
	for _, w := range written {
		if _, dup := digests[w.key]; dup {
			t.Fatalf("two writes reported the same key %s", w.key)
		}
		digests[w.key] = w.digest
	}
	keys, err := s.List(ctx, Prefix+"/web/")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != want {
		t.Fatalf("%d records in the ledger, want %d", len(keys), want)
	}
	for _, k := range keys {
		if _, ok := digests[k]; !ok {
			t.Fatalf("record %s in the ledger was written by no writer", k)
		}
	}
	var walked []string
	records := map[string]*Record{}
	err = Walk(ctx, s, "web", func(key string, r *Record) error {
		data, err := s.Get(ctx, key)
		if err != nil {
			return err
		}
		if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != digests[key] {
			return fmt.Errorf("record %s does not hold the bytes its writer wrote: overwritten", key)
		}
		if r.Unit != "web" {
			return fmt.Errorf("record %s is of unit %q", key, r.Unit)
		}
		walked = append(walked, key)
		records[key] = r
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(walked, keys) || !sort.StringsAreSorted(walked) {
		t.Fatalf("Walk read %d records out of key order or not all of them (listing has %d)", len(walked), len(keys))
	}
	continued := map[string]bool{}
	for _, k := range walked {
		r := records[k]
		if r.Previous == "" {
			if r.Sequence != 1 {
				t.Errorf("record %s starts a history at sequence %d", k, r.Sequence)
			}
			continue
		}
		prev, ok := records[r.Previous]
		if !ok {
			t.Errorf("record %s continues %s, which is not in the ledger", k, r.Previous)
			continue
		}
		if r.Sequence != prev.Sequence+1 {
			t.Errorf("record %s (sequence %d) continues %s (sequence %d)", k, r.Sequence, r.Previous, prev.Sequence)
		}
		continued[r.Previous] = true
	}
	latest, key, err := Latest(ctx, s, "web")
	if err != nil {
		t.Fatal(err)
	}
	if continued[key] || records[key] == nil {
		t.Fatalf("Latest is %s, not a head of the history", key)
	}
	if latest.Sequence != records[key].Sequence || latest.EvaluatedAt != records[key].EvaluatedAt {
		t.Fatalf("Latest read %s differently from Walk", key)
	}
	units, err := Units(ctx, s)
	if err != nil || !slices.Equal(units, []string{"web"}) {
		t.Fatalf("units %q %v", units, err)
	}
}
