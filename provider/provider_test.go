package provider

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

var testAccProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"drift": providerserver.NewProtocol6WithError(New("test")()),
}

// diagRE matches the given fragments in order across OpenTofu's wrapped diagnostic text: each
// space in a fragment matches any run of whitespace, and anything may come between fragments.
func diagRE(fragments ...string) *regexp.Regexp {
	parts := make([]string, len(fragments))
	for i, f := range fragments {
		parts[i] = strings.ReplaceAll(regexp.QuoteMeta(f), " ", `\s+`)
	}
	return regexp.MustCompile(`(?s)` + strings.Join(parts, ".*"))
}

// repoRoot is the module root.
func repoRoot() string { return testtools.Root() }

// toolPaths are the programs scripts/tools.sh builds.
func toolPaths(t *testing.T) map[string]string { return testtools.Paths(t) }

// requireTofu points terraform-plugin-testing at the OpenTofu built by `make tools`, and never
// lets it download anything. Outside CI a missing binary skips; in CI it fails, because an
// acceptance suite that silently skips proves nothing.
func requireTofu(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if bin == "" {
		bin = testtools.Require(t, "TOFU")
	}
	t.Setenv("TF_ACC_TERRAFORM_PATH", bin)
	t.Setenv("TF_ACC_PROVIDER_HOST", "registry.opentofu.org")
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "hashicorp")
	t.Setenv("CHECKPOINT_DISABLE", "1")
	t.Setenv("TF_IN_AUTOMATION", "1")
	// The provider generates a digest key when none exists; never in the user's home.
	t.Setenv("DRIFTPLANE_DIGEST_KEY_FILE", filepath.Join(t.TempDir(), "digest-key"))
	// The machine may point TF_CLI_CONFIG_FILE at a missing file; use an empty one of our own.
	cfg := filepath.Join(t.TempDir(), "empty.tfrc")
	if err := os.WriteFile(cfg, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TF_CLI_CONFIG_FILE", cfg)
	return bin
}
