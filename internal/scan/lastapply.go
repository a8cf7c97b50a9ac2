package scan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/drift/pipeline"
	"github.com/driftplane/terraform-provider-drift/internal/drift/tofuplan"
)

// lastApply adds to src what the unit's last apply left in dir (Options.LastApply): its log and
// the lock file it applied with. A missing file is not judged; one that cannot be read or is
// not what it should be makes the unit unknown, never clean.
func lastApply(ctx context.Context, dir string, u Unit, src *pipeline.PlanJSON) error {
	if dir == "" {
		return nil
	}
	name := u.Policy.Metadata.Name // a unit name is one path segment (drift validation)
	logFile := filepath.Join(dir, name+".jsonl")
	data, err := blob.ReadFileLimit(ctx, logFile, tofuplan.MaxApplyLogBytes)
	switch {
	case err == nil:
		src.ApplyLog, src.ApplyLogLabel = data, "last apply log "+logFile
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("last apply log of %s: %w", name, err)
	}
	recorded := filepath.Join(dir, name+".terraform.lock.hcl")
	if _, err := os.Stat(recorded); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	from, err := tofuplan.ReadLockFileAt(recorded)
	if err != nil {
		return fmt.Errorf("lock file of the last apply of %s: %w", name, err)
	}
	current := filepath.Join(u.StackDir, ".terraform.lock.hcl")
	to, err := tofuplan.ReadLockFileAt(current)
	if err != nil {
		return fmt.Errorf("the stack's lock file, against the last apply's of %s: %w", name, err)
	}
	src.Extra = append(src.Extra, tofuplan.WithProviderVersions(&tofuplan.ProviderVersions{Recorded: from, Current: to}))
	return nil
}
