// Package provider is the OpenTofu/Terraform front end of driftplane: data sources that turn HCL
// into the core's policy objects and the core's findings into attributes and diagnostics.
package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

var _ provider.Provider = &DriftProvider{}

// DriftProvider is the drift provider. It has no configuration: everything a data source needs
// is in its own arguments, so one provider serves every unit of a stack.
type DriftProvider struct {
	version string
}

// Version is the running provider's version, recorded in evidence.
var Version = "dev"

// New returns a provider factory for providerserver.
func New(version string) func() provider.Provider {
	Version = version
	return func() provider.Provider { return &DriftProvider{version: version} }
}

func (p *DriftProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "drift"
	resp.Version = p.version
}

func (p *DriftProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "The drift provider declares drift policy in HCL and fails `tofu plan` on unaccepted " +
			"drift at or above a unit's gate. It has no configuration.",
	}
}

func (p *DriftProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (p *DriftProvider) Resources(context.Context) []func() resource.Resource { return nil }

func (p *DriftProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewManagedUnitDataSource,
		NewExceptionDataSource,
		NewFindingDataSource,
	}
}
