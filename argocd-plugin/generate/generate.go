// Package generate is the config-management-plugin side of driftplane: it renders an Argo CD
// application's directory, removes from the desired manifests every field the policy says Git
// does not own, and adds a DriftReport carrying the validated policy.
package generate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
)

// PolicyDir is where an application keeps its drift policy, next to its manifests.
const PolicyDir = ".drift"

// DefaultFreshnessSeconds bounds how old an evaluation may be before the health check calls the
// report stale.
const DefaultFreshnessSeconds = 900

// Environment variables Argo CD passes to plugins. Parameters set on the Application arrive as
// ARGOCD_ENV_<NAME>.
const (
	EnvAppName      = "ARGOCD_APP_NAME"
	EnvAppNamespace = "ARGOCD_APP_NAMESPACE"
	EnvRevision     = "ARGOCD_APP_REVISION"
	EnvEnvironment  = "ARGOCD_ENV_DRIFTPLANE_ENVIRONMENT"
	EnvGate         = "ARGOCD_ENV_DRIFTPLANE_GATE"
	EnvRiskTier     = "ARGOCD_ENV_DRIFTPLANE_RISK_TIER"
	EnvFreshness    = "ARGOCD_ENV_DRIFTPLANE_FRESHNESS_SECONDS"
)

// Options are what Argo CD tells the plugin about the application.
type Options struct {
	// Env is the plugin's environment (name → value); only the variables above are read.
	Env map[string]string
}

// StrippedField records a path removed from a desired object (kube.StrippedField).
type StrippedField = kube.StrippedField

// Generate renders dir into a YAML stream: the desired objects minus fields Git does not own,
// then one DriftReport. It fails closed: on any error it returns no output at all, because
// empty output with pruning enabled would delete the application.
func Generate(dir string, opts Options) ([]byte, error) {
	policy, err := drift.LoadPolicy(filepath.Join(dir, PolicyDir))
	if err != nil {
		return nil, err
	}
	if err := applyEnv(policy.Unit, opts.Env); err != nil {
		return nil, err
	}
	// An application that renders no object is an error (kube.LoadManifests and decodeRendered
	// refuse it): empty output with pruning enabled would delete the application.
	manifests, raw, err := loadApp(dir, opts.Env)
	if err != nil {
		return nil, err
	}
	for _, m := range manifests {
		if m.Object.GroupVersionKind().Group == drift.GroupName && m.Object.GetKind() == KindDriftReport {
			return nil, fmt.Errorf("manifest %s declares a %s itself; the plugin generates it", m.Source, KindDriftReport)
		}
	}
	stripped := kube.GitDesired(manifests, policy.Unit, drift.DefaultTable())
	report, err := driftReport(policy, opts, stripped)
	if err != nil {
		return nil, err
	}
	changed := map[string]bool{}
	for _, f := range stripped {
		changed[f.Ref] = true
	}
	var out bytes.Buffer
	for i, m := range manifests {
		// A chart's document nothing was stripped from goes out as helm rendered it, and one that
		// was stripped as JSON (also YAML): re-encoding a thousand objects as YAML would cost
		// more than rendering them.
		if raw != nil {
			gvk := m.Object.GroupVersionKind()
			if raw[i] != nil && !changed[kube.Ref(gvk.Group, gvk.Version, gvk.Kind, m.Object.GetNamespace(), m.Object.GetName())] {
				out.WriteString("---\n")
				out.Write(raw[i])
				if !bytes.HasSuffix(raw[i], []byte("\n")) {
					out.WriteByte('\n')
				}
				continue
			}
			js, err := json.Marshal(m.Object.Object)
			if err != nil {
				return nil, fmt.Errorf("manifest %s: %w", m.Source, err)
			}
			out.WriteString("---\n")
			out.Write(js)
			out.WriteByte('\n')
			continue
		}
		if err := writeDoc(&out, m.Object.Object); err != nil {
			return nil, fmt.Errorf("manifest %s: %w", m.Source, err)
		}
	}
	if err := writeDoc(&out, report); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// loadApp renders dir the way Argo CD would pick for it: a kustomization (with helmCharts
// enabled), else a Helm chart, else a folder of manifests. Argo CD prefers the kustomization when
// a folder is both.
// For a Helm chart it also returns each object's rendered document (nil where one document held
// several objects), which may be written out as it is.
func loadApp(dir string, env map[string]string) ([]kube.Manifest, [][]byte, error) {
	params, err := ParseHelmParams(env)
	if err != nil {
		return nil, nil, err
	}
	kustomization := false
	for _, k := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if _, err := os.Stat(filepath.Join(dir, k)); err == nil {
			kustomization = true
		}
	}
	_, statErr := os.Stat(filepath.Join(dir, ChartFile))
	if !kustomization && statErr == nil {
		return renderHelmApp(dir, env, params)
	}
	if given := params.given(); len(given) > 0 {
		return nil, nil, fmt.Errorf("helm parameters (%s) given, but %s is not a Helm chart (no %s, or a kustomization)", strings.Join(given, ", "), dir, ChartFile)
	}
	if kustomization {
		ms, _, err := kustomizeApp(dir, env)
		return ms, nil, err
	}
	ms, err := kube.LoadManifests(dir)
	return ms, nil, err
}

func writeDoc(w *bytes.Buffer, obj map[string]any) error {
	y, err := yaml.Marshal(obj)
	if err != nil {
		return err
	}
	w.WriteString("---\n")
	w.Write(y)
	return nil
}

func applyEnv(u *drift.ManagedUnit, env map[string]string) error {
	set := func(name string, dst *string) {
		if v, ok := env[name]; ok && strings.TrimSpace(v) != "" {
			*dst = strings.TrimSpace(v)
		}
	}
	set(EnvEnvironment, &u.Spec.Environment)
	set(EnvGate, &u.Spec.Gate)
	set(EnvRiskTier, &u.Spec.RiskTier)
	if err := u.Validate(); err != nil {
		return fmt.Errorf("policy after application parameters (%s, %s, %s): %w", EnvEnvironment, EnvGate, EnvRiskTier, err)
	}
	return nil
}

// stripNonGitFields is kube.StripNonGitFields (kept by name for this package's tests).
func stripNonGitFields(manifests []kube.Manifest, u *drift.ManagedUnit, t *drift.Table) []StrippedField {
	return kube.StripNonGitFields(manifests, u, t)
}

// EnvFromOS collects the ARGOCD_* variables of the plugin's environment and the destination's
// KUBE_VERSION and KUBE_API_VERSIONS.
func EnvFromOS() map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok && (strings.HasPrefix(k, "ARGOCD_") || k == EnvKubeVersion || k == EnvKubeAPIVersions) {
			env[k] = v
		}
	}
	return env
}
