package auditlog

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
)

// model is a brute-force reference: every event with what the filters need.
type modelEvent struct {
	id        string
	at        int64
	seq       int
	typ       string
	project   string
	actorIDs  []string
	email     string
	resource  string
	tenant    bool
	rawOrNull []byte
}

func (m modelEvent) newerThan(o modelEvent) bool {
	return m.at > o.at || (m.at == o.at && m.seq > o.seq)
}

var (
	testTypes    = []string{"login.succeeded", "api_key.created", "api_key.deleted", "user.updated", "project.created", "tenant.user.added", "role.bound_to_resource"}
	testProjects = []string{"proj_a", "proj_b", "proj_c"}
	testUsers    = []string{"user-1", "user-2", "user-3", "user-4"}
)

func buildStore(t *testing.T, rng *rand.Rand, n int) (*Store, []modelEvent) {
	t.Helper()
	s := New(rng.Uint64())
	var model []modelEvent
	at := int64(1_700_000_000)
	for i := range n {
		at += int64(rng.IntN(3)) // many ties
		if rng.IntN(10) == 0 {
			at -= int64(rng.IntN(50)) // late arrivals land in the middle
		}
		typ := testTypes[rng.IntN(len(testTypes))]
		e := Event{EffectiveAt: at, Type: typ}
		me := modelEvent{at: at, seq: i, typ: typ, tenant: TenantScoped(typ)}
		if rng.IntN(4) > 0 {
			p := testProjects[rng.IntN(len(testProjects))]
			e.Project = &Project{ID: p, Name: "Project " + p}
			me.project = p
		}
		u := testUsers[rng.IntN(len(testUsers))]
		email := strings.ToUpper(u[:1]) + u[1:] + "@example.com"
		switch rng.IntN(3) {
		case 0:
			e.Actor = &Actor{Type: "session", UserID: u, UserEmail: email, IPAddress: "10.0.0.1"}
			me.actorIDs, me.email = []string{u}, strings.ToLower(email)
		case 1:
			k := fmt.Sprintf("key_%d", rng.IntN(3))
			e.Actor = &Actor{Type: "api_key", APIKeyID: k, APIKeyType: "user", UserID: u, UserEmail: email}
			me.actorIDs, me.email = []string{k, u}, strings.ToLower(email)
		}
		if rng.IntN(2) == 0 {
			e.ResourceID = fmt.Sprintf("res_%d", rng.IntN(5))
			me.resource = e.ResourceID
		}
		var id string
		var err error
		if rng.IntN(20) == 0 {
			raw := fmt.Sprintf(`{"id":"audit_log-raw-%d","type":%q,"effective_at":%d,"unknown_field":{"kept":true},%q:{"id":%q}}`, i, typ, at, typ, me.resource)
			me.rawOrNull = []byte(raw)
			me.project, me.actorIDs, me.email = "", nil, ""
			id, err = s.AppendRaw([]byte(raw))
		} else {
			id, err = s.Append(e)
		}
		if err != nil {
			t.Fatal(err)
		}
		me.id = id
		model = append(model, me)
	}
	return s, model
}

func (q Query) matches(m modelEvent) bool {
	if m.tenant != q.TenantOnly {
		return false
	}
	in := func(vals []string, v ...string) bool {
		if len(vals) == 0 {
			return true
		}
		for _, x := range vals {
			if slices.Contains(v, x) {
				return true
			}
		}
		return false
	}
	r := q.EffectiveAt
	switch {
	case r.GT != nil && m.at <= *r.GT, r.GTE != nil && m.at < *r.GTE,
		r.LT != nil && m.at >= *r.LT, r.LTE != nil && m.at > *r.LTE:
		return false
	}
	return in(q.EventTypes, m.typ) && in(q.ProjectIDs, m.project) && in(q.ActorIDs, m.actorIDs...) &&
		in(lower(q.ActorEmails), m.email) && in(q.ResourceIDs, m.resource)
}

func reference(model []modelEvent, q Query) Page {
	byID := map[string]modelEvent{}
	var all []modelEvent
	for _, m := range model {
		byID[m.id] = m
		if q.matches(m) {
			all = append(all, m)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].newerThan(all[j]) })
	var window []modelEvent
	for _, m := range all {
		if q.After != "" && !byID[q.After].newerThan(m) {
			continue
		}
		if q.Before != "" && !m.newerThan(byID[q.Before]) {
			continue
		}
		window = append(window, m)
	}
	var page Page
	if q.Before != "" && q.After == "" && len(window) > q.Limit {
		page.HasMore = true
		window = window[len(window)-q.Limit:]
	} else if len(window) > q.Limit {
		page.HasMore = true
		window = window[:q.Limit]
	}
	for _, m := range window {
		page.IDs = append(page.IDs, m.id)
	}
	return page
}

func TestListMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	s, model := buildStore(t, rng, 3000)
	i64 := func(v int64) *int64 { return &v }
	mid := model[len(model)/2]
	some := func() string { return model[rng.IntN(len(model))].id }
	cases := []struct {
		name string
		q    Query
	}{
		{"first page", Query{Limit: 20}},
		{"tenant only", Query{Limit: 7, TenantOnly: true}},
		{"types", Query{Limit: 13, EventTypes: []string{"api_key.created", "user.updated"}}},
		{"projects", Query{Limit: 50, ProjectIDs: []string{"proj_b"}}},
		{"actor id is a key id", Query{Limit: 9, ActorIDs: []string{"key_1"}}},
		{"actor id is a user id", Query{Limit: 9, ActorIDs: []string{"user-2", "key_0"}}},
		{"actor email any case", Query{Limit: 9, ActorEmails: []string{"USER-3@EXAMPLE.COM"}}},
		{"resources", Query{Limit: 100, ResourceIDs: []string{"res_1", "res_4"}}},
		{"range", Query{Limit: 30, EffectiveAt: Range{GTE: i64(mid.at - 100), LT: i64(mid.at + 40)}}},
		{"range gt lte", Query{Limit: 30, EffectiveAt: Range{GT: i64(mid.at - 10), LTE: i64(mid.at)}}},
		{"after", Query{Limit: 25, After: mid.id}},
		{"before", Query{Limit: 25, Before: mid.id}},
		{"after and before", Query{Limit: 5, After: model[100].id, Before: model[2900].id}},
		{"combined", Query{Limit: 3, EventTypes: []string{"api_key.deleted", "login.succeeded"}, ProjectIDs: []string{"proj_a", "proj_c"}, ActorIDs: []string{"user-1"}, After: some()}},
		{"unknown value matches nothing", Query{Limit: 10, ProjectIDs: []string{"proj_zzz"}}},
		{"empty range", Query{Limit: 10, EffectiveAt: Range{GT: i64(mid.at), LT: i64(mid.at)}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.List(tc.q)
			if err != nil {
				t.Fatal(err)
			}
			want := reference(model, tc.q)
			if !slices.Equal(got.IDs, want.IDs) || got.HasMore != want.HasMore {
				t.Fatalf("got %d ids has_more=%v, want %d has_more=%v\ngot  %v\nwant %v", len(got.IDs), got.HasMore, len(want.IDs), want.HasMore, got.IDs, want.IDs)
			}
		})
	}
}

func TestFullIterationIsTotal(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s, model := buildStore(t, rng, 2500)
	for _, dir := range []string{"after", "before"} {
		t.Run(dir, func(t *testing.T) {
			seen := map[string]bool{}
			var order []string
			q := Query{Limit: 37}
			if dir == "before" {
				// Walk from the oldest event up.
				oldest := reference(model, Query{Limit: len(model)}).IDs
				q.Before = oldest[len(oldest)-1]
				order = append(order, q.Before)
				seen[q.Before] = true
			}
			for {
				p, err := s.List(q)
				if err != nil {
					t.Fatal(err)
				}
				ids := p.IDs
				if dir == "before" {
					slices.Reverse(ids)
				}
				for _, id := range ids {
					if seen[id] {
						t.Fatalf("%s seen twice", id)
					}
					seen[id] = true
					order = append(order, id)
				}
				if !p.HasMore {
					break
				}
				if dir == "after" {
					q.After = p.IDs[len(p.IDs)-1]
				} else {
					q.Before = ids[len(ids)-1]
				}
			}
			want := reference(model, Query{Limit: len(model)}).IDs
			if dir == "before" {
				slices.Reverse(want)
			}
			if !slices.Equal(order, want) {
				t.Fatalf("iteration gave %d events in some order, want %d in listing order", len(order), len(want))
			}
		})
	}
}

func TestRawEventsKeepBytesAndIDs(t *testing.T) {
	s := New(42)
	raw := []byte("{\"id\":\"audit_log-late\",  \"type\":\"future.event\",\"effective_at\":100,\n\"extra\":[1,2]}")
	id, err := s.AppendRaw(raw)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(Event{EffectiveAt: 200, Type: "login.succeeded"}); err != nil {
		t.Fatal(err)
	}
	p, err := s.List(Query{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Data) != 2 || string(p.Data[1]) != string(raw) || p.IDs[1] != id {
		t.Fatalf("raw event not returned verbatim last: %q", p.Data)
	}
	var gen map[string]any
	if err := json.Unmarshal(p.Data[0], &gen); err != nil {
		t.Fatalf("generated event is not JSON: %v", err)
	}
	if _, err := s.AppendRaw(raw); err == nil {
		t.Fatal("duplicate id accepted")
	}
	for _, bad := range []string{`{"type":"x","effective_at":1}`, `{"id":"a","effective_at":1}`, `{"id":"a","type":"x","effective_at":"soon"}`, `not json`} {
		if _, err := s.AppendRaw([]byte(bad)); err == nil {
			t.Errorf("AppendRaw(%s) accepted", bad)
		}
	}
}

func TestCursorErrorsAndScopes(t *testing.T) {
	s := New(1)
	id, _ := s.Append(Event{EffectiveAt: 10, Type: "login.succeeded"})
	tid, _ := s.Append(Event{EffectiveAt: 11, Type: "tenant.user.added"})
	var qe *QueryError
	for _, q := range []Query{
		{Limit: 1, After: "audit_log-nope"},
		{Limit: 1, Before: id + "x"},
		{Limit: 1, EventTypes: []string{"tenant.user.added"}},
		{Limit: 1, TenantOnly: true, EventTypes: []string{"login.succeeded"}},
	} {
		if _, err := s.List(q); !errors.As(err, &qe) {
			t.Errorf("List(%+v) = %v, want a QueryError", q, err)
		}
	}
	if p, _ := s.List(Query{Limit: 10}); !slices.Equal(p.IDs, []string{id}) {
		t.Errorf("default scope = %v, want only %s", p.IDs, id)
	}
	if p, _ := s.List(Query{Limit: 10, TenantOnly: true}); !slices.Equal(p.IDs, []string{tid}) {
		t.Errorf("tenant scope = %v, want only %s", p.IDs, tid)
	}
	if got := s.IDs(); !slices.Equal(got, []string{tid, id}) {
		t.Errorf("IDs = %v", got)
	}
	if !s.Has(id) || s.Has("audit_log-0000000000000000_19700101") {
		t.Error("Has is wrong")
	}
}
