package adminclient

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/openai/openai-go/v3"
)

// UserByEmail finds the organization user with this email, ignoring case.
// It asks the API's emails filter first (one call); if that finds nothing it
// scans every user, because the API does not promise that the filter
// ignores case, and a missed user is an offboarding that did not happen.
func (c *Client) UserByEmail(ctx context.Context, email string) (openai.OrganizationUser, error) {
	email = strings.TrimSpace(email)
	page, err := c.org.Users.List(ctx, openai.AdminOrganizationUserListParams{Limit: c.limit(), Emails: []string{email}})
	if err != nil {
		return openai.OrganizationUser{}, wrap("find user by email", err)
	}
	for _, u := range page.Data {
		if strings.EqualFold(UserEmail(u), email) {
			return u, nil
		}
	}
	for u, err := range c.Users(ctx) {
		if err != nil {
			return openai.OrganizationUser{}, fmt.Errorf("find user by email: %w", err)
		}
		if strings.EqualFold(UserEmail(u), email) {
			return u, nil
		}
	}
	return openai.OrganizationUser{}, fmt.Errorf("user %s: %w", email, ErrNotFound)
}

// UserEmail is a user's email: the top-level one, or else the nested user
// object's, which some responses fill instead.
func UserEmail(u openai.OrganizationUser) string {
	if u.Email != "" {
		return u.Email
	}
	return u.User.Email
}

// InvitesByEmail returns every invite to this email (ignoring case), of any
// status; callers pick the statuses they act on.
func (c *Client) InvitesByEmail(ctx context.Context, email string) ([]openai.Invite, error) {
	var out []openai.Invite
	for inv, err := range c.Invites(ctx) {
		if err != nil {
			return nil, fmt.Errorf("find invites by email: %w", err)
		}
		if strings.EqualFold(inv.Email, strings.TrimSpace(email)) {
			out = append(out, inv)
		}
	}
	return out, nil
}

// Membership is a user's place in a project.
type Membership struct {
	ProjectID   string `json:"project_id"`
	ProjectName string `json:"project_name,omitempty"`
	Role        string `json:"role"`
}

// ProjectsOfUser returns every project the user belongs to. When the user
// object carries its project list (the spec's optional `projects`), that is
// used and costs nothing; otherwise every active project's members are
// listed, with bounded concurrency.
func (c *Client) ProjectsOfUser(ctx context.Context, u openai.OrganizationUser) ([]Membership, error) {
	if u.JSON.Projects.Valid() {
		out := make([]Membership, 0, len(u.Projects.Data))
		for _, p := range u.Projects.Data {
			out = append(out, Membership{ProjectID: p.ID, ProjectName: p.Name, Role: p.Role})
		}
		return out, nil
	}
	projects, err := Collect(c.Projects(ctx, false))
	if err != nil {
		return nil, fmt.Errorf("projects of user %s: %w", u.ID, err)
	}
	var (
		mu  sync.Mutex
		out []Membership
	)
	err = ForEach(ctx, c, projects, func(ctx context.Context, p openai.Project) error {
		for pu, err := range c.ProjectUsers(ctx, p.ID) {
			if err != nil {
				return err
			}
			if pu.ID == u.ID {
				mu.Lock()
				out = append(out, Membership{ProjectID: p.ID, ProjectName: p.Name, Role: pu.Role})
				mu.Unlock()
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("projects of user %s: %w", u.ID, err)
	}
	return out, nil
}

// KeysOwnedBy returns the project's API keys whose owner is known to be
// the user or service account with this id (see ProjectKeyOwner).
func (c *Client) KeysOwnedBy(ctx context.Context, projectID, ownerID string) ([]openai.ProjectAPIKey, error) {
	var out []openai.ProjectAPIKey
	for k, err := range c.ProjectAPIKeys(ctx, projectID) {
		if err != nil {
			return nil, err
		}
		if o := ProjectKeyOwner(k); o.Known() && o.ID == ownerID {
			out = append(out, k)
		}
	}
	return out, nil
}

// OwnedKeys are a project's keys sorted by whether they belong to one owner.
type OwnedKeys struct {
	Owned []openai.ProjectAPIKey
	// OwnerUnknown are the keys that do not say who owns them: they may be
	// the owner's, so callers report them and never delete them as theirs.
	OwnerUnknown []openai.ProjectAPIKey
}

// KeysOf returns the project's keys owned by this owner, and those whose
// owner is unknown.
func (c *Client) KeysOf(ctx context.Context, projectID string, kind OwnerKind, id string) (OwnedKeys, error) {
	var out OwnedKeys
	for k, err := range c.ProjectAPIKeys(ctx, projectID) {
		if err != nil {
			return OwnedKeys{}, err
		}
		switch o := ProjectKeyOwner(k); {
		case !o.Known():
			out.OwnerUnknown = append(out.OwnerUnknown, k)
		case o.Is(kind, id):
			out.Owned = append(out.Owned, k)
		}
	}
	return out, nil
}

// IsSelf reports whether an admin key is the one this client uses: by id
// when known, else by its redacted value ("sk-admin...xyz" keeps the key's
// first and last characters). A false positive only protects a key.
func (c *Client) IsSelf(k openai.AdminAPIKey) bool {
	self := c.self()
	if self.id != "" {
		return k.ID == self.id
	}
	return redactedMatches(k.RedactedValue, self.key.Reveal())
}

func redactedMatches(redacted, key string) bool {
	head, tail, ok := strings.Cut(redacted, "...")
	if !ok || head == "" || tail == "" {
		return false
	}
	return strings.HasPrefix(key, head) && strings.HasSuffix(key, tail) && len(key) >= len(head)+len(tail)
}
