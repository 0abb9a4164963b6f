// Package auditlog stores audit-log events compactly and pages through them
// in the Admin API's order (newest first) with every filter the spec has.
//
// An event costs a fixed-size record plus index entries; JSON is rendered per
// page. Strings (ids, emails, actors, projects, payload fragments) are
// interned, so a million seeded events over a few thousand entities stay
// small. Events appended as raw JSON keep their bytes exactly.
//
// Order is effective_at descending, ties broken by insertion sequence
// (later first), so the cursor is total. Each scope (organization events and
// tenant-scoped events) has its own ordered list, and each filter dimension
// (type, project, actor id, actor email, resource id) has posting lists in the
// same order. A page binary-searches its start in the smallest applicable
// list and walks from there: O(log n) to start, then proportional to the
// events it skips for the other filters.
//
// Store is not safe for concurrent use; the emulator serialises access.
package auditlog

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Actor is who performed an event.
type Actor struct {
	Type             string // "api_key" or "session"
	APIKeyID         string // tracking id of the key (api_key actors)
	APIKeyType       string // "user" or "service_account" (api_key actors)
	UserID           string
	UserEmail        string
	ServiceAccountID string
	IPAddress        string // session actors
	UserAgent        string // session actors; not in the schema, but real events carry it
}

// Project is the project an event is attributed to.
type Project struct{ ID, Name string }

// Event is a generated event. Detail holds the payload's members besides
// "id", as JSON object members, e.g. `"data":{"role":"owner"}`.
type Event struct {
	EffectiveAt int64
	Type        string
	Actor       *Actor
	Project     *Project
	ResourceID  string
	Detail      string
}

// Range bounds effective_at; nil fields are open.
type Range struct{ GT, GTE, LT, LTE *int64 }

// Query selects a page. Filters of different kinds combine with AND, values
// of one kind with OR.
type Query struct {
	EffectiveAt Range
	ProjectIDs  []string
	EventTypes  []string
	ActorIDs    []string // user, service account or api key tracking ids
	ActorEmails []string
	ResourceIDs []string
	TenantOnly  bool
	Limit       int
	After       string // return events older than this one
	Before      string // return events newer than this one
}

// Page is one page, newest first.
type Page struct {
	Data    []json.RawMessage
	IDs     []string
	HasMore bool
}

// QueryError is a query the API would refuse with 400.
type QueryError struct{ Param, Message string }

func (e *QueryError) Error() string { return e.Param + ": " + e.Message }

const none = 0

type rec struct {
	at      int64
	typ     uint16
	actor   uint32 // index+1 into actors, 0 = no actor
	project uint32 // index+1 into projects, 0 = none
	res     uint32 // interned string, 0 = none
	detail  uint32 // interned fragment, 0 = none
	raw     int32  // index into raws, -1 = generated
}

type typeInfo struct {
	name   string
	tenant bool
}

type actorInfo struct {
	json  []byte
	ids   [3]uint32 // key id, user id, service account id (interned, 0 = none)
	email uint32
}

type projectInfo struct {
	json []byte
	id   uint32
}

// Store holds events. The zero value is not usable; call New.
type Store struct {
	salt uint64

	recs      []rec
	raws      [][]byte
	rawIDList []string // id of raws[i]
	rawIDs    map[string]uint32

	strs    interner
	details interner

	types    []typeInfo
	typeIdx  map[string]uint16
	actors   []actorInfo
	actorIdx map[Actor]uint32
	projects []projectInfo
	projIdx  map[Project]uint32

	// Posting lists, indexed by type index or interned string id.
	order      [2][]uint32 // 0 = organization events, 1 = tenant-scoped
	byType     postings
	byProject  postings
	byActorID  postings
	byEmail    postings
	byResource postings
	maxAt      int64 // newest effective_at so far: later events append without searching

	actorPtr map[*Actor]uint32 // seeding passes the same few thousand actors a million times
	projPtr  map[*Project]uint32
}

// postings maps a dense id to its key-ordered event list.
type postings [][]uint32

func (p *postings) at(id uint32) []uint32 {
	if int(id) < len(*p) {
		return (*p)[id]
	}
	return nil
}

func (p *postings) set(id uint32, l []uint32) {
	for int(id) >= len(*p) {
		*p = append(*p, nil)
	}
	(*p)[id] = l
}

// New returns an empty store. salt makes generated ids differ between emulators.
func New(salt uint64) *Store {
	return &Store{
		salt:     salt,
		rawIDs:   map[string]uint32{},
		strs:     newInterner(),
		details:  newInterner(),
		typeIdx:  map[string]uint16{},
		actorIdx: map[Actor]uint32{},
		projIdx:  map[Project]uint32{},
		maxAt:    math.MinInt64,
		actorPtr: map[*Actor]uint32{},
		projPtr:  map[*Project]uint32{},
	}
}

// Len is the number of events stored, in both scopes.
func (s *Store) Len() int { return len(s.recs) }

// Grow reserves room for n more events (seeding a million events at once).
func (s *Store) Grow(n int) {
	if cap(s.recs)-len(s.recs) < n {
		recs := make([]rec, len(s.recs), len(s.recs)+n)
		copy(recs, s.recs)
		s.recs = recs
	}
	if cap(s.order[0])-len(s.order[0]) < n {
		o := make([]uint32, len(s.order[0]), len(s.order[0])+n)
		copy(o, s.order[0])
		s.order[0] = o
	}
}

// Append stores a generated event and returns its id. The Actor and Project
// an event points to must not change afterwards: they are remembered by address.
func (s *Store) Append(e Event) (string, error) {
	if e.Type == "" {
		return "", errors.New("append audit event: empty type")
	}
	if len(s.recs) >= math.MaxUint32-1 {
		return "", errors.New("append audit event: store full")
	}
	seq := uint32(len(s.recs))
	r := rec{at: e.EffectiveAt, typ: s.typeOf(e.Type), raw: -1}
	if e.Actor != nil {
		a, ok := s.actorPtr[e.Actor]
		if !ok {
			a = s.actorOf(*e.Actor)
			s.actorPtr[e.Actor] = a
		}
		r.actor = a
	}
	if e.Project != nil && e.Project.ID != "" {
		p, ok := s.projPtr[e.Project]
		if !ok {
			p = s.projectOf(*e.Project)
			s.projPtr[e.Project] = p
		}
		r.project = p
	}
	if e.ResourceID != "" {
		r.res = s.strs.id(e.ResourceID)
	}
	if e.Detail != "" {
		r.detail = s.details.id(e.Detail)
	}
	id := s.encodeID(seq, r.at)
	if _, clash := s.rawIDs[id]; clash {
		return "", fmt.Errorf("append audit event: generated id %s already used by a raw event", id)
	}
	s.recs = append(s.recs, r)
	s.index(seq)
	return id, nil
}

// rawEvent is what AppendRaw needs from an event to index it.
type rawEvent struct {
	ID          string          `json:"id"`
	Type        string          `json:"type"`
	EffectiveAt json.Number     `json:"effective_at"`
	Project     *rawProject     `json:"project"`
	Actor       *rawActor       `json:"actor"`
	Rest        json.RawMessage `json:"-"`
}

type rawProject struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type rawUser struct {
	ID    string `json:"id"`
	Email string `json:"email"`
}

type rawActor struct {
	Type   string `json:"type"`
	APIKey *struct {
		ID             string   `json:"id"`
		Type           string   `json:"type"`
		User           *rawUser `json:"user"`
		ServiceAccount *struct {
			ID string `json:"id"`
		} `json:"service_account"`
	} `json:"api_key"`
	Session *struct {
		User      *rawUser `json:"user"`
		IPAddress string   `json:"ip_address"`
	} `json:"session"`
}

// AppendRaw stores an event given as JSON, keeping its bytes exactly. It
// needs id, type and an integer effective_at; unknown fields and types are
// kept. It reads project, actor and the payload's id for the filters.
func (s *Store) AppendRaw(raw []byte) (string, error) {
	var ev rawEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		return "", fmt.Errorf("append raw audit event: %w", err)
	}
	if ev.ID == "" || ev.Type == "" || ev.EffectiveAt == "" {
		return "", errors.New("append raw audit event: id, type and effective_at are required")
	}
	at, err := ev.EffectiveAt.Int64()
	if err != nil {
		return "", fmt.Errorf("append raw audit event %s: effective_at: %w", ev.ID, err)
	}
	if _, ok := s.lookup(ev.ID); ok {
		return "", fmt.Errorf("append raw audit event: id %s already exists", ev.ID)
	}
	if len(s.recs) >= math.MaxUint32-1 {
		return "", errors.New("append raw audit event: store full")
	}
	seq := uint32(len(s.recs))
	r := rec{at: at, typ: s.typeOf(ev.Type), raw: int32(len(s.raws))}
	if ev.Project != nil && ev.Project.ID != "" {
		r.project = s.projectOf(Project{ID: ev.Project.ID, Name: ev.Project.Name})
	}
	if a := ev.Actor; a != nil {
		act := Actor{Type: a.Type}
		if k := a.APIKey; k != nil {
			act.APIKeyID, act.APIKeyType = k.ID, k.Type
			if k.User != nil {
				act.UserID, act.UserEmail = k.User.ID, k.User.Email
			}
			if k.ServiceAccount != nil {
				act.ServiceAccountID = k.ServiceAccount.ID
			}
		}
		if ss := a.Session; ss != nil && ss.User != nil {
			act.UserID, act.UserEmail = ss.User.ID, ss.User.Email
		}
		r.actor = s.actorOf(act)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err == nil {
		var payload struct {
			ID string `json:"id"`
		}
		if p, ok := top[ev.Type]; ok && json.Unmarshal(p, &payload) == nil && payload.ID != "" {
			r.res = s.strs.id(payload.ID)
		}
	}
	s.raws = append(s.raws, append([]byte(nil), raw...))
	s.rawIDList = append(s.rawIDList, ev.ID)
	s.rawIDs[ev.ID] = seq
	s.recs = append(s.recs, r)
	s.index(seq)
	return ev.ID, nil
}

func (s *Store) typeOf(t string) uint16 {
	if i, ok := s.typeIdx[t]; ok {
		return i
	}
	i := uint16(len(s.types))
	s.types = append(s.types, typeInfo{name: t, tenant: TenantScoped(t)})
	s.typeIdx[t] = i
	return i
}

func (s *Store) actorOf(a Actor) uint32 {
	if i, ok := s.actorIdx[a]; ok {
		return i
	}
	info := actorInfo{json: renderActor(a)}
	for i, id := range []string{a.APIKeyID, a.UserID, a.ServiceAccountID} {
		if id != "" {
			info.ids[i] = s.strs.id(id)
		}
	}
	if a.UserEmail != "" {
		info.email = s.strs.id(strings.ToLower(a.UserEmail))
	}
	s.actors = append(s.actors, info)
	i := uint32(len(s.actors))
	s.actorIdx[a] = i
	return i
}

func (s *Store) projectOf(p Project) uint32 {
	if i, ok := s.projIdx[p]; ok {
		return i
	}
	b, _ := json.Marshal(struct {
		ID   string `json:"id"`
		Name string `json:"name,omitempty"`
	}{p.ID, p.Name})
	s.projects = append(s.projects, projectInfo{json: b, id: s.strs.id(p.ID)})
	i := uint32(len(s.projects))
	s.projIdx[p] = i
	return i
}

func renderActor(a Actor) []byte {
	type user struct {
		ID    string `json:"id,omitempty"`
		Email string `json:"email,omitempty"`
	}
	type sa struct {
		ID string `json:"id"`
	}
	type apiKey struct {
		ID             string `json:"id,omitempty"`
		Type           string `json:"type,omitempty"`
		User           *user  `json:"user,omitempty"`
		ServiceAccount *sa    `json:"service_account,omitempty"`
	}
	type session struct {
		User      *user  `json:"user,omitempty"`
		IPAddress string `json:"ip_address,omitempty"`
		UserAgent string `json:"user_agent,omitempty"`
	}
	out := struct {
		Type    string   `json:"type,omitempty"`
		APIKey  *apiKey  `json:"api_key,omitempty"`
		Session *session `json:"session,omitempty"`
	}{Type: a.Type}
	var u *user
	if a.UserID != "" || a.UserEmail != "" {
		u = &user{a.UserID, a.UserEmail}
	}
	switch a.Type {
	case "session":
		out.Session = &session{User: u, IPAddress: a.IPAddress, UserAgent: a.UserAgent}
	default:
		k := &apiKey{ID: a.APIKeyID, Type: a.APIKeyType}
		if a.APIKeyType == "service_account" {
			k.ServiceAccount = &sa{a.ServiceAccountID}
		} else {
			k.User = u
		}
		out.APIKey = k
	}
	b, _ := json.Marshal(out)
	return b
}

func (s *Store) index(seq uint32) {
	r := &s.recs[seq]
	// The newest event so far goes at the end of every list; only late
	// events need a search.
	newest := r.at >= s.maxAt
	s.maxAt = max(s.maxAt, r.at)
	add := func(list []uint32) []uint32 {
		if newest {
			return append(list, seq)
		}
		return s.insert(list, seq)
	}
	scope := 0
	if s.types[r.typ].tenant {
		scope = 1
	}
	s.order[scope] = add(s.order[scope])
	s.byType.set(uint32(r.typ), add(s.byType.at(uint32(r.typ))))
	if r.project != none {
		p := s.projects[r.project-1].id
		s.byProject.set(p, add(s.byProject.at(p)))
	}
	if r.actor != none {
		a := &s.actors[r.actor-1]
		for i, id := range a.ids {
			if id == none || (i > 0 && id == a.ids[0]) || (i > 1 && id == a.ids[1]) {
				continue
			}
			s.byActorID.set(id, add(s.byActorID.at(id)))
		}
		if a.email != none {
			s.byEmail.set(a.email, add(s.byEmail.at(a.email)))
		}
	}
	if r.res != none {
		s.byResource.set(r.res, add(s.byResource.at(r.res)))
	}
}

// key orders events oldest first: effective_at, then sequence.
type key struct {
	at  int64
	seq uint32
}

func (a key) less(b key) bool { return a.at < b.at || (a.at == b.at && a.seq < b.seq) }

func (s *Store) keyOf(seq uint32) key { return key{s.recs[seq].at, seq} }

// insert keeps list in key order; appends are the common case (events happen now).
func (s *Store) insert(list []uint32, seq uint32) []uint32 {
	k := s.keyOf(seq)
	n := len(list)
	if n == 0 || s.keyOf(list[n-1]).less(k) {
		return append(list, seq)
	}
	i := sort.Search(n, func(i int) bool { return k.less(s.keyOf(list[i])) })
	list = append(list, 0)
	copy(list[i+1:], list[i:])
	list[i] = seq
	return list
}

// IDs returns every event id, both scopes, newest first.
func (s *Store) IDs() []string {
	out := make([]string, 0, len(s.recs))
	a, b := s.order[0], s.order[1]
	i, j := len(a)-1, len(b)-1
	for i >= 0 || j >= 0 {
		if j < 0 || (i >= 0 && s.keyOf(b[j]).less(s.keyOf(a[i]))) {
			out = append(out, s.idOf(a[i]))
			i--
		} else {
			out = append(out, s.idOf(b[j]))
			j--
		}
	}
	return out
}

// List returns one page for q. Limit must already be checked (1..100).
func (s *Store) List(q Query) (Page, error) {
	scope := 0
	if q.TenantOnly {
		scope = 1
	}
	types := map[uint16]bool{}
	for _, t := range q.EventTypes {
		if TenantScoped(t) != q.TenantOnly {
			if q.TenantOnly {
				return Page{}, &QueryError{"event_types", fmt.Sprintf("%s is not tenant-scoped; it cannot be listed with tenant_only=true", t)}
			}
			return Page{}, &QueryError{"tenant_only", fmt.Sprintf("%s is tenant-scoped; list it with tenant_only=true", t)}
		}
		if i, ok := s.typeIdx[t]; ok {
			types[i] = true
		}
	}

	lo, hi := key{math.MinInt64, 0}, key{math.MaxInt64, math.MaxUint32}
	r := q.EffectiveAt
	if r.GT != nil {
		lo = maxKey(lo, after(key{*r.GT, math.MaxUint32}))
	}
	if r.GTE != nil {
		lo = maxKey(lo, key{*r.GTE, 0})
	}
	if r.LT != nil {
		hi = minKey(hi, before(key{*r.LT, 0}))
	}
	if r.LTE != nil {
		hi = minKey(hi, key{*r.LTE, math.MaxUint32})
	}
	if q.After != "" {
		seq, ok := s.lookup(q.After)
		if !ok {
			return Page{}, &QueryError{"after", "no audit log event with id " + q.After}
		}
		hi = minKey(hi, before(s.keyOf(seq)))
	}
	if q.Before != "" {
		seq, ok := s.lookup(q.Before)
		if !ok {
			return Page{}, &QueryError{"before", "no audit log event with id " + q.Before}
		}
		lo = maxKey(lo, after(s.keyOf(seq)))
	}

	f := filter{store: s, scope: scope, types: types}
	var dims [][][]uint32
	if len(q.EventTypes) > 0 {
		var lists [][]uint32
		for t := range types {
			lists = append(lists, s.byType.at(uint32(t)))
		}
		dims = append(dims, lists)
	}
	var empty bool
	f.projects, empty = s.dimension(q.ProjectIDs, &s.byProject, false, &dims)
	f.actorIDs, empty = s.dimension(q.ActorIDs, &s.byActorID, empty, &dims)
	f.emails, empty = s.dimension(lower(q.ActorEmails), &s.byEmail, empty, &dims)
	f.resources, empty = s.dimension(q.ResourceIDs, &s.byResource, empty, &dims)
	if empty || (len(q.EventTypes) > 0 && len(types) == 0) || hi.less(lo) {
		return Page{Data: []json.RawMessage{}}, nil
	}
	driver := [][]uint32{s.order[scope]}
	best := len(s.order[scope])
	for _, lists := range dims {
		n := 0
		for _, l := range lists {
			n += len(l)
		}
		if n < best {
			driver, best = lists, n
		}
	}

	ascending := q.Before != "" && q.After == ""
	it := newMerge(s, driver, lo, hi, ascending)
	limit := q.Limit
	seqs := make([]uint32, 0, limit+1)
	for len(seqs) <= limit {
		seq, ok := it.next()
		if !ok {
			break
		}
		if f.match(seq) {
			seqs = append(seqs, seq)
		}
	}
	page := Page{HasMore: len(seqs) > limit}
	if page.HasMore {
		seqs = seqs[:limit]
	}
	if ascending {
		for i, j := 0, len(seqs)-1; i < j; i, j = i+1, j-1 {
			seqs[i], seqs[j] = seqs[j], seqs[i]
		}
	}
	page.Data = make([]json.RawMessage, len(seqs))
	page.IDs = make([]string, len(seqs))
	for i, seq := range seqs {
		page.IDs[i] = s.idOf(seq)
		page.Data[i] = s.render(seq, page.IDs[i])
	}
	return page, nil
}

// dimension resolves filter values to interned ids and adds their posting
// lists to dims. It reports empty when values were given but none is known.
func (s *Store) dimension(values []string, index *postings, empty bool, dims *[][][]uint32) (map[uint32]bool, bool) {
	if len(values) == 0 {
		return nil, empty
	}
	set := map[uint32]bool{}
	var lists [][]uint32
	for _, v := range values {
		if id, ok := s.strs.lookup(v); ok && !set[id] {
			set[id] = true
			lists = append(lists, index.at(id))
		}
	}
	*dims = append(*dims, lists)
	return set, empty || len(set) == 0
}

func lower(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strings.ToLower(s)
	}
	return out
}

type filter struct {
	store                                 *Store
	scope                                 int
	types                                 map[uint16]bool
	projects, actorIDs, emails, resources map[uint32]bool
}

func (f *filter) match(seq uint32) bool {
	s := f.store
	r := &s.recs[seq]
	if s.types[r.typ].tenant != (f.scope == 1) {
		return false
	}
	if len(f.types) > 0 && !f.types[r.typ] {
		return false
	}
	if f.projects != nil && (r.project == none || !f.projects[s.projects[r.project-1].id]) {
		return false
	}
	if f.resources != nil && (r.res == none || !f.resources[r.res]) {
		return false
	}
	if f.actorIDs != nil || f.emails != nil {
		if r.actor == none {
			return false
		}
		a := &s.actors[r.actor-1]
		if f.emails != nil && (a.email == none || !f.emails[a.email]) {
			return false
		}
		if f.actorIDs != nil && !f.actorIDs[a.ids[0]] && !f.actorIDs[a.ids[1]] && !f.actorIDs[a.ids[2]] {
			return false
		}
	}
	return true
}

// merge walks several key-ordered lists as one, within [lo, hi].
type merge struct {
	s         *Store
	lists     [][]uint32
	pos       []int
	lo, hi    key
	ascending bool
	last      int64 // last emitted seq, -1 before the first
}

func newMerge(s *Store, lists [][]uint32, lo, hi key, ascending bool) *merge {
	m := &merge{s: s, lists: lists, pos: make([]int, len(lists)), lo: lo, hi: hi, ascending: ascending, last: -1}
	for i, l := range lists {
		if ascending {
			m.pos[i] = sort.Search(len(l), func(j int) bool { return !s.keyOf(l[j]).less(lo) })
		} else {
			m.pos[i] = sort.Search(len(l), func(j int) bool { return hi.less(s.keyOf(l[j])) }) - 1
		}
	}
	return m
}

func (m *merge) next() (uint32, bool) {
	for {
		best := -1
		var bestKey key
		for i, l := range m.lists {
			p := m.pos[i]
			if p < 0 || p >= len(l) {
				continue
			}
			k := m.s.keyOf(l[p])
			if m.ascending && m.hi.less(k) || !m.ascending && k.less(m.lo) {
				continue
			}
			if best < 0 || (m.ascending && k.less(bestKey)) || (!m.ascending && bestKey.less(k)) {
				best, bestKey = i, k
			}
		}
		if best < 0 {
			return 0, false
		}
		if m.ascending {
			m.pos[best]++
		} else {
			m.pos[best]--
		}
		// One event can sit in two lists of a dimension (its key id and its user id).
		if int64(bestKey.seq) == m.last {
			continue
		}
		m.last = int64(bestKey.seq)
		return bestKey.seq, true
	}
}

func after(k key) key {
	if k.seq == math.MaxUint32 {
		return key{k.at + 1, 0}
	}
	return key{k.at, k.seq + 1}
}

func before(k key) key {
	if k.seq == 0 {
		return key{k.at - 1, math.MaxUint32}
	}
	return key{k.at, k.seq - 1}
}

func maxKey(a, b key) key {
	if a.less(b) {
		return b
	}
	return a
}

func minKey(a, b key) key {
	if a.less(b) {
		return a
	}
	return b
}

// render writes a generated event as the AuditLog schema has it.
func (s *Store) render(seq uint32, id string) json.RawMessage {
	r := &s.recs[seq]
	if r.raw >= 0 {
		return s.raws[r.raw]
	}
	typ := s.types[r.typ].name
	b := make([]byte, 0, 256)
	b = append(b, `{"id":`...)
	b = appendString(b, id)
	b = append(b, `,"type":`...)
	b = appendString(b, typ)
	b = append(b, `,"effective_at":`...)
	b = strconv.AppendInt(b, r.at, 10)
	if r.project != none {
		b = append(b, `,"project":`...)
		b = append(b, s.projects[r.project-1].json...)
	}
	if r.actor != none {
		b = append(b, `,"actor":`...)
		b = append(b, s.actors[r.actor-1].json...)
	}
	b = append(b, ',')
	b = appendString(b, typ)
	b = append(b, ":{"...)
	if r.res != none {
		b = append(b, `"id":`...)
		b = appendString(b, s.strs.vals[r.res-1])
		if r.detail != none {
			b = append(b, ',')
		}
	}
	if r.detail != none {
		b = append(b, s.details.vals[r.detail-1]...)
	}
	b = append(b, "}}"...)
	return b
}

func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}

// Generated ids are "audit_log-<16 hex>_<yyyymmdd>": the hex is an invertible
// scramble of the sequence number, so a cursor maps back to its event in O(1)
// while ids look opaque, as the API's do. The date is the event's UTC day.
const (
	idPrefix = "audit_log-"
	scramble = 0x9E3779B97F4A7C15 // odd, so multiplication by it is invertible mod 2^64
)

var unscramble = func() uint64 {
	inv := uint64(scramble)
	for range 6 { // Newton's iteration doubles the correct low bits each round
		inv *= 2 - scramble*inv
	}
	return inv
}()

// encodeID runs for every event appended (a million when seeding) and every
// event listed, so it builds the id in one buffer.
func (s *Store) encodeID(seq uint32, at int64) string {
	var x [8]byte
	binary.BigEndian.PutUint64(x[:], uint64(seq)*scramble^s.salt)
	b := make([]byte, 0, len(idPrefix)+16+1+8)
	b = append(b, idPrefix...)
	b = hex.AppendEncode(b, x[:])
	b = append(b, '_')
	b = time.Unix(at, 0).UTC().AppendFormat(b, "20060102")
	return string(b)
}

func (s *Store) idOf(seq uint32) string {
	r := &s.recs[seq]
	if r.raw >= 0 {
		return s.rawIDList[r.raw]
	}
	return s.encodeID(seq, r.at)
}

// lookup finds an event by id.
func (s *Store) lookup(id string) (uint32, bool) {
	if seq, ok := s.rawIDs[id]; ok {
		return seq, true
	}
	rest, ok := strings.CutPrefix(id, idPrefix)
	if !ok || len(rest) < 16 {
		return 0, false
	}
	var x [8]byte
	if _, err := hex.Decode(x[:], []byte(rest[:16])); err != nil {
		return 0, false
	}
	seq64 := (binary.BigEndian.Uint64(x[:]) ^ s.salt) * unscramble
	if seq64 >= uint64(len(s.recs)) {
		return 0, false
	}
	seq := uint32(seq64)
	if s.recs[seq].raw >= 0 || s.encodeID(seq, s.recs[seq].at) != id {
		return 0, false
	}
	return seq, true
}

// Has reports whether an event with this id exists.
func (s *Store) Has(id string) bool {
	_, ok := s.lookup(id)
	return ok
}

type interner struct {
	idx  map[string]uint32
	vals []string
}

func newInterner() interner { return interner{idx: map[string]uint32{}} }

// id returns the 1-based id of v, adding it if new.
func (in *interner) id(v string) uint32 {
	if i, ok := in.idx[v]; ok {
		return i
	}
	in.vals = append(in.vals, v)
	i := uint32(len(in.vals))
	in.idx[v] = i
	return i
}

func (in *interner) lookup(v string) (uint32, bool) {
	i, ok := in.idx[v]
	return i, ok
}
