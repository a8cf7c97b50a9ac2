package generate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Argo CD passes an Application's plugin parameters (spec.source.plugin.parameters) as one JSON
// array in ARGOCD_APP_PARAMETERS, each element {"name": ..., and one of "string", "array",
// "map"}. These are the parameters a Helm chart takes; their names follow the helm template
// flags they stand for.
const (
	// ParamValuesFiles (array): values files (-f), in order, relative to the application's
	// folder; an absolute path is relative to the repository root, as in Argo CD.
	ParamValuesFiles = "values-files"
	// ParamValues (string): a YAML values document applied after the values files, as Argo CD's
	// spec.source.helm.values.
	ParamValues = "values"
	// ParamSet (map): --set name=value, one assignment per entry (a value's commas are literal
	// unless it is a {a,b} list, as in Argo CD).
	ParamSet = "set"
	// ParamSetString (map): --set-string name=value.
	ParamSetString = "set-string"
	// ParamSetFile (map): --set-file name=path, the path resolved like a values file.
	ParamSetFile = "set-file"
	// ParamReleaseName (string): the release name; default the application's name.
	ParamReleaseName = "release-name"
	// ParamSkipCRDs (string "true"/"false"): leave the chart's crds/ out (Argo CD's skipCrds).
	ParamSkipCRDs = "skip-crds"
	// ParamSkipTests (string "true"/"false"): leave test hooks out (--skip-tests).
	ParamSkipTests = "skip-tests"
	// ParamSkipSchemaValidation (string "true"/"false"): --skip-schema-validation.
	ParamSkipSchemaValidation = "skip-schema-validation"
	// ParamIgnoreMissingValueFiles (string "true"/"false"): a values file that does not exist is
	// skipped instead of failing (Argo CD's ignoreMissingValueFiles). One that escapes the
	// repository still fails.
	ParamIgnoreMissingValueFiles = "ignore-missing-value-files"
)

// Environment a Helm application may set through spec.source.plugin.env (Argo CD prefixes
// ARGOCD_ENV_). A parameter of the same meaning wins over its variable.
const (
	// EnvHelmValuesFiles: comma-separated values files, used when values-files is not given.
	EnvHelmValuesFiles = "ARGOCD_ENV_DRIFTPLANE_HELM_VALUES_FILES"
	// EnvHelmReleaseName: the release name, when release-name is not given.
	EnvHelmReleaseName = "ARGOCD_ENV_DRIFTPLANE_HELM_RELEASE_NAME"
	// EnvHelmSet: helm --set syntax (a=1,b.c=2), applied before the set parameter.
	EnvHelmSet = "ARGOCD_ENV_DRIFTPLANE_HELM_SET"
)

// EnvAppParameters is where Argo CD puts the Application's plugin parameters.
const EnvAppParameters = "ARGOCD_APP_PARAMETERS"

// maxParameters bounds the decoded parameter document; Argo CD's own limits are far below it.
const maxParameters = 1 << 20

// HelmParams is what an application asks of helm template.
type HelmParams struct {
	ValuesFiles             []string
	Values                  string
	Set                     []string // helm --set arguments, in order
	SetString               []string
	SetFile                 map[string]string // name → path, resolved before use
	ReleaseName             string
	SkipCRDs                bool
	SkipTests               bool
	SkipSchemaValidation    bool
	IgnoreMissingValueFiles bool
}

// given names the parameters that were given, so an application that is not a chart can be
// told its Helm parameters do nothing.
func (p HelmParams) given() []string {
	var names []string
	add := func(ok bool, name string) {
		if ok {
			names = append(names, name)
		}
	}
	add(len(p.ValuesFiles) > 0, ParamValuesFiles)
	add(p.Values != "", ParamValues)
	add(len(p.Set) > 0, ParamSet)
	add(len(p.SetString) > 0, ParamSetString)
	add(len(p.SetFile) > 0, ParamSetFile)
	add(p.ReleaseName != "", ParamReleaseName)
	add(p.SkipCRDs, ParamSkipCRDs)
	add(p.SkipTests, ParamSkipTests)
	add(p.SkipSchemaValidation, ParamSkipSchemaValidation)
	add(p.IgnoreMissingValueFiles, ParamIgnoreMissingValueFiles)
	return names
}

// pluginParameter is one element of ARGOCD_APP_PARAMETERS (Argo CD's
// ApplicationSourcePluginParameter as JSON).
type pluginParameter struct {
	Name   string             `json:"name"`
	String *string            `json:"string,omitempty"`
	Map    *map[string]string `json:"map,omitempty"`
	Array  *[]string          `json:"array,omitempty"`
}

// ParseHelmParams reads the Helm parameters from Argo CD's environment: ARGOCD_APP_PARAMETERS and
// the ARGOCD_ENV_DRIFTPLANE_HELM_* variables. Anything it does not understand is an error, never
// ignored: a misspelt values-files rendering the chart with its defaults would be a silent
// wrong desired state.
func ParseHelmParams(env map[string]string) (HelmParams, error) {
	var p HelmParams
	if v := strings.TrimSpace(env[EnvHelmValuesFiles]); v != "" {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				p.ValuesFiles = append(p.ValuesFiles, f)
			}
		}
	}
	p.ReleaseName = strings.TrimSpace(env[EnvHelmReleaseName])
	if v := strings.TrimSpace(env[EnvHelmSet]); v != "" {
		p.Set = append(p.Set, v)
	}
	params, err := parsePluginParameters(env[EnvAppParameters])
	if err != nil {
		return HelmParams{}, err
	}
	for _, pp := range params {
		if err := p.apply(pp); err != nil {
			return HelmParams{}, fmt.Errorf("%s: parameter %q: %w", EnvAppParameters, pp.Name, err)
		}
	}
	return p, nil
}

// parsePluginParameters decodes ARGOCD_APP_PARAMETERS strictly: one JSON array, no unknown
// fields, no trailing data, each parameter named once with exactly one value.
func parsePluginParameters(raw string) ([]pluginParameter, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || raw == "null" {
		return nil, nil
	}
	if len(raw) > maxParameters {
		return nil, fmt.Errorf("%s: %d bytes, more than %d", EnvAppParameters, len(raw), maxParameters)
	}
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.DisallowUnknownFields()
	var params []pluginParameter
	if err := dec.Decode(&params); err != nil {
		return nil, fmt.Errorf("%s: want a JSON array of {name, string|array|map}: %w", EnvAppParameters, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: trailing data after the JSON array", EnvAppParameters)
	}
	seen := map[string]bool{}
	for i, pp := range params {
		if pp.Name == "" {
			return nil, fmt.Errorf("%s: parameter %d has no name", EnvAppParameters, i)
		}
		if seen[pp.Name] {
			return nil, fmt.Errorf("%s: parameter %q given twice", EnvAppParameters, pp.Name)
		}
		seen[pp.Name] = true
		n := 0
		for _, ok := range []bool{pp.String != nil, pp.Map != nil, pp.Array != nil} {
			if ok {
				n++
			}
		}
		if n != 1 {
			return nil, fmt.Errorf("%s: parameter %q: want exactly one of string, array or map", EnvAppParameters, pp.Name)
		}
	}
	return params, nil
}

func (p *HelmParams) apply(pp pluginParameter) error {
	want := func(kind string, ok bool) error {
		if !ok {
			return fmt.Errorf("want %s", kind)
		}
		return nil
	}
	switch pp.Name {
	case ParamValuesFiles:
		if err := want("an array", pp.Array != nil); err != nil {
			return err
		}
		p.ValuesFiles = nil
		for i, f := range *pp.Array {
			if strings.TrimSpace(f) == "" {
				return fmt.Errorf("element %d is empty", i)
			}
			p.ValuesFiles = append(p.ValuesFiles, f)
		}
	case ParamValues:
		if err := want("a string", pp.String != nil); err != nil {
			return err
		}
		p.Values = *pp.String
	case ParamSet, ParamSetString:
		if err := want("a map", pp.Map != nil); err != nil {
			return err
		}
		args, err := setArgs(*pp.Map)
		if err != nil {
			return err
		}
		if pp.Name == ParamSet {
			p.Set = append(p.Set, args...)
		} else {
			p.SetString = append(p.SetString, args...)
		}
	case ParamSetFile:
		if err := want("a map", pp.Map != nil); err != nil {
			return err
		}
		if _, err := setArgs(*pp.Map); err != nil {
			return err
		}
		p.SetFile = map[string]string{}
		for k, v := range *pp.Map {
			if strings.TrimSpace(v) == "" {
				return fmt.Errorf("%s: empty path", k)
			}
			p.SetFile[k] = v
		}
	case ParamReleaseName:
		if err := want("a string", pp.String != nil); err != nil {
			return err
		}
		p.ReleaseName = strings.TrimSpace(*pp.String)
	case ParamSkipCRDs, ParamSkipTests, ParamSkipSchemaValidation, ParamIgnoreMissingValueFiles:
		if err := want(`a string ("true" or "false")`, pp.String != nil); err != nil {
			return err
		}
		b, err := strconv.ParseBool(strings.TrimSpace(*pp.String))
		if err != nil {
			return fmt.Errorf("%q: want true or false", *pp.String)
		}
		switch pp.Name {
		case ParamSkipCRDs:
			p.SkipCRDs = b
		case ParamSkipTests:
			p.SkipTests = b
		case ParamSkipSchemaValidation:
			p.SkipSchemaValidation = b
		default:
			p.IgnoreMissingValueFiles = b
		}
	default:
		return fmt.Errorf("unknown parameter; known: %s", strings.Join(knownParams(), ", "))
	}
	return nil
}

func knownParams() []string {
	return []string{ParamValuesFiles, ParamValues, ParamSet, ParamSetString, ParamSetFile, ParamReleaseName,
		ParamSkipCRDs, ParamSkipTests, ParamSkipSchemaValidation, ParamIgnoreMissingValueFiles}
}

// setArgs turns a map of name → value into helm --set arguments, one assignment each, in name
// order (Argo CD iterates a Go map, so its order is unspecified; a sorted one is reproducible).
// A name cannot hold '=' or ',' (helm would split it into another assignment); a value's commas
// are escaped unless the value is a {a,b} list, as Argo CD does.
func setArgs(m map[string]string) ([]string, error) {
	names := make([]string, 0, len(m))
	for k := range m {
		if strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("empty name")
		}
		if strings.ContainsAny(k, "=,\n") {
			return nil, fmt.Errorf("name %q: '=', ',' and newlines cannot be part of a name", k)
		}
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]string, 0, len(names))
	for _, k := range names {
		out = append(out, k+"="+escapeSetValue(m[k]))
	}
	return out, nil
}

// escapeSetValue is Argo CD's cleanSetParameters: commas not already escaped become "\,".
func escapeSetValue(v string) string {
	if strings.HasPrefix(v, "{") && strings.HasSuffix(v, "}") {
		return v
	}
	var b bytes.Buffer
	var prev rune
	for _, r := range v {
		if r == ',' && prev != '\\' {
			b.WriteString(`\,`)
		} else {
			b.WriteRune(r)
		}
		prev = r
	}
	return b.String()
}
