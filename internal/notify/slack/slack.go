// Package slack posts notifications to a Slack-compatible incoming webhook (Slack, Mattermost
// and others that accept Block Kit) as one message per group: a header, then for each finding a
// section with what changed, where (unit, resource, environment), who (owner, actor), class,
// risk, recommended action and the evidence, and for a resolved one how it was resolved.
//
// Finding text is untrusted (resource names, actors and explanations come from the systems that
// drifted), so every piece of it goes through Escape: Slack reads &, < and > as control
// characters (<!channel> pings everyone, <https://evil|click> is a disguised link), and they are
// sent as the entities Slack documents instead. The webhook URL is a credential; errors name only
// its host.
package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/driftplane/terraform-provider-drift/internal/notify"
)

// DefaultTimeout bounds one request.
const DefaultTimeout = 10 * time.Second

// MaxFindingsPerMessage bounds the findings of one message: Slack takes at most 50 blocks, and a
// finding takes three.
const MaxFindingsPerMessage = 10

// Slack's limits on text objects.
const (
	maxHeader = 150
	maxField  = 2000
	maxText   = 3000
)

// Message is an incoming-webhook payload.
type Message struct {
	// Text is the fallback shown in notifications and by clients without Block Kit.
	Text   string  `json:"text"`
	Blocks []Block `json:"blocks"`
}

// Block is a Block Kit layout block (header, section, context, divider).
type Block struct {
	Type     string `json:"type"`
	Text     *Text  `json:"text,omitempty"`
	Fields   []Text `json:"fields,omitempty"`
	Elements []Text `json:"elements,omitempty"`
}

// Text is a Block Kit text object.
type Text struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// Option configures a Receiver.
type Option func(*Receiver)

// WithHTTPClient sets the client (TLS, proxies); http.DefaultClient otherwise.
func WithHTTPClient(c *http.Client) Option { return func(r *Receiver) { r.client = c } }

// WithTimeout bounds one request.
func WithTimeout(d time.Duration) Option { return func(r *Receiver) { r.timeout = d } }

// Receiver posts to one incoming webhook.
type Receiver struct {
	name    string
	url     string
	client  *http.Client
	timeout time.Duration
}

// New is a receiver named name posting to the incoming webhook at hook.
func New(name, hook string, opts ...Option) (*Receiver, error) {
	if name == "" {
		return nil, errors.New("slack: receiver has no name")
	}
	u, err := url.Parse(hook)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("slack receiver %s: the webhook is not an http(s) URL", name)
	}
	r := &Receiver{name: name, url: hook, timeout: DefaultTimeout}
	for _, o := range opts {
		o(r)
	}
	if r.timeout <= 0 {
		r.timeout = DefaultTimeout
	}
	return r, nil
}

// Name is the receiver's name in the routing policy.
func (r *Receiver) Name() string { return r.name }

// Send posts the group's messages (Messages), in order; it stops at the first failure, and a
// retry posts them all again (a chat has no idempotency key: a retried message may repeat).
func (r *Receiver) Send(ctx context.Context, group []notify.Notification) error {
	for _, m := range Messages(group) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		// Escape already made the text inert; \u003c escapes would only make payloads unreadable.
		enc.SetEscapeHTML(false)
		if err := enc.Encode(m); err != nil {
			return fmt.Errorf("slack receiver %s: %w", r.name, err)
		}
		body := bytes.TrimSpace(buf.Bytes())
		pctx, cancel := context.WithTimeout(ctx, r.timeout)
		err := notify.Post(pctx, r.client, r.url, body, nil)
		cancel()
		if err != nil {
			return fmt.Errorf("slack receiver %s: %w", r.name, err)
		}
	}
	return nil
}

// Escape makes untrusted text inert in Slack mrkdwn: &, < and > become &amp;, &lt; and &gt;
// (what Slack's "Formatting text" documents as the escaping of its control characters).
func Escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// Messages renders a group: firing and resolved notifications in separate messages, at most
// MaxFindingsPerMessage findings in each.
func Messages(group []notify.Notification) []Message {
	var firing, resolved []notify.Notification
	for _, n := range group {
		if n.State == notify.StateResolved {
			resolved = append(resolved, n)
		} else {
			firing = append(firing, n)
		}
	}
	var out []Message
	for _, part := range [][]notify.Notification{firing, resolved} {
		for len(part) > 0 {
			k := min(len(part), MaxFindingsPerMessage)
			out = append(out, message(part[:k]))
			part = part[k:]
		}
	}
	return out
}

func message(ns []notify.Notification) Message {
	first := ns[0]
	resolved := first.State == notify.StateResolved
	var title string
	switch {
	case len(ns) == 1 && resolved:
		title = "Drift resolved: " + first.Finding.ResourceRef
	case len(ns) == 1:
		title = "Drift: " + first.Finding.ResourceRef + " (" + string(first.Finding.Risk) + ")"
	case resolved:
		title = strconv.Itoa(len(ns)) + " drifts resolved"
	default:
		title = strconv.Itoa(len(ns)) + " drifts (worst risk " + worst(ns) + ")"
	}
	m := Message{
		Text:   notify.Truncate(Escape(notify.Summary(first)), maxText),
		Blocks: []Block{{Type: "header", Text: &Text{Type: "plain_text", Text: notify.Truncate(title, maxHeader)}}},
	}
	if len(ns) > 1 {
		m.Text = notify.Truncate(Escape(title), maxText)
	}
	for i, n := range ns {
		if i > 0 {
			m.Blocks = append(m.Blocks, Block{Type: "divider"})
		}
		m.Blocks = append(m.Blocks, findingBlocks(n)...)
	}
	return m
}

func worst(ns []notify.Notification) string {
	w := ns[0].Finding.Risk
	for _, n := range ns[1:] {
		if n.Finding.Risk.Level() > w.Level() {
			w = n.Finding.Risk
		}
	}
	return string(w)
}

func findingBlocks(n notify.Notification) []Block {
	f := n.Finding
	field := func(label, value string) Text {
		if value == "" {
			value = "—"
		}
		return Text{Type: "mrkdwn", Text: notify.Truncate("*"+label+":*\n"+Escape(value), maxField)}
	}
	where := f.ResourceRef + "\nunit " + f.Unit
	if f.Environment != "" {
		where += ", " + f.Environment
	}
	who := "owner " + f.Owner
	if a := notify.Actor(n); a != "" {
		who += "\nchanged by " + a
	}
	evidence := f.Evidence
	if n.EvidenceURI != "" {
		evidence = n.EvidenceURI + "\n" + f.Evidence
	}
	class := string(f.DriftClass)
	if f.AcceptedBy != "" {
		class += " (accepted by " + f.AcceptedBy + ")"
	}
	fields := []Text{
		field("What", notify.ChangedFields(n)),
		field("Where", where),
		field("Who", who),
		field("Class", class),
		field("Risk", string(f.Risk)+blockingNote(f.Blocking)),
		field("Action", string(f.RecommendedAction)),
		field("Evidence", evidence),
	}
	if l := linkTo(n.EvidenceURI, "evidence record"); l != "" {
		// An evidence store served over http(s) is one click away; the digest stays as text.
		fields[len(fields)-1].Text = notify.Truncate("*Evidence:*\n"+l+"\n"+Escape(f.Evidence), maxField)
	}
	lead := "*" + Escape(f.ResourceRef) + "* drifted"
	if f.Deleted {
		lead = "*" + Escape(f.ResourceRef) + "* was deleted outside IaC"
	}
	if n.State == notify.StateResolved {
		lead = "*Resolved*: " + Escape(f.ResourceRef)
		if n.Resolution != "" {
			lead += " — " + Escape(n.Resolution)
		}
		if n.ResolvedAt != "" {
			lead += " at " + Escape(n.ResolvedAt)
		}
	}
	if l := linkTo(n.Link, "Open"); l != "" {
		lead += "  " + l
	}
	blocks := []Block{
		{Type: "section", Text: &Text{Type: "mrkdwn", Text: notify.Truncate(lead, maxText)}},
		{Type: "section", Fields: fields},
	}
	var notes []string
	if fp := notify.Fingerprint(n); fp != "" {
		notes = append(notes, "fingerprint "+fp)
	}
	if f.FirstSeen != "" {
		notes = append(notes, "first seen "+f.FirstSeen)
	}
	if f.Age != "" {
		notes = append(notes, "open for "+f.Age)
	}
	if f.Explanation != "" {
		notes = append(notes, f.Explanation)
	}
	if len(notes) > 0 {
		blocks = append(blocks, Block{Type: "context", Elements: []Text{{Type: "mrkdwn", Text: notify.Truncate(Escape(strings.Join(notes, " · ")), maxText)}}})
	}
	return blocks
}

func blockingNote(b bool) string {
	if b {
		return ", blocking"
	}
	return ""
}

// linkTo is a Slack link to u labelled text when u is a plain http(s) URL (no character that
// would end or split Slack's <url|text> syntax), empty otherwise.
func linkTo(u, text string) string {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || strings.ContainsAny(u, "<>|& \n") {
		return ""
	}
	return "<" + u + "|" + text + ">"
}
