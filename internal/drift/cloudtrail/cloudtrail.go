// Package cloudtrail attributes OpenTofu-plane drift to the AWS principal that made it: it reads
// CloudTrail log files (the gzipped JSON {"Records": [...]} that trails deliver, or plain JSON)
// and indexes the write API calls by the identifiers of the resources they touched.
package cloudtrail

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// Record is the part of a CloudTrail record used here (the documented record format).
type Record struct {
	EventVersion      string          `json:"eventVersion"`
	EventTime         string          `json:"eventTime"`
	EventSource       string          `json:"eventSource"`
	EventName         string          `json:"eventName"`
	AWSRegion         string          `json:"awsRegion"`
	SourceIPAddress   string          `json:"sourceIPAddress"`
	UserAgent         string          `json:"userAgent"`
	ErrorCode         string          `json:"errorCode"`
	ReadOnly          *bool           `json:"readOnly"`
	UserIdentity      UserIdentity    `json:"userIdentity"`
	RequestParameters json.RawMessage `json:"requestParameters"`
	Resources         []struct {
		ARN       string `json:"ARN"`
		AccountID string `json:"accountId"`
		Type      string `json:"type"`
	} `json:"resources"`
}

// UserIdentity is who made the call.
type UserIdentity struct {
	Type           string `json:"type"` // IAMUser, AssumedRole, AWSService, Root, FederatedUser, ...
	PrincipalID    string `json:"principalId"`
	ARN            string `json:"arn"`
	AccountID      string `json:"accountId"`
	UserName       string `json:"userName"`
	InvokedBy      string `json:"invokedBy"`
	SessionContext struct {
		SessionIssuer struct {
			Type     string `json:"type"`
			ARN      string `json:"arn"`
			UserName string `json:"userName"`
		} `json:"sessionIssuer"`
	} `json:"sessionContext"`
}

// Trail indexes write calls by resource identifier.
type Trail struct {
	byID map[string][]event
}

type event struct {
	at    time.Time
	actor drift.Actor
}

// ReadPath reads a log file or every *.json / *.json.gz file below a folder.
func ReadPath(path string) (*Trail, error) {
	info, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("cloudtrail logs %s do not exist", path)
		}
		return nil, fmt.Errorf("cloudtrail logs %s: %w", path, err)
	}
	files := []string{path}
	if info.IsDir() {
		files = nil
		err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".json.gz")) {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("cloudtrail logs %s: %w", path, err)
		}
		sort.Strings(files)
	}
	t := &Trail{byID: map[string][]event{}}
	for _, f := range files {
		if err := t.addFile(f); err != nil {
			return nil, err
		}
	}
	t.sort()
	return t, nil
}

// ReadS3 reads every log object under s3://bucket/prefix, as a trail delivers them.
func ReadS3(ctx context.Context, c *s3.Client, location string) (*Trail, error) {
	rest := strings.TrimPrefix(location, "s3://")
	bucket, prefix, _ := strings.Cut(rest, "/")
	t := &Trail{byID: map[string][]event{}}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	n := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("cloudtrail logs %s: %w", location, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if !strings.HasSuffix(key, ".json") && !strings.HasSuffix(key, ".json.gz") {
				continue
			}
			obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
			if err != nil {
				return nil, fmt.Errorf("cloudtrail log s3://%s/%s: %w", bucket, key, err)
			}
			err = t.addReader("s3://"+bucket+"/"+key, obj.Body)
			_ = obj.Body.Close()
			if err != nil {
				return nil, err
			}
			n++
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("cloudtrail logs %s: no .json or .json.gz objects", location)
	}
	t.sort()
	return t, nil
}

func (t *Trail) addFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cloudtrail log %s: %w", path, err)
	}
	defer func() { _ = f.Close() }()
	return t.addReader(path, f)
}

func (t *Trail) addReader(name string, r io.Reader) error {
	if strings.HasSuffix(name, ".gz") {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return fmt.Errorf("cloudtrail log %s: not gzip: %w", name, err)
		}
		defer func() { _ = gz.Close() }()
		r = gz
	}
	return t.Add(name, r)
}

// Add reads one log document ({"Records": [...]}). name is used in messages.
func (t *Trail) Add(name string, r io.Reader) error {
	var doc struct {
		Records *[]Record `json:"Records"`
	}
	dec := json.NewDecoder(io.LimitReader(r, 1<<30))
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("cloudtrail log %s: not a CloudTrail log file: %w", name, err)
	}
	if doc.Records == nil {
		return fmt.Errorf("cloudtrail log %s: no Records array: not a CloudTrail log file", name)
	}
	for i, rec := range *doc.Records {
		if rec.ErrorCode != "" || (rec.ReadOnly != nil && *rec.ReadOnly) || isRead(rec.EventName) {
			continue
		}
		at, err := time.Parse(time.RFC3339, rec.EventTime)
		if err != nil {
			return fmt.Errorf("cloudtrail log %s: Records[%d].eventTime %q: %w", name, i, rec.EventTime, err)
		}
		e := event{at: at, actor: actorOf(rec, at)}
		for _, id := range identifiers(rec) {
			t.byID[id] = append(t.byID[id], e)
		}
	}
	return nil
}

func (t *Trail) sort() {
	for _, es := range t.byID {
		sort.SliceStable(es, func(i, j int) bool { return es[i].at.Before(es[j].at) })
	}
}

// LastWrite returns who last wrote any of ids (a resource's ID, ARN or name from state).
func (t *Trail) LastWrite(ids ...string) *drift.Actor {
	if t == nil {
		return nil
	}
	var best *event
	for _, id := range ids {
		if id == "" {
			continue
		}
		es := t.byID[id]
		if len(es) > 0 && (best == nil || es[len(es)-1].at.After(best.at)) {
			e := es[len(es)-1]
			best = &e
		}
	}
	if best == nil {
		return nil
	}
	a := best.actor
	return &a
}

func isRead(name string) bool {
	for _, p := range []string{"Get", "List", "Describe", "Head", "Lookup", "Search", "Scan", "Query", "BatchGet"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// actorOf names the principal. An assumed role's groups hold the role's name and ARN, so a unit's
// break-glass roles match like break-glass groups do.
func actorOf(rec Record, at time.Time) drift.Actor {
	u := rec.UserIdentity
	a := drift.Actor{Time: at.UTC().Format(time.RFC3339), UserAgent: rec.UserAgent}
	switch u.Type {
	case "IAMUser":
		a.Username, a.Kind = orElse(u.UserName, u.ARN), drift.ActorHuman
	case "AssumedRole", "FederatedUser":
		a.Username, a.Kind = orElse(u.ARN, u.PrincipalID), drift.ActorHuman
		if issuer := u.SessionContext.SessionIssuer; issuer.UserName != "" {
			a.Groups = []string{issuer.UserName, issuer.ARN}
		}
		if u.InvokedBy != "" {
			a.Kind = drift.ActorService
		}
	case "AWSService":
		a.Username, a.Kind = orElse(u.InvokedBy, "aws-service"), drift.ActorService
	case "Root":
		a.Username, a.Kind = "root", drift.ActorHuman
	default:
		a.Username, a.Kind = orElse(u.ARN, u.Type), drift.ActorUnknown
	}
	if rec.SourceIPAddress != "" && !strings.Contains(rec.SourceIPAddress, ".amazonaws.com") {
		a.Manager = rec.EventSource + " " + rec.EventName + " from " + rec.SourceIPAddress
	} else {
		a.Manager = rec.EventSource + " " + rec.EventName
	}
	return a
}

func orElse(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// identityKeys are requestParameters that name the resource a call writes, across IAM, EC2 and
// the other common services.
var identityKeys = map[string]bool{
	"groupId": true, "groupName": true, "instanceId": true, "roleName": true, "userName": true, "policyArn": true,
	"bucketName": true, "dBInstanceIdentifier": true, "functionName": true, "vpcId": true, "subnetId": true,
	"securityGroupRuleId": true, "keyId": true, "secretId": true, "name": true, "loadBalancerArn": true,
}

// identifiers lists everything a call names: resources[].ARN and identifying request parameters,
// including items of lists such as instancesSet.items[].instanceId.
func identifiers(rec Record) []string {
	var ids []string
	for _, r := range rec.Resources {
		if r.ARN != "" {
			ids = append(ids, r.ARN)
		}
	}
	var params any
	if len(rec.RequestParameters) > 0 && json.Unmarshal(rec.RequestParameters, &params) == nil {
		collect(params, &ids)
	}
	return ids
}

func collect(v any, ids *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && identityKeys[k] && s != "" {
				*ids = append(*ids, s)
				continue
			}
			collect(e, ids)
		}
	case []any:
		for _, e := range x {
			collect(e, ids)
		}
	}
}

// stateIDKeys are the attributes of an OpenTofu resource that CloudTrail calls name it by.
var stateIDKeys = []string{"id", "arn", "name", "unique_id", "role_name", "group_id", "instance_id", "bucket"}

// Attribute sets the actor of every observation whose resource (found by its ID, ARN or name in
// the recorded state, or in state by address when given) a write call touched.
func (t *Trail) Attribute(obs []drift.Observation, state ...map[string]map[string]any) {
	for i := range obs {
		var ids []string
		sources := []any{obs[i].Recorded, obs[i].Actual}
		for _, s := range state {
			if v, ok := s[obs[i].Ref]; ok {
				sources = append(sources, v)
			}
		}
		for _, v := range sources {
			m, ok := v.(map[string]any)
			if !ok {
				continue
			}
			for _, k := range stateIDKeys {
				if s, ok := m[k].(string); ok && s != "" {
					ids = append(ids, s)
				}
			}
		}
		if a := t.LastWrite(ids...); a != nil {
			obs[i].Actor = a
		}
	}
}
