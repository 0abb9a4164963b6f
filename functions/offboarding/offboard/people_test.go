package offboard

import (
	"context"
	"strings"
	"testing"

	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/journal"
	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/restore"
	"github.com/orgwarden/orgwarden/shared/emulator"
	"github.com/orgwarden/orgwarden/shared/guard"
)

// TestTwoPeopleNeverShareAJournalRecord: emails that read the same once
// made safe for an S3 key (o'brien and o_brien), offboarded under one
// ticket, get a record each, and restore brings both back.
func TestTwoPeopleNeverShareAJournalRecord(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t, 1, 0)
	emails := []string{"o'brien@example.com", "o_brien@example.com"}
	for _, e := range emails {
		id, err := o.emu.AddUser(emulator.NewUser{Email: e, Role: "reader"})
		must(t, err)
		must(t, o.emu.AddProjectUser(o.person.projects[0], id, "member"))
	}
	off := o.offboarder(false, guard.Rules{})
	locations := map[string]bool{}
	for _, e := range emails {
		req := request(e)
		req.Ticket = "HR-77"
		res, err := off.Offboard(ctx, req, Attempt{MessageID: "m-" + e})
		if err != nil || res.Outcome != Offboarded {
			t.Fatalf("offboard %s: %v, %v", e, res.Outcome, err)
		}
		locations[res.JournalLocation] = true
	}
	if len(locations) != 2 || len(listJournal(t, o)) != 2 {
		t.Fatalf("two people share a record: %v", listJournal(t, o))
	}
	for loc := range locations {
		rec, err := journal.Read(ctx, o.store.S3, loc)
		must(t, err)
		rep, err := restore.Restore(ctx, o.client(false, 4), rec, "")
		must(t, err)
		if rep.Email != rec.Email {
			t.Errorf("restore of %s invited %s", loc, rep.Email)
		}
	}
	invited := map[string]bool{}
	for _, in := range o.emu.Invites() {
		if in.Status == emulator.InvitePending {
			invited[strings.ToLower(in.Email)] = true
		}
	}
	for _, e := range emails {
		if !invited[e] {
			t.Errorf("restore did not invite %s back (invites %v)", e, invited)
		}
	}
}
