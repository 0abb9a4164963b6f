package adminapi

import (
	"strconv"
	"strings"
)

// Groups, roles and role assignments (RBAC). These lists are the spec's
// "next" family: {object, data, has_more, next}, where next is the id of
// the page's last item when more follow and after takes it back.
//
// Every organization has the predefined roles (Owner and Reader for the
// organization; Owner, Member and Viewer for projects), which cannot be
// changed or deleted. /organization/roles lists the organization-level
// ones, predefined and custom. A user's role list holds the roles assigned
// to the user directly, not those held through a group (read the group's).
// Deleting a role removes its assignments; deleting a group removes its
// memberships, role assignments and project grants. Granting a group a
// project takes a project role id (a predefined one, or a custom role whose
// resource_type is api.project).

type role struct {
	id, name     string
	description  *string
	permissions  []string
	resourceType string // api.organization | api.project
	predefined   bool
	createdAt    int64
	updatedAt    int64
	createdBy    string // user id; "" for predefined roles
	projectID    string // custom project roles: the project they belong to
}

type group struct {
	id, name  string
	createdAt int64
	scim      bool
	users     *collection[*groupMember]
	roles     *collection[*assignment]
}

type groupMember struct {
	userID  string
	addedAt int64
}

// assignment is a role held by a user or group.
type assignment struct {
	roleID     string
	assignedAt int64
}

type projectGroup struct {
	groupID   string
	role      string
	createdAt int64
}

const (
	resourceOrg     = "api.organization"
	resourceProject = "api.project"
)

// predefinedRoles exist in every organization, with fixed ids.
var predefinedRoles = []role{
	{id: "role_org_owner", name: "Owner", resourceType: resourceOrg, predefined: true,
		permissions: []string{"api.organization.read", "api.organization.write", "api.groups.read", "api.groups.write", "api.roles.read", "api.roles.write", "api.billing.read", "api.billing.write"}},
	{id: "role_org_reader", name: "Reader", resourceType: resourceOrg, predefined: true,
		permissions: []string{"api.organization.read", "api.groups.read", "api.roles.read"}},
	{id: "role_project_owner", name: "Owner", resourceType: resourceProject, predefined: true,
		permissions: []string{"api.project.read", "api.project.write", "api.project.keys.write", "api.project.members.write"}},
	{id: "role_project_member", name: "Member", resourceType: resourceProject, predefined: true,
		permissions: []string{"api.project.read", "api.project.write"}},
	{id: "role_project_viewer", name: "Viewer", resourceType: resourceProject, predefined: true,
		permissions: []string{"api.project.read"}},
}

func (e *Emulator) addPredefinedRoles(at int64) {
	for _, r := range predefinedRoles {
		r := r
		r.permissions = append([]string{}, r.permissions...)
		r.createdAt, r.updatedAt = at, at
		e.roles.add(e.nextSeq(), r.id, &r)
	}
}

func newGroup(id, name string, at int64) *group {
	return &group{id: id, name: name, createdAt: at, users: newCollection[*groupMember](), roles: newCollection[*assignment]()}
}

// userRoles returns a user's direct role assignments, creating the list.
func (e *Emulator) userRoleList(userID string) *collection[*assignment] {
	l, ok := e.userRoles[userID]
	if !ok {
		l = newCollection[*assignment]()
		e.userRoles[userID] = l
	}
	return l
}

// Wire shapes.

type listNextBody[B any] struct {
	Object  string  `json:"object"`
	Data    []B     `json:"data"`
	HasMore bool    `json:"has_more"`
	Next    *string `json:"next"`
}

type roleBody struct {
	Object         string   `json:"object"`
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	Description    *string  `json:"description"`
	Permissions    []string `json:"permissions"`
	ResourceType   string   `json:"resource_type"`
	PredefinedRole bool     `json:"predefined_role"`
}

func (r *role) body() roleBody {
	return roleBody{Object: "role", ID: r.id, Name: r.name, Description: r.description, Permissions: append([]string{}, r.permissions...),
		ResourceType: r.resourceType, PredefinedRole: r.predefined}
}

type assignedRoleBody struct {
	ID                string            `json:"id"`
	Name              string            `json:"name"`
	Permissions       []string          `json:"permissions"`
	ResourceType      string            `json:"resource_type"`
	PredefinedRole    bool              `json:"predefined_role"`
	Description       *string           `json:"description"`
	CreatedAt         *int64            `json:"created_at"`
	UpdatedAt         *int64            `json:"updated_at"`
	CreatedBy         *string           `json:"created_by"`
	CreatedByUserObj  map[string]string `json:"created_by_user_obj"`
	Metadata          map[string]string `json:"metadata"`
	AssignmentSources []struct{}        `json:"assignment_sources"` // direct assignments: null
}

func (e *Emulator) assignedBody(r *role) assignedRoleBody {
	b := assignedRoleBody{ID: r.id, Name: r.name, Permissions: append([]string{}, r.permissions...), ResourceType: r.resourceType,
		PredefinedRole: r.predefined, Description: r.description, CreatedAt: nullable(r.createdAt), UpdatedAt: nullable(r.updatedAt),
		Metadata: map[string]string{}}
	if r.createdBy != "" {
		by := r.createdBy
		b.CreatedBy = &by
		if u, ok := e.users.get(by); ok {
			b.CreatedByUserObj = map[string]string{"id": u.id, "name": u.name, "email": u.email}
		}
	}
	return b
}

type groupBody struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	CreatedAt     int64  `json:"created_at"`
	IsScimManaged bool   `json:"is_scim_managed"`
	GroupType     string `json:"group_type,omitempty"`
}

func (g *group) body() groupBody {
	return groupBody{ID: g.id, Name: g.name, CreatedAt: g.createdAt, IsScimManaged: g.scim, GroupType: "group"}
}

type groupRefBody struct {
	Object      string `json:"object"`
	ID          string `json:"id"`
	Name        string `json:"name"`
	CreatedAt   int64  `json:"created_at"`
	ScimManaged bool   `json:"scim_managed"`
}

type groupUserBody struct {
	ID    string  `json:"id"`
	Name  string  `json:"name"`
	Email *string `json:"email"`
}

type groupMemberBody struct {
	ID               string  `json:"id"`
	Name             string  `json:"name"`
	Email            *string `json:"email"`
	Picture          *string `json:"picture"`
	IsServiceAccount *bool   `json:"is_service_account"`
	UserType         string  `json:"user_type"`
}

type projectGroupBody struct {
	Object    string `json:"object"`
	ProjectID string `json:"project_id"`
	GroupID   string `json:"group_id"`
	GroupName string `json:"group_name"`
	GroupType string `json:"group_type"`
	CreatedAt int64  `json:"created_at"`
}

type deletedFlagBody struct {
	Object  string `json:"object"`
	Deleted bool   `json:"deleted"`
}

// Paging.

// limitIn parses limit for these lists: min..max, default def; 0 means def.
func (q query) limitIn(def, min, max int) (int, *apiError) {
	if !q.has("limit") {
		return def, nil
	}
	n, err := strconv.Atoi(q.get("limit"))
	if err != nil || n < min || n > max {
		return 0, invalid("limit", "limit must be an integer between %d and %d", min, max)
	}
	if n == 0 {
		return def, nil
	}
	return n, nil
}

// orderOr parses order with a default other than asc.
func (q query) orderOr(defDesc bool) (bool, *apiError) {
	if q.get("order") == "" {
		return defDesc, nil
	}
	return q.order()
}

func listNext[T, B any](c *call, items *collection[T], def, max int, defDesc bool, body func(T) B) (any, *apiError) {
	limit, err := c.q.limitIn(def, 0, max)
	if err != nil {
		return nil, err
	}
	desc, err := c.q.orderOr(defDesc)
	if err != nil {
		return nil, err
	}
	after := c.q.get("after")
	page, more, perr := items.page(after, limit, desc, nil)
	if perr != nil {
		return nil, unknownCursor("after", after)
	}
	b := listNextBody[B]{Object: "list", Data: make([]B, len(page)), HasMore: more}
	for i, e := range page {
		b.Data[i] = body(e.v)
	}
	if more && len(page) > 0 {
		b.Next = &page[len(page)-1].id
	}
	return b, nil
}

// Roles.

func orgRoles(r *role) bool { return r.resourceType == resourceOrg }

func listRoles(c *call) (any, *apiError) {
	limit, err := c.q.limitIn(1000, 0, 1000)
	if err != nil {
		return nil, err
	}
	desc, err := c.q.order()
	if err != nil {
		return nil, err
	}
	after := c.q.get("after")
	page, more, perr := c.e.roles.page(after, limit, desc, orgRoles)
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

// orgRole is an organization-level role: project roles are not found here.
func (e *Emulator) orgRole(id string) (*role, *apiError) {
	r, ok := e.roles.get(id)
	if !ok || r.resourceType != resourceOrg {
		return nil, notFound("role", id)
	}
	return r, nil
}

func getRole(c *call) (any, *apiError) {
	r, err := c.e.orgRole(c.params[0])
	if err != nil {
		return nil, err
	}
	return r.body(), nil
}

func (e *Emulator) roleNameTaken(name, resourceType, projectID, except string) bool {
	for r := range e.roles.all() {
		if r.id != except && r.resourceType == resourceType && (r.projectID == "" || r.projectID == projectID) && strings.EqualFold(r.name, name) {
			return true
		}
	}
	return false
}

func createRole(c *call) (any, *apiError) { return c.createRoleIn(resourceOrg, "") }

// createRoleIn creates a custom role of the organization (projectID "") or of a project.
func (c *call) createRoleIn(resourceType, projectID string) (any, *apiError) {
	e := c.e
	b, err := readBody(c.r, true)
	if err != nil {
		return nil, err
	}
	name, err := b.requiredStr("role_name")
	if err != nil {
		return nil, err
	}
	perms, has, err := b.strings("permissions")
	if err != nil {
		return nil, err
	}
	if !has {
		return nil, invalid("permissions", "'permissions' is required")
	}
	desc, hasDesc, err := b.str("description")
	if err != nil {
		return nil, err
	}
	if e.roleNameTaken(name, resourceType, projectID, "") {
		return nil, invalid("role_name", "a role named '%s' already exists", name)
	}
	r := &role{id: e.ids.roleID(), name: name, permissions: append([]string{}, perms...), resourceType: resourceType,
		createdAt: c.now, updatedAt: c.now, createdBy: c.key.owner.id, projectID: projectID}
	if hasDesc {
		r.description = &desc
	}
	e.roles.add(e.nextSeq(), r.id, r)
	resource := "org"
	if projectID != "" {
		resource = projectID
	}
	c.event(projectID, "role.created", r.id, members("role_name", name, "permissions", r.permissions, "resource_type", resourceType, "resource_id", resource))
	return r.body(), nil
}

func updateRole(c *call) (any, *apiError) {
	r, err := c.e.orgRole(c.params[0])
	if err != nil {
		return nil, err
	}
	return c.updateRoleOf(r)
}

func (c *call) updateRoleOf(r *role) (any, *apiError) {
	e := c.e
	b, err := readBody(c.r, true)
	if err != nil {
		return nil, err
	}
	name, hasName, err := b.str("role_name")
	if err != nil {
		return nil, err
	}
	perms, hasPerms, err := b.strings("permissions")
	if err != nil {
		return nil, err
	}
	desc, hasDesc, err := b.str("description")
	if err != nil {
		return nil, err
	}
	if r.predefined {
		return nil, invalid("role_id", "predefined role %s cannot be changed", r.id)
	}
	if hasName && (name == "" || e.roleNameTaken(name, r.resourceType, r.projectID, r.id)) {
		return nil, invalid("role_name", "'role_name' must be a new, non-empty name")
	}
	changes := obj{}
	if hasName && name != r.name {
		r.name = name
		changes = append(changes, "role_name", name)
	}
	if hasPerms {
		var added, removed []string
		for _, p := range perms {
			if !contains(r.permissions, p) {
				added = append(added, p)
			}
		}
		for _, p := range r.permissions {
			if !contains(perms, p) {
				removed = append(removed, p)
			}
		}
		if len(added)+len(removed) > 0 {
			changes = append(changes, "permissions_added", nonNil(added), "permissions_removed", nonNil(removed))
		}
		r.permissions = append([]string{}, perms...)
	}
	if hasDesc && (r.description == nil || *r.description != desc) {
		r.description = &desc
		changes = append(changes, "description", desc)
	}
	if len(changes) > 0 {
		r.updatedAt = c.now
		c.event(r.projectID, "role.updated", r.id, members("changes_requested", changes))
	}
	return r.body(), nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func deleteRole(c *call) (any, *apiError) {
	r, err := c.e.orgRole(c.params[0])
	if err != nil {
		return nil, err
	}
	return c.deleteRoleOf(r)
}

func (c *call) deleteRoleOf(r *role) (any, *apiError) {
	e := c.e
	if r.predefined {
		return nil, invalid("role_id", "predefined role %s cannot be deleted", r.id)
	}
	e.roles.remove(r.id)
	for _, l := range e.userRoles {
		l.remove(r.id)
	}
	for g := range e.groups.all() {
		g.roles.remove(r.id)
	}
	for p := range e.projects.all() {
		for _, l := range p.userRoles {
			l.remove(r.id)
		}
		for _, l := range p.groupRoles {
			l.remove(r.id)
		}
	}
	c.event(r.projectID, "role.deleted", r.id, "")
	return struct {
		Object  string `json:"object"`
		ID      string `json:"id"`
		Deleted bool   `json:"deleted"`
	}{"role.deleted", r.id, true}, nil
}

// assignable is an organization role that users and groups can be given.
func (e *Emulator) assignable(b jsonBody) (*role, *apiError) {
	id, err := b.requiredStr("role_id")
	if err != nil {
		return nil, err
	}
	r, ok := e.roles.get(id)
	if !ok {
		return nil, notFound("role", id)
	}
	if r.resourceType != resourceOrg {
		return nil, invalid("role_id", "role %s is a project role; assign it in the project", id)
	}
	return r, nil
}

func (c *call) assignmentEvent(typ, principal, principalType, roleID string) {
	c.event("", typ, "role_asg_"+principal+"_"+roleID, members("principal_id", principal, "principal_type", principalType,
		"resource_id", roleID, "resource_type", resourceOrg))
}

// User role assignments.

func (c *call) orgUser() (*user, *apiError) { return c.e.users.find("user", c.params[0]) }

func listUserRoles(c *call) (any, *apiError) {
	u, err := c.orgUser()
	if err != nil {
		return nil, err
	}
	l, ok := c.e.userRoles[u.id]
	if !ok {
		l = newCollection[*assignment]()
	}
	return listNext(c, l, 1000, 1000, false, func(a *assignment) assignedRoleBody {
		r, _ := c.e.roles.get(a.roleID)
		return c.e.assignedBody(r)
	})
}

func assignUserRole(c *call) (any, *apiError) {
	e := c.e
	u, err := c.orgUser()
	if err != nil {
		return nil, err
	}
	b, err := readBody(c.r, true)
	if err != nil {
		return nil, err
	}
	r, err := e.assignable(b)
	if err != nil {
		return nil, err
	}
	l := e.userRoleList(u.id)
	if _, dup := l.get(r.id); !dup {
		l.add(e.nextSeq(), r.id, &assignment{roleID: r.id, assignedAt: c.now})
		c.assignmentEvent("role.assignment.created", u.id, "user", r.id)
	}
	return struct {
		Object string   `json:"object"`
		User   userBody `json:"user"`
		Role   roleBody `json:"role"`
	}{"user.role", e.userBody(u), r.body()}, nil
}

func (c *call) userRole() (*user, *role, *apiError) {
	u, err := c.orgUser()
	if err != nil {
		return nil, nil, err
	}
	l, ok := c.e.userRoles[u.id]
	if !ok {
		return nil, nil, notFound("role assignment", c.params[1])
	}
	if _, err := l.find("role assignment", c.params[1]); err != nil {
		return nil, nil, err
	}
	r, _ := c.e.roles.get(c.params[1])
	return u, r, nil
}

func getUserRole(c *call) (any, *apiError) {
	_, r, err := c.userRole()
	if err != nil {
		return nil, err
	}
	return c.e.assignedBody(r), nil
}

func unassignUserRole(c *call) (any, *apiError) {
	u, r, err := c.userRole()
	if err != nil {
		return nil, err
	}
	c.e.userRoles[u.id].remove(r.id)
	c.assignmentEvent("role.assignment.deleted", u.id, "user", r.id)
	return deletedFlagBody{Object: "user.role.deleted", Deleted: true}, nil
}

// Groups.

func (e *Emulator) findGroup(id string) (*group, *apiError) { return e.groups.find("group", id) }

func listGroups(c *call) (any, *apiError) {
	return listNext(c, c.e.groups, 100, 1000, false, (*group).body)
}

func groupName(b jsonBody) (string, *apiError) {
	name, err := b.requiredStr("name")
	if err != nil {
		return "", err
	}
	if len(name) > 255 {
		return "", invalid("name", "'name' must be at most 255 characters")
	}
	return name, nil
}

func createGroup(c *call) (any, *apiError) {
	e := c.e
	b, err := readBody(c.r, true)
	if err != nil {
		return nil, err
	}
	name, err := groupName(b)
	if err != nil {
		return nil, err
	}
	g := newGroup(e.ids.groupID(), name, c.now)
	e.groups.add(e.nextSeq(), g.id, g)
	c.event("", "group.created", g.id, members("data", obj{"group_name", name}))
	return g.body(), nil
}

func getGroup(c *call) (any, *apiError) {
	g, err := c.e.findGroup(c.params[0])
	if err != nil {
		return nil, err
	}
	return g.body(), nil
}

func updateGroup(c *call) (any, *apiError) {
	g, err := c.e.findGroup(c.params[0])
	if err != nil {
		return nil, err
	}
	b, err := readBody(c.r, true)
	if err != nil {
		return nil, err
	}
	name, err := groupName(b)
	if err != nil {
		return nil, err
	}
	if name != g.name {
		g.name = name
		c.event("", "group.updated", g.id, members("changes_requested", obj{"group_name", name}))
	}
	body := g.body()
	body.GroupType = "" // GroupResourceWithSuccess has no group_type
	return body, nil
}

func deleteGroup(c *call) (any, *apiError) {
	e := c.e
	g, err := e.findGroup(c.params[0])
	if err != nil {
		return nil, err
	}
	e.groups.remove(g.id)
	for p := range e.projects.all() {
		p.groups.remove(g.id)
		delete(p.groupRoles, g.id)
	}
	c.event("", "group.deleted", g.id, "")
	return deletedBody{Object: "group.deleted", ID: g.id, Deleted: true}, nil
}

func (e *Emulator) groupUserBody(m *groupMember) groupUserBody {
	b := groupUserBody{ID: m.userID}
	if u, ok := e.users.get(m.userID); ok {
		b.Name, b.Email = u.name, &u.email
	}
	return b
}

func listGroupUsers(c *call) (any, *apiError) {
	g, err := c.e.findGroup(c.params[0])
	if err != nil {
		return nil, err
	}
	return listNext(c, g.users, 100, 1000, true, c.e.groupUserBody)
}

func addGroupUser(c *call) (any, *apiError) {
	e := c.e
	g, err := e.findGroup(c.params[0])
	if err != nil {
		return nil, err
	}
	b, err := readBody(c.r, true)
	if err != nil {
		return nil, err
	}
	id, err := b.requiredStr("user_id")
	if err != nil {
		return nil, err
	}
	if _, ok := e.users.get(id); !ok {
		return nil, invalid("user_id", "users must be members of the organization before they can join a group")
	}
	if _, dup := g.users.get(id); !dup {
		g.users.add(e.nextSeq(), id, &groupMember{userID: id, addedAt: c.now})
	}
	return struct {
		Object  string `json:"object"`
		UserID  string `json:"user_id"`
		GroupID string `json:"group_id"`
	}{"group.user", id, g.id}, nil
}

func (c *call) groupMember() (*group, *groupMember, *apiError) {
	g, err := c.e.findGroup(c.params[0])
	if err != nil {
		return nil, nil, err
	}
	m, err := g.users.find("group user", c.params[1])
	return g, m, err
}

func getGroupUser(c *call) (any, *apiError) {
	_, m, err := c.groupMember()
	if err != nil {
		return nil, err
	}
	u := c.e.groupUserBody(m)
	no := false
	return groupMemberBody{ID: u.ID, Name: u.Name, Email: u.Email, IsServiceAccount: &no, UserType: "user"}, nil
}

func removeGroupUser(c *call) (any, *apiError) {
	g, m, err := c.groupMember()
	if err != nil {
		return nil, err
	}
	g.users.remove(m.userID)
	return deletedFlagBody{Object: "group.user.deleted", Deleted: true}, nil
}

// Group role assignments.

func listGroupRoles(c *call) (any, *apiError) {
	g, err := c.e.findGroup(c.params[0])
	if err != nil {
		return nil, err
	}
	return listNext(c, g.roles, 1000, 1000, false, func(a *assignment) assignedRoleBody {
		r, _ := c.e.roles.get(a.roleID)
		return c.e.assignedBody(r)
	})
}

func assignGroupRole(c *call) (any, *apiError) {
	e := c.e
	g, err := e.findGroup(c.params[0])
	if err != nil {
		return nil, err
	}
	b, err := readBody(c.r, true)
	if err != nil {
		return nil, err
	}
	r, err := e.assignable(b)
	if err != nil {
		return nil, err
	}
	if _, dup := g.roles.get(r.id); !dup {
		g.roles.add(e.nextSeq(), r.id, &assignment{roleID: r.id, assignedAt: c.now})
		c.assignmentEvent("role.assignment.created", g.id, "group", r.id)
	}
	return struct {
		Object string       `json:"object"`
		Group  groupRefBody `json:"group"`
		Role   roleBody     `json:"role"`
	}{"group.role", groupRefBody{Object: "group", ID: g.id, Name: g.name, CreatedAt: g.createdAt, ScimManaged: g.scim}, r.body()}, nil
}

func (c *call) groupRole() (*group, *role, *apiError) {
	g, err := c.e.findGroup(c.params[0])
	if err != nil {
		return nil, nil, err
	}
	if _, err := g.roles.find("role assignment", c.params[1]); err != nil {
		return nil, nil, err
	}
	r, _ := c.e.roles.get(c.params[1])
	return g, r, nil
}

func getGroupRole(c *call) (any, *apiError) {
	_, r, err := c.groupRole()
	if err != nil {
		return nil, err
	}
	return c.e.assignedBody(r), nil
}

func unassignGroupRole(c *call) (any, *apiError) {
	g, r, err := c.groupRole()
	if err != nil {
		return nil, err
	}
	g.roles.remove(r.id)
	c.assignmentEvent("role.assignment.deleted", g.id, "group", r.id)
	return deletedFlagBody{Object: "group.role.deleted", Deleted: true}, nil
}

// Project groups.

func (e *Emulator) projectGroupBody(p *project, pg *projectGroup) projectGroupBody {
	b := projectGroupBody{Object: "project.group", ProjectID: p.id, GroupID: pg.groupID, GroupType: "group", CreatedAt: pg.createdAt}
	if g, ok := e.groups.get(pg.groupID); ok {
		b.GroupName = g.name
	}
	return b
}

func listProjectGroups(c *call) (any, *apiError) {
	p, err := c.e.project(c.params[0])
	if err != nil {
		return nil, err
	}
	return listNext(c, p.groups, 20, 100, false, func(pg *projectGroup) projectGroupBody { return c.e.projectGroupBody(p, pg) })
}

func addProjectGroup(c *call) (any, *apiError) {
	e := c.e
	p, err := e.activeProject(c.params[0])
	if err != nil {
		return nil, err
	}
	b, err := readBody(c.r, true)
	if err != nil {
		return nil, err
	}
	gid, err := b.requiredStr("group_id")
	if err != nil {
		return nil, err
	}
	roleID, err := b.requiredStr("role")
	if err != nil {
		return nil, err
	}
	if _, err := e.findGroup(gid); err != nil {
		return nil, err
	}
	if _, err := e.projectRole(p, roleID); err != nil {
		return nil, invalid("role", "'role' must be the id of a project role")
	}
	if _, dup := p.groups.get(gid); dup {
		return nil, invalid("group_id", "group %s already has access to project %s", gid, p.id)
	}
	pg := &projectGroup{groupID: gid, role: roleID, createdAt: c.now}
	p.groups.add(e.nextSeq(), gid, pg)
	c.event(p.id, "role.assignment.created", "role_asg_"+gid+"_"+roleID, members("principal_id", gid, "principal_type", "group",
		"resource_id", p.id, "resource_type", resourceProject))
	return e.projectGroupBody(p, pg), nil
}

func (c *call) projectGroup() (*project, *projectGroup, *apiError) {
	p, err := c.e.project(c.params[0])
	if err != nil {
		return nil, nil, err
	}
	pg, err := p.groups.find("project group", c.params[1])
	return p, pg, err
}

func getProjectGroup(c *call) (any, *apiError) {
	if t := c.q.get("group_type"); t != "" {
		if err := oneOf("group_type", t, "group", "tenant_group"); err != nil {
			return nil, err
		}
		if t == "tenant_group" {
			return nil, notFound("project group", c.params[1])
		}
	}
	p, pg, err := c.projectGroup()
	if err != nil {
		return nil, err
	}
	return c.e.projectGroupBody(p, pg), nil
}

func removeProjectGroup(c *call) (any, *apiError) {
	p, pg, err := c.projectGroup()
	if err != nil {
		return nil, err
	}
	if p.archived() {
		return nil, invalid("project_id", "project %s is archived", p.id)
	}
	p.groups.remove(pg.groupID)
	c.event(p.id, "role.assignment.deleted", "role_asg_"+pg.groupID+"_"+pg.role, members("principal_id", pg.groupID, "principal_type", "group",
		"resource_id", p.id, "resource_type", resourceProject))
	return deletedFlagBody{Object: "project.group.deleted", Deleted: true}, nil
}
