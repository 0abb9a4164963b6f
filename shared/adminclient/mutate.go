package adminclient

import (
	"context"
	"errors"
	"log/slog"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// Outcome is what became of one change.
type Outcome string

// Outcomes of a change.
const (
	Done        Outcome = "done"         // sent and applied
	AlreadyDone Outcome = "already_done" // a delete found nothing to delete (404)
	Planned     Outcome = "dry_run"      // recorded, not sent
	Failed      Outcome = "failed"
)

// Change is one mutating call: what, to what, why, and what came of it.
type Change struct {
	Op        string  `json:"op"`
	ID        string  `json:"id,omitempty"`
	ProjectID string  `json:"project_id,omitempty"`
	Name      string  `json:"name,omitempty"`
	Email     string  `json:"email,omitempty"`
	Reason    string  `json:"reason"`
	Outcome   Outcome `json:"outcome"`
	Error     string  `json:"error,omitempty"`
}

// Changes returns every change this client made or, in dry-run mode,
// recorded, in order.
func (c *Client) Changes() []Change {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Change(nil), c.changes...)
}

// change runs call unless in dry-run mode, then records and logs the change
// as one JSON line. Deletes that find nothing count as already done, so
// every delete is idempotent.
func (c *Client) change(ctx context.Context, ch Change, isDelete bool, call func(context.Context) error) (Outcome, error) {
	var err error
	switch {
	case c.opts.DryRun:
		ch.Outcome = Planned
	default:
		c.mutations.Add(1)
		err = call(ctx)
		switch {
		case err == nil:
			ch.Outcome = Done
		case isDelete && IsNotFound(err):
			ch.Outcome, err = AlreadyDone, nil
		default:
			err = wrap(ch.Op, err)
			ch.Outcome, ch.Error = Failed, err.Error()
		}
	}
	c.mu.Lock()
	c.changes = append(c.changes, ch)
	c.mu.Unlock()

	level := slog.LevelInfo
	if err != nil {
		level = slog.LevelError
	}
	attrs := []slog.Attr{slog.String("op", ch.Op), slog.String("reason", ch.Reason),
		slog.String("outcome", string(ch.Outcome)), slog.Bool("dry_run", c.opts.DryRun)}
	for _, kv := range [][2]string{{"id", ch.ID}, {"project_id", ch.ProjectID}, {"name", ch.Name}, {"email", ch.Email}, {"error", ch.Error}} {
		if kv[1] != "" {
			attrs = append(attrs, slog.String(kv[0], kv[1]))
		}
	}
	c.log.LogAttrs(ctx, level, "change", attrs...)
	return ch.Outcome, err
}

// noRetry is for creates whose duplicate would matter: a second key or
// service account minted by a retry after a lost response would be an
// orphan holding live credentials.
var noRetry = option.WithMaxRetries(0)

// DeleteInvite deletes an invite.
func (c *Client) DeleteInvite(ctx context.Context, inviteID, email, reason string) (Outcome, error) {
	return c.change(ctx, Change{Op: "delete_invite", ID: inviteID, Email: email, Reason: reason}, true,
		func(ctx context.Context) error { _, err := c.org.Invites.Delete(ctx, inviteID); return err })
}

// DeleteUser removes a user from the organization.
func (c *Client) DeleteUser(ctx context.Context, userID, email, reason string) (Outcome, error) {
	return c.change(ctx, Change{Op: "delete_user", ID: userID, Email: email, Reason: reason}, true,
		func(ctx context.Context) error { _, err := c.org.Users.Delete(ctx, userID); return err })
}

// UpdateUserRole changes a user's organization role (owner or reader).
func (c *Client) UpdateUserRole(ctx context.Context, userID, role, reason string) (Outcome, error) {
	return c.change(ctx, Change{Op: "update_user_role", ID: userID, Name: role, Reason: reason}, false,
		func(ctx context.Context) error {
			_, err := c.org.Users.Update(ctx, userID, openai.AdminOrganizationUserUpdateParams{Role: openai.String(role)})
			return err
		})
}

// RemoveProjectUser removes a user from a project.
func (c *Client) RemoveProjectUser(ctx context.Context, projectID, userID, reason string) (Outcome, error) {
	return c.change(ctx, Change{Op: "remove_project_user", ID: userID, ProjectID: projectID, Reason: reason}, true,
		func(ctx context.Context) error {
			_, err := c.org.Projects.Users.Delete(ctx, projectID, userID)
			return err
		})
}

// AddProjectUser adds an organization member to a project with a role
// (owner or member). Adding is idempotent on the API side only if the
// member is absent; callers check membership first.
func (c *Client) AddProjectUser(ctx context.Context, projectID, userID, role, reason string) (Outcome, error) {
	return c.change(ctx, Change{Op: "add_project_user", ID: userID, ProjectID: projectID, Name: role, Reason: reason}, false,
		func(ctx context.Context) error {
			_, err := c.org.Projects.Users.New(ctx, projectID, openai.AdminOrganizationProjectUserNewParams{
				UserID: openai.String(userID), Role: role,
			})
			return err
		})
}

// DeleteProjectAPIKey deletes a user-owned project API key. The API refuses
// keys owned by service accounts; delete the service account instead.
func (c *Client) DeleteProjectAPIKey(ctx context.Context, projectID, keyID, name, reason string) (Outcome, error) {
	return c.change(ctx, Change{Op: "delete_project_api_key", ID: keyID, ProjectID: projectID, Name: name, Reason: reason}, true,
		func(ctx context.Context) error {
			_, err := c.org.Projects.APIKeys.Delete(ctx, projectID, keyID)
			return err
		})
}

// DeleteServiceAccount deletes a project service account and with it its keys.
func (c *Client) DeleteServiceAccount(ctx context.Context, projectID, serviceAccountID, name, reason string) (Outcome, error) {
	return c.change(ctx, Change{Op: "delete_service_account", ID: serviceAccountID, ProjectID: projectID, Name: name, Reason: reason}, true,
		func(ctx context.Context) error {
			_, err := c.org.Projects.ServiceAccounts.Delete(ctx, projectID, serviceAccountID)
			return err
		})
}

// UpdateServiceAccountRole sets a service account's project role (member or owner).
func (c *Client) UpdateServiceAccountRole(ctx context.Context, projectID, serviceAccountID, role, reason string) (Outcome, error) {
	return c.change(ctx, Change{Op: "update_service_account_role", ID: serviceAccountID, ProjectID: projectID, Name: role, Reason: reason}, false,
		func(ctx context.Context) error {
			_, err := c.org.Projects.ServiceAccounts.Update(ctx, projectID, serviceAccountID,
				openai.AdminOrganizationProjectServiceAccountUpdateParams{Role: openai.AdminOrganizationProjectServiceAccountUpdateParamsRole(role)})
			return err
		})
}

// DeleteAdminAPIKey deletes an admin key. It refuses the key the client is
// itself using (by id, or by its redacted value when the id is unknown):
// deleting it would lock the deployment out.
func (c *Client) DeleteAdminAPIKey(ctx context.Context, keyID, reason string) (Outcome, error) {
	if self := c.self(); self.id != "" && keyID == self.id {
		return Failed, ErrSelfKey
	}
	return c.change(ctx, Change{Op: "delete_admin_api_key", ID: keyID, Reason: reason}, true,
		func(ctx context.Context) error { _, err := c.org.AdminAPIKeys.Delete(ctx, keyID); return err })
}

// CreateAdminAPIKey mints an admin key, sent once (no retries). The
// response holds the key value, shown only now; keep it in a Secret.
func (c *Client) CreateAdminAPIKey(ctx context.Context, name, reason string) (*openai.AdminOrganizationAdminAPIKeyNewResponse, error) {
	var res *openai.AdminOrganizationAdminAPIKeyNewResponse
	_, err := c.change(ctx, Change{Op: "create_admin_api_key", Name: name, Reason: reason}, false,
		func(ctx context.Context) (err error) {
			res, err = c.org.AdminAPIKeys.New(ctx, openai.AdminOrganizationAdminAPIKeyNewParams{Name: name}, noRetry)
			return err
		})
	return res, createResult(c, err)
}

// CreateServiceAccount creates a project service account with a key (role
// member), sent once (no retries). The response holds the key value.
func (c *Client) CreateServiceAccount(ctx context.Context, projectID, name, reason string) (*openai.AdminOrganizationProjectServiceAccountNewResponse, error) {
	var res *openai.AdminOrganizationProjectServiceAccountNewResponse
	_, err := c.change(ctx, Change{Op: "create_service_account", ProjectID: projectID, Name: name, Reason: reason}, false,
		func(ctx context.Context) (err error) {
			res, err = c.org.Projects.ServiceAccounts.New(ctx, projectID,
				openai.AdminOrganizationProjectServiceAccountNewParams{Name: name}, noRetry)
			return err
		})
	return res, createResult(c, err)
}

// CreateServiceAccountAPIKey adds a key to a service account, sent once.
func (c *Client) CreateServiceAccountAPIKey(ctx context.Context, projectID, serviceAccountID, name, reason string) (*openai.AdminOrganizationProjectServiceAccountAPIKeyNewResponse, error) {
	var res *openai.AdminOrganizationProjectServiceAccountAPIKeyNewResponse
	_, err := c.change(ctx, Change{Op: "create_service_account_api_key", ID: serviceAccountID, ProjectID: projectID, Name: name, Reason: reason}, false,
		func(ctx context.Context) (err error) {
			res, err = c.org.Projects.ServiceAccounts.APIKeys.New(ctx, projectID, serviceAccountID,
				openai.AdminOrganizationProjectServiceAccountAPIKeyNewParams{Name: openai.String(name)}, noRetry)
			return err
		})
	return res, createResult(c, err)
}

// InviteProject is a project an invite grants, with its role (member or owner).
type InviteProject struct{ ID, Role string }

// CreateInvite invites an email with an organization role (reader or owner)
// and projects, sent once. projects nil means the API's default project;
// an empty non-nil slice means no project.
func (c *Client) CreateInvite(ctx context.Context, email, role string, projects []InviteProject, reason string) (*openai.Invite, error) {
	params := openai.AdminOrganizationInviteNewParams{Email: email, Role: openai.AdminOrganizationInviteNewParamsRole(role)}
	if projects != nil {
		params.Projects = make([]openai.AdminOrganizationInviteNewParamsProject, 0, len(projects))
		for _, p := range projects {
			params.Projects = append(params.Projects, openai.AdminOrganizationInviteNewParamsProject{ID: p.ID, Role: p.Role})
		}
	}
	var res *openai.Invite
	_, err := c.change(ctx, Change{Op: "create_invite", Email: email, Name: role, Reason: reason}, false,
		func(ctx context.Context) (err error) {
			res, err = c.org.Invites.New(ctx, params, noRetry)
			return err
		})
	return res, createResult(c, err)
}

func createResult(c *Client, err error) error {
	if err == nil && c.opts.DryRun {
		return ErrDryRun
	}
	return err
}

// IsDryRun reports whether err says a create was only recorded.
func IsDryRun(err error) bool { return errors.Is(err, ErrDryRun) }
