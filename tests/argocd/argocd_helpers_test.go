// Package argocd checks driftplane's Argo CD artifacts (health Lua, config management
// plugin) with Argo CD's own code: the Lua VM in-process, and the real argocd-cmp-server
// driven through the client the repo-server uses.
package argocd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v3/cmpserver/apiclient"
	"github.com/argoproj/argo-cd/v3/cmpserver/plugin"
	"github.com/argoproj/argo-cd/v3/common"
	"github.com/argoproj/argo-cd/v3/util/cmp"
	"github.com/argoproj/argo-cd/v3/util/lua"
	"github.com/argoproj/gitops-engine/pkg/health"
	grpc_retry "github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/retry"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/procs"
)

// runHealthLua evaluates script as if it were argocd-cm's
// resource.customizations.health.<group>_<Kind>: the override is keyed by the object's
// group/kind and goes through the same entry point the application controller calls, so
// Lua's standard libraries stay off (only resource.customizations.useOpenLibs.<group>_<Kind>
// or built-in scripts turn them on) and the returned table is JSON-decoded by Argo CD,
// including its mapping of unknown status codes to Unknown.
// gitops-engine's health.GetResourceHealth is bypassed on purpose: it would answer
// "Pending deletion" for objects with a deletionTimestamp without running the script.
func runHealthLua(t testing.TB, script string, obj *unstructured.Unstructured) (*health.HealthStatus, error) {
	t.Helper()
	overrides := lua.ResourceHealthOverrides{
		lua.GetConfigMapKey(obj.GroupVersionKind()): {HealthLua: script},
	}
	return overrides.GetResourceHealth(obj)
}

// startCMPServer runs the real argocd-cmp-server for the plugin.yaml at pluginConfigYAMLPath
// and returns its socket path. Every path that defaults to /home/argocd is moved under
// workDir, except the socket directory (see below).
func startCMPServer(t testing.TB, argocdBinary, pluginConfigYAMLPath, workDir string) (socketPath string) {
	t.Helper()
	bin, err := filepath.Abs(argocdBinary)
	if err != nil {
		t.Fatal(err)
	}
	// The argocd binary picks its component from the name it was invoked as.
	cmpServer := filepath.Join(workDir, "argocd-cmp-server")
	if err := os.Symlink(bin, cmpServer); err != nil {
		t.Fatal(err)
	}

	// --config-dir-path names a directory; the server always reads <dir>/plugin.yaml.
	configDir := filepath.Join(workDir, "config")
	data, err := os.ReadFile(pluginConfigYAMLPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(configDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(configDir, common.PluginConfigFileName), data, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := plugin.ReadPluginConfig(configDir)
	if err != nil {
		t.Fatalf("plugin config: %v", err)
	}

	// Unix socket paths are capped at 108 bytes, which t.TempDir() paths can exceed.
	sockDir, err := os.MkdirTemp("", "cmp")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(sockDir) })
	// Same rule as plugin.PluginConfig.Address, which reads the directory from this
	// process's environment and so cannot be used here.
	name := cfg.Metadata.Name
	if cfg.Spec.Version != "" {
		name += "-" + cfg.Spec.Version
	}
	socketPath = filepath.Join(sockDir, name+".sock")

	g := procs.New(t, t.TempDir())
	// The server traps SIGTERM/SIGINT only to delete its socket and keeps serving: kill it at once.
	g.Grace = 0
	// Its whole output when the test failed.
	g.TailLines = 100000
	p := g.Start("argocd-cmp-server", cmpServer, []string{
		common.EnvPluginSockFilePath + "=" + sockDir,
		common.EnvCMPWorkDir + "=" + workDir,
	}, "--config-dir-path", configDir, "--logformat", "text", "--loglevel", "debug")
	procs.WaitFor(t, 30*time.Second, "argocd-cmp-server to create "+socketPath, func() (bool, string) {
		select {
		case <-p.Exited():
			t.Fatalf("argocd-cmp-server exited before creating %s", socketPath)
		default:
		}
		_, err := os.Stat(socketPath)
		return err == nil, fmt.Sprint(err)
	})
	return socketPath
}

// cmpGenerate sends appDir to the plugin the way the repo-server does (tar.gz stream with
// retries disabled) and returns the manifests, or the plugin's error as the server
// reported it.
func cmpGenerate(t testing.TB, socketPath, appDir string, env []*apiclient.EnvEntry) (manifests []string, err error) {
	t.Helper()
	client, ctx, done := cmpClient(t, socketPath)
	defer done()
	stream, err := client.GenerateManifest(ctx, grpc_retry.Disable())
	if err != nil {
		return nil, err
	}
	if err := cmp.SendRepoStream(stream.Context(), appDir, appDir, stream, envStrings(env), nil); err != nil {
		return nil, err
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return nil, err
	}
	return resp.GetManifests(), nil
}

// cmpMatch runs the plugin's discovery rules against appDir, as the repo-server does when
// an Application does not name its plugin. discoveryEnabled is false when plugin.yaml has
// no discover section.
func cmpMatch(t testing.TB, socketPath, appDir string, env []*apiclient.EnvEntry) (supported, discoveryEnabled bool, err error) {
	t.Helper()
	client, ctx, done := cmpClient(t, socketPath)
	defer done()
	stream, err := client.MatchRepository(ctx, grpc_retry.Disable())
	if err != nil {
		return false, false, err
	}
	if err := cmp.SendRepoStream(stream.Context(), appDir, appDir, stream, envStrings(env), nil); err != nil {
		return false, false, err
	}
	resp, err := stream.CloseAndRecv()
	if err != nil {
		return false, false, err
	}
	return resp.GetIsSupported(), resp.GetIsDiscoveryEnabled(), nil
}

func cmpClient(t testing.TB, socketPath string) (apiclient.ConfigManagementPluginServiceClient, context.Context, func()) {
	t.Helper()
	conn, client, err := apiclient.NewConfigManagementPluginClientSet(socketPath).NewConfigManagementPluginClient()
	if err != nil {
		t.Fatalf("connect to %s: %v", socketPath, err)
	}
	// The server kills plugin commands at the request deadline (less 100ms).
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	return client, ctx, func() { cancel(); _ = conn.Close() }
}

// envStrings undoes the NAME=VALUE to EnvEntry conversion SendRepoStream performs.
func envStrings(env []*apiclient.EnvEntry) []string {
	out := make([]string, 0, len(env))
	for _, e := range env {
		out = append(out, e.GetName()+"="+e.GetValue())
	}
	return out
}

func TestHarnessSmoke(t *testing.T) {
	t.Run("health lua", func(t *testing.T) {
		obj := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "example.com/v1", "kind": "Widget",
			"metadata": map[string]any{"name": "w"},
		}}
		hs, err := runHealthLua(t, `hs = {status="Healthy", message="ok"} return hs`, obj)
		if err != nil {
			t.Fatal(err)
		}
		if hs == nil || hs.Status != health.HealthStatusHealthy || hs.Message != "ok" {
			t.Fatalf("got %+v, want Healthy/ok", hs)
		}
	})

	t.Run("cmp server", func(t *testing.T) {
		bin := argocdBinary(t)
		dir := t.TempDir()
		pluginYAML := filepath.Join(dir, "smoke-plugin.yaml")
		procs.WriteFile(t, pluginYAML, `apiVersion: argoproj.io/v1alpha1
kind: ConfigManagementPlugin
metadata:
  name: smoke
spec:
  version: v1
  generate:
    command: [sh, -c, 'cat *.yaml']
  discover:
    find:
      glob: "**/*.yaml"
`)
		workDir := filepath.Join(dir, "work")
		if err := os.Mkdir(workDir, 0o755); err != nil {
			t.Fatal(err)
		}
		sock := startCMPServer(t, bin, pluginYAML, workDir)
		if filepath.Base(sock) != "smoke-v1.sock" {
			t.Errorf("socket %s, want smoke-v1.sock", sock)
		}

		app := filepath.Join(dir, "app")
		procs.WriteFile(t, filepath.Join(app, "cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: smoke\ndata:\n  k: v\n")
		if ok, enabled, err := cmpMatch(t, sock, app, nil); err != nil || !ok || !enabled {
			t.Fatalf("match: supported=%v discovery=%v err=%v", ok, enabled, err)
		}
		got, err := cmpGenerate(t, sock, app, nil)
		if err != nil {
			t.Fatal(err)
		}
		// The server splits the plugin's YAML stream and returns each document as JSON.
		const want = `{"apiVersion":"v1","data":{"k":"v"},"kind":"ConfigMap","metadata":{"name":"smoke"}}`
		if len(got) != 1 || got[0] != want {
			t.Fatalf("manifests %q, want [%q]", got, want)
		}

		// No *.yaml: discovery declines and the failing generate surfaces as an error.
		other := filepath.Join(dir, "other")
		procs.WriteFile(t, filepath.Join(other, "README"), "x\n")
		if ok, _, err := cmpMatch(t, sock, other, nil); err != nil || ok {
			t.Fatalf("match without yaml: supported=%v err=%v", ok, err)
		}
		if got, err := cmpGenerate(t, sock, other, nil); err == nil {
			t.Fatalf("generate without yaml succeeded: %q", got)
		} else {
			t.Logf("expected generate error: %v", err)
		}
	})
}
