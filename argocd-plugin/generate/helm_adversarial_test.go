package generate

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hostileRepo lays out <top>/repo/apps/web (a chart) beside <top>/outside/secret.yaml, a values
// file holding a marker that must never reach the output or an error message, and returns top.
func hostileRepo(t *testing.T) string {
	t.Helper()
	top := t.TempDir()
	writeFiles(t, top, map[string]string{
		"outside/secret.yaml":                 "leak: TOPSECRET\n",
		"repo/apps/web/Chart.yaml":            "apiVersion: v2\nname: web\nversion: 0.1.0\n",
		"repo/apps/web/values.yaml":           "leak: none\n",
		"repo/apps/web/templates/cm.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata:\n  leak: {{ .Values.leak | quote }}\n  files: {{ .Files.Get \"files/data.txt\" | quote }}\n",
		"repo/apps/web/.drift/unit.yaml":      unitYAML,
		"repo/envs/ok.yaml":                   "leak: fine\n",
		"repo/apps/web/files/placeholder.txt": "",
	})
	return top
}

func hostileParams(t *testing.T, params ...map[string]any) string {
	t.Helper()
	b, err := json.Marshal(params)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHelmHostilePaths: every way a values file, a --set-file path, a symlink in the chart or the
// application's source path could make generate read outside the repository fails closed:
// an error, no output, and the outside file's content nowhere.
func TestHelmHostilePaths(t *testing.T) {
	valuesFiles := func(files ...string) map[string]any {
		return map[string]any{"name": ParamValuesFiles, "array": files}
	}
	for _, tc := range []struct {
		name   string
		params []map[string]any
		env    map[string]string
		setup  func(t *testing.T, top string)
		want   string
	}{
		{name: "relative escape", params: []map[string]any{valuesFiles("../../../outside/secret.yaml")}, want: "resolves outside the repository root"},
		{name: "deep relative escape", params: []map[string]any{valuesFiles("../../../../../../../../etc/passwd")}, want: "resolves outside the repository root"},
		{name: "escape hidden in the middle", params: []map[string]any{valuesFiles("templates/../../../../outside/secret.yaml")}, want: "resolves outside the repository root"},
		{name: "absolute path is the repository's", params: []map[string]any{valuesFiles("/etc/passwd")}, want: "no such file in the repository"},
		{name: "absolute path to the outside file", params: []map[string]any{valuesFiles("/../outside/secret.yaml")}, want: "resolves outside the repository root"},
		{name: "remote values file", params: []map[string]any{valuesFiles("https://evil.example.com/values.yaml")}, want: "remote files are not fetched"},
		{name: "file URL", params: []map[string]any{valuesFiles("file:///etc/passwd")}, want: "remote files are not fetched"},
		{
			name:   "symlinked values file",
			params: []map[string]any{valuesFiles("link.yaml")},
			setup: func(t *testing.T, top string) {
				symlink(t, filepath.Join(top, "outside/secret.yaml"), filepath.Join(top, "repo/apps/web/link.yaml"))
			},
			want: "escapes",
		},
		{
			name:   "symlinked folder on the way",
			params: []map[string]any{valuesFiles("out/secret.yaml")},
			setup: func(t *testing.T, top string) {
				symlink(t, filepath.Join(top, "outside"), filepath.Join(top, "repo/apps/web/out"))
			},
			want: "escapes",
		},
		{
			name:   "ignore-missing-value-files does not ignore an escape",
			params: []map[string]any{valuesFiles("../../../outside/secret.yaml"), {"name": ParamIgnoreMissingValueFiles, "string": "true"}},
			want:   "resolves outside the repository root",
		},
		{
			name:   "set-file escape",
			params: []map[string]any{{"name": ParamSetFile, "map": map[string]string{"leak": "../../../outside/secret.yaml"}}},
			want:   "resolves outside the repository root",
		},
		{
			name:   "set-file through a symlink",
			params: []map[string]any{{"name": ParamSetFile, "map": map[string]string{"leak": "/envs/link"}}},
			setup: func(t *testing.T, top string) {
				symlink(t, filepath.Join(top, "outside/secret.yaml"), filepath.Join(top, "repo/envs/link"))
			},
			want: "escapes",
		},
		{
			name: "chart file symlinked outside (.Files.Get)",
			setup: func(t *testing.T, top string) {
				symlink(t, filepath.Join(top, "outside/secret.yaml"), filepath.Join(top, "repo/apps/web/files/data.txt"))
			},
			want: "points outside the repository root",
		},
		{
			name: "chart template folder symlinked outside",
			setup: func(t *testing.T, top string) {
				symlink(t, filepath.Join(top, "outside"), filepath.Join(top, "repo/apps/web/templates/more"))
			},
			want: "points outside the repository root",
		},
		{
			name: "symlink loop in the chart",
			setup: func(t *testing.T, top string) {
				symlink(t, filepath.Join(top, "repo/apps/web"), filepath.Join(top, "repo/apps/web/files/loop"))
			},
			want: "loops back",
		},
		{
			name:   "source path claiming more than the app folder",
			params: []map[string]any{valuesFiles("../../outside/secret.yaml")},
			env:    map[string]string{EnvAppSourcePath: "../../repo/apps/web"},
			want:   "resolves outside the repository root",
		},
		{
			name:   "source path that is not the folder's suffix",
			params: []map[string]any{valuesFiles("../../envs/ok.yaml")},
			env:    map[string]string{EnvAppSourcePath: "other/web"},
			want:   "resolves outside the repository root",
		},
		{
			name:   "absolute source path",
			params: []map[string]any{valuesFiles("../../../outside/secret.yaml")},
			env:    map[string]string{EnvAppSourcePath: "/"},
			want:   "resolves outside the repository root",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			top := hostileRepo(t)
			if tc.setup != nil {
				tc.setup(t, top)
			}
			env := map[string]string{EnvAppName: "web", EnvAppSourcePath: "apps/web"}
			for k, v := range tc.env {
				env[k] = v
			}
			if tc.params != nil {
				env[EnvAppParameters] = hostileParams(t, tc.params...)
			}
			out, err := Generate(filepath.Join(top, "repo/apps/web"), Options{Env: env})
			if err == nil || out != nil {
				t.Fatalf("generate read past the repository: %s", out)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "TOPSECRET") {
				t.Errorf("error shows the outside file: %v", err)
			}
		})
	}
}

// TestHelmHostilePathsControl: the same layout renders, and the repository-relative forms the
// hostile cases abuse work when they stay inside (so the refusals above are about escaping).
func TestHelmHostilePathsControl(t *testing.T) {
	top := hostileRepo(t)
	// Relative, as git stores them: os.Root treats an absolute symlink as leaving the root.
	symlink(t, "../../envs/ok.yaml", filepath.Join(top, "repo/apps/web/inside-link.yaml"))
	for _, f := range []string{"../../envs/ok.yaml", "/envs/ok.yaml", "inside-link.yaml"} {
		env := map[string]string{EnvAppName: "web", EnvAppSourcePath: "apps/web",
			EnvAppParameters: hostileParams(t, map[string]any{"name": ParamValuesFiles, "array": []string{f}})}
		out, err := Generate(filepath.Join(top, "repo/apps/web"), Options{Env: env})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !strings.Contains(string(out), `leak: "fine"`) {
			t.Errorf("%s: values not applied:\n%s", f, out)
		}
	}
	// Missing files are skipped only when asked.
	env := map[string]string{EnvAppName: "web", EnvAppSourcePath: "apps/web",
		EnvAppParameters: hostileParams(t, map[string]any{"name": ParamValuesFiles, "array": []string{"missing.yaml"}})}
	if _, err := Generate(filepath.Join(top, "repo/apps/web"), Options{Env: env}); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing values file: %v", err)
	}
	env[EnvAppParameters] = hostileParams(t, map[string]any{"name": ParamValuesFiles, "array": []string{"missing.yaml"}},
		map[string]any{"name": ParamIgnoreMissingValueFiles, "string": "true"})
	if _, err := Generate(filepath.Join(top, "repo/apps/web"), Options{Env: env}); err != nil {
		t.Errorf("ignore-missing-value-files: %v", err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}
