package kube

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// Bounds of ReadAuditLog. An audit log is input like any other: it may be huge, hostile or broken,
// and a governance gate refuses what it cannot read whole rather than guess from part of it.
const (
	// DefaultMaxAuditLineBytes bounds one event. Events at the RequestResponse level carry the
	// request and response objects, and the API server accepts request bodies up to 3 MiB, so the
	// bound leaves room for both; a longer line is an error naming the file and line.
	DefaultMaxAuditLineBytes = 8 << 20
	// DefaultMaxAuditBytes bounds the whole log; a longer one is an error (rotate it, or raise the
	// bound).
	DefaultMaxAuditBytes int64 = 1 << 30
	// DefaultMaxAuditWritesPerManager is how many of the most recent writes are kept per object
	// and field manager; older ones are dropped, so memory grows with the objects and managers
	// the log names, not with how often they were written.
	DefaultMaxAuditWritesPerManager = 64
)

// AuditOption bounds or cancels ReadAuditLog.
type AuditOption func(*auditOptions)

type auditOptions struct {
	ctx        context.Context
	maxLine    int
	maxBytes   int64
	perManager int
}

// WithAuditContext stops reading when ctx is done.
func WithAuditContext(ctx context.Context) AuditOption {
	return func(o *auditOptions) { o.ctx = ctx }
}

// WithMaxAuditLineBytes sets the longest event line accepted (default DefaultMaxAuditLineBytes).
func WithMaxAuditLineBytes(n int) AuditOption { return func(o *auditOptions) { o.maxLine = n } }

// WithMaxAuditBytes sets the largest log accepted (default DefaultMaxAuditBytes).
func WithMaxAuditBytes(n int64) AuditOption { return func(o *auditOptions) { o.maxBytes = n } }

// WithMaxAuditWritesPerManager sets how many recent writes are kept per object and field manager
// (default DefaultMaxAuditWritesPerManager).
func WithMaxAuditWritesPerManager(n int) AuditOption {
	return func(o *auditOptions) { o.perManager = n }
}

// AuditLog indexes the writes of an API server's audit log (audit.k8s.io/v1 events, one JSON
// object per line, as the log backend writes them) by object.
type AuditLog struct {
	byObject map[string]*objectWrites
}

type objectWrites struct {
	// last is the most recent write by any manager.
	last write
	// byManager keeps the most recent writes per field manager and subresource, oldest first.
	byManager map[managerKey][]write
}

type managerKey struct{ manager, subresource string }

type write struct {
	actor drift.Actor
	at    time.Time
	seq   int // line order, to break ties between equal timestamps
}

// auditEvent is the part of an audit.k8s.io/v1 Event driftplane reads; request and response
// bodies (RequestResponse level) are skipped, not decoded.
type auditEvent struct {
	Kind       string `json:"kind"`
	Stage      string `json:"stage"`
	RequestURI string `json:"requestURI"`
	Verb       string `json:"verb"`
	User       struct {
		Username string   `json:"username"`
		Groups   []string `json:"groups"`
	} `json:"user"`
	UserAgent string `json:"userAgent"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
		APIGroup    string `json:"apiGroup"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int32 `json:"code"`
	} `json:"responseStatus"`
	RequestReceivedTimestamp metav1.MicroTime `json:"requestReceivedTimestamp"`
	StageTimestamp           metav1.MicroTime `json:"stageTimestamp"`
}

// ReadAuditLogFile reads an audit log file.
func ReadAuditLogFile(path string, opts ...AuditOption) (*AuditLog, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("audit log %s does not exist", path)
		}
		return nil, fmt.Errorf("audit log %s: %w", path, err)
	}
	defer func() { _ = f.Close() }()
	return ReadAuditLog(path, f, opts...)
}

// countingReader fails once more than max bytes have been read.
type countingReader struct {
	r        io.Reader
	n, max   int64
	exceeded bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.exceeded {
		return 0, errAuditTooLarge
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		c.exceeded = true
		return n, errAuditTooLarge
	}
	return n, err
}

var errAuditTooLarge = errors.New("audit log too large")

// ReadAuditLog reads audit events. A line that is not an audit event is an error naming the
// line: an actor guessed from a half-read log would be worse than none. So is a line longer than
// the line bound, a log longer than the size bound, JSON nested deeper than drift.MaxJSONDepth,
// and a cancelled context.
func ReadAuditLog(name string, r io.Reader, opts ...AuditOption) (*AuditLog, error) {
	o := auditOptions{ctx: context.Background(), maxLine: DefaultMaxAuditLineBytes, maxBytes: DefaultMaxAuditBytes, perManager: DefaultMaxAuditWritesPerManager}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxLine <= 0 {
		o.maxLine = DefaultMaxAuditLineBytes
	}
	if o.maxBytes <= 0 {
		o.maxBytes = DefaultMaxAuditBytes
	}
	if o.perManager <= 0 {
		o.perManager = DefaultMaxAuditWritesPerManager
	}
	a := &AuditLog{byObject: map[string]*objectWrites{}}
	in := &interner{m: map[string]string{}}
	cr := &countingReader{r: r, max: o.maxBytes}
	sc := bufio.NewScanner(cr)
	// bufio.Scanner refuses tokens of max bytes or more; +1 so a line of exactly maxLine passes.
	sc.Buffer(make([]byte, 0, min(64*1024, o.maxLine+1)), o.maxLine+1)
	line := 0
	tooLarge := func() error {
		return fmt.Errorf("audit log %s: larger than %d bytes; rotate it or raise the bound", name, o.maxBytes)
	}
	for sc.Scan() {
		line++
		if cr.exceeded {
			return nil, tooLarge()
		}
		if line%1024 == 0 {
			if err := o.ctx.Err(); err != nil {
				return nil, fmt.Errorf("audit log %s:%d: %w", name, line, err)
			}
		}
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if err := drift.CheckJSONDepth(b, 0); err != nil {
			return nil, fmt.Errorf("audit log %s:%d: not an audit event: %w", name, line, err)
		}
		var ev auditEvent
		if err := json.Unmarshal(b, &ev); err != nil {
			return nil, fmt.Errorf("audit log %s:%d: not an audit event: %w", name, line, err)
		}
		if ev.Kind != "" && ev.Kind != "Event" {
			return nil, fmt.Errorf("audit log %s:%d: kind %q is not an audit Event", name, line, ev.Kind)
		}
		if ev.Stage != "ResponseComplete" || ev.ObjectRef == nil || ev.ObjectRef.Name == "" {
			continue
		}
		switch ev.Verb {
		case "create", "update", "patch":
		default:
			continue
		}
		if ev.ResponseStatus != nil && (ev.ResponseStatus.Code < 200 || ev.ResponseStatus.Code >= 300) {
			continue
		}
		at := ev.StageTimestamp.Time
		if at.IsZero() {
			at = ev.RequestReceivedTimestamp.Time
		}
		manager := in.s(managerOf(ev.RequestURI, ev.UserAgent))
		groups := make([]string, len(ev.User.Groups))
		for i, g := range ev.User.Groups {
			groups[i] = in.s(g)
		}
		w := write{at: at, seq: line, actor: drift.Actor{
			Username:  in.s(ev.User.Username),
			Groups:    groups,
			UserAgent: in.s(ev.UserAgent),
			Time:      at.UTC().Format(time.RFC3339),
			Manager:   manager,
			Kind:      userKind(ev.User.Username),
		}}
		ref := ev.ObjectRef
		k := in.s(objectKey(ref.APIGroup, ref.Resource, ref.Namespace, ref.Name))
		ow := a.byObject[k]
		if ow == nil {
			ow = &objectWrites{byManager: map[managerKey][]write{}}
			a.byObject[k] = ow
		}
		if ow.last.seq == 0 || !w.before(ow.last) {
			ow.last = w
		}
		mk := managerKey{manager, in.s(ref.Subresource)}
		ow.byManager[mk] = append(ow.byManager[mk], w)
		if ws := ow.byManager[mk]; len(ws) > 2*o.perManager {
			ow.byManager[mk] = keepRecent(ws, o.perManager)
		}
	}
	if err := sc.Err(); err != nil {
		switch {
		case errors.Is(err, errAuditTooLarge):
			return nil, tooLarge()
		case errors.Is(err, bufio.ErrTooLong):
			return nil, fmt.Errorf("audit log %s:%d: line longer than %d bytes", name, line+1, o.maxLine)
		}
		return nil, fmt.Errorf("audit log %s: %w", name, err)
	}
	if cr.exceeded {
		return nil, tooLarge()
	}
	for _, ow := range a.byObject {
		for mk, ws := range ow.byManager {
			ow.byManager[mk] = keepRecent(ws, o.perManager)
		}
	}
	return a, nil
}

func (w write) before(v write) bool {
	if !w.at.Equal(v.at) {
		return w.at.Before(v.at)
	}
	return w.seq < v.seq
}

// keepRecent sorts writes oldest first and keeps the n most recent, in a fresh slice so the
// dropped ones can be collected.
func keepRecent(ws []write, n int) []write {
	sort.SliceStable(ws, func(i, j int) bool { return ws[i].before(ws[j]) })
	if len(ws) > n {
		ws = ws[len(ws)-n:]
	}
	return append([]write(nil), ws...)
}

// interner shares the strings audit logs repeat on every line (users, groups, agents, objects).
type interner struct{ m map[string]string }

func (in *interner) s(v string) string {
	if x, ok := in.m[v]; ok {
		return x
	}
	v = strings.Clone(v)
	in.m[v] = v
	return v
}

func objectKey(group, resource, namespace, name string) string {
	return group + "/" + resource + "/" + namespace + "/" + name
}

// managerOf is the field manager a request wrote as: the fieldManager parameter, or what the API
// server defaults it to, the user agent up to its first "/".
func managerOf(requestURI, userAgent string) string {
	if u, err := url.Parse(requestURI); err == nil {
		if m := u.Query().Get("fieldManager"); m != "" {
			return m
		}
	}
	m, _, _ := strings.Cut(userAgent, "/")
	return m
}

// userKind classifies an authenticated username: service accounts are services, other system:
// identities (kube-controller-manager, kube-scheduler, nodes) are controllers, except the
// anonymous user, which is nobody in particular, and system:admin, which on the distributions
// that have it is a person's superuser login.
func userKind(username string) string {
	switch {
	case username == "", username == "system:anonymous", username == "system:unauthenticated":
		return drift.ActorUnknown
	case username == "system:admin":
		return drift.ActorHuman
	case strings.HasPrefix(username, "system:serviceaccount:"):
		return drift.ActorService
	case strings.HasPrefix(username, "system:"):
		return drift.ActorController
	}
	return drift.ActorHuman
}

// systemIdentity reports whether a username is a service account or a system component: who
// may write, under a controller's field-manager name, a field Git declares.
func systemIdentity(username string) bool {
	k := userKind(username)
	return k == drift.ActorService || k == drift.ActorController
}

// LastWrite returns who last wrote the object as the given field manager (through any
// subresource); with manager "", who last wrote it at all.
func (a *AuditLog) LastWrite(group, resource, namespace, name, manager string) *drift.Actor {
	if a == nil {
		return nil
	}
	ow := a.byObject[objectKey(group, resource, namespace, name)]
	if ow == nil {
		return nil
	}
	if manager == "" {
		actor := ow.last.actor
		return &actor
	}
	var best *write
	for mk, ws := range ow.byManager {
		if mk.manager == manager && len(ws) > 0 && (best == nil || best.before(ws[len(ws)-1])) {
			best = &ws[len(ws)-1]
		}
	}
	if best == nil {
		return nil
	}
	actor := best.actor
	return &actor
}

// writes returns the recent writes to the object as manager through subresource ("" for the
// object itself), oldest first.
func (a *AuditLog) writes(group, resource, namespace, name, manager, subresource string) []write {
	if a == nil {
		return nil
	}
	ow := a.byObject[objectKey(group, resource, namespace, name)]
	if ow == nil {
		return nil
	}
	return ow.byManager[managerKey{manager, subresource}]
}
