package provider

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
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

// requireTofu points terraform-plugin-testing at the OpenTofu built by `make tools` (or at the
// CLI in TF_ACC_TERRAFORM_PATH: OpenTofu, or Terraform for `make testacc-terraform`), and never
// lets it download anything. Outside CI a missing binary skips; in CI it fails, because an
// acceptance suite that silently skips proves nothing.
func requireTofu(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if bin == "" {
		bin = testtools.Require(t, "TOFU")
	}
	host := cliRegistryHost(t, bin)
	if h := os.Getenv("TF_ACC_PROVIDER_HOST"); h != "" && h != host {
		t.Fatalf("TF_ACC_PROVIDER_HOST=%s, but %s resolves providers under %s", h, bin, host)
	}
	t.Setenv("TF_ACC_TERRAFORM_PATH", bin)
	t.Setenv("TF_ACC_PROVIDER_HOST", host)
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

var cliHosts sync.Map // CLI binary path -> registry host

// cliRegistryHost is the registry host under which the CLI at bin resolves an unqualified provider
// (`drift`, `local`): registry.opentofu.org for OpenTofu, registry.terraform.io for Terraform.
// terraform-plugin-testing serves the provider under this host, and the provider mirrors of the
// tests must name it.
func cliRegistryHost(t *testing.T, bin string) string {
	t.Helper()
	if h, ok := cliHosts.Load(bin); ok {
		return h.(string)
	}
	cmd := exec.Command(bin, "version")
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s version: %v", bin, err)
	}
	var host string
	switch v := string(out); {
	case strings.HasPrefix(v, "OpenTofu "):
		host = "registry.opentofu.org"
	case strings.HasPrefix(v, "Terraform "):
		host = "registry.terraform.io"
	default:
		t.Fatalf("%s is neither OpenTofu nor Terraform: %q", bin, v)
	}
	cliHosts.Store(bin, host)
	return host
}
