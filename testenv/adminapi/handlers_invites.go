package adminapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/orgwarden/orgwarden/testenv/adminapi/internal/auditlog"
)

func listInvites(c *call) (any, *apiError) {
	limit, err := c.q.limit(20, 1)
	if err != nil {
		return nil, err
	}
	return listPage(c, c.e.invites, limit, false, nil, func(in *invite) inviteBody { return in.body(c.now) })
}

func (e *Emulator) invite(id string) (*invite, *apiError) {
	return e.invites.find("invite", id)
}

func getInvite(c *call) (any, *apiError) {
	in, err := c.e.invite(c.params[0])
	if err != nil {
		return nil, err
	}
	return in.body(c.now), nil
}

func createInvite(c *call) (any, *apiError) {
	e := c.e
	b, err := readBody(c.r, true)
	if err != nil {
		return nil, err
	}
	email, err := b.requiredStr("email")
	if err != nil {
		return nil, err
	}
	if !strings.Contains(email, "@") {
		return nil, invalid("email", "'%s' is not an email address", email)
	}
	role, err := b.requiredStr("role")
	if err != nil {
		return nil, err
	}
	if err := oneOf("role", role, "reader", "owner"); err != nil {
		return nil, err
	}
	projects, err := e.inviteProjects(b)
	if err != nil {
		return nil, err
	}
	if _, member := e.usersByEmail[strings.ToLower(email)]; member {
		return nil, invalid("email", "%s is already a member of the organization", email)
	}
	for other := range e.invites.all() {
		if strings.EqualFold(other.email, email) && other.status(c.now) == InvitePending {
			return nil, invalid("email", "%s already has a pending invite (%s)", email, other.id)
		}
	}
	in := &invite{id: e.ids.inviteID(), email: email, role: role, createdAt: c.now,
		expiresAt: c.now + int64(e.inviteTTL/time.Second), projects: projects}
	e.invites.add(e.nextSeq(), in.id, in)
	c.event("", "invite.sent", in.id, members("data", obj{"email", email, "role", role}))
	return in.body(c.now), nil
}

// inviteProjects reads projects: omitted means the default project as a
// member, [] means none. Every project must exist and not be archived.
func (e *Emulator) inviteProjects(b jsonBody) ([]InviteProject, *apiError) {
	if !b.has("projects") {
		if e.defaultProj == "" {
			return nil, nil
		}
		return []InviteProject{{ID: e.defaultProj, Role: "member"}}, nil
	}
	var raw []map[string]json.RawMessage
	if err := json.Unmarshal(b["projects"], &raw); err != nil {
		return nil, invalid("projects", "'projects' must be an array of {id, role}")
	}
	out := []InviteProject{}
	for i, item := range raw {
		entry := jsonBody(item)
		param := fmt.Sprintf("projects[%d]", i)
		id, err := entry.requiredStr("id")
		if err != nil {
			return nil, invalid(param+".id", "%s", err.message)
		}
		role, err := entry.requiredStr("role")
		if err != nil {
			return nil, invalid(param+".role", "%s", err.message)
		}
		if err := oneOf(param+".role", role, "member", "owner"); err != nil {
			return nil, err
		}
		p, ok := e.projects.get(id)
		if !ok {
			return nil, invalid(param+".id", "no project with id '%s'", id)
		}
		if p.archived() {
			return nil, invalid(param+".id", "project %s is archived", id)
		}
		out = append(out, InviteProject{ID: id, Role: role})
	}
	return out, nil
}

func deleteInvite(c *call) (any, *apiError) {
	e := c.e
	in, err := e.invite(c.params[0])
	if err != nil {
		return nil, err
	}
	if in.status(c.now) == InviteAccepted {
		return nil, invalid("invite_id", "invite %s has been accepted and cannot be deleted", in.id)
	}
	e.invites.remove(in.id)
	c.event("", "invite.deleted", in.id, "")
	return deletedBody{Object: "organization.invite.deleted", ID: in.id, Deleted: true}, nil
}

// accept makes the invitee an organization user with the invite's role and
// project memberships, as when they click the link. The events are theirs.
func (e *Emulator) accept(in *invite, now int64) (*user, error) {
	switch in.status(now) {
	case InviteAccepted:
		return nil, fmt.Errorf("accept invite %s: already accepted", in.id)
	case InviteExpired:
		return nil, fmt.Errorf("accept invite %s: expired", in.id)
	}
	if _, member := e.usersByEmail[strings.ToLower(in.email)]; member {
		return nil, fmt.Errorf("accept invite %s: %s is already a member", in.id, in.email)
	}
	name, _, _ := strings.Cut(in.email, "@")
	u := e.putUser(&user{id: e.ids.userID(), name: name, email: in.email, role: in.role, addedAt: now})
	in.acceptedAt = now
	actor := &auditlog.Actor{Type: "session", UserID: u.id, UserEmail: u.email, IPAddress: "203.0.113.10"}
	e.event(now, actor, "", "invite.accepted", in.id, "")
	e.event(now, actor, "", "user.added", u.id, members("data", obj{"role", u.role}))
	for _, ip := range in.projects {
		p, ok := e.projects.get(ip.ID)
		if !ok || p.archived() {
			continue
		}
		e.putProjectUser(p, &projectUser{userID: u.id, role: ip.Role, addedAt: now})
	}
	return u, nil
}
