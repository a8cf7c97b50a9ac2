// The Drift view's presentational components: given a DriftReport (and, when Argo CD answered,
// the managed resources' desired and live states) they render without any I/O.

import * as React from 'react';

import {
  Link,
  SENSITIVE,
  age,
  cls,
  diffOf,
  evidenceLink,
  exceptionOf,
  expiry,
  fieldRows,
  firstSeen,
  linksOf,
  resourceLabel,
  sortFindings,
  verdict
} from './model';
import {Application, BudgetState, DriftReport, Finding, ResourceDiff} from './types';

const h = React.createElement;

// STYLE is scoped under .driftplane-drift; Argo CD's own classes (argo-table-list, white-box)
// give the rest its look.
const STYLE = `
.driftplane-drift { padding: 12px 0; font-size: 13px; }
.driftplane-drift table { border-collapse: collapse; width: 100%; margin-bottom: 16px; }
.driftplane-drift th, .driftplane-drift td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid #dee6eb; }
.driftplane-drift th { font-weight: 600; color: #6d7f8b; text-transform: uppercase; font-size: 11px; }
.driftplane-drift code, .driftplane-drift pre { font-family: monospace; font-size: 12px; white-space: pre-wrap; word-break: break-all; margin: 0; }
.driftplane-drift .drift-verdict { padding: 8px 12px; border-radius: 4px; margin-bottom: 12px; font-weight: 600; }
.driftplane-drift .drift-verdict--blocking { background: #fde7e9; color: #a4000f; }
.driftplane-drift .drift-verdict--unknown { background: #fff4ce; color: #7a5a00; }
.driftplane-drift .drift-verdict--drift { background: #eef4fb; color: #184d8c; }
.driftplane-drift .drift-verdict--clean { background: #e6f5ea; color: #1c6a35; }
.driftplane-drift .drift-risk { font-weight: 600; }
.driftplane-drift td.drift-risk--CRITICAL, .driftplane-drift td.drift-risk--HIGH { color: #a4000f; }
.driftplane-drift td.drift-risk--MEDIUM { color: #9a5b00; }
.driftplane-drift .drift-explanation { color: #6d7f8b; margin: 4px 0 8px; }
.driftplane-drift .drift-finding--blocking > td:first-child { border-left: 4px solid #e96d76; }
.driftplane-drift .drift-finding--accepted > td:first-child { border-left: 4px solid #6eb5e6; }
.driftplane-drift .drift-sensitive { font-style: italic; color: #6d7f8b; }
.driftplane-drift .drift-expired { color: #a4000f; font-weight: 600; }
.driftplane-drift .drift-budget--exhausted { color: #a4000f; font-weight: 600; }
.driftplane-drift .drift-budget--burning { color: #9a5b00; font-weight: 600; }
.driftplane-drift h4 { margin: 16px 0 8px; }
`;

function time(t: string | undefined): React.ReactNode {
  return t ? h('time', {dateTime: t, title: t}, t) : '—';
}

function Verdict({report}: {report: DriftReport | undefined}) {
  const v = verdict(report);
  const s = report?.status;
  let text: string;
  switch (v.state) {
    case 'unknown':
      text = 'Drift unknown: ' + v.reason;
      break;
    case 'blocking':
      text = (s?.blockingCount || 0) + ' unaccepted finding(s) at or above gate ' + (s?.gate || '?') + ' (worst risk ' + (s?.worstRisk || '?') + ')';
      break;
    case 'drift':
      text = 'Drift below the gate or accepted: ' + (s?.findings || []).length + ' finding(s), none blocking';
      break;
    default:
      text = 'No drift';
  }
  return h('div', {className: 'drift-verdict drift-verdict--' + v.state, 'data-verdict': v.state}, text);
}

function Summary({report}: {report: DriftReport}) {
  const s = report.status || {};
  const rows: [string, React.ReactNode][] = [
    ['Gate', s.gate || '—'],
    ['Worst risk', s.worstRisk || '—'],
    ['Last evaluated', time(s.lastEvaluatedAt)],
    ['Revision', s.observedRevision ? h('code', null, s.observedRevision) : '—'],
    ['Summary', s.summary || '—']
  ];
  if (s.inventory) {
    rows.push(['Inventory', (s.inventory.observed ?? '?') + ' running of ' + (s.inventory.expected ?? '?') + ' declared']);
  }
  return h(
    'table',
    {className: 'drift-summary'},
    h('tbody', null, ...rows.map(([k, v]) => h('tr', {key: k}, h('th', null, k), h('td', null, v))))
  );
}

function Accepted({report, finding, now}: {report: DriftReport | undefined; finding: Finding; now: number}) {
  if (!finding.accepted_by) {
    return h('span', null, '—');
  }
  const exc = exceptionOf(report, finding);
  const exp = expiry(exc?.spec?.expiresAt, now);
  return h(
    'span',
    {className: 'drift-accepted'},
    h('code', null, finding.accepted_by),
    exc?.spec?.approvedBy ? ' by ' + exc.spec.approvedBy : null,
    exp ? h('div', {className: exp.expired ? 'drift-expiry drift-expired' : 'drift-expiry', title: exc?.spec?.expiresAt}, exp.text) : null
  );
}

function Actor({finding}: {finding: Finding}) {
  if (!finding.actor) {
    return h('span', {className: 'drift-actor drift-actor--unknown'}, 'unknown');
  }
  const d = finding.actor_detail;
  const detail = [d?.kind, d?.manager ? 'as ' + d.manager : '', d?.user_agent].filter(Boolean).join(', ');
  return h('span', {className: 'drift-actor', title: detail}, finding.actor, d?.kind ? h('div', null, h('small', null, d.kind)) : null);
}

// FieldDiff is the side-by-side desired (Git) vs live view of one finding's changed fields.
export function FieldDiff({finding, diff}: {finding: Finding; diff: ResourceDiff | undefined}) {
  const rows = fieldRows(finding, diff);
  if (rows.length === 0) {
    return h('div', {className: 'drift-fields-empty'}, finding.deleted ? 'The object was deleted.' : 'No changed fields recorded.');
  }
  return h(
    'table',
    {className: 'drift-fields', 'data-finding-id': finding.finding_id},
    h('thead', null, h('tr', null, h('th', null, 'Field'), h('th', null, 'Desired (Git)'), h('th', null, 'Live'))),
    h(
      'tbody',
      null,
      ...rows.map(r =>
        h(
          'tr',
          {key: r.path, className: r.sensitive ? 'drift-field drift-field--sensitive' : 'drift-field', 'data-path': r.path},
          h('td', null, h('code', null, r.path)),
          h('td', {className: 'drift-desired' + (r.sensitive ? ' drift-sensitive' : '')}, r.sensitive ? SENSITIVE : h('pre', null, r.desired)),
          h('td', {className: 'drift-live' + (r.sensitive ? ' drift-sensitive' : '')}, r.sensitive ? SENSITIVE : h('pre', null, r.live))
        )
      )
    )
  );
}

export interface FindingsProps {
  report: DriftReport | undefined;
  diffs?: ResourceDiff[];
  now: number;
}

// FindingsTable lists the findings, blocking first, each followed by its changed fields side
// by side.
export function FindingsTable({report, diffs, now}: FindingsProps) {
  const findings = sortFindings(report?.status?.findings || []);
  if (findings.length === 0) {
    return null;
  }
  const head = ['Resource', 'Class', 'Risk', 'Changed fields', 'Actor', 'Recommended action', 'Accepted by / expiring', 'First seen / age', 'Evidence'];
  const body: React.ReactNode[] = [];
  for (const f of findings) {
    const state = f.blocking ? 'blocking' : f.accepted_by ? 'accepted' : 'open';
    const ev = evidenceLink(f);
    body.push(
      h(
        'tr',
        {
          key: 'f-' + f.finding_id,
          className: ['drift-finding', 'drift-finding--' + state, 'drift-class--' + cls(f.drift_class), 'drift-risk--' + cls(f.risk)].join(' '),
          'data-finding-id': f.finding_id,
          title: f.explanation || undefined
        },
        h('td', {className: 'drift-resource'}, resourceLabel(f), f.deleted ? h('div', null, h('small', null, 'deleted')) : null),
        h('td', {className: 'drift-class'}, f.drift_class || 'UNKNOWN', f.rule ? h('div', null, h('small', null, 'rule ' + f.rule)) : null),
        h('td', {className: 'drift-risk drift-risk--' + cls(f.risk)}, f.risk || '?', f.blocking ? h('div', null, h('small', null, 'blocking')) : null),
        h('td', {className: 'drift-changed'}, ...(f.changed_fields || []).map(p => h('div', {key: p}, h('code', null, p)))),
        h('td', null, h(Actor, {finding: f})),
        h('td', {className: 'drift-action'}, f.recommended_action || '—', f.auto_heal_allowed ? h('div', null, h('small', null, 'auto-heal allowed')) : null),
        h('td', null, h(Accepted, {report, finding: f, now})),
        h('td', {className: 'drift-lifecycle'}, time(firstSeen(f)), h('div', null, h('small', null, age(f, now) || '—'))),
        h('td', {className: 'drift-evidence'}, ev ? h('a', {href: ev, target: '_blank', rel: 'noopener noreferrer'}, 'evidence') : h('code', {title: f.evidence}, short(f.evidence)))
      )
    );
    body.push(
      h(
        'tr',
        {key: 'd-' + f.finding_id, className: 'drift-finding-detail'},
        h(
          'td',
          {colSpan: head.length},
          f.explanation ? h('div', {className: 'drift-explanation'}, f.explanation) : null,
          h(FieldDiff, {finding: f, diff: diffs ? diffOf(f, diffs) : undefined})
        )
      )
    );
  }
  return h(
    'table',
    {className: 'drift-findings argo-table-list'},
    h('thead', null, h('tr', null, ...head.map(c => h('th', {key: c}, c)))),
    h('tbody', null, ...body)
  );
}

function short(digest: string | undefined): string {
  if (!digest) {
    return '—';
  }
  return digest.length > 24 ? digest.slice(0, 24) + '…' : digest;
}

export function Budgets({budgets}: {budgets: BudgetState[] | undefined}) {
  if (!budgets || budgets.length === 0) {
    return null;
  }
  return h(
    React.Fragment,
    null,
    h('h4', null, 'Budgets'),
    h(
      'table',
      {className: 'drift-budgets'},
      h('thead', null, h('tr', null, ...['Budget', 'State', 'Open', 'Objective', 'Burn rate', 'Since', 'Reason'].map(c => h('th', {key: c}, c)))),
      h(
        'tbody',
        null,
        ...budgets.map(b =>
          h(
            'tr',
            {key: b.name, className: 'drift-budget drift-budget--' + cls(b.state), 'data-budget': b.name},
            h('td', null, b.name),
            h('td', {className: 'drift-budget-state'}, b.state || '?'),
            h('td', null, String(b.open ?? 0)),
            h('td', null, b.objective ? b.objective + (b.judged ? ' (' + (b.bad || 0) + ' bad of ' + b.judged + ')' : '') : '—'),
            h('td', null, b.burnRate || '—', b.burnRates && b.burnRates.length ? h('div', null, h('small', null, b.burnRates.map(r => r.window + ' ' + r.rate).join(', '))) : null),
            h('td', null, time(b.since)),
            h('td', null, b.reason || '—')
          )
        )
      )
    )
  );
}

function Links({links}: {links: Link[]}) {
  if (links.length === 0) {
    return null;
  }
  const group = (kind: Link['kind'], title: string) => {
    const ls = links.filter(l => l.kind === kind);
    return ls.length === 0
      ? null
      : h(
          'div',
          {key: kind, className: 'drift-links drift-links--' + kind},
          h('strong', null, title + ': '),
          ...ls.map((l, i) => h(React.Fragment, {key: l.url}, i > 0 ? ', ' : null, h('a', {href: l.url, target: '_blank', rel: 'noopener noreferrer'}, l.title)))
        );
  };
  return h(React.Fragment, null, h('h4', null, 'Links'), group('evidence', 'Evidence'), group('pr', 'Reconciliation PRs'), group('other', 'Other'));
}

function AutoHeal({report}: {report: DriftReport}) {
  const a = report.status?.autoHeal;
  if (!a) {
    return null;
  }
  const target = (t: {kind?: string; namespace?: string; name?: string; paths?: string[]}) =>
    [t.kind, t.namespace, t.name].filter(Boolean).join('/') + ' ' + (t.paths || []).join(', ');
  return h(
    'div',
    {className: 'drift-autoheal'},
    h('h4', null, 'Last auto-heal'),
    h('div', null, time(a.at)),
    ...(a.healed || []).map((t, i) => h('div', {key: 'h' + i, className: 'drift-healed'}, 'synced back: ' + target(t))),
    ...(a.failed || []).map((t, i) => h('div', {key: 'f' + i, className: 'drift-heal-failed'}, 'failed: ' + target(t))),
    ...(a.skipped || []).map((s, i) => h('div', {key: 's' + i, className: 'drift-heal-skipped'}, 'not healed: ' + s)),
    a.error ? h('div', {className: 'drift-heal-failed'}, a.error) : null
  );
}

export interface DriftViewProps {
  report: DriftReport | undefined;
  application?: Application;
  diffs?: ResourceDiff[];
  // diffsError says why the desired and live values could not be read (they show "unknown").
  diffsError?: string;
  now?: number;
}

// DriftView is the whole tab for one DriftReport.
export function DriftView({report, application, diffs, diffsError, now}: DriftViewProps) {
  const t = now ?? Date.now();
  return h(
    'div',
    {className: 'driftplane-drift'},
    h('style', null, STYLE),
    h(Verdict, {report}),
    report ? h(Summary, {report}) : null,
    diffsError ? h('div', {className: 'drift-diffs-error'}, 'Desired and live values unavailable: ' + diffsError) : null,
    h(FindingsTable, {report, diffs, now: t}),
    h(Budgets, {budgets: report?.status?.budgets}),
    report ? h(AutoHeal, {report}) : null,
    h(Links, {links: linksOf(report, application)})
  );
}
