// A DriftReport and managed-resources answer covering what the captured end-to-end answers do
// not: a Secret whose value changed, an expired exception, budgets, links.
import {DriftReport, ResourceDiff} from '../src/types';

export const NOW = Date.parse('2026-11-22T12:00:00Z');
export const SECRET_VALUE = 'hunter2-live-secret-value';
export const SECRET_DESIRED = 'git-desired-secret-value';

export function report(): DriftReport {
  return {
    apiVersion: 'drift.driftplane.io/v1alpha1',
    kind: 'DriftReport',
    metadata: {
      name: 'web',
      namespace: 'web',
      annotations: {
        'link.argocd.argoproj.io/evidence': 'https://evidence.example.com/web/2026-11-22',
        'link.argocd.argoproj.io/reconcile-pr': 'https://git.example.com/org/web/pulls/42',
        'link.argocd.argoproj.io/runbook': 'javascript:alert(1)'
      }
    },
    spec: {
      application: {name: 'web', namespace: 'argocd'},
      exceptions: [
        {metadata: {name: 'EXC-1'}, spec: {approvedBy: 'web-lead', expiresAt: '2026-12-22T12:00:00Z', ticket: 'CHG-1001', driftClass: 'UNAUTHORIZED_RUNTIME_DRIFT'}},
        {metadata: {name: 'EXC-OLD'}, spec: {approvedBy: 'sec-lead', expiresAt: '2026-11-20T12:00:00Z', ticket: 'https://tickets.example.com/SEC-7'}}
      ]
    },
    status: {
      lastEvaluatedAt: '2026-11-22T11:59:00Z',
      gate: 'high',
      worstRisk: 'CRITICAL',
      blockingCount: 1,
      summary: '3 finding(s)',
      conditions: [{type: 'Evaluated', status: 'True', reason: 'Evaluated'}],
      findings: [
        {
          finding_id: 'drift-cm',
          kind: 'ConfigMap',
          group: '',
          namespace: 'web',
          name: 'settings',
          drift_class: 'EMERGENCY_DRIFT',
          risk: 'LOW',
          changed_fields: ['/data/mode'],
          recommended_action: 'GIT_UPDATE_PR',
          accepted_by: 'EXC-OLD',
          actor: '',
          evidence: 'hmac-sha256:cm',
          blocking: false
        },
        {
          finding_id: 'drift-secret',
          kind: 'Secret',
          group: '',
          namespace: 'web',
          name: 'db',
          drift_class: 'UNAUTHORIZED_RUNTIME_DRIFT',
          risk: 'CRITICAL',
          changed_fields: ['/data/password'],
          sensitive_fields: ['/data/password'],
          recommended_action: 'INCIDENT_AND_REVERT',
          accepted_by: '',
          actor: 'mallory',
          actor_detail: {username: 'mallory', kind: 'human', manager: 'kubectl-edit'},
          evidence: 'hmac-sha256:0123456789abcdef0123456789abcdef',
          blocking: true,
          first_seen: '2026-11-21T12:00:00Z',
          firstObservedAt: '2026-11-22T10:00:00Z'
        },
        {
          finding_id: 'drift-deploy',
          kind: 'Deployment',
          group: 'apps',
          namespace: 'web',
          name: 'web',
          drift_class: 'UNAUTHORIZED_RUNTIME_DRIFT',
          risk: 'HIGH',
          changed_fields: ['/spec/template/spec/containers/name=app/image', '/spec/template/spec/containers/name=app/env/name=TOKEN/value'],
          sensitive_fields: ['/spec/template/spec/containers/name=app/env/name=TOKEN/value'],
          recommended_action: 'RUNTIME_REVERT',
          accepted_by: 'EXC-1',
          actor: 'alice',
          evidence: 'https://evidence.example.com/records/abc',
          blocking: false,
          firstObservedAt: '2026-11-22T09:00:00Z'
        }
      ],
      budgets: [
        {name: 'prod-unauthorized', state: 'exhausted', open: 3, reason: 'maxOpen 2 exceeded', since: '2026-11-22T08:00:00Z', objective: '95% over 720h', judged: 10, bad: 2, burnRate: '4.0'},
        {name: 'low-risk', state: 'ok', open: 0}
      ],
      autoHeal: {at: '2026-11-22T11:59:00Z', skipped: ['Deployment/web: no AutoHealPolicy allows /spec/template/spec/containers/name=app/image']}
    }
  };
}

export function diffs(): ResourceDiff[] {
  return [
    {
      group: '',
      kind: 'Secret',
      namespace: 'web',
      name: 'db',
      targetState: {apiVersion: 'v1', kind: 'Secret', data: {password: SECRET_DESIRED}},
      liveState: {apiVersion: 'v1', kind: 'Secret', data: {password: SECRET_VALUE}}
    },
    {
      group: 'apps',
      kind: 'Deployment',
      namespace: 'web',
      name: 'web',
      targetState: {spec: {template: {spec: {containers: [{name: 'app', image: 'registry.example.com/web:1.0', env: [{name: 'TOKEN', value: SECRET_DESIRED}]}]}}}},
      liveState: {spec: {template: {spec: {containers: [{name: 'sidecar', image: 'x'}, {name: 'app', image: 'registry.example.com/web:1.1-hotfix', env: [{name: 'TOKEN', value: SECRET_VALUE}]}]}}}}
    },
    {
      group: '',
      kind: 'ConfigMap',
      namespace: 'web',
      name: 'settings',
      targetState: {data: {mode: 'safe'}},
      liveState: {data: {mode: '++++++++'}}
    }
  ];
}
