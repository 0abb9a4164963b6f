package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/orgwarden/orgwarden/functions/invitecleanup/cleanup"
	"github.com/orgwarden/orgwarden/shared/app"
	"github.com/orgwarden/orgwarden/shared/sweep"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
)

// inviteCleanupDemo previews and then runs the invite cleanup on the
// seeded organization, with one stale invite's address protected, and
// shows that the preview listed exactly what the real run deleted.
func inviteCleanupDemo() demoStep {
	return demoStep{name: cleanup.Function, run: runInviteCleanupDemo}
}

func runInviteCleanupDemo(ctx context.Context, d *demo) error {
	now := d.emu.Now()
	var protected string
	states := map[string]int{}
	for _, inv := range d.emu.Invites() {
		states[inv.Status]++
		if protected == "" && inv.Status == adminapi.InvitePending && now.Sub(inv.CreatedAt) > 14*24*time.Hour {
			protected = inv.Email
		}
	}
	d.printf("    invites: %d pending, %d expired, %d accepted; ORGWARDEN_INVITE_MAX_AGE=14d, ORGWARDEN_PROTECTED_EMAILS=%s\n",
		states[adminapi.InvitePending], states[adminapi.InviteExpired], states[adminapi.InviteAccepted], protected)
	env := d.env(map[string]string{"ORGWARDEN_INVITE_MAX_AGE": "14d", "ORGWARDEN_PROTECTED_EMAILS": protected})
	h, err := cleanup.FromEnv(ctx, env, app.Options{Out: d.logs}, cleanup.WithClock(d.emu.Now))
	if err != nil {
		return err
	}
	invoke := func(payload string) (cleanup.Summary, error) {
		var s cleanup.Summary
		out, err := lambda.NewHandler(h.Handle).Invoke(ctx, []byte(payload))
		if err != nil {
			return s, err
		}
		return s, json.Unmarshal(out, &s)
	}

	before := len(d.emu.MutatingRequests())
	preview, err := invoke(`{"dry_run": true}`)
	if err != nil {
		return fmt.Errorf("preview: %w", err)
	}
	d.printf("    preview ({\"dry_run\": true}): would delete %d, skip %d; changes sent: %d\n",
		len(preview.Invites.Deletions), len(preview.Invites.Skipped), len(d.emu.MutatingRequests())-before)
	d.table("action,email,why", inviteRows(preview, 6))

	real, err := invoke(`{"version":"0","detail-type":"Scheduled Event","source":"aws.events","detail":{}}`)
	if err != nil {
		return fmt.Errorf("scheduled run: %w", err)
	}
	if real.Invites.CapExceeded {
		d.printf("    scheduled run: %d deletions planned, above the cap of %d: none sent, CapExceeded=1 alarms\n", len(real.Invites.Deletions), real.Invites.Cap)
		return nil
	}
	same := len(preview.Invites.Deletions) == len(real.Invites.Deletions)
	for i := range preview.Invites.Deletions {
		same = same && preview.Invites.Deletions[i].ID == real.Invites.Deletions[i].ID
	}
	d.printf("    scheduled run: deleted %d (failed %d), skipped %d; the preview listed exactly these: %v\n",
		real.Counts.Deleted, real.Counts.Failed, real.Counts.Skipped, same)
	if !same || real.Counts.Failed > 0 {
		return fmt.Errorf("the real run did not delete what the preview listed")
	}
	for _, inv := range d.emu.Invites() {
		if strings.EqualFold(inv.Email, protected) && inv.Status == adminapi.InvitePending {
			d.printf("    %s's invite is still there (protected)\n", protected)
		}
	}
	return nil
}

func inviteRows(s cleanup.Summary, n int) [][]string {
	var rows [][]string
	for _, group := range []struct {
		action  string
		entries []sweep.Entry
	}{{"delete", s.Invites.Deletions}, {"skip", s.Invites.Skipped}} {
		for _, e := range group.entries {
			if len(rows) < n || group.action == "skip" {
				rows = append(rows, []string{group.action, e.Email, truncateDemo(e.Reason, 60)})
			}
		}
	}
	return rows
}
