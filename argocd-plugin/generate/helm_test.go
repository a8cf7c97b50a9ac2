package generate

import (
	"os"
	"path/filepath"
	"testing"
)

// TestMain lets this test binary stand in for helm when kustomize calls it, as the plugin's own
// binary does (kustomizeApp points kustomize at a symlink to os.Executable()).
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == HelmShimName {
		os.Exit(RunHelmShim(os.Args[0], os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestHelmQuick(t *testing.T) {
	env := map[string]string{
		EnvAppName: "argocd_web", EnvAppNamespace: "shop", EnvAppSourcePath: "apps/web",
		EnvKubeVersion: "1.31.2", EnvKubeAPIVersions: "apps/v1,v1,autoscaling/v2",
		EnvAppParameters: `[{"name":"values-files","array":["values-prod.yaml","/envs/prod.yaml"]},{"name":"set","map":{"image.tag":"2.8.0","config.extra":"a,b"}}]`,
	}
	out, err := Generate("testdata/helmrepo/apps/web", Options{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", out)
}
