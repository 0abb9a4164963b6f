package adminapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Snapshots of the store for tests and tools. They are copies: changing
// them changes nothing. Times are UTC; a zero time.Time means null.

// User is an organization user.
type User struct {
	ID, Name, Email string
	Role            string // owner | reader
	AddedAt         time.Time
}

// InviteProject is a project an invite grants, with the role in it (member | owner).
type InviteProject struct{ ID, Role string }

// Invite is an organization invite; Status is derived from the clock.
type Invite struct {
	ID, Email  string
	Role       string // owner | reader
	Status     string // InvitePending | InviteAccepted | InviteExpired
	CreatedAt  time.Time
	ExpiresAt  time.Time
	AcceptedAt time.Time
	Projects   []InviteProject
}

// Project is a project, archived or not.
type Project struct {
	ID, Name   string
	Status     string // active | archived
	CreatedAt  time.Time
	ArchivedAt time.Time
	Default    bool // the organization's default project
}

// ProjectUser is a project membership.
type ProjectUser struct {
	UserID, Name, Email string
	Role                string // owner | member
	AddedAt             time.Time
}

// ServiceAccount is a project service account.
type ServiceAccount struct {
	ID, Name  string
	Role      string // owner | member | none
	CreatedAt time.Time
}

// ProjectAPIKey is a project API key (never its value).
type ProjectAPIKey struct {
	ID, Name, RedactedValue string
	CreatedAt               time.Time
	LastUsedAt              time.Time
	OwnerType               string // "user" | "service_account"
	OwnerID                 string
	OwnerEmail              string // user owners only
	OwnerProjectAccess      string // active | inactive
}

// AdminAPIKey is an admin key (never its value).
type AdminAPIKey struct {
	ID, Name, RedactedValue string
	CreatedAt               time.Time
	ExpiresAt               time.Time
	LastUsedAt              time.Time
	OwnerID                 string
}

// Users returns the organization's users in listing order.
func (e *Emulator) Users() []User {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var out []User
	for u := range e.users.all() {
		out = append(out, User{ID: u.id, Name: u.name, Email: u.email, Role: u.role, AddedAt: fromUnix(u.addedAt)})
	}
	return out
}

// Invites returns every invite in listing order.
func (e *Emulator) Invites() []Invite {
	e.mu.RLock()
	defer e.mu.RUnlock()
	now := e.now()
	var out []Invite
	for in := range e.invites.all() {
		out = append(out, Invite{ID: in.id, Email: in.email, Role: in.role, Status: in.status(now),
			CreatedAt: fromUnix(in.createdAt), ExpiresAt: fromUnix(in.expiresAt), AcceptedAt: fromUnix(in.acceptedAt),
			Projects: append([]InviteProject(nil), in.projects...)})
	}
	return out
}

// Projects returns every project, archived ones included, in listing order.
func (e *Emulator) Projects() []Project {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var out []Project
	for p := range e.projects.all() {
		out = append(out, Project{ID: p.id, Name: p.name, Status: p.status(), CreatedAt: fromUnix(p.createdAt),
			ArchivedAt: fromUnix(p.archivedAt), Default: p.isDefault})
	}
	return out
}

// ProjectUsers returns a project's members in listing order (nil for an unknown project).
func (e *Emulator) ProjectUsers(projectID string) []ProjectUser {
	e.mu.RLock()
	defer e.mu.RUnlock()
	p, ok := e.projects.get(projectID)
	if !ok {
		return nil
	}
	var out []ProjectUser
	for pu := range p.users.all() {
		b := e.projectUserBody(pu)
		out = append(out, ProjectUser{UserID: b.ID, Name: b.Name, Email: b.Email, Role: b.Role, AddedAt: fromUnix(b.AddedAt)})
	}
	return out
}

// ServiceAccounts returns a project's service accounts (nil for an unknown project).
func (e *Emulator) ServiceAccounts(projectID string) []ServiceAccount {
	e.mu.RLock()
	defer e.mu.RUnlock()
	p, ok := e.projects.get(projectID)
	if !ok {
		return nil
	}
	var out []ServiceAccount
	for sa := range p.sas.all() {
		out = append(out, ServiceAccount{ID: sa.id, Name: sa.name, Role: sa.role, CreatedAt: fromUnix(sa.createdAt)})
	}
	return out
}

// ProjectAPIKeys returns every key of a project, whatever its owner's
// access (nil for an unknown project).
func (e *Emulator) ProjectAPIKeys(projectID string) []ProjectAPIKey {
	e.mu.RLock()
	defer e.mu.RUnlock()
	p, ok := e.projects.get(projectID)
	if !ok {
		return nil
	}
	var out []ProjectAPIKey
	for k := range p.keys.all() {
		b := e.projectKeyBody(p, k)
		sk := ProjectAPIKey{ID: k.id, Name: k.name, RedactedValue: b.RedactedValue, CreatedAt: fromUnix(k.createdAt),
			LastUsedAt: fromUnix(k.lastUsedAt), OwnerType: k.ownerType, OwnerID: k.ownerID, OwnerProjectAccess: b.OwnerProjectAccess}
		if b.Owner.User != nil {
			sk.OwnerEmail = b.Owner.User.Email
		}
		out = append(out, sk)
	}
	return out
}

// AdminAPIKeys returns the admin keys in creation order.
func (e *Emulator) AdminAPIKeys() []AdminAPIKey {
	e.mu.RLock()
	defer e.mu.RUnlock()
	var out []AdminAPIKey
	for k := range e.adminKeys.all() {
		out = append(out, AdminAPIKey{ID: k.id, Name: k.name, RedactedValue: redact(k.secret), CreatedAt: fromUnix(k.createdAt),
			ExpiresAt: fromUnix(k.expiresAt), LastUsedAt: fromUnix(k.lastUsedAt.Load()), OwnerID: k.owner.id})
	}
	return out
}

// AuditEventIDs returns every audit event id, newest first (the listing
// order), tenant-scoped events included.
func (e *Emulator) AuditEventIDs() []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.audit.IDs()
}

// AuditEventCount is the number of audit events, tenant-scoped ones included.
func (e *Emulator) AuditEventCount() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.audit.Len()
}

// IssuedSecrets returns every key value the emulator accepted or issued:
// options' admin keys, seeded keys and keys created through the API,
// deleted ones included. Tests scan logs for them.
func (e *Emulator) IssuedSecrets() []string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return append([]string(nil), e.issued...)
}

// Adders change the store directly, as if the state had always been there:
// they record no audit events and no requests. AcceptInvite is the
// exception: it is the invitee acting, and records what the API would.

// NewUser describes a user to add. Role defaults to reader, AddedAt to now,
// Name to the email's local part.
type NewUser struct {
	Name, Email, Role string
	AddedAt           time.Time
}

// AddUser adds an organization user and returns its id.
func (e *Emulator) AddUser(nu NewUser) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !strings.Contains(nu.Email, "@") {
		return "", fmt.Errorf("add user: email %q is not an address", nu.Email)
	}
	if _, dup := e.usersByEmail[strings.ToLower(nu.Email)]; dup {
		return "", fmt.Errorf("add user: %s is already a member", nu.Email)
	}
	if nu.Role == "" {
		nu.Role = "reader"
	}
	if nu.Role != "owner" && nu.Role != "reader" {
		return "", fmt.Errorf("add user: role %q is not owner or reader", nu.Role)
	}
	if nu.Name == "" {
		nu.Name, _, _ = strings.Cut(nu.Email, "@")
	}
	u := e.putUser(&user{id: e.ids.userID(), name: nu.Name, email: nu.Email, role: nu.Role, addedAt: e.at(nu.AddedAt)})
	return u.id, nil
}

func (e *Emulator) at(t time.Time) int64 {
	if t.IsZero() {
		return e.now()
	}
	return t.Unix()
}

// NewInvite describes an invite to add. Role defaults to reader, CreatedAt
// to now, ExpiresAt to CreatedAt plus the invite TTL. Projects nil means
// the default project as member (as the API does); an empty slice means none.
// A non-zero AcceptedAt makes it accepted (no user is created: use AddUser).
type NewInvite struct {
	Email, Role string
	Projects    []InviteProject
	CreatedAt   time.Time
	ExpiresAt   time.Time
	AcceptedAt  time.Time
}

// AddInvite adds an invite and returns its id.
func (e *Emulator) AddInvite(ni NewInvite) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !strings.Contains(ni.Email, "@") {
		return "", fmt.Errorf("add invite: email %q is not an address", ni.Email)
	}
	if ni.Role == "" {
		ni.Role = "reader"
	}
	if ni.Role != "owner" && ni.Role != "reader" {
		return "", fmt.Errorf("add invite: role %q is not owner or reader", ni.Role)
	}
	projects := ni.Projects
	if projects == nil && e.defaultProj != "" {
		projects = []InviteProject{{ID: e.defaultProj, Role: "member"}}
	}
	for _, p := range projects {
		if _, ok := e.projects.get(p.ID); !ok {
			return "", fmt.Errorf("add invite: no project %s", p.ID)
		}
		if p.Role != "member" && p.Role != "owner" {
			return "", fmt.Errorf("add invite: project role %q is not member or owner", p.Role)
		}
	}
	created := e.at(ni.CreatedAt)
	expires := unix(ni.ExpiresAt)
	if expires == 0 {
		expires = created + int64(e.inviteTTL/time.Second)
	}
	in := &invite{id: e.ids.inviteID(), email: ni.Email, role: ni.Role, createdAt: created, expiresAt: expires,
		acceptedAt: unix(ni.AcceptedAt), projects: append([]InviteProject{}, projects...)}
	e.invites.add(e.nextSeq(), in.id, in)
	return in.id, nil
}

// AcceptInvite accepts a pending invite as the invitee would: the user joins
// the organization and the invite's projects, and invite.accepted and
// user.added are recorded with the invitee as actor. It returns the user id.
func (e *Emulator) AcceptInvite(inviteID string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	in, ok := e.invites.get(inviteID)
	if !ok {
		return "", fmt.Errorf("accept invite: no invite %s", inviteID)
	}
	u, err := e.accept(in, e.now())
	if err != nil {
		return "", err
	}
	return u.id, nil
}

// NewProject describes a project to add. CreatedAt defaults to now; a
// non-zero ArchivedAt makes it archived.
type NewProject struct {
	Name       string
	CreatedAt  time.Time
	ArchivedAt time.Time
}

// AddProject adds a project (with the default rate limits) and returns its id.
func (e *Emulator) AddProject(np NewProject) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if np.Name == "" {
		return "", errors.New("add project: name is required")
	}
	p := newProject(e.ids.projectID(), np.Name, e.at(np.CreatedAt))
	p.archivedAt = unix(np.ArchivedAt)
	e.putProject(p)
	e.seedRateLimits(p)
	return p.id, nil
}

// AddProjectUser makes an organization user a member of a project (role owner | member).
func (e *Emulator) AddProjectUser(projectID, userID, role string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.projects.get(projectID)
	if !ok {
		return fmt.Errorf("add project user: no project %s", projectID)
	}
	if _, ok := e.users.get(userID); !ok {
		return fmt.Errorf("add project user: %s is not an organization user", userID)
	}
	if role != "owner" && role != "member" {
		return fmt.Errorf("add project user: role %q is not owner or member", role)
	}
	if _, dup := p.users.get(userID); dup {
		return fmt.Errorf("add project user: %s is already in %s", userID, projectID)
	}
	e.putProjectUser(p, &projectUser{userID: userID, role: role, addedAt: e.now()})
	return nil
}

// NewServiceAccount describes a service account. Role defaults to member.
type NewServiceAccount struct {
	Name      string
	Role      string // owner | member | none
	CreatedAt time.Time
}

// AddServiceAccount adds a service account without keys and returns its id.
func (e *Emulator) AddServiceAccount(projectID string, ns NewServiceAccount) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.projects.get(projectID)
	if !ok {
		return "", fmt.Errorf("add service account: no project %s", projectID)
	}
	if ns.Name == "" {
		return "", errors.New("add service account: name is required")
	}
	if ns.Role == "" {
		ns.Role = "member"
	}
	if ns.Role != "owner" && ns.Role != "member" && ns.Role != "none" {
		return "", fmt.Errorf("add service account: role %q is not owner, member or none", ns.Role)
	}
	sa := &serviceAccount{id: e.ids.saID(), name: ns.Name, role: ns.Role, createdAt: e.at(ns.CreatedAt)}
	p.sas.add(e.nextSeq(), sa.id, sa)
	return sa.id, nil
}

// NewProjectAPIKey describes a project key: set exactly one owner. A user
// owner must be an organization user but need not be in the project (its
// key then lists as inactive). CreatedAt defaults to now; a zero LastUsedAt
// means never used.
type NewProjectAPIKey struct {
	Name                  string
	OwnerUserID           string
	OwnerServiceAccountID string
	CreatedAt             time.Time
	LastUsedAt            time.Time
}

// AddProjectAPIKey adds a key and returns its id and value.
func (e *Emulator) AddProjectAPIKey(projectID string, nk NewProjectAPIKey) (id, secret string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.projects.get(projectID)
	if !ok {
		return "", "", fmt.Errorf("add project key: no project %s", projectID)
	}
	if (nk.OwnerUserID == "") == (nk.OwnerServiceAccountID == "") {
		return "", "", errors.New("add project key: set exactly one of OwnerUserID and OwnerServiceAccountID")
	}
	if nk.Name == "" {
		nk.Name = "Secret Key"
	}
	k := &projectKey{id: e.ids.keyID(), name: nk.Name, createdAt: e.at(nk.CreatedAt), lastUsedAt: unix(nk.LastUsedAt)}
	kind := credProject
	if nk.OwnerUserID != "" {
		u, ok := e.users.get(nk.OwnerUserID)
		if !ok {
			return "", "", fmt.Errorf("add project key: %s is not an organization user", nk.OwnerUserID)
		}
		k.secret = e.ids.secret(projectKeyPrefix)
		k.ownerType, k.ownerID, k.ownerName, k.ownerEmail, k.ownerCreatedAt, k.ownerRole = ownerUser, u.id, u.name, u.email, u.addedAt, "member"
		if pu, ok := p.users.get(u.id); ok {
			k.ownerRole = pu.role
		}
	} else {
		sa, ok := p.sas.get(nk.OwnerServiceAccountID)
		if !ok {
			return "", "", fmt.Errorf("add project key: no service account %s in %s", nk.OwnerServiceAccountID, projectID)
		}
		k.secret = e.ids.secret(saKeyPrefix)
		k.ownerType, k.ownerID, k.ownerName, k.ownerCreatedAt, k.ownerRole = ownerServiceAccount, sa.id, sa.name, sa.createdAt, sa.role
		kind = credServiceAccount
	}
	e.putProjectKey(p, k, kind)
	return k.id, k.secret, nil
}

// SetProjectAPIKeyLastUsed records use of a project key (zero: never used).
func (e *Emulator) SetProjectAPIKeyLastUsed(projectID, keyID string, at time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.projects.get(projectID)
	if !ok {
		return fmt.Errorf("set key last used: no project %s", projectID)
	}
	k, ok := p.keys.get(keyID)
	if !ok {
		return fmt.Errorf("set key last used: no key %s in %s", keyID, projectID)
	}
	k.lastUsedAt = unix(at)
	return nil
}

// NewAdminAPIKey describes an admin key. Value defaults to a fresh
// sk-admin-... value; CreatedAt to now; zero ExpiresAt means no expiry and
// zero LastUsedAt never used. The owner is the first organization owner.
type NewAdminAPIKey struct {
	Name       string
	Value      string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt time.Time
}

// AddAdminAPIKey adds an admin key, valid at once, and returns its id and value.
func (e *Emulator) AddAdminAPIKey(nk NewAdminAPIKey) (id, secret string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if nk.Value == "" {
		nk.Value = e.ids.secret(adminKeyPrefix)
	}
	if !strings.HasPrefix(nk.Value, adminKeyPrefix) {
		return "", "", errors.New("add admin key: value must start with " + adminKeyPrefix)
	}
	if _, dup := e.creds[nk.Value]; dup {
		return "", "", errors.New("add admin key: value already in use")
	}
	if nk.Name == "" {
		nk.Name = "Admin key"
	}
	k := e.addAdminKey(nk.Name, nk.Value, e.at(nk.CreatedAt), unix(nk.ExpiresAt), e.firstOwner())
	k.lastUsedAt.Store(unix(nk.LastUsedAt))
	return k.id, k.secret, nil
}

// AppendAuditEvent stores an audit event given as JSON, bytes kept exactly,
// unknown fields and types included. It needs id, type and an integer
// effective_at; an old effective_at places it among older events, which is
// how late-visible events are modelled.
func (e *Emulator) AppendAuditEvent(raw json.RawMessage) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, err := e.audit.AppendRaw(raw); err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	return nil
}
