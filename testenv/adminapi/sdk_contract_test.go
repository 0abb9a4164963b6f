package adminapi_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/contract"
)

// implemented is every operation the emulator serves, by the spec's operationId.
var implemented = []string{
	"admin-api-keys-list", "admin-api-keys-create", "admin-api-keys-get", "admin-api-keys-delete",
	"list-audit-logs",
	"retrieve-organization-data-retention", "update-organization-data-retention",
	"list-invites", "inviteUser", "retrieve-invite", "delete-invite",
	"list-projects", "create-project", "retrieve-project", "modify-project", "archive-project",
	"list-project-api-keys", "retrieve-project-api-key", "delete-project-api-key",
	"retrieve-project-data-retention", "update-project-data-retention",
	"retrieve-project-model-permissions", "update-project-model-permissions", "delete-project-model-permissions",
	"list-project-rate-limits", "update-project-rate-limits",
	"list-project-service-accounts", "create-project-service-account", "retrieve-project-service-account",
	"update-project-service-account", "delete-project-service-account", "CreateanAPIkeyforaserviceaccount",
	"list-project-spend-alerts", "create-project-spend-alert", "retrieve-project-spend-alert",
	"update-project-spend-alert", "delete-project-spend-alert",
	"list-organization-spend-alerts", "create-organization-spend-alert", "retrieve-organization-spend-alert",
	"update-organization-spend-alert", "delete-organization-spend-alert",
	"list-project-users", "create-project-user", "retrieve-project-user", "modify-project-user", "delete-project-user",
	"list-users", "retrieve-user", "modify-user", "delete-user",
}

// TestSDKContract drives every operation through the real SDK, pagination,
// filters and errors included, with all traffic validated against the spec.
func TestSDKContract(t *testing.T) {
	spec := contract.RequireSpec(t)
	for _, op := range implemented {
		if !slices.Contains(spec.OperationIDs(), op) {
			t.Fatalf("operationId %s is not in the spec", op)
		}
	}
	srv := smallServer(t)
	emu := srv.Emulator
	c := srv.SDKClient()
	org := c.Admin.Organization
	ctx := context.Background()
	def := emu.DefaultProjectID()

	t.Run("users", func(t *testing.T) {
		users := collect(t, org.Users.ListAutoPaging(ctx, openai.AdminOrganizationUserListParams{Limit: openai.Int(7)}))
		want := ids(emu.Users(), func(u adminapi.User) string { return u.ID })
		if got := ids(users, func(u openai.OrganizationUser) string { return u.ID }); !slices.Equal(got, want) {
			t.Fatalf("paged users %v, store %v", got, want)
		}
		for _, u := range users {
			decodedFully(t, "user", u)
		}
		target := emu.Users()[5]
		byEmail, err := org.Users.List(ctx, openai.AdminOrganizationUserListParams{Emails: []string{target.Email}})
		if err != nil || len(byEmail.Data) != 1 || byEmail.Data[0].ID != target.ID {
			t.Fatalf("emails filter: %v %+v", err, byEmail)
		}
		got, err := org.Users.Get(ctx, target.ID)
		if err != nil || got.Email != target.Email || got.Role != target.Role || got.AddedAt != target.AddedAt.Unix() {
			t.Fatalf("get user: %v %+v", err, got)
		}
		up, err := org.Users.Update(ctx, target.ID, openai.AdminOrganizationUserUpdateParams{Role: openai.String("owner")})
		if err != nil || up.Role != "owner" {
			t.Fatalf("update user: %v %+v", err, up)
		}
		del, err := org.Users.Delete(ctx, target.ID)
		if err != nil || !del.Deleted || del.ID != target.ID {
			t.Fatalf("delete user: %v %+v", err, del)
		}
		decodedFully(t, "user.deleted", *del)
		_, err = org.Users.Get(ctx, target.ID)
		wantStatus(t, "get deleted user", err, 404)
	})

	t.Run("invites", func(t *testing.T) {
		in, err := org.Invites.New(ctx, openai.AdminOrganizationInviteNewParams{Email: "new.hire@example.com", Role: "reader",
			Projects: []openai.AdminOrganizationInviteNewParamsProject{{ID: def, Role: "member"}}})
		if err != nil || in.Status != "pending" || len(in.Projects) != 1 || in.ExpiresAt == 0 {
			t.Fatalf("create invite: %v %+v", err, in)
		}
		decodedFully(t, "invite", *in)
		all := collect(t, org.Invites.ListAutoPaging(ctx, openai.AdminOrganizationInviteListParams{Limit: openai.Int(5)}))
		want := ids(emu.Invites(), func(i adminapi.Invite) string { return i.ID })
		if got := ids(all, func(i openai.Invite) string { return i.ID }); !slices.Equal(got, want) {
			t.Fatalf("paged invites %v, store %v", got, want)
		}
		statuses := map[string]bool{}
		for _, i := range all {
			statuses[string(i.Status)] = true
			decodedFully(t, "invite", i)
		}
		if !statuses["pending"] || !statuses["accepted"] || !statuses["expired"] {
			t.Errorf("seeded invites cover %v, want pending, accepted and expired", statuses)
		}
		if _, err := emu.AcceptInvite(in.ID); err != nil {
			t.Fatal(err)
		}
		got, err := org.Invites.Get(ctx, in.ID)
		if err != nil || got.Status != "accepted" || got.AcceptedAt == 0 {
			t.Fatalf("get accepted invite: %v %+v", err, got)
		}
		_, err = org.Invites.Delete(ctx, in.ID)
		wantStatus(t, "delete accepted invite", err, 400)
		other, err := org.Invites.New(ctx, openai.AdminOrganizationInviteNewParams{Email: "maybe@example.com", Role: "owner"})
		if err != nil {
			t.Fatal(err)
		}
		del, err := org.Invites.Delete(ctx, other.ID)
		if err != nil || !del.Deleted {
			t.Fatalf("delete invite: %v %+v", err, del)
		}
	})

	var projectID string
	t.Run("projects", func(t *testing.T) {
		p, err := org.Projects.New(ctx, openai.AdminOrganizationProjectNewParams{Name: "Contract Test"})
		if err != nil || p.Status != "active" || p.ArchivedAt != 0 {
			t.Fatalf("create project: %v %+v", err, p)
		}
		projectID = p.ID
		decodedFully(t, "project", *p)
		up, err := org.Projects.Update(ctx, p.ID, openai.AdminOrganizationProjectUpdateParams{Name: openai.String("Contract Test 2")})
		if err != nil || up.Name != "Contract Test 2" {
			t.Fatalf("update project: %v %+v", err, up)
		}
		_, err = org.Projects.Update(ctx, def, openai.AdminOrganizationProjectUpdateParams{Name: openai.String("x")})
		wantStatus(t, "update default project", err, 400)
		got, err := org.Projects.Get(ctx, p.ID)
		if err != nil || got.Name != "Contract Test 2" {
			t.Fatalf("get project: %v %+v", err, got)
		}
		active := collect(t, org.Projects.ListAutoPaging(ctx, openai.AdminOrganizationProjectListParams{Limit: openai.Int(2)}))
		all := collect(t, org.Projects.ListAutoPaging(ctx, openai.AdminOrganizationProjectListParams{Limit: openai.Int(2), IncludeArchived: openai.Bool(true)}))
		if len(all) != len(emu.Projects()) || len(active) != len(all)-1 {
			t.Fatalf("listed %d active and %d in all, store has %d (one archived)", len(active), len(all), len(emu.Projects()))
		}
		for _, p := range all {
			decodedFully(t, "project", p)
		}
	})

	t.Run("project users", func(t *testing.T) {
		u := emu.Users()[10]
		pu, err := org.Projects.Users.New(ctx, projectID, openai.AdminOrganizationProjectUserNewParams{UserID: openai.String(u.ID), Role: "member"})
		if err != nil || pu.ID != u.ID || pu.Email != u.Email || pu.Role != "member" {
			t.Fatalf("add project user: %v %+v", err, pu)
		}
		decodedFully(t, "project user", *pu)
		_, err = org.Projects.Users.New(ctx, projectID, openai.AdminOrganizationProjectUserNewParams{Email: openai.String("stranger@example.com"), Role: "member"})
		wantStatus(t, "add non-member", err, 400)
		up, err := org.Projects.Users.Update(ctx, projectID, u.ID, openai.AdminOrganizationProjectUserUpdateParams{Role: openai.String("owner")})
		if err != nil || up.Role != "owner" {
			t.Fatalf("update project user: %v %+v", err, up)
		}
		got, err := org.Projects.Users.Get(ctx, projectID, u.ID)
		if err != nil || got.Role != "owner" {
			t.Fatalf("get project user: %v %+v", err, got)
		}
		members := collect(t, org.Projects.Users.ListAutoPaging(ctx, def, openai.AdminOrganizationProjectUserListParams{Limit: openai.Int(3)}))
		want := ids(emu.ProjectUsers(def), func(p adminapi.ProjectUser) string { return p.UserID })
		if got := ids(members, func(p openai.ProjectUser) string { return p.ID }); !slices.Equal(got, want) {
			t.Fatalf("paged members %v, store %v", got, want)
		}
		del, err := org.Projects.Users.Delete(ctx, projectID, u.ID)
		if err != nil || !del.Deleted {
			t.Fatalf("delete project user: %v %+v", err, del)
		}
	})

	t.Run("service accounts and keys", func(t *testing.T) {
		sa, err := org.Projects.ServiceAccounts.New(ctx, projectID, openai.AdminOrganizationProjectServiceAccountNewParams{Name: "deployer"})
		if err != nil || sa.Role != "member" || !strings.HasPrefix(sa.APIKey.Value, "sk-svcacct-") {
			t.Fatalf("create service account: %v", err)
		}
		decodedFully(t, "service account", *sa)
		bare, err := org.Projects.ServiceAccounts.New(ctx, projectID, openai.AdminOrganizationProjectServiceAccountNewParams{Name: "bare", CreateServiceAccountOnly: openai.Bool(true)})
		if err != nil || bare.Role != "none" || bare.JSON.APIKey.Raw() != "null" {
			t.Fatalf("create service account only: %v role=%s api_key=%s", err, bare.Role, bare.JSON.APIKey.Raw())
		}
		up, err := org.Projects.ServiceAccounts.Update(ctx, projectID, sa.ID, openai.AdminOrganizationProjectServiceAccountUpdateParams{Name: openai.String("deployer-2"), Role: "owner"})
		if err != nil || up.Name != "deployer-2" || up.Role != "owner" {
			t.Fatalf("update service account: %v %+v", err, up)
		}
		got, err := org.Projects.ServiceAccounts.Get(ctx, projectID, sa.ID)
		if err != nil || got.Name != "deployer-2" {
			t.Fatalf("get service account: %v", err)
		}
		k2, err := org.Projects.ServiceAccounts.APIKeys.New(ctx, projectID, sa.ID, openai.AdminOrganizationProjectServiceAccountAPIKeyNewParams{Name: openai.String("rotated")})
		if err != nil || k2.Name != "rotated" || !strings.HasPrefix(k2.Value, "sk-svcacct-") {
			t.Fatalf("create service account key: %v", err)
		}
		decodedFully(t, "service account key", *k2)
		sas := collect(t, org.Projects.ServiceAccounts.ListAutoPaging(ctx, projectID, openai.AdminOrganizationProjectServiceAccountListParams{Limit: openai.Int(1)}))
		if len(sas) != 2 {
			t.Fatalf("listed %d service accounts, want 2", len(sas))
		}

		owner := emu.Users()[11]
		if err := emu.AddProjectUser(projectID, owner.ID, "member"); err != nil {
			t.Fatal(err)
		}
		userKey, _, err := emu.AddProjectAPIKey(projectID, adminapi.NewProjectAPIKey{Name: "laptop", OwnerUserID: owner.ID})
		if err != nil {
			t.Fatal(err)
		}
		keys := collect(t, org.Projects.APIKeys.ListAutoPaging(ctx, projectID, openai.AdminOrganizationProjectAPIKeyListParams{Limit: openai.Int(1), OwnerProjectAccess: "any"}))
		if got := ids(keys, func(k openai.ProjectAPIKey) string { return k.ID }); !slices.Equal(got, []string{sa.APIKey.ID, k2.ID, userKey}) {
			t.Fatalf("listed keys %v", got)
		}
		for _, k := range keys {
			decodedFully(t, "project key", k)
			if k.OwnerProjectAccess != "active" || k.LastUsedAt != 0 || k.JSON.LastUsedAt.Raw() != "null" {
				t.Errorf("key %s: access %s last_used %s", k.ID, k.OwnerProjectAccess, k.JSON.LastUsedAt.Raw())
			}
		}
		uk, err := org.Projects.APIKeys.Get(ctx, projectID, userKey)
		if err != nil || uk.Owner.Type != "user" || uk.Owner.User.Email != owner.Email || !strings.HasPrefix(uk.RedactedValue, "sk-proj...") {
			t.Fatalf("get user key: %v %+v", err, uk)
		}
		_, err = org.Projects.APIKeys.Delete(ctx, projectID, k2.ID)
		wantStatus(t, "delete service account key", err, 400)
		del, err := org.Projects.APIKeys.Delete(ctx, projectID, userKey)
		if err != nil || !del.Deleted {
			t.Fatalf("delete key: %v", err)
		}
		sdel, err := org.Projects.ServiceAccounts.Delete(ctx, projectID, sa.ID)
		if err != nil || !sdel.Deleted {
			t.Fatalf("delete service account: %v", err)
		}
		if left := emu.ProjectAPIKeys(projectID); len(left) != 0 {
			t.Fatalf("keys left after deleting their service account: %+v", left)
		}
	})

	t.Run("admin keys", func(t *testing.T) {
		asc := collect(t, org.AdminAPIKeys.ListAutoPaging(ctx, openai.AdminOrganizationAdminAPIKeyListParams{Limit: openai.Int(1)}))
		desc := collect(t, org.AdminAPIKeys.ListAutoPaging(ctx, openai.AdminOrganizationAdminAPIKeyListParams{Limit: openai.Int(2), Order: "desc"}))
		want := ids(emu.AdminAPIKeys(), func(k adminapi.AdminAPIKey) string { return k.ID })
		gotAsc := ids(asc, func(k openai.AdminAPIKey) string { return k.ID })
		gotDesc := ids(desc, func(k openai.AdminAPIKey) string { return k.ID })
		slices.Reverse(gotDesc)
		if !slices.Equal(gotAsc, want) || !slices.Equal(gotDesc, want) {
			t.Fatalf("asc %v desc(reversed) %v store %v", gotAsc, gotDesc, want)
		}
		for _, k := range asc {
			decodedFully(t, "admin key", k)
		}
		k, err := org.AdminAPIKeys.New(ctx, openai.AdminOrganizationAdminAPIKeyNewParams{Name: "rotation", ExpiresInSeconds: openai.Int(3600)})
		if err != nil || !strings.HasPrefix(k.Value, "sk-admin-") || k.ExpiresAt != k.CreatedAt+3600 || k.AdminAPIKey.JSON.LastUsedAt.Raw() != "null" {
			t.Fatalf("create admin key: %v", err)
		}
		decodedFully(t, "admin key create", *k)
		rotated := srv.SDKClient(option.WithAdminAPIKey(k.Value))
		if _, err := rotated.Admin.Organization.Projects.Get(ctx, def); err != nil {
			t.Fatalf("new admin key rejected: %v", err)
		}
		got, err := org.AdminAPIKeys.Get(ctx, k.ID)
		if err != nil || got.LastUsedAt == 0 {
			t.Fatalf("new key's last_used_at not set after use: %v", err)
		}
		del, err := org.AdminAPIKeys.Delete(ctx, k.ID)
		if err != nil || !del.Deleted {
			t.Fatalf("delete admin key: %v", err)
		}
		_, err = rotated.Admin.Organization.Projects.Get(ctx, def)
		wantStatus(t, "deleted admin key", err, 401)
	})

	t.Run("rate limits", func(t *testing.T) {
		rls := collect(t, org.Projects.RateLimits.ListRateLimitsAutoPaging(ctx, projectID, openai.AdminOrganizationProjectRateLimitListRateLimitsParams{Limit: openai.Int(3)}))
		if len(rls) != 7 {
			t.Fatalf("listed %d rate limits, want 7", len(rls))
		}
		for _, rl := range rls {
			decodedFully(t, "rate limit", rl)
		}
		up, err := org.Projects.RateLimits.UpdateRateLimit(ctx, projectID, rls[0].ID, openai.AdminOrganizationProjectRateLimitUpdateRateLimitParams{
			MaxRequestsPer1Minute: openai.Int(42), MaxRequestsPer1Day: openai.Int(1000)})
		if err != nil || up.MaxRequestsPer1Minute != 42 || up.MaxRequestsPer1Day != 1000 || up.MaxTokensPer1Minute != rls[0].MaxTokensPer1Minute {
			t.Fatalf("update rate limit: %v %+v", err, up)
		}
	})

	t.Run("model permissions and data retention", func(t *testing.T) {
		mp, err := org.Projects.ModelPermissions.Get(ctx, projectID)
		if err != nil || mp.Mode != "deny_list" || len(mp.ModelIDs) != 0 {
			t.Fatalf("default model permissions: %v %+v", err, mp)
		}
		mp, err = org.Projects.ModelPermissions.Update(ctx, projectID, openai.AdminOrganizationProjectModelPermissionUpdateParams{Mode: "allow_list", ModelIDs: []string{"gpt-4o-mini"}})
		if err != nil || mp.Mode != "allow_list" || !slices.Equal(mp.ModelIDs, []string{"gpt-4o-mini"}) {
			t.Fatalf("update model permissions: %v %+v", err, mp)
		}
		decodedFully(t, "model permissions", *mp)
		md, err := org.Projects.ModelPermissions.Delete(ctx, projectID)
		if err != nil || !md.Deleted {
			t.Fatalf("delete model permissions: %v", err)
		}
		pr, err := org.Projects.DataRetention.Get(ctx, projectID)
		if err != nil || pr.Type != "organization_default" {
			t.Fatalf("project retention: %v %+v", err, pr)
		}
		pr, err = org.Projects.DataRetention.Update(ctx, projectID, openai.AdminOrganizationProjectDataRetentionUpdateParams{RetentionType: "zero_data_retention"})
		if err != nil || pr.Type != "zero_data_retention" {
			t.Fatalf("update project retention: %v %+v", err, pr)
		}
		or, err := org.DataRetention.Update(ctx, openai.AdminOrganizationDataRetentionUpdateParams{RetentionType: "enhanced_zero_data_retention"})
		if err != nil || or.Type != "enhanced_zero_data_retention" {
			t.Fatalf("update org retention: %v %+v", err, or)
		}
		or, err = org.DataRetention.Get(ctx)
		if err != nil || or.Type != "enhanced_zero_data_retention" {
			t.Fatalf("org retention: %v %+v", err, or)
		}
	})

	t.Run("spend alerts", func(t *testing.T) {
		ch := openai.AdminOrganizationSpendAlertNewParamsNotificationChannel{Recipients: []string{"finops@example.com"}, SubjectPrefix: openai.String("[spend]")}
		var created []string
		for _, cents := range []int64{5000, 25000, 100000} {
			a, err := org.SpendAlerts.New(ctx, openai.AdminOrganizationSpendAlertNewParams{ThresholdAmount: cents, Currency: "USD", Interval: "month", NotificationChannel: ch})
			if err != nil || a.ThresholdAmount != cents {
				t.Fatalf("create org alert: %v", err)
			}
			decodedFully(t, "org alert", *a)
			created = append(created, a.ID)
		}
		all := collect(t, org.SpendAlerts.ListAutoPaging(ctx, openai.AdminOrganizationSpendAlertListParams{Limit: openai.Int(2)}))
		if got := ids(all, func(a openai.OrganizationSpendAlert) string { return a.ID }); !slices.Equal(got, created) {
			t.Fatalf("listed alerts %v, created %v", got, created)
		}
		up, err := org.SpendAlerts.Update(ctx, created[0], openai.AdminOrganizationSpendAlertUpdateParams{ThresholdAmount: 7500, Currency: "USD", Interval: "month",
			NotificationChannel: openai.AdminOrganizationSpendAlertUpdateParamsNotificationChannel{Recipients: []string{"cfo@example.com"}}})
		if err != nil || up.ThresholdAmount != 7500 || up.NotificationChannel.Recipients[0] != "cfo@example.com" || up.NotificationChannel.JSON.SubjectPrefix.Raw() != "null" {
			t.Fatalf("update org alert (a full replacement): %v %+v", err, up)
		}
		if _, err := org.SpendAlerts.Get(ctx, created[1]); err != nil {
			t.Fatal(err)
		}
		if d, err := org.SpendAlerts.Delete(ctx, created[2]); err != nil || !d.Deleted {
			t.Fatalf("delete org alert: %v", err)
		}

		pa, err := org.Projects.SpendAlerts.New(ctx, projectID, openai.AdminOrganizationProjectSpendAlertNewParams{ThresholdAmount: 1999, Currency: "USD", Interval: "month",
			NotificationChannel: openai.AdminOrganizationProjectSpendAlertNewParamsNotificationChannel{Recipients: []string{"team@example.com"}}})
		if err != nil || pa.ThresholdAmount != 1999 {
			t.Fatalf("create project alert: %v", err)
		}
		decodedFully(t, "project alert", *pa)
		if _, err := org.Projects.SpendAlerts.Update(ctx, projectID, pa.ID, openai.AdminOrganizationProjectSpendAlertUpdateParams{ThresholdAmount: 2999, Currency: "USD", Interval: "month",
			NotificationChannel: openai.AdminOrganizationProjectSpendAlertUpdateParamsNotificationChannel{Recipients: []string{"team@example.com"}}}); err != nil {
			t.Fatal(err)
		}
		got, err := org.Projects.SpendAlerts.Get(ctx, projectID, pa.ID)
		if err != nil || got.ThresholdAmount != 2999 {
			t.Fatalf("get project alert: %v %+v", err, got)
		}
		if l := collect(t, org.Projects.SpendAlerts.ListAutoPaging(ctx, projectID, openai.AdminOrganizationProjectSpendAlertListParams{})); len(l) != 1 {
			t.Fatalf("listed %d project alerts", len(l))
		}
		if d, err := org.Projects.SpendAlerts.Delete(ctx, projectID, pa.ID); err != nil || !d.Deleted {
			t.Fatalf("delete project alert: %v", err)
		}
	})

	t.Run("archive", func(t *testing.T) {
		p, err := org.Projects.Archive(ctx, projectID)
		if err != nil || p.Status != "archived" || p.ArchivedAt == 0 {
			t.Fatalf("archive: %v %+v", err, p)
		}
		_, err = org.Projects.Users.New(ctx, projectID, openai.AdminOrganizationProjectUserNewParams{UserID: openai.String(emu.Users()[12].ID), Role: "member"})
		wantStatus(t, "add user to archived project", err, 400)
	})

	t.Run("audit logs", func(t *testing.T) {
		keyID := emu.AdminAPIKeys()[0].ID
		for _, k := range emu.AdminAPIKeys() {
			if k.RedactedValue[len(k.RedactedValue)-4:] == srv.AdminKey[len(srv.AdminKey)-4:] {
				keyID = k.ID
			}
		}
		mine := collect(t, org.AuditLogs.ListAutoPaging(ctx, openai.AdminOrganizationAuditLogListParams{ActorIDs: []string{keyID}, Limit: openai.Int(10)}))
		types := map[string]int{}
		for _, ev := range mine {
			decodedFully(t, "audit event", ev)
			types[string(ev.Type)]++
			if ev.Actor.Type != "api_key" || ev.Actor.APIKey.ID != keyID {
				t.Errorf("event %s actor %+v", ev.ID, ev.Actor)
			}
		}
		for _, typ := range []string{"user.updated", "user.deleted", "invite.sent", "invite.deleted", "project.created", "project.updated",
			"project.archived", "user.added", "service_account.created", "service_account.updated", "service_account.deleted",
			"api_key.created", "api_key.deleted", "rate_limit.updated"} {
			if types[typ] == 0 {
				t.Errorf("no %s event from this run's admin key; got %v", typ, types)
			}
		}
		created := collect(t, org.AuditLogs.ListAutoPaging(ctx, openai.AdminOrganizationAuditLogListParams{
			EventTypes: []string{"project.created"}, ResourceIDs: []string{projectID}, ProjectIDs: []string{projectID}}))
		if len(created) != 1 || created[0].ProjectCreated.ID != projectID || created[0].ProjectCreated.Data.Name != "Contract Test" {
			t.Fatalf("project.created for %s: %+v", projectID, created)
		}
		at := created[0].EffectiveAt
		window, err := org.AuditLogs.List(ctx, openai.AdminOrganizationAuditLogListParams{
			EffectiveAt: openai.AdminOrganizationAuditLogListParamsEffectiveAt{Gte: openai.Int(at), Lte: openai.Int(at)}, Limit: openai.Int(100)})
		if err != nil || len(window.Data) == 0 {
			t.Fatalf("effective_at window: %v", err)
		}
		for _, ev := range window.Data {
			if ev.EffectiveAt != at {
				t.Errorf("event %s at %d outside [%d,%d]", ev.ID, ev.EffectiveAt, at, at)
			}
		}
		page1, err := org.AuditLogs.List(ctx, openai.AdminOrganizationAuditLogListParams{Limit: openai.Int(5)})
		if err != nil {
			t.Fatal(err)
		}
		page2, err := org.AuditLogs.List(ctx, openai.AdminOrganizationAuditLogListParams{Limit: openai.Int(5), After: openai.String(page1.LastID)})
		if err != nil {
			t.Fatal(err)
		}
		back, err := org.AuditLogs.List(ctx, openai.AdminOrganizationAuditLogListParams{Limit: openai.Int(5), Before: openai.String(page2.Data[0].ID)})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := ids(back.Data, auditID), ids(page1.Data, auditID); !slices.Equal(got, want) {
			t.Fatalf("before=first of page 2 gave %v, want page 1 %v", got, want)
		}
	})

	cov := srv.Validator.Coverage()
	for _, op := range implemented {
		if cov[op] == 0 {
			t.Errorf("operation %s not exercised", op)
		}
	}
	for _, v := range srv.Validator.Violations() {
		t.Errorf("violation: %s", v)
	}
}

func auditID(e openai.AdminOrganizationAuditLogListResponse) string { return e.ID }
