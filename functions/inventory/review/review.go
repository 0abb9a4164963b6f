// Package review builds a point-in-time access review from the inventory's
// snapshots (package snapshot): who held which role in which project on a
// day, each person's keys and their last use, service accounts and their
// keys, pending invites, and what changed since an earlier snapshot. It
// reads only complete snapshots (those with a manifest) and checks every
// object it reads against the manifest's SHA-256. `orgwarden report access`
// renders it.
package review

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/orgwarden/orgwarden/functions/auditexport/export/digest"
	"github.com/orgwarden/orgwarden/functions/inventory/snapshot"
)

// Review is the access review as of one day.
type Review struct {
	OrgID string `json:"org_id"`
	// AsOf is the day asked for; Snapshot the day of the snapshot read (the
	// newest on or before AsOf); Since the earlier snapshot the changes are
	// counted from ("" when there is none).
	AsOf     string `json:"as_of"`
	Snapshot string `json:"snapshot"`
	Since    string `json:"since,omitempty"`
	// Project, when set, limits the review to one project (and the
	// organization-wide roles of its members).
	Project         string           `json:"project,omitempty"`
	Access          []Access         `json:"access"`
	Keys            []Key            `json:"keys"`
	ServiceAccounts []ServiceAccount `json:"service_accounts"`
	Invites         []Invite         `json:"pending_invites"`
	Changes         []Change         `json:"changes"`
}

// Access is one role one person held: in the organization (ProjectID "")
// or in a project.
type Access struct {
	ProjectID   string `json:"project_id"`
	ProjectName string `json:"project_name"`
	UserID      string `json:"user_id"`
	Email       string `json:"email"`
	Name        string `json:"name"`
	Role        string `json:"role"`
	Since       string `json:"added_at,omitempty"`
}

// Key is one project API key and whom it belongs to.
type Key struct {
	ProjectID string `json:"project_id"`
	KeyID     string `json:"key_id"`
	Name      string `json:"name"`
	Redacted  string `json:"redacted_value"`
	OwnerType string `json:"owner_type"` // user | service_account
	OwnerID   string `json:"owner_id"`
	Owner     string `json:"owner"` // email, or the service account's name
	CreatedAt string `json:"created_at,omitempty"`
	// LastUsedAt is "" when the API says the key was never used.
	LastUsedAt string `json:"last_used_at"`
}

// ServiceAccount is one project service account.
type ServiceAccount struct {
	ProjectID string `json:"project_id"`
	ID        string `json:"id"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	CreatedAt string `json:"created_at,omitempty"`
	Keys      int    `json:"keys"`
}

// Invite is one pending invite.
type Invite struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	Role      string `json:"role"`
	Projects  string `json:"projects"` // id:role, comma-separated
	CreatedAt string `json:"created_at,omitempty"`
	ExpiresAt string `json:"expires_at,omitempty"`
}

// ChangeKind says what changed.
type ChangeKind string

const (
	Granted     ChangeKind = "granted"
	Revoked     ChangeKind = "revoked"
	RoleChanged ChangeKind = "role_changed"
	KeyCreated  ChangeKind = "key_created"
	KeyRemoved  ChangeKind = "key_removed"
	SAAdded     ChangeKind = "service_account_added"
	SARemoved   ChangeKind = "service_account_removed"
	InviteSent  ChangeKind = "invite_pending"
	InviteGone  ChangeKind = "invite_no_longer_pending"
)

// Change is one difference between Since and Snapshot.
type Change struct {
	Kind      ChangeKind `json:"kind"`
	ProjectID string     `json:"project_id"`
	Subject   string     `json:"subject"` // email, key id, service account, invite email
	Before    string     `json:"before"`
	After     string     `json:"after"`
}

// Options select the review.
type Options struct {
	AsOf time.Time
	// Since, when set, counts changes from the newest snapshot on or before
	// it; by default from the snapshot before the one read.
	Since   time.Time
	Project string
}

// Build reads the snapshots and builds the review.
func Build(ctx context.Context, store snapshot.Store, l snapshot.Layout, o Options) (*Review, error) {
	dates, err := manifestDates(ctx, store, l)
	if err != nil {
		return nil, err
	}
	asOf := o.AsOf.UTC().Format(snapshot.DateFormat)
	cur := onOrBefore(dates, asOf)
	if cur == "" {
		return nil, fmt.Errorf("no complete inventory snapshot of %s on or before %s (snapshots: %d)", l.OrgID, asOf, len(dates))
	}
	r := &Review{OrgID: l.OrgID, AsOf: asOf, Snapshot: cur, Project: o.Project}
	now, err := load(ctx, store, l, cur)
	if err != nil {
		return nil, err
	}
	var since string
	if !o.Since.IsZero() {
		since = onOrBefore(dates, o.Since.UTC().Format(snapshot.DateFormat))
		if since == cur {
			since = ""
		}
	} else if i := slices.Index(dates, cur); i > 0 {
		since = dates[i-1]
	}
	// With a project, the organization roles shown are those of its
	// members, on either day: someone removed from the project is a
	// revoked project role, not a revoked organization role.
	people := now.membersOf(o.Project)
	var before *state
	if since != "" {
		if before, err = load(ctx, store, l, since); err != nil {
			return nil, err
		}
		for id := range before.membersOf(o.Project) {
			people[id] = true
		}
	}
	now.fill(r, o.Project, people)
	if before != nil {
		var old Review
		before.fill(&old, o.Project, people)
		r.Since = since
		r.Changes = diff(&old, r)
	}
	if r.Changes == nil {
		r.Changes = []Change{}
	}
	return r, nil
}

func manifestDates(ctx context.Context, store snapshot.Store, l snapshot.Layout) ([]string, error) {
	keys, err := store.List(ctx, l.ManifestPrefix())
	if err != nil {
		return nil, err
	}
	var dates []string
	for _, k := range keys {
		if d := l.ManifestDate(k); d != "" {
			dates = append(dates, d)
		}
	}
	slices.Sort(dates)
	return dates, nil
}

func onOrBefore(dates []string, day string) string {
	best := ""
	for _, d := range dates {
		if d <= day {
			best = d
		}
	}
	return best
}

// state is one snapshot's tables, decoded as far as the review needs.
type state struct {
	users    []user
	projects map[string]project
	order    []string // project ids in the API's order
	members  []wrapped[member]
	sas      []wrapped[serviceAccount]
	keys     []wrapped[projectKey]
	invites  []invite
}

type user struct {
	ID, Email, Name, Role string
	AddedAt               *int64 `json:"added_at"`
}
type project struct {
	ID, Name, Status string
	ArchivedAt       *int64 `json:"archived_at"`
}
type member struct {
	ID, Email, Name, Role string
	AddedAt               *int64 `json:"added_at"`
}
type serviceAccount struct {
	ID, Name, Role string
	CreatedAt      *int64 `json:"created_at"`
}
type projectKey struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	RedactedValue string `json:"redacted_value"`
	CreatedAt     *int64 `json:"created_at"`
	LastUsedAt    *int64 `json:"last_used_at"`
	Owner         struct {
		Type string `json:"type"`
		User *struct {
			ID, Email string
		} `json:"user"`
		ServiceAccount *struct {
			ID, Name string
		} `json:"service_account"`
	} `json:"owner"`
}
type invite struct {
	ID, Email, Role, Status string
	CreatedAt               *int64 `json:"created_at"`
	ExpiresAt               *int64 `json:"expires_at"`
	Projects                []struct{ ID, Role string }
}
type wrapped[T any] struct {
	ProjectID string `json:"project_id"`
	Record    T      `json:"record"`
}

// load reads one snapshot's tables, each checked against its manifest.
func load(ctx context.Context, store snapshot.Store, l snapshot.Layout, dt string) (*state, error) {
	body, _, err := store.Get(ctx, l.ManifestKey(dt))
	if err != nil {
		return nil, err
	}
	m, err := snapshot.ParseManifest(body)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", dt, err)
	}
	st := &state{projects: map[string]project{}}
	read := func(table string, each func([]byte) error) error {
		t, ok := m.Table(table)
		if !ok {
			return fmt.Errorf("snapshot %s has no table %s", dt, table)
		}
		obj, _, err := store.Get(ctx, t.Key)
		if err != nil {
			return err
		}
		if digest.Sum(obj) != t.SHA256 {
			return fmt.Errorf("%s does not match its manifest's SHA-256: run orgwarden verify --inventory", t.Key)
		}
		lines, err := snapshot.Decode(obj)
		if err != nil {
			return fmt.Errorf("%s: %w", t.Key, err)
		}
		for i, line := range lines {
			if err := each(line); err != nil {
				return fmt.Errorf("%s line %d: %w", t.Key, i+1, err)
			}
		}
		return nil
	}
	decode := func(dst any) func([]byte) error {
		return func(b []byte) error { return json.Unmarshal(b, dst) }
	}
	var u user
	var p project
	var mb wrapped[member]
	var sa wrapped[serviceAccount]
	var k wrapped[projectKey]
	var in invite
	for _, step := range []struct {
		table string
		dst   any
		keep  func()
	}{
		{"users", &u, func() { st.users = append(st.users, u) }},
		{"projects", &p, func() { st.projects[p.ID] = p; st.order = append(st.order, p.ID) }},
		{"project_users", &mb, func() { st.members = append(st.members, mb) }},
		{"project_service_accounts", &sa, func() { st.sas = append(st.sas, sa) }},
		{"project_api_keys", &k, func() { st.keys = append(st.keys, k) }},
		{"invites", &in, func() { st.invites = append(st.invites, in) }},
	} {
		err := read(step.table, func(b []byte) error {
			// A fresh value per line: optional fields absent on this line
			// must not keep the previous line's.
			switch v := step.dst.(type) {
			case *user:
				*v = user{}
			case *project:
				*v = project{}
			case *wrapped[member]:
				*v = wrapped[member]{}
			case *wrapped[serviceAccount]:
				*v = wrapped[serviceAccount]{}
			case *wrapped[projectKey]:
				*v = wrapped[projectKey]{}
			case *invite:
				*v = invite{}
			}
			if err := decode(step.dst)(b); err != nil {
				return err
			}
			step.keep()
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return st, nil
}

func day(unix *int64) string {
	if unix == nil || *unix == 0 {
		return ""
	}
	return time.Unix(*unix, 0).UTC().Format(time.RFC3339)
}

// members are the ids of the users in project only (any project when "").
func (st *state) membersOf(only string) map[string]bool {
	in := map[string]bool{}
	for _, m := range st.members {
		if only == "" || m.ProjectID == only {
			in[m.Record.ID] = true
		}
	}
	return in
}

// fill renders the state into r's lists, limited to project when set (and
// the organization roles to the users in inProject).
func (st *state) fill(r *Review, only string, inProject map[string]bool) {
	r.Access, r.Keys, r.ServiceAccounts, r.Invites = []Access{}, []Key{}, []ServiceAccount{}, []Invite{}
	for _, u := range st.users {
		if only == "" || inProject[u.ID] {
			r.Access = append(r.Access, Access{UserID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Since: day(u.AddedAt), ProjectName: "(organization)"})
		}
	}
	for _, m := range st.members {
		if only != "" && m.ProjectID != only {
			continue
		}
		r.Access = append(r.Access, Access{ProjectID: m.ProjectID, ProjectName: st.projects[m.ProjectID].Name, UserID: m.Record.ID,
			Email: m.Record.Email, Name: m.Record.Name, Role: m.Record.Role, Since: day(m.Record.AddedAt)})
	}
	saKeys := map[string]int{}
	for _, k := range st.keys {
		if only != "" && k.ProjectID != only {
			continue
		}
		key := Key{ProjectID: k.ProjectID, KeyID: k.Record.ID, Name: k.Record.Name, Redacted: k.Record.RedactedValue,
			OwnerType: k.Record.Owner.Type, CreatedAt: day(k.Record.CreatedAt), LastUsedAt: day(k.Record.LastUsedAt)}
		switch {
		case k.Record.Owner.User != nil:
			key.OwnerID, key.Owner = k.Record.Owner.User.ID, k.Record.Owner.User.Email
		case k.Record.Owner.ServiceAccount != nil:
			key.OwnerID, key.Owner = k.Record.Owner.ServiceAccount.ID, k.Record.Owner.ServiceAccount.Name
			saKeys[k.ProjectID+"/"+key.OwnerID]++
		}
		r.Keys = append(r.Keys, key)
	}
	for _, s := range st.sas {
		if only != "" && s.ProjectID != only {
			continue
		}
		r.ServiceAccounts = append(r.ServiceAccounts, ServiceAccount{ProjectID: s.ProjectID, ID: s.Record.ID, Name: s.Record.Name,
			Role: s.Record.Role, CreatedAt: day(s.Record.CreatedAt), Keys: saKeys[s.ProjectID+"/"+s.Record.ID]})
	}
	for _, in := range st.invites {
		if in.Status != "pending" {
			continue
		}
		var ps []string
		match := only == ""
		for _, p := range in.Projects {
			ps = append(ps, p.ID+":"+p.Role)
			match = match || p.ID == only
		}
		if match {
			r.Invites = append(r.Invites, Invite{ID: in.ID, Email: in.Email, Role: in.Role, Projects: strings.Join(ps, ","),
				CreatedAt: day(in.CreatedAt), ExpiresAt: day(in.ExpiresAt)})
		}
	}
}

// diff lists what changed from old to cur: roles granted, revoked or
// changed; keys created or removed; service accounts added or removed;
// invites that became or stopped being pending.
func diff(old, cur *Review) []Change {
	var out []Change
	accessKey := func(a Access) string { return a.ProjectID + "/" + a.UserID }
	before := map[string]Access{}
	for _, a := range old.Access {
		before[accessKey(a)] = a
	}
	seen := map[string]bool{}
	for _, a := range cur.Access {
		k := accessKey(a)
		seen[k] = true
		b, ok := before[k]
		switch {
		case !ok:
			out = append(out, Change{Kind: Granted, ProjectID: a.ProjectID, Subject: a.Email, After: a.Role})
		case b.Role != a.Role:
			out = append(out, Change{Kind: RoleChanged, ProjectID: a.ProjectID, Subject: a.Email, Before: b.Role, After: a.Role})
		}
	}
	for _, a := range old.Access {
		if !seen[accessKey(a)] {
			out = append(out, Change{Kind: Revoked, ProjectID: a.ProjectID, Subject: a.Email, Before: a.Role})
		}
	}
	out = append(out, setDiff(old.Keys, cur.Keys, func(k Key) string { return k.ProjectID + "/" + k.KeyID },
		func(k Key, kind ChangeKind) Change {
			return Change{Kind: kind, ProjectID: k.ProjectID, Subject: k.KeyID, Before: "", After: k.OwnerType + " " + k.Owner}
		}, KeyCreated, KeyRemoved)...)
	out = append(out, setDiff(old.ServiceAccounts, cur.ServiceAccounts, func(s ServiceAccount) string { return s.ProjectID + "/" + s.ID },
		func(s ServiceAccount, kind ChangeKind) Change {
			return Change{Kind: kind, ProjectID: s.ProjectID, Subject: s.Name + " (" + s.ID + ")", After: s.Role}
		}, SAAdded, SARemoved)...)
	out = append(out, setDiff(old.Invites, cur.Invites, func(i Invite) string { return i.ID },
		func(i Invite, kind ChangeKind) Change { return Change{Kind: kind, Subject: i.Email, After: i.Role} }, InviteSent, InviteGone)...)
	return out
}

func setDiff[T any](old, cur []T, id func(T) string, change func(T, ChangeKind) Change, added, removed ChangeKind) []Change {
	var out []Change
	had := map[string]bool{}
	for _, v := range old {
		had[id(v)] = true
	}
	has := map[string]bool{}
	for _, v := range cur {
		has[id(v)] = true
		if !had[id(v)] {
			out = append(out, change(v, added))
		}
	}
	for _, v := range old {
		if !has[id(v)] {
			c := change(v, removed)
			c.Before, c.After = c.After, ""
			out = append(out, c)
		}
	}
	return out
}
