// Package generate is the config-management-plugin side of driftplane: it renders an Argo CD
// application's directory, removes from the desired manifests every field the policy says Git
// does not own, and adds a DriftReport carrying the validated policy.
package generate

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

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
	// A chart's document nothing was stripped from goes out as helm rendered it, and one that was
	// stripped as JSON (also YAML): re-encoding a thousand objects as YAML would cost more than
	// rendering them. The others are encoded on every CPU, the DriftReport beside them, each into
	// its own slot, so the output is the same whatever finishes first.
	var todo []int
	for i, m := range manifests {
		if raw != nil && raw[i] != nil {
			gvk := m.Object.GroupVersionKind()
			if !changed[kube.Ref(gvk.Group, gvk.Version, gvk.Kind, m.Object.GetNamespace(), m.Object.GetName())] {
				continue
			}
		}
		todo = append(todo, i)
	}
	encoded := make([][]byte, len(manifests))
	errs := make([]error, len(manifests))
	var reportYAML []byte
	var reportErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		reportYAML, reportErr = kube.MarshalYAML(report)
	}()
	workers := min(runtime.GOMAXPROCS(0), len(todo))
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := w; k < len(todo); k += workers {
				i := todo[k]
				if raw != nil {
					encoded[i], errs[i] = kube.MarshalJSON(manifests[i].Object.Object)
				} else {
					encoded[i], errs[i] = yaml.Marshal(manifests[i].Object.Object)
				}
			}
		}()
	}
	wg.Wait()
	size := len(reportYAML) + 4
	for i := range manifests {
		if errs[i] != nil {
			return nil, fmt.Errorf("manifest %s: %w", manifests[i].Source, errs[i])
		}
		if encoded[i] == nil {
			encoded[i] = raw[i]
		}
		size += len(encoded[i]) + 5
	}
	if reportErr != nil {
		return nil, reportErr
	}
	out := bytes.NewBuffer(make([]byte, 0, size))
	for _, doc := range append(encoded, reportYAML) {
		out.WriteString("---\n")
		out.Write(doc)
		if !bytes.HasSuffix(doc, []byte("\n")) {
			out.WriteByte('\n')
		}
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
