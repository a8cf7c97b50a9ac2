package blob

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A folder store lists what Put wrote, and nothing a reader must not take for a key: not the
// temporary files of a Put in progress, not symbolic links (which could point outside the store).
func TestDirList(t *testing.T) {
	root := t.TempDir()
	d := Dir(root)
	for _, k := range []string{"ledger/web/2.json", "ledger/web/1.json", "ledger/web/sub/3.json", "ledger/api/1.json", "ledger/web/.hidden/4.json"} {
		if _, err := d.Put(k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	outside := filepath.Join(t.TempDir(), "x.json")
	if err := os.WriteFile(outside, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	web := filepath.Join(root, "ledger", "web")
	for _, mk := range []func() error{
		func() error { return os.WriteFile(filepath.Join(web, ".tmp-123"), []byte("half"), 0o600) },
		func() error { return os.Symlink(outside, filepath.Join(web, "5.json")) },
		func() error { return os.Symlink(filepath.Dir(outside), filepath.Join(web, "linked")) },
	} {
		if err := mk(); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	got, err := d.List(ctx, "ledger/web/")
	want := []string{"ledger/web/.hidden/4.json", "ledger/web/1.json", "ledger/web/2.json", "ledger/web/sub/3.json"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("List(ledger/web/) = %q, %v; want %q", got, err, want)
	}
	if all, err := d.List(ctx, ""); err != nil || len(all) != 5 || all[0] != "ledger/api/1.json" {
		t.Errorf("List of the whole store = %q, %v", all, err)
	}
	if none, err := d.List(ctx, "ledger/nobody/"); err != nil || len(none) != 0 {
		t.Errorf("a missing folder lists %q, %v; want nothing", none, err)
	}
	if err := os.WriteFile(filepath.Join(root, "afile"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := d.List(ctx, "afile/"); err == nil || !strings.Contains(err.Error(), "afile") {
		t.Errorf("listing a file as a folder: %v, want an error naming it", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := d.List(cancelled, "ledger/"); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled listing: %v", err)
	}
}

// Get returns a file whole whatever its size relative to the buffer it starts with, and refuses
// one past the bound.
func TestReadFileLimit(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 1, 511, 512, 513, 100_000} {
		p := filepath.Join(dir, "f")
		data := []byte(strings.Repeat("x", n))
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFileLimit(context.Background(), p, 100_000)
		if err != nil || string(got) != string(data) {
			t.Errorf("%d bytes: got %d bytes, %v", n, len(got), err)
		}
		if n > 1 { // a bound of 0 means the default bound
			if _, err := ReadFileLimit(context.Background(), p, int64(n-1)); !errors.Is(err, ErrTooLarge) {
				t.Errorf("%d bytes with a bound of %d: %v, want ErrTooLarge", n, n-1, err)
			}
		}
	}
}
