package cloudtrail

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/s3test"
)

// gzipBomb returns a real gzip file that inflates to prefix followed by 1 GiB of fill bytes,
// in about 1 MB: 1,024 gzip members of 1 MiB each (RFC 1952 allows any number of members, and
// gunzip and Go's gzip.Reader inflate them as one stream). Only 1 MiB is ever in memory.
func gzipBomb(t testing.TB, prefix string, fill byte) []byte {
	t.Helper()
	member := func(data []byte) []byte {
		var b bytes.Buffer
		w, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		_, _ = w.Write(data)
		_ = w.Close()
		return b.Bytes()
	}
	chunk := bytes.Repeat([]byte{fill}, 1<<20)
	var out bytes.Buffer
	out.Write(member([]byte(prefix)))
	one := member(chunk)
	for i := 0; i < 1024; i++ {
		out.Write(one)
	}
	return out.Bytes()
}

// TestGzipBombs: issue 9 class 9. Bombs are refused with an error naming the object, without
// inflating them and within a few MB, whether local or in S3.
func TestGzipBombs(t *testing.T) {
	bombs := map[string]struct {
		data []byte
		want string
	}{
		// 1 GiB of zeros: not JSON at the first byte.
		"zeros.json.gz": {gzipBomb(t, "", 0), "not a CloudTrail log file"},
		// 1 GiB of whitespace inside a valid-looking log: the decoder would buffer it all.
		"spaces.json.gz": {gzipBomb(t, `{"Records":[`, ' '), "without one complete JSON value"},
		// One record whose eventName is 1 GiB long.
		"record.json.gz": {gzipBomb(t, `{"Records":[{"eventTime":"2026-11-21T10:00:00Z","eventName":"`, 'A'), "without one complete JSON value"},
		// A 1 GiB value under a key that is not Records, skipped token by token.
		"other-key.json.gz": {gzipBomb(t, `{"Digest":"`, 'A'), "without one complete JSON value"},
	}
	dir := t.TempDir()
	for name, b := range bombs {
		t.Logf("%s: %d bytes compressed, %d GiB inflated", name, len(b.data), 1)
		if err := os.WriteFile(filepath.Join(dir, name), b.data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	measure := func(t *testing.T, f func() error) error {
		t.Helper()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		err := f()
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		used := after.TotalAlloc - before.TotalAlloc
		t.Logf("refused in %s after allocating %.1f MB", took.Round(time.Millisecond), float64(used)/1e6)
		if used > 50<<20 {
			t.Errorf("allocated %d bytes", used)
		}
		return err
	}
	for name, b := range bombs {
		t.Run("local/"+name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			err := measure(t, func() error { _, err := ReadPath(path); return err })
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), b.want) {
				t.Fatalf("error %v should name %s and say %q", err, path, b.want)
			}
		})
	}

	ctx := context.Background()
	c, err := blob.Client(ctx, s3test.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("trail")}); err != nil {
		t.Fatal(err)
	}
	b := bombs["spaces.json.gz"]
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("trail"), Key: aws.String("AWSLogs/bomb.json.gz"), Body: bytes.NewReader(b.data)}); err != nil {
		t.Fatal(err)
	}
	t.Run("s3", func(t *testing.T) {
		err := measure(t, func() error { _, err := ReadS3(ctx, c, "s3://trail/AWSLogs/"); return err })
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "s3://trail/AWSLogs/bomb.json.gz") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestDecompressedBound: a log of many small records over the bound fails naming it; the same
// log under the bound reads.
func TestDecompressedBound(t *testing.T) {
	var doc strings.Builder
	doc.WriteString(`{"Records":[`)
	for i := 0; i < 2000; i++ {
		if i > 0 {
			doc.WriteString(",")
		}
		fmt.Fprintf(&doc, `{"eventTime":"2026-11-21T10:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"StopInstances","userIdentity":{"type":"IAMUser","userName":"u%d"},"requestParameters":{"instanceId":"i-%d"}}`, i, i)
	}
	doc.WriteString(`]}`)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, _ = w.Write([]byte(doc.String()))
	_ = w.Close()
	path := filepath.Join(t.TempDir(), "many.json.gz")
	if err := os.WriteFile(path, gz.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ReadPath(path, WithMaxBytes(int64(doc.Len()-1)))
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "gzip bomb") {
		t.Fatalf("over the bound: %v", err)
	}
	trail, err := ReadPath(path, WithMaxBytes(int64(doc.Len())))
	if err != nil {
		t.Fatalf("at the bound: %v", err)
	}
	if a := trail.LastWrite("i-1999"); a == nil || a.Username != "u1999" {
		t.Errorf("last record: %+v", a)
	}
}

// TestStreamingShapes: the streaming reader accepts what the whole-document reader did and
// refuses what it should, naming the file; a failed document leaves the trail unchanged.
func TestStreamingShapes(t *testing.T) {
	rec := `{"eventTime":"2026-11-21T10:00:00Z","eventName":"StopInstances","userIdentity":{"type":"IAMUser","userName":"u"},"requestParameters":{"instanceId":"i-1"}}`
	for _, tc := range []struct{ doc, want string }{
		{`{"Records":[` + rec + `]}`, ""},
		{`{"Digest":{"a":[1,{"b":"c"}]},"Records":[` + rec + `],"x":null}`, ""},
		{` {"Records":[]} `, ""},
		{`{"Records":null}`, "no Records array"},
		{`{"Records":{}}`, "the value of Records is not an array"},
		{`{"version":4}`, "no Records array"},
		{`[1]`, "want an object"},
		{`{"Records":[` + rec + `]}{"Records":[]}`, "data after the log document"},
		{`{"Records":[` + rec + `,{"eventTime":"yesterday"}]}`, `Records[1].eventTime "yesterday"`},
		{`{"Records":[` + rec + `,7]}`, "Records[1]"},
		{`{"Records":[` + rec, "not a CloudTrail log file"},
		{`{"Records":[{"requestParameters":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}]}`, "nested deeper than 512"},
	} {
		doc, want := tc.doc, tc.want
		trail := &Trail{byID: map[string][]event{}}
		err := trail.Add("log.json", strings.NewReader(doc))
		if want == "" {
			if err != nil {
				t.Errorf("%.60s: %v", doc, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "log.json") || !strings.Contains(err.Error(), want) {
			t.Errorf("%.60s: error %v, want %q", doc, err, want)
		}
		if len(trail.byID) != 0 {
			t.Errorf("%.60s: a failed document added %d identifiers", doc, len(trail.byID))
		}
	}
	if err := (&Trail{byID: map[string][]event{}}).Add("deep.json", strings.NewReader(`{"Records":[`+strings.Repeat("[", 10_000))); !errors.Is(err, drift.ErrJSONTooDeep) {
		t.Errorf("10,000 levels: %v", err)
	}
}

// TestReadStopsOnCancel: reading a folder of logs stops with the context.
func TestReadStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ReadPathContext(ctx, "testdata"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}
