// Pure logic of the Drift view: no React, no fetch, so the unit tests exercise it directly.

import {Application, ApplicationTree, DriftException, DriftReport, Finding, ResourceDiff, ResourceNode} from './types';

export const GROUP = 'drift.driftplane.io';
export const KIND = 'DriftReport';
export const VERSION = 'v1alpha1';

// SENSITIVE is what the view shows instead of a secret's value: that it changed, never what to.
export const SENSITIVE = 'changed';
export const ABSENT = '(absent)';

// Argo CD replaces Secret values in its API answers with runs of '+' (its own masking); such a
// value is no value at all and is shown as sensitive too.
const ARGO_MASK = /^\++$/;

const RISK_ORDER = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFO'];

// decodeToken undoes JSON pointer escaping (RFC 6901): ~1 is '/', ~0 is '~'.
function decodeToken(tok: string): string {
  return tok.replace(/~1/g, '/').replace(/~0/g, '~');
}

// splitPointer splits one of driftplane's JSON pointers into tokens. A token "key=value"
// selects the element of a list whose key field is value (a list keyed by its merge key, e.g.
// /spec/template/spec/containers/name=app/image), as internal/drift/kube writes them.
export function splitPointer(path: string): string[] {
  if (path === '' || path === '/') {
    return [];
  }
  return path.replace(/^\//, '').split('/').map(decodeToken);
}

// resolvePointer is the value at path in obj, or undefined when any step is missing.
export function resolvePointer(obj: any, path: string): any {
  let cur = obj;
  for (const tok of splitPointer(path)) {
    if (cur === null || cur === undefined) {
      return undefined;
    }
    if (Array.isArray(cur)) {
      const eq = tok.indexOf('=');
      if (eq > 0) {
        const k = tok.slice(0, eq);
        const v = tok.slice(eq + 1);
        cur = cur.find(e => e !== null && typeof e === 'object' && String(e[k]) === v);
      } else if (/^\d+$/.test(tok)) {
        cur = cur[Number(tok)];
      } else {
        return undefined;
      }
    } else if (typeof cur === 'object') {
      cur = Object.prototype.hasOwnProperty.call(cur, tok) ? cur[tok] : undefined;
    } else {
      return undefined;
    }
  }
  return cur;
}

// isPrefix: pointer a is b or one of b's ancestors.
function isPrefix(a: string, b: string): boolean {
  const pa = splitPointer(a);
  const pb = splitPointer(b);
  return pa.length <= pb.length && pa.every((t, i) => t === pb[i]);
}

function isSecretKind(f: Finding): boolean {
  return (f.group || '') === '' && f.kind === 'Secret';
}

// isSensitive says whether a changed field's values must not be shown: the reporter names it
// sensitive, or it lies under or over a sensitive path, or the object is a Secret (every field
// of a Secret is withheld, whatever the report says: a report written by an older reporter, or
// a path the reporter did not mark, must not leak a value).
export function isSensitive(f: Finding, path: string): boolean {
  if (isSecretKind(f)) {
    return true;
  }
  return (f.sensitive_fields || []).some(s => isPrefix(s, path) || isPrefix(path, s));
}

// FieldRow is one changed field, side by side.
export interface FieldRow {
  path: string;
  desired: string;
  live: string;
  sensitive: boolean;
}

// render is a value as the side-by-side view prints it: JSON, absent when there is none.
export function render(v: any): string {
  if (v === undefined) {
    return ABSENT;
  }
  if (typeof v === 'string') {
    return v;
  }
  return JSON.stringify(v, null, 2);
}

function masked(v: any): boolean {
  if (typeof v === 'string') {
    return ARGO_MASK.test(v);
  }
  if (v !== null && typeof v === 'object') {
    return Object.values(v).some(masked);
  }
  return false;
}

// fieldRows are a finding's changed fields with Git's (desired) and the cluster's (live)
// values, taken from Argo CD's managed-resources answer for the object. Sensitive fields, and
// any value Argo CD itself masked, say only that they changed.
export function fieldRows(f: Finding, diff: ResourceDiff | undefined): FieldRow[] {
  return (f.changed_fields || []).map(path => {
    const desired = diff ? resolvePointer(diff.targetState, path) : undefined;
    const live = diff ? resolvePointer(diff.liveState, path) : undefined;
    if (isSensitive(f, path) || masked(desired) || masked(live)) {
      return {path, desired: SENSITIVE, live: SENSITIVE, sensitive: true};
    }
    if (!diff) {
      return {path, desired: 'unknown', live: 'unknown', sensitive: false};
    }
    return {path, desired: render(desired), live: f.deleted ? ABSENT : render(live), sensitive: false};
  });
}

// diffOf is the managed-resources item of the finding's object.
export function diffOf(f: Finding, diffs: ResourceDiff[]): ResourceDiff | undefined {
  return diffs.find(
    d => (d.group || '') === (f.group || '') && d.kind === f.kind && (d.namespace || '') === (f.namespace || '') && d.name === f.name
  );
}

// resourceLabel names the finding's object the way Argo CD's UI does: Kind/namespace/name.
export function resourceLabel(f: Finding): string {
  if (f.kind) {
    return [f.kind, f.namespace, f.name].filter(Boolean).join('/');
  }
  return f.resource_ref || 'unknown';
}

// exceptionOf is the DriftException of the report's spec that accepted the finding.
export function exceptionOf(report: DriftReport | undefined, f: Finding): DriftException | undefined {
  if (!f.accepted_by) {
    return undefined;
  }
  return (report?.spec?.exceptions || []).find(e => e?.metadata?.name === f.accepted_by);
}

// duration prints a span the way kubectl does, coarsely: 45s, 12m, 5h, 3d.
export function duration(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  if (s < 120) {
    return s + 's';
  }
  const m = Math.floor(s / 60);
  if (m < 120) {
    return m + 'm';
  }
  const h = Math.floor(m / 60);
  if (h < 48) {
    return h + 'h';
  }
  return Math.floor(h / 24) + 'd';
}

function parseTime(t: string | undefined): number | undefined {
  if (!t) {
    return undefined;
  }
  const ms = Date.parse(t);
  return isNaN(ms) ? undefined : ms;
}

// expiry says when an exception ends, relative to now: "expires in 30d", or "expired 2h ago".
export function expiry(expiresAt: string | undefined, now: number): {text: string; expired: boolean} | undefined {
  const at = parseTime(expiresAt);
  if (at === undefined) {
    return undefined;
  }
  if (at <= now) {
    return {text: 'expired ' + duration(now - at) + ' ago', expired: true};
  }
  return {text: 'expires in ' + duration(at - now), expired: false};
}

// firstSeen is when the drift was first seen: the ledger's sighting, else the report's own.
export function firstSeen(f: Finding): string | undefined {
  return f.first_seen || f.firstObservedAt || undefined;
}

// age is how long the drift has been open at now, from its first sighting.
export function age(f: Finding, now: number): string | undefined {
  const at = parseTime(firstSeen(f));
  if (at === undefined) {
    return f.age || undefined;
  }
  return duration(now - at);
}

// safeHref is url when it is an absolute http(s) URL and undefined otherwise: a link's target
// comes from annotations or Git, and a javascript: or data: URL must never become clickable.
export function safeHref(url: string | undefined): string | undefined {
  if (!url) {
    return undefined;
  }
  try {
    const u = new URL(url.trim());
    if (u.protocol === 'https:' || u.protocol === 'http:') {
      return u.href;
    }
  } catch {
    // not a URL
  }
  return undefined;
}

export interface Link {
  title: string;
  url: string;
  kind: 'evidence' | 'pr' | 'other';
}

// ARGO_LINK is Argo CD's own annotation for a resource's external links
// (link.argocd.argoproj.io/<title>: <url>), which its UI shows on the resource too.
const ARGO_LINK = 'link.argocd.argoproj.io/';

function linkKind(title: string): Link['kind'] {
  if (/evidence/i.test(title)) {
    return 'evidence';
  }
  if (/(^|[^a-z])(pr|pull|merge)([^a-z]|$)|pull.?request|merge.?request/i.test(title)) {
    return 'pr';
  }
  return 'other';
}

// linksOf are the report's and the application's links: Argo CD's link annotations, sorted
// into evidence, reconciliation pull requests and the rest, and the ticket of each exception
// that is a URL. Only http(s) URLs are kept.
export function linksOf(report: DriftReport | undefined, app: Application | undefined): Link[] {
  const out: Link[] = [];
  const seen = new Set<string>();
  const add = (title: string, raw: string, kind: Link['kind']) => {
    const url = safeHref(raw);
    if (url && !seen.has(kind + ' ' + url)) {
      seen.add(kind + ' ' + url);
      out.push({title, url, kind});
    }
  };
  for (const ann of [report?.metadata?.annotations, app?.metadata?.annotations]) {
    for (const [k, v] of Object.entries(ann || {})) {
      if (k.startsWith(ARGO_LINK)) {
        const title = k.slice(ARGO_LINK.length);
        add(title, v, linkKind(title));
      }
    }
  }
  // The reporter's own pull requests, with how far their closure got.
  for (const r of report?.status?.reconciliations || []) {
    if (r?.url) {
      add('PR #' + (r.pullRequest || '?') + ' ' + (r.status || ''), r.url, 'pr');
    }
  }
  for (const e of report?.spec?.exceptions || []) {
    if (e?.spec?.ticket) {
      add((e.metadata?.name || 'exception') + ' ticket ' + e.spec.ticket, e.spec.ticket, 'other');
    }
  }
  return out;
}

// evidenceLink is the finding's evidence as a link when the reporter recorded a URL; a digest
// (the usual case) is shown as text.
export function evidenceLink(f: Finding): string | undefined {
  return safeHref(f.evidence);
}

// sortFindings puts blocking findings first, then by risk, as the reporter orders them.
export function sortFindings(fs: Finding[]): Finding[] {
  const rank = (r: string | undefined) => {
    const i = RISK_ORDER.indexOf(r || '');
    return i < 0 ? RISK_ORDER.length : i;
  };
  return fs
    .map((f, i) => ({f, i}))
    .sort((a, b) => Number(!!b.f.blocking) - Number(!!a.f.blocking) || rank(a.f.risk) - rank(b.f.risk) || a.i - b.i)
    .map(x => x.f);
}

export type Verdict = {state: 'unknown'; reason: string} | {state: 'blocking' | 'drift' | 'clean'};

// verdict sums up the report. Drift is known only when the reporter evaluated it: no status,
// no Evaluated condition, or Evaluated=False is unknown, never clean.
export function verdict(report: DriftReport | undefined): Verdict {
  const s = report?.status;
  if (!s || !s.lastEvaluatedAt) {
    return {state: 'unknown', reason: 'the reporter has not evaluated this application yet'};
  }
  const c = (s.conditions || []).find(x => x.type === 'Evaluated');
  if (!c) {
    return {state: 'unknown', reason: 'the report has no Evaluated condition'};
  }
  if (c.status !== 'True') {
    return {state: 'unknown', reason: (c.reason || 'Unknown') + (c.message ? ': ' + c.message : '')};
  }
  if ((s.blockingCount || 0) > 0 || (s.findings || []).some(f => f.blocking)) {
    return {state: 'blocking'};
  }
  return (s.findings || []).length > 0 ? {state: 'drift'} : {state: 'clean'};
}

// reportNode finds the application's DriftReport among what Argo CD says it manages (its
// status.resources), else in its resource tree; the one named after the application wins, as
// the plugin names it so.
export function reportNode(app: Application | undefined, tree: ApplicationTree | undefined): ResourceNode | undefined {
  const candidates: ResourceNode[] = [...(app?.status?.resources || []), ...(tree?.nodes || [])].filter(
    n => n.group === GROUP && n.kind === KIND
  );
  const name = app?.metadata?.name;
  return candidates.find(n => n.name === name) || candidates[0];
}

// className turns a value into a CSS class suffix.
export function cls(v: string | undefined): string {
  return (v || 'unknown').replace(/[^A-Za-z0-9_-]/g, '_');
}
