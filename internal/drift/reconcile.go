package drift

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Values of the decision table's `change` condition for a GitOps applier that does not converge
// (issue 15): its last sync failed, or it fights another writer over a field.
const (
	// ChangeSyncFailed: the applier's last sync operation failed on the resource (Argo CD's
	// syncResult SyncFailed, or the whole operation Failed or Error).
	ChangeSyncFailed = "sync_failed"
	// ChangeThrash: one field of the object keeps changing between writers (ReconcileThrashing).
	ChangeThrash = "thrash"
)

// Reasons of a ReconcileFailure on the Kubernetes plane.
const (
	// FailureSyncFailed: the GitOps applier's last sync operation failed on the object
	// (ReconcileFailure.Message says why, as the applier said it).
	FailureSyncFailed = "sync_failed"
	// FailureThrash: one field of the object changed back and forth between writers within the
	// unit's window (ReconcileFailure.Thrash).
	FailureThrash = "thrash"
)

// SyncOperation is the last sync operation of a GitOps applier, as plain data (Argo CD's
// Application status.operationState): front ends translate, the core decides.
type SyncOperation struct {
	// Phase is Running, Succeeded, Failed, Error or Terminating.
	Phase string
	// Message is the applier's message for the whole operation (hostile input: sanitized here).
	Message string
	// Revision is the Git revision the operation synced.
	Revision string
	// FinishedAt is when the operation ended (RFC 3339), empty while it runs.
	FinishedAt string
	// Resources are the per-resource results.
	Resources []SyncResourceResult
}

// SyncResourceResult is one resource's result in a sync operation (syncResult.resources[]).
type SyncResourceResult struct {
	Group, Version, Kind, Namespace, Name string
	// Status is Synced, SyncFailed, Pruned, PruneSkipped (Argo CD's ResultCode).
	Status string
	// Message is the applier's message (hostile input: sanitized here).
	Message string
}

// Sync operation phases and result codes that mean the applier could not apply Git.
const (
	SyncPhaseFailed  = "Failed"
	SyncPhaseError   = "Error"
	SyncResultFailed = "SyncFailed"
)

// SyncFailures turns a failed sync operation into observations the evaluation decides on (the
// sync-failed row): one per resource whose result is SyncFailed, or, when the operation failed
// with no resource result failing (it failed before applying anything), one on the application
// itself (app: group, version, kind, namespace, name of the Application). objects are the
// compared observations, so a failure on a declared object carries the same reference as its
// drift. Nothing for an operation that did not fail.
func SyncFailures(op SyncOperation, app SyncResourceResult, objects []Observation) []Observation {
	if op.Phase != SyncPhaseFailed && op.Phase != SyncPhaseError {
		return nil
	}
	type key struct{ group, kind, ns, name string }
	known := map[key]*Observation{}
	for i := range objects {
		o := &objects[i]
		known[key{o.Group, o.Kind, o.Namespace, o.Name}] = o
	}
	var out []Observation
	seen := map[key]bool{}
	for _, r := range op.Resources {
		if r.Status != SyncResultFailed {
			continue
		}
		k := key{r.Group, r.Kind, r.Namespace, r.Name}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, syncFailureObservation(r, op, known[k]))
	}
	if len(out) == 0 {
		r := app
		r.Message = op.Message
		out = append(out, syncFailureObservation(r, op, nil))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out
}

func syncFailureObservation(r SyncResourceResult, op SyncOperation, o *Observation) Observation {
	obs := Observation{
		Ref:   r.Group + "/" + r.Version + "/" + r.Kind + "/" + r.Namespace + "/" + r.Name,
		Type:  r.Group + "/" + r.Kind,
		Group: r.Group, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name,
	}
	if o != nil {
		obs.Ref, obs.Type, obs.Labels, obs.SensitivePaths = o.Ref, o.Type, o.Labels, o.SensitivePaths
		// Context only (the finding is decided on the failure), but whoever looks an object's
		// values up by reference (the ledger's digest of what runs) finds the same ones.
		obs.Recorded, obs.Actual, obs.Deleted = o.Recorded, o.Actual, o.Deleted
	}
	msg := r.Message
	if msg == "" {
		msg = op.Message
	}
	obs.Failure = &ReconcileFailure{Reason: FailureSyncFailed, Phase: op.Phase, Revision: op.Revision, Message: msg}
	return obs
}

// ReconcileThrashing is one path of one object that changed back and forth between writers.
type ReconcileThrashing struct {
	Path Pointer
	// Changes is how many times the path changed within Window.
	Changes int
	Window  string
	// Writers are the field managers (and driftplane's own auto-heal) that wrote it, sanitized.
	Writers []string
}

// reconcileFinding is FAILED_RECONCILIATION for an applier that does not converge: a failed sync
// (with the applier's message, sanitized) or a thrashing path. Neither heals: applying again is
// what failed, or what keeps the fight going.
func (ev *evaluator) reconcileFinding(obs *Observation) Finding {
	fl := obs.Failure
	t := ev.opts.Table
	var (
		f      Finding
		g      group
		domain string
	)
	switch fl.Reason {
	case FailureThrash:
		th := fl.Thrash
		if th == nil {
			th = &ReconcileThrashing{}
		}
		f, g, domain = ev.special(obs, ChangeThrash, []Change{{Path: th.Path}}, "thrash", nil)
		f.Explanation = ThrashExplanation(th) + "; auto-heal of the object is suspended while it lasts. Two control loops fight over the field (a self-heal against a mutating controller, an admission webhook or a person): find the other writer and give the field one owner (an ownership rule, or take it out of Git)"
	default:
		f, g, domain = ev.special(obs, ChangeSyncFailed, nil, "sync_failed:"+fl.Phase,
			struct{ Ref, Reason, Phase, Revision string }{obs.Ref, fl.Reason, fl.Phase, fl.Revision})
		strict := domain == DomainSecrets || t.DomainFor(obs.Type, nil) == DomainSecrets
		msg := SanitizeMessage(fl.Message, strict)
		if msg == "" {
			msg = "no message given"
		}
		phase := SanitizeMessage(fl.Phase, false)
		f.Explanation = fmt.Sprintf("The last sync operation (%s) could not apply it: %s. Syncing again is what failed: investigate before syncing again; it is never auto-healed, and no other drift of the object heals while it lasts", phase, msg)
	}
	f.AutoHealAllowed = false
	if !t.Expected(f.DriftClass) {
		ev.applyExceptions(&f, obs, domain, g)
	}
	return f
}

// ThrashExplanation is the finding's lead: "thrash: <path> changed N times in W by <writers>".
func ThrashExplanation(th *ReconcileThrashing) string {
	writers := "unknown writers"
	if len(th.Writers) > 0 {
		ws := th.Writers
		more := ""
		if len(ws) > maxThrashWriters {
			more = fmt.Sprintf(" and %d more", len(ws)-maxThrashWriters)
			ws = ws[:maxThrashWriters]
		}
		writers = strings.Join(ws, ", ") + more
	}
	return fmt.Sprintf("thrash: %s changed %d times in %s by %s", th.Path.String(), th.Changes, th.Window, writers)
}

const maxThrashWriters = 5

// MaxReconcileMessage bounds an applier's message in a finding, in characters.
const MaxReconcileMessage = 400

// maxMessageInput bounds what the sanitizer reads at all: an applier's message is hostile input.
const maxMessageInput = 64 << 10

const redacted = "[redacted]"

var (
	rePEM         = regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*-----.*?(?:-----END [A-Z0-9 ]*-----|$)`)
	reJWT         = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*`)
	reAuth        = regexp.MustCompile(`(?i)\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{6,}`)
	reURLUser     = regexp.MustCompile(`://[^/@\s"']+@`)
	reOpaque      = regexp.MustCompile(`[A-Za-z0-9+/_-]{32,}={0,2}`)
	reStrictRun   = regexp.MustCompile(`[A-Za-z0-9+/_=-]{12,}`)
	reQuotedD     = regexp.MustCompile(`"(?:[^"\\]|\\.)*"?`)
	reQuotedS     = regexp.MustCompile(`'[^']*'?`)
	reSpaces      = regexp.MustCompile(` {2,}`)
	reValueMarker = regexp.MustCompile(`(?i)(invalid value|unsupported value|duplicate value|not found|forbidden value|` +
		// A key whose value is a secret or a whole manifest's data.
		`"?(?:[A-Za-z0-9_.-]*(?:password|passwd|secret|token|apikey|api_key|api-key|credential|private_key|privatekey)[A-Za-z0-9_.-]*|data|stringData|binaryData|last-applied-configuration|env|value)"?)(\s*[:=]\s*)`)
)

// SanitizeMessage makes an applier's message safe to keep in a finding, an Event, a health
// message and a notification. Such messages are hostile input: a manifest's author or the API
// server may put anything in them, and API server validation errors echo values ("Invalid value:
// ..."), so a Secret's data or a password in an env var can come back in them. It drops control
// and format characters (a message cannot forge lines, terminal escapes or bidi tricks), redacts
// every value an API server echoes and every value under a key that names a secret, data or an
// env value, PEM blocks, JWTs, bearer tokens, credentials in URLs and opaque runs of 32 and more
// characters, and cuts it to MaxReconcileMessage characters. strict (an object of the secrets
// domain) redacts every quoted string and every run of 12 and more token characters as well.
func SanitizeMessage(s string, strict bool) string {
	if len(s) > maxMessageInput {
		s = s[:maxMessageInput]
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size <= 1:
			// invalid UTF-8 is dropped, never passed through
		case r == '\n' || r == '\r' || r == '\t' || unicode.IsSpace(r):
			b.WriteByte(' ')
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Co, r):
			// control, format (bidi overrides, zero-width) and private-use characters are dropped
		default:
			b.WriteRune(r)
		}
	}
	out := b.String()
	out = rePEM.ReplaceAllString(out, redacted)
	out = redactValues(out)
	out = reJWT.ReplaceAllString(out, redacted)
	out = reAuth.ReplaceAllString(out, "$1$2"+redacted)
	out = reURLUser.ReplaceAllString(out, "://"+redacted+"@")
	if strict {
		out = reQuotedD.ReplaceAllString(out, `"`+redacted+`"`)
		out = reQuotedS.ReplaceAllString(out, `'`+redacted+`'`)
		out = reStrictRun.ReplaceAllStringFunc(out, func(m string) string {
			if m == redacted[1:len(redacted)-1] {
				return m
			}
			return redacted
		})
	}
	out = reOpaque.ReplaceAllString(out, redacted)
	out = strings.TrimSpace(reSpaces.ReplaceAllString(out, " "))
	if utf8.RuneCountInString(out) > MaxReconcileMessage {
		rs := []rune(out)
		out = string(rs[:MaxReconcileMessage-1]) + "…"
	}
	return out
}

// redactValues replaces the value after every marker reValueMarker finds (an echoed value, a
// secret-named key, a manifest's data) with [redacted]; the value is a quoted string, a balanced
// {...} or [...] (quotes respected), or a bare word up to the next separator.
func redactValues(s string) string {
	var b strings.Builder
	for {
		loc := reValueMarker.FindStringSubmatchIndex(s)
		if loc == nil {
			b.WriteString(s)
			return b.String()
		}
		end := loc[1]
		b.WriteString(s[:end])
		n := valueLen(s[end:])
		// A bare word after "data:" or "value:" is prose ("error validating data: ..."); only a
		// quoted or structured value there is a manifest's.
		if weak[strings.ToLower(strings.Trim(s[loc[2]:loc[3]], `"`))] && n > 0 && !strings.ContainsAny(s[end:end+1], `"'{[`) {
			n = 0
		}
		if n > 0 {
			b.WriteString(redacted)
		}
		s = s[end+n:]
	}
}

var weak = map[string]bool{"data": true, "stringdata": true, "binarydata": true, "env": true, "value": true}

// valueLen is the length of the value at the start of s (0 when there is none).
func valueLen(s string) int {
	if s == "" {
		return 0
	}
	switch s[0] {
	case '"', '\'':
		q := s[0]
		for i := 1; i < len(s); i++ {
			if s[i] == '\\' && q == '"' {
				i++
				continue
			}
			if s[i] == q {
				return i + 1
			}
		}
		return len(s) // unterminated: everything after it may be the value
	case '{', '[', '(':
		depth := 0
		var q byte
		for i := 0; i < len(s); i++ {
			c := s[i]
			if q != 0 {
				switch c {
				case '\\':
					i++
				case q:
					q = 0
				}
				continue
			}
			switch c {
			case '"':
				q = c
			case '{', '[', '(':
				depth++
			case '}', ']', ')':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(s)
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ' ', ',', ';', ')', '}', ']':
			return i
		case ':':
			// "Invalid value: x: reason": the value ends at ": ".
			if i+1 == len(s) || s[i+1] == ' ' {
				return i
			}
		}
	}
	return len(s)
}

// SanitizeName makes a client-chosen name (a field manager) safe to print: no control or format
// characters, at most 64 characters.
func SanitizeName(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Co, r) {
			continue
		}
		if n == 64 {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// markdownReconcileArgo documents the change kinds of an applier that does not converge.
func markdownReconcileArgo(b *strings.Builder) {
	b.WriteString("\n## Failed syncs and reconcile thrash\n\n" +
		"On the Kubernetes plane the Argo CD reporter also reads the application's last sync operation and keeps, per changed path, the keyed digests of its live value across evaluations; the rows with a `change` of these kinds decide it:\n\n" +
		"- `sync_failed`: the application's last sync operation (`status.operationState`) ended `Failed` or `Error`; every resource whose result is `SyncFailed` gets a finding with Argo CD's message, or the Application itself when the operation failed before any resource. The message is sanitized: at most " + fmt.Sprint(MaxReconcileMessage) + " characters, no control or format characters, and every value an API server echoes (`Invalid value: ...`), every value under a key naming a secret, data, an env value or a last-applied configuration, PEM blocks, tokens, URL credentials and opaque runs are redacted (for a secrets-domain object every quoted string too). A later successful sync ends it.\n" +
		"- `thrash`: one path of one object changed at least `changes` times within `window` (the unit's `reconcileThrash`, default 3 in 30m) with more than one writer (field managers from `managedFields`; driftplane's own auto-heal counts as a writer, and a heal followed by the value changing again counts both changes). The explanation reads `thrash: <path> changed N times in W by <writers>`. History is kept in the DriftReport's `status.reconcile`: per path, keyed digests of the value at each evaluation (never the value), in evaluation order, at most 50 paths; a clock that goes backwards never shortens the window.\n\n" +
		"While a `FAILED_RECONCILIATION` finding is open on an object, auto-heal of every finding on that object is suspended (a heal is a sync of the whole object): the sync already failed, or would join the fight. More changed paths than can be tracked suspend auto-heal of the whole application.\n")
}
