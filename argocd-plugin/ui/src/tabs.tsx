// The containers Argo CD mounts: they read the DriftReport and the managed resources through
// argocd-server's API and hand them to DriftView.

import * as React from 'react';

import {Fetch, apiRoot, getDriftReport, managedResources} from './api';
import {reportNode} from './model';
import {DriftView} from './view';
import {DriftReport, ExtensionProps, ResourceDiff} from './types';

const h = React.createElement;

interface Loaded {
  report?: DriftReport;
  reportError?: string;
  diffs?: ResourceDiff[];
  diffsError?: string;
  loading: boolean;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function defaultFetch(): Fetch {
  return (url, init) => fetch(url, init);
}

// useDrift loads what the tab shows. report is given when Argo CD already handed the live
// DriftReport to the tab (the resource tab); otherwise it is read through the resource
// endpoint. The managed resources are read in both cases, for the desired and live values.
function useDrift(props: ExtensionProps, given: DriftReport | undefined, fetcher: Fetch): Loaded {
  const app = props.application;
  const name = app?.metadata?.name || '';
  const ns = app?.metadata?.namespace || '';
  const [state, setState] = React.useState<Loaded>({report: given, loading: true});
  const node = given ? undefined : reportNode(app, props.tree);
  // Argo CD re-renders the tab on every change of the application; read again only when the
  // report may have changed: its health (which names the findings) or its evaluation time.
  const health = (app?.status?.resources || []).find(r => r.kind === node?.kind && r.group === node?.group && r.name === node?.name && r.namespace === node?.namespace)?.health;
  const key = [
    name,
    ns,
    node?.namespace,
    node?.name,
    health?.status,
    health?.message,
    given?.metadata?.namespace,
    given?.metadata?.name,
    given?.status?.lastEvaluatedAt
  ].join('|');
  React.useEffect(() => {
    let live = true;
    const root = apiRoot();
    const reportP: Promise<DriftReport | undefined> = given
      ? Promise.resolve(given)
      : node
        ? getDriftReport(fetcher, root, name, ns, node)
        : Promise.reject(new Error('application ' + name + ' has no DriftReport: is it rendered by the driftplane plugin?'));
    const diffsP = managedResources(fetcher, root, name, ns);
    Promise.allSettled([reportP, diffsP]).then(([r, d]) => {
      if (!live) {
        return;
      }
      setState({
        report: r.status === 'fulfilled' ? r.value : undefined,
        reportError: r.status === 'rejected' ? message(r.reason) : undefined,
        diffs: d.status === 'fulfilled' ? d.value : undefined,
        diffsError: d.status === 'rejected' ? message(d.reason) : undefined,
        loading: false
      });
    });
    return () => {
      live = false;
    };
  }, [key]);
  return state;
}

function Tab({props, given, fetcher}: {props: ExtensionProps; given?: DriftReport; fetcher: Fetch}) {
  const s = useDrift(props, given, fetcher);
  if (s.loading && !s.report) {
    return h('div', {className: 'driftplane-drift drift-loading'}, 'Loading drift…');
  }
  if (!s.report) {
    // Unknown, never clean: say the report could not be read.
    return h('div', {className: 'driftplane-drift'}, h('div', {className: 'drift-verdict drift-verdict--unknown', 'data-verdict': 'unknown'}, 'Drift unknown: ' + (s.reportError || 'no DriftReport')));
  }
  return h(DriftView, {report: s.report, application: props.application, diffs: s.diffs, diffsError: s.diffsError});
}

// makeTabs builds the three components with fetcher (window.fetch in Argo CD; a stub in tests).
export function makeTabs(fetcher: Fetch = defaultFetch()) {
  // ApplicationTab is the application's "Drift" tab (resource tab of argoproj.io/Application).
  const ApplicationTab = (props: ExtensionProps) => h(Tab, {props, fetcher});
  // AppView is the "Drift" view beside the tree, pods, network and list views.
  const AppView = (props: ExtensionProps) => h('div', {style: {padding: '0 16px'}}, h(Tab, {props, fetcher}));
  // ReportTab is the "Drift" tab of a DriftReport: Argo CD hands it the live object.
  const ReportTab = (props: ExtensionProps) => h(Tab, {props, given: (props.resource || undefined) as DriftReport | undefined, fetcher});
  return {ApplicationTab, AppView, ReportTab};
}
