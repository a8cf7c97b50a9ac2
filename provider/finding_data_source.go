package provider

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/drift/pipeline"
)

var (
	_ datasource.DataSource                     = &FindingDataSource{}
	_ datasource.DataSourceWithConfigure        = &FindingDataSource{}
	_ datasource.DataSourceWithConfigValidators = &FindingDataSource{}
)

// NewFindingDataSource is the drift_finding factory.
func NewFindingDataSource() datasource.DataSource { return &FindingDataSource{} }

// FindingDataSource evaluates a unit's drift and fails the plan on unaccepted findings at or
// above the unit's gate.
type FindingDataSource struct {
	s3       blob.S3Options
	digester *drift.Digester
	version  string
}

// ConfigValidators: exactly one drift source.
func (d *FindingDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{
		datasourcevalidator.ExactlyOneOf(path.MatchRoot("plan_json_path"), path.MatchRoot("kubernetes")),
	}
}

// Configure receives the provider's S3 options and digest key.
func (d *FindingDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	if pd := configureData(req, resp); pd != nil {
		d.s3, d.digester, d.version = pd.s3, pd.digester, pd.version
	}
}

type findingDSModel struct {
	ID             types.String     `tfsdk:"id"`
	Unit           types.String     `tfsdk:"unit"`
	Exceptions     []string         `tfsdk:"exceptions"`
	PlanJSONPath   types.String     `tfsdk:"plan_json_path"`
	SchemaJSONPath types.String     `tfsdk:"provider_schema_json_path"`
	LockFilePath   types.String     `tfsdk:"lock_file_path"`
	RecordedLock   types.String     `tfsdk:"recorded_lock_file_path"`
	ApplyLogPath   types.String     `tfsdk:"apply_log_path"`
	Kubernetes     *kubernetesModel `tfsdk:"kubernetes"`
	CloudTrailPath types.String     `tfsdk:"cloudtrail_path"`
	StatePath      types.String     `tfsdk:"state_path"`
	Evidence       *evidenceModel   `tfsdk:"evidence"`
	EvidenceLoc    types.String     `tfsdk:"evidence_location"`
	EvaluationTime types.String     `tfsdk:"evaluation_time"`
	EnforceGate    types.Bool       `tfsdk:"enforce_gate"`
	Status         types.String     `tfsdk:"status"`
	Findings       types.List       `tfsdk:"findings"`
	BlockingCount  types.Int64      `tfsdk:"blocking_count"`
	Summary        types.String     `tfsdk:"summary"`
}

type evidenceModel struct {
	Dir    types.String `tfsdk:"dir"`
	S3     types.String `tfsdk:"s3_url"`
	Ledger types.Bool   `tfsdk:"ledger"`
}

type kubernetesModel struct {
	KubeconfigPath types.String `tfsdk:"kubeconfig_path"`
	Context        types.String `tfsdk:"context"`
	Namespace      types.String `tfsdk:"namespace"`
	ManifestsPath  types.String `tfsdk:"manifests_path"`
	AuditLogPath   types.String `tfsdk:"audit_log_path"`
}

var findingAttrTypes = map[string]attr.Type{
	"finding_id":         types.StringType,
	"detected_at":        types.StringType,
	"unit":               types.StringType,
	"owner":              types.StringType,
	"environment":        types.StringType,
	"domain":             types.StringType,
	"resource_ref":       types.StringType,
	"drift_class":        types.StringType,
	"risk":               types.StringType,
	"changed_fields":     types.ListType{ElemType: types.StringType},
	"sensitive_fields":   types.ListType{ElemType: types.StringType},
	"recommended_action": types.StringType,
	"auto_heal_allowed":  types.BoolType,
	"accepted_by":        types.StringType,
	"actor":              types.StringType,
	"actor_groups":       types.ListType{ElemType: types.StringType},
	"actor_user_agent":   types.StringType,
	"actor_time":         types.StringType,
	"field_manager":      types.StringType,
	"evidence":           types.StringType,
	"rule":               types.StringType,
	"policy_rule":        types.StringType,
	"deleted":            types.BoolType,
	"provider_upgrade":   types.BoolType,
	"blocking":           types.BoolType,
	"explanation":        types.StringType,
	"fingerprint":        types.StringType,
	"first_seen":         types.StringType,
	"age":                types.StringType,
}

func (d *FindingDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_finding"
}

func (d *FindingDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(desc string) schema.Attribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Evaluates a unit's drift from a saved plan (`tofu show -json`) or a live Kubernetes cluster, classifies every drifted " +
			"resource with the decision table, applies the unit's ownership rules and exceptions, and **fails the plan** " +
			"with one error per unaccepted finding at or above the unit's gate, up to 20, then one error saying how many more; " +
			"findings below the gate are one warning naming the riskiest and counting the rest by class and risk. The " +
			"`findings` attribute always holds them all. " +
			"A plan file that is missing, unreadable, truncated, errored or not a plan is an error: unknown is never clean. " +
			"Values marked sensitive are never shown: findings report their paths only.",
		Attributes: map[string]schema.Attribute{
			"id":   schema.StringAttribute{Computed: true, MarkdownDescription: "Digest of the findings; changes when the drift changes."},
			"unit": schema.StringAttribute{Required: true, MarkdownDescription: "`drift_managed_unit.policy_json` of the unit."},
			"exceptions": schema.ListAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "`drift_exception.json` " +
				"values. Exceptions for other units are ignored with a warning."},
			"plan_json_path": schema.StringAttribute{Optional: true, MarkdownDescription: "Path to `tofu show -json` output of a " +
				"saved plan, refresh-only (`tofu plan -refresh-only -out=drift.plan`) or normal. For `opentofu-stack` units; " +
				"set this or the `kubernetes` block."},
			"lock_file_path": schema.StringAttribute{Optional: true, MarkdownDescription: "The stack's dependency lock file " +
				"(`.terraform.lock.hcl`) the plan was made with; with `recorded_lock_file_path`, the one of the last apply. A " +
				"resource whose provider version differs between them is judged as a provider upgrade: drift the noise rules " +
				"explain stays `PROVIDER_READ_NOISE` marked `provider_upgrade`, an attribute the new version reads that the old " +
				"did not (or no longer reads) is `DEPENDENCY_DRIFT` naming both versions, any other change is drift as usual. " +
				"A provider missing from either file is not judged. Set both or neither."},
			"recorded_lock_file_path": schema.StringAttribute{Optional: true, MarkdownDescription: "The dependency lock file of " +
				"the last apply (see `lock_file_path`)."},
			"apply_log_path": schema.StringAttribute{Optional: true, MarkdownDescription: "Path (or `s3://bucket/key`) to the " +
				"machine-readable output of the unit's last apply (`tofu apply -json > apply.jsonl`). Each resource whose apply " +
				"errored is `FAILED_RECONCILIATION` with OpenTofu's error summary (sanitized; a diagnostic's detail and snippet are " +
				"never read), never auto-healed; an apply that failed as a whole or stopped midway is one on `apply`. A file " +
				"that is not such output is an error, not a clean apply."},
			"provider_schema_json_path": schema.StringAttribute{Optional: true, MarkdownDescription: "Path (or `s3://bucket/key`) " +
				"to `tofu providers schema -json` output of the stack, written after `tofu init`. Attributes a provider computes and " +
				"never takes from configuration (resource versions, generations, uids, etags) are bookkeeping, not drift; without " +
				"it, the built-in `computed_attributes` of the decision table still apply. A claim is only believed where the " +
				"plan's configuration does not set the attribute and its value has the attribute's shape."},
			"cloudtrail_path": schema.StringAttribute{Optional: true, MarkdownDescription: "CloudTrail log file or folder (the " +
				"`.json.gz` files a trail delivers, or plain JSON), or `s3://bucket/prefix` of the trail's bucket. Each drifted resource is attributed to the principal of the last " +
				"write call that names its ID, ARN or name; roles in the unit's `break_glass_groups` make `EMERGENCY_DRIFT`."},
			"state_path": schema.StringAttribute{Optional: true, MarkdownDescription: "JSON of the stack's state (`tofu show -json` " +
				"without a plan file), local or `s3://bucket/key`: the resource IDs, ARNs and names CloudTrail calls are matched by, " +
				"for resources the plan does not carry them for."},
			"evaluation_time": schema.StringAttribute{Optional: true, MarkdownDescription: "RFC 3339 time at which exception " +
				"expiry is judged, to ask \"will this still pass then\". It can only move the evaluation later: a time before now " +
				"is ignored (with a warning), because judging expiry in the past would revive expired exceptions."},
			"enforce_gate": schema.BoolAttribute{Optional: true, MarkdownDescription: "Fail the plan on blocking findings " +
				"(default `true`). With `false`, blocking findings are warnings and only the attributes report them."},
			"evidence_location": str("Where the evidence record of this evaluation was written (with an `evidence` block)."),
			"status":            str("`clean` when no finding needs attention (only controller-owned drift and provider read noise), else `drifted`."),
			"blocking_count":    schema.Int64Attribute{Computed: true, MarkdownDescription: "Unaccepted findings at or above the gate."},
			"summary":           str("One line for humans, e.g. `2 finding(s), unaccepted: 1 CRITICAL; 1 blocking at gate high`."),
			"findings": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "One entry per resource and ownership group, sorted by `resource_ref`.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"finding_id":         str("Stable id: a hash of unit, resource, changed paths and values (same input, same id)."),
					"detected_at":        str("When the drift was observed: the plan's `timestamp` (empty for plan formats before 1.2)."),
					"unit":               str("Unit name."),
					"owner":              str("Unit owner."),
					"environment":        str("Unit environment."),
					"domain":             str("identity, network, secrets, data, compute, workload, cost or other."),
					"resource_ref":       str("Resource address."),
					"drift_class":        str("The class, e.g. `UNAUTHORIZED_RUNTIME_DRIFT`, `STATE_DRIFT`, `PROVIDER_READ_NOISE`, `DEPENDENCY_DRIFT` (a normal plan's change only data sources explain, a mutable reference, a provider upgrade), `FAILED_RECONCILIATION` (a tainted or deposed object: the last apply failed)."),
					"risk":               str("CRITICAL, HIGH, MEDIUM, LOW or INFO."),
					"changed_fields":     schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "JSON pointers of the changed fields (empty when the resource was deleted)."},
					"sensitive_fields":   schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "Changed fields whose values are sensitive; their values are never shown."},
					"recommended_action": str("RUNTIME_REVERT, GIT_UPDATE_PR, STATE_REFRESH, IMPORT, STATE_MOVE, IGNORE, INCIDENT, INCIDENT_AND_REVERT, MIGRATION_PLAN, REPLAN_AND_VALIDATE (a data source, remote state or provider upgrade changed what is planned), PIN_REFERENCE (a mutable module source, provider or image) or INVESTIGATE_CONTROL_LOOP (the last apply failed; never auto-healed)."),
					"auto_heal_allowed":  schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether it may heal without a human."},
					"accepted_by":        str("The accepting exception's id, or empty."),
					"actor":              str("Who changed it (username), when an audit source says so; empty otherwise."),
					"actor_groups":       schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "The actor's groups, from the audit log."},
					"actor_user_agent":   str("The user agent of the change, from the audit log (e.g. `kubectl/v1.34.4 ...`)."),
					"actor_time":         str("When the change was made, from the audit log."),
					"field_manager":      str("The Kubernetes field manager that owns the changed fields."),
					"evidence":           str("Digest of the normalized before/after values (sensitive values enter only as digests)."),
					"rule":               str("The decision-table rule that classified it."),
					"policy_rule":        str("The id of the unit's policy rule the resource violates (or could not be judged by); empty for drift between the planes."),
					"deleted":            schema.BoolAttribute{Computed: true, MarkdownDescription: "The resource was deleted outside IaC."},
					"provider_upgrade":   schema.BoolAttribute{Computed: true, MarkdownDescription: "The resource's provider changed version between the recorded state and the plan (the provider versions given to the pipeline); the finding is `PROVIDER_READ_NOISE` when the values are semantically equal, else `DEPENDENCY_DRIFT` naming both versions."},
					"blocking":           schema.BoolAttribute{Computed: true, MarkdownDescription: "Unaccepted and at or above the gate."},
					"explanation":        str("Why it was accepted, or why no exception accepted it."),
					"fingerprint":        str("Names the drift across evaluations: unit, resource, class and changed fields, never values (with `evidence.ledger`)."),
					"first_seen":         str("When the ledger first saw this drift, RFC 3339 (with `evidence.ledger`; empty otherwise)."),
					"age":                str("How long the drift has been open at this evaluation, e.g. `72h0m0s` (with `evidence.ledger`; empty otherwise)."),
				}},
			},
		},
		Blocks: map[string]schema.Block{
			"evidence": schema.SingleNestedBlock{
				MarkdownDescription: "Write an evidence record of the evaluation: input digests, the normalized diff (sensitive " +
					"values only as digests), the policy and exception digests, the decision, tool version and times. Records are " +
					"content-addressed (`<unit>/<time>-<digest>.json`) and never overwritten.",
				Attributes: map[string]schema.Attribute{
					"dir": schema.StringAttribute{Optional: true, MarkdownDescription: "Local folder for the records.",
						Validators: []validator.String{stringvalidator.ConflictsWith(path.MatchRelative().AtParent().AtName("s3_url"))}},
					"s3_url": schema.StringAttribute{Optional: true, MarkdownDescription: "`s3://bucket/prefix` for the records (conditional writes; see the provider's `s3` block)."},
					"ledger": schema.BoolAttribute{Optional: true, MarkdownDescription: "Also keep the lifecycle ledger of the unit's findings here " +
						"(`ledger/<unit>/…`, shared with `driftplane scan` and the Argo CD reporter), which fills each finding's `fingerprint`, " +
						"`first_seen` and `age`. Off by default because OpenTofu reads a data source several times per run, and each read is " +
						"an evaluation the ledger records."},
				},
			},
			"kubernetes": schema.SingleNestedBlock{
				MarkdownDescription: "Evaluate a `kubernetes` unit: the desired objects are the rendered manifests, the actual ones are " +
					"read live with client-go (never modified). Changed list elements are named by their merge key, e.g. " +
					"`/spec/template/spec/containers/name=app/image`.",
				Attributes: map[string]schema.Attribute{
					"kubeconfig_path": schema.StringAttribute{Optional: true, MarkdownDescription: "kubeconfig file (`~` expands); " +
						"empty means in-cluster credentials."},
					"context":        schema.StringAttribute{Optional: true, MarkdownDescription: "kubeconfig context; its current context when empty."},
					"namespace":      schema.StringAttribute{Optional: true, MarkdownDescription: "Namespace for namespaced manifests that name none; the context's namespace when empty."},
					"manifests_path": schema.StringAttribute{Optional: true, MarkdownDescription: "YAML/JSON file or directory (multi-document files, v1 Lists), or a kustomization directory. Required in the block."},
					"audit_log_path": schema.StringAttribute{Optional: true, MarkdownDescription: "kube-apiserver audit log (audit.k8s.io/v1 JSON lines) naming who changed each field."},
				},
			},
		},
	}
}

func (d *FindingDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m findingDSModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	unit, err := drift.DecodeUnit("unit", []byte(m.Unit.ValueString()))
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("unit"), "Invalid unit", "unit must be drift_managed_unit.policy_json: "+err.Error())
		return
	}
	var exceptions []*drift.Exception
	for i, js := range m.Exceptions {
		e, err := drift.DecodeException(fmt.Sprintf("exceptions[%d]", i), []byte(js))
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("exceptions").AtListIndex(i), "Invalid exception",
				"exceptions must be drift_exception.json values: "+err.Error())
			return
		}
		exceptions = append(exceptions, e)
	}
	now := time.Now().UTC()
	if s := m.EvaluationTime.ValueString(); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("evaluation_time"), "Invalid evaluation_time", fmt.Sprintf("%q is not an RFC 3339 time", s))
			return
		}
		if t.Before(now) {
			resp.Diagnostics.AddAttributeWarning(path.Root("evaluation_time"), "evaluation_time is in the past",
				fmt.Sprintf("%s is before now (%s); exceptions are judged at now, since an earlier time would revive expired exceptions.", s, now.Format(time.RFC3339)))
		}
		now = t
	}
	preq, ok := d.request(ctx, &m, unit, exceptions, now, &resp.Diagnostics)
	if !ok {
		return
	}
	res, err := pipeline.Run(ctx, preq)
	if err != nil {
		addEvaluationError(&resp.Diagnostics, err)
		return
	}
	rep := res.Report
	m.EvidenceLoc = types.StringValue(res.EvidenceLocation)
	for _, w := range rep.Warnings {
		resp.Diagnostics.AddAttributeWarning(path.Root("exceptions"), "Exception ignored", w)
	}
	enforce := m.EnforceGate.IsNull() || m.EnforceGate.ValueBool()
	resp.Diagnostics.Append(findingDiagnostics(rep, enforce)...)
	list, diags := findingsList(rep.Findings)
	if diags.HasError() {
		resp.Diagnostics.Append(diags...)
		return
	}
	ids := make([]string, len(rep.Findings))
	for i, f := range rep.Findings {
		ids[i] = f.FindingID
	}
	m.ID = types.StringValue(drift.ContentDigest(strings.Join(ids, ",")))
	m.Status = types.StringValue(rep.Status)
	m.BlockingCount = types.Int64Value(int64(rep.BlockingCount))
	m.Summary = types.StringValue(rep.Summary)
	m.Findings = list
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func findingsList(fs []drift.Finding) (types.List, diag.Diagnostics) {
	objType := types.ObjectType{AttrTypes: findingAttrTypes}
	var all diag.Diagnostics
	elems := make([]attr.Value, 0, len(fs))
	for _, f := range fs {
		changed, d := types.ListValueFrom(context.Background(), types.StringType, f.ChangedFields)
		all.Append(d...)
		sensitive, d := types.ListValueFrom(context.Background(), types.StringType, nonNil(f.SensitiveFields))
		all.Append(d...)
		actor := drift.Actor{}
		if f.ActorDetail != nil {
			actor = *f.ActorDetail
		}
		groups, d := types.ListValueFrom(context.Background(), types.StringType, nonNil(actor.Groups))
		all.Append(d...)
		obj, d := types.ObjectValue(findingAttrTypes, map[string]attr.Value{
			"finding_id":         types.StringValue(f.FindingID),
			"detected_at":        types.StringValue(f.DetectedAt),
			"unit":               types.StringValue(f.Unit),
			"owner":              types.StringValue(f.Owner),
			"environment":        types.StringValue(f.Environment),
			"domain":             types.StringValue(f.Domain),
			"resource_ref":       types.StringValue(f.ResourceRef),
			"drift_class":        types.StringValue(string(f.DriftClass)),
			"risk":               types.StringValue(string(f.Risk)),
			"changed_fields":     changed,
			"sensitive_fields":   sensitive,
			"recommended_action": types.StringValue(string(f.RecommendedAction)),
			"auto_heal_allowed":  types.BoolValue(f.AutoHealAllowed),
			"accepted_by":        types.StringValue(f.AcceptedBy),
			"actor":              types.StringValue(f.Actor),
			"actor_groups":       groups,
			"actor_user_agent":   types.StringValue(actor.UserAgent),
			"actor_time":         types.StringValue(actor.Time),
			"field_manager":      types.StringValue(actor.Manager),
			"evidence":           types.StringValue(f.Evidence),
			"rule":               types.StringValue(f.Rule),
			"policy_rule":        types.StringValue(f.PolicyRule),
			"deleted":            types.BoolValue(f.Deleted),
			"provider_upgrade":   types.BoolValue(f.ProviderUpgrade),
			"blocking":           types.BoolValue(f.Blocking),
			"explanation":        types.StringValue(f.Explanation),
			"fingerprint":        types.StringValue(f.Fingerprint),
			"first_seen":         types.StringValue(f.FirstSeen),
			"age":                types.StringValue(f.Age),
		})
		all.Append(d...)
		elems = append(elems, obj)
	}
	list, d := types.ListValue(objType, elems)
	all.Append(d...)
	return list, all
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// request translates the configuration into the pipeline's request: which source observes the
// unit, who attributes its changes, where evidence goes.
func (d *FindingDataSource) request(ctx context.Context, m *findingDSModel, unit *drift.ManagedUnit, exceptions []*drift.Exception,
	now time.Time, diags *diag.Diagnostics) (pipeline.Request, bool) {
	req := pipeline.Request{Unit: unit, Exceptions: exceptions, At: now, Digester: d.digester,
		Tool: "terraform-provider-drift", Version: d.version}
	hasPlan := !m.PlanJSONPath.IsNull() && m.PlanJSONPath.ValueString() != ""
	hasKube := m.Kubernetes != nil
	// ConfigValidators says this at validation; a value unknown then is known here, so the rule is
	// kept as an invariant too: with no source drift is unknown, with two it is ambiguous.
	if hasPlan == hasKube {
		diags.AddError("Exactly one drift source", "set plan_json_path (an opentofu-stack unit) or the kubernetes block (a kubernetes unit): with no source drift is unknown, and one data source judges one source")
		return req, false
	}
	if hasKube && m.SchemaJSONPath.ValueString() != "" {
		diags.AddAttributeError(path.Root("provider_schema_json_path"), "Provider schema without a plan",
			"provider_schema_json_path explains a plan's provider bookkeeping; the kubernetes block reads objects, not a plan")
		return req, false
	}
	if hasKube && m.ApplyLogPath.ValueString() != "" {
		diags.AddAttributeError(path.Root("apply_log_path"), "Apply log without a plan",
			"apply_log_path is the log of an OpenTofu apply; a kubernetes unit is applied by its GitOps controller")
		return req, false
	}
	if hasPlan {
		extra, ok := providerVersionOptions(m.RecordedLock.ValueString(), m.LockFilePath.ValueString(), diags)
		if !ok {
			return req, false
		}
		req.Source = pipeline.PlanFile{Location: m.PlanJSONPath.ValueString(), S3: d.s3, Label: "plan_json_path",
			ProviderSchema: m.SchemaJSONPath.ValueString(), ProviderSchemaLabel: "provider_schema_json_path", Extra: extra,
			ApplyLog: m.ApplyLogPath.ValueString(), ApplyLogLabel: "apply_log_path"}
		if p := m.CloudTrailPath.ValueString(); p != "" {
			req.Attribution = append(req.Attribution, pipeline.CloudTrail{Trail: p, State: m.StatePath.ValueString(), S3: d.s3, StateLabel: "state_path"})
		}
	} else {
		k := m.Kubernetes
		req.Source = pipeline.KubernetesLive{ManifestsPath: k.ManifestsPath.ValueString(), KubeconfigPath: k.KubeconfigPath.ValueString(),
			Context: k.Context.ValueString(), Namespace: k.Namespace.ValueString(), AuditLogPath: k.AuditLogPath.ValueString(), Label: "kubernetes"}
	}
	if m.Evidence != nil {
		dir, url := m.Evidence.Dir.ValueString(), m.Evidence.S3.ValueString()
		at, loc := path.Root("evidence").AtName("dir"), dir
		switch {
		case dir != "" && url != "":
			diags.AddAttributeError(path.Root("evidence"), "Conflicting evidence locations", "set dir or s3_url, not both")
			return req, false
		case dir == "" && url == "":
			diags.AddAttributeError(path.Root("evidence"), "No evidence location", "set dir or s3_url")
			return req, false
		case url != "":
			at, loc = path.Root("evidence").AtName("s3_url"), url
		}
		l, err := blob.Open(loc, d.s3)
		if err != nil {
			diags.AddAttributeError(at, "Invalid evidence location", err.Error())
			return req, false
		}
		store, err := l.Store(ctx)
		if err != nil {
			diags.AddAttributeError(at, "Cannot reach S3", err.Error())
			return req, false
		}
		req.Evidence = store
		if m.Evidence.Ledger.ValueBool() {
			req.Ledger = store
		}
	}
	return req, true
}

// addEvaluationError points a failed evaluation at the input to fix.
func addEvaluationError(diags *diag.Diagnostics, err error) {
	switch pipeline.StageOf(err) {
	case pipeline.StagePlan:
		diags.AddAttributeError(path.Root("plan_json_path"), "Cannot read plan: drift is unknown", err.Error())
	case pipeline.StageProviderSchema:
		diags.AddAttributeError(path.Root("provider_schema_json_path"), "Cannot read the provider schema", err.Error())
	case pipeline.StageCloudTrail:
		diags.AddAttributeError(path.Root("cloudtrail_path"), "Cannot read CloudTrail logs", err.Error())
	case pipeline.StageState:
		diags.AddAttributeError(path.Root("state_path"), "Cannot read state", err.Error())
	case pipeline.StageKubernetes:
		diags.AddAttributeError(path.Root("kubernetes"), "Cannot read the cluster: drift is unknown", err.Error())
	case pipeline.StageUnitKind:
		diags.AddAttributeError(path.Root("unit"), "Unit kind does not match the drift source", err.Error())
	case pipeline.StageEvidence:
		diags.AddAttributeError(path.Root("evidence"), "Cannot write evidence", err.Error())
	case pipeline.StageLedger:
		diags.AddAttributeError(path.Root("evidence").AtName("ledger"), "Cannot keep the lifecycle ledger", err.Error())
	default:
		diags.AddError("Drift evaluation failed", err.Error())
	}
}
