package adminclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/logging"
	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
)

// onePage reads a whole list in one request, straight from the server, and
// returns its items' bytes as sent.
func onePage(t *testing.T, srv *adminapitest.Server, path string) []string {
	t.Helper()
	req, _ := http.NewRequest("GET", srv.URL+"/"+path, nil)
	req.Header.Set("Authorization", "Bearer "+srv.AdminKey)
	res, err := srv.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var doc struct {
		Data    []json.RawMessage `json:"data"`
		HasMore bool              `json:"has_more"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.HasMore || res.StatusCode != 200 {
		t.Fatalf("%s: %d has_more=%v %v", path, res.StatusCode, doc.HasMore, err)
	}
	out := make([]string, len(doc.Data))
	for i, r := range doc.Data {
		out[i] = string(r)
	}
	return out
}

func drainRecords(t *testing.T, seq iter.Seq2[json.RawMessage, error]) []string {
	t.Helper()
	var out []string
	for r, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(r))
	}
	return out
}

// TestRecordsAreTheAPIsBytes: every record list yields each item exactly
// as the API sent it, in the API's order, across pages (3 items a page,
// 2 for the "next" lists), with each family's cursor rule.
func TestRecordsAreTheAPIsBytes(t *testing.T) {
	srv := smallOrg(t)
	emu := srv.Emulator
	defer adminclient.SetNextListPageSize(2)()
	c, _ := newClient(t, srv, func(o *adminclient.Options) { o.PageSize = 3 })
	ctx := context.Background()
	proj := ""
	for _, p := range emu.Projects() {
		if p.Status == "active" && (proj == "" || len(emu.ProjectAPIKeys(p.ID)) > len(emu.ProjectAPIKeys(proj))) {
			proj = p.ID
		}
	}
	for i := range 4 {
		if _, _, err := emu.AddAdminAPIKey(adminapi.NewAdminAPIKey{Name: fmt.Sprintf("records-%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := len(emu.ServiceAccounts(proj)); i < 4; i++ {
		if _, err := emu.AddServiceAccount(proj, adminapi.NewServiceAccount{Name: fmt.Sprintf("records-%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	// A group with members and roles, a user with roles, a project with groups.
	var groups []json.RawMessage
	for g, err := range c.GroupRecords(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		groups = append(groups, g)
	}
	var g0 struct{ ID string }
	_ = json.Unmarshal(groups[0], &g0)
	user := emu.Users()[1].ID
	for _, path := range []string{"users/" + user + "/roles", "groups/" + g0.ID + "/roles"} {
		for _, r := range onePage(t, srv, "organization/roles?limit=1000") {
			var role struct{ ID string }
			_ = json.Unmarshal([]byte(r), &role)
			if st, b := post(t, srv, "organization/"+path, `{"role_id":"`+role.ID+`"}`); st != 200 {
				t.Fatalf("%s: %d %s", path, st, b)
			}
		}
	}
	for _, u := range emu.Users()[:5] {
		post(t, srv, "organization/groups/"+g0.ID+"/users", `{"user_id":"`+u.ID+`"}`)
	}
	for _, g := range groups[:3] {
		var x struct{ ID string }
		_ = json.Unmarshal(g, &x)
		post(t, srv, "organization/projects/"+proj+"/groups", `{"group_id":"`+x.ID+`","role":"role_project_member"}`)
	}
	// A member and a granted group with several project roles each.
	member := emu.ProjectUsers(proj)[0].UserID
	var g1 struct{ ID string }
	_ = json.Unmarshal(groups[1], &g1)
	for i := range 3 {
		st, b := post(t, srv, "projects/"+proj+"/roles", fmt.Sprintf(`{"role_name":"records %d","permissions":["api.project.read"]}`, i))
		var r struct{ ID string }
		if err := json.Unmarshal([]byte(b), &r); st != 200 || err != nil {
			t.Fatalf("create project role: %d %s", st, b)
		}
		for _, who := range []string{"users/" + member, "groups/" + g1.ID} {
			if st, b := post(t, srv, "projects/"+proj+"/"+who+"/roles", `{"role_id":"`+r.ID+`"}`); st != 200 {
				t.Fatalf("assign %s: %d %s", who, st, b)
			}
		}
	}
	pp := "organization/projects/" + proj
	cases := []struct {
		name string
		got  iter.Seq2[json.RawMessage, error]
		want string // the list in one page
	}{
		{"users", c.UserRecords(ctx), "organization/users?limit=100"},
		{"invites", c.InviteRecords(ctx), "organization/invites?limit=100"},
		{"projects", c.ProjectRecords(ctx, false), "organization/projects?limit=100"},
		{"projects with archived", c.ProjectRecords(ctx, true), "organization/projects?limit=100&include_archived=true"},
		{"project users", c.ProjectUserRecords(ctx, proj), pp + "/users?limit=100"},
		{"service accounts", c.ServiceAccountRecords(ctx, proj), pp + "/service_accounts?limit=100"},
		{"project api keys", c.ProjectAPIKeyRecords(ctx, proj), pp + "/api_keys?limit=100&owner_project_access=any"},
		{"admin api keys", c.AdminAPIKeyRecords(ctx), "organization/admin_api_keys?limit=100"},
		{"rate limits", c.RateLimitRecords(ctx, proj), pp + "/rate_limits?limit=100"},
		{"certificates", c.CertificateRecords(ctx), "organization/certificates?limit=100&order=asc"},
		{"project certificates", c.ProjectCertificateRecords(ctx, emu.Projects()[1].ID), "organization/projects/" + emu.Projects()[1].ID + "/certificates?limit=100&order=asc"},
		{"groups", c.GroupRecords(ctx), "organization/groups?limit=1000"},
		{"group users", c.GroupUserRecords(ctx, g0.ID), "organization/groups/" + g0.ID + "/users?limit=1000"},
		{"group roles", c.GroupRoleRecords(ctx, g0.ID), "organization/groups/" + g0.ID + "/roles?limit=1000"},
		{"roles", c.RoleRecords(ctx), "organization/roles?limit=1000"},
		{"user roles", c.UserRoleRecords(ctx, user), "organization/users/" + user + "/roles?limit=1000"},
		{"project groups", c.ProjectGroupRecords(ctx, proj), pp + "/groups?limit=100"},
		{"project roles", c.ProjectRoleRecords(ctx, proj), "projects/" + proj + "/roles?limit=1000"},
		{"project user roles", c.ProjectUserRoleRecords(ctx, proj, member), "projects/" + proj + "/users/" + member + "/roles?limit=1000"},
		{"project group roles", c.ProjectGroupRoleRecords(ctx, proj, g1.ID), "projects/" + proj + "/groups/" + g1.ID + "/roles?limit=1000"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := onePage(t, srv, tc.want)
			emu.ResetRequests()
			got := drainRecords(t, tc.got)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("records differ from the API's items:\ngot  %d %.300s\nwant %d %.300s", len(got), got, len(want), want)
			}
			pageSize := 3
			if strings.Contains(tc.want, "limit=1000") || strings.HasSuffix(tc.want, "/groups?limit=100") {
				pageSize = 2
			}
			if len(want) < pageSize+1 {
				t.Fatalf("the list (%d items) does not span pages of %d", len(want), pageSize)
			}
			if n, min := len(emu.Requests()), len(want)/pageSize+1; n > min || n < (len(want)+pageSize-1)/pageSize {
				t.Errorf("%d requests for %d items at %d a page", n, len(want), pageSize)
			}
		})
	}
	t.Run("spend alerts", func(t *testing.T) {
		for _, path := range []string{"organization/spend_alerts", pp + "/spend_alerts"} {
			for i := range 4 {
				if st, b := post(t, srv, path, fmt.Sprintf(`{"threshold_amount":%d,"currency":"USD","interval":"month","notification_channel":{"type":"email","recipients":["a@example.com"]}}`, 100*(i+1))); st != 200 {
					t.Fatalf("%d %s", st, b)
				}
			}
		}
		for name, seq := range map[string]iter.Seq2[json.RawMessage, error]{"organization/spend_alerts": c.SpendAlertRecords(ctx), pp + "/spend_alerts": c.ProjectSpendAlertRecords(ctx, proj)} {
			if got, want := drainRecords(t, seq), onePage(t, srv, name+"?limit=100"); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s: %v, want %v", name, got, want)
			}
		}
	})
	t.Run("settings", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			get  func() (json.RawMessage, error)
			want string
		}{
			{"model permissions", func() (json.RawMessage, error) { return c.ModelPermissionsRecord(ctx, proj) }, `"project.model_permissions"`},
			{"data retention", func() (json.RawMessage, error) { return c.DataRetentionRecord(ctx) }, `"organization.data_retention"`},
			{"project data retention", func() (json.RawMessage, error) { return c.ProjectDataRetentionRecord(ctx, proj) }, `"project.data_retention"`},
		} {
			r, err := tc.get()
			if err != nil || !strings.Contains(string(r), tc.want) || !json.Valid(r) {
				t.Errorf("%s: %s %v", tc.name, r, err)
			}
		}
		if _, err := c.ModelPermissionsRecord(ctx, "proj_missing"); !adminclient.IsNotFound(err) {
			t.Errorf("missing project: %v", err)
		}
	})
}

func post(t *testing.T, srv *adminapitest.Server, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", srv.URL+"/"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+srv.AdminKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := srv.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestRecordListsNeverEndOnABrokenCursor: a "next" list whose page says
// more follow but names no next is incomplete, not finished.
func TestRecordListsNeverEndOnABrokenCursor(t *testing.T) {
	for _, tc := range []struct {
		name string
		page string
		list func(c *adminclient.Client) iter.Seq2[json.RawMessage, error]
	}{
		{"next list without next", `{"object":"list","data":[{"id":"group_1"}],"has_more":true,"next":null}`,
			func(c *adminclient.Client) iter.Seq2[json.RawMessage, error] {
				return c.GroupRecords(context.Background())
			}},
		{"id list without last_id", `{"object":"list","data":[{"id":"user-1"}],"has_more":true,"first_id":"user-1","last_id":null}`,
			func(c *adminclient.Client) iter.Seq2[json.RawMessage, error] {
				return c.UserRecords(context.Background())
			}},
		{"no has_more", `{"object":"list","data":[{"id":"user-1"}]}`,
			func(c *adminclient.Client) iter.Seq2[json.RawMessage, error] {
				return c.UserRecords(context.Background())
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, tc.page)
			}))
			defer fake.Close()
			c, err := adminclient.New(adminclient.Options{BaseURL: fake.URL + "/v1", AdminKey: logging.Secret("sk-admin-" + strings.Repeat("f", 40)), MaxRetries: -1})
			if err != nil {
				t.Fatal(err)
			}
			_, err = adminclient.Collect(tc.list(c))
			if !errors.Is(err, adminclient.ErrIncompleteList) {
				t.Fatalf("want ErrIncompleteList, got %v", err)
			}
		})
	}
}

// The settings records the emulator of this package does not serve yet are
// read from their spec paths and kept byte for byte.
func TestSettingRecordsPathsAndBytes(t *testing.T) {
	answers := map[string]string{
		"/v1/organization/projects/proj_1/hosted_tool_permissions": `{"file_search":{"enabled":true},"web_search":{"enabled":false},"image_generation":{"enabled":true},"mcp":{"enabled":false},"code_interpreter":{"enabled":true} , "zz":1}`,
		"/v1/organization/spend_limit":                             `{"object":"organization.spend_limit","threshold_amount":500000,"currency":"USD","interval":"month","enforcement":{"status":"inactive"}}`,
		"/v1/organization/projects/proj_1/spend_limit":             `{"object":"project.spend_limit", "threshold_amount":1000,"currency":"USD","interval":"month","enforcement":{"status":"enforcing"}}`,
	}
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := answers[r.URL.Path]
		if !ok || r.Method != http.MethodGet {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":{"message":"no","type":"invalid_request_error","param":null,"code":null}}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}))
	defer fake.Close()
	c, err := adminclient.New(adminclient.Options{BaseURL: fake.URL + "/v1", AdminKey: logging.Secret("sk-admin-" + strings.Repeat("f", 40)), MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for path, get := range map[string]func() (json.RawMessage, error){
		"/v1/organization/projects/proj_1/hosted_tool_permissions": func() (json.RawMessage, error) { return c.HostedToolPermissionsRecord(ctx, "proj_1") },
		"/v1/organization/spend_limit":                             func() (json.RawMessage, error) { return c.SpendLimitRecord(ctx) },
		"/v1/organization/projects/proj_1/spend_limit":             func() (json.RawMessage, error) { return c.ProjectSpendLimitRecord(ctx, "proj_1") },
	} {
		got, err := get()
		if err != nil || string(got) != answers[path] {
			t.Errorf("%s: %s %v", path, got, err)
		}
	}
	if _, err := c.ProjectSpendLimitRecord(ctx, "proj_2"); !adminclient.IsNotFound(err) {
		t.Errorf("no spend limit: %v", err)
	}
}
