// Package reporter is the evaluating half of driftplane's Argo CD plugin: it reads an
// application's target and live state from the Argo CD API, classifies the drift with the shared
// core, and writes the result into the application's DriftReport status.
package reporter

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
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

// TLSOptions say how the reporter trusts argocd-server.
type TLSOptions struct {
	// CAFiles are PEM files trusted on top of the system roots (argocd-server's own certificate or
	// its CA). A listed file that does not exist is skipped, so optional Secret keys can be
	// mounted; one that exists but holds no certificate is an error.
	CAFiles []string
	// Insecure skips verification altogether: for labs only.
	Insecure bool
}

// NewArgoClient builds a client. TLS is verified against the system roots unless insecure is set.
func NewArgoClient(baseURL, token string, insecure bool) *ArgoClient {
	c, _ := NewArgoClientTLS(baseURL, token, TLSOptions{Insecure: insecure}) // no files: cannot fail
	return c
}

// NewArgoClientTLS builds a client that verifies argocd-server against the system roots and the
// given CA files (unless opts.Insecure).
func NewArgoClientTLS(baseURL, token string, opts TLSOptions) (*ArgoClient, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	switch {
	case opts.Insecure:
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // opt-in, for labs, documented
	case len(opts.CAFiles) > 0:
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		for _, f := range opts.CAFiles {
			pem, err := os.ReadFile(f)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("argocd-server CA %s: %w", f, err)
			}
			if len(bytes.TrimSpace(pem)) == 0 {
				continue // an optional Secret key mounted empty
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("argocd-server CA %s holds no PEM certificate", f)
			}
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &ArgoClient{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, HTTP: &http.Client{Transport: tr, Timeout: 60 * time.Second}}, nil
}

// Redact hides the token in s: errors may quote what a server or proxy echoed back.
func (c *ArgoClient) Redact(s string) string {
	if c == nil || len(c.Token) < 4 {
		return s
	}
	return strings.ReplaceAll(s, c.Token, "[redacted]")
}

// server is the API URL as errors show it, without any credentials in it.
func (c *ArgoClient) server() string {
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return "argocd-server"
	}
	return u.Redacted()
}

// ManagedResources returns an application's managed resources.
func (c *ArgoClient) ManagedResources(ctx context.Context, app, appNamespace string) ([]ResourceDiff, error) {
	u := c.BaseURL + "/api/v1/applications/" + url.PathEscape(app) + "/managed-resources"
	if appNamespace != "" {
		u += "?appNamespace=" + url.QueryEscape(appNamespace)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, c.errorf("argocd-server %s: %w", c.server(), err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Accept", "application/json")
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, c.errorf("argocd-server %s: %w", c.server(), err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, c.errorf("argocd-server %s: reading managed resources of %s: %w", c.server(), app, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(body))
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		return nil, c.errorf("argocd-server %s: managed resources of %s: %s: %s", c.server(), app, resp.Status, msg)
	}
	var out struct {
		Items []ResourceDiff `json:"items"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, c.errorf("argocd-server %s: managed resources of %s: %w", c.server(), app, err)
	}
	return out.Items, nil
}

// errorf is fmt.Errorf with the token redacted from the message (it may quote a server's echo).
func (c *ArgoClient) errorf(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &redactedError{msg: c.Redact(err.Error()), err: errors.Unwrap(err)}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
