package provider

import (
	"context"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

var _ datasource.DataSource = &ManagedUnitDataSource{}

// NewManagedUnitDataSource is the drift_managed_unit factory.
func NewManagedUnitDataSource() datasource.DataSource { return &ManagedUnitDataSource{} }

// ManagedUnitDataSource validates a DriftManagedUnit written in HCL and publishes it as
// canonical JSON, the form drift_finding (and the Argo CD side) consume.
type ManagedUnitDataSource struct{}

type managedUnitModel struct {
	ID          types.String `tfsdk:"id"`
	Name        types.String `tfsdk:"name"`
	Kind        types.String `tfsdk:"kind"`
	Owner       types.String `tfsdk:"owner"`
	Environment types.String `tfsdk:"environment"`
	RiskTier    types.String `tfsdk:"risk_tier"`
	Gate        types.String `tfsdk:"gate"`
	AutoHeal    types.Bool   `tfsdk:"auto_heal"`
	// RequirePinnedProviders: see drift.UnitSpec.
	RequirePinnedProviders types.Bool            `tfsdk:"require_pinned_providers"`
	IncidentRequired       types.Bool            `tfsdk:"incident_required"`
	Source                 types.String          `tfsdk:"source"`
	StateBackend           types.String          `tfsdk:"state_backend"`
	Schedule               types.String          `tfsdk:"schedule"`
	ResourceDomains        map[string]string     `tfsdk:"resource_domains"`
	BreakGlassGroups       []string              `tfsdk:"break_glass_groups"`
	Appliers               []string              `tfsdk:"appliers"`
	ApplierIDs             []string              `tfsdk:"applier_identities"`
	ControllerIDs          map[string][]string   `tfsdk:"controller_identities"`
	MaxExceptionDays       types.Int64           `tfsdk:"max_exception_days"`
	OwnershipRules         []ownershipRuleModel  `tfsdk:"ownership_rule"`
	DomainOverrides        []domainOverrideModel `tfsdk:"domain_override"`
	Budgets                []budgetModel         `tfsdk:"budget"`
	PolicyRules            []policyRuleModel     `tfsdk:"policy_rule"`
	UnmanagedAllowed       []unmanagedAllowModel `tfsdk:"unmanaged_allowed"`
	PolicyFile             types.String          `tfsdk:"policy_file"`
	PolicyJSON             types.String          `tfsdk:"policy_json"`
	ExceptionsJSON         []string              `tfsdk:"exceptions_json"`
}

type ownershipRuleModel struct {
	Name            types.String           `tfsdk:"name"`
	ResourceType    types.String           `tfsdk:"resource_type"`
	Address         types.String           `tfsdk:"address"`
	APIGroup        types.String           `tfsdk:"api_group"`
	Kind            types.String           `tfsdk:"kind"`
	Namespace       types.String           `tfsdk:"namespace"`
	ResourceName    types.String           `tfsdk:"resource_name"`
	Labels          map[string]string      `tfsdk:"labels"`
	GitOwned        []string               `tfsdk:"git_owned"`
	RuntimeOwned    []string               `tfsdk:"runtime_owned"`
	ControllerOwned []controllerOwnedModel `tfsdk:"controller_owned"`
}

type controllerOwnedModel struct {
	Path      types.String `tfsdk:"path"`
	Owner     types.String `tfsdk:"owner"`
	Condition types.String `tfsdk:"condition"`
}

type budgetModel struct {
	Name    types.String `tfsdk:"name"`
	Domain  types.String `tfsdk:"domain"`
	Class   types.String `tfsdk:"drift_class"`
	MinRisk types.String `tfsdk:"min_risk"`
	MaxOpen types.Int64  `tfsdk:"max_open"`
	MaxAge  types.String `tfsdk:"max_age"`
	// DetectWithin and Objective: see drift.Budget.
	DetectWithin types.String    `tfsdk:"detect_within"`
	Objective    *objectiveModel `tfsdk:"objective"`
}

// policyRuleModel is a policy_rule block: drift.PolicyRule in HCL.
type policyRuleModel struct {
	ID              types.String `tfsdk:"id"`
	AppliesTo       []string     `tfsdk:"applies_to"`
	Expression      types.String `tfsdk:"expression"`
	Message         types.String `tfsdk:"message"`
	Since           types.String `tfsdk:"since"`
	MigrationWindow types.String `tfsdk:"migration_window"`
}

// unmanagedAllowModel is an unmanaged_allowed block: drift.UnmanagedAllowance in HCL.
type unmanagedAllowModel struct {
	APIGroup     types.String      `tfsdk:"api_group"`
	Kind         types.String      `tfsdk:"kind"`
	Namespace    types.String      `tfsdk:"namespace"`
	ResourceName types.String      `tfsdk:"resource_name"`
	Labels       map[string]string `tfsdk:"labels"`
	Reason       types.String      `tfsdk:"reason"`
}

type objectiveModel struct {
	Target types.Float64 `tfsdk:"target"`
	Window types.String  `tfsdk:"window"`
}

type domainOverrideModel struct {
	Domain            types.String `tfsdk:"domain"`
	Risk              types.String `tfsdk:"risk"`
	RecommendedAction types.String `tfsdk:"recommended_action"`
	AutoHeal          types.Bool   `tfsdk:"auto_heal"`
}

func (d *ManagedUnitDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_managed_unit"
}

func (d *ManagedUnitDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Declares a **managed unit**: one stack (or Kubernetes application) whose drift is governed " +
			"together, with its owner, environment, risk tier, gate and ownership rules. The unit is validated here " +
			"and published as canonical JSON in `policy_json` for `drift_finding`.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The unit's name."},
			"name": schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Unit name, unique in your organisation " +
				"(letters, digits, `.`, `_`, `-`). Exceptions name it in `unit`."},
			"kind":  schema.StringAttribute{Optional: true, MarkdownDescription: "`opentofu-stack` (default) or `kubernetes`."},
			"owner": schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "The owning team; copied into every finding."},
			"environment": schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Environment name. `prod`/`production`, " +
				"`staging`/`uat`, `dev`/`test`/`sandbox` are recognised; any other name counts as staging."},
			"risk_tier": schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "`critical`, `high`, `standard` or `low`: " +
				"raises or lowers the computed risk of unexplained drift."},
			"gate": schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Lowest risk that fails the plan: " +
				"`critical`, `high` (default), `medium`, `low`, `info`, or `none` (never fails; findings below the gate are warnings)."},
			"auto_heal": schema.BoolAttribute{Optional: true, MarkdownDescription: "Allow findings whose decision permits it " +
				"to heal without a human (`auto_heal_allowed`). Default `false`."},
			"incident_required": schema.BoolAttribute{Optional: true, MarkdownDescription: "Every unexplained manual change " +
				"is an incident (`INCIDENT_AND_REVERT`) rather than a plain revert. Default `false`."},
			"source":        schema.StringAttribute{Optional: true, MarkdownDescription: "Where the desired state lives (repository URL and path); informational."},
			"state_backend": schema.StringAttribute{Optional: true, MarkdownDescription: "The state backend (e.g. `s3://bucket/key`); informational."},
			"schedule": schema.StringAttribute{Optional: true, MarkdownDescription: "How often the unit is evaluated: a Go duration (`1h`), `@every 1h`, " +
				"`@hourly`, `@daily`, `@weekly` or a five-field cron expression. A unit with no successful evaluation for two of its longest intervals is stale: " +
				"never clean, and each stale period counts against its budgets' objectives."},
			"require_pinned_providers": schema.BoolAttribute{Optional: true, MarkdownDescription: "Report every provider the configuration uses without a " +
				"version constraint as a mutable reference (`PIN_REFERENCE`), from a normal plan. Off by default: the committed lock file usually pins them."},
			"resource_domains": schema.MapAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "Extra " +
				"resource-type → domain mappings (`*` globs), checked before the built-in ones, e.g. `{ \"mycorp_vault_*\" = \"secrets\" }`."},
			"break_glass_groups": schema.ListAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "Identity " +
				"groups whose members make emergency changes (from the Kubernetes audit log). Their changes are `EMERGENCY_DRIFT`; " +
				"with a live `EMERGENCY_DRIFT` exception they are accepted."},
			"appliers": schema.ListAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "Extra Kubernetes field " +
				"managers that apply Git's desired state (besides `argocd-controller`, `helm`, `kustomize-controller`, ...). What they " +
				"wrote is the recorded plane: a difference there is a pending sync, not runtime drift."},
			"applier_identities": schema.ListAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "Audit-log " +
				"usernames (`*` globs) the GitOps applier writes as, e.g. `system:serviceaccount:argocd:argocd-application-controller`. " +
				"With an audit log, a write under an applier's field-manager name by anyone else is a person's change, not a pending sync."},
			"controller_identities": schema.MapAttribute{Optional: true, ElementType: types.ListType{ElemType: types.StringType},
				MarkdownDescription: "Controller field-manager name (`*` glob) → the audit-log usernames it writes as. With an audit " +
					"log, a field Git declares is controller-owned only when a service account or system identity wrote it, and, for a " +
					"manager listed here, one of its identities. Field-manager names alone never make a Git-declared field a controller's."},
			"max_exception_days": schema.Int64Attribute{Optional: true, MarkdownDescription: "How far ahead of the evaluation an " +
				"exception may expire, in days: default 90, at most 365. Longer exceptions are refused."},
			"policy_file": schema.StringAttribute{Optional: true, MarkdownDescription: "A YAML policy file or folder (e.g. an Argo CD " +
				"application's `.drift/`) holding a `DriftManagedUnit` and optionally `DriftOwnershipRule`, `DriftException` and " +
				"`AutoHealPolicy` documents. The unit comes from the file; arguments set here override its fields and " +
				"`ownership_rule` blocks add to its rules. Without it, `name`, `owner`, `environment` and `risk_tier` are required."},
			"exceptions_json": schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "The " +
				"`DriftException` documents of `policy_file`, validated, as canonical JSON; pass them to `drift_finding.exceptions`."},
			"policy_json": schema.StringAttribute{Computed: true, MarkdownDescription: "The validated unit as canonical JSON " +
				"(a `DriftManagedUnit` document, the same object the Argo CD plugin reads from YAML). Pass it to `drift_finding.unit`."},
		},
		Blocks: map[string]schema.Block{
			"ownership_rule": schema.ListNestedBlock{
				MarkdownDescription: "Who owns which paths of the matching resources. Paths are JSON pointers (RFC 6901) with `*` " +
					"for one segment; the most specific path wins; paths named by no rule are owned by Git.",
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						"name":          schema.StringAttribute{Optional: true, MarkdownDescription: "A name for the rule, for messages."},
						"resource_type": schema.StringAttribute{Optional: true, MarkdownDescription: "OpenTofu resource type (`*` globs), e.g. `aws_autoscaling_group`."},
						"address":       schema.StringAttribute{Optional: true, MarkdownDescription: "OpenTofu address (`*` globs within one segment)."},
						"api_group":     schema.StringAttribute{Optional: true, MarkdownDescription: "Kubernetes API group (`\"\"` for core)."},
						"kind":          schema.StringAttribute{Optional: true, MarkdownDescription: "Kubernetes kind, e.g. `Deployment`."},
						"namespace":     schema.StringAttribute{Optional: true, MarkdownDescription: "Kubernetes namespace."},
						"resource_name": schema.StringAttribute{Optional: true, MarkdownDescription: "Kubernetes object name."},
						"labels":        schema.MapAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "Kubernetes labels the object must carry."},
						"git_owned":     schema.ListAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "Paths Git owns even below a runtime- or controller-owned path."},
						"runtime_owned": schema.ListAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "Paths whatever runs may change freely."},
					},
					Blocks: map[string]schema.Block{
						"controller_owned": schema.ListNestedBlock{
							MarkdownDescription: "A path a named controller owns (drift there is `CONTROLLER_OWNED_DRIFT`, never blocking).",
							NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
								"path":      schema.StringAttribute{Required: true, MarkdownDescription: "JSON pointer, e.g. `/desired_capacity`."},
								"owner":     schema.StringAttribute{Required: true, MarkdownDescription: "The controller, e.g. `aws-autoscaling`."},
								"condition": schema.StringAttribute{Optional: true, MarkdownDescription: "When the controller owns it, for humans."},
							}},
						},
					},
				},
			},
			"budget": schema.ListNestedBlock{
				MarkdownDescription: "A drift budget: how much drift of a domain or class (at or above a risk) the unit tolerates. " +
					"When a bound breaks the budget is exhausted and every unaccepted drift it counts fails the plan, whatever the `gate`, " +
					"naming the budget and since when (same schema as `spec.budgets` in `.drift/` YAML).",
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"name":        schema.StringAttribute{Required: true, MarkdownDescription: "What the budget protects, e.g. `identity-zero-unclassified`."},
					"domain":      schema.StringAttribute{Optional: true, MarkdownDescription: "Count drift of this domain only (identity, network, secrets, data, compute, workload, cost, other)."},
					"drift_class": schema.StringAttribute{Optional: true, MarkdownDescription: "Count drift of this class only, e.g. `UNAUTHORIZED_RUNTIME_DRIFT`."},
					"min_risk":    schema.StringAttribute{Optional: true, MarkdownDescription: "Count drift at or above this risk (CRITICAL, HIGH, MEDIUM, LOW, INFO)."},
					"max_open":    schema.Int64Attribute{Optional: true, MarkdownDescription: "How many unaccepted drifts may be open at once; `0` tolerates none."},
					"max_age": schema.StringAttribute{Optional: true, MarkdownDescription: "How long one drift may stay open, e.g. `10m` or `168h`; " +
						"judged on the lifecycle ledger's first sighting (`drift_finding`'s `evidence { ledger = true }`)."},
					"detect_within": schema.StringAttribute{Optional: true, MarkdownDescription: "How long after the change (as the audit source dates it) " +
						"a drift may be first seen, e.g. `15m`; judged where the change time is known."},
					"objective": schema.SingleNestedAttribute{Optional: true, MarkdownDescription: "An SLO over `max_age` and `detect_within`: " +
						"`target` percent of the judgements in `window` must be good (each resolution against `max_age`, each detection against " +
						"`detect_within`, each period the unit went stale). When the error budget is spent the budget is exhausted. Needs the ledger.",
						Attributes: map[string]schema.Attribute{
							"target": schema.Float64Attribute{Required: true, MarkdownDescription: "Percent of judgements that must be good, above 0 and at most 100, e.g. `95`."},
							"window": schema.StringAttribute{Required: true, MarkdownDescription: "The period judged, e.g. `720h` (at most 2160h)."},
						}},
				}},
			},
			"policy_rule": schema.ListNestedBlock{
				MarkdownDescription: "A policy rule: a CEL expression every resource it applies to must satisfy as it actually runs " +
					"(same schema as `spec.policyRules` in `.drift/` YAML). A violation the recorded state already had is `POLICY_DRIFT` " +
					"(action `MIGRATION_PLAN`), not blocking until `since` + `migration_window`, then blocking; one introduced by " +
					"out-of-band drift is unauthorized drift naming the rule; a rule that cannot be evaluated over a resource is `UNKNOWN`. " +
					"See the policy rules guide.",
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"id": schema.StringAttribute{Required: true, MarkdownDescription: "Names the rule in findings, e.g. `owner-tag`."},
					"applies_to": schema.ListAttribute{ElementType: types.StringType, Optional: true, MarkdownDescription: "Resource type globs, " +
						"e.g. `[\"aws_*\"]` (Kubernetes: group/Kind globs such as `apps/*`); every resource when omitted."},
					"expression": schema.StringAttribute{Required: true, MarkdownDescription: "CEL returning `true` when the resource complies, over " +
						"`resource.values` (actual values, sensitive ones absent), `object` (on Kubernetes the object as the API serves it, as a " +
						"ValidatingAdmissionPolicy reads it), `resource.type`, `resource.address` and `unit.name`, " +
						"`unit.environment`, `unit.tier`. Compiled once, with a cost limit."},
					"message":          schema.StringAttribute{Optional: true, MarkdownDescription: "What compliance means; shown with every violation."},
					"since":            schema.StringAttribute{Optional: true, MarkdownDescription: "When the rule took effect (RFC 3339), e.g. `2026-06-01T00:00:00Z`."},
					"migration_window": schema.StringAttribute{Optional: true, MarkdownDescription: "How long pre-existing violations may stay after `since`, e.g. `720h`."},
				}},
			},
			"unmanaged_allowed": schema.ListNestedBlock{
				MarkdownDescription: "An object expected to run in a Kubernetes unit's namespaces though no Git source declares it and no " +
					"controller owns it (same schema as `spec.unmanagedAllowed` in `.drift/` YAML): it is not an `UNMANAGED_RESOURCE` finding.",
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"api_group":     schema.StringAttribute{Optional: true, MarkdownDescription: "Kubernetes API group (`\"\"` for core)."},
					"kind":          schema.StringAttribute{Required: true, MarkdownDescription: "Kubernetes kind, e.g. `ConfigMap` (`*` globs; not `*` alone)."},
					"namespace":     schema.StringAttribute{Optional: true, MarkdownDescription: "Kubernetes namespace (`*` globs)."},
					"resource_name": schema.StringAttribute{Optional: true, MarkdownDescription: "Kubernetes object name (`*` globs), e.g. `istio-ca-*`."},
					"labels":        schema.MapAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "Kubernetes labels the object must carry."},
					"reason":        schema.StringAttribute{Required: true, MarkdownDescription: "Why the object may run outside Git."},
				}},
			},
			"domain_override": schema.ListNestedBlock{
				MarkdownDescription: "Replace the default decision for unexplained drift in one domain.",
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"domain":             schema.StringAttribute{Required: true, MarkdownDescription: "identity, network, secrets, data, compute, workload, cost or other."},
					"risk":               schema.StringAttribute{Optional: true, MarkdownDescription: "CRITICAL, HIGH, MEDIUM, LOW or INFO."},
					"recommended_action": schema.StringAttribute{Optional: true, MarkdownDescription: "One of the recommended actions, e.g. GIT_UPDATE_PR."},
					"auto_heal":          schema.BoolAttribute{Optional: true, MarkdownDescription: "Whether such drift may self-heal (never for identity)."},
				}},
			},
		},
	}
}

func (d *ManagedUnitDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m managedUnitModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var exceptions []string
	u := m.toUnit()
	if f := m.PolicyFile.ValueString(); f != "" {
		bundle, err := drift.LoadPolicy(f)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("policy_file"), "Invalid policy file", err.Error())
			return
		}
		u = m.overlay(bundle.Unit)
		for _, e := range bundle.Exceptions {
			js, err := drift.CanonicalJSON(e)
			if err != nil {
				resp.Diagnostics.AddError("Encoding exception", err.Error())
				return
			}
			exceptions = append(exceptions, string(js))
		}
	} else {
		for attr, v := range map[string]types.String{"name": m.Name, "owner": m.Owner, "environment": m.Environment, "risk_tier": m.RiskTier} {
			if v.IsNull() || v.ValueString() == "" {
				resp.Diagnostics.AddAttributeError(path.Root(attr), "Missing required argument",
					attr+" is required unless policy_file provides the unit")
			}
		}
		if resp.Diagnostics.HasError() {
			return
		}
	}
	if err := u.Validate(); err != nil {
		addPolicyError(&resp.Diagnostics, "Invalid drift_managed_unit", "name", err)
		return
	}
	js, err := drift.CanonicalJSON(u)
	if err != nil {
		resp.Diagnostics.AddError("Encoding drift_managed_unit", err.Error())
		return
	}
	m.ID = types.StringValue(u.Metadata.Name)
	m.Name = types.StringValue(u.Metadata.Name)
	m.Owner = types.StringValue(u.Spec.Owner)
	m.Environment = types.StringValue(u.Spec.Environment)
	m.RiskTier = types.StringValue(u.Spec.RiskTier)
	m.ExceptionsJSON = exceptions
	if m.ExceptionsJSON == nil {
		m.ExceptionsJSON = []string{}
	}
	m.Kind = types.StringValue(u.Spec.Kind)
	m.Gate = types.StringValue(u.Spec.Gate)
	m.PolicyJSON = types.StringValue(string(js))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (m *managedUnitModel) toUnit() *drift.ManagedUnit {
	u := &drift.ManagedUnit{
		APIVersion: drift.APIVersion,
		Kind:       drift.KindManagedUnit,
		Metadata:   drift.Metadata{Name: m.Name.ValueString()},
		Spec: drift.UnitSpec{
			Kind:                   m.Kind.ValueString(),
			Owner:                  m.Owner.ValueString(),
			Environment:            m.Environment.ValueString(),
			RiskTier:               m.RiskTier.ValueString(),
			Gate:                   m.Gate.ValueString(),
			Source:                 m.Source.ValueString(),
			StateBackend:           m.StateBackend.ValueString(),
			Schedule:               m.Schedule.ValueString(),
			AutoHeal:               m.AutoHeal.ValueBool(),
			RequirePinnedProviders: m.RequirePinnedProviders.ValueBool(),
			IncidentRequired:       m.IncidentRequired.ValueBool(),
			ResourceDomains:        m.ResourceDomains,
			BreakGlassGroups:       m.BreakGlassGroups,
			Appliers:               m.Appliers,
			ApplierIdentities:      m.ApplierIDs,
			ControllerIdentities:   m.ControllerIDs,
			MaxExceptionDays:       int(m.MaxExceptionDays.ValueInt64()),
		},
	}
	if u.Spec.Kind == "" {
		// HCL units default to the stack they are declared in.
		u.Spec.Kind = drift.UnitOpenTofuStack
	}
	for _, r := range m.OwnershipRules {
		rule := drift.OwnershipRule{
			Name: r.Name.ValueString(),
			Resource: drift.ResourceMatch{
				Type:      r.ResourceType.ValueString(),
				Address:   r.Address.ValueString(),
				Group:     r.APIGroup.ValueString(),
				Kind:      r.Kind.ValueString(),
				Namespace: r.Namespace.ValueString(),
				Name:      r.ResourceName.ValueString(),
				Labels:    r.Labels,
			},
			GitOwned:     r.GitOwned,
			RuntimeOwned: r.RuntimeOwned,
		}
		for _, c := range r.ControllerOwned {
			rule.ControllerOwned = append(rule.ControllerOwned, drift.ControllerPath{
				Path: c.Path.ValueString(), Owner: c.Owner.ValueString(), Condition: c.Condition.ValueString(),
			})
		}
		u.Spec.OwnershipRules = append(u.Spec.OwnershipRules, rule)
	}
	for _, o := range m.DomainOverrides {
		ov := drift.DomainOverride{
			Domain: strings.ToLower(o.Domain.ValueString()),
			Risk:   o.Risk.ValueString(),
			Action: o.RecommendedAction.ValueString(),
		}
		if !o.AutoHeal.IsNull() {
			v := o.AutoHeal.ValueBool()
			ov.AutoHeal = &v
		}
		u.Spec.DomainOverrides = append(u.Spec.DomainOverrides, ov)
	}
	for _, b := range m.Budgets {
		nb := drift.Budget{Name: b.Name.ValueString(), Domain: strings.ToLower(b.Domain.ValueString()), Class: b.Class.ValueString(),
			MinRisk: b.MinRisk.ValueString(), MaxAge: b.MaxAge.ValueString(), DetectWithin: b.DetectWithin.ValueString()}
		if o := b.Objective; o != nil {
			nb.Objective = &drift.BudgetObjective{Target: strconv.FormatFloat(o.Target.ValueFloat64(), 'f', -1, 64), Window: o.Window.ValueString()}
		}
		if !b.MaxOpen.IsNull() {
			n := int(b.MaxOpen.ValueInt64())
			nb.MaxOpen = &n
		}
		u.Spec.Budgets = append(u.Spec.Budgets, nb)
	}
	for _, a := range m.UnmanagedAllowed {
		u.Spec.UnmanagedAllowed = append(u.Spec.UnmanagedAllowed, drift.UnmanagedAllowance{Reason: a.Reason.ValueString(),
			Resource: drift.ResourceMatch{Group: a.APIGroup.ValueString(), Kind: a.Kind.ValueString(), Namespace: a.Namespace.ValueString(),
				Name: a.ResourceName.ValueString(), Labels: a.Labels}})
	}
	for _, r := range m.PolicyRules {
		u.Spec.PolicyRules = append(u.Spec.PolicyRules, drift.PolicyRule{ID: r.ID.ValueString(), AppliesTo: r.AppliesTo,
			Expression: r.Expression.ValueString(), Message: r.Message.ValueString(), Since: r.Since.ValueString(),
			MigrationWindow: r.MigrationWindow.ValueString()})
	}
	return u
}

// overlay applies the HCL arguments that are set over a unit loaded from a policy file: the
// file is the shared policy, HCL the stack's local adjustments.
func (m *managedUnitModel) overlay(file *drift.ManagedUnit) *drift.ManagedUnit {
	u := *file
	hcl := m.toUnit()
	str := func(v types.String, dst *string) {
		if !v.IsNull() && !v.IsUnknown() && v.ValueString() != "" {
			*dst = v.ValueString()
		}
	}
	str(m.Name, &u.Metadata.Name)
	str(m.Kind, &u.Spec.Kind)
	str(m.Owner, &u.Spec.Owner)
	str(m.Environment, &u.Spec.Environment)
	str(m.RiskTier, &u.Spec.RiskTier)
	str(m.Gate, &u.Spec.Gate)
	str(m.Source, &u.Spec.Source)
	str(m.StateBackend, &u.Spec.StateBackend)
	str(m.Schedule, &u.Spec.Schedule)
	if !m.AutoHeal.IsNull() {
		u.Spec.AutoHeal = m.AutoHeal.ValueBool()
	}
	if !m.RequirePinnedProviders.IsNull() {
		u.Spec.RequirePinnedProviders = m.RequirePinnedProviders.ValueBool()
	}
	if !m.IncidentRequired.IsNull() {
		u.Spec.IncidentRequired = m.IncidentRequired.ValueBool()
	}
	u.Spec.OwnershipRules = append(append([]drift.OwnershipRule(nil), file.Spec.OwnershipRules...), hcl.Spec.OwnershipRules...)
	u.Spec.DomainOverrides = append(append([]drift.DomainOverride(nil), file.Spec.DomainOverrides...), hcl.Spec.DomainOverrides...)
	u.Spec.Budgets = append(append([]drift.Budget(nil), file.Spec.Budgets...), hcl.Spec.Budgets...)
	u.Spec.PolicyRules = append(append([]drift.PolicyRule(nil), file.Spec.PolicyRules...), hcl.Spec.PolicyRules...)
	u.Spec.UnmanagedAllowed = append(append([]drift.UnmanagedAllowance(nil), file.Spec.UnmanagedAllowed...), hcl.Spec.UnmanagedAllowed...)
	u.Spec.BreakGlassGroups = append(append([]string(nil), file.Spec.BreakGlassGroups...), m.BreakGlassGroups...)
	u.Spec.Appliers = append(append([]string(nil), file.Spec.Appliers...), m.Appliers...)
	u.Spec.ApplierIdentities = append(append([]string(nil), file.Spec.ApplierIdentities...), m.ApplierIDs...)
	if len(m.ControllerIDs) > 0 {
		u.Spec.ControllerIdentities = map[string][]string{}
		for k, v := range file.Spec.ControllerIdentities {
			u.Spec.ControllerIdentities[k] = v
		}
		for k, v := range m.ControllerIDs {
			u.Spec.ControllerIdentities[k] = v
		}
	}
	if !m.MaxExceptionDays.IsNull() && !m.MaxExceptionDays.IsUnknown() {
		u.Spec.MaxExceptionDays = int(m.MaxExceptionDays.ValueInt64())
	}
	if len(m.ResourceDomains) > 0 {
		u.Spec.ResourceDomains = map[string]string{}
		for k, v := range file.Spec.ResourceDomains {
			u.Spec.ResourceDomains[k] = v
		}
		for k, v := range m.ResourceDomains {
			u.Spec.ResourceDomains[k] = v
		}
	}
	return &u
}
