// Package argodiff runs Argo CD's own diff (gitops-engine pkg/diff) over the k8s-diff corpora:
// the project's own config/live pairs, recorded from its real kube-apiserver harness by
// `make corpus` and committed under testdata/corpus, always; and gitops-engine's diff test
// objects in ../shared/corpus in addition, when present. It is a separate module so Argo CD's
// dependency tree stays out of the product's go.mod.
package argodiff

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/argoproj/gitops-engine/pkg/diff"
	"github.com/argoproj/gitops-engine/pkg/diff/testdata"
	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/managedfields"
	openapiproto "k8s.io/kube-openapi/pkg/util/proto"
	"sigs.k8s.io/yaml"
)

// corpora are the k8s-diff corpora; a pair's name is the corpus name, a slash and the pair's.
var corpora = []corpus{
	{name: "recorded", dir: filepath.Join("..", "..", "testdata", "corpus", "k8s-diff"), required: true},
	{name: "gitops-engine", dir: filepath.Join("..", "..", "..", "shared", "corpus", "k8s-diff"), irregular: irregularPairs},
}

type corpus struct {
	name, dir string
	// required: the corpus is part of the repository (recorded by `make corpus`); the others run
	// when present.
	required  bool
	irregular []pair
}

// irregularPairs are the gitops-engine corpus files whose names do not follow <name>-config /
// <name>-live; the pairing is the one gitops-engine's own diff_test.go uses.
var irregularPairs = []pair{
	{"smd-service-2-ports", "smd-service-config-2-ports.yaml", "smd-service-live.yaml"},
	{"smd-service-same-ports", "smd-service-config-ports.yaml", "smd-service-live.yaml"},
	{"smd-service-with-type", "smd-service-config.yaml", "smd-service-live-with-type.yaml"},
	{"ssd-svc-no-label", "ssd-svc-no-label-config.yaml", "ssd-svc-label-live.yaml"},
}

type pair struct{ name, config, live string }

type loadedPair struct {
	pair
	config, live *unstructured.Unstructured
}

// corpusPairs pairs every config with its live object in every corpus present and fails on a
// file left unpaired, so objects added to a corpus are not silently skipped. The recorded
// corpus must be there; an absent extra corpus is logged and left out.
func corpusPairs(t testing.TB) []loadedPair {
	t.Helper()
	var out []loadedPair
	for _, c := range corpora {
		entries, err := os.ReadDir(c.dir)
		if os.IsNotExist(err) && !c.required {
			t.Logf("extra corpus %s is absent: only the others run", c.dir)
			continue
		}
		if err != nil {
			t.Fatalf("corpus %s: %v (the recorded corpus is committed; `make corpus` records it again)", c.name, err)
		}
		pairs := c.pairs(t, entries)
		if len(pairs) == 0 {
			t.Fatalf("corpus %s (%s) holds no pair", c.name, c.dir)
		}
		out = append(out, pairs...)
	}
	return out
}

// -predicted-live files are server-side dry-run results, not inputs of a plain diff.
func (c corpus) pairs(t testing.TB, entries []os.DirEntry) []loadedPair {
	t.Helper()
	files := map[string]bool{}
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if (ext == ".json" || ext == ".yaml") && !strings.HasSuffix(strings.TrimSuffix(e.Name(), ext), "-predicted-live") {
			files[e.Name()] = false
		}
	}
	pairs := append([]pair(nil), c.irregular...)
	for f := range files {
		base, ok := strings.CutSuffix(strings.TrimSuffix(f, filepath.Ext(f)), "-config")
		if !ok {
			continue
		}
		for _, ext := range []string{".json", ".yaml"} {
			if _, ok := files[base+"-live"+ext]; ok {
				pairs = append(pairs, pair{base, f, base + "-live" + ext})
			}
		}
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].name < pairs[j].name })

	out := make([]loadedPair, 0, len(pairs))
	for _, p := range pairs {
		files[p.config], files[p.live] = true, true
		named := p
		named.name = c.name + "/" + p.name
		out = append(out, loadedPair{named, load(t, c.dir, p.config), load(t, c.dir, p.live)})
	}
	for f, used := range files {
		if !used {
			t.Errorf("corpus file %s is not in any config/live pair", filepath.Join(c.dir, f))
		}
	}
	return out
}

func load(t testing.TB, dir, name string) *unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	// Through JSON so integers decode as int64, as they do from the API server.
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	un := &unstructured.Unstructured{}
	if err := un.UnmarshalJSON(j); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return un
}

// The app controller always passes the cluster's GVK parser. It matters only for
// configs with the ServerSideApply=true sync option (structured merge diff): without
// one gitops-engine falls back to a schema-less type (atomic lists, no defaults).
// gitops-engine ships an OpenAPI v2 document captured from a real cluster.
var gvkParser = sync.OnceValues(func() (*managedfields.GvkParser, error) {
	doc := &openapi_v2.Document{}
	if err := proto.Unmarshal(testdata.OpenAPIV2Doc, doc); err != nil {
		return nil, err
	}
	models, err := openapiproto.NewOpenAPIData(doc)
	if err != nil {
		return nil, err
	}
	return managedfields.NewGVKParser(models, false)
})

// argoOptions mirror argo-cd v3.2 controller/state.go + util/argo/diff.StateDiffs for
// an app with default settings: no ignoreDifferences (no-op normalizer),
// resource.compareoptions.ignoreAggregatedRoles defaulting to false, no server-side
// diff, structured merge diff only when the config asks for it.
func argoOptions(t testing.TB) []diff.Option {
	t.Helper()
	p, err := gvkParser()
	if err != nil {
		t.Fatalf("GVK parser: %v", err)
	}
	return []diff.Option{
		diff.IgnoreAggregatedRoles(false),
		diff.WithGVKParser(p),
		diff.WithManager("argocd-controller"), // common.ArgoCDSSAManager
	}
}

func argoModified(t testing.TB, config, live *unstructured.Unstructured) bool {
	t.Helper()
	res, err := diff.Diff(config, live, argoOptions(t)...)
	if err != nil {
		t.Fatalf("diff.Diff: %v", err)
	}
	return res.Modified
}

func TestArgoDiffCorpusSmoke(t *testing.T) {
	for _, p := range corpusPairs(t) {
		t.Logf("%-28s %s <-> %s: Modified=%v", p.name, p.pair.config, p.pair.live, argoModified(t, p.config, p.live))
	}
}

func BenchmarkArgoDiff(b *testing.B) {
	pairs := corpusPairs(b)
	opts := argoOptions(b)
	run := func() {
		for _, p := range pairs {
			if _, err := diff.Diff(p.config, p.live, opts...); err != nil {
				b.Fatalf("%s: %v", p.name, err)
			}
		}
	}
	// gitops-engine builds its static schemas lazily on first use; keep that one-off
	// cost out of short runs such as -benchtime 3x.
	run()
	b.ReportAllocs()
	for b.Loop() {
		run()
	}
}
