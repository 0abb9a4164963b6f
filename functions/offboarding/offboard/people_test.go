package offboard

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/journal"
	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/restore"
	"github.com/orgwarden/orgwarden/shared/guard"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
)

// TestTwoPeopleNeverShareAJournalRecord: emails that read the same once
// made safe for an S3 key (o'brien and o_brien), offboarded under one
// ticket, get a record each, and restore brings both back.
func TestTwoPeopleNeverShareAJournalRecord(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t, 1, 0)
	emails := []string{"o'brien@example.com", "o_brien@example.com"}
	for _, e := range emails {
		id, err := o.emu.AddUser(adminapi.NewUser{Email: e, Role: "reader"})
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
		rec, err := journal.Read(ctx, o.store.S3, journalBucket, journal.DefaultPrefix, loc)
		must(t, err)
		rep, err := restore.Restore(ctx, o.client(false, 4), rec, "", restore.Options{})
		must(t, err)
		if rep.Email != rec.Email {
			t.Errorf("restore of %s invited %s", loc, rep.Email)
		}
	}
	invited := map[string]bool{}
	for _, in := range o.emu.Invites() {
		if in.Status == adminapi.InvitePending {
			invited[strings.ToLower(in.Email)] = true
		}
	}
	for _, e := range emails {
		if !invited[e] {
			t.Errorf("restore did not invite %s back (invites %v)", e, invited)
		}
	}
}

// TestHandleUnknownEmailIsNotFound: an email that matches no user and no
// invite is not a success: its own outcome, a metric and a warning.
func TestHandleUnknownEmailIsNotFound(t *testing.T) {
	for _, dry := range []bool{false, true} {
		o := newOrg(t, 1, 0)
		s := newStack(t, o)
		env := map[string]string{}
		if dry {
			env["ORGWARDEN_DRY_RUN"] = "true"
		}
		resp := s.invoke(t, env,
			sqsMessage("m-ghost", `{"email":"nobody.here@example.com","ticket":"HR-404"}`, 1),
			sqsMessage("m-jane", `{"email":"jane.leaver@example.com"}`, 1))
		if len(resp.BatchItemFailures) != 0 {
			t.Fatalf("failures %v", failedIDs(resp))
		}
		sums := summaries(t, o.logs.String())
		if got := sums["m-ghost"].Outcome; got != NotFound {
			t.Errorf("dry run %v: unknown email outcome %q, want %q", dry, got, NotFound)
		}
		if got := sums["m-jane"].Outcome; got == NotFound {
			t.Errorf("dry run %v: jane reported not found", dry)
		}
		if n := metricSum(o.logs.String(), MetricNotFound); n != 1 {
			t.Errorf("dry run %v: %s = %v, want 1", dry, MetricNotFound, n)
		}
		warned := false
		for _, line := range logLines(t, o.logs.String()) {
			if line["level"] == "WARN" && line["email"] == "nobody.here@example.com" && strings.Contains(line["message"].(string), "no user and no invite") {
				warned = true
			}
		}
		if !warned {
			t.Errorf("dry run %v: no warning names the unknown email", dry)
		}
	}
}

// metricSum sums one EMF metric over the logs.
func metricSum(logs, name string) float64 {
	var n float64
	for _, rec := range jsonLines(logs) {
		if rec["_aws"] == nil {
			continue
		}
		if v, ok := rec[name].(float64); ok {
			n += v
		}
	}
	return n
}

func logLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, rec := range jsonLines(logs) {
		if _, ok := rec["message"].(string); ok {
			out = append(out, rec)
		}
	}
	return out
}

func jsonLines(logs string) []map[string]any {
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(logs))
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil {
			out = append(out, rec)
		}
	}
	return out
}

// TestHandleUnknownEmailsListUsersOncePerBatch: a batch of unknown emails
// (a redelivered HR export, say) in a large organization lists the users
// once for the whole batch, not once per message.
func TestHandleUnknownEmailsListUsersOncePerBatch(t *testing.T) {
	o := newOrg(t, 1, 0)
	s := newStack(t, o)
	for i := range 450 {
		_, err := o.emu.AddUser(adminapi.NewUser{Email: fmt.Sprintf("staff%03d@example.com", i), Role: "reader"})
		must(t, err)
	}
	users := len(o.emu.Users())
	pages := (users + 99) / 100
	var records []events.SQSMessage
	for i := range 10 {
		records = append(records, sqsMessage(fmt.Sprintf("m-%d", i), fmt.Sprintf(`{"email":"gone%d@example.com"}`, i), 3))
	}
	records = append(records, sqsMessage("m-jane", `{"email":"jane.leaver@example.com"}`, 3))
	o.emu.ResetRequests()
	resp := s.invoke(t, nil, records...)
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %v", failedIDs(resp))
	}
	fullListings, filtered, total := 0, 0, 0
	for _, r := range o.emu.Requests() {
		total++
		if r.Method != http.MethodGet || !strings.HasSuffix(r.Path, "/organization/users") {
			continue
		}
		if strings.Contains(r.Query, "emails") {
			filtered++
		} else {
			fullListings++
		}
	}
	if fullListings > pages {
		t.Errorf("%d pages of the user list fetched for %d unknown emails (%d requests in all); want at most one listing (%d pages)",
			fullListings, 10, total, pages)
	}
	if filtered != len(records) {
		t.Errorf("%d filtered lookups, want one per message (%d)", filtered, len(records))
	}
	sums := summaries(t, o.logs.String())
	for i := range 10 {
		if got := sums[fmt.Sprintf("m-%d", i)].Outcome; got != NotFound {
			t.Errorf("m-%d: %s", i, got)
		}
	}
	if got := sums["m-jane"].Outcome; got != Offboarded {
		t.Errorf("jane: %s", got)
	}
}
