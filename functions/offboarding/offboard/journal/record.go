// Package journal is the offboarding change log: for each offboarding, one
// JSON record in S3 of exactly what was removed (the person's organization
// role, their project memberships with roles, the API keys they owned, their
// pending invites) and of what was left for review (service accounts of the
// projects they owned). `orgwarden restore` reads it back.
//
// The record is written ahead: the plan goes to S3 before the first change,
// and the outcomes after the last. A retried or duplicated request opens the
// same record (its key is deterministic, see Key) and adds to it, so the
// record stays complete across attempts even though what an earlier attempt
// removed is no longer visible in the API.
package journal

import (
	"slices"
	"strings"
	"time"
)

// Version is the record format's version.
const Version = 1

// RunOutcome is the outcome of one offboarding attempt, as the attempt, a
// preview and a replay record it; package offboard names the values
// (offboard.Outcome is this type).
type RunOutcome string

// Outcome is what became of one item of an offboarding.
type Outcome string

// Outcomes, from the least to the most final.
const (
	Planned     Outcome = "planned"      // written ahead; no outcome yet
	Failed      Outcome = "failed"       // the last try failed; a retry will try again
	Skipped     Outcome = "skipped"      // a guard refused it; it was left alone
	AlreadyGone Outcome = "already_gone" // absent when removed, or gone before a later attempt
	Removed     Outcome = "removed"      // removed by orgwarden
)

// rank orders outcomes for merging two writers' records: the more final
// outcome wins, so a success recorded by either is never lost.
func (o Outcome) rank() int {
	switch o {
	case Failed:
		return 1
	case Skipped:
		return 2
	case AlreadyGone:
		return 3
	case Removed:
		return 4
	}
	return 0
}

// Final reports whether no further attempt will change the item.
func (o Outcome) Final() bool { return o == Skipped || o == AlreadyGone || o == Removed }

// Status is the state of the whole offboarding.
type Status string

// Statuses of a record.
const (
	InProgress Status = "in_progress" // an attempt is running, or one failed and SQS will retry
	Completed  Status = "completed"   // every item has a final outcome
)

// Record is one offboarding.
type Record struct {
	Version    int       `json:"version"`
	Key        string    `json:"key"`
	Email      string    `json:"email"`
	RequestKey string    `json:"request_key"`
	Request    Request   `json:"request"`
	Status     Status    `json:"status"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`

	// User is the organization user as first seen; nil when the email had
	// no user (only invites to revoke).
	User *User `json:"user,omitempty"`
	// Organization is the removal of the user from the organization.
	Organization *Step `json:"organization,omitempty"`

	Projects        []Membership     `json:"projects"`
	APIKeys         []APIKey         `json:"api_keys"`
	Invites         []Invite         `json:"invites"`
	ServiceAccounts []ServiceAccount `json:"service_accounts_for_review"`
	Attempts        []Attempt        `json:"attempts"`

	// NotRestorable says what restore cannot bring back.
	NotRestorable []string `json:"not_restorable,omitempty"`

	// Checksum is "sha256:" and the hex SHA-256 of the record encoded as
	// JSON with this field empty (see Sum). The offboarding function sets
	// it on every write, and stores it as the object's metadata too;
	// restore refuses a record whose checksum does not match.
	Checksum string `json:"checksum,omitempty"`
}

// Request is what asked for the offboarding.
type Request struct {
	Reason      string    `json:"reason,omitempty"`
	Ticket      string    `json:"ticket,omitempty"`
	RequestedAt time.Time `json:"requested_at,omitzero"`
	Kind        string    `json:"kind"`
	Via         []string  `json:"via,omitempty"`
	EventID     string    `json:"event_id,omitempty"`
	UserID      string    `json:"user_id,omitempty"`
}

// User is the person's organization user.
type User struct {
	ID      string `json:"id"`
	Email   string `json:"email"`
	Name    string `json:"name,omitempty"`
	OrgRole string `json:"org_role"`
	AddedAt int64  `json:"added_at,omitempty"`
}

// Step is the outcome of one change.
type Step struct {
	Outcome Outcome   `json:"outcome"`
	Error   string    `json:"error,omitempty"`
	Note    string    `json:"note,omitempty"`
	At      time.Time `json:"at,omitzero"`
}

// Membership is the person's membership of one project.
type Membership struct {
	ProjectID   string `json:"project_id"`
	ProjectName string `json:"project_name,omitempty"`
	Role        string `json:"role"`
	Step
}

// Kinds of API key.
const (
	ProjectKey = "project" // a user-owned project API key
	AdminKey   = "admin"   // an admin API key (only owners have them)
)

// APIKey is an API key the person owned. The secret is not recorded: the
// API never returns it after creation.
type APIKey struct {
	ID         string `json:"id"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	ProjectID  string `json:"project_id,omitempty"`
	CreatedAt  int64  `json:"created_at,omitempty"`
	LastUsedAt int64  `json:"last_used_at,omitempty"`
	Step
}

// Invite is a pending invite to the person's email.
type Invite struct {
	ID        string          `json:"id"`
	Email     string          `json:"email"`
	Role      string          `json:"role"`
	Projects  []InviteProject `json:"projects,omitempty"`
	CreatedAt int64           `json:"created_at,omitempty"`
	ExpiresAt int64           `json:"expires_at,omitempty"`
	Step
}

// InviteProject is a project an invite grants.
type InviteProject struct {
	ID   string `json:"id"`
	Role string `json:"role"`
}

// ServiceAccount survives the person's removal; it is listed for review
// because the person owned its project.
type ServiceAccount struct {
	ProjectID   string `json:"project_id"`
	ProjectName string `json:"project_name,omitempty"`
	ID          string `json:"id"`
	Name        string `json:"name"`
	Role        string `json:"role"`
}

// Attempt is one processing of a request message.
type Attempt struct {
	RunID        string     `json:"run_id"`
	MessageID    string     `json:"message_id,omitempty"`
	ReceiveCount int        `json:"receive_count,omitempty"`
	StartedAt    time.Time  `json:"started_at"`
	FinishedAt   time.Time  `json:"finished_at,omitzero"`
	Outcome      RunOutcome `json:"outcome,omitempty"`
	Error        string     `json:"error,omitempty"`
}

// New returns an empty record for key.
func New(key, email, requestKey string, now time.Time) *Record {
	return &Record{Version: Version, Key: key, Email: email, RequestKey: requestKey, Status: InProgress,
		CreatedAt: now, UpdatedAt: now}
}

// Membership returns the record's entry for a project, adding it when new.
func (r *Record) Membership(m Membership) *Membership {
	for i := range r.Projects {
		if r.Projects[i].ProjectID == m.ProjectID {
			return &r.Projects[i]
		}
	}
	r.Projects = append(r.Projects, m)
	return &r.Projects[len(r.Projects)-1]
}

// APIKey returns the record's entry for a key, adding it when new.
func (r *Record) APIKey(k APIKey) *APIKey {
	for i := range r.APIKeys {
		if r.APIKeys[i].ID == k.ID && r.APIKeys[i].ProjectID == k.ProjectID {
			return &r.APIKeys[i]
		}
	}
	r.APIKeys = append(r.APIKeys, k)
	return &r.APIKeys[len(r.APIKeys)-1]
}

// Invite returns the record's entry for an invite, adding it when new.
func (r *Record) Invite(in Invite) *Invite {
	for i := range r.Invites {
		if r.Invites[i].ID == in.ID {
			return &r.Invites[i]
		}
	}
	r.Invites = append(r.Invites, in)
	return &r.Invites[len(r.Invites)-1]
}

// AddServiceAccount lists a service account for review, once.
func (r *Record) AddServiceAccount(sa ServiceAccount) {
	for _, x := range r.ServiceAccounts {
		if x.ID == sa.ID && x.ProjectID == sa.ProjectID {
			return
		}
	}
	r.ServiceAccounts = append(r.ServiceAccounts, sa)
}

// Set records an outcome on a step at time at. Only a change that took
// place (removed, or found gone) is dated.
func Set(s *Step, o Outcome, errMsg, note string, at time.Time) {
	s.Outcome, s.Error, s.Note = o, errMsg, note
	if o.Final() && o != Skipped {
		s.At = at
	}
}

// Finish computes the record's status: completed once every item, and the
// removal from the organization when there is a user, has a final outcome.
func (r *Record) Finish(now time.Time) {
	r.UpdatedAt = now
	r.Status = Completed
	done := func(s Step) bool { return s.Outcome.Final() }
	if r.User != nil && (r.Organization == nil || !done(*r.Organization)) {
		r.Status = InProgress
	}
	for _, m := range r.Projects {
		if !done(m.Step) {
			r.Status = InProgress
		}
	}
	for _, k := range r.APIKeys {
		if !done(k.Step) {
			r.Status = InProgress
		}
	}
	for _, in := range r.Invites {
		if !done(in.Step) {
			r.Status = InProgress
		}
	}
	r.NotRestorable = notRestorable(r)
}

func notRestorable(r *Record) []string {
	var out []string
	var keys []string
	for _, k := range r.APIKeys {
		if k.Outcome == Removed {
			where := "project " + k.ProjectID
			if k.Kind == AdminKey {
				where = "admin key"
			}
			keys = append(keys, k.Name+" ("+k.ID+", "+where+")")
		}
	}
	if len(keys) > 0 {
		out = append(out, "revoked API keys cannot be restored and their secrets are gone: the person must create new keys to replace "+
			strings.Join(keys, ", "))
	}
	if r.Organization != nil && r.Organization.Outcome == Removed {
		out = append(out, "the person rejoins through a new invite and gets a new user id; usage and audit history stay with the old id")
	}
	return out
}

// Merge folds other (a concurrent writer's version of the same record) into
// r: items are united by id and, where both have one, the more final
// outcome wins; the earliest facts (roles, names as first seen) are kept.
func (r *Record) Merge(other *Record) {
	if other == nil {
		return
	}
	if r.User == nil {
		r.User = other.User
	}
	if other.CreatedAt.Before(r.CreatedAt) && !other.CreatedAt.IsZero() {
		r.CreatedAt = other.CreatedAt
	}
	if other.Organization != nil {
		if r.Organization == nil {
			s := *other.Organization
			r.Organization = &s
		} else {
			mergeStep(r.Organization, other.Organization)
		}
	}
	for _, m := range other.Projects {
		mine := r.Membership(m)
		mergeStep(&mine.Step, &m.Step)
	}
	for _, k := range other.APIKeys {
		mine := r.APIKey(k)
		mergeStep(&mine.Step, &k.Step)
	}
	for _, in := range other.Invites {
		mine := r.Invite(in)
		mergeStep(&mine.Step, &in.Step)
	}
	for _, sa := range other.ServiceAccounts {
		r.AddServiceAccount(sa)
	}
	for _, a := range other.Attempts {
		if r.Attempt(a) == nil {
			r.Attempts = append(r.Attempts, a)
		}
	}
	slices.SortStableFunc(r.Attempts, func(a, b Attempt) int { return a.StartedAt.Compare(b.StartedAt) })
}

// Attempt returns the record's entry for attempt a (same run, message and
// start), or nil.
func (r *Record) Attempt(a Attempt) *Attempt {
	for i := range r.Attempts {
		x := &r.Attempts[i]
		if x.RunID == a.RunID && x.MessageID == a.MessageID && x.StartedAt.Equal(a.StartedAt) {
			return x
		}
	}
	return nil
}

func mergeStep(mine, theirs *Step) {
	if theirs.Outcome.rank() > mine.Outcome.rank() {
		*mine = *theirs
	}
}
