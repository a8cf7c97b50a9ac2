package reporter

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// HealTarget is one object the reporter may ask Argo CD to sync back to Git: the API's type, which
// the DriftReport's status records for the objects healed.
type HealTarget = drift.HealTarget

// HealPlan is the bounded auto-heal decision for one evaluation (drift.Table.PlanHeal).
type HealPlan = drift.HealPlan

// AppState is what auto-heal needs to know about the application.
type AppState = drift.HealApp

// PlanHeal decides what may heal without a human, by the built-in decision table and the
// application's AutoHealPolicies (drift.Table.PlanHeal).
func PlanHeal(p *Policy, st Status, app AppState) HealPlan {
	return planHeal(drift.DefaultTable(), p, st, app)
}

// planHeal is PlanHeal over a given decision table.
func planHeal(table *drift.Table, p *Policy, st Status, app AppState) HealPlan {
	return table.PlanHeal(p.AutoHealPolicies, st.Findings, app)
}

// SyncResources asks Argo CD to sync only the given objects of an application back to Git
// (POST /api/v1/applications/{name}/sync with a resource list; no pruning).
func (c *ArgoClient) SyncResources(ctx context.Context, app, appNamespace string, targets []HealTarget) error {
	type res struct {
		Group     string `json:"group"`
		Kind      string `json:"kind"`
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	}
	body := struct {
		Name         string `json:"name"`
		AppNamespace string `json:"appNamespace,omitempty"`
		Prune        bool   `json:"prune"`
		Resources    []res  `json:"resources"`
	}{Name: app, AppNamespace: appNamespace}
	for _, t := range targets {
		body.Resources = append(body.Resources, res{t.Group, t.Kind, t.Namespace, t.Name})
	}
	js, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+"/api/v1/applications/"+url.PathEscape(app)+"/sync", bytes.NewReader(js))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return c.errorf("argocd-server %s: sync %s: %w", c.server(), app, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return c.errorf("argocd-server %s: sync %s: %s: %s", c.server(), app, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}
