package digestkey

import (
	"os"
	"path/filepath"
	"testing"
)

func TestResolveOrder(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "sub", "digest-key")
	t.Setenv(EnvKey, "")
	t.Setenv(EnvFile, file)

	d1, src, err := Resolve("")
	if err != nil {
		t.Fatal(err)
	}
	if string(src) != file {
		t.Fatalf("source %q, want the key file", src)
	}
	st, err := os.Stat(file)
	if err != nil {
		t.Fatalf("the key file was not created: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	d2, _, err := Resolve("")
	if err != nil {
		t.Fatal(err)
	}
	if d1.Digest("x") != d2.Digest("x") {
		t.Fatal("a second resolution made a new key instead of reusing the stored one")
	}

	t.Setenv(EnvKey, "environment-key-0123456789")
	d3, src, err := Resolve("")
	if err != nil || src != "$"+EnvKey {
		t.Fatalf("env key: %v %q", err, src)
	}
	if d3.Digest("x") == d1.Digest("x") {
		t.Fatal("the environment key was ignored")
	}
	d4, src, err := Resolve("explicit-key-0123456789")
	if err != nil || src != "configuration" || d4.Digest("x") == d3.Digest("x") {
		t.Fatalf("explicit key: %v %q", err, src)
	}
	if _, _, err := Resolve("short"); err == nil {
		t.Fatal("a short explicit key was accepted")
	}
	t.Setenv(EnvKey, "")
	if err := os.WriteFile(file, []byte("tiny\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Resolve(""); err == nil {
		t.Fatal("a key file holding a short key was accepted")
	}
}
