// Package gitlab connects to GitLab's REST API (gitlab.com or self-managed) with the official
// client, for every part of driftplane that uses it.
package gitlab

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/driftplane/terraform-provider-drift/internal/forgeapi"
)

// PerPage is the REST API's largest page.
const PerPage = 100

// MaxPages bounds one listing (100,000 items); callers treat reaching it as an error, since a
// listing cut short could open a duplicate issue or pull request.
const MaxPages = 1000

// DefaultTimeout bounds one API call when the caller gives no HTTP client.
const DefaultTimeout = 30 * time.Second

// Config says which project and how to reach it.
type Config struct {
	// URL is the instance's base URL (https://gitlab.com), with or without /api/v4.
	URL string
	// Token is a personal, project or group access token with the api scope: at least the
	// Reporter role for drift issues (Planner suffices), Developer for reconciliation (it pushes
	// the branch and opens the merge request).
	Token string
	// Project is the project's numeric id or its full path ("group/subgroup/project").
	Project string
	// HTTPClient is used for every call (nil: a client with a 30 s timeout).
	HTTPClient *http.Client
}

// Connect checks cfg and returns a client; it makes no call. The client's own retries are off:
// a retried POST whose first try reached the server would open a second issue or merge request;
// callers list before they create.
func Connect(cfg Config) (*gl.Client, error) {
	if cfg.URL == "" || cfg.Project == "" {
		return nil, errors.New("gitlab: url and project are required")
	}
	if cfg.Token == "" {
		return nil, errors.New("gitlab: a token is required")
	}
	hc := forgeapi.Guard(cfg.HTTPClient, DefaultTimeout)
	c, err := gl.NewClient(cfg.Token, gl.WithBaseURL(cfg.URL), gl.WithHTTPClient(hc), gl.WithoutRetries())
	if err != nil {
		return nil, fmt.Errorf("gitlab client: %w", err)
	}
	return c, nil
}
