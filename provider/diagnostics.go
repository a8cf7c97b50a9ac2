package provider

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// hclNames maps the core's YAML field names to this provider's HCL names where snake_case of the
// YAML name is not the HCL name.
var hclNames = map[string]string{
	"ownershipRules":  "ownership_rule",
	"domainOverrides": "domain_override",
	"action":          "recommended_action",
	"group":           "api_group",
}

var segRE = regexp.MustCompile(`^([A-Za-z]+)(?:\[(\d+)\])?$`)

// hclPath translates a core FieldError field (spec.ownershipRules[0].controllerOwned[1].path)
// into the attribute path of the HCL block (ownership_rule[0].controller_owned[1].path).
// nameAttr is the HCL attribute that holds metadata.name ("name" for units, "id" for exceptions).
func hclPath(field, nameAttr string) path.Path {
	if field == "metadata.name" {
		return path.Root(nameAttr)
	}
	field = strings.TrimPrefix(field, "spec.")
	var p path.Path
	started := false
	segs := strings.Split(field, ".")
	for i := 0; i < len(segs); i++ {
		seg := segs[i]
		if strings.HasPrefix(seg, "resourceDomains[") {
			return path.Root("resource_domains")
		}
		m := segRE.FindStringSubmatch(seg)
		if m == nil {
			break
		}
		name := m[1]
		if name == "resource" {
			// ownership_rule flattens the resource selector into the block.
			if i+1 < len(segs) {
				sub := segs[i+1]
				i++
				switch sub {
				case "name":
					name = "resource_name"
				case "type":
					name = "resource_type"
				default:
					name = sub
				}
			} else {
				continue
			}
		}
		if n, ok := hclNames[name]; ok {
			name = n
		} else {
			name = snake(name)
		}
		if !started {
			p = path.Root(name)
			started = true
		} else {
			p = p.AtName(name)
		}
		if m[2] != "" {
			idx, _ := strconv.Atoi(m[2])
			p = p.AtListIndex(idx)
		}
	}
	if !started {
		return path.Empty()
	}
	return p
}

func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r + ('a' - 'A'))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// addPolicyError reports a core validation error as one attribute error per field.
func addPolicyError(diags *diag.Diagnostics, summary, nameAttr string, err error) {
	var ve *drift.ValidationError
	if errors.As(err, &ve) {
		for _, fe := range ve.Errors {
			p := hclPath(fe.Field, nameAttr)
			// Name the object too: a stack may declare many exceptions, and the id is what people grep.
			detail := ve.Object + ": " + hclFieldLabel(p, fe.Field) + ": " + fe.Message
			if len(p.Steps()) == 0 {
				diags.AddError(summary, detail)
			} else {
				diags.AddAttributeError(p, summary, detail)
			}
		}
		return
	}
	diags.AddError(summary, err.Error())
}

func hclFieldLabel(p path.Path, field string) string {
	if len(p.Steps()) == 0 {
		return field
	}
	return p.String()
}

// Diagnostics must stay readable on a stack with a thousand drifted resources: blocking findings
// get one error each up to maxBlockingErrors, then one error saying how many more; findings that
// do not block are summarised in one warning naming the riskiest few. The full list is always in
// the findings attribute.
const (
	maxBlockingErrors = 20
	topWarned         = 5
)

func findingDiagnostics(rep *drift.Report, enforce bool) diag.Diagnostics {
	var diags diag.Diagnostics
	var blocking, notEnforced, below []*drift.Finding
	for i := range rep.Findings {
		f := &rep.Findings[i]
		switch {
		case f.Blocking && enforce:
			blocking = append(blocking, f)
		case f.Blocking:
			notEnforced = append(notEnforced, f)
		case f.AcceptedBy == "" && !f.DriftClass.Expected():
			below = append(below, f)
		}
	}
	for i, f := range blocking {
		if i == maxBlockingErrors {
			diags.AddError(fmt.Sprintf("Unaccepted drift: %d more finding(s)", len(blocking)-maxBlockingErrors),
				fmt.Sprintf("%d blocking findings in all; the first %d are reported above. Every finding is in this data source's "+
					"findings attribute (blocking = true), and in the evidence record when one is written.", len(blocking), maxBlockingErrors))
			break
		}
		diags.AddError(fmt.Sprintf("Unaccepted drift: %s (%s, %s)", f.ResourceRef, f.DriftClass, f.Risk),
			fmt.Sprintf("%s\n\nUnit %q fails at gate %q. Fix the drift (%s), or accept it with a drift_exception.",
				f.Describe(), rep.Unit, rep.Gate, f.RecommendedAction))
	}
	summaryWarning(&diags, "Unaccepted drift (gate not enforced)", notEnforced)
	summaryWarning(&diags, "Drift below gate", below)
	return diags
}

// summaryWarning adds one warning for fs: the finding itself when there is one, else counts by
// class and risk and the riskiest few.
func summaryWarning(diags *diag.Diagnostics, title string, fs []*drift.Finding) {
	switch len(fs) {
	case 0:
		return
	case 1:
		f := fs[0]
		diags.AddWarning(fmt.Sprintf("%s: %s (%s, %s)", title, f.ResourceRef, f.DriftClass, f.Risk), f.Describe())
		return
	}
	counts := map[string]int{}
	for _, f := range fs {
		counts[string(f.DriftClass)+" "+string(f.Risk)]++
	}
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if counts[keys[i]] != counts[keys[j]] {
			return counts[keys[i]] > counts[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%d %s", counts[k], k)
	}
	top := append([]*drift.Finding(nil), fs...)
	sort.SliceStable(top, func(i, j int) bool { return top[i].Risk.Level() > top[j].Risk.Level() })
	if len(top) > topWarned {
		top = top[:topWarned]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d findings: %s.\n\nThe riskiest:\n", len(fs), strings.Join(parts, ", "))
	for _, f := range top {
		fmt.Fprintf(&b, "- %s\n", f.Describe())
	}
	if len(fs) > len(top) {
		fmt.Fprintf(&b, "\n%d more in this data source's findings attribute.", len(fs)-len(top))
	}
	// The title names the riskiest finding, as a single finding's warning does, then the rest.
	f := top[0]
	diags.AddWarning(fmt.Sprintf("%s: %s (%s, %s) and %d more (%s)", title, f.ResourceRef, f.DriftClass, f.Risk,
		len(fs)-1, strings.Join(parts, ", ")), b.String())
}
