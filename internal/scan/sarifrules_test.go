package scan

import (
	"testing"

	"github.com/driftplane/terraform-provider-drift/internal/drift"
)

// Every class a result can name has a SARIF rule that says what it means.
func TestSARIFRuleForEveryClass(t *testing.T) {
	rules := sarifRules()
	if len(rules) != len(drift.Classes) {
		t.Fatalf("%d rules for %d classes", len(rules), len(drift.Classes))
	}
	for i, c := range drift.Classes {
		r := rules[i].(map[string]any)
		if r["id"] != string(c) || classHelp(c) == "" {
			t.Errorf("class %s: rule %v", c, r)
		}
	}
}
