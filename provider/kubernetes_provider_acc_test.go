package provider

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/kubetest"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

// The version scripts/tools.sh gives its hashicorp/kubernetes build in the filesystem mirror.
const kubernetesProviderVersion = "2.99.0-dev"

const (
	kubeSecretBefore = "pw-before-Hq2"
	kubeSecretAfter  = "pw-after-Vb8"
)

// TestAccKubernetesProviderBookkeeping: a stack the real hashicorp/kubernetes provider manages
// on a real kube-apiserver, labelled and its Secret rewritten by kubectl; drift_finding reads the
// refresh-only plan with the providers' schema. The label is LOW and alone (its resource_version
// bump is bookkeeping), no finding is bookkeeping alone, the Secret's values appear nowhere.
func TestAccKubernetesProviderBookkeeping(t *testing.T) {
	tofu := testtools.Require(t, "TOFU")
	mirror := testtools.Require(t, "KUBERNETES_PROVIDER_MIRROR")
	cluster := kubetest.Start(t)
	dir := t.TempDir()
	cli := filepath.Join(dir, "cli.tfrc")
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("cli.tfrc", fmt.Sprintf(`provider_installation {
  filesystem_mirror {
    path    = %q
    include = ["registry.opentofu.org/hashicorp/kubernetes"]
  }
  direct { exclude = ["registry.opentofu.org/hashicorp/kubernetes"] }
}
`, mirror))
	write("main.tf", `terraform {
  required_providers {
    kubernetes = { source = "hashicorp/kubernetes", version = "`+kubernetesProviderVersion+`" }
  }
}
variable "kubeconfig" { type = string }
provider "kubernetes" { config_path = var.kubeconfig }

resource "kubernetes_deployment_v1" "web" {
  metadata {
    name      = "web"
    namespace = "default"
    labels    = { app = "web" }
  }
  spec {
    replicas = 1
    selector { match_labels = { app = "web" } }
    template {
      metadata { labels = { app = "web" } }
      spec {
        container {
          name  = "web"
          image = "registry.example/web:1.0"
        }
      }
    }
  }
  wait_for_rollout = false
}

resource "kubernetes_secret_v1" "db" {
  metadata {
    name      = "db"
    namespace = "default"
  }
  data = { password = "`+kubeSecretBefore+`" }
}
`)
	env := append(os.Environ(), "TF_CLI_CONFIG_FILE="+cli, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1",
		"TF_VAR_kubeconfig="+cluster.Kubeconfig("tofu", "system:masters"))
	tf := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(tofu, args...)
		cmd.Dir, cmd.Env = dir, env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("tofu %v: %v\n%s\n%s", args, err, out.String(), errb.String())
		}
		return out.Bytes()
	}
	tf("init", "-input=false", "-no-color")
	tf("apply", "-auto-approve", "-input=false", "-no-color")
	admin := []string{"system:masters"}
	cluster.KubectlAs("oncall", admin, "-n", "default", "label", "deployment", "web", "team=payments")
	cluster.KubectlAs("oncall", admin, "-n", "default", "patch", "secret", "db", "--type=merge",
		`-p={"stringData":{"password":"`+kubeSecretAfter+`"}}`)
	tf("plan", "-refresh-only", "-input=false", "-no-color", "-out=drift.plan")
	planPath, schemaPath := filepath.Join(dir, "drift.json"), filepath.Join(dir, "schema.json")
	write("drift.json", string(tf("show", "-json", "drift.plan")))
	write("schema.json", string(tf("providers", "schema", "-json")))

	cfg := func(schema string) string {
		return unitHCL("high") + fmt.Sprintf(`
data "drift_finding" "f" {
  unit                      = data.drift_managed_unit.u.policy_json
  plan_json_path            = %q
  provider_schema_json_path = %q
  enforce_gate              = false
}
`, planPath, schema)
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg(schemaPath), Check: checkKubernetesBookkeeping},
			{Config: cfg(filepath.Join(dir, "missing.json")), ExpectError: regexp.MustCompile(`(?s)Cannot read the provider schema.*tofu providers\s+schema -json`)},
			{Config: cfg(planPath), ExpectError: regexp.MustCompile(`(?s)Cannot read the provider schema.*has no\s+provider_schemas`)},
		},
	})
}

func checkKubernetesBookkeeping(s *terraform.State) error {
	attrs := s.RootModule().Resources["data.drift_finding.f"].Primary.Attributes
	for k, v := range attrs {
		for _, secret := range []string{kubeSecretBefore, kubeSecretAfter} {
			if strings.Contains(v, secret) {
				return fmt.Errorf("a secret value appears in %s", k)
			}
		}
	}
	n, _ := strconv.Atoi(attrs["findings.#"])
	label, secret := false, false
	for i := 0; i < n; i++ {
		at := func(k string) string { return attrs[fmt.Sprintf("findings.%d.%s", i, k)] }
		nf, _ := strconv.Atoi(at("changed_fields.#"))
		var fields []string
		for j := 0; j < nf; j++ {
			fields = append(fields, at(fmt.Sprintf("changed_fields.%d", j)))
		}
		for _, f := range fields {
			if strings.HasSuffix(f, "/resource_version") || strings.HasSuffix(f, "/generation") || strings.HasSuffix(f, "/uid") {
				return fmt.Errorf("finding %d of %s carries bookkeeping %s: %v", i, at("resource_ref"), f, fields)
			}
		}
		if at("drift_class") == "PROVIDER_READ_NOISE" {
			continue
		}
		switch at("resource_ref") {
		case "kubernetes_deployment_v1.web":
			if label {
				return fmt.Errorf("two drift findings for the labelled Deployment")
			}
			label = true
			if strings.Join(fields, ",") != "/metadata/0/labels/team" || at("risk") != "LOW" || at("rule") != "labels-and-tags" || at("blocking") != "false" {
				return fmt.Errorf("label: %v %s %s blocking=%s, want /metadata/0/labels/team LOW by labels-and-tags", fields, at("risk"), at("rule"), at("blocking"))
			}
		case "kubernetes_secret_v1.db":
			secret = true
			if at("sensitive_fields.#") == "0" || at("domain") != "secrets" {
				return fmt.Errorf("secret: sensitive_fields.# %s, domain %s", at("sensitive_fields.#"), at("domain"))
			}
		}
	}
	if !label || !secret {
		return fmt.Errorf("missing findings: label %v, secret %v (%d findings)", label, secret, n)
	}
	return nil
}
