package pipeline

import (
	"context"

	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/drift/evidence"
	"github.com/driftplane/terraform-provider-drift/internal/drift/tofuplan"
)

// StageProviderSchema: the providers' schema (`tofu providers schema -json`) could not be read.
const StageProviderSchema Stage = "provider-schema"

// providerSchemaFile reads the optional providers' schema at location (local or s3://) into the
// plan reader's options and the evidence input it adds. An unreadable schema fails the
// evaluation: without it, its bookkeeping would read as drift the caller asked to have explained.
func providerSchemaFile(ctx context.Context, location string, s3 blob.S3Options, label string) ([]tofuplan.Option, []evidence.Input, error) {
	if location == "" {
		return nil, nil, nil
	}
	loc, err := blob.Open(location, s3)
	if err != nil {
		return nil, nil, fail(StageProviderSchema, err)
	}
	s, err := tofuplan.ReadProviderSchemasLocation(ctx, loc)
	if err != nil {
		return nil, nil, fail(StageProviderSchema, err)
	}
	return schemaOptions(s, label+" "+s.Path)
}

// providerSchemaJSON is providerSchemaFile for a schema already in memory (a scan's own
// `tofu providers schema -json`).
func providerSchemaJSON(name string, data []byte, label string) ([]tofuplan.Option, []evidence.Input, error) {
	if len(data) == 0 {
		return nil, nil, nil
	}
	s, err := tofuplan.ReadProviderSchemas(name, data)
	if err != nil {
		return nil, nil, fail(StageProviderSchema, err)
	}
	return schemaOptions(s, label)
}

func schemaOptions(s *tofuplan.ProviderSchemas, label string) ([]tofuplan.Option, []evidence.Input, error) {
	return []tofuplan.Option{tofuplan.WithProviderSchemas(s)}, []evidence.Input{{Name: label, Digest: s.Digest, Bytes: s.Size}}, nil
}

// withInputs adds evidence inputs to what a source observed.
func withInputs(in []evidence.Input) func(*Observed, error) (*Observed, error) {
	return func(o *Observed, err error) (*Observed, error) {
		if err == nil && o != nil {
			o.Inputs = append(o.Inputs, in...)
		}
		return o, err
	}
}
