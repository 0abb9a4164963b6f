package adminclient

import (
	"context"
	"iter"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/param"
)

// autoPager is what the SDK's ListAutoPaging returns, for every list family.
type autoPager[T any] interface {
	Next() bool
	Current() T
	Err() error
}

// all turns an SDK auto-pager into a range-over-func sequence that stops at
// the first error, yielding it once.
func all[T any](op string, p autoPager[T]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for p.Next() {
			if !yield(p.Current(), nil) {
				return
			}
		}
		if err := p.Err(); err != nil {
			var zero T
			yield(zero, wrap(op, err))
		}
	}
}

func (c *Client) limit() param.Opt[int64] { return openai.Int(int64(c.opts.PageSize)) }

// Users yields every organization user.
func (c *Client) Users(ctx context.Context) iter.Seq2[openai.OrganizationUser, error] {
	return all("list users", c.org.Users.ListAutoPaging(ctx, openai.AdminOrganizationUserListParams{Limit: c.limit()}))
}

// Invites yields every invite, whatever its status.
func (c *Client) Invites(ctx context.Context) iter.Seq2[openai.Invite, error] {
	return all("list invites", c.org.Invites.ListAutoPaging(ctx, openai.AdminOrganizationInviteListParams{Limit: c.limit()}))
}

// Projects yields every project; archived ones too when includeArchived.
func (c *Client) Projects(ctx context.Context, includeArchived bool) iter.Seq2[openai.Project, error] {
	params := openai.AdminOrganizationProjectListParams{Limit: c.limit()}
	if includeArchived {
		params.IncludeArchived = openai.Bool(true)
	}
	return all("list projects", c.org.Projects.ListAutoPaging(ctx, params))
}

// ProjectUsers yields every member of a project.
func (c *Client) ProjectUsers(ctx context.Context, projectID string) iter.Seq2[openai.ProjectUser, error] {
	return all("list users of project "+projectID,
		c.org.Projects.Users.ListAutoPaging(ctx, projectID, openai.AdminOrganizationProjectUserListParams{Limit: c.limit()}))
}

// ServiceAccounts yields every service account of a project.
func (c *Client) ServiceAccounts(ctx context.Context, projectID string) iter.Seq2[openai.ProjectServiceAccount, error] {
	return all("list service accounts of project "+projectID,
		c.org.Projects.ServiceAccounts.ListAutoPaging(ctx, projectID, openai.AdminOrganizationProjectServiceAccountListParams{Limit: c.limit()}))
}

// ProjectAPIKeys yields every API key of a project. It asks for
// owner_project_access=any: without it the API may hide keys whose owner has
// lost access to the project, which are exactly the keys a sweep must see.
func (c *Client) ProjectAPIKeys(ctx context.Context, projectID string) iter.Seq2[openai.ProjectAPIKey, error] {
	return all("list api keys of project "+projectID,
		c.org.Projects.APIKeys.ListAutoPaging(ctx, projectID, openai.AdminOrganizationProjectAPIKeyListParams{
			Limit:              c.limit(),
			OwnerProjectAccess: openai.AdminOrganizationProjectAPIKeyListParamsOwnerProjectAccessAny,
		}))
}

// AdminAPIKeys yields every admin API key, oldest first.
func (c *Client) AdminAPIKeys(ctx context.Context) iter.Seq2[openai.AdminAPIKey, error] {
	return all("list admin api keys", c.org.AdminAPIKeys.ListAutoPaging(ctx, openai.AdminOrganizationAdminAPIKeyListParams{
		Limit: c.limit(),
		Order: openai.AdminOrganizationAdminAPIKeyListParamsOrderAsc,
	}))
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
