// Package provider is the OpenTofu/Terraform front end of driftplane: data sources that turn HCL
// into the core's policy objects and the core's findings into attributes and diagnostics.
package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/digestkey"

	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
)

var _ provider.Provider = &DriftProvider{}

// DriftProvider is the drift provider. It has no configuration: everything a data source needs
// is in its own arguments, so one provider serves every unit of a stack.
type DriftProvider struct {
	version string
}

// New returns a provider factory for providerserver.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &DriftProvider{version: version} }
}

func (p *DriftProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "drift"
	resp.Version = p.version
}

func (p *DriftProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The drift provider declares drift policy in HCL and fails `tofu plan` on unaccepted " +
			"drift at or above a unit's gate. Its configuration is how to reach S3 for `s3://` locations and, optionally, the " +
			"installation's digest key.",
		Attributes: map[string]schema.Attribute{
			"digest_key": schema.StringAttribute{Optional: true, Sensitive: true, MarkdownDescription: "Key (at least 16 bytes) " +
				"of the HMAC-SHA-256 digests that stand in for sensitive values in findings, state and evidence. Defaults to " +
				"`$DRIFTPLANE_DIGEST_KEY`, else the key file `$DRIFTPLANE_DIGEST_KEY_FILE` (default " +
				"`~/.config/driftplane/digest-key`), generated once when absent. Use one key per installation: digests made " +
				"with different keys do not compare, and without the key nobody can test guesses against a digest."},
		},
		Blocks: map[string]schema.Block{
			"s3": schema.SingleNestedBlock{
				MarkdownDescription: "S3 access for `s3://bucket/key` locations (plans, evidence). Credentials and region come from " +
					"the standard AWS chain; set these for S3-compatible stores.",
				Attributes: map[string]schema.Attribute{
					"endpoint":       schema.StringAttribute{Optional: true, MarkdownDescription: "Endpoint URL of an S3-compatible store."},
					"region":         schema.StringAttribute{Optional: true, MarkdownDescription: "Region, when the AWS chain does not give one."},
					"use_path_style": schema.BoolAttribute{Optional: true, MarkdownDescription: "Path-style addressing (`endpoint/bucket/key`)."},
				},
			},
		},
	}
}

type s3Model struct {
	Endpoint     types.String `tfsdk:"endpoint"`
	Region       types.String `tfsdk:"region"`
	UsePathStyle types.Bool   `tfsdk:"use_path_style"`
}

type providerModel struct {
	DigestKey types.String `tfsdk:"digest_key"`
	S3        *s3Model     `tfsdk:"s3"`
}

// providerData is what Configure hands to the data sources.
type providerData struct {
	s3       blob.S3Options
	digester *drift.Digester
	// version is the running provider's, recorded in evidence.
	version string
}

func (p *DriftProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var o blob.S3Options
	if m.S3 != nil {
		o = blob.S3Options{Endpoint: m.S3.Endpoint.ValueString(), Region: m.S3.Region.ValueString(), PathStyle: m.S3.UsePathStyle.ValueBool()}
	}
	dg, src, err := digestkey.Resolve(m.DigestKey.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("digest_key"), "No digest key", err.Error())
		return
	}
	tflog.Debug(ctx, "digest key resolved", map[string]any{"source": string(src)})
	resp.DataSourceData = &providerData{s3: o, digester: dg, version: p.version}
}

// configureData is the data sources' Configure: it accepts the provider's data, reports anything
// else, and tolerates nil (OpenTofu validates configuration before the provider is configured).
func configureData(req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) *providerData {
	if req.ProviderData == nil {
		return nil
	}
	d, ok := req.ProviderData.(*providerData)
	if !ok {
		resp.Diagnostics.AddError("Unexpected provider data", fmt.Sprintf("expected *providerData, got %T; this is a bug in the provider", req.ProviderData))
		return nil
	}
	return d
}

func (p *DriftProvider) Resources(context.Context) []func() resource.Resource { return nil }

func (p *DriftProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewManagedUnitDataSource,
		NewExceptionDataSource,
		NewFindingDataSource, NewRouteDataSource,
	}
}
