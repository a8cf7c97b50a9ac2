package main

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/drift/digestkey"
	"github.com/driftplane/terraform-provider-drift/internal/scan"
)

// TestCommandLine: help, version and completion like kubectl's, and usage errors exit 64.
func TestCommandLine(t *testing.T) {
	for _, c := range []struct {
		args       []string
		code       int
		stdout     string // substring
		stderr     string // substring
		stdoutNone bool
	}{
		{args: []string{"completion", "bash"}, stdout: "bash completion V2 for driftplane"},
		{args: []string{"completion", "zsh"}, stdout: "#compdef driftplane"},
		{args: []string{"completion", "fish"}, stdout: "complete -c driftplane"},
		{args: []string{"completion", "powershell"}, stdout: "Register-ArgumentCompleter"},
		{args: []string{"version"}, stdout: "dev\ngo: go"},
		{args: []string{"version", "--short"}, stdout: "dev\n"},
		{args: []string{"--version"}, stdout: "dev\ngo: go"},
		{args: []string{"--help"}, stdout: "Available Commands:"},
		{args: []string{"scan", "--help"}, stdout: "Exit codes: 0 no blocking drift"},
		{args: []string{"help", "scan"}, stdout: "$DRIFTPLANE_PARALLEL"},
		{args: nil, code: 64, stderr: "usage: driftplane scan --registry DIR", stdoutNone: true},
		{args: []string{"frobnicate"}, code: 64, stderr: `unknown command "frobnicate"`, stdoutNone: true},
		{args: []string{"scan", "--bogus"}, code: 64, stderr: "driftplane scan: unknown flag: --bogus", stdoutNone: true},
		{args: []string{"scan", "--parallel", "many"}, code: 64, stderr: "--parallel", stdoutNone: true},
		{args: []string{"scan"}, code: 64, stderr: "driftplane scan: --registry is required", stdoutNone: true},
		{args: []string{"scan", "--registry", "r", "extra"}, code: 64, stderr: "extra", stdoutNone: true},
		{args: []string{"scan", "--registry", "r", "--shard", "4/4"}, code: 64, stderr: "want INDEX/COUNT", stdoutNone: true},
	} {
		var stdout, stderr bytes.Buffer
		code := run(c.args, &stdout, &stderr)
		if code != c.code || !strings.Contains(stdout.String(), c.stdout) || !strings.Contains(stderr.String(), c.stderr) ||
			(c.stdoutNone && stdout.Len() != 0) {
			t.Errorf("%q: exit %d (want %d)\nstdout %q (want %q)\nstderr %q (want %q)", c.args, code, c.code,
				stdout.String(), c.stdout, stderr.String(), c.stderr)
		}
	}
	// Completion knows the subcommands and --format's values.
	var stdout bytes.Buffer
	run([]string{"__complete", "scan", "--format", ""}, &stdout, &bytes.Buffer{})
	for _, f := range []string{"text", "json", "markdown", "sarif"} {
		if !strings.Contains(stdout.String(), f+"\n") {
			t.Errorf("--format completion %q lacks %s", stdout.String(), f)
		}
	}
}

// TestFlagsFromEnvironment: every scan flag can come from $DRIFTPLANE_<FLAG>; the command line
// wins; a bad value is a usage error naming the variable; the old single-dash spelling still
// works; $DRIFTPLANE_DIGEST_KEY_FILE keeps its meaning in the digest key chain.
func TestFlagsFromEnvironment(t *testing.T) {
	t.Setenv("FAKE_PLAN", cleanPlan(t))
	registry, tofu := oneUnitRegistry(t), fakeTofu(t)
	t.Setenv("DRIFTPLANE_REGISTRY", registry)
	t.Setenv("DRIFTPLANE_TOFU", tofu)
	t.Setenv("DRIFTPLANE_FORMAT", "json")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"scan"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	var results []scan.Result
	if err := json.Unmarshal(stdout.Bytes(), &results); err != nil || len(results) != 1 || results[0].Unit != "app" {
		t.Errorf("the flags did not come from the environment (%v):\n%s", err, stdout.String())
	}

	stdout.Reset()
	if code := run([]string{"scan", "--format", "markdown"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "| app | clean |") {
		t.Errorf("the command line must beat the environment: exit %d\n%s", code, stdout.String())
	}

	stdout.Reset()
	if code := run([]string{"scan", "-format=markdown", "-parallel", "3"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "| app | clean |") {
		t.Errorf("single-dash flags: exit %d\n%s", code, stdout.String())
	}

	stderr.Reset()
	t.Setenv("DRIFTPLANE_TIMEOUT", "soon")
	if code := run([]string{"scan"}, &stdout, &stderr); code != 64 || !strings.Contains(stderr.String(), "$DRIFTPLANE_TIMEOUT") {
		t.Errorf("a bad variable: exit %d\n%s", code, stderr.String())
	}
	if code := run([]string{"scan", "--timeout", "1m"}, &stdout, &stderr); code != 0 {
		t.Errorf("the flag given, a bad variable for it does not matter: exit %d\n%s", code, stderr.String())
	}
	t.Setenv("DRIFTPLANE_TIMEOUT", "1m")

	// $DRIFTPLANE_DIGEST_KEY beats $DRIFTPLANE_DIGEST_KEY_FILE (the digest key chain), where
	// --digest-key-file would beat both: the variable must not set the flag.
	stderr.Reset()
	t.Setenv(digestkey.EnvFile, filepath.Join(t.TempDir(), "key"))
	t.Setenv(digestkey.EnvKey, "a-key-from-the-environment-0123")
	if code := run([]string{"scan"}, &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), "key from $"+digestkey.EnvKey) {
		t.Errorf("exit %d\n%s", code, stderr.String())
	}
}
