package adminapi

// Project roles and project role assignments: /v1/projects/{project_id}/...
// (the spec has these without the /organization prefix). A project's roles
// are the predefined project roles and the custom roles created in it.
// Users can be given a project role only while they are members of the
// project, groups only while they have access to it (400 otherwise);
// removing a member or a group's access does not remove these assignments
// here, so a reader sees them as they were.

// projectRole is a role usable in project p: predefined, or custom to p.
func (e *Emulator) projectRole(p *project, id string) (*role, *apiError) {
	r, ok := e.roles.get(id)
	if !ok || r.resourceType != resourceProject || (r.projectID != "" && r.projectID != p.id) {
		return nil, notFound("project role", id)
	}
	return r, nil
}

func listProjectRoles(c *call) (any, *apiError) {
	p, err := c.e.project(c.params[0])
	if err != nil {
		return nil, err
	}
	limit, err := c.q.limitIn(1000, 0, 1000)
	if err != nil {
		return nil, err
	}
	desc, err := c.q.order()
	if err != nil {
		return nil, err
	}
	after := c.q.get("after")
	keep := func(r *role) bool {
		return r.resourceType == resourceProject && (r.projectID == "" || r.projectID == p.id)
	}
	page, more, perr := c.e.roles.page(after, limit, desc, keep)
	if perr != nil {
		return nil, unknownCursor("after", after)
	}
	b := listNextBody[roleBody]{Object: "list", Data: make([]roleBody, len(page)), HasMore: more}
	for i, e := range page {
		b.Data[i] = e.v.body()
	}
	if more && len(page) > 0 {
		b.Next = &page[len(page)-1].id
	}
	return b, nil
}

func createProjectRole(c *call) (any, *apiError) {
	p, err := c.e.activeProject(c.params[0])
	if err != nil {
		return nil, err
	}
	return c.createRoleIn(resourceProject, p.id)
}

func (c *call) pathProjectRole(active bool) (*project, *role, *apiError) {
	get := c.e.project
	if active {
		get = c.e.activeProject
	}
	p, err := get(c.params[0])
	if err != nil {
		return nil, nil, err
	}
	r, err := c.e.projectRole(p, c.params[len(c.params)-1])
	return p, r, err
}

func getProjectRole(c *call) (any, *apiError) {
	_, r, err := c.pathProjectRole(false)
	if err != nil {
		return nil, err
	}
	return r.body(), nil
}

func updateProjectRole(c *call) (any, *apiError) {
	_, r, err := c.pathProjectRole(true)
	if err != nil {
		return nil, err
	}
	return c.updateRoleOf(r)
}

func deleteProjectRole(c *call) (any, *apiError) {
	_, r, err := c.pathProjectRole(true)
	if err != nil {
		return nil, err
	}
	return c.deleteRoleOf(r)
}

// projectAssignments resolves the path's project, principal (user or
// group, params[1]) and that principal's assignment list in the project.
func (c *call) projectAssignments(group bool) (*project, string, *collection[*assignment], *apiError) {
	p, err := c.e.project(c.params[0])
	if err != nil {
		return nil, "", nil, err
	}
	id := c.params[1]
	lists := p.userRoles
	if group {
		lists = p.groupRoles
		if _, err := c.e.findGroup(id); err != nil {
			return nil, "", nil, err
		}
	} else if _, err := c.e.users.find("user", id); err != nil {
		return nil, "", nil, err
	}
	l, ok := lists[id]
	if !ok {
		l = newCollection[*assignment]()
		lists[id] = l
	}
	return p, id, l, nil
}

func listProjectAssignments(group bool) handler {
	return func(c *call) (any, *apiError) {
		_, _, l, err := c.projectAssignments(group)
		if err != nil {
			return nil, err
		}
		return listNext(c, l, 1000, 1000, false, func(a *assignment) assignedRoleBody {
			r, _ := c.e.roles.get(a.roleID)
			return c.e.assignedBody(r)
		})
	}
}

func assignProjectRole(group bool) handler {
	return func(c *call) (any, *apiError) {
		e := c.e
		p, id, l, err := c.projectAssignments(group)
		if err != nil {
			return nil, err
		}
		if p.archived() {
			return nil, invalid("project_id", "project %s is archived", p.id)
		}
		b, err := readBody(c.r, true)
		if err != nil {
			return nil, err
		}
		roleID, err := b.requiredStr("role_id")
		if err != nil {
			return nil, err
		}
		r, err := e.projectRole(p, roleID)
		if err != nil {
			return nil, err
		}
		principal := "user"
		if group {
			principal = "group"
			if _, ok := p.groups.get(id); !ok {
				return nil, invalid("group_id", "group %s has no access to project %s", id, p.id)
			}
		} else if _, ok := p.users.get(id); !ok {
			return nil, invalid("user_id", "user %s is not a member of project %s", id, p.id)
		}
		if _, dup := l.get(r.id); !dup {
			l.add(e.nextSeq(), r.id, &assignment{roleID: r.id, assignedAt: c.now})
			c.event(p.id, "role.assignment.created", "role_asg_"+id+"_"+r.id, members("principal_id", id, "principal_type", principal,
				"resource_id", p.id, "resource_type", resourceProject))
		}
		if group {
			g, _ := e.groups.get(id)
			return struct {
				Object string       `json:"object"`
				Group  groupRefBody `json:"group"`
				Role   roleBody     `json:"role"`
			}{"group.role", groupRefBody{Object: "group", ID: g.id, Name: g.name, CreatedAt: g.createdAt, ScimManaged: g.scim}, r.body()}, nil
		}
		u, _ := e.users.get(id)
		return struct {
			Object string   `json:"object"`
			User   userBody `json:"user"`
			Role   roleBody `json:"role"`
		}{"user.role", e.userBody(u), r.body()}, nil
	}
}

func (c *call) projectAssignment(group bool) (*project, string, *collection[*assignment], *role, *apiError) {
	p, id, l, err := c.projectAssignments(group)
	if err != nil {
		return nil, "", nil, nil, err
	}
	if _, err := l.find("role assignment", c.params[2]); err != nil {
		return nil, "", nil, nil, err
	}
	r, _ := c.e.roles.get(c.params[2])
	return p, id, l, r, nil
}

func getProjectAssignment(group bool) handler {
	return func(c *call) (any, *apiError) {
		_, _, _, r, err := c.projectAssignment(group)
		if err != nil {
			return nil, err
		}
		return c.e.assignedBody(r), nil
	}
}

func unassignProjectRole(group bool) handler {
	return func(c *call) (any, *apiError) {
		p, id, l, r, err := c.projectAssignment(group)
		if err != nil {
			return nil, err
		}
		if p.archived() {
			return nil, invalid("project_id", "project %s is archived", p.id)
		}
		l.remove(r.id)
		principal, object := "user", "user.role.deleted"
		if group {
			principal, object = "group", "group.role.deleted"
		}
		c.event(p.id, "role.assignment.deleted", "role_asg_"+id+"_"+r.id, members("principal_id", id, "principal_type", principal,
			"resource_id", p.id, "resource_type", resourceProject))
		return deletedFlagBody{Object: object, Deleted: true}, nil
	}
}
