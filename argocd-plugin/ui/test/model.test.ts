import {test} from 'node:test';
import assert from 'node:assert/strict';

import {
  SENSITIVE,
  age,
  expiry,
  fieldRows,
  isSensitive,
  linksOf,
  reportNode,
  resolvePointer,
  safeHref,
  sortFindings,
  verdict
} from '../src/model';
import {NOW, SECRET_DESIRED, SECRET_VALUE, diffs, report} from './fixtures';

test('resolvePointer follows keyed list elements, indices and escapes', () => {
  const obj = {spec: {containers: [{name: 'side', image: 'a'}, {name: 'app', image: 'b', ports: [{containerPort: 80}]}]}, metadata: {annotations: {'a/b': 'x', 'c~d': 'y'}}};
  assert.equal(resolvePointer(obj, '/spec/containers/name=app/image'), 'b');
  assert.equal(resolvePointer(obj, '/spec/containers/0/image'), 'a');
  assert.equal(resolvePointer(obj, '/spec/containers/name=app/ports/containerPort=80/containerPort'), 80);
  assert.equal(resolvePointer(obj, '/metadata/annotations/a~1b'), 'x');
  assert.equal(resolvePointer(obj, '/metadata/annotations/c~0d'), 'y');
  assert.equal(resolvePointer(obj, '/spec/containers/name=nope/image'), undefined);
  assert.equal(resolvePointer(obj, '/spec/containers/image'), undefined);
  assert.equal(resolvePointer(obj, '/spec/missing/deeper'), undefined);
  assert.equal(resolvePointer(obj, '/spec/containers/0/image/x'), undefined);
  // A prototype property is not a field of the object.
  assert.equal(resolvePointer(obj, '/spec/constructor'), undefined);
});

test('isSensitive: named paths, their ancestors and descendants, and every field of a Secret', () => {
  const f = {kind: 'Deployment', group: 'apps', sensitive_fields: ['/spec/env/name=TOKEN/value']};
  assert.ok(isSensitive(f, '/spec/env/name=TOKEN/value'));
  assert.ok(isSensitive(f, '/spec/env/name=TOKEN'), 'an ancestor holds the secret value');
  assert.ok(isSensitive(f, '/spec/env/name=TOKEN/value/x'));
  assert.ok(!isSensitive(f, '/spec/env/name=OTHER/value'));
  assert.ok(!isSensitive(f, '/spec/env/name=TOKEN/valueFrom'), 'a sibling token with a common prefix is not the same field');
  // A Secret's fields are withheld even when the report marks none.
  assert.ok(isSensitive({kind: 'Secret', group: '', sensitive_fields: []}, '/data/password'));
  assert.ok(isSensitive({kind: 'Secret'}, '/metadata/labels/x'));
  // Only the core Secret: a custom kind named Secret in another group is judged by its paths.
  assert.ok(!isSensitive({kind: 'Secret', group: 'example.com'}, '/spec/x'));
});

test('fieldRows never carries a sensitive value, and treats Argo CD masked values as sensitive', () => {
  const r = report();
  const ds = diffs();
  const all = JSON.stringify(r.status!.findings!.map(f => fieldRows(f, ds.find(d => d.name === f.name && d.kind === f.kind))));
  assert.ok(!all.includes(SECRET_VALUE), 'a live secret value leaked');
  assert.ok(!all.includes(SECRET_DESIRED), "Git's secret value leaked");
  const secret = fieldRows(r.status!.findings![1], ds[0]);
  assert.deepEqual(secret, [{path: '/data/password', desired: SENSITIVE, live: SENSITIVE, sensitive: true}]);
  const deploy = fieldRows(r.status!.findings![2], ds[1]);
  assert.equal(deploy[0].desired, 'registry.example.com/web:1.0');
  assert.equal(deploy[0].live, 'registry.example.com/web:1.1-hotfix');
  assert.equal(deploy[0].sensitive, false);
  assert.equal(deploy[1].sensitive, true);
  const cm = fieldRows(r.status!.findings![0], ds[2]);
  assert.equal(cm[0].sensitive, true, "Argo CD's '++++' mask is not a value to show");
});

test('fieldRows says unknown without a managed-resources answer, and absent for a deleted object', () => {
  const f = {kind: 'Deployment', changed_fields: ['/spec/replicas']};
  assert.deepEqual(fieldRows(f, undefined), [{path: '/spec/replicas', desired: 'unknown', live: 'unknown', sensitive: false}]);
  const rows = fieldRows({...f, deleted: true}, {targetState: {spec: {replicas: 3}}, liveState: undefined});
  assert.equal(rows[0].desired, '3');
  assert.equal(rows[0].live, '(absent)');
  assert.deepEqual(fieldRows({kind: 'Deployment', changed_fields: null}, undefined), []);
});

test('safeHref keeps only absolute http(s) URLs', () => {
  assert.equal(safeHref('https://git.example.com/pr/1'), 'https://git.example.com/pr/1');
  assert.equal(safeHref(' http://x.example/ '), 'http://x.example/');
  for (const bad of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', ' javascript:alert(1)', 'data:text/html,<b>x</b>', 'vbscript:x', '/relative', '//evil.example/x', 'CHG-1001', 'hmac-sha256:00', '', undefined]) {
    assert.equal(safeHref(bad as any), undefined, String(bad));
  }
});

test('linksOf sorts Argo CD link annotations into evidence and pull requests, and drops unsafe ones', () => {
  const links = linksOf(report(), {metadata: {annotations: {'link.argocd.argoproj.io/Merge request': 'https://git.example.com/mr/3', 'other': 'https://ignored.example'}}});
  const by = (k: string) => links.filter(l => l.kind === k).map(l => l.url);
  assert.deepEqual(by('evidence'), ['https://evidence.example.com/web/2026-11-22']);
  assert.deepEqual(by('pr'), ['https://git.example.com/org/web/pulls/42', 'https://git.example.com/mr/3']);
  assert.deepEqual(by('other'), ['https://tickets.example.com/SEC-7'], 'only the ticket that is a URL; the javascript: runbook is dropped');
  assert.ok(!JSON.stringify(links).includes('javascript'));
  assert.deepEqual(linksOf(undefined, undefined), []);
});

test('linksOf lists the reporter\'s pull requests from status.reconciliations, and only safe URLs', () => {
  const r = report();
  r.status = {...(r.status || {}), reconciliations: [
    {key: 'fp-1', status: 'verified', pullRequest: 7, url: 'https://git.example.com/org/web/pulls/7', summary: 'accepted into Git by PR #7, verified at 2026-12-01T10:00:00Z'},
    {key: 'fp-2', status: 'proposed', pullRequest: 8, url: 'javascript:alert(1)'},
    {key: 'fp-3', status: 'reported'},
  ]};
  const prs = linksOf(r, undefined).filter(l => l.kind === 'pr');
  assert.deepEqual(prs.map(l => l.url), ['https://git.example.com/org/web/pulls/42', 'https://git.example.com/org/web/pulls/7']);
  assert.equal(prs[1].title, 'PR #7 verified');
});

test('verdict: unknown unless the reporter evaluated the application, never clean by default', () => {
  assert.equal(verdict(undefined).state, 'unknown');
  assert.equal(verdict({}).state, 'unknown');
  assert.equal(verdict({status: {findings: []}}).state, 'unknown', 'never evaluated');
  assert.equal(verdict({status: {lastEvaluatedAt: 'x', findings: []}}).state, 'unknown', 'no Evaluated condition');
  const failed = verdict({status: {lastEvaluatedAt: 'x', findings: [], conditions: [{type: 'Evaluated', status: 'False', reason: 'IncompleteAnswer', message: 'no target state'}]}});
  assert.deepEqual(failed, {state: 'unknown', reason: 'IncompleteAnswer: no target state'});
  const ok = {type: 'Evaluated', status: 'True'};
  assert.equal(verdict({status: {lastEvaluatedAt: 'x', findings: [], conditions: [ok]}}).state, 'clean');
  assert.equal(verdict({status: {lastEvaluatedAt: 'x', findings: [{blocking: false}], conditions: [ok]}}).state, 'drift');
  assert.equal(verdict({status: {lastEvaluatedAt: 'x', findings: [{blocking: true}], conditions: [ok]}}).state, 'blocking');
  assert.equal(verdict({status: {lastEvaluatedAt: 'x', blockingCount: 2, findings: [], conditions: [ok]}}).state, 'blocking');
});

test('expiry and age are relative to now', () => {
  assert.deepEqual(expiry('2026-12-22T12:00:00Z', NOW), {text: 'expires in 30d', expired: false});
  assert.deepEqual(expiry('2026-11-22T10:00:00Z', NOW), {text: 'expired 2h ago', expired: true});
  assert.equal(expiry('not a time', NOW), undefined);
  assert.equal(expiry(undefined, NOW), undefined);
  // The ledger's first sighting wins over the report's own.
  assert.equal(age({first_seen: '2026-11-21T12:00:00Z', firstObservedAt: '2026-11-22T11:00:00Z'}, NOW), '24h');
  assert.equal(age({firstObservedAt: '2026-11-22T11:59:30Z'}, NOW), '30s');
  assert.equal(age({}, NOW), undefined);
});

test('sortFindings: blocking first, then by risk, stable otherwise', () => {
  const ids = sortFindings([
    {finding_id: 'a', risk: 'LOW'},
    {finding_id: 'b', risk: 'CRITICAL'},
    {finding_id: 'c', risk: 'LOW', blocking: true},
    {finding_id: 'd', risk: 'LOW'},
    {finding_id: 'e'}
  ]).map(f => f.finding_id);
  assert.deepEqual(ids, ['c', 'b', 'a', 'd', 'e']);
});

test("reportNode picks the application's own DriftReport", () => {
  const app = {
    metadata: {name: 'web'},
    status: {
      resources: [
        {group: 'apps', kind: 'Deployment', name: 'web'},
        {group: 'drift.driftplane.io', kind: 'DriftReport', name: 'other', namespace: 'x'},
        {group: 'drift.driftplane.io', kind: 'DriftReport', name: 'web', namespace: 'web'}
      ]
    }
  };
  assert.deepEqual(reportNode(app, undefined), {group: 'drift.driftplane.io', kind: 'DriftReport', name: 'web', namespace: 'web'});
  assert.equal(reportNode({metadata: {name: 'web'}}, {nodes: [{group: 'drift.driftplane.io', kind: 'DriftReport', name: 'r', namespace: 'n'}]})?.name, 'r');
  assert.equal(reportNode({metadata: {name: 'web'}}, {nodes: [{group: 'apps', kind: 'DriftReport', name: 'web'}]}), undefined, 'another group is not ours');
});
