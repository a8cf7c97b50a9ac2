// The Drift view's reads from argocd-server, with the browser's Argo CD session (the same
// cookie the UI itself uses): the DriftReport as Argo CD holds it live, and the managed
// resources' desired and live states. Nothing is written.

import {DriftReport, ResourceDiff, ResourceNode} from './types';
import {GROUP, KIND, VERSION} from './model';

// apiRoot honours the <base href> Argo CD's UI is served under (--rootpath / --basehref).
export function apiRoot(doc: Document | undefined = typeof document === 'undefined' ? undefined : document): string {
  const base = doc?.querySelector('base')?.getAttribute('href') || '/';
  return base.replace(/\/*$/, '') + '/api/v1';
}

export type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

async function getJSON(fetcher: Fetch, url: string): Promise<any> {
  const res = await fetcher(url, {credentials: 'same-origin', headers: {Accept: 'application/json'}});
  if (!res.ok) {
    throw new Error('GET ' + url + ': ' + res.status + ' ' + res.statusText);
  }
  return res.json();
}

function q(params: Record<string, string | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    u.set(k, v || '');
  }
  return u.toString();
}

// getDriftReport reads the live DriftReport through Argo CD's resource endpoint, as Argo CD's
// own resource panel does (the answer's manifest is a JSON string).
export async function getDriftReport(fetcher: Fetch, root: string, appName: string, appNamespace: string, node: ResourceNode): Promise<DriftReport> {
  const body = await getJSON(
    fetcher,
    root +
      '/applications/' +
      encodeURIComponent(appName) +
      '/resource?' +
      q({
        name: node.name,
        appNamespace,
        namespace: node.namespace,
        resourceName: node.name,
        version: node.version || VERSION,
        kind: KIND,
        group: GROUP
      })
  );
  if (!body || typeof body.manifest !== 'string' || body.manifest === '') {
    throw new Error('argocd-server returned no live DriftReport ' + (node.namespace || '') + '/' + (node.name || ''));
  }
  return JSON.parse(body.manifest) as DriftReport;
}

// managedResources reads the application's desired (targetState) and live (liveState) objects.
export async function managedResources(fetcher: Fetch, root: string, appName: string, appNamespace: string): Promise<ResourceDiff[]> {
  const body = await getJSON(fetcher, root + '/applications/' + encodeURIComponent(appName) + '/managed-resources?' + q({appNamespace}));
  const parse = (s: any) => (typeof s === 'string' && s !== '' ? JSON.parse(s) : s || undefined);
  // Only what the view shows is kept: the object's identity and its two states.
  return ((body && body.items) || []).map((it: any) => ({
    group: it.group,
    kind: it.kind,
    namespace: it.namespace,
    name: it.name,
    targetState: parse(it.targetState),
    liveState: parse(it.liveState)
  }));
}
