package adminclient

import (
	"context"
	"iter"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/pagination"
	"github.com/openai/openai-go/v3/packages/param"
)

// Every list below goes through paginate (pager.go): a page that says more
// follow but gives no way to reach them is an error, never the end of the
// list, and every list has a page ceiling. The SDK's auto-pagers are not
// used: they end a list silently on a missing cursor or an empty page.
//
// Every list is lazy and reusable: building one sends nothing, and each
// range over it reads the whole list afresh from its first page
// (TestListsAreLazyAndReusable).

func (c *Client) limit() param.Opt[int64] { return openai.Int(int64(c.opts.PageSize)) }

// after is the after parameter for a cursor ("" for the first page).
func after(cursor string) param.Opt[string] {
	if cursor == "" {
		return param.Opt[string]{}
	}
	return openai.String(cursor)
}

// list pages an "id cursor" list (family A) from its first page.
func list[T any](ctx context.Context, c *Client, op string, get func(ctx context.Context, after string) (*pagination.ConversationCursorPage[T], error)) iter.Seq2[T, error] {
	return items(paginate(ctx, op, c.opts.MaxPages, "", idCursor(op, get)))
}

// Users yields every organization user.
func (c *Client) Users(ctx context.Context) iter.Seq2[openai.OrganizationUser, error] {
	return list(ctx, c, "list users", func(ctx context.Context, cursor string) (*pagination.ConversationCursorPage[openai.OrganizationUser], error) {
		return c.org.Users.List(ctx, openai.AdminOrganizationUserListParams{Limit: c.limit(), After: after(cursor)})
	})
}

// Invites yields every invite, whatever its status.
func (c *Client) Invites(ctx context.Context) iter.Seq2[openai.Invite, error] {
	return list(ctx, c, "list invites", func(ctx context.Context, cursor string) (*pagination.ConversationCursorPage[openai.Invite], error) {
		return c.org.Invites.List(ctx, openai.AdminOrganizationInviteListParams{Limit: c.limit(), After: after(cursor)})
	})
}

// Projects yields every project; archived ones too when includeArchived.
func (c *Client) Projects(ctx context.Context, includeArchived bool) iter.Seq2[openai.Project, error] {
	return list(ctx, c, "list projects", func(ctx context.Context, cursor string) (*pagination.ConversationCursorPage[openai.Project], error) {
		params := openai.AdminOrganizationProjectListParams{Limit: c.limit(), After: after(cursor)}
		if includeArchived {
			params.IncludeArchived = openai.Bool(true)
		}
		return c.org.Projects.List(ctx, params)
	})
}

// ProjectUsers yields every member of a project.
func (c *Client) ProjectUsers(ctx context.Context, projectID string) iter.Seq2[openai.ProjectUser, error] {
	return list(ctx, c, "list users of project "+projectID, func(ctx context.Context, cursor string) (*pagination.ConversationCursorPage[openai.ProjectUser], error) {
		return c.org.Projects.Users.List(ctx, projectID, openai.AdminOrganizationProjectUserListParams{Limit: c.limit(), After: after(cursor)})
	})
}

// ServiceAccounts yields every service account of a project.
func (c *Client) ServiceAccounts(ctx context.Context, projectID string) iter.Seq2[openai.ProjectServiceAccount, error] {
	return list(ctx, c, "list service accounts of project "+projectID, func(ctx context.Context, cursor string) (*pagination.ConversationCursorPage[openai.ProjectServiceAccount], error) {
		return c.org.Projects.ServiceAccounts.List(ctx, projectID, openai.AdminOrganizationProjectServiceAccountListParams{Limit: c.limit(), After: after(cursor)})
	})
}

// ProjectAPIKeys yields every API key of a project. It asks for
// owner_project_access=any: without it the API may hide keys whose owner has
// lost access to the project, which are exactly the keys a sweep must see.
func (c *Client) ProjectAPIKeys(ctx context.Context, projectID string) iter.Seq2[openai.ProjectAPIKey, error] {
	return list(ctx, c, "list api keys of project "+projectID, func(ctx context.Context, cursor string) (*pagination.ConversationCursorPage[openai.ProjectAPIKey], error) {
		return c.org.Projects.APIKeys.List(ctx, projectID, openai.AdminOrganizationProjectAPIKeyListParams{
			Limit:              c.limit(),
			After:              after(cursor),
			OwnerProjectAccess: openai.AdminOrganizationProjectAPIKeyListParamsOwnerProjectAccessAny,
		})
	})
}

// AdminAPIKeys yields every admin API key, oldest first. This list pages
// after the last item's id, as the SDK does (the spec's family A′).
func (c *Client) AdminAPIKeys(ctx context.Context) iter.Seq2[openai.AdminAPIKey, error] {
	const op = "list admin api keys"
	get := func(ctx context.Context, cursor string) (*pagination.CursorPage[openai.AdminAPIKey], error) {
		return c.org.AdminAPIKeys.List(ctx, openai.AdminOrganizationAdminAPIKeyListParams{
			Limit: c.limit(),
			After: after(cursor),
			Order: openai.AdminOrganizationAdminAPIKeyListParamsOrderAsc,
		})
	}
	return items(paginate(ctx, op, c.opts.MaxPages, "", itemCursor(op, func(k openai.AdminAPIKey) string { return k.ID }, get)))
}

// Collect drains a sequence into a slice, stopping at the first error.
func Collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}
