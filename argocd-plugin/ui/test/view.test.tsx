import {test} from 'node:test';
import assert from 'node:assert/strict';
import * as React from 'react';
import {renderToStaticMarkup} from 'react-dom/server';

import {DriftView, FieldDiff} from '../src/view';
import {NOW, SECRET_DESIRED, SECRET_VALUE, diffs, report} from './fixtures';

const h = React.createElement;

// rows pulls the finding rows out of the markup: their classes and finding ids, in order.
function rows(html: string): {id: string; classes: string[]}[] {
  const out: {id: string; classes: string[]}[] = [];
  const re = /<tr class="([^"]*\bdrift-finding\b[^"]*)" data-finding-id="([^"]*)"/g;
  for (let m = re.exec(html); m; m = re.exec(html)) {
    out.push({id: m[2], classes: m[1].split(' ')});
  }
  return out;
}

test('DriftView lists the findings, blocking first, with class, risk and state as classes', () => {
  const html = renderToStaticMarkup(h(DriftView, {report: report(), diffs: diffs(), now: NOW}));
  const rs = rows(html);
  assert.deepEqual(rs.map(r => r.id), ['drift-secret', 'drift-deploy', 'drift-cm']);
  assert.ok(rs[0].classes.includes('drift-finding--blocking'));
  assert.ok(rs[0].classes.includes('drift-class--UNAUTHORIZED_RUNTIME_DRIFT'));
  assert.ok(rs[0].classes.includes('drift-risk--CRITICAL'));
  assert.ok(rs[1].classes.includes('drift-finding--accepted'));
  assert.ok(rs[2].classes.includes('drift-class--EMERGENCY_DRIFT'));
  assert.match(html, /data-verdict="blocking"/);
  assert.match(html, /1 unaccepted finding\(s\) at or above gate high \(worst risk CRITICAL\)/);
});

test('DriftView never renders a secret value, desired or live, and says the field changed', () => {
  const html = renderToStaticMarkup(h(DriftView, {report: report(), diffs: diffs(), now: NOW}));
  assert.ok(!html.includes(SECRET_VALUE), 'live secret value rendered');
  assert.ok(!html.includes(SECRET_DESIRED), "Git's secret value rendered");
  assert.ok(!html.includes('++++'), "Argo CD's mask rendered as a value");
  const sensitive = html.match(/<tr class="drift-field drift-field--sensitive" data-path="([^"]*)">(.*?)<\/tr>/g) || [];
  assert.equal(sensitive.length, 3, 'the Secret field, the env value and the masked ConfigMap value');
  for (const row of sensitive) {
    assert.equal((row.match(/>changed</g) || []).length, 2, row);
  }
});

test('DriftView shows the side-by-side values, actor, action, acceptance and expiry, lifecycle and evidence', () => {
  const html = renderToStaticMarkup(h(DriftView, {report: report(), diffs: diffs(), now: NOW}));
  assert.match(html, /data-path="\/spec\/template\/spec\/containers\/name=app\/image"><td><code>[^<]*<\/code><\/td><td class="drift-desired"><pre>registry.example.com\/web:1.0<\/pre><\/td><td class="drift-live"><pre>registry.example.com\/web:1.1-hotfix<\/pre>/);
  assert.match(html, /<code>EXC-1<\/code> by web-lead<div class="drift-expiry"[^>]*>expires in 30d<\/div>/);
  assert.match(html, /<code>EXC-OLD<\/code> by sec-lead<div class="drift-expiry drift-expired"[^>]*>expired 2d ago<\/div>/);
  assert.match(html, /class="drift-actor"[^>]*>mallory<div><small>human<\/small>/);
  assert.match(html, /class="drift-actor drift-actor--unknown">unknown</, 'no actor is unknown, not blank');
  assert.match(html, /INCIDENT_AND_REVERT/);
  assert.match(html, /GIT_UPDATE_PR/);
  // The secret finding: first seen by the ledger a day before now.
  assert.match(html, /<time dateTime="2026-11-21T12:00:00Z"[^>]*>2026-11-21T12:00:00Z<\/time><div><small>24h<\/small>/);
  assert.match(html, /<a href="https:\/\/evidence.example.com\/records\/abc" target="_blank" rel="noopener noreferrer">evidence<\/a>/);
  assert.match(html, /<code title="hmac-sha256:0123456789abcdef0123456789abcdef">hmac-sha256:0123456789ab…<\/code>/);
});

test('DriftView shows budgets, the last auto-heal and safe links only', () => {
  const html = renderToStaticMarkup(h(DriftView, {report: report(), diffs: diffs(), now: NOW}));
  assert.match(html, /class="drift-budget drift-budget--exhausted" data-budget="prod-unauthorized"><td>prod-unauthorized<\/td><td class="drift-budget-state">exhausted<\/td><td>3<\/td><td>95% over 720h \(2 bad of 10\)<\/td><td>4.0/);
  assert.match(html, /data-budget="low-risk"/);
  assert.match(html, /not healed: Deployment\/web: no AutoHealPolicy allows/);
  assert.match(html, /drift-links--evidence"><strong>Evidence: <\/strong><a href="https:\/\/evidence.example.com\/web\/2026-11-22"/);
  assert.match(html, /drift-links--pr"><strong>Reconciliation PRs: <\/strong><a href="https:\/\/git.example.com\/org\/web\/pulls\/42"/);
  assert.ok(!/href="javascript/i.test(html), 'a javascript: link became clickable');
});

test('DriftView says unknown, not clean, for a failed or missing evaluation', () => {
  const r = report();
  r.status!.conditions = [{type: 'Evaluated', status: 'False', reason: 'ComparisonError', message: 'Argo CD could not compare'}];
  let html = renderToStaticMarkup(h(DriftView, {report: r, now: NOW}));
  assert.match(html, /data-verdict="unknown">Drift unknown: ComparisonError: Argo CD could not compare</);
  // The last findings stay visible beside the unknown verdict.
  assert.equal(rows(html).length, 3);
  html = renderToStaticMarkup(h(DriftView, {report: undefined, now: NOW}));
  assert.match(html, /data-verdict="unknown"/);
  assert.ok(!html.includes('No drift'));
  const clean = report();
  clean.status!.findings = [];
  clean.status!.blockingCount = 0;
  assert.match(renderToStaticMarkup(h(DriftView, {report: clean, now: NOW})), /data-verdict="clean">No drift</);
});

test('FieldDiff without the managed resources says the values are unknown', () => {
  const f = report().status!.findings![2];
  const html = renderToStaticMarkup(h(FieldDiff, {finding: f, diff: undefined}));
  assert.equal((html.match(/<pre>unknown<\/pre>/g) || []).length, 2, 'the image row: desired and live unknown');
  assert.match(html, /drift-field--sensitive/);
  const err = renderToStaticMarkup(h(DriftView, {report: report(), diffsError: 'GET managed-resources: 403 Forbidden', now: NOW}));
  assert.match(err, /Desired and live values unavailable: GET managed-resources: 403 Forbidden/);
});

test('FindingsTable escapes text from the report', () => {
  const r = report();
  r.status!.findings![0].name = '<img src=x onerror=alert(1)>';
  r.status!.findings![0].explanation = '"><script>alert(1)</script>';
  const html = renderToStaticMarkup(h(DriftView, {report: r, now: NOW}));
  assert.ok(!html.includes('<img src=x'));
  assert.ok(!html.includes('<script>alert'));
});
