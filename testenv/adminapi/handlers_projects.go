package adminapi

import "strings"

var residencies = []string{"GLOBAL", "US_STORAGE_PROCESSING", "EU_STORAGE_PROCESSING", "JP_STORAGE", "KR_STORAGE",
	"CA_STORAGE", "SG_STORAGE", "IN_STORAGE", "AU_STORAGE", "GB_STORAGE", "AE_STORAGE", "AE_STORAGE_PROCESSING"}

func listProjects(c *call) (any, *apiError) {
	limit, err := c.q.limit(20, 1)
	if err != nil {
		return nil, err
	}
	withArchived, err := c.q.boolean("include_archived", false)
	if err != nil {
		return nil, err
	}
	keep := func(p *project) bool { return withArchived || !p.archived() }
	return listPage(c, c.e.projects, limit, false, keep, (*project).body)
}

func (e *Emulator) project(id string) (*project, *apiError) {
	return e.projects.find("project", id)
}

// activeProject is a project that accepts changes to its members, service
// accounts and keys: archived projects "cannot be used or updated".
func (e *Emulator) activeProject(id string) (*project, *apiError) {
	p, err := e.project(id)
	if err != nil {
		return nil, err
	}
	if p.archived() {
		return nil, invalid("project_id", "project %s is archived", id)
	}
	return p, nil
}

func getProject(c *call) (any, *apiError) {
	p, err := c.e.project(c.params[0])
	if err != nil {
		return nil, err
	}
	return p.body(), nil
}

func createProject(c *call) (any, *apiError) {
	e := c.e
	b, err := readBody(c.r, true)
	if err != nil {
		return nil, err
	}
	name, err := b.requiredStr("name")
	if err != nil {
		return nil, err
	}
	residency, hasResidency, err := b.str("residency")
	if err != nil {
		return nil, err
	}
	if hasResidency {
		if err := oneOf("residency", residency, residencies...); err != nil {
			return nil, err
		}
	}
	ext, hasExt, err := b.str("external_key_id")
	if err != nil {
		return nil, err
	}
	p := newProject(e.ids.projectID(), name, c.now)
	p.residency = residency
	if hasExt {
		p.externalKeyID = &ext
	}
	e.putProject(p)
	e.seedRateLimits(p)
	c.event(p.id, "project.created", p.id, members("data", obj{"name", name, "title", name}))
	return p.body(), nil
}

func updateProject(c *call) (any, *apiError) {
	e := c.e
	p, err := e.project(c.params[0])
	if err != nil {
		return nil, err
	}
	b, err := readBody(c.r, true)
	if err != nil {
		return nil, err
	}
	name, hasName, err := b.str("name")
	if err != nil {
		return nil, err
	}
	ext, hasExt, err := b.str("external_key_id")
	if err != nil {
		return nil, err
	}
	if p.isDefault {
		return nil, invalid("project_id", "the default project cannot be modified")
	}
	if p.archived() {
		return nil, invalid("project_id", "project %s is archived", p.id)
	}
	if hasName && name == "" {
		return nil, invalid("name", "'name' cannot be empty")
	}
	if hasName && name != p.name {
		p.name = name
		c.event(p.id, "project.updated", p.id, members("changes_requested", obj{"title", name}))
	}
	if hasExt {
		p.externalKeyID = &ext
	}
	return p.body(), nil
}

func archiveProject(c *call) (any, *apiError) {
	e := c.e
	p, err := e.project(c.params[0])
	if err != nil {
		return nil, err
	}
	if p.isDefault {
		return nil, invalid("project_id", "the default project cannot be archived")
	}
	if !p.archived() {
		p.archivedAt = c.now
		c.event(p.id, "project.archived", p.id, "")
	}
	return p.body(), nil
}

func (e *Emulator) projectUserBody(pu *projectUser) projectUserBody {
	b := projectUserBody{Object: "organization.project.user", ID: pu.userID, Role: pu.role, AddedAt: pu.addedAt}
	if u, ok := e.users.get(pu.userID); ok {
		b.Name, b.Email = u.name, u.email
	}
	return b
}

func listProjectUsers(c *call) (any, *apiError) {
	p, err := c.e.activeProject(c.params[0])
	if err != nil {
		return nil, err
	}
	limit, err := c.q.limit(20, 1)
	if err != nil {
		return nil, err
	}
	return listPage(c, p.users, limit, false, nil, c.e.projectUserBody)
}

// projectUser resolves the path's project (params[0], which must be
// active) and its member (params[1], a user id).
func (c *call) projectUser() (*project, *projectUser, *apiError) {
	p, err := c.e.activeProject(c.params[0])
	if err != nil {
		return nil, nil, err
	}
	pu, err := p.users.find("project user", c.params[1])
	return p, pu, err
}

func getProjectUser(c *call) (any, *apiError) {
	_, pu, err := c.projectUser()
	if err != nil {
		return nil, err
	}
	return c.e.projectUserBody(pu), nil
}

func addProjectUser(c *call) (any, *apiError) {
	e := c.e
	p, err := e.activeProject(c.params[0])
	if err != nil {
		return nil, err
	}
	b, err := readBody(c.r, true)
	if err != nil {
		return nil, err
	}
	role, err := b.requiredStr("role")
	if err != nil {
		return nil, err
	}
	if err := oneOf("role", role, "owner", "member"); err != nil {
		return nil, err
	}
	id, hasID, err := b.str("user_id")
	if err != nil {
		return nil, err
	}
	email, hasEmail, err := b.str("email")
	if err != nil {
		return nil, err
	}
	var u *user
	switch {
	case hasID:
		u, _ = e.users.get(id)
	case hasEmail:
		if uid, ok := e.usersByEmail[strings.ToLower(email)]; ok {
			u, _ = e.users.get(uid)
		}
	default:
		return nil, invalid("user_id", "'user_id' or 'email' is required")
	}
	if u == nil {
		return nil, invalid("user_id", "users must be members of the organization before they can be added to a project")
	}
	if _, exists := p.users.get(u.id); exists {
		return nil, invalid("user_id", "user %s is already a member of project %s", u.id, p.id)
	}
	pu := &projectUser{userID: u.id, role: role, addedAt: c.now}
	e.putProjectUser(p, pu)
	c.event(p.id, "user.added", u.id, members("data", obj{"role", role}))
	return e.projectUserBody(pu), nil
}

func updateProjectUser(c *call) (any, *apiError) {
	e := c.e
	p, pu, err := c.projectUser()
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
	if hasRole {
		if err := oneOf("role", role, "owner", "member"); err != nil {
			return nil, err
		}
		if role != pu.role {
			pu.role = role
			c.event(p.id, "user.updated", pu.userID, members("changes_requested", obj{"role", role}))
		}
	}
	return e.projectUserBody(pu), nil
}

func deleteProjectUser(c *call) (any, *apiError) {
	p, pu, err := c.projectUser()
	if err != nil {
		return nil, err
	}
	p.users.remove(pu.userID)
	c.event(p.id, "user.deleted", pu.userID, "")
	return deletedBody{Object: "organization.project.user.deleted", ID: pu.userID, Deleted: true}, nil
}
