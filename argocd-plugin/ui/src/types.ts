// The shapes the Drift view reads: driftplane's DriftReport (api/v1alpha1, written by the
// reporter, argocd-plugin/reporter/status.go) and the parts of Argo CD's models it needs
// (ui/src/app/shared/models.ts in Argo CD). Every field is optional: the view must say
// "unknown" rather than break, or call drift clean, when a report is partial.

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  creationTimestamp?: string;
}

export interface ActorDetail {
  username?: string;
  groups?: string[];
  user_agent?: string;
  time?: string;
  manager?: string;
  kind?: string;
}

export interface Finding {
  finding_id?: string;
  detected_at?: string;
  unit?: string;
  owner?: string;
  environment?: string;
  domain?: string;
  resource_ref?: string;
  group?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  drift_class?: string;
  risk?: string;
  changed_fields?: string[] | null;
  sensitive_fields?: string[] | null;
  recommended_action?: string;
  auto_heal_allowed?: boolean;
  accepted_by?: string;
  actor?: string;
  actor_detail?: ActorDetail;
  evidence?: string;
  rule?: string;
  policy_rule?: string;
  deleted?: boolean;
  blocking?: boolean;
  explanation?: string;
  fingerprint?: string;
  first_seen?: string;
  age?: string;
  firstObservedAt?: string;
}

export interface BurnRate {
  window?: string;
  rate?: string;
}

export interface BudgetState {
  name?: string;
  state?: string;
  open?: number;
  reason?: string;
  since?: string;
  objective?: string;
  judged?: number;
  bad?: number;
  burnRate?: string;
  burnRates?: BurnRate[];
}

export interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

export interface HealTarget {
  group?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  findings?: string[];
  paths?: string[];
  policy?: string;
}

export interface AutoHealRecord {
  at?: string;
  healed?: HealTarget[];
  failed?: HealTarget[];
  skipped?: string[];
  error?: string;
}

export interface DriftReportStatus {
  lastEvaluatedAt?: string;
  observedRevision?: string;
  gate?: string;
  worstRisk?: string;
  blockingCount?: number;
  summary?: string;
  countsByRisk?: Record<string, number>;
  countsByClass?: Record<string, number>;
  findings?: Finding[] | null;
  conditions?: Condition[];
  budgets?: BudgetState[];
  inventory?: {expected?: number; observed?: number};
  autoHeal?: AutoHealRecord;
  reconciliations?: Reconciliation[];
}

// Reconciliation is a pull request accepting drift into Git (status.reconciliations).
export interface Reconciliation {
  key: string;
  status: string;
  pullRequest?: number;
  url?: string;
  fingerprints?: string[];
  summary?: string;
  mergedAt?: string;
  verifiedAt?: string;
  closedAt?: string;
  error?: string;
}

export interface DriftException {
  metadata?: ObjectMeta;
  spec?: {
    unit?: string;
    resource?: string;
    paths?: string[];
    driftClass?: string;
    reason?: string;
    ticket?: string;
    approvedBy?: string;
    expiresAt?: string;
  };
}

export interface DriftReport {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: {
    unit?: {metadata?: ObjectMeta; spec?: {owner?: string; environment?: string; gate?: string; riskTier?: string}};
    exceptions?: DriftException[] | null;
    application?: {name?: string; namespace?: string};
    revision?: string;
    freshnessSeconds?: number;
  };
  status?: DriftReportStatus;
}

// Argo CD's models, reduced to what the view reads.

export interface ResourceStatus {
  group?: string;
  version?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  status?: string;
  health?: {status?: string; message?: string};
}

export interface Application {
  metadata?: ObjectMeta;
  spec?: {project?: string};
  status?: {resources?: ResourceStatus[]; sync?: {revision?: string}};
}

export interface ResourceNode {
  group?: string;
  version?: string;
  kind?: string;
  namespace?: string;
  name?: string;
}

export interface ApplicationTree {
  nodes?: ResourceNode[];
}

// ResourceDiff is one item of Argo CD's managed-resources answer; the states are JSON strings
// on the wire, parsed by the API client.
export interface ResourceDiff {
  group?: string;
  kind?: string;
  namespace?: string;
  name?: string;
  targetState?: any;
  liveState?: any;
}

export interface ExtensionProps {
  application: Application;
  tree?: ApplicationTree;
  resource?: any;
}
