package notifier

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/driftplane/terraform-provider-drift/api/v1alpha1"
	"github.com/driftplane/terraform-provider-drift/internal/drift/route"
	"github.com/driftplane/terraform-provider-drift/internal/notify"
	"github.com/driftplane/terraform-provider-drift/internal/notify/alertmanager"
	"github.com/driftplane/terraform-provider-drift/internal/notify/issues"
	"github.com/driftplane/terraform-provider-drift/internal/notify/issues/gitea"
	"github.com/driftplane/terraform-provider-drift/internal/notify/issues/github"
	"github.com/driftplane/terraform-provider-drift/internal/notify/issues/gitlab"
	"github.com/driftplane/terraform-provider-drift/internal/notify/pagerduty"
	"github.com/driftplane/terraform-provider-drift/internal/notify/slack"
	"github.com/driftplane/terraform-provider-drift/internal/notify/webhook"
)

// Receiver settings a policy may give (spec.receivers[].settings), by receiver type. A setting
// not listed is an error: a misspelt `lables` silently ignored would open issues nobody triages.
const (
	// SettingResendInterval (alertmanager): how often a firing alert is posted again, which
	// should be the scan's interval or less. Alertmanager ends an alert that is not re-posted
	// within four intervals (see package alertmanager).
	SettingResendInterval = "resendInterval"
	// SettingRepository (github, gitlab, gitea): owner/name, or a GitLab project path.
	SettingRepository = "repository"
	// SettingLabel (issue receivers): the label marking the receiver's issues.
	SettingLabel = "label"
	// SettingLabels (issue receivers): extra labels for new issues, comma-separated.
	SettingLabels = "labels"
	// SettingAuthors (issue receivers): logins whose issues the receiver trusts as its own,
	// comma-separated (default: the token's own login).
	SettingAuthors = "authors"
)

// allowedSettings lists the settings of a receiver type (false for an unknown type).
func allowedSettings(kind string) ([]string, bool) {
	switch kind {
	case route.ReceiverAlertmanager:
		return []string{SettingResendInterval}, true
	case route.ReceiverWebhook, route.ReceiverSlack, route.ReceiverPagerDuty:
		return nil, true
	case route.ReceiverGitHub, route.ReceiverGitLab, route.ReceiverGitea:
		return []string{SettingRepository, SettingLabel, SettingLabels, SettingAuthors}, true
	}
	return nil, false
}

// built is one receiver of the policy, ready to send.
type built struct {
	receiver notify.Receiver
	kind     string
	// resend is how often a firing notification is sent again whatever the route's
	// repeatInterval says (alertmanager only, 0 otherwise): Alertmanager forgets an alert that
	// is not re-posted.
	resend time.Duration
}

// build makes one receiver from its declaration. Errors name the receiver and the field, never
// a secret's value.
func build(ctx context.Context, rc v1alpha1.RoutingReceiver, secrets SecretSource, hc *http.Client, timeout time.Duration) (built, error) {
	b := built{kind: rc.Type}
	fail := func(format string, args ...any) (built, error) {
		return built{}, fmt.Errorf("receiver %s (%s): %s", rc.Name, rc.Type, fmt.Sprintf(format, args...))
	}
	allowed, ok := allowedSettings(rc.Type)
	if !ok {
		return fail("unknown receiver type")
	}
	for _, k := range sortedKeys(rc.Settings) {
		if !contains(allowed, k) {
			known := strings.Join(allowed, ", ")
			if known == "" {
				known = "none"
			}
			return fail("settings.%s is not a setting of a %s receiver (known: %s)", k, rc.Type, known)
		}
	}
	secret := func(field string, ref *v1alpha1.SecretRef) (string, error) {
		if ref == nil {
			return "", nil
		}
		v, err := secrets.Secret(ctx, *ref)
		if err != nil {
			// The source's error names the reference (variable or Secret), never the value.
			return "", fmt.Errorf("receiver %s (%s): %s: %w", rc.Name, rc.Type, field, err)
		}
		return string(v), nil
	}
	endpoint := rc.URL
	if rc.URLFrom != nil {
		v, err := secret("urlFrom", rc.URLFrom)
		if err != nil {
			return built{}, err
		}
		endpoint = strings.TrimSpace(v)
	}
	cred, err := secret("secretRef", rc.SecretRef)
	if err != nil {
		return built{}, err
	}
	cred = strings.TrimSpace(cred)
	var r notify.Receiver
	switch rc.Type {
	case route.ReceiverAlertmanager:
		b.resend = alertmanager.DefaultResendInterval
		if v := rc.Settings[SettingResendInterval]; v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return fail("settings.%s %q is not a positive duration (15m, 1h)", SettingResendInterval, v)
			}
			b.resend = d
		}
		opts := []alertmanager.Option{alertmanager.WithResendInterval(b.resend), alertmanager.WithTimeout(timeout)}
		if hc != nil {
			opts = append(opts, alertmanager.WithHTTPClient(hc))
		}
		if cred != "" {
			opts = append(opts, alertmanager.WithHeader("Authorization", "Bearer "+cred))
		}
		r, err = alertmanager.New(rc.Name, []string{endpoint}, opts...)
	case route.ReceiverWebhook:
		if cred == "" {
			return fail("secretRef is required: the HMAC key requests are signed with")
		}
		opts := []webhook.Option{webhook.WithTimeout(timeout)}
		if hc != nil {
			opts = append(opts, webhook.WithHTTPClient(hc))
		}
		r, err = webhook.New(rc.Name, endpoint, []byte(cred), opts...)
	case route.ReceiverSlack:
		opts := []slack.Option{slack.WithTimeout(timeout)}
		if hc != nil {
			opts = append(opts, slack.WithHTTPClient(hc))
		}
		r, err = slack.New(rc.Name, endpoint, opts...)
	case route.ReceiverPagerDuty:
		opts := []pagerduty.Option{pagerduty.WithTimeout(timeout)}
		if endpoint != "" {
			opts = append(opts, pagerduty.WithURL(endpoint))
		}
		if hc != nil {
			opts = append(opts, pagerduty.WithHTTPClient(hc))
		}
		r, err = pagerduty.New(rc.Name, cred, opts...)
	case route.ReceiverGitHub, route.ReceiverGitLab, route.ReceiverGitea:
		r, err = buildIssues(rc, endpoint, cred, hc)
	}
	if err != nil {
		// The receivers' own errors redact URLs; scrub again in case one quotes an endpoint.
		return built{}, fmt.Errorf("receiver %s (%s): %s", rc.Name, rc.Type, notify.ScrubError(err.Error()))
	}
	b.receiver = r
	return b, nil
}

func buildIssues(rc v1alpha1.RoutingReceiver, endpoint, token string, hc *http.Client) (notify.Receiver, error) {
	repo := strings.TrimSpace(rc.Settings[SettingRepository])
	ic := issues.Config{Label: rc.Settings[SettingLabel], ExtraLabels: list(rc.Settings[SettingLabels]), Authors: list(rc.Settings[SettingAuthors])}
	ownerRepo := func() (string, string, error) {
		owner, name, ok := strings.Cut(repo, "/")
		if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			return "", "", fmt.Errorf("settings.repository %q is not owner/name", repo)
		}
		return owner, name, nil
	}
	switch rc.Type {
	case route.ReceiverGitHub:
		owner, name, err := ownerRepo()
		if err != nil {
			return nil, err
		}
		return github.New(rc.Name, github.Config{APIURL: endpoint, Token: token, Owner: owner, Repo: name, HTTPClient: hc}, ic)
	case route.ReceiverGitLab:
		if endpoint == "" {
			endpoint = "https://gitlab.com"
		}
		return gitlab.New(rc.Name, gitlab.Config{URL: endpoint, Token: token, Project: repo, HTTPClient: hc}, ic)
	default:
		owner, name, err := ownerRepo()
		if err != nil {
			return nil, err
		}
		return gitea.New(rc.Name, gitea.Config{URL: endpoint, Token: token, Owner: owner, Repo: name, HTTPClient: hc}, ic)
	}
}

func list(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
