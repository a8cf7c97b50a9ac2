package tofuplan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	tfjson "github.com/hashicorp/terraform-json"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
)

// StateIDsFile reads a local state file of at most the size bound (see WithMaxBytes) and returns
// StateIDs of it.
func StateIDsFile(path string, opts ...Option) (map[string]map[string]any, error) {
	o := collect(opts)
	data, err := readFile("state", path, o.maxBytes)
	if err != nil {
		switch {
		case errors.Is(err, ErrTooLarge):
			return nil, err
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("state file %s does not exist (write it with `tofu show -json > %s`)", path, path)
		}
		return nil, fmt.Errorf("state file %s: %w", path, err)
	}
	return StateIDs(path, data, opts...)
}

// StateIDs reads the JSON of a state (`tofu show -json` without a plan file) and returns, per
// resource address, the values CloudTrail calls name it by (id, arn, name, ...). name is used in
// messages.
func StateIDs(name string, data []byte, opts ...Option) (map[string]map[string]any, error) {
	o := collect(opts)
	dg := o.digester
	if int64(len(data)) > o.maxBytes {
		return nil, tooLarge("state", name, o.maxBytes)
	}
	if err := drift.CheckJSONDepth(data, drift.MaxJSONDepth); err != nil {
		return nil, fmt.Errorf("state file %s: %w", name, err)
	}
	var st tfjson.State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("state file %s: not the JSON of a state (`tofu show -json`): %w", name, err)
	}
	if st.Values == nil {
		return nil, fmt.Errorf("state file %s has no values: not the JSON of a state (`tofu show -json`)", name)
	}
	out := map[string]map[string]any{}
	var walk func(m *tfjson.StateModule)
	walk = func(m *tfjson.StateModule) {
		if m == nil {
			return
		}
		for _, r := range m.Resources {
			if r.Mode != tfjson.ManagedResourceMode || r.AttributeValues == nil {
				continue
			}
			var mask any
			if len(r.SensitiveValues) > 0 {
				if err := json.Unmarshal(r.SensitiveValues, &mask); err != nil {
					// An unreadable mask hides every value of the resource.
					mask = true
				}
			}
			redacted, _ := dg.Redact(r.AttributeValues, mask)
			out[r.Address], _ = redacted.(map[string]any)
		}
		for _, c := range m.ChildModules {
			walk(c)
		}
	}
	walk(st.Values.RootModule)
	return out, nil
}

// StateIDsLocation is StateIDs of a state at a local path or in S3; it also returns the bytes
// read, for the evidence record's digest.
func StateIDsLocation(ctx context.Context, loc *blob.Location, opts ...Option) (map[string]map[string]any, []byte, error) {
	data, err := loc.ReadAll(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("state file %w", err)
	}
	ids, err := StateIDs(loc.String(), data, opts...)
	return ids, data, err
}
