// Package forgeapi holds, per forge (subpackages github, gitlab, gitea), how driftplane connects
// to a forge's API: one place for the checks, timeouts, retry policy and paging bounds that the
// drift issues (internal/notify/issues) and the reconciliation pull requests
// (internal/reconcile/forge) share.
package forgeapi
