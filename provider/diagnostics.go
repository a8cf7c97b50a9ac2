package provider

import (
	"errors"
	"regexp"
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
