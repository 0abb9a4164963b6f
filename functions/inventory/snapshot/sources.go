package snapshot

import (
	"context"
	"encoding/json"
	"iter"
	"net/url"
	"strings"

	"github.com/orgwarden/orgwarden/shared/adminclient"
)

// Lister is what a snapshot needs of the Admin API client.
type Lister interface {
	RawItems(ctx context.Context, l adminclient.RawList) iter.Seq2[json.RawMessage, error]
	RawObject(ctx context.Context, path string) (json.RawMessage, error)
	Stats() adminclient.Stats
	Concurrency() int
}

// Project is what the per-project sources need of a project.
type Project struct {
	ID       string
	Archived bool
}

// Source says how to read one table (package tables) from the API. The
// registry below has one per table; a new table is one more entry here and
// one in tables.All.
type Source struct {
	Table string
	// List yields the table's records: the organization's when p is nil,
	// else the project's.
	List func(ctx context.Context, api Lister, p *Project) iter.Seq2[json.RawMessage, error]
	// ActiveOnly: the API refuses the list for an archived project, which
	// has no members and no service accounts.
	ActiveOnly bool
}

// list is a Source.List over one list endpoint; "{project}" in path is the
// project's id.
func list(path string, query url.Values, cursor adminclient.RawCursor) func(context.Context, Lister, *Project) iter.Seq2[json.RawMessage, error] {
	return func(ctx context.Context, api Lister, p *Project) iter.Seq2[json.RawMessage, error] {
		return api.RawItems(ctx, adminclient.RawList{Path: withProject(path, p), Query: query, Cursor: cursor})
	}
}

// object is a Source.List over one object endpoint: a table of one record
// (per project, for a project-scoped table).
func object(path string) func(context.Context, Lister, *Project) iter.Seq2[json.RawMessage, error] {
	return func(ctx context.Context, api Lister, p *Project) iter.Seq2[json.RawMessage, error] {
		return func(yield func(json.RawMessage, error) bool) {
			yield(api.RawObject(ctx, withProject(path, p)))
		}
	}
}

func withProject(path string, p *Project) string {
	if p == nil {
		return path
	}
	return strings.ReplaceAll(path, "{project}", url.PathEscape(p.ID))
}

// Sources is the registry: every table and how to list it.
var Sources = []Source{
	{Table: "users", List: list("organization/users", nil, adminclient.CursorLastID)},
	{Table: "invites", List: list("organization/invites", nil, adminclient.CursorLastID)},
	{Table: "projects", List: list("organization/projects", url.Values{"include_archived": {"true"}}, adminclient.CursorLastID)},
	{Table: "admin_api_keys", List: list("organization/admin_api_keys", url.Values{"order": {"asc"}}, adminclient.CursorLastItem)},
	{Table: "organization_data_retention", List: object("organization/data_retention")},
	{Table: "organization_spend_alerts", List: list("organization/spend_alerts", url.Values{"order": {"asc"}}, adminclient.CursorLastID)},
	{Table: "project_users", List: list("organization/projects/{project}/users", nil, adminclient.CursorLastID), ActiveOnly: true},
	{Table: "project_service_accounts", List: list("organization/projects/{project}/service_accounts", nil, adminclient.CursorLastID), ActiveOnly: true},
	// owner_project_access=any: without it the API may hide keys whose
	// owner lost access to the project, exactly the ones a review must see.
	{Table: "project_api_keys", List: list("organization/projects/{project}/api_keys", url.Values{"owner_project_access": {"any"}}, adminclient.CursorLastID)},
	{Table: "project_rate_limits", List: list("organization/projects/{project}/rate_limits", nil, adminclient.CursorLastID)},
	{Table: "project_model_permissions", List: object("organization/projects/{project}/model_permissions")},
	{Table: "project_data_retention", List: object("organization/projects/{project}/data_retention")},
	{Table: "project_spend_alerts", List: list("organization/projects/{project}/spend_alerts", url.Values{"order": {"asc"}}, adminclient.CursorLastID)},
}
