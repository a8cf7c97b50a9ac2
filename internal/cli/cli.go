// Package cli is the command-line glue driftplane's two commands share (driftplane and
// argocd-driftplane): cobra commands whose flags can also come from $DRIFTPLANE_* variables,
// exit codes, the version subcommand, and the old single-dash flag spelling of Go's flag package.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// EnvPrefix starts the name of every variable a flag can be set from: --max-plan-bytes is
// $DRIFTPLANE_MAX_PLAN_BYTES.
const EnvPrefix = "DRIFTPLANE"

// annotationNoEnv marks a flag that no variable sets (see NoEnv).
const annotationNoEnv = "driftplane.io/no-env"

// EnvName is the variable that sets flag name: prefix, "_", the name in upper case with dashes
// as underscores.
func EnvName(prefix, name string) string {
	return prefix + "_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// NoEnv exempts flags of fs from BindEnv: for a flag whose variable name already means
// something else (--digest-key-file: $DRIFTPLANE_DIGEST_KEY_FILE is read by the digest key
// chain, after $DRIFTPLANE_DIGEST_KEY, while the flag wins over both).
func NoEnv(fs *pflag.FlagSet, names ...string) {
	for _, n := range names {
		if err := fs.SetAnnotation(n, annotationNoEnv, []string{"true"}); err != nil {
			panic(err) // a flag name typo in the program
		}
	}
}

// bindable says whether a variable may set f: not help or version, not a NoEnv flag.
func bindable(f *pflag.Flag) bool {
	if f.Name == "help" || f.Name == "version" {
		return false
	}
	_, no := f.Annotations[annotationNoEnv]
	return !no
}

// BindEnv sets every flag of fs not given on the command line from its variable (EnvName),
// when that variable is set: flags beat variables, variables beat defaults. A set but empty
// variable counts (an empty --namespace means all namespaces). A repeatable flag takes a
// comma-separated list. An invalid value is an error naming the variable.
func BindEnv(fs *pflag.FlagSet, prefix string) error {
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || !bindable(f) {
			return
		}
		name := EnvName(prefix, f.Name)
		v, ok := os.LookupEnv(name)
		if !ok {
			return
		}
		var err error
		if sv, isSlice := f.Value.(pflag.SliceValue); isSlice {
			var items []string
			if v != "" {
				items = strings.Split(v, ",")
			}
			if err = sv.Replace(items); err == nil {
				f.Changed = true
			}
		} else {
			err = fs.Set(f.Name, v)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("invalid value %q for $%s (--%s): %w", v, name, f.Name, err))
		}
	})
	return errors.Join(errs...)
}

// ExitError ends a command with Code. Err, when not nil, is printed as "COMMAND: Err"; nil when
// the command has printed its own diagnostics.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// Exit ends a command with code and nothing more to print: nil for 0.
func Exit(code int) error {
	if code == 0 {
		return nil
	}
	return &ExitError{Code: code}
}

// Fail ends a command with code, printing err.
func Fail(code int, err error) error { return &ExitError{Code: code, Err: err} }

// Configure makes root and its subcommands behave alike: every flag settable from its
// variable (named in the flag's help), errors printed once as "COMMAND: error" with a pointer
// to --help, `--version` and the version subcommand, and cobra's `completion` command. Call it
// once every subcommand and flag is added; subcommands must not set PersistentPreRunE (root's
// binds the variables).
func Configure(root *cobra.Command, version string) {
	root.SilenceErrors, root.SilenceUsage = true, true
	root.Version = version
	root.Flags().Bool("version", false, "print the version") // no -v: kubectl's is verbosity
	root.SetVersionTemplate(VersionText(version))
	root.AddCommand(newVersionCommand(root.Name(), version))
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		return BindEnv(cmd.Flags(), EnvPrefix)
	}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{c.Flags(), c.PersistentFlags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				if tag := " [$" + EnvName(EnvPrefix, f.Name) + "]"; bindable(f) && !strings.HasSuffix(f.Usage, tag) {
					f.Usage += tag
				}
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// Execute runs root (Configure'd) on args and returns the process's exit code: 0, an
// ExitError's code, or usageCode for any other error (an unknown command or flag, bad
// arguments, an invalid variable), printed with a pointer to --help.
func Execute(root *cobra.Command, args []string, stdout, stderr io.Writer, usageCode int) int {
	cmd, err := Run(context.Background(), root, args, stdout, stderr)
	if err == nil {
		return 0
	}
	if cmd == nil {
		cmd = root
	}
	var exit *ExitError
	if errors.As(err, &exit) {
		if exit.Err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", cmd.CommandPath(), exit.Err)
		}
		return exit.Code
	}
	fmt.Fprintf(stderr, "%s: %v\nRun '%s --help' for usage.\n", cmd.CommandPath(), err, cmd.CommandPath())
	return usageCode
}

// Run runs root (Configure'd) on args under ctx and returns the command that ran and its
// error, printing nothing of it: for Execute, and for tests that want the error itself.
func Run(ctx context.Context, root *cobra.Command, args []string, stdout, stderr io.Writer) (*cobra.Command, error) {
	root.SetArgs(SingleDashCompat(root, args))
	root.SetOut(stdout)
	root.SetErr(stderr)
	return root.ExecuteContextC(ctx)
}

// SingleDashCompat rewrites -name and -name=value to --name... for every long flag name of
// root's command tree, as Go's flag package (which these commands used before cobra) accepted
// them: existing CronJobs and scripts keep working. Shorthands (-h, -v) are left alone, and
// nothing after "--".
func SingleDashCompat(root *cobra.Command, args []string) []string {
	long := map[string]bool{}
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		for _, fs := range []*pflag.FlagSet{c.Flags(), c.PersistentFlags()} {
			fs.VisitAll(func(f *pflag.Flag) { long[f.Name] = len(f.Name) > 1 })
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	out := make([]string, len(args))
	copy(out, args)
	for i, a := range out {
		if a == "--" {
			break
		}
		if len(a) < 3 || a[0] != '-' || a[1] == '-' {
			continue
		}
		name, _, _ := strings.Cut(a[1:], "=")
		if long[name] {
			out[i] = "-" + a
		}
	}
	return out
}
