package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestCommandLine: help, version and completion like argocd's and kubectl's; usage errors exit 2,
// a bad report flag 1 as before.
func TestCommandLine(t *testing.T) {
	for _, c := range []struct {
		args   []string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		{args: []string{"completion", "bash"}, stdout: "bash completion V2 for argocd-driftplane"},
		{args: []string{"completion", "zsh"}, stdout: "#compdef argocd-driftplane"},
		{args: []string{"version"}, stdout: "dev\ngo: go"},
		{args: []string{"version", "--short"}, stdout: "dev\n"},
		{args: []string{"--version"}, stdout: "dev\ngo: go"},
		{args: []string{"--help"}, stdout: "Available Commands:"},
		{args: []string{"generate", "--help"}, stdout: "ARGOCD_APP_NAME"},
		{args: []string{"report", "--help"}, stdout: "$DRIFTPLANE_RESYNC"},
		{args: []string{"generate", "a", "b"}, code: 2, stderr: "argocd-driftplane generate: accepts at most 1 arg"},
		{args: []string{"report", "extra"}, code: 2, stderr: `unknown command "extra"`},
		{args: []string{"report", "--bogus"}, code: 1, stderr: "argocd-driftplane report: unknown flag: --bogus"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(c.args, &stdout, &stderr)
		if code != c.code || !strings.Contains(stdout.String(), c.stdout) || !strings.Contains(stderr.String(), c.stderr) {
			t.Errorf("%q: exit %d (want %d)\nstdout %q (want %q)\nstderr %q (want %q)", c.args, code, c.code,
				stdout.String(), c.stdout, stderr.String(), c.stderr)
		}
	}
}

// TestReportFlagsFromEnvironment: report's flags can come from $DRIFTPLANE_<FLAG>, the command
// line wins, a bad value is an error naming the variable (exit 2), and the single-dash spelling
// of Go's flag package still works. The checks stop before anything is contacted.
func TestReportFlagsFromEnvironment(t *testing.T) {
	tok := tokenFile(t)
	t.Setenv("DRIFTPLANE_ARGOCD_TOKEN_FILE", tok)
	t.Setenv("DRIFTPLANE_ARGOCD_SERVER", "http://argocd-server")
	if err := runReport(context.Background(), nil, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "refusing to send the Argo CD token over plain http") {
		t.Errorf("--argocd-server from the environment: %v", err)
	}
	if err := runReport(context.Background(), []string{"--argocd-server=argocd-server"}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "want https://host") {
		t.Errorf("the command line must win: %v", err)
	}
	if err := runReport(context.Background(), []string{"-argocd-server=https://user:pw@argocd-server"}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "must not carry credentials") {
		t.Errorf("single-dash flag: %v", err)
	}
	t.Setenv("DRIFTPLANE_WORKERS", "several")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"report"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "$DRIFTPLANE_WORKERS") {
		t.Errorf("a bad variable: exit %d\n%s", code, stderr.String())
	}
	if strings.Contains(fmt.Sprint(stdout.String(), stderr.String()), plantedToken) {
		t.Error("the token was printed")
	}
}
