package generate

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/kube"
)

// KindDriftReport is the kind of the object the plugin adds to every application.
const KindDriftReport = "DriftReport"

// driftReport builds the DriftReport: its spec is the validated policy, so the policy travels
// with the application and the reporter evaluates exactly what Git declared.
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
	unit, err := toMap(p.Unit)
	if err != nil {
		return nil, err
	}
	var exceptions, autoHeal []any
	for _, e := range p.Exceptions {
		m, err := toMap(e)
		if err != nil {
			return nil, err
		}
		exceptions = append(exceptions, m)
	}
	for _, a := range p.AutoHeal {
		m, err := toMap(a)
		if err != nil {
			return nil, err
		}
		autoHeal = append(autoHeal, m)
	}
	spec := map[string]any{
		"unit":             unit,
		"freshnessSeconds": int64(freshness),
	}
	if len(exceptions) > 0 {
		spec["exceptions"] = exceptions
	}
	if len(autoHeal) > 0 {
		spec["autoHealPolicies"] = autoHeal
	}
	if len(stripped) > 0 {
		var sf []any
		for _, s := range stripped {
			sf = append(sf, map[string]any{"ref": s.Ref, "path": s.Path, "owner": s.Owner, "reason": s.Reason})
		}
		spec["strippedFields"] = sf
	}
	if app := opts.Env[EnvAppName]; app != "" {
		spec["application"] = map[string]any{"name": app, "namespace": opts.Env[EnvAppNamespace]}
	}
	if rev := opts.Env[EnvRevision]; rev != "" {
		spec["revision"] = rev
	}
	return map[string]any{
		"apiVersion": drift.APIVersion,
		"kind":       KindDriftReport,
		"metadata": map[string]any{
			"name":   name,
			"labels": map[string]any{"app.kubernetes.io/managed-by": "driftplane"},
		},
		"spec": spec,
	}, nil
}

func toMap(v any) (map[string]any, error) {
	return kube.ToObject(v)
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
