package drift

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// LoadPolicy reads policy documents from a file or a directory (every .yaml, .yml and .json
// directly in it, in name order), validates every object, and returns them merged: one unit with
// its separate DriftOwnershipRule documents folded in, all exceptions and auto-heal policies.
// Every error names the file, the document and the field; nothing is returned on error, because
// half a policy is a weaker policy.
func LoadPolicy(path string) (*Bundle, error) {
	info, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("policy %s does not exist", path)
		}
		return nil, fmt.Errorf("policy %s: %w", path, err)
	}
	files := []string{path}
	if info.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, fmt.Errorf("policy %s: %w", path, err)
		}
		files = files[:0]
		for _, e := range entries {
			switch strings.ToLower(filepath.Ext(e.Name())) {
			case ".yaml", ".yml", ".json":
				if !e.IsDir() {
					files = append(files, filepath.Join(path, e.Name()))
				}
			}
		}
		sort.Strings(files)
		if len(files) == 0 {
			return nil, fmt.Errorf("policy %s holds no .yaml, .yml or .json files", path)
		}
	}
	merged := &Bundle{}
	unitFile := ""
	seen := map[string]string{}
	for _, f := range files {
		data, err := readBounded(f, MaxPolicyFileBytes)
		if err != nil {
			return nil, fmt.Errorf("policy %s: %w", f, err)
		}
		b, err := DecodeDocuments(f, data)
		if err != nil {
			return nil, err
		}
		if b.Unit != nil {
			if merged.Unit != nil {
				return nil, fmt.Errorf("policy %s: a second %s (the first is in %s); a policy holds one unit", f, KindManagedUnit, unitFile)
			}
			merged.Unit, unitFile = b.Unit, f
		}
		for _, r := range b.OwnershipRules {
			if err := checkName(seen, f, KindOwnershipRule, r.Metadata.Name); err != nil {
				return nil, err
			}
		}
		for _, e := range b.Exceptions {
			if err := checkName(seen, f, KindException, e.Metadata.Name); err != nil {
				return nil, err
			}
			if err := e.Validate(); err != nil {
				return nil, fmt.Errorf("policy %s: %w", f, err)
			}
		}
		for _, p := range b.AutoHeal {
			if err := checkName(seen, f, KindAutoHealPolicy, p.Metadata.Name); err != nil {
				return nil, err
			}
			if err := p.Validate(); err != nil {
				return nil, fmt.Errorf("policy %s: %w", f, err)
			}
		}
		merged.Exceptions = append(merged.Exceptions, b.Exceptions...)
		merged.AutoHeal = append(merged.AutoHeal, b.AutoHeal...)
		merged.OwnershipRules = append(merged.OwnershipRules, b.OwnershipRules...)
	}
	if merged.Unit == nil {
		return nil, fmt.Errorf("policy %s has no %s document", path, KindManagedUnit)
	}
	for _, r := range merged.OwnershipRules {
		if r.APIVersion != APIVersion {
			return nil, fmt.Errorf("policy %s: %s %q: apiVersion must be %q", path, KindOwnershipRule, r.Metadata.Name, APIVersion)
		}
	}
	merged.MergeOwnershipRules()
	if err := merged.Unit.Validate(); err != nil {
		return nil, fmt.Errorf("policy %s: %w", unitFile, err)
	}
	for _, e := range merged.Exceptions {
		if e.Spec.Unit != merged.Unit.Metadata.Name {
			return nil, fmt.Errorf("policy %s: %s %q names unit %q, but this policy's unit is %q", path, KindException, e.ID(), e.Spec.Unit, merged.Unit.Metadata.Name)
		}
		// Now the unit is known: its kind, its domains and its lifetime bound apply, judged on the
		// real clock as every evaluation will.
		if err := e.ValidateIn(DefaultTable(), merged.Unit, time.Now()); err != nil {
			return nil, fmt.Errorf("policy %s: %w", path, err)
		}
	}
	return merged, nil
}

// MaxPolicyFileBytes bounds one policy file: policy is a page of YAML, and an application's
// repository must not be able to make the plugin read gigabytes.
const MaxPolicyFileBytes = 4 << 20

func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}

func checkName(seen map[string]string, file, kind, name string) error {
	key := kind + "/" + name
	if prev, ok := seen[key]; ok {
		return fmt.Errorf("policy %s: %s %q is declared twice (first in %s)", file, kind, name, prev)
	}
	seen[key] = file
	return nil
}
