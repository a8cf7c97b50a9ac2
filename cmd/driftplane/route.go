package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/driftplane/terraform-provider-drift/internal/cli"
	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/route"
	"github.com/driftplane/terraform-provider-drift/internal/scan"
)

// routeFormats are `driftplane route test`'s output formats.
var routeFormats = []string{"text", "json"}

// maxFindingsBytes bounds the findings file: it is scan output, which another job wrote.
const maxFindingsBytes = 256 << 20

func newRouteCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "route",
		Short: "Work with a DriftRoutingPolicy",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newRouteTestCommand())
	return cmd
}

// routeTestOptions are `driftplane route test`'s flags.
type routeTestOptions struct {
	policy, findings, registry, format, at string
	expect                                 []string
}

func newRouteTestCommand() *cobra.Command {
	o := &routeTestOptions{}
	cmd := &cobra.Command{
		Use:   "test --policy FILE [--findings FILE] [LABEL=VALUE ...]",
		Short: "Show which routes, receivers and groups a finding takes",
		Long: `route test validates a DriftRoutingPolicy and shows, like amtool config routes test, what it
does with a finding: the routes it takes, the receivers told, the group key, page, incident and
issue, and the silences that apply. The finding is given as labels (domain=identity risk=HIGH),
or --findings is the JSON driftplane scan --format json prints (or a list of findings), in which
case labels given as arguments are added to every finding as unit labels, and --registry adds
each unit's metadata.labels.

A finding's labels: ` + strings.Join(route.FindingLabels, ", ") + `.
INFO findings are routed nowhere unless a route matches risk="INFO" explicitly.

Exit codes: 0 routed (and, with --expect, to exactly those receivers), 1 --expect differs,
64 a usage error (a flag, an argument, or the policy or findings file, named with its field).`,
		Example: `  # Where does identity drift in production go?
  driftplane route test --policy .drift/routing.yaml domain=identity environment=prod risk=HIGH

  # Every finding of last night's scan
  driftplane scan --registry ./registry --format json > findings.json
  driftplane route test --policy routing.yaml --findings findings.json --registry ./registry

  # In CI: fail when the policy stops paging security for IAM drift
  driftplane route test --policy routing.yaml --expect security-pager domain=identity risk=CRITICAL`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cli.Exit(o.run(args, cmd.OutOrStdout(), cmd.ErrOrStderr()))
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.policy, "policy", "", "the DriftRoutingPolicy file (YAML or JSON)")
	fs.StringVar(&o.findings, "findings", "", "findings JSON (driftplane scan --format json, a report, or a list of findings); - for stdin")
	fs.StringVar(&o.registry, "registry", "", "registry folder whose units' metadata.labels are added to their findings")
	fs.StringVar(&o.format, "format", "text", "text or json")
	fs.StringVar(&o.at, "at", "", "evaluation time, RFC 3339, for silences (default: now)")
	fs.StringSliceVar(&o.expect, "expect", nil, "receivers every finding must be sent to, in order (exit 1 otherwise)")
	_ = cmd.MarkFlagFilename("policy", "yaml", "yml", "json")
	_ = cmd.MarkFlagFilename("findings", "json")
	_ = cmd.MarkFlagDirname("registry")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(routeFormats, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// routed is one finding's routing, as printed.
type routed struct {
	Finding   string           `json:"finding,omitempty"`
	Labels    route.Labels     `json:"labels"`
	Decisions []route.Decision `json:"decisions"`
}

func (o *routeTestOptions) run(args []string, stdout, stderr io.Writer) int {
	usage := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "driftplane route test: "+format+"\n", a...)
		return exitUsage
	}
	if o.policy == "" {
		return usage("--policy is required (a DriftRoutingPolicy file)")
	}
	if !slices.Contains(routeFormats, o.format) {
		return usage("--format %q: want one of %s", o.format, strings.Join(routeFormats, ", "))
	}
	at := time.Now().UTC()
	if o.at != "" {
		t, err := time.Parse(time.RFC3339, o.at)
		if err != nil {
			return usage("--at %q is not an RFC 3339 time", o.at)
		}
		at = t
	}
	given := route.Labels{}
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" || route.LabelName(k) != k {
			return usage("argument %q: want LABEL=VALUE, e.g. domain=identity", a)
		}
		given[k] = strings.Trim(v, `"`)
	}
	if o.findings == "" && len(given) == 0 {
		return usage("give the finding as LABEL=VALUE arguments (domain=identity risk=HIGH) or --findings FILE")
	}
	if o.registry != "" && o.findings == "" {
		return usage("--registry adds unit labels to --findings; without --findings give the labels as arguments")
	}
	p, err := route.Load(o.policy, at)
	if err != nil {
		return usage("%v", err)
	}
	var out []routed
	if o.findings == "" {
		ls := given.Normalize()
		ds, err := p.Route(ls, at)
		if err != nil {
			return usage("%v", err)
		}
		out = append(out, routed{Labels: ls, Decisions: ds})
	} else {
		findings, err := readFindings(o.findings)
		if err != nil {
			return usage("%v", err)
		}
		unitLabels := map[string]map[string]string{}
		if o.registry != "" {
			units, err := scan.LoadRegistry(o.registry)
			if err != nil {
				return usage("%v", err)
			}
			for _, u := range units {
				unitLabels[u.Policy.Metadata.Name] = u.Policy.Metadata.Labels
			}
		}
		for _, f := range findings {
			extra := map[string]string{}
			for k, v := range unitLabels[f.Unit] {
				extra[k] = v
			}
			for k, v := range given {
				extra[k] = v
			}
			ls := route.LabelsOf(f, extra)
			ds, err := p.Route(ls, at)
			if err != nil {
				return usage("%v", err)
			}
			out = append(out, routed{Finding: findingName(f), Labels: ls, Decisions: ds})
		}
	}
	if err := writeRouted(stdout, o.format, out); err != nil {
		fmt.Fprintf(stderr, "driftplane route test: %v\n", err)
		return 3
	}
	if o.expect != nil {
		code := 0
		for _, r := range out {
			var got []string
			for _, d := range r.Decisions {
				got = append(got, d.Receivers...)
			}
			if !slices.Equal(got, o.expect) {
				fmt.Fprintf(stderr, "driftplane route test: %s: sent to [%s], expected [%s]\n", r.name(), strings.Join(got, ","), strings.Join(o.expect, ","))
				code = 1
			}
		}
		return code
	}
	return 0
}

func findingName(f drift.Finding) string {
	if f.Unit != "" {
		return f.Unit + " " + f.ResourceRef
	}
	return f.ResourceRef
}

func (r routed) name() string {
	if r.Finding != "" {
		return r.Finding
	}
	return labelString(r.Labels)
}

func labelString(ls route.Labels) string {
	keys := make([]string, 0, len(ls))
	for k := range ls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, ls[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// readFindings reads scan's JSON (a list of unit results), one report ({"findings": [...]}), or a
// list of findings.
func readFindings(name string) ([]drift.Finding, error) {
	var r io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("findings: %w", err)
		}
		defer func() { _ = f.Close() }()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxFindingsBytes+1))
	if err != nil {
		return nil, fmt.Errorf("findings %s: %w", name, err)
	}
	if len(data) > maxFindingsBytes {
		return nil, fmt.Errorf("findings %s: larger than %d bytes", name, maxFindingsBytes)
	}
	if err := drift.CheckJSONDepth(data, drift.MaxJSONDepth); err != nil {
		return nil, fmt.Errorf("findings %s: %w", name, err)
	}
	type holder struct {
		Findings *[]drift.Finding `json:"findings"`
	}
	bad := func(err error) error {
		return fmt.Errorf("findings %s: want the JSON of driftplane scan --format json, a report or a list of findings: %w", name, err)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var h holder
		if err := json.Unmarshal(trimmed, &h); err != nil {
			return nil, bad(err)
		}
		if h.Findings == nil {
			return nil, bad(fmt.Errorf("the object has no findings"))
		}
		return *h.Findings, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(trimmed, &items); err != nil {
		return nil, bad(err)
	}
	var out []drift.Finding
	for i, it := range items {
		var h holder
		if err := json.Unmarshal(it, &h); err != nil {
			return nil, bad(fmt.Errorf("item %d: %w", i, err))
		}
		if h.Findings != nil {
			out = append(out, *h.Findings...)
			continue
		}
		var f drift.Finding
		if err := json.Unmarshal(it, &f); err != nil {
			return nil, bad(fmt.Errorf("item %d: %w", i, err))
		}
		if f.ResourceRef == "" {
			return nil, bad(fmt.Errorf("item %d is neither a unit's result nor a finding (no resource_ref)", i))
		}
		out = append(out, f)
	}
	return out, nil
}

func writeRouted(w io.Writer, format string, out []routed) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if out == nil {
			out = []routed{}
		}
		return enc.Encode(out)
	}
	for _, r := range out {
		fmt.Fprintln(w, r.name())
		if r.Finding != "" {
			fmt.Fprintf(w, "  labels %s\n", labelString(r.Labels))
		}
		for _, d := range r.Decisions {
			name := d.Route
			if d.Name != "" {
				name = d.Name + " (" + d.Route + ")"
			}
			var what []string
			for _, s := range []struct {
				on   bool
				name string
			}{{d.Page, "page"}, {d.CreateIncident, "incident"}, {d.CreateIssue, "issue"}} {
				if s.on {
					what = append(what, s.name)
				}
			}
			if len(what) == 0 {
				what = []string{"notify"}
			}
			if d.Notify {
				fmt.Fprintf(w, "  %s -> %s [%s]\n", name, strings.Join(d.Receivers, ","), strings.Join(what, ","))
			} else {
				fmt.Fprintf(w, "  %s -> nothing sent (would be %s): %s\n", name, strings.Join(d.Held, ","), d.Suppressed)
			}
			fmt.Fprintf(w, "    group %s wait %s interval %s repeat %s\n", d.GroupKey, d.GroupWait, d.GroupInterval, d.RepeatInterval)
			if len(d.Declined) > 0 {
				fmt.Fprintf(w, "    declined %s: issue receivers open issues only where createIssue is on\n", strings.Join(d.Declined, ","))
			}
			for _, s := range d.InactiveSilences {
				fmt.Fprintf(w, "    silence %s\n", s)
			}
		}
	}
	return nil
}
