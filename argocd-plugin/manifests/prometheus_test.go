package manifests_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

// TestPrometheusRules: the rules shipped with the plugin load in the real promtool, and their
// unit tests (each alert firing and not firing at the right time) pass.
func TestPrometheusRules(t *testing.T) {
	promtool := testtools.Require(t, "PROMTOOL")
	for _, args := range [][]string{
		{"check", "rules", "driftplane-rules.yaml"},
		{"test", "rules", "driftplane-rules.test.yaml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "prometheus"
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		t.Logf("promtool %s:\n%s", strings.Join(args, " "), out)
	}
}
