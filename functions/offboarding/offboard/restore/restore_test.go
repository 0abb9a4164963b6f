package restore

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/journal"
	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
)

type fixture struct {
	srv      *adminapitest.Server
	emu      *adminapi.Emulator
	projects []string // owned, member, archived-later
	rec      *journal.Record
}

// newFixture is an organization after Jane's offboarding: three projects
// she was in (owner of the first), and the record saying so, with a key
// revoked in the first.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := adminapitest.New(t, adminapi.Options{})
	f := &fixture{srv: srv, emu: srv.Emulator}
	for _, name := range []string{"alpha", "beta", "gamma"} {
		id, err := f.emu.AddProject(adminapi.NewProject{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		f.projects = append(f.projects, id)
	}
	now := time.Now()
	rec := journal.New("offboarding/2026/11/23/jane@example.com-hr-1.json", "jane@example.com", "hr-1", now)
	rec.User = &journal.User{ID: "user-old", Email: "Jane@example.com", OrgRole: "reader"}
	rec.Organization = &journal.Step{Outcome: journal.Removed}
	rec.Membership(journal.Membership{ProjectID: f.projects[0], ProjectName: "alpha", Role: "owner", Step: journal.Step{Outcome: journal.Removed}})
	rec.Membership(journal.Membership{ProjectID: f.projects[1], ProjectName: "beta", Role: "member", Step: journal.Step{Outcome: journal.Removed}})
	rec.Membership(journal.Membership{ProjectID: f.projects[2], ProjectName: "gamma", Role: "member", Step: journal.Step{Outcome: journal.Removed}})
	rec.APIKey(journal.APIKey{ID: "key_old", Kind: journal.ProjectKey, Name: "laptop", ProjectID: f.projects[0], Step: journal.Step{Outcome: journal.Removed}})
	rec.Finish(now)
	f.rec = rec
	return f
}

func (f *fixture) client(t *testing.T, dryRun bool) *adminclient.Client {
	t.Helper()
	c, err := adminclient.New(adminclient.Options{BaseURL: f.srv.URL, AdminKey: logging.Secret(f.srv.AdminKey),
		HTTPClient: f.srv.HTTP.Client(), MaxRetries: -1, DryRun: dryRun})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func outcomes(rep *Report) map[string]Outcome {
	m := map[string]Outcome{}
	for _, a := range rep.Actions {
		m[a.What+" "+a.ProjectID] = a.Outcome
	}
	return m
}

func TestRestoreReinvitesThenAcceptanceRestoresRoles(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	// gamma was archived after the offboarding: it cannot come back.
	c := f.srv.SDKClient()
	if _, err := c.Admin.Organization.Projects.Archive(ctx, f.projects[2]); err != nil {
		t.Fatal(err)
	}

	// Dry run: says what it would do, sends nothing.
	f.emu.ResetRequests()
	rep, err := Restore(ctx, f.client(t, true), f.rec, "", Options{})
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if n := len(f.emu.MutatingRequests()); n != 0 {
		t.Fatalf("dry run sent %d mutating requests", n)
	}
	if got := outcomes(rep); got["invite "] != WouldDo || got["project_membership "+f.projects[2]] != NotRestorable {
		t.Fatalf("dry run actions %+v", rep.Actions)
	}

	rep, err = Restore(ctx, f.client(t, false), f.rec, "", Options{})
	if err != nil {
		t.Fatalf("Restore: %v", err)
	}
	invites := f.emu.Invites()
	if len(invites) != 1 || !strings.EqualFold(invites[0].Email, "jane@example.com") || invites[0].Role != "reader" {
		t.Fatalf("invites %+v", invites)
	}
	granted := map[string]string{}
	for _, p := range invites[0].Projects {
		granted[p.ID] = p.Role
	}
	if len(granted) != 2 || granted[f.projects[0]] != "owner" || granted[f.projects[1]] != "member" {
		t.Errorf("invite grants %v, want alpha as owner and beta as member", granted)
	}
	if !strings.Contains(strings.Join(rep.CannotRestore, "\n"), `"laptop"`) || !strings.Contains(rep.Next, invites[0].ID) {
		t.Errorf("report should name the revoked key and the invite to accept: %+v", rep)
	}

	// Jane accepts: her memberships and roles are back.
	uid, err := f.emu.AcceptInvite(invites[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"owner", "member"} {
		var role string
		for _, pu := range f.emu.ProjectUsers(f.projects[i]) {
			if pu.UserID == uid {
				role = pu.Role
			}
		}
		if role != want {
			t.Errorf("project %d: role %q after accepting, want %q", i, role, want)
		}
	}

	// Restoring again changes nothing.
	f.emu.ResetRequests()
	rep, err = Restore(ctx, f.client(t, false), f.rec, "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.emu.MutatingRequests()); n != 0 {
		t.Errorf("second restore sent %d mutating requests", n)
	}
	if got := outcomes(rep); got["project_membership "+f.projects[0]] != AlreadyPresent || got["project_membership "+f.projects[1]] != AlreadyPresent {
		t.Errorf("second restore %+v", rep.Actions)
	}
}

func TestRestoreAddsMissingMembershipsOfAMemberAndRespectsPendingInvites(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(f *fixture)
		want  map[string]Outcome
		muts  int
	}{
		{"rejoined with one project", func(f *fixture) {
			uid, err := f.emu.AddUser(adminapi.NewUser{Email: "jane@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			if err := f.emu.AddProjectUser(f.projects[1], uid, "member"); err != nil {
				t.Fatal(err)
			}
		}, map[string]Outcome{"project_membership " + "P0": Added, "project_membership " + "P1": AlreadyPresent, "project_membership " + "P2": Added}, 2},
		{"invite already pending", func(f *fixture) {
			if _, err := f.emu.AddInvite(adminapi.NewInvite{Email: "jane@example.com", Projects: []adminapi.InviteProject{}}); err != nil {
				t.Fatal(err)
			}
		}, map[string]Outcome{"invite ": PendingInvite}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.setup(f)
			f.emu.ResetRequests()
			rep, err := Restore(ctx, f.client(t, false), f.rec, "ticket HR-2: rehired", Options{})
			if err != nil {
				t.Fatalf("Restore: %v", err)
			}
			got := outcomes(rep)
			for k, v := range tt.want {
				for i, p := range f.projects {
					k = strings.ReplaceAll(k, "P"+string(rune('0'+i)), p)
				}
				if got[k] != v {
					t.Errorf("%s: %q, want %q (all: %+v)", k, got[k], v, rep.Actions)
				}
			}
			if n := f.emu.CountRequests(http.MethodPost, ""); n != tt.muts {
				t.Errorf("%d POSTs, want %d", n, tt.muts)
			}
			if rep.Next == "" && tt.name == "invite already pending" {
				t.Errorf("report should say what has to happen next")
			}
		})
	}
}

// TestRestoreOwnerRoleOnlyWhenAllowed: a record that says owner restores
// nothing without AllowOwner (restore --allow-owner), whether the person
// comes back by invite or is a member again.
func TestRestoreOwnerRoleOnlyWhenAllowed(t *testing.T) {
	ctx := context.Background()
	for _, member := range []bool{false, true} {
		f := newFixture(t)
		f.rec.User.OrgRole = "owner"
		if member {
			if _, err := f.emu.AddUser(adminapi.NewUser{Email: "jane@example.com", Role: "reader"}); err != nil {
				t.Fatal(err)
			}
		}
		f.emu.ResetRequests()
		for _, dry := range []bool{true, false} {
			_, err := Restore(ctx, f.client(t, dry), f.rec, "", Options{})
			if !errors.Is(err, ErrOwnerNotAllowed) {
				t.Errorf("member %v, dry run %v: error %v, want a refusal", member, dry, err)
			}
		}
		if n := len(f.emu.MutatingRequests()); n != 0 {
			t.Fatalf("member %v: refused owner restore sent %d changes", member, n)
		}
		if _, err := Restore(ctx, f.client(t, false), f.rec, "", Options{AllowOwner: true}); err != nil {
			t.Fatalf("member %v, allowed: %v", member, err)
		}
		owner := false
		for _, in := range f.emu.Invites() {
			owner = owner || (in.Role == "owner" && strings.EqualFold(in.Email, "jane@example.com"))
		}
		for _, u := range f.emu.Users() {
			owner = owner || (u.Role == "owner" && strings.EqualFold(u.Email, "jane@example.com"))
		}
		if !owner {
			t.Errorf("member %v: --allow-owner did not restore the owner role", member)
		}
	}
}
