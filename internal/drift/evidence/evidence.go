// Package evidence writes a record of every evaluation that an auditor can read and a machine can
// verify: digests of the inputs, the normalized diff (sensitive values only as digests), the
// policy and exceptions that decided, the decision, the tool version and the times. Records are
// content-addressed and never overwritten.
package evidence

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
)

// SchemaVersion identifies the record format.
const SchemaVersion = "driftplane.evidence/v1"

// Input is one input that was evaluated, by digest.
type Input struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
	Bytes  int64  `json:"bytes,omitempty"`
}

// Change is one normalized difference.
type Change struct {
	Path   string `json:"path"`
	Before any    `json:"before"`
	After  any    `json:"after"`
}

// FindingRecord is a finding with the diff that produced it.
type FindingRecord struct {
	drift.Finding
	Changes []Change `json:"changes"`
}

// Record is one evaluation.
type Record struct {
	SchemaVersion string `json:"schema_version"`
	Tool          struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"tool"`
	Unit             string            `json:"unit"`
	PolicyDigest     string            `json:"policy_digest"`
	ExceptionDigests map[string]string `json:"exception_digests,omitempty"`
	Inputs           []Input           `json:"inputs"`
	EvaluatedAt      string            `json:"evaluated_at"`
	Decision         struct {
		Status        string `json:"status"`
		Gate          string `json:"gate"`
		BlockingCount int    `json:"blocking_count"`
		Summary       string `json:"summary"`
	} `json:"decision"`
	Findings []FindingRecord `json:"findings"`
}

// New builds the record of an evaluation.
func New(tool, version string, unit *drift.ManagedUnit, exceptions []*drift.Exception, inputs []Input, rep *drift.Report, at time.Time) (*Record, error) {
	r := &Record{SchemaVersion: SchemaVersion, Unit: unit.Metadata.Name, Inputs: inputs, EvaluatedAt: at.UTC().Format(time.RFC3339), Findings: []FindingRecord{}}
	r.Tool.Name, r.Tool.Version = tool, version
	pj, err := drift.CanonicalJSON(unit)
	if err != nil {
		return nil, err
	}
	r.PolicyDigest = Digest(pj)
	for _, e := range exceptions {
		ej, err := drift.CanonicalJSON(e)
		if err != nil {
			return nil, err
		}
		if r.ExceptionDigests == nil {
			r.ExceptionDigests = map[string]string{}
		}
		r.ExceptionDigests[e.ID()] = Digest(ej)
	}
	r.Decision.Status, r.Decision.Gate, r.Decision.BlockingCount, r.Decision.Summary = rep.Status, rep.Gate, rep.BlockingCount, rep.Summary
	for _, f := range rep.Findings {
		fr := FindingRecord{Finding: f, Changes: []Change{}}
		for _, c := range f.Changes {
			fr.Changes = append(fr.Changes, Change{Path: c.Path.String(), Before: c.Before, After: c.After})
		}
		r.Findings = append(r.Findings, fr)
	}
	return r, nil
}

// Digest is "sha256:<hex>" of data.
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Encode serialises a record canonically and returns it with its content-addressed key,
// <unit>/<evaluated_at>-<digest>.json, so a record can never replace a different one.
func (r *Record) Encode() (key string, data []byte, err error) {
	data, err = drift.CanonicalJSON(r)
	if err != nil {
		return "", nil, err
	}
	sum := sha256.Sum256(data)
	stamp := strings.NewReplacer(":", "", "-", "").Replace(r.EvaluatedAt)
	return r.Unit + "/" + stamp + "-" + hex.EncodeToString(sum[:12]) + ".json", data, nil
}

// Store keeps records without ever overwriting one.
type Store interface {
	// Put writes data at key; writing the same bytes again is a no-op, different bytes an error.
	Put(key string, data []byte) (location string, err error)
}

// ContextStore is a Store whose writes stop when a context ends (a scan's --timeout, SIGTERM).
type ContextStore interface {
	Store
	PutContext(ctx context.Context, key string, data []byte) (location string, err error)
}

// Put writes through s, within ctx when s honours one.
func Put(ctx context.Context, s Store, key string, data []byte) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("evidence record %s not written: %w", key, err)
	}
	if cs, ok := s.(ContextStore); ok {
		return cs.PutContext(ctx, key, data)
	}
	return s.Put(key, data)
}

// MaxRecordBytes bounds a record read back (Decode).
const MaxRecordBytes = 64 << 20

// Decode reads a record (for verification), refusing oversized or hostile nesting before
// decoding. name is used in messages.
func Decode(name string, data []byte) (*Record, error) {
	var r Record
	if err := drift.DecodeRecord("evidence record", name, data, MaxRecordBytes, SchemaVersion, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Dir is a Store in a local folder (blob.Dir: the one create-only folder store).
type Dir = blob.Dir

// ObservationsDigest digests what was compared (desired and live, normalized and redacted): the
// Kubernetes plane's equivalent of a plan file's digest.
func ObservationsDigest(obs []drift.Observation) string {
	type entry struct {
		Ref      string `json:"ref"`
		Recorded any    `json:"recorded"`
		Actual   any    `json:"actual"`
		Deleted  bool   `json:"deleted,omitempty"`
	}
	entries := make([]entry, len(obs))
	for i, o := range obs {
		entries[i] = entry{o.Ref, o.Recorded, o.Actual, o.Deleted}
	}
	js, _ := drift.CanonicalJSON(entries)
	return Digest(js)
}
