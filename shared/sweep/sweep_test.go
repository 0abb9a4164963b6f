package sweep

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/guard"
)

// deleter records which ids were deleted; the plan under test decides which
// of its candidates reach it.
type deleter struct {
	mu      sync.Mutex
	deleted []string
	fail    map[string]error
	outcome adminclient.Outcome
}

func (d *deleter) for_(id string) func(context.Context, string) (adminclient.Outcome, error) {
	return func(_ context.Context, reason string) (adminclient.Outcome, error) {
		if reason == "" {
			return adminclient.Failed, errors.New("no reason given")
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		d.deleted = append(d.deleted, id)
		if err := d.fail[id]; err != nil {
			return adminclient.Failed, err
		}
		if d.outcome != "" {
			return d.outcome, nil
		}
		return adminclient.Done, nil
	}
}

func TestPlanAppliesOnlyWhatTheGuardAllows(t *testing.T) {
	rules := guard.Rules{Protection: guard.Protection{
		IDs: []string{"key_protected"}, Names: []string{"keep-me"}, Emails: []string{"ceo@example.com"},
		Domains: []string{"partner.io"}, Projects: []string{"proj_prod"},
	}}
	type cand struct {
		s          guard.Subject
		also       []guard.Subject
		reportOnly bool
	}
	tests := []struct {
		name        string
		cands       []cand
		wantDeleted []string
		wantSkipped []string
		wantReports []string
	}{
		{
			name: "protected id, name, email, domain, project and owner are skipped",
			cands: []cand{
				{s: guard.Subject{Kind: "project_api_key", ID: "key_1"}},
				{s: guard.Subject{Kind: "project_api_key", ID: "key_protected"}},
				{s: guard.Subject{Kind: "project_api_key", ID: "key_2", Name: "keep-me"}},
				{s: guard.Subject{Kind: "project_api_key", ID: "key_3", Email: "CEO@example.com"}},
				{s: guard.Subject{Kind: "invite", ID: "invite-4", Email: "x@eu.partner.io"}},
				{s: guard.Subject{Kind: "project_api_key", ID: "key_5", ProjectID: "proj_prod"}},
				{s: guard.Subject{Kind: "project_api_key", ID: "key_6", OrgRole: "owner"}},
				{s: guard.Subject{Kind: "admin_api_key", ID: "key_7", Self: true}},
				{s: guard.Subject{Kind: "invite", ID: "invite-8", Email: "dev@example.com"}},
			},
			wantDeleted: []string{"invite-8", "key_1"},
			wantSkipped: []string{"key_7", "invite-4", "key_2", "key_3", "key_6", "key_protected", "key_5"},
		},
		{
			name: "a service account is skipped when one of its keys is protected",
			cands: []cand{
				{s: guard.Subject{Kind: "service_account", ID: "svc_1"}, also: []guard.Subject{{Kind: "project_api_key", ID: "key_a"}, {Kind: "project_api_key", ID: "key_protected"}}},
				{s: guard.Subject{Kind: "service_account", ID: "svc_2"}, also: []guard.Subject{{Kind: "project_api_key", ID: "key_b"}}},
			},
			wantDeleted: []string{"svc_2"},
			wantSkipped: []string{"svc_1"},
		},
		{
			name: "report-only candidates are never deleted, protected ones are still skipped",
			cands: []cand{
				{s: guard.Subject{Kind: "admin_api_key", ID: "key_r1"}, reportOnly: true},
				{s: guard.Subject{Kind: "admin_api_key", ID: "key_protected"}, reportOnly: true},
			},
			wantReports: []string{"key_r1"},
			wantSkipped: []string{"key_protected"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &deleter{}
			plan := NewPlan(rules)
			for _, c := range tt.cands {
				plan.Add(Candidate{Subject: c.s, Also: c.also, ReportOnly: c.reportOnly, Reason: "stale", Delete: d.for_(c.s.ID)})
			}
			res := plan.Apply(context.Background(), 100, 4)
			if got := slices.Sorted(slices.Values(d.deleted)); !slices.Equal(got, slices.Sorted(slices.Values(tt.wantDeleted))) {
				t.Errorf("deleted %v, want %v", got, tt.wantDeleted)
			}
			if got := ids(res.Deletions); !slices.Equal(got, tt.wantDeleted) {
				t.Errorf("summary deletions %v, want %v (sorted by project, kind, id)", got, tt.wantDeleted)
			}
			if got := ids(res.Skipped); !slices.Equal(got, tt.wantSkipped) {
				t.Errorf("skipped %v, want %v", got, tt.wantSkipped)
			}
			if got := ids(res.Reports); !slices.Equal(got, tt.wantReports) {
				t.Errorf("reported %v, want %v", got, tt.wantReports)
			}
			for _, e := range res.Skipped {
				if e.Reason == "" || e.Outcome != Skipped {
					t.Errorf("skipped entry without a reason or outcome: %+v", e)
				}
			}
			if res.Count(adminclient.Done) != len(tt.wantDeleted) {
				t.Errorf("done count %d, want %d", res.Count(adminclient.Done), len(tt.wantDeleted))
			}
		})
	}
}

func TestPlanCap(t *testing.T) {
	tests := []struct {
		planned, max int
		wantDeleted  int
		wantExceeded bool
	}{
		{planned: 3, max: 3, wantDeleted: 3},
		{planned: 4, max: 3, wantExceeded: true},
		{planned: 1, max: 0, wantExceeded: true},
		{planned: 0, max: 0},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d_of_%d", tt.planned, tt.max), func(t *testing.T) {
			d := &deleter{}
			plan := NewPlan(guard.Rules{})
			for i := range tt.planned {
				id := fmt.Sprintf("invite-%d", i)
				plan.Add(Candidate{Subject: guard.Subject{Kind: "invite", ID: id}, Reason: "old", Delete: d.for_(id)})
			}
			plan.Add(Candidate{Subject: guard.Subject{Kind: "admin_api_key", ID: "key_r"}, Reason: "unused", ReportOnly: true})
			res := plan.Apply(context.Background(), tt.max, 2)
			if len(d.deleted) != tt.wantDeleted {
				t.Errorf("deleted %d, want %d", len(d.deleted), tt.wantDeleted)
			}
			if res.CapExceeded != tt.wantExceeded {
				t.Errorf("CapExceeded = %v, want %v", res.CapExceeded, tt.wantExceeded)
			}
			if tt.wantExceeded {
				if res.Count(Held) != tt.planned || !errorsIsCap(res.CapError) {
					t.Errorf("an oversized plan must list every deletion as held: %+v", res)
				}
			}
			if len(res.Reports) != 1 {
				t.Errorf("reports must be listed whatever the cap: %+v", res.Reports)
			}
		})
	}
}

func errorsIsCap(msg string) bool {
	return msg != "" && strings.Contains(msg, guard.ErrCapExceeded.Error())
}

func TestApplyReportsEachFailureAndGoesOn(t *testing.T) {
	d := &deleter{fail: map[string]error{"b": errors.New("delete b: 500")}}
	plan := NewPlan(guard.Rules{})
	for _, id := range []string{"a", "b", "c"} {
		plan.Add(Candidate{Subject: guard.Subject{Kind: "invite", ID: id}, Reason: "old", Delete: d.for_(id)})
	}
	res := plan.Apply(context.Background(), 10, 1)
	if len(d.deleted) != 3 {
		t.Fatalf("every deletion must be tried, got %v", d.deleted)
	}
	if res.Failed() != 1 || res.Deletions[1].Outcome != adminclient.Failed || res.Deletions[1].Error == "" {
		t.Errorf("failure not reported in its entry: %+v", res.Deletions)
	}
}

func TestApplyBoundsConcurrency(t *testing.T) {
	var inFlight, peak atomic.Int32
	release := make(chan struct{})
	plan := NewPlan(guard.Rules{})
	for i := range 12 {
		plan.Add(Candidate{Subject: guard.Subject{Kind: "invite", ID: fmt.Sprint(i)}, Reason: "old",
			Delete: func(context.Context, string) (adminclient.Outcome, error) {
				n := inFlight.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				<-release
				inFlight.Add(-1)
				return adminclient.Done, nil
			}})
	}
	done := make(chan Result)
	go func() { done <- plan.Apply(context.Background(), 100, 3) }()
	for range 12 {
		release <- struct{}{}
	}
	res := <-done
	if res.Count(adminclient.Done) != 12 {
		t.Fatalf("done %d, want 12", res.Count(adminclient.Done))
	}
	if peak.Load() > 3 {
		t.Errorf("peak concurrency %d, want at most 3", peak.Load())
	}
}

func TestApplyAfterCancelSendsNothing(t *testing.T) {
	d := &deleter{}
	plan := NewPlan(guard.Rules{})
	plan.Add(Candidate{Subject: guard.Subject{Kind: "invite", ID: "a"}, Reason: "old", Delete: d.for_("a")})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := plan.Apply(ctx, 10, 1)
	if len(d.deleted) != 0 || res.Failed() != 1 {
		t.Errorf("cancelled run deleted %v, result %+v", d.deleted, res.Deletions)
	}
}

func ids(es []Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}
