package e2e_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/e2e/harness"
	infraconfig "github.com/orgwarden/orgwarden/infra/config"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
)

// cleanupResult is the invitecleanup response.
type cleanupResult struct {
	DryRun  bool `json:"dry_run"`
	Invites struct {
		Deletions   []sweepEntry `json:"deletions"`
		Skipped     []sweepEntry `json:"skipped"`
		CapExceeded bool         `json:"cap_exceeded"`
	} `json:"invites"`
	Counts struct {
		Deleted  int `json:"deleted"`
		Reported int `json:"reported"`
	} `json:"counts"`
}

// TestInviteCleanup: the scheduled cleanup, first as the stack deploys it
// (a dry run that sends nothing), then live: every pending invite older
// than ORGWARDEN_INVITE_MAX_AGE goes, younger ones and accepted ones stay,
// a protected address is never reached.
func TestInviteCleanup(t *testing.T) {
	const protected = "vip@partner.example"
	d := deploy(t, deployOptions{configure: func(c *infraconfig.Config) {
		c.Protected.Emails = []string{protected}
		c.MaxDeletions = 1000
	}})
	emu := d.Emulator
	old := time.Now().AddDate(0, 0, -20)
	staleID, err := emu.AddInvite(adminapi.NewInvite{Email: "contractor@example.com", CreatedAt: old, ExpiresAt: time.Now().AddDate(0, 0, 10), Projects: []adminapi.InviteProject{}})
	if err != nil {
		t.Fatal(err)
	}
	freshID, err := emu.AddInvite(adminapi.NewInvite{Email: "new.hire@example.com", CreatedAt: time.Now().AddDate(0, 0, -2), ExpiresAt: time.Now().AddDate(0, 0, 5), Projects: []adminapi.InviteProject{}})
	if err != nil {
		t.Fatal(err)
	}
	vipID, err := emu.AddInvite(adminapi.NewInvite{Email: protected, CreatedAt: old, ExpiresAt: time.Now().AddDate(0, 0, 10), Projects: []adminapi.InviteProject{}})
	if err != nil {
		t.Fatal(err)
	}
	maxAge, err := infraconfig.ParseDuration(d.Config.InviteCleanup.InviteMaxAge)
	if err != nil {
		t.Fatal(err)
	}
	// What the documentation promises to delete: pending invites older than
	// the maximum age, and invites that expired.
	due := map[string]bool{}
	for _, inv := range emu.Invites() {
		oldPending := inv.Status == adminapi.InvitePending && time.Since(inv.CreatedAt) >= maxAge
		expired := inv.Status == adminapi.InviteExpired || (inv.Status == adminapi.InvitePending && !inv.ExpiresAt.IsZero() && time.Now().After(inv.ExpiresAt))
		if (oldPending || expired) && !strings.EqualFold(inv.Email, protected) {
			due[inv.ID] = true
		}
	}

	// As deployed: ORGWARDEN_DRY_RUN=true.
	preview := d.function("invitecleanup", harness.FunctionOptions{})
	var dry cleanupResult
	preview.ok(`{}`, &dry)
	if !dry.DryRun || len(emu.MutatingRequests()) != 0 {
		t.Fatalf("the stack's default run: dry_run=%v, %d changes sent", dry.DryRun, len(emu.MutatingRequests()))
	}
	planned := map[string]bool{}
	for _, e := range dry.Invites.Deletions {
		planned[e.ID] = true
	}
	if fmt.Sprint(sortedKeys(planned)) != fmt.Sprint(sortedKeys(due)) {
		t.Errorf("preview plans %v, the documented rule selects %v", sortedKeys(planned), sortedKeys(due))
	}

	live := d.function("invitecleanup", harness.FunctionOptions{Env: map[string]string{"ORGWARDEN_DRY_RUN": "false"}})
	var run cleanupResult
	live.ok(scheduledRuleEvent("orgwarden-invitecleanup"), &run)
	if run.DryRun || run.Counts.Deleted != len(due) {
		t.Fatalf("live run: dry_run=%v, deleted %d, want %d", run.DryRun, run.Counts.Deleted, len(due))
	}
	left := map[string]bool{}
	for _, inv := range emu.Invites() {
		left[inv.ID] = true
	}
	for id := range due {
		if left[id] {
			t.Errorf("invite %s is due and still there", id)
		}
	}
	if left[staleID] || !left[freshID] || !left[vipID] {
		t.Errorf("20-day-old invite left=%v, 2-day-old left=%v, protected left=%v", left[staleID], left[freshID], left[vipID])
	}
	if !slices.ContainsFunc(run.Invites.Skipped, func(e sweepEntry) bool { return e.ID == vipID }) {
		t.Error("the protected invite is not reported as skipped")
	}
	for _, r := range emu.MutatingRequests() {
		if strings.Contains(r.Path, vipID) || strings.Contains(r.Path, freshID) {
			t.Errorf("request reached an invite that must stay: %s %s", r.Method, r.Path)
		}
	}
	if n := busSummaries(d, "invitecleanup"); n != 2 {
		t.Errorf("%d summaries on the bus for 2 runs", n)
	}
	_ = preview.Close()
	_ = live.Close()
	if got := live.assertMetrics("InvitesDeleted", "InvitesReported", "CapExceeded", "RunDurationMs"); got["InvitesDeleted"] != float64(len(due)) {
		t.Errorf("InvitesDeleted %v, deleted %d", got["InvitesDeleted"], len(due))
	}
}
