package drift

import "strings"

// kubernetesSingleBlocks are the hashicorp/kubernetes provider's one-item nested blocks whose
// name is the same word on the Kubernetes plane. The provider writes each as a list, so a label
// is /metadata/0/labels/team in a plan and /metadata/labels/team in the object.
var kubernetesSingleBlocks = map[string]bool{
	"metadata": true, "spec": true, "template": true, "strategy": true, "selector": true, "job_template": true,
}

// TerraformKubernetesType reports whether an OpenTofu resource type is one of the
// hashicorp/kubernetes provider's (kubernetes_deployment_v1), whose nested blocks are lists.
func TerraformKubernetesType(resourceType string) bool {
	return strings.HasPrefix(resourceType, "kubernetes_")
}

// KubernetesPlanePath is the Kubernetes-plane spelling of a path of a kubernetes_* resource: the
// "0" index after each one-item block at the top is dropped (/spec/0/template/0/metadata/0/labels/x
// is /spec/template/metadata/labels/x). It stops at the first token that is not such a block, so
// map keys and real lists (/rule/0, /data/metadata) keep their indexes and names; it returns nil
// when there is nothing to drop. One plan path has exactly one spelling, so matching either form
// never covers a field the pattern does not name.
func KubernetesPlanePath(p Pointer) Pointer {
	i := 0
	for i+1 < len(p) && kubernetesSingleBlocks[p[i]] && p[i+1] == "0" {
		i += 2
	}
	if i == 0 {
		return nil
	}
	out := make(Pointer, 0, len(p)-i/2)
	for j := 0; j < i; j += 2 {
		out = append(out, p[j])
	}
	return append(out, p[i:]...)
}

// pathHasPrefix is HasPrefix that also accepts the Kubernetes-plane spelling of a kubernetes_*
// resource's path (see KubernetesPlanePath).
func pathHasPrefix(p, pattern Pointer, kubernetesBlocks bool) bool {
	if p.HasPrefix(pattern) {
		return true
	}
	if !kubernetesBlocks {
		return false
	}
	alt := KubernetesPlanePath(p)
	return alt != nil && alt.HasPrefix(pattern)
}

// withKubernetesPlanePaths adds the Kubernetes-plane spelling of each path, for checks that must
// see a kubernetes_* resource's path in both forms (what an exception's paths need a ticket for).
func withKubernetesPlanePaths(paths []Pointer) []Pointer {
	out := append([]Pointer(nil), paths...)
	for _, p := range paths {
		if alt := KubernetesPlanePath(p); alt != nil {
			out = append(out, alt)
		}
	}
	return out
}

// anyPrefixIn is anyPrefix with pathHasPrefix's two spellings of a kubernetes_* path.
func anyPrefixIn(p Pointer, patterns []Pointer, kubernetesBlocks bool) bool {
	for _, pat := range patterns {
		if pathHasPrefix(p, pat, kubernetesBlocks) {
			return true
		}
	}
	return false
}
