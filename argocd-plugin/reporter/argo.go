// Package reporter is the evaluating half of driftplane's Argo CD plugin: it reads an
// application's target and live state from the Argo CD API, classifies the drift with the shared
// core, and writes the result into the application's DriftReport status.
package reporter

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ResourceDiff is one managed resource as Argo CD's
// GET /api/v1/applications/{name}/managed-resources returns it (v1alpha1.ResourceDiff): target and
// live state as JSON strings, either "null" or empty when absent.
type ResourceDiff struct {
	Group       string `json:"group,omitempty"`
	Kind        string `json:"kind,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Name        string `json:"name,omitempty"`
	TargetState string `json:"targetState,omitempty"`
	LiveState   string `json:"liveState,omitempty"`
	Hook        bool   `json:"hook,omitempty"`
	Modified    bool   `json:"modified,omitempty"`
}

// ArgoClient talks to argocd-server's REST API with a bearer token.
type ArgoClient struct {
	BaseURL string
	Token   string
	HTTP    *http.Client
}

// NewArgoClient builds a client. TLS is verified unless insecure is set (an in-cluster
// argocd-server with its self-signed certificate).
func NewArgoClient(baseURL, token string, insecure bool) *ArgoClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // opt-in, documented
	}
	return &ArgoClient{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, HTTP: &http.Client{Transport: tr, Timeout: 60 * time.Second}}
}

// ManagedResources returns an application's managed resources.
func (c *ArgoClient) ManagedResources(ctx context.Context, app, appNamespace string) ([]ResourceDiff, error) {
	u := c.BaseURL + "/api/v1/applications/" + url.PathEscape(app) + "/managed-resources"
	if appNamespace != "" {
		u += "?appNamespace=" + url.QueryEscape(appNamespace)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("argocd-server %s: %w", c.BaseURL, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("argocd-server %s: reading managed resources of %s: %w", c.BaseURL, app, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(body))
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		return nil, fmt.Errorf("argocd-server %s: managed resources of %s: %s: %s", c.BaseURL, app, resp.Status, msg)
	}
	var out struct {
		Items []ResourceDiff `json:"items"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("argocd-server %s: managed resources of %s: %w", c.BaseURL, app, err)
	}
	return out.Items, nil
}
