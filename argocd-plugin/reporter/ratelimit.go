package reporter

import (
	"context"
	"fmt"

	"golang.org/x/time/rate"
)

// RateLimitedArgo bounds the requests the reporter sends argocd-server (managed resources and
// auto-heal syncs together) with a token bucket, so thousands of applications resynced at once
// do not flood the API server Argo CD's own UI and CLI depend on.
type RateLimitedArgo struct {
	Argo    ManagedResourcesGetter
	Healer  Healer
	Limiter *rate.Limiter
}

// NewRateLimitedArgo limits argo (and its Healer, when it is one) to qps requests per second with
// bursts of burst; qps <= 0 means no limit.
func NewRateLimitedArgo(argo ManagedResourcesGetter, qps float64, burst int) *RateLimitedArgo {
	lim := rate.NewLimiter(rate.Inf, 0)
	if qps > 0 {
		if burst < 1 {
			burst = 1
		}
		lim = rate.NewLimiter(rate.Limit(qps), burst)
	}
	h, _ := argo.(Healer)
	return &RateLimitedArgo{Argo: argo, Healer: h, Limiter: lim}
}

// ManagedResources waits for a token, then asks argocd-server; a wait cut short by ctx is an
// error (drift unknown), never an empty answer.
func (r *RateLimitedArgo) ManagedResources(ctx context.Context, app, appNamespace string) ([]ResourceDiff, error) {
	if err := r.Limiter.Wait(ctx); err != nil {
		return nil, fmt.Errorf("argocd-server request budget: %w", err)
	}
	return r.Argo.ManagedResources(ctx, app, appNamespace)
}

// SyncResources waits for a token, then asks Argo CD to sync.
func (r *RateLimitedArgo) SyncResources(ctx context.Context, app, appNamespace string, targets []HealTarget) error {
	if r.Healer == nil {
		return fmt.Errorf("argocd-server client cannot sync")
	}
	if err := r.Limiter.Wait(ctx); err != nil {
		return fmt.Errorf("argocd-server request budget: %w", err)
	}
	return r.Healer.SyncResources(ctx, app, appNamespace, targets)
}

// Redact is the wrapped client's, so errors keep hiding the token.
func (r *RateLimitedArgo) Redact(s string) string {
	if red, ok := r.Argo.(interface{ Redact(string) string }); ok {
		return red.Redact(s)
	}
	return s
}
