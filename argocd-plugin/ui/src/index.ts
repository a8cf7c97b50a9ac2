// Entry point of extension-drift.js: registers driftplane's Drift view with Argo CD's UI through
// the extensionsAPI global Argo CD defines before it loads /extensions.js.

import {GROUP, KIND} from './model';
import {makeTabs} from './tabs';

export const TITLE = 'Drift';
export const ICON = 'fa-code-compare';

interface ExtensionsAPI {
  registerResourceExtension(component: any, group: string, kind: string, tabTitle: string, opts?: {icon?: string}): void;
  registerAppViewExtension?(component: any, title: string, icon: string): void;
}

export function register(api: ExtensionsAPI | undefined) {
  if (!api) {
    // Outside Argo CD there is nothing to register with; say so instead of failing silently.
    console.warn('driftplane: window.extensionsAPI is missing; the Drift extension is not registered');
    return;
  }
  const {ApplicationTab, AppView, ReportTab} = makeTabs();
  api.registerResourceExtension(ApplicationTab, 'argoproj.io', 'Application', TITLE, {icon: ICON});
  api.registerResourceExtension(ReportTab, GROUP, KIND, TITLE, {icon: ICON});
  // Argo CD before 2.8 has no application views.
  if (api.registerAppViewExtension) {
    api.registerAppViewExtension(AppView, TITLE, ICON);
  }
}

register((window as any).extensionsAPI);
