// Package kube is the Kubernetes plane of driftplane: it renders the desired manifests, reads
// the live objects with client-go, normalizes both so only meaningful drift remains, resolves
// who owns each changed field from managedFields (structured-merge-diff), attributes changes to
// actors from the API server's audit log, and hands the core drift.Observations.
//
// Live objects are only ever read.
//
// # Trust
//
// A field manager is a name the client chooses (kubectl --field-manager=anything), so the plane
// trusts a name only as far as the evidence goes (see Compare):
//
//   - a field Git declares is a controller's only by an ownership rule of the unit, or when the
//     audit log's writes to the object under that manager all came from a service account or
//     system: identity (the identities the decision table or the unit's controllerIdentities map
//     to the manager, when it is mapped); otherwise the change is judged as a person's;
//   - a field Git does not declare keeps the name's word unless the audit log shows someone else
//     wrote under it, because Git never claimed it;
//   - the applier's fields are the recorded plane (a pending sync) without an audit log, and with
//     one only when the writes under its name came from its identities (the decision table's and
//     the unit's applierIdentities);
//   - without an audit log, findings whose ownership rests on names say so (NoAuditLogNote).
//
// What stays trusted: whoever holds a mapped identity's credentials writes as it, and the audit
// log itself (its path is given by whoever runs driftplane). A name under which the log holds no
// write to the object proves nothing, so a log that does not reach back to the last write turns a
// controller's field Git declares, and the applier's fields, into Git-owned drift (fail closed).
//
// Inputs are bounded: manifests and objects nested deeper than drift.MaxJSONDepth are refused, a
// manifests path that renders no object is an error, and ReadAuditLog bounds line length, total
// size and the writes kept per object and manager.
package kube
