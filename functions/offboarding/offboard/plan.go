package offboard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/openai/openai-go/v3"

	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/journal"
	"github.com/orgwarden/orgwarden/functions/offboarding/offboard/message"
	"github.com/orgwarden/orgwarden/shared/adminclient"
	"github.com/orgwarden/orgwarden/shared/guard"
)

// The plan: what one attempt finds of the person's and must change. It
// only reads; the guards' verdicts are part of it, so a dry run and a real
// run refuse and skip exactly the same things.

// work is the plan of one attempt: everything that will be changed, by
// project. It is built concurrently and holds copies, not pointers into
// the record, which only one goroutine updates.
type work struct {
	user     *openai.OrganizationUser
	projects []projectWork
	admin    []journal.APIKey
	invites  []journal.Invite
	sas      []journal.ServiceAccount
	// scanned are the projects whose keys this attempt listed: a recorded
	// key missing there is gone; one elsewhere must be retried by id.
	scanned map[string]bool
}

type projectWork struct {
	membership journal.Membership // Outcome Planned: remove; Skipped: leave
	member     bool               // the user is a member now
	keys       []journal.APIKey   // Outcome Planned: revoke; Skipped: leave
}

// plan finds everything of the person's that this attempt must change.
// It only reads: the guards' verdicts are part of the plan, so a dry run
// and a real run refuse and skip exactly the same things.
func (o *Offboarder) plan(ctx context.Context, req message.Request) (*work, error) {
	w := &work{scanned: map[string]bool{}}

	var users UserFinder = o.Client
	if o.Users != nil {
		users = o.Users
	}
	u, err := users.UserByEmail(ctx, req.Email)
	switch {
	case errors.Is(err, adminclient.ErrNotFound):
		// No user: the invites alone are revoked.
	case err != nil:
		return nil, err
	default:
		w.user = &u
	}
	var memberships []adminclient.Membership
	if w.user != nil {
		if err := o.checkUser(ctx, req, u); err != nil {
			return nil, err
		}
		if memberships, err = o.Client.ProjectsOfUser(ctx, u); err != nil {
			return nil, err
		}
	}

	w.projects = make([]projectWork, len(memberships))
	var mu sync.Mutex
	err = adminclient.ForEach(ctx, o.Client, indexes(len(memberships)), func(ctx context.Context, i int) error {
		m := memberships[i]
		pw := projectWork{member: true, membership: journal.Membership{ProjectID: m.ProjectID, ProjectName: m.ProjectName,
			Role: m.Role, Step: journal.Step{Outcome: journal.Planned}}}
		if v := o.Rules.Check(guard.Subject{Kind: "project_user", ProjectID: m.ProjectID}); !v.Allowed {
			// A protected project is left alone entirely: its keys too.
			pw.membership.Step = journal.Step{Outcome: journal.Skipped, Note: v.Reason}
			w.projects[i] = pw
			return nil
		}
		keys, err := o.Client.KeysOf(ctx, m.ProjectID, adminclient.OwnerUser, u.ID)
		if err != nil {
			return err
		}
		for _, k := range keys.Owned {
			jk := journal.APIKey{ID: k.ID, Kind: journal.ProjectKey, Name: k.Name, ProjectID: m.ProjectID,
				CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, Step: journal.Step{Outcome: journal.Planned}}
			if v := o.Rules.Check(guard.Subject{Kind: "project_api_key", ID: k.ID, Name: k.Name, ProjectID: m.ProjectID}); !v.Allowed {
				jk.Step = journal.Step{Outcome: journal.Skipped, Note: v.Reason}
			}
			pw.keys = append(pw.keys, jk)
		}
		// A key that does not say its owner may be the person's: it is
		// reported, never revoked as theirs.
		for _, k := range keys.OwnerUnknown {
			pw.keys = append(pw.keys, journal.APIKey{ID: k.ID, Kind: journal.ProjectKey, Name: k.Name, ProjectID: m.ProjectID,
				CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, Step: journal.Step{Outcome: journal.Skipped, Note: ownerUnknown}})
		}
		var sas []journal.ServiceAccount
		if strings.EqualFold(m.Role, "owner") {
			// Service accounts outlive the person; whoever owned their
			// project should hand them over, so they are listed for review.
			for sa, err := range o.Client.ServiceAccounts(ctx, m.ProjectID) {
				if err != nil {
					return err
				}
				sas = append(sas, journal.ServiceAccount{ProjectID: m.ProjectID, ProjectName: m.ProjectName,
					ID: sa.ID, Name: sa.Name, Role: string(sa.Role)})
			}
		}
		mu.Lock()
		w.projects[i] = pw
		w.scanned[m.ProjectID] = true
		w.sas = append(w.sas, sas...)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(w.sas, func(a, b journal.ServiceAccount) int {
		return strings.Compare(a.ProjectID+a.ID, b.ProjectID+b.ID)
	})

	if w.user != nil && strings.EqualFold(w.user.Role, "owner") {
		// Only owners hold admin keys. The job's own key is never revoked,
		// even when the departing owner created it: that would lock the
		// deployment out; it is reported instead.
		for k, err := range o.Client.AdminAPIKeys(ctx) {
			if err != nil {
				return nil, err
			}
			owner := adminclient.AdminKeyOwner(k)
			if owner.Known() && !owner.Is(adminclient.OwnerUser, w.user.ID) {
				continue
			}
			jk := journal.APIKey{ID: k.ID, Kind: journal.AdminKey, Name: k.Name, CreatedAt: k.CreatedAt,
				LastUsedAt: k.LastUsedAt, Step: journal.Step{Outcome: journal.Planned}}
			if v := o.Rules.Check(guard.Subject{Kind: "admin_api_key", ID: k.ID, Name: k.Name, Self: o.Client.IsSelf(k)}); !v.Allowed {
				jk.Step = journal.Step{Outcome: journal.Skipped, Note: v.Reason}
			} else if !owner.Known() {
				jk.Step = journal.Step{Outcome: journal.Skipped, Note: ownerUnknown}
			}
			w.admin = append(w.admin, jk)
		}
	}

	invites, err := o.Client.InvitesByEmail(ctx, req.Email)
	if err != nil {
		return nil, err
	}
	for _, in := range invites {
		if in.Status != openai.InviteStatusPending {
			continue
		}
		ji := journal.Invite{ID: in.ID, Email: in.Email, Role: string(in.Role), CreatedAt: in.CreatedAt,
			ExpiresAt: in.ExpiresAt, Step: journal.Step{Outcome: journal.Planned}}
		for _, p := range in.Projects {
			ji.Projects = append(ji.Projects, journal.InviteProject{ID: p.ID, Role: string(p.Role)})
		}
		if v := o.Rules.Check(guard.Subject{Kind: "invite", ID: in.ID, Email: in.Email}); !v.Allowed {
			ji.Step = journal.Step{Outcome: journal.Skipped, Note: v.Reason}
		}
		w.invites = append(w.invites, ji)
	}
	return w, nil
}

// ownerUnknown is the note on a key that does not say who owns it (no
// owner.type this code knows, or no owner id): it may be the person's.
const ownerUnknown = "owner unknown: the API did not say who owns this key; left alone, check it by hand"

// checkUser applies the guards that concern the person as a whole.
func (o *Offboarder) checkUser(ctx context.Context, req message.Request, u openai.OrganizationUser) error {
	if req.UserID != "" && req.UserID != u.ID {
		return &RefusedError{Reason: fmt.Sprintf("the request names user %s but %s belongs to user %s", req.UserID, req.Email, u.ID)}
	}
	if v := o.Rules.Check(guard.Subject{Kind: "user", ID: u.ID, Email: adminclient.UserEmail(u), OrgRole: u.Role}); !v.Allowed {
		return &RefusedError{Reason: "user " + u.ID + " " + v.Reason}
	}
	if !strings.EqualFold(u.Role, "owner") {
		return nil
	}
	owners := 0
	for x, err := range o.Client.Users(ctx) {
		if err != nil {
			return err
		}
		if strings.EqualFold(x.Role, "owner") {
			owners++
		}
	}
	if owners <= 1 {
		return &RefusedError{Reason: "user " + u.ID + " is the organization's last owner"}
	}
	return nil
}
