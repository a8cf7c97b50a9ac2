// Package drift is driftplane's core: the policy model (units, ownership rules, exceptions,
// auto-heal policies), the structural diff and its normalizers, ownership resolution, the
// decision table that classifies drift, and the findings it produces.
//
// The package knows nothing of OpenTofu's plugin protocol or of Argo CD: front ends translate
// their inputs into Observations and their outputs from Reports, so the same drift gets the same
// class, risk and action wherever it is seen.
package drift
