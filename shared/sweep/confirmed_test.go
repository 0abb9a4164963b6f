package sweep

import (
	"context"
	"slices"
	"testing"

	"github.com/orgwarden/orgwarden/shared/guard"
)

// TestPlanDeletesOnlyConfirmed: with a confirmed plan, a candidate that was
// not shown (same id of another kind, or a new id) is skipped, never
// deleted; report-only candidates are listed as before.
func TestPlanDeletesOnlyConfirmed(t *testing.T) {
	confirmed := guard.NewConfirmed()
	confirmed.Add("invite", "inv_shown")
	d := &deleter{}
	p := NewPlan(guard.Rules{Confirmed: confirmed})
	for _, c := range []Candidate{
		{Subject: guard.Subject{Kind: "invite", ID: "inv_shown"}, Reason: "stale", Delete: d.for_("inv_shown")},
		{Subject: guard.Subject{Kind: "invite", ID: "inv_new"}, Reason: "stale", Delete: d.for_("inv_new")},
		{Subject: guard.Subject{Kind: "user", ID: "inv_shown"}, Reason: "stale", Delete: d.for_("user:inv_shown")},
		{Subject: guard.Subject{Kind: "invite", ID: "inv_report"}, Reason: "stale", ReportOnly: true},
	} {
		p.Add(c)
	}
	res := p.Apply(context.Background(), 10, 2)
	if !slices.Equal(d.deleted, []string{"inv_shown"}) {
		t.Errorf("deleted %v, want only the confirmed invite", d.deleted)
	}
	if len(res.Skipped) != 2 || len(res.Reports) != 1 {
		t.Errorf("skipped %+v, reported %+v", res.Skipped, res.Reports)
	}
	for _, e := range res.Skipped {
		if e.Reason == "" || e.Outcome != Skipped {
			t.Errorf("skip without a reason: %+v", e)
		}
	}
}
