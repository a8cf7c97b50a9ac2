package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// VersionText is what `version` and `--version` print: the version set at build time
// (-ldflags "-X main.version=...") alone on the first line, as before, then the commit when
// the build recorded it, and the Go toolchain and platform.
func VersionText(version string) string {
	bi, ok := debug.ReadBuildInfo()
	return versionText(version, bi, ok)
}

// versionText is VersionText of the given build information (ok false: none recorded).
func versionText(version string, bi *debug.BuildInfo, ok bool) string {
	var b strings.Builder
	version = resolve(version, bi, ok)
	commit := ""
	if ok {
		settings := map[string]string{}
		for _, s := range bi.Settings {
			settings[s.Key] = s.Value
		}
		if commit = settings["vcs.revision"]; commit != "" {
			if t := settings["vcs.time"]; t != "" {
				commit += " (" + t + ")"
			}
			if settings["vcs.modified"] == "true" {
				commit += " modified"
			}
		}
	}
	fmt.Fprintln(&b, version)
	if commit != "" {
		fmt.Fprintf(&b, "commit: %s\n", commit)
	}
	fmt.Fprintf(&b, "go: %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return b.String()
}

// resolve is version, or for a "dev" build the module version `go install ...@vX.Y.Z` records.
func resolve(version string, bi *debug.BuildInfo, ok bool) string {
	if ok && version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return version
}

func newVersionCommand(program, version string) *cobra.Command {
	var short bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version",
		Long: "Print the version this binary was built as, the commit when the build recorded it, and the Go\n" +
			"toolchain and platform. The first line is the version alone; --short prints only that line.",
		Example: fmt.Sprintf("  %[1]s version\n  %[1]s version --short", program),
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			text := VersionText(version)
			if short {
				text, _, _ = strings.Cut(text, "\n")
				text += "\n"
			}
			_, err := fmt.Fprint(cmd.OutOrStdout(), text)
			return err
		},
	}
	cmd.Flags().BoolVar(&short, "short", false, "print the version only")
	NoEnv(cmd.Flags(), "short")
	return cmd
}
