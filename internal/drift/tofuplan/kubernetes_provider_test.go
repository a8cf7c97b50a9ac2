package tofuplan_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/tofuplan"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/kubetest"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

// kubernetesProviderVersion is the version scripts/tools.sh gives the hashicorp/kubernetes build
// in its filesystem mirror.
const kubernetesProviderVersion = "2.99.0-dev"

// The secret values: neither may appear in anything driftplane writes.
const (
	secretBefore = "s3cr3t-before-7Qx"
	secretAfter  = "s3cr3t-after-9Zk"
)

const kubernetesStack = `terraform {
  required_providers {
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "` + kubernetesProviderVersion + `"
    }
  }
}

variable "kubeconfig" { type = string }

provider "kubernetes" {
  config_path = var.kubeconfig
}

resource "kubernetes_deployment_v1" "web" {
  metadata {
    name      = "web"
    namespace = "default"
    labels    = { app = "web" }
  }
  spec {
    replicas = 2
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
  # No controller-manager runs next to this kube-apiserver: nothing would roll out.
  wait_for_rollout = false
}

resource "kubernetes_deployment_v1" "worker" {
  metadata {
    name      = "worker"
    namespace = "default"
    labels    = { app = "worker" }
  }
  spec {
    replicas = 2
    selector { match_labels = { app = "worker" } }
    template {
      metadata { labels = { app = "worker" } }
      spec {
        container {
          name  = "worker"
          image = "registry.example/worker:1.0"
        }
      }
    }
  }
  wait_for_rollout = false
}

resource "kubernetes_role_v1" "reader" {
  metadata {
    name      = "reader"
    namespace = "default"
  }
  rule {
    api_groups = [""]
    resources  = ["pods"]
    verbs      = ["get", "list"]
  }
}

resource "kubernetes_network_policy_v1" "web" {
  metadata {
    name      = "web"
    namespace = "default"
  }
  spec {
    pod_selector { match_labels = { app = "web" } }
    policy_types = ["Ingress"]
    ingress {
      from {
        ip_block { cidr = "10.0.0.0/8" }
      }
    }
  }
}

resource "kubernetes_config_map_v1" "settings" {
  metadata {
    name      = "settings"
    namespace = "default"
  }
  data = { mode = "strict" }
}

resource "kubernetes_secret_v1" "db" {
  metadata {
    name      = "db"
    namespace = "default"
  }
  data = { password = "` + secretBefore + `" }
}
`

// TestRealKubernetesProviderNoise runs the real OpenTofu with the real hashicorp/kubernetes
// provider against a real kube-apiserver, changes the objects with kubectl behind its back, and
// reads the refresh-only plan: the provider's bookkeeping (resource_version, generation) that
// every such change bumps must not become drift, nor lift a label change above LOW.
func TestRealKubernetesProviderNoise(t *testing.T) {
	tofu := testtools.Require(t, "TOFU")
	mirror := testtools.Require(t, "KUBERNETES_PROVIDER_MIRROR")
	cluster := kubetest.Start(t)
	admin := []string{"system:masters"}

	dir := t.TempDir()
	cli := filepath.Join(dir, "cli.tfrc")
	writeTestFile(t, cli, `provider_installation {
  filesystem_mirror {
    path    = "`+mirror+`"
    include = ["registry.opentofu.org/hashicorp/kubernetes"]
  }
  direct { exclude = ["registry.opentofu.org/hashicorp/kubernetes"] }
}
`)
	writeTestFile(t, filepath.Join(dir, "main.tf"), kubernetesStack)
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

	// Out of band, as people and autoscalers do it.
	cluster.KubectlAs("oncall", admin, "-n", "default", "label", "deployment", "web", "team=payments")
	cluster.KubectlAs("oncall", admin, "-n", "default", "scale", "deployment", "worker", "--replicas=5")
	cluster.KubectlAs("oncall", admin, "-n", "default", "patch", "role", "reader", "--type=json",
		`-p=[{"op":"add","path":"/rules/0/verbs/-","value":"delete"}]`)
	cluster.KubectlAs("oncall", admin, "-n", "default", "patch", "configmap", "settings", "--type=merge",
		`-p={"data":{"mode":"permissive"}}`)
	cluster.KubectlAs("oncall", admin, "-n", "default", "patch", "secret", "db", "--type=merge",
		`-p={"stringData":{"password":"`+secretAfter+`"}}`)

	tf("plan", "-refresh-only", "-input=false", "-no-color", "-out=drift.plan")
	planJSON := tf("show", "-json", "drift.plan")
	schemaJSON := tf("providers", "schema", "-json")

	schemas, err := tofuplan.ReadProviderSchemas("schema.json", schemaJSON)
	if err != nil {
		t.Fatal(err)
	}
	// What the real schema teaches: the bookkeeping, and none of what configuration sets.
	learned := map[string]bool{}
	for _, a := range schemas.ComputedFor("registry.opentofu.org/hashicorp/kubernetes", "kubernetes_deployment_v1") {
		learned[a.Path.String()] = true
	}
	for _, want := range []string{"/metadata/*/resource_version", "/metadata/*/generation", "/metadata/*/uid"} {
		if !learned[want] {
			t.Errorf("schema: %s not learned as computed (learned %v)", want, learned)
		}
	}
	for _, never := range []string{"/metadata/*/labels", "/metadata/*/namespace", "/spec/*/replicas", "/metadata/*/name"} {
		if learned[never] {
			t.Errorf("schema: %s (optional) learned as computed", never)
		}
	}

	for _, tc := range []struct {
		name string
		opts []tofuplan.Option
	}{
		{"built-in table", nil},
		{"with the provider schema", []tofuplan.Option{tofuplan.WithProviderSchemas(schemas)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dg, err := drift.NewDigester([]byte("0123456789abcdef0123456789abcdef"))
			if err != nil {
				t.Fatal(err)
			}
			plan, err := tofuplan.Read("drift.json", planJSON, append(tc.opts, tofuplan.WithDigester(dg))...)
			if err != nil {
				t.Fatal(err)
			}
			checkKubernetesFindings(t, plan)
		})
	}
}

func checkKubernetesFindings(t *testing.T, plan *tofuplan.Plan) {
	t.Helper()
	// The noise is real: the label alone bumped the Deployment's resource_version.
	bumped := false
	for _, o := range plan.Observations {
		if o.Ref != "kubernetes_deployment_v1.web" {
			continue
		}
		for _, c := range drift.Diff(o.Recorded, o.Actual) {
			bumped = bumped || c.Path.String() == "/metadata/0/resource_version"
		}
	}
	if !bumped {
		t.Fatal("the plan shows no resource_version change on the labelled Deployment; the test no longer tests the noise")
	}
	unit := &drift.ManagedUnit{
		Metadata: drift.Metadata{Name: "k8s-stack"},
		Spec: drift.UnitSpec{Kind: drift.UnitOpenTofuStack, Owner: "platform", Environment: "prod",
			RiskTier: "high", Gate: "high"},
	}
	rep, err := drift.Evaluate(unit, nil, plan.Observations, drift.WithDetectedAt(time.Now().UTC().Format(time.RFC3339)))
	if err != nil {
		t.Fatal(err)
	}
	// Drift findings per resource; the provider's null-read-back-as-empty (annotations, args) is
	// PROVIDER_READ_NOISE of its own, INFO, which the existing noise rules already keep apart.
	byRef := map[string][]drift.Finding{}
	for _, f := range rep.Findings {
		if f.DriftClass != drift.ClassProviderReadNoise {
			byRef[f.ResourceRef] = append(byRef[f.ResourceRef], f)
		} else if f.Blocking || f.Risk != drift.RiskInfo {
			t.Errorf("%s: read noise %s blocking=%v", f.ResourceRef, f.Risk, f.Blocking)
		}
		bookkeeping := true
		for _, p := range f.ChangedFields {
			if !strings.HasSuffix(p, "/resource_version") && !strings.HasSuffix(p, "/generation") && !strings.HasSuffix(p, "/uid") {
				bookkeeping = false
			}
			if strings.HasSuffix(p, "/resource_version") || strings.HasSuffix(p, "/generation") {
				t.Errorf("%s: bookkeeping %s is part of a finding", f.ResourceRef, p)
			}
		}
		if bookkeeping {
			t.Errorf("%s: a finding of bookkeeping alone: %v", f.ResourceRef, f.ChangedFields)
		}
	}
	one := func(ref string) drift.Finding {
		t.Helper()
		fs := byRef[ref]
		if len(fs) != 1 {
			t.Fatalf("%s: %d findings, want 1: %+v", ref, len(fs), fs)
		}
		return fs[0]
	}
	web := one("kubernetes_deployment_v1.web")
	if got := strings.Join(web.ChangedFields, ","); got != "/metadata/0/labels/team" || web.Risk != drift.RiskLow || web.Rule != "labels-and-tags" {
		t.Errorf("label on the Deployment: %s %s %s (rule %s), want /metadata/0/labels/team LOW by labels-and-tags", got, web.DriftClass, web.Risk, web.Rule)
	}
	if web.Blocking {
		t.Error("a label change blocks")
	}
	worker := one("kubernetes_deployment_v1.worker")
	if got := strings.Join(worker.ChangedFields, ","); got != "/spec/0/replicas" {
		t.Errorf("scaled Deployment: changed %s, want /spec/0/replicas alone", got)
	}
	role := one("kubernetes_role_v1.reader")
	if role.Domain != drift.DomainIdentity || role.Risk.Level() < drift.RiskHigh.Level() || role.DriftClass != drift.ClassUnauthorizedRuntime {
		t.Errorf("Role rule: %s %s %s, want identity, at least HIGH, unauthorized", role.Domain, role.Risk, role.DriftClass)
	}
	cm := one("kubernetes_config_map_v1.settings")
	if got := strings.Join(cm.ChangedFields, ","); got != "/data/mode" {
		t.Errorf("ConfigMap: changed %s, want /data/mode", got)
	}
	secret := one("kubernetes_secret_v1.db")
	if len(secret.SensitiveFields) == 0 || secret.Domain != drift.DomainSecrets {
		t.Errorf("Secret: sensitive %v, domain %s", secret.SensitiveFields, secret.Domain)
	}
	if _, ok := byRef["kubernetes_network_policy_v1.web"]; ok {
		t.Errorf("the untouched NetworkPolicy has findings: %+v", byRef["kubernetes_network_policy_v1.web"])
	}
	out, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range plan.Observations {
		b, _ := json.Marshal([]any{o.Recorded, o.Actual, o.Desired})
		out = append(out, b...)
	}
	for _, v := range []string{secretBefore, secretAfter} {
		for _, form := range []string{v, b64(v)} {
			if bytes.Contains(out, []byte(form)) {
				t.Errorf("a secret value (%q form) appears in the findings or observations", form)
			}
		}
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
