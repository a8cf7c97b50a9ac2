# A Kubernetes unit: desired = the rendered manifests, actual = the live objects.
data "drift_managed_unit" "web" {
  name               = "web-prod"
  kind               = "kubernetes"
  owner              = "team-web"
  environment        = "prod"
  risk_tier          = "high"
  gate               = "high"
  break_glass_groups = ["sre-breakglass"]

  ownership_rule {
    api_group = "apps"
    kind      = "Deployment"
    controller_owned {
      path  = "/spec/replicas"
      owner = "horizontal-pod-autoscaler"
    }
  }
}

data "drift_finding" "web" {
  unit = data.drift_managed_unit.web.policy_json
  kubernetes {
    kubeconfig_path = "~/.kube/config"
    manifests_path  = "${path.module}/k8s" # files, multi-document YAML, or a kustomization directory
    audit_log_path  = "/var/log/kube-apiserver/audit.log"
  }
}
