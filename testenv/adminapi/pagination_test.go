package adminapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"testing"

	"github.com/openai/openai-go/v3"

	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
)

type page struct {
	Object  string            `json:"object"`
	Data    []json.RawMessage `json:"data"`
	FirstID *string           `json:"first_id"`
	LastID  *string           `json:"last_id"`
	HasMore bool              `json:"has_more"`
}

func (p page) ids(t testing.TB) []string {
	t.Helper()
	out := make([]string, len(p.Data))
	for i, d := range p.Data {
		var v struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(d, &v); err != nil {
			t.Fatal(err)
		}
		out[i] = v.ID
	}
	return out
}

// walk pages through a list with raw requests, following last_id.
func walk(t testing.TB, get func(query string) (int, []byte), limit int) []string {
	t.Helper()
	var all []string
	after := ""
	for range 10000 {
		q := url.Values{"limit": {fmt.Sprint(limit)}}
		if after != "" {
			q.Set("after", after)
		}
		status, body := get(q.Encode())
		if status != 200 {
			t.Fatalf("status %d: %s", status, body)
		}
		var p page
		if err := json.Unmarshal(body, &p); err != nil {
			t.Fatal(err)
		}
		ids := p.ids(t)
		if len(ids) > limit {
			t.Fatalf("page of %d items for limit %d", len(ids), limit)
		}
		if len(ids) > 0 && (*p.FirstID != ids[0] || *p.LastID != ids[len(ids)-1]) {
			t.Fatalf("first_id/last_id %v/%v do not match data", *p.FirstID, *p.LastID)
		}
		all = append(all, ids...)
		if !p.HasMore {
			return all
		}
		after = *p.LastID
	}
	t.Fatal("pagination does not end")
	return nil
}

func TestListsIterateExactlyTheStore(t *testing.T) {
	srv := smallServer(t)
	emu := srv.Emulator
	def := emu.DefaultProjectID()
	get := func(path string) func(string) (int, []byte) {
		return func(q string) (int, []byte) {
			status, _, body := raw(t, srv, "GET", path+"?"+q, srv.AdminKey, "")
			return status, body
		}
	}
	var allKeys []string
	for _, k := range emu.ProjectAPIKeys(def) {
		allKeys = append(allKeys, k.ID)
	}
	var activeProjects []string
	for _, p := range emu.Projects() {
		if p.Status == "active" {
			activeProjects = append(activeProjects, p.ID)
		}
	}
	cases := []struct {
		path string
		want []string
	}{
		{"/organization/users", ids(emu.Users(), func(u adminapi.User) string { return u.ID })},
		{"/organization/invites", ids(emu.Invites(), func(i adminapi.Invite) string { return i.ID })},
		{"/organization/projects", activeProjects},
		{"/organization/admin_api_keys", ids(emu.AdminAPIKeys(), func(k adminapi.AdminAPIKey) string { return k.ID })},
		{"/organization/projects/" + def + "/users", ids(emu.ProjectUsers(def), func(u adminapi.ProjectUser) string { return u.UserID })},
		{"/organization/projects/" + def + "/service_accounts", ids(emu.ServiceAccounts(def), func(s adminapi.ServiceAccount) string { return s.ID })},
	}
	for _, tc := range cases {
		for _, limit := range []int{1, 3, 100} {
			t.Run(fmt.Sprintf("%s limit %d", tc.path, limit), func(t *testing.T) {
				if got := walk(t, get(tc.path), limit); !slices.Equal(got, tc.want) {
					t.Fatalf("iterated %v\nstore    %v", got, tc.want)
				}
			})
		}
	}
	t.Run("project keys with owner_project_access=any", func(t *testing.T) {
		got := walk(t, func(q string) (int, []byte) {
			return get("/organization/projects/" + def + "/api_keys")(q + "&owner_project_access=any")
		}, 2)
		if !slices.Equal(got, allKeys) {
			t.Fatalf("iterated %v, store %v", got, allKeys)
		}
	})
	t.Run("audit logs", func(t *testing.T) {
		got := walk(t, get("/organization/audit_logs"), 100)
		var want []string
		all := emu.AuditEventIDs()
		tenant := map[string]bool{}
		for _, id := range walk(t, func(q string) (int, []byte) { return get("/organization/audit_logs")(q + "&tenant_only=true") }, 100) {
			tenant[id] = true
		}
		for _, id := range all {
			if !tenant[id] {
				want = append(want, id)
			}
		}
		if len(tenant) == 0 || !slices.Equal(got, want) {
			t.Fatalf("iterated %d events (+%d tenant-scoped), store has %d", len(got), len(tenant), len(all))
		}
	})
}

func TestListParameterErrors(t *testing.T) {
	srv := smallServer(t)
	def := srv.Emulator.DefaultProjectID()
	lists := []string{
		"/organization/users", "/organization/invites", "/organization/projects", "/organization/admin_api_keys",
		"/organization/audit_logs", "/organization/projects/" + def + "/users",
		"/organization/projects/" + def + "/service_accounts", "/organization/projects/" + def + "/api_keys",
		"/organization/projects/" + def + "/rate_limits",
	}
	bad := []struct {
		query, param string
	}{
		{"limit=0", "limit"},
		{"limit=101", "limit"},
		{"limit=ten", "limit"},
		{"after=never-issued", "after"},
	}
	for _, path := range lists {
		for _, b := range bad {
			t.Run(path+"?"+b.query, func(t *testing.T) {
				status, _, body := raw(t, srv, "GET", path+"?"+b.query, srv.AdminKey, "")
				if status != 400 {
					t.Fatalf("status %d, want 400: %s", status, body)
				}
				if e := errorBody(t, body); e["param"] != b.param || e["type"] != "invalid_request_error" {
					t.Fatalf("error %v, want param %q", e, b.param)
				}
			})
		}
	}
	others := []struct {
		path, param string
	}{
		{"/organization/admin_api_keys?order=sideways", "order"},
		{"/organization/projects?include_archived=maybe", "include_archived"},
		{"/organization/projects/" + def + "/api_keys?owner_project_access=some", "owner_project_access"},
		{"/organization/audit_logs?effective_at[gt]=yesterday", "effective_at[gt]"},
		{"/organization/audit_logs?effective_at[around]=1", "effective_at[around]"},
		{"/organization/audit_logs?event_types[]=made.up", "event_types"},
		{"/organization/audit_logs?event_types[]=tenant.user.added", "tenant_only"},
		{"/organization/audit_logs?tenant_only=true&event_types[]=login.succeeded", "event_types"},
		{"/organization/audit_logs?before=audit_log-nope", "before"},
	}
	for _, o := range others {
		t.Run(o.path, func(t *testing.T) {
			status, _, body := raw(t, srv, "GET", o.path, srv.AdminKey, "")
			if e := errorBody(t, body); status != 400 || e["param"] != o.param {
				t.Fatalf("status %d error %v, want 400 with param %q", status, e, o.param)
			}
		})
	}
}

func TestCursorOfDeletedItemContinues(t *testing.T) {
	srv := smallServer(t)
	ctx := context.Background()
	org := srv.SDKClient().Admin.Organization
	before := srv.Emulator.Invites()
	first, err := org.Invites.List(ctx, openai.AdminOrganizationInviteListParams{Limit: openai.Int(3)})
	if err != nil {
		t.Fatal(err)
	}
	// A sweep deletes what it has just listed, then asks for the next page.
	for _, in := range first.Data {
		if in.Status != "accepted" {
			if _, err := org.Invites.Delete(ctx, in.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	next, err := org.Invites.List(ctx, openai.AdminOrganizationInviteListParams{Limit: openai.Int(3), After: openai.String(first.LastID)})
	if err != nil {
		t.Fatalf("after a deleted id: %v", err)
	}
	want := ids(before[3:6], func(i adminapi.Invite) string { return i.ID })
	if got := ids(next.Data, func(i openai.Invite) string { return i.ID }); !slices.Equal(got, want) {
		t.Fatalf("next page %v, want %v", got, want)
	}
}

func TestEmailsFilterAcceptsBothSpellings(t *testing.T) {
	srv := smallServer(t)
	users := srv.Emulator.Users()
	a, b := users[3], users[7]
	for _, q := range []string{
		"emails=" + url.QueryEscape(a.Email) + "&emails=" + url.QueryEscape(b.Email),
		"emails[]=" + url.QueryEscape(a.Email) + "&emails[]=" + url.QueryEscape(b.Email),
		"emails=" + url.QueryEscape(a.Email) + "&emails[]=" + url.QueryEscape(b.Email),
	} {
		status, _, body := raw(t, srv, "GET", "/organization/users?"+q, srv.AdminKey, "")
		var p page
		if err := json.Unmarshal(body, &p); status != 200 || err != nil {
			t.Fatalf("%s: %d %s", q, status, body)
		}
		if got := p.ids(t); !slices.Equal(got, []string{a.ID, b.ID}) {
			t.Errorf("%s: got %v", q, got)
		}
	}
}

func TestAuditLogOrderAndBefore(t *testing.T) {
	seed := adminapi.SmallSeed(2)
	seed.AuditEvents = 450
	srv := adminapitest.New(t, adminapi.Options{Seed: &seed, Clock: fixedClock})
	ctx := context.Background()
	org := srv.SDKClient().Admin.Organization
	all := collect(t, org.AuditLogs.ListAutoPaging(ctx, openai.AdminOrganizationAuditLogListParams{Limit: openai.Int(37)}))
	for i := 1; i < len(all); i++ {
		if all[i].EffectiveAt > all[i-1].EffectiveAt {
			t.Fatalf("event %d (%d) is newer than event %d (%d)", i, all[i].EffectiveAt, i-1, all[i-1].EffectiveAt)
		}
	}
	// Walk back up from the oldest event with before: the same events, reversed.
	var up []string
	cursor := all[len(all)-1].ID
	for {
		p, err := org.AuditLogs.List(ctx, openai.AdminOrganizationAuditLogListParams{Limit: openai.Int(41), Before: openai.String(cursor)})
		if err != nil {
			t.Fatal(err)
		}
		got := ids(p.Data, auditID)
		slices.Reverse(got)
		up = append(up, got...)
		if !p.HasMore {
			break
		}
		cursor = got[len(got)-1]
	}
	down := ids(all, auditID)
	slices.Reverse(down)
	if !slices.Equal(up, down[1:]) {
		t.Fatalf("walking up with before gave %d events, want %d", len(up), len(down)-1)
	}
}

func TestLostFieldsDetectsMismatch(t *testing.T) {
	var u openai.OrganizationUser
	if err := json.Unmarshal([]byte(`{"object":"organization.user","id":"user-1","added_at":{"not":"a number"},"email":"a@b.c"}`), &u); err != nil {
		t.Fatal(err)
	}
	if got := lostFields(reflect.ValueOf(u), "user"); !slices.Equal(got, []string{"user.added_at"}) {
		t.Fatalf("lostFields = %v, want [user.added_at]", got)
	}
}
