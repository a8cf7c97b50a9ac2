package pipeline

import (
	"context"
	"fmt"

	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/drift/evidence"
	"github.com/driftplane/terraform-provider-drift/internal/drift/tofuplan"
)

// StageApplyLog: the log of the unit's last apply was not read.
const StageApplyLog Stage = "apply-log"

// applyLogFile reads the machine-readable log of the unit's last apply (local or s3://) into the
// plan reader's option and the evidence input that names it; nothing when location is "".
func applyLogFile(ctx context.Context, location string, s3 blob.S3Options, label string) ([]tofuplan.Option, []evidence.Input, error) {
	if location == "" {
		return nil, nil, nil
	}
	s3.MaxBytes = tofuplan.MaxApplyLogBytes
	data, err := blob.ReadAll(ctx, location, s3)
	if err != nil {
		return nil, nil, fail(StageApplyLog, fmt.Errorf("apply log %w", err))
	}
	return applyLogJSON(location, data, label+" "+location)
}

// applyLogJSON is applyLogFile for a log already in memory.
func applyLogJSON(name string, data []byte, label string) ([]tofuplan.Option, []evidence.Input, error) {
	if data == nil {
		return nil, nil, nil
	}
	l, err := tofuplan.ReadApplyLog(name, data)
	if err != nil {
		return nil, nil, fail(StageApplyLog, err)
	}
	return []tofuplan.Option{tofuplan.WithApplyLog(l)}, []evidence.Input{{Name: label, Digest: evidence.Digest(data), Bytes: int64(len(data))}}, nil
}
