package detect

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"
)

// Finding is one detection: which rule, how severe, the events that made
// it and who did it. Its ID follows from the rule and the event ids alone,
// so evaluating the same events again (a crash before the state was saved,
// a redelivered window, a backtest) names the same finding.
type Finding struct {
	ID          string   `json:"id"`
	OrgID       string   `json:"org_id,omitempty"`
	Rule        string   `json:"rule"`
	Severity    Severity `json:"severity"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	// Actor is the user id, service account id or API key id; Email and
	// IP when the events carry them.
	Actor      string   `json:"actor,omitempty"`
	Email      string   `json:"actor_email,omitempty"`
	IP         string   `json:"ip,omitempty"`
	Group      string   `json:"group,omitempty"`
	EventIDs   []string `json:"event_ids"`
	EventTypes []string `json:"event_types"`
	ProjectIDs []string `json:"project_ids,omitempty"`
	// First and Last bound the events' effective_at (RFC 3339).
	First string `json:"first_event_at"`
	Last  string `json:"last_event_at"`
	// DetectedAt is when this finding was first decided (not part of ID).
	DetectedAt string `json:"detected_at,omitempty"`
}

// FindingID is the finding id of rule over events: the first 128 bits of
// the SHA-256 of the rule id and the sorted event ids.
func FindingID(rule string, eventIDs []string) string {
	ids := slices.Clone(eventIDs)
	slices.Sort(ids)
	h := sha256.New()
	h.Write([]byte(rule))
	for _, id := range ids {
		h.Write([]byte{'\n'})
		h.Write([]byte(id))
	}
	return "finding-" + hex.EncodeToString(h.Sum(nil)[:16])
}

// Env is what some matches need besides the event.
type Env struct {
	AllowedDomains    []string
	ProtectedProjects []string
	// Offboarded maps a user id, and a lower-case email, to when
	// orgwarden removed that person from the organization (unix seconds).
	Offboarded map[string]int64
}

// Engine evaluates rules over events, keeping what spans batches in a
// State.
type Engine struct {
	rules    []Rule
	env      Env
	byType   map[string][]int
	wildcard []int
	longest  time.Duration // the longest window
	// payload marks the types some rule reads the payload of.
	payload map[string]bool
	// Lateness is how much older than the newest event seen an event may
	// arrive and still join a window: the export's lookback.
	Lateness time.Duration
}

// NewEngine returns an engine for rules (Validate them first).
func NewEngine(rules []Rule, env Env) *Engine {
	e := &Engine{rules: rules, env: env, byType: map[string][]int{}, payload: map[string]bool{}, Lateness: time.Hour}
	for i, r := range rules {
		e.longest = max(e.longest, r.Window)
		for _, m := range r.Match {
			if strings.HasPrefix(m.Field, "payload.") {
				for _, t := range r.Types {
					e.payload[t] = true
				}
			}
		}
		for _, t := range r.Types {
			if t == "*" {
				e.wildcard = append(e.wildcard, i)
				continue
			}
			e.byType[t] = append(e.byType[t], i)
		}
	}
	return e
}

// Wants reports whether an event of type typ could match a rule: the
// cheap test before an event is parsed. raw is consulted only for the
// wildcard (offboarded) rule: an event whose bytes name no offboarded
// person cannot be theirs.
func (e *Engine) Wants(typ string, raw []byte) bool {
	if len(e.byType[typ]) > 0 {
		return true
	}
	if len(e.wildcard) == 0 || len(e.env.Offboarded) == 0 {
		return false
	}
	s := string(raw)
	for who := range e.env.Offboarded {
		if strings.Contains(s, who) || (strings.Contains(who, "@") && strings.Contains(strings.ToLower(s), who)) {
			return true
		}
	}
	return false
}

// Parse decodes an event as far as the rules for its type need.
func (e *Engine) Parse(raw []byte) (Event, error) {
	ev, err := parseEvent(raw, false)
	if err != nil || !e.payload[ev.Type] {
		return ev, err
	}
	return parseEvent(raw, true)
}

// mayMatch is the cheap test of r's matches on the raw event: false only
// when no match can hold (a value that appears nowhere in the event, a
// list the match needs that is not configured).
func (e *Engine) mayMatch(r *Rule, raw []byte) bool {
	for _, m := range r.Match {
		switch m.Op {
		case Equals:
			if !slices.ContainsFunc(m.Values, func(v string) bool {
				return bytes.Contains(raw, []byte(v)) || bytes.Contains(raw, []byte(strings.ToUpper(v))) ||
					bytes.Contains(raw, []byte(strings.ToUpper(v[:min(1, len(v))])+v[min(1, len(v)):]))
			}) {
				return false
			}
		case DomainNotIn:
			if len(e.env.AllowedDomains) == 0 {
				return false
			}
		case InProtectedProjects:
			if len(e.env.ProtectedProjects) == 0 {
				return false
			}
		case OffboardedBefore:
			if len(e.env.Offboarded) == 0 {
				return false
			}
		}
	}
	return true
}

// match reports whether ev satisfies every condition of r.
func (e *Engine) match(r *Rule, ev *Event) bool {
	for _, m := range r.Match {
		if !e.matchOne(m, ev) {
			return false
		}
	}
	return true
}

func (e *Engine) matchOne(m Match, ev *Event) bool {
	switch m.Op {
	case Equals:
		for _, v := range ev.Field(m.Field) {
			for _, want := range m.Values {
				if strings.EqualFold(v, want) {
					return true
				}
			}
		}
	case DomainNotIn:
		if len(e.env.AllowedDomains) == 0 {
			return false
		}
		for _, v := range ev.Field(m.Field) {
			_, domain, ok := strings.Cut(strings.ToLower(strings.TrimSpace(v)), "@")
			if !ok {
				continue
			}
			if !allowedDomain(domain, e.env.AllowedDomains) {
				return true
			}
		}
	case InProtectedProjects:
		for _, v := range ev.Field(m.Field) {
			if slices.ContainsFunc(e.env.ProtectedProjects, func(p string) bool { return strings.EqualFold(p, v) }) {
				return true
			}
		}
		if m.Field == "project.id" && ev.ProjectName != "" {
			return slices.ContainsFunc(e.env.ProtectedProjects, func(p string) bool { return strings.EqualFold(p, ev.ProjectName) })
		}
	case OffboardedBefore:
		for _, who := range []string{ev.UserID, strings.ToLower(ev.Email)} {
			if at, ok := e.env.Offboarded[who]; ok && who != "" && ev.At > at {
				return true
			}
		}
	}
	return false
}

// allowedDomain: the domain or a subdomain of one allowed.
func allowedDomain(domain string, allowed []string) bool {
	for _, a := range allowed {
		a = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(a), "@"))
		if domain == a || strings.HasSuffix(domain, "."+a) {
			return true
		}
	}
	return false
}

func (e *Engine) groupOf(r *Rule, ev *Event) (string, bool) {
	switch r.GroupBy {
	case ByActor:
		a := ev.Actor()
		if a == "" {
			a = strings.ToLower(ev.Email)
		}
		return a, a != ""
	case ByIP:
		return ev.IP, ev.IP != ""
	case ByProject:
		return ev.ProjectID, ev.ProjectID != ""
	}
	return "", true
}

// Evaluate runs every rule over events (any order; they are evaluated in
// effective_at order) against st, and returns the findings not decided
// before. st is updated: windows, events seen, findings decided.
func (e *Engine) Evaluate(st *State, events []Event, now time.Time) []Finding {
	st.init()
	evs := slices.Clone(events)
	slices.SortFunc(evs, func(a, b Event) int { return cmp.Or(cmp.Compare(a.At, b.At), strings.Compare(a.ID, b.ID)) })
	var out []Finding
	emit := func(r *Rule, group string, members []Event) {
		ids := make([]string, len(members))
		for i, m := range members {
			ids[i] = m.ID
		}
		f := newFinding(r, group, members, ids)
		if _, done := st.Decided[f.ID]; done {
			return
		}
		f.DetectedAt = now.UTC().Format(time.RFC3339)
		st.Decided[f.ID] = members[len(members)-1].At
		out = append(out, f)
	}
	for i := range evs {
		ev := &evs[i]
		st.Watermark = max(st.Watermark, ev.At)
		idx := e.byType[ev.Type]
		if len(e.wildcard) > 0 {
			idx = append(slices.Clone(idx), e.wildcard...)
		}
		for _, ri := range idx {
			r := &e.rules[ri]
			if !e.match(r, ev) {
				continue
			}
			group, ok := e.groupOf(r, ev)
			if !ok {
				continue
			}
			if !r.Burst() {
				emit(r, group, []Event{*ev})
				continue
			}
			if ev.At < e.horizon(st) {
				continue // older than any window still kept: too late to count
			}
			seen := r.ID + "\x00" + ev.ID
			if _, dup := st.Seen[seen]; dup {
				continue // a redelivered event: counted once
			}
			st.Seen[seen] = ev.At
			key := r.ID + "\x00" + group
			w, at := insertSorted(st.Windows[key], windowEvent(ev))
			// Drop what no event can join any more, so a busy group's
			// window stays as short as its time span allows.
			if drop := dropBefore(w, e.horizon(st)); drop > 0 {
				w, at = slices.Delete(w, 0, drop), at-drop
			}
			window := int64(r.Window / time.Second)
			for run := burst(w, at, r.Threshold, window); run >= 0; run = burstAny(w, r.Threshold, window) {
				members := make([]Event, r.Threshold)
				for j := range members {
					members[j] = w[run+j].event()
				}
				emit(r, group, members)
				// The events that made a finding are spent: the next
				// finding of the group needs Threshold new ones. Taking
				// them out may join what was on either side into a
				// burst of its own (rare: then the whole window is
				// searched again).
				w = slices.Delete(w, run, run+r.Threshold)
				if len(w) < r.Threshold {
					break
				}
			}
			if len(w) == 0 {
				delete(st.Windows, key)
			} else {
				st.Windows[key] = w
			}
		}
	}
	e.prune(st)
	return out
}

func newFinding(r *Rule, group string, members []Event, ids []string) Finding {
	f := Finding{ID: FindingID(r.ID, ids), Rule: r.ID, Severity: r.Severity, Title: r.Title, Description: r.Catches,
		Group: group, EventIDs: ids}
	first, last := members[0].At, members[0].At
	for _, m := range members {
		first, last = min(first, m.At), max(last, m.At)
		if f.Actor == "" {
			f.Actor = m.Actor()
		}
		if f.Email == "" {
			f.Email = m.Email
		}
		if f.IP == "" {
			f.IP = m.IP
		}
		if !slices.Contains(f.EventTypes, m.Type) {
			f.EventTypes = append(f.EventTypes, m.Type)
		}
		if m.ProjectID != "" && !slices.Contains(f.ProjectIDs, m.ProjectID) {
			f.ProjectIDs = append(f.ProjectIDs, m.ProjectID)
		}
	}
	f.First, f.Last = unixTime(first), unixTime(last)
	return f
}

func unixTime(s int64) string { return time.Unix(s, 0).UTC().Format(time.RFC3339) }

// WindowEvent is what a window keeps of an event.
type WindowEvent struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	At      int64  `json:"at"`
	Actor   string `json:"actor,omitempty"`
	Email   string `json:"email,omitempty"`
	IP      string `json:"ip,omitempty"`
	Project string `json:"project,omitempty"`
}

func windowEvent(ev *Event) WindowEvent {
	return WindowEvent{ID: ev.ID, Type: ev.Type, At: ev.At, Actor: ev.Actor(), Email: ev.Email, IP: ev.IP, Project: ev.ProjectID}
}

func (w WindowEvent) event() Event {
	e := Event{ID: w.ID, Type: w.Type, At: w.At, Email: w.Email, IP: w.IP, ProjectID: w.Project}
	e.UserID = w.Actor // Actor() reads it back first
	return e
}

// insertSorted inserts ev in (At, ID) order and returns where.
func insertSorted(w []WindowEvent, ev WindowEvent) ([]WindowEvent, int) {
	i, _ := slices.BinarySearchFunc(w, ev, func(a, b WindowEvent) int {
		return cmp.Or(cmp.Compare(a.At, b.At), strings.Compare(a.ID, b.ID))
	})
	return slices.Insert(w, i, ev), i
}

// burstAny finds the first n consecutive events of w within window
// seconds of each other; -1 when none.
func burstAny(w []WindowEvent, n int, window int64) int {
	for i := 0; i+n <= len(w); i++ {
		if w[i+n-1].At-w[i].At < window {
			return i
		}
	}
	return -1
}

// dropBefore counts the leading events older than horizon.
func dropBefore(w []WindowEvent, horizon int64) int {
	i := 0
	for i < len(w) && w[i].At < horizon {
		i++
	}
	return i
}

// burst finds the first n consecutive events of w, including the one at
// index at (just added: no run without it was a burst before), within
// window seconds of each other (last.At-first.At < window); -1 when none.
func burst(w []WindowEvent, at, n int, window int64) int {
	for i := max(0, at-n+1); i <= at && i+n <= len(w); i++ {
		if w[i+n-1].At-w[i].At < window {
			return i
		}
	}
	return -1
}

// horizon is the oldest effective_at a window still counts: the longest
// window plus the lateness allowed below the newest event seen.
func (e *Engine) horizon(st *State) int64 {
	return st.Watermark - int64((e.longest+e.Lateness)/time.Second)
}

// prune drops what no future event can use: window events and seen ids
// older than the longest window plus the lateness allowed, and decided
// finding ids older than Retention.
func (e *Engine) prune(st *State) {
	horizon := e.horizon(st)
	for k, w := range st.Windows {
		i := 0
		for i < len(w) && w[i].At < horizon {
			i++
		}
		if i == len(w) {
			delete(st.Windows, k)
		} else if i > 0 {
			st.Windows[k] = slices.Clone(w[i:])
		}
	}
	for k, at := range st.Seen {
		if at < horizon {
			delete(st.Seen, k)
		}
	}
	keep := st.Watermark - int64(Retention/time.Second)
	for k, at := range st.Decided {
		if at < keep {
			delete(st.Decided, k)
		}
	}
}

// Retention is how long a decided finding's id is remembered (by the
// effective_at of its last event): a redelivery of events older than
// this could raise the finding again. The export re-reads only its
// lookback (at most 30 days), so this outlasts every redelivery.
const Retention = 35 * 24 * time.Hour
