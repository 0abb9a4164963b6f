package offboard

import (
	"testing"

	"github.com/orgwarden/orgwarden/shared/guard"
	"github.com/orgwarden/orgwarden/shared/summary"
)

// TestSummaryStatus checks what the summary bus's rules see of an
// offboarding: a live one that removed something changed the organization,
// a preview never did, and a refusal by the key cap is cap_exceeded.
func TestSummaryStatus(t *testing.T) {
	capErr := (&RefusedError{Reason: guard.CheckCap(30, 25).Error()}).Error()
	tests := []struct {
		name string
		s    Summary
		want summary.Status
	}{
		{"live, removed keys", Summary{Outcome: Offboarded, Done: &Counts{APIKeys: 2}}, summary.Status{Changed: true}},
		{"live, nothing left to do", Summary{Outcome: "already_offboarded", Done: &Counts{}}, summary.Status{}},
		{"preview", Summary{DryRun: true, Outcome: "dry_run", Done: &Counts{APIKeys: 2}}, summary.Status{}},
		{"refused by the cap", Summary{Outcome: "refused", Error: capErr}, summary.Status{Failed: true, CapExceeded: true}},
		{"failed half-way", Summary{Outcome: "failed", Error: "list users: 503", Done: &Counts{Projects: 1}}, summary.Status{Changed: true, Failed: true}},
	}
	for _, tt := range tests {
		if got := tt.s.status(); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}
