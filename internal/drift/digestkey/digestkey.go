// Package digestkey finds the per-installation key that driftplane's keyed digests of sensitive
// values (drift.Digester) use: an explicit value, the DRIFTPLANE_DIGEST_KEY environment variable,
// or a key file that is generated once, readable by its owner only, when absent. The Argo CD
// reporter keeps the same key in a Kubernetes Secret instead (see its --digest-key-secret flag).
package digestkey

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// EnvKey holds the key itself; EnvFile names the key file.
const (
	EnvKey  = "DRIFTPLANE_DIGEST_KEY"
	EnvFile = "DRIFTPLANE_DIGEST_KEY_FILE"
)

// Source says where a key came from, for messages (never the key itself).
type Source string

// DefaultFile is ${XDG_CONFIG_HOME:-$HOME/.config}/driftplane/digest-key.
func DefaultFile() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no configuration folder for the digest key (set %s or %s): %w", EnvKey, EnvFile, err)
	}
	return filepath.Join(dir, "driftplane", "digest-key"), nil
}

// Resolve returns the Digester for this installation: explicit when set (a provider attribute or
// a flag), else $DRIFTPLANE_DIGEST_KEY, else the key file ($DRIFTPLANE_DIGEST_KEY_FILE or
// DefaultFile), created with a fresh random key when it does not exist yet.
func Resolve(explicit string) (*drift.Digester, Source, error) {
	if explicit != "" {
		d, err := drift.NewDigester([]byte(explicit))
		if err != nil {
			return nil, "", fmt.Errorf("digest key: %w", err)
		}
		return d, "configuration", nil
	}
	if k := os.Getenv(EnvKey); k != "" {
		d, err := drift.NewDigester([]byte(k))
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", EnvKey, err)
		}
		return d, Source("$" + EnvKey), nil
	}
	path := os.Getenv(EnvFile)
	if path == "" {
		var err error
		if path, err = DefaultFile(); err != nil {
			return nil, "", err
		}
	}
	key, err := LoadOrCreate(path)
	if err != nil {
		return nil, "", err
	}
	d, err := drift.NewDigester(key)
	if err != nil {
		return nil, "", fmt.Errorf("digest key file %s: %w", path, err)
	}
	return d, Source(path), nil
}

// LoadOrCreate reads the key in path, or writes a new random one there (mode 0600, created
// exclusively so two processes starting together agree on one key).
func LoadOrCreate(path string) ([]byte, error) {
	if key, err := read(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("digest key file %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return read(path) // another process made it first
	}
	if err != nil {
		return nil, fmt.Errorf("digest key file %s: %w", path, err)
	}
	key := New()
	if _, err := f.WriteString(string(key) + "\n"); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("digest key file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("digest key file %s: %w", path, err)
	}
	return key, nil
}

// New returns a fresh random key (32 random bytes, hex-encoded).
func New() []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("driftplane: no randomness for a digest key: " + err.Error())
	}
	return []byte(hex.EncodeToString(b))
}

func read(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("digest key file %s: %w", path, err)
	}
	key := []byte(strings.TrimSpace(string(b)))
	if len(key) < drift.MinDigestKeyBytes {
		return nil, fmt.Errorf("digest key file %s holds %d bytes; at least %d are required", path, len(key), drift.MinDigestKeyBytes)
	}
	return key, nil
}
