package tofuplan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// MaxApplyLogBytes bounds an apply log: a machine-readable apply prints a few lines per
// resource.
const MaxApplyLogBytes = 64 << 20

// maxApplyLogLine bounds one line: a diagnostic with its snippet is a few kilobytes.
const maxApplyLogLine = 1 << 20

// ApplyLog is what the machine-readable output of a unit's last apply (`tofu apply -json`,
// `terraform apply -json`) says did not converge.
type ApplyLog struct {
	// Name is where the log came from, for messages.
	Name string
	// Failed are the resources whose apply errored, by address, with the first error summary
	// OpenTofu gave for them (raw: the core sanitizes it).
	Failed map[string]string
	// Unattributed are error summaries that name no resource (a provider that failed to
	// configure, a state lock): the apply failed as a whole.
	Unattributed []string
	// Completed says the log reached its end: OpenTofu printed the apply's change summary.
	Completed bool
}

// applyLogLine is the part of one line of the machine-readable UI this reader uses. Snippets,
// details and values of diagnostics are never read: they can quote configuration and variables.
type applyLogLine struct {
	Type string `json:"type"`
	Hook *struct {
		Resource struct {
			Addr string `json:"addr"`
		} `json:"resource"`
	} `json:"hook"`
	Diagnostic *struct {
		Severity string `json:"severity"`
		Summary  string `json:"summary"`
		Address  string `json:"address"`
	} `json:"diagnostic"`
	Changes *struct {
		Operation string `json:"operation"`
	} `json:"changes"`
}

// ReadApplyLog reads the machine-readable output of an apply. Every line must be one JSON
// object of that output (a "type" on each): a file that is not one is an error, not a clean
// apply, and so is a log with no line at all.
func ReadApplyLog(name string, data []byte) (*ApplyLog, error) {
	if len(data) > MaxApplyLogBytes {
		return nil, fmt.Errorf("apply log %s is larger than %d bytes", name, MaxApplyLogBytes)
	}
	log := &ApplyLog{Name: name, Failed: map[string]string{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), maxApplyLogLine)
	lines := 0
	for n := 1; sc.Scan(); n++ {
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		if err := drift.CheckJSONDepth(raw, drift.MaxJSONDepth); err != nil {
			return nil, fmt.Errorf("apply log %s line %d: %w", name, n, err)
		}
		var l applyLogLine
		if err := json.Unmarshal(raw, &l); err != nil || l.Type == "" {
			return nil, fmt.Errorf("apply log %s line %d is not a line of `tofu apply -json` output", name, n)
		}
		lines++
		switch {
		case l.Type == "apply_errored" && l.Hook != nil:
			if addr := l.Hook.Resource.Addr; addr != "" {
				if _, ok := log.Failed[addr]; !ok {
					log.Failed[addr] = ""
				}
			}
		case l.Type == "diagnostic" && l.Diagnostic != nil && l.Diagnostic.Severity == "error":
			summary := strings.TrimSpace(l.Diagnostic.Summary)
			if summary == "" {
				summary = "error"
			}
			if addr := l.Diagnostic.Address; addr != "" {
				if log.Failed[addr] == "" {
					log.Failed[addr] = summary
				}
			} else if len(log.Unattributed) < 20 {
				log.Unattributed = append(log.Unattributed, summary)
			}
		case l.Type == "change_summary" && l.Changes != nil && l.Changes.Operation == "apply":
			log.Completed = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("apply log %s: %w", name, err)
	}
	if lines == 0 {
		return nil, fmt.Errorf("apply log %s is empty: it says nothing about the last apply", name)
	}
	return log, nil
}

// Failures are the observations the log gives: FAILED_RECONCILIATION for each resource whose
// apply errored; and, for an apply that failed as a whole or stopped before its end, one for the
// unit's apply itself (ref "apply", type "opentofu_apply"), since what it left is unknown.
func (l *ApplyLog) Failures() []drift.Observation {
	addrs := make([]string, 0, len(l.Failed))
	for a := range l.Failed {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	var out []drift.Observation
	for _, a := range addrs {
		msg := l.Failed[a]
		if msg == "" {
			msg = "the apply of this resource errored"
		}
		out = append(out, drift.Observation{Ref: a, Type: drift.ResourceType(a), Failure: &drift.ReconcileFailure{Reason: drift.FailureApplyFailed, Message: msg}})
	}
	whole := ""
	switch {
	case len(l.Unattributed) > 0:
		whole = strings.Join(l.Unattributed, "; ")
	case !l.Completed && len(addrs) == 0:
		whole = "the apply stopped before it finished (no change summary): what it changed is unknown"
	}
	if whole != "" {
		out = append(out, drift.Observation{Ref: ApplyRef, Type: ApplyType, Failure: &drift.ReconcileFailure{Reason: drift.FailureApplyFailed, Message: whole}})
	}
	return out
}

// The pseudo-resource a failure of the apply as a whole is reported on.
const (
	ApplyRef  = "apply"
	ApplyType = "opentofu_apply"
)

// WithApplyLog adds the failures of the unit's last apply (ReadApplyLog) to the plan's
// observations. A resource the plan already reports as failed (tainted, deposed) keeps that
// finding alone.
func WithApplyLog(l *ApplyLog) Option { return func(o *options) { o.applyLog = l } }
