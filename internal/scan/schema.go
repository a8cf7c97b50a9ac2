package scan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/driftplane/terraform-provider-drift/internal/drift/tofuplan"
)

// lockFile is the dependency lock file `tofu init` writes: the provider versions (and so their
// schemas) a stack uses.
const lockFile = ".terraform.lock.hcl"

// providerSchema returns `tofu providers schema -json` of an initialised stack, from the cache
// when a schema was made for the same stack and lock file before. The schema only tells
// provider bookkeeping from drift, so a stack without it is still scanned (the table's built-in
// list applies): a failure is a warning, never an unknown unit.
func providerSchema(ctx context.Context, o Options, stackDir string) ([]byte, string) {
	cache := schemaCachePath(o, stackDir)
	if cache != "" {
		if data, err := readBounded(cache, tofuplan.DefaultMaxSchemaBytes); err == nil {
			if _, err := tofuplan.ReadProviderSchemas(cache, data); err == nil {
				return data, ""
			}
		}
	}
	fallback := func(err error) ([]byte, string) {
		return nil, fmt.Sprintf("tofu providers schema -json in %s: %v; provider bookkeeping is told apart by the built-in list only", stackDir, err)
	}
	data, err := tofuOutput(ctx, o, tofuplan.DefaultMaxSchemaBytes, stackDir, "providers", "schema", "-json")
	if err != nil {
		return fallback(err)
	}
	if _, err := tofuplan.ReadProviderSchemas(stackDir+" provider schema", data); err != nil {
		return fallback(err)
	}
	if cache != "" {
		// A cache that cannot be written costs the next scan one more tofu run, nothing else.
		_ = writeAtomic(cache, data)
	}
	return data, ""
}

// schemaCachePath is where the schema of a stack with its current lock file is cached: keyed by
// the stack's absolute path and the lock file's bytes, so a provider upgrade misses it. A stack
// without a lock file, or no cache folder, is not cached.
func schemaCachePath(o Options, stackDir string) string {
	dir := o.SchemaCacheDir
	if dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		dir = filepath.Join(base, "driftplane", "provider-schemas")
	}
	abs, err := filepath.Abs(stackDir)
	if err != nil {
		return ""
	}
	lock, err := readBounded(filepath.Join(stackDir, lockFile), 1<<20)
	if err != nil {
		return ""
	}
	h := sha256.New()
	_, _ = io.WriteString(h, abs)
	h.Write([]byte{0})
	h.Write(lock)
	return filepath.Join(dir, hex.EncodeToString(h.Sum(nil))+".json")
}

func readBounded(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, max)
	}
	return data, nil
}

// writeAtomic writes data so a concurrent scan of the same stack never reads half a file.
func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".schema-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
