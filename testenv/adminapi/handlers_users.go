package adminapi

import (
	"strings"
)

func listUsers(c *call) (any, *apiError) {
	e := c.e
	limit, err := c.q.limit(20, 1)
	if err != nil {
		return nil, err
	}
	var keep func(*user) bool
	if emails := c.q.array("emails"); len(emails) > 0 {
		want := map[string]bool{}
		for _, m := range emails {
			want[strings.ToLower(m)] = true
		}
		keep = func(u *user) bool { return want[strings.ToLower(u.email)] }
	}
	return listPage(c, e.users, limit, false, keep, e.userBody)
}

func (e *Emulator) user(id string) (*user, *apiError) {
	return e.users.find("user", id)
}

func getUser(c *call) (any, *apiError) {
	u, err := c.e.user(c.params[0])
	if err != nil {
		return nil, err
	}
	return c.e.userBody(u), nil
}

func (e *Emulator) ownerCount() int {
	n := 0
	for u := range e.users.all() {
		if u.role == "owner" {
			n++
		}
	}
	return n
}

func updateUser(c *call) (any, *apiError) {
	e := c.e
	u, err := e.user(c.params[0])
	if err != nil {
		return nil, err
	}
	b, err := readBody(c.r, true)
	if err != nil {
		return nil, err
	}
	role, hasRole, err := b.str("role")
	if err != nil {
		return nil, err
	}
	if b.has("role_id") {
		return nil, invalid("role_id", "custom roles (role_id) are not emulated; set role to owner or reader")
	}
	tech, hasTech, err := b.str("technical_level")
	if err != nil {
		return nil, err
	}
	persona, hasPersona, err := b.str("developer_persona")
	if err != nil {
		return nil, err
	}
	if hasRole {
		if err := oneOf("role", role, "owner", "reader"); err != nil {
			return nil, err
		}
		if u.role == "owner" && role != "owner" && e.ownerCount() == 1 {
			return nil, invalid("role", "cannot demote the last owner of the organization")
		}
	}
	if hasRole && role != u.role {
		u.role = role
		c.event("", "user.updated", u.id, members("changes_requested", obj{"role", role}))
	}
	if hasTech {
		u.technicalLevel = &tech
	}
	if hasPersona {
		u.developerPersona = &persona
	}
	return c.e.userBody(u), nil
}

func deleteUser(c *call) (any, *apiError) {
	e := c.e
	u, err := e.user(c.params[0])
	if err != nil {
		return nil, err
	}
	if u.role == "owner" && e.ownerCount() == 1 {
		return nil, invalid("user_id", "cannot remove the last owner of the organization")
	}
	e.removeUser(u)
	c.event("", "user.deleted", u.id, "")
	return deletedBody{Object: "organization.user.deleted", ID: u.id, Deleted: true}, nil
}

// removeUser drops the user and their project memberships. Their project API
// keys stay and list as owner_project_access "inactive".
func (e *Emulator) removeUser(u *user) {
	for p := range e.projects.all() {
		p.users.remove(u.id)
		delete(p.userRoles, u.id)
	}
	for g := range e.groups.all() {
		g.users.remove(u.id)
	}
	delete(e.userRoles, u.id)
	e.users.remove(u.id)
	delete(e.usersByEmail, strings.ToLower(u.email))
}
