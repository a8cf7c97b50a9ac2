// Package adversarial is the table of attempts to slip drift past the gate or blind it (issue 9):
// each row is one hostile or broken input and the words its refusal must contain. The core's tests
// and the tests of every front end it applies to (the provider through a real `tofu plan`,
// generate, scan) replay the rows, so a class closed in the core stays closed everywhere. Rows
// whose input is a live cluster, an Argo CD answer or a running process (field-manager spoofing,
// reporter fail-open shapes, transport, races) are replayed where those exist: the Kubernetes
// integration test and the reporter's tests. It is test support: no product package imports it.
package adversarial

import (
	"fmt"
	"strings"
	"time"
)

// Issue 9's classes of bypass and fail-open.
const (
	ClassExceptionScope = 1
	ClassTime           = 2
	ClassNotAPlan       = 3
	ClassSecrets        = 4
	ClassAutoHeal       = 7
	ClassBoundedInput   = 9
)

// Exception is an exception a unit declares; ExpiresIn is from the real clock (negative: expired).
type Exception struct {
	ID, Resource, Path, Class, Ticket string
	ExpiresIn                         time.Duration
	// EvaluatedAgo, when set, asks for an explicit evaluation time this long before now.
	EvaluatedAgo time.Duration
}

// Row is one attempt.
type Row struct {
	Class int
	Name  string
	// Kubernetes: the unit is a Kubernetes application (else an OpenTofu stack).
	Kubernetes bool
	// Exactly one input is set.
	Exception *Exception
	Plan      string // plan JSON
	Manifests string // an application's rendered YAML
	AutoHeal  string // an AutoHealPolicy document
	// Want are fragments the refusal names (the object, the field, the offending value).
	Want []string
	// Blocks: the row is refused by a blocking finding rather than an error.
	Blocks bool
	// Planted are values that must appear in no output.
	Planted []string
}

// YAML renders the exception as a DriftException document of unit.
func (e *Exception) YAML(unit string) string {
	ticket := e.Ticket
	if ticket != "" {
		ticket = "ticket: " + ticket + ", "
	}
	return fmt.Sprintf("apiVersion: drift.driftplane.io/v1alpha1\nkind: DriftException\nmetadata: {name: %s}\n"+
		"spec: {unit: %s, resource: '%s', paths: ['%s'], driftClass: %s, reason: r, %sapprovedBy: a, expiresAt: '%s'}\n",
		e.ID, unit, e.Resource, e.Path, e.Class, ticket, e.Expires())
}

// Expires is the RFC 3339 expiry.
func (e *Exception) Expires() string {
	return time.Now().UTC().Add(e.ExpiresIn).Truncate(time.Second).Format(time.RFC3339)
}

const day = 24 * time.Hour

func scope(kube bool, resource, path string, want ...string) Row {
	id := "EXC-SCOPE"
	return Row{Class: ClassExceptionScope, Name: fmt.Sprintf("exception path %s on %s", path, resource), Kubernetes: kube,
		Exception: &Exception{ID: id, Resource: resource, Path: path, Class: "UNAUTHORIZED_RUNTIME_DRIFT", Ticket: "T-1", ExpiresIn: 7 * day},
		Want:      append([]string{`DriftException "` + id + `"`, `"` + path + `"`}, want...)}
}

// deep is JSON nested n levels.
func deep(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

// Rows is the table.
var Rows = []Row{
	scope(true, "apps/v1/Deployment/web/web", "/*/**", `uses "**"`),
	scope(true, "apps/v1/Deployment/web/web", "/spec/**", `uses "**"`),
	scope(true, "apps/v1/Deployment/web/web", "/spec/*", "wildcard in its second segment"),
	scope(true, "apps/v1/Deployment/web/web", "/metadata/**", `uses "**"`),
	scope(true, "apps/v1/Deployment/web/web", "/metadata", "covers the whole metadata"),
	scope(true, "/v1/Secret/web/db", "/data", "covers the whole data"),
	scope(true, "apps/v1/Deployment/web/web", "/spec/template/*/*", `has 2 "*" wildcards`),
	scope(false, "module.net.aws_security_group.web", "/*", "starts with a wildcard"),
	scope(false, "module.net.aws_security_group.web", "/tags/**", `uses "**"`),
	{Class: ClassExceptionScope, Name: "a wildcard kind without a ticket", Kubernetes: true,
		Exception: &Exception{ID: "EXC-KIND", Resource: "/v1/*/web/web", Path: "/metadata/labels", Class: "UNAUTHORIZED_RUNTIME_DRIFT", ExpiresIn: 7 * day},
		Want:      []string{`DriftException "EXC-KIND"`, "ticket: is required"}},
	{Class: ClassTime, Name: "an exception approved until 2099",
		Exception: &Exception{ID: "EXC-FOREVER", Resource: "module.net.aws_security_group.web", Path: "/ingress", Class: "EMERGENCY_DRIFT", Ticket: "T-1", ExpiresIn: 73 * 365 * day},
		Want:      []string{"EXC-FOREVER", "days after the evaluation time"}},
	{Class: ClassTime, Name: "an exception over the default 90 days",
		Exception: &Exception{ID: "EXC-LONG", Resource: "module.net.aws_security_group.web", Path: "/ingress", Class: "EMERGENCY_DRIFT", Ticket: "T-1", ExpiresIn: 120 * day},
		Want:      []string{`DriftException "EXC-LONG"`, "more than 90 days"}},
	{Class: ClassTime, Name: "an evaluation time in the past reviving an expired exception", Blocks: true,
		Exception: &Exception{ID: "EXC-OLD", Resource: "module.net.aws_security_group.web", Path: "/ingress", Class: "EMERGENCY_DRIFT", Ticket: "T-1", ExpiresIn: -time.Hour, EvaluatedAgo: 2 * day},
		Want:      []string{"exception EXC-OLD expired at"}},
	{Class: ClassNotAPlan, Name: "planned_values null", Plan: `{"format_version":"1.2","planned_values":null}`, Want: []string{"planned_values null"}},
	{Class: ClassNotAPlan, Name: "no resource_drift or resource_changes and no whole plan", Plan: `{"format_version":"1.2","planned_values":{}}`, Want: []string{"neither resource_drift nor resource_changes"}},
	{Class: ClassNotAPlan, Name: "a format older than resource_drift", Plan: `{"format_version":"0.2","planned_values":{"root_module":{}},"configuration":{"root_module":{}}}`, Want: []string{"older than 1.0"}},
	{Class: ClassNotAPlan, Name: "a newer major format", Plan: `{"format_version":"2.0","planned_values":{"root_module":{}},"configuration":{"root_module":{}}}`, Want: []string{"unsupported plan format"}},
	{Class: ClassNotAPlan, Name: "an empty render", Kubernetes: true, Manifests: "# nothing here\n---\n", Want: []string{"holds no Kubernetes objects"}},
	{Class: ClassSecrets, Name: "one-sided masks and a shifted list", Plan: secretsPlan,
		Planted: []string{"PLANTED-one-sided-before", "PLANTED-one-sided-after", "PLANTED-shifted-token", "PLANTED"}},
	{Class: ClassAutoHeal, Name: "auto-heal of the whole spec", Kubernetes: true,
		AutoHeal: "apiVersion: drift.driftplane.io/v1alpha1\nkind: AutoHealPolicy\nmetadata: {name: heal-all}\nspec: {allowedPaths: [/spec/**]}\n",
		Want:     []string{`AutoHealPolicy "heal-all"`, `"/spec/**" uses "**"`}},
	{Class: ClassAutoHeal, Name: "auto-heal with a malformed deny", Kubernetes: true,
		AutoHeal: "apiVersion: drift.driftplane.io/v1alpha1\nkind: AutoHealPolicy\nmetadata: {name: heal-bad}\nspec: {allowedPaths: [/metadata/labels/team], deniedPaths: ['/a~9']}\n",
		Want:     []string{`AutoHealPolicy "heal-bad"`, "spec.deniedPaths[0]"}},
	{Class: ClassBoundedInput, Name: "a plan nested 10,000 deep", Plan: `{"format_version":"1.2","planned_values":{"root_module":{}},"resource_drift":` + deep(10000) + `}`,
		Want: []string{"nested deeper than 512"}},
	{Class: ClassBoundedInput, Name: "manifests nested 10,000 deep", Kubernetes: true,
		Manifests: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"web"},"data":{"a":` + deep(10000) + `}}`,
		Want:      []string{"nested"}},
}

// secretsPlan plants sensitive values that only one side's mask marks, and one in a list whose
// elements shift between the sides.
const secretsPlan = `{"format_version":"1.2","terraform_version":"1.10.10","planned_values":{"root_module":{}},
"resource_drift":[
 {"address":"aws_db_instance.main","mode":"managed","type":"aws_db_instance","name":"main","change":{"actions":["update"],
  "before":{"id":"db-1","password":"PLANTED-one-sided-before","instance_class":"db.t3.small"},
  "after":{"id":"db-1","password":"PLANTED-one-sided-after","instance_class":"db.t3.large"},
  "after_unknown":{},"before_sensitive":{},"after_sensitive":{"password":true}}},
 {"address":"aws_ecs_task_definition.app","mode":"managed","type":"aws_ecs_task_definition","name":"app","change":{"actions":["update"],
  "before":{"id":"td-1","environment":[{"name":"A","value":"plain-a"},{"name":"TOKEN","value":"PLANTED-shifted-token"}]},
  "after":{"id":"td-1","environment":[{"name":"TOKEN","value":"PLANTED-shifted-token-2"}]},
  "after_unknown":{},"before_sensitive":{"environment":[{},{"value":true}]},"after_sensitive":{"environment":[{}]}}}],
"resource_changes":[],"timestamp":"2026-11-22T10:00:00Z","errored":false}`

// Select returns the rows for which keep is true.
func Select(keep func(Row) bool) []Row {
	var out []Row
	for _, r := range Rows {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}
