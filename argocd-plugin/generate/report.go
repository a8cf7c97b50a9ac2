package generate

import (
	"fmt"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// KindDriftReport is the kind of the object the plugin adds to every application.
const KindDriftReport = v1alpha1.KindDriftReport

// driftReport builds the DriftReport (api/v1alpha1), as an object for the output stream: its spec
// is the validated policy, so the policy travels with the application and the reporter evaluates
// exactly what Git declared.
func driftReport(p *drift.Bundle, opts Options, stripped []StrippedField) (map[string]any, error) {
	name := opts.Env[EnvAppName]
	if name == "" {
		name = p.Unit.Metadata.Name
	}
	name = dnsLabel(name)
	freshness := DefaultFreshnessSeconds
	if v := strings.TrimSpace(opts.Env[EnvFreshness]); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 60 {
			return nil, fmt.Errorf("%s=%q: want a number of seconds, at least 60", EnvFreshness, v)
		}
		freshness = n
	}
	rep := &v1alpha1.DriftReport{
		TypeMeta: metav1.TypeMeta{APIVersion: drift.APIVersion, Kind: KindDriftReport},
		ObjectMeta: metav1.ObjectMeta{
			Name:   name,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "driftplane"},
		},
		Spec: v1alpha1.DriftReportSpec{
			Unit:             p.Unit.ToAPI(),
			FreshnessSeconds: int64(freshness),
			Revision:         opts.Env[EnvRevision],
		},
	}
	for _, e := range p.Exceptions {
		rep.Spec.Exceptions = append(rep.Spec.Exceptions, e.ToAPI())
	}
	for _, a := range p.AutoHeal {
		rep.Spec.AutoHealPolicies = append(rep.Spec.AutoHealPolicies, a.ToAPI())
	}
	rep.Spec.StrippedFields = append(rep.Spec.StrippedFields, stripped...)
	if app := opts.Env[EnvAppName]; app != "" {
		rep.Spec.Application = &v1alpha1.ApplicationRef{Name: app, Namespace: opts.Env[EnvAppNamespace]}
	}
	return runtime.DefaultUnstructuredConverter.ToUnstructured(rep)
}

// dnsLabel makes an application name a valid object name (Argo CD allows names Kubernetes may not).
func dnsLabel(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
	}
	out := strings.Trim(b.String(), "-.")
	if len(out) > 253 {
		out = out[:253]
	}
	if out == "" {
		out = "drift"
	}
	return out
}
