package offboard

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/openai/openai-go/v3"

	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/journal"
	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/message"
	"github.com/orgwarden/orgwarden/shared/guard"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
)

func request(email string) message.Request {
	return message.Request{Email: email, Ticket: "HR-1", Reason: "left the company", Kind: message.KindRaw,
		RequestedAt: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
}

func TestOffboardRemovesEverythingOnceAndRepeatIsNoOp(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts adminapi.Options
	}{
		{"user objects list their projects", adminapi.Options{}},
		{"user objects without projects (member scan)", adminapi.Options{OmitUserProjects: true}},
	} {
		t.Run(tt.name, func(t *testing.T) { testOffboardRemovesEverything(t, tt.opts) })
	}
}

func testOffboardRemovesEverything(t *testing.T, opts adminapi.Options) {
	ctx := context.Background()
	o := newOrgWith(t, opts, 6, 3)
	off := o.offboarder(false, guard.Rules{})

	res, err := off.Offboard(ctx, request("Jane.Leaver@Example.com"), Attempt{MessageID: "m-1", ReceiveCount: 1})
	if err != nil {
		t.Fatalf("Offboard: %v", err)
	}
	if res.Outcome != Offboarded {
		t.Fatalf("outcome %s, want %s", res.Outcome, Offboarded)
	}
	want := Counts{Projects: 6, APIKeys: 6, Invites: 1, UserRemoved: true}
	if res.Done != want {
		t.Errorf("done %+v, want %+v", res.Done, want)
	}
	if m, k, i, u := o.remaining(o.person); m+k+i > 0 || u {
		t.Fatalf("left behind: %d memberships, %d keys, %d invites, user %v", m, k, i, u)
	}
	// The bystander keeps everything; so does the other invite.
	if m, k, _, u := o.remaining(o.bystander); m != 6 || k != 6 || !u {
		t.Errorf("bystander lost access: %d memberships, %d keys, user %v", m, k, u)
	}
	if n := len(o.emu.Invites()); n != 1 {
		t.Errorf("%d invites left, want the unrelated one", n)
	}

	// The journal is a complete record.
	rec, err := journal.Read(ctx, o.store.S3, journalBucket, journal.DefaultPrefix, res.JournalLocation)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rec.Key, "offboarding/2026/11/23/jane.leaver@example.com-"+journal.EmailDigest(o.person.email)+"-hr-1") {
		t.Errorf("journal key %s", rec.Key)
	}
	if rec.Status != journal.Completed || rec.User == nil || rec.User.ID != o.person.id || rec.User.OrgRole != "reader" {
		t.Errorf("record status %s user %+v", rec.Status, rec.User)
	}
	if len(rec.Projects) != 6 || len(rec.APIKeys) != 6 || len(rec.Invites) != 1 {
		t.Fatalf("record has %d projects, %d keys, %d invites", len(rec.Projects), len(rec.APIKeys), len(rec.Invites))
	}
	for _, m := range rec.Projects {
		if m.Outcome != journal.Removed || m.Role != o.person.roles[m.ProjectID] {
			t.Errorf("membership %+v, want removed with role %s", m, o.person.roles[m.ProjectID])
		}
	}
	for _, k := range rec.APIKeys {
		if k.Outcome != journal.Removed || k.Name == "" || k.Kind != journal.ProjectKey {
			t.Errorf("key %+v", k)
		}
	}
	if len(rec.ServiceAccounts) != 1 || rec.ServiceAccounts[0].Name != "ci-bot" || rec.ServiceAccounts[0].ProjectID != o.person.projects[0] {
		t.Errorf("service accounts for review %+v, want ci-bot of the owned project", rec.ServiceAccounts)
	}
	if len(rec.NotRestorable) == 0 {
		t.Errorf("record should say what restore cannot bring back")
	}

	// The same request again: nothing to change, and it says what was done.
	mutations := len(o.emu.MutatingRequests())
	res2, err := off.Offboard(ctx, request("jane.leaver@example.com"), Attempt{MessageID: "m-2", ReceiveCount: 1})
	if err != nil {
		t.Fatalf("second Offboard: %v", err)
	}
	if res2.Outcome != AlreadyOffboarded || !res2.Done.empty() || res2.Earlier != want {
		t.Errorf("second run: outcome %s done %+v earlier %+v", res2.Outcome, res2.Done, res2.Earlier)
	}
	if n := len(o.emu.MutatingRequests()); n != mutations {
		t.Errorf("second run sent %d mutating requests, want none", n-mutations)
	}
	rec2, _ := journal.Read(ctx, o.store.S3, journalBucket, journal.DefaultPrefix, res.JournalLocation)
	if len(rec2.Attempts) != 2 || len(rec2.APIKeys) != 6 || rec2.Status != journal.Completed {
		t.Errorf("record after the repeat: %d attempts, %d keys, %s", len(rec2.Attempts), len(rec2.APIKeys), rec2.Status)
	}
	o.assertNoSecretsLogged(t)
}

func TestOffboardGuardsChangeNothing(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(o *org) (message.Request, guard.Rules, bool)
		refuse string // substring of the refusal; "" for the dry run
	}{
		{"owner without ALLOW_OWNERS", func(o *org) (message.Request, guard.Rules, bool) {
			makeOwner(o)
			return request(o.person.email), guard.Rules{}, false
		}, "organization owner"},
		{"last owner even with ALLOW_OWNERS", func(o *org) (message.Request, guard.Rules, bool) {
			// The emulator's built-in owner steps down: Jane is the only one.
			makeOwner(o)
			for _, u := range o.emu.Users() {
				if u.Email == "owner@example.com" {
					c := o.srv.SDKClient()
					_, err := c.Admin.Organization.Users.Delete(context.Background(), u.ID)
					must(o.t, err)
				}
			}
			return request(o.person.email), guard.Rules{AllowOwners: true}, false
		}, "last owner"},
		{"protected domain", func(o *org) (message.Request, guard.Rules, bool) {
			return request(o.person.email), guard.Rules{Protection: guard.Protection{Domains: []string{"EXAMPLE.com"}}}, false
		}, "domain example.com is protected"},
		{"protected email", func(o *org) (message.Request, guard.Rules, bool) {
			return request(o.person.email), guard.Rules{Protection: guard.Protection{Emails: []string{"JANE.LEAVER@example.com"}}}, false
		}, "is protected"},
		{"protected user id", func(o *org) (message.Request, guard.Rules, bool) {
			return request(o.person.email), guard.Rules{Protection: guard.Protection{IDs: []string{o.person.id}}}, false
		}, "is protected"},
		{"user id mismatch", func(o *org) (message.Request, guard.Rules, bool) {
			r := request(o.person.email)
			r.UserID = o.bystander.id
			return r, guard.Rules{}, false
		}, "belongs to user"},
		{"key cap", func(o *org) (message.Request, guard.Rules, bool) {
			return request(o.person.email), guard.Rules{}, false
		}, "deletion cap exceeded"},
		{"dry run", func(o *org) (message.Request, guard.Rules, bool) {
			return request(o.person.email), guard.Rules{}, true
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			o := newOrg(t, 3, 2)
			req, rules, dry := tt.setup(o)
			off := o.offboarder(dry, rules)
			if tt.name == "key cap" {
				off.MaxKeyRevocations = 3 // Jane owns 4
			}
			o.emu.ResetRequests()

			res, err := off.Offboard(ctx, req, Attempt{MessageID: "m-1"})
			if tt.refuse != "" {
				if !IsRefused(err) || !strings.Contains(err.Error(), tt.refuse) || res.Outcome != Refused {
					t.Fatalf("Offboard = %s, %v; want a refusal containing %q", res.Outcome, err, tt.refuse)
				}
			} else {
				if err != nil || res.Outcome != DryRun {
					t.Fatalf("Offboard = %s, %v; want a dry run", res.Outcome, err)
				}
				want := Counts{Projects: 3, APIKeys: 4, Invites: 1, UserRemoved: true}
				if res.Done != want {
					t.Errorf("dry run reports %+v, want what a real run would do: %+v", res.Done, want)
				}
			}
			if muts := o.emu.MutatingRequests(); len(muts) != 0 {
				t.Errorf("%d mutating requests reached the API, first %s %s", len(muts), muts[0].Method, muts[0].Path)
			}
			if m, k, i, u := o.remaining(o.person); m != 3 || k != 4 || i != 1 || !u {
				t.Errorf("changed: %d memberships, %d keys, %d invites, user %v", m, k, i, u)
			}
			if objs := listJournal(t, o); len(objs) != 0 {
				t.Errorf("journal written for a run that changed nothing: %v", objs)
			}
		})
	}
}

func makeOwner(o *org) {
	o.t.Helper()
	c := o.srv.SDKClient()
	_, err := c.Admin.Organization.Users.Update(context.Background(), o.person.id,
		openai.AdminOrganizationUserUpdateParams{Role: openai.String("owner")})
	must(o.t, err)
}

func TestOffboardAllowedOwnerLosesAdminKeysButNotTheJobsOwn(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t, 2, 1)
	// The emulator's first owner holds the admin key the job uses and a
	// second one; Jane becomes an owner too, so the first owner is not the last.
	makeOwner(o)
	first := o.emu.Users()[0]
	spare, _, err := o.emu.AddAdminAPIKey(adminapi.NewAdminAPIKey{Name: "owner's laptop"})
	must(t, err)

	off := o.offboarder(false, guard.Rules{AllowOwners: true})
	res, err := off.Offboard(ctx, request(first.Email), Attempt{MessageID: "m-1"})
	if err != nil {
		t.Fatalf("Offboard: %v", err)
	}
	var revoked, skipped []string
	for _, k := range res.Record.APIKeys {
		switch k.Outcome {
		case journal.Removed:
			revoked = append(revoked, k.ID)
		case journal.Skipped:
			skipped = append(skipped, k.ID+": "+k.Note)
		}
	}
	if len(revoked) != 1 || revoked[0] != spare {
		t.Errorf("revoked %v, want only the spare admin key %s", revoked, spare)
	}
	if len(skipped) != 1 || !strings.Contains(skipped[0], "admin key this job is using") {
		t.Errorf("skipped %v, want the job's own key", skipped)
	}
	if o.emu.CountRequests(http.MethodDelete, "/organization/users/*") != 1 {
		t.Errorf("the owner was not removed")
	}
}

func TestOffboardLeavesProtectedProjectsAndKeysAlone(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t, 3, 3)
	protectedProject := o.person.projects[1]
	rules := guard.Rules{Protection: guard.Protection{Projects: []string{protectedProject}, Names: []string{"jane key 1"}}}
	res, err := o.offboarder(false, rules).Offboard(ctx, request(o.person.email), Attempt{MessageID: "m-1"})
	if err != nil {
		t.Fatalf("Offboard: %v", err)
	}
	for _, r := range o.emu.MutatingRequests() {
		if strings.Contains(r.Path, protectedProject) {
			t.Errorf("a request touched the protected project: %s %s", r.Method, r.Path)
		}
		if r.Method == http.MethodDelete && strings.Contains(r.Path, "/api_keys/") {
			for _, p := range o.person.projects {
				if strings.Contains(r.Path, p) && strings.HasSuffix(r.Path, o.person.keys[p][1]) {
					t.Errorf("the protected key name was revoked: %s", r.Path)
				}
			}
		}
	}
	// Jane's keys that remain: both in the protected project and "jane key 1" in the two others.
	if _, k, _, u := o.remaining(o.person); k != 4 || u {
		t.Errorf("remaining keys %d (want 4), user %v (want removed)", k, u)
	}
	skipped := 0
	for _, it := range Items(res.Record) {
		if it.Outcome == journal.Skipped {
			skipped++
			if it.Note == "" {
				t.Errorf("skipped item without a reason: %+v", it)
			}
		}
	}
	if skipped != 3 { // the protected membership, two protected-name keys
		t.Errorf("%d skipped items, want 3: %+v", skipped, Items(res.Record))
	}
}

func TestOffboardResumesAfterAStepFailsMidway(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t, 4, 4)
	broken := o.person.projects[2]
	// Removing Jane from one project fails with a permanent-looking error
	// until someone fixes it.
	o.emu.InjectFault(adminapi.Rule{Method: http.MethodDelete, PathPattern: "/organization/projects/" + broken + "/users/*",
		Status: http.StatusBadRequest, Count: 1000})
	off := o.offboarder(false, guard.Rules{})

	res, err := off.Offboard(ctx, request(o.person.email), Attempt{MessageID: "m-1", ReceiveCount: 1})
	if err == nil || res.Outcome != Incomplete {
		t.Fatalf("first attempt: %s, %v; want incomplete with an error", res.Outcome, err)
	}
	if got := classify(err); got != KindPermanent {
		t.Errorf("classified %s, want %s", got, KindPermanent)
	}
	if m, k, i, u := o.remaining(o.person); m != 1 || k != 0 || i != 0 || !u {
		t.Fatalf("after the failure: %d memberships (want the broken one), %d keys, %d invites, user %v (want kept)", m, k, i, u)
	}
	first := map[string]bool{}
	for _, r := range o.emu.MutatingRequests() {
		if r.Status == http.StatusOK {
			first[r.Method+" "+r.Path] = true
		}
	}

	o.emu.ClearFaults()
	o.emu.ResetRequests()
	res, err = off.Offboard(ctx, request(o.person.email), Attempt{MessageID: "m-1", ReceiveCount: 2})
	if err != nil || res.Outcome != Offboarded {
		t.Fatalf("retry: %s, %v", res.Outcome, err)
	}
	if res.Done != (Counts{Projects: 1, UserRemoved: true}) {
		t.Errorf("retry did %+v, want the broken membership and the user", res.Done)
	}
	for _, r := range o.emu.MutatingRequests() {
		if first[r.Method+" "+r.Path] {
			t.Errorf("retry repeated a finished step: %s %s", r.Method, r.Path)
		}
	}
	if m, k, i, u := o.remaining(o.person); m+k+i > 0 || u {
		t.Fatalf("left behind: %d memberships, %d keys, %d invites, user %v", m, k, i, u)
	}
	rec, _ := journal.Read(ctx, o.store.S3, journalBucket, journal.DefaultPrefix, res.JournalLocation)
	if rec.Status != journal.Completed || len(rec.Attempts) != 2 || rec.Attempts[0].Outcome != "failed" || rec.Attempts[1].Outcome != "completed" {
		t.Errorf("record: %s, attempts %+v", rec.Status, rec.Attempts)
	}
	removed := 0
	for _, it := range Items(rec) {
		if it.Outcome == journal.Removed {
			removed++
		}
	}
	if removed != 4+8+1+1 {
		t.Errorf("record shows %d removals across attempts, want %d", removed, 4+8+1+1)
	}
}

func TestOffboardWithoutUserRevokesInvites(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t, 1, 0)
	_, err := o.emu.AddInvite(adminapi.NewInvite{Email: "never.joined@example.com", Role: "reader"})
	must(t, err)
	res, err := o.offboarder(false, guard.Rules{}).Offboard(ctx, request("Never.Joined@example.com"), Attempt{MessageID: "m"})
	if err != nil || res.Outcome != Offboarded || res.Done != (Counts{Invites: 1}) {
		t.Fatalf("Offboard = %s %+v, %v", res.Outcome, res.Done, err)
	}
	res, err = o.offboarder(false, guard.Rules{}).Offboard(ctx, request("nobody@example.com"), Attempt{MessageID: "m2"})
	if err != nil || res.Outcome != NotFound {
		t.Fatalf("unknown person: %s, %v", res.Outcome, err)
	}
}

func TestOffboardRetriesUnfinishedKeysByID(t *testing.T) {
	// An earlier attempt wrote its plan and died after removing Jane from
	// a project but before revoking her key there (another writer, or a
	// crash between steps). The retry cannot see the key through her
	// memberships any more; the record still names it.
	ctx := context.Background()
	o := newOrg(t, 2, 2)
	req := request(o.person.email)
	p := o.person.projects[1]
	key := journal.Key(journal.DefaultPrefix, req.RequestedAt, req.Email, req.RequestKey())
	e, err := o.store.Open(ctx, key, func() *journal.Record { return journal.New(key, req.Email, req.RequestKey(), time.Now()) })
	must(t, err)
	e.Record.User = &journal.User{ID: o.person.id, Email: o.person.email, OrgRole: "reader"}
	e.Record.Organization = &journal.Step{Outcome: journal.Planned}
	e.Record.Membership(journal.Membership{ProjectID: p, Role: "member", Step: journal.Step{Outcome: journal.Planned}})
	for _, k := range o.person.keys[p] {
		e.Record.APIKey(journal.APIKey{ID: k, Kind: journal.ProjectKey, ProjectID: p, Name: "x", Step: journal.Step{Outcome: journal.Planned}})
	}
	e.Record.Attempts = []journal.Attempt{{RunID: "crashed", StartedAt: time.Now()}}
	must(t, e.Save(ctx))
	// The crashed attempt got as far as removing the membership and one key.
	c := o.srv.SDKClient()
	if _, err := c.Admin.Organization.Projects.Users.Delete(ctx, p, o.person.id); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Admin.Organization.Projects.APIKeys.Delete(ctx, p, o.person.keys[p][0]); err != nil {
		t.Fatal(err)
	}

	res, err := o.offboarder(false, guard.Rules{}).Offboard(ctx, req, Attempt{MessageID: "m", ReceiveCount: 2})
	if err != nil || res.Outcome != Offboarded {
		t.Fatalf("Offboard = %s, %v", res.Outcome, err)
	}
	if _, k, _, u := o.remaining(o.person); k != 0 || u {
		t.Fatalf("left behind %d keys, user %v", k, u)
	}
	outcomes := map[string]journal.Outcome{}
	for _, k := range res.Record.APIKeys {
		outcomes[k.ID] = k.Outcome
	}
	if outcomes[o.person.keys[p][0]] != journal.AlreadyGone || outcomes[o.person.keys[p][1]] != journal.Removed {
		t.Errorf("key outcomes %v", outcomes)
	}
	for _, m := range res.Record.Projects {
		if m.ProjectID == p && m.Outcome != journal.AlreadyGone {
			t.Errorf("membership removed by the crashed attempt: %s", m.Outcome)
		}
	}
}

func TestOffboardRefusesAStaleDuplicateAfterThePersonRejoined(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t, 1, 0)
	req := request(o.person.email)
	off := o.offboarder(false, guard.Rules{})
	if _, err := off.Offboard(ctx, req, Attempt{MessageID: "m"}); err != nil {
		t.Fatal(err)
	}
	// Restored a day later; then the old message is delivered again.
	_, err := o.emu.AddUser(adminapi.NewUser{Email: o.person.email, AddedAt: time.Now().Add(24 * time.Hour)})
	must(t, err)
	o.emu.ResetRequests()
	res, err := off.Offboard(ctx, req, Attempt{MessageID: "m-dup"})
	if !IsRefused(err) || !strings.Contains(res.Refusal, "joined after this offboarding completed") {
		t.Fatalf("Offboard = %s, %v; want a refusal", res.Outcome, err)
	}
	if n := len(o.emu.MutatingRequests()); n != 0 {
		t.Errorf("%d mutating requests", n)
	}
}

func listJournal(t *testing.T, o *org) []string {
	t.Helper()
	var keys []string
	out, err := o.store.S3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(journalBucket)})
	must(t, err)
	for _, c := range out.Contents {
		keys = append(keys, *c.Key)
	}
	return keys
}

func TestOffboardWritesTheJournalBeforeAnyChange(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t, 2, 1)
	off := o.offboarder(false, guard.Rules{})
	off.Journal = &journal.Store{S3: o.store.S3, Bucket: "no-such-bucket"}
	o.emu.ResetRequests()
	res, err := off.Offboard(ctx, request(o.person.email), Attempt{MessageID: "m"})
	if err == nil || res.Outcome != Incomplete {
		t.Fatalf("Offboard = %s, %v; want an error", res.Outcome, err)
	}
	if n := len(o.emu.MutatingRequests()); n != 0 {
		t.Errorf("%d changes sent without a journal record", n)
	}
}

func TestKeyMaterialPastedIntoARequestStaysOut(t *testing.T) {
	ctx := context.Background()
	o := newOrg(t, 1, 1)
	planted := "sk-proj-" + strings.Repeat("Zq9", 12)
	req := request(o.person.email)
	req.Reason = "handover: old key was " + planted
	res, err := o.offboarder(false, guard.Rules{}).Offboard(ctx, req, Attempt{MessageID: "m"})
	if err != nil {
		t.Fatal(err)
	}
	obj, err := o.store.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(journalBucket), Key: aws.String(res.Record.Key)})
	must(t, err)
	defer obj.Body.Close()
	var body strings.Builder
	_, err = io.Copy(&body, obj.Body)
	must(t, err)
	if strings.Contains(body.String(), planted) || strings.Contains(o.logs.String(), planted) {
		t.Errorf("the planted key reached the journal or the logs")
	}
}
