package adminapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/orgwarden/orgwarden/testenv/adminapi"
	"github.com/orgwarden/orgwarden/testenv/adminapi/adminapitest"
	"github.com/orgwarden/orgwarden/testenv/contract"
)

// implementedInventory is every operation added for the inventory
// (certificates, RBAC, usage and costs), by the spec's operationId.
var implementedInventory = []string{
	"listOrganizationCertificates", "uploadCertificate", "getCertificate", "modifyCertificate", "deleteCertificate",
	"activateOrganizationCertificates", "deactivateOrganizationCertificates",
	"listProjectCertificates", "activateProjectCertificates", "deactivateProjectCertificates",
	"list-roles", "create-role", "retrieve-role", "update-role", "delete-role",
	"list-user-role-assignments", "assign-user-role", "retrieve-user-role", "unassign-user-role",
	"list-groups", "create-group", "retrieve-group", "update-group", "delete-group",
	"list-group-users", "add-group-user", "retrieve-group-user", "remove-group-user",
	"list-group-role-assignments", "assign-group-role", "retrieve-group-role", "unassign-group-role",
	"list-project-groups", "add-project-group", "retrieve-project-group", "remove-project-group",
	"usage-completions", "usage-embeddings", "usage-moderations", "usage-images", "usage-audio-speeches",
	"usage-audio-transcriptions", "usage-vector-stores", "usage-code-interpreter-sessions", "usage-file-search-calls",
	"usage-web-search-calls", "usage-costs",
	"list-project-roles", "create-project-role", "retrieve-project-role", "update-project-role", "delete-project-role",
	"list-project-user-role-assignments", "assign-project-user-role", "retrieve-project-user-role", "unassign-project-user-role",
	"list-project-group-role-assignments", "assign-project-group-role", "retrieve-project-group-role", "unassign-project-group-role",
}

// call sends a request through the validating server and decodes a 2xx JSON answer into out.
func call(t *testing.T, srv rawServer, method, path, body string, out any) int {
	t.Helper()
	status, b := srv.do(t, method, path, body)
	if status == http.StatusOK && out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	return status
}

type rawServer struct {
	get func(method, path, body string) (int, []byte)
}

func (r rawServer) do(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	return r.get(method, path, body)
}

type listNext struct {
	Object  string            `json:"object"`
	Data    []json.RawMessage `json:"data"`
	HasMore bool              `json:"has_more"`
	Next    *string           `json:"next"`
}

type listIDs struct {
	Object string `json:"object"`
	Data   []struct {
		ID     string `json:"id"`
		Active *bool  `json:"active"`
	} `json:"data"`
	FirstID *string `json:"first_id"`
	LastID  *string `json:"last_id"`
	HasMore bool    `json:"has_more"`
}

type usagePage struct {
	Object string `json:"object"`
	Data   []struct {
		StartTime int64            `json:"start_time"`
		EndTime   int64            `json:"end_time"`
		Results   []map[string]any `json:"results"`
	} `json:"data"`
	HasMore  bool    `json:"has_more"`
	NextPage *string `json:"next_page"`
}

// TestInventoryContract drives every certificate, RBAC, usage and costs
// operation with all traffic validated against the spec.
func TestInventoryContract(t *testing.T) {
	spec := contract.RequireSpec(t)
	for _, op := range implementedInventory {
		if !slices.Contains(spec.OperationIDs(), op) {
			t.Fatalf("operationId %s is not in the spec", op)
		}
	}
	srv := smallServer(t)
	emu := srv.Emulator
	s := rawServer{get: func(method, path, body string) (int, []byte) {
		st, _, b := raw(t, srv, method, "/organization/"+path, srv.AdminKey, body)
		return st, b
	}}
	projects := emu.Projects()
	proj := projects[1].ID
	users := emu.Users()

	t.Run("certificates", func(t *testing.T) {
		var all []string
		after := ""
		for {
			var page listIDs
			q := "certificates?limit=1&order=asc"
			if after != "" {
				q += "&after=" + after
			}
			if st := call(t, s, "GET", q, "", &page); st != 200 {
				t.Fatalf("list certificates: %d", st)
			}
			for _, d := range page.Data {
				all = append(all, d.ID)
			}
			if !page.HasMore {
				break
			}
			after = *page.LastID
		}
		if len(all) != 4 {
			t.Fatalf("seeded certificates %v, want 4", all)
		}
		var desc listIDs
		call(t, s, "GET", "certificates", "", &desc)
		got := ids(desc.Data, func(d struct {
			ID     string `json:"id"`
			Active *bool  `json:"active"`
		}) string {
			return d.ID
		})
		slices.Reverse(got)
		if !slices.Equal(got, all) {
			t.Fatalf("default order is not newest first: %v vs %v", got, all)
		}
		pem := adminapi.SelfSignedCertificatePEM("contract.example.com", time.Unix(1700000000, 0), time.Unix(1900000000, 0))
		body, _ := json.Marshal(map[string]string{"name": "contract", "certificate": pem})
		var ct struct {
			Object  string `json:"object"`
			ID      string `json:"id"`
			Details struct {
				ValidAt   int64  `json:"valid_at"`
				ExpiresAt int64  `json:"expires_at"`
				Content   string `json:"content"`
			} `json:"certificate_details"`
		}
		if st := call(t, s, "POST", "certificates", string(body), &ct); st != 200 || ct.Object != "certificate" || ct.Details.ValidAt != 1700000000 || ct.Details.ExpiresAt != 1900000000 {
			t.Fatalf("upload: %d %+v", st, ct)
		}
		if st, _ := s.do(t, "POST", "certificates", `{"certificate":"not a pem"}`); st != 400 {
			t.Fatalf("upload garbage: %d", st)
		}
		call(t, s, "GET", "certificates/"+ct.ID+"?include[]=content", "", &ct)
		if ct.Details.Content != pem {
			t.Fatalf("include=content gave %q", ct.Details.Content)
		}
		var named struct {
			Name string `json:"name"`
		}
		if st := call(t, s, "POST", "certificates/"+ct.ID, `{"name":"renamed"}`, &named); st != 200 || named.Name != "renamed" {
			t.Fatalf("modify: %d %+v", st, named)
		}
		var act struct {
			Object string `json:"object"`
			Data   []struct {
				ID     string `json:"id"`
				Active bool   `json:"active"`
			} `json:"data"`
		}
		toggle := `{"certificate_ids":["` + ct.ID + `"]}`
		if st := call(t, s, "POST", "certificates/activate", toggle, &act); st != 200 || act.Object != "organization.certificate.activation" || !act.Data[0].Active {
			t.Fatalf("activate: %d %+v", st, act)
		}
		if st := call(t, s, "POST", "projects/"+proj+"/certificates/activate", toggle, &act); st != 200 || act.Object != "organization.project.certificate.activation" || !act.Data[0].Active {
			t.Fatalf("project activate: %d %+v", st, act)
		}
		var pl listIDs
		call(t, s, "GET", "projects/"+proj+"/certificates?limit=100", "", &pl)
		activeHere := 0
		for _, d := range pl.Data {
			if d.Active == nil {
				t.Fatalf("project list without active: %+v", d)
			}
			if *d.Active {
				activeHere++
			}
		}
		if len(pl.Data) != 5 || activeHere != 2 {
			t.Fatalf("project certificates %+v", pl.Data)
		}
		if st, _ := s.do(t, "DELETE", "certificates/"+ct.ID, ""); st != 400 {
			t.Fatalf("delete active certificate: %d", st)
		}
		call(t, s, "POST", "certificates/deactivate", toggle, &act)
		call(t, s, "POST", "projects/"+proj+"/certificates/deactivate", toggle, &act)
		if act.Object != "organization.project.certificate.deactivation" || act.Data[0].Active {
			t.Fatalf("project deactivate: %+v", act)
		}
		var del struct {
			Object string `json:"object"`
			ID     string `json:"id"`
		}
		if st := call(t, s, "DELETE", "certificates/"+ct.ID, "", &del); st != 200 || del.Object != "certificate.deleted" || del.ID != ct.ID {
			t.Fatalf("delete: %d %+v", st, del)
		}
		if st, _ := s.do(t, "GET", "certificates/"+ct.ID, ""); st != 404 {
			t.Fatalf("get deleted: %d", st)
		}
	})

	t.Run("roles", func(t *testing.T) {
		c := srv.SDKClient()
		ctx := context.Background()
		roles := collect(t, c.Admin.Organization.Roles.ListAutoPaging(ctx, openai.AdminOrganizationRoleListParams{Limit: openai.Int(2)}))
		if len(roles) != 6 { // Owner, Reader and four custom roles
			t.Fatalf("listed %d roles", len(roles))
		}
		for _, r := range roles {
			decodedFully(t, "role", r)
		}
		var r struct {
			ID          string   `json:"id"`
			Name        string   `json:"name"`
			Permissions []string `json:"permissions"`
		}
		if st := call(t, s, "POST", "roles", `{"role_name":"Contract Role","permissions":["api.usage.read"],"description":"test"}`, &r); st != 200 || r.Name != "Contract Role" {
			t.Fatalf("create role: %d %+v", st, r)
		}
		if st, _ := s.do(t, "POST", "roles", `{"role_name":"Contract Role","permissions":[]}`); st != 400 {
			t.Fatalf("duplicate role name: %d", st)
		}
		if st := call(t, s, "POST", "roles/"+r.ID, `{"permissions":["api.usage.read","api.billing.read"]}`, &r); st != 200 || len(r.Permissions) != 2 {
			t.Fatalf("update role: %d %+v", st, r)
		}
		if st := call(t, s, "GET", "roles/"+r.ID, "", &r); st != 200 {
			t.Fatalf("get role: %d", st)
		}
		if st, _ := s.do(t, "DELETE", "roles/role_org_owner", ""); st != 400 {
			t.Fatalf("delete predefined role: %d", st)
		}
		u := users[3].ID
		var ur struct {
			Object string              `json:"object"`
			User   struct{ ID string } `json:"user"`
			Role   struct{ ID string } `json:"role"`
		}
		if st := call(t, s, "POST", "users/"+u+"/roles", `{"role_id":"`+r.ID+`"}`, &ur); st != 200 || ur.Object != "user.role" || ur.User.ID != u || ur.Role.ID != r.ID {
			t.Fatalf("assign user role: %d %+v", st, ur)
		}
		var l listNext
		if call(t, s, "GET", "users/"+u+"/roles", "", &l); !strings.Contains(fmt.Sprint(string(l.Data[len(l.Data)-1])), r.ID) {
			t.Fatalf("user roles %s", l.Data)
		}
		if st, _ := s.do(t, "GET", "users/"+u+"/roles/"+r.ID, ""); st != 200 {
			t.Fatalf("get user role: %d", st)
		}
		if st, b := s.do(t, "DELETE", "users/"+u+"/roles/"+r.ID, ""); st != 200 || !strings.Contains(string(b), `"deleted":true`) {
			t.Fatalf("unassign user role: %d %s", st, b)
		}
		if st, _ := s.do(t, "GET", "users/"+u+"/roles/"+r.ID, ""); st != 404 {
			t.Fatalf("get unassigned role: %d", st)
		}
		if st, b := s.do(t, "DELETE", "roles/"+r.ID, ""); st != 200 || !strings.Contains(string(b), `"role.deleted"`) {
			t.Fatalf("delete role: %d %s", st, b)
		}
	})

	t.Run("groups", func(t *testing.T) {
		c := srv.SDKClient()
		ctx := context.Background()
		groups := collect(t, c.Admin.Organization.Groups.ListAutoPaging(ctx, openai.AdminOrganizationGroupListParams{Limit: openai.Int(1)}))
		if len(groups) != 4 {
			t.Fatalf("listed %d groups", len(groups))
		}
		for _, g := range groups {
			decodedFully(t, "group", g)
		}
		var created struct {
			ID        string `json:"id"`
			Name      string `json:"name"`
			GroupType string `json:"group_type"`
		}
		if st := call(t, s, "POST", "groups", `{"name":"Contract Group"}`, &created); st != 200 || created.GroupType != "group" {
			t.Fatalf("create group: %d %+v", st, created)
		}
		gid := created.ID
		if st := call(t, s, "POST", "groups/"+gid, `{"name":"Contract Group 2"}`, &created); st != 200 || created.Name != "Contract Group 2" {
			t.Fatalf("update group: %d %+v", st, created)
		}
		if st := call(t, s, "GET", "groups/"+gid, "", &created); st != 200 || created.Name != "Contract Group 2" {
			t.Fatalf("get group: %d", st)
		}
		for _, u := range users[:3] {
			if st, b := s.do(t, "POST", "groups/"+gid+"/users", `{"user_id":"`+u.ID+`"}`); st != 200 || !strings.Contains(string(b), `"group.user"`) {
				t.Fatalf("add group user: %d %s", st, b)
			}
		}
		members := collect(t, c.Admin.Organization.Groups.Users.ListAutoPaging(ctx, gid, openai.AdminOrganizationGroupUserListParams{Limit: openai.Int(2)}))
		if got := ids(members, func(m openai.OrganizationGroupUser) string { return m.ID }); !slices.Equal(got, []string{users[2].ID, users[1].ID, users[0].ID}) {
			t.Fatalf("group users (newest first) %v", got)
		}
		if st, b := s.do(t, "GET", "groups/"+gid+"/users/"+users[0].ID, ""); st != 200 || !strings.Contains(string(b), users[0].Email) {
			t.Fatalf("get group user: %d %s", st, b)
		}
		if st, _ := s.do(t, "DELETE", "groups/"+gid+"/users/"+users[0].ID, ""); st != 200 {
			t.Fatalf("remove group user: %d", st)
		}
		if st, b := s.do(t, "POST", "groups/"+gid+"/roles", `{"role_id":"role_org_reader"}`); st != 200 || !strings.Contains(string(b), `"group.role"`) {
			t.Fatalf("assign group role: %d %s", st, b)
		}
		var gr listNext
		if call(t, s, "GET", "groups/"+gid+"/roles", "", &gr); len(gr.Data) != 1 {
			t.Fatalf("group roles %s", gr.Data)
		}
		if st, _ := s.do(t, "GET", "groups/"+gid+"/roles/role_org_reader", ""); st != 200 {
			t.Fatalf("get group role: %d", st)
		}
		if st, _ := s.do(t, "DELETE", "groups/"+gid+"/roles/role_org_reader", ""); st != 200 {
			t.Fatalf("unassign group role: %d", st)
		}
		var pg struct {
			Object    string `json:"object"`
			GroupName string `json:"group_name"`
		}
		if st := call(t, s, "POST", "projects/"+proj+"/groups", `{"group_id":"`+gid+`","role":"role_project_viewer"}`, &pg); st != 200 || pg.Object != "project.group" || pg.GroupName != "Contract Group 2" {
			t.Fatalf("add project group: %d %+v", st, pg)
		}
		if st, _ := s.do(t, "POST", "projects/"+proj+"/groups", `{"group_id":"`+gid+`","role":"role_org_reader"}`); st != 400 {
			t.Fatalf("project group with an organization role: %d", st)
		}
		pgs := collect(t, c.Admin.Organization.Projects.Groups.ListAutoPaging(ctx, proj, openai.AdminOrganizationProjectGroupListParams{Limit: openai.Int(1)}))
		if pgs[len(pgs)-1].GroupID != gid {
			t.Fatalf("project groups %+v", pgs)
		}
		if st, _ := s.do(t, "GET", "projects/"+proj+"/groups/"+gid+"?group_type=group", ""); st != 200 {
			t.Fatalf("get project group: %d", st)
		}
		if st, _ := s.do(t, "DELETE", "projects/"+proj+"/groups/"+gid, ""); st != 200 {
			t.Fatalf("remove project group: %d", st)
		}
		if st, b := s.do(t, "DELETE", "groups/"+gid, ""); st != 200 || !strings.Contains(string(b), `"group.deleted"`) {
			t.Fatalf("delete group: %d %s", st, b)
		}
	})

	t.Run("project roles", func(t *testing.T) {
		v1 := func(method, path, body string) (int, []byte) {
			st, _, b := raw(t, srv, method, "/projects/"+proj+"/"+path, srv.AdminKey, body)
			return st, b
		}
		st, b := v1("GET", "roles?limit=2", "")
		var roles listNext
		if err := json.Unmarshal(b, &roles); st != 200 || err != nil || len(roles.Data) != 2 || !roles.HasMore || roles.Next == nil {
			t.Fatalf("list project roles: %d %s", st, b)
		}
		st, b = v1("GET", "roles?after="+*roles.Next, "")
		if err := json.Unmarshal(b, &roles); st != 200 || err != nil || len(roles.Data) < 2 {
			t.Fatalf("list project roles, page 2: %d %s", st, b)
		}
		var r struct {
			ID           string `json:"id"`
			ResourceType string `json:"resource_type"`
		}
		st, b = v1("POST", "roles", `{"role_name":"Contract Project Role","permissions":["api.project.read"]}`)
		if err := json.Unmarshal(b, &r); st != 200 || err != nil || r.ResourceType != "api.project" {
			t.Fatalf("create project role: %d %s", st, b)
		}
		if st, b := v1("POST", "roles/"+r.ID, `{"role_name":"Contract Project Role 2"}`); st != 200 || !strings.Contains(string(b), "Role 2") {
			t.Fatalf("update project role: %d %s", st, b)
		}
		if st, _ := v1("GET", "roles/"+r.ID, ""); st != 200 {
			t.Fatalf("get project role: %d", st)
		}
		if st, _ := s.do(t, "GET", "roles/"+r.ID, ""); st != 404 {
			t.Fatalf("a project role under /organization/roles: %d", st)
		}
		member := emu.ProjectUsers(proj)[0].UserID
		if st, b := v1("POST", "users/"+member+"/roles", `{"role_id":"`+r.ID+`"}`); st != 200 || !strings.Contains(string(b), `"user.role"`) {
			t.Fatalf("assign project user role: %d %s", st, b)
		}
		outsider := ""
		for _, u := range users {
			if !slices.ContainsFunc(emu.ProjectUsers(proj), func(pu adminapi.ProjectUser) bool { return pu.UserID == u.ID }) {
				outsider = u.ID
				break
			}
		}
		if st, _ := v1("POST", "users/"+outsider+"/roles", `{"role_id":"`+r.ID+`"}`); st != 400 {
			t.Fatalf("project role for a non-member: %d", st)
		}
		if st, b := v1("GET", "users/"+member+"/roles", ""); st != 200 || !strings.Contains(string(b), r.ID) {
			t.Fatalf("list project user roles: %d %s", st, b)
		}
		if st, _ := v1("GET", "users/"+member+"/roles/"+r.ID, ""); st != 200 {
			t.Fatalf("get project user role: %d", st)
		}
		if st, _ := v1("DELETE", "users/"+member+"/roles/"+r.ID, ""); st != 200 {
			t.Fatalf("unassign project user role: %d", st)
		}
		var g struct {
			ID string `json:"id"`
		}
		call(t, s, "POST", "groups", `{"name":"Project Role Group"}`, &g)
		if st, _ := v1("POST", "groups/"+g.ID+"/roles", `{"role_id":"`+r.ID+`"}`); st != 400 {
			t.Fatalf("project role for a group without access: %d", st)
		}
		call(t, s, "POST", "projects/"+proj+"/groups", `{"group_id":"`+g.ID+`","role":"role_project_member"}`, nil)
		if st, b := v1("POST", "groups/"+g.ID+"/roles", `{"role_id":"`+r.ID+`"}`); st != 200 || !strings.Contains(string(b), `"group.role"`) {
			t.Fatalf("assign project group role: %d %s", st, b)
		}
		if st, b := v1("GET", "groups/"+g.ID+"/roles", ""); st != 200 || !strings.Contains(string(b), r.ID) {
			t.Fatalf("list project group roles: %d %s", st, b)
		}
		if st, _ := v1("GET", "groups/"+g.ID+"/roles/"+r.ID, ""); st != 200 {
			t.Fatalf("get project group role: %d", st)
		}
		if st, _ := v1("DELETE", "groups/"+g.ID+"/roles/"+r.ID, ""); st != 200 {
			t.Fatalf("unassign project group role: %d", st)
		}
		if st, b := v1("DELETE", "roles/"+r.ID, ""); st != 200 || !strings.Contains(string(b), `"role.deleted"`) {
			t.Fatalf("delete project role: %d %s", st, b)
		}
		if st, _ := v1("DELETE", "roles/role_project_owner", ""); st != 400 {
			t.Fatalf("delete a predefined project role: %d", st)
		}
	})

	t.Run("usage", func(t *testing.T) {
		now := emu.Now().Unix()
		start := now - 10*86400
		endpoints := []string{"completions", "embeddings", "moderations", "images", "audio_speeches", "audio_transcriptions",
			"vector_stores", "code_interpreter_sessions", "file_search_calls", "web_search_calls", "costs"}
		for _, ep := range endpoints {
			path := "usage/" + ep
			if ep == "costs" {
				path = ep
			}
			var total, byProject usagePage
			q := fmt.Sprintf("%s?start_time=%d&limit=31", path, start)
			if st := call(t, s, "GET", q, "", &total); st != 200 || len(total.Data) != 11 || total.HasMore {
				t.Fatalf("%s: %d, %d buckets", ep, st, len(total.Data))
			}
			call(t, s, "GET", q+"&group_by[]=project_id", "", &byProject)
			nonEmpty := 0
			for i, b := range total.Data {
				if b.EndTime-b.StartTime != 86400 || b.StartTime%86400 != 0 {
					t.Fatalf("%s: bucket %d-%d", ep, b.StartTime, b.EndTime)
				}
				if len(b.Results) > 1 {
					t.Fatalf("%s: ungrouped bucket has %d results", ep, len(b.Results))
				}
				if len(b.Results) == 1 {
					nonEmpty++
					if b.Results[0]["project_id"] != nil {
						t.Fatalf("%s: ungrouped result names a project: %v", ep, b.Results[0])
					}
				}
				metric := firstMetric(ep)
				var sum, want float64
				for _, r := range byProject.Data[i].Results {
					if r["project_id"] == nil {
						t.Fatalf("%s: grouped result without project: %v", ep, r)
					}
					sum += value(r, metric)
				}
				if len(b.Results) == 1 {
					want = value(b.Results[0], metric)
				}
				if diff := sum - want; diff > 1e-3 || diff < -1e-3 {
					t.Fatalf("%s bucket %d: projects sum to %v, total %v", ep, i, sum, want)
				}
			}
			if nonEmpty < 3 {
				t.Errorf("%s: only %d of 11 days have usage", ep, nonEmpty)
			}
		}
		// Paging: 3 buckets a page over 10 days.
		var pages int
		page := ""
		var starts []int64
		for {
			q := fmt.Sprintf("usage/completions?start_time=%d&end_time=%d&limit=3&group_by=model&group_by=api_key_id", start, now)
			if page != "" {
				q += "&page=" + url.QueryEscape(page)
			}
			var p usagePage
			if st := call(t, s, "GET", q, "", &p); st != 200 {
				t.Fatalf("page %d: %d", pages, st)
			}
			pages++
			for _, b := range p.Data {
				starts = append(starts, b.StartTime)
				for _, r := range b.Results {
					if r["model"] == nil || r["api_key_id"] == nil || r["project_id"] != nil {
						t.Fatalf("group_by model,api_key_id gave %v", r)
					}
				}
			}
			if !p.HasMore {
				break
			}
			page = *p.NextPage
		}
		if pages != 4 || len(starts) != 11 || !slices.IsSorted(starts) {
			t.Fatalf("%d pages, starts %v", pages, starts)
		}
		var hourly usagePage
		if call(t, s, "GET", fmt.Sprintf("usage/completions?start_time=%d&bucket_width=1h", now-48*3600), "", &hourly); len(hourly.Data) != 24 || !hourly.HasMore {
			t.Fatalf("hourly: %d buckets, has_more %v", len(hourly.Data), hourly.HasMore)
		}
		var costs usagePage
		call(t, s, "GET", fmt.Sprintf("costs?start_time=%d&group_by=line_item&group_by=project_id&project_ids=%s", start, proj), "", &costs)
		items := 0
		for _, b := range costs.Data {
			for _, r := range b.Results {
				items++
				if r["project_id"] != proj || r["line_item"] == nil || r["quantity"] == nil {
					t.Fatalf("cost line %v", r)
				}
			}
		}
		if items == 0 {
			t.Fatal("no cost line items for a project with usage")
		}
		c := srv.SDKClient()
		res, err := c.Admin.Organization.Usage.Completions(context.Background(), openai.AdminOrganizationUsageCompletionsParams{StartTime: start, GroupBy: []string{"project_id", "model"}})
		if err != nil || len(res.Data) != 7 {
			t.Fatalf("SDK completions: %v", err)
		}
		decodedFully(t, "usage page", *res)
		for _, bad := range []string{
			"usage/completions", // no start_time
			fmt.Sprintf("usage/completions?start_time=%d&bucket_width=2d", start),
			fmt.Sprintf("usage/completions?start_time=%d&limit=32", start),
			fmt.Sprintf("usage/completions?start_time=%d&group_by=line_item", start),
			fmt.Sprintf("costs?start_time=%d&bucket_width=1h", start),
			fmt.Sprintf("usage/completions?start_time=%d&page=bogus", start),
		} {
			if st, b := s.do(t, "GET", bad, ""); st != 400 {
				t.Errorf("%s: %d %s", bad, st, b)
			}
		}
	})

	t.Run("audit", func(t *testing.T) {
		types := map[string]bool{}
		for ev, err := range auditEvents(t, srv) {
			if err != nil {
				t.Fatal(err)
			}
			types[ev] = true
		}
		for _, typ := range []string{"certificate.created", "certificate.updated", "certificate.deleted", "certificates.activated",
			"certificates.deactivated", "role.created", "role.updated", "role.deleted", "role.assignment.created", "role.assignment.deleted",
			"group.created", "group.updated", "group.deleted"} {
			if !types[typ] {
				t.Errorf("no %s event recorded", typ)
			}
		}
	})

	cov := srv.Validator.Coverage()
	for _, op := range implementedInventory {
		if cov[op] == 0 {
			t.Errorf("operation %s not exercised", op)
		}
	}
}

func firstMetric(ep string) string {
	return map[string]string{"completions": "input_tokens", "embeddings": "input_tokens", "moderations": "input_tokens", "images": "images",
		"audio_speeches": "characters", "audio_transcriptions": "seconds", "vector_stores": "usage_bytes", "code_interpreter_sessions": "num_sessions",
		"file_search_calls": "num_requests", "web_search_calls": "num_requests", "costs": "amount"}[ep]
}

func value(r map[string]any, metric string) float64 {
	if metric == "amount" {
		return r["amount"].(map[string]any)["value"].(float64)
	}
	return r[metric].(float64)
}

// auditEvents yields the type of every event this server's admin key caused.
func auditEvents(t *testing.T, s *adminapitest.Server) func(func(string, error) bool) {
	keyID := ""
	for _, k := range s.Emulator.AdminAPIKeys() {
		if k.RedactedValue[len(k.RedactedValue)-4:] == s.AdminKey[len(s.AdminKey)-4:] {
			keyID = k.ID
		}
	}
	if keyID == "" {
		t.Fatal("the server's admin key is not listed")
	}
	return func(yield func(string, error) bool) {
		c := s.SDKClient()
		it := c.Admin.Organization.AuditLogs.ListAutoPaging(context.Background(), openai.AdminOrganizationAuditLogListParams{
			ActorIDs: []string{keyID}, Limit: openai.Int(100)})
		for it.Next() {
			if !yield(string(it.Current().Type), nil) {
				return
			}
		}
		if err := it.Err(); err != nil {
			yield("", err)
		}
	}
}
