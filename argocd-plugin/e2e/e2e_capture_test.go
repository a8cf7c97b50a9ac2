package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/kubetest"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/procs"
	"github.com/driftplane/terraform-provider-drift/internal/testenv/testtools"
)

// EnvCaptureDir names the folder captureForUI writes Argo CD's answers to; the Drift UI
// extension's tests (argocd-plugin/ui/testdata/e2e) replay them. Unset, nothing is captured.
const EnvCaptureDir = "DRIFTPLANE_E2E_CAPTURE"

// captureForUI records what the Drift tab reads from argocd-server, as argocd-server answers it:
// the Application, its resource tree, its managed resources and the live DriftReport through
// the resource endpoint. By the end of the test the drift has been accepted and healed, so new
// drift is made first (alice edits the image, which the live exception accepts, and an
// environment variable, which nothing accepts) and the answers are taken once the reporter has
// classified it. It runs only when EnvCaptureDir is set, so the test proper is unchanged.
func captureForUI(t *testing.T, c *kubetest.Cluster, serverURL, token string) {
	t.Helper()
	dir := os.Getenv(EnvCaptureDir)
	if dir == "" {
		return
	}
	if !filepath.IsAbs(dir) {
		// Relative to the repository, not to this package's folder where go test runs.
		dir = filepath.Join(testtools.Root(), dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	c.KubectlAs("alice", nil, "-n", "web", "set", "image", "deployment/web", "app=registry.example.com/web:1.2-hotfix")
	c.KubectlAs("alice", nil, "-n", "web", "set", "env", "deployment/web", "LOG_LEVEL=debug")

	reportPath := "/api/v1/applications/" + appName + "/resource?" + url.Values{
		"name": {appName}, "appNamespace": {argoNS}, "namespace": {"web"}, "resourceName": {appName},
		"version": {"v1alpha1"}, "kind": {"DriftReport"}, "group": {"drift.driftplane.io"},
	}.Encode()
	var report []byte
	procs.WaitFor(t, 2*time.Minute, "the reporter to classify alice's image and env changes", func() (bool, string) {
		report = argoGet(t, serverURL, token, reportPath)
		var answer struct{ Manifest string }
		if err := json.Unmarshal(report, &answer); err != nil {
			return false, err.Error()
		}
		var dr struct {
			Status struct {
				Findings []struct {
					Actor         string   `json:"actor"`
					ChangedFields []string `json:"changed_fields"`
				}
			}
		}
		if err := json.Unmarshal([]byte(answer.Manifest), &dr); err != nil {
			return false, err.Error()
		}
		for _, f := range dr.Status.Findings {
			if f.Actor == "alice" && strings.Contains(strings.Join(f.ChangedFields, " "), "/env") {
				return true, ""
			}
		}
		return false, fmt.Sprintf("%+v", dr.Status.Findings)
	})
	files := map[string][]byte{
		"driftreport-resource.json": report,
		"application.json":          argoGet(t, serverURL, token, "/api/v1/applications/"+appName),
		"resource-tree.json":        argoGet(t, serverURL, token, "/api/v1/applications/"+appName+"/resource-tree"),
		"managed-resources.json":    argoGet(t, serverURL, token, "/api/v1/applications/"+appName+"/managed-resources"),
	}
	for name, body := range files {
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, body, "", "  "); err != nil {
			t.Fatalf("%s: argocd-server's answer is not JSON: %v", name, err)
		}
		pretty.WriteByte('\n')
		if err := os.WriteFile(filepath.Join(dir, name), pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("captured argocd-server's answers for the UI extension into %s", dir)
}

func argoGet(t *testing.T, serverURL, token, path string) []byte {
	t.Helper()
	req := must(http.NewRequest(http.MethodGet, serverURL+path, nil))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s: %s", path, resp.Status, body)
	}
	return body
}
