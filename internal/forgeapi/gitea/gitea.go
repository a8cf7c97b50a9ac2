// Package gitea connects to the API of Gitea or Forgejo (whose API is Gitea's) with the Gitea
// SDK, for every part of driftplane that uses it.
package gitea

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	sdk "code.gitea.io/sdk/gitea"

	"github.com/driftplane/terraform-provider-drift/internal/forgeapi"
)

// PageSize is Gitea's default MAX_RESPONSE_ITEMS: a larger limit would be cut to it anyway.
const PageSize = 50

// MaxPages bounds one listing (100,000 items at the default page size); callers treat reaching
// it as an error.
const MaxPages = 2000

// DefaultTimeout bounds one API call when the caller gives no HTTP client.
const DefaultTimeout = 30 * time.Second

// Config says which repository and how to reach it.
type Config struct {
	// URL is the forge's base URL (https://gitea.example.com), without /api/v1.
	URL string
	// Token is an access token that may write what the caller writes (the repository's issues,
	// or its branches and pull requests).
	Token string
	// Owner and Repo name the repository.
	Owner, Repo string
	// HTTPClient is used for every call (nil: a client with a 30 s timeout).
	HTTPClient *http.Client
}

// Check validates cfg and fills its defaults; it makes no call.
func Check(cfg Config) (Config, error) {
	if cfg.URL == "" || cfg.Owner == "" || cfg.Repo == "" {
		return cfg, errors.New("gitea: url, owner and repo are required")
	}
	if cfg.Token == "" {
		return cfg, errors.New("gitea: a token is required")
	}
	cfg.HTTPClient = forgeapi.Guard(cfg.HTTPClient, DefaultTimeout)
	cfg.URL = strings.TrimSuffix(cfg.URL, "/")
	return cfg, nil
}

// Client is an SDK client bound to ctx, for a cfg Check returned: the SDK takes its context per
// client, not per call, so each operation gets its own (cheap: no network, the server version
// check is skipped because every call driftplane makes exists since Gitea 1.12).
func Client(ctx context.Context, cfg Config) (*sdk.Client, error) {
	c, err := sdk.NewClient(cfg.URL, sdk.SetToken(cfg.Token), sdk.SetHTTPClient(cfg.HTTPClient),
		sdk.SetContext(ctx), sdk.SetGiteaVersion(""))
	if err != nil {
		return nil, fmt.Errorf("gitea client: %w", err)
	}
	return c, nil
}

// Next is the page after page: the Link header's when the server sent one (Gitea caps a page at
// its MAX_RESPONSE_ITEMS whatever was asked); without one, on until an empty page; 0 at the end.
func Next(resp *sdk.Response, page, got int) int {
	switch {
	case resp != nil && resp.NextPage > page:
		return resp.NextPage
	case resp != nil && resp.Header.Get("Link") != "":
		return 0
	case got > 0:
		return page + 1
	}
	return 0
}
