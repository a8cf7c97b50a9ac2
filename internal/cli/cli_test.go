package cli

import (
	"bytes"
	"errors"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func TestEnvName(t *testing.T) {
	if got := EnvName("DRIFTPLANE", "max-plan-bytes"); got != "DRIFTPLANE_MAX_PLAN_BYTES" {
		t.Errorf("EnvName = %q", got)
	}
}

// TestBindEnv: variables fill the flags not given; given flags win; an empty variable counts;
// repeatable flags take a comma-separated list; NoEnv flags, help and version are left alone;
// bad values are errors naming the variable.
func TestBindEnv(t *testing.T) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	name := fs.String("name", "default", "")
	ns := fs.String("namespace", "argocd", "")
	n := fs.Int("workers", 2, "")
	d := fs.Duration("resync", time.Minute, "")
	b := fs.Bool("auto-heal", false, "")
	cas := fs.StringArray("ca-file", nil, "")
	key := fs.String("digest-key-file", "", "")
	help := fs.Bool("help", false, "")
	NoEnv(fs, "digest-key-file")
	t.Setenv("T_NAME", "from-env")
	t.Setenv("T_NAMESPACE", "")
	t.Setenv("T_WORKERS", "7")
	t.Setenv("T_RESYNC", "90s")
	t.Setenv("T_AUTO_HEAL", "true")
	t.Setenv("T_CA_FILE", "a.crt,b.crt")
	t.Setenv("T_DIGEST_KEY_FILE", "/key")
	t.Setenv("T_HELP", "true")
	if err := fs.Parse([]string{"--workers", "3"}); err != nil {
		t.Fatal(err)
	}
	if err := BindEnv(fs, "T"); err != nil {
		t.Fatal(err)
	}
	if *name != "from-env" || *ns != "" || *n != 3 || *d != 90*time.Second || !*b || strings.Join(*cas, " ") != "a.crt b.crt" || *key != "" || *help {
		t.Errorf("name %q namespace %q workers %d resync %s auto-heal %v ca %q key %q help %v", *name, *ns, *n, *d, *b, *cas, *key, *help)
	}
	if !fs.Changed("name") || fs.Changed("digest-key-file") {
		t.Error("a flag set from a variable counts as given; a NoEnv one is not")
	}

	fs = pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.Int("workers", 2, "")
	fs.Bool("auto-heal", false, "")
	t.Setenv("T_WORKERS", "many")
	t.Setenv("T_AUTO_HEAL", "")
	err := BindEnv(fs, "T")
	if err == nil || !strings.Contains(err.Error(), `"many" for $T_WORKERS (--workers)`) || !strings.Contains(err.Error(), "$T_AUTO_HEAL") {
		t.Errorf("bad values: %v", err)
	}
}

func TestSingleDashCompat(t *testing.T) {
	root := &cobra.Command{Use: "x"}
	sub := &cobra.Command{Use: "scan", Run: func(*cobra.Command, []string) {}}
	sub.Flags().String("registry", "", "")
	sub.Flags().BoolP("quiet", "q", false, "")
	root.PersistentFlags().Bool("debug", false, "")
	root.AddCommand(sub)
	got := SingleDashCompat(root, []string{"scan", "-registry", "r", "-registry=r", "--registry", "-q", "-debug", "-unknown", "-", "--", "-registry"})
	want := []string{"scan", "--registry", "r", "--registry=r", "--registry", "-q", "--debug", "-unknown", "-", "--", "-registry"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestExecute: exit codes (0, ExitError's, usageCode) and errors printed once with the
// command's path; variables bound before the command runs.
func TestExecute(t *testing.T) {
	var got string
	newRoot := func() *cobra.Command {
		root := &cobra.Command{Use: "prog"}
		sub := &cobra.Command{Use: "do", Args: cobra.NoArgs, RunE: func(cmd *cobra.Command, _ []string) error {
			switch got, _ = cmd.Flags().GetString("mode"); got {
			case "fail":
				return Fail(3, errors.New("it broke"))
			case "quiet":
				return Exit(5)
			}
			return Exit(0)
		}}
		sub.Flags().String("mode", "ok", "how to end")
		root.AddCommand(sub)
		Configure(root, "v1.2.3")
		return root
	}
	for _, c := range []struct {
		args       []string
		env        string
		code       int
		out, err   string
		mode       string
		errorEmpty bool
	}{
		{args: []string{"do"}, mode: "ok", errorEmpty: true},
		{args: []string{"do"}, env: "quiet", code: 5, mode: "quiet", errorEmpty: true},
		{args: []string{"do", "--mode=ok"}, env: "fail", mode: "ok", errorEmpty: true},
		{args: []string{"do", "--mode", "fail"}, code: 3, mode: "fail", err: "prog do: it broke\n"},
		{args: []string{"do", "--nope"}, code: 64, err: "prog do: unknown flag: --nope\nRun 'prog do --help' for usage.\n"},
		{args: []string{"do", "arg"}, code: 64, err: `unknown command "arg" for "prog do"`},
		{args: []string{"nope"}, code: 64, err: `prog: unknown command "nope" for "prog"`},
		{args: []string{"version", "--short"}, out: "v1.2.3\n", errorEmpty: true},
		{args: []string{"--version"}, out: "v1.2.3\ngo: ", errorEmpty: true},
		{args: []string{"do", "--help"}, out: "how to end [$DRIFTPLANE_MODE]", errorEmpty: true},
	} {
		t.Setenv("DRIFTPLANE_MODE", c.env)
		if c.env == "" {
			t.Setenv("DRIFTPLANE_MODE", "ok")
		}
		got = ""
		var stdout, stderr bytes.Buffer
		code := Execute(newRoot(), c.args, &stdout, &stderr, 64)
		if code != c.code || !strings.Contains(stdout.String(), c.out) || !strings.Contains(stderr.String(), c.err) ||
			(c.errorEmpty && stderr.Len() != 0) || got != c.mode {
			t.Errorf("%q: exit %d (want %d) mode %q (want %q)\nstdout %q\nstderr %q", c.args, code, c.code, got, c.mode, stdout.String(), stderr.String())
		}
	}
}

func TestVersionText(t *testing.T) {
	bi := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"}}}
	got := versionText("v0.3.0", bi, true)
	if !strings.HasPrefix(got, "v0.3.0\ncommit: 0123abcd (2026-01-02T03:04:05Z) modified\ngo: go") {
		t.Errorf("%q", got)
	}
	if got := versionText("dev", &debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"}}, true); !strings.HasPrefix(got, "v0.4.0\ngo: ") {
		t.Errorf("go install'd: %q", got)
	}
	if got := versionText("dev", nil, false); !strings.HasPrefix(got, "dev\ngo: ") {
		t.Errorf("no build info: %q", got)
	}
}
