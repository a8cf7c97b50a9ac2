// Package kube is the Kubernetes plane of driftplane: it renders the desired manifests, reads
// the live objects with client-go, normalizes both so only meaningful drift remains, resolves
// who owns each changed field from managedFields (structured-merge-diff), attributes changes to
// actors from the API server's audit log, and hands the core drift.Observations.
//
// Live objects are only ever read.
package kube
