import {test} from 'node:test';
import assert from 'node:assert/strict';

import {apiRoot, getDriftReport, managedResources} from '../src/api';

const doc = (href: string | null) => ({querySelector: () => (href === null ? null : {getAttribute: () => href})}) as any;

test("apiRoot follows Argo CD's <base href>", () => {
  assert.equal(apiRoot(doc('/')), '/api/v1');
  assert.equal(apiRoot(doc('/argo-cd/')), '/argo-cd/api/v1');
  assert.equal(apiRoot(doc(null)), '/api/v1');
  assert.equal(apiRoot(undefined), '/api/v1');
});

function stub(answers: Record<string, {status: number; body: any}>) {
  const calls: {url: string; init?: RequestInit}[] = [];
  const fetcher = async (url: string, init?: RequestInit) => {
    calls.push({url, init});
    const path = url.split('?')[0];
    const a = answers[path] || {status: 404, body: {error: 'not found'}};
    return new Response(JSON.stringify(a.body), {status: a.status, statusText: a.status === 200 ? 'OK' : 'Error'});
  };
  return {fetcher, calls};
}

test('getDriftReport asks the resource endpoint for the DriftReport, with the session cookie, and parses the manifest', async () => {
  const {fetcher, calls} = stub({'/api/v1/applications/web/resource': {status: 200, body: {manifest: JSON.stringify({kind: 'DriftReport', status: {gate: 'high'}})}}});
  const r = await getDriftReport(fetcher, '/api/v1', 'web', 'argocd', {name: 'web', namespace: 'web'});
  assert.equal(r.status?.gate, 'high');
  const u = new URL(calls[0].url, 'http://x');
  assert.deepEqual(Object.fromEntries(u.searchParams), {
    name: 'web',
    appNamespace: 'argocd',
    namespace: 'web',
    resourceName: 'web',
    version: 'v1alpha1',
    kind: 'DriftReport',
    group: 'drift.driftplane.io'
  });
  assert.equal(calls[0].init?.credentials, 'same-origin');
  assert.equal(calls[0].init?.method, undefined, 'a GET');
});

test('getDriftReport fails on an error answer or an empty manifest, never returns an empty report', async () => {
  const denied = stub({'/api/v1/applications/web/resource': {status: 403, body: {error: 'permission denied'}}});
  await assert.rejects(getDriftReport(denied.fetcher, '/api/v1', 'web', 'argocd', {name: 'web', namespace: 'web'}), /403/);
  const empty = stub({'/api/v1/applications/web/resource': {status: 200, body: {manifest: ''}}});
  await assert.rejects(getDriftReport(empty.fetcher, '/api/v1', 'web', 'argocd', {name: 'web', namespace: 'web'}), /no live DriftReport/);
  const none = stub({'/api/v1/applications/web/resource': {status: 200, body: {}}});
  await assert.rejects(getDriftReport(none.fetcher, '/api/v1', 'web', 'argocd', {name: 'web', namespace: 'web'}), /no live DriftReport/);
});

test('managedResources parses the states and keeps only identity and the two states', async () => {
  const {fetcher} = stub({
    '/api/v1/applications/my%20app/managed-resources': {
      status: 200,
      body: {items: [{group: 'apps', kind: 'Deployment', namespace: 'web', name: 'web', targetState: '{"a":1}', liveState: '{"a":2}', normalizedLiveState: '{"a":3}', predictedLiveState: '{"a":4}', diff: 'x'}, {kind: 'ConfigMap', name: 'gone', targetState: '{"b":1}', liveState: ''}]}
    }
  });
  const items = await managedResources(fetcher, '/api/v1', 'my app', 'argocd');
  assert.deepEqual(items, [
    {group: 'apps', kind: 'Deployment', namespace: 'web', name: 'web', targetState: {a: 1}, liveState: {a: 2}},
    {group: undefined, kind: 'ConfigMap', namespace: undefined, name: 'gone', targetState: {b: 1}, liveState: undefined}
  ]);
  const empty = stub({'/api/v1/applications/web/managed-resources': {status: 200, body: {}}});
  assert.deepEqual(await managedResources(empty.fetcher, '/api/v1', 'web', 'argocd'), []);
});
