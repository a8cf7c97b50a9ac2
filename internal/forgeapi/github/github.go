// Package github connects to GitHub's REST API (github.com or GitHub Enterprise Server) with
// go-github, for every part of driftplane that uses it.
package github

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	gh "github.com/google/go-github/v93/github"

	"github.com/driftplane/terraform-provider-drift/internal/forgeapi"
)

// PerPage is the REST API's largest page.
const PerPage = 100

// MaxPages bounds one listing (100,000 items); callers treat reaching it as an error, since a
// listing cut short could open a duplicate issue or pull request.
const MaxPages = 1000

// DefaultTimeout bounds one API call when the caller gives no HTTP client.
const DefaultTimeout = 30 * time.Second

// Config says which repository and how to reach it.
type Config struct {
	// APIURL is the REST API's base URL: empty for github.com, https://HOST/api/v3/ for GitHub
	// Enterprise Server.
	APIURL string
	// Token may do what the caller does with the repository (fine-grained: Issues read/write
	// for drift issues; Pull requests and Contents read/write for reconciliation).
	Token string
	// Owner and Repo name the repository.
	Owner, Repo string
	// HTTPClient is used for every call (nil: a client with a 30 s timeout).
	HTTPClient *http.Client
}

// Connect checks cfg and returns a client; it makes no call.
func Connect(cfg Config) (*gh.Client, error) {
	if cfg.Owner == "" || cfg.Repo == "" {
		return nil, errors.New("github: owner and repo are required")
	}
	if cfg.Token == "" {
		return nil, errors.New("github: a token is required")
	}
	hc := forgeapi.Guard(cfg.HTTPClient, DefaultTimeout)
	opts := []gh.ClientOptionsFunc{gh.WithHTTPClient(hc), gh.WithAuthToken(cfg.Token)}
	if cfg.APIURL != "" {
		base := cfg.APIURL
		if !strings.HasSuffix(base, "/") {
			base += "/"
		}
		opts = append(opts, gh.WithURLs(&base, &base))
	}
	c, err := gh.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("github client: %w", err)
	}
	return c, nil
}
