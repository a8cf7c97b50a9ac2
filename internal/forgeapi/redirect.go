package forgeapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// maxRedirects is net/http's own bound, kept for the redirects that stay on the forge.
const maxRedirects = 10

// Guard returns a copy of hc (a new client with timeout when hc is nil) that refuses to follow a
// redirect to another scheme, host or port than the first request's. The forge clients put the
// token in headers net/http copies to wherever a redirect points (GitLab's Private-Token), or
// drop it only across domains (Gitea's Authorization survives a subdomain), and all of them would
// take the other host's answer as the forge's: a forge's credential and trust go to that forge
// alone. A caller's own redirect policy still applies after this one.
func Guard(hc *http.Client, timeout time.Duration) *http.Client {
	c := &http.Client{Timeout: timeout}
	if hc != nil {
		cp := *hc
		c = &cp
	}
	next := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) == 0 {
			return nil
		}
		first := via[0].URL
		if !strings.EqualFold(req.URL.Scheme, first.Scheme) || !strings.EqualFold(req.URL.Host, first.Host) {
			return fmt.Errorf("refusing a redirect from %s://%s to another origin, %s://%s: the forge's credential goes to the forge alone",
				first.Scheme, first.Host, req.URL.Scheme, req.URL.Host)
		}
		if len(via) >= maxRedirects {
			return errors.New("stopped after 10 redirects")
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return c
}
