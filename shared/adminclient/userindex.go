package adminclient

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/openai/openai-go/v3"
)

// UserIndex finds users by email for many lookups in a row (one SQS batch
// of offboarding requests). Each lookup asks the API's emails filter first
// (one call); only when that misses does it fall back to a full listing of
// the users, and that listing is made once for the index and shared by
// every later lookup. So a batch of unknown emails costs one listing, not
// one per email.
//
// A user found through the listing is read again by id before it is
// returned: the listing may predate a change made by an earlier lookup's
// caller, and a user removed since must not be acted on.
type UserIndex struct {
	c       *Client
	mu      sync.Mutex
	byEmail map[string]string // lower-case email -> user id; nil until listed
}

// NewUserIndex returns an empty index; it lists users when first needed.
func (c *Client) NewUserIndex() *UserIndex { return &UserIndex{c: c} }

// UserByEmail finds the organization user with this email, ignoring case,
// as Client.UserByEmail does.
func (x *UserIndex) UserByEmail(ctx context.Context, email string) (openai.OrganizationUser, error) {
	email = strings.TrimSpace(email)
	page, err := x.c.org.Users.List(ctx, openai.AdminOrganizationUserListParams{Limit: x.c.limit(), Emails: []string{email}})
	if err != nil {
		return openai.OrganizationUser{}, wrap("find user by email", err)
	}
	for _, u := range page.Data {
		if strings.EqualFold(UserEmail(u), email) {
			return u, nil
		}
	}
	id, err := x.lookup(ctx, email)
	if err != nil {
		return openai.OrganizationUser{}, err
	}
	if id == "" {
		return openai.OrganizationUser{}, fmt.Errorf("user %s: %w", email, ErrNotFound)
	}
	u, err := x.c.org.Users.Get(ctx, id)
	switch {
	case IsNotFound(err):
		return openai.OrganizationUser{}, fmt.Errorf("user %s: %w", email, ErrNotFound)
	case err != nil:
		return openai.OrganizationUser{}, wrap("find user by email", err)
	case !strings.EqualFold(UserEmail(*u), email):
		// The id now belongs to someone else's email: not our person.
		return openai.OrganizationUser{}, fmt.Errorf("user %s: %w", email, ErrNotFound)
	}
	return *u, nil
}

// lookup returns the id the listing has for email, listing first if no
// lookup has yet. A failed listing is not kept: the next lookup tries again.
func (x *UserIndex) lookup(ctx context.Context, email string) (string, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.byEmail == nil {
		byEmail := map[string]string{}
		for u, err := range x.c.Users(ctx) {
			if err != nil {
				return "", fmt.Errorf("find user by email: %w", err)
			}
			byEmail[strings.ToLower(UserEmail(u))] = u.ID
		}
		x.byEmail = byEmail
	}
	return x.byEmail[strings.ToLower(email)], nil
}
