// Package restore undoes an offboarding from its journal record, as far as
// the Admin API allows.
//
// A removed person can only come back through an invite: the API has no
// way to create a user. So restore invites them again with their recorded
// organization role and, through the invite's projects, their recorded
// project memberships and roles: accepting the invite restores those. If
// they have already accepted (they are an organization user again), restore
// adds the memberships that are missing, with the recorded roles.
//
// What cannot come back is said, not hidden: revoked API keys (their
// secrets are gone for good; the person creates new keys), projects archived
// or deleted since, and the old user id (the person returns with a new one).
package restore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/openai/openai-go/v3"

	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/journal"
	"github.com/orgwarden/orgwarden/shared/adminclient"
)

// Outcome is what happened to one restore action.
type Outcome string

// Outcomes of a restore action.
const (
	Created        Outcome = "created"         // invite sent
	Added          Outcome = "added"           // membership added
	Updated        Outcome = "updated"         // organization role changed back
	AlreadyPresent Outcome = "already_present" // nothing to do
	WouldDo        Outcome = "would_do"        // dry run: what a real run would do
	PendingInvite  Outcome = "pending_invite"  // an invite is already waiting for the person
	NotRestorable  Outcome = "not_restorable"  // the API cannot bring it back
	Failed         Outcome = "failed"
)

// Action is one thing restore did, would do, or could not do.
type Action struct {
	What      string  `json:"what"` // invite, project_membership, org_role
	ID        string  `json:"id,omitempty"`
	ProjectID string  `json:"project_id,omitempty"`
	Role      string  `json:"role,omitempty"`
	Outcome   Outcome `json:"outcome"`
	Note      string  `json:"note,omitempty"`
}

// Report is the result of a restore.
type Report struct {
	Email  string `json:"email"`
	DryRun bool   `json:"dry_run"`
	// UserID is the person's current user id, when they are a member.
	UserID  string   `json:"user_id,omitempty"`
	Actions []Action `json:"actions"`
	// CannotRestore lists what the record holds that the API cannot bring back.
	CannotRestore []string `json:"cannot_restore"`
	// Next says what has to happen for the restore to be complete.
	Next string `json:"next,omitempty"`
}

// Options adjust a restore.
type Options struct {
	// AllowOwner lets restore give back the organization's owner role
	// (orgwarden restore --allow-owner). Without it, a record that says
	// owner restores nothing: an owner can do everything, including
	// removing every other owner, so handing the role out takes a person
	// saying so, not only a record.
	AllowOwner bool
}

// ErrOwnerNotAllowed refuses to restore an owner without Options.AllowOwner.
var ErrOwnerNotAllowed = errors.New("the record restores the organization owner role; pass --allow-owner to restore an owner")

type target struct {
	projectID, name, role string
}

// Restore re-invites or re-adds the person of rec. reason is logged with
// every change. A dry-run client reports what would be done. rec must come
// from journal.Read, which vouches for it.
func Restore(ctx context.Context, c *adminclient.Client, rec *journal.Record, reason string, opts Options) (*Report, error) {
	if reason == "" {
		reason = "restore of offboarding " + rec.Key
	}
	email := rec.Email
	orgRole := ""
	if rec.User != nil {
		email, orgRole = rec.User.Email, rec.User.OrgRole
	}
	rep := &Report{Email: email, DryRun: c.DryRun(), Actions: []Action{}}

	// Every membership the person had when the offboarding began, with
	// its recorded role; then projects their revoked invites granted.
	var targets []target
	seen := map[string]bool{}
	for _, m := range rec.Projects {
		if !seen[m.ProjectID] {
			seen[m.ProjectID] = true
			targets = append(targets, target{m.ProjectID, m.ProjectName, m.Role})
		}
	}
	for _, in := range rec.Invites {
		if in.Outcome != journal.Removed && in.Outcome != journal.AlreadyGone {
			continue
		}
		if orgRole == "" {
			orgRole = in.Role
		}
		for _, p := range in.Projects {
			if !seen[p.ID] {
				seen[p.ID] = true
				targets = append(targets, target{projectID: p.ID, role: p.Role})
			}
		}
	}
	if !strings.EqualFold(orgRole, "owner") {
		orgRole = "reader" // invites know only owner and reader
	} else if orgRole = "owner"; !opts.AllowOwner {
		return nil, fmt.Errorf("restore %s: %w", email, ErrOwnerNotAllowed)
	}

	projects := map[string]openai.Project{}
	for p, err := range c.Projects(ctx, true) {
		if err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
		projects[p.ID] = p
	}
	var usable []target
	for _, t := range targets {
		p, ok := projects[t.projectID]
		switch {
		case !ok:
			rep.Actions = append(rep.Actions, Action{What: "project_membership", ProjectID: t.projectID, Role: t.role, Outcome: NotRestorable, Note: "the project no longer exists"})
		case p.ArchivedAt != 0 || p.Status == "archived":
			rep.Actions = append(rep.Actions, Action{What: "project_membership", ProjectID: t.projectID, Role: t.role, Outcome: NotRestorable, Note: "the project is archived"})
		default:
			usable = append(usable, t)
		}
	}

	u, err := c.UserByEmail(ctx, email)
	switch {
	case err == nil:
		rep.UserID = u.ID
		if err := restoreMember(ctx, c, u, orgRole, usable, reason, rep); err != nil {
			return rep, err
		}
	case errors.Is(err, adminclient.ErrNotFound):
		if err := reinvite(ctx, c, email, orgRole, usable, reason, rep); err != nil {
			return rep, err
		}
	default:
		return nil, fmt.Errorf("restore: %w", err)
	}
	rep.CannotRestore = cannotRestore(rec)
	return rep, nil
}

// restoreMember adds the missing memberships of a person who is already
// back in the organization, and their organization role.
func restoreMember(ctx context.Context, c *adminclient.Client, u openai.OrganizationUser, orgRole string, targets []target, reason string, rep *Report) error {
	if orgRole == "owner" && !strings.EqualFold(u.Role, "owner") {
		out, err := c.UpdateUserRole(ctx, u.ID, orgRole, reason)
		rep.Actions = append(rep.Actions, action(Action{What: "org_role", ID: u.ID, Role: orgRole}, out, err, Updated))
		if err != nil {
			return err
		}
	}
	current, err := c.ProjectsOfUser(ctx, u)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	has := map[string]string{}
	for _, m := range current {
		has[m.ProjectID] = m.Role
	}
	var errs []error
	for _, t := range targets {
		if role, ok := has[t.projectID]; ok {
			a := Action{What: "project_membership", ID: u.ID, ProjectID: t.projectID, Role: t.role, Outcome: AlreadyPresent}
			if role != t.role {
				a.Note = "member with role " + role + "; the record says " + t.role + " (change it in the dashboard if needed)"
			}
			rep.Actions = append(rep.Actions, a)
			continue
		}
		out, err := c.AddProjectUser(ctx, t.projectID, u.ID, t.role, reason)
		rep.Actions = append(rep.Actions, action(Action{What: "project_membership", ID: u.ID, ProjectID: t.projectID, Role: t.role}, out, err, Added))
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// reinvite invites the person back with their role and projects, unless an
// invite is already pending (the API allows one at a time).
func reinvite(ctx context.Context, c *adminclient.Client, email, orgRole string, targets []target, reason string, rep *Report) error {
	invites, err := c.InvitesByEmail(ctx, email)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	for _, in := range invites {
		if in.Status != openai.InviteStatusPending {
			continue
		}
		granted := map[string]bool{}
		for _, p := range in.Projects {
			granted[p.ID] = true
		}
		var missing []string
		for _, t := range targets {
			if !granted[t.projectID] {
				missing = append(missing, t.projectID)
			}
		}
		a := Action{What: "invite", ID: in.ID, Role: string(in.Role), Outcome: PendingInvite, Note: "an invite is already pending"}
		if len(missing) > 0 {
			a.Note += "; it does not grant " + strings.Join(missing, ", ")
			rep.Next = "once " + email + " accepts invite " + in.ID + ", run restore again to add the missing projects"
		} else {
			rep.Next = email + " must accept invite " + in.ID
		}
		rep.Actions = append(rep.Actions, a)
		return nil
	}
	projects := make([]adminclient.InviteProject, 0, len(targets))
	for _, t := range targets {
		projects = append(projects, adminclient.InviteProject{ID: t.projectID, Role: inviteProjectRole(t.role)})
	}
	sort.Slice(projects, func(i, j int) bool { return projects[i].ID < projects[j].ID })
	inv, err := c.CreateInvite(ctx, email, orgRole, projects, reason)
	a := Action{What: "invite", Role: orgRole, Note: fmt.Sprintf("grants %d project(s)", len(projects))}
	switch {
	case adminclient.IsDryRun(err):
		a.Outcome = WouldDo
		rep.Next = "run without --dry-run to send the invite"
	case err != nil:
		a.Outcome, a.Note = Failed, err.Error()
		rep.Actions = append(rep.Actions, a)
		return err
	default:
		a.ID, a.Outcome = inv.ID, Created
		rep.Next = email + " must accept invite " + inv.ID + "; accepting it restores the organization role and the project memberships"
	}
	rep.Actions = append(rep.Actions, a)
	return nil
}

// inviteProjectRole maps a project role to what invites accept.
func inviteProjectRole(role string) string {
	if strings.EqualFold(role, "owner") {
		return "owner"
	}
	return "member"
}

func action(a Action, out adminclient.Outcome, err error, done Outcome) Action {
	switch {
	case err != nil:
		a.Outcome, a.Note = Failed, err.Error()
	case out == adminclient.Planned:
		a.Outcome = WouldDo
	default:
		a.Outcome = done
	}
	return a
}

// cannotRestore says what of the record is gone for good.
func cannotRestore(rec *journal.Record) []string {
	out := []string{}
	for _, k := range rec.APIKeys {
		if k.Outcome != journal.Removed {
			continue
		}
		what := "project " + k.ProjectID
		if k.Kind == journal.AdminKey {
			what = "admin key"
		}
		out = append(out, fmt.Sprintf("API key %q (%s, %s) was revoked: its secret cannot be recovered; the person must create a new key",
			k.Name, k.ID, what))
	}
	if rec.User != nil && rec.Organization != nil && rec.Organization.Outcome == journal.Removed {
		out = append(out, "user "+rec.User.ID+" was removed: the person returns with a new user id; history stays with the old one")
	}
	if len(rec.ServiceAccounts) > 0 {
		out = append(out, "service accounts were not touched by the offboarding; nothing to restore there")
	}
	return out
}
