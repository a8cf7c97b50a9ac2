package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Location is a place driftplane reads from or writes to, resolved once: a local path (file or
// folder) or an S3 URL (s3://bucket/key for one object, s3://bucket/prefix for many). Every
// input (plan, state, CloudTrail logs) and every record store (evidence) is opened through Open,
// so "local or S3" is decided in one place.
type Location struct {
	raw     string
	s3      bool
	bucket  string
	key     string
	opts    S3Options
	once    sync.Once
	client  *s3.Client
	errInit error
}

// Open parses location. An S3 URL without a bucket is an error; the S3 client is built on first
// use, from the standard AWS chain plus o.
func Open(location string, o S3Options) (*Location, error) {
	if strings.TrimSpace(location) == "" {
		return nil, errors.New("empty location")
	}
	l := &Location{raw: location, opts: o}
	if IsS3(location) {
		bucket, key, err := ParseS3(location)
		if err != nil {
			return nil, err
		}
		l.s3, l.bucket, l.key = true, bucket, key
	}
	return l, nil
}

// String is the location as given.
func (l *Location) String() string { return l.raw }

// IsS3 reports whether the location is in S3.
func (l *Location) IsS3() bool { return l.s3 }

// Path is the local path; empty for S3.
func (l *Location) Path() string {
	if l.s3 {
		return ""
	}
	return l.raw
}

// Bucket and Key are the S3 parts; empty for a local path.
func (l *Location) Bucket() string { return l.bucket }

// Key is the S3 key or prefix.
func (l *Location) Key() string { return l.key }

// Client is the S3 client for the location (built once).
func (l *Location) Client(ctx context.Context) (*s3.Client, error) {
	if !l.s3 {
		return nil, fmt.Errorf("%s is not an S3 location", l.raw)
	}
	l.once.Do(func() { l.client, l.errInit = Client(ctx, l.opts) })
	if l.errInit != nil {
		return nil, fmt.Errorf("%s: %w", l.raw, l.errInit)
	}
	return l.client, nil
}

// ReadAll reads the location as one file or object, within the bounds of ReadAll.
func (l *Location) ReadAll(ctx context.Context) ([]byte, error) { return ReadAll(ctx, l.raw, l.opts) }

// MaxBytes is the bound on one read at this location.
func (l *Location) MaxBytes() int64 { return l.opts.maxBytes() }

// Store is where records are kept: written create-only, never overwritten (a second write of
// the same bytes is accepted, since keys are content-addressed).
type Store interface {
	Put(key string, data []byte) (location string, err error)
	PutContext(ctx context.Context, key string, data []byte) (location string, err error)
	// Get reads the record at key; List the keys below a prefix, sorted.
	Get(ctx context.Context, key string) ([]byte, error)
	List(ctx context.Context, prefix string) ([]string, error)
}

// Store returns the record store at the location: a local folder or an S3 prefix.
func (l *Location) Store(ctx context.Context) (Store, error) {
	if !l.s3 {
		return Dir(l.raw), nil
	}
	c, err := l.Client(ctx)
	if err != nil {
		return nil, err
	}
	return S3Store{Client: c, Bucket: l.bucket, Prefix: l.key, Timeout: l.opts.Timeout}, nil
}

// OpenStore is Open followed by Store: the one way a front end turns a configured location
// into a record store.
func OpenStore(ctx context.Context, location string, o S3Options) (Store, error) {
	l, err := Open(location, o)
	if err != nil {
		return nil, err
	}
	return l.Store(ctx)
}

// Dir is a Store in a local folder.
type Dir string

// PutContext is Put, refused once ctx has ended.
func (d Dir) PutContext(ctx context.Context, key string, data []byte) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("evidence record %s not written: %w", filepath.Join(string(d), filepath.FromSlash(key)), err)
	}
	return d.Put(key, data)
}

// Put creates the file exclusively and atomically: the bytes go to a hidden temporary file that
// is then hard-linked to its name, which fails when the name exists, so a reader (another
// process listing the folder) never sees a half-written record and nothing is ever overwritten.
func (d Dir) Put(key string, data []byte) (string, error) {
	p := filepath.Join(string(d), filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return "", fmt.Errorf("evidence folder %s: %w", d, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return "", fmt.Errorf("evidence record %s: %w", p, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return "", fmt.Errorf("evidence record %s: %w", p, err)
	}
	if err := tmp.Chmod(0o440); err != nil {
		_ = tmp.Close()
		return "", fmt.Errorf("evidence record %s: %w", p, err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("evidence record %s: %w", p, err)
	}
	err = os.Link(tmp.Name(), p)
	if errors.Is(err, fs.ErrExist) {
		if same, _ := sameContent(p, data); same {
			return p, nil
		}
		return "", fmt.Errorf("evidence record %s exists with other content; records are never overwritten", p)
	}
	if err != nil {
		return "", fmt.Errorf("evidence record %s: %w", p, err)
	}
	return p, nil
}

// sameContent compares a file with data, reading no more than len(data)+1 bytes of it.
func sameContent(path string, data []byte) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer func() { _ = f.Close() }()
	old, err := io.ReadAll(io.LimitReader(f, int64(len(data))+1))
	return err == nil && bytes.Equal(old, data), err
}

// Get reads the record at key, within the bound on one read.
func (d Dir) Get(ctx context.Context, key string) ([]byte, error) {
	return ReadFileLimit(ctx, filepath.Join(string(d), filepath.FromSlash(key)), DefaultMaxBytes)
}

// List returns the keys below prefix (a folder path within the store), sorted. A missing folder
// lists nothing. Symbolic links and hidden files (temporary files of Put) are not keys. It reads
// each folder once, unsorted, and builds keys by concatenation: a ledger folder holds a record
// per evaluation, and listing it is most of what reading a quiet history costs.
func (d Dir) List(ctx context.Context, prefix string) ([]string, error) {
	root := filepath.Join(string(d), filepath.FromSlash(prefix))
	rel, err := filepath.Rel(string(d), root)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", root, err)
	}
	var keys []string
	if err := listInto(ctx, root, filepath.ToSlash(rel), &keys, true); err != nil {
		return nil, fmt.Errorf("listing %s: %w", root, err)
	}
	sort.Strings(keys)
	return keys, nil
}

// listInto appends the keys of the regular files under folder (key prefix key) to keys.
func listInto(ctx context.Context, folder, key string, keys *[]string, top bool) error {
	f, err := os.Open(folder)
	if err != nil {
		if top && errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	entries, err := f.ReadDir(-1)
	_ = f.Close()
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if key == "." {
		key = ""
	} else {
		key += "/"
	}
	for _, e := range entries {
		name := e.Name()
		switch {
		case e.IsDir():
			if err := listInto(ctx, filepath.Join(folder, name), key+name, keys, false); err != nil {
				return err
			}
		case e.Type().IsRegular() && !strings.HasPrefix(name, "."):
			*keys = append(*keys, key+name)
		}
	}
	return nil
}

// ListFolders lists the names of the folders directly under prefix (a folder path ending in
// "/"), without walking what they hold: a reader of many units' ledgers lists the units first.
func (d Dir) ListFolders(ctx context.Context, prefix string) ([]string, error) {
	root := filepath.Join(string(d), filepath.FromSlash(prefix))
	entries, err := os.ReadDir(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", root, err)
	}
	if cerr := ctx.Err(); cerr != nil {
		return nil, cerr
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}
