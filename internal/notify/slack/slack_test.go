package slack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
	"github.com/driftplane/terraform-provider-drift/internal/notify"
	"github.com/driftplane/terraform-provider-drift/internal/notify/slack"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

func group() []notify.Notification {
	role := notify.Notification{
		Finding: drift.Finding{FindingID: "drift-1", Fingerprint: "fp-role", Unit: "payments", Owner: "team-payments",
			Domain: "identity", Environment: "prod", ResourceRef: "aws_iam_role.app", DriftClass: drift.ClassUnauthorizedRuntime,
			Risk: drift.RiskCritical, ChangedFields: []string{"/assume_role_policy"}, RecommendedAction: drift.ActionIncident,
			Actor: "alice", ActorDetail: &drift.Actor{Username: "alice", Kind: "human"}, Evidence: "sha256:1111",
			Blocking: true, FirstSeen: "2026-12-01T10:00:00Z", Age: "2h0m0s",
			Changes: []drift.Change{{Before: "PLANTED-SECRET-BEFORE", After: "PLANTED-SECRET-AFTER"}}},
		State: notify.StateFiring, GroupKey: "payments", EvidenceURI: "s3://evidence/drift-1.json",
		Link: "https://driftplane.example/findings/drift-1",
	}
	// Everything a drifted system controls is hostile here: a mention, a disguised link, an
	// entity, in the resource name, the actor and the explanation.
	hostile := notify.Notification{
		Finding: drift.Finding{FindingID: "drift-2", Fingerprint: "fp-cm", Unit: "payments", Owner: "team-payments",
			Domain: "workload", Environment: "prod", ResourceRef: `kubernetes_config_map.x<!channel>&<https://evil.example|click>`,
			DriftClass: drift.ClassUnknown, Risk: drift.RiskMedium, ChangedFields: []string{"/data/<!here>"},
			RecommendedAction: drift.ActionGitUpdatePR, Actor: "<@U123>", Evidence: "sha256:2222",
			Explanation: "owner says <https://phish.example|ok> & done"},
		State: notify.StateFiring, GroupKey: "payments", Link: "javascript:alert(1)",
	}
	resolved := notify.Notification{
		Finding: drift.Finding{FindingID: "drift-3", Fingerprint: "fp-sg", Unit: "payments", Owner: "team-payments",
			Domain: "network", Environment: "prod", ResourceRef: "aws_security_group.web", DriftClass: drift.ClassEmergency,
			Risk: drift.RiskHigh, ChangedFields: []string{"/ingress/0/cidr_blocks"}, RecommendedAction: drift.ActionRuntimeRevert,
			Evidence: "sha256:3333", AcceptedBy: "EXC-7"},
		State: notify.StateResolved, Resolution: "reverted", ResolvedAt: "2026-12-01T12:00:00Z", GroupKey: "payments",
		EvidenceURI: "https://evidence.example/records/drift-3",
	}
	return []notify.Notification{role, hostile, resolved}
}

// The message for a group is pinned by a golden file (go test ./internal/notify/slack -update
// rewrites it): Block Kit structure, the fields, the escaping, resolved in a message of its own.
func TestMessagesGolden(t *testing.T) {
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, b...)
		got = append(got, '\n')
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	r, err := slack.New("chat", srv.URL+"/services/T0/B0/token")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Send(context.Background(), group()); err != nil {
		t.Fatal(err)
	}
	var pretty bytes.Buffer
	for _, line := range bytes.Split(bytes.TrimSpace(got), []byte("\n")) {
		var doc any
		if err := json.Unmarshal(line, &doc); err != nil {
			t.Fatal(err)
		}
		enc := json.NewEncoder(&pretty)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join("testdata", "messages.golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Errorf("messages differ from %s (go test -update rewrites it):\n%s", path, pretty.String())
	}
	if bytes.Contains(got, []byte("PLANTED")) {
		t.Error("a value behind the finding reached Slack")
	}
}

// No untrusted text can open a Slack control sequence: every '<' in a message is one of ours
// (a link to a plain http(s) URL).
func TestEscaping(t *testing.T) {
	for _, m := range slack.Messages(group()) {
		b, _ := json.Marshal(m)
		var texts []string
		var walk func(v any)
		walk = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				if x["type"] == "mrkdwn" {
					texts = append(texts, x["text"].(string))
				}
				for _, y := range x {
					walk(y)
				}
			case []any:
				for _, y := range x {
					walk(y)
				}
			}
		}
		var doc any
		_ = json.Unmarshal(b, &doc)
		walk(doc)
		texts = append(texts, m.Text)
		for _, s := range texts {
			s = strings.ReplaceAll(s, "<https://driftplane.example/findings/drift-1|Open>", "")
			s = strings.ReplaceAll(s, "<https://evidence.example/records/drift-3|evidence record>", "")
			if strings.ContainsAny(s, "<>") {
				t.Errorf("control character in %q", s)
			}
			if strings.Contains(s, "&") && !strings.Contains(s, "&amp;") && !strings.Contains(s, "&lt;") {
				t.Errorf("raw & in %q", s)
			}
		}
	}
	if got := slack.Escape("<!channel> & <x|y>"); got != "&lt;!channel&gt; &amp; &lt;x|y&gt;" {
		t.Errorf("Escape = %q", got)
	}
}

// Slack's limits hold for a large group: at most 50 blocks and 10 fields per section, headers of
// at most 150 characters.
func TestLimits(t *testing.T) {
	var big []notify.Notification
	for i := range 25 {
		n := group()[0]
		n.Finding.Fingerprint = fmt.Sprintf("fp-%d", i)
		n.Finding.ResourceRef = strings.Repeat("r", 300)
		big = append(big, n)
	}
	ms := slack.Messages(big)
	if len(ms) != 3 {
		t.Fatalf("%d messages for 25 findings, want 3", len(ms))
	}
	for _, m := range ms {
		if len(m.Blocks) > 50 {
			t.Errorf("%d blocks", len(m.Blocks))
		}
		for _, b := range m.Blocks {
			if len(b.Fields) > 10 || (b.Type == "header" && len([]rune(b.Text.Text)) > 150) {
				t.Errorf("block over Slack's limits: %+v", b)
			}
		}
	}
}
