package manifests_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/driftplane/terraform-provider-drift/internal/testenv/kubetest"
)

// buildWith renders the stock install with base and the given components (folders of this
// package), plus extra patches of argocd-server written into the kustomization's folder.
func buildWith(t *testing.T, components []string, extraPatches ...string) []*unstructured.Unstructured {
	t.Helper()
	dir := t.TempDir()
	install, err := os.ReadFile(stockInstall(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "install.yaml"), install, 0o600); err != nil {
		t.Fatal(err)
	}
	var rel []string
	for _, c := range components {
		abs, _ := filepath.Abs(c)
		r, err := filepath.Rel(dir, abs) // kustomize refuses absolute component paths
		if err != nil {
			t.Fatal(err)
		}
		rel = append(rel, r)
	}
	k := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: argocd\nresources: [install.yaml]\ncomponents: [" + strings.Join(rel, ", ") + "]\n"
	for i, p := range extraPatches {
		name := "patch" + string(rune('a'+i)) + ".yaml"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(p), 0o600); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			k += "patches:\n"
		}
		k += "- path: " + name + "\n"
	}
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = types.LoadRestrictionsNone
	rm, err := krusty.MakeKustomizer(opts).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build: %v", err)
	}
	var objs []*unstructured.Unstructured
	for _, r := range rm.Resources() {
		js, err := r.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(js); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, u)
	}
	return objs
}

func namedList(t *testing.T, obj map[string]any, key string, path ...string) map[string]map[string]any {
	t.Helper()
	items, _, err := unstructured.NestedSlice(obj, path...)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, it := range items {
		m := it.(map[string]any)
		out[m[key].(string)] = m
	}
	return out
}

func envOf(c map[string]any) map[string]string {
	out := map[string]string{}
	env, _, _ := unstructured.NestedSlice(c, "env")
	for _, e := range env {
		m := e.(map[string]any)
		v, _ := m["value"].(string)
		out[m["name"].(string)] = v
	}
	return out
}

// TestUIExtensionComponent: the ui component adds argocd-extension-installer to argocd-server,
// pointed at the tarball and checksum file `node build.mjs` (argocd-plugin/ui) writes for the
// release the base installs, unpacking into the `extensions` volume argocd-server reads
// /tmp/extensions from, and changes nothing else of the stock install.
func TestUIExtensionComponent(t *testing.T) {
	plain := buildWith(t, []string{"base"})
	objs := buildWith(t, []string{"base", "ui"})
	if len(objs) != len(plain) {
		t.Errorf("the ui component adds or drops objects: %d, without it %d", len(objs), len(plain))
	}
	server := find(objs, "Deployment", "argocd-server")
	if server == nil {
		t.Fatal("no argocd-server")
	}
	spec := []string{"spec", "template", "spec"}
	inits := namedList(t, server.Object, "name", append(spec, "initContainers")...)
	inst := inits["driftplane-ui-extension"]
	if inst == nil {
		t.Fatalf("no installer init container: %v", inits)
	}
	if img, _ := inst["image"].(string); !strings.HasPrefix(img, "quay.io/argoprojlabs/argocd-extension-installer:v") {
		t.Errorf("installer image %q", inst["image"])
	}
	env := envOf(inst)
	// The release version is the one the base's driftplane images carry.
	repo := find(objs, "Deployment", "argocd-repo-server")
	containers := namedList(t, repo.Object, "name", append(spec, "containers")...)
	image, _ := containers["driftplane"]["image"].(string)
	version := image[strings.LastIndex(image, ":")+1:]
	if env["EXTENSION_VERSION"] != version {
		t.Errorf("EXTENSION_VERSION %q, the base installs %q", env["EXTENSION_VERSION"], version)
	}
	build, err := os.ReadFile("../ui/build.mjs")
	if err != nil {
		t.Fatal(err)
	}
	tarball := regexp.MustCompile(`TARBALL = 'dist/([^']+)'`).FindSubmatch(build)
	if tarball == nil {
		t.Fatal("build.mjs names no TARBALL")
	}
	want := "/releases/download/" + version + "/" + string(tarball[1])
	if !strings.HasPrefix(env["EXTENSION_URL"], "https://") || !strings.HasSuffix(env["EXTENSION_URL"], want) {
		t.Errorf("EXTENSION_URL %q, want https://…%s", env["EXTENSION_URL"], want)
	}
	sums := strings.TrimSuffix(env["EXTENSION_URL"], ".tar") + "_checksums.txt"
	if env["EXTENSION_CHECKSUM_URL"] != sums || !strings.Contains(string(build), "_checksums.txt") {
		t.Errorf("EXTENSION_CHECKSUM_URL %q, want %q (the file build.mjs writes)", env["EXTENSION_CHECKSUM_URL"], sums)
	}
	if env["EXTENSION_NAME"] == "" {
		t.Error("no EXTENSION_NAME")
	}
	mounts := namedList(t, inst, "mountPath", "volumeMounts")
	// "/tmp/extensions/", spelled as Argo CD's docs spell it, so the mounts of other extensions'
	// patches merge with this one instead of mounting the volume twice.
	if mounts["/tmp/extensions/"]["name"] != "extensions" || mounts["/tmp"]["name"] != "tmp" {
		t.Errorf("installer mounts %v", mounts)
	}
	if ro, _, _ := unstructured.NestedBool(inst, "securityContext", "readOnlyRootFilesystem"); !ro {
		t.Error("installer root filesystem is writable")
	}
	if nonRoot, _, _ := unstructured.NestedBool(inst, "securityContext", "runAsNonRoot"); !nonRoot {
		t.Error("installer may run as root")
	}
	serverContainers := namedList(t, server.Object, "name", append(spec, "containers")...)
	smounts := namedList(t, serverContainers["argocd-server"], "mountPath", "volumeMounts")
	if smounts["/tmp/extensions/"]["name"] != "extensions" || smounts["/tmp"]["name"] != "tmp" {
		t.Errorf("argocd-server mounts %v", smounts)
	}
	volumes := namedList(t, server.Object, "name", append(spec, "volumes")...)
	if _, ok := volumes["extensions"]["emptyDir"]; !ok {
		t.Errorf("extensions volume %v", volumes["extensions"])
	}
	plainServer := find(plain, "Deployment", "argocd-server")
	for name := range namedList(t, plainServer.Object, "name", append(spec, "volumes")...) {
		if volumes[name] == nil {
			t.Errorf("the stock volume %s is gone", name)
		}
	}
	for _, o := range objs {
		if o.GetKind() == "Deployment" && o.GetName() == "argocd-server" {
			continue
		}
		p := find(plain, o.GetKind(), o.GetName())
		if p == nil {
			t.Errorf("%s %s only with the ui component", o.GetKind(), o.GetName())
			continue
		}
		a, _ := o.MarshalJSON()
		b, _ := p.MarshalJSON()
		if string(a) != string(b) {
			t.Errorf("the ui component changes %s %s", o.GetKind(), o.GetName())
		}
	}
}

// TestUIExtensionBesideAnotherExtension: an extension installed as Argo CD's docs show (its own
// installer mounting the `extensions` volume) shares the one volume with the Drift view.
func TestUIExtensionBesideAnotherExtension(t *testing.T) {
	other := `apiVersion: apps/v1
kind: Deployment
metadata: {name: argocd-server}
spec:
  template:
    spec:
      initContainers:
      - name: extension-metrics
        image: quay.io/argoprojlabs/argocd-extension-installer:v0.0.9
        env: [{name: EXTENSION_URL, value: "https://example.com/extension.tar.gz"}]
        volumeMounts: [{name: extensions, mountPath: /tmp/extensions/}]
      containers:
      - name: argocd-server
        volumeMounts: [{name: extensions, mountPath: /tmp/extensions/}]
      volumes:
      - name: extensions
        emptyDir: {}
`
	objs := buildWith(t, []string{"base", "ui"}, other)
	server := find(objs, "Deployment", "argocd-server")
	spec := []string{"spec", "template", "spec"}
	inits := namedList(t, server.Object, "name", append(spec, "initContainers")...)
	if inits["extension-metrics"] == nil || inits["driftplane-ui-extension"] == nil {
		t.Errorf("init containers %v", inits)
	}
	vols, _, _ := unstructured.NestedSlice(server.Object, append(spec, "volumes")...)
	n := 0
	for _, v := range vols {
		if v.(map[string]any)["name"] == "extensions" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d volumes named extensions", n)
	}
	for _, ctr := range []map[string]any{inits["driftplane-ui-extension"], namedList(t, server.Object, "name", append(spec, "containers")...)["argocd-server"]} {
		ms, _, _ := unstructured.NestedSlice(ctr, "volumeMounts")
		k := 0
		for _, m := range ms {
			if m.(map[string]any)["name"] == "extensions" {
				k++
			}
		}
		if k != 1 {
			t.Errorf("%s mounts the extensions volume %d times: %v", ctr["name"], k, ms)
		}
	}
	c := kubetest.Start(t)
	dryRunServer(t, c, server)
}

// TestUIExtensionAcceptedByAPIServer: argocd-server with the installer passes server-side
// dry-run on a real kube-apiserver (the Deployment with its init container, mounts and volumes).
func TestUIExtensionAcceptedByAPIServer(t *testing.T) {
	c := kubetest.Start(t)
	dryRunServer(t, c, find(buildWith(t, []string{"base", "ui"}), "Deployment", "argocd-server"))
}

func dryRunServer(t *testing.T, c *kubetest.Cluster, server *unstructured.Unstructured) {
	t.Helper()
	dyn, err := dynamic.NewForConfig(c.RESTConfig("admin", "system:masters"))
	if err != nil {
		t.Fatal(err)
	}
	c.KubectlAs("admin", []string{"system:masters"}, "create", "namespace", "argocd")
	gvr := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	_, err = dyn.Resource(gvr).Namespace("argocd").Apply(context.Background(), server.GetName(), server,
		metav1.ApplyOptions{FieldManager: "install-test", Force: true, DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		t.Errorf("argocd-server with the Drift view rejected: %v", err)
	}
}
