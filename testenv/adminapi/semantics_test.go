package adminapi_test

import (
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
)

func TestAuthentication(t *testing.T) {
	srv := smallServer(t)
	emu := srv.Emulator
	def := emu.DefaultProjectID()
	owner := emu.Users()[0]
	_, projectKey, err := emu.AddProjectAPIKey(def, adminapi.NewProjectAPIKey{OwnerUserID: owner.ID})
	if err != nil {
		t.Fatal(err)
	}
	saID, err := emu.AddServiceAccount(def, adminapi.NewServiceAccount{Name: "bot"})
	if err != nil {
		t.Fatal(err)
	}
	_, saKey, err := emu.AddProjectAPIKey(def, adminapi.NewProjectAPIKey{OwnerServiceAccountID: saID})
	if err != nil {
		t.Fatal(err)
	}
	_, expired, err := emu.AddAdminAPIKey(adminapi.NewAdminAPIKey{Name: "old", ExpiresAt: fixedNow.Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		header string
		status int
		code   string
	}{
		{"no header", "", 401, "missing_api_key"},
		{"unknown admin key", "Bearer sk-admin-" + strings.Repeat("x", 48), 401, "invalid_api_key"},
		{"not bearer", "Basic " + srv.AdminKey, 401, "missing_api_key"},
		{"expired admin key", "Bearer " + expired, 401, "invalid_api_key"},
		{"project key", "Bearer " + projectKey, 403, "insufficient_permissions"},
		{"service account key", "Bearer " + saKey, 403, "insufficient_permissions"},
		{"admin key", "Bearer " + srv.AdminKey, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", srv.URL+"/organization/users", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			res, err := srv.HTTP.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var body json.RawMessage
			_ = json.NewDecoder(res.Body).Decode(&body)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			if tc.code != "" {
				e := errorBody(t, body)
				if e["code"] != tc.code {
					t.Fatalf("code %v, want %s", e["code"], tc.code)
				}
				for _, secret := range emu.IssuedSecrets() {
					if strings.Contains(string(body), secret) {
						t.Fatal("error body contains key material")
					}
				}
			}
		})
	}
}

func TestLastOwnerIsProtected(t *testing.T) {
	srv := adminapitest.New(t, adminapi.Options{Clock: fixedClock})
	ctx := context.Background()
	org := srv.SDKClient().Admin.Organization
	owner := srv.Emulator.Users()[0]
	_, err := org.Users.Delete(ctx, owner.ID)
	wantStatus(t, "delete last owner", err, 400)
	_, err = org.Users.Update(ctx, owner.ID, openai.AdminOrganizationUserUpdateParams{Role: openai.String("reader")})
	wantStatus(t, "demote last owner", err, 400)

	second, err := srv.Emulator.AddUser(adminapi.NewUser{Email: "second@example.com", Role: "owner"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := org.Users.Delete(ctx, owner.ID); err != nil {
		t.Fatalf("deleting one of two owners: %v", err)
	}
	_, err = org.Users.Delete(ctx, second)
	wantStatus(t, "delete the owner left", err, 400)
}

func TestUserDeletionKeepsKeysInactive(t *testing.T) {
	srv := smallServer(t)
	emu := srv.Emulator
	ctx := context.Background()
	org := srv.SDKClient().Admin.Organization
	uid, err := emu.AddUser(adminapi.NewUser{Email: "leaver@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	var projects, keys []string
	for _, p := range emu.Projects()[1:3] {
		if err := emu.AddProjectUser(p.ID, uid, "member"); err != nil {
			t.Fatal(err)
		}
		k, _, err := emu.AddProjectAPIKey(p.ID, adminapi.NewProjectAPIKey{Name: "leaver's key", OwnerUserID: uid})
		if err != nil {
			t.Fatal(err)
		}
		projects, keys = append(projects, p.ID), append(keys, k)
	}
	if _, err := org.Users.Delete(ctx, uid); err != nil {
		t.Fatal(err)
	}
	for i, pid := range projects {
		for _, pu := range emu.ProjectUsers(pid) {
			if pu.UserID == uid {
				t.Fatalf("membership of %s survived the user's deletion", pid)
			}
		}
		k, err := org.Projects.APIKeys.Get(ctx, pid, keys[i])
		if err != nil {
			t.Fatalf("key of a deleted user is gone: %v", err)
		}
		if k.OwnerProjectAccess != "inactive" || k.Owner.User.Email != "leaver@example.com" {
			t.Fatalf("key %s: access %s owner %+v", k.ID, k.OwnerProjectAccess, k.Owner.User)
		}
		listed := func(access string) bool {
			page := collect(t, org.Projects.APIKeys.ListAutoPaging(ctx, pid, openai.AdminOrganizationProjectAPIKeyListParams{
				OwnerProjectAccess: openai.AdminOrganizationProjectAPIKeyListParamsOwnerProjectAccess(access)}))
			return slices.Contains(ids(page, func(k openai.ProjectAPIKey) string { return k.ID }), keys[i])
		}
		if listed("") || listed("active") || !listed("inactive") || !listed("any") {
			t.Fatalf("key %s visibility: default=%v active=%v inactive=%v any=%v", keys[i], listed(""), listed("active"), listed("inactive"), listed("any"))
		}
	}
}

func TestProjectRules(t *testing.T) {
	srv := smallServer(t)
	emu := srv.Emulator
	ctx := context.Background()
	org := srv.SDKClient().Admin.Organization
	var archived string
	for _, p := range emu.Projects() {
		if p.Status == "archived" {
			archived = p.ID
		}
	}
	if archived == "" {
		t.Fatal("small seed has no archived project")
	}
	member := emu.Users()[5].ID
	_, err := org.Projects.Users.New(ctx, archived, openai.AdminOrganizationProjectUserNewParams{UserID: openai.String(member), Role: "member"})
	wantStatus(t, "add to archived", err, 400)
	_, err = org.Projects.Users.List(ctx, archived, openai.AdminOrganizationProjectUserListParams{})
	wantStatus(t, "list users of archived", err, 400)
	_, err = org.Projects.ServiceAccounts.New(ctx, archived, openai.AdminOrganizationProjectServiceAccountNewParams{Name: "x"})
	wantStatus(t, "service account in archived", err, 400)
	_, err = org.Projects.Update(ctx, archived, openai.AdminOrganizationProjectUpdateParams{Name: openai.String("revived")})
	wantStatus(t, "rename archived", err, 400)
	_, err = org.Projects.Archive(ctx, emu.DefaultProjectID())
	wantStatus(t, "archive default", err, 400)

	active := emu.Projects()[1].ID
	inProject := emu.ProjectUsers(active)[0].UserID
	_, err = org.Projects.Users.New(ctx, active, openai.AdminOrganizationProjectUserNewParams{UserID: openai.String(inProject), Role: "member"})
	wantStatus(t, "add a member twice", err, 400)
	_, err = org.Projects.Users.New(ctx, active, openai.AdminOrganizationProjectUserNewParams{Email: openai.String("nobody@example.com"), Role: "member"})
	wantStatus(t, "add a non-member by email", err, 400)
	_, err = org.Projects.Users.New(ctx, active, openai.AdminOrganizationProjectUserNewParams{UserID: openai.String(member), Role: "admin"})
	wantStatus(t, "bad role", err, 400)
	_, err = org.Projects.Get(ctx, "proj_unknown")
	wantStatus(t, "unknown project", err, 404)
}

func TestServiceAccountKeys(t *testing.T) {
	srv := smallServer(t)
	ctx := context.Background()
	org := srv.SDKClient().Admin.Organization
	pid := srv.Emulator.Projects()[1].ID
	sa, err := org.Projects.ServiceAccounts.New(ctx, pid, openai.AdminOrganizationProjectServiceAccountNewParams{Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	extra, err := org.Projects.ServiceAccounts.APIKeys.New(ctx, pid, sa.ID, openai.AdminOrganizationProjectServiceAccountAPIKeyNewParams{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = org.Projects.APIKeys.Delete(ctx, pid, sa.APIKey.ID)
	wantStatus(t, "delete a service account's key", err, 400)
	// Its key is a project credential: the admin API refuses it with 403.
	keyClient := srv.SDKClient(option.WithAdminAPIKey(extra.Value))
	_, err = keyClient.Admin.Organization.Users.List(ctx, openai.AdminOrganizationUserListParams{})
	wantStatus(t, "service account key on admin API", err, 403)

	if _, err := org.Projects.ServiceAccounts.Delete(ctx, pid, sa.ID); err != nil {
		t.Fatal(err)
	}
	for _, k := range srv.Emulator.ProjectAPIKeys(pid) {
		if k.ID == sa.APIKey.ID || k.ID == extra.ID {
			t.Fatalf("key %s outlived its service account", k.ID)
		}
	}
	_, err = keyClient.Admin.Organization.Users.List(ctx, openai.AdminOrganizationUserListParams{})
	wantStatus(t, "deleted service account key", err, 401)
}

func TestInviteLifecycle(t *testing.T) {
	srv := smallServer(t)
	emu := srv.Emulator
	ctx := context.Background()
	org := srv.SDKClient().Admin.Organization
	pid := emu.Projects()[2].ID
	in, err := org.Invites.New(ctx, openai.AdminOrganizationInviteNewParams{Email: "joiner@example.com", Role: "reader",
		Projects: []openai.AdminOrganizationInviteNewParamsProject{{ID: pid, Role: "owner"}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = org.Invites.New(ctx, openai.AdminOrganizationInviteNewParams{Email: "joiner@example.com", Role: "reader"})
	wantStatus(t, "second pending invite", err, 400)
	_, err = org.Invites.New(ctx, openai.AdminOrganizationInviteNewParams{Email: emu.Users()[3].Email, Role: "reader"})
	wantStatus(t, "invite a member", err, 400)

	uid, err := emu.AcceptInvite(in.ID)
	if err != nil {
		t.Fatal(err)
	}
	u, err := org.Users.Get(ctx, uid)
	if err != nil || u.Email != "joiner@example.com" || u.Role != "reader" {
		t.Fatalf("accepted invitee: %v %+v", err, u)
	}
	pu, err := org.Projects.Users.Get(ctx, pid, uid)
	if err != nil || pu.Role != "owner" {
		t.Fatalf("invitee's project membership: %v %+v", err, pu)
	}
	events, err := org.AuditLogs.List(ctx, openai.AdminOrganizationAuditLogListParams{ActorIDs: []string{uid}})
	if err != nil || len(events.Data) != 2 || events.Data[0].Actor.Type != "session" {
		t.Fatalf("invitee's events: %v %+v", err, events)
	}

	// Expiry follows the clock.
	later, err := org.Invites.New(ctx, openai.AdminOrganizationInviteNewParams{Email: "late@example.com", Role: "reader"})
	if err != nil || later.ExpiresAt-later.CreatedAt != int64(adminapi.DefaultInviteTTL/time.Second) {
		t.Fatalf("new invite: %v %+v", err, later)
	}
	emu.AdvanceClock(adminapi.DefaultInviteTTL + time.Second)
	got, err := org.Invites.Get(ctx, later.ID)
	if err != nil || got.Status != "expired" {
		t.Fatalf("after its TTL the invite reads %q (%v)", got.Status, err)
	}
	if _, err := emu.AcceptInvite(later.ID); err == nil {
		t.Fatal("accepted an expired invite")
	}
	if _, err := org.Invites.Delete(ctx, later.ID); err != nil {
		t.Fatalf("delete expired invite: %v", err)
	}
}

func TestAdminKeyRotation(t *testing.T) {
	srv := smallServer(t)
	ctx := context.Background()
	org := srv.SDKClient().Admin.Organization
	next, err := org.AdminAPIKeys.New(ctx, openai.AdminOrganizationAdminAPIKeyNewParams{Name: "next"})
	if err != nil {
		t.Fatal(err)
	}
	if next.AdminAPIKey.JSON.ExpiresAt.Raw() != "null" {
		t.Fatalf("key without expires_in_seconds has expires_at %s", next.AdminAPIKey.JSON.ExpiresAt.Raw())
	}
	nextClient := srv.SDKClient(option.WithAdminAPIKey(next.Value))
	var oldID string
	for _, k := range srv.Emulator.AdminAPIKeys() {
		if strings.HasSuffix(srv.AdminKey, k.RedactedValue[len(k.RedactedValue)-4:]) && k.ID != next.ID {
			oldID = k.ID
		}
	}
	// The new key retires the old one, then the old one is refused.
	if _, err := nextClient.Admin.Organization.AdminAPIKeys.Delete(ctx, oldID); err != nil {
		t.Fatal(err)
	}
	_, err = org.Users.List(ctx, openai.AdminOrganizationUserListParams{})
	wantStatus(t, "retired key", err, 401)
	if _, err := nextClient.Admin.Organization.Users.List(ctx, openai.AdminOrganizationUserListParams{}); err != nil {
		t.Fatalf("new key: %v", err)
	}
	_, err = org.AdminAPIKeys.New(ctx, openai.AdminOrganizationAdminAPIKeyNewParams{Name: "too long", ExpiresInSeconds: openai.Int(31536001)})
	wantStatus(t, "expires_in_seconds over a year (with a retired key, auth first)", err, 401)
	_, err = nextClient.Admin.Organization.AdminAPIKeys.New(ctx, openai.AdminOrganizationAdminAPIKeyNewParams{Name: "too long", ExpiresInSeconds: openai.Int(31536001)})
	wantStatus(t, "expires_in_seconds over a year", err, 400)
}

func TestAuditEventsOfMutations(t *testing.T) {
	srv := adminapitest.New(t, adminapi.Options{Clock: fixedClock})
	emu := srv.Emulator
	ctx := context.Background()
	org := srv.SDKClient().Admin.Organization
	p, err := org.Projects.New(ctx, openai.AdminOrganizationProjectNewParams{Name: "Audited"})
	if err != nil {
		t.Fatal(err)
	}
	sa, err := org.Projects.ServiceAccounts.New(ctx, p.ID, openai.AdminOrganizationProjectServiceAccountNewParams{Name: "svc"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := org.Projects.RateLimits.UpdateRateLimit(ctx, p.ID, "rl-gpt-4o", openai.AdminOrganizationProjectRateLimitUpdateRateLimitParams{MaxTokensPer1Minute: openai.Int(1)}); err != nil {
		t.Fatal(err)
	}
	if _, err := org.Projects.Archive(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	events := collect(t, org.AuditLogs.ListAutoPaging(ctx, openai.AdminOrganizationAuditLogListParams{}))
	want := []struct{ typ, resource string }{
		{"project.archived", p.ID},
		{"rate_limit.updated", "rl-gpt-4o"},
		{"api_key.created", sa.APIKey.ID},
		{"service_account.created", sa.ID},
		{"project.created", p.ID},
	}
	if len(events) != len(want) {
		t.Fatalf("got %d events, want %d", len(events), len(want))
	}
	keyID := emu.AdminAPIKeys()[0].ID
	for i, w := range want {
		ev := events[i]
		var payload map[string]json.RawMessage
		if err := json.Unmarshal([]byte(ev.RawJSON()), &payload); err != nil {
			t.Fatal(err)
		}
		var target struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(payload[w.typ], &target)
		if string(ev.Type) != w.typ || target.ID != w.resource || ev.Project.ID != p.ID ||
			ev.Actor.Type != "api_key" || ev.Actor.APIKey.ID != keyID || ev.Actor.APIKey.User.Email != "owner@example.com" ||
			ev.EffectiveAt != fixedNow.Unix() {
			t.Errorf("event %d: %s", i, ev.RawJSON())
		}
	}
	if got := events[1].RateLimitUpdated.ChangesRequested.MaxTokensPer1Minute; got != 1 {
		t.Errorf("rate_limit.updated changes_requested.max_tokens_per_1_minute = %d", got)
	}
	if got := emu.AuditEventCount(); got != len(want) {
		t.Errorf("AuditEventCount = %d", got)
	}
}

func TestAppendAuditEventKeepsBytes(t *testing.T) {
	// An event of a type the spec does not know breaks the spec on purpose.
	srv := smallServer(t, adminapitest.WithoutValidation())
	emu := srv.Emulator
	old := fixedNow.Add(-48 * time.Hour).Unix()
	event := `{"id":"audit_log-late-1", "type":"future.thing","effective_at":` + jsonInt(old) + `,
  "future.thing":{"id":"thing_1","shiny":true},"project":{"id":"proj_x","name":"X"}}`
	if err := emu.AppendAuditEvent(json.RawMessage(event)); err != nil {
		t.Fatal(err)
	}
	if err := emu.AppendAuditEvent(json.RawMessage(event)); err == nil {
		t.Fatal("duplicate id accepted")
	}
	all := emu.AuditEventIDs()
	pos := slices.Index(all, "audit_log-late-1")
	if pos <= 0 || pos == len(all)-1 {
		t.Fatalf("late event at position %d of %d, want among older events", pos, len(all))
	}
	status, _, body := raw(t, srv, "GET", "/organization/audit_logs?resource_ids[]=thing_1&project_ids[]=proj_x", srv.AdminKey, "")
	if status != 200 || !strings.Contains(string(body), event) {
		t.Fatalf("event not returned byte for byte: %d %s", status, body)
	}
}

func jsonInt(v int64) string { b, _ := json.Marshal(v); return string(b) }

func TestUserProjectsListsActiveMemberships(t *testing.T) {
	ctx := context.Background()
	for _, omit := range []bool{false, true} {
		seed := adminapi.SmallSeed(1)
		srv := adminapitest.New(t, adminapi.Options{Seed: &seed, Clock: fixedClock, OmitUserProjects: omit})
		emu := srv.Emulator
		uid, err := emu.AddUser(adminapi.NewUser{Email: "member@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{}
		for i, p := range emu.Projects() {
			if p.Status == "archived" || i%2 == 1 {
				continue
			}
			role := []string{"member", "owner"}[i%4/2]
			if err := emu.AddProjectUser(p.ID, uid, role); err != nil {
				t.Fatal(err)
			}
			want[p.ID] = role
		}
		client := srv.SDKClient()
		u, err := client.Admin.Organization.Users.Get(ctx, uid)
		if err != nil {
			t.Fatal(err)
		}
		if omit {
			if u.JSON.Projects.Valid() {
				t.Errorf("OmitUserProjects: projects present: %s", u.Projects.RawJSON())
			}
			continue
		}
		got := map[string]string{}
		for _, p := range u.Projects.Data {
			got[p.ID] = p.Role
		}
		if len(want) == 0 || !maps.Equal(got, want) {
			t.Errorf("projects = %v, want %v", got, want)
		}
	}
}
