package provider

import (
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/driftplane/terraform-provider-drift/internal/drift/tofuplan"
)

// providerVersionOptions reads the recorded and current dependency lock files into the plan
// reader's provider versions (tofuplan.WithProviderVersions): both or neither.
func providerVersionOptions(recorded, current string, diags *diag.Diagnostics) ([]tofuplan.Option, bool) {
	if recorded == "" && current == "" {
		return nil, true
	}
	if recorded == "" || current == "" {
		diags.AddAttributeError(path.Root("lock_file_path"), "Both lock files or neither",
			"a provider upgrade is judged between the lock file of the last apply (recorded_lock_file_path) and the one the plan was made with (lock_file_path): set both or neither")
		return nil, false
	}
	read := func(attr, file string) (map[string]string, bool) {
		v, err := tofuplan.ReadLockFileAt(file)
		if err != nil {
			diags.AddAttributeError(path.Root(attr), "Unreadable lock file", err.Error())
			return nil, false
		}
		return v, true
	}
	from, ok := read("recorded_lock_file_path", recorded)
	if !ok {
		return nil, false
	}
	to, ok := read("lock_file_path", current)
	if !ok {
		return nil, false
	}
	return []tofuplan.Option{tofuplan.WithProviderVersions(&tofuplan.ProviderVersions{Recorded: from, Current: to})}, true
}
