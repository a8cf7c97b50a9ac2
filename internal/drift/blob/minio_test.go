package blob_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/miniotest"
)

// TestS3StoreOnMinIO holds the evidence store's promises against a production S3 server (one
// MinIO for every subtest, a bucket each): writes are create-only, a repeat of the same bytes is
// accepted, other bytes are refused and the first stay, listings are sorted and confined to their
// prefix, and a record that is not there is an error that says so.
func TestS3StoreOnMinIO(t *testing.T) {
	srv := miniotest.Start(t)
	ctx := context.Background()

	t.Run("create-only", func(t *testing.T) {
		bucket := srv.NewBucket(t)
		st := srv.Store(t, bucket, "evidence")
		loc, err := st.PutContext(ctx, "unit/rec.json", []byte(`{"a":1}`))
		if err != nil || loc != "s3://"+bucket+"/evidence/unit/rec.json" {
			t.Fatalf("put: %q %v", loc, err)
		}
		if loc, err := st.Put("unit/rec.json", []byte(`{"a":1}`)); err != nil || loc != "s3://"+bucket+"/evidence/unit/rec.json" {
			t.Fatalf("the same record again must be accepted (keys are content-addressed): %q %v", loc, err)
		}
		for _, other := range [][]byte{[]byte(`{"a":2}`), []byte(`{"a":1}` + "\n"), []byte(`{"a"`), {}} {
			if _, err := st.Put("unit/rec.json", other); err == nil || !strings.Contains(err.Error(), "never overwritten") {
				t.Errorf("overwrite with %q: %v", other, err)
			}
		}
		if got, err := st.Get(ctx, "unit/rec.json"); err != nil || string(got) != `{"a":1}` {
			t.Fatalf("the record changed: %q %v", got, err)
		}
		if got := rawGet(t, srv.Client, bucket, "evidence/unit/rec.json"); got != `{"a":1}` {
			t.Fatalf("the object in the bucket changed: %q", got)
		}
	})

	t.Run("missing", func(t *testing.T) {
		bucket := srv.NewBucket(t)
		st := srv.Store(t, bucket, "evidence")
		_, err := st.Get(ctx, "unit/nope.json")
		want := fmt.Sprintf(`s3://%s/evidence/unit/nope.json: key "evidence/unit/nope.json" does not exist in bucket %q`, bucket, bucket)
		if err == nil || err.Error() != want {
			t.Fatalf("get of a missing record: %v, want %s", err, want)
		}
		if keys, err := st.List(ctx, "unit/"); err != nil || len(keys) != 0 {
			t.Fatalf("listing an empty prefix: %q %v", keys, err)
		}
		gone := srv.Store(t, "no-such-bucket-"+strings.ToLower(bucket[:8]), "evidence")
		if _, err := gone.Put("unit/rec.json", []byte("{}")); err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Fatalf("put into a missing bucket: %v", err)
		}
		if _, err := gone.List(ctx, "unit/"); err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Fatalf("list of a missing bucket: %v", err)
		}
	})

	t.Run("list", func(t *testing.T) {
		bucket := srv.NewBucket(t)
		st := srv.Store(t, bucket, "evidence/")
		// A neighbouring prefix that shares the store's as a string must not leak into it.
		neighbour := srv.Store(t, bucket, "evidence2")
		if _, err := neighbour.Put("u/0.json", []byte("n")); err != nil {
			t.Fatal(err)
		}
		written := []string{"u/2.json", "u/10.json", "u/1.json", "v/1.json", "u2/1.json", "u/a/b.json"}
		for _, k := range written {
			if _, err := st.Put(k, []byte(k)); err != nil {
				t.Fatal(err)
			}
		}
		for prefix, want := range map[string][]string{
			"u/": {"u/1.json", "u/10.json", "u/2.json", "u/a/b.json"},
			"":   {"u/1.json", "u/10.json", "u/2.json", "u/a/b.json", "u2/1.json", "v/1.json"},
			"w/": nil,
		} {
			got, err := st.List(ctx, prefix)
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("list %q: %q %v, want %q", prefix, got, err, want)
			}
			for _, k := range got {
				if data, err := st.Get(ctx, k); err != nil || string(data) != k {
					t.Errorf("get %s: %q %v", k, data, err)
				}
			}
		}
	})

	// Many pages: ListObjectsV2 returns 1000 keys a page, and the store must read them all.
	t.Run("list-pages", func(t *testing.T) {
		bucket := srv.NewBucket(t)
		st := srv.Store(t, bucket, "p")
		var want []string
		for i := range 1005 {
			want = append(want, fmt.Sprintf("k/%05d.json", i))
		}
		// Written straight to the bucket by a few workers: the subject is the listing.
		keys := make(chan string)
		errs := make(chan error, len(want))
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := range keys {
					if _, err := srv.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("p/" + k), Body: strings.NewReader("{}")}); err != nil {
						errs <- err
					}
				}
			}()
		}
		for _, k := range want {
			keys <- k
		}
		close(keys)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		got, err := st.List(ctx, "k/")
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("list of %d keys: %d keys, %v", len(want), len(got), err)
		}
	})

	// The threat the conditional write answers: writers that each checked the key was free and
	// then PUT plainly all "succeed" on a real S3 server, and the last one silently replaces the
	// others. gate holds every PUT until all writers have checked, which is the interleaving a
	// busy bucket produces by chance.
	t.Run("plain-puts-overwrite", func(t *testing.T) {
		bucket := srv.NewBucket(t)
		const writers = 4
		c := gated(srv.Client, writers)
		var wg sync.WaitGroup
		errs := make([]error, writers)
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("rec.json")}); err == nil {
					errs[i] = errors.New("the key was taken before any writer wrote")
					return
				}
				_, errs[i] = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("rec.json"), Body: strings.NewReader(fmt.Sprint(i))})
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("plain writer %d: %v", i, err)
			}
		}
		// And a conditional PUT over an existing key is refused by the server itself.
		_, err := srv.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("rec.json"),
			Body: strings.NewReader("x"), IfNoneMatch: aws.String("*")})
		var re interface{ HTTPStatusCode() int }
		if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusPreconditionFailed {
			t.Fatalf("If-None-Match: * over an existing object: %v, want 412 Precondition Failed", err)
		}
	})

	// The same interleaving through S3Store: every writer finds the key free, every one PUTs, and
	// the conditional write lets exactly one in; the others fail and the winner's bytes stay.
	t.Run("racing-writers-one-wins", func(t *testing.T) {
		bucket := srv.NewBucket(t)
		const writers = 6
		st := srv.Store(t, bucket, "evidence")
		st.Client = gated(st.Client, writers)
		var wg sync.WaitGroup
		errs := make([]error, writers)
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = st.PutContext(ctx, "unit/rec.json", []byte(fmt.Sprintf(`{"writer":%d}`, i)))
			}()
		}
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("writers %d and %d both wrote unit/rec.json: one record was overwritten", winner, i)
			case err == nil:
				winner = i
			case !strings.Contains(err.Error(), "never overwritten"):
				t.Errorf("writer %d: %v, want a refusal saying records are never overwritten", i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("no writer wrote: %v", errs)
		}
		if got := rawGet(t, srv.Client, bucket, "evidence/unit/rec.json"); got != fmt.Sprintf(`{"writer":%d}`, winner) {
			t.Fatalf("the record holds %s, not what the one accepted writer %d wrote", got, winner)
		}
	})

	// Keys are content-addressed, so writers racing with the same bytes write the same record:
	// each must succeed, as on a local folder (blob.Dir accepts an existing file of the same
	// content), even the ones whose conditional PUT the server refused.
	t.Run("racing-writers-same-bytes", func(t *testing.T) {
		bucket := srv.NewBucket(t)
		const writers = 4
		st := srv.Store(t, bucket, "evidence")
		st.Client = gated(st.Client, writers)
		var wg sync.WaitGroup
		errs := make([]error, writers)
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = st.PutContext(ctx, "unit/rec.json", []byte(`{"same":true}`))
			}()
		}
		wg.Wait()
		if got := rawGet(t, srv.Client, bucket, "evidence/unit/rec.json"); got != `{"same":true}` {
			t.Fatalf("record %q", got)
		}
		var refused []error
		for _, err := range errs {
			if err != nil {
				refused = append(refused, err)
			}
		}
		if len(refused) > 0 {
			// Keys are content-addressed: a writer that lost the race to the same bytes has
			// written its record, as a folder would say.
			t.Fatalf("%d of %d writers of the same record refused: %v", len(refused), writers, refused[0])
		}
	})
}

func rawGet(t *testing.T, c *s3.Client, bucket, key string) string {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get s3://%s/%s: %v", bucket, key, err)
	}
	defer func() { _ = out.Body.Close() }()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// gated is c with every object PUT held until n have arrived (or 20 seconds passed), so n
// writers that each checked for the key first all reach the server with their PUT at once.
func gated(c *s3.Client, n int) *s3.Client {
	o := c.Options()
	g := &gate{next: o.HTTPClient, n: n, open: make(chan struct{})}
	return s3.New(o, func(o *s3.Options) { o.HTTPClient = g })
}

type gate struct {
	next    s3.HTTPClient
	n       int
	mu      sync.Mutex
	arrived int
	open    chan struct{}
}

func (g *gate) Do(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPut {
		g.mu.Lock()
		g.arrived++
		if g.arrived == g.n {
			close(g.open)
		}
		g.mu.Unlock()
		select {
		case <-g.open:
		case <-time.After(20 * time.Second):
			return nil, fmt.Errorf("gate: only %d of %d writers reached their PUT", g.arrivedNow(), g.n)
		case <-r.Context().Done():
			return nil, r.Context().Err()
		}
	}
	return g.next.Do(r)
}

func (g *gate) arrivedNow() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.arrived
}
