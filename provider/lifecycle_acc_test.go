package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/driftplane/terraform-provider-drift/internal/drift/blob"
	"github.com/driftplane/terraform-provider-drift/internal/drift/ledger"
)

// The lifecycle ledger over several evaluations of a real stack drifted out of band: the drift
// keeps its fingerprint and first sighting as evaluations go on, its age grows, and once the file
// is put back the ledger records it as resolved.
func TestAccFindingLifecycle(t *testing.T) {
	stack := newRealStack(t)
	drifted := stack.driftOutOfBand()
	evidenceDir := t.TempDir()
	// Explicit evaluation times (later than the clock, which is all they may be) make ages exact.
	t1 := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
	cfg := func(plan string, at time.Time) string {
		return unitHCL("critical") + fmt.Sprintf(`
data "drift_finding" "f" {
  unit            = data.drift_managed_unit.u.policy_json
  plan_json_path  = %q
  evaluation_time = %q
  evidence {
    dir    = %q
    ledger = true
  }
}
`, plan, at.Format(time.RFC3339), evidenceDir)
	}
	var fingerprint string
	remember := func(s *terraform.State) error {
		fingerprint = s.RootModule().Resources["data.drift_finding.f"].Primary.Attributes["findings.0.fingerprint"]
		return nil
	}
	sameDrift := func(s *terraform.State) error {
		if got := s.RootModule().Resources["data.drift_finding.f"].Primary.Attributes["findings.0.fingerprint"]; got != fingerprint {
			return fmt.Errorf("fingerprint %q, want %q: the same drift restarted", got, fingerprint)
		}
		return nil
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cfg(drifted, t1),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestMatchResourceAttr("data.drift_finding.f", "findings.0.fingerprint", regexp.MustCompile(`^fp-[0-9a-f]{20}$`)),
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.0.first_seen", t1.Format(time.RFC3339)),
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.0.age", "0s"),
					remember,
				),
			},
			{
				Config: cfg(drifted, t1.Add(3*time.Hour)),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.0.first_seen", t1.Format(time.RFC3339)),
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.0.age", "3h0m0s"),
					sameDrift,
				),
			},
		},
	})

	// Put the file back: the next evaluation finds no drift, and the ledger says how it ended.
	if err := os.WriteFile(filepath.Join(stack.dir, "managed.txt"), []byte("desired content from git\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	clean := stack.planJSON("-refresh-only")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg(clean, t1.Add(4*time.Hour)),
			Check:  resource.TestCheckResourceAttr("data.drift_finding.f", "findings.#", "0"),
		}},
	})
	var open []ledger.Entry
	resolved := false
	err := ledger.Walk(context.Background(), blob.Dir(evidenceDir), "payments-prod-network", func(_ string, r *ledger.Record) error {
		open = r.Open
		for _, e := range r.Events {
			resolved = resolved || (e.Kind == ledger.EventResolved && e.Fingerprint == fingerprint && e.FirstSeen == t1.Format(time.RFC3339))
		}
		return nil
	})
	if err != nil || len(open) != 0 || !resolved {
		t.Fatalf("ledger: %v; open at the end %+v; resolved %v (want %s resolved)", err, open, resolved, fingerprint)
	}
}

// A drift budget over several evaluations of a real stack: accepted by an exception the drift
// does not count; once the exception is gone the drift is reopened, and when it has been open
// longer than the budget allows, `tofu plan` fails naming the budget and since when, though the
// unit's gate is none.
func TestAccBudgetExhausted(t *testing.T) {
	stack := newRealStack(t)
	plan := stack.driftOutOfBand()
	evidenceDir := t.TempDir()
	t1 := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
	unit := `
data "drift_managed_unit" "u" {
  name        = "payments-prod-network"
  owner       = "platform-network"
  environment = "prod"
  risk_tier   = "critical"
  gate        = "none"
  budget {
    name    = "other-healed-1h"
    domain  = "other"
    max_age = "1h"
  }
}
`
	finding := func(at time.Time, exceptions string) string {
		return fmt.Sprintf(`
data "drift_finding" "f" {
  unit            = data.drift_managed_unit.u.policy_json
  exceptions      = [%s]
  plan_json_path  = %q
  evaluation_time = %q
  evidence {
    dir    = %q
    ledger = true
  }
}
`, exceptions, plan, at.Format(time.RFC3339), evidenceDir)
	}
	expires := t1.Add(time.Hour).Format(time.RFC3339)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: unit + exceptionHCL("EXC-1", "local_file.managed", "STATE_DRIFT", expires, "") + finding(t1, "data.drift_exception.EXC-1.json"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("data.drift_finding.f", "findings.0.accepted_by", "EXC-1"),
					resource.TestCheckResourceAttr("data.drift_finding.f", "blocking_count", "0"),
				),
			},
			{
				// The gate is none, and the drift is only 30 minutes old: the budget burns, nothing fails.
				Config: unit + finding(t1.Add(30*time.Minute), ""),
				Check:  resource.TestCheckResourceAttr("data.drift_finding.f", "blocking_count", "0"),
			},
			{
				Config:      unit + finding(t1.Add(3*time.Hour), ""),
				ExpectError: diagRE("Unaccepted drift: local_file.managed", "drift budget other-healed-1h is exhausted since "+t1.Add(time.Hour).Format(time.RFC3339)),
			},
		},
	})
	reopened := false
	err := ledger.Walk(context.Background(), blob.Dir(evidenceDir), "payments-prod-network", func(_ string, r *ledger.Record) error {
		for _, e := range r.Events {
			reopened = reopened || e.Kind == ledger.EventReopened
		}
		return nil
	})
	if err != nil || !reopened {
		t.Fatalf("ledger: %v; want the drift reopened once its exception was gone", err)
	}
}

// A budget objective declared in HCL over a real stack: the unit runs hourly, so three hours
// without an evaluation make it stale; the stale period is a bad judgement, a 100% objective
// has no room for one, and `tofu plan` fails naming the budget though the gate is none.
func TestAccBudgetObjectiveCountsStaleness(t *testing.T) {
	stack := newRealStack(t)
	plan := stack.driftOutOfBand()
	evidenceDir := t.TempDir()
	t1 := time.Now().UTC().Add(time.Hour).Truncate(time.Second)
	unit := `
data "drift_managed_unit" "u" {
  name        = "payments-prod-network"
  owner       = "platform-network"
  environment = "prod"
  risk_tier   = "critical"
  gate        = "none"
  schedule    = "@hourly"
  budget {
    name          = "other-detected-15m"
    domain        = "other"
    detect_within = "15m"
    objective = {
      target = 100
      window = "24h"
    }
  }
}
`
	finding := func(at time.Time) string {
		return fmt.Sprintf(`
data "drift_finding" "f" {
  unit            = data.drift_managed_unit.u.policy_json
  plan_json_path  = %q
  evaluation_time = %q
  evidence {
    dir    = %q
    ledger = true
  }
}
`, plan, at.Format(time.RFC3339), evidenceDir)
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: unit + finding(t1),
				Check:  resource.TestCheckResourceAttr("data.drift_finding.f", "blocking_count", "0"),
			},
			{
				Config: unit + finding(t1.Add(time.Hour)),
				Check:  resource.TestCheckResourceAttr("data.drift_finding.f", "blocking_count", "0"),
			},
			{
				Config: unit + finding(t1.Add(4*time.Hour)),
				ExpectError: diagRE("Unaccepted drift: local_file.managed",
					"drift budget other-detected-15m is exhausted since "+t1.Add(3*time.Hour).Format(time.RFC3339),
					"objective 100% over 24h missed: 1 of 1 judgements bad, burn rate inf"),
			},
		},
	})
}
