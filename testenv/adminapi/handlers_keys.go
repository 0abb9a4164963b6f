package adminapi

func listServiceAccounts(c *call) (any, *apiError) {
	p, err := c.e.activeProject(c.params[0])
	if err != nil {
		return nil, err
	}
	limit, err := c.q.limit(20, 1)
	if err != nil {
		return nil, err
	}
	return listPage(c, p.sas, limit, false, nil, (*serviceAccount).body)
}

// serviceAccount resolves the path's project (params[0], which must be
// active) and its service account (params[1]).
func (c *call) serviceAccount() (*project, *serviceAccount, *apiError) {
	p, err := c.e.activeProject(c.params[0])
	if err != nil {
		return nil, nil, err
	}
	sa, err := p.sas.find("service account", c.params[1])
	return p, sa, err
}

func getServiceAccount(c *call) (any, *apiError) {
	_, sa, err := c.serviceAccount()
	if err != nil {
		return nil, err
	}
	return sa.body(), nil
}

func createServiceAccount(c *call) (any, *apiError) {
	e := c.e
	p, err := e.activeProject(c.params[0])
	if err != nil {
		return nil, err
	}
	b, err := readBody(c.r, true)
	if err != nil {
		return nil, err
	}
	name, err := b.requiredStr("name")
	if err != nil {
		return nil, err
	}
	only, _, err := b.boolean("create_service_account_only")
	if err != nil {
		return nil, err
	}
	sa := &serviceAccount{id: e.ids.saID(), name: name, role: "member", createdAt: c.now}
	if only {
		sa.role = "none"
	}
	p.sas.add(e.nextSeq(), sa.id, sa)
	c.event(p.id, "service_account.created", sa.id, members("data", obj{"role", sa.role}))
	out := serviceAccountCreateBody{serviceAccountBody: sa.body()}
	if !only {
		k := e.newServiceAccountKey(p, sa, "Secret Key", c.now)
		c.event(p.id, "api_key.created", k.id, members("data", obj{"scopes", []string{}}))
		out.APIKey = k.saKeyBody()
	}
	return out, nil
}

func (e *Emulator) newServiceAccountKey(p *project, sa *serviceAccount, name string, now int64) *projectKey {
	k := &projectKey{id: e.ids.keyID(), name: name, secret: e.ids.secret(saKeyPrefix), createdAt: now,
		ownerType: ownerServiceAccount, ownerID: sa.id, ownerName: sa.name, ownerCreatedAt: sa.createdAt, ownerRole: sa.role}
	e.putProjectKey(p, k, credServiceAccount)
	return k
}

func (e *Emulator) putProjectKey(p *project, k *projectKey, kind credKind) {
	p.keys.add(e.nextSeq(), k.id, k)
	e.creds[k.secret] = credential{kind: kind, keyID: k.id, projectID: p.id}
	e.issued = append(e.issued, k.secret)
}

func updateServiceAccount(c *call) (any, *apiError) {
	p, sa, err := c.serviceAccount()
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
	role, hasRole, err := b.str("role")
	if err != nil {
		return nil, err
	}
	if hasRole {
		if err := oneOf("role", role, "member", "owner"); err != nil {
			return nil, err
		}
	}
	if hasName && name == "" {
		return nil, invalid("name", "'name' cannot be empty")
	}
	changes := obj{}
	if hasName && name != sa.name {
		sa.name = name
		changes = append(changes, "name", name)
	}
	if hasRole && role != sa.role {
		sa.role = role
		changes = append(changes, "role", role)
	}
	if len(changes) > 0 {
		c.event(p.id, "service_account.updated", sa.id, members("changes_requested", changes))
	}
	return sa.body(), nil
}

// deleteServiceAccount deletes the account and its keys, whose values stop working.
func deleteServiceAccount(c *call) (any, *apiError) {
	e := c.e
	p, sa, err := c.serviceAccount()
	if err != nil {
		return nil, err
	}
	for _, k := range p.keys.values() {
		if k.ownerType == ownerServiceAccount && k.ownerID == sa.id {
			e.dropProjectKey(p, k)
		}
	}
	p.sas.remove(sa.id)
	c.event(p.id, "service_account.deleted", sa.id, "")
	return deletedBody{Object: "organization.project.service_account.deleted", ID: sa.id, Deleted: true}, nil
}

func (e *Emulator) dropProjectKey(p *project, k *projectKey) {
	p.keys.remove(k.id)
	delete(e.creds, k.secret)
}

func createServiceAccountKey(c *call) (any, *apiError) {
	e := c.e
	p, sa, err := c.serviceAccount()
	if err != nil {
		return nil, err
	}
	b, err := readBody(c.r, false)
	if err != nil {
		return nil, err
	}
	name, hasName, err := b.str("name")
	if err != nil {
		return nil, err
	}
	scopes, _, err := b.strings("scopes")
	if err != nil {
		return nil, err
	}
	if !hasName || name == "" {
		name = "Secret Key"
	}
	if scopes == nil {
		scopes = []string{}
	}
	k := e.newServiceAccountKey(p, sa, name, c.now)
	c.event(p.id, "api_key.created", k.id, members("data", obj{"scopes", scopes}))
	return k.saKeyBody(), nil
}

// access says whether a key's owner can use the project now: a user must
// still be in the organization and the project; a service account must have
// a role in it. Nobody has access to an archived project.
func (e *Emulator) access(p *project, k *projectKey) string {
	if p.archived() {
		return "inactive"
	}
	switch k.ownerType {
	case ownerUser:
		if _, ok := e.users.get(k.ownerID); !ok {
			return "inactive"
		}
		if _, ok := p.users.get(k.ownerID); !ok {
			return "inactive"
		}
	case ownerServiceAccount:
		sa, ok := p.sas.get(k.ownerID)
		if !ok || sa.role == "none" {
			return "inactive"
		}
	}
	return "active"
}

func (e *Emulator) projectKeyBody(p *project, k *projectKey) projectKeyBody {
	b := projectKeyBody{Object: "organization.project.api_key", RedactedValue: redact(k.secret), Name: k.name,
		CreatedAt: k.createdAt, LastUsedAt: lastUsed(k.lastUsedAt, k.shape.OmitLastUsedAt), ID: k.id, OwnerProjectAccess: e.access(p, k),
		Owner: keyOwnerBody{Type: k.ownerType}}
	switch k.ownerType {
	case ownerUser:
		o := keyOwnerUserBody{ID: k.ownerID, Email: k.ownerEmail, Name: k.ownerName, CreatedAt: k.ownerCreatedAt, Role: k.ownerRole}
		if u, ok := e.users.get(k.ownerID); ok {
			o.Email, o.Name, o.CreatedAt = u.email, u.name, u.addedAt
		}
		if pu, ok := p.users.get(k.ownerID); ok {
			o.Role = pu.role
		}
		b.Owner.User = &o
	case ownerServiceAccount:
		o := keyOwnerSABody{ID: k.ownerID, Name: k.ownerName, CreatedAt: k.ownerCreatedAt, Role: k.ownerRole}
		if sa, ok := p.sas.get(k.ownerID); ok {
			o.Name, o.Role = sa.name, sa.role
		}
		b.Owner.ServiceAccount = &o
	}
	k.shape.project(&b)
	return b
}

func listProjectKeys(c *call) (any, *apiError) {
	e := c.e
	p, err := e.project(c.params[0])
	if err != nil {
		return nil, err
	}
	limit, err := c.q.limit(20, 1)
	if err != nil {
		return nil, err
	}
	// Without owner_project_access the API "applies its existing
	// membership-based visibility rules, which may exclude some enabled
	// keys": here, keys whose owner has no access are hidden.
	want := c.q.get("owner_project_access")
	switch want {
	case "":
		want = "active"
	case "active", "inactive", "any":
	default:
		return nil, invalid("owner_project_access", "owner_project_access must be active, inactive or any")
	}
	keep := func(k *projectKey) bool { return want == "any" || e.access(p, k) == want }
	return listPage(c, p.keys, limit, false, keep, func(k *projectKey) projectKeyBody { return e.projectKeyBody(p, k) })
}

func (e *Emulator) projectKey(p *project, id string) (*projectKey, *apiError) {
	return p.keys.find("API key", id)
}

func getProjectKey(c *call) (any, *apiError) {
	p, err := c.e.project(c.params[0])
	if err != nil {
		return nil, err
	}
	k, err := c.e.projectKey(p, c.params[1])
	if err != nil {
		return nil, err
	}
	return c.e.projectKeyBody(p, k), nil
}

func deleteProjectKey(c *call) (any, *apiError) {
	e := c.e
	p, err := e.activeProject(c.params[0])
	if err != nil {
		return nil, err
	}
	k, err := e.projectKey(p, c.params[1])
	if err != nil {
		return nil, err
	}
	if k.ownerType == ownerServiceAccount {
		return nil, invalid("api_key_id", "key %s belongs to a service account; delete the service account instead", k.id)
	}
	e.dropProjectKey(p, k)
	c.event(p.id, "api_key.deleted", k.id, "")
	return deletedBody{Object: "organization.project.api_key.deleted", ID: k.id, Deleted: true}, nil
}

// Admin API keys: list family A' (after = id of the last item; order by creation).

func listAdminKeys(c *call) (any, *apiError) {
	limit, err := c.q.limit(20, 1)
	if err != nil {
		return nil, err
	}
	desc, err := c.q.order()
	if err != nil {
		return nil, err
	}
	return listPage(c, c.e.adminKeys, limit, desc, nil, (*adminKey).body)
}

func (e *Emulator) adminKey(id string) (*adminKey, *apiError) {
	return e.adminKeys.find("admin API key", id)
}

func getAdminKey(c *call) (any, *apiError) {
	k, err := c.e.adminKey(c.params[0])
	if err != nil {
		return nil, err
	}
	return k.body(), nil
}

const maxAdminKeyLifetime = 31536000

// createAdminKey issues a key that works as a bearer credential at once.
func createAdminKey(c *call) (any, *apiError) {
	e := c.e
	b, err := readBody(c.r, true)
	if err != nil {
		return nil, err
	}
	name, err := b.requiredStr("name")
	if err != nil {
		return nil, err
	}
	ttl, hasTTL, err := b.integer("expires_in_seconds")
	if err != nil {
		return nil, err
	}
	var expires int64
	if hasTTL {
		if ttl < 1 || ttl > maxAdminKeyLifetime {
			return nil, invalid("expires_in_seconds", "expires_in_seconds must be between 1 and %d", maxAdminKeyLifetime)
		}
		expires = c.now + ttl
	}
	owner := c.key.owner
	if u, ok := e.users.get(owner.id); ok {
		owner = adminKeyOwner{id: u.id, name: u.name, email: u.email, createdAt: u.addedAt}
	}
	k := e.addAdminKey(name, e.ids.secret(adminKeyPrefix), c.now, expires, owner)
	c.event("", "api_key.created", k.id, members("data", obj{"scopes", []string{}}))
	return adminKeyCreateBody{adminKeyBody: k.body(), Value: k.secret}, nil
}

// deleteAdminKey revokes a key at once, including the one making the call.
func deleteAdminKey(c *call) (any, *apiError) {
	e := c.e
	k, err := e.adminKey(c.params[0])
	if err != nil {
		return nil, err
	}
	e.adminKeys.remove(k.id)
	delete(e.creds, k.secret)
	c.event("", "api_key.deleted", k.id, "")
	return deletedBody{Object: "organization.admin_api_key.deleted", ID: k.id, Deleted: true}, nil
}
