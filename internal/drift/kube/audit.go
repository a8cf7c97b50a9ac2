package kube

import (
	"bufio"
	"bytes"
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

	auditv1 "k8s.io/apiserver/pkg/apis/audit/v1"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// AuditLog indexes the writes of an API server's audit log (audit.k8s.io/v1 events, one JSON
// object per line, as the log backend writes them) by object.
type AuditLog struct {
	byObject map[string][]write
}

type write struct {
	actor   drift.Actor
	manager string
	at      time.Time
}

// ReadAuditLogFile reads an audit log file.
func ReadAuditLogFile(path string) (*AuditLog, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("audit log %s does not exist", path)
		}
		return nil, fmt.Errorf("audit log %s: %w", path, err)
	}
	defer func() { _ = f.Close() }()
	return ReadAuditLog(path, f)
}

// ReadAuditLog reads audit events. A line that is not an audit event is an error naming the
// line: an actor guessed from a half-read log would be worse than none.
func ReadAuditLog(name string, r io.Reader) (*AuditLog, error) {
	a := &AuditLog{byObject: map[string][]write{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var ev auditv1.Event
		if err := json.Unmarshal(b, &ev); err != nil {
			return nil, fmt.Errorf("audit log %s:%d: not an audit event: %w", name, line, err)
		}
		if ev.Kind != "" && ev.Kind != "Event" {
			return nil, fmt.Errorf("audit log %s:%d: kind %q is not an audit Event", name, line, ev.Kind)
		}
		if ev.Stage != auditv1.StageResponseComplete || ev.ObjectRef == nil || ev.ObjectRef.Name == "" {
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
		w := write{at: at, manager: managerOf(ev.RequestURI, ev.UserAgent)}
		w.actor = drift.Actor{
			Username:  ev.User.Username,
			Groups:    append([]string(nil), ev.User.Groups...),
			UserAgent: ev.UserAgent,
			Time:      at.UTC().Format(time.RFC3339),
			Manager:   w.manager,
			Kind:      userKind(ev.User.Username),
		}
		k := objectKey(ev.ObjectRef.APIGroup, ev.ObjectRef.Resource, ev.ObjectRef.Namespace, ev.ObjectRef.Name)
		a.byObject[k] = append(a.byObject[k], w)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("audit log %s: %w", name, err)
	}
	for _, ws := range a.byObject {
		sort.SliceStable(ws, func(i, j int) bool { return ws[i].at.Before(ws[j].at) })
	}
	return a, nil
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

func userKind(username string) string {
	switch {
	case strings.HasPrefix(username, "system:serviceaccount:"):
		return drift.ActorService
	case strings.HasPrefix(username, "system:"):
		return drift.ActorController
	case username == "":
		return drift.ActorUnknown
	}
	return drift.ActorHuman
}

// LastWrite returns who last wrote the object as the given field manager; with manager "",
// who last wrote it at all.
func (a *AuditLog) LastWrite(group, resource, namespace, name, manager string) *drift.Actor {
	if a == nil {
		return nil
	}
	ws := a.byObject[objectKey(group, resource, namespace, name)]
	for i := len(ws) - 1; i >= 0; i-- {
		if manager == "" || ws[i].manager == manager {
			actor := ws[i].actor
			return &actor
		}
	}
	return nil
}
