package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

var _ datasource.DataSource = &ExceptionDataSource{}

// NewExceptionDataSource is the drift_exception factory.
func NewExceptionDataSource() datasource.DataSource { return &ExceptionDataSource{} }

// ExceptionDataSource validates a DriftException and publishes it as canonical JSON.
type ExceptionDataSource struct {
	now func() time.Time
}

type exceptionModel struct {
	ID         types.String `tfsdk:"id"`
	Unit       types.String `tfsdk:"unit"`
	Resource   types.String `tfsdk:"resource"`
	Paths      []string     `tfsdk:"paths"`
	DriftClass types.String `tfsdk:"drift_class"`
	Reason     types.String `tfsdk:"reason"`
	Ticket     types.String `tfsdk:"ticket"`
	ApprovedBy types.String `tfsdk:"approved_by"`
	ExpiresAt  types.String `tfsdk:"expires_at"`
	JSON       types.String `tfsdk:"json"`
	Active     types.Bool   `tfsdk:"active"`
	Expired    types.Bool   `tfsdk:"expired"`
}

func (d *ExceptionDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_exception"
}

func (d *ExceptionDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Declares a **drift exception**: a scoped, expiring, approved acceptance of drift on named " +
			"fields of named resources. Exceptions are validated here: they must expire, must name fields (not a whole " +
			"resource, nor every resource), and need a ticket when they touch identity, network exposure or what runs. " +
			"An expired exception stays valid HCL but accepts nothing, and `drift_finding` says so.",
		Attributes: map[string]schema.Attribute{
			"id":          schema.StringAttribute{Required: true, MarkdownDescription: "Exception id, cited in findings' `accepted_by` (e.g. `EXC-1`)."},
			"unit":        schema.StringAttribute{Required: true, MarkdownDescription: "Name of the `drift_managed_unit` it belongs to."},
			"resource":    schema.StringAttribute{Required: true, MarkdownDescription: "Resource address; `*` globs within one segment (`aws_security_group.*`)."},
			"paths":       schema.ListAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "JSON pointers of the accepted fields; a path covers everything below it (`/ingress` covers `/ingress/0/cidr_blocks`). Required, except for a `STATE_DRIFT` exception on one exactly-named resource, which accepts its deletion outside IaC."},
			"drift_class": schema.StringAttribute{Required: true, MarkdownDescription: "The class accepted. `EMERGENCY_DRIFT` also accepts unexplained runtime drift and reclassifies it as emergency drift."},
			"reason":      schema.StringAttribute{Required: true, MarkdownDescription: "Why the drift is accepted."},
			"ticket":      schema.StringAttribute{Optional: true, MarkdownDescription: "Incident or change ticket; required for identity, network and workload-security exceptions."},
			"approved_by": schema.StringAttribute{Required: true, MarkdownDescription: "Who approved it."},
			"expires_at":  schema.StringAttribute{Required: true, MarkdownDescription: "RFC 3339 expiry, e.g. `2026-12-01T00:00:00Z`."},
			"json":        schema.StringAttribute{Computed: true, MarkdownDescription: "The validated exception as canonical JSON (a `DriftException` document). Pass it in `drift_finding.exceptions`."},
			"active":      schema.BoolAttribute{Computed: true, MarkdownDescription: "True while the exception has not expired."},
			"expired":     schema.BoolAttribute{Computed: true, MarkdownDescription: "True once `expires_at` has passed."},
		},
	}
}

func (d *ExceptionDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m exceptionModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	e := &drift.Exception{
		APIVersion: drift.APIVersion,
		Kind:       drift.KindException,
		Metadata:   drift.Metadata{Name: m.ID.ValueString()},
		Spec: drift.ExceptionSpec{
			Unit:       m.Unit.ValueString(),
			Resource:   m.Resource.ValueString(),
			Paths:      m.Paths,
			DriftClass: m.DriftClass.ValueString(),
			Reason:     m.Reason.ValueString(),
			Ticket:     m.Ticket.ValueString(),
			ApprovedBy: m.ApprovedBy.ValueString(),
			ExpiresAt:  m.ExpiresAt.ValueString(),
		},
	}
	if err := e.Validate(); err != nil {
		addPolicyError(&resp.Diagnostics, "Invalid drift_exception", "id", err)
		return
	}
	js, err := drift.CanonicalJSON(e)
	if err != nil {
		resp.Diagnostics.AddError("Encoding drift_exception", err.Error())
		return
	}
	now := time.Now()
	if d.now != nil {
		now = d.now()
	}
	if why := e.LifetimeError(now, drift.MaxExceptionDaysLimit); why != "" {
		resp.Diagnostics.AddAttributeError(path.Root("expires_at"), "Invalid drift_exception",
			fmt.Sprintf("exception %s: expires_at %s", e.ID(), why))
		return
	}
	expired := e.Expired(now)
	if expired {
		resp.Diagnostics.AddAttributeWarning(path.Root("expires_at"), "Expired drift exception",
			"exception "+e.ID()+" expired at "+e.Spec.ExpiresAt+"; it accepts nothing. Renew it with a new approval or remove it.")
	}
	m.JSON = types.StringValue(string(js))
	m.Expired = types.BoolValue(expired)
	m.Active = types.BoolValue(!expired)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
