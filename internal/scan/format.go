package scan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// Write renders results as text, json, markdown (a PR comment) or sarif (CI code scanning).
func Write(w io.Writer, format string, results []Result) error {
	switch format {
	case "", "text":
		for _, r := range results {
			fmt.Fprintf(w, "%s\t%s\t%s\n", r.Unit, r.Status, r.Summary)
			for _, f := range r.Findings {
				if f.Blocking {
					fmt.Fprintf(w, "  BLOCKING %s\n", f.Describe())
				}
			}
		}
		return nil
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(results)
	case "markdown":
		fmt.Fprintln(w, "| unit | status | blocking | summary |")
		fmt.Fprintln(w, "|---|---|---|---|")
		for _, r := range results {
			fmt.Fprintf(w, "| %s | %s | %d | %s |\n", r.Unit, r.Status, r.Blocking, strings.ReplaceAll(r.Summary, "|", "\\|"))
		}
		for _, r := range results {
			for _, f := range r.Findings {
				if f.Blocking {
					fmt.Fprintf(w, "\n- **%s** `%s`: %s %s, changed `%s`, recommended %s", r.Unit, f.ResourceRef, f.DriftClass, f.Risk,
						strings.Join(f.ChangedFields, "`, `"), f.RecommendedAction)
				}
			}
		}
		fmt.Fprintln(w)
		return nil
	case "sarif":
		return writeSARIF(w, results)
	}
	return fmt.Errorf("unknown format %q (want text, json, markdown or sarif)", format)
}

func writeSARIF(w io.Writer, results []Result) error {
	type msg struct {
		Text string `json:"text"`
	}
	type location struct {
		PhysicalLocation struct {
			ArtifactLocation struct {
				URI string `json:"uri"`
			} `json:"artifactLocation"`
		} `json:"physicalLocation"`
	}
	type result struct {
		RuleID    string     `json:"ruleId"`
		Level     string     `json:"level"`
		Message   msg        `json:"message"`
		Locations []location `json:"locations"`
	}
	var out []result
	for _, r := range results {
		loc := location{}
		loc.PhysicalLocation.ArtifactLocation.URI = r.Stack
		if r.Status == StatusUnknown {
			out = append(out, result{RuleID: string(drift.ClassUnknown), Level: "error", Message: msg{r.Unit + ": " + r.Summary}, Locations: []location{loc}})
		}
		for _, f := range r.Findings {
			if f.DriftClass.Expected() || f.AcceptedBy != "" {
				continue
			}
			level := "warning"
			if f.Blocking {
				level = "error"
			}
			out = append(out, result{RuleID: string(f.DriftClass), Level: level, Message: msg{r.Unit + ": " + f.Describe()}, Locations: []location{loc}})
		}
	}
	if out == nil {
		out = []result{}
	}
	doc := map[string]any{
		"$schema": "https://json.schemastore.org/sarif-2.1.0.json",
		"version": "2.1.0",
		"runs": []any{map[string]any{
			"tool":    map[string]any{"driver": map[string]any{"name": "driftplane", "informationUri": "https://github.com/driftplane/terraform-provider-drift", "rules": sarifRules()}},
			"results": out,
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
