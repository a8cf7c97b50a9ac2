// A stand-in for Argo CD's UI in the browser test: Argo CD's own extensions-service.ts (the
// version the install overlay pins, from the Go module cache) defines window.extensionsAPI and
// picks the tabs for a resource by its group and kind, React 16 and ReactDOM are globals as
// Argo CD's index.tsx sets them, and mount renders an extension as Argo CD's application and
// resource panels do, inside an error boundary.
import * as React from 'react';
import * as ReactDOM from 'react-dom';
// @ts-ignore resolved by build.mjs to Argo CD's source
import {ExtensionsService} from 'argocd-extensions-service';

const w = window as any;
w.React = React;
w.ReactDOM = ReactDOM;

const service = new ExtensionsService();

class ErrorBoundary extends React.Component<{children?: React.ReactNode}, {error?: string}> {
  state: {error?: string} = {};
  static getDerivedStateFromError(e: any) {
    return {error: String((e && e.stack) || e)};
  }
  render() {
    if (this.state.error) {
      return React.createElement('pre', {id: 'extension-error'}, this.state.error);
    }
    return this.props.children as any;
  }
}

type View = 'application-tab' | 'resource-tab' | 'app-view';

w.argoHost = {
  tabs(group: string, kind: string): string[] {
    return service.getResourceTabs(group, kind).map((e: any) => e.title);
  },
  appViews(): string[] {
    return service.getAppViewExtensions().map((e: any) => e.title);
  },
  // mount renders the extension titled title for view, with the props Argo CD passes there
  // (resource-details.tsx and application-details.tsx).
  mount(view: View, title: string, props: {application: any; tree: any; resource?: any}): boolean {
    let ext: any;
    let el: any;
    if (view === 'app-view') {
      ext = service.getAppViewExtensions().find((e: any) => e.title === title);
      el = ext && React.createElement(ext.component, {application: props.application, tree: props.tree});
    } else {
      const [group, kind] = view === 'application-tab' ? ['argoproj.io', 'Application'] : [props.resource.apiVersion.split('/')[0], props.resource.kind];
      ext = service.getResourceTabs(group, kind).find((e: any) => e.title === title);
      const resource = view === 'application-tab' ? props.application : props.resource;
      el = ext && React.createElement(ext.component, {resource, tree: props.tree, application: props.application});
    }
    if (!ext) {
      return false;
    }
    const root = document.getElementById('app')!;
    ReactDOM.unmountComponentAtNode(root);
    ReactDOM.render(React.createElement(ErrorBoundary, null, el), root);
    return true;
  }
};
