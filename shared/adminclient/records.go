package adminclient

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/url"
)

// Records: every list as the API sent it, item by item, for the inventory,
// which stores each record byte for byte (unknown fields included). They go
// through the SDK's transport (auth, retries, rate limit, middleware) and
// the one paging loop (paginate), like the typed lists, but decode only the
// envelope. Each yielded record is its own copy of the item's bytes.

// records pages the list at path (under the base URL, e.g.
// "organization/users") with the fixed query q, pageSize items a page,
// through RawItems (raw.go): one raw paging loop for the client.
func (c *Client) records(ctx context.Context, op, path string, q url.Values, pageSize int, cursor RawCursor) iter.Seq2[json.RawMessage, error] {
	return c.RawItems(ctx, RawList{Op: op, Path: path, Query: q, Cursor: cursor, Limit: pageSize})
}

// Page sizes of the lists whose maximum is not the client's page size:
// the largest each allows, so a snapshot takes the fewest calls. Variables
// only so that tests can page these lists in small pages.
var (
	rbacPageSize         = 1000 // groups, group users, roles, role assignments
	projectGroupPageSize = 100
)

func (c *Client) pageSize() int { return c.opts.PageSize }

// UserRecords yields every organization user.
func (c *Client) UserRecords(ctx context.Context) iter.Seq2[json.RawMessage, error] {
	return c.records(ctx, "list users", "organization/users", nil, c.pageSize(), CursorLastID)
}

// InviteRecords yields every invite, whatever its status.
func (c *Client) InviteRecords(ctx context.Context) iter.Seq2[json.RawMessage, error] {
	return c.records(ctx, "list invites", "organization/invites", nil, c.pageSize(), CursorLastID)
}

// ProjectRecords yields every project; archived ones too when includeArchived.
func (c *Client) ProjectRecords(ctx context.Context, includeArchived bool) iter.Seq2[json.RawMessage, error] {
	var q url.Values
	if includeArchived {
		q = url.Values{"include_archived": {"true"}}
	}
	return c.records(ctx, "list projects", "organization/projects", q, c.pageSize(), CursorLastID)
}

// ProjectUserRecords yields every member of a project.
func (c *Client) ProjectUserRecords(ctx context.Context, projectID string) iter.Seq2[json.RawMessage, error] {
	return c.records(ctx, "list users of project "+projectID, projectPath(projectID, "users"), nil, c.pageSize(), CursorLastID)
}

// ServiceAccountRecords yields every service account of a project.
func (c *Client) ServiceAccountRecords(ctx context.Context, projectID string) iter.Seq2[json.RawMessage, error] {
	return c.records(ctx, "list service accounts of project "+projectID, projectPath(projectID, "service_accounts"), nil, c.pageSize(), CursorLastID)
}

// ProjectAPIKeyRecords yields every API key of a project, with
// owner_project_access=any (see ProjectAPIKeys).
func (c *Client) ProjectAPIKeyRecords(ctx context.Context, projectID string) iter.Seq2[json.RawMessage, error] {
	return c.records(ctx, "list api keys of project "+projectID, projectPath(projectID, "api_keys"),
		url.Values{"owner_project_access": {"any"}}, c.pageSize(), CursorLastID)
}

// AdminAPIKeyRecords yields every admin API key, oldest first.
func (c *Client) AdminAPIKeyRecords(ctx context.Context) iter.Seq2[json.RawMessage, error] {
	return c.records(ctx, "list admin api keys", "organization/admin_api_keys", url.Values{"order": {"asc"}}, c.pageSize(), CursorLastItem)
}

// RateLimitRecords yields a project's per-model rate limits.
func (c *Client) RateLimitRecords(ctx context.Context, projectID string) iter.Seq2[json.RawMessage, error] {
	return c.records(ctx, "list rate limits of project "+projectID, projectPath(projectID, "rate_limits"), nil, c.pageSize(), CursorLastID)
}

// SpendAlertRecords yields the organization's spend alerts, oldest first.
func (c *Client) SpendAlertRecords(ctx context.Context) iter.Seq2[json.RawMessage, error] {
	return c.records(ctx, "list spend alerts", "organization/spend_alerts", url.Values{"order": {"asc"}}, c.pageSize(), CursorLastID)
}

// ProjectSpendAlertRecords yields a project's spend alerts, oldest first.
func (c *Client) ProjectSpendAlertRecords(ctx context.Context, projectID string) iter.Seq2[json.RawMessage, error] {
	return c.records(ctx, "list spend alerts of project "+projectID, projectPath(projectID, "spend_alerts"), url.Values{"order": {"asc"}}, c.pageSize(), CursorLastID)
}

// CertificateRecords yields the organization's certificates, oldest first,
// each with its organization-level active flag.
func (c *Client) CertificateRecords(ctx context.Context) iter.Seq2[json.RawMessage, error] {
	return c.records(ctx, "list certificates", "organization/certificates", url.Values{"order": {"asc"}}, c.pageSize(), CursorLastID)
}

// ProjectCertificateRecords yields the certificates of a project, oldest
// first, each with its active flag for that project.
func (c *Client) ProjectCertificateRecords(ctx context.Context, projectID string) iter.Seq2[json.RawMessage, error] {
	return c.records(ctx, "list certificates of project "+projectID, projectPath(projectID, "certificates"), url.Values{"order": {"asc"}}, c.pageSize(), CursorLastID)
}

// GroupRecords yields every group.
func (c *Client) GroupRecords(ctx context.Context) iter.Seq2[json.RawMessage, error] {
	return c.records(ctx, "list groups", "organization/groups", url.Values{"order": {"asc"}}, rbacPageSize, CursorNext)
}

// GroupUserRecords yields every member of a group.
func (c *Client) GroupUserRecords(ctx context.Context, groupID string) iter.Seq2[json.RawMessage, error] {
	return c.records(ctx, "list users of group "+groupID, "organization/groups/"+url.PathEscape(groupID)+"/users", nil, rbacPageSize, CursorNext)
}

// GroupRoleRecords yields the organization roles assigned to a group.
func (c *Client) GroupRoleRecords(ctx context.Context, groupID string) iter.Seq2[json.RawMessage, error] {
	return c.records(ctx, "list roles of group "+groupID, "organization/groups/"+url.PathEscape(groupID)+"/roles", nil, rbacPageSize, CursorNext)
}

// RoleRecords yields the organization's roles, predefined and custom.
func (c *Client) RoleRecords(ctx context.Context) iter.Seq2[json.RawMessage, error] {
	return c.records(ctx, "list roles", "organization/roles", url.Values{"order": {"asc"}}, rbacPageSize, CursorNext)
}

// UserRoleRecords yields the organization roles assigned to a user.
func (c *Client) UserRoleRecords(ctx context.Context, userID string) iter.Seq2[json.RawMessage, error] {
	return c.records(ctx, "list roles of user "+userID, "organization/users/"+url.PathEscape(userID)+"/roles", nil, rbacPageSize, CursorNext)
}

// ProjectGroupRecords yields the groups that have access to a project.
func (c *Client) ProjectGroupRecords(ctx context.Context, projectID string) iter.Seq2[json.RawMessage, error] {
	return c.records(ctx, "list groups of project "+projectID, projectPath(projectID, "groups"), url.Values{"order": {"asc"}}, projectGroupPageSize, CursorNext)
}

// ProjectRoleRecords yields the roles of a project: the predefined project
// roles and the project's custom ones.
func (c *Client) ProjectRoleRecords(ctx context.Context, projectID string) iter.Seq2[json.RawMessage, error] {
	return c.records(ctx, "list roles of project "+projectID, "projects/"+url.PathEscape(projectID)+"/roles", url.Values{"order": {"asc"}}, rbacPageSize, CursorNext)
}

// ProjectUserRoleRecords yields the project roles assigned to a user in a project.
func (c *Client) ProjectUserRoleRecords(ctx context.Context, projectID, userID string) iter.Seq2[json.RawMessage, error] {
	return c.records(ctx, "list roles of user "+userID+" in project "+projectID,
		"projects/"+url.PathEscape(projectID)+"/users/"+url.PathEscape(userID)+"/roles", nil, rbacPageSize, CursorNext)
}

// ProjectGroupRoleRecords yields the project roles assigned to a group in a project.
func (c *Client) ProjectGroupRoleRecords(ctx context.Context, projectID, groupID string) iter.Seq2[json.RawMessage, error] {
	return c.records(ctx, "list roles of group "+groupID+" in project "+projectID,
		"projects/"+url.PathEscape(projectID)+"/groups/"+url.PathEscape(groupID)+"/roles", nil, rbacPageSize, CursorNext)
}

func projectPath(projectID, rest string) string {
	return "organization/projects/" + url.PathEscape(projectID) + "/" + rest
}

// Record reads one object (a setting such as "organization/data_retention"
// or "organization/projects/<id>/model_permissions") as the API sent it.
func (c *Client) Record(ctx context.Context, path string) (json.RawMessage, error) {
	var body []byte
	if err := c.sdk.Get(ctx, path, nil, &body); err != nil {
		return nil, wrap("get "+path, err)
	}
	if !json.Valid(body) {
		return nil, fmt.Errorf("get %s: the answer is not JSON", path)
	}
	return body, nil
}

// ModelPermissionsRecord reads a project's model permissions.
func (c *Client) ModelPermissionsRecord(ctx context.Context, projectID string) (json.RawMessage, error) {
	return c.Record(ctx, projectPath(projectID, "model_permissions"))
}

// DataRetentionRecord reads the organization's data retention.
func (c *Client) DataRetentionRecord(ctx context.Context) (json.RawMessage, error) {
	return c.Record(ctx, "organization/data_retention")
}

// ProjectDataRetentionRecord reads a project's data retention.
func (c *Client) ProjectDataRetentionRecord(ctx context.Context, projectID string) (json.RawMessage, error) {
	return c.Record(ctx, projectPath(projectID, "data_retention"))
}

// HostedToolPermissionsRecord reads a project's hosted tool permissions.
func (c *Client) HostedToolPermissionsRecord(ctx context.Context, projectID string) (json.RawMessage, error) {
	return c.Record(ctx, projectPath(projectID, "hosted_tool_permissions"))
}

// SpendLimitRecord reads the organization's hard spend limit. Where none is
// set the API's answer decides (IsNotFound for a 404).
func (c *Client) SpendLimitRecord(ctx context.Context) (json.RawMessage, error) {
	return c.Record(ctx, "organization/spend_limit")
}

// ProjectSpendLimitRecord reads a project's hard spend limit.
func (c *Client) ProjectSpendLimitRecord(ctx context.Context, projectID string) (json.RawMessage, error) {
	return c.Record(ctx, projectPath(projectID, "spend_limit"))
}
