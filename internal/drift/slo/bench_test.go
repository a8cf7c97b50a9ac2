package slo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
)

// The synthetic ledger: units evaluated every 10 minutes, 90% of evaluations quiet, 9% with
// transitions (a drift appears, the next one resolves it, in turn by every resolution), 1%
// unable to observe the unit; a quarter of the units also carry a drift that never ends. Every
// successful record carries two budgets and its stale_after, as the pipeline writes them.
const synthEvery = 10 * time.Minute

var synthStart = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func synthUnit(u int) string { return fmt.Sprintf("unit-%04d", u) }

func synthAt(seq int64) time.Time { return synthStart.Add(time.Duration(seq) * synthEvery) }

// synthEvents counts the records with transitions up to seq: those at seq%100 = 5, 15, ... 85.
func synthEvents(seq int64) int64 {
	n := seq / 100 * 9
	if r := seq % 100; r >= 5 {
		n += min(9, (r-5)/10+1)
	}
	return n
}

// synthEventSeq is the sequence of the j-th record with transitions (j from 1).
func synthEventSeq(j int64) int64 { return (j-1)/9*100 + 5 + (j-1)%9*10 }

var synthClasses = []drift.Class{drift.ClassUnauthorizedRuntime, drift.ClassPolicy, drift.ClassControllerOwned, drift.ClassState, drift.ClassEmergency}

var synthRisks = []drift.Risk{drift.RiskCritical, drift.RiskHigh, drift.RiskMedium, drift.RiskLow}

var synthDomains = []string{"identity", "network", "workload", "cost", "security"}

// synthEntry is drift number d of unit u, first seen at the record with transitions seq.
func synthEntry(u int, d, seq int64) ledger.Entry {
	first := synthAt(seq)
	owner := "team-" + strconv.Itoa(u%20)
	if u%50 == 0 {
		owner = ""
	}
	return ledger.Entry{Fingerprint: fmt.Sprintf("%064x", int64(u)<<32|d), FindingID: fmt.Sprintf("f-%d-%d", u, d),
		ResourceRef: fmt.Sprintf("aws_security_group.sg_%d", d%97), DriftClass: string(synthClasses[d%5]), Risk: string(synthRisks[d%4]),
		Domain: synthDomains[(int64(u)+d)%5], Owner: owner, Environment: []string{"prod", "staging", "dev"}[u%3],
		Fields: []string{"/ingress/0/cidr_blocks", "/tags/owner"}, FirstSeen: first.Format(time.RFC3339), LastSeen: first.Format(time.RFC3339),
		ChangedAt: first.Add(-time.Duration(d%7) * 4 * time.Minute).Format(time.RFC3339), ActualDigest: fmt.Sprintf("%016x", d)}
}

// synthRecord is unit u's evaluation seq (from 1), continuing prevKey.
func synthRecord(u int, seq int64, prevKey string) *ledger.Record {
	at := synthAt(seq)
	unit := synthUnit(u)
	rec := &ledger.Record{SchemaVersion: ledger.SchemaVersion, Unit: unit, EvaluatedAt: at.Format(time.RFC3339), Sequence: seq, Previous: prevKey, Open: []ledger.Entry{}}
	legacy := u%4 == 0 && seq >= 5
	if legacy {
		rec.Open = append(rec.Open, synthEntry(u, 1<<20, 5))
	}
	if j := synthEvents(seq); j%2 == 1 {
		rec.Open = append(rec.Open, synthEntry(u, (j-1)/2, synthEventSeq(j)))
	}
	if seq%100 == 0 {
		rec.Status = "unknown"
		return rec
	}
	rec.Status = drift.StatusClean
	if len(rec.Open) > 0 {
		rec.Status = drift.StatusDrifted
	}
	if r := seq % 100; r%10 == 5 && r <= 85 {
		j := synthEvents(seq)
		if j == 1 && legacy {
			rec.Events = append(rec.Events, synthEvent(ledger.EventAppeared, synthEntry(u, 1<<20, 5), at, ""))
		}
		if j%2 == 1 {
			rec.Events = append(rec.Events, synthEvent(ledger.EventAppeared, synthEntry(u, (j-1)/2, seq), at, ""))
		} else {
			rec.Events = append(rec.Events, synthEvent(ledger.EventResolved, synthEntry(u, (j-2)/2, synthEventSeq(j-1)), at, Resolutions[(j/2)%6]))
		}
	}
	state := drift.BudgetOK
	if len(rec.Open) > 0 {
		state = drift.BudgetBurning
	}
	rates := []drift.BurnRate{}
	for _, w := range drift.BurnWindows() {
		rates = append(rates, drift.BurnRate{Window: w.String(), Rate: "0.00"})
	}
	rec.Budgets = []drift.BudgetState{
		{Name: "identity-zero", State: drift.BudgetOK},
		{Name: "remediated-7d", State: state, Open: len(rec.Open), Objective: "95% over 720h", Judged: int(synthEvents(seq) / 2), BurnRate: "0.00", BurnRates: rates},
	}
	rec.StaleAfter = (2 * synthEvery).String()
	return rec
}

func synthEvent(kind string, e ledger.Entry, at time.Time, resolution string) ledger.Event {
	return ledger.Event{Kind: kind, Fingerprint: e.Fingerprint, ResourceRef: e.ResourceRef, DriftClass: e.DriftClass, Risk: e.Risk, Domain: e.Domain,
		Owner: e.Owner, Environment: e.Environment, FirstSeen: e.FirstSeen, ChangedAt: e.ChangedAt, At: at.Format(time.RFC3339), Resolution: resolution}
}

// genStore is a read-only ledger.Store of units × evals synthetic records, generated on
// demand, that counts the records read: TestSyntheticLedger holds it to a folder of the same
// records. Its keys are the ones Record.Encode gives (checked for every record when the store is
// built), and Get encodes the record again, so ParseKey, Read's checks and decoding run on every
// record read.
type genStore struct {
	units, evals int
	kinds        []byte // per unit × eval: the kind letter
	digests      []byte // per unit × eval: the key's 24 hex digits
	gets         atomic.Int64
}

func newGenStore(tb testing.TB, units, evals int) *genStore {
	g := &genStore{units: units, evals: evals, kinds: make([]byte, units*evals), digests: make([]byte, units*evals*24)}
	for u := range units {
		for i := range evals {
			key, _, err := synthRecord(u, int64(i+1), "").Encode()
			if err != nil {
				tb.Fatal(err)
			}
			n := u*evals + i
			name := strings.TrimSuffix(key[strings.LastIndexByte(key, '-')+1:], ".json")
			copy(g.digests[n*24:], name)
			info, ok := ledger.ParseKey(key)
			if !ok || info.Kind == "" {
				tb.Fatalf("Encode gave %s", key)
			}
			g.kinds[n] = info.Kind[0]
			if got := g.key(u, i); got != key {
				tb.Fatalf("generated key %s, Encode's %s", got, key)
			}
		}
	}
	return g
}

func (g *genStore) key(u, i int) string {
	n := u*g.evals + i
	stamp := synthAt(int64(i + 1)).Format("20060102T150405Z")
	return fmt.Sprintf("%s/%s/%012d-%s-%c-%s.json", ledger.Prefix, synthUnit(u), i+1, stamp, g.kinds[n], g.digests[n*24:n*24+24])
}

func (g *genStore) List(_ context.Context, prefix string) ([]string, error) {
	var keys []string
	for u := range g.units {
		if p := ledger.Prefix + "/" + synthUnit(u) + "/"; !strings.HasPrefix(p, prefix) {
			continue
		}
		for i := range g.evals {
			keys = append(keys, g.key(u, i))
		}
	}
	return keys, nil
}

func (g *genStore) Get(_ context.Context, key string) ([]byte, error) {
	g.gets.Add(1)
	rest, ok := strings.CutPrefix(key, ledger.Prefix+"/unit-")
	info, parsed := ledger.ParseKey(key)
	if !ok || !parsed || len(rest) < 4 {
		return nil, fmt.Errorf("%s: %w", key, os.ErrNotExist)
	}
	u, err := strconv.Atoi(rest[:4])
	if err != nil || u >= g.units || info.Sequence < 1 || info.Sequence > int64(g.evals) {
		return nil, fmt.Errorf("%s: %w", key, os.ErrNotExist)
	}
	k, data, err := synthRecord(u, info.Sequence, "").Encode()
	if err != nil {
		return nil, err
	}
	if k != key {
		return nil, fmt.Errorf("%s: %w", key, os.ErrNotExist)
	}
	return data, nil
}

func (g *genStore) PutContext(context.Context, string, []byte) (string, error) {
	return "", errors.New("the synthetic ledger is read-only")
}

// peakMemory samples, until stop is called, the memory the Go runtime holds from the OS (what
// the process's resident size follows) and the heap's objects, and returns their peaks.
func peakMemory() (stop func() (held, heap uint64)) {
	samples := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	done, result := make(chan struct{}), make(chan [2]uint64)
	go func() {
		var peak [2]uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(samples)
			peak[0] = max(peak[0], samples[0].Value.Uint64()-samples[1].Value.Uint64())
			peak[1] = max(peak[1], samples[2].Value.Uint64())
			select {
			case <-done:
				result <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return func() (uint64, uint64) {
		close(done)
		p := <-result
		return p[0], p[1]
	}
}

// benchCompute measures `driftplane slo` (Compute and Write, JSON, per unit) over s, which
// holds records records, the window covering all of them; read counts the records read.
func benchCompute(b *testing.B, s ledger.Store, records, evals int, read func() int64) {
	ctx := context.Background()
	o := Options{From: synthStart, To: synthAt(int64(evals)), By: "unit"}
	runtime.GC()
	b.ResetTimer()
	stop := peakMemory()
	cpu0 := cpuTime()
	var rep *Report
	for range b.N {
		var err error
		if rep, err = Compute(ctx, s, o); err != nil {
			b.Fatal(err)
		}
		if err := Write(io.Discard, "json", rep); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	held, heap := stop()
	perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(perOp/float64(records), "ns/record")
	b.ReportMetric(float64(records)/(perOp/1e9), "records/s")
	b.ReportMetric(float64(held)/1e6, "peak-held-MB")
	b.ReportMetric(float64(heap)/1e6, "peak-heap-MB")
	b.ReportMetric(float64(read())/float64(b.N), "records-read/op")
	// On a machine other jobs share, wall time waits for them: the process's CPU time is what
	// the computation costs.
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	if len(rep.Units) == 0 || len(rep.Rows) == 0 || rep.Summary.Budgets == 0 {
		b.Fatalf("the computation found nothing: %+v", rep.Summary)
	}
}

// BenchmarkComputeDir1M: the measure, `driftplane slo` over 1,000,000 records (1,000
// units × 1,000 evaluations) in a real folder, as driftplane scan writes them. Target: under 5 s
// and 500 MB. The folder takes about a minute and 4 GB to write, so it is kept between runs
// (DRIFTPLANE_BENCH_DIR, else the user's cache) under a name that digests the generator, and
// written again only when the generator changes.
func BenchmarkComputeDir1M(b *testing.B) {
	const units, evals = 1000, 1000
	s := &countingDir{Dir: blob.Dir(synthFolder(b, units, evals))}
	benchCompute(b, s, units*evals, evals, s.gets.Load)
}

// countingDir counts the records read from a real folder.
type countingDir struct {
	blob.Dir
	gets atomic.Int64
}

func (c *countingDir) Get(ctx context.Context, key string) ([]byte, error) {
	c.gets.Add(1)
	return c.Dir.Get(ctx, key)
}

// synthFolder returns a folder holding the synthetic ledger, writing it when it is missing or
// incomplete (a marker is written last).
func synthFolder(b *testing.B, units, evals int) string {
	h := sha256.New()
	for i := range evals {
		key, data, err := synthRecord(units-1, int64(i+1), "").Encode()
		if err != nil {
			b.Fatal(err)
		}
		h.Write([]byte(key))
		h.Write(data)
	}
	base := os.Getenv("DRIFTPLANE_BENCH_DIR")
	if base == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			b.Fatal(err)
		}
		base = filepath.Join(cache, "driftplane", "bench")
	}
	dir := filepath.Join(base, fmt.Sprintf("ledger-%dx%d-%x", units, evals, h.Sum(nil)[:6]))
	marker := filepath.Join(dir, ".complete")
	if _, err := os.Stat(marker); err == nil {
		b.Logf("synthetic ledger: %s", dir)
		return dir
	}
	b.Logf("writing the synthetic ledger to %s (about a minute, kept for later runs)", dir)
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, runtime.GOMAXPROCS(0))
	for w := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := w; u < units; u += len(errs) {
				prev := ""
				for i := range evals {
					key, data, err := synthRecord(u, int64(i+1), prev).Encode()
					if err == nil && i == 0 {
						err = os.MkdirAll(filepath.Join(dir, filepath.FromSlash(path.Dir(key))), 0o750)
					}
					if err == nil {
						err = os.WriteFile(filepath.Join(dir, filepath.FromSlash(key)), data, 0o440)
					}
					if err != nil {
						errs[w] = err
						return
					}
					prev = key
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(marker, nil, 0o600); err != nil {
		b.Fatal(err)
	}
	return dir
}

// The synthetic ledger is a ledger: what Compute finds in it is what it was built to hold.
func TestSyntheticLedger(t *testing.T) {
	const units, evals = 8, 300
	g := newGenStore(t, units, evals)
	rep, err := Compute(context.Background(), g, Options{From: synthStart, To: synthAt(evals)})
	if err != nil {
		t.Fatal(err)
	}
	// Per unit: 27 records with transitions (14 appearances, 13 resolutions), 3 unknown; the
	// legacy drift of units 0 and 4 appears too.
	all := byGroup(rep.Rows)["all"]
	if all.Events != units*14+2 || all.Resolved+all.Accepted != units*13 || int(g.gets.Load()) != units*28 {
		t.Errorf("events %d resolved %d accepted %d, records read %d", all.Events, all.Resolved, all.Accepted, g.gets.Load())
	}
	if all.Open == 0 || all.Unowned == 0 || all.PolicyViolations == 0 || rep.Summary.StaleUnits != 0 || rep.Summary.Budgets != 2*units {
		t.Errorf("row %+v summary %+v", all, rep.Summary)
	}
	var a bytes.Buffer
	if err := Write(&a, "json", rep); err != nil {
		t.Fatal(err)
	}
	// The same records in a real folder give the same bytes.
	dir := blob.Dir(t.TempDir())
	for u := range units {
		for i := range evals {
			key, data, err := synthRecord(u, int64(i+1), "").Encode()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := dir.Put(key, data); err != nil {
				t.Fatal(err)
			}
		}
	}
	rep2, err := Compute(context.Background(), dir, Options{From: synthStart, To: synthAt(evals)})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Write(&b, "json", rep2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("the generated store and a folder of the same records differ")
	}
}
