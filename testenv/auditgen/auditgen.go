// Package auditgen generates an organization's audit history for detection
// soaks: a realistic background (logins from each person's usual address,
// keys created and revoked one at a time, invites to the company's domain,
// the odd failed login) with attack patterns injected at random times.
// Events are the AuditLog schema's JSON, for the emulator's
// AppendAuditEvent.
//
// The background is constrained so that it never makes a pattern by
// itself: no owner roles, no admin keys, no settings changes, no keys in
// protected projects, no invites outside the domain, no activity by the
// offboarded person after the removal, and at most Quiet events of a
// bursty kind (key creation, deletion, failed login) per actor or address
// in any QuietWindow. Every injected pattern uses actors the background
// does not, so what the pattern's events are is unambiguous.
package auditgen

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// Event is one generated audit event.
type Event struct {
	ID  string
	At  int64
	Raw json.RawMessage
}

// Pattern is one injected attack or mistake, and the rule meant to find it.
type Pattern struct {
	Rule     string
	EventIDs []string
}

// Options of a history.
type Options struct {
	Seed uint64
	// Background events, spread over [Start, Start+Span).
	Background int
	Start      time.Time
	Span       time.Duration
	// Domain of the organization's people (allowed for invites).
	Domain string
	// ProtectedProject is a project id no background key is created in.
	ProtectedProject string
	// Offboarded is a person (user id and email) removed at OffboardedAt:
	// the background has them active only before.
	OffboardedUser, OffboardedEmail string
	OffboardedAt                    time.Time
}

// Quiet and QuietWindow bound the background's bursty kinds.
const (
	Quiet       = 3
	QuietWindow = 30 * time.Minute
)

// History is the generated events, in effective_at order, and the patterns.
type History struct {
	Events   []Event
	Patterns []Pattern
}

type gen struct {
	o       Options
	rng     *rand.Rand
	n       int
	users   []person
	sas     []string
	project []string
	recent  map[string]int // bursty kind|actor|bucket -> events
	out     []Event
}

type person struct{ id, email, ip string }

// Generate builds a history.
func Generate(o Options) History {
	g := &gen{o: o, rng: rand.New(rand.NewPCG(o.Seed, 0x5eed)), recent: map[string]int{}}
	for i := range 40 {
		g.users = append(g.users, person{fmt.Sprintf("user-bg%03d", i), fmt.Sprintf("person%03d@%s", i, o.Domain),
			fmt.Sprintf("198.51.100.%d", 10+i)})
	}
	g.users = append(g.users, person{o.OffboardedUser, o.OffboardedEmail, "198.51.100.200"})
	for i := range 4 {
		g.sas = append(g.sas, fmt.Sprintf("svc_acct_bg%02d", i))
	}
	g.project = []string{"proj_web", "proj_data", "proj_ml", "proj_sandbox", o.ProtectedProject}
	g.background()
	var h History
	h.Patterns = g.inject()
	slices.SortFunc(g.out, func(a, b Event) int {
		if a.At != b.At {
			return int(a.At - b.At)
		}
		return compare(a.ID, b.ID)
	})
	h.Events = g.out
	return h
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (g *gen) id(kind string) string {
	g.n++
	return fmt.Sprintf("audit_log-%s-%07d", kind, g.n)
}

func (g *gen) add(kind, typ string, at int64, actor map[string]any, project string, payload any) string {
	id := g.id(kind)
	m := map[string]any{"id": id, "type": typ, "effective_at": at}
	if project != "" {
		m["project"] = map[string]any{"id": project, "name": "Project " + project}
	}
	if actor != nil {
		m["actor"] = actor
	}
	if payload != nil {
		m[typ] = payload
	}
	raw, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	g.out = append(g.out, Event{ID: id, At: at, Raw: raw})
	return id
}

func session(p person, ip string) map[string]any {
	return map[string]any{"type": "session", "session": map[string]any{"ip_address": ip,
		"user": map[string]any{"id": p.id, "email": p.email}}}
}

func userKey(p person) map[string]any {
	return map[string]any{"type": "api_key", "api_key": map[string]any{"id": "key_of_" + p.id, "type": "user",
		"user": map[string]any{"id": p.id, "email": p.email}}}
}

func saKey(sa string) map[string]any {
	return map[string]any{"type": "api_key", "api_key": map[string]any{"id": "key_of_" + sa, "type": "service_account",
		"service_account": map[string]any{"id": sa}}}
}

// quiet reports whether one more event of kind by who at at keeps the
// background under Quiet per QuietWindow, and records it if so. Counts are
// kept per QuietWindow-long bucket: any window of that length lies within
// two adjacent buckets, so bounding the three around at bounds them all,
// in constant time whatever the history's size.
func (g *gen) quiet(kind, who string, at int64) bool {
	b := at / int64(QuietWindow/time.Second)
	key := func(b int64) string { return fmt.Sprintf("%s|%s|%d", kind, who, b) }
	if g.recent[key(b-1)]+g.recent[key(b)]+g.recent[key(b+1)] >= Quiet-1 {
		return false
	}
	g.recent[key(b)]++
	return true
}

func (g *gen) background() {
	start, span := g.o.Start.Unix(), int64(g.o.Span/time.Second)
	gone := g.o.OffboardedAt.Unix()
	kinds := []struct {
		typ string
		w   int
	}{{"login.succeeded", 40}, {"logout.succeeded", 10}, {"login.failed", 3}, {"project.updated", 4},
		{"api_key.created", 6}, {"api_key.deleted", 5}, {"user.added", 2}, {"user.updated", 2}, {"invite.sent", 3},
		{"invite.accepted", 2}, {"service_account.created", 1}, {"api_key.updated", 1}}
	var table []string
	for _, k := range kinds {
		for range k.w {
			table = append(table, k.typ)
		}
	}
	for len(g.out) < g.o.Background {
		at := start + g.rng.Int64N(span)
		typ := table[g.rng.IntN(len(table))]
		p := g.users[g.rng.IntN(len(g.users))]
		if p.id == g.o.OffboardedUser && at >= gone {
			continue
		}
		proj := g.project[g.rng.IntN(len(g.project)-1)] // never the protected one
		var actor map[string]any = session(p, p.ip)
		if g.rng.IntN(3) == 0 && typ != "login.succeeded" && typ != "logout.succeeded" && typ != "login.failed" {
			if g.rng.IntN(2) == 0 {
				sa := g.sas[g.rng.IntN(len(g.sas))]
				actor = saKey(sa)
				p = person{id: sa}
			} else {
				actor = userKey(p)
			}
		}
		target := g.users[g.rng.IntN(len(g.users)-1)]
		switch typ {
		case "login.failed":
			if !g.quiet("fail", p.id, at) || !g.quiet("failip", p.ip, at) {
				continue
			}
			g.add("bg", typ, at, actor, "", map[string]any{"error_code": "invalid_credentials", "error_message": "Wrong email or password."})
		case "api_key.created":
			if !g.quiet("create", p.id, at) {
				continue
			}
			g.add("bg", typ, at, actor, proj, map[string]any{"id": fmt.Sprintf("key_bg%06d", g.n), "data": map[string]any{"scopes": []string{"api.model.request"}}})
		case "api_key.deleted":
			if !g.quiet("delete", p.id, at) {
				continue
			}
			g.add("bg", typ, at, actor, proj, map[string]any{"id": fmt.Sprintf("key_bg%06d", g.n)})
		case "api_key.updated":
			g.add("bg", typ, at, actor, proj, map[string]any{"id": "key_bg", "changes_requested": map[string]any{"scopes": []string{"api.model.read"}}})
		case "user.added":
			g.add("bg", typ, at, actor, proj, map[string]any{"id": target.id, "data": map[string]any{"role": "member"}})
		case "user.updated":
			role := []string{"member", "reader"}[g.rng.IntN(2)]
			g.add("bg", typ, at, actor, proj, map[string]any{"id": target.id, "changes_requested": map[string]any{"role": role}})
		case "invite.sent":
			g.add("bg", typ, at, actor, "", map[string]any{"id": fmt.Sprintf("invite-bg%05d", g.n),
				"data": map[string]any{"email": fmt.Sprintf("new%05d@%s", g.n, g.o.Domain), "role": "reader"}})
		case "invite.accepted":
			g.add("bg", typ, at, actor, "", map[string]any{"id": fmt.Sprintf("invite-bg%05d", g.rng.IntN(99999))})
		case "service_account.created":
			g.add("bg", typ, at, actor, proj, map[string]any{"id": fmt.Sprintf("svc_acct_new%05d", g.n), "data": map[string]any{"role": "member"}})
		case "project.updated":
			g.add("bg", typ, at, actor, proj, map[string]any{"id": proj, "changes_requested": map[string]any{"title": "Project " + proj}})
		default:
			g.add("bg", typ, at, actor, "", nil)
		}
	}
}

// inject adds one of each pattern at a random time and returns them.
func (g *gen) inject() []Pattern {
	start, span := g.o.Start.Unix(), int64(g.o.Span/time.Second)
	// Times far enough from the end that a burst fits in the history.
	when := func() int64 { return start + g.rng.Int64N(span-3600) }
	var ps []Pattern
	pat := func(rule string, ids ...string) { ps = append(ps, Pattern{Rule: rule, EventIDs: ids}) }

	// A stolen key minting keys: 12 in 6 minutes.
	thief := person{id: "user-compromised", email: "dev.ops@" + g.o.Domain}
	at := when()
	var ids []string
	for i := range 12 {
		ids = append(ids, g.add("atk", "api_key.created", at+int64(i)*30, userKey(thief), "proj_web",
			map[string]any{"id": fmt.Sprintf("key_atk%02d", i), "data": map[string]any{"scopes": []string{"/v1/*"}}}))
	}
	pat("api-key-burst", ids...)

	// A runaway script or saboteur: 25 deletions in 5 minutes.
	saboteur := "svc_acct_cleanup_bot"
	at, ids = when(), nil
	for i := range 25 {
		typ := []string{"api_key.deleted", "user.deleted", "service_account.deleted"}[i%3]
		ids = append(ids, g.add("atk", typ, at+int64(i)*12, saKey(saboteur), "proj_data", map[string]any{"id": fmt.Sprintf("res_atk%02d", i)}))
	}
	pat("deletion-burst", ids...)

	admin := person{id: "user-owner-x", email: "owner.x@" + g.o.Domain}
	pat("admin-key-created", g.add("atk", "tenant.admin_api_key.created", when(), userKey(admin), "", map[string]any{"id": "key_admin_atk"}))
	pat("raised-to-owner", g.add("atk", "user.updated", when(), userKey(admin), "",
		map[string]any{"id": "user-bg007", "changes_requested": map[string]any{"role": "owner"}}))

	// Guessing one account's password from rotating addresses.
	victim := person{id: "user-victim", email: "victim@" + g.o.Domain}
	at, ids = when(), nil
	for i := range 7 {
		ids = append(ids, g.add("atk", "login.failed", at+int64(i)*60, session(victim, fmt.Sprintf("203.0.113.%d", 100+i)), "",
			map[string]any{"error_code": "invalid_credentials"}))
	}
	pat("login-failed-actor", ids...)

	// Spraying from one address: 12 accounts, one try each.
	at, ids = when(), nil
	for i := range 12 {
		p := person{id: fmt.Sprintf("user-sprayed%02d", i), email: fmt.Sprintf("sprayed%02d@%s", i, g.o.Domain)}
		ids = append(ids, g.add("atk", "login.failed", at+int64(i)*20, session(p, "192.0.2.66"), "",
			map[string]any{"error_code": "invalid_credentials"}))
	}
	pat("login-failed-ip", ids...)

	pat("invite-outside-domain", g.add("atk", "invite.sent", when(), userKey(admin), "",
		map[string]any{"id": "invite-atk", "data": map[string]any{"email": "someone@gmail.com", "role": "reader"}}))
	pat("org-settings-changed", g.add("atk", "organization.updated", when(), userKey(admin), "",
		map[string]any{"id": "org-x", "changes_requested": map[string]any{"api_call_logging": "disabled"}}))
	pat("org-settings-changed", g.add("atk", "rate_limit.updated", when(), userKey(admin), "proj_ml",
		map[string]any{"id": "rl-gpt-4o", "changes_requested": map[string]any{"max_requests_per_1_minute": 100000}}))

	gone := g.o.OffboardedAt.Unix()
	ghost := person{g.o.OffboardedUser, g.o.OffboardedEmail, "198.51.100.200"}
	pat("activity-after-offboarding", g.add("atk", "login.succeeded", gone+600+g.rng.Int64N(3600), session(ghost, ghost.ip), "", nil))

	pat("key-in-protected-project", g.add("atk", "api_key.created", when(), saKey("svc_acct_bg01"), g.o.ProtectedProject,
		map[string]any{"id": "key_prod_atk", "data": map[string]any{"scopes": []string{"/v1/*"}}}))
	return ps
}
