package detect

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

const t0 = int64(1_750_000_000)

// ev builds an audit event as the API sends it (AuditLog schema).
type ev struct {
	id, typ         string
	at              int64
	user, email, ip string // a session actor when ip is set, else an api_key actor of the user
	sa              string // a service-account api_key actor
	project         string
	payload         string // the type-named member's JSON
	noActor         bool
}

func (e ev) raw() []byte {
	m := map[string]any{"id": e.id, "type": e.typ, "effective_at": e.at}
	if e.project != "" {
		m["project"] = map[string]any{"id": e.project, "name": "name of " + e.project}
	}
	switch {
	case e.noActor:
	case e.sa != "":
		m["actor"] = map[string]any{"type": "api_key", "api_key": map[string]any{"id": "key_" + e.sa, "type": "service_account",
			"service_account": map[string]any{"id": e.sa}}}
	case e.ip != "":
		m["actor"] = map[string]any{"type": "session", "session": map[string]any{"ip_address": e.ip,
			"user": map[string]any{"id": e.user, "email": e.email}}}
	default:
		m["actor"] = map[string]any{"type": "api_key", "api_key": map[string]any{"id": "key_admin1", "type": "user",
			"user": map[string]any{"id": e.user, "email": e.email}}}
	}
	if e.payload != "" {
		m[e.typ] = json.RawMessage(e.payload)
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// series is n events of typ one step apart from at, ids prefix-0..n-1.
func series(prefix, typ string, n int, at int64, step time.Duration, mod func(i int, e *ev)) []ev {
	var out []ev
	for i := range n {
		e := ev{id: fmt.Sprintf("%s-%02d", prefix, i), typ: typ, at: at + int64(i)*int64(step/time.Second), user: "user-alice", email: "alice@example.com"}
		if mod != nil {
			mod(i, &e)
		}
		out = append(out, e)
	}
	return out
}

func parseAll(t *testing.T, evs []ev) []Event {
	t.Helper()
	var out []Event
	for _, e := range evs {
		p, err := ParseEvent(e.raw())
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// fire evaluates one rule over events with env and returns the findings.
func fire(t *testing.T, rule string, env Env, evs []ev) []Finding {
	t.Helper()
	r, ok := RuleByID(rule)
	if !ok {
		t.Fatalf("no rule %s", rule)
	}
	e := NewEngine([]Rule{r}, env)
	st := &State{}
	// The detector's path: the raw prefilter, then the parse the rules need.
	var wanted []Event
	for _, x := range evs {
		raw := x.raw()
		if !e.WantsRaw(raw) {
			continue
		}
		p, err := e.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		wanted = append(wanted, p)
	}
	return e.Evaluate(st, wanted, time.Unix(t0, 0))
}

func TestShippedRulesAreValid(t *testing.T) {
	if err := Validate(Rules); err != nil {
		t.Fatal(err)
	}
	tested := map[string]bool{}
	for _, c := range ruleCases {
		tested[c.rule] = true
	}
	for _, r := range Rules {
		if !tested[r.ID] {
			t.Errorf("rule %s has no test case", r.ID)
		}
	}
}

var offboardedEnv = Env{Offboarded: map[string]int64{"user-bob": t0, "bob@example.com": t0}}

var ruleCases = []struct {
	name   string
	rule   string
	env    Env
	events []ev
	want   [][]string // the event ids of each finding
}{
	{"ten keys in ten minutes by one actor", "api-key-burst", Env{},
		series("k", "api_key.created", 10, t0, time.Minute-time.Second, nil),
		[][]string{{"k-00", "k-01", "k-02", "k-03", "k-04", "k-05", "k-06", "k-07", "k-08", "k-09"}}},
	{"ten keys spread over more than ten minutes", "api-key-burst", Env{},
		series("k", "api_key.created", 10, t0, 70*time.Second, nil), nil},
	{"nine keys", "api-key-burst", Env{}, series("k", "api_key.created", 9, t0, time.Second, nil), nil},
	{"ten keys by ten different actors", "api-key-burst", Env{},
		series("k", "api_key.created", 10, t0, time.Second, func(i int, e *ev) { e.user = fmt.Sprintf("user-%d", i) }), nil},
	{"twenty keys at once make two findings, not eleven", "api-key-burst", Env{},
		series("k", "api_key.created", 20, t0, time.Second, nil),
		[][]string{{"k-00", "k-01", "k-02", "k-03", "k-04", "k-05", "k-06", "k-07", "k-08", "k-09"},
			{"k-10", "k-11", "k-12", "k-13", "k-14", "k-15", "k-16", "k-17", "k-18", "k-19"}}},
	{"twenty mixed deletions by a service account", "deletion-burst", Env{},
		series("d", "api_key.deleted", 20, t0, 10*time.Second, func(i int, e *ev) {
			e.sa = "svc_acct_x"
			if i%2 == 0 {
				e.typ = "user.deleted"
			}
		}), [][]string{{"d-00", "d-01", "d-02", "d-03", "d-04", "d-05", "d-06", "d-07", "d-08", "d-09",
			"d-10", "d-11", "d-12", "d-13", "d-14", "d-15", "d-16", "d-17", "d-18", "d-19"}}},
	{"nineteen deletions", "deletion-burst", Env{}, series("d", "api_key.deleted", 19, t0, time.Second, nil), nil},
	{"twenty creations are not deletions", "deletion-burst", Env{}, series("d", "api_key.created", 20, t0, time.Second, nil), nil},
	{"admin key created", "admin-key-created", Env{},
		[]ev{{id: "a1", typ: "tenant.admin_api_key.created", at: t0, user: "user-alice"}}, [][]string{{"a1"}}},
	{"project key created is not an admin key", "admin-key-created", Env{},
		[]ev{{id: "a1", typ: "api_key.created", at: t0, user: "user-alice", payload: `{"id":"key_1","data":{"scopes":[]}}`}}, nil},
	{"user raised to owner", "raised-to-owner", Env{},
		[]ev{{id: "o1", typ: "user.updated", at: t0, payload: `{"id":"user-x","changes_requested":{"role":"owner"}}`}}, [][]string{{"o1"}}},
	{"service account raised to owner", "raised-to-owner", Env{},
		[]ev{{id: "o2", typ: "service_account.updated", at: t0, payload: `{"id":"svc_acct_1","changes_requested":{"role":"owner"}}`}}, [][]string{{"o2"}}},
	{"user added as owner, invite as owner", "raised-to-owner", Env{},
		[]ev{{id: "o3", typ: "user.added", at: t0, payload: `{"id":"user-x","data":{"role":"owner"}}`},
			{id: "o4", typ: "invite.sent", at: t0 + 1, payload: `{"id":"invite-1","data":{"email":"x@example.com","role":"owner"}}`}},
		[][]string{{"o3"}, {"o4"}}},
	{"role changed to member or reader", "raised-to-owner", Env{},
		[]ev{{id: "o1", typ: "user.updated", at: t0, payload: `{"id":"user-x","changes_requested":{"role":"member"}}`},
			{id: "o2", typ: "service_account.created", at: t0, payload: `{"id":"svc","data":{"role":"member"}}`},
			{id: "o3", typ: "user.updated", at: t0, payload: `{"id":"user-x","changes_requested":{"name":"owner"}}`},
			{id: "o4", typ: "project.updated", at: t0, payload: `{"id":"proj","changes_requested":{"title":"owner"}}`}}, nil},
	{"five failed logins for one account", "login-failed-actor", Env{},
		series("l", "login.failed", 5, t0, time.Minute, func(i int, e *ev) { e.ip = fmt.Sprintf("192.0.2.%d", i) }),
		[][]string{{"l-00", "l-01", "l-02", "l-03", "l-04"}}},
	{"four failed logins, and successful ones", "login-failed-actor", Env{},
		append(series("l", "login.failed", 4, t0, time.Minute, nil), series("s", "login.succeeded", 10, t0, time.Second, nil)...), nil},
	{"five failed logins for five accounts", "login-failed-actor", Env{},
		series("l", "login.failed", 5, t0, time.Second, func(i int, e *ev) { e.user = fmt.Sprintf("user-%d", i); e.ip = "192.0.2.1" }), nil},
	{"ten failed logins from one IP for ten accounts", "login-failed-ip", Env{},
		series("l", "login.failed", 10, t0, 30*time.Second, func(i int, e *ev) { e.user = fmt.Sprintf("user-%d", i); e.ip = "203.0.113.9" }),
		[][]string{{"l-00", "l-01", "l-02", "l-03", "l-04", "l-05", "l-06", "l-07", "l-08", "l-09"}}},
	{"ten failed logins from ten IPs", "login-failed-ip", Env{},
		series("l", "login.failed", 10, t0, time.Second, func(i int, e *ev) { e.ip = fmt.Sprintf("203.0.113.%d", i) }), nil},
	{"ten failed logins with no IP", "login-failed-ip", Env{},
		series("l", "login.failed", 10, t0, time.Second, nil), nil},
	{"invite outside the allowed domains", "invite-outside-domain", Env{AllowedDomains: []string{"example.com"}},
		[]ev{{id: "i1", typ: "invite.sent", at: t0, payload: `{"id":"invite-1","data":{"email":"eve@gmail.com","role":"reader"}}`},
			{id: "i2", typ: "invite.sent", at: t0, payload: `{"id":"invite-2","data":{"email":"eve@example.com.evil.io","role":"reader"}}`}},
		[][]string{{"i1"}, {"i2"}}},
	{"invite inside the allowed domains and subdomains", "invite-outside-domain", Env{AllowedDomains: []string{"example.com", "@corp.example.org"}},
		[]ev{{id: "i1", typ: "invite.sent", at: t0, payload: `{"id":"invite-1","data":{"email":"Bob@Example.com","role":"reader"}}`},
			{id: "i2", typ: "invite.sent", at: t0, payload: `{"id":"invite-2","data":{"email":"c@eu.corp.example.org"}}`}}, nil},
	{"no allowed domains configured: off", "invite-outside-domain", Env{},
		[]ev{{id: "i1", typ: "invite.sent", at: t0, payload: `{"id":"invite-1","data":{"email":"eve@gmail.com"}}`}}, nil},
	{"organization, rate limit, spend limit and certificate changes", "org-settings-changed", Env{},
		[]ev{{id: "c1", typ: "organization.updated", at: t0, payload: `{"id":"org-1","changes_requested":{"api_call_logging":"disabled"}}`},
			{id: "c2", typ: "rate_limit.updated", at: t0 + 1, payload: `{"id":"rl-gpt","changes_requested":{"max_requests_per_1_minute":10}}`},
			{id: "c3", typ: "tenant.billing.overage_limit.updated", at: t0 + 2},
			{id: "c4", typ: "certificates.deactivated", at: t0 + 3, payload: `{"certificates":[{"id":"cert_1","name":"mtls"}]}`}},
		[][]string{{"c1"}, {"c2"}, {"c3"}, {"c4"}}},
	{"project renamed, login", "org-settings-changed", Env{},
		[]ev{{id: "c1", typ: "project.updated", at: t0}, {id: "c2", typ: "login.succeeded", at: t0, ip: "192.0.2.1"}}, nil},
	{"offboarded person acts afterwards, by session and by key, by id or email", "activity-after-offboarding", offboardedEnv,
		[]ev{{id: "b1", typ: "login.succeeded", at: t0 + 60, user: "user-bob", email: "bob@example.com", ip: "192.0.2.7"},
			{id: "b2", typ: "api_key.created", at: t0 + 120, user: "user-other-id", email: "BOB@example.com"}},
		[][]string{{"b1"}, {"b2"}}},
	{"activity before offboarding, and by others", "activity-after-offboarding", offboardedEnv,
		[]ev{{id: "b1", typ: "login.succeeded", at: t0 - 60, user: "user-bob", email: "bob@example.com", ip: "192.0.2.7"},
			{id: "b2", typ: "login.succeeded", at: t0 + 60, user: "user-alice", email: "alice@example.com", ip: "192.0.2.7"},
			{id: "b3", typ: "user.deleted", at: t0 + 60, noActor: true, payload: `{"id":"user-bob"}`}}, nil},
	{"key created in a protected project (by id or name)", "key-in-protected-project", Env{ProtectedProjects: []string{"proj_prod", "name of proj_pci"}},
		[]ev{{id: "p1", typ: "api_key.created", at: t0, project: "proj_prod", payload: `{"id":"key_1","data":{"scopes":["/v1/*"]}}`},
			{id: "p2", typ: "api_key.created", at: t0, project: "proj_pci"}}, [][]string{{"p1"}, {"p2"}}},
	{"key created elsewhere, or deleted in a protected project", "key-in-protected-project", Env{ProtectedProjects: []string{"proj_prod"}},
		[]ev{{id: "p1", typ: "api_key.created", at: t0, project: "proj_dev"},
			{id: "p2", typ: "api_key.deleted", at: t0, project: "proj_prod"}}, nil},
}

func TestRules(t *testing.T) {
	for _, c := range ruleCases {
		t.Run(c.rule+"/"+c.name, func(t *testing.T) {
			got := fire(t, c.rule, c.env, c.events)
			var ids [][]string
			for _, f := range got {
				ids = append(ids, f.EventIDs)
				if f.Rule != c.rule || f.Severity == "" || f.ID != FindingID(c.rule, f.EventIDs) {
					t.Errorf("finding %+v", f)
				}
			}
			if fmt.Sprint(ids) != fmt.Sprint(c.want) {
				t.Errorf("findings %v, want %v", ids, c.want)
			}
		})
	}
}

// TestBurstAcrossBatchesAndRedelivery: a window that spans export runs
// fires when its last event arrives, in any order, and events delivered
// again (the lookback) raise nothing more.
func TestBurstAcrossBatchesAndRedelivery(t *testing.T) {
	r, _ := RuleByID("login-failed-actor")
	e := NewEngine([]Rule{r}, Env{})
	evs := parseAll(t, series("l", "login.failed", 5, t0, time.Minute, nil))
	st := &State{}
	now := time.Unix(t0, 0)
	if got := e.Evaluate(st, []Event{evs[4], evs[0]}, now); len(got) != 0 {
		t.Fatalf("two events fired: %v", got)
	}
	// The next run re-reads part of the first one (lookback) and adds the rest.
	st = roundTrip(t, st)
	got := e.Evaluate(st, []Event{evs[0], evs[1], evs[2], evs[3]}, now)
	if len(got) != 1 || len(got[0].EventIDs) != 5 {
		t.Fatalf("findings %v, want one of five events", got)
	}
	st = roundTrip(t, st)
	if again := e.Evaluate(st, evs, now); len(again) != 0 {
		t.Fatalf("redelivered events fired again: %v", again)
	}
	// A run that crashed before saving evaluates from the older state:
	// the same finding id comes out, which the decided set then absorbs.
	st2 := &State{}
	again := e.Evaluate(st2, evs, now)
	if len(again) != 1 || again[0].ID != got[0].ID {
		t.Fatalf("re-evaluation gave %v, want the same finding %s", again, got[0].ID)
	}
}

// TestStatePrunes: windows and seen ids do not grow without bound.
func TestStatePrunes(t *testing.T) {
	r, _ := RuleByID("login-failed-actor")
	e := NewEngine([]Rule{r}, Env{})
	st := &State{}
	for day := range 10 {
		evs := parseAll(t, series(fmt.Sprintf("d%d", day), "login.failed", 3, t0+int64(day)*86400, time.Minute, nil))
		e.Evaluate(st, evs, time.Unix(t0, 0))
	}
	if len(st.Windows["login-failed-actor\x00user-alice"]) != 3 || len(st.Seen) != 3 {
		t.Fatalf("state kept %d window events and %d seen ids, want the last day's 3", len(st.Windows["login-failed-actor\x00user-alice"]), len(st.Seen))
	}
}

func roundTrip(t *testing.T, st *State) *State {
	t.Helper()
	b, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var out State
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}
