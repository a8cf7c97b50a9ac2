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
	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
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

// ErrTooLarge is wrapped by errors for a log over a size bound (a gzip bomb, a runaway value).
var ErrTooLarge = errors.New("cloudtrail log too large")

// Bounds on one log object. CloudTrail delivers a file every few minutes per region; a few MB
// decompressed is typical, and CloudTrail caps one event at 256 KB.
const (
	// DefaultMaxBytes bounds one object's decompressed bytes (WithMaxBytes changes it).
	DefaultMaxBytes int64 = blob.DefaultMaxBytes
	// MaxValueBytes bounds one record (or any other single JSON value) of a log: the reader
	// holds one record at a time, so this bounds its memory.
	MaxValueBytes int64 = 4 << 20
)

// Option configures reading.
type Option func(*options)

type options struct{ maxBytes int64 }

// WithMaxBytes bounds each log object's decompressed size (DefaultMaxBytes when n <= 0).
func WithMaxBytes(n int64) Option { return func(o *options) { o.maxBytes = n } }

func collectOptions(opts []Option) options {
	o := options{maxBytes: DefaultMaxBytes}
	for _, opt := range opts {
		opt(&o)
	}
	if o.maxBytes <= 0 {
		o.maxBytes = DefaultMaxBytes
	}
	return o
}

// ReadPath reads a log file or every *.json / *.json.gz file below a folder.
func ReadPath(path string, opts ...Option) (*Trail, error) {
	return ReadPathContext(context.Background(), path, opts...)
}

// ReadPathContext is ReadPath that stops, with ctx's error, when ctx ends.
func ReadPathContext(ctx context.Context, path string, opts ...Option) (*Trail, error) {
	o := collectOptions(opts)
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
			if cerr := ctx.Err(); cerr != nil {
				return cerr
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
		if err := t.addFile(ctx, f, o); err != nil {
			return nil, err
		}
	}
	t.sort()
	return t, nil
}

// ReadS3 reads every log object under s3://bucket/prefix, as a trail delivers them.
func ReadS3(ctx context.Context, c *s3.Client, location string, opts ...Option) (*Trail, error) {
	o := collectOptions(opts)
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
		for _, obj := range page.Contents {
			key := aws.ToString(obj.Key)
			if !strings.HasSuffix(key, ".json") && !strings.HasSuffix(key, ".json.gz") {
				continue
			}
			name := "s3://" + bucket + "/" + key
			if obj.Size != nil && *obj.Size > o.maxBytes {
				return nil, fmt.Errorf("cloudtrail log %s is %d bytes, over the bound of %d bytes on one log object: %w", name, *obj.Size, o.maxBytes, ErrTooLarge)
			}
			body, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
			if err != nil {
				return nil, fmt.Errorf("cloudtrail log %s: %w", name, err)
			}
			err = t.addReader(ctx, name, body.Body, o)
			_ = body.Body.Close()
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

func (t *Trail) addFile(ctx context.Context, path string, o options) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cloudtrail log %s: %w", path, err)
	}
	defer func() { _ = f.Close() }()
	return t.addReader(ctx, path, f, o)
}

func (t *Trail) addReader(ctx context.Context, name string, r io.Reader, o options) error {
	r = blob.ContextReader(ctx, r)
	if strings.HasSuffix(name, ".gz") {
		gz, err := gzip.NewReader(r)
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return fmt.Errorf("cloudtrail log %s: %w", name, cerr)
			}
			return fmt.Errorf("cloudtrail log %s: not gzip: %w", name, err)
		}
		defer func() { _ = gz.Close() }()
		r = gz
	}
	err := t.add(name, r, o.maxBytes)
	if err != nil && ctx.Err() != nil && !strings.Contains(err.Error(), ctx.Err().Error()) {
		return fmt.Errorf("%w: %w", err, ctx.Err())
	}
	return err
}

// Add reads one log document ({"Records": [...]}) of at most DefaultMaxBytes. name is used in
// messages.
func (t *Trail) Add(name string, r io.Reader) error { return t.add(name, r, DefaultMaxBytes) }

// add streams the document: records are decoded one at a time, so memory is bounded by one
// record (MaxValueBytes), never by the file; the (decompressed) bytes by max; the nesting by
// drift.MaxJSONDepth. A document that fails part-way leaves t unchanged.
func (t *Trail) add(name string, r io.Reader, max int64) error {
	br := &boundedReader{r: r, max: max, maxValue: MaxValueBytes}
	dec := json.NewDecoder(drift.JSONDepthReader(br, drift.MaxJSONDepth))
	fail := func(err error) error {
		switch {
		case errors.Is(err, errTotal):
			return fmt.Errorf("cloudtrail log %s decompresses to more than %d bytes, the bound on one log object (a gzip bomb?): %w", name, max, ErrTooLarge)
		case errors.Is(err, errValue):
			return fmt.Errorf("cloudtrail log %s: more than %d bytes from byte %d on without one complete JSON value (a runaway record or a gzip bomb): %w", name, MaxValueBytes, br.mark, ErrTooLarge)
		case errors.Is(err, drift.ErrJSONTooDeep):
			return fmt.Errorf("cloudtrail log %s: %w", name, err)
		}
		return fmt.Errorf("cloudtrail log %s: not a CloudTrail log file: %w", name, err)
	}
	token := func() (json.Token, error) {
		br.mark = dec.InputOffset()
		return dec.Token()
	}
	if tok, err := token(); err != nil {
		return fail(err)
	} else if tok != json.Delim('{') {
		return fail(fmt.Errorf("want an object, found %v", tok))
	}
	more := func() bool {
		br.mark = dec.InputOffset()
		return dec.More()
	}
	found := false
	var events []idEvent
	for more() {
		tok, err := token()
		if err != nil {
			return fail(err)
		}
		if key, _ := tok.(string); key != "Records" {
			if err := skipValue(dec, br); err != nil {
				return fail(err)
			}
			continue
		}
		tok, err = token()
		if err != nil {
			return fail(err)
		}
		if tok == nil {
			continue // "Records": null is no Records array
		}
		if tok != json.Delim('[') {
			return fail(errors.New("the value of Records is not an array"))
		}
		found = true
		for i := 0; more(); i++ {
			var rec Record
			br.mark = dec.InputOffset()
			if err := dec.Decode(&rec); err != nil {
				if errors.Is(err, errTotal) || errors.Is(err, errValue) || errors.Is(err, drift.ErrJSONTooDeep) {
					return fail(err)
				}
				return fail(fmt.Errorf("decoding Records[%d]: %w", i, err))
			}
			if rec.ErrorCode != "" || (rec.ReadOnly != nil && *rec.ReadOnly) || isRead(rec.EventName) {
				continue
			}
			at, err := time.Parse(time.RFC3339, rec.EventTime)
			if err != nil {
				return fmt.Errorf("cloudtrail log %s: Records[%d].eventTime %q: %w", name, i, rec.EventTime, err)
			}
			e := event{at: at, actor: actorOf(rec, at)}
			for _, id := range identifiers(rec) {
				events = append(events, idEvent{id, e})
			}
		}
		if _, err := token(); err != nil { // ]
			return fail(err)
		}
	}
	if _, err := token(); err != nil { // }
		return fail(err)
	}
	if _, err := token(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("data after the log document")
		}
		return fail(err)
	}
	if !found {
		return fmt.Errorf("cloudtrail log %s: no Records array: not a CloudTrail log file", name)
	}
	for _, ie := range events {
		t.byID[ie.id] = append(t.byID[ie.id], ie.e)
	}
	return nil
}

type idEvent struct {
	id string
	e  event
}

// skipValue consumes one JSON value token by token, so a large value that is not Records is
// never held whole.
func skipValue(dec *json.Decoder, br *boundedReader) error {
	depth := 0
	for {
		br.mark = dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('['), json.Delim('{'):
			depth++
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

var (
	errTotal = errors.New("over the size bound")
	errValue = errors.New("JSON value over the size bound")
)

// boundedReader fails once more than max bytes have passed through it, or once the value the
// decoder is working on (everything read since mark, the decoder's offset where the value
// began) exceeds maxValue: the decoder only reads again when the value is still incomplete.
type boundedReader struct {
	r             io.Reader
	max, maxValue int64
	total, mark   int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.total-b.mark > b.maxValue {
		return 0, errValue
	}
	if b.total > b.max {
		return 0, errTotal
	}
	if room := b.max + 1 - b.total; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := b.r.Read(p)
	b.total += int64(n)
	if b.total > b.max {
		return n, errTotal
	}
	return n, err
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

// ReadLocation reads every log below a local folder or S3 prefix, or one local log file.
func ReadLocation(ctx context.Context, loc *blob.Location, opts ...Option) (*Trail, error) {
	if !loc.IsS3() {
		return ReadPathContext(ctx, loc.Path(), opts...)
	}
	c, err := loc.Client(ctx)
	if err != nil {
		return nil, err
	}
	return ReadS3(ctx, c, loc.String(), opts...)
}
