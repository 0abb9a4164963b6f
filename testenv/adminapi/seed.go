package adminapi

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/orgwarden/orgwarden/testenv/adminapi/internal/auditlog"
)

// Seed describes generated organization data. The same Seed (Value
// included) gives the same ids, names, key values and events; timestamps
// are relative to the emulator's clock at New.
type Seed struct {
	Value uint64 // generator seed

	Users  int // organization users, owners included (at least 1)
	Owners int // of Users, organization owners (at least 1)

	Projects         int // including the default project (at least 1)
	ArchivedProjects int // of Projects, archived (never the default project)

	MembersPerProject         int // users picked into each project (one of them project owner)
	ServiceAccountsPerProject int
	// KeysPerProject is the number of project API keys in each project: a mix
	// of service-account keys and user keys, some of users who left the
	// project or the organization, with ages and last use from fresh to
	// never used and stale.
	KeysPerProject int
	Invites        int // pending, expired and accepted, of varied ages
	AdminKeys      int // extra admin keys (stale, never used), besides Options.AdminKeys

	AuditEvents int           // spread over AuditSpan before now
	AuditSpan   time.Duration // default 28 days

	// WideUserProjects makes WideUserEmail a member, with one key, of this
	// many projects (the first ones, default project included), for
	// benchmarks of offboarding someone who is everywhere.
	WideUserProjects int
}

// WideUserEmail is the user Seed.WideUserProjects spreads over projects.
const WideUserEmail = "wide.user@example.com"

// SmallSeed is the demo organization: tens of users (2 owners), a handful
// of projects, keys of every age, invites in every state, a few thousand
// audit events over four weeks.
func SmallSeed(value uint64) Seed {
	return Seed{Value: value, Users: 40, Owners: 2, Projects: 6, ArchivedProjects: 1, MembersPerProject: 8,
		ServiceAccountsPerProject: 2, KeysPerProject: 8, Invites: 14, AdminKeys: 2, AuditEvents: 3000,
		AuditSpan: 28 * 24 * time.Hour}
}

// LargeSeed is the benchmark organization: 10,000 users, 500 projects with
// 20 keys each, 1,000,000 audit events.
func LargeSeed(value uint64) Seed {
	return Seed{Value: value, Users: 10000, Owners: 5, Projects: 500, ArchivedProjects: 20, MembersPerProject: 20,
		ServiceAccountsPerProject: 2, KeysPerProject: 20, Invites: 500, AdminKeys: 3, AuditEvents: 1_000_000,
		AuditSpan: 90 * 24 * time.Hour}
}

// NamedSeed returns the seed called name ("small" or "large"), for command-line flags.
func NamedSeed(name string, value uint64) (Seed, error) {
	switch name {
	case "small":
		return SmallSeed(value), nil
	case "large":
		return LargeSeed(value), nil
	}
	return Seed{}, fmt.Errorf("unknown seed %q (want small or large)", name)
}

const day = int64(24 * 60 * 60)

type seeder struct {
	e   *Emulator
	s   Seed
	rng *rand.Rand
	ids *idSource
	now int64

	users    []*user
	projects []*project
	departed []*user // left the organization; their keys stay behind
	keyIDs   []string
	saIDs    []string
}

func (e *Emulator) seed(s Seed) error {
	if s.Users < 1 || s.Owners < 1 || s.Owners > s.Users {
		return errors.New("need at least one user and 1..Users owners")
	}
	if s.Projects < 1 || s.ArchivedProjects >= s.Projects {
		return errors.New("need at least one project and fewer archived projects than projects")
	}
	if s.WideUserProjects > s.Projects {
		return fmt.Errorf("WideUserProjects %d exceeds Projects %d", s.WideUserProjects, s.Projects)
	}
	if s.AuditSpan <= 0 {
		s.AuditSpan = 28 * 24 * time.Hour
	}
	sd := &seeder{e: e, s: s, rng: rand.New(rand.NewPCG(s.Value, s.Value^0xC0FFEE)), ids: newIDSource(s.Value ^ 0x5EED), now: e.now()}
	sd.addUsers()
	sd.addProjects()
	sd.members()
	sd.serviceAccounts()
	sd.keys()
	sd.wideUser()
	sd.invites()
	sd.adminKeys()
	if err := sd.events(); err != nil {
		return err
	}
	// What follows draws from its own generators, so the organization
	// above (ids, keys, events) is the same as before it existed.
	sd.seedUsage(rand.New(rand.NewPCG(s.Value, s.Value^0x05A6E)))
	sd.seedAccess(rand.New(rand.NewPCG(s.Value, s.Value^0xACCE55)), newIDSource(s.Value^0xCE27))
	return nil
}

func (sd *seeder) ago(minDays, maxDays int) int64 {
	return sd.now - int64(minDays)*day - sd.rng.Int64N(int64(maxDays-minDays+1)*day)
}

var (
	firstNames = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
		"niaj", "olivia", "peggy", "rupert", "sybil", "trent", "uma", "victor", "wendy", "xavier", "yasmin", "zoe", "amir",
		"bianca", "chen", "dmitri", "elena", "farah", "goran", "hana", "ines", "jonas", "keiko", "luis", "mei", "nora", "omar"}
	lastNames = []string{"nguyen", "smith", "garcia", "kim", "mueller", "rossi", "tanaka", "okafor", "silva", "novak",
		"dubois", "jensen", "kowalski", "haddad", "ivanova", "lopez", "patel", "obrien", "schmidt", "yilmaz"}
	projectNames = []string{"Customer Support Bot", "Search Ranking", "Marketing Copy", "Data Platform", "Fraud Detection",
		"Internal Tools", "Sales Assistant", "Docs QA", "Mobile App", "Research Sandbox", "Billing", "Recommendations"}
	saNames  = []string{"ci-deployer", "billing-app", "etl-nightly", "support-bot", "eval-runner", "webhook-relay"}
	keyNames = []string{"dev laptop", "notebook", "prod backend", "staging", "ci", "local testing", "eval script", "demo"}
)

func (sd *seeder) person(i int) (name, email string) {
	f, l := firstNames[i%len(firstNames)], lastNames[(i/len(firstNames))%len(lastNames)]
	name = strings.ToUpper(f[:1]) + f[1:] + " " + strings.ToUpper(l[:1]) + l[1:]
	email = f + "." + l
	if n := i / (len(firstNames) * len(lastNames)); n > 0 {
		email += fmt.Sprint(n)
	}
	return name, email + "@example.com"
}

func (sd *seeder) addUsers() {
	for i := range sd.s.Users {
		name, email := sd.person(i)
		role := "reader"
		if i < sd.s.Owners {
			role = "owner"
		}
		u := &user{id: sd.ids.userID(), name: name, email: email, role: role, addedAt: sd.ago(30, 720)}
		sd.users = append(sd.users, sd.e.putUser(u))
	}
	// People who left: their keys outlive them (what offboarding must catch).
	for i := range max(2, sd.s.Users/20) {
		name, email := sd.person(sd.s.Users + i)
		sd.departed = append(sd.departed, &user{id: sd.ids.userID(), name: name, email: email, role: "reader", addedAt: sd.ago(200, 900)})
	}
}

func (sd *seeder) addProjects() {
	e := sd.e
	for i := range sd.s.Projects {
		name := "Default project"
		if i > 0 {
			name = projectNames[(i-1)%len(projectNames)]
			if n := (i - 1) / len(projectNames); n > 0 {
				name += fmt.Sprintf(" %d", n+1)
			}
		}
		p := newProject(sd.ids.projectID(), name, sd.ago(60, 700))
		if i == 0 {
			p.isDefault, p.createdAt = true, sd.now-800*day
			e.defaultProj = p.id
		}
		if i >= sd.s.Projects-sd.s.ArchivedProjects {
			p.archivedAt = p.createdAt + sd.rng.Int64N(sd.now-p.createdAt)
		}
		e.putProject(p)
		e.seedRateLimits(p)
		sd.projects = append(sd.projects, p)
	}
}

// pick returns n distinct random indexes below total.
func (sd *seeder) pick(n, total int) []int {
	n = min(n, total)
	seen := make(map[int]bool, n)
	out := make([]int, 0, n)
	for len(out) < n {
		i := sd.rng.IntN(total)
		if !seen[i] {
			seen[i] = true
			out = append(out, i)
		}
	}
	return out
}

func (sd *seeder) members() {
	for pi, p := range sd.projects {
		if pi == 0 {
			for _, u := range sd.users[:sd.s.Owners] {
				sd.e.putProjectUser(p, &projectUser{userID: u.id, role: "owner", addedAt: max(u.addedAt, p.createdAt)})
			}
		}
		for j, ui := range sd.pick(sd.s.MembersPerProject, len(sd.users)) {
			u := sd.users[ui]
			if _, dup := p.users.get(u.id); dup {
				continue
			}
			role := "member"
			if j == 0 {
				role = "owner"
			}
			sd.e.putProjectUser(p, &projectUser{userID: u.id, role: role, addedAt: max(u.addedAt, p.createdAt) + sd.rng.Int64N(30*day)})
		}
	}
}

func (sd *seeder) serviceAccounts() {
	for _, p := range sd.projects {
		for j := range sd.s.ServiceAccountsPerProject {
			role := "member"
			if j == 1 {
				role = "owner"
			}
			sa := &serviceAccount{id: sd.ids.saID(), name: saNames[(j+sd.rng.IntN(len(saNames)))%len(saNames)], role: role,
				createdAt: p.createdAt + sd.rng.Int64N(max(1, sd.now-p.createdAt))}
			p.sas.add(sd.e.nextSeq(), sa.id, sa)
			sd.saIDs = append(sd.saIDs, sa.id)
		}
	}
}

// lastUse spreads keys over never used (20%), stale (30%: last use 91+ days
// ago) and in use (50%: last week).
func (sd *seeder) lastUse(created int64) int64 {
	switch r := sd.rng.IntN(10); {
	case r < 2:
		return 0
	case r < 5:
		if created < sd.now-92*day {
			return created + sd.rng.Int64N(sd.now-91*day-created)
		}
		return 0
	default:
		return max(created, sd.now-7*day) + sd.rng.Int64N(7*day)
	}
}

func (sd *seeder) keys() {
	for _, p := range sd.projects {
		members := p.users.values()
		sas := p.sas.values()
		for j := range sd.s.KeysPerProject {
			created := sd.ago(1, 400)
			k := &projectKey{id: sd.ids.keyID(), name: keyNames[(j+sd.rng.IntN(len(keyNames)))%len(keyNames)], createdAt: created, lastUsedAt: sd.lastUse(created)}
			kind := credProject
			r := sd.rng.IntN(20)
			switch {
			case r < 5 && len(sas) > 0:
				sa := sas[sd.rng.IntN(len(sas))]
				k.secret = sd.ids.secret(saKeyPrefix)
				k.ownerType, k.ownerID, k.ownerName, k.ownerCreatedAt, k.ownerRole = ownerServiceAccount, sa.id, sa.name, sa.createdAt, sa.role
				kind = credServiceAccount
			case r < 7:
				// Someone who has left the organization.
				u := sd.departed[sd.rng.IntN(len(sd.departed))]
				sd.userKey(k, u, "member")
			case r < 9:
				// Any organization user: most are not (or no longer) in this project.
				sd.userKey(k, sd.users[sd.rng.IntN(len(sd.users))], "member")
			default:
				if len(members) == 0 {
					sd.userKey(k, sd.users[0], "owner")
					break
				}
				pu := members[sd.rng.IntN(len(members))]
				u, _ := sd.e.users.get(pu.userID)
				sd.userKey(k, u, pu.role)
			}
			sd.e.putProjectKey(p, k, kind)
			sd.keyIDs = append(sd.keyIDs, k.id)
		}
	}
}

func (sd *seeder) userKey(k *projectKey, u *user, role string) {
	k.secret = sd.ids.secret(projectKeyPrefix)
	k.ownerType, k.ownerID, k.ownerName, k.ownerEmail, k.ownerCreatedAt, k.ownerRole = ownerUser, u.id, u.name, u.email, u.addedAt, role
}

func (sd *seeder) wideUser() {
	if sd.s.WideUserProjects == 0 {
		return
	}
	u := sd.e.putUser(&user{id: sd.ids.userID(), name: "Wide User", email: WideUserEmail, role: "reader", addedAt: sd.ago(300, 400)})
	sd.users = append(sd.users, u)
	for _, p := range sd.projects[:sd.s.WideUserProjects] {
		sd.e.putProjectUser(p, &projectUser{userID: u.id, role: "member", addedAt: max(u.addedAt, p.createdAt)})
		created := sd.ago(1, 200)
		k := &projectKey{id: sd.ids.keyID(), name: "wide user key", createdAt: created, lastUsedAt: sd.lastUse(created)}
		sd.userKey(k, u, "member")
		sd.e.putProjectKey(p, k, credProject)
		sd.keyIDs = append(sd.keyIDs, k.id)
	}
}

// invites: 40% pending (0..ttl old, so some are past a 14-day cleanup age),
// 30% expired, 30% accepted (by users who are now members).
func (sd *seeder) invites() {
	e := sd.e
	ttlDays := int(e.inviteTTL / (24 * time.Hour))
	for i := range sd.s.Invites {
		in := &invite{id: sd.ids.inviteID(), role: "reader", projects: []InviteProject{{ID: e.defaultProj, Role: "member"}}}
		if sd.rng.IntN(8) == 0 {
			in.role = "owner"
		}
		switch r := sd.rng.IntN(10); {
		case r < 4:
			in.email = fmt.Sprintf("candidate%d@example.org", i)
			in.createdAt = sd.ago(0, max(0, ttlDays-1))
		case r < 7:
			in.email = fmt.Sprintf("no-reply%d@example.net", i)
			in.createdAt = sd.ago(ttlDays+1, ttlDays+90)
		default:
			u := sd.users[(sd.s.Owners+sd.rng.IntN(max(1, len(sd.users)-sd.s.Owners)))%len(sd.users)]
			in.email, in.role = u.email, u.role
			in.createdAt = u.addedAt - day
			in.acceptedAt = u.addedAt
		}
		in.expiresAt = in.createdAt + int64(e.inviteTTL/time.Second)
		e.invites.add(e.nextSeq(), in.id, in)
	}
}

func (sd *seeder) adminKeys() {
	owner := sd.e.firstOwner()
	for i := range sd.s.AdminKeys {
		created := sd.ago(30, 400)
		k := sd.e.addAdminKey(fmt.Sprintf("legacy admin key %d", i+1), sd.ids.secret(adminKeyPrefix), created, 0, owner)
		if i%2 == 0 {
			k.lastUsedAt.Store(created + sd.rng.Int64N(max(1, sd.now-100*day-created)))
		}
	}
}

// eventKinds is the mix of seeded audit events, by weight.
var eventKinds = []struct {
	typ    string
	weight int
}{
	{"login.succeeded", 30}, {"login.failed", 3}, {"logout.succeeded", 5},
	{"api_key.created", 8}, {"api_key.updated", 1}, {"api_key.deleted", 4},
	{"user.added", 5}, {"user.updated", 3}, {"user.deleted", 1},
	{"invite.sent", 5}, {"invite.accepted", 3}, {"invite.deleted", 2},
	{"project.created", 1}, {"project.updated", 2}, {"project.archived", 1},
	{"service_account.created", 3}, {"service_account.updated", 1}, {"service_account.deleted", 1},
	{"rate_limit.updated", 3}, {"organization.updated", 1}, {"role.assignment.created", 1},
	{"tenant.user.added", 1}, {"role.bound_to_resource", 1},
}

func (sd *seeder) events() error {
	n := sd.s.AuditEvents
	if n == 0 {
		return nil
	}
	total := 0
	for _, k := range eventKinds {
		total += k.weight
	}
	table := make([]string, 0, total)
	for _, k := range eventKinds {
		for range k.weight {
			table = append(table, k.typ)
		}
	}
	span := int64(sd.s.AuditSpan / time.Second)
	at := sd.now - span
	step := max(1, 2*span/int64(n))
	sd.e.audit.Grow(n)
	ips := []string{"198.51.100.7", "203.0.113.24", "192.0.2.55", "198.51.100.200"}
	agents := []string{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0"}
	adminKeys := sd.e.adminKeys.values()
	if len(adminKeys) == 0 {
		// Options' admin keys are added after seeding; history still has an API actor.
		adminKeys = []*adminKey{{id: "key_" + sd.ids.token(16), owner: sd.e.firstOwner()}}
	}
	h := newHistory(sd, adminKeys, ips, agents)
	for i := range n {
		at = min(sd.now, at+sd.rng.Int64N(step+1))
		typ := table[sd.rng.IntN(len(table))]
		ui := sd.rng.IntN(len(sd.users))
		var actor *auditlog.Actor
		switch r := sd.rng.IntN(20); {
		case r < 12 || strings.HasPrefix(typ, "log"):
			actor = h.session(ui)
		case r < 19 || len(sd.saIDs) == 0:
			actor = h.admin[sd.rng.IntN(len(h.admin))]
		default:
			actor = h.serviceAccount(sd.rng.IntN(len(sd.saIDs)))
		}
		pi := sd.rng.IntN(len(sd.projects))
		ev := auditlog.Event{EffectiveAt: at, Type: typ, Actor: actor, Project: h.project(pi)}
		h.detail(&ev, i, ui, pi)
		if _, err := sd.e.audit.Append(ev); err != nil {
			return fmt.Errorf("seed audit events: %w", err)
		}
	}
	return nil
}

// history builds seeded events from cached parts: a million events reuse a
// few thousand actors, projects and payload fragments.
type history struct {
	sd       *seeder
	ips      []string
	agents   []string
	admin    []*auditlog.Actor
	sessions []*auditlog.Actor
	sas      []*auditlog.Actor
	projects []*auditlog.Project
	fixed    map[string]string
	invited  []string // invite.sent detail per user
	created  []string // project.created detail per project
	renamed  []string // project.updated detail per project
	histKeys []string
	invites  []string
}

func newHistory(sd *seeder, keys []*adminKey, ips, agents []string) *history {
	h := &history{sd: sd, ips: ips, agents: agents,
		sessions: make([]*auditlog.Actor, len(sd.users)), sas: make([]*auditlog.Actor, len(sd.saIDs)),
		projects: make([]*auditlog.Project, len(sd.projects)), invited: make([]string, len(sd.users)),
		created: make([]string, len(sd.projects)), renamed: make([]string, len(sd.projects)),
		histKeys: make([]string, 5000), invites: make([]string, 20000)}
	for _, k := range keys {
		h.admin = append(h.admin, &auditlog.Actor{Type: "api_key", APIKeyID: k.id, APIKeyType: "user", UserID: k.owner.id, UserEmail: k.owner.email})
	}
	h.fixed = map[string]string{
		"login.failed":            members("error_code", "invalid_credentials", "error_message", "Wrong email or password."),
		"api_key.created":         members("data", obj{"scopes", []string{"/v1/*"}}),
		"api_key.updated":         members("changes_requested", obj{"scopes", []string{"api.model.read"}}),
		"user.added":              members("data", obj{"role", "member"}),
		"user.updated owner":      members("changes_requested", obj{"role", "owner"}),
		"user.updated reader":     members("changes_requested", obj{"role", "reader"}),
		"service_account.created": members("data", obj{"role", "member"}),
		"service_account.updated": members("changes_requested", obj{"role", "owner"}),
		"organization.updated":    members("changes_requested", obj{"name", "Example Org"}),
	}
	return h
}

func (h *history) session(ui int) *auditlog.Actor {
	if h.sessions[ui] == nil {
		u := h.sd.users[ui]
		h.sessions[ui] = &auditlog.Actor{Type: "session", UserID: u.id, UserEmail: u.email,
			IPAddress: h.ips[int(hash(u.id))%len(h.ips)], UserAgent: h.agents[int(hash(u.id))%len(h.agents)]}
	}
	return h.sessions[ui]
}

func (h *history) serviceAccount(i int) *auditlog.Actor {
	if h.sas[i] == nil {
		sa := h.sd.saIDs[i]
		h.sas[i] = &auditlog.Actor{Type: "api_key", APIKeyID: "key_" + sa[len(sa)-8:], APIKeyType: "service_account", ServiceAccountID: sa}
	}
	return h.sas[i]
}

func (h *history) project(pi int) *auditlog.Project {
	if h.projects[pi] == nil {
		p := h.sd.projects[pi]
		h.projects[pi] = &auditlog.Project{ID: p.id, Name: p.name}
	}
	return h.projects[pi]
}

func (h *history) key() string {
	sd := h.sd
	if len(sd.keyIDs) == 0 || sd.rng.IntN(3) == 0 {
		i := sd.rng.IntN(len(h.histKeys))
		if h.histKeys[i] == "" {
			h.histKeys[i] = fmt.Sprintf("key_hist%06d", i)
		}
		return h.histKeys[i]
	}
	return sd.keyIDs[sd.rng.IntN(len(sd.keyIDs))]
}

func (h *history) invite(i int) string {
	i %= len(h.invites)
	if h.invites[i] == "" {
		h.invites[i] = fmt.Sprintf("invite-hist%05d", i)
	}
	return h.invites[i]
}

// detail fills the resource and payload for a seeded event type.
func (h *history) detail(ev *auditlog.Event, i, ui, pi int) {
	sd := h.sd
	u, p := sd.users[ui], sd.projects[pi]
	switch ev.Type {
	case "login.failed":
		ev.Detail = h.fixed[ev.Type]
	case "api_key.created", "api_key.updated":
		ev.ResourceID, ev.Detail = h.key(), h.fixed[ev.Type]
	case "api_key.deleted":
		ev.ResourceID = h.key()
	case "user.added":
		ev.ResourceID, ev.Detail = u.id, h.fixed[ev.Type]
	case "user.updated":
		ev.ResourceID, ev.Detail = u.id, h.fixed["user.updated "+[]string{"owner", "reader"}[sd.rng.IntN(2)]]
	case "user.deleted":
		ev.ResourceID = sd.departed[sd.rng.IntN(len(sd.departed))].id
	case "invite.sent":
		if h.invited[ui] == "" {
			h.invited[ui] = members("data", obj{"email", u.email, "role", "reader"})
		}
		ev.ResourceID, ev.Detail = h.invite(i), h.invited[ui]
	case "invite.accepted", "invite.deleted":
		ev.ResourceID = h.invite(sd.rng.IntN(len(h.invites)))
	case "project.created":
		if h.created[pi] == "" {
			h.created[pi] = members("data", obj{"name", p.name, "title", p.name})
		}
		ev.ResourceID, ev.Detail = p.id, h.created[pi]
	case "project.updated":
		if h.renamed[pi] == "" {
			h.renamed[pi] = members("changes_requested", obj{"title", p.name})
		}
		ev.ResourceID, ev.Detail = p.id, h.renamed[pi]
	case "project.archived":
		ev.ResourceID = p.id
	case "service_account.created", "service_account.updated":
		ev.ResourceID, ev.Detail = sd.someSA(), h.fixed[ev.Type]
	case "service_account.deleted":
		ev.ResourceID = sd.someSA()
	case "rate_limit.updated":
		d := defaultRateLimits[sd.rng.IntN(len(defaultRateLimits))]
		ev.ResourceID, ev.Detail = "rl-"+d.model, members("changes_requested", obj{"max_requests_per_1_minute", d.rpm / int64(1+sd.rng.IntN(4))})
	case "organization.updated":
		ev.ResourceID, ev.Detail = "org-seeded", h.fixed[ev.Type]
	case "role.assignment.created":
		ev.ResourceID, ev.Detail = "role_asg_"+u.id[5:13], members("principal_id", u.id, "principal_type", "user", "resource_id", p.id, "resource_type", "api.project")
	case "role.bound_to_resource":
		ev.ResourceID, ev.Detail = "role_bind_"+p.id[5:13], members("role_id", "role_reader", "resource_id", p.id, "resource_type", "api.project", "enabled", true, "source", "role_toggle")
	case "tenant.user.added":
		ev.ResourceID = u.id
	}
}

func (sd *seeder) someSA() string {
	if len(sd.saIDs) == 0 {
		return "svc_acct_hist"
	}
	return sd.saIDs[sd.rng.IntN(len(sd.saIDs))]
}

func hash(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}

var (
	groupNames = []string{"Engineering", "Data Science", "Finance", "Security", "Support", "Platform", "Research", "Sales Engineering",
		"Growth", "Legal"}
	customRoles = []struct {
		name, description string
		permissions       []string
	}{
		{"Billing Viewer", "Reads invoices, usage and costs", []string{"api.billing.read", "api.usage.read"}},
		{"Security Auditor", "Reads members, keys and the audit log", []string{"api.organization.read", "api.audit_logs.read", "api.groups.read", "api.roles.read"}},
		{"Key Manager", "Creates and revokes project API keys", []string{"api.project.keys.write", "api.organization.read"}},
		{"Group Manager", "Manages groups and their members", []string{"api.groups.read", "api.groups.write"}},
	}
)

// seedAccess adds certificates, custom roles, groups with members and
// roles, direct role assignments and project grants to groups, from rng and
// ids (not the seeder's own, so the rest of the seed is unchanged).
func (sd *seeder) seedAccess(rng *rand.Rand, ids *idSource) {
	e := sd.e
	ago := func(minDays, maxDays int) int64 {
		return sd.now - int64(minDays)*day - rng.Int64N(int64(maxDays-minDays+1)*day)
	}
	owner := sd.users[0]
	// Certificates: one active for the organization, one only in a project,
	// one expired and inactive, one never activated.
	certNames := []string{"corp-mtls-2026", "data-platform-client", "legacy-mtls-2024", "staging-client"}
	for i, name := range certNames {
		var seed [32]byte
		for j := range seed {
			seed[j] = byte(rng.IntN(256))
		}
		created := ago(20, 500)
		notBefore := time.Unix(created-day, 0).UTC()
		notAfter := notBefore.AddDate(1, 0, 0)
		if i == 2 {
			notBefore, notAfter = time.Unix(sd.now-800*day, 0).UTC(), time.Unix(sd.now-70*day, 0).UTC()
		}
		content := selfSigned(seed, int64(1000+i), name+".example.com", notBefore, notAfter)
		n := name
		ct := e.putCertificate(&certificate{id: "cert_" + ids.lowerToken(24), name: &n, createdAt: created,
			validAt: notBefore.Unix(), expiresAt: notAfter.Unix(), content: content})
		switch i {
		case 0:
			ct.active = true
		case 1:
			if len(sd.projects) > 1 {
				ct.projects[sd.projects[1].id] = true
			}
		}
	}
	var custom []*role
	for _, cr := range customRoles {
		d := cr.description
		at := ago(30, 300)
		r := &role{id: "role_" + ids.token(26), name: cr.name, description: &d, permissions: append([]string{}, cr.permissions...),
			resourceType: resourceOrg, createdAt: at, updatedAt: at + rng.Int64N(20*day), createdBy: owner.id}
		e.roles.add(e.nextSeq(), r.id, r)
		custom = append(custom, r)
	}
	nGroups := min(100, max(4, len(sd.users)/100))
	var groups []*group
	for i := range nGroups {
		name := groupNames[i%len(groupNames)]
		if n := i / len(groupNames); n > 0 {
			name += fmt.Sprintf(" %d", n+1)
		}
		g := newGroup("group_"+ids.token(26), name, ago(30, 600))
		e.groups.add(e.nextSeq(), g.id, g)
		groups = append(groups, g)
		for _, ui := range pickDistinct(rng, min(len(sd.users), 3+rng.IntN(10)), len(sd.users)) {
			u := sd.users[ui]
			g.users.add(e.nextSeq(), u.id, &groupMember{userID: u.id, addedAt: max(u.addedAt, g.createdAt) + rng.Int64N(10*day)})
		}
		if rng.IntN(2) == 0 {
			r := custom[rng.IntN(len(custom))]
			g.roles.add(e.nextSeq(), r.id, &assignment{roleID: r.id, assignedAt: max(r.createdAt, g.createdAt)})
		}
	}
	for _, ui := range pickDistinct(rng, min(len(sd.users), max(2, len(sd.users)/10)), len(sd.users)) {
		u := sd.users[ui]
		r := custom[rng.IntN(len(custom))]
		e.userRoleList(u.id).add(e.nextSeq(), r.id, &assignment{roleID: r.id, assignedAt: max(u.addedAt, r.createdAt)})
	}
	projectRoles := []string{"role_project_member", "role_project_member", "role_project_viewer", "role_project_owner"}
	for _, p := range sd.projects {
		if p.archived() {
			continue
		}
		for _, gi := range pickDistinct(rng, rng.IntN(3), len(groups)) {
			g := groups[gi]
			pg := &projectGroup{groupID: g.id, role: projectRoles[rng.IntN(len(projectRoles))],
				createdAt: max(p.createdAt, g.createdAt) + rng.Int64N(30*day)}
			p.groups.add(e.nextSeq(), g.id, pg)
			l := newCollection[*assignment]()
			l.add(e.nextSeq(), pg.role, &assignment{roleID: pg.role, assignedAt: pg.createdAt})
			p.groupRoles[g.id] = l
		}
	}
	// A custom role in the first active projects besides the default one,
	// held by one of their members.
	for _, p := range sd.projects[1:min(3, len(sd.projects))] {
		if p.archived() {
			continue
		}
		members := p.users.values()
		if len(members) == 0 {
			continue
		}
		d := "Deploys and rotates the project's service accounts"
		at := max(p.createdAt, sd.now-200*day) + rng.Int64N(30*day)
		r := &role{id: "role_" + ids.token(26), name: "Deployer", description: &d, permissions: []string{"api.project.read", "api.project.service_accounts.write"},
			resourceType: resourceProject, projectID: p.id, createdAt: at, updatedAt: at, createdBy: owner.id}
		e.roles.add(e.nextSeq(), r.id, r)
		pu := members[rng.IntN(len(members))]
		l := newCollection[*assignment]()
		l.add(e.nextSeq(), r.id, &assignment{roleID: r.id, assignedAt: max(at, pu.addedAt)})
		p.userRoles[pu.userID] = l
	}
}

// pickDistinct returns n distinct random indexes below total.
func pickDistinct(rng *rand.Rand, n, total int) []int {
	n = min(n, total)
	return rng.Perm(total)[:n]
}
