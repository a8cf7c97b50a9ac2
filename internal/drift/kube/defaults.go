package kube

import (
	_ "embed"

	"sigs.k8s.io/yaml"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

//go:embed defaults.yaml
var defaultsYAML []byte

type serverDefault struct {
	Path  string `json:"path"`
	Value any    `json:"value"`

	ptr drift.Pointer
}

var serverDefaults = mustDefaults()

func mustDefaults() []serverDefault {
	var ds []serverDefault
	if err := yaml.UnmarshalStrict(defaultsYAML, &ds); err != nil {
		panic("kube: defaults.yaml: " + err.Error())
	}
	for i := range ds {
		p, err := drift.ParsePointer(ds[i].Path)
		if err != nil {
			panic("kube: defaults.yaml: " + err.Error())
		}
		ds[i].ptr = p
		ds[i].Value = Normalize(map[string]any{"v": ds[i].Value}).Object["v"]
	}
	return ds
}

// isServerDefault reports whether v at p is what the API server fills in when Git omits p.
func isServerDefault(p drift.Pointer, v any) bool {
	for _, d := range serverDefaults {
		if p.Matches(d.ptr) && drift.Equivalent(d.Value, v) {
			return true
		}
	}
	return false
}
