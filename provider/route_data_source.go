package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/datasourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	k8sjson "sigs.k8s.io/json"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/route"
)

var (
	_ datasource.DataSource                     = &RouteDataSource{}
	_ datasource.DataSourceWithConfigValidators = &RouteDataSource{}
)

// NewRouteDataSource is the drift_route factory.
func NewRouteDataSource() datasource.DataSource { return &RouteDataSource{} }

// RouteDataSource declares a DriftRoutingPolicy in HCL (or reads one from a YAML file), validates
// it with the core, publishes it as canonical JSON and routes the findings it is given.
type RouteDataSource struct {
	now func() time.Time
}

// routeHCLDepth is how deep route blocks nest under the root route in HCL: a framework schema
// cannot be recursive, so the nesting is spelled out to this depth. A YAML policy_file nests as
// deep as the core allows.
const routeHCLDepth = 4

type routeFindingModel struct {
	Labels      map[string]string `tfsdk:"labels"`
	FindingJSON types.String      `tfsdk:"finding_json"`
	UnitLabels  map[string]string `tfsdk:"unit_labels"`
}

type routeDecisionModel struct {
	Finding          types.Int64  `tfsdk:"finding"`
	Route            types.String `tfsdk:"route"`
	Name             types.String `tfsdk:"name"`
	Receivers        types.List   `tfsdk:"receivers"`
	Held             types.List   `tfsdk:"held"`
	Notify           types.Bool   `tfsdk:"notify"`
	GroupBy          types.List   `tfsdk:"group_by"`
	GroupKey         types.String `tfsdk:"group_key"`
	GroupWait        types.String `tfsdk:"group_wait"`
	GroupInterval    types.String `tfsdk:"group_interval"`
	RepeatInterval   types.String `tfsdk:"repeat_interval"`
	Page             types.Bool   `tfsdk:"page"`
	CreateIncident   types.Bool   `tfsdk:"create_incident"`
	CreateIssue      types.Bool   `tfsdk:"create_issue"`
	SilencedBy       types.List   `tfsdk:"silenced_by"`
	InactiveSilences types.List   `tfsdk:"inactive_silences"`
	Suppressed       types.String `tfsdk:"suppressed"`
}

func (d *RouteDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_route"
}

// ConfigValidators: the policy is written here or read from a file, not both.
func (d *RouteDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return []datasource.ConfigValidator{
		datasourcevalidator.ExactlyOneOf(path.MatchRoot("policy_file"), path.MatchRoot("route")),
		datasourcevalidator.Conflicting(path.MatchRoot("policy_file"), path.MatchRoot("receiver")),
		datasourcevalidator.Conflicting(path.MatchRoot("policy_file"), path.MatchRoot("silence")),
		datasourcevalidator.Conflicting(path.MatchRoot("policy_file"), path.MatchRoot("name")),
	}
}

var (
	routeNameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$`)
	rfc3339RE   = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$`)
)

func (d *RouteDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	strList := func(desc string) schema.ListAttribute {
		return schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: desc}
	}
	secretRef := func(what string) schema.SingleNestedBlock {
		return schema.SingleNestedBlock{
			MarkdownDescription: what + ", by reference: an environment variable of the process that sends, or a key of a " +
				"Kubernetes Secret. The value itself never appears in configuration, state or `policy_json`.",
			Attributes: map[string]schema.Attribute{
				"env":  schema.StringAttribute{Optional: true, MarkdownDescription: "Environment variable name."},
				"name": schema.StringAttribute{Optional: true, MarkdownDescription: "Kubernetes Secret name (with `key`)."},
				"key":  schema.StringAttribute{Optional: true, MarkdownDescription: "Key in the Secret."},
			},
		}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Declares a **routing policy** (`DriftRoutingPolicy`): who is told about which drift. An ordered " +
			"tree of routes with [Alertmanager matchers](https://prometheus.io/docs/alerting/latest/configuration/#matcher) " +
			"over a finding's labels, walked exactly as Alertmanager walks its own (depth-first, the first matching child " +
			"wins unless it sets `continue`, unset settings inherited from the parent, the root matches everything); the " +
			"receivers, page, incident and issue switches, grouping and intervals of each route; and scoped, expiring " +
			"silences. The policy is the same object as a YAML `DriftRoutingPolicy` in `.drift/`, validated by the same " +
			"code, and is published as canonical JSON in `policy_json`. Given `finding` blocks, it also says where each " +
			"goes (`decisions`).\n\nA finding's labels: " + "`" + strings.Join(route.FindingLabels, "`, `") + "`, plus the " +
			"unit labels named in `unit_labels`. INFO findings (controller-owned drift, provider read noise) are routed " +
			"nowhere unless a route matches `risk=\"INFO\"` explicitly.",
		Attributes: map[string]schema.Attribute{
			"id": str("The policy's name."),
			"name": schema.StringAttribute{Optional: true, MarkdownDescription: "Policy name (letters, digits, `.`, `_`, `-`). " +
				"Required with a `route` block.", Validators: []validator.String{stringvalidator.RegexMatches(routeNameRE, "must be letters, digits, '.', '_' or '-'")}},
			"policy_file": schema.StringAttribute{Optional: true, MarkdownDescription: "A YAML or JSON file holding one " +
				"`DriftRoutingPolicy` document, instead of the blocks below (e.g. the one the application's `.drift/` holds)."},
			"unit_labels": schema.ListAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "Extra " +
				"unit labels (the unit's `metadata.labels`, as label names) matchers and `group_by` may use; " +
				"`data_classification` and `compliance_scope` are always known."},
			"max_silence_days": schema.Int64Attribute{Optional: true, MarkdownDescription: "How far ahead a silence may " +
				"expire (default 90, at most 365), as exceptions are bounded.", Validators: []validator.Int64{int64validator.Between(0, drift.MaxExceptionDaysLimit)}},
			"at": schema.StringAttribute{Optional: true, MarkdownDescription: "Evaluation time (RFC 3339) for silences; default now.",
				Validators: []validator.String{stringvalidator.RegexMatches(rfc3339RE, "must be an RFC 3339 time, e.g. 2026-12-01T00:00:00Z")}},
			"policy_json": str("The validated policy as canonical JSON (a `DriftRoutingPolicy` document)."),
			"decisions": schema.ListNestedAttribute{
				Computed: true,
				MarkdownDescription: "What the policy does with each `finding`: one entry per route the finding takes (more " +
					"than one when a route has `continue`), in order.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"finding":           schema.Int64Attribute{Computed: true, MarkdownDescription: "Index of the `finding` block."},
					"route":             str("The route's path, e.g. `route.routes[1].routes[0]`."),
					"name":              str("The route's name, when it has one."),
					"receivers":         strList("Receivers told; empty when `notify` is false."),
					"held":              strList("Receivers that would have been told, when `notify` is false."),
					"notify":            schema.BoolAttribute{Computed: true, MarkdownDescription: "False when a silence or the INFO rule holds the finding."},
					"group_by":          strList("The labels the finding is grouped by (`...`: every label)."),
					"group_key":         str("Findings with one group key are sent together."),
					"group_wait":        str("How long a new group waits for more findings."),
					"group_interval":    str("How long before a group's changes are sent."),
					"repeat_interval":   str("How long before an unchanged group is sent again."),
					"page":              schema.BoolAttribute{Computed: true, MarkdownDescription: "Page someone."},
					"create_incident":   schema.BoolAttribute{Computed: true, MarkdownDescription: "Open an incident."},
					"create_issue":      schema.BoolAttribute{Computed: true, MarkdownDescription: "Open an issue (ticket)."},
					"silenced_by":       strList("Active silences that hold the finding."),
					"inactive_silences": strList("Silences that select the finding but are expired or not started, and why."),
					"suppressed":        str("Why nothing is sent, when `notify` is false."),
				}},
			},
		},
		Blocks: map[string]schema.Block{
			"receiver": schema.ListNestedBlock{
				MarkdownDescription: "A destination routes name. It holds no credential: tokens, signing keys and secret " +
					"webhook URLs are referenced with `secret_ref` / `url_from`.",
				NestedObject: schema.NestedBlockObject{
					Attributes: map[string]schema.Attribute{
						"name": schema.StringAttribute{Required: true, MarkdownDescription: "Receiver name, used in `receivers`."},
						"type": schema.StringAttribute{Required: true, MarkdownDescription: "`" + strings.Join(route.ReceiverTypes, "`, `") + "`.",
							Validators: []validator.String{stringvalidator.OneOf(route.ReceiverTypes...)}},
						"url": schema.StringAttribute{Optional: true, MarkdownDescription: "Non-secret endpoint (an Alertmanager, a " +
							"webhook, an issue tracker's API). Slack's URL is a credential: use `url_from`."},
						"settings": schema.MapAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "Non-secret " +
							"options, e.g. `{ repository = \"acme/infra-drift\" }` for issue receivers."},
					},
					Blocks: map[string]schema.Block{
						"url_from":   secretRef("The endpoint URL"),
						"secret_ref": secretRef("The credential (token, HMAC key, routing key)"),
					},
				},
			},
			"route": routeSchemaBlock(0),
			"silence": schema.ListNestedBlock{
				MarkdownDescription: "Mutes the findings its matchers select until it expires. A silence must be scoped " +
					"(some matcher requires a value) and must expire, at most `max_silence_days` ahead. An expired silence " +
					"silences nothing and `decisions` says so.",
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"name": schema.StringAttribute{Required: true, MarkdownDescription: "Silence name."},
					"matchers": schema.ListAttribute{Required: true, ElementType: types.StringType, MarkdownDescription: "Alertmanager " +
						"matchers, all of which must match, e.g. `[\"unit=\\\"payments\\\"\", \"resource=~\\\"aws_security_group\\\\..*\\\"\"]`.",
						Validators: []validator.List{listvalidator.SizeAtLeast(1)}},
					"reason":     schema.StringAttribute{Required: true, MarkdownDescription: "Why."},
					"created_by": schema.StringAttribute{Required: true, MarkdownDescription: "Who."},
					"starts_at": schema.StringAttribute{Optional: true, MarkdownDescription: "RFC 3339 start (default: at once).",
						Validators: []validator.String{stringvalidator.RegexMatches(rfc3339RE, "must be an RFC 3339 time")}},
					"expires_at": schema.StringAttribute{Required: true, MarkdownDescription: "RFC 3339 expiry.",
						Validators: []validator.String{stringvalidator.RegexMatches(rfc3339RE, "must be an RFC 3339 time")}},
				}},
			},
			"finding": schema.ListNestedBlock{
				MarkdownDescription: "A finding to route (see `decisions`): its labels, or its JSON.",
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"labels": schema.MapAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "The finding's " +
						"labels, e.g. `{ domain = \"identity\", risk = \"HIGH\" }` (`severity` and `risk` stand for each other)."},
					"finding_json": schema.StringAttribute{Optional: true, MarkdownDescription: "A finding as JSON, e.g. " +
						"`jsonencode(data.drift_finding.f.findings[0])`.",
						Validators: []validator.String{stringvalidator.ExactlyOneOf(path.MatchRelative().AtParent().AtName("labels"))}},
					"unit_labels": schema.MapAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "The " +
						"unit's `metadata.labels`, added to `finding_json`'s labels."},
				}},
			},
		},
	}
}

// routeSchemaBlock is the root route block (depth 0) or a child route block.
func routeSchemaBlock(depth int) schema.Block {
	optStr := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Optional: true, MarkdownDescription: desc}
	}
	optBool := func(desc string) schema.BoolAttribute {
		return schema.BoolAttribute{Optional: true, MarkdownDescription: desc}
	}
	attrs := map[string]schema.Attribute{
		"name": optStr("Route name, shown in `decisions`."),
		"receivers": schema.ListAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "Receiver " +
			"names (inherited from the parent when unset). Required on the root route, which takes every finding no child takes."},
		"group_by": schema.ListAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "Labels whose " +
			"values form a group; `...` groups by every label."},
		"group_wait":      optStr("How long a new group waits for more findings (`30s`, `5m`, `4h`, `1d`; root default `30s`)."),
		"group_interval":  optStr("How long before a group's changes are sent (root default `5m`)."),
		"repeat_interval": optStr("How long before an unchanged group is sent again (root default `4h`)."),
		"page":            optBool("Page someone (inherited when unset)."),
		"create_incident": optBool("Open an incident (inherited when unset)."),
		"create_issue":    optBool("Open an issue (inherited when unset)."),
	}
	desc := "The root route: it matches every finding and takes no matchers."
	if depth > 0 {
		desc = "A child route, tried in order."
		attrs["matchers"] = schema.ListAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "Alertmanager " +
			"matchers, all of which must match (`domain=~\"identity|network\"`, `risk!=\"INFO\"`)."}
		attrs["continue"] = optBool("Try the following sibling routes too after this one matches.")
	}
	blocks := map[string]schema.Block{}
	if depth < routeHCLDepth {
		blocks["route"] = routeSchemaBlock(depth + 1)
	}
	if depth == 0 {
		return schema.SingleNestedBlock{MarkdownDescription: desc, Attributes: attrs, Blocks: blocks}
	}
	return schema.ListNestedBlock{MarkdownDescription: desc, NestedObject: schema.NestedBlockObject{Attributes: attrs, Blocks: blocks}}
}

func (d *RouteDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var (
		policyFile, atAttr types.String
		findings           []routeFindingModel
	)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("policy_file"), &policyFile)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("at"), &atAttr)...)
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("finding"), &findings)...)
	if resp.Diagnostics.HasError() {
		return
	}
	at := time.Now().UTC()
	if d.now != nil {
		at = d.now()
	}
	if s := atAttr.ValueString(); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("at"), "Invalid drift_route", "at: "+err.Error())
			return
		}
		at = t
	}
	var p *route.Policy
	if f := policyFile.ValueString(); f != "" {
		var err error
		if p, err = route.Load(f, at); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("policy_file"), "Invalid routing policy", err.Error())
			return
		}
	} else {
		p = d.policyFromHCL(req.Config.Raw, at, &resp.Diagnostics)
		if p == nil {
			return
		}
	}
	js, err := p.JSON()
	if err != nil {
		resp.Diagnostics.AddError("Encoding drift_route", err.Error())
		return
	}
	decisions, diags := routeFindings(ctx, p, findings, at)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), p.Metadata.Name)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("policy_json"), string(js))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("decisions"), decisions)...)
}

// policyFromHCL turns the configuration's blocks into the core's spec by renaming HCL's names
// to the YAML ones and decoding strictly into the same type a YAML document decodes into, then
// validates it with the core, reporting each problem at its HCL attribute.
func (d *RouteDataSource) policyFromHCL(raw tftypes.Value, at time.Time, diags *diag.Diagnostics) *route.Policy {
	cfg, err := tfToJSON(raw, false)
	if err != nil {
		diags.AddError("Reading drift_route", err.Error())
		return nil
	}
	top, _ := cfg.(map[string]any)
	name, _ := top["name"].(string)
	if name == "" {
		diags.AddAttributeError(path.Root("name"), "Invalid drift_route", "name is required with a route block")
		return nil
	}
	spec := map[string]any{}
	for _, k := range []string{"receivers", "unitLabels", "maxSilenceDays", "route", "silences"} {
		if v, ok := top[k]; ok {
			spec[k] = v
		}
	}
	js, err := json.Marshal(spec)
	if err != nil {
		diags.AddError("Reading drift_route", err.Error())
		return nil
	}
	var s route.Spec
	if strict, err := k8sjson.UnmarshalStrict(js, &s); err != nil || len(strict) > 0 {
		diags.AddError("Reading drift_route", fmt.Sprintf("the blocks do not decode into a DriftRoutingPolicy spec (%v %v); this is a bug in the provider", err, strict))
		return nil
	}
	p, err := route.New(name, s, at)
	if err != nil {
		var ve *drift.ValidationError
		if !errors.As(err, &ve) {
			diags.AddError("Invalid drift_route", err.Error())
			return nil
		}
		for _, fe := range ve.Errors {
			p := routeHCLPath(fe.Field)
			detail := ve.Object + ": " + p.String() + ": " + fe.Message
			if len(p.Steps()) == 0 {
				detail = ve.Object + ": " + fe.Field + ": " + fe.Message
				diags.AddError("Invalid drift_route", detail)
			} else {
				diags.AddAttributeError(p, "Invalid drift_route", detail)
			}
		}
		return nil
	}
	return p
}

// hclBlockNames are the HCL blocks whose YAML names are plural.
var hclBlockNames = map[string]string{"receiver": "receivers", "silence": "silences", "route": "routes"}

// tfToJSON converts a configuration value to JSON-ready values with YAML field names: snake_case
// object attributes become camelCase, a child route block becomes routes (the top-level route
// stays route), and map keys (settings, labels) are kept as written. Nulls are dropped.
func tfToJSON(v tftypes.Value, inRoute bool) (any, error) {
	if !v.IsKnown() {
		return nil, errors.New("a value is not known yet; drift_route is read once its configuration is known")
	}
	if v.IsNull() {
		return nil, nil
	}
	t := v.Type()
	switch {
	case t.Is(tftypes.String):
		var s string
		err := v.As(&s)
		return s, err
	case t.Is(tftypes.Bool):
		var b bool
		err := v.As(&b)
		return b, err
	case t.Is(tftypes.Number):
		var f big.Float
		if err := v.As(&f); err != nil {
			return nil, err
		}
		i, _ := f.Int64()
		return i, nil
	case t.Is(tftypes.List{}), t.Is(tftypes.Set{}), t.Is(tftypes.Tuple{}):
		var xs []tftypes.Value
		if err := v.As(&xs); err != nil {
			return nil, err
		}
		out := make([]any, 0, len(xs))
		for _, x := range xs {
			j, err := tfToJSON(x, inRoute)
			if err != nil {
				return nil, err
			}
			out = append(out, j)
		}
		return out, nil
	case t.Is(tftypes.Map{}):
		var m map[string]tftypes.Value
		if err := v.As(&m); err != nil {
			return nil, err
		}
		out := map[string]any{}
		for k, x := range m {
			j, err := tfToJSON(x, inRoute)
			if err != nil {
				return nil, err
			}
			out[k] = j
		}
		return out, nil
	case t.Is(tftypes.Object{}):
		var m map[string]tftypes.Value
		if err := v.As(&m); err != nil {
			return nil, err
		}
		out := map[string]any{}
		for k, x := range m {
			if x.IsNull() {
				continue
			}
			name := camel(k)
			if plural, ok := hclBlockNames[k]; ok && (k != "route" || inRoute) {
				name = plural
			}
			// A root-level finding block may hold unknown values the policy does not depend on.
			if !inRoute && (k == "finding" || k == "decisions" || k == "policy_json" || k == "id") {
				continue
			}
			j, err := tfToJSON(x, inRoute || k == "route")
			if err != nil {
				return nil, err
			}
			if l, ok := j.([]any); ok && len(l) == 0 {
				continue
			}
			out[name] = j
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected configuration type %s", t)
}

func camel(s string) string {
	parts := strings.Split(s, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

var fieldSegRE = regexp.MustCompile(`^([A-Za-z]+)(?:\[(\d+)\])?$`)

// routeHCLPath translates a core field (spec.route.routes[1].routes[0].matchers[2],
// spec.receivers[0].settings.hmac_key) into the HCL attribute path
// (route.route[1].route[0].matchers[2], receiver[0].settings["hmac_key"]).
func routeHCLPath(field string) path.Path {
	if field == "metadata.name" {
		return path.Root("name")
	}
	rest, ok := strings.CutPrefix(field, "spec.")
	if !ok {
		return path.Empty()
	}
	var p path.Path
	started := false
	for rest != "" {
		seg, tail, _ := strings.Cut(rest, ".")
		m := fieldSegRE.FindStringSubmatch(seg)
		if m == nil {
			break
		}
		name := m[1]
		switch {
		case name == "routes":
			name = "route"
		case name == "receivers" && !started:
			name = "receiver"
		case name == "silences":
			name = "silence"
		default:
			name = snake(name)
		}
		if !started {
			p, started = path.Root(name), true
		} else {
			p = p.AtName(name)
		}
		if m[2] != "" {
			i, _ := strconv.Atoi(m[2])
			p = p.AtListIndex(i)
		}
		if name == "settings" && tail != "" {
			return p.AtMapKey(tail)
		}
		rest = tail
	}
	if !started {
		return path.Empty()
	}
	return p
}

// routeFindings routes every finding block.
func routeFindings(ctx context.Context, p *route.Policy, findings []routeFindingModel, at time.Time) ([]routeDecisionModel, diag.Diagnostics) {
	var diags diag.Diagnostics
	out := []routeDecisionModel{}
	list := func(xs []string) types.List {
		if xs == nil {
			xs = []string{}
		}
		l, d := types.ListValueFrom(ctx, types.StringType, xs)
		diags.Append(d...)
		return l
	}
	for i, fm := range findings {
		var ls route.Labels
		if js := fm.FindingJSON.ValueString(); js != "" {
			var f drift.Finding
			if err := json.Unmarshal([]byte(js), &f); err != nil {
				diags.AddAttributeError(path.Root("finding").AtListIndex(i).AtName("finding_json"), "Invalid finding", err.Error())
				continue
			}
			ls = route.LabelsOf(f, fm.UnitLabels)
		} else {
			ls = route.Labels(fm.Labels).Normalize()
		}
		ds, err := p.Route(ls, at)
		if err != nil {
			diags.AddError("Routing a finding", err.Error())
			continue
		}
		for _, d := range ds {
			out = append(out, routeDecisionModel{
				Finding: types.Int64Value(int64(i)), Route: types.StringValue(d.Route), Name: types.StringValue(d.Name),
				Receivers: list(d.Receivers), Held: list(d.Held), Notify: types.BoolValue(d.Notify),
				GroupBy: list(d.GroupBy), GroupKey: types.StringValue(d.GroupKey), GroupWait: types.StringValue(d.GroupWait),
				GroupInterval: types.StringValue(d.GroupInterval), RepeatInterval: types.StringValue(d.RepeatInterval),
				Page: types.BoolValue(d.Page), CreateIncident: types.BoolValue(d.CreateIncident), CreateIssue: types.BoolValue(d.CreateIssue),
				SilencedBy: list(d.SilencedBy), InactiveSilences: list(d.InactiveSilences), Suppressed: types.StringValue(d.Suppressed),
			})
		}
	}
	return out, diags
}
